fn main() -> std::process::ExitCode {
    nodeunits::cli::main()
}
