//! Running the built `inflow` binary as an operator does: a subprocess in
//! a scratch folder (no `inflow.toml` picked up), configured by
//! environment variables only.

use std::process::Command;

/// What a finished `inflow …` printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output and error together, for messages and assertions.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// `inflow args…` with `envs` set and every other `INFLOW_*` variable of
/// the test's environment removed (so the machine's settings cannot leak in).
pub fn inflow(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let dir = std::env::temp_dir().join(format!("inflow-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inflow"));
    cmd.args(args).current_dir(&dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("INFLOW_") && k != "INFLOW_TEST_PG_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(envs.iter().copied());
    let out = cmd.output().expect("run inflow");
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`inflow`] from async code (on a blocking thread).
pub async fn inflow_async(args: Vec<String>, envs: Vec<(String, String)>) -> Run {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        inflow(&args, &envs)
    })
    .await
    .expect("the inflow subprocess thread")
}

/// A TCP port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
