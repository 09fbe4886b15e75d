//! The machine and the versions a run was on.

use std::process::Command;

use crate::report::Machine;

/// The first line a command prints, or what went wrong.
fn first_line(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            text.lines().next().unwrap_or("").trim().to_owned()
        }
        Err(error) => format!("{program}: {error}"),
    }
}

/// `oxmgr`: Oxmgr's version and commit, when it is measured.
pub fn describe(pm2: &str, oxmgr: Option<String>, nodeunits: &str, driver: &str) -> Machine {
    Machine {
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        node: first_line("node", &["--version"]),
        pm2: pm2.to_owned(),
        oxmgr,
        systemd: first_line("systemctl", &["--version"]),
        nodeunits: nodeunits.to_owned(),
        wrk: first_line("wrk", &["--version"]),
        nodeunits_driver: driver.to_owned(),
    }
}
