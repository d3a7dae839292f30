//! Groups that span nodes (FEP-1b12): creating and running them. A group is an account whose
//! actor is a `Group`; joining is following it (a private group is locked: its moderators
//! decide the requests). Posting into a group is `domain::group_posts`. A post
//! into a group (one that mentions it, or a reply in a thread it carries) is sent to the group,
//! which checks the author may post and then announces it to its members on every node, one
//! delivery per node. Edits and deletes are announced the same way, and a moderator removing a
//! post undoes the group's announce. Members' nodes check what a group announces by reading it
//! back from its source (see `inbox::announce`).

use fika_federation::protocol::ActivityKind;

use super::accounts::{self, Role};
use super::group_posts::handle;
use super::{DomainError, Node};
use crate::config::GroupCreators;
use crate::convert::views::GroupView;
use crate::store::accounts::AccountRow;
use crate::store::groups::{GroupRow, NewGroup, POSTING};
use crate::store::now_millis;
use crate::store::policy::Audit;
use crate::store::statuses::Page;

/// Who asks for a change: a signed-in account (checked against the group's moderators and the
/// node's roles) or the CLI (a sysadmin on the machine), and how the audit log names them.
pub struct Acting<'a> {
    pub account: Option<&'a AccountRow>,
    pub who: String,
}

impl<'a> Acting<'a> {
    pub fn api(account: &'a AccountRow) -> Acting<'a> {
        Acting {
            account: Some(account),
            who: format!("api:{}", account.username),
        }
    }

    pub fn cli(who: String) -> Acting<'static> {
        Acting { account: None, who }
    }
}

/// What creating a group or changing its settings asks for.
#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    pub name: String,
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub private: Option<bool>,
    pub posting: Option<String>,
}

fn check_posting(posting: &str) -> Result<(), DomainError> {
    if POSTING.contains(&posting) {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "posting must be members or anyone, not {posting:?}"
        )))
    }
}

fn role_of(account: &AccountRow) -> Role {
    account.role.parse().unwrap_or(Role::User)
}

/// Whether the node's roles let `account` create groups.
fn may_create(node: &Node, account: &AccountRow) -> bool {
    match node.config.groups.creators {
        GroupCreators::Everyone => true,
        GroupCreators::Moderators => matches!(role_of(account), Role::Moderator | Role::Admin),
        GroupCreators::Admins => role_of(account) == Role::Admin,
    }
}

/// A group hosted here, by account id.
async fn hosted(node: &Node, id: i64) -> Result<(AccountRow, GroupRow), DomainError> {
    let account = node
        .store
        .account_by_id(id)
        .await?
        .filter(|a| a.is_group && a.is_local() && !a.suspended)
        .ok_or(DomainError::NotFound("group"))?;
    let group = node
        .store
        .group(id)
        .await?
        .ok_or(DomainError::NotFound("group"))?;
    Ok((account, group))
}

/// A group hosted here, by name (for the CLI).
pub async fn id_by_name(node: &Node, name: &str) -> Result<i64, DomainError> {
    accounts::find_local(&node.store, name)
        .await?
        .filter(|a| a.is_group && !a.suspended)
        .map(|a| a.id)
        .ok_or(DomainError::NotFound("group"))
}

/// The role `acting` holds in the group: `Some("owner" | "moderator")`, or `Some("admin")` for
/// the node's admins and the CLI, which may do anything a moderator may.
async fn authority(
    node: &Node,
    acting: &Acting<'_>,
    group: i64,
) -> Result<Option<String>, DomainError> {
    let Some(account) = acting.account else {
        return Ok(Some("admin".into()));
    };
    let moderators = node.store.group_moderators(group).await?;
    if let Some((_, role)) = moderators.iter().find(|(a, _)| *a == account.id) {
        return Ok(Some(role.clone()));
    }
    Ok((role_of(account) == Role::Admin).then(|| "admin".into()))
}

