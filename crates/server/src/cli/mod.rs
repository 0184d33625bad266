//! The `inflow` command line.

mod ach;
mod api_keys;
mod backup;
mod bank;
mod config_check;
mod config_db;
mod config_problems;
mod config_view;
mod customers;
mod db_files;
mod ledger;
mod pg_tools;
mod requests;
mod restore;
mod serve;
mod webhooks;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, LogFormat};

/// Inflow: a self-hosted collections gateway for ACH debits and card payments.
///
/// Configuration comes from defaults, then a TOML file (--config, or ./inflow.toml),
/// then INFLOW_* environment variables (INFLOW_DATABASE_URL, INFLOW_LISTEN,
/// INFLOW_DATA_DIR, INFLOW_MASTER_KEY, INFLOW_SANDBOX, INFLOW_BOOTSTRAP_ADMIN_KEY, …).
#[derive(Debug, Parser)]
#[command(name = "inflow", version, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "INFLOW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log output format.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage customers (operator).
    #[command(subcommand)]
    Customers(customers::CustomersCommand),
    /// Issue API keys (operator).
    #[command(subcommand, name = "api-keys")]
    ApiKeys(api_keys::ApiKeysCommand),
    /// Read and check NACHA (ACH) files.
    #[command(subcommand)]
    Ach(ach::AchCommand),
    /// Check the double-entry ledger (operator).
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Webhook tools for integrators (no server or database needed).
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Request-signing tools for integrators (no server or database needed).
    #[command(subcommand)]
    Requests(requests::RequestsCommand),
    /// Bank connectivity tools (operator): seal an ODFI secret.
    #[command(subcommand)]
    Bank(bank::BankCommand),
    /// Write a consistent backup of the database while the server runs
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom).
    Backup(backup::BackupArgs),
    /// Restore a backup as the configured database (stop the server first),
    /// then check the ledger.
    Restore(restore::RestoreArgs),
    /// Configuration tools (operator).
    #[command(subcommand)]
    Config(config_check::ConfigCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Webhooks(cmd) = cli.command {
        return match webhooks::run(cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Requests(cmd) = cli.command {
        return match requests::run(cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    // NACHA tools need neither configuration nor a database.
    if let Command::Ach(cmd) = cli.command {
        return match ach::run(cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(f) = cli.log_format {
        config.log_format = f;
    }
    let telemetry = match crate::telemetry::init(config.log_format, &config.telemetry) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await,
            Command::Migrate => {
                let (store, sealed) = crate::bootstrap::migrate(&config).await?;
                println!("migrations applied ({})", store.backend_name());
                if sealed > 0 {
                    println!("sealed {sealed} row(s) of NOC corrected data stored in clear by an earlier version");
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Customers(cmd) => customers::run(config, cmd).await,
            Command::ApiKeys(cmd) => api_keys::run(config, cmd).await,
            Command::Ledger(cmd) => ledger::run(config, cmd).await,
            Command::Bank(cmd) => bank::run(config, cmd),
            Command::Backup(args) => backup::run(config, args).await,
            Command::Restore(args) => restore::run(config, args).await,
            Command::Config(cmd) => config_check::run(config, cmd).await,
            Command::Ach(_) | Command::Webhooks(_) | Command::Requests(_) => {
                unreachable!("handled before the runtime starts")
            }
        }
    });
    // Outside the runtime: the exporter sends the last batch from its own thread.
    drop(runtime);
    telemetry.shutdown();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Print `value` as pretty JSON on stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
