//! One planned file of the cutoff: its name, File ID Modifier(s), block of
//! trace numbers and header values; numbering its collections; and
//! building it (and its companion file of offset credits) from its entries,
//! kept as [`FileEntry`] records (not whole collections).

use chrono::{DateTime, Utc};
use inflow_core::calendar::Cutoff;
use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::Tx;

use super::{Context, MAX_TRACE_SEQUENCE};
use crate::files::{
    build_entries, file_name_from_pattern, offset_context, AchError, FileEntry, FileHeaderInfo,
    OffsetEntry, OffsetInfo,
};
use nacha::plan::Offsets;

/// A built file: its row and the bytes built (and validated) from its entries.
pub(in crate::cutoff) struct Built {
    pub file: AchFile,
    pub bytes: Vec<u8>,
    /// The offset entries (in this file or in `companion`).
    pub offsets: Vec<OffsetEntry>,
    /// The file of this file's offset credits, when the ODFI wants debits
    /// and credits in separate files.
    pub companion: Option<(AchFile, Vec<u8>)>,
}

/// A file's companion credit file (its offsets), planned with it.
#[derive(Clone)]
struct CompanionPlan {
    file_id: String,
    file_name: String,
    modifier: char,
}

/// One file of the cutoff.
pub(in crate::cutoff) struct FilePlan {
    file_id: String,
    pub file_name: String,
    modifier: char,
    pub first_trace: i64,
    odfi8: String,
    reason: String,
    summary_json: String,
    companion: Option<CompanionPlan>,
    cutoff: Cutoff,
    now: DateTime<Utc>,
}

impl FilePlan {
    /// A file with the first of `modifiers` (its companion credit file,
    /// if any, the second) and a block of trace numbers: one per entry and
    /// one per batch's offset.
    pub(super) async fn new(
        tx: &mut Tx,
        vault: &Vault,
        ctx: &Context,
        modifiers: &[char],
        entries: usize,
        batches: usize,
    ) -> Result<Self, AchError> {
        let fail = |reason: &str| AchError::Build {
            file_id: String::new(),
            reason: reason.to_owned(),
        };
        let modifier = *modifiers
            .first()
            .ok_or_else(|| fail("no File ID Modifier"))?;
        let date = ctx.cutoff.date;
        let file_name = file_name_from_pattern(&ctx.file_name_pattern, date, modifier, "debits");
        let first_trace = tx
            .reserve_counter(
                &ctx.trace_counter,
                (entries + batches) as i64,
                MAX_TRACE_SEQUENCE,
            )
            .await?;
        let file_id = AchFile::new_id(ctx.now);
        let mut info = ctx.info.clone();
        info.offset = ctx.offset.as_ref().map(|o| OffsetInfo {
            routing: o.routing.as_string(),
            account_sealed: hex::encode(vault.seal(
                o.account_number.expose().as_bytes(),
                &offset_context(&file_id),
            )),
            account_type: o.account_type,
            name: o.name.clone(),
            // The block never straddles the counter's wrap.
            first_trace: first_trace + entries as i64,
            in_file: ctx.offsets == Offsets::InBatch,
        });
        let companion = match ctx.offsets {
            Offsets::Elsewhere => {
                let m = *modifiers
                    .get(1)
                    .ok_or_else(|| fail("no File ID Modifier"))?;
                Some(CompanionPlan {
                    file_id: AchFile::new_id(ctx.now),
                    file_name: file_name_from_pattern(&ctx.file_name_pattern, date, m, "credits"),
                    modifier: m,
                })
            }
            _ => None,
        };
        let summary_json = serde_json::to_string(&info).map_err(|e| fail(&e.to_string()))?;
        Ok(FilePlan {
            reason: format!(
                "in file {file_name} ({} of {})",
                ctx.kind_label, ctx.cutoff.date
            ),
            file_id,
            file_name,
            modifier,
            first_trace,
            odfi8: ctx.odfi8.clone(),
            summary_json,
            companion,
            cutoff: ctx.cutoff,
            now: ctx.now,
        })
    }

