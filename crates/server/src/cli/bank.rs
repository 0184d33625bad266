//! `inflow bank seal`: seal an ODFI secret (SSH key or password, OpenPGP
//! secret key or passphrase) with the master key, for `[[odfi]]`: the
//! value is read from stdin and printed as `sealed:v1:…`, bound to the
//! ODFI and the field so it cannot be moved to another.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use inflow_bank::Secret;
use inflow_core::crypto::Vault;

use crate::config::Config;

/// The fields whose values may be sealed.
const FIELDS: &[&str] = &[
    "private_key",
    "private_key_passphrase",
    "password",
    "our_secret_key",
    "our_secret_key_passphrase",
];

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Seal a secret read from stdin for `[[odfi]]` (prints `sealed:v1:…`).
    Seal {
        /// The ODFI's `id`.
        #[arg(long)]
        odfi: String,
        /// The setting it is for: private_key, private_key_passphrase,
        /// password, our_secret_key or our_secret_key_passphrase.
        #[arg(long)]
        field: String,
    },
}

pub fn run(config: Config, cmd: BankCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BankCommand::Seal { odfi, field } => {
            if !FIELDS.contains(&field.as_str()) {
                anyhow::bail!("--field must be one of {}", FIELDS.join(", "));
            }
            let key = crate::bootstrap::master_key(&config)?;
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            if value.trim().is_empty() {
                anyhow::bail!("nothing to seal on stdin");
            }
            let vault = Vault::new(&key);
            let sealed = inflow_bank::secret::seal(
                &vault,
                &Secret::new(value),
                &format!("bank:{odfi}:{field}"),
            );
            println!("{sealed}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
