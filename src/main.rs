fn main() -> std::process::ExitCode {
    fika::cli::main()
}