    /// Give `c` trace sequence `seq` in this file and move it to `batched`.
    pub(in crate::cutoff) fn number(
        &self,
        c: &mut AchCollection,
        seq: i64,
    ) -> Result<(), AchError> {
        c.trace_number = Some(self.trace(seq));
        c.file_id = Some(self.file_id.clone());
        c.transition(
            CollectionStatus::Batched,
            Some(self.reason.clone()),
            self.now,
        )?;
        Ok(())
    }

    pub(in crate::cutoff) fn trace(&self, seq: i64) -> String {
        format!("{}{:07}", self.odfi8, seq)
    }

    /// The file's id.
    pub(in crate::cutoff) fn file_id(&self) -> &str {
        &self.file_id
    }

    /// Build the file (strictly validated) from its entries, in trace order.
    pub(in crate::cutoff) fn build(
        &self,
        vault: &Vault,
        entries: &[FileEntry],
    ) -> Result<Built, AchError> {
        let total_debit = entries.iter().map(|e| e.amount).sum();
        let mut file = AchFile {
            id: self.file_id.clone(),
            direction: OUTBOUND.to_owned(),
            status: STATUS_CREATED.to_owned(),
            file_name: self.file_name.clone(),
            creation_date: self.cutoff.date,
            file_id_modifier: Some(self.modifier.to_string()),
            cutoff_at: Some(self.cutoff.at),
            batch_count: 0,
            entry_count: entries.len() as i64,
            total_debit,
            total_credit: 0,
            sha256: None,
            summary: Some(self.summary_json.clone()),
            created_at: self.now,
            written_at: None,
        };
        let built = build_entries(vault, &file, entries)?;
        file.batch_count = built.batch_count;
        let offset_total: i64 = built.offsets.iter().map(|o| o.amount).sum();
        let mut offsets = built.offsets;
        let companion = match &self.companion {
            Some(cp) => self.build_companion(vault, cp, entries)?,
            None => {
                // Balanced: the offsets are entries of this file.
                file.entry_count += offsets.len() as i64;
                file.total_credit = offset_total;
                None
            }
        };
        if let Some((_, _, o)) = &companion {
            offsets = o.clone();
        }
        Ok(Built {
            file,
            bytes: built.bytes,
            offsets,
            companion: companion.map(|(f, b, _)| (f, b)),
        })
    }

    /// The companion credit file of this file's offsets (`None` when no
    /// batch moves money, e.g. only prenotes).
    #[allow(clippy::type_complexity)]
    fn build_companion(
        &self,
        vault: &Vault,
        cp: &CompanionPlan,
        entries: &[FileEntry],
    ) -> Result<Option<(AchFile, Vec<u8>, Vec<OffsetEntry>)>, AchError> {
        let mut info: FileHeaderInfo =
            serde_json::from_str(&self.summary_json).map_err(|e| AchError::Build {
                file_id: cp.file_id.clone(),
                reason: e.to_string(),
            })?;
        info.offsets_of = Some(self.file_id.clone());
        let mut file = AchFile {
            id: cp.file_id.clone(),
            direction: OUTBOUND.to_owned(),
            status: STATUS_CREATED.to_owned(),
            file_name: cp.file_name.clone(),
            creation_date: self.cutoff.date,
            file_id_modifier: Some(cp.modifier.to_string()),
            cutoff_at: Some(self.cutoff.at),
            batch_count: 0,
            entry_count: 0,
            total_debit: 0,
            total_credit: 0,
            sha256: None,
            summary: Some(serde_json::to_string(&info).map_err(|e| AchError::Build {
                file_id: cp.file_id.clone(),
                reason: e.to_string(),
            })?),
            created_at: self.now,
            written_at: None,
        };
        let built = build_entries(vault, &file, entries)?;
        if built.offsets.is_empty() {
            return Ok(None);
        }
        file.batch_count = built.batch_count;
        file.entry_count = built.offsets.len() as i64;
        file.total_credit = built.offsets.iter().map(|o| o.amount).sum();
        Ok(Some((file, built.bytes, built.offsets)))
    }
}
