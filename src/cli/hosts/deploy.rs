//! `nodeunits deploy [FILE] ENV [COMMAND]`: pm2-deploy's commands over the
//! machine's own ssh, one host at a time, each host's apps rolled with
//! `nodeunits reload FILE` (successor first) before the next host starts.
//!
//! Unlike pm2-deploy, which resets one checkout in place (`git reset
//! --hard`, so a failed deploy leaves the host half on the new code), each
//! deploy is a release of its own, `PATH/releases/N` (a `git worktree` of
//! `PATH/source`), and `PATH/current` a symlink replaced atomically
//! (rename(2)) once the release is built; `revert` is that swap back and a
//! reload, with nothing to fetch or build. `PATH/.deploys` records each
//! deploy: release, commit, time, and the arguments of its reload.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::ssh::{quote, Failure, Ssh};
use crate::ecosystem::deploy::Environment;

/// The releases kept on each host, besides the current one.
const KEPT_RELEASES: usize = 5;

/// What `deploy` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Setup,
    Update,
    Revert(u32),
    Current,
    Previous,
    List,
    Exec(String),
}

/// The command line after `deploy`: `[FILE] ENV [COMMAND [ARGS]]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub file: PathBuf,
    pub environment: String,
    pub action: Action,
}

/// The files `deploy` looks for without one named, as `pm2 deploy` does.
const DEFAULT_FILES: [&str; 6] = [
    "ecosystem.config.js",
    "ecosystem.config.cjs",
    "ecosystem.config.mjs",
    "ecosystem.json",
    "ecosystem.yaml",
    "ecosystem.toml",
];

/// The first of [`DEFAULT_FILES`] in `dir`.
pub fn default_file(dir: &Path) -> anyhow::Result<PathBuf> {
    let found = DEFAULT_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file());
    found.with_context(|| {
        format!(
            "no ecosystem file named and none in {}: allowed: `nodeunits deploy FILE ENV [COMMAND]`, or run it where one of {} is",
            dir.display(),
            DEFAULT_FILES.join(", ")
        )
    })
}

/// Reads `[FILE] ENV [COMMAND [ARGS]]`; FILE is the first word when it is
/// a file, else the first of [`DEFAULT_FILES`] in `dir`.
pub fn parse(words: &[String], dir: &Path) -> anyhow::Result<Request> {
    let (file, rest) = match words.first() {
        Some(first) if words.len() > 1 && dir.join(first).is_file() => {
            (dir.join(first), &words[1..])
        }
        _ => (default_file(dir)?, words),
    };
    let Some((environment, rest)) = rest.split_first() else {
        bail!("no environment named: allowed: `nodeunits deploy [FILE] ENV [setup | update | revert [N] | curr | prev | list | exec CMD]`");
    };
    let action = match rest.split_first() {
        None => Action::Update,
        Some((command, args)) => {
            let none = |action: Action| {
                if args.is_empty() {
                    Ok(action)
                } else {
                    Err(anyhow::anyhow!(
                        "`{command}` takes no arguments, got `{}`",
                        args.join(" ")
                    ))
                }
            };
            match command.as_str() {
                "setup" => none(Action::Setup)?,
                "update" => none(Action::Update)?,
                "curr" | "current" => none(Action::Current)?,
                "prev" | "previous" => none(Action::Previous)?,
                "list" => none(Action::List)?,
                "revert" => match args {
                    [] => Action::Revert(1),
                    [n] => Action::Revert(n.parse().ok().filter(|n| *n > 0).with_context(|| {
                        format!("`revert {n}`: allowed: a number of deploys to go back, 1 or more")
                    })?),
                    _ => bail!("`revert` takes one number, got `{}`", args.join(" ")),
                },
                "exec" | "run" if !args.is_empty() => Action::Exec(args.join(" ")),
                "exec" | "run" => bail!("`{command}` needs the command to run on each host"),
                other => bail!(
                    "`{other}` is no deploy command: allowed: setup, update (the default), revert [N], curr, prev, list, exec CMD"
                ),
            }
        }
    };
    Ok(Request {
        file,
        environment: environment.clone(),
        action,
    })
}

/// A step that failed on a host: which, what it ran, and what it said.
#[derive(Debug)]
pub struct StepFailed {
    pub host: String,
    pub step: &'static str,
    pub command: String,
    pub failure: Failure,
}

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "host {}: step `{}` failed ({})\n  command: {}\n  its output, last lines:\n{}",
            self.host,
            self.step,
            self.failure,
            self.command,
            self.failure.last_lines(20)
        )
    }
}

/// One host's session: its ssh, the environment's settings.
struct Host<'a> {
    ssh: &'a Ssh,
    host: &'a str,
    environment: &'a Environment,
}

