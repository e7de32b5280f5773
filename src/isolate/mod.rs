//! Bounded policy evaluation: policies run in a forked child process with an address-space
//! limit (`--eval-memory`) and a wall-clock deadline (`--eval-timeout`), so a guardrail that
//! loops, recurses or allocates without end is stopped and reported as an error for that
//! guardrail while the rest of the run goes on. Parsing a Terraform folder (whose static
//! evaluation can be made to run for ever) is bounded the same way (`--parse-timeout`).
//! Its own module, below `workload` and `guardrail`, because both the parsers and the
//! evaluation use it; it knows nothing of either.
//!
//! Why a process: regorus checks its time budget between statements, but a single built-in
//! call can allocate without bound in one step (`numbers.range(1, 1e12)` asks for 24 TB at
//! once, and a failed allocation aborts a Rust process: it cannot be caught), and deep
//! recursion overflows the stack (also an abort). regorus' `allocator-memory-limits` feature
//! only polls a process-wide counter between steps, so it stops neither of those, and with
//! several worker threads one runaway policy would fail its neighbours too. A forked child
//! inherits the compiled policies and the workload's input copy-on-write (no serialisation).
//!
//! Two ways to use children: [`run_batch`] hands jobs one at a time to a pool of up to
//! [`Budget::workers`] children and streams each result back, so a child that dies or overruns costs
//! exactly the job it was running (a new child takes the rest); [`run_whole`] runs one piece
//! of work (`check`'s whole workload, on threads: [`run_jobs`]) in one child that reports its
//! progress ([`tick`], [`next_phase`]), for the caller to redo job by job if it fails.
//!
//! Forking and the allocator. After `fork` the child has one thread, the forking one, and
//! every lock exactly as it was: one another thread held at that instant stays held for
//! ever in the child. The binary's allocator is mimalloc (v3, `main.rs`), which, unlike
//! glibc's malloc, installs no `pthread_atfork` handlers. Its fast paths are per thread, but
//! its slow paths take process-wide locks (reserving an arena, committing the page map,
//! creating or ending a thread's heap), and a child forked while another thread was inside
//! one waits for ever on its first allocation there: `tests/cli/fork_safety.rs` once forked
//! 180 children while three threads allocated, and one of them hung until its budget. So
//! Railyard forks only while no other thread of the process runs:
//! - `check` forks its whole-workload child, and in the fallback each job's child, from its
//!   one thread (the parsing threads and the input's conversion threads have ended);
//! - `observe` forks its helper processes ([`helper`]) from the main thread between fetching
//!   and evaluating, when its fetching threads and progress ticker have ended, and each
//!   helper, which has one thread, forks the budgeted children. A worker thread never forks:
//!   one whose helper is gone stops, and what no helper took is evaluated after the workers,
//!   on the main thread alone.
//!
//! The debug binary checks it at every fork ([`check_forks`], set by `main.rs`; a fork beside
//! another thread panics), so every CLI test is a check of it. Should it still happen, it is
//! bounded and fails closed: the child is stopped at its time budget (the parent polls and
//! never blocks) and its job reported as timed out, an error that leaves the verdict unknown.
//!
//! The same holds for the few other locks a child could touch (stderr's, when a panic is
//! printed): at worst a timeout instead of the panic's message. The child never returns to
//! the parent's code: it leaves by `_exit`, running no destructor and flushing no buffer.

#[cfg(target_os = "linux")]
pub mod helper;

/// Whether each fork first checks that no other thread of the process runs (see "Forking and
/// the allocator"). The binary turns it on in debug builds, so every CLI test checks every
/// fork it makes; library tests, whose harness runs threads of its own, leave it off.
static CHECK_FORKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns on the check of [`CHECK_FORKS`].
pub fn check_forks() {
    CHECK_FORKS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The threads of this process (Linux: its `/proc/self/task` entries; 1 elsewhere).
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count())
}

/// Called just before every `fork`: waits (up to 200 ms; with the check on, 2 s) until no other
/// thread of the process runs. A thread that has just been joined, or whose scope has just
/// ended, may still be running its exit path (thread-local destructors: mimalloc hands the
/// thread's heap back under a process-wide lock) until the kernel lists it no more, later
/// still on a loaded machine. With the check on, a fork while another thread still runs
/// after that is a bug (the child could wait for ever on a lock that thread held), reported
/// as one; without it, the child's budget bounds it.
fn before_fork() {
    let checked = CHECK_FORKS.load(std::sync::atomic::Ordering::Relaxed);
    let patience = Duration::from_millis(if checked { 2000 } else { 200 });
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    let mut n = threads();
    while n > 1 && start.elapsed() < patience {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
        n = threads();
    }
    if n > 1 && checked {
        // The threads' names say which part of the run left one behind.
        let names: Vec<String> = std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .unwrap_or_default();
        panic!(
            "internal error: about to fork while {n} threads run ({}; see isolate, 'Forking and the allocator')",
            names.join(", ")
        );
    }
}

