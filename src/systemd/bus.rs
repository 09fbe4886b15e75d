//! The real [`ServiceManager`]: systemd over D-Bus.

use std::collections::HashMap;
use std::time::SystemTime;

use zbus::blocking::Connection;
use zbus::proxy::{CacheProperties, Defaults};
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

use super::journalctl;
use super::manager::{ServiceManager, SystemdError};
use super::proxies::{JobRemoved, ManagerProxy, ServiceProxy, SocketProxy, UnitProxy};
use super::Scope;
use crate::model::defaults::EXIT_CONFIG;

/// systemd's bus name.
const SYSTEMD: &str = "org.freedesktop.systemd1";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
const UNIT: &str = "org.freedesktop.systemd1.Unit";

/// The object path of a unit: `/org/freedesktop/systemd1/unit/` and its
/// name, each byte but an ASCII letter or a digit after the first byte
/// written `_xx`, as systemd's `bus_label_escape` writes it.
pub fn unit_path(name: &str) -> String {
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    for (i, byte) in name.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (i > 0 && byte.is_ascii_digit()) {
            path.push(byte as char);
        } else {
            path.push_str(&format!("_{byte:02x}"));
        }
    }
    path
}

/// The bus of `scope`'s manager: the system bus, or the user's session bus.
fn bus(scope: Scope) -> zbus::Result<Connection> {
    match scope {
        Scope::System => Connection::system(),
        Scope::User => Connection::session(),
    }
}

/// `f` of every item, several at a time on as many threads, in the items'
/// order: calls on one connection are then in flight together, so that a
/// hundred units' properties cost the bus daemon's and systemd's time to
/// answer them, not a thousand round trips one after the other.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const THREADS: usize = 16;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = Vec::new();
    results.resize_with(items.len(), || None);
    let results = std::sync::Mutex::new(results);
    std::thread::scope(|scope| {
        for _ in 0..THREADS.min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|result| result.expect("every item was done"))
        .collect()
}

/// A property's value as the type systemd gives it.
pub fn typed<T>(value: OwnedValue) -> Result<T, SystemdError>
where
    T: TryFrom<OwnedValue>,
    T::Error: Into<zbus::zvariant::Error>,
{
    T::try_from(value).map_err(|err| zbus::Error::Variant(err.into()).into())
}

/// A connection to the system or the user's service manager.
pub struct Systemd {
    connection: Connection,
    manager: ManagerProxy<'static>,
    scope: Scope,
    /// Journal lines older than the connection are not this command's business.
    connected_at: SystemTime,
}

#[derive(Clone, Copy)]
enum JobKind {
    Start,
    Stop,
    Restart,
    ReloadOrRestart,
}

/// How many JobRemoved signals the wait for a batch of jobs can hold unread
/// while it queues them: per unit asked (its own job, and those it pulls in:
/// its slice, its socket), and to spare for other clients' jobs.
const JOBS_QUEUED_PER_UNIT: usize = 8;
const JOBS_QUEUED_SPARE: usize = 1024;

impl Systemd {
    /// Connects to the manager of `scope`: the system bus, or the user's
    /// session bus (`$DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`).
    pub fn connect(scope: Scope) -> Result<Self, SystemdError> {
        let systemd = Self::connect_to_read(scope)?;
        systemd.manager.subscribe()?;
        Ok(systemd)
    }

    /// Connects to the manager of `scope` to read it only: over the bus as
    /// [`Systemd::connect`], without the subscription that job waits need,
    /// which would have systemd send this reader every unit's changes.
    pub fn connect_to_read(scope: Scope) -> Result<Self, SystemdError> {
        let connection = bus(scope)?;
        let manager = ManagerProxy::new(&connection)?;
        Ok(Systemd {
            connection,
            manager,
            scope,
            connected_at: SystemTime::now(),
        })
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    pub fn manager(&self) -> &ManagerProxy<'static> {
        &self.manager
    }

    /// The unit's object, loaded if it is not yet, through one of its
    /// interfaces: [`UnitProxy`], [`ServiceProxy`] or [`SocketProxy`].
    fn object<P>(&self, name: &str) -> Result<P, SystemdError>
    where
        P: Defaults + From<zbus::Proxy<'static>>,
    {
        let path = self.manager.load_unit(name)?;
        Ok(zbus::blocking::proxy::Builder::<P>::new(&self.connection)
            .path(path)?
            // Fresh values on every read, not a cache fed by signals.
            .cache_properties(CacheProperties::No)
            .build()?)
    }

    /// One property of one interface of a unit; systemd loads the unit if
    /// it has not yet.
    pub fn property(
        &self,
        unit: &str,
        interface: &str,
        name: &str,
    ) -> Result<OwnedValue, SystemdError> {
        let reply = self.connection.call_method(
            Some(SYSTEMD),
            unit_path(unit).as_str(),
            Some(PROPERTIES),
            "Get",
            &(interface, name),
        )?;
        Ok(reply.body().deserialize()?)
    }

