//! The README's walk-through, executed verbatim against a real `inflow serve`
//! started from a clean directory (only the port is changed, so the test can
//! run beside anything else listening on 8080).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The ```sh walkthrough blocks of the README, in order.
fn walkthrough_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh walkthrough") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_readme_walkthrough_works_verbatim() {
    for tool in ["jq", "curl", "openssl"] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            ok.is_ok(),
            "the walk-through needs `{tool}` (scripts/test installs it)"
        );
    }
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = walkthrough_blocks(&readme);
    assert!(blocks.len() >= 5, "README walk-through blocks not found");

    let dir = std::env::temp_dir().join(format!(
        "inflow-walkthrough-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root.join("scripts"), dir.join("scripts")).unwrap();
    let port = free_port();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_inflow"));

    let server = Server(
        Command::new(&bin)
            .arg("serve")
            .current_dir(&dir)
            .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env_remove("INFLOW_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "inflow serve did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let script = format!("set -euo pipefail\n{}", blocks.join("\n"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "walk-through failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("identical body"), "{stdout}");
    assert!(stdout.contains("\"invalid_routing_number\""), "{stdout}");
    assert!(
        stdout.contains("\"param\": \"usBankAccount.routingNumber\""),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.trim() == "1"),
        "exactly one payment method after the replay\n{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.trim() == "signature_replayed"),
        "the copied signed request is refused\n{stdout}"
    );
    assert!(
        stdout.contains("the operator sees 1 payment method(s)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("000123456789"),
        "the account number must never come back"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_prints_where_it_listens_and_the_demo_credentials() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("inflow-banner-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .arg("serve")
        .current_dir(&dir)
        .env("INFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("INFLOW_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the banner as it is printed; the process is stopped only once it is complete.
    let stdout_pipe = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout_pipe)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stdout.contains("Signing secret:") {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => {
                stdout.push_str(&line);
                stdout.push('\n');
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stdout.contains(&format!("Inflow listening on http://127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("API key:        ik_test_"), "{stdout}");
    assert!(stdout.contains("Signing secret: iss_"), "{stdout}");
    assert!(stderr.contains("GENERATED A NEW MASTER KEY"), "{stderr}");
    let meta = std::fs::metadata(dir.join("inflow-data/master.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let creds: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("inflow-data/demo-credentials.json")).unwrap(),
    )
    .unwrap();
    assert!(stdout.contains(creds["apiKey"].as_str().unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
}