use crate::limits::{show_duration, show_size, RunSettings};
use serde::{de::DeserializeOwned, Serialize};
use std::time::{Duration, Instant};

/// Why an isolated job gave no result. Callers match on the variant (a timeout is reported
/// with the budget's flag), never on the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    /// It overran its time budget (`after`), set by `flag`.
    #[error("stopped after {}: {what} exceeded its time budget (see {flag})", show_duration(*after))]
    TimedOut {
        after: Duration,
        what: &'static str,
        flag: &'static str,
    },
    /// A failed allocation: it needed more than its memory budget.
    #[error("stopped: {what} exceeded its memory budget of {} (see --eval-memory)", show_size(*budget))]
    OutOfMemory { what: &'static str, budget: u64 },
    #[error("stopped: {what} recursed too deeply (stack overflow)")]
    StackOverflow { what: &'static str },
    #[error("{what} failed (panic): {payload}")]
    Panicked { what: &'static str, payload: String },
    /// Ended otherwise: `how` is the signal or exit status, `detail` its first stderr line.
    #[error("{what} crashed ({how}){detail}")]
    Crashed {
        what: &'static str,
        how: String,
        detail: String,
    },
    /// Its processes kept ending before taking work; the jobs left are not retried forever.
    #[error("{what} could not start: its processes ended before taking work")]
    NotStarted { what: &'static str },
    #[error("internal error: unreadable evaluation result: {0}")]
    Unreadable(String),
    #[error("internal error: not evaluated")]
    NotEvaluated,
}

/// What one evaluation may use.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub timeout: Duration,
    /// Bytes of address space the evaluating process may add; 0 = run in-process.
    pub memory: u64,
    /// What is bounded and the flag that sets its time, for messages.
    pub what: &'static str,
    pub timeout_flag: &'static str,
    /// The time budget once the child says it moved on to its second phase ([`next_phase`]):
    /// `check`'s fast path parses within the parse budget, then evaluates within the
    /// evaluation budget.
    pub then: Option<Duration>,
    /// Child processes (without isolation, or inside a child: threads) that one
    /// [`run_batch`] or [`run_jobs`] may run at once (at least 1).
    pub workers: usize,
}

impl Budget {
    /// The budget of one policy evaluation.
    pub fn evaluation(s: &RunSettings) -> Budget {
        Budget {
            timeout: s.limits.eval_timeout,
            memory: s.limits.eval_memory,
            what: "the evaluation",
            timeout_flag: "--eval-timeout",
            then: None,
            workers: s.workers.max(1),
        }
    }

    /// The budget of parsing one folder of a workload.
    pub fn parsing(s: &RunSettings) -> Budget {
        Budget {
            timeout: s.limits.parse_timeout,
            memory: s.limits.eval_memory,
            what: "parsing",
            timeout_flag: "--parse-timeout",
            then: None,
            workers: s.workers.max(1),
        }
    }

    /// Why a job of this budget was stopped for time.
    pub fn timed_out(&self) -> Stopped {
        Stopped::TimedOut {
            after: self.timeout,
            what: self.what,
            flag: self.timeout_flag,
        }
    }

    /// Whether evaluations run in a child process.
    pub fn isolated(&self) -> bool {
        cfg!(target_os = "linux") && self.memory > 0 && !IN_CHILD.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The budget of a whole workload's evaluation in one process (`check`'s fast path):
    /// the parse budget until the child reports it is evaluating ([`next_phase`]), then the
    /// evaluation budget, each counted from the last job that finished.
    pub fn whole(s: &RunSettings) -> Budget {
        Budget {
            timeout: s.limits.parse_timeout,
            memory: s.limits.eval_memory,
            what: "the evaluation",
            timeout_flag: "--eval-timeout",
            then: Some(s.limits.eval_timeout),
            workers: s.workers.max(1),
        }
    }
}

/// Set in a child process: it is already isolated and never forks children of its own.
static IN_CHILD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Waits for the child processes that finished their work and are still leaving: their
/// resource usage then counts towards this process' (`time`, CI accounting) and no zombie is
/// left. Call after the output is written.
pub fn reap() {
    #[cfg(target_os = "linux")]
    unix::reap_all();
}

/// A panic in a child is reported by its message alone. The default hook, when
/// `RUST_BACKTRACE` is set, symbolises a backtrace first: that reads debug info under the
/// child's memory limit and can take longer than the time budget, turning a clear "panic:
/// message" into a timeout. Installed once, in the parent, before the first fork (the
/// hook's lock is then never taken mid-fork by the child).
fn brief_panics_in_children() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !in_child() {
                return previous(info);
            }
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            eprintln!("panicked at {at}:\n{payload}");
        }));
    });
}

