//! Side effects after a write commits: deliveries to peers, home-feed fan-out, streaming events.

pub mod delivery;
pub mod fanout;
