fn main() -> std::process::ExitCode {
    nodeunits::helper::main()
}
