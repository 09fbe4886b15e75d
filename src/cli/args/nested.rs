//! The subcommands of `nodeunits export` and `nodeunits secret`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{app_name, variable_name, ManagerArgs};
use crate::model::AppName;

/// What `nodeunits secret` does.
#[derive(Debug, Subcommand)]
pub enum SecretAction {
    /// Encrypt a value for an app: /etc/nodeunits/credentials/APP/NAME.cred.
    ///
    /// Reads the value from standard input (one final newline dropped), or
    /// asks for it without echo on a terminal, and encrypts it with
    /// `systemd-creds encrypt --name=NAME` (this machine's key; systemd 250
    /// or later). The app gets it as the variable NAME once its ecosystem
    /// file names the file: `credentials = { NAME = "…/NAME.cred" }`. Root
    /// only; the value is never printed.
    Set {
        /// The app, by its units' name or PM2's (`CodeChat Api` for `CodeChat-Api`).
        #[arg(value_parser = app_name)]
        app: AppName,
        /// The credential's name, which is also the app's variable.
        #[arg(value_parser = variable_name)]
        name: String,
        #[command(flatten)]
        manager: ManagerArgs,
    },
}

/// The platforms `nodeunits export` writes for.
#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// Print Kubernetes manifests for every app, for `kubectl apply -f -`.
    ///
    /// Per app: one pod per instance, each running nodeunits-helper with the
    /// worker's options (readiness, drain, memory restarts), rolled one pod
    /// at a time: a Deployment for one instance, a StatefulSet for more, so
    /// that NODE_APP_INSTANCE is each pod's ordinal; a Service for its TCP
    /// ports; for
    /// cron_restart a CronJob running `kubectl rollout restart` with its
    /// ServiceAccount, Role and RoleBinding. Every setting with no Kubernetes
    /// meaning is said on stderr with what happens instead.
    Kubernetes {
        /// The ecosystem file, in the format its name says: *.toml, *.yaml,
        /// *.yml, *.json, *.json5, or *.js, *.cjs, *.mjs (evaluated by node).
        file: PathBuf,
        /// Select `env_NAME` over `env` for every app that defines it.
        #[arg(long = "env", value_name = "NAME")]
        env: Option<String>,
        /// The image the pods run: the app, its interpreter and
        /// nodeunits-helper [default: APP:latest].
        #[arg(long, value_name = "IMAGE")]
        image: Option<String>,
        /// The namespace of every manifest [default: kubectl's current one].
        #[arg(long, value_name = "NS", value_parser = crate::kubernetes::namespace)]
        namespace: Option<String>,
        /// Also print Secret APP-env, which holds the values of the apps'
        /// environment; without it, the pods name that Secret and it is said
        /// on stderr, but no value is printed.
        #[arg(long)]
        show_secrets: bool,
    },
}
