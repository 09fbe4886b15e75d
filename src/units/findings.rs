//! What compiling an app into units finds wrong, or worth a warning: one
//! kind per finding, with its fields, worded once here (as just's
//! `CompileErrorKind`); the call sites say only which finding and where.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use super::sandbox::OLDEST;
use crate::ecosystem::diagnostic::Kind;
use crate::ecosystem::{Diagnostics, Severity};

/// A finding of the units stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// `--env PROFILE` that no app defines; `defined`: the profiles that are.
    UnknownProfile {
        profile: String,
        defined: Vec<String>,
    },
    /// `why`: the characters a unit cannot hold.
    EcosystemPathUnwritable {
        why: &'static str,
    },
    /// `what`: "working directory", "env_file", "log file"…
    PathUnwritable {
        what: &'static str,
        why: &'static str,
    },
    /// A rendered value that a unit cannot hold.
    ValueUnwritable {
        why: &'static str,
    },
    StickyImpossible {
        why: &'static str,
    },
    /// A credential this manager cannot load: `why` says which and why.
    CredentialImpossible {
        name: String,
        why: String,
    },
    InheritedVariableUnset {
        name: String,
    },
    PortDisagrees {
        port: String,
        declared: String,
    },
    /// `user` or `group` in a user's service manager.
    NeedsSystemManager {
        key: &'static str,
    },
    /// `whose`: "belongs to root", or that its owner is unknown.
    WouldRunAsRoot {
        whose: &'static str,
        source: PathBuf,
    },
    ClusterPortNotANumber {
        value: String,
    },
    ListenPortDisagrees {
        port: String,
        declared: String,
    },
    NoSandbox {
        systemd: u32,
    },
    InterpreterNotFound {
        name: String,
    },
    InterpreterInVersionManager {
        path: PathBuf,
    },
    /// `source_map_support` on an app whose interpreter is not Node.
    SourceMapIgnored,
    /// `unresponsive_timeout` on an app that is not Node: nothing beats.
    UnresponsiveNotNode,
    /// `instances = "max"` (or `-n`) in `export kubernetes`: the CPUs of
    /// the machine that exports, not of the nodes.
    InstancesPerCpuInPods {
        count: u32,
    },
    /// `node_args` on a program run without interpreter.
    InterpreterArgsIgnored,
    /// No interpreter written, and the one PM2 picks for the script is not
    /// in `PATH`.
    ExtensionInterpreterNotFound {
        name: String,
        script: String,
    },
    /// `node@VERSION` that nvm does not have: `used` instead.
    NodeVersionFallback {
        version: String,
        looked: Option<PathBuf>,
        used: PathBuf,
    },
    /// An interpreter in the home of another account than `user`'s.
    InterpreterOfAnotherAccount {
        path: PathBuf,
        user: String,
    },
    /// A command line for `script` with `interpreter` set.
    CommandLineWithInterpreter {
        interpreter: String,
    },
    /// The program of a command line, found nowhere.
    CommandNotFound {
        line: String,
        program: String,
    },
    /// A log path starting with `~`, for an account without a home here.
    NoHome {
        key: &'static str,
        user: String,
    },
    /// `log_file` that one stream does not reach: `file` has it.
    LogFileMisses {
        stream: &'static str,
        key: &'static str,
    },
    ScriptNotFound {
        script: String,
        cwd: PathBuf,
    },
    NoShell,
    ShellCommandLine,
}

impl Kind for Finding {
    fn severity(&self) -> Severity {
        match self {
            Finding::InheritedVariableUnset { .. }
            | Finding::ClusterPortNotANumber { .. }
            | Finding::ListenPortDisagrees { .. }
            | Finding::NoSandbox { .. }
            | Finding::InterpreterInVersionManager { .. }
            | Finding::SourceMapIgnored
            | Finding::UnresponsiveNotNode
            | Finding::InstancesPerCpuInPods { .. }
            | Finding::InterpreterArgsIgnored
            | Finding::NodeVersionFallback { .. }
            | Finding::InterpreterOfAnotherAccount { .. }
            | Finding::LogFileMisses { .. }
            | Finding::ShellCommandLine => Severity::Warning,
            _ => Severity::Error,
        }
    }

