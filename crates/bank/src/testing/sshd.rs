//! A throwaway OpenSSH server: `/usr/sbin/sshd -D -e -f <config>` on a free
//! loopback port, with its own ed25519 host key, `ForceCommand
//! internal-sftp` and a `ChrootDirectory`, for one system user
//! ([`TEST_USER`]) who may log in with a key or a password.
//!
//! Why a dedicated user rather than root: password authentication needs an
//! account with a known password, and changing root's is out of the
//! question. The harness creates the account when missing (`useradd
//! --system`, no home, `nologin` shell: it can do nothing but SFTP into the
//! chroot of a test server) and gives it a random password, generated once
//! per machine into `<base>/.password` so that concurrent test processes
//! agree. Tests therefore run as root, as CI does.
//!
//! sshd refuses a chroot unless every component of its path is owned by
//! root and not writable by group or others, which rules out `/tmp`; the
//! servers live under `/run/inflow-bank-tests` (or `$INFLOW_TEST_SSHD_DIR`).
//! Sessions are separate processes (sshd calls `setsid` for each), so
//! stopping the server kills the listener and every descendant: that is
//! how a test cuts an upload in the middle.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::secret::Secret;
use crate::sftp::{HostKeyPins, PickupAction, SftpAuth, SftpConfig, Timeouts, VerifyMode};

/// The system account test servers accept.
pub const TEST_USER: &str = "inflow-sftp";
const SSHD: &str = "/usr/sbin/sshd";
const DEFAULT_BASE: &str = "/run/inflow-bank-tests";

static NEXT: AtomicU32 = AtomicU32::new(0);
/// Serialises creating the test user and setting its password between the
/// threads of one test process (two tests starting their first server at
/// once raced here on a machine where the user did not exist yet).
static ACCOUNT_SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A running (or stopped) test SSH server.
pub struct TestSshd {
    root: PathBuf,
    chroot: PathBuf,
    config: PathBuf,
    log: PathBuf,
    port: u16,
    host_key: String,
    client_key: String,
    password: String,
    child: Option<Child>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// The test user's uid and gid, creating the account when missing.
fn test_user() -> (u32, u32) {
    let id = |flag| {
        Command::new("id")
            .args([flag, TEST_USER])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            })
    };
    if id("-u").is_none() {
        // A concurrent process may create it first: its failure is fine.
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "--home-dir", "/nonexistent"])
            .args(["--shell", "/usr/sbin/nologin", TEST_USER])
            .output();
    }
    match (id("-u"), id("-g")) {
        (Some(u), Some(g)) => (u, g),
        _ => panic!("cannot create the system user {TEST_USER} (useradd)"),
    }
}

/// One random password per machine, shared by every test process.
fn test_password(base: &Path) -> String {
    let path = base.join(".password");
    if let Ok(p) = std::fs::read_to_string(&path) {
        return p.trim().to_string();
    }
    let fresh = hex::encode(rand::random::<[u8; 16]>());
    let tmp = base.join(format!(".password.{}", std::process::id()));
    write(&tmp, &fresh, 0o600);
    // hard_link fails if another process won the race; then read theirs.
    let _ = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    let chosen = std::fs::read_to_string(&path).expect("password file");
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    use std::io::Write;
    chpasswd
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{TEST_USER}:{}\n", chosen.trim()).as_bytes())
        .expect("chpasswd input");
    assert!(
        chpasswd.wait().expect("chpasswd").success(),
        "chpasswd failed"
    );
    chosen.trim().to_string()
}

