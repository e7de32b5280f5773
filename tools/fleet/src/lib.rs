//! Synthetic workloads for Railyard's benchmarks, in one place: the Terraform workload of
//! `cargo bench --bench check` and `bench/compare-checkov.py` ([`terraform`]), the fleets of
//! `bench/fleet.sh` ([`fleet`]), and the one small random generator they draw from ([`Rng`]).
//!
//! A separate crate of the workspace, so `cargo install --path .` installs `railyard` alone.

pub mod fleet;
pub mod terraform;

/// A small deterministic generator (64-bit LCG with Knuth's MMIX constants, upper 31 bits):
/// the same seed gives the same workloads on every machine, and its Python port in
/// `bench/compare-checkov.py` is no longer needed (the script runs `railyard-fleet`).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u31(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u31() % n
    }

    /// An index into a slice of `len` elements (0 when it is empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_pinned() {
        // The benchmark workload's figures (819 resources in 100 files) rest on this stream.
        let mut r = Rng::new(terraform::SEED);
        let first: Vec<u64> = (0..3).map(|_| r.next_u31()).collect();
        let mut again = Rng::new(terraform::SEED);
        assert_eq!(first, (0..3).map(|_| again.next_u31()).collect::<Vec<_>>());
        let mut v: Vec<u32> = (0..10).collect();
        Rng::new(7).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }
}
