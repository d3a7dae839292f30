//! Side effects after a write commits: deliveries to peers, home-feed fan-out, streaming events;
//! and acting on activities the inbox accepted.

pub mod delivery;
pub mod fanout;
pub mod inbox;
