//! zbus proxies for the parts of systemd's D-Bus API nodeunits calls.
//! Reference: org.freedesktop.systemd1(5).

use zbus::proxy;
use zbus::zvariant::OwnedObjectPath;

/// One entry of `ListUnitsByPatterns`: name, description, load state, active
/// state, sub state, following, object path, job id, job type, job path.
pub type ListedUnit = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

/// One change of `EnableUnitFiles`/`DisableUnitFiles`: type, file, destination.
pub type UnitFileChange = (String, String, String);

#[proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1",
    gen_async = false,
    blocking_name = "ManagerProxy"
)]
pub trait Manager {
    /// Without a subscription systemd sends no job signals.
    fn subscribe(&self) -> zbus::Result<()>;
    fn reload(&self) -> zbus::Result<()>;
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn reload_or_restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn load_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
    /// Clears the unit's `failed` state and its start limit's count.
    fn reset_failed_unit(&self, name: &str) -> zbus::Result<()>;
    fn enable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
        force: bool,
    ) -> zbus::Result<(bool, Vec<UnitFileChange>)>;
    fn disable_unit_files(
        &self,
        files: &[&str],
        runtime: bool,
    ) -> zbus::Result<Vec<UnitFileChange>>;
    fn list_units_by_patterns(
        &self,
        states: &[&str],
        patterns: &[&str],
    ) -> zbus::Result<Vec<ListedUnit>>;

    #[zbus(signal)]
    fn job_removed(
        &self,
        id: u32,
        job: OwnedObjectPath,
        unit: String,
        result: String,
    ) -> zbus::Result<()>;
}

#[proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1",
    gen_async = false,
    blocking_name = "UnitProxy"
)]
pub trait Unit {
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn sub_state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn load_state(&self) -> zbus::Result<String>;
    /// (D-Bus error name, message) of a unit that failed to load.
    #[zbus(property)]
    fn load_error(&self) -> zbus::Result<(String, String)>;
    #[zbus(property, name = "InvocationID")]
    fn invocation_id(&self) -> zbus::Result<Vec<u8>>;
    /// Microseconds since the epoch; 0 when never active.
    #[zbus(property)]
    fn active_enter_timestamp(&self) -> zbus::Result<u64>;
    #[zbus(property)]
    fn wants(&self) -> zbus::Result<Vec<String>>;
    /// `enabled`, `disabled`, `static`, … ; empty for a transient unit.
    #[zbus(property)]
    fn unit_file_state(&self) -> zbus::Result<String>;
}

#[proxy(
    interface = "org.freedesktop.systemd1.Service",
    default_service = "org.freedesktop.systemd1",
    gen_async = false,
    blocking_name = "ServiceProxy"
)]
pub trait Service {
    #[zbus(property, name = "MainPID")]
    fn main_pid(&self) -> zbus::Result<u32>;
    #[zbus(property, name = "NRestarts")]
    fn n_restarts(&self) -> zbus::Result<u32>;
    #[zbus(property, name = "CPUUsageNSec")]
    fn cpu_usage_nsec(&self) -> zbus::Result<u64>;
    /// `u64::MAX` when memory accounting is off.
    #[zbus(property)]
    fn memory_current(&self) -> zbus::Result<u64>;
    /// `success`, `exit-code`, `signal`, `timeout`, `core-dump`, `start-limit-hit`, …
    #[zbus(property)]
    fn result(&self) -> zbus::Result<String>;
    /// Its exit status, or the signal that ended it.
    #[zbus(property)]
    fn exec_main_status(&self) -> zbus::Result<i32>;
    /// The `si_code` of the main process's end: 1 exited, 2 killed, 3 dumped; 0 running.
    #[zbus(property)]
    fn exec_main_code(&self) -> zbus::Result<i32>;
    /// The last `STATUS=` the service sent; kept until its next start.
    #[zbus(property)]
    fn status_text(&self) -> zbus::Result<String>;
}

#[proxy(
    interface = "org.freedesktop.systemd1.Socket",
    default_service = "org.freedesktop.systemd1",
    gen_async = false,
    blocking_name = "SocketProxy"
)]
pub trait Socket {
    /// (type, address) pairs, e.g. ("Stream", "127.0.0.1:3000").
    #[zbus(property)]
    fn listen(&self) -> zbus::Result<Vec<(String, String)>>;
    /// Connections accepted by systemd itself: with `Accept=yes` only.
    #[zbus(property, name = "NAccepted")]
    fn n_accepted(&self) -> zbus::Result<u32>;
    /// Connections open now, with `Accept=yes` only.
    #[zbus(property, name = "NConnections")]
    fn n_connections(&self) -> zbus::Result<u32>;
    /// Connections refused by the trigger limits (systemd ≥ 246).
    #[zbus(property, name = "NRefused")]
    fn n_refused(&self) -> zbus::Result<u32>;
}
