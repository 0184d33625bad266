//! The `inflow` binary.

fn main() -> std::process::ExitCode {
    inflow_server::cli::main()
}
