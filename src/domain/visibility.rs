//! Who may see a status, whose timelines and streams it enters. The one place these rules live:
//! status fetches, timelines, streaming and (with federation) delivery all ask here.
//!
//! Audiences beyond Mastodon's four (local-only, org-wide across allowlisted nodes) become new
//! variants here; every caller already goes through these functions.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Every signed-in member of the network; listed on public timelines.
    Public,
    /// Like public, but kept off public timelines and hashtag pages.
    Unlisted,
    /// Followers (and mentioned accounts) only.
    Private,
    /// Mentioned accounts only.
    Direct,
}

impl Visibility {
    pub const ALL: [Visibility; 4] = [
        Visibility::Public,
        Visibility::Unlisted,
        Visibility::Private,
        Visibility::Direct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Visibility::Public),
            "unlisted" => Ok(Visibility::Unlisted),
            "private" => Ok(Visibility::Private),
            "direct" => Ok(Visibility::Direct),
            other => Err(format!(
                "visibility must be public, unlisted, private or direct, not {other:?}"
            )),
        }
    }
}

/// What a signed-in viewer has to do with a status's author.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relation {
    pub is_author: bool,
    pub follows_author: bool,
    pub mentioned: bool,
}

/// May this viewer see a status? Anonymous viewers (no user token) see nothing: the network is
/// internal.
pub fn may_see(visibility: Visibility, viewer: Option<Relation>) -> bool {
    let Some(r) = viewer else { return false };
    match visibility {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => r.is_author || r.follows_author || r.mentioned,
        Visibility::Direct => r.is_author || r.mentioned,
    }
}

/// The visibilities of an author's statuses a viewer may list on the author's profile.
/// (Mentions in private or direct statuses are checked per status, not listed here.)
pub fn listable_on_profile(viewer: Option<Relation>) -> Vec<&'static str> {
    Visibility::ALL
        .into_iter()
        .filter(|v| match viewer {
            Some(r) if r.is_author => true,
            Some(r) => {
                *v != Visibility::Direct
                    && may_see(
                        *v,
                        Some(Relation {
                            mentioned: false,
                            ..r
                        }),
                    )
            }
            None => false,
        })
        .map(Visibility::as_str)
        .collect()
}

/// Statuses shown on the public and hashtag timelines.
pub fn on_public_timelines() -> Vec<&'static str> {
    vec![Visibility::Public.as_str()]
}

/// Visibilities whose text shows up in search for any signed-in viewer.
pub fn searchable() -> Vec<&'static str> {
    vec![Visibility::Public.as_str(), Visibility::Unlisted.as_str()]
}

/// Only public and unlisted statuses can be reblogged: the others' audience is chosen.
pub fn may_reblog(visibility: Visibility) -> bool {
    matches!(visibility, Visibility::Public | Visibility::Unlisted)
}

/// Whose home feeds a new status enters.
///
/// `followers` are the author's local followers with, for each, whether it also follows the
/// account being replied to. A reply to someone else reaches only followers who follow both
/// (as on Mastodon, so a conversation does not flood everyone's home).
pub fn home_recipients(
    visibility: Visibility,
    author: i64,
    reply_to_account: Option<i64>,
    followers: &[(i64, bool)],
    mentioned: &[i64],
) -> Vec<i64> {
    let mut out = vec![author];
    match visibility {
        Visibility::Direct => out.extend(mentioned.iter().copied()),
        Visibility::Public | Visibility::Unlisted | Visibility::Private => {
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
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRANGER: Relation = Relation {
        is_author: false,
        follows_author: false,
        mentioned: false,
    };

    #[test]
    fn who_sees_what() {
        let follower = Relation {
            follows_author: true,
            ..STRANGER
        };
        let mentioned = Relation {
            mentioned: true,
            ..STRANGER
        };
        let author = Relation {
            is_author: true,
            ..STRANGER
        };
        for v in Visibility::ALL {
            assert!(!may_see(v, None), "anonymous never sees {v}");
            assert!(may_see(v, Some(author)));
            assert!(may_see(v, Some(mentioned)));
        }
        assert!(may_see(Visibility::Public, Some(STRANGER)));
        assert!(may_see(Visibility::Unlisted, Some(STRANGER)));
        assert!(!may_see(Visibility::Private, Some(STRANGER)));
        assert!(may_see(Visibility::Private, Some(follower)));
        assert!(!may_see(Visibility::Direct, Some(follower)));
    }

    #[test]
    fn profile_listing() {
        assert_eq!(listable_on_profile(None), Vec::<&str>::new());
        assert_eq!(
            listable_on_profile(Some(STRANGER)),
            vec!["public", "unlisted"]
        );
        let follower = Relation {
            follows_author: true,
            ..STRANGER
        };
        assert_eq!(
            listable_on_profile(Some(follower)),
            vec!["public", "unlisted", "private"]
        );
    }

    #[test]
    fn home_feed_fan_out() {
        // 2 follows the replied-to account 9, 3 does not, 9 itself follows the author.
        let followers = [(2, true), (3, false), (9, false)];
        assert_eq!(
            home_recipients(Visibility::Public, 1, None, &followers, &[]),
            vec![1, 2, 3, 9]
        );
        assert_eq!(
            home_recipients(Visibility::Public, 1, Some(9), &followers, &[]),
            vec![1, 2, 9]
        );
        assert_eq!(
            home_recipients(Visibility::Public, 1, Some(1), &followers, &[]),
            vec![1, 2, 3, 9],
            "a thread continues for everyone"
        );
        assert_eq!(
            home_recipients(Visibility::Direct, 1, None, &followers, &[7]),
            vec![1, 7]
        );
    }
}
