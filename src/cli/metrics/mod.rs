//! `nodeunits metrics [--install [ADDRESS] | --uninstall | --http]`.
/// The samples in Prometheus' text format.
mod exposition;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::args::ManagerArgs;
use super::shared::installed_apps;
use super::shared::{connect, connect_to_read, target};
use crate::model::name::metrics_endpoint;
use crate::model::Scope;
use crate::systemd::samples::gather;
use crate::systemd::{ServiceManager, UnitDir};
use exposition::{exposition, pm2_exposition, CpuTimes, CONTENT_TYPE};

/// How long `--pm2-names` measures the CPU over, for PM2's percent.
const CPU_WINDOW: std::time::Duration = std::time::Duration::from_millis(250);

/// What `nodeunits metrics` does, and how.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub install: Option<&'a str>,
    pub uninstall: bool,
    pub http: bool,
    /// pm2-prometheus-exporter's series too.
    pub pm2_names: bool,
}

pub fn run(manager: ManagerArgs, request: Request) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    if let Some(address) = request.install {
        return self::install(scope, &units, address, request.pm2_names);
    }
    if request.uninstall {
        return self::uninstall(scope, &units);
    }
    let metrics = || -> anyhow::Result<String> {
        let apps = installed_apps(&units)?;
        let systemd = connect_to_read(scope)?;
        if !request.pm2_names {
            return Ok(exposition(&gather(&systemd, &apps)?));
        }
        let samples = gather(&systemd, &apps)?;
        // PM2's CPU percent: each worker's CPU time, read twice.
        let units: Vec<&str> = samples
            .iter()
            .flat_map(|s| s.instances.iter().map(|(status, _)| status.unit.as_str()))
            .collect();
        let before = cpu_times(&systemd, &units);
        let started = std::time::Instant::now();
        std::thread::sleep(CPU_WINDOW);
        let after = cpu_times(&systemd, &units);
        let window = started.elapsed().as_secs_f64();
        Ok(exposition(&samples) + &pm2_exposition(&samples, &before, &after, window))
    };
    let http = request.http;
    if http {
        serve(&mut io::stdin().lock(), &mut io::stdout().lock(), metrics)?;
    } else {
        print!("{}", metrics()?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Each unit's CPU time (`CPUUsageNSec`), where systemd accounts it.
fn cpu_times(systemd: &crate::systemd::bus::Systemd, units: &[&str]) -> CpuTimes {
    units
        .iter()
        .filter_map(|unit| {
            let nsec = systemd.service(unit).ok()?.cpu_usage_nsec().ok()?;
            (nsec != u64::MAX).then(|| ((*unit).to_owned(), nsec))
        })
        .collect()
}

/// The most of a request read: its head, which is all a GET has.
const MAX_REQUEST: usize = 8192;

/// Reads one HTTP request's head from `input` and answers it on `output`:
/// the metrics for `GET /metrics` (or `/`), an error status otherwise.
fn serve(
    input: &mut impl Read,
    output: &mut impl Write,
    metrics: impl FnOnce() -> anyhow::Result<String>,
) -> io::Result<()> {
    let head = read_head(input)?;
    let request_line = head.lines().next().unwrap_or_default();
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next(), words.next());
    let (status, content_type, body) = match (method, path.map(|p| p.split('?').next())) {
        (Some("GET" | "HEAD"), Some(Some("/metrics" | "/"))) => match metrics() {
            Ok(text) => ("200 OK", CONTENT_TYPE, text),
            Err(err) => (
                "500 Internal Server Error",
                "text/plain; charset=utf-8",
                format!("nodeunits metrics: {err:#}\n"),
            ),
        },
        (Some("GET" | "HEAD"), Some(_)) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "nodeunits serves its metrics at /metrics\n".to_owned(),
        ),
        (Some(_), Some(_)) => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "nodeunits metrics answers GET and HEAD\n".to_owned(),
        ),
        _ => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "expected an HTTP request such as `GET /metrics HTTP/1.1`\n".to_owned(),
        ),
    };
    write!(
        output,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    )?;
    if status.starts_with("405") {
        write!(output, "Allow: GET, HEAD\r\n")?;
    }
    write!(output, "\r\n")?;
    if method != Some("HEAD") {
        output.write_all(body.as_bytes())?;
    }
    output.flush()
}