    fn help(&self) -> String {
        match self {
            Finding::UnknownProfile { defined, .. } if defined.is_empty() => {
                "no app has an `env_<profile>` table; run without --env".to_owned()
            }
            Finding::UnknownProfile { defined, .. } => {
                format!("defined profiles: {}", defined.join(", "))
            }
            Finding::EcosystemPathUnwritable { why } | Finding::PathUnwritable { why, .. } => {
                format!("it contains {why}")
            }
            Finding::ValueUnwritable { why } => (*why).to_owned(),
            Finding::CredentialImpossible { .. } => "LoadCredential= needs systemd 247, LoadCredentialEncrypted= 250 and the system manager; in a user manager, or on an older systemd, keep the value in `env` (nodeunits writes it to a file of mode 0600) or in an `env_file` of your own".to_owned(),
            Finding::StickyImpossible { .. } => "sticky sessions need a Node app (script run by node, or by npm, npx…) with `port`, or a TCP address in `listen`; remove `sticky` otherwise".to_owned(),
            Finding::InheritedVariableUnset { .. } => {
                "inherit_env copies variables when the units are rendered".to_owned()
            }
            Finding::PortDisagrees { .. } => "set the port once: `port` sets PORT".to_owned(),
            Finding::NeedsSystemManager { .. } => "a user's service manager runs everything as that user: render with --system, or remove it".to_owned(),
            Finding::WouldRunAsRoot { source, .. } => format!(
                "an app without `user` runs as the owner of its file, as PM2 runs apps as the user who starts PM2; allowed: `user = \"deploy\"` (the account to run it as), the file given to that account (`chown deploy {}`), or `user = \"root\"` to run it as root on purpose",
                source.display()
            ),
            Finding::ClusterPortNotANumber { .. } => "the workers get no shared socket; set PORT to a port from 1 to 65535, or declare the socket with `port` or `listen`".to_owned(),
            Finding::ListenPortDisagrees { declared, .. } => format!("an app that listens on process.env.PORT binds {declared} itself and never serves the socket; remove PORT from the environment (`listen` sets it) or make the two agree"),
            Finding::NoSandbox { .. } => {
                format!("target systemd {OLDEST} or newer (--target-systemd) to sandbox them")
            }
            Finding::InterpreterNotFound { .. } => "set `interpreter` to an absolute path, a command found in PATH, or \"none\" to run the script directly".to_owned(),
            Finding::InterpreterInVersionManager { .. } => "the units break when that version is switched or removed; install Node system-wide, or set `interpreter` to a stable path".to_owned(),
            Finding::SourceMapIgnored => "PM2 ignores it too; remove it".to_owned(),
            Finding::InstancesPerCpuInPods { .. } => "a pod runs one worker, and the pods are spread over the cluster's nodes, whatever their size: set `instances` to the number of pods you want (or let a HorizontalPodAutoscaler choose)".to_owned(),
            Finding::UnresponsiveNotNode => "the event loop's beats come from nodeunits' preload, which only Node loads: remove it, or watch the app with a health check of its own".to_owned(),
            Finding::InterpreterArgsIgnored => "PM2 ignores them too; remove them, or put the program's options in `args`".to_owned(),
            Finding::ExtensionInterpreterNotFound { name, .. } => format!("install {name}, set `interpreter` to its path, or to \"none\" to run the script directly (it then needs the execute bit and a `#!` line)"),
            Finding::NodeVersionFallback { version, .. } => format!("install it with nvm (`nvm install {version}` as the app's user, or with NVM_DIR set for nodeunits), or set `interpreter` to a node's path"),
            Finding::InterpreterOfAnotherAccount { user, .. } => format!("`{user}` may not reach it, and a shim there reads that account's settings; install the interpreter system-wide or in the home of `{user}`, and set `interpreter` to its path"),
            Finding::CommandLineWithInterpreter { .. } => "set `script` to the file and `args` to its arguments, or remove `interpreter`".to_owned(),
            Finding::CommandNotFound { .. } => "set `script` to a file that exists (relative to `cwd`), or a command line whose first word is a command in PATH".to_owned(),
            Finding::NoHome { .. } => "write the log path without `~`".to_owned(),
            Finding::LogFileMisses { key, .. } => format!("systemd writes a stream to one file: set `{key}` to \"NULL\" for `log_file` to receive it, or leave `log_file` out"),
            Finding::ScriptNotFound { .. } => "set `script` to the program's path (relative to `cwd`), or a command found in PATH".to_owned(),
            Finding::NoShell => {
                "install bash, or set `script` to a program and `args` to its arguments".to_owned()
            }
            Finding::ShellCommandLine => "a Node server it starts gets no shared socket (it binds its port itself); for one, set `script` to the program (`npm`, `node`) and `args` to the rest".to_owned(),
        }
    }
}

impl Finding {
    /// Records the finding at `span` (a byte range of the file, if it has one).
    pub fn report(self, diagnostics: &mut Diagnostics, span: Option<Range<usize>>) {
        diagnostics.report(span, self);
    }
}

