//! Helper processes: a process forked once, while the caller is small and has no other
//! thread, that then serves requests one at a time (`serve(request) -> response`, both sent
//! as JSON frames over pipes).
//!
//! Why: forking costs in proportion to the forking process' memory (its page tables are
//! copied, then every page either side writes is copied on write). A fleet observation forks
//! an isolated child per workload and folder, and its process grows to hundreds of MiB while
//! results accumulate: forking from it cost more CPU than parsing and evaluating. A helper
//! forked before any of that holds only the library, and its own isolated children (it is
//! not a sandbox child: [`super::in_child`] is false there, so the budgets still apply to
//! every parse and evaluation) are cheap to fork.
//!
//! Failing closed: a helper that does not answer its first handshake, dies or sends an
//! unreadable response is gone for good. [`Helper::call`] says whether the request was lost
//! before the helper took it (the caller may do the work itself) or while the helper worked
//! on it (the caller reports that request's result as unknown: doing it again in the caller
//! could end the caller the same way). A helper leaves by `_exit` when its request pipe
//! closes, after reaping its own children; it is killed if the process that started it dies,
//! and its children if it dies (`PR_SET_PDEATHSIG`), so that nothing it started outlives it
//! holding a pipe its caller reads.

use super::unix::{pipe, read_exact, write_all};
use serde::{de::DeserializeOwned, Serialize};
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// How long a new helper may take to say it is ready: it only has to allocate and write a
/// byte, so a helper that does not is stuck (on a lock inherited at the fork).
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Why a helper gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lost {
    /// It was gone before it took the request.
    #[error("the helper process had ended")]
    Before,
    /// It ended (`how`) or answered nonsense while working on the request.
    #[error("the helper process ended ({how})")]
    During { how: String },
}

/// The pid of this process when it is a helper (its children are killed when it dies).
static HELPER_PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// In a child forked by a helper: dies with the helper (see the module docs). Called first
/// thing in the child.
pub(super) fn die_with_helper() {
    let helper = HELPER_PID.load(std::sync::atomic::Ordering::Relaxed);
    if helper != 0 {
        die_with_parent(helper);
    }
}

/// Asks for SIGKILL when the parent `parent` ends, and leaves if it already has.
fn die_with_parent(parent: libc::pid_t) {
    // SAFETY: prctl and getppid have no memory preconditions; `_exit` leaves at once.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
        if libc::getppid() != parent {
            libc::_exit(6);
        }
    }
}

