//! Time-ordered 64-bit ids: milliseconds since the Unix epoch in the high 48 bits, a sequence in
//! the low 16. They sort by creation time (Mastodon pagination relies on it) and fit a signed
//! BIGINT on both backends for the next several thousand years.

use std::sync::atomic::{AtomicI64, Ordering};

use rand::Rng;

const SEQUENCE_BITS: u32 = 16;

static LAST: AtomicI64 = AtomicI64::new(0);

/// A fresh id, greater than every id this process handed out before.
///
/// The low bits start at a random point each millisecond so that several processes sharing one
/// PostgreSQL rarely collide; the unique constraints catch the rest.
pub fn next_id() -> i64 {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let candidate = (now_ms << SEQUENCE_BITS) | rand::thread_rng().gen_range(0..1 << 12);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let id = candidate.max(last + 1);
        match LAST.compare_exchange_weak(last, id, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return id,
            Err(seen) => last = seen,
        }
    }
}

/// An id that sorts at `ms` (a status received long after it was written, placed in time by its
/// publication date), with random low bits: the unique constraints catch the rare collision.
pub fn id_at(ms: i64) -> i64 {
    (ms.max(0) << SEQUENCE_BITS) | rand::thread_rng().gen_range(0..1 << SEQUENCE_BITS)
}

/// The smallest id that could have been created at `ms` (for "since this time" queries).
pub fn id_floor_for_millis(ms: i64) -> i64 {
    ms << SEQUENCE_BITS
}

/// When an id was made, in milliseconds since the epoch.
pub fn millis_of(id: i64) -> i64 {
    id >> SEQUENCE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_the_time() {
        let before = chrono::Utc::now().timestamp_millis();
        let ids: Vec<i64> = (0..10_000).map(|_| next_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(millis_of(ids[0]) >= before);
        assert!(ids[0] >= id_floor_for_millis(before));
        assert!(ids[0] > 0);
    }

    #[test]
    fn ids_stay_unique_across_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..5_000).map(|_| next_id()).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<i64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
