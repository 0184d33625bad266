//! `inflow ledger check`: prove the ledger is consistent. Exits 0 when every
//! transaction balances and every stored balance equals the sum of its
//! entries, 1 otherwise. A failed check raises the `ledger.check_failed`
//! alert event (see `inflow_engine::alerts`).

use clap::Subcommand;
use std::process::ExitCode;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Verify every transaction balances and every balance equals the sum of
    /// its entries; exits 1 if not.
    Check {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, cmd: LedgerCommand) -> anyhow::Result<ExitCode> {
    let store = crate::bootstrap::open_store(&config).await?;
    let LedgerCommand::Check { json } = cmd;
    check(&store, json).await
}

/// Run the ledger check on `store` and print its report (also after `inflow restore`).
pub async fn check(store: &inflow_store::Store, json: bool) -> anyhow::Result<ExitCode> {
    // A failed check also raises `ledger.check_failed` (once, until a check passes).
    let now = inflow_core::clock::Clock::now(&inflow_core::clock::SystemClock);
    let check = inflow_engine::alerts::check_ledger(store, now).await?;
    if json {
        let v = serde_json::json!({
            "ok": check.is_ok(),
            "transactions": check.transactions,
            "entries": check.entries,
            "accounts": check.accounts,
            "unbalancedTransactions": check.unbalanced,
            "balanceMismatches": check.balance_mismatches.iter().map(|(id, stored, sum)| serde_json::json!({
                "ledgerAccount": id, "balance": stored, "sumOfEntries": sum,
            })).collect::<Vec<_>>(),
        });
        println!("{v:#}");
    } else {
        println!(
            "{} transactions, {} entries, {} ledger accounts",
            check.transactions, check.entries, check.accounts
        );
        for t in &check.unbalanced {
            println!("UNBALANCED transaction {t}");
        }
        for (id, stored, sum) in &check.balance_mismatches {
            println!("MISMATCH {id}: balance {stored}, sum of entries {sum}");
        }
        if check.is_ok() {
            println!("ledger OK");
        }
    }
    Ok(if check.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
