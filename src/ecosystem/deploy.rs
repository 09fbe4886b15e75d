//! The top-level `deploy` section, pm2-deploy's: one table per environment
//! (`production`, `staging`...), each naming its hosts, the repository and
//! where the app lives on them, and the commands run around each step.

use std::fmt;
use std::ops::Range;

use super::diagnostic::{Diagnostics, Kind, Severity};
use super::document::{Node, Table, Value};

/// Every key an environment takes: pm2-deploy's.
const KEYS: &[&str] = &[
    "user",
    "host",
    "port",
    "key",
    "ssh_options",
    "ref",
    "repo",
    "path",
    "fetch",
    "pre-setup",
    "post-setup",
    "pre-deploy-local",
    "pre-deploy",
    "post-deploy",
    "env",
    "forward-agent",
];

/// One environment of the section, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// The destinations ssh is given: `user@host`, or `host` without `user`.
    pub hosts: Vec<String>,
    pub port: Option<u16>,
    /// The identity file (`ssh -i`), `~` expanded by the caller.
    pub key: Option<String>,
    /// Each an `ssh -o` option (`StrictHostKeyChecking=no`).
    pub ssh_options: Vec<String>,
    pub forward_agent: bool,
    /// What to deploy: `origin/main`, a tag, a commit.
    pub reference: String,
    pub repo: String,
    /// The app's directory on each host.
    pub path: String,
    /// `fetch = "fast"`: clones and fetches 5 commits deep.
    pub fast_fetch: bool,
    pub hooks: Hooks,
    /// Exported to every remote command.
    pub env: Vec<(String, String)>,
}

/// The commands run around the steps, as pm2-deploy names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub pre_setup: Option<String>,
    pub post_setup: Option<String>,
    pub pre_deploy_local: Option<String>,
    pub pre_deploy: Option<String>,
    pub post_deploy: Option<String>,
}

/// What is wrong in a `deploy` section.
#[derive(Debug)]
pub enum DeployFinding {
    NoSection,
    NotATable {
        what: String,
    },
    NoEnvironment {
        name: String,
        known: Vec<String>,
    },
    UnknownKey {
        environment: String,
        key: String,
    },
    Missing {
        environment: String,
        key: &'static str,
    },
    WrongType {
        environment: String,
        key: String,
        wanted: &'static str,
    },
    BadPort {
        environment: String,
    },
}

impl fmt::Display for DeployFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSection => write!(f, "the file has no `deploy` section"),
            Self::NotATable { what } => write!(f, "{what} is not a table"),
            Self::NoEnvironment { name, .. } => {
                write!(f, "the `deploy` section has no environment `{name}`")
            }
            Self::UnknownKey { environment, key } => {
                write!(
                    f,
                    "`deploy.{environment}.{key}` is no key of a deploy environment"
                )
            }
            Self::Missing { environment, key } => {
                write!(f, "`deploy.{environment}` has no `{key}`")
            }
            Self::WrongType {
                environment,
                key,
                wanted,
            } => write!(f, "`deploy.{environment}.{key}` must be {wanted}"),
            Self::BadPort { environment } => {
                write!(f, "`deploy.{environment}.port` is not a port")
            }
        }
    }
}

impl Kind for DeployFinding {
    fn severity(&self) -> Severity {
        Severity::Error
    }

    fn help(&self) -> String {
        match self {
            Self::NoSection => "add one, as pm2-deploy reads it: `deploy = { production = { user = \"deploy\", host = [\"web1\", \"web2\"], ref = \"origin/main\", repo = \"git@github.com:acme/api.git\", path = \"/srv/api\", post-deploy = \"npm ci && pm2 reload ecosystem.config.js --env production\" } }`".into(),
            Self::NotATable { .. } => "allowed: a table of environments, each a table of pm2-deploy's keys".into(),
            Self::NoEnvironment { known, .. } if known.is_empty() => "the section has no environment at all".into(),
            Self::NoEnvironment { known, .. } => format!("allowed: {}", known.join(", ")),
            Self::UnknownKey { .. } => format!("allowed: {}", KEYS.join(", ")),
            Self::Missing { key, .. } => match *key {
                "host" => "allowed: a host name or address, or a list of them".into(),
                "repo" => "allowed: the git repository's URL, as the hosts reach it".into(),
                "path" => "allowed: the app's directory on the hosts (absolute)".into(),
                _ => "allowed: the branch, tag or commit to deploy, as `origin/main`".into(),
            },
            Self::WrongType { .. } => String::new(),
            Self::BadPort { .. } => "allowed: a number from 1 to 65535".into(),
        }
    }
}

