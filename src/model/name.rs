//! An app's name, validated once when the ecosystem file is read, and the
//! names of the units it owns. Every unit name nodeunits uses is spelled by
//! [`UnitNames`] and nowhere else.

use std::fmt;

/// The longest app name: leaves room for `@.service` and `-cron.service`
/// under systemd's 255 characters.
const MAX_LEN: usize = 200;

/// Why a text cannot name an app (or a namespace, which follows the same
/// rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("an app name cannot be empty")]
    Empty,
    #[error("an app name has at most 200 characters")]
    TooLong,
    #[error("an app name starts with a letter, a digit or `_`")]
    BadStart,
    #[error("an app name is made of ASCII letters, digits, `_`, `.` and `-`, as unit names are")]
    BadCharacter,
    #[error(
        "an app name other than `nodeunits-metrics`, the units of nodeunits' metrics endpoint"
    )]
    Reserved,
    #[error("an app name with at least one ASCII letter or digit: its units are named after its ASCII letters, digits, `_`, `.` and `-`, each run of other characters becoming `-`")]
    NothingUsable,
    #[error("an app name without control characters (line breaks, tabs)")]
    Control,
}

impl InvalidName {
    /// The rule, said of `what` ("a namespace") instead of an app name.
    pub fn said_of(self, what: &str) -> String {
        self.to_string().replacen("an app name", what, 1)
    }
}

/// A name that can prefix every unit name generated for an app
/// (`name.service`, `name@.service`, `name-cron.timer`). systemd allows ASCII
/// letters, digits and `:-_.\`; `@` is the instance separator, and `:` and `\`
/// would read as escapes, so only `[A-Za-z0-9_.-]` are accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AppName(String);

impl AppName {
    pub fn new(name: &str) -> Result<AppName, InvalidName> {
        check(name)?;
        if name == metrics_endpoint::RESERVED_APP {
            return Err(InvalidName::Reserved);
        }
        Ok(AppName(name.to_owned()))
    }

    /// The units' name for PM2's name of an app, which may be any text: the
    /// name itself when it can name units, else its ASCII letters, digits,
    /// `_`, `.` and `-`, each run of other characters replaced by one `-`,
    /// without `.` or `-` at the start nor `-` at the end (`CodeChat Api` →
    /// `CodeChat-Api`, `@scope/api` → `scope-api`). Two names may map to one
    /// unit name: the ecosystem file's check refuses that.
    pub fn from_pm2(name: &str) -> Result<AppName, InvalidName> {
        match AppName::new(name) {
            Err(InvalidName::BadStart | InvalidName::BadCharacter | InvalidName::TooLong) => {}
            other => return other,
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidName::Control);
        }
        let mut mapped = String::with_capacity(name.len());
        for c in name.chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                mapped.push(c);
            } else if !mapped.ends_with('-') {
                mapped.push('-');
            }
        }
        let mapped = mapped.trim_start_matches(['.', '-']).trim_end_matches('-');
        match AppName::new(mapped) {
            Err(InvalidName::Empty) => Err(InvalidName::NothingUsable),
            other => other,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names of this app's units.
    pub fn units(&self) -> UnitNames<'_> {
        UnitNames { app: self }
    }
}

/// Checks `text` against the rules of an app name.
pub fn check(text: &str) -> Result<(), InvalidName> {
    if text.is_empty() {
        return Err(InvalidName::Empty);
    }
    if text.len() > MAX_LEN {
        return Err(InvalidName::TooLong);
    }
    if text.starts_with(['.', '-']) {
        return Err(InvalidName::BadStart);
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(InvalidName::BadCharacter);
    }
    Ok(())
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AppName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for AppName {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AppName::new(s)
    }
}

/// The one speller of an app's unit names.
#[derive(Debug, Clone, Copy)]
pub struct UnitNames<'a> {
    app: &'a AppName,
}

/// The kinds of unit file an app owns, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnitKind {
    Socket,
    Template,
    App,
    CronTimer,
    CronService,
    Logs,
    Watch,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Socket,
        UnitKind::Template,
        UnitKind::App,
        UnitKind::CronTimer,
        UnitKind::CronService,
        UnitKind::Logs,
        UnitKind::Watch,
    ];
}

