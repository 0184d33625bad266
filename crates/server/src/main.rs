//! The `inflow` binary.

fn main() -> std::process::ExitCode {
    // Whatever Inflow writes (database, master key, NACHA files full of
    // account numbers) is for its own user only; the code also sets modes
    // explicitly, this covers what it does not create itself.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    inflow_server::cli::main()
}
