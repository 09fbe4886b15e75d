//! The runtime of one worker. See docs/contract.md.

/// Entry point of the `nodeunits-helper` binary.
pub fn main() -> std::process::ExitCode {
    eprintln!("nodeunits-helper: not implemented yet");
    std::process::ExitCode::from(1)
}
