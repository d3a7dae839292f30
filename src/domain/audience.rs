//! Audiences: who may see a status, which timelines and streams it enters, how it is addressed
//! in ActivityStreams and read back, which peers receive it and whether a peer may fetch it.
//!
//! This is the one module that decides these things. A status's [`Audience`] is the [`Scope`] its
//! author chose plus its [`Locality`]: whether it may leave this node at all (department-only
//! statuses never do, whatever their scope). Every surface a status can appear on is a
//! [`Surface`]; [`reaches`] is the whole rule table, and the helpers below (timeline filters,
//! stream audiences, delivery targets, addressing, what a reply or a boost inherits) are derived
//! from it or sit beside it. Adding a scope is one variant here plus its rows in [`reaches`] and
//! [`Scope::addressing`]; the compiler then points at every `match` that must learn it.
//!
//! The module is a leaf: it imports nothing from the node, so the store may name [`Scope`] as a
//! column type without an import cycle.

use std::fmt;
use std::str::FromStr;

use fika_federation::activities::{is_public, PUBLIC};

/// The audience an author chose for a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every signed-in member of the network; listed on public timelines.
    Public,
    /// Like public, but kept off public timelines, hashtag pages and streams.
    Unlisted,
    /// The author's followers and mentioned accounts ("private" in the Mastodon API).
    FollowersOnly,
    /// Mentioned accounts only.
    Direct,
}

/// An unknown scope name, in the API or in a stored row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("visibility must be public, unlisted, private or direct, not {0:?}")]
pub struct UnknownScope(pub String);

/// Addressing that maps to no scope we can honour; the activity is refused, not guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("addressed to no audience this node can honour (to {to:?}, cc {cc:?})")]
pub struct UnknownAddressing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Public,
        Scope::Unlisted,
        Scope::FollowersOnly,
        Scope::Direct,
    ];

    /// The Mastodon API name, which is also how the scope is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Public => "public",
            Scope::Unlisted => "unlisted",
            Scope::FollowersOnly => "private",
            Scope::Direct => "direct",
        }
    }

    /// ActivityStreams addressing (to, cc) for a status by an author whose followers collection
    /// is `followers`, mentioning the actors `mentioned`, as Mastodon addresses it.
    pub fn addressing(self, followers: &str, mentioned: &[String]) -> (Vec<String>, Vec<String>) {
        let mentioned = mentioned.iter().cloned();
        match self {
            Scope::Public => (
                vec![PUBLIC.to_string()],
                std::iter::once(followers.to_string())
                    .chain(mentioned)
                    .collect(),
            ),
            Scope::Unlisted => (
                vec![followers.to_string()],
                std::iter::once(PUBLIC.to_string())
                    .chain(mentioned)
                    .collect(),
            ),
            Scope::FollowersOnly => (vec![followers.to_string()], mentioned.collect()),
            Scope::Direct => (mentioned.collect(), vec![]),
        }
    }

    /// The scope of a status from its addressing. `followers` is the author's followers
    /// collection; `has_actor_recipient` says whether any addressed or mentioned actor is known
    /// here (what a direct status needs to mean anything). Anything else is refused.
    pub fn from_addressing(
        to: &[String],
        cc: &[String],
        followers: Option<&str>,
        has_actor_recipient: bool,
    ) -> Result<Scope, UnknownAddressing> {
        if to.iter().any(|t| is_public(t)) {
            Ok(Scope::Public)
        } else if cc.iter().any(|t| is_public(t)) {
            Ok(Scope::Unlisted)
        } else if followers.is_some_and(|f| to.iter().chain(cc).any(|t| t == f)) {
            Ok(Scope::FollowersOnly)
        } else if has_actor_recipient {
            Ok(Scope::Direct)
        } else {
            Err(UnknownAddressing {
                to: to.to_vec(),
                cc: cc.to_vec(),
            })
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
    }
}

/// How rows are decoded (`#[sqlx(try_from = "String")]`): an unknown stored name is an error,
/// never a silent default.
impl TryFrom<String> for Scope {
    type Error = UnknownScope;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// What an app asked for when posting, that no audience answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownRequest {
    #[error("visibility must be public, unlisted, private, direct or local, not {0:?}")]
    Visibility(String),
    #[error(
        "visibility \"local\" asks for a department-only status, which local_only: false contradicts"
    )]
    Contradiction,
}

