//! Side effects after a write commits: streaming events now; deliveries to peers next.

pub mod delivery;
pub mod streaming;
