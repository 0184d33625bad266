//! `inflow webhooks verify`: check a saved webhook payload against its
//! `Inflow-Signature` header and the endpoint's secret, the way a receiver
//! should — for integrators debugging their verification code.

use clap::Subcommand;
use inflow_core::webhook::signature::{parse_header, verify, SignatureError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Verify a saved payload: exit 0 if the signature is valid, 1 if not.
    Verify {
        /// The raw request body, byte for byte, as received (`-` for stdin).
        #[arg(long, value_name = "FILE")]
        payload: PathBuf,
        /// The `Inflow-Signature` header value (`t=…,v1=…`); a whole
        /// `Inflow-Signature: …` line is accepted too.
        #[arg(long, value_name = "VALUE")]
        header: String,
        /// The endpoint's signing secret (`whsec_…`).
        #[arg(long, env = "INFLOW_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
        /// Also refuse a timestamp more than this many seconds from now
        /// (receivers should use about 300; off by default for saved payloads).
        #[arg(long, value_name = "SECS")]
        tolerance: Option<i64>,
    },
}

pub fn run(cmd: WebhooksCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WebhooksCommand::Verify {
            payload,
            header,
            secret,
            tolerance,
        } => {
            let body = if payload.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
                buf
            } else {
                std::fs::read(&payload)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", payload.display()))?
            };
            let now = chrono::Utc::now().timestamp();
            match verify(&header, &body, secret.trim(), now, tolerance) {
                Ok(t) => {
                    let signatures = parse_header(&header).map(|(_, s)| s.len()).unwrap_or(0);
                    println!(
                        "valid: signed at {t} ({}), {signatures} signature(s) in the header, one matches",
                        chrono::DateTime::from_timestamp(t, 0)
                            .map(|d| d.to_rfc3339())
                            .unwrap_or_else(|| "?".into())
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("invalid: {e}");
                    if e == SignatureError::Mismatch {
                        println!(
                            "expected: v1 = hex HMAC-SHA256(secret, \"<t>.\" + raw body); check that the payload file \
                             holds the body exactly as received (no reformatting, no trailing newline added)"
                        );
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