/// The audience an app asked for when posting: `visibility` is one of the four scope names or
/// `"local"` (how Akkoma and Pleroma apps ask for a public department-only status), and
/// `local_only` is GoToSocial's flag. `None` where the request said nothing: the author's and
/// the node's defaults decide.
pub fn requested(
    visibility: Option<&str>,
    local_only: Option<bool>,
) -> Result<(Option<Scope>, Option<Locality>), UnknownRequest> {
    let flag = local_only.map(Locality::from_local_only);
    match visibility {
        None => Ok((None, flag)),
        Some("local") => match flag {
            Some(Locality::Federated) => Err(UnknownRequest::Contradiction),
            _ => Ok((Some(Scope::Public), Some(Locality::LocalOnly))),
        },
        Some(name) => name
            .parse()
            .map(|s| (Some(s), flag))
            .map_err(|_| UnknownRequest::Visibility(name.to_string())),
    }
}

/// Whether a status may leave the node it was written on. Orthogonal to the [`Scope`]: a
/// department-only status keeps its scope on its own node (a department-only followers-only
/// reply is still followers-only there) and is never delivered, listed in an outbox or served
/// to a peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Locality {
    /// Federates as its scope says.
    #[default]
    Federated,
    /// Department-only ("local only" in the API): stays on this node.
    LocalOnly,
}

impl Locality {
    pub const ALL: [Locality; 2] = [Locality::Federated, Locality::LocalOnly];

    /// The API's and the store's form: `local_only: true|false`.
    pub fn is_local_only(self) -> bool {
        self == Locality::LocalOnly
    }

    pub fn from_local_only(local_only: bool) -> Locality {
        if local_only {
            Locality::LocalOnly
        } else {
            Locality::Federated
        }
    }
}

/// How rows are decoded (`#[sqlx(try_from = "bool")]` on the `local_only` column).
impl From<bool> for Locality {
    fn from(local_only: bool) -> Self {
        Locality::from_local_only(local_only)
    }
}

/// Everything the rules need to know about a status's audience: its scope and whether it may
/// leave the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Audience {
    pub scope: Scope,
    pub locality: Locality,
}

impl Audience {
    pub const fn new(scope: Scope, locality: Locality) -> Audience {
        Audience { scope, locality }
    }

    /// A status that federates as its scope says (every status received from a peer).
    pub const fn federated(scope: Scope) -> Audience {
        Audience::new(scope, Locality::Federated)
    }

    /// Every combination, for the derived lists and the tests.
    pub fn all() -> Vec<Audience> {
        Locality::ALL
            .into_iter()
            .flat_map(|l| Scope::ALL.into_iter().map(move |s| Audience::new(s, l)))
            .collect()
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.locality {
            Locality::Federated => write!(f, "{}", self.scope),
            Locality::LocalOnly => write!(f, "department-only {}", self.scope),
        }
    }
}

/// What a viewer has to do with a status's author. For a peer node (a signed fetch, a
/// delivery target) it describes the accounts there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub is_author: bool,
    pub follows_author: bool,
    pub mentioned: bool,
    /// A member of the group the status was posted into (for a peer: it has members there).
    pub group_member: bool,
}

impl Relation {
    pub const STRANGER: Relation = Relation {
        is_author: false,
        follows_author: false,
        mentioned: false,
        group_member: false,
    };
    pub const GROUP_MEMBER: Relation = Relation {
        group_member: true,
        ..Relation::STRANGER
    };
    pub const FOLLOWER: Relation = Relation {
        follows_author: true,
        ..Relation::STRANGER
    };
    pub const MENTIONED: Relation = Relation {
        mentioned: true,
        ..Relation::STRANGER
    };
    pub const AUTHOR: Relation = Relation {
        is_author: true,
        ..Relation::STRANGER
    };
}

/// Where the status was written: on this node or on a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

/// Everywhere a status can be shown, listed or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Fetched by id, in a thread, rendered anywhere (the base rule).
    Status,
    /// The viewer's home feed and `user` stream.
    Home,
    /// The public timeline (`local` / `remote`) and the `public*` streams.
    PublicTimeline(Origin),
    /// Hashtag timelines and the `hashtag*` streams.
    Hashtag(Origin),
    /// The author's profile listing.
    Profile,
    /// Full-text status search.
    Search,
    /// The `direct` stream (conversations).
    DirectStream,
    /// A peer node whose accounts stand in this relation to the author receives it.
    Delivery,
    /// Every peer of the organisation's tier receives it, whether or not anyone there follows
    /// the author: the organisation's public conversation.
    OrgDelivery,
    /// An allowed peer's signed GET of the status's AS2 id.
    SignedGet,
    /// The author's ActivityPub outbox, read by allowed peers.
    Outbox,
}

