//! Acknowledgement files, matched to their outbound file by content.
//!
//! Banks and ACH operators acknowledge a file by echoing what identifies
//! it. The format Inflow accepts is the common one: NACHA records (94
//! characters, one per line or blocked without line ends) whose first
//! record is the outbound file's **file header** (`1`) and which may hold
//! its **file control** (`9`, not the all-`9` padding). Anything else the
//! bank adds (batch records of a full echo, a status line) is ignored.
//!
//! The acknowledgement's file header must equal the outbound file's in the
//! fields that identify a file — immediate destination, immediate origin,
//! file creation date, file creation time and File ID Modifier (NACHA
//! positions 04–34) — and, when it has a file control, the control's
//! batch count, block count, entry/addenda count, entry hash and total
//! debit and credit amounts (positions 02–55) must equal the outbound
//! file's. A file is found:
//!
//! - by name, when the inbound file's name fits the ODFI's
//!   `ack_file_pattern` (`{name}.ack`): the named outbound file's records
//!   are compared with the acknowledgement's;
//! - by content otherwise: an inbound file that holds a file header and no
//!   batch, whose creation date and File ID Modifier (unique among
//!   Inflow's outbound files) name an outbound file with the same
//!   immediate destination and origin, is an acknowledgement of it, and
//!   the other fields are compared. (A header-only file with other
//!   immediate fields — an empty return file from the bank — is handled
//!   like any other inbound file.)
//!
//! An acknowledgement that does not match is refused: the file stays
//! `uploaded`, the acknowledgement is kept in the rejected folder with the
//! fields that differ, an `ach_file.acknowledgement_mismatch` operator
//! event names the file, and an alert is logged.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_bank::FetchedFile;
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_delivery::{FileDelivery, ACKNOWLEDGED};
use inflow_store::{Store, StoreError};

use super::pickup::{keep_rejected, PickedUp};
use super::Odfi;
use crate::config::AchConfig;

/// The records of an acknowledgement that identify a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRecords {
    /// The file header record (94 characters).
    pub header: String,
    /// The file control record, if the acknowledgement has one.
    pub control: Option<String>,
    /// Whether it holds batch header records (an echo of the whole file).
    pub has_batches: bool,
}

const RECORD: usize = 94;

/// The 94-character records of `bytes`: one per line, or blocked without
/// line ends. `None` when the bytes are not records.
fn records(bytes: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut out = Vec::new();
    for l in lines {
        if !l.is_ascii() || l.len() % RECORD != 0 {
            return None;
        }
        out.extend((0..l.len() / RECORD).map(|i| l[i * RECORD..(i + 1) * RECORD].to_owned()));
    }
    (!out.is_empty()).then_some(out)
}

/// Read an acknowledgement (see the module documentation); `None` when its
/// first record is not a file header.
pub fn read(bytes: &[u8]) -> Option<AckRecords> {
    let records = records(bytes)?;
    let header = records.first().filter(|r| r.starts_with("101"))?.clone();
    let control = records
        .iter()
        .rev()
        .find(|r| r.starts_with('9') && r.bytes().any(|b| b != b'9'))
        .cloned();
    let has_batches = records.iter().any(|r| r.starts_with('5'));
    Some(AckRecords {
        header,
        control,
        has_batches,
    })
}

impl AckRecords {
    /// The file creation date and File ID Modifier the header names.
    pub fn creation_date_and_modifier(&self) -> Option<(NaiveDate, String)> {
        let date =
            NaiveDate::parse_from_str(&format!("20{}", &self.header[23..29]), "%Y%m%d").ok()?;
        Some((date, self.header[33..34].to_owned()))
    }