    /// `LoadState` of a unit: `loaded`, `not-found`, `masked`, …
    pub fn load_state(&self, unit: &str) -> Result<String, SystemdError> {
        typed(self.property(unit, UNIT, "LoadState")?)
    }

    pub fn unit(&self, name: &str) -> Result<UnitProxy<'static>, SystemdError> {
        self.object(name)
    }

    pub fn service(&self, name: &str) -> Result<ServiceProxy<'static>, SystemdError> {
        self.object(name)
    }

    pub fn socket(&self, name: &str) -> Result<SocketProxy<'static>, SystemdError> {
        self.object(name)
    }

    /// Queues one job per unit, waits until systemd removed all of them and
    /// returns each unit with its job result (`done`, `failed`, `timeout`, …).
    fn run_jobs(
        &self,
        units: &[String],
        kind: JobKind,
    ) -> Result<Vec<(String, String)>, SystemdError> {
        // Listen before queueing, so that no JobRemoved can slip past. Every
        // job of the manager is announced, those these starts pull in too,
        // and none is read until all are queued: the queue must hold them
        // all, as zbus stops reading the bus while a queue is full, and the
        // replies to the calls below would then never come (a deadlock seen
        // with 100 units at once under the default of 64).
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .sender("org.freedesktop.systemd1")?
            .path("/org/freedesktop/systemd1")?
            .interface("org.freedesktop.systemd1.Manager")?
            .member("JobRemoved")?
            .build();
        let capacity = JOBS_QUEUED_PER_UNIT * units.len() + JOBS_QUEUED_SPARE;
        let mut removed = zbus::blocking::MessageIterator::for_match_rule(
            rule,
            &self.connection,
            Some(capacity),
        )?;
        // All queued at once: systemd's replies wait while it forks the
        // jobs queued before, and one call after the other would pace the
        // queueing by them.
        let jobs = in_parallel(units, |unit| {
            // A start asked for starts a unit that gave up after its
            // restarts, with its budget anew, as `systemctl reset-failed`
            // would; a unit systemd does not know fails the job below.
            if !matches!(kind, JobKind::Stop) {
                let _ = self.manager.reset_failed_unit(unit);
            }
            match kind {
                JobKind::Start => self.manager.start_unit(unit, "replace"),
                JobKind::Stop => self.manager.stop_unit(unit, "replace"),
                JobKind::Restart => self.manager.restart_unit(unit, "replace"),
                JobKind::ReloadOrRestart => self.manager.reload_or_restart_unit(unit, "replace"),
            }
        });
        let mut pending: HashMap<OwnedObjectPath, &str> = HashMap::new();
        for (unit, job) in units.iter().zip(jobs) {
            match job {
                Ok(job) => {
                    pending.insert(job, unit);
                }
                // A unit systemd does not know is stopped already.
                Err(err) if matches!(kind, JobKind::Stop) && is_no_such_unit(&err) => {}
                Err(err) if is_unloadable(&err) => return Err(self.load_failure(unit)),
                Err(err) => return Err(err.into()),
            }
        }
        let mut results = Vec::with_capacity(units.len());
        while !pending.is_empty() {
            let message = removed.next().ok_or_else(|| {
                zbus::Error::Failure(
                    "the connection to systemd closed while waiting for a job".into(),
                )
            })??;
            let Some(signal) = JobRemoved::from_message(message) else {
                continue;
            };
            let args = signal.args()?;
            if let Some(unit) = pending.remove(&args.job) {
                results.push((unit.to_owned(), args.result));
            }
        }
        Ok(results)
    }

    /// Why a unit cannot be loaded: its unit file is missing or invalid.
    fn load_failure(&self, unit: &str) -> SystemdError {
        let why = match self
            .unit(unit)
            .and_then(|u| Ok((u.load_state()?, u.load_error()?)))
        {
            Ok((state, (_, message))) => format!("cannot be loaded ({state}): {message}"),
            Err(err) => format!("cannot be loaded: {err}"),
        };
        SystemdError::unit(unit, why, self.journal_tail(unit))
    }

    /// Checks that each unit whose job ended is now active; else says why not.
    fn expect_active(
        &self,
        results: Vec<(String, String)>,
        verb: &str,
    ) -> Result<(), SystemdError> {
        let states = in_parallel(&results, |(unit, _)| {
            typed::<String>(self.property(unit, UNIT, "ActiveState")?)
        });
        for ((unit, result), state) in results.into_iter().zip(states) {
            let state = state?;
            if result != "done" || state != "active" {
                let why = self.why_not_active(&unit, &result, &state, verb)?;
                return Err(SystemdError::unit(&unit, why, self.journal_tail(&unit)));
            }
        }
        Ok(())
    }

    fn why_not_active(
        &self,
        unit: &str,
        job_result: &str,
        state: &str,
        verb: &str,
    ) -> Result<String, SystemdError> {
        let sub_state = self.unit(unit)?.sub_state()?;
        let mut why = format!("did not {verb}: ");
        if job_result != "done" {
            why += &format!("its job {}; ", job_outcome(job_result));
        }
        why += &format!("the unit is {state} ({sub_state})");
        if unit.ends_with(".service") {
            let service = self.service(unit)?;
            let result = service.result()?;
            if result != "success" {
                let status = service.exec_main_status()?;
                why += &format!(", its last run ended with {result} (status {status})");
                // The helper's status 78 comes with the reason, also sent as STATUS=.
                let text = service.status_text().unwrap_or_default();
                if status == i32::from(EXIT_CONFIG) && !text.is_empty() {
                    why += &format!(": {text}");
                }
            }
        }
        Ok(why)
    }
}

