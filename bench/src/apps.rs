//! The apps under test (bench/apps/) and how each is run.

use std::path::{Path, PathBuf};

/// One app as both supervisors are asked to run it, with PM2's defaults
/// spelled out so both get the same.
#[derive(Debug, Clone)]
pub struct App {
    pub name: &'static str,
    pub script: &'static str,
    pub instances: u32,
    pub wait_ready: bool,
    pub kill_timeout_ms: u32,
    pub listen_timeout_ms: u32,
    pub max_memory_mb: Option<u32>,
    pub leak_mb_per_s: Option<u32>,
    pub port: u16,
    /// Under nodeunits, the workers run in systemd's sandbox (the default).
    pub sandbox: bool,
    /// Under nodeunits, each worker's process measures itself from inside
    /// (`pmx`, the default); PM2's workers run its `@pm2/io` by default.
    pub runtime_metrics: bool,
    /// `UV_TCP_SINGLE_ACCEPT=1` in the env: libuv accepts one connection
    /// per wake-up of a worker, which leaves the next to another worker.
    pub single_accept: bool,
    /// Where the app's stdout goes.
    pub logging: Logging,
    /// More of the app's environment (the logging app's settings).
    pub extra_env: Vec<(&'static str, String)>,
    /// The working directory, if not the supervisor's default.
    pub cwd: Option<PathBuf>,
    /// PM2's `watch = true` on `cwd`: with PM2's default ignores
    /// (`Some(true)`: node_modules and hidden names), or everything
    /// (`Some(false)`: `ignore_watch = []`).
    pub watch: Option<bool>,
}

/// Where an app's stdout goes, as both supervisors are told.
#[derive(Debug, Clone, PartialEq)]
pub enum Logging {
    /// Each supervisor's default: PM2's files in `PM2_HOME/logs`, the
    /// journal under nodeunits.
    Default,
    /// One `out_file` for every worker (`merge_logs`), rotated: by
    /// pm2-logrotate under PM2, by the app's `log_rotate` under nodeunits.
    RotatedFile { path: PathBuf, rotation: Rotation },
}

/// pm2-logrotate's settings, which nodeunits' `log_rotate` takes too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    pub max_size: &'static str,
    pub retain: u32,
    pub compress: bool,
}

impl Rotation {
    /// Small files, so that they rotate several times in a measure: the
    /// burst's 11 MB, or a few seconds of a line per request; every rotated
    /// file kept.
    pub fn small() -> Rotation {
        Rotation {
            max_size: "2M",
            retain: 10,
            compress: true,
        }
    }
}

impl App {
    fn new(name: &'static str, script: &'static str, instances: u32) -> App {
        App {
            name,
            script,
            instances,
            wait_ready: false,
            kill_timeout_ms: 1600,
            listen_timeout_ms: 3000,
            max_memory_mb: None,
            leak_mb_per_s: None,
            port: 3000,
            sandbox: true,
            runtime_metrics: true,
            single_accept: false,
            logging: Logging::Default,
            extra_env: Vec::new(),
            cwd: None,
            watch: None,
        }
    }

    pub fn with_instances(self, instances: u32) -> App {
        App { instances, ..self }
    }

    /// The same app with `UV_TCP_SINGLE_ACCEPT=1` in its env.
    pub fn with_single_accept(self) -> App {
        App {
            single_accept: true,
            ..self
        }
    }

    /// The same app with `hardening = "off"` under nodeunits.
    pub fn without_sandbox(self) -> App {
        App {
            sandbox: false,
            ..self
        }
    }

    /// The same app with `pmx = false` under nodeunits: no runtime metrics.
    pub fn without_runtime_metrics(self) -> App {
        App {
            runtime_metrics: false,
            ..self
        }
    }

    /// hello-world, for throughput, memory and the share of requests.
    pub fn hello() -> App {
        App::new("hello", "hello.js", 2)
    }

    /// `count` hello-world apps of 2 instances, `fleet1`… on ports 4001…:
    /// a fleet started from one file.
    pub fn fleet(count: u16) -> Vec<App> {
        (1..=count)
            .map(|i| App {
                // Names live as long as the run; a fleet is made once per measure.
                name: Box::leak(format!("fleet{i}").into_boxed_str()),
                port: 4000 + i,
                ..App::hello()
            })
            .collect()
    }

    /// No signal handler, no ready message.
    pub fn naive() -> App {
        App::new("naive", "naive.js", 2)
    }

    /// SIGINT handler closing the server, `process.send('ready')`, wait_ready.
    pub fn cooperative(instances: u32) -> App {
        App {
            wait_ready: true,
            ..App::new("cooperative", "cooperative.js", instances)
        }
    }

    /// Cooperative, leaking 25 MB/s, restarted above 150 MB.
    pub fn leaking() -> App {
        App {
            wait_ready: true,
            max_memory_mb: Some(150),
            leak_mb_per_s: Some(25),
            ..App::new("leaking", "leaking.js", 2)
        }
    }

    /// Two workers that each print `lines` numbered lines over `seconds` as
    /// soon as they listen; `tag` tells this start's lines from earlier
    /// ones'.
    pub fn burst(lines: u64, seconds: u32, tag: &str) -> App {
        App {
            extra_env: vec![
                ("BURST_LINES", lines.to_string()),
                ("BURST_SECONDS", seconds.to_string()),
                ("RUN_TAG", tag.to_owned()),
            ],
            ..App::new("burst", "logging.js", 2)
        }
    }

    /// hello-world that logs a line per request; `tag` as for [`App::burst`].
    pub fn chatty(tag: &str) -> App {
        App {
            extra_env: vec![
                ("LOG_EACH_REQUEST", "1".to_owned()),
                ("RUN_TAG", tag.to_owned()),
            ],
            ..App::new("chatty", "logging.js", 2)
        }
    }

    /// The same app with its stdout in `dir/out.log`, rotated.
    pub fn logging_to(self, dir: &Path, rotation: Rotation) -> App {
        App {
            logging: Logging::RotatedFile {
                path: dir.join("out.log"),
                rotation,
            },
            ..self
        }
    }

    /// The same app run from `dir`, watching it when `watch` says how.
    pub fn watching(self, dir: &Path, watch: Option<bool>) -> App {
        App {
            cwd: Some(dir.to_path_buf()),
            watch,
            ..self
        }
    }

    pub fn script_path(&self) -> PathBuf {
        bench_dir().join("apps").join(self.script)
    }

    /// The environment the app reads, sorted.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("PORT", self.port.to_string())];
        if let Some(rate) = self.leak_mb_per_s {
            env.push(("LEAK_MB_PER_S", rate.to_string()));
        }
        if self.single_accept {
            env.push(("UV_TCP_SINGLE_ACCEPT", "1".to_owned()));
        }
        env.extend(self.extra_env.iter().cloned());
        env.sort();
        env
    }
}

/// This crate's directory: the apps, PM2's package.json and the results.
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
