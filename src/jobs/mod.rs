//! Side effects after a write commits: deliveries to peers, home-feed fan-out, streaming events;
//! acting on activities the inbox accepted; backfilling new `org` peers' public statuses;
//! reporting announcement counts to their origins; retiring accounts gone from the company
//! directory; weekly insights shared with `org` peers; posting scheduled statuses; ending polls and
//! telling peers their counts; sending Web Push notifications.

pub mod announcements;
pub mod backfill;
pub mod delivery;
pub mod directory_sync;
pub mod fanout;
pub mod inbox;
pub mod insights;
pub mod polls;
pub mod push;
pub mod scheduled;
