//! Bounded policy evaluation: policies run in a forked child process with an address-space
//! limit (`--eval-memory`) and a wall-clock deadline (`--eval-timeout`), so a guardrail that
//! loops, recurses or allocates without end is stopped and reported as an error for that
//! guardrail while the rest of the run goes on.
//!
//! Why a process: regorus checks its time budget between statements, but a single built-in
//! call can allocate without bound in one step (`numbers.range(1, 1e12)` asks for 24 TB at
//! once, and a failed allocation aborts a Rust process: it cannot be caught), and deep
//! recursion overflows the stack (also an abort). regorus' `allocator-memory-limits` feature
//! only polls a process-wide counter between steps, so it stops neither of those, and with
//! several worker threads one runaway policy would fail its neighbours too. A forked child
//! inherits the compiled policies and the workload's input copy-on-write (no serialisation),
//! runs a batch of evaluations one after another and streams each result back; when it dies
//! or overruns, the evaluation it was running gets the error and a new child takes the rest.

use serde::{de::DeserializeOwned, Serialize};
use std::time::{Duration, Instant};

/// What one evaluation may use.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub timeout: Duration,
    /// Bytes of address space the evaluating process may add; 0 = run in-process.
    pub memory: u64,
    /// What is bounded and the flag that sets its time, for messages.
    pub what: &'static str,
    pub timeout_flag: &'static str,
}

impl Budget {
    /// The budget of one policy evaluation.
    pub fn current() -> Budget {
        let l = crate::limits::current();
        Budget {
            timeout: l.eval_timeout,
            memory: l.eval_memory,
            what: "the evaluation",
            timeout_flag: "--eval-timeout",
        }
    }

    /// The budget of parsing one folder of a workload.
    pub fn parsing() -> Budget {
        let l = crate::limits::current();
        Budget {
            timeout: l.parse_timeout,
            memory: l.eval_memory,
            what: "parsing",
            timeout_flag: "--parse-timeout",
        }
    }

    /// Whether evaluations run in a child process.
    pub fn isolated(&self) -> bool {
        cfg!(target_os = "linux") && self.memory > 0
    }
}

/// Runs `job(i)` for every `i` in `0..n`, each within `budget`, in order. An evaluation that
/// overruns or kills its process gets `Err(reason)`; the others are unaffected.
pub fn run_batch<T, F>(n: usize, budget: Budget, mut job: F) -> Vec<Result<T, String>>
where
    T: Serialize + DeserializeOwned,
    F: FnMut(usize) -> T,
{
    #[cfg(target_os = "linux")]
    if budget.isolated() {
        let mut out: Vec<Result<T, String>> = Vec::with_capacity(n);
        while out.len() < n {
            let start = out.len();
            match unix::run_child(start, n, budget, &mut job) {
                Ok(results) => out.extend(results),
                // Could not fork (out of processes or memory): evaluate in-process rather
                // than not at all; regorus' own time budget still applies.
                Err(unix::ForkFailed) => out.extend((start..n).map(|i| Ok(job(i)))),
            }
        }
        return out;
    }
    let _ = budget;
    (0..n).map(|i| Ok(job(i))).collect()
}

/// The message for an evaluation stopped by the time budget.
pub fn timeout_message(timeout: Duration) -> String {
    Budget {
        timeout,
        ..Budget::current()
    }
    .timeout_message()
}

impl Budget {
    fn timeout_message(&self) -> String {
        format!(
            "stopped after {}: {} exceeded its time budget (see {})",
            crate::limits::show_duration(self.timeout),
            self.what,
            self.timeout_flag
        )
    }
}

#[cfg(target_os = "linux")]
mod unix {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    pub struct ForkFailed;