async fn require_moderator(
    node: &Node,
    acting: &Acting<'_>,
    group: i64,
) -> Result<String, DomainError> {
    authority(node, acting, group)
        .await?
        .ok_or_else(|| DomainError::Forbidden("This action needs a moderator of the group".into()))
}

async fn require_owner(node: &Node, acting: &Acting<'_>, group: i64) -> Result<(), DomainError> {
    match authority(node, acting, group).await?.as_deref() {
        Some("owner" | "admin") => Ok(()),
        _ => Err(DomainError::Forbidden(
            "This action needs an owner of the group or an admin".into(),
        )),
    }
}

fn audit<'a>(acting: &'a Acting<'_>, action: &'a str, detail: &'a str) -> Audit<'a> {
    Audit {
        actor: &acting.who,
        action,
        domain: None,
        detail,
    }
}

/// Creates a group owned by `owner` (who becomes its first member).
pub async fn create(
    node: &Node,
    acting: &Acting<'_>,
    owner: &AccountRow,
    input: GroupInput,
) -> Result<GroupView, DomainError> {
    if let Some(account) = acting.account {
        if !may_create(node, account) {
            return Err(DomainError::Forbidden(
                "Your role does not allow creating groups on this node".into(),
            ));
        }
    }
    if !owner.is_local() || owner.is_group || owner.suspended {
        return Err(DomainError::Invalid(
            "The owner must be an active local account".into(),
        ));
    }
    let name = input.name.trim();
    accounts::validate_username(name)?;
    let posting = input.posting.as_deref().unwrap_or("members");
    check_posting(posting)?;
    let display_name = input.display_name.as_deref().unwrap_or(name).trim();
    if display_name.chars().count() > 30 {
        return Err(DomainError::Invalid(
            "Display name is too long (maximum is 30 characters)".into(),
        ));
    }
    if accounts::find_local(&node.store, name).await?.is_some() {
        return Err(DomainError::Conflict(format!("username {name:?} is taken")));
    }
    let (private_key_pem, public_key_pem) =
        tokio::task::spawn_blocking(accounts::generate_key_pair)
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))??;
    let private = input.private.unwrap_or(false);
    let id = crate::ids::next_id();
    let detail = format!(
        "@{name} owner @{} {}",
        owner.username,
        if private { "private" } else { "open" }
    );
    node.store
        .insert_group(
            &NewGroup {
                id,
                username: name,
                display_name,
                note: input.note.as_deref().unwrap_or("").trim(),
                private,
                posting,
                private_key_pem: &private_key_pem,
                public_key_pem: &public_key_pem,
                owner: owner.id,
                created_by: acting.account.map(|a| a.id),
                created_at: now_millis(),
            },
            &audit(acting, "group.create", &detail),
        )
        .await?;
    tracing::info!(group = name, owner = %owner.username, private, "group created");
    view(node, id).await
}

/// One hosted group with its settings and moderators.
pub async fn view(node: &Node, id: i64) -> Result<GroupView, DomainError> {
    let (_, group) = hosted(node, id).await?;
    let moderators = node.store.group_moderators(id).await?;
    let mut ids: Vec<i64> = vec![id];
    ids.extend(moderators.iter().map(|(a, _)| *a));
    let views = accounts::views(node, &ids).await?;
    let find = |id: i64| views.iter().find(|v| v.row.id == id).cloned();
    let account = find(id).ok_or(DomainError::NotFound("group"))?;
    Ok(GroupView {
        account,
        posting: group.posting,
        moderators: moderators
            .into_iter()
            .filter_map(|(a, role)| find(a).map(|v| (v, role)))
            .collect(),
    })
}

/// Every group hosted here.
pub async fn list(node: &Node) -> Result<Vec<GroupView>, DomainError> {
    let mut out = Vec::new();
    for g in node.store.groups().await? {
        out.push(view(node, g.account_id).await?);
    }
    Ok(out)
}