/// In a forked child or helper: it leaves no core dump when it crashes. A job over its memory
/// budget aborts, and a core dump would take seconds (the parent would report a timeout, not
/// the budget), land in the user's working folder, and hold whatever the process had in memory
/// (tokens among it). `RLIMIT_CORE` 0 stops a core file; not being dumpable also stops a
/// core piped to a crash handler (`core_pattern` starting with `|`), and other processes of
/// the same user from reading the child's memory.
#[cfg(target_os = "linux")]
fn no_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls with valid arguments; failure leaves the defaults.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0);
    }
}

/// The global allocator `A`, except in a child of the sandbox, where a failed allocation ends
/// the child at once with `memory allocation of N bytes failed` (what the parent reads as the
/// memory budget) instead of going through Rust's handler. That handler prints a backtrace
/// when `RUST_BACKTRACE` is set (CI images set it): symbolising it needs memory the budget no
/// longer has, takes seconds on a binary with debug info, and takes a process-wide lock that
/// another thread of the parent may have held at the fork (the test harness's threads do), so
/// the job was reported as a timeout, or never ended. The binary and the test binaries use it.
pub struct Allocator<A>(pub A);

// SAFETY: every call is passed to `A` unchanged; only a null result (a failed allocation) in a
// child is acted on, by leaving the process.
unsafe impl<A: std::alloc::GlobalAlloc> std::alloc::GlobalAlloc for Allocator<A> {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `A`'s.
        let p = unsafe { self.0.alloc(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory(new_size);
        }
        p
    }
}

/// In a child: says which allocation failed, without allocating, and leaves.
fn out_of_memory(size: usize) {
    if !in_child() {
        return; // Rust's handler reports it (the parent has no memory budget).
    }
    let mut buf = [0u8; 80];
    let head = b"memory allocation of ";
    let tail = b" bytes failed\n";
    let mut digits = [0u8; 20];
    let mut n = size;
    let mut d = digits.len();
    loop {
        d -= 1;
        digits[d] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let parts: [&[u8]; 3] = [head, &digits[d..], tail];
    let mut len = 0;
    for part in parts {
        buf[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    // SAFETY: writes a live buffer to stderr, then leaves without running anything else.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), len);
        libc::_exit(OUT_OF_MEMORY_EXIT);
    }
}

/// The exit status of a child whose allocation failed (see [`Allocator`]).
const OUT_OF_MEMORY_EXIT: i32 = 12;

/// Whether this is a child process of the sandbox.
pub fn in_child() -> bool {
    IN_CHILD.load(std::sync::atomic::Ordering::Relaxed)
}

/// In a child process, where progress is reported (its result pipe); -1 elsewhere.
static PROGRESS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Tells the parent the child made progress (a job finished), which restarts the child's
/// time budget; a no-op outside a child. Safe to call from any thread of the child.
pub fn tick() {
    #[cfg(target_os = "linux")]
    report(unix::TICK);
}

/// Tells the parent the child finished its first phase: the budget's `then` applies from
/// now on. A no-op outside a child.
pub fn next_phase() {
    #[cfg(target_os = "linux")]
    report(unix::NEXT_PHASE);
}

#[cfg(target_os = "linux")]
fn report(frame: u64) {
    let fd = PROGRESS.load(std::sync::atomic::Ordering::Relaxed);
    if fd >= 0 {
        // One write of 8 bytes: atomic on a pipe, so threads never interleave frames.
        unix::write_all(fd, &frame.to_le_bytes());
    }
}

/// Runs `work` (which may use threads and call [`tick`]) in one child process within
/// `budget`: its memory, and its time counted from the last tick. Without isolation it
/// runs here.
pub fn run_whole<T, F>(budget: Budget, work: F) -> Result<T, Stopped>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
    let mut work = Some(work);
    let mut job = |_| (work.take().expect("the pool runs the one job once"))();
    run_batch(1, budget, &mut job)
        .pop()
        .unwrap_or(Err(Stopped::NotEvaluated))
}

/// Runs `job(i)` for every `i` in `0..n`, each within `budget`, on up to
/// [`Budget::workers`] child processes that take the next job as they finish one. A job
/// that overruns or kills its process gets `Err(why)`; the others are unaffected. Results
/// come in job order.
pub fn run_batch<T, F>(n: usize, budget: Budget, mut job: F) -> Vec<Result<T, Stopped>>
where
    T: Serialize + DeserializeOwned,
    F: FnMut(usize) -> T,
{
    #[cfg(target_os = "linux")]
    if budget.isolated() && n > 0 {
        return unix::run_pool(n, budget.workers.min(n), budget, &mut job);
    }
    let _ = budget;
    (0..n)
        .map(|i| {
            let r = job(i);
            tick();
            Ok(r)
        })
        .collect()
}

/// [`run_batch`] for jobs that can run side by side: without isolation (in a child process
/// already, or with `--eval-memory 0`) they run on up to [`Budget::workers`] threads.
pub fn run_jobs<T, F>(n: usize, budget: Budget, job: F) -> Vec<Result<T, Stopped>>
where
    T: Serialize + DeserializeOwned + Send,
    F: Fn(usize) -> T + Sync,
{
    let threads = budget.workers.max(1).min(n);
    if budget.isolated() || threads <= 1 {
        return run_batch(n, budget, &job);
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<T>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = job(i);
                tick();
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .ok_or(Stopped::NotEvaluated)
        })
        .collect()
}