    /// Compare with the outbound file's bytes: the fields that differ
    /// (empty when the acknowledgement matches).
    pub fn differences(&self, outbound: &[u8]) -> Vec<String> {
        let Some(ours) = read(outbound) else {
            return vec!["the outbound file's records cannot be read".into()];
        };
        const HEADER: [(&str, usize, usize); 5] = [
            ("immediate destination", 3, 13),
            ("immediate origin", 13, 23),
            ("file creation date", 23, 29),
            ("file creation time", 29, 33),
            ("file ID modifier", 33, 34),
        ];
        const CONTROL: [(&str, usize, usize); 6] = [
            ("batch count", 1, 7),
            ("block count", 7, 13),
            ("entry/addenda count", 13, 21),
            ("entry hash", 21, 31),
            ("total debit amount", 31, 43),
            ("total credit amount", 43, 55),
        ];
        let mut out = Vec::new();
        let mut compare = |what: &str, fields: &[(&str, usize, usize)], a: &str, b: &str| {
            for (name, from, to) in fields {
                if a[*from..*to] != b[*from..*to] {
                    out.push(format!(
                        "{what} {name}: acknowledgement `{}`, file `{}`",
                        &a[*from..*to],
                        &b[*from..*to]
                    ));
                }
            }
        };
        compare("file header", &HEADER, &self.header, &ours.header);
        match (&self.control, &ours.control) {
            (Some(a), Some(b)) => compare("file control", &CONTROL, a, b),
            (Some(_), None) => out.push("the outbound file has no file control".into()),
            (None, _) => {}
        }
        out
    }
}