/// Changes a group's profile and settings (moderators); members' nodes get the Update.
pub async fn update(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    input: GroupInput,
) -> Result<GroupView, DomainError> {
    let (mut account, group) = hosted(node, id).await?;
    require_moderator(node, acting, id).await?;
    let posting = input.posting.clone().unwrap_or(group.posting);
    check_posting(&posting)?;
    if let Some(d) = &input.display_name {
        if d.chars().count() > 30 {
            return Err(DomainError::Invalid(
                "Display name is too long (maximum is 30 characters)".into(),
            ));
        }
        account.display_name = d.trim().to_string();
    }
    if let Some(n) = &input.note {
        account.note = n.trim().to_string();
    }
    if let Some(p) = input.private {
        account.locked = p;
    }
    let tags = super::directory::featured_names(node, id).await?;
    let deliveries = super::federation::outbound::profile_deliveries(
        node,
        &account,
        &tags,
        account.discoverable,
    )
    .await?;
    let detail = format!(
        "@{} {} posting {posting}",
        account.username,
        if account.locked { "private" } else { "open" }
    );
    node.store
        .update_group(
            id,
            &account.display_name,
            &account.note,
            account.locked,
            &posting,
            &audit(acting, "group.update", &detail),
            &deliveries,
        )
        .await?;
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    view(node, id).await
}

/// Deletes a group (its owners or an admin).
pub async fn delete(node: &Node, acting: &Acting<'_>, id: i64) -> Result<(), DomainError> {
    let (account, _) = hosted(node, id).await?;
    require_owner(node, acting, id).await?;
    let detail = format!("@{}", account.username);
    node.store
        .delete_group(id, &audit(acting, "group.delete", &detail))
        .await?;
    tracing::info!(group = %account.username, by = %acting.who, "group deleted");
    Ok(())
}

/// Makes a local account a moderator (`role: Some("moderator" | "owner")`) or no longer one.
pub async fn set_moderator(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    account_id: i64,
    role: Option<&str>,
) -> Result<GroupView, DomainError> {
    let (group, _) = hosted(node, id).await?;
    require_owner(node, acting, id).await?;
    let account = node
        .store
        .account_by_id(account_id)
        .await?
        .filter(|a| a.is_local() && !a.is_group)
        .ok_or(DomainError::NotFound("account"))?;
    if let Some(r) = role {
        if !matches!(r, "owner" | "moderator") {
            return Err(DomainError::Invalid(format!(
                "role must be owner or moderator, not {r:?}"
            )));
        }
    } else {
        let owners = node
            .store
            .group_moderators(id)
            .await?
            .into_iter()
            .filter(|(a, r)| r == "owner" && *a != account.id)
            .count();
        if owners == 0 {
            return Err(DomainError::Invalid(
                "A group keeps at least one owner".into(),
            ));
        }
    }
    let (action, detail) = match role {
        Some(r) => (
            "group.add_moderator",
            format!("@{} @{} {r}", group.username, account.username),
        ),
        None => (
            "group.remove_moderator",
            format!("@{} @{}", group.username, account.username),
        ),
    };
    node.store
        .set_group_moderator(id, account.id, role, &audit(acting, action, &detail))
        .await?;
    view(node, id).await
}

/// The join requests waiting for a private group's moderators.
pub async fn requests(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    page: &Page,
) -> Result<super::accounts::AccountPage, DomainError> {
    let (group, _) = hosted(node, id).await?;
    require_moderator(node, acting, id).await?;
    super::follows::requests(node, &group, page).await
}

