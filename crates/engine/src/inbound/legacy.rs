//! Sealing NOC corrected data that versions before migration 0012 stored in
//! clear. Sealing needs the master key, so no SQL migration can do it:
//! `inflow serve` and `inflow migrate` call [`seal_plaintext_corrected_data`]
//! at start-up. It is idempotent (a row is plaintext while its sealed column
//! is NULL, and each batch commits its rows, their events and file summaries
//! together); with nothing to do it costs two lookups in partial indexes
//! that are empty (migration 0012).
//!
//! What it rewrites:
//! - `collections`: `noc_corrected_data` masked, `noc_correction` and
//!   `noc_corrected_data_sealed` set (as [`super::corrected`] does for new
//!   NOCs);
//! - the events of those collections: each `data.object.noc` rendered again
//!   from its own corrected data, so `GET /v1/events` and webhooks sent from
//!   now on show it masked;
//! - `ach_returns`: `corrected_data` masked, `corrected_data_sealed` set;
//! - inbound file summaries: a warning that quoted unreadable corrected data.
//!
//! Afterwards, on SQLite, the old page images are discarded from the
//! database file and its write-ahead log ([`Store::discard_overwritten_data`]).

use inflow_core::crypto::Vault;
use inflow_core::ids::{CollectionId, ReturnId};
use inflow_core::noc::{noc_seal_context, return_seal_context};
use inflow_store::repo::noc_sealing::{PlaintextCollectionNoc, PlaintextReturn};
use inflow_store::{Store, StoreError, Tx};
use serde_json::Value;

use super::corrected::{mask_corrected_data, parse_stored, seal_corrected_data};
use crate::view::noc_view;

/// Rows per transaction.
const BATCH: i64 = 200;

/// What [`seal_plaintext_corrected_data`] sealed or scrubbed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacySealReport {
    pub collections: u64,
    pub events: u64,
    pub returns: u64,
    pub file_summaries: u64,
}

impl LegacySealReport {
    /// Rows changed in all.
    pub fn total(&self) -> u64 {
        self.collections + self.events + self.returns + self.file_summaries
    }
}

/// How many rows still hold corrected data in clear (to refuse starting
/// without the master key that can seal them).
pub async fn count_plaintext_corrected_data(store: &Store) -> Result<u64, StoreError> {
    let mut tx = store.read().await?;
    let n = tx.plaintext_collection_nocs(1).await?.len() + tx.plaintext_ach_returns(1).await?.len();
    tx.rollback().await?;
    Ok(n as u64)
}

/// Seal every NOC's corrected data still stored in clear (see the module
/// documentation). Safe to run on every start and from several nodes.
pub async fn seal_plaintext_corrected_data(
    store: &Store,
    vault: &Vault,
) -> Result<LegacySealReport, StoreError> {
    let mut report = LegacySealReport::default();
    loop {
        let mut tx = store.begin().await?;
        let rows = tx.plaintext_collection_nocs(BATCH).await?;
        let before = report;
        for row in &rows {
            seal_collection(&mut tx, vault, row, &mut report).await?;
        }
        tx.commit().await?;
        if rows.is_empty() || report == before {
            break;
        }
    }
    loop {
        let mut tx = store.begin().await?;
        let rows = tx.plaintext_ach_returns(BATCH).await?;
        let before = report;
        for row in &rows {
            seal_return(&mut tx, vault, row, &mut report).await?;
        }
        tx.commit().await?;
        if rows.is_empty() || report == before {
            break;
        }
    }
    if report.total() > 0 {
        store.discard_overwritten_data().await?;
        tracing::warn!(
            collections = report.collections,
            events = report.events,
            returns = report.returns,
            file_summaries = report.file_summaries,
            "sealed NOC corrected data an earlier version stored in clear"
        );
    }
    Ok(report)
}

async fn seal_collection(
    tx: &mut Tx,
    vault: &Vault,
    row: &PlaintextCollectionNoc,
    report: &mut LegacySealReport,
) -> Result<(), StoreError> {
    let code = row.noc_code.as_deref().unwrap_or("");
    let parsed = parse_stored(code, &row.noc_corrected_data);
    let sealed = seal_corrected_data(
        vault,
        code,
        &row.noc_corrected_data,
        parsed.as_ref(),
        &row.routing_number,
        &noc_seal_context(&row.id),
    );
    let id = CollectionId::from_trusted(row.id.clone());
    if !tx
        .seal_collection_noc(&id, &sealed.masked, &sealed.correction)
        .await?
    {
        return Ok(());
    }
    report.collections += 1;
    for event in tx.events_for_object(&row.id).await? {
        if let Some(data) = scrubbed_event_data(vault, &event.data, &row.routing_number, &row.id) {
            tx.replace_event_data(&event.id, &data).await?;
            report.events += 1;
        }
    }
    Ok(())
}

