//! The `nodeunits` command line: parses arguments and dispatches to one
//! module per command. Exit status: 0 ok, 1 invalid input or failure, 2 usage.

pub mod args;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Entry point of the `nodeunits` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("nodeunits: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    anyhow::bail!("{:?}: not implemented yet", cli.command)
}
