//! `testhost-run PROGRAM [ARGS...]`: boots a test host box, runs PROGRAM in it
//! with its output on this terminal, powers the box off, and exits with
//! PROGRAM's status. nodeunits' programs built beside testhost-run are in
//! the box's `testhost::BIN_DIR`, first in PROGRAM's PATH. `make example`
//! runs the example this way on machines whose PID 1 is not systemd.

use std::process::ExitCode;

use testhost::TestHost;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv[0].starts_with('-') {
        eprintln!("usage: testhost-run PROGRAM [ARGS...]");
        return ExitCode::from(2);
    }
    let host = TestHost::boot("example");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let path = format!("{}:{}", testhost::BIN_DIR, testhost::SEARCH_PATH);
    let status = host
        .command(&argv)
        .env("PATH", path)
        .status()
        .expect("testhost-run: cannot run the program inside the box");
    drop(host);
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(1),
    }
}