/// Handle a file that is an acknowledgement — by its name (`by_name`: the
/// outbound file it names) or by its records (`ack` without batches).
/// `Ok(None)`: it names no outbound file (the caller handles it like any
/// other inbound file). `Ok(Some(_))`: acknowledged, or refused for not
/// matching its file (kept in the rejected folder, with an event and an
/// alert); either way the caller disposes of it. `Err` leaves it on the
/// server — also while its file is not yet recorded as uploaded (a crash
/// between the upload and its record), so that the next poll, after the
/// delivery job, acknowledges it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn acknowledge(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    odfi: &Odfi,
    fetched: &FetchedFile,
    by_name: Option<&str>,
    ack: Option<&AckRecords>,
    now: DateTime<Utc>,
) -> Result<Option<PickedUp>, String> {
    let name = fetched.name.to_string();
    let key = match (
        by_name,
        ack.and_then(AckRecords::creation_date_and_modifier),
    ) {
        (Some(n), _) => Key::Name(n.to_owned()),
        (None, Some((date, modifier))) => Key::Modifier(date, modifier),
        (None, None) => return Ok(None),
    };
    let mut tx = store.read().await.map_err(|e| e.to_string())?;
    let found = match &key {
        Key::Name(n) => tx.outbound_file_by_name(n).await,
        Key::Modifier(date, m) => tx.outbound_file_by_modifier(*date, m).await,
    }
    .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let Some(d) = found else {
        return Ok(None);
    };
    let bytes = crate::files::file_bytes(store, vault, &d.file_id)
        .await
        .map_err(|e| e.to_string())?;
    let differences = match ack {
        Some(a) => a.differences(&bytes),
        None => vec![
            "it holds no NACHA file header: an acknowledgement must echo the file header".into(),
        ],
    };
    // Found by date and modifier only: a file from someone else (an empty
    // return file of the bank's own, say) is not an acknowledgement of ours.
    let names_us = !differences
        .iter()
        .any(|d| d.contains("immediate destination") || d.contains("immediate origin"));
    if by_name.is_none() && !names_us {
        return Ok(None);
    }
    if !differences.is_empty() {
        return refuse(store, cfg, odfi, fetched, &d, differences, now).await;
    }
    let file_id = d.file_id.clone();
    let status: String = store
        .write::<_, StoreError, _>(move |tx| {
            Box::pin(async move {
                if d.status == ACKNOWLEDGED {
                    return Ok(d.status);
                }
                if tx.acknowledge_ach_file(&d.file_id, now).await? {
                    super::upload::file_event(tx, &d.file_id, "ach_file.acknowledged", now).await?;
                    return Ok(ACKNOWLEDGED.to_owned());
                }
                Ok(d.status)
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    if status != ACKNOWLEDGED {
        return Err(format!(
            "acknowledges file {file_id}, which is `{status}`, not `uploaded`; left for the next poll"
        ));
    }
    tracing::info!(odfi = %odfi.id, %file_id, ack = %name, "outbound ACH file acknowledged by the bank");
    Ok(Some(PickedUp::Acknowledged {
        odfi: odfi.id.clone(),
        name,
        file_id,
    }))
}

enum Key {
    Name(String),
    Modifier(NaiveDate, String),
}

/// An acknowledgement that does not match its file: kept for an operator,
/// with an `ach_file.acknowledgement_mismatch` event and an alert; the
/// file's state does not change.
async fn refuse(
    store: &Store,
    cfg: &AchConfig,
    odfi: &Odfi,
    fetched: &FetchedFile,
    d: &FileDelivery,
    differences: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Option<PickedUp>, String> {
    let name = fetched.name.to_string();
    let reason = format!(
        "acknowledgement of file {} does not match it: {}",
        d.file_id,
        differences.join("; ")
    );
    keep_rejected(cfg, odfi, fetched, &reason).await?;
    let (file_id, ack_name, odfi_id) = (d.file_id.clone(), name.clone(), odfi.id.clone());
    store
        .write::<_, StoreError, _>(move |tx| {
            Box::pin(async move {
                let file = tx.get_ach_file(&file_id).await?;
                let Some(d) = tx.get_ach_file_delivery(&file_id).await? else {
                    return Ok(());
                };
                let mut data = serde_json::json!({ "object": super::file_event_object(&file, &d) });
                data["mismatch"] = serde_json::json!({
                    "odfiId": odfi_id,
                    "acknowledgementFile": ack_name,
                    "differences": differences,
                });
                tx.insert_event(&inflow_store::repo::events::Event {
                    id: inflow_core::ids::EventId::generate(now),
                    customer_id: None,
                    event_type: "ach_file.acknowledgement_mismatch".into(),
                    object_id: file_id,
                    data,
                    created_at: now,
                })
                .await
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    tracing::error!(odfi = %odfi.id, file_id = %d.file_id, ack = %name, %reason, "ALERT: acknowledgement refused; kept in the rejected folder, the file stays unacknowledged");
    Ok(Some(PickedUp::Rejected {
        odfi: odfi.id.clone(),
        name,
        reason,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(modifier: char) -> String {
        let h = format!(
            "101 12104288212345678902612070915{modifier}094101{:<23}{:<23}{:<8}",
            "DEST", "ORIGIN", ""
        );
        assert_eq!(h.len(), 94);
        h
    }

    fn control(debits: u64) -> String {
        let c = format!(
            "9{:06}{:06}{:08}{:010}{debits:012}{:012}{:39}",
            1, 1, 1, 12104288, 0, ""
        );
        assert_eq!(c.len(), 94);
        c
    }

    #[test]
    fn an_acknowledgement_echoing_the_header_and_control_matches_its_file() {
        let file = format!("{}\n{}\n{}\n", header('A'), control(500), "9".repeat(94));
        let ack = read(format!("{}\n{}\n", header('A'), control(500)).as_bytes()).unwrap();
        assert!(!ack.has_batches);
        assert_eq!(ack.differences(file.as_bytes()), Vec::<String>::new());
        let (date, modifier) = ack.creation_date_and_modifier().unwrap();
        assert_eq!(date.to_string(), "2026-12-07");
        assert_eq!(modifier, "A");
        // The header alone, blocked without line ends, matches too.
        assert!(read(header('A').as_bytes())
            .unwrap()
            .differences(file.as_bytes())
            .is_empty());
    }

    #[test]
    fn an_acknowledgement_with_other_totals_or_another_modifier_is_refused() {
        let file = format!("{}\n{}\n", header('A'), control(500));
        let other_total = read(format!("{}\n{}\n", header('A'), control(501)).as_bytes()).unwrap();
        let diff = other_total.differences(file.as_bytes());
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].contains("total debit amount"), "{diff:?}");
        let other_file = read(header('B').as_bytes()).unwrap();
        assert!(other_file.differences(file.as_bytes())[0].contains("file ID modifier"));
    }

    #[test]
    fn text_that_is_not_records_is_not_an_acknowledgement() {
        assert_eq!(read(b"RECEIVED 1 FILE\n"), None);
        assert_eq!(read(b""), None);
        assert_eq!(read(control(1).as_bytes()), None);
    }
}