/// The rule table: does a status of `audience` reach a viewer standing in `viewer` (`None`: not
/// signed in) on `surface`?
pub fn reaches(audience: Audience, viewer: Option<Relation>, surface: Surface) -> bool {
    // The network is internal: nothing is shown to someone who is not signed in. (Peers are
    // authenticated by their signature and pass a relation.)
    let Some(r) = viewer else { return false };
    let Audience { scope, locality } = audience;
    // A department-only status reaches no peer in any way; on its own node its scope decides.
    let to_peers = matches!(
        surface,
        Surface::Delivery | Surface::OrgDelivery | Surface::SignedGet | Surface::Outbox
    );
    if to_peers && locality == Locality::LocalOnly {
        return false;
    }
    // A status posted into a group is for its members too, whatever else its scope says.
    let may_see = match scope {
        Scope::Public | Scope::Unlisted => true,
        Scope::FollowersOnly => r.is_author || r.follows_author || r.mentioned || r.group_member,
        Scope::Direct => r.is_author || r.mentioned || r.group_member,
    };
    match surface {
        Surface::Status => may_see,
        Surface::Home => match scope {
            Scope::Direct => r.is_author || r.mentioned,
            // Mentions alone do not put a status in a home feed; following does.
            _ => r.is_author || r.follows_author,
        },
        Surface::PublicTimeline(_) | Surface::Hashtag(_) => scope == Scope::Public,
        // Mentions in private or direct statuses are checked per status, not listed.
        Surface::Profile => {
            r.is_author
                || (scope != Scope::Direct
                    && reaches(
                        audience,
                        Some(Relation {
                            mentioned: false,
                            ..r
                        }),
                        Surface::Status,
                    ))
        }
        Surface::Search => matches!(scope, Scope::Public | Scope::Unlisted),
        Surface::DirectStream => scope == Scope::Direct && (r.is_author || r.mentioned),
        Surface::Delivery => match scope {
            Scope::Direct => r.mentioned,
            _ => r.follows_author || r.mentioned,
        },
        Surface::OrgDelivery => scope == Scope::Public,
        // A group's members on a peer read its posts there, so the peer may fetch them.
        Surface::SignedGet => matches!(scope, Scope::Public | Scope::Unlisted) || r.group_member,
        Surface::Outbox => scope == Scope::Public,
    }
}

/// Shorthand for the base rule.
pub fn may_see(audience: Audience, viewer: Option<Relation>) -> bool {
    reaches(audience, viewer, Surface::Status)
}

/// The audiences (scope and locality) a list may hold, as the store filters on them.
fn audiences_where(pred: impl Fn(Audience) -> bool) -> Vec<Audience> {
    Audience::all().into_iter().filter(|a| pred(*a)).collect()
}

/// The audiences of an author's statuses a viewer may list on the author's profile.
pub fn listable_on_profile(viewer: Option<Relation>) -> Vec<Audience> {
    audiences_where(|a| reaches(a, viewer, Surface::Profile))
}

/// The audiences a follower's home feed takes in when they start following (the backfill).
pub fn home_backfill() -> Vec<Audience> {
    audiences_where(|a| reaches(a, Some(Relation::FOLLOWER), Surface::Home))
}

/// The audiences listed on the public timeline of `origin`, for any signed-in viewer.
pub fn on_public_timeline(origin: Option<Origin>) -> Vec<Audience> {
    let origin = origin.unwrap_or(Origin::Local);
    audiences_where(|a| reaches(a, Some(Relation::STRANGER), Surface::PublicTimeline(origin)))
}

/// The audiences listed on hashtag timelines.
pub fn on_hashtag_timeline(origin: Option<Origin>) -> Vec<Audience> {
    let origin = origin.unwrap_or(Origin::Local);
    audiences_where(|a| reaches(a, Some(Relation::STRANGER), Surface::Hashtag(origin)))
}

/// The audiences whose text shows up in search for any signed-in viewer.
pub fn searchable() -> Vec<Audience> {
    audiences_where(|a| reaches(a, Some(Relation::STRANGER), Surface::Search))
}

/// Whether a status a peer sends unasked (from an author nobody here follows, mentioning nobody
/// here, replying to nothing we hold) is taken in: from the organisation's nodes, yes (their
/// public conversation is listed here); from a partner, no: partners reach us through follows.
pub fn takes_unsolicited(tier: fika_federation::policy::Tier) -> bool {
    tier == fika_federation::policy::Tier::Org
}

/// Only statuses every viewer may see can be reblogged: the others' audience was chosen.
pub fn may_reblog(audience: Audience) -> bool {
    reaches(audience, Some(Relation::STRANGER), Surface::Status)
}