#[cfg(target_os = "linux")]
mod unix {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// A child process working through jobs the parent hands it one at a time, so the
    /// parent always knows which job a child that dies or overruns was running.
    struct Worker {
        pid: libc::pid_t,
        /// Job indices to the child (8 bytes each; `u64::MAX` = no more work).
        jobs: OwnedFd,
        out: OwnedFd,
        err: OwnedFd,
        buf: Vec<u8>,
        stderr: Vec<u8>,
        err_open: bool,
        job: Option<usize>,
        /// How long it may go without news (see [`allowance`]).
        allowed: Duration,
        /// Whether it said it moved on to its second phase (see [`super::next_phase`]).
        second_phase: bool,
        deadline: Instant,
    }

    const NO_MORE: u64 = u64::MAX;
    /// A frame header without payload: the child made progress (see [`super::tick`]).
    pub const TICK: u64 = u64::MAX;
    /// The same, and the child moved on to its second phase (see [`super::next_phase`]).
    pub const NEXT_PHASE: u64 = u64::MAX - 1;

    /// How long a child may go without news: the budget plus a grace of half of it (at
    /// least 1 s). The child's own (regorus) timer stops most runaways first with a clear
    /// message; this deadline catches the ones stuck inside a single built-in call.
    fn allowance(timeout: Duration) -> Duration {
        timeout + Duration::from_secs(1).max(timeout / 2)
    }