/// The request up to its blank line, at most [`MAX_REQUEST`] bytes.
fn read_head(input: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while head.len() < MAX_REQUEST {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// What `ListenStream=` takes and nodeunits accepts for the endpoint.
fn check_address(address: &str) -> anyhow::Result<()> {
    let ok = address.parse::<u16>().is_ok_and(|port| port > 0)
        || address.parse::<SocketAddr>().is_ok()
        || (address.starts_with('/') && !address.chars().any(char::is_control));
    anyhow::ensure!(
        ok,
        "`{address}` is not an address to listen on; allowed: an address and port (127.0.0.1:9209, [::1]:9209), a port alone (9209: every address) or the path of a unix socket"
    );
    Ok(())
}

/// Fails when a file of the endpoint's names exists that nodeunits did not
/// write.
fn check_names_free(units: &UnitDir) -> anyhow::Result<()> {
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    for name in [metrics_endpoint::SOCKET, metrics_endpoint::TEMPLATE] {
        anyhow::ensure!(
            !installed.foreign.contains(name),
            "{} exists and was not generated by nodeunits, which never overwrites such a file; move it away first",
            units.path().join(name).display()
        );
    }
    // No app can own these names: `AppName` refuses the endpoint's.
    Ok(())
}

fn install(
    scope: Scope,
    units: &UnitDir,
    address: &str,
    pm2_names: bool,
) -> anyhow::Result<ExitCode> {
    check_address(address)?;
    check_names_free(units)?;
    let nodeunits = std::env::current_exe().context("finding the nodeunits executable")?;
    let files = crate::units::metrics_endpoint::render(address, &nodeunits, scope, pm2_names)
        .map_err(|why| {
            anyhow::anyhow!(
                "`{address}` cannot be written into a unit: it contains {}",
                why.0
            )
        })?;
    if scope == Scope::System {
        add_user()?;
    }
    let systemd = connect(scope)?;
    let socket = vec![metrics_endpoint::SOCKET.to_owned()];
    // A socket listens on its new address only once started again.
    systemd.stop(&socket)?;
    for file in &files {
        units
            .write(&file.name, &file.contents)
            .with_context(|| format!("writing {}", units.path().join(&file.name).display()))?;
    }
    systemd.daemon_reload()?;
    systemd.enable(&socket)?;
    systemd.start(&socket)?;
    println!(
        "installed {} and {} in {}: each scrape of {address} starts one process, nothing runs in between",
        metrics_endpoint::SOCKET,
        metrics_endpoint::TEMPLATE,
        units.path().display()
    );
    println!("scrape it: {}", scrape_hint(address));
    Ok(ExitCode::SUCCESS)
}

/// Declares the endpoint's system user in sysusers.d and creates it.
fn add_user() -> anyhow::Result<()> {
    let file = Path::new(metrics_endpoint::SYSUSERS_FILE);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(file.parent().expect("an absolute path"))?;
        std::fs::write(file, crate::units::metrics_endpoint::sysusers_line())
    };
    write().with_context(|| format!("writing {}", file.display()))?;
    let status = std::process::Command::new("systemd-sysusers")
        .arg(file)
        .status()
        .context("running systemd-sysusers to create the endpoint's user")?;
    anyhow::ensure!(
        status.success(),
        "systemd-sysusers {} failed ({status}), so the user {} does not exist",
        file.display(),
        metrics_endpoint::USER
    );
    Ok(())
}

fn scrape_hint(address: &str) -> String {
    if address.starts_with('/') {
        format!("curl --unix-socket {address} http://localhost/metrics")
    } else if address.parse::<u16>().is_ok() {
        format!("curl http://127.0.0.1:{address}/metrics")
    } else {
        format!("curl http://{address}/metrics")
    }
}

fn uninstall(scope: Scope, units: &UnitDir) -> anyhow::Result<ExitCode> {
    let names = [metrics_endpoint::SOCKET, metrics_endpoint::TEMPLATE];
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    let ours: Vec<&str> = names
        .into_iter()
        .filter(|name| {
            installed
                .generated
                .get(*name)
                .is_some_and(|f| f.app.is_none())
        })
        .collect();
    if ours.is_empty() {
        println!(
            "no metrics endpoint is installed in {}",
            units.path().display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let systemd = connect(scope)?;
    let socket = vec![metrics_endpoint::SOCKET.to_owned()];
    systemd.stop(&socket)?;
    systemd.disable(&socket)?;
    for name in &ours {
        units.remove(name).with_context(|| {
            format!("removing {}", Path::new(units.path()).join(name).display())
        })?;
    }
    systemd.daemon_reload()?;
    if scope == Scope::System {
        // The user stays, as sysusers never deletes one: files may be its.
        match std::fs::remove_file(metrics_endpoint::SYSUSERS_FILE) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(err)
                    .with_context(|| format!("removing {}", metrics_endpoint::SYSUSERS_FILE));
            }
            _ => {}
        }
    }
    println!(
        "removed {} from {}",
        ours.join(" and "),
        units.path().display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(request: &str) -> String {
        let mut output = Vec::new();
        serve(&mut request.as_bytes(), &mut output, || Ok("up 1\n".into())).unwrap();
        String::from_utf8(output).unwrap()
    }

    #[test]
    fn one_request_one_answer() {
        let ok = answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(
            ok.ends_with("Content-Length: 5\r\nConnection: close\r\n\r\nup 1\n"),
            "{ok}"
        );
        assert!(answer("HEAD / HTTP/1.0\r\n\r\n").ends_with("\r\n\r\n"));
        assert!(answer("GET /x HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
        let post = answer("POST /metrics HTTP/1.1\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD\r\n"));
        assert!(answer("").starts_with("HTTP/1.1 400 "));
        let mut output = Vec::new();
        let failing = || Err(anyhow::anyhow!("no bus"));
        serve(
            &mut &b"GET /metrics HTTP/1.1\r\n\r\n"[..],
            &mut output,
            failing,
        )
        .unwrap();
        let failed = String::from_utf8(output).unwrap();
        assert!(
            failed.starts_with("HTTP/1.1 500 ") && failed.ends_with("nodeunits metrics: no bus\n")
        );
    }

    #[test]
    fn addresses_as_listen_stream_takes_them() {
        for ok in ["127.0.0.1:9209", "[::1]:9209", "9209", "/run/metrics.sock"] {
            check_address(ok).unwrap();
        }
        for bad in ["", "localhost:9209", "0", "99999", "metrics.sock"] {
            let err = check_address(bad).unwrap_err().to_string();
            assert!(err.contains("allowed: an address and port"), "{err}");
        }
    }
}
