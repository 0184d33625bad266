//! One inbound pass over a [`BankTransport`], deduplicated by content hash.
//!
//! The caller knows which hashes were already applied (a table, later) and
//! applies new files itself. The order that makes "a file seen twice is
//! applied once" hold across crashes: fetch → apply and record the hash
//! (one database transaction) → dispose. A crash before dispose leaves the
//! file on the server; the next pass fetches it, sees its hash is known and
//! only disposes of it.

use crate::error::TransportError;
use crate::transport::{BankTransport, FetchedFile, FileName};

/// What the pass found for one listed file.
#[derive(Debug)]
pub enum Pickup {
    /// Not applied before: apply it, then call `dispose_inbound`.
    New(FetchedFile),
    /// Its content was already applied; it has been disposed of.
    Duplicate { name: FileName, sha256: String },
    /// Same content as an earlier file of this pass: left in place; once
    /// that one is applied, the next pass disposes of it as a duplicate.
    Deferred { name: FileName, sha256: String },
    /// Fetching or disposing failed; the file stays and is tried next pass.
    Failed {
        name: FileName,
        error: TransportError,
    },
}

/// Fetch every waiting file; dispose of those whose hash `is_applied`
/// already knows, and return the rest for the caller to apply. Files larger
/// than `max_size` bytes are reported as failed and left alone.
pub async fn poll(
    transport: &dyn BankTransport,
    max_size: u64,
    is_applied: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<Pickup>, TransportError> {
    let listed = transport.list_inbound().await?;
    let mut out = Vec::with_capacity(listed.len());
    let mut this_pass = std::collections::HashSet::new();
    for file in listed {
        let name = file.name.clone();
        if file.size > max_size {
            let error = TransportError::TooLarge {
                path: name.to_string(),
                size: file.size,
                limit: max_size,
            };
            out.push(Pickup::Failed { name, error });
            continue;
        }
        let fetched = match transport.fetch_inbound(&name).await {
            Ok(f) => f,
            Err(error) => {
                out.push(Pickup::Failed { name, error });
                continue;
            }
        };
        if is_applied(&fetched.sha256) {
            match transport.dispose_inbound(&name).await {
                Ok(()) => out.push(Pickup::Duplicate {
                    name,
                    sha256: fetched.sha256,
                }),
                Err(error) => out.push(Pickup::Failed { name, error }),
            }
        } else if !this_pass.insert(fetched.sha256.clone()) {
            out.push(Pickup::Deferred {
                name,
                sha256: fetched.sha256,
            });
        } else {
            out.push(Pickup::New(fetched));
        }
    }
    Ok(out)
}