/// The event data with its collection's NOC rendered as now (corrected data
/// masked, parts added), or `None` if it has no NOC in the old form.
fn scrubbed_event_data(vault: &Vault, data: &Value, routing: &str, id: &str) -> Option<Value> {
    let noc = data.get("object")?.get("noc")?;
    if noc.get("correction").is_some() {
        return None;
    }
    let code = noc.get("code")?.as_str()?;
    let raw = noc.get("correctedData").and_then(Value::as_str);
    let sealed = raw.map(|raw| {
        let parsed = parse_stored(code, raw);
        seal_corrected_data(
            vault,
            code,
            raw,
            parsed.as_ref(),
            routing,
            &noc_seal_context(id),
        )
    });
    let view = noc_view(
        code,
        sealed.as_ref().map(|s| s.masked.as_str()),
        sealed.as_ref().map(|s| &s.correction),
    );
    let mut data = data.clone();
    data["object"]["noc"] = serde_json::to_value(view).ok()?;
    Some(data)
}

async fn seal_return(
    tx: &mut Tx,
    vault: &Vault,
    row: &PlaintextReturn,
    report: &mut LegacySealReport,
) -> Result<(), StoreError> {
    let raw = &row.corrected_data;
    let masked = mask_corrected_data(&row.code, raw, parse_stored(&row.code, raw).as_ref());
    let sealed = vault.seal(raw.as_bytes(), &return_seal_context(&row.id));
    let id = ReturnId::from_trusted(row.id.clone());
    if !tx.seal_ach_return_data(&id, &masked, &sealed).await? {
        return Ok(());
    }
    report.returns += 1;
    if masked == raw.trim() {
        return Ok(());
    }
    let Some(text) = tx.inbound_file_summary(&row.inbound_file_id).await? else {
        return Ok(());
    };
    if let Some(scrubbed) = scrubbed_summary(&text, raw, &masked) {
        tx.set_inbound_file_summary(&row.inbound_file_id, &scrubbed)
            .await?;
        report.file_summaries += 1;
    }
    Ok(())
}

/// The ingestion report `summary` with the warnings that quoted `raw`
/// quoting `masked` instead; `None` if none did.
fn scrubbed_summary(summary: &str, raw: &str, masked: &str) -> Option<String> {
    let mut report: Value = serde_json::from_str(summary).ok()?;
    let (quoted, replacement) = (format!("{raw:?}"), format!("{masked:?}"));
    let mut changed = false;
    for w in report.get_mut("warnings")?.as_array_mut()? {
        if let Some(text) = w.as_str().filter(|t| t.contains(&quoted)) {
            *w = Value::String(text.replace(&quoted, &replacement));
            changed = true;
        }
    }
    changed.then(|| report.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::crypto::MasterKey;
    use serde_json::json;

    #[test]
    fn an_old_event_gets_its_noc_masked_and_structured_and_a_new_one_is_left_alone() {
        let vault = Vault::new(&MasterKey::generate());
        let old = json!({"object": {"id": "col_1", "noc": {
            "code": "C01", "description": "Incorrect DFI account number", "correctedData": "7777100001"}}});
        let new = scrubbed_event_data(&vault, &old, "121042882", "col_1").unwrap();
        let noc = &new["object"]["noc"];
        assert_eq!(noc["correctedData"], "****0001");
        assert_eq!(noc["correction"]["accountNumber"]["last4"], "0001");
        assert_eq!(
            noc["correction"]["accountNumber"]["fingerprint"],
            vault.fingerprint(&["121042882", "7777100001"])
        );
        assert!(!new.to_string().contains("7777100001"));
        assert_eq!(
            scrubbed_event_data(&vault, &new, "121042882", "col_1"),
            None
        );
        let no_noc = json!({"object": {"id": "col_1", "noc": null}});
        assert_eq!(
            scrubbed_event_data(&vault, &no_noc, "121042882", "col_1"),
            None
        );
    }

    #[test]
    fn summary_warnings_that_quoted_corrected_data_quote_it_masked() {
        let summary = json!({"fileId": "fil_1", "warnings": [
            "line 3: NOC C01 corrected data \"7777100001\" could not be parsed; payment method pm_1 not corrected",
            "line 9: something else"]})
        .to_string();
        let out = scrubbed_summary(&summary, "7777100001", "****0001").unwrap();
        assert!(!out.contains("7777100001"), "{out}");
        assert!(
            out.contains(r#"corrected data \"****0001\" could not"#),
            "{out}"
        );
        assert_eq!(scrubbed_summary(&out, "7777100001", "****0001"), None);
    }
}