    /// Forks a child that runs jobs `start..n` and collects what it sends: one result per
    /// job until it finishes, or the results so far plus the error of the job it was on.
    pub fn run_child<T, F>(
        start: usize,
        n: usize,
        budget: Budget,
        job: &mut F,
    ) -> Result<Vec<Result<T, String>>, ForkFailed>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(usize) -> T,
    {
        let (out_r, out_w) = pipe().ok_or(ForkFailed)?;
        let (err_r, err_w) = pipe().ok_or(ForkFailed)?;
        // SAFETY: the child only runs the evaluation (no locks another thread could hold
        // except the allocator's, which glibc makes safe across fork) and leaves by `_exit`.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(ForkFailed);
        }
        if pid == 0 {
            drop(out_r);
            drop(err_r);
            child(start, n, budget, job, out_w, err_w);
        }
        drop(out_w);
        drop(err_w);
        Ok(parent(pid, start, n, budget, out_r, err_r))
    }

    fn pipe() -> Option<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }

    fn child<T: Serialize, F: FnMut(usize) -> T>(
        start: usize,
        n: usize,
        budget: Budget,
        job: &mut F,
        out: OwnedFd,
        err: OwnedFd,
    ) -> ! {
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
        for i in start..n {
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

    fn write_all(fd: i32, mut buf: &[u8]) -> bool {
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

    fn parent<T: DeserializeOwned>(
        pid: libc::pid_t,
        start: usize,
        n: usize,
        budget: Budget,
        out: OwnedFd,
        err: OwnedFd,
    ) -> Vec<Result<T, String>> {
        let mut results: Vec<Result<T, String>> = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut stderr: Vec<u8> = Vec::new();
        let (mut out_open, mut err_open) = (true, true);
        // The child's own (regorus) timer stops most runaways first with a clear message;
        // this deadline catches the ones stuck inside a single built-in call.
        let grace = Duration::from_secs(1).max(budget.timeout / 2);
        let mut deadline = Instant::now() + budget.timeout + grace;
        let mut timed_out = false;
        while out_open && start + results.len() < n {
            let now = Instant::now();
            if now >= deadline {
                timed_out = true;
                break;
            }
            let wait = (deadline - now).as_millis().min(i32::MAX as u128) as i32;
            let mut fds = [
                libc::pollfd {
                    fd: if out_open { out.as_raw_fd() } else { -1 },
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: if err_open { err.as_raw_fd() } else { -1 },
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a live array of two pollfd.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, wait.max(1)) };
            if ready < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                break;
            }
            if fds[1].revents != 0 && !read_some(&err, &mut stderr, 64 * 1024) {
                err_open = false;
            }
            if fds[0].revents != 0 {
                if !read_some(&out, &mut buf, usize::MAX) {
                    out_open = false;
                }
                while let Some(frame) = take_frame(&mut buf) {
                    let r = serde_json::from_slice::<T>(&frame)
                        .map_err(|e| format!("internal error: unreadable evaluation result: {e}"));
                    results.push(r);
                    deadline = Instant::now() + budget.timeout + grace;
                }
            }
        }
        if start + results.len() < n || timed_out {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let status = wait(pid);
        // Whatever the child still wrote on stderr explains how it ended.
        while err_open && read_some(&err, &mut stderr, 64 * 1024) {}
        if start + results.len() < n {
            results.push(Err(death_reason(timed_out, status, &stderr, budget)));
        }
        results
    }

    /// Reads what is available (the descriptor is readable); false at end of file.
    fn read_some(fd: &OwnedFd, into: &mut Vec<u8>, cap: usize) -> bool {
        let mut chunk = [0u8; 64 * 1024];
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

    fn take_frame(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
        let len = u64::from_le_bytes(buf.get(..8)?.try_into().ok()?) as usize;
        if buf.len() < 8 + len {
            return None;
        }
        let frame = buf[8..8 + len].to_vec();
        buf.drain(..8 + len);
        Some(frame)
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

    fn death_reason(timed_out: bool, status: i32, stderr: &[u8], budget: Budget) -> String {
        let text = String::from_utf8_lossy(stderr);
        if timed_out {
            return budget.timeout_message();
        }
        if text.contains("memory allocation of") || text.contains("capacity overflow") {
            return format!(
                "stopped: {} exceeded its memory budget of {} (see --eval-memory)",
                budget.what,
                crate::limits::show_size(budget.memory)
            );
        }
        if text.contains("overflowed its stack") {
            return format!("stopped: {} recursed too deeply (stack overflow)", budget.what);
        }
        let mut lines = text.lines();
        if lines.any(|l| l.contains("panicked at")) {
            let payload = lines.next().unwrap_or("").trim();
            return format!("{} failed (panic): {payload}", budget.what);
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
        format!("{} crashed ({how}){detail}", budget.what)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_job_fails_alone() {
        let budget = Budget {
            timeout: Duration::from_millis(300),
            memory: 256 * 1024 * 1024,
            ..Budget::current()
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
        assert!(r[1].as_ref().unwrap_err().contains("time budget"), "{r:?}");
        assert!(r[2].as_ref().unwrap_err().contains("memory budget"), "{r:?}");
        assert_eq!(r[3], Ok(30));
    }
}
