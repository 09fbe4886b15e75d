//! What validating the apps of an ecosystem file finds: values that are
//! none of an option's forms, keys that are no option, names that cannot
//! name units. One kind per finding, with its fields, worded once here (as
//! just's `CompileErrorKind`); the call sites say only which and where.

use std::fmt;

use super::diagnostic::Kind;
use super::settings::defaults;
use super::Severity;
use crate::model::defaults::MAX_INSTANCES;

/// The forms an option's value may take, each worded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    String,
    Bool,
    WholeNumber {
        min: i64,
        max: i64,
    },
    Duration,
    AtMostAYear,
    Bytes,
    AtMostBytes,
    Words,
    Arguments,
    EnvironmentTable,
    Instances,
    AtMostInstances,
    VariableNameArray,
    VariableNames,
    ExitStatuses,
    ExecMode,
    Port,
    Listen,
    Account,
    ReadWritePaths,
    Hardening,
    Credentials,
    LogRotate,
    LogType,
    Watch,
    Globs,
    /// What a name must be, in the words of `model::name`.
    Name(String),
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allowed::String => f.write_str("a string"),
            Allowed::Watch => f.write_str("true or false, a path, or a list of paths (relative to `cwd`): `watch = [\"src\", \"config\"]`"),
            Allowed::Globs => f.write_str("a glob or a list of globs, each from `cwd`: `ignore_watch = [\"logs\", \"*.log\", \"src/**/*.test.js\"]` (`*`, `?`, `[abc]`, `**`; a `[` must close)"),
            Allowed::Bool => f.write_str("true or false"),
            Allowed::WholeNumber { min, max } => write!(f, "a whole number from {min} to {max}"),
            Allowed::Duration => f.write_str("milliseconds as a number (5000), or a string with units: \"8s\", \"500ms\", \"2min\", \"1h\""),
            Allowed::AtMostAYear => f.write_str("at most a year, \"365d\""),
            Allowed::Bytes => f.write_str("bytes as a number, or a string with a K, M, G or T suffix (powers of 1024): \"512M\", \"1G\""),
            Allowed::AtMostBytes => f.write_str("at most 1024T"),
            Allowed::Words => f.write_str("a string, or an array of strings"),
            Allowed::Arguments => f.write_str("a string, or an array of strings (one per argument)"),
            Allowed::EnvironmentTable => f.write_str("a table of variables, such as `[apps.env]` or `env = { NODE_ENV = \"production\" }`"),
            Allowed::Instances => f.write_str("a number of workers (4), \"max\" or 0 for one per CPU, or a negative number for the CPU count minus that many (at least 1)"),
            Allowed::AtMostInstances => write!(f, "at most {MAX_INSTANCES} workers"),
            Allowed::VariableNameArray => f.write_str("an array of variable names, such as [\"PATH\", \"HOME\"]"),
            Allowed::VariableNames => f.write_str("names of environment variables: letters, digits and `_`"),
            Allowed::ExitStatuses => f.write_str("exit statuses from 0 to 255, one or an array"),
            Allowed::ExecMode => f.write_str("\"fork\" or \"cluster\""),
            Allowed::Port => f.write_str("a TCP port number from 1 to 65535"),
            Allowed::Listen => f.write_str("\"127.0.0.1:3000\", \"[::1]:3000\", \"[::]:3000\", a port (3000) for all addresses, or a unix socket path (\"/run/api/http.sock\", \"./api.sock\")"),
            Allowed::Account => f.write_str("a user or group name (letters, digits, `_`, `-`, `.`), or a numeric id"),
            Allowed::ReadWritePaths => f.write_str("directories or files the app writes besides its own directory, as an array of paths: [\"/var/lib/api\", \"../uploads\"]"),
            Allowed::Hardening => f.write_str("\"on\" (the default: the workers run in systemd's sandbox) or \"off\" (no sandbox directive at all)"),
            Allowed::Credentials => f.write_str("a table of variable names, each the path of a file holding its value: `credentials = { DB_PASSWORD = \"/etc/nodeunits/credentials/api/DB_PASSWORD.cred\" }` (a `.cred` file is encrypted by `nodeunits secret set`)"),
            Allowed::LogRotate => f.write_str("true (pm2-logrotate's defaults), or a table of them: `log_rotate = { max_size = \"10M\", retain = 30, compress = false, interval = \"0 0 * * *\", date_format = \"YYYY-MM-DD_HH-mm-ss\" }` (a size with K, M or G; a count; true or false; a cron schedule, or \"0\" for none; dayjs tokens without `/`)"),
            Allowed::LogType => f.write_str("\"json\" (PM2's JSON lines) or \"raw\" (the lines as written)"),
            Allowed::Name(what) => f.write_str(what),
        }
    }
}