impl Host<'_> {
    /// The shell lines every step begins with: stop at the first failure,
    /// the environment's variables, `P` the app's path and `SHARED`.
    fn prelude(&self) -> String {
        let mut lines = String::from("set -e\n");
        for (name, value) in &self.environment.env {
            lines += &format!("export {name}={}\n", quote(value));
        }
        let path = quote(&self.environment.path);
        lines += &format!(
            "P={path}\nexport SHARED=\"$P/shared\"\nexport XDG_RUNTIME_DIR=\"${{XDG_RUNTIME_DIR:-/run/user/$(id -u)}}\"\n"
        );
        lines
    }

    /// Runs a step: `command` as the user would read it, `script` what runs.
    fn step(&self, step: &'static str, command: &str, script: &str) -> Result<String, StepFailed> {
        println!("  {} | {step}", self.host);
        let script = format!("{}{script}", self.prelude());
        let output = self
            .ssh
            .run(self.host, &script)
            .map_err(|failure| StepFailed {
                host: self.host.to_owned(),
                step,
                command: command.to_owned(),
                failure,
            })?;
        for line in output.lines() {
            println!("  {} |   {line}", self.host);
        }
        Ok(output)
    }

    fn hook(&self, step: &'static str, hook: &Option<String>, dir: &str) -> Result<(), StepFailed> {
        if let Some(command) = hook {
            let script = format!("cd {dir}\nbash -c {}\n", quote(command));
            self.step(step, command, &script)?;
        }
        Ok(())
    }

    fn check(&self, setup_done: bool) -> Result<(), StepFailed> {
        let mut script = String::from(
            "command -v nodeunits >/dev/null || { echo \"nodeunits is not installed on this host (not in PATH=$PATH): install its package here (README, Install)\"; exit 1; }\n\
             command -v git >/dev/null || { echo \"git is not installed on this host\"; exit 1; }\n",
        );
        if setup_done {
            script += &format!(
                "test -d \"$P/source\" || {{ echo \"$P/source does not exist: run \\`nodeunits deploy {} setup\\` first\"; exit 1; }}\n",
                self.environment.name
            );
        }
        self.step("check", "command -v nodeunits git", &script)
            .map(drop)
    }

    fn setup(&self) -> Result<(), StepFailed> {
        let env = self.environment;
        if let Some(pre) = &env.hooks.pre_setup {
            // pm2-deploy: a pre-setup naming a local script runs it on the host.
            let first = pre.split_whitespace().next().unwrap_or_default();
            let script = match std::fs::read_to_string(first) {
                Ok(text) if Path::new(first).is_file() => text,
                _ => format!("bash -c {}\n", quote(pre)),
            };
            self.step("pre-setup", pre, &script)?;
        }
        let depth = if env.fast_fetch { " --depth=5" } else { "" };
        let clone = format!(
            "git clone --quiet --no-checkout{depth} {} \"$P/source\"",
            quote(&env.repo)
        );
        let script = format!(
            "mkdir -p \"$P/shared/logs\" \"$P/shared/pids\" \"$P/releases\"\n\
             if [ -d \"$P/source/.git\" ] || [ -f \"$P/source/HEAD\" ]; then echo \"$P/source exists: already set up\"; else {clone}; fi\n"
        );
        self.step("setup", &clone, &script)?;
        self.hook("post-setup", &env.hooks.post_setup, "\"$P/source\"")
    }

    /// Fetches, builds a release, runs post-deploy in it and switches to it.
    fn update(&self) -> Result<(), StepFailed> {
        let env = self.environment;
        self.hook(
            "pre-deploy",
            &env.hooks.pre_deploy,
            "\"$P/current\" 2>/dev/null || cd \"$P/source\"",
        )?;
        let depth = if env.fast_fetch { " --depth=5" } else { "" };
        let reference = quote(&format!("{}^{{commit}}", env.reference));
        let fetch = format!("git fetch --quiet --all --tags{depth}");
        let output = self.step(
            "fetch",
            &format!("{fetch} && git rev-parse {}", env.reference),
            &format!("cd \"$P/source\"\n{fetch}\ngit rev-parse --verify --quiet {reference} || {{ echo \"{} names no commit of {}\"; exit 1; }}\n", env.reference, env.repo),
        )?;
        let commit = output.lines().last().unwrap_or_default().trim().to_owned();
        let release_script = format!(
            "last=$(ls -1 \"$P/releases\" | grep -E '^[0-9]+$' | sort -n | tail -n 1)\n\
             n=$(( ${{last:-0}} + 1 ))\n\
             git -C \"$P/source\" worktree add --quiet --detach \"$P/releases/$n\" {commit}\n\
             echo \"$n\"\n"
        );
        let output = self.step(
            "release",
            &format!("git worktree add PATH/releases/N {commit}"),
            &release_script,
        )?;
        let release = output.lines().last().unwrap_or_default().trim().to_owned();
        let post_deploy = env.hooks.post_deploy.clone().unwrap_or_default();
        let script = format!(
            "N={release}\nCOMMIT={commit}\nHOOK={hook}\n{body}",
            hook = quote(&post_deploy),
            body = POST_DEPLOY
        );
        self.step("post-deploy", &post_deploy, &script)?;
        self.step("prune", "keep the last releases", &prune_script())
            .map(drop)
    }

    fn revert(&self, steps: u32) -> Result<(), StepFailed> {
        let script = format!("BACK={steps}\n{REVERT}");
        self.step("revert", &format!("revert {steps}"), &script)
            .map(drop)
    }
}

