//! The effective configuration as `inflow config check` prints it, every
//! secret masked: the master key, the bootstrap admin key and its signing
//! secret, SFTP passwords and private keys and their passphrases, PGP
//! secret keys and passphrases, Stripe keys and webhook secrets, account
//! numbers, and the database URL's password.
//!
//! A secret given as a reference (`file:/path`, `env:VARIABLE`) is shown as
//! such — the reference is not the secret; any other value is replaced.

use serde_json::{Map, Value};

use crate::config::{redact_url, Config};

/// What a masked value is printed as.
pub const MASK: &str = "********";

/// Names (or parts of names) of settings whose values are secret.
const SECRET_NAMES: &[&str] = &[
    "secret",
    "password",
    "passphrase",
    "private_key",
    "master_key",
    "admin_key",
    "account_number",
];

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| name.contains(s))
}

/// The configuration as JSON, secrets masked and the database URL the
/// effective one (its password masked), with `effective`: what unset
/// settings amount to in this mode.
pub fn masked(config: &Config) -> anyhow::Result<Value> {
    let mut v = serde_json::to_value(config)?;
    mask(&mut v);
    if let Value::Object(o) = &mut v {
        let default_processor = if config.sandbox {
            "sandbox"
        } else {
            "disabled"
        };
        o.insert(
            "effective".into(),
            serde_json::json!({
                "backend": if config.database_url().starts_with("sqlite:") { "sqlite" } else { "postgres" },
                "operator_requests_must_be_signed": config.operator_requests_must_be_signed(),
                "v1_signatures_accepted": config.v1_signatures_accepted(),
                "card_processor": config.cards.processor.as_deref().unwrap_or(default_processor),
            }),
        );
        o.insert(
            "database_url".into(),
            Value::String(mask_query_password(&redact_url(&config.database_url()))),
        );
    }
    Ok(v)
}

/// `…?password=x&…` (libpq and sqlx accept the password as a parameter
/// too) with the value masked.
fn mask_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={MASK}"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

fn mask(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if is_secret(k) {
                    mask_value(x);
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask),
        _ => {}
    }
}

fn mask_value(v: &mut Value) {
    match v {
        Value::String(s) if s.starts_with("file:") || s.starts_with("env:") => {}
        Value::String(s) if s.starts_with("sealed:") => *s = format!("sealed:{MASK}"),
        Value::Null => {}
        other => *other = Value::String(MASK.into()),
    }
}

/// `key = value` lines, nested settings as dotted paths (`ach.odfi_routing`,
/// `odfi[0].transport.host`).
pub fn lines(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    flatten("", v, &mut out);
    out
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => flatten_object(prefix, o, out),
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        Value::Null => out.push(format!("{prefix} = (unset)")),
        other => out.push(format!("{prefix} = {other}")),
    }
}

fn flatten_object(prefix: &str, o: &Map<String, Value>, out: &mut Vec<String>) {
    for (k, x) in o {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten(&path, x, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_references_kept() {
        let mut c = Config {
            master_key: Some("bWFzdGVyLWtleS1zZWNyZXQ=".into()),
            bootstrap_admin_key: Some("ik_live_admin_secret".into()),
            database_url: Some("postgres://inflow:dbpass@db/inflow".into()),
            ..Config::default()
        };
        c.cards.stripe.secret_key = Some("sk_live_stripe".into());
        c.cards.stripe.webhook_secret = Some("env:WHSEC".into());
        let v = masked(&c).unwrap();
        let text = lines(&v).join("\n");
        assert_eq!(
            mask_query_password("postgres://db/inflow?sslmode=require&password=pw1"),
            format!("postgres://db/inflow?sslmode=require&password={MASK}")
        );
        for secret in [
            "bWFzdGVyLWtleS1zZWNyZXQ=",
            "ik_live_admin_secret",
            "dbpass",
            "sk_live_stripe",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("cards.stripe.webhook_secret = \"env:WHSEC\""),
            "{text}"
        );
        assert!(
            text.contains("database_url = \"postgres://inflow:***@db/inflow\""),
            "{text}"
        );
        assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
    }

    #[test]
    fn bank_secrets_are_masked_wherever_they_are() {
        let dir =
            std::env::temp_dir().join(format!("inflow-view-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bank.toml");
        std::fs::write(
            &file,
            r#"
[[odfi]]
id = "bank"
[odfi.transport]
kind = "sftp"
host = "sftp.bank.example"
user = "inflow"
password = "SftpPasswordSecret"
private_key = "-----BEGIN OPENSSH PRIVATE KEY----- KeyMaterialSecret"
private_key_passphrase = "KeyPassphraseSecret"
[odfi.pgp]
bank_public_key = "file:/etc/inflow/bank.asc"
our_secret_key = "sealed:v1:SealedSecret"
our_secret_key_passphrase = "PgpPassphraseSecret"
[odfi.settlement_account]
routing_number = "121042882"
account_number = "99887766554433"
"#,
        )
        .unwrap();
        let c = Config::load(Some(&file)).unwrap();
        let text = lines(&masked(&c).unwrap()).join("\n");
        for secret in [
            "SftpPasswordSecret",
            "KeyMaterialSecret",
            "KeyPassphraseSecret",
            "SealedSecret",
            "PgpPassphraseSecret",
            "99887766554433",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("odfi[0].transport.host = \"sftp.bank.example\""),
            "{text}"
        );
        assert!(
            text.contains("odfi[0].pgp.bank_public_key = \"file:/etc/inflow/bank.asc\""),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