impl ServiceManager for Systemd {
    fn daemon_reload(&self) -> Result<(), SystemdError> {
        Ok(self.manager.reload()?)
    }

    fn check_loaded(&self, units: &[String]) -> Result<(), SystemdError> {
        let states = in_parallel(units, |unit| self.load_state(unit));
        for (unit, state) in units.iter().zip(states) {
            if state? != "loaded" {
                return Err(self.load_failure(unit));
            }
        }
        Ok(())
    }

    fn enable(&self, units: &[String]) -> Result<(), SystemdError> {
        let names: Vec<&str> = units.iter().map(String::as_str).collect();
        self.manager.enable_unit_files(&names, false, true)?;
        Ok(())
    }

    fn disable(&self, units: &[String]) -> Result<(), SystemdError> {
        let names: Vec<&str> = units.iter().map(String::as_str).collect();
        self.manager.disable_unit_files(&names, false)?;
        Ok(())
    }

    fn start(&self, units: &[String]) -> Result<(), SystemdError> {
        let results = self.run_jobs(units, JobKind::Start)?;
        self.expect_active(results, "start")
    }

    fn stop(&self, units: &[String]) -> Result<(), SystemdError> {
        for (unit, result) in self.run_jobs(units, JobKind::Stop)? {
            if result != "done" {
                let why = format!("did not stop: its job ended `{result}`");
                return Err(SystemdError::unit(&unit, why, self.journal_tail(&unit)));
            }
        }
        Ok(())
    }

    fn restart(&self, unit: &str) -> Result<(), SystemdError> {
        let results = self.run_jobs(&[unit.to_owned()], JobKind::Restart)?;
        self.expect_active(results, "restart")
    }

    fn replace(&self, unit: &str) -> Result<(), SystemdError> {
        let results = self.run_jobs(&[unit.to_owned()], JobKind::ReloadOrRestart)?;
        self.expect_active(results, "reload")
    }

    fn program_replaced(&self, unit: &str) -> bool {
        let Ok(pid) = self.service(unit).and_then(|s| Ok(s.main_pid()?)) else {
            return false;
        };
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|exe| exe.to_string_lossy().ends_with(" (deleted)"))
    }

    fn active_state(&self, unit: &str) -> Result<String, SystemdError> {
        Ok(self.unit(unit)?.active_state()?)
    }

    fn journal_tail(&self, unit: &str) -> String {
        journalctl::tail(self.scope, unit, 15, self.connected_at)
    }
}

/// A JobRemoved result, in words (org.freedesktop.systemd1(5)).
fn job_outcome(result: &str) -> String {
    match result {
        "failed" => "failed".into(),
        "timeout" => "timed out".into(),
        "canceled" => "was canceled".into(),
        "dependency" => "failed because a unit it requires failed".into(),
        "skipped" => "was skipped".into(),
        other => format!("ended `{other}`"),
    }
}

fn error_name(err: &zbus::Error) -> Option<&str> {
    match err {
        zbus::Error::MethodError(name, _, _) => Some(name.as_str()),
        _ => None,
    }
}

fn is_no_such_unit(err: &zbus::Error) -> bool {
    error_name(err) == Some("org.freedesktop.systemd1.NoSuchUnit")
}

/// systemd refuses jobs for units whose file is missing, masked or invalid.
fn is_unloadable(err: &zbus::Error) -> bool {
    matches!(
        error_name(err),
        Some(
            "org.freedesktop.systemd1.NoSuchUnit"
                | "org.freedesktop.systemd1.LoadFailed"
                | "org.freedesktop.systemd1.BadUnitSetting"
                | "org.freedesktop.systemd1.UnitMasked"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_paths_escape_as_systemd_does() {
        assert_eq!(
            unit_path("api@0.service"),
            "/org/freedesktop/systemd1/unit/api_400_2eservice"
        );
        assert_eq!(
            unit_path("my-app_2.socket"),
            "/org/freedesktop/systemd1/unit/my_2dapp_5f2_2esocket"
        );
        assert_eq!(
            unit_path("2fa.service"),
            "/org/freedesktop/systemd1/unit/_32fa_2eservice"
        );
    }

    #[test]
    fn in_parallel_keeps_the_order() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(
            in_parallel(&items, |i| i * 2),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(in_parallel(&[] as &[u32], |i| *i).is_empty());
    }
}
