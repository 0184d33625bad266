//! `inflow ach inspect|validate FILE`: operators' tools for NACHA files.

use clap::{Subcommand, ValueEnum};
use nacha::report::{inspect, validate_report, InspectOptions};
use nacha::ValidateOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AchCommand {
    /// Summarise a NACHA file: batches, entries, totals, returns and NOCs.
    /// Account numbers are masked unless --unmask is given.
    Inspect {
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Show full account numbers.
        #[arg(long)]
        unmask: bool,
    },
    /// Check a NACHA file against the format's rules; lists every finding and
    /// exits 1 if any is an error.
    Validate {
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Relax a named rule (repeatable), for bank files known to break it.
        #[arg(long, value_enum, value_name = "RULE")]
        relax: Vec<Relax>,
        /// Strict mode (what every file Inflow writes passes): findings that
        /// are warnings by default (file control tallies, Latin-1 bytes and
        /// UTF-8 records over 94 bytes that moov-io/ach tolerates) are errors.
        #[arg(long)]
        strict: bool,
    },
}

/// Rules that real-world bank files sometimes break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Relax {
    UnorderedBatchNumbers,
    UnorderedTraceNumbers,
    CustomReturnCodes,
    DestinationCheckDigit,
    MissingFileHeader,
    MissingFileControl,
    MissingBatchControl,
    /// Trace numbers need not start with the batch's ODFI identification
    /// (moov-io/ach's `customTraceNumbers`).
    CustomTraceNumbers,
}

fn options(relax: &[Relax], strict: bool) -> ValidateOptions {
    let mut o = ValidateOptions {
        strict,
        ..ValidateOptions::default()
    };
    for r in relax {
        match r {
            Relax::UnorderedBatchNumbers => o.allow_unordered_batch_numbers = true,
            Relax::UnorderedTraceNumbers => o.allow_unordered_trace_numbers = true,
            Relax::CustomReturnCodes => o.allow_custom_return_codes = true,
            Relax::DestinationCheckDigit => o.skip_destination_check_digit = true,
            Relax::MissingFileHeader => o.allow_missing_file_header = true,
            Relax::MissingFileControl => o.allow_missing_file_control = true,
            Relax::MissingBatchControl => o.allow_missing_batch_control = true,
            Relax::CustomTraceNumbers => o.custom_trace_numbers = true,
        }
    }
    o
}

pub fn run(cmd: AchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AchCommand::Inspect { file, json, unmask } => {
            let bytes = read(&file)?;
            let report = inspect(&bytes, InspectOptions { unmask })
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if json {
                super::print_json(&report)?;
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        AchCommand::Validate {
            file,
            json,
            relax,
            strict,
        } => {
            let bytes = read(&file)?;
            let report = validate_report(&bytes, &options(&relax, strict));
            if json {
                super::print_json(&report)?;
            } else {
                print!("{report}");
            }
            Ok(if report.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}
