//! `inflow serve`

use std::process::ExitCode;

use crate::config::{redact_url, Config};

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let prepared = crate::bootstrap::prepare(config).await?;
    let running = crate::server::spawn(prepared.state).await?;
    let config = &running.state.config;
    let mode = if config.sandbox {
        "sandbox"
    } else {
        "production"
    };
    println!(
        "Inflow listening on http://{} ({mode} mode, {})",
        running.addr,
        redact_url(&config.database_url())
    );
    println!(
        "  API docs:   http://{}/docs   OpenAPI: http://{}/openapi.json",
        running.addr, running.addr
    );
    println!(
        "  Console:    http://{}/console (sign in with an operator API key)",
        running.addr
    );
    if let Some(demo) = &prepared.demo {
        println!(
            "  Demo admin credentials (sandbox only; also in {}):",
            config.data_dir.join("demo-credentials.json").display()
        );
        println!("    API key:        {}", demo.api_key);
        println!("    Signing secret: {}", demo.signing_secret);
    }
    if let Some(b) = &prepared.bootstrap {
        println!(
            "  Operator key created from INFLOW_BOOTSTRAP_ADMIN_KEY (sandbox only; shown once):"
        );
        println!("    Key id:         {}", b.key_id);
        println!("    Signing secret: {}", b.signing_secret);
    }
    tracing::info!(addr = %running.addr, mode, "listening");
    running.run_until_signal().await;
    Ok(ExitCode::SUCCESS)
}
