//! Audiences: who may see a status, which timelines and streams it enters, how it is addressed
//! in ActivityStreams and read back, which peers receive it and whether a peer may fetch it.
//!
//! This is the one module that decides these things. A scope is a [`Scope`] variant; every
//! surface a status can appear on is a [`Surface`]; [`reaches`] is the whole rule table, and the
//! helpers below (timeline filters, stream audiences, delivery targets, addressing) are derived
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

/// What a viewer has to do with a status's author. For a peer node (a signed fetch, a
/// delivery target) it describes the accounts there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub is_author: bool,
    pub follows_author: bool,
    pub mentioned: bool,
}

impl Relation {
    pub const STRANGER: Relation = Relation {
        is_author: false,
        follows_author: false,
        mentioned: false,
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
    /// An allowed peer's signed GET of the status's AS2 id.
    SignedGet,
    /// The author's ActivityPub outbox, read by allowed peers.
    Outbox,
}

/// The rule table: does a status of `scope`, from `origin`, reach a viewer standing in
/// `viewer` (`None`: not signed in) on `surface`?
pub fn reaches(scope: Scope, viewer: Option<Relation>, surface: Surface) -> bool {
    // The network is internal: nothing is shown to someone who is not signed in. (Peers are
    // authenticated by their signature and pass a relation.)
    let Some(r) = viewer else { return false };
    let may_see = match scope {
        Scope::Public | Scope::Unlisted => true,
        Scope::FollowersOnly => r.is_author || r.follows_author || r.mentioned,
        Scope::Direct => r.is_author || r.mentioned,
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
                        scope,
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
        Surface::SignedGet => matches!(scope, Scope::Public | Scope::Unlisted),
        Surface::Outbox => scope == Scope::Public,
    }
}

/// Shorthand for the base rule.
pub fn may_see(scope: Scope, viewer: Option<Relation>) -> bool {
    reaches(scope, viewer, Surface::Status)
}

fn scopes_where(pred: impl Fn(Scope) -> bool) -> Vec<Scope> {
    Scope::ALL.into_iter().filter(|s| pred(*s)).collect()
}

/// The scopes of an author's statuses a viewer may list on the author's profile.
pub fn listable_on_profile(viewer: Option<Relation>) -> Vec<Scope> {
    scopes_where(|s| reaches(s, viewer, Surface::Profile))
}

/// The scopes a follower's home feed takes in when they start following (the backfill).
pub fn home_backfill() -> Vec<Scope> {
    scopes_where(|s| reaches(s, Some(Relation::FOLLOWER), Surface::Home))
}

/// The scopes listed on the public timeline of `origin`, for any signed-in viewer.
pub fn on_public_timeline(origin: Option<Origin>) -> Vec<Scope> {
    let origin = origin.unwrap_or(Origin::Local);
    scopes_where(|s| reaches(s, Some(Relation::STRANGER), Surface::PublicTimeline(origin)))
}

/// The scopes listed on hashtag timelines.
pub fn on_hashtag_timeline(origin: Option<Origin>) -> Vec<Scope> {
    let origin = origin.unwrap_or(Origin::Local);
    scopes_where(|s| reaches(s, Some(Relation::STRANGER), Surface::Hashtag(origin)))
}

/// The scopes whose text shows up in search for any signed-in viewer.
pub fn searchable() -> Vec<Scope> {
    scopes_where(|s| reaches(s, Some(Relation::STRANGER), Surface::Search))
}

/// Only statuses every viewer may see can be reblogged: the others' audience was chosen.
pub fn may_reblog(scope: Scope) -> bool {
    reaches(scope, Some(Relation::STRANGER), Surface::Status)
}

/// The scope of the reblog wrapper itself, as asked for by the reblogger.
pub fn reblog_scope(asked: Option<Scope>) -> Result<Scope, &'static str> {
    match asked.unwrap_or(Scope::Public) {
        Scope::Direct => Err("A reblog cannot be direct"),
        s => Ok(s),
    }
}

/// The scopes listed in an author's ActivityPub outbox.
pub fn in_outbox() -> Vec<Scope> {
    scopes_where(|s| reaches(s, Some(Relation::STRANGER), Surface::Outbox))
}

/// Whether an allowed peer's signed GET may be answered with the status.
pub fn served_to_peers(scope: Scope) -> bool {
    reaches(scope, Some(Relation::STRANGER), Surface::SignedGet)
}

/// Which remote accounts' nodes receive a status: followers' nodes, mentioned accounts' nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryTargets {
    pub followers: bool,
    pub mentioned: bool,
}

pub fn delivery_targets(scope: Scope) -> DeliveryTargets {
    DeliveryTargets {
        followers: reaches(scope, Some(Relation::FOLLOWER), Surface::Delivery),
        mentioned: reaches(scope, Some(Relation::MENTIONED), Surface::Delivery),
    }
}