/// A moderator approves or turns down a join request; the requester's node is told.
pub async fn answer_request(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    requester: i64,
    approve: bool,
) -> Result<(), DomainError> {
    let (group, _) = hosted(node, id).await?;
    require_moderator(node, acting, id).await?;
    let requester_row = node
        .store
        .account_by_id(requester)
        .await?
        .ok_or(DomainError::NotFound("follow request"))?;
    if approve {
        super::follows::authorize(node, &group, requester).await?;
    } else {
        super::follows::reject(node, &group, requester).await?;
    }
    let action = if approve {
        "group.approve"
    } else {
        "group.reject"
    };
    let detail = format!("@{} {}", group.username, handle(&requester_row));
    node.store
        .record_audit(&audit(acting, action, &detail))
        .await?;
    Ok(())
}

/// The members of a group hosted here.
pub async fn members(
    node: &Node,
    id: i64,
    page: &Page,
) -> Result<super::accounts::AccountPage, DomainError> {
    hosted(node, id).await?;
    super::follows::list(node, id, crate::store::social::FollowList::Followers, page).await
}

/// A moderator removes a member (and with `ban`, keeps them out); the member's node is told
/// with a Reject of their Follow, and stops receiving the group's posts.
pub async fn remove_member(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    member: i64,
    ban: Option<&str>,
) -> Result<(), DomainError> {
    let (group, _) = hosted(node, id).await?;
    require_moderator(node, acting, id).await?;
    let member_row = node
        .store
        .account_by_id(member)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let deliveries = if member_row.is_local() {
        vec![]
    } else {
        let ap_id = node.store.follow_ap_id(member, id).await?;
        let reject = super::federation::outbound::answer_follow(
            node,
            ActivityKind::Reject,
            &group,
            &member_row,
            ap_id.as_deref(),
        );
        super::federation::outbound::deliveries_to(node, &group, &member_row, &reject)
    };
    let (action, detail) = match ban {
        Some(reason) => (
            "group.ban",
            format!("@{} {} {reason}", group.username, handle(&member_row)),
        ),
        None => (
            "group.remove_member",
            format!("@{} {}", group.username, handle(&member_row)),
        ),
    };
    let removed = node
        .store
        .remove_group_member(
            id,
            member,
            ban,
            &audit(acting, action, &detail),
            &deliveries,
        )
        .await?;
    if !removed && ban.is_none() {
        return Err(DomainError::NotFound("member"));
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    if member_row.is_local() {
        node.store.remove_from_feed(member, id).await?;
    }
    tracing::info!(group = %group.username, member = %handle(&member_row), banned = ban.is_some(), "member removed from group");
    Ok(())
}

/// A moderator removes a post from the group: the group's announce is undone on every
/// member's node.
pub async fn remove_post(
    node: &Node,
    acting: &Acting<'_>,
    id: i64,
    status_id: i64,
) -> Result<(), DomainError> {
    let (group, _) = hosted(node, id).await?;
    require_moderator(node, acting, id).await?;
    let original = node
        .store
        .status_by_id(status_id)
        .await?
        .map(|s| s.reblog_of_id.unwrap_or(s.id))
        .ok_or(DomainError::NotFound("status"))?;
    let wrapper = node
        .store
        .reblog_by(id, original)
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let row = node
        .store
        .status_by_id(wrapper)
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let stream = super::statuses::audience_of(node, &row).await?;
    let deliveries = super::federation::outbound::delete_deliveries(node, &row, &group).await?;
    let detail = format!("@{} status {original}", group.username);
    let deleted = node.store.delete_status(wrapper, None, &deliveries).await?;
    node.store
        .record_audit(&audit(acting, "group.remove_post", &detail))
        .await?;
    super::federation::outbound::wake_deliveries(node, deleted && !deliveries.is_empty());
    node.hub.publish(super::events::Event::Delete {
        status_id: wrapper,
        audience: stream,
    });
    tracing::info!(group = %group.username, status = original, "post removed from group");
    Ok(())
}

/// Whether a peer on `domain` may read what `group` carries: it has members there.
pub async fn peer_has_members(node: &Node, group: i64, domain: &str) -> Result<bool, DomainError> {
    Ok(node.store.has_followers_on(group, domain).await?)
}
