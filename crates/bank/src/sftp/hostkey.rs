//! Pinned host keys: the only server keys an SFTP connection accepts.
//!
//! Each configured line is either an OpenSSH public key
//! (`ssh-ed25519 AAAA… [comment]`) or a `known_hosts` line (`host[,host…]
//! keytype AAAA…`, hashed `|1|salt|hash` names too). A `known_hosts` line
//! pins its key for the hosts it names (`host` for port 22, `[host]:port`
//! otherwise; `*` and `?` globs and `!` negations as in OpenSSH); a bare key
//! is pinned for whichever host the configuration connects to.
//! `@cert-authority` and `@revoked` lines are refused: we pin keys, not CAs.

use hmac::{Hmac, Mac};
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns};
use russh::keys::ssh_key::{HashAlg, PublicKey};
use std::str::FromStr;

use crate::error::TransportError;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pin {
    key: PublicKey,
    /// `None`: any host (a bare key line).
    hosts: Option<HostPatterns>,
}

/// The host keys one SFTP server may present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostKeyPins(Vec<Pin>);

impl HostKeyPins {
    /// Parse one or more lines (blank lines and `#` comments are skipped).
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let mut pins = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |detail: String| {
                TransportError::Config(format!("pinned host key line {}: {detail}", n + 1))
            };
            let first = line.split_whitespace().next().unwrap_or_default();
            if is_key_algorithm(first) {
                let key = PublicKey::from_openssh(line).map_err(|e| bad(e.to_string()))?;
                pins.push(Pin { key, hosts: None });
                continue;
            }
            let entry = Entry::from_str(line).map_err(|e| bad(e.to_string()))?;
            if entry.marker().is_some() {
                return Err(bad(
                    "@cert-authority and @revoked lines are not supported".into()
                ));
            }
            pins.push(Pin {
                key: entry.public_key().clone(),
                hosts: Some(entry.host_patterns().clone()),
            });
        }
        Ok(Self(pins))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `offered` is pinned for `host:port`.
    pub fn accepts(&self, offered: &PublicKey, host: &str, port: u16) -> bool {
        let name = if port == 22 {
            host.to_ascii_lowercase()
        } else {
            format!("[{}]:{port}", host.to_ascii_lowercase())
        };
        self.0.iter().any(|pin| {
            pin.key.key_data() == offered.key_data()
                && pin.hosts.as_ref().is_none_or(|h| host_matches(h, &name))
        })
    }
}

/// `SHA256:…` fingerprint of a key, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

fn is_key_algorithm(token: &str) -> bool {
    token.starts_with("ssh-") || token.starts_with("ecdsa-") || token.starts_with("sk-")
}

fn host_matches(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(list) => {
            let mut matched = false;
            for p in list {
                if let Some(neg) = p.strip_prefix('!') {
                    if glob(&neg.to_ascii_lowercase(), name) {
                        return false;
                    }
                } else if glob(&p.to_ascii_lowercase(), name) {
                    matched = true;
                }
            }
            matched
        }
    }
}

/// OpenSSH-style glob: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

    fn key(line: &str) -> PublicKey {
        PublicKey::from_openssh(line).unwrap()
    }

    #[test]
    fn a_bare_key_is_pinned_for_any_host_and_other_keys_are_not() {
        let pins = HostKeyPins::parse(&format!("# bank\n{KEY} bank-prod\n")).unwrap();
        assert!(pins.accepts(&key(KEY), "sftp.bank.test", 22));
        assert!(!pins.accepts(&key(OTHER), "sftp.bank.test", 22));
    }

    #[test]
    fn a_known_hosts_line_pins_its_key_for_the_hosts_it_names() {
        let pins = HostKeyPins::parse(&format!("[sftp.bank.test]:2222,10.0.0.* {KEY}")).unwrap();
        assert!(pins.accepts(&key(KEY), "sftp.bank.test", 2222));
        assert!(pins.accepts(&key(KEY), "10.0.0.7", 22));
        assert!(!pins.accepts(&key(KEY), "sftp.bank.test", 22));
        assert!(!pins.accepts(&key(KEY), "evil.test", 22));
    }

    #[test]
    fn hashed_known_hosts_names_match() {
        // HMAC-SHA1 of "[127.0.0.1]:2222" under the salt below.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let line = format!("|1|{}|{} {KEY}", b64.encode(salt), b64.encode(hash));
        let pins = HostKeyPins::parse(&line).unwrap();
        assert!(pins.accepts(&key(KEY), "127.0.0.1", 2222));
        assert!(!pins.accepts(&key(KEY), "127.0.0.1", 22));
    }

    #[test]
    fn certificate_authority_lines_and_garbage_are_refused() {
        assert!(HostKeyPins::parse(&format!("@cert-authority *.bank.test {KEY}")).is_err());
        assert!(HostKeyPins::parse("ssh-ed25519 not-base64").is_err());
        assert!(HostKeyPins::parse("hostonly").is_err());
    }

    #[test]
    fn negated_patterns_exclude_hosts() {
        let pins = HostKeyPins::parse(&format!("*.bank.test,!old.bank.test {KEY}")).unwrap();
        assert!(pins.accepts(&key(KEY), "new.bank.test", 22));
        assert!(!pins.accepts(&key(KEY), "old.bank.test", 22));
    }
}
