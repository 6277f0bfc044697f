//! Access stamps: what each entry remembers about its use, for `OBJECT IDLETIME`, `OBJECT FREQ` and
//! (later) eviction.
//!
//! Under an LRU policy (the default) the stamp is the Unix second of the last access. Under an LFU
//! policy it packs, as the reference server does, the minute of the last decrement in the high bits and
//! a logarithmic access counter in the low 8 bits. Switching policy reinterprets existing stamps, which
//! then take a while to become meaningful — the same trade-off the reference server documents.

/// The counter a new key starts with under LFU, so it is not evicted before it had a chance to be used.
pub const LFU_INIT_VAL: u32 = 5;

/// The LRU stamp for an access at `now_ms`.
pub fn lru_stamp(now_ms: i64) -> u32 {
    (now_ms.max(0) / 1000) as u32
}

/// Minutes since the epoch, modulo 2^16.
fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms.max(0) / 1000 / 60) & 0xFFFF) as u32
}

/// The LFU stamp of a newly created key.
pub fn lfu_new(now_ms: i64) -> u32 {
    (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL
}

/// The counter of an LFU stamp after decaying one step per `decay_minutes` elapsed (0: no decay).
pub fn lfu_decayed(stamp: u32, now_ms: i64, decay_minutes: i64) -> u32 {
    // The minute field is 16 bits; a stamp written under LRU (switching policy) must not overflow it.
    let last = (stamp >> 8) & 0xFFFF;
    let counter = stamp & 0xFF;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= last { now - last } else { 0xFFFF - last + now };
    let periods = if decay_minutes > 0 {
        elapsed as i64 / decay_minutes
    } else {
        0
    };
    counter.saturating_sub(periods.min(u32::MAX as i64) as u32)
}

/// The LFU stamp after one access: decay, then a logarithmic increment that succeeds with probability
/// `1 / ((counter - LFU_INIT_VAL) * log_factor + 1)`, decided by `r` drawn uniformly from [0, 1).
pub fn lfu_touch(stamp: u32, now_ms: i64, decay_minutes: i64, log_factor: i64, r: f64) -> u32 {
    let mut counter = lfu_decayed(stamp, now_ms, decay_minutes);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * log_factor as f64 + 1.0);
        if r < p {
            counter += 1;
        }
    }
    (lfu_minutes(now_ms) << 8) | counter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counts_and_decays() {
        let t0 = 1_000_000_000;
        let s = lfu_new(t0);
        assert_eq!(lfu_decayed(s, t0, 1), 5);
        // At the initial value every access counts.
        let s = lfu_touch(s, t0, 1, 10, 0.999);
        assert_eq!(lfu_decayed(s, t0, 1), 6);
        // Above it, an access counts with probability 1/(1*10+1).
        assert_eq!(lfu_decayed(lfu_touch(s, t0, 1, 10, 0.5), t0, 1), 6);
        assert_eq!(lfu_decayed(lfu_touch(s, t0, 1, 10, 0.01), t0, 1), 7);
        // Three minutes later the counter has decayed by three.
        assert_eq!(lfu_decayed(s, t0 + 180_000, 1), 3);
        assert_eq!(lfu_decayed(s, t0 + 180_000, 0), 6);
        // An LRU stamp (Unix seconds) read after a switch to LFU: no overflow, some counter.
        let lru = lru_stamp(t0);
        assert!(lfu_decayed(lru, t0, 1) <= 255);
        let _ = lfu_touch(lru, t0, 1, 10, 0.5);
    }
}