/// A port outside the kernel's ephemeral range, never handed out twice by
/// this process: a stopped server's port cannot go to a sibling server (or
/// an outgoing connection) before it is started again.
fn free_port() -> u16 {
    static NEXT_PORT: AtomicU32 = AtomicU32::new(0);
    let offset = std::process::id().wrapping_mul(53) % 8000;
    loop {
        let n = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 2000, "no free port for a test SSH server");
        let port = 20000 + ((offset + n) % 10000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Every process descending from `pid` (sessions outlive their listener).
fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            parent_of.push((p, ppid));
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

impl TestSshd {
    /// Create a server directory, keys and config, and start sshd.
    pub fn start() -> Self {
        assert!(
            is_root(),
            "the test SSH server needs root (CI runs as root)"
        );
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: run scripts/ensure-bank-tools.sh (installs openssh-server)"
        );
        let base = PathBuf::from(
            std::env::var("INFLOW_TEST_SSHD_DIR").unwrap_or_else(|_| DEFAULT_BASE.into()),
        );
        mkdir(&base, 0o755);
        mkdir(Path::new("/run/sshd"), 0o755);
        let (uid, gid, password) = {
            let _one_at_a_time = ACCOUNT_SETUP.lock().unwrap_or_else(|p| p.into_inner());
            let (uid, gid) = test_user();
            (uid, gid, test_password(&base))
        };
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let root = base.join(format!("{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (chroot, etc) = (root.join("chroot"), root.join("etc"));
        mkdir(&root, 0o755);
        mkdir(&chroot, 0o755);
        mkdir(&etc, 0o755);
        for dir in ["outbound", "inbound"] {
            let d = chroot.join(dir);
            mkdir(&d, 0o755);
            std::os::unix::fs::chown(&d, Some(uid), Some(gid)).expect("chown");
        }
        let keygen = |file: &str| {
            let path = etc.join(file);
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", file, "-f"])
                .arg(&path));
            path
        };
        let host_key_path = keygen("host_ed25519");
        let client_key_path = keygen("client_ed25519");
        let read = |p: &Path| std::fs::read_to_string(p).expect("key file");
        let host_key = read(&host_key_path.with_extension("pub"))
            .trim()
            .to_string();
        let client_key = read(&client_key_path);
        let authorized = etc.join("authorized_keys");
        write(
            &authorized,
            &read(&client_key_path.with_extension("pub")),
            0o644,
        );
        let port = free_port();
        let config = etc.join("sshd_config");
        write(
            &config,
            &sshd_config(
                port,
                &host_key_path,
                &authorized,
                &chroot,
                &root.join("sshd.pid"),
            ),
            0o644,
        );
        let mut server = Self {
            log: root.join("sshd.log"),
            root,
            chroot,
            config,
            port,
            host_key,
            client_key,
            password,
            child: None,
        };
        server.start_again();
        server
    }

    /// Start the (stopped) server again on the same port with the same keys.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("sshd log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(Some(status)) = self.child.as_mut().map(|c| c.try_wait().ok().flatten()) {
                panic!("sshd exited ({status}): {}", self.log_text());
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut banner = [0u8; 4];
                if s.read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sshd not ready: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kill the listener and every session (SIGKILL): the server is gone,
    /// mid-transfer if a transfer was running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let sessions = descendants(child.id());
        if !sessions.is_empty() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(sessions.iter().map(|p| p.to_string()))
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's public host key, `ssh-ed25519 AAAA… comment`.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    /// The server's host key as a known_hosts line for its address.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_key)
    }

    /// Local path of a file or directory inside the chroot (`/outbound/x` → …).
    pub fn path(&self, remote: &str) -> PathBuf {
        self.chroot.join(remote.trim_start_matches('/'))
    }

    /// Put a file into a remote directory as the bank would (owned by the
    /// SFTP user, so the client may move or delete it).
    pub fn drop_file(&self, remote_dir: &str, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(remote_dir).join(name);
        std::fs::write(&path, bytes).expect("drop file");
        let (uid, gid) = test_user();
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("chown");
        path
    }

    /// A production configuration for this server: key authentication, the
    /// host key pinned, short timeouts.
    pub fn sftp_config(&self) -> SftpConfig {
        let mut cfg = SftpConfig::new(
            "127.0.0.1",
            TEST_USER,
            SftpAuth::Key {
                private_key: Secret::new(self.client_key.clone()),
                passphrase: None,
            },
        );
        cfg.port = self.port;
        cfg.host_keys = HostKeyPins::parse(&self.known_hosts_line()).expect("host key");
        cfg.production = true;
        cfg.outbound_dir = "/outbound".into();
        cfg.inbound_dir = "/inbound".into();
        cfg.pickup = PickupAction::MoveTo("processed".into());
        cfg.verify = VerifyMode::SizeAndSha256;
        cfg.timeouts = Timeouts {
            connect: Duration::from_secs(10),
            auth: Duration::from_secs(10),
            operation: Duration::from_secs(20),
        };
        cfg
    }

    /// The same with password authentication.
    pub fn sftp_password_config(&self) -> SftpConfig {
        let mut cfg = self.sftp_config();
        cfg.auth = SftpAuth::Password(Secret::new(self.password.clone()));
        cfg
    }

    /// sshd's log so far (for assertion messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn sshd_config(port: u16, host_key: &Path, authorized: &Path, chroot: &Path, pid: &Path) -> String {
    format!(
        "# Throwaway test server written by inflow_bank::testing::sshd.
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {pid}
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {TEST_USER}
Subsystem sftp internal-sftp
ForceCommand internal-sftp
ChrootDirectory {chroot}
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 100
LogLevel VERBOSE
",
        host_key = host_key.display(),
        pid = pid.display(),
        authorized = authorized.display(),
        chroot = chroot.display(),
    )
}
