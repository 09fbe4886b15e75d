//! Fork and exec the app: the inherited sockets stay open, the IPC channel
//! lands on a known fd, LISTEN_PID names the app itself.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::signal::{sigprocmask, SigmaskHow};
use nix::sys::signalfd::SigSet;
use nix::unistd::{execvpe, fork, getpid, ForkResult, Pid};

use super::environment::Vars;

/// Everything the child needs, prepared before the fork.
pub struct Launch {
    pub argv: Vec<OsString>,
    pub vars: Vars,
    /// Set LISTEN_PID to the child's pid.
    pub listen_fds: bool,
    /// The child's end of the IPC channel and the fd it must have.
    pub channel: Option<(OwnedFd, RawFd)>,
    /// The app's stderr, instead of the helper's.
    pub stderr: Option<OwnedFd>,
}

fn c_string(bytes: &[u8]) -> CString {
    CString::new(bytes.to_vec()).unwrap_or_else(|_| CString::new("\u{fffd}").expect("no nul"))
}

pub fn spawn(launch: &Launch) -> nix::Result<Pid> {
    let argv: Vec<CString> = launch
        .argv
        .iter()
        .map(|arg| c_string(arg.as_bytes()))
        .collect();
    let mut env: Vec<CString> = launch
        .vars
        .iter()
        .map(|(key, value)| c_string(&[key.as_bytes(), b"=", value.as_bytes()].concat()))
        .collect();
    // SAFETY: the helper is single-threaded, so the child may allocate.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
            if let Some((fd, target)) = &launch.channel {
                if fd.as_raw_fd() == *target {
                    let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()));
                } else {
                    // SAFETY: `target` is free in the child or held by a
                    // close-on-exec fd of the helper's; dup2 replaces it.
                    unsafe { nix::libc::dup2(fd.as_raw_fd(), *target) };
                }
            }
            if let Some(stderr) = &launch.stderr {
                // SAFETY: dup2 onto fd 2 replaces the helper's stderr in the child only.
                unsafe { nix::libc::dup2(stderr.as_raw_fd(), 2) };
            }
            if launch.listen_fds {
                env.push(c_string(format!("LISTEN_PID={}", getpid()).as_bytes()));
            }
            let error = execvpe(&argv[0], &argv, &env).unwrap_err();
            eprintln!(
                "nodeunits-helper: cannot run {}: {error}",
                argv[0].to_string_lossy()
            );
            // SAFETY: leave the forked child without running the parent's exit handlers.
            unsafe { nix::libc::_exit(127) }
        }
    }
}
