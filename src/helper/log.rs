//! The helper's own log lines: to journald under the app's identifier, or
//! to stderr where there is no journal; and the app's stderr, as a journal
//! stream of its own.

use std::io::Write;
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;

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
    let mut stream = UnixStream::connect(STREAM_SOCKET).ok()?;
    stream.shutdown(Shutdown::Read).ok()?;
    // The header systemd sends: identifier, unit (journald takes it from the
    // peer's cgroup), priority, level prefix (`<4>` lines), and no forwarding
    // to syslog, kmsg or the console.
    stream
        .write_all(format!("{app}\n\n3\n1\n0\n0\n0\n").as_bytes())
        .ok()?;
    Some(stream.into())
}