/// The names of the section's environments, in the file's order.
pub fn environment_names(top: &Table) -> Vec<String> {
    match top.get("deploy").map(Node::get_ref) {
        Some(Value::Table(section)) => section.iter().map(|(k, _)| k.name.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Reads the environment `name` of the file's `deploy` section (`top`: the
/// file's top-level table), recording what is wrong in `diagnostics`.
pub fn environment(top: &Table, name: &str, diagnostics: &mut Diagnostics) -> Option<Environment> {
    let Some(section) = top.get("deploy") else {
        diagnostics.report(None, DeployFinding::NoSection);
        return None;
    };
    let Value::Table(section) = section.get_ref() else {
        let what = "`deploy`".to_owned();
        diagnostics.report(Some(section.span()), DeployFinding::NotATable { what });
        return None;
    };
    let Some(node) = section.get(name) else {
        let known = environment_names(top);
        diagnostics.report(
            None,
            DeployFinding::NoEnvironment {
                name: name.to_owned(),
                known,
            },
        );
        return None;
    };
    let Value::Table(table) = node.get_ref() else {
        let what = format!("`deploy.{name}`");
        diagnostics.report(Some(node.span()), DeployFinding::NotATable { what });
        return None;
    };
    let before = diagnostics.items.len();
    let mut reader = Reader {
        environment: name,
        table,
        span: node.span(),
        diagnostics,
    };
    let environment = reader.read();
    (diagnostics.items.len() == before).then_some(environment)
}

struct Reader<'a> {
    environment: &'a str,
    table: &'a Table,
    span: Range<usize>,
    diagnostics: &'a mut Diagnostics,
}

impl Reader<'_> {
    fn read(&mut self) -> Environment {
        for (key, _) in self.table.iter() {
            if !KEYS.contains(&key.name.as_str()) {
                let finding = DeployFinding::UnknownKey {
                    environment: self.environment.to_owned(),
                    key: key.name.clone(),
                };
                self.diagnostics.report(Some(key.span.clone()), finding);
            }
        }
        let user = self.text("user");
        let hosts = self.hosts();
        Environment {
            name: self.environment.to_owned(),
            hosts: hosts
                .into_iter()
                .map(|host| match &user {
                    Some(user) => format!("{user}@{host}"),
                    None => host,
                })
                .collect(),
            port: self.port(),
            key: self.text("key"),
            ssh_options: self.texts("ssh_options"),
            forward_agent: self.flag("forward-agent"),
            reference: self.required("ref"),
            repo: self.required("repo"),
            path: self.required("path"),
            fast_fetch: self.text("fetch").as_deref() == Some("fast"),
            hooks: Hooks {
                pre_setup: self.text("pre-setup"),
                post_setup: self.text("post-setup"),
                pre_deploy_local: self.text("pre-deploy-local"),
                pre_deploy: self.text("pre-deploy"),
                post_deploy: self.text("post-deploy"),
            },
            env: self.env(),
        }
    }

    fn wrong(&mut self, key: &str, node: &Node, wanted: &'static str) {
        let finding = DeployFinding::WrongType {
            environment: self.environment.to_owned(),
            key: key.to_owned(),
            wanted,
        };
        self.diagnostics.report(Some(node.span()), finding);
    }

    fn text(&mut self, key: &str) -> Option<String> {
        let node = self.table.get(key)?;
        match node.get_ref() {
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            _ => {
                self.wrong(key, node, "a string");
                None
            }
        }
    }

    fn flag(&mut self, key: &str) -> bool {
        let Some(node) = self.table.get(key) else {
            return false;
        };
        match node.get_ref() {
            Value::Boolean(yes) => *yes,
            Value::String(text) => !text.is_empty(),
            Value::Null => false,
            _ => {
                self.wrong(key, node, "true or false");
                false
            }
        }
    }

    fn required(&mut self, key: &'static str) -> String {
        let before = self.diagnostics.items.len();
        match self.text(key) {
            Some(text) if !text.trim().is_empty() => text,
            // Of the wrong type: already said.
            _ if self.diagnostics.items.len() > before => String::new(),
            _ => {
                self.missing(key);
                String::new()
            }
        }
    }

    fn missing(&mut self, key: &'static str) {
        let finding = DeployFinding::Missing {
            environment: self.environment.to_owned(),
            key,
        };
        self.diagnostics.report(Some(self.span.clone()), finding);
    }

    /// A string, or a list of strings.
    fn texts(&mut self, key: &str) -> Vec<String> {
        let Some(node) = self.table.get(key) else {
            return Vec::new();
        };
        match node.get_ref() {
            Value::String(text) => vec![text.clone()],
            Value::Array(items) => {
                let texts: Option<Vec<String>> = items
                    .iter()
                    .map(|n| n.get_ref().as_str().map(str::to_owned))
                    .collect();
                texts.unwrap_or_else(|| {
                    self.wrong(key, node, "a string or a list of strings");
                    Vec::new()
                })
            }
            Value::Null => Vec::new(),
            _ => {
                self.wrong(key, node, "a string or a list of strings");
                Vec::new()
            }
        }
    }

    fn hosts(&mut self) -> Vec<String> {
        let before = self.diagnostics.items.len();
        let hosts: Vec<String> = self
            .texts("host")
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect();
        if hosts.is_empty() && self.diagnostics.items.len() == before {
            self.missing("host");
        }
        hosts
    }

    fn port(&mut self) -> Option<u16> {
        let node = self.table.get("port")?;
        let port = match node.get_ref() {
            Value::Integer(n) => u16::try_from(*n).ok(),
            Value::String(text) => text.trim().parse::<u16>().ok(),
            Value::Null => return None,
            _ => None,
        };
        if port.is_none_or(|p| p == 0) {
            let environment = self.environment.to_owned();
            self.diagnostics
                .report(Some(node.span()), DeployFinding::BadPort { environment });
            return None;
        }
        port
    }

    /// `env`: a table of variables, each value a string, number or boolean.
    fn env(&mut self) -> Vec<(String, String)> {
        let Some(node) = self.table.get("env") else {
            return Vec::new();
        };
        let Value::Table(vars) = node.get_ref() else {
            self.wrong("env", node, "a table of variables");
            return Vec::new();
        };
        let mut env = Vec::new();
        for (key, value) in vars.iter() {
            let text = match value.get_ref() {
                Value::String(text) => text.clone(),
                Value::Integer(n) => n.to_string(),
                Value::Float(text) => text.clone(),
                Value::Boolean(b) => b.to_string(),
                _ => {
                    self.wrong("env", value, "a table of strings, numbers or booleans");
                    continue;
                }
            };
            let valid = !key.name.is_empty()
                && !key.name.starts_with(|c: char| c.is_ascii_digit())
                && key
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.wrong(
                    "env",
                    value,
                    "a table whose names are variable names (letters, digits, `_`)",
                );
                continue;
            }
            env.push((key.name.clone(), text));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::formats::{read, Format};

    fn environment_of(toml: &str, name: &str) -> Result<Environment, Vec<String>> {
        let mut diagnostics = Diagnostics::default();
        let document = read(Format::Toml, toml, &mut diagnostics).unwrap();
        let top = document.get_ref().as_table().unwrap();
        environment(top, name, &mut diagnostics).ok_or_else(|| {
            diagnostics
                .items
                .iter()
                .map(|d| d.message.clone())
                .collect()
        })
    }

    #[test]
    fn pm2_deploys_keys() {
        let env = environment_of(
            r#"
[deploy.production]
user = "deploy"
host = ["web1", "fe80::2%nu0"]
port = "2222"
key = "~/.ssh/deploy"
ssh_options = ["StrictHostKeyChecking=no", "PasswordAuthentication=no"]
ref = "origin/main"
repo = "git@github.com:acme/api.git"
path = "/srv/api"
fetch = "fast"
post-deploy = "npm ci && pm2 reload ecosystem.config.js --env production"
env = { NODE_ENV = "production", WORKERS = 4 }
"#,
            "production",
        )
        .unwrap();
        assert_eq!(env.hosts, ["deploy@web1", "deploy@fe80::2%nu0"]);
        assert_eq!(env.port, Some(2222));
        assert_eq!(env.ssh_options.len(), 2);
        assert!(env.fast_fetch);
        assert_eq!(env.reference, "origin/main");
        assert_eq!(
            env.env,
            [
                ("NODE_ENV".to_owned(), "production".to_owned()),
                ("WORKERS".to_owned(), "4".to_owned())
            ]
        );
        assert!(env.hooks.post_deploy.unwrap().starts_with("npm ci"));
    }

    #[test]
    fn what_is_wrong_is_named() {
        let errors = environment_of(
            "[deploy.production]\nhost = 3\nrepo = \"r\"\npath = \"/srv\"\nrefs = \"x\"\n",
            "production",
        )
        .unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`deploy.production.refs` is no key")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`deploy.production` has no `ref`")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`deploy.production.host` must be")),
            "{errors:?}"
        );
        let errors = environment_of("[deploy.staging]\nhost = \"a\"\n", "production").unwrap_err();
        assert_eq!(
            errors,
            ["the `deploy` section has no environment `production`"]
        );
        let errors = environment_of("[[apps]]\nname = \"a\"\n", "production").unwrap_err();
        assert_eq!(errors, ["the file has no `deploy` section"]);
    }
}
