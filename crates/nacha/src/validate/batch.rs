//! Batch structure: the batch header (service class, SEC code, originator
//! status, mandatory company name / identification / entry description,
//! `AUTOENROLL` outside ENR, batch number order), batches closed
//! without a control, and batch header vs batch control agreement.

use super::checker::{BatchState, Checker};
use super::error::{Rule, ValidationError};
use super::fields::{check_fields, show, zeros_or_spaces};
use crate::codes::{SecCode, ServiceClass};
use crate::field::{self, RecordBytes};
use crate::record::layout as L;
use crate::record::RecordKind;

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [b' '; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

impl Checker {
    pub(super) fn close_batch_without_control(&mut self) {
        if let Some(mut bs) = self.batch.take() {
            if !self.opts.allow_missing_batch_control {
                self.err(
                    bs.line,
                    RecordKind::BatchHeader,
                    Rule::MissingBatchControl,
                    None,
                    "batch has no batch control".into(),
                );
            }
            self.finish_entry_of(&mut bs);
            self.add_batch_totals(&bs);
        }
    }

    pub(super) fn add_batch_totals(&mut self, bs: &BatchState) {
        self.batch_count += 1;
        self.entry_addenda += bs.records;
        self.hash += bs.hash;
        self.debit += bs.debit;
        self.credit += bs.credit;
    }

    pub(super) fn batch_header(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::BatchHeader;
        self.close_batch_without_control();
        let sec = SecCode::from_bytes(&b[50..53]);
        let is_iat = sec == SecCode::Iat || b[4..20].starts_with(b"IATCOR");
        let defs = if is_iat {
            L::iat_batch_header::ALL
        } else {
            L::batch_header::ALL
        };
        check_fields(&mut self.errors, line, k, b, defs);
        let scc_f = L::batch_header::SERVICE_CLASS_CODE;
        let scc = field::digits(&b[1..4]).and_then(ServiceClass::from_code);
        if scc.is_none() {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ServiceClassCode,
                    format!(
                        "service class code {:?} is not 200, 220, 225 or 280",
                        show(&b[1..4])
                    ),
                )
                .field(scc_f.name)
                .found(show(&b[1..4])),
            );
        }
        if !sec.is_known() {
            let f = L::batch_header::SEC_CODE;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::SecCode,
                    format!(
                        "standard entry class code {:?} is not supported",
                        show(&b[50..53])
                    ),
                )
                .field(f.name)
                .found(show(&b[50..53])),
            );
        }
        if (sec == SecCode::Adv) != (scc == Some(ServiceClass::AdvOnly)) && scc.is_some() {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ServiceClassCode,
                    "service class code 280 is used exactly for ADV batches",
                )
                .field(scc_f.name)
                .found(show(&b[1..4])),
            );
        }
        let osc = b[78];
        let osc_ok = matches!(osc, b'1' | b'2') || (osc == b'0' && (sec == SecCode::Adv || is_iat));
        if !osc_ok {
            let f = L::batch_header::ORIGINATOR_STATUS_CODE;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::OriginatorStatusCode,
                    format!(
                        "originator status code {:?} is invalid (expected 1 or 2; 0 only for ADV)",
                        show(&[osc])
                    ),
                )
                .field(f.name)
                .found(show(&[osc])),
            );
        }
        if !is_iat {
            self.mandatory_company_fields(line, b);
        }
        let reserved = crate::codes::ReservedDescription::of(&b[53..63]);
        if reserved == Some(crate::codes::ReservedDescription::AutoEnroll) && sec != SecCode::Enr {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ReservedDescription,
                    format!("company entry description AUTOENROLL is reserved for ENR batches, not {sec}"),
                )
                .at(L::batch_header::COMPANY_ENTRY_DESCRIPTION)
                .found("AUTOENROLL"),
            );
        }
        let bn = field::digits(&b[87..94]);
        if let Some(n) = bn {
            if let Some(prev) = self.last_batch_number {
                if n <= prev && !self.opts.allow_unordered_batch_numbers {
                    let f = L::batch_header::BATCH_NUMBER;
                    self.push(
                        ValidationError::new(line, k, Rule::BatchNumberOrder, format!("batch number {n} is not greater than the previous batch number {prev}"))
                            .field(f.name)
                            .values(format!("> {prev}"), n),
                    );
                }
            }
            self.last_batch_number = Some(n);
        }
        if self.batch_count == 0 && sec == SecCode::Adv {
            self.adv_file = true;
        } else if sec != SecCode::Adv {
            self.adv_file = false;
        }
        self.batch = Some(BatchState {
            line,
            sec,
            is_iat,
            scc,
            scc_raw: arr(&b[1..4]),
            company_id: arr(&b[40..50]),
            odfi: arr(&b[79..87]),
            batch_number: arr(&b[87..94]),
            reversal: &b[53..63] == b"REVERSAL  ",
            reserved,
            osc: b[78],
            dne_reported: false,
            category: None,
            records: 0,
            hash: 0,
            debit: 0,
            credit: 0,
            last_trace: None,
            entry: None,
        });
    }

    /// Company name, company identification and company entry
    /// description are mandatory: all zeros or all spaces is an error.
    fn mandatory_company_fields(&mut self, line: u64, b: &RecordBytes) {
        use L::batch_header as H;
        for d in [
            H::COMPANY_NAME,
            H::COMPANY_IDENTIFICATION,
            H::COMPANY_ENTRY_DESCRIPTION,
        ] {
            let v = d.span.of(b);
            if zeros_or_spaces(v) {
                self.push(
                    ValidationError::new(
                        line,
                        RecordKind::BatchHeader,
                        Rule::MandatoryField,
                        format!(
                            "{} is mandatory and must not be all zeros or spaces",
                            d.name
                        ),
                    )
                    .at(d)
                    .found(show(v)),
                );
            }
        }
    }

    pub(super) fn batch_control(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::BatchControl;
        let Some(mut bs) = self.batch.take() else {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "batch control outside of a batch".into(),
            );
            return;
        };
        self.finish_entry_of(&mut bs);
        let adv = bs.is_adv();
        check_fields(
            &mut self.errors,
            line,
            k,
            b,
            if adv {
                L::adv_batch_control::ALL
            } else {
                L::batch_control::ALL
            },
        );
        use L::batch_control as C;
        let mism = |s: &mut Self, f: &'static str, exp: &[u8], found: &[u8]| {
            if field::trimmed(exp) != field::trimmed(found) {
                s.push(
                    ValidationError::new(
                        line,
                        k,
                        Rule::HeaderControlMismatch,
                        format!(
                            "{f} {:?} does not match batch header {:?}",
                            show(found),
                            show(exp)
                        ),
                    )
                    .field(f)
                    .values(show(exp), show(found)),
                );
            }
        };
        mism(self, C::SERVICE_CLASS_CODE.name, &bs.scc_raw, &b[1..4]);
        if !adv && !bs.is_iat {
            mism(
                self,
                C::COMPANY_IDENTIFICATION.name,
                &bs.company_id,
                &b[44..54],
            );
        }
        mism(self, C::ODFI_IDENTIFICATION.name, &bs.odfi, &b[79..87]);
        mism(self, C::BATCH_NUMBER.name, &bs.batch_number, &b[87..94]);
        self.batch_tallies(line, b, &bs);
        self.add_batch_totals(&bs);
    }
}
