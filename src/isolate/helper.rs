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
//! unreadable response is gone for good ([`Helper::call`] returns `None`), and the caller does
//! the work itself, as it would without helpers. It leaves by `_exit` when its request pipe
//! closes, after reaping its own children.

use serde::{de::DeserializeOwned, Serialize};
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// How long a new helper may take to say it is ready: it only has to allocate and write a
/// byte, so a helper that does not is stuck (on a lock inherited at the fork).
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A forked process serving `Req -> Resp`; see the module docs.
pub struct Helper<Req, Resp> {
    pid: libc::pid_t,
    requests: Option<OwnedFd>,
    responses: OwnedFd,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req: Serialize + DeserializeOwned, Resp: Serialize + DeserializeOwned> Helper<Req, Resp> {
    /// Forks a helper that answers each request with `serve`. Call it from a thread while no
    /// other thread of the process runs (the helper inherits every lock as it was). `None`
    /// when the process cannot fork or the helper does not become ready.
    pub fn start<F: FnMut(Req) -> Resp>(mut serve: F) -> Option<Self> {
        super::brief_panics_in_children();
        let (req_r, req_w) = pipe()?;
        let (resp_r, resp_w) = pipe()?;
        // SAFETY: the caller forks with no other thread running (see above); the helper
        // leaves by `_exit`, running none of the parent's destructors.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return None;
        }
        if pid == 0 {
            drop((req_w, resp_r));
            // Ready: the first allocation and write after the fork.
            let ready = vec![1u8];
            if !super::unix::write_all(resp_w.as_raw_fd(), &ready) {
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

    /// Sends `request` and waits for the answer; `None` when the helper is gone (it then
    /// stays gone: the caller does the work itself).
    pub fn call(&mut self, request: &Req) -> Option<Resp> {
        let fd = self.requests.as_ref()?.as_raw_fd();
        let answer = serde_json::to_vec(request)
            .ok()
            .filter(|body| write_frame(fd, body))
            .and_then(|_| read_frame(&self.responses))
            .and_then(|body| serde_json::from_slice(&body).ok());
        if answer.is_none() {
            self.kill();
        }
        answer
    }

    fn kill(&mut self) {
        if self.requests.take().is_some() {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
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

fn pipe() -> Option<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn write_frame(fd: i32, body: &[u8]) -> bool {
    let mut frame = Vec::with_capacity(8 + body.len());
    frame.extend_from_slice(&(body.len() as u64).to_le_bytes());
    frame.extend_from_slice(body);
    super::unix::write_all(fd, &frame)
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

fn read_exact(fd: &OwnedFd, buf: &mut [u8]) -> bool {
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
        let mut h: Helper<u64, String> = Helper::start(|n: u64| {
            if n == 99 {
                // SAFETY: a test helper leaving abruptly.
                unsafe { libc::_exit(9) }
            }
            format!("{}", n * 2)
        })
        .expect("a helper");
        assert_eq!(h.call(&2).as_deref(), Some("4"));
        assert_eq!(h.call(&21).as_deref(), Some("42"));
        assert_eq!(h.call(&99), None, "a helper that died answers nothing");
        assert_eq!(h.call(&1), None, "and stays gone");
    }
}
