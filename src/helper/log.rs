//! The helper's own log lines: to journald under the app's identifier, or
//! to stderr where there is no journal; and the app's stderr, as a journal
//! stream of its own.

use std::io::Write;
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(app: &str) {
    match tracing_journald::layer() {
        Ok(journal) => tracing_subscriber::registry()
            .with(journal.with_syslog_identifier(app.to_owned()))
            .with(LevelFilter::INFO)
            .init(),
        Err(_) => tracing_subscriber::fmt()
            .with_max_level(LevelFilter::INFO)
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .init(),
    }
}

/// journald's socket for stdout streams, as systemd connects them.
const STREAM_SOCKET: &str = "/run/systemd/journal/stdout";
/// How long a start waits for journald to take a new stream.
const STREAM_WAIT: Duration = Duration::from_secs(1);

/// A journal stream for the app's stderr at priority err (3), when the
/// helper's stderr is the journal (`$JOURNAL_STREAM` names it); `None` when
/// it is not (an error_file, a terminal). systemd gives stdout and stderr one
/// stream at one priority, which would leave `nodeunits logs --err` and
/// `journalctl -p err` unable to tell them apart.
pub fn app_stderr(app: &str) -> Option<OwnedFd> {
    let journal = std::env::var("JOURNAL_STREAM").ok()?;
    let stderr = std::fs::File::from(std::io::stderr().as_fd().try_clone_to_owned().ok()?);
    let meta = stderr.metadata().ok()?;
    if journal != format!("{}:{}", meta.dev(), meta.ino()) {
        return None;
    }
    let mut stream = connect_within(STREAM_SOCKET, STREAM_WAIT)?;
    stream.shutdown(Shutdown::Read).ok()?;
    // The header systemd sends: identifier, unit (journald takes it from the
    // peer's cgroup), priority, level prefix (`<4>` lines), and no forwarding
    // to syslog, kmsg or the console.
    stream
        .write_all(format!("{app}\n\n3\n1\n0\n0\n0\n").as_bytes())
        .ok()?;
    Some(stream.into())
}

/// A stream connected to `path`, unless it does not take it within `wait`.
/// A plain connect() waits for as long as the listener's queue is full: a
/// busy journald would hold up the start of a successor, and with it the
/// helper (a reload then timed out with nothing logged).
fn connect_within(path: &str, wait: Duration) -> Option<UnixStream> {
    let address = UnixAddr::new(path).ok()?;
    let deadline = Instant::now() + wait;
    loop {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .ok()?;
        match connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &address) {
            Ok(()) => {
                let stream = UnixStream::from(fd);
                // The app writes to it as to any stderr: blocking.
                stream.set_nonblocking(false).ok()?;
                return Some(stream);
            }
            Err(Errno::EAGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => {
                tracing::warn!(
                    "journald did not take a stream for the app's stderr ({error}): it goes to the helper's"
                );
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{bind, listen, Backlog};

    #[test]
    fn a_stream_is_connected_blocking_or_given_up_when_the_queue_stays_full() {
        let path = std::env::temp_dir().join(format!("nodeunits-log-test.{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&listener),
            &UnixAddr::new(&path).unwrap(),
        )
        .unwrap();
        listen(&listener, Backlog::new(0).unwrap()).unwrap();
        let path = path.to_str().unwrap();
        // Nobody accepts: the first connection waits in the queue, which is then full.
        let first = connect_within(path, Duration::from_millis(100)).expect("a place in the queue");
        assert!(!nix::fcntl::fcntl(&first, nix::fcntl::FcntlArg::F_GETFL)
            .map(|flags| nix::fcntl::OFlag::from_bits_truncate(flags)
                .contains(nix::fcntl::OFlag::O_NONBLOCK))
            .unwrap());
        let mut held = vec![first];
        let started = Instant::now();
        let mut given_up = false;
        for _ in 0..4 {
            match connect_within(path, Duration::from_millis(200)) {
                Some(stream) => held.push(stream),
                None => {
                    given_up = true;
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(path);
        assert!(given_up, "a full queue is given up");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