/// What is wrong, one sentence.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::UnknownProfile { profile, .. } => {
                write!(f, "no app defines the profile `{profile}` (`env_{profile}`)")
            }
            Finding::EcosystemPathUnwritable { .. } => {
                write!(f, "the ecosystem file's path cannot be written into a unit")
            }
            Finding::PathUnwritable { what, .. } => {
                write!(f, "the {what} of this app cannot be written into a unit")
            }
            Finding::ValueUnwritable { .. } => write!(f, "a value cannot be written into a unit"),
            Finding::CredentialImpossible { name, why } => {
                write!(f, "the credential `{name}` cannot be loaded: {why}")
            }
            Finding::StickyImpossible { why } => {
                write!(f, "`sticky = true` cannot apply to this app: {why}")
            }
            Finding::InheritedVariableUnset { name } => write!(
                f,
                "`{name}` is not set in the environment of nodeunits; the units do not get it"
            ),
            Finding::PortDisagrees { port, declared } => write!(
                f,
                "`port` is {port} but the environment sets PORT to {declared}"
            ),
            Finding::NeedsSystemManager { key } => {
                write!(f, "`{key}` needs the system service manager")
            }
            Finding::WouldRunAsRoot { whose, .. } => write!(
                f,
                "this app would run as root: it sets no `user`, and its ecosystem file {whose}"
            ),
            Finding::ClusterPortNotANumber { value } => write!(
                f,
                "this app runs in cluster mode, whose workers share the port in PORT, but PORT is {value:?}, not a port number"
            ),
            Finding::ListenPortDisagrees { port, declared } => write!(
                f,
                "`listen` holds port {port}, but the environment sets PORT to {declared:?}"
            ),
            Finding::NoSandbox { systemd } => write!(
                f,
                "the workers of this app run without a sandbox: systemd {systemd} has no `ProtectSystem=strict`"
            ),
            Finding::InterpreterNotFound { name } => {
                write!(f, "the interpreter `{name}` is not an executable in PATH")
            }
            Finding::InterpreterInVersionManager { path } => write!(
                f,
                "the interpreter is {}, inside a version manager's directory",
                path.display()
            ),
            Finding::SourceMapIgnored => write!(
                f,
                "`source_map_support` is ignored: this app's program is not Node"
            ),
            Finding::InstancesPerCpuInPods { count } => write!(
                f,
                "`instances` counts the CPUs of this machine: the export has {count} replicas"
            ),
            Finding::UnresponsiveNotNode => write!(
                f,
                "`unresponsive_timeout` is ignored: this app's program is not Node"
            ),
            Finding::InterpreterArgsIgnored => write!(
                f,
                "`node_args` is ignored: this script runs without an interpreter"
            ),
            Finding::ExtensionInterpreterNotFound { name, script } => write!(
                f,
                "`{script}` runs with {name}, as PM2 picks it for this script, and {name} is not an executable in PATH"
            ),
            Finding::NodeVersionFallback {
                version,
                looked,
                used,
            } => {
                let looked = looked.as_ref().map_or("nvm's directory is not known (no NVM_DIR, no home)".to_owned(), |path| {
                    format!("{} does not exist", path.display())
                });
                write!(
                    f,
                    "Node {version} is not installed by nvm ({looked}): the app runs with {}",
                    used.display()
                )
            }
            Finding::InterpreterOfAnotherAccount { path, user } => write!(
                f,
                "the interpreter {} lies in the home of another account than `{user}`, who runs this app",
                path.display()
            ),
            Finding::CommandLineWithInterpreter { interpreter } => write!(
                f,
                "this `script` is a command line (it has spaces and names no file), which PM2 runs with `bash -c`: with `interpreter = {interpreter:?}` it would run {interpreter} on bash"
            ),
            Finding::CommandNotFound { line, program } => write!(
                f,
                "`{line}` names no file, so it is a command line, as PM2 reads it; but `{program}` is no command in PATH"
            ),
            Finding::NoHome { key, user } => write!(
                f,
                "`{key}` starts with `~`, but `{user}`, who runs the app, has no home directory here"
            ),
            Finding::LogFileMisses { stream, key } => write!(
                f,
                "`log_file` does not receive {stream}: it goes to `{key}` only"
            ),
            Finding::ScriptNotFound { script, cwd } => write!(
                f,
                "`{script}` is neither a file in {} nor a command in PATH",
                cwd.display()
            ),
            Finding::NoShell => write!(
                f,
                "this `script` is a shell command line, and neither bash nor sh is in PATH"
            ),
            Finding::ShellCommandLine => write!(
                f,
                "this `script` is a shell command line: it runs with `bash -c`, as PM2 does"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_severity_and_one_wording() {
        let root = Finding::WouldRunAsRoot {
            whose: "belongs to root",
            source: PathBuf::from("/srv/e.toml"),
        };
        assert_eq!(root.severity(), Severity::Error);
        assert_eq!(
            root.to_string(),
            "this app would run as root: it sets no `user`, and its ecosystem file belongs to root"
        );
        assert!(root.help().contains("`chown deploy /srv/e.toml`"));
        let profile = |defined: &[&str]| Finding::UnknownProfile {
            profile: "prod".into(),
            defined: defined.iter().map(|d| d.to_string()).collect(),
        };
        assert_eq!(
            profile(&[]).help(),
            "no app has an `env_<profile>` table; run without --env"
        );
        assert_eq!(
            profile(&["dev", "staging"]).help(),
            "defined profiles: dev, staging"
        );
        let port = Finding::ClusterPortNotANumber {
            value: "http".into(),
        };
        assert_eq!(port.severity(), Severity::Warning);
        assert!(port.to_string().contains("but PORT is \"http\", not"));
    }
}
