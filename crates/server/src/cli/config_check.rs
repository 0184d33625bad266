//! `inflow config check`: load the configuration exactly as `inflow serve`
//! does, print it with every secret masked, then every problem found.
//! Exits 1 when any problem is an error, 0 when there are only warnings
//! (or none). `--json` prints one JSON object for machines.

use clap::Subcommand;
use std::process::ExitCode;

use super::config_problems::{Problem, Severity};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets masked) and every problem
    /// found; exits 1 if any is an error.
    Check {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Check { json } = cmd;
    let view = super::config_view::masked(&config)?;
    let problems = super::config_problems::find(&config).await;
    let errors = count(&problems, Severity::Error);
    let warnings = count(&problems, Severity::Warning);
    if json {
        super::print_json(&serde_json::json!({
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "configuration": view,
            "problems": problems,
        }))?;
    } else {
        print_text(&view, &problems);
        println!("{errors} error(s), {warnings} warning(s)");
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn count(problems: &[Problem], severity: Severity) -> usize {
    problems.iter().filter(|p| p.severity == severity).count()
}

fn print_text(view: &serde_json::Value, problems: &[Problem]) {
    println!("Effective configuration (secrets masked):");
    for line in super::config_view::lines(view) {
        println!("  {line}");
    }
    println!();
    if problems.is_empty() {
        println!("No problems found.");
        return;
    }
    println!("Problems:");
    for p in problems {
        let level = match p.severity {
            Severity::Error => "ERROR  ",
            Severity::Warning => "WARNING",
        };
        println!("  {level} [{}] {}", p.check, p.message);
    }
}
