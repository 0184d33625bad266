//! `inflow api-keys …`

use clap::{ArgGroup, Subcommand};
use inflow_core::crypto::Vault;
use inflow_core::ids::CustomerId;
use inflow_core::model::ApiKeyRole;
use std::process::ExitCode;

use crate::api::api_keys::CreatedApiKeyResponse;
use crate::app::api_keys::{issue_api_key, Actor, KeyRequest};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Issue a key for a customer (--customer) or an operator key (--admin).
    /// The key and its signing secret are printed once and never again.
    #[command(group(ArgGroup::new("owner").required(true).args(["customer", "admin"])))]
    Create {
        /// The customer the key belongs to (cus_…).
        #[arg(long)]
        customer: Option<String>,
        /// Issue an operator (admin) key.
        #[arg(long)]
        admin: bool,
        /// A label for people.
        #[arg(long, default_value = "API key")]
        name: String,
        /// Refuse the key's unsigned requests. (Operator keys must sign
        /// anyway while `require_signed_operator_requests` is on, the
        /// production default.)
        #[arg(long)]
        require_signed: bool,
        /// Print the key as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, cmd: ApiKeysCommand) -> anyhow::Result<ExitCode> {
    let ApiKeysCommand::Create {
        customer,
        admin,
        name,
        require_signed,
        json,
    } = cmd;
    let vault = Vault::new(&crate::bootstrap::master_key(&config)?);
    let store = crate::bootstrap::open_store(&config).await?;
    let customer_id = customer
        .map(|c| CustomerId::parse("--customer", &c))
        .transpose()?;
    let role = if admin {
        ApiKeyRole::Admin
    } else {
        ApiKeyRole::Customer
    };
    let mut tx = store.begin().await?;
    let issued = issue_api_key(
        &mut tx,
        &vault,
        KeyRequest {
            role,
            customer_id,
            name,
            sandbox: config.sandbox,
            fixed_key: None,
            fixed_signing_secret: None,
            require_signed_requests: require_signed,
            audit: inflow_engine::audit::AuditContext::of(Actor::Cli),
        },
        inflow_core::clock::Clock::now(&inflow_core::clock::SystemClock),
    )
    .await
    .map_err(|e| match e {
        crate::app::api_keys::IssueKeyError::Store(inflow_store::StoreError::NotFound) => {
            anyhow::anyhow!("no such customer")
        }
        other => anyhow::anyhow!(other),
    })?;
    tx.commit().await?;
    let out = CreatedApiKeyResponse::from(issued);
    if json {
        super::print_json(&out)?;
    } else {
        println!("created {} key {}", out.api_key.role, out.api_key.id);
        println!("  API key:        {}", out.key);
        println!("  Signing secret: {}", out.signing_secret);
        println!("Store both now: they are not shown again.");
    }
    Ok(ExitCode::SUCCESS)
}
