//! Forking and threads (`isolate`, "Forking and the allocator"). After `fork` the child holds
//! every lock as it was at that instant; mimalloc, the binary's allocator, installs no
//! `pthread_atfork` handlers, so a child forked while another thread was inside one of its
//! slow paths (reserving an arena, creating a thread's heap) waits for ever on that lock. An
//! earlier version of this file forked 180 children through `run_batch` while three threads
//! allocated and claimed they all complete: one did not (round 28, stopped at its 20 s
//! budget). Railyard therefore forks only while no other thread of the process runs, and
//! the debug binary checks it at every fork (every CLI test run is such a check; see
//! `fleet_cli::a_few_workloads_on_several_workers_are_never_forked_beside_another_thread`).
//! This file pins the check itself.

#![cfg(target_os = "linux")]

use railyard::sandbox::{check_forks, run_batch, threads, Budget};
use railyard::RunSettings;

/// Set in the process that runs a test's body on its own (see below).
const ALONE: &str = "RAILYARD_FORK_SAFETY_ALONE";

/// Runs the test `name` again in a process of its own (the check is process-wide, and this
/// binary's other tests run threads and fork), and returns whether it passed there.
fn alone(name: &str) -> Option<String> {
    if std::env::var_os(ALONE).is_some() {
        return None;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads", "1", "--nocapture"])
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
    Some(text)
}

#[test]
fn threads_counts_the_threads_of_this_process() {
    let before = threads();
    assert!(before >= 1);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || rx.recv().ok());
    assert_eq!(threads(), before + 1);
    tx.send(()).unwrap();
    t.join().unwrap();
    assert_eq!(threads(), before);
}

#[test]
fn a_fork_beside_another_thread_is_refused_when_checked() {
    if alone("fork_safety::a_fork_beside_another_thread_is_refused_when_checked").is_some() {
        return;
    }
    let budget = Budget {
        workers: 1,
        ..Budget::evaluation(&RunSettings::default())
    };
    assert!(budget.isolated(), "the job must run in a child process");
    check_forks();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || rx.recv().ok());
    let refused = std::panic::catch_unwind(|| run_batch(1, budget, |i| i + 1));
    tx.send(()).unwrap();
    other.join().unwrap();
    let message = refused
        .expect_err("the fork must be refused")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(message.contains("about to fork while"), "{message}");
}