    /// Runs jobs `0..n` on up to `workers` children; a child that dies or overruns costs
    /// only the job it was running, and a new child takes its place while jobs remain.
    pub fn run_pool<T, F>(n: usize, workers: usize, budget: Budget, job: &mut F) -> Vec<Result<T, Stopped>>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(usize) -> T,
    {
        reap_leavers();
        let mut results: Vec<Option<Result<T, Stopped>>> = (0..n).map(|_| None).collect();
        let mut next = 0;
        let mut pool: Vec<Worker> = Vec::new();
        // Each child costs at most the job it dies on; more children than that means they
        // die before taking work, and the jobs left are reported rather than retried forever.
        let mut spawned = 0;
        loop {
            while pool.len() < workers.max(1) && next < n {
                if spawned > n + workers {
                    for slot in results.iter_mut().skip(next) {
                        *slot = Some(Err(Stopped::NotStarted { what: budget.what }));
                    }
                    next = n;
                    break;
                }
                spawned += 1;
                let Some(mut w) = spawn(budget, job) else { break };
                if give(&mut w, next) {
                    next += 1;
                }
                pool.push(w);
            }
            if pool.is_empty() {
                // Could not fork (out of processes or memory): evaluate in-process rather
                // than not at all; regorus' own time budget still applies.
                for (i, slot) in results.iter_mut().enumerate().skip(next) {
                    *slot = Some(Ok(job(i)));
                }
                break;
            }
            if pool.iter().all(|w| w.job.is_none()) && next >= n {
                for mut w in pool.drain(..) {
                    stop(&mut w);
                }
                break;
            }
            let now = Instant::now();
            let soonest = pool.iter().filter(|w| w.job.is_some()).map(|w| w.deadline).min();
            let wait = soonest.map_or(1000, |d| {
                d.saturating_duration_since(now).as_millis().min(i32::MAX as u128) as i32
            });
            let mut fds: Vec<libc::pollfd> = pool
                .iter()
                .flat_map(|w| {
                    [
                        libc::pollfd {
                            fd: w.out.as_raw_fd(),
                            events: libc::POLLIN,
                            revents: 0,
                        },
                        libc::pollfd {
                            fd: if w.err_open { w.err.as_raw_fd() } else { -1 },
                            events: libc::POLLIN,
                            revents: 0,
                        },
                    ]
                })
                .collect();
            // SAFETY: `fds` is a live array of `fds.len()` pollfd.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait.max(1)) };
            if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                // poll itself failed: stop every child and report its job.
                for mut w in pool.drain(..) {
                    finish(&mut w, false, budget, &mut results);
                }
                continue;
            }
            let mut ended = Vec::new();
            for (k, w) in pool.iter_mut().enumerate() {
                let (out_ev, err_ev) = if ready > 0 {
                    (fds[2 * k].revents, fds[2 * k + 1].revents)
                } else {
                    (0, 0)
                };
                if err_ev != 0 && !read_some(&w.err, &mut w.stderr, 64 * 1024) {
                    w.err_open = false;
                }
                let mut open = true;
                if out_ev != 0 {
                    open = read_some(&w.out, &mut w.buf, usize::MAX);
                    while let Some(frame) = take_frame(&mut w.buf) {
                        let frame = match frame {
                            Frame::Tick => {
                                w.deadline = Instant::now() + w.allowed;
                                continue;
                            }
                            Frame::NextPhase => {
                                w.second_phase = true;
                                w.allowed = allowance(budget.then.unwrap_or(budget.timeout));
                                w.deadline = Instant::now() + w.allowed;
                                continue;
                            }
                            Frame::Result(frame) => frame,
                        };
                        let done = w.job.take();
                        // The next job first: the child works while its result is decoded.
                        if next < n && give(w, next) {
                            next += 1;
                        }
                        if let Some(j) = done {
                            results[j] = Some(
                                serde_json::from_slice::<T>(&frame).map_err(|e| Stopped::Unreadable(e.to_string())),
                            );
                        }
                    }
                }
                let timed_out = w.job.is_some() && Instant::now() >= w.deadline;
                if !open || timed_out {
                    ended.push((k, timed_out));
                }
            }
            for (k, timed_out) in ended.into_iter().rev() {
                let mut w = pool.swap_remove(k);
                finish(&mut w, timed_out, budget, &mut results);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Stopped::NotEvaluated)))
            .collect()
    }

    /// Forks a child that runs the jobs it is given until told there are no more.
    fn spawn<T, F>(budget: Budget, job: &mut F) -> Option<Worker>
    where
        T: Serialize,
        F: FnMut(usize) -> T,
    {
        super::brief_panics_in_children();
        let (jobs_r, jobs_w) = pipe()?;
        let (out_r, out_w) = pipe()?;
        // Room for a whole result, so the child writes it in one go and the parent wakes
        // once to read it (waking a process costs milliseconds on some virtual machines).
        // SAFETY: fcntl on a descriptor this process owns; failure keeps the default size.
        unsafe { libc::fcntl(out_w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
        let (err_r, err_w) = pipe()?;
        super::before_fork();
        // SAFETY: the child runs the job on the forking thread and leaves by `_exit`. No other
        // thread runs at the fork (module docs, "Forking and the allocator"), so it inherits
        // no lock held; should one be, the child is stopped by its budget like any overrun.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return None;
        }
        if pid == 0 {
            drop((jobs_w, out_r, err_r));
            child(budget, job, jobs_r, out_w, err_w);
        }
        Some(Worker {
            pid,
            jobs: jobs_w,
            out: out_r,
            err: err_r,
            buf: Vec::new(),
            stderr: Vec::new(),
            err_open: true,
            job: None,
            allowed: allowance(budget.timeout),
            second_phase: false,
            deadline: Instant::now(),
        })
    }

    /// Hands job `i` to an idle child; false if the child is gone (its end is then seen
    /// by the caller's poll).
    fn give(w: &mut Worker, i: usize) -> bool {
        if !write_all(w.jobs.as_raw_fd(), &(i as u64).to_le_bytes()) {
            return false;
        }
        w.job = Some(i);
        w.deadline = Instant::now() + w.allowed;
        true
    }

    /// Tells an idle child to leave. It is reaped later (tearing down its memory takes a
    /// millisecond or more, and nothing waits for it): by the next pool, or at exit.
    fn stop(w: &mut Worker) {
        if !write_all(w.jobs.as_raw_fd(), &NO_MORE.to_le_bytes()) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(w.pid, libc::SIGKILL) };
        }
        LEAVING.lock().unwrap_or_else(|e| e.into_inner()).push(w.pid);
    }

    /// Children told to leave and not reaped yet.
    static LEAVING: std::sync::Mutex<Vec<libc::pid_t>> = std::sync::Mutex::new(Vec::new());

    /// Waits for every child told to leave (so their time counts towards this process').
    pub fn reap_all() {
        for pid in std::mem::take(&mut *LEAVING.lock().unwrap_or_else(|e| e.into_inner())) {
            wait(pid);
        }
    }

    /// Reaps the children that have left since.
    fn reap_leavers() {
        LEAVING.lock().unwrap_or_else(|e| e.into_inner()).retain(|pid| {
            let mut status = 0;
            // SAFETY: a non-blocking wait for our own child.
            unsafe { libc::waitpid(*pid, &mut status, libc::WNOHANG) == 0 }
        });
    }

    /// Reaps a child that ended or overran; the job it was running gets the reason.
    fn finish<T>(w: &mut Worker, timed_out: bool, budget: Budget, results: &mut [Option<Result<T, Stopped>>]) {
        // SAFETY: signalling our own child (a no-op if it already exited).
        unsafe { libc::kill(w.pid, libc::SIGKILL) };
        let status = wait(w.pid);
        // Whatever the child still wrote on stderr explains how it ended.
        while w.err_open && read_some(&w.err, &mut w.stderr, 64 * 1024) {}
        if let Some(j) = w.job.take() {
            // In its second phase the child was held to the second budget.
            let budget = match w.second_phase {
                true => Budget {
                    timeout: budget.then.unwrap_or(budget.timeout),
                    ..budget
                },
                false => budget,
            };
            results[j] = Some(Err(death_reason(timed_out, status, &w.stderr, budget)));
        }
    }

    pub(super) fn pipe() -> Option<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }

    fn child<T: Serialize, F: FnMut(usize) -> T>(
        budget: Budget,
        job: &mut F,
        jobs: OwnedFd,
        out: OwnedFd,
        err: OwnedFd,
    ) -> ! {
        super::no_core_dumps();
        // SAFETY: plain system calls on descriptors this process owns.
        unsafe {
            libc::dup2(err.as_raw_fd(), 2);
            // Without knowing the current size, no limit rather than a wrong one.
            if let Some(base) = address_space() {
                let limit = base.saturating_add(budget.memory);
                let rl = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                libc::setrlimit(libc::RLIMIT_AS, &rl);
            }
        }
        let fd = out.as_raw_fd();
        // stderr is `err` now; the original is closed with everything else it did not ask for.
        std::mem::forget(err);
        close_inherited(&[jobs.as_raw_fd(), fd]);
        // A helper's child dies with it: nothing else would stop it at its deadline.
        super::helper::die_with_helper();
        IN_CHILD.store(true, std::sync::atomic::Ordering::Relaxed);
        PROGRESS.store(fd, std::sync::atomic::Ordering::Relaxed);
        while let Some(i) = read_job(&jobs) {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(i)));
            let Ok(result) = result else {
                // SAFETY: leaving the child without running the parent's destructors.
                unsafe { libc::_exit(3) }
            };
            let bytes = serde_json::to_vec(&result).unwrap_or_default();
            let mut frame = (bytes.len() as u64).to_le_bytes().to_vec();
            frame.extend_from_slice(&bytes);
            if !write_all(fd, &frame) {
                // SAFETY: as above.
                unsafe { libc::_exit(4) }
            }
        }
        // SAFETY: as above; `_exit` also skips flushing the parent's buffered stdout.
        unsafe { libc::_exit(0) }
    }

    /// In a child: closes every descriptor but stdin, stdout, stderr and `keep`. A child holds
    /// only what it was given: a copy of another pool's pipe (forked by another thread of the
    /// parent, as the test harness's threads do) would keep that pool's child from being seen
    /// to end until this one does, and a job is judged by what it was handed, never by what
    /// the parent had open (repositories, caches, sockets).
    fn close_inherited(keep: &[i32]) {
        let mut keep: Vec<i32> = keep.iter().copied().filter(|&k| k > 2).collect();
        keep.sort_unstable();
        let mut from = 3;
        for k in keep.into_iter().chain([i32::MAX]) {
            if k > from {
                close_between(from, k - 1);
            }
            from = k.saturating_add(1);
        }
    }

    /// Closes the descriptors `lo..=hi`: `close_range` (Linux 5.9), else each one open.
    fn close_between(lo: i32, hi: i32) {
        // SAFETY: closes descriptors of this process; none is used after (the caller keeps the
        // ones it needs out of the range).
        let r = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                lo as libc::c_uint,
                hi as libc::c_uint,
                0 as libc::c_uint,
            )
        };
        if r == 0 {
            return;
        }
        let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        for fd in open.into_iter().filter(|fd| (lo..=hi).contains(fd)) {
            // SAFETY: as above.
            unsafe { libc::close(fd) };
        }
    }

    /// The next job index from the parent; None when told to stop or the parent is gone.
    fn read_job(fd: &OwnedFd) -> Option<usize> {
        let mut bytes = [0u8; 8];
        if !read_exact(fd, &mut bytes) {
            return None;
        }
        match u64::from_le_bytes(bytes) {
            NO_MORE => None,
            i => Some(i as usize),
        }
    }

    /// Fills `buf` from `fd`; false at end of file or on an error.
    pub(super) fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> bool {
        let mut got = 0;
        while got < buf.len() {
            // SAFETY: reads into the live remainder of `buf`.
            let r = unsafe { libc::read(fd.as_raw_fd(), buf[got..].as_mut_ptr().cast(), buf.len() - got) };
            if r < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if r <= 0 {
                return false;
            }
            got += r as usize;
        }
        true
    }

    pub fn write_all(fd: i32, mut buf: &[u8]) -> bool {
        while !buf.is_empty() {
            // SAFETY: writes from a live slice.
            let w = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
            if w < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return false;
            }
            buf = &buf[w as usize..];
        }
        true
    }

    /// This process' mapped address space in bytes.
    fn address_space() -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().next()?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Some(pages * page.max(4096) as u64)
    }

    /// Reads what is available (the descriptor is readable); false at end of file.
    fn read_some(fd: &OwnedFd, into: &mut Vec<u8>, cap: usize) -> bool {
        thread_local! {
            // One result's worth (the pipe's size), reused across reads.
            static CHUNK: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 1 << 20]);
        }
        CHUNK.with_borrow_mut(|chunk| read_chunk(fd, chunk, into, cap))
    }

    fn read_chunk(fd: &OwnedFd, chunk: &mut [u8], into: &mut Vec<u8>, cap: usize) -> bool {
        // SAFETY: reads into a live buffer of the given length.
        let r = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if r < 0 {
            return std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
        }
        if r == 0 {
            return false;
        }
        let r = r as usize;
        let room = cap.saturating_sub(into.len()).min(r);
        into.extend_from_slice(&chunk[..room]);
        true
    }

    /// What a child sends.
    enum Frame {
        Tick,
        NextPhase,
        Result(Vec<u8>),
    }

    /// The next complete frame, if there is one.
    fn take_frame(buf: &mut Vec<u8>) -> Option<Frame> {
        let len = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?);
        if len == TICK || len == NEXT_PHASE {
            buf.drain(..8);
            return Some(if len == TICK { Frame::Tick } else { Frame::NextPhase });
        }
        let len = len as usize;
        if buf.len() < 8 + len {
            return None;
        }
        let frame = buf[8..8 + len].to_vec();
        buf.drain(..8 + len);
        Some(Frame::Result(frame))
    }

    fn wait(pid: libc::pid_t) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: waiting for our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return status;
            }
        }
    }

    fn death_reason(timed_out: bool, status: i32, stderr: &[u8], budget: Budget) -> Stopped {
        let text = String::from_utf8_lossy(stderr);
        let what = budget.what;
        if timed_out {
            return budget.timed_out();
        }
        // What the Rust runtime prints on its way out is the only account of these ends.
        if text.contains("memory allocation of") || text.contains("capacity overflow") {
            return Stopped::OutOfMemory {
                what,
                budget: budget.memory,
            };
        }
        if text.contains("overflowed its stack") {
            return Stopped::StackOverflow { what };
        }
        let mut lines = text.lines();
        if lines.any(|l| l.contains("panicked at")) {
            let payload = lines.next().unwrap_or("").trim().to_string();
            return Stopped::Panicked { what, payload };
        }
        let how = if libc::WIFSIGNALED(status) {
            format!("signal {}", libc::WTERMSIG(status))
        } else {
            format!("exit status {}", libc::WEXITSTATUS(status))
        };
        let detail = text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with("note:"))
            .map(|l| format!(": {}", l.trim()))
            .unwrap_or_default();
        Stopped::Crashed { what, how, detail }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_job_fails_alone() {
        let budget = Budget {
            // Generous: under a loaded CI machine the well-behaved jobs must finish in it.
            timeout: Duration::from_secs(2),
            memory: 256 * 1024 * 1024,
            ..Budget::evaluation(&RunSettings::default())
        };
        let r = run_batch(4, budget, |i| match i {
            1 => loop {
                std::hint::spin_loop()
            },
            2 => {
                let v: Vec<u64> = Vec::with_capacity(1 << 40);
                v.len()
            }
            _ => i * 10,
        });
        assert_eq!(r[0], Ok(0));
        assert!(matches!(r[1], Err(Stopped::TimedOut { .. })), "{r:?}");
        assert!(matches!(r[2], Err(Stopped::OutOfMemory { .. })), "{r:?}");
        assert!(
            r[2].as_ref().unwrap_err().to_string().contains("memory budget"),
            "{r:?}"
        );
        assert_eq!(r[3], Ok(30));
    }

    #[test]
    fn a_child_can_write_no_core_dump() {
        let budget = Budget {
            timeout: Duration::from_secs(10),
            memory: 256 * 1024 * 1024,
            ..Budget::evaluation(&RunSettings::default())
        };
        let r = run_whole(budget, || {
            let mut core = libc::rlimit {
                rlim_cur: 1,
                rlim_max: 1,
            };
            // SAFETY: reads this process' own limit and flag.
            let dumpable = unsafe {
                libc::getrlimit(libc::RLIMIT_CORE, &mut core);
                libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0)
            };
            (core.rlim_cur, core.rlim_max, dumpable)
        });
        assert_eq!(r, Ok((0, 0, 0)));
    }

    /// A child holds stdin, stdout, stderr and its two pipes, nothing the parent had open: a
    /// copy of another pool's pipe (another thread forking at the same time, as the test
    /// harness does) kept that pool's child from being seen to end, and its job timed out.
    #[test]
    fn a_child_holds_only_its_own_descriptors() {
        use std::os::fd::AsRawFd;
        let parents_file = std::fs::File::open("/proc/self/status").unwrap();
        let theirs = parents_file.as_raw_fd();
        let budget = Budget {
            timeout: Duration::from_secs(10),
            memory: 256 * 1024 * 1024,
            ..Budget::evaluation(&RunSettings::default())
        };
        let r = run_whole(budget, || {
            let listed: Vec<i32> = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect();
            // Less the descriptor that lists them.
            listed.len() - 1
        });
        assert_eq!(r, Ok(5), "0, 1, 2, the job pipe and the result pipe (not {theirs})");
        drop(parents_file);
    }

    #[test]
    fn two_workers_share_the_jobs_and_a_crash_costs_one_job() {
        let budget = Budget {
            // Generous: under a loaded CI machine the well-behaved jobs must finish in it.
            timeout: Duration::from_secs(2),
            memory: 256 * 1024 * 1024,
            ..Budget::evaluation(&RunSettings::default())
        };
        let parent = std::process::id();
        let r = unix::run_pool(12, 2, budget, &mut |i| match i {
            3 => loop {
                std::hint::spin_loop()
            },
            7 => panic!("job seven"),
            // Every job runs in a child, never here.
            _ => (i, std::process::id() != parent),
        });
        assert_eq!(r.len(), 12);
        for (i, got) in r.iter().enumerate() {
            match i {
                3 => assert!(matches!(got, Err(Stopped::TimedOut { .. })), "{r:?}"),
                // (The test harness captures the panic message, so only the exit shows.)
                7 => assert!(
                    got.as_ref().unwrap_err().to_string().starts_with("the evaluation"),
                    "{r:?}"
                ),
                _ => assert_eq!(got, &Ok((i, true))),
            }
        }
    }

    #[test]
    fn the_second_phase_has_its_own_time_budget() {
        let budget = Budget {
            timeout: Duration::from_secs(30),
            memory: 256 * 1024 * 1024,
            then: Some(Duration::from_millis(200)),
            ..Budget::evaluation(&RunSettings::default())
        };
        // The first phase's 30 s would still be running: the second's 200 ms stop it.
        let r = run_whole::<(), _>(budget, || {
            tick();
            next_phase();
            loop {
                std::hint::spin_loop()
            }
        });
        let why = r.unwrap_err();
        assert!(matches!(why, Stopped::TimedOut { .. }), "{why:?}");
        assert_eq!(
            why.to_string(),
            "stopped after 200ms: the evaluation exceeded its time budget (see --eval-timeout)"
        );
    }
}