impl<'a> UnitNames<'a> {
    pub fn app_name(&self) -> &'a AppName {
        self.app
    }

    /// `APP.socket`: the listening sockets.
    pub fn socket(&self) -> String {
        format!("{}.socket", self.app)
    }

    /// `APP@.service`: the worker template.
    pub fn template(&self) -> String {
        format!("{}@.service", self.app)
    }

    /// `APP@N.service`: one worker.
    pub fn instance(&self, number: u32) -> String {
        format!("{}@{number}.service", self.app)
    }

    /// The worker units of these instance numbers.
    pub fn instances(&self, numbers: impl IntoIterator<Item = u32>) -> Vec<String> {
        numbers.into_iter().map(|i| self.instance(i)).collect()
    }

    /// `APP@*.service`: every instance, as journalctl matches it.
    pub fn instance_glob(&self) -> String {
        format!("{}@*.service", self.app)
    }

    /// `APP.service`: the app as one thing.
    pub fn app(&self) -> String {
        format!("{}.service", self.app)
    }

    /// `APP-cron.timer`: the schedule of `cron_restart`.
    pub fn cron_timer(&self) -> String {
        format!("{}-cron.timer", self.app)
    }

    /// `APP-cron.service`: what the timer runs.
    pub fn cron_service(&self) -> String {
        format!("{}-cron.service", self.app)
    }

    /// `APP-logs.service`: the writer of the app's log files.
    pub fn logs(&self) -> String {
        format!("{}-logs.service", self.app)
    }

    /// `APP-watch.service`: PM2's `watch`, a reload when a file changes.
    pub fn watch(&self) -> String {
        format!("{}-watch.service", self.app)
    }

    /// The file name of one kind of unit.
    pub fn of(&self, kind: UnitKind) -> String {
        match kind {
            UnitKind::Socket => self.socket(),
            UnitKind::Template => self.template(),
            UnitKind::App => self.app(),
            UnitKind::CronTimer => self.cron_timer(),
            UnitKind::CronService => self.cron_service(),
            UnitKind::Logs => self.logs(),
            UnitKind::Watch => self.watch(),
        }
    }

    /// Every unit an app may generate.
    pub fn all(&self) -> [String; 7] {
        UnitKind::ALL.map(|kind| self.of(kind))
    }

    /// Which of the app's units `unit` is.
    pub fn kind(&self, unit: &str) -> Option<UnitKind> {
        UnitKind::ALL
            .into_iter()
            .find(|&kind| self.of(kind) == unit)
    }

    /// The instance number of `APP@N.service`.
    pub fn instance_number(&self, unit: &str) -> Option<u32> {
        unit.strip_prefix(self.app.as_str())?
            .strip_prefix('@')?
            .strip_suffix(".service")?
            .parse()
            .ok()
    }

    /// The worker units among `units`, ordered by instance number.
    pub fn instances_among<'u>(&self, units: impl IntoIterator<Item = &'u str>) -> Vec<u32> {
        let mut numbers: Vec<u32> = units
            .into_iter()
            .filter_map(|unit| self.instance_number(unit))
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// `nodeunits/APP`: the workers' `RuntimeDirectory=`, under `/run` or
    /// `$XDG_RUNTIME_DIR`.
    pub fn runtime_directory(&self) -> String {
        format!("nodeunits/{}", self.app)
    }

    /// `stats.N`, in the runtime directory: the figures instance N's
    /// process publishes from inside (the preload's stats.cjs).
    pub fn stats_file(instance: u32) -> String {
        format!("stats.{instance}")
    }

    /// `APP.lock`: the rollout lock's file name.
    pub fn lock_file(&self) -> String {
        format!("{}.lock", self.app)
    }

    /// The app's entry in the apply journal, while an apply of it is unfinished.
    pub fn journal_entry(&self) -> String {
        format!("{}.json", self.app)
    }

    /// `APP.reload.json`: the last rolling reload's record, beside the lock.
    pub fn reload_record_file(&self) -> String {
        format!("{}.reload.json", self.app)
    }

    /// `APP.env`: the workers' environment file, beside the units (no unit
    /// name, so systemd does not read it as one).
    pub fn environment_file(&self) -> String {
        format!("{}{ENVIRONMENT_FILE_SUFFIX}", self.app)
    }
}

/// How an app's environment file is named after the app; no unit name ends so.
pub const ENVIRONMENT_FILE_SUFFIX: &str = ".env";

