//! `inflow requests sign`: the exact string a v2 request signature covers and
//! the headers to send, computed the way the server checks them — for
//! integrators debugging their signing code. Needs no server or database.

use clap::Subcommand;
use inflow_core::request_signature::{is_valid_nonce, sign_v2, SignedRequest, MAX_NONCE_LEN};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Print the v2 string to sign and the X-Timestamp, X-Nonce and
    /// X-Signature headers for one request.
    Sign {
        /// GET, POST, PATCH, …
        #[arg(long)]
        method: String,
        /// The path and query exactly as sent, e.g. `/v1/accounts?limit=10`.
        #[arg(long)]
        path: String,
        /// The raw request body, byte for byte (`-` for stdin); empty if omitted.
        #[arg(long, value_name = "FILE")]
        body: Option<PathBuf>,
        /// The Idempotency-Key header, if the request sends one.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// The Inflow-Customer header, if the request sends one.
        #[arg(long)]
        customer: Option<String>,
        /// Unix seconds (default: now).
        #[arg(long)]
        timestamp: Option<i64>,
        /// The X-Nonce (default: 32 random hex digits).
        #[arg(long)]
        nonce: Option<String>,
        /// The key's signing secret (`iss_…`).
        #[arg(long, env = "INFLOW_SIGNING_SECRET", hide_env_values = true)]
        secret: String,
    },
}

pub fn run(cmd: RequestsCommand) -> anyhow::Result<ExitCode> {
    let RequestsCommand::Sign {
        method,
        path,
        body,
        idempotency_key,
        customer,
        timestamp,
        nonce,
        secret,
    } = cmd;
    let body = match body {
        None => Vec::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
            buf
        }
        Some(p) => {
            std::fs::read(&p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?
        }
    };
    let nonce = nonce.unwrap_or_else(|| hex::encode(rand_bytes()));
    if !is_valid_nonce(&nonce) {
        anyhow::bail!("--nonce must be 1 to {MAX_NONCE_LEN} visible ASCII characters");
    }
    let timestamp = timestamp
        .unwrap_or_else(|| chrono::Utc::now().timestamp())
        .to_string();
    let request = SignedRequest {
        timestamp: &timestamp,
        nonce: &nonce,
        method: &method,
        path_and_query: &path,
        idempotency_key: idempotency_key.as_deref().unwrap_or(""),
        customer: customer.as_deref().unwrap_or(""),
        body: &body,
    };
    let shown = String::from_utf8_lossy(&request.string_to_sign_v2()).into_owned();
    println!(
        "string to sign (JSON-escaped): {}",
        serde_json::to_string(&shown)?
    );
    println!("X-Timestamp: {timestamp}");
    println!("X-Nonce: {nonce}");
    println!("X-Signature: {}", sign_v2(secret.trim(), &request));
    Ok(ExitCode::SUCCESS)
}

fn rand_bytes() -> [u8; 16] {
    let id = uuid::Uuid::new_v4();
    *id.as_bytes()
}