/// The post-deploy step, in the new release: PM2's commands as nodeunits'
/// (the function `pm2`), the switch of `current`, the record; on failure
/// the previous release back, reloaded, and the new one removed.
const POST_DEPLOY: &str = r#"state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
previous=$(readlink "$P/current" || true)
export P N state
nodeunits_switch() {
  [ -e "$state/switched" ] && return 0
  ln -sfn "releases/$N" "$P/current.new" && mv -T "$P/current.new" "$P/current"
  : > "$state/switched"
}
pm2() {
  local command=$1
  case "$command" in
    reload|restart|start|startOrReload|startOrRestart|gracefulReload)
      shift
      nodeunits_switch
      echo "nodeunits deploy: \`pm2 $command $*\` runs \`nodeunits reload $*\` in $P/current (successor first)"
      printf '%q ' "$@" > "$state/reload"
      (cd "$P/current" && nodeunits reload "$@") ;;
    save|startup|update|ping|ls|list|status|jlist)
      echo "nodeunits deploy: \`pm2 $*\` is not needed under nodeunits: skipped" ;;
    *)
      echo "nodeunits deploy: \`pm2 $*\` has no counterpart in a deploy; allowed: pm2 reload, restart or start FILE|APP [--env ENV] (run as nodeunits reload), pm2 save (skipped)"
      return 1 ;;
  esac
}
export -f pm2 nodeunits_switch
cd "$P/releases/$N"
if bash -c "$HOOK"; then
  nodeunits_switch
  printf '%s\t%s\t%s\t%s\n' "$N" "$COMMIT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cat "$state/reload" 2>/dev/null)" >> "$P/.deploys"
  echo "release $N ($COMMIT) is current"
else
  status=$?
  echo "post-deploy failed (exit status $status): release $N is removed"
  if [ -e "$state/switched" ]; then
    if [ -n "$previous" ]; then
      ln -sfn "$previous" "$P/current.new" && mv -T "$P/current.new" "$P/current"
      args=$(tail -n 1 "$P/.deploys" 2>/dev/null | cut -f 4)
      if [ -n "$args" ]; then
        echo "back on $previous: nodeunits reload $args"
        (cd "$P/current" && eval "nodeunits reload $args") || echo "the reload back onto $previous failed too"
      fi
    else
      rm -f "$P/current"
    fi
  fi
  cd "$P"
  git -C "$P/source" worktree remove --force "$P/releases/$N" || true
  exit "$status"
fi
"#;

/// Back `BACK` deploys: `current` onto that release, its apps reloaded.
const REVERT: &str = r#"[ -s "$P/.deploys" ] || { echo "no deploy recorded in $P/.deploys"; exit 1; }
line=$(tail -n $((BACK + 1)) "$P/.deploys" | head -n 1)
count=$(wc -l < "$P/.deploys")
[ "$count" -gt "$BACK" ] || { echo "only $count deploys are recorded: cannot go back $BACK"; exit 1; }
n=$(printf '%s' "$line" | cut -f 1)
commit=$(printf '%s' "$line" | cut -f 2)
args=$(printf '%s' "$line" | cut -f 4)
[ -n "$args" ] || args=$(tail -n 1 "$P/.deploys" | cut -f 4)
[ -d "$P/releases/$n" ] || { echo "release $n was removed (the last releases are kept): deploy its commit $commit instead"; exit 1; }
ln -sfn "releases/$n" "$P/current.new" && mv -T "$P/current.new" "$P/current"
echo "release $n ($commit) is current"
if [ -n "$args" ]; then
  echo "nodeunits reload $args"
  (cd "$P/current" && eval "nodeunits reload $args")