/// The units of `nodeunits metrics --install`, one endpoint per service
/// manager: a socket with `Accept=yes` and the service each scrape starts.
pub mod metrics_endpoint {
    /// The name an app must not take, as its units would be these.
    pub const RESERVED_APP: &str = "nodeunits-metrics";
    /// `nodeunits-metrics.socket`.
    pub const SOCKET: &str = "nodeunits-metrics.socket";
    /// `nodeunits-metrics@.service`: one instance per connection.
    pub const TEMPLATE: &str = "nodeunits-metrics@.service";
    /// Every instance, as systemctl and journalctl match them.
    pub const INSTANCES: &str = "nodeunits-metrics@*.service";
    /// The system user the system manager's endpoint runs as.
    pub const USER: &str = "nodeunits-metrics";
    /// Where that user is declared, for systemd-sysusers.
    pub const SYSUSERS_FILE: &str = "/etc/sysusers.d/nodeunits-metrics.conf";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_pm2_style_names() {
        for name in ["api", "my-app", "api_v2", "web.1", "A9"] {
            assert_eq!(AppName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn rejects_what_systemd_would_misread() {
        for name in [
            "", "my app", "a@b", "a/b", "a\nb", "-a", ".a", "a%i", "a\\x2d", "é",
        ] {
            assert!(AppName::new(name).is_err(), "{name:?}");
        }
        assert!(AppName::new(&"a".repeat(201)).is_err());
        assert_eq!(
            AppName::new("nodeunits-metrics"),
            Err(InvalidName::Reserved)
        );
        assert_eq!(
            InvalidName::Empty.said_of("a namespace"),
            "a namespace cannot be empty"
        );
    }

    #[test]
    fn maps_any_pm2_name_to_a_unit_name() {
        for (pm2, units) in [
            ("api", "api"),
            ("CodeChat Api", "CodeChat-Api"),
            ("PM2 Exporter", "PM2-Exporter"),
            ("@scope/api", "scope-api"),
            ("a / b", "a-b"),
            ("my.app v2", "my.app-v2"),
            ("café", "caf"),
            ("日本 api", "api"),
            (".hidden", "hidden"),
            ("- x -", "x"),
            ("a%i", "a-i"),
            ("a@b", "a-b"),
        ] {
            assert_eq!(AppName::from_pm2(pm2).unwrap().as_str(), units, "{pm2:?}");
        }
        assert_eq!(AppName::from_pm2("日本"), Err(InvalidName::NothingUsable));
        assert_eq!(AppName::from_pm2(" / "), Err(InvalidName::NothingUsable));
        assert_eq!(AppName::from_pm2(""), Err(InvalidName::Empty));
        assert_eq!(AppName::from_pm2("a\nb"), Err(InvalidName::Control));
        assert_eq!(AppName::from_pm2("a\tb"), Err(InvalidName::Control));
        assert_eq!(
            AppName::from_pm2("nodeunits-metrics"),
            Err(InvalidName::Reserved)
        );
        assert_eq!(
            AppName::from_pm2("nodeunits metrics"),
            Err(InvalidName::Reserved)
        );
        assert_eq!(
            AppName::from_pm2(&"é".repeat(300)),
            Err(InvalidName::NothingUsable)
        );
        assert_eq!(
            AppName::from_pm2(&format!("{} x", "a".repeat(199))),
            Err(InvalidName::TooLong)
        );
    }

    #[test]
    fn spells_every_unit() {
        let api = AppName::new("api").unwrap();
        let units = api.units();
        assert_eq!(
            units.all(),
            [
                "api.socket",
                "api@.service",
                "api.service",
                "api-cron.timer",
                "api-cron.service",
                "api-logs.service",
                "api-watch.service"
            ]
        );
        assert_eq!(units.instances(0..2), ["api@0.service", "api@1.service"]);
        assert_eq!(units.kind("api@.service"), Some(UnitKind::Template));
        assert_eq!(units.kind("api@0.service"), None);
    }

    #[test]
    fn reads_instance_numbers_back() {
        let api = AppName::new("api").unwrap();
        let units = api.units();
        assert_eq!(units.instance_number("api@12.service"), Some(12));
        assert_eq!(units.instance_number("apix@1.service"), None);
        assert_eq!(units.instance_number("api@.service"), None);
        assert_eq!(
            units.instances_among([
                "api@10.service",
                "api@2.service",
                "api.socket",
                "api@2.service"
            ]),
            [2, 10]
        );
    }
}