/// A finding of validating the apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionFinding {
    /// `key`: the spelling the file uses.
    InvalidValue {
        key: String,
        allowed: Allowed,
    },
    /// `0` or `""` where PM2 takes the value as not set; `what`: "0" or "empty".
    EmptyAsUnset {
        key: String,
        what: &'static str,
    },
    /// Another spelling of an option set with its canonical name.
    SpellingIgnored {
        ignored: String,
        winner: String,
    },
    /// Two other spellings of `name`; `order`: PM2's, quoted.
    AliasIgnored {
        ignored: String,
        winner: String,
        name: &'static str,
        order: String,
    },
    NotAVariableName {
        name: String,
    },
    NulInVariable,
    NotAProfile {
        key: String,
    },
    /// `env_<name>` holding no table (`"env_variable": "TOTO"`, a PM2
    /// example): PM2 reads no profile from it.
    ProfileNotATable {
        key: String,
    },
    ZeroTimeout {
        key: String,
    },
    /// `restart_delay` beside `exp_backoff_restart_delay`, which wins.
    FixedDelayIgnored {
        fixed: String,
        backoff: String,
        first_ms: u128,
    },
    /// A cron expression with no timer equivalent; `why`: the cron reader's words.
    NoTimer {
        key: String,
        why: String,
    },
    ListenedTwice,
    ReadWritePathsWithoutSandbox,
    /// `log_file = true`: PM2's own combined file.
    CombinedLogInJournal {
        key: String,
    },
    InvalidLogPath {
        key: String,
    },
    InvalidScript {
        key: String,
    },
    NoScript,
    NoName,
    /// `shown`: the name, escaped; `why`: what a name must be.
    CannotNameUnits {
        shown: String,
        why: String,
    },
    /// The name PM2 would take from `script`, which cannot name units.
    NameFromScript {
        shown: String,
        why: String,
    },
    /// PM2's name `shown` (escaped) names the units `units`; `derived`:
    /// PM2 took it from `script`.
    NameMapped {
        shown: String,
        units: String,
        derived: bool,
    },
    DefinedTwice {
        name: String,
    },
    /// Two apps whose PM2 names map to one unit name.
    SameUnitName {
        name: String,
        other: String,
        units: String,
    },
    UnitOfTwoApps {
        unit: String,
        name: String,
        owner: String,
    },
    IgnoredOption {
        key: String,
        instead: &'static str,
    },
    /// `suggestion`: the spelling probably meant.
    UnknownOption {
        key: String,
        suggestion: Option<String>,
    },
    IgnoredTopLevel {
        key: String,
        why: &'static str,
    },
    UnknownTopLevel {
        key: String,
        suggestion: Option<String>,
    },
}

/// Where the user reads every option.
const EVERY_OPTION: &str = "see \"The ecosystem file\" in the README for every option";

impl fmt::Display for OptionFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use OptionFinding::*;
        match self {
            InvalidValue { key, .. } => write!(f, "invalid value for `{key}`"),
            EmptyAsUnset { key, what } => write!(f, "`{key}` is {what}, which PM2 takes as not set"),
            SpellingIgnored { ignored, winner } => write!(f, "`{ignored}` is ignored: it is another name for `{winner}`, which is set too"),
            AliasIgnored { ignored, winner, name, .. } => write!(f, "`{ignored}` is ignored: `{winner}` is set too, and both are names of `{name}`"),
            NotAVariableName { name } => write!(f, "`{name}` cannot be the name of an environment variable"),
            NulInVariable => f.write_str("an environment variable cannot contain a NUL character"),
            NotAProfile { key } => write!(f, "`{key}` is not a valid profile"),
            ProfileNotATable { key } => write!(f, "`{key}` is not a table of variables, so it is no profile and is ignored"),
            ZeroTimeout { key } => write!(f, "`{key}` cannot be 0"),
            FixedDelayIgnored { fixed, backoff, .. } => write!(f, "`{fixed}` is ignored: `{backoff}` is set"),
            NoTimer { key, .. } => write!(f, "`{key}` cannot become a timer"),
            ListenedTwice => f.write_str("this socket is listed twice in `listen`"),
            CombinedLogInJournal { key } => write!(f, "`{key} = true` asks for PM2's own combined log file, which nodeunits does not write"),
            ReadWritePathsWithoutSandbox => f.write_str("`read_write_paths` has no effect: `hardening = \"off\"` lets the app write anywhere its user may"),
            InvalidLogPath { key } => write!(f, "invalid path for `{key}`"),
            InvalidScript { key } => write!(f, "invalid value for `{key}`"),
            NoScript => f.write_str("this app has no `script`"),
            NoName => f.write_str("this app has no `name`"),
            CannotNameUnits { shown, .. } => write!(f, "`{shown}` cannot name units"),
            NameFromScript { shown, .. } => write!(f, "this app has no `name`, and `{shown}`, which PM2 would take from `script`, cannot name units"),
            NameMapped { shown, units, derived: false } => write!(f, "the app `{shown}` gets units named `{units}`"),
            NameMapped { shown, units, derived: true } => write!(f, "the app `{shown}` (PM2's name from `script`) gets units named `{units}`"),
            DefinedTwice { name } => write!(f, "the app `{name}` is defined twice"),
            SameUnitName { name, other, units } => write!(f, "the apps `{other}` and `{name}` would both get units named `{units}`"),
            UnitOfTwoApps { unit, name, owner } => write!(f, "the unit `{unit}` of the app `{name}` is also a unit of the app `{owner}`"),
            IgnoredOption { key, .. } => write!(f, "`{key}` has no meaning under systemd and is ignored"),
            UnknownOption { key, .. } => write!(f, "unknown option `{key}`"),
            IgnoredTopLevel { key, .. } => write!(f, "`{key}` has no meaning under systemd"),
            UnknownTopLevel { key, .. } => write!(f, "unknown top-level key `{key}`"),
        }
    }
}

