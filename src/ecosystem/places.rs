//! The options whose values are places: sockets, paths, accounts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::document::Value as V;
use toml::Spanned;

use super::fields::{integer, Fields, Value};
use super::findings::{Allowed, OptionFinding};
use super::settings::{Listen, LogFile};

pub fn listen(fields: &mut Fields, dir: &Path) -> Vec<Listen> {
    let mut listen = Vec::new();
    for item in fields.one_or_many("listen") {
        match listen_entry(item, dir) {
            Some(entry) if listen.contains(&entry) => {
                fields
                    .diagnostics
                    .report(Some(item.span()), OptionFinding::ListenedTwice);
            }
            Some(entry) => listen.push(entry),
            None => fields.wrong("listen", item, Allowed::Listen),
        }
    }
    listen
}

fn listen_entry(item: &Value, dir: &Path) -> Option<Listen> {
    let port = |n: i64| u16::try_from(n).ok().filter(|&p| p > 0);
    match item.get_ref() {
        V::Integer(_) => integer(item)
            .and_then(port)
            .map(|p| Listen::Tcp(p.to_string())),
        V::String(s) if s.starts_with('/') || s.starts_with("./") || s.starts_with("../") => {
            (!s.chars().any(char::is_control))
                .then(|| Listen::Unix(normalize(&dir.join(s.as_str()))))
        }
        V::String(s) => match s.parse::<i64>() {
            Ok(n) => port(n).map(|p| Listen::Tcp(p.to_string())),
            Err(_) => s
                .parse::<SocketAddr>()
                .ok()
                .filter(|a| a.port() > 0)
                .map(|a| Listen::Tcp(a.to_string())),
        },
        _ => None,
    }
}

/// A path without `.` and `..` components, as systemd wants its paths.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

pub fn account(fields: &mut Fields, key: &str) -> Option<Spanned<String>> {
    let value = fields.get(key)?;
    let text = match value.get_ref() {
        V::String(s) => Some(s.to_string()),
        _ => integer(value)
            .filter(|n| (0..i64::from(u32::MAX)).contains(n))
            .map(|n| n.to_string()),
    };
    let valid = |s: &String| {
        !s.is_empty()
            && s.len() <= 32
            && !s.starts_with(['-', '.'])
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    match text.filter(valid) {
        Some(name) => Some(Spanned::new(value.span(), name)),
        None => {
            fields.wrong(key, value, Allowed::Account);
            None
        }
    }
}

/// `read_write_paths`, which mean nothing without the sandbox: a warning
/// then.
pub fn read_write_paths_of(fields: &mut Fields, dir: &Path, hardening: bool) -> Vec<PathBuf> {
    let paths = read_write_paths(fields, dir);
    if let (false, Some((_, value))) = (hardening, fields.entry("read_write_paths")) {
        let finding = OptionFinding::ReadWritePathsWithoutSandbox;
        fields.diagnostics.report(Some(value.span()), finding);
    }
    paths
}

/// `read_write_paths`: a path or an array of paths, relative to the file's directory.
fn read_write_paths(fields: &mut Fields, dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for item in fields.one_or_many("read_write_paths") {
        match item.get_ref().as_str() {
            Some(path) if !path.is_empty() && !path.chars().any(char::is_control) => {
                paths.push(normalize(&dir.join(path)));
            }
            _ => fields.wrong("read_write_paths", item, Allowed::ReadWritePaths),
        }
    }
    paths
}

/// `hardening`: `"on"` (the default) or `"off"`.
pub fn hardening(fields: &mut Fields) -> bool {
    let Some(value) = fields.get("hardening") else {
        return true;
    };
    match value.get_ref().as_str() {
        Some("on") => true,
        Some("off") => false,
        _ => {
            fields.wrong("hardening", value, Allowed::Hardening);
            true
        }
    }
}

/// A log path (`out_file`, `error_file`, `log_file`), resolved as PM2
/// resolves it (`Common.prepareAppConf`): `~` the home directory, else
/// relative to `cwd`; `"NULL"` and `"/dev/null"` discard.
pub fn log_target(fields: &mut Fields, key: &str, cwd: &Path) -> Option<LogFile> {
    let path = fields.string(key)?;
    log_file_of(fields, key, path, cwd)
}

fn log_file_of(
    fields: &mut Fields,
    key: &str,
    path: Spanned<String>,
    cwd: &Path,
) -> Option<LogFile> {
    let text = path.get_ref();
    // PM2 discards a stream sent to either.
    if text == "/dev/null" || text == "NULL" {
        return Some(LogFile::Null);
    }
    if text.chars().any(char::is_control) {
        let key = fields.spelling(key).to_owned();
        let finding = OptionFinding::InvalidLogPath { key };
        fields.diagnostics.report(Some(path.span()), finding);
        return None;
    }
    // As PM2's `resolveHome`: `~` and what follows, under the home.
    if let Some(rest) = text.strip_prefix('~') {
        return Some(LogFile::Home(normalize(Path::new(
            rest.trim_start_matches('/'),
        ))));
    }
    Some(LogFile::Path(normalize(&cwd.join(text))))
}

/// `log_file`: PM2's combined log of both streams; `true` asks for PM2's
/// own default file, which is the journal here (a warning).
pub fn combined_log(fields: &mut Fields, cwd: &Path) -> Option<Spanned<LogFile>> {
    let value = fields.get("log_file")?;
    let span = value.span();
    match value.get_ref() {
        V::Boolean(false) => None,
        V::Boolean(true) => {
            let key = fields.spelling("log_file").to_owned();
            let finding = OptionFinding::CombinedLogInJournal { key };
            fields.diagnostics.report(Some(span), finding);
            None
        }
        _ => {
            let path = fields.string("log_file")?;
            let file = log_file_of(fields, "log_file", path, cwd)?;
            // No combined file: each stream goes where it would without.
            (file != LogFile::Null).then(|| Spanned::new(span, file))
        }
    }
}
