//! Federation rules. `backfill`: reading a new `org` peer's recent public statuses. `resolve`: finding remote actors and notes (by URL, WebFinger, or among
//! what we hold). `outbound`: which peers hear about what, and the activities they get.
//! `verify`: who signed an incoming request. `fed`: the machinery the node keeps for it (HTTP
//! client, keys, the workers' wake-ups and the inbox hand-off). What an activity from a peer
//! does here is `domain::inbox`.
//!
//! Remote accounts and statuses become rows like local ones, so the client API and the audience
//! rules treat them the same.

pub mod backfill;
pub mod fed;
pub mod outbound;
pub mod resolve;
pub mod verify;
