//! Random bytes from the OS's CSPRNG (`getrandom`) for values that must be
//! unique and unguessable but are not secrets: send ids. They are fetched
//! 512 at a time into a buffer of each thread's own, each byte handed out
//! once and then wiped, and the rest wiped when the thread ends: one system
//! call per 32 sends instead of one per send (issue 11). SMS codes, which
//! are secrets, do not come from here: their bytes are drawn when the code
//! is made and exist only on the stack (`SmsCode::generate`), so no future
//! code sits in memory. A process that forks would hand out the same bytes
//! in both: nothing here forks.

use std::cell::RefCell;

use secrecy::zeroize::Zeroize as _;

const POOL_BYTES: usize = 512;

struct Pool {
    bytes: [u8; POOL_BYTES],
    /// Bytes before this index were handed out (and wiped).
    used: usize,
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; POOL_BYTES], used: POOL_BYTES }) };
}

/// Fills `out` with bytes from the OS random source.
///
/// # Panics
/// When the OS random source fails, which on Linux it does not once the
/// kernel's pool is seeded.
pub fn fill(out: &mut [u8]) {
    if out.len() > POOL_BYTES / 4 {
        getrandom::fill(out).expect("the OS random source is available");
        return;
    }
    POOL.with_borrow_mut(|pool| {
        if POOL_BYTES - pool.used < out.len() {
            getrandom::fill(&mut pool.bytes).expect("the OS random source is available");
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + out.len()];
        out.copy_from_slice(taken);
        taken.zeroize();
        pool.used += out.len();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sixteen_bytes_are_handed_out_twice_across_refills() {
        let mut seen = std::collections::HashSet::new();
        // 1,000 draws of 16 bytes: 31 refills of the pool.
        for _ in 0..1_000 {
            let mut id = [0u8; 16];
            fill(&mut id);
            assert!(seen.insert(id), "the same 16 bytes twice: {id:?}");
        }
    }

    #[test]
    fn handed_out_bytes_are_wiped_from_the_pool_and_large_requests_are_filled() {
        let mut first = [0u8; 32];
        fill(&mut first);
        POOL.with_borrow(|pool| assert!(pool.bytes[..pool.used].iter().all(|b| *b == 0)));
        let mut large = [0u8; 4096];
        fill(&mut large);
        assert!(large.iter().filter(|b| **b == 0).count() < 64, "4,096 random bytes are not mostly zero");
    }
}