/// Whether a group may announce a status posted into it: whatever its scope, as long as it
/// may leave the node (the group's members are its audience, and they are on other nodes).
pub fn group_may_announce(audience: Audience) -> bool {
    reaches(audience, Some(Relation::GROUP_MEMBER), Surface::Delivery)
        || reaches(audience, Some(Relation::GROUP_MEMBER), Surface::SignedGet)
}

/// The scope of a group's announce of a post: members only for a private group, public for an
/// open one.
pub fn group_announce_scope(private_group: bool) -> Scope {
    if private_group {
        Scope::FollowersOnly
    } else {
        Scope::Public
    }
}

/// The scope of a post into a group: what the author asked, narrowed to the members (addressed
/// to the group alone) when the group is private, so its posts never show outside it.
pub fn group_post_scope(asked: Scope, private_group: bool) -> Scope {
    if private_group {
        Scope::Direct
    } else {
        asked
    }
}

/// The scope of the reblog wrapper itself, as asked for by the reblogger.
pub fn reblog_scope(asked: Option<Scope>) -> Result<Scope, &'static str> {
    match asked.unwrap_or(Scope::Public) {
        Scope::Direct => Err("A reblog cannot be direct"),
        s => Ok(s),
    }
}

/// The audience of a reblog wrapper: the scope the reblogger asked for, and the original's
/// locality: a boost of a department-only status is department-only too, and its Announce goes
/// nowhere.
pub fn reblog_audience(asked: Option<Scope>, original: Audience) -> Result<Audience, &'static str> {
    Ok(Audience::new(reblog_scope(asked)?, original.locality))
}

/// The locality of a new status: what the author asked for (`None`: the app sent neither
/// `local_only` nor `visibility: "local"`), else the node's default; and department-only
/// whatever was asked when it replies to a department-only status, so a conversation that
/// started on this node stays on it.
pub fn post_locality(
    asked: Option<Locality>,
    node_default: Locality,
    parent: Option<Audience>,
) -> Locality {
    if parent.is_some_and(|p| p.locality == Locality::LocalOnly) {
        return Locality::LocalOnly;
    }
    asked.unwrap_or(node_default)
}

/// The locality of an edited status: the one it has. An edit cannot change it: a status
/// already delivered cannot be recalled from peers, and one kept on the node must not start
/// travelling with its history.
pub fn edit_locality(current: Locality, asked: Option<Locality>) -> Result<Locality, &'static str> {
    match asked {
        Some(l) if l != current => Err(match current {
            Locality::LocalOnly => {
                "A department-only status cannot be made to federate by editing it; post it again instead"
            }
            Locality::Federated => {
                "A status that federates cannot be made department-only by editing it: peers already have it; delete it and post it again instead"
            }
        }),
        _ => Ok(current),
    }
}

/// The audiences listed in an author's ActivityPub outbox.
pub fn in_outbox() -> Vec<Audience> {
    audiences_where(|a| reaches(a, Some(Relation::STRANGER), Surface::Outbox))
}

/// Whether an allowed peer's signed GET may be answered with the status (and its Note built).
pub fn served_to_peers(audience: Audience) -> bool {
    reaches(audience, Some(Relation::STRANGER), Surface::SignedGet)
}

/// Whether any peer may hold the status or learn of it: delivered to someone there, or served
/// to a signed GET. An activity from a peer about one of ours that no peer may know (a Like, an
/// Announce, a reply to a department-only status) is treated as naming nothing.
pub fn known_to_peers(audience: Audience) -> bool {
    let delivered = [Relation::FOLLOWER, Relation::MENTIONED]
        .into_iter()
        .any(|r| reaches(audience, Some(r), Surface::Delivery));
    delivered || served_to_peers(audience)
}

/// Which remote accounts' nodes receive a status: followers' nodes, mentioned accounts' nodes.
/// For a reblog, the reblogged status's author is its one mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryTargets {
    pub followers: bool,
    pub mentioned: bool,
    /// Every `org` peer's shared inbox.
    pub org_peers: bool,
}

impl DeliveryTargets {
    pub fn none(self) -> bool {
        !self.followers && !self.mentioned && !self.org_peers
    }
}

pub fn delivery_targets(audience: Audience) -> DeliveryTargets {
    DeliveryTargets {
        followers: reaches(audience, Some(Relation::FOLLOWER), Surface::Delivery),
        mentioned: reaches(audience, Some(Relation::MENTIONED), Surface::Delivery),
        org_peers: reaches(audience, Some(Relation::STRANGER), Surface::OrgDelivery),
    }
}

