//! An ecosystem file in JavaScript, evaluated as PM2 evaluates it: by Node,
//! here the Node that runs the apps, in a process of its own with a time
//! limit, in the file's directory and with nodeunits' environment. What it
//! exports comes back as JSON, which is read like a JSON file.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// What evaluates JavaScript.
#[derive(Debug, Clone)]
pub struct Evaluator<'a> {
    /// `node`, as found in `PATH`; `None` when it is not there.
    pub node: Option<PathBuf>,
    /// The environment the file sees in `process.env`.
    pub environment: &'a BTreeMap<String, String>,
}

/// Why a file could not be evaluated: what to tell the user.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub help: String,
}

const EVALUATOR: &str = include_str!("evaluate.cjs");

/// How long a file may take; then node is killed.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A module, `require()`d or `import()`ed: `ecosystem.config.js`.
    Module,
    /// One expression, as PM2 evaluates a `.json` file.
    Expression,
}

/// The JSON of what the file at `absolute` (named `path` by the user)
/// exports, or evaluates to.
pub fn evaluate(
    path: &Path,
    absolute: &Path,
    evaluator: &Evaluator,
    code: Code,
) -> Result<String, Failure> {
    let name = path.display();
    let Some(node) = &evaluator.node else {
        let what = match code {
            Code::Module => "is JavaScript",
            Code::Expression => "is to be evaluated as JavaScript",
        };
        return Err(Failure {
            message: format!("{name} {what}, and there is no `node` in PATH to evaluate it"),
            help: "install Node, or add its directory to PATH: the node that runs the apps evaluates the file".into(),
        });
    };
    let mut command = Command::new(node);
    command.arg("-e").arg(EVALUATOR).arg(absolute);
    if code == Code::Expression {
        command.arg("--expression");
    }
    let child = command
        .current_dir(absolute.parent().unwrap_or(Path::new("/")))
        .env_clear()
        .envs(evaluator.environment)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that whatever the file starts is killed with it.
        .process_group(0)
        .spawn()
        .map_err(|err| Failure {
            message: format!("cannot run {} to evaluate {name}: {err}", node.display()),
            help: String::new(),
        })?;
    let finished = run(child, TIME_LIMIT);
    let clean = |text: &[u8]| clean_message(&String::from_utf8_lossy(text), path, absolute);
    match finished {
        Finished::TimedOut => Err(Failure {
            message: format!(
                "node did not finish evaluating {name} within {} s, and was killed",
                TIME_LIMIT.as_secs()
            ),
            help: "the file must export its apps without waiting: no endless loop, no server, no prompt".into(),
        }),
        Finished::Exited { success, stdout, stderr } => match String::from_utf8(stdout) {
            Ok(json) if success && !json.trim().is_empty() => Ok(json),
            _ if success => Err(Failure {
                message: format!("node exited while evaluating {name}, before it exported anything"),
                help: "remove the call to `process.exit()`, or export the apps before it".into(),
            }),
            _ => Err(Failure {
                message: format!("node could not evaluate {name}"),
                help: format!("node says:\n{}", clean(&stderr)),
            }),
        },
    }
}

enum Finished {
    Exited {
        success: bool,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    TimedOut,
}

/// Waits for `child` at most `limit`, reading its output meanwhile; then
/// kills its process group, leaving nothing it started behind.
fn run(mut child: Child, limit: Duration) -> Finished {
    let pid = Pid::from_raw(child.id() as i32);
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let deadline = Instant::now() + limit;
    // Not reaped yet, so the group cannot be another's when it is killed.
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    let exited = loop {
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(WaitStatus::StillAlive) => break false,
            _ => break true,
        }
    };
    let _ = killpg(pid, Signal::SIGKILL);
    let status = child.wait().ok().filter(|_| exited);
    let Some(status) = status else {
        return Finished::TimedOut;
    };
    // Once the group is killed, the pipes close; a process that left the
    // group may hold them open, so do not wait for it.
    let received = |output: mpsc::Receiver<Vec<u8>>| {
        output
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_default()
    };
    Finished::Exited {
        success: status.success(),
        stdout: received(stdout),
        stderr: received(stderr),
    }
}

fn collect(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut output = Vec::new();
            let _ = pipe.read_to_end(&mut output);
            let _ = sender.send(output);
        });
    }
    receiver
}

/// Node's message about the file, without the frames of Node itself and of
/// the evaluator, and with the file named as the user named it.
fn clean_message(stderr: &str, path: &Path, absolute: &Path) -> String {
    let absolute = absolute.to_string_lossy();
    let name = path.to_string_lossy();
    let mut lines: Vec<String> = stderr
        .replace(&format!("file://{absolute}"), &name)
        .replace(absolute.as_ref(), &name)
        .lines()
        .filter(|line| !is_noise(line))
        .map(|line| line.trim_end().to_owned())
        .collect();
    lines.dedup_by(|line, previous| line.is_empty() && previous.is_empty());
    let text = lines.join("\n");
    let text = text.trim_matches('\n');
    if text.is_empty() {
        "nothing; it exited with an error".to_owned()
    } else {
        text.to_owned()
    }
}

fn is_noise(line: &str) -> bool {
    let frame = line.trim_start().starts_with("at ");
    (frame
        && (line.contains("node:internal") || line.contains("(node:vm:") || line.contains("[eval]")))
        || line.starts_with("Node.js v")
        // Warnings carry a process id, and are not the error.
        || line.starts_with("(node:")
        || line.starts_with("(Use `node --trace-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_s_message_without_its_own_frames() {
        let stderr = "/srv/app/ecosystem.config.js:2\n  apps: [{ name: 'api' script: 'x' }]\n                       ^^^^^^\n\nSyntaxError: Unexpected identifier 'script'\n    at wrapSafe (node:internal/modules/cjs/loader:1464:18)\n    at [eval]:80:12\n\nNode.js v20.20.2\n";
        assert_eq!(
            clean_message(
                stderr,
                Path::new("ecosystem.config.js"),
                Path::new("/srv/app/ecosystem.config.js")
            ),
            "ecosystem.config.js:2\n  apps: [{ name: 'api' script: 'x' }]\n                       ^^^^^^\n\nSyntaxError: Unexpected identifier 'script'"
        );
    }
}