/// Whose home feeds a new status enters.
///
/// `followers` are the author's local followers with, for each, whether it also follows the
/// account being replied to. A reply to someone else reaches only followers who follow both
/// (as on Mastodon, so a conversation does not flood everyone's home).
pub fn home_recipients(
    scope: Scope,
    author: i64,
    reply_to_account: Option<i64>,
    followers: &[(i64, bool)],
    mentioned: &[i64],
) -> Vec<i64> {
    let mut out = vec![author];
    if reaches(scope, Some(Relation::MENTIONED), Surface::Home) {
        out.extend(mentioned.iter().copied());
    }
    if reaches(scope, Some(Relation::FOLLOWER), Surface::Home) {
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
    pub scope: Scope,
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
    let public = reaches(facts.scope, anyone, Surface::PublicTimeline(facts.origin));
    let direct = if reaches(
        facts.scope,
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
        tags: if reaches(facts.scope, anyone, Surface::Hashtag(facts.origin)) {
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

    const SURFACES: [Surface; 13] = [
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
        SignedGet,
        Outbox,
        // Listed twice on purpose: the base rule is what everything else narrows.
        Status,
    ];

    /// Expected answers, one row per scope and surface, one column per viewer in `VIEWERS`
    /// order (anonymous, stranger, follower, mentioned, author).
    fn expected(scope: Scope, surface: Surface) -> [bool; 5] {
        const F: bool = false;
        const T: bool = true;
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

            (Public | Unlisted, SignedGet) => [F, T, T, T, T],
            (_, SignedGet) => [F; 5],

            (Public, Outbox) => [F, T, T, T, T],
            (_, Outbox) => [F; 5],
        }
    }

    #[test]
    fn every_scope_viewer_and_surface() {
        for scope in Scope::ALL {
            for surface in SURFACES {
                let want = expected(scope, surface);
                for (i, (name, viewer)) in VIEWERS.iter().enumerate() {
                    assert_eq!(
                        reaches(scope, *viewer, surface),
                        want[i],
                        "{scope} status, {name} viewer, {surface:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn derived_lists_follow_the_table() {
        assert_eq!(listable_on_profile(None), vec![]);
        assert_eq!(listable_on_profile(STRANGER), vec![Public, Unlisted]);
        assert_eq!(
            listable_on_profile(FOLLOWER),
            vec![Public, Unlisted, FollowersOnly]
        );
        assert_eq!(listable_on_profile(AUTHOR), Scope::ALL.to_vec());
        assert_eq!(home_backfill(), vec![Public, Unlisted, FollowersOnly]);
        assert_eq!(on_public_timeline(Some(Origin::Remote)), vec![Public]);
        assert_eq!(on_hashtag_timeline(None), vec![Public]);
        assert_eq!(searchable(), vec![Public, Unlisted]);
        assert_eq!(in_outbox(), vec![Public]);
        assert!(may_reblog(Public) && may_reblog(Unlisted));
        assert!(!may_reblog(FollowersOnly) && !may_reblog(Direct));
        assert_eq!(reblog_scope(None), Ok(Public));
        assert!(reblog_scope(Some(Direct)).is_err());
        assert!(served_to_peers(Unlisted) && !served_to_peers(FollowersOnly));
        assert_eq!(
            delivery_targets(Direct),
            DeliveryTargets {
                followers: false,
                mentioned: true
            }
        );
        assert_eq!(
            delivery_targets(FollowersOnly),
            DeliveryTargets {
                followers: true,
                mentioned: true
            }
        );
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
            home_recipients(Public, 1, None, &followers, &[]),
            vec![1, 2, 3, 9]
        );
        assert_eq!(
            home_recipients(Public, 1, Some(9), &followers, &[]),
            vec![1, 2, 9]
        );
        assert_eq!(
            home_recipients(Public, 1, Some(1), &followers, &[]),
            vec![1, 2, 3, 9],
            "a thread continues for everyone"
        );
        assert_eq!(
            home_recipients(FollowersOnly, 1, None, &followers, &[7]),
            vec![1, 2, 3, 9],
            "a mention alone does not fill a home feed"
        );
        assert_eq!(
            home_recipients(Direct, 1, None, &followers, &[7]),
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
        let facts = |scope, origin| StatusFacts {
            scope,
            origin,
            author: 1,
            home: vec![1, 2],
            mentioned: &[7],
            tags: vec!["rust".into()],
            with_media: true,
        };
        let a = stream_audience(facts(Public, Origin::Local));
        assert!(a.public && a.local && a.direct.is_empty());
        assert_eq!(a.tags, vec!["rust"]);
        let a = stream_audience(facts(Public, Origin::Remote));
        assert!(a.public && !a.local);
        let a = stream_audience(facts(Unlisted, Origin::Local));
        assert!(!a.public && !a.local && a.tags.is_empty());
        let a = stream_audience(facts(Direct, Origin::Local));
        assert_eq!(a.direct, vec![1, 7]);
        let a = stream_audience(facts(Direct, Origin::Remote));
        assert_eq!(a.direct, vec![7], "a remote author has no stream here");
        assert_eq!(a.home, vec![1, 2]);
    }
}