/// Whose home feeds a new status enters.
///
/// `followers` are the author's local followers with, for each, whether it also follows the
/// account being replied to. A reply to someone else reaches only followers who follow both
/// (as on Mastodon, so a conversation does not flood everyone's home).
pub fn home_recipients(
    audience: Audience,
    author: i64,
    reply_to_account: Option<i64>,
    followers: &[(i64, bool)],
    mentioned: &[i64],
) -> Vec<i64> {
    let mut out = vec![author];
    if reaches(audience, Some(Relation::MENTIONED), Surface::Home) {
        out.extend(mentioned.iter().copied());
    }
    if reaches(audience, Some(Relation::FOLLOWER), Surface::Home) {
        let conversation_with_other = reply_to_account.filter(|a| *a != author);
        for (follower, follows_replied) in followers {
            let shown = match conversation_with_other {
                None => true,
                Some(other) => *follows_replied || *follower == other,
            };
            if shown {
                out.push(*follower);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What is known about a status when its streaming event is published.
#[derive(Debug, Clone)]
pub struct StatusFacts<'a> {
    pub audience: Audience,
    pub origin: Origin,
    pub author: i64,
    /// Accounts whose home feed holds it now (`user` streams).
    pub home: Vec<i64>,
    /// Local accounts mentioned or addressed.
    pub mentioned: &'a [i64],
    /// Lower-cased hashtags.
    pub tags: Vec<String>,
    pub with_media: bool,
}

/// Who an event about a status concerns, per stream: what the streaming API filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamAudience {
    /// Accounts whose home feed holds the status (`user` streams).
    pub home: Vec<i64>,
    /// On the `public` streams.
    pub public: bool,
    /// On the `public:local` streams (also public).
    pub local: bool,
    /// Lower-cased hashtags, for the `hashtag` streams (empty when it is on none).
    pub tags: Vec<String>,
    /// Participants of a direct status (`direct` streams).
    pub direct: Vec<i64>,
    pub with_media: bool,
}

pub fn stream_audience(facts: StatusFacts<'_>) -> StreamAudience {
    let anyone = Some(Relation::STRANGER);
    let public = reaches(
        facts.audience,
        anyone,
        Surface::PublicTimeline(facts.origin),
    );
    let direct = if reaches(
        facts.audience,
        Some(Relation::MENTIONED),
        Surface::DirectStream,
    ) {
        let mut d = facts.mentioned.to_vec();
        if facts.origin == Origin::Local {
            d.push(facts.author);
        }
        d.sort_unstable();
        d.dedup();
        d
    } else {
        vec![]
    };
    StreamAudience {
        home: facts.home,
        public,
        local: public && facts.origin == Origin::Local,
        tags: if reaches(facts.audience, anyone, Surface::Hashtag(facts.origin)) {
            facts.tags
        } else {
            vec![]
        },
        direct,
        with_media: facts.with_media,
    }
}

/// The part of a new status's home audience told at once, when it is posted: the author's own
/// `user` stream (the author's home-feed row is written with the status). Everyone else is
/// told by the worker once their rows are committed, so no one hears of it twice.
pub fn immediate_home(author: i64, recipients: &[i64]) -> Vec<i64> {
    if recipients.contains(&author) {
        vec![author]
    } else {
        Vec::new()
    }
}

/// A reblog wrapper reaches home feeds only: public timelines and hashtags list originals.
pub fn reblog_stream_audience(home: Vec<i64>) -> StreamAudience {
    StreamAudience {
        home,
        ..StreamAudience::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Locality::*;
    use Scope::*;
    use Surface::*;

    const NOBODY: Option<Relation> = None;
    const STRANGER: Option<Relation> = Some(Relation::STRANGER);
    const FOLLOWER: Option<Relation> = Some(Relation::FOLLOWER);
    const MENTIONED: Option<Relation> = Some(Relation::MENTIONED);
    const AUTHOR: Option<Relation> = Some(Relation::AUTHOR);

    const VIEWERS: [(&str, Option<Relation>); 5] = [
        ("anonymous", NOBODY),
        ("stranger", STRANGER),
        ("follower", FOLLOWER),
        ("mentioned", MENTIONED),
        ("author", AUTHOR),
    ];

    const SURFACES: [Surface; 14] = [
        Status,
        Home,
        PublicTimeline(Origin::Local),
        PublicTimeline(Origin::Remote),
        Hashtag(Origin::Local),
        Hashtag(Origin::Remote),
        Profile,
        Search,
        DirectStream,
        Delivery,
        OrgDelivery,
        SignedGet,
        Outbox,
        // Listed twice on purpose: the base rule is what everything else narrows.
        Status,
    ];

    /// Expected answers, one row per audience and surface, one column per viewer in `VIEWERS`
    /// order (anonymous, stranger, follower, mentioned, author).
    fn expected(audience: Audience, surface: Surface) -> [bool; 5] {
        const F: bool = false;
        const T: bool = true;
        let Audience { scope, locality } = audience;
        match (locality, surface) {
            // A department-only status reaches no peer, whatever its scope.
            (LocalOnly, Delivery | OrgDelivery | SignedGet | Outbox) => return [F; 5],
            // On its own node it is what its scope makes it (the rows below).
            (LocalOnly, _) | (Federated, _) => {}
        }
        match (scope, surface) {
            (Public | Unlisted, Status) => [F, T, T, T, T],
            (FollowersOnly, Status) => [F, F, T, T, T],
            (Direct, Status) => [F, F, F, T, T],

            (Public | Unlisted | FollowersOnly, Home) => [F, F, T, F, T],
            (Direct, Home) => [F, F, F, T, T],

            (Public, PublicTimeline(_) | Hashtag(_)) => [F, T, T, T, T],
            (_, PublicTimeline(_) | Hashtag(_)) => [F; 5],

            (Public | Unlisted, Profile) => [F, T, T, T, T],
            (FollowersOnly, Profile) => [F, F, T, F, T],
            (Direct, Profile) => [F, F, F, F, T],

            (Public | Unlisted, Search) => [F, T, T, T, T],
            (_, Search) => [F; 5],

            (Direct, DirectStream) => [F, F, F, T, T],
            (_, DirectStream) => [F; 5],

            (Public | Unlisted | FollowersOnly, Delivery) => [F, F, T, T, F],
            (Direct, Delivery) => [F, F, F, T, F],

            // Every org peer, whoever is there: only the public conversation.
            (Public, OrgDelivery) => [F, T, T, T, T],
            (_, OrgDelivery) => [F; 5],

            (Public | Unlisted, SignedGet) => [F, T, T, T, T],
            (_, SignedGet) => [F; 5],

            (Public, Outbox) => [F, T, T, T, T],
            (_, Outbox) => [F; 5],
        }
    }

    #[test]
    fn every_audience_viewer_and_surface() {
        let all = Audience::all();
        assert_eq!(all.len(), Scope::ALL.len() * Locality::ALL.len());
        for audience in all {
            for surface in SURFACES {
                let want = expected(audience, surface);
                for (i, (name, viewer)) in VIEWERS.iter().enumerate() {
                    assert_eq!(
                        reaches(audience, *viewer, surface),
                        want[i],
                        "{audience} status, {name} viewer, {surface:?}"
                    );
                }
            }
        }
    }

    const fn fed(scope: Scope) -> Audience {
        Audience::federated(scope)
    }

    const fn dept(scope: Scope) -> Audience {
        Audience::new(scope, LocalOnly)
    }

    fn scopes(list: &[Audience], locality: Locality) -> Vec<Scope> {
        list.iter()
            .filter(|a| a.locality == locality)
            .map(|a| a.scope)
            .collect()
    }

    #[test]
    fn group_members_see_what_was_posted_into_their_group() {
        let member = Some(Relation::GROUP_MEMBER);
        for scope in Scope::ALL {
            assert!(may_see(fed(scope), member), "{scope}");
        }
        // Only the status itself: no public listing, no search, no conversation stream.
        for surface in [
            PublicTimeline(Origin::Local),
            Hashtag(Origin::Remote),
            Search,
            DirectStream,
        ] {
            assert!(!reaches(fed(Direct), member, surface), "{surface:?}");
        }
        // A peer with members may fetch it; nobody fetches a department-only one.
        assert!(reaches(fed(Direct), member, SignedGet));
        assert!(!reaches(fed(Direct), STRANGER, SignedGet));
        assert!(!reaches(dept(Direct), member, SignedGet));
        assert!(group_may_announce(fed(Direct)) && group_may_announce(fed(Public)));
        assert!(!group_may_announce(dept(Public)));
        assert_eq!(group_post_scope(Public, true), Direct);
        assert_eq!(group_post_scope(Unlisted, false), Unlisted);
        assert_eq!(group_announce_scope(true), FollowersOnly);
    }

    #[test]
    fn derived_lists_follow_the_table() {
        // On the node, both localities list alike.
        for locality in Locality::ALL {
            let profile = |v| scopes(&listable_on_profile(v), locality);
            assert_eq!(profile(None), vec![]);
            assert_eq!(profile(STRANGER), vec![Public, Unlisted]);
            assert_eq!(profile(FOLLOWER), vec![Public, Unlisted, FollowersOnly]);
            assert_eq!(profile(AUTHOR), Scope::ALL.to_vec());
            assert_eq!(
                scopes(&home_backfill(), locality),
                vec![Public, Unlisted, FollowersOnly]
            );
            assert_eq!(
                scopes(&on_public_timeline(Some(Origin::Remote)), locality),
                vec![Public]
            );
            assert_eq!(scopes(&on_public_timeline(None), locality), vec![Public]);
            assert_eq!(scopes(&on_hashtag_timeline(None), locality), vec![Public]);
            assert_eq!(scopes(&searchable(), locality), vec![Public, Unlisted]);
        }
        // The outbox is for peers: department-only statuses are never in it.
        assert_eq!(in_outbox(), vec![fed(Public)]);
        assert!(may_reblog(fed(Public)) && may_reblog(fed(Unlisted)));
        assert!(may_reblog(dept(Public)) && may_reblog(dept(Unlisted)));
        assert!(!may_reblog(fed(FollowersOnly)) && !may_reblog(dept(Direct)));
        assert_eq!(reblog_scope(None), Ok(Public));
        assert!(reblog_scope(Some(Direct)).is_err());
        assert!(served_to_peers(fed(Unlisted)) && !served_to_peers(fed(FollowersOnly)));
        for scope in Scope::ALL {
            assert!(!served_to_peers(dept(scope)), "{scope}");
            assert!(!known_to_peers(dept(scope)), "{scope}");
            assert!(known_to_peers(fed(scope)), "{scope}");
            assert!(delivery_targets(dept(scope)).none(), "{scope}");
        }
        assert_eq!(
            delivery_targets(fed(Direct)),
            DeliveryTargets {
                followers: false,
                mentioned: true,
                org_peers: false,
            }
        );
        assert_eq!(
            delivery_targets(fed(FollowersOnly)),
            DeliveryTargets {
                followers: true,
                mentioned: true,
                org_peers: false,
            }
        );
        assert_eq!(
            delivery_targets(fed(Unlisted)),
            DeliveryTargets {
                followers: true,
                mentioned: true,
                org_peers: false,
            }
        );
        assert_eq!(
            delivery_targets(fed(Public)),
            DeliveryTargets {
                followers: true,
                mentioned: true,
                org_peers: true,
            }
        );
    }

    #[test]
    fn replies_and_boosts_of_department_only_statuses_stay_on_the_node() {
        // Nothing asked: the node's default.
        assert_eq!(post_locality(None, Federated, None), Federated);
        assert_eq!(post_locality(None, LocalOnly, None), LocalOnly);
        // Asked: what was asked, over the default.
        assert_eq!(post_locality(Some(Federated), LocalOnly, None), Federated);
        assert_eq!(post_locality(Some(LocalOnly), Federated, None), LocalOnly);
        // A reply to a federated status is what was asked or the default.
        assert_eq!(
            post_locality(Some(LocalOnly), Federated, Some(fed(Public))),
            LocalOnly
        );
        assert_eq!(post_locality(None, Federated, Some(fed(Direct))), Federated);
        // A reply to a department-only status is department-only, whatever was asked; its scope
        // is its own (a direct reply stays direct).
        for asked in [None, Some(Federated), Some(LocalOnly)] {
            for parent in Scope::ALL {
                assert_eq!(
                    post_locality(asked, Federated, Some(dept(parent))),
                    LocalOnly
                );
            }
        }
        // A boost keeps the original's locality and takes the scope asked for.
        assert_eq!(reblog_audience(None, dept(Public)), Ok(dept(Public)));
        assert_eq!(
            reblog_audience(Some(Unlisted), dept(Public)),
            Ok(dept(Unlisted))
        );
        assert_eq!(reblog_audience(None, fed(Unlisted)), Ok(fed(Public)));
        assert!(reblog_audience(Some(Direct), dept(Public)).is_err());
        // An edit keeps the locality; asking to change it is refused.
        assert_eq!(edit_locality(LocalOnly, None), Ok(LocalOnly));
        assert_eq!(edit_locality(LocalOnly, Some(LocalOnly)), Ok(LocalOnly));
        assert_eq!(edit_locality(Federated, Some(Federated)), Ok(Federated));
        assert!(edit_locality(LocalOnly, Some(Federated)).is_err());
        assert!(edit_locality(Federated, Some(LocalOnly)).is_err());
        assert_eq!(Locality::from(true), LocalOnly);
        assert!(!Locality::default().is_local_only());
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(Scope::try_from(scope.as_str().to_string()), Ok(scope));
        }
        assert!("local".parse::<Scope>().is_err());
        assert!(Scope::try_from("Public".to_string()).is_err());
    }

    #[test]
    fn what_apps_ask_for() {
        assert_eq!(requested(None, None), Ok((None, None)));
        assert_eq!(requested(None, Some(true)), Ok((None, Some(LocalOnly))));
        assert_eq!(
            requested(Some("private"), Some(true)),
            Ok((Some(FollowersOnly), Some(LocalOnly)))
        );
        assert_eq!(
            requested(Some("direct"), Some(false)),
            Ok((Some(Direct), Some(Federated)))
        );
        for flag in [None, Some(true)] {
            assert_eq!(
                requested(Some("local"), flag),
                Ok((Some(Public), Some(LocalOnly)))
            );
        }
        assert_eq!(
            requested(Some("local"), Some(false)),
            Err(UnknownRequest::Contradiction)
        );
        assert_eq!(
            requested(Some("everyone"), None),
            Err(UnknownRequest::Visibility("everyone".into()))
        );
        assert!(requested(Some("Public"), None).is_err());
    }

    #[test]
    fn addressing_round_trips() {
        let f = "https://a.example/users/x/followers";
        let m = vec!["https://b.example/users/y".to_string()];
        for scope in Scope::ALL {
            let (to, cc) = scope.addressing(f, &m);
            assert_eq!(Scope::from_addressing(&to, &cc, Some(f), true), Ok(scope));
        }
        assert_eq!(
            Scope::from_addressing(&["as:Public".into()], &[], None, false),
            Ok(Public)
        );
        assert_eq!(
            Scope::from_addressing(&[], &["Public".into()], None, false),
            Ok(Unlisted)
        );
        // A collection we do not know and no actor of ours: refused, not taken as direct.
        let unknown = vec!["https://a.example/groups/g/members".to_string()];
        assert!(Scope::from_addressing(&unknown, &[], Some(f), false).is_err());
        assert_eq!(
            Scope::from_addressing(&unknown, &[], Some(f), true),
            Ok(Direct)
        );
    }

    #[test]
    fn home_feed_fan_out() {
        // 2 follows the replied-to account 9, 3 does not, 9 itself follows the author.
        let followers = [(2, true), (3, false), (9, false)];
        assert_eq!(
            home_recipients(fed(Public), 1, None, &followers, &[]),
            vec![1, 2, 3, 9]
        );
        assert_eq!(
            home_recipients(dept(Public), 1, Some(9), &followers, &[]),
            vec![1, 2, 9]
        );
        assert_eq!(
            home_recipients(fed(Public), 1, Some(1), &followers, &[]),
            vec![1, 2, 3, 9],
            "a thread continues for everyone"
        );
        assert_eq!(
            home_recipients(fed(FollowersOnly), 1, None, &followers, &[7]),
            vec![1, 2, 3, 9],
            "a mention alone does not fill a home feed"
        );
        assert_eq!(
            home_recipients(dept(Direct), 1, None, &followers, &[7]),
            vec![1, 7]
        );
    }

    #[test]
    fn only_the_author_is_told_at_once() {
        assert_eq!(immediate_home(1, &[3, 1, 2]), vec![1]);
        assert!(immediate_home(1, &[3, 2]).is_empty());
        assert!(immediate_home(1, &[]).is_empty());
    }

    #[test]
    fn stream_audiences() {
        let facts = |audience, origin| StatusFacts {
            audience,
            origin,
            author: 1,
            home: vec![1, 2],
            mentioned: &[7],
            tags: vec!["rust".into()],
            with_media: true,
        };
        for audience in [fed(Public), dept(Public)] {
            let a = stream_audience(facts(audience, Origin::Local));
            assert!(a.public && a.local && a.direct.is_empty());
            assert_eq!(a.tags, vec!["rust"]);
        }
        let a = stream_audience(facts(fed(Public), Origin::Remote));
        assert!(a.public && !a.local);
        let a = stream_audience(facts(dept(Unlisted), Origin::Local));
        assert!(!a.public && !a.local && a.tags.is_empty());
        let a = stream_audience(facts(dept(Direct), Origin::Local));
        assert_eq!(a.direct, vec![1, 7]);
        let a = stream_audience(facts(fed(Direct), Origin::Remote));
        assert_eq!(a.direct, vec![7], "a remote author has no stream here");
        assert_eq!(a.home, vec![1, 2]);
    }
}