fi
printf '%s\t%s\t%s\t%s\n' "$n" "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$args" >> "$P/.deploys"
"#;

fn prune_script() -> String {
    format!(
        "current=$(readlink \"$P/current\" | sed 's|.*/||')\n\
         for n in $(ls -1 \"$P/releases\" | grep -E '^[0-9]+$' | sort -n | head -n -{KEPT_RELEASES}); do\n\
           [ \"$n\" = \"$current\" ] || git -C \"$P/source\" worktree remove --force \"$P/releases/$n\"\n\
         done\n\
         git -C \"$P/source\" worktree prune\n"
    )
}

/// Runs the request's action on every host of its environment, in order;
/// the first host that fails stops it.
pub fn run(request: &Request, environment: &Environment) -> anyhow::Result<ExitCode> {
    let ssh = Ssh::of(environment);
    let name = &environment.name;
    if request.action == Action::Update {
        if let Some(local) = &environment.hooks.pre_deploy_local {
            println!("pre-deploy-local: {local}");
            let dir = request.file.parent().unwrap_or(Path::new("."));
            let status = std::process::Command::new("bash")
                .args(["-c", local])
                .current_dir(dir)
                .status()
                .context("running pre-deploy-local with bash")?;
            if !status.success() {
                bail!("deploy {name}: pre-deploy-local failed ({status}) on this machine, before any host: {local}");
            }
        }
    }
    let total = environment.hosts.len();
    // Every host is checked before any is touched: nodeunits and git there,
    // and set up (but for `setup`).
    if matches!(
        request.action,
        Action::Setup | Action::Update | Action::Revert(_)
    ) {
        for host in &environment.hosts {
            let one = Host {
                ssh: &ssh,
                host,
                environment,
            };
            if let Err(failed) = one.check(request.action != Action::Setup) {
                eprintln!(
                    "nodeunits deploy {name}: {failed}
no host was changed"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    for (i, host) in environment.hosts.iter().enumerate() {
        let one = Host {
            ssh: &ssh,
            host,
            environment,
        };
        println!("{name}: {host} ({} of {total})", i + 1);
        let done = match &request.action {
            Action::Setup => one.setup(),
            Action::Update => one.update(),
            Action::Revert(n) => one.revert(*n),
            Action::Current => one
                .step("curr", "readlink current", "r=$(readlink \"$P/current\") || { echo \"no release is current\"; exit 1; }\necho \"${r##*/} $(git -C \"$P/current\" rev-parse --short HEAD)\"\n")
                .map(drop),
            Action::Previous => one
                .step("prev", "the deploy before the last", "[ \"$(wc -l < \"$P/.deploys\")\" -ge 2 ] || { echo \"no previous deploy\"; exit 1; }\ntail -n 2 \"$P/.deploys\" | head -n 1 | cut -f 1-3\n")
                .map(drop),
            Action::List => one
                .step("list", "the recorded deploys, newest first", "tac \"$P/.deploys\" | cut -f 1-3 | awk '{ printf \"%d\\t%s\\n\", NR - 1, $0 }'\n")
                .map(drop),
            Action::Exec(command) => one
                .step("exec", command, &format!("cd \"$P/current\"\nbash -c {}\n", quote(command)))
                .map(drop),
        };
        if let Err(failed) = done {
            let left = &environment.hosts[i + 1..];
            let untouched = if left.is_empty() {
                String::new()
            } else {
                format!("\nnot reached, unchanged: {}", left.join(", "))
            };
            eprintln!("nodeunits deploy {name}: {failed}{untouched}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn pm2_deploys_command_line() {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-deploy-args.{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ecosystem.config.js"), "module.exports = {}").unwrap();
        std::fs::write(dir.join("other.toml"), "").unwrap();
        let request = parse(&words("production"), &dir).unwrap();
        assert_eq!(request.file, dir.join("ecosystem.config.js"));
        assert_eq!(request.action, Action::Update);
        let request = parse(&words("other.toml production revert 2"), &dir).unwrap();
        assert_eq!(request.file, dir.join("other.toml"));
        assert_eq!(request.action, Action::Revert(2));
        let request = parse(&words("production exec npm run migrate"), &dir).unwrap();
        assert_eq!(request.action, Action::Exec("npm run migrate".into()));
        assert_eq!(
            parse(&words("production curr"), &dir).unwrap().action,
            Action::Current
        );
        let err = parse(&words("production deploy"), &dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("allowed: setup, update"), "{err}");
        let err = parse(&words("production revert x"), &dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a number of deploys"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
        let err = parse(&words("production"), &dir).unwrap_err().to_string();
        assert!(err.contains("no ecosystem file named"), "{err}");
    }
}
