//! A throwaway GnuPG home for cross-checks with the real `gpg`: generate a
//! key, import and export keys, encrypt-and-sign and decrypt-and-verify
//! with `--batch` and no passphrase prompts. The agent it starts is stopped
//! on drop.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A GnuPG home directory that disappears with this value.
pub struct TestGpg {
    home: tempfile::TempDir,
}

impl Default for TestGpg {
    fn default() -> Self {
        Self::new()
    }
}

impl TestGpg {
    pub fn new() -> Self {
        assert!(
            Command::new("gpg").arg("--version").output().is_ok(),
            "gpg is missing: run scripts/ensure-bank-tools.sh (installs gnupg)"
        );
        let home = tempfile::Builder::new()
            .prefix("inflow-gpg-")
            .tempdir()
            .expect("GNUPGHOME");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        // gpg-agent calibrates its passphrase hashing (S2K) to ~100 ms of
        // native code; unprotecting such a key in an unoptimised test build
        // takes seconds. Tests use the smallest count gpg allows.
        std::fs::write(home.path().join("gpg-agent.conf"), "s2k-count 65536\n")
            .expect("gpg-agent.conf");
        Self { home }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Run gpg with this home, `input` on stdin; returns the whole output.
    pub fn run(&self, args: &[&str], input: &[u8]) -> Output {
        self.run_with_passphrase("", args, input)
    }

    /// [`run`](Self::run) with `passphrase` for the secret keys involved.
    pub fn run_with_passphrase(&self, passphrase: &str, args: &[&str], input: &[u8]) -> Output {
        let mut child = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args([
                "--batch",
                "--yes",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
            ])
            .args(["--passphrase", passphrase, "--trust-model", "always"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gpg");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("gpg output");
        let _ = writer.join();
        out
    }

    /// Like [`run`](Self::run), panicking with gpg's stderr on failure.
    pub fn ok(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let out = self.run(args, input);
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A new ed25519 signing key with a cv25519 encryption subkey, no
    /// passphrase; returns its fingerprint.
    pub fn generate_key(&self, user_id: &str) -> String {
        self.generate_key_with_passphrase(user_id, "")
    }

    /// [`generate_key`](Self::generate_key), the secret key protected by `passphrase`.
    pub fn generate_key_with_passphrase(&self, user_id: &str, passphrase: &str) -> String {
        let args = [
            "--quick-gen-key",
            user_id,
            "future-default",
            "default",
            "never",
        ];
        let out = self.run_with_passphrase(passphrase, &args, b"");
        assert!(
            out.status.success(),
            "gpg key generation failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8(self.ok(&["--with-colons", "--list-keys", user_id], b""))
            .expect("utf-8");
        listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("fingerprint")
            .to_string()
    }

    pub fn import(&self, armored: &str) {
        self.ok(&["--import"], armored.as_bytes());
    }

    pub fn export_public(&self, user: &str) -> String {
        String::from_utf8(self.ok(&["--armor", "--export", user], b"")).expect("armor")
    }

    pub fn export_secret(&self, user: &str, passphrase: &str) -> String {
        let out =
            self.run_with_passphrase(passphrase, &["--armor", "--export-secret-keys", user], b"");
        assert!(
            out.status.success(),
            "gpg export failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("armor")
    }
}

impl Drop for TestGpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}
