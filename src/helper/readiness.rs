//! When the worker is ready, from what the app and the preload say over the
//! IPC channel; and the port the app found taken, if it did.

use std::time::{Duration, Instant};

use super::ipc::Message;

/// When the helper tells systemd the worker is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyWhen {
    AtOnce,
    /// The app calls `process.send('ready')`.
    AppSendsReady,
    /// The preload reports a server listening on an inherited socket.
    Listening,
    /// A Node app with no socket unit: when any of its servers listens, or
    /// [`SETTLE`] after the start if none has by then (a queue worker).
    ListeningOrSettled,
    /// A Node app with addresses but no sockets passed (a container's): when
    /// it binds any itself.
    ListeningItself,
    /// A non-Node app sends READY=1 itself; the helper cannot see it.
    AppNotifies,
}

/// How long a Node app without a socket unit has to listen before it is
/// taken as one that never does. PM2 marks such an app online at once; a
/// moment's wait lets an app that crashes at its start fail the start, and
/// a worker that finds its port taken say so before it counts as ready.
pub const SETTLE: Duration = Duration::from_secs(1);

/// Under a launcher, the settle time while no Node process but the
/// launcher's own has started: npm takes a while before it starts the
/// server, and a Node script run directly may be the app itself.
pub const LAUNCHER_SETTLE: Duration = Duration::from_secs(5);

/// A TCP port the app tried to listen on itself and found taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortTaken {
    pub port: u16,
    /// As Node reports it: `::`, `0.0.0.0`, `127.0.0.1`.
    pub address: Option<String>,
}

#[derive(Debug)]
pub struct Readiness {
    when: ReadyWhen,
    started: Instant,
    settle: Duration,
    ready: bool,
    port_taken: Option<PortTaken>,
}

impl Readiness {
    pub fn new(when: ReadyWhen, started: Instant) -> Readiness {
        Readiness {
            when,
            started,
            settle: SETTLE,
            ready: false,
            port_taken: None,
        }
    }

    /// The app runs under a launcher: see [`LAUNCHER_SETTLE`].
    pub fn under_launcher(self) -> Readiness {
        Readiness {
            settle: LAUNCHER_SETTLE,
            ..self
        }
    }

    /// How long, from the start, an app with no socket unit has to listen.
    pub fn settle(&self) -> Duration {
        self.settle
    }

    pub fn set_ready(&mut self) {
        self.ready = true;
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// When the worker is ready if nothing else happens first.
    pub fn deadline(&self) -> Option<Instant> {
        (!self.ready && self.when == ReadyWhen::ListeningOrSettled)
            .then(|| self.started + self.settle)
    }

    /// Under a launcher, a Node process it started (npm's server) has just
    /// loaded the preload: an app without a socket unit is given the settle
    /// time from then, so that a server started late still says that its
    /// port is taken before the worker counts as ready.
    pub fn node_started(&mut self, now: Instant) {
        self.started = now;
        self.settle = SETTLE;
    }

    /// The last port the app found taken and has not listened on since.
    pub fn port_taken(&self) -> Option<&PortTaken> {
        self.port_taken.as_ref()
    }

    /// Takes in a message from the app; true when it makes the worker ready.
    pub fn on_message(&mut self, message: Message) -> bool {
        match message {
            Message::AddressInUse { port, address } => {
                self.port_taken = Some(PortTaken { port, address });
                false
            }
            Message::Listening { fd, address } => {
                let port = address.as_deref().and_then(port_of);
                if port.is_some() && port == self.port_taken.as_ref().map(|taken| taken.port) {
                    self.port_taken = None;
                }
                !self.ready && self.listening_makes_ready(fd, address.as_deref())
            }
            Message::Ready => !self.ready && self.when == ReadyWhen::AppSendsReady,
            Message::Started { .. }
            | Message::Attached { .. }
            | Message::Bind(_)
            | Message::Beat
            | Message::Other => false,
        }
    }

    fn listening_makes_ready(&self, fd: Option<i64>, address: Option<&str>) -> bool {
        match (self.when, fd, address) {
            (ReadyWhen::ListeningOrSettled | ReadyWhen::ListeningItself, _, _) => true,
            (ReadyWhen::Listening, Some(_), _) => true,
            (ReadyWhen::Listening, None, Some(address)) => {
                tracing::warn!(
                    "the app listens on {address} by itself, not on the socket unit's addresses: \
                     it is ready only once it listens on one of those (the ecosystem's `listen`)"
                );
                false
            }
            _ => false,
        }
    }
}

/// The port of an address as the preload describes it: `[::]:3000`, `0.0.0.0:3000`.
fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listening(address: &str) -> Message {
        Message::Listening {
            fd: None,
            address: Some(address.into()),
        }
    }

    #[test]
    fn without_a_socket_unit_any_listen_or_the_settle_time_makes_ready() {
        let start = Instant::now();
        let mut readiness = Readiness::new(ReadyWhen::ListeningOrSettled, start);
        assert_eq!(readiness.deadline(), Some(start + SETTLE));
        assert!(!readiness.on_message(Message::Ready));
        assert!(readiness.on_message(listening("[::]:9000")));
        readiness.set_ready();
        assert_eq!(readiness.deadline(), None);
        assert!(!readiness.on_message(listening("[::]:9001")), "ready once");
    }

    #[test]
    fn under_a_launcher_the_settle_time_runs_from_the_last_node_process() {
        let start = Instant::now();
        let mut readiness = Readiness::new(ReadyWhen::ListeningOrSettled, start).under_launcher();
        assert_eq!(readiness.deadline(), Some(start + LAUNCHER_SETTLE));
        let server = start + Duration::from_millis(2700);
        readiness.node_started(server);
        assert_eq!(readiness.deadline(), Some(server + SETTLE));
        let mut with_socket = Readiness::new(ReadyWhen::Listening, start);
        with_socket.node_started(server);
        assert_eq!(with_socket.deadline(), None);
    }

    #[test]
    fn with_a_socket_unit_only_its_sockets_make_ready() {
        let mut readiness = Readiness::new(ReadyWhen::Listening, Instant::now());
        assert_eq!(readiness.deadline(), None);
        assert!(!readiness.on_message(listening("[::]:8085")));
        let inherited = Message::Listening {
            fd: Some(3),
            address: None,
        };
        assert!(readiness.on_message(inherited));
    }

    #[test]
    fn without_sockets_passed_the_apps_own_listen_makes_ready() {
        let mut readiness = Readiness::new(ReadyWhen::ListeningItself, Instant::now());
        assert_eq!(readiness.deadline(), None, "no settle time: it must listen");
        assert!(readiness.on_message(listening("[::]:8080")));
    }

    #[test]
    fn wait_ready_waits_for_ready() {
        let mut readiness = Readiness::new(ReadyWhen::AppSendsReady, Instant::now());
        assert!(!readiness.on_message(listening("[::]:9000")));
        assert!(readiness.on_message(Message::Ready));
    }

    #[test]
    fn a_taken_port_is_forgotten_once_the_app_listens_on_it() {
        let mut readiness = Readiness::new(ReadyWhen::AppSendsReady, Instant::now());
        let taken = |port| Message::AddressInUse {
            port,
            address: Some("::".into()),
        };
        readiness.on_message(taken(3000));
        readiness.on_message(listening("0.0.0.0:8080"));
        assert_eq!(readiness.port_taken().map(|t| t.port), Some(3000));
        readiness.on_message(listening("[::]:3000"));
        assert_eq!(readiness.port_taken(), None);
    }
}
