//! Side effects after a write commits: deliveries to peers, home-feed fan-out, streaming events;
//! acting on activities the inbox accepted; backfilling new `org` peers' public statuses;
//! reporting announcement counts to their origins.

pub mod announcements;
pub mod backfill;
pub mod delivery;
pub mod fanout;
pub mod inbox;
