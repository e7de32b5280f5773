//! Forking while other threads allocate (`observe` does: each worker thread forks its
//! evaluations while the others parse and build inputs). This test binary uses the
//! binary's allocator (mimalloc, see `main.rs` here), so what is proven is what runs.

#![cfg(target_os = "linux")]

use railyard::sandbox::{run_batch, Budget};
use railyard::RunSettings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Allocation the way a parser or an engine does it: many small values of many sizes,
/// some large buffers (new pages, new arena space), and short-lived threads (thread heaps
/// created and given back), freed out of order.
fn churn(round: usize) -> usize {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut sum = 0;
    for i in 0..2_000 {
        let v = vec![(i % 251) as u8; 8 + (i * 37 + round) % 4_000];
        sum += v.len();
        if i % 3 == 0 {
            kept.push(v);
        }
        if kept.len() > 300 {
            kept.swap_remove(i % kept.len());
        }
    }
    let big = vec![1u8; (2 + round % 14) << 20];
    sum += big.len();
    if round.is_multiple_of(4) {
        sum += std::thread::spawn(move || vec![0u64; 1 << 16].len())
            .join()
            .unwrap_or(0);
    }
    sum
}

/// Set in the process that runs the test's body (see below).
const ALONE: &str = "RAILYARD_FORK_SAFETY_ALONE";

#[test]
fn children_forked_while_threads_allocate_complete() {
    // The body runs in a process of its own, with the three allocating threads below as the
    // only others: in this binary the other tests' threads (git, HTTP servers, captured
    // output) would race the forks too, which is not what is claimed here, and a failure
    // would be reported with its message.
    if std::env::var_os(ALONE).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "fork_safety::children_forked_while_threads_allocate_complete",
                "--exact",
                "--test-threads",
                "1",
                "--nocapture",
            ])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the body did not run: {text}");
        return;
    }
    let stop = AtomicBool::new(false);
    let budget = Budget {
        // A child stuck on a lock another thread held at the fork would be stopped here
        // and reported as timed out: the assertion below would show it.
        timeout: Duration::from_secs(20),
        memory: 1024 << 20,
        workers: 2,
        ..Budget::evaluation(&RunSettings::default())
    };
    assert!(budget.isolated(), "the jobs must run in child processes");
    // Stops the allocating threads however the checks end: a failed assertion must fail
    // the test, not leave the scope waiting for them for ever.
    struct StopOnExit<'a>(&'a AtomicBool);
    impl Drop for StopOnExit<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let _stop = StopOnExit(&stop);
        for t in 0..3 {
            let stop = &stop;
            scope.spawn(move || {
                let mut round = t;
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(churn(round));
                    round += 1;
                }
            });
        }
        let parent = std::process::id();
        // 180 forks, each racing three allocating threads.
        for round in 0..30 {
            let results = run_batch(6, budget, |i| (churn(round * 6 + i), std::process::id() != parent));
            for (i, r) in results.iter().enumerate() {
                match r {
                    Ok((sum, in_child)) => {
                        assert!(*in_child, "round {round}, job {i} ran in the parent");
                        assert_eq!(*sum, churn_sum(round * 6 + i), "round {round}, job {i}");
                    }
                    Err(why) => panic!("round {round}, job {i}: {why}"),
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
}

/// What [`churn`] returns, computed without allocating the same way (so a wrong result
/// from a child is told apart from a right one).
fn churn_sum(round: usize) -> usize {
    let small: usize = (0..2_000).map(|i| 8 + (i * 37 + round) % 4_000).sum();
    let thread = if round.is_multiple_of(4) { 1 << 16 } else { 0 };
    small + ((2 + round % 14) << 20) + thread
}