impl Kind for OptionFinding {
    fn severity(&self) -> Severity {
        use OptionFinding::*;
        match self {
            EmptyAsUnset { .. }
            | SpellingIgnored { .. }
            | AliasIgnored { .. }
            | FixedDelayIgnored { .. }
            | ReadWritePathsWithoutSandbox
            | CombinedLogInJournal { .. }
            | ProfileNotATable { .. }
            | NameMapped { .. }
            | IgnoredOption { .. }
            | IgnoredTopLevel { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    fn help(&self) -> String {
        use OptionFinding::*;
        match self {
            InvalidValue { allowed, .. } => format!("allowed: {allowed}"),
            EmptyAsUnset { .. } => "so does nodeunits: the default applies (see \"The ecosystem file\" in the README); remove it or give a value".to_owned(),
            SpellingIgnored { winner, .. } => format!("PM2 takes `{winner}` when both are set, and so does nodeunits; remove one"),
            AliasIgnored { order, .. } => format!("PM2 takes the first of {order} that is set and not false, 0 or empty, and so does nodeunits; remove one"),
            NotAVariableName { .. } => "allowed: letters, digits and `_`, not starting with a digit".to_owned(),
            NulInVariable => String::new(),
            NotAProfile { .. } => "allowed: `env_` followed by letters, digits, `_` or `-`, such as `env_production`".to_owned(),
            ProfileNotATable { .. } => "PM2 ignores it too; a profile is a table, such as `env_production = { NODE_ENV = \"production\" }`".to_owned(),
            ZeroTimeout { .. } => "systemd reads 0 as \"no timeout\"; give a duration such as \"5s\"".to_owned(),
            FixedDelayIgnored { first_ms, .. } => format!(
                "PM2 ignores the fixed delay when both are set, and so does nodeunits: a restart waits {first_ms} ms, then 1.5 times longer each time, up to {} s",
                defaults::MAX_BACKOFF.as_secs()
            ),
            NoTimer { why, .. } => why.clone(),
            ListenedTwice => "list each address once".to_owned(),
            ReadWritePathsWithoutSandbox => "remove one of them".to_owned(),
            CombinedLogInJournal { .. } => "the journal holds both streams (`nodeunits logs APP`); set a path to write them to a file".to_owned(),
            InvalidLogPath { .. } => "allowed: a file path, or \"/dev/null\" or \"NULL\" to discard the stream".to_owned(),
            InvalidScript { .. } => "allowed: a path to the program, or a command found in PATH".to_owned(),
            NoScript => "set the program to run, such as `script = \"dist/server.js\"`".to_owned(),
            NoName => "every app needs a name, such as `name = \"api\"`: it names the app's units".to_owned(),
            CannotNameUnits { why, .. } => format!("allowed: {why}"),
            NameFromScript { why, .. } => format!("set `name`, such as `name = \"api\"`; {why}"),
            NameMapped { units, .. } => format!("unit names hold only ASCII letters, digits, `_`, `.` and `-`: its units are {units}.service and {units}@.service (with {units}.socket and {units}-cron.timer when it has them); `status` and `describe` show PM2's name, and every command takes either name; to silence this, set `name = \"{units}\"`"),
            SameUnitName { .. } => "unit names hold only ASCII letters, digits, `_`, `.` and `-`, each run of other characters becoming `-`: rename one of the apps".to_owned(),
            DefinedTwice { .. } | UnitOfTwoApps { .. } => "give each app a name of its own; an app `X` owns X.service, X@.service, X.socket, X-cron.timer and X-cron.service".to_owned(),
            IgnoredOption { instead, .. } => format!("instead: {instead}"),
            UnknownOption { key, suggestion: Some(known) } => format!("did you mean `{known}`? PM2 ignores keys it does not know, so this typo would go unnoticed there; a key of your own starts with `_` (`_{key}`), which both ignore; {EVERY_OPTION}"),
            UnknownOption { key, suggestion: None } => format!("PM2 ignores keys it does not know, so a typo would go unnoticed there; a key of your own starts with `_` (`_{key}`), which both ignore; {EVERY_OPTION}"),
            IgnoredTopLevel { why, .. } => (*why).to_owned(),
            UnknownTopLevel { suggestion: Some(known), .. } => format!("did you mean `{known}`?"),
            UnknownTopLevel { suggestion: None, .. } => "an ecosystem file holds its apps under `apps`; put app options inside an app".to_owned(),
        }
    }
}
