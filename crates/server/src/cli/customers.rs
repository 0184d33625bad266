//! `inflow customers …`

use clap::Subcommand;
use inflow_core::model::CustomerKind;
use inflow_store::ListQuery;
use std::process::ExitCode;

use crate::api::customers::CustomerResponse;
use crate::app::customers::{create_customer, NewCustomer};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Create a customer.
    Create {
        #[arg(long)]
        name: String,
        /// individual or business
        #[arg(long, value_parser = parse_kind)]
        kind: CustomerKind,
        #[arg(long)]
        email: Option<String>,
        /// Allow one-time bank account sources (business customers only).
        #[arg(long)]
        allow_one_time_source: bool,
        /// Reject the customer's unsigned requests.
        #[arg(long)]
        require_signed_requests: bool,
        /// Let the customer's own keys issue API keys.
        #[arg(long)]
        can_manage_api_keys: bool,
        /// NACHA company name (≤16 characters).
        #[arg(long)]
        ach_company_name: Option<String>,
        /// NACHA company identification (10 characters, e.g. 1 + EIN).
        #[arg(long)]
        ach_company_id: Option<String>,
        /// Another company name the customer may put on collections
        /// (repeat for several; its own --ach-company-name is always allowed).
        #[arg(long = "allow-company-name", value_name = "NAME")]
        allowed_company_names: Vec<String>,
        /// Print the created customer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List customers, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

fn parse_kind(s: &str) -> Result<CustomerKind, String> {
    CustomerKind::parse("kind", s).map_err(|e| e.message)
}

pub async fn run(config: Config, cmd: CustomersCommand) -> anyhow::Result<ExitCode> {
    let store = crate::bootstrap::open_store(&config).await?;
    match cmd {
        CustomersCommand::Create {
            name,
            kind,
            email,
            allow_one_time_source,
            require_signed_requests,
            can_manage_api_keys,
            ach_company_name,
            ach_company_id,
            allowed_company_names,
            json,
        } => {
            let new = NewCustomer {
                name,
                kind: Some(kind),
                email,
                allow_one_time_source,
                require_signed_requests,
                ach_company_name,
                ach_company_id,
                allowed_company_names,
                ach_policy: Default::default(),
                card_daily_limit: None,
                ach_limits: Default::default(),
                can_manage_api_keys,
                odfi_id: None,
                metadata: Default::default(),
            };
            let mut tx = store.begin().await?;
            let customer = create_customer(
                &mut tx,
                new,
                &inflow_engine::audit::AuditContext::of(inflow_engine::audit::Actor::Cli),
                inflow_core::clock::Clock::now(&inflow_core::clock::SystemClock),
            )
            .await?;
            tx.commit().await?;
            if json {
                super::print_json(&CustomerResponse::from(customer))?;
            } else {
                println!(
                    "created customer {} ({}, {})",
                    customer.id, customer.name, customer.kind
                );
            }
        }
        CustomersCommand::List { limit, json } => {
            let page = store
                .read()
                .await?
                .list_customers(&ListQuery::first(limit.clamp(1, 200)))
                .await?;
            let rows: Vec<CustomerResponse> = page.data.into_iter().map(Into::into).collect();
            if json {
                super::print_json(&rows)?;
            } else {
                for c in rows {
                    println!("{}  {:<10} {}", c.id, c.kind, c.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