/// A forked process serving `Req -> Resp`; see the module docs.
pub struct Helper<Req, Resp> {
    pid: libc::pid_t,
    requests: Option<OwnedFd>,
    responses: OwnedFd,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req: Serialize + DeserializeOwned, Resp: Serialize + DeserializeOwned> Helper<Req, Resp> {
    /// Forks a helper that answers each request with `serve`. Call it from a thread while no
    /// other thread of the process runs (the helper inherits every lock as it was). The
    /// helper closes its copies of the pipes of the helpers `beside` (started before it), so
    /// that each helper's pipes are held by its caller alone. `None` when the process cannot
    /// fork or the helper does not become ready.
    pub fn start<F: FnMut(Req) -> Resp>(beside: &[Helper<Req, Resp>], mut serve: F) -> Option<Self> {
        super::brief_panics_in_children();
        let (req_r, req_w) = pipe()?;
        let (resp_r, resp_w) = pipe()?;
        // SAFETY: getpid has no preconditions.
        let caller = unsafe { libc::getpid() };
        super::before_fork();
        // SAFETY: the caller forks with no other thread running (see above); the helper
        // leaves by `_exit`, running none of the parent's destructors.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return None;
        }
        if pid == 0 {
            drop((req_w, resp_r));
            die_with_parent(caller);
            super::no_core_dumps();
            for other in beside {
                // SAFETY: closing this process' copies of another helper's descriptors,
                // which nothing here uses (the helper never returns to the caller's code).
                unsafe {
                    if let Some(fd) = &other.requests {
                        libc::close(fd.as_raw_fd());
                    }
                    libc::close(other.responses.as_raw_fd());
                }
            }
            // SAFETY: getpid has no preconditions.
            HELPER_PID.store(unsafe { libc::getpid() }, std::sync::atomic::Ordering::Relaxed);
            // Ready: the first allocation and write after the fork.
            let ready = vec![1u8];
            if !write_all(resp_w.as_raw_fd(), &ready) {
                // SAFETY: leaving the helper without running the parent's destructors.
                unsafe { libc::_exit(4) }
            }
            while let Some(bytes) = read_frame(&req_r) {
                let Ok(request) = serde_json::from_slice::<Req>(&bytes) else {
                    // SAFETY: as above.
                    unsafe { libc::_exit(5) }
                };
                let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(request)));
                let Ok(answer) = answer else {
                    // SAFETY: as above.
                    unsafe { libc::_exit(3) }
                };
                let body = serde_json::to_vec(&answer).unwrap_or_default();
                if !write_frame(resp_w.as_raw_fd(), &body) {
                    // SAFETY: as above.
                    unsafe { libc::_exit(4) }
                }
            }
            super::reap();
            // SAFETY: as above; `_exit` also skips flushing the parent's buffered stdout.
            unsafe { libc::_exit(0) }
        }
        drop((req_r, resp_w));
        let mut helper = Helper {
            pid,
            requests: Some(req_w),
            responses: resp_r,
            _types: PhantomData,
        };
        let mut byte = [0u8; 1];
        match wait_readable(&helper.responses, READY_WITHIN) && read_exact(&helper.responses, &mut byte) {
            true => Some(helper),
            false => {
                helper.kill();
                None
            }
        }
    }

    /// Sends `request` and waits for the answer. A helper that fails is gone for good.
    pub fn call(&mut self, request: &Req) -> Result<Resp, Lost> {
        let fd = self.requests.as_ref().ok_or(Lost::Before)?.as_raw_fd();
        let Some(body) = serde_json::to_vec(request).ok().filter(|body| write_frame(fd, body)) else {
            self.kill();
            return Err(Lost::Before);
        };
        drop(body);
        let answer = read_frame(&self.responses).map(|body| serde_json::from_slice(&body));
        match answer {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(e)) => {
                self.kill();
                Err(Lost::During {
                    how: format!("unreadable answer: {e}"),
                })
            }
            None => Err(Lost::During { how: self.kill() }),
        }
    }

    /// Kills and reaps the helper; how it ended.
    fn kill(&mut self) -> String {
        if self.requests.take().is_none() {
            return "already gone".to_string();
        }
        let mut status = 0;
        // SAFETY: signalling and reaping our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, &mut status, 0);
        }
        if libc::WIFSIGNALED(status) {
            format!("killed by signal {}", libc::WTERMSIG(status))
        } else {
            format!("exit status {}", libc::WEXITSTATUS(status))
        }
    }
}

impl<Req, Resp> Drop for Helper<Req, Resp> {
    fn drop(&mut self) {
        // Closing the request pipe tells the helper to leave; wait for it so that its time
        // counts towards this process' and no zombie is left.
        if self.requests.take().is_some() {
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), 0) };
        }
    }
}

fn write_frame(fd: i32, body: &[u8]) -> bool {
    let mut frame = Vec::with_capacity(8 + body.len());
    frame.extend_from_slice(&(body.len() as u64).to_le_bytes());
    frame.extend_from_slice(body);
    write_all(fd, &frame)
}

fn read_frame(fd: &OwnedFd) -> Option<Vec<u8>> {
    let mut len = [0u8; 8];
    if !read_exact(fd, &mut len) {
        return None;
    }
    let len = usize::try_from(u64::from_le_bytes(len)).ok()?;
    let mut body = vec![0u8; len];
    read_exact(fd, &mut body).then_some(body)
}

fn wait_readable(fd: &OwnedFd, within: Duration) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = within.as_millis().min(i32::MAX as u128) as i32;
    loop {
        // SAFETY: one live pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return r > 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_serves_requests_in_order_and_its_death_is_seen() {
        let mut h: Helper<u64, String> = Helper::start(&[], |n: u64| {
            if n == 99 {
                // SAFETY: a test helper leaving abruptly.
                unsafe { libc::_exit(9) }
            }
            format!("{}", n * 2)
        })
        .expect("a helper");
        assert_eq!(h.call(&2).as_deref(), Ok("4"));
        assert_eq!(h.call(&21).as_deref(), Ok("42"));
        assert_eq!(
            h.call(&99),
            Err(Lost::During {
                how: "exit status 9".to_string()
            }),
            "a helper that died while working says so"
        );
        assert_eq!(h.call(&1), Err(Lost::Before), "and stays gone");
    }

    #[test]
    fn a_helper_can_write_no_core_dump() {
        let mut h: Helper<(), i32> = Helper::start(&[], |()| {
            // SAFETY: reads the helper's own flag.
            unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }
        })
        .expect("a helper");
        assert_eq!(
            h.call(&()),
            Ok(0),
            "a helper is not dumpable (see isolate::no_core_dumps)"
        );
    }
}
