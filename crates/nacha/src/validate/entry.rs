//! Entry detail records: transaction code vs SEC code and service class,
//! amounts (prenotes, live entries, TEL debit-only, COR), RDFI check digit,
//! card expiration (SHR), payment type (WEB/TEL), addenda indicator, trace
//! number order and ODFI prefix, mandatory account number and receiver
//! name, reserved descriptions vs direction (TEL reversals, return fees),
//! DNE originators; plus the end-of-entry checks (addenda, entry category).

use super::checker::{BatchState, Category, Checker, EntryState};
use super::error::{Rule, Severity, ValidationError};
use super::fields::{check_fields, check_routing, show, zeros_or_spaces};
use crate::codes::{SecCode, TransactionCode};
use crate::field::{self, RecordBytes};
use crate::record::layout as L;
use crate::record::RecordKind;

impl Checker {
    pub(super) fn finish_entry_of(&mut self, bs: &mut BatchState) {
        self.entry_category(bs);
        if let Some(e) = &bs.entry {
            if e.has_indicator && e.addenda == 0 {
                let f = L::entry_detail::ADDENDA_RECORD_INDICATOR;
                self.err(
                    e.line,
                    RecordKind::EntryDetail,
                    Rule::AddendaIndicator,
                    Some(f.name),
                    "addenda record indicator is 1 but no addenda follows".into(),
                );
            }
            if bs.sec == SecCode::Cor && e.addenda == 0 {
                self.err(
                    e.line,
                    RecordKind::EntryDetail,
                    Rule::AddendaCount,
                    None,
                    "COR entry must have one addenda 98".into(),
                );
            }
        }
    }

    pub(super) fn entry(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::EntryDetail;
        let Some(mut bs) = self.batch.take() else {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "entry detail outside of a batch".into(),
            );
            return;
        };
        self.finish_entry_of(&mut bs);
        let is_iat = bs.is_iat;
        let is_adv = bs.is_adv();
        let defs = if is_adv {
            L::adv_entry_detail::ALL
        } else if is_iat {
            L::iat_entry_detail::ALL
        } else {
            L::entry_detail::ALL
        };
        check_fields(&mut self.errors, line, k, b, defs);
        check_routing(&mut self.errors, line, k, "RDFI check digit", &b[3..12]);
        let tcf = L::entry_detail::TRANSACTION_CODE;
        let tc =
            TransactionCode::from_bytes(&b[1..3]).filter(|t| t.is_known() && (t.0 >= 81) == is_adv);
        let amount = if is_adv {
            field::digits(&b[27..39])
        } else {
            field::digits(&b[29..39])
        }
        .unwrap_or(0);
        match tc {
            None => self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::TransactionCode,
                    format!(
                        "transaction code {:?} is not valid in a {} batch",
                        show(&b[1..3]),
                        bs.sec
                    ),
                )
                .field(tcf.name)
                .found(show(&b[1..3])),
            ),
            Some(t) => {
                if let Some(scc) = bs.scc {
                    if !scc.allows(t) {
                        // IAT batches: tolerated (moov does not check it) → warning.
                        let severity = if bs.is_iat {
                            self.tolerated()
                        } else {
                            Severity::Error
                        };
                        self.push(
                            ValidationError::new(
                                line,
                                k,
                                Rule::ServiceClassMismatch,
                                format!(
                                    "transaction code {t} is not allowed in a batch with service class code {}",
                                    scc.code()
                                ),
                            )
                            .field(tcf.name)
                            .found(t)
                            .severity(severity),
                        );
                    }
                }
                self.entry_amount_rules(line, &bs, t, amount);
                self.dne_originator(&mut bs, t);
                if t.is_debit() {
                    bs.debit += amount;
                } else {
                    bs.credit += amount;
                }
            }
        }
        if bs.sec == SecCode::Shr && !is_iat {
            let mm = field::digits(&b[39..41]);
            if !matches!(mm, Some(1..=12)) {
                let f = L::entry_detail::CARD_EXPIRATION_DATE;
                self.push(
                    ValidationError::new(
                        line,
                        k,
                        Rule::CardExpirationDate,
                        format!("card expiration month {:?} is not 01-12", show(&b[39..41])),
                    )
                    .field(f.name)
                    .found(show(&b[39..43])),
                );
            }
        }
        if matches!(bs.sec, SecCode::Web | SecCode::Tel) && !matches!(b[76], b'R' | b'S' | b' ') {
            let f = L::entry_detail::DISCRETIONARY_DATA;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::PaymentTypeCode,
                    format!("payment type code {:?} must be R or S", show(&b[76..78])),
                )
                .field(f.name)
                .found(show(&b[76..78])),
            );
        }
        let ind = b[78];
        if !matches!(ind, b'0' | b'1') {
            let f = L::entry_detail::ADDENDA_RECORD_INDICATOR;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::AddendaIndicator,
                    format!(
                        "addenda record indicator must be 0 or 1, found {:?}",
                        show(&[ind])
                    ),
                )
                .field(f.name)
                .found(show(&[ind])),
            );
        }
        let trace = if is_adv {
            None
        } else {
            field::digits(&b[79..94])
        };
        if let (Some(t), Some(prev)) = (trace, bs.last_trace) {
            if t <= prev && !self.opts.allow_unordered_trace_numbers {
                let f = L::entry_detail::TRACE_NUMBER;
                self.push(
                    ValidationError::new(line, k, Rule::TraceOrder, format!("trace number {t:015} is not greater than the previous trace number {prev:015} in the batch"))
                        .field(f.name)
                        .values(format!("> {prev:015}"), format!("{t:015}")),
                );
            }
        }
        if trace.is_some() {
            bs.last_trace = trace;
        }
        if !is_adv && !self.opts.custom_trace_numbers && b[79..87] != bs.odfi {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::TracePrefix,
                    format!(
                        "trace number {} does not start with the batch's ODFI identification {}",
                        show(&b[79..94]),
                        show(&bs.odfi)
                    ),
                )
                .at(L::entry_detail::TRACE_NUMBER)
                .values(show(&bs.odfi), show(&b[79..87])),
            );
        }
        if !is_adv && !is_iat {
            self.mandatory_entry_fields(line, &bs, b);
        }
        bs.hash += field::digits(&b[3..11]).unwrap_or(0);
        bs.records += 1;
        bs.entry = Some(EntryState {
            line,
            has_indicator: ind == b'1',
            addenda: 0,
            count05: 0,
            trace,
            category: Category::Forward,
        });
        self.batch = Some(bs);
    }

    pub(super) fn entry_amount_rules(
        &mut self,
        line: u64,
        bs: &BatchState,
        t: TransactionCode,
        amount: u64,
    ) {
        let k = RecordKind::EntryDetail;
        let af = L::entry_detail::AMOUNT;
        if t.is_prenote() && amount != 0 {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::PrenoteAmount,
                    format!("prenote transaction code {t} requires amount 0, found {amount}"),
                )
                .field(af.name)
                .values(0, amount),
            );
        }
        if t.is_live() && amount == 0 && !bs.is_adv() {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ZeroAmount,
                    format!("live transaction code {t} requires a non-zero amount"),
                )
                .field(af.name)
                .found(0),
            );
        }
        if bs.sec == SecCode::Tel && t.is_credit() && !t.is_return_or_noc() && !bs.reversal {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::DebitOnly,
                    format!("TEL batches allow only debits; transaction code {t} is a credit"),
                )
                .field(L::entry_detail::TRANSACTION_CODE.name)
                .found(t),
            );
        }
        self.reserved_description_rules(line, bs, t);
        if bs.sec == SecCode::Cor && !t.is_return_or_noc() {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::TransactionCode,
                    format!("COR entries must use a return/NOC transaction code, found {t}"),
                )
                .field(L::entry_detail::TRANSACTION_CODE.name)
                .found(t),
            );
        }
    }

    /// A TEL `REVERSAL` batch reverses TEL debits, so it holds only
    /// credits; `RETURN FEE`, `RETRY PYMT` and `RECLAIM` entries are debits.
    fn reserved_description_rules(&mut self, line: u64, bs: &BatchState, t: TransactionCode) {
        let k = RecordKind::EntryDetail;
        let tcf = L::entry_detail::TRANSACTION_CODE;
        if t.is_return_or_noc() {
            return;
        }
        if bs.sec == SecCode::Tel && bs.reversal && t.is_debit() {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ReversalDirection,
                    format!(
                        "a TEL REVERSAL batch holds only credits (TEL entries are debits); transaction code {t} is a debit"
                    ),
                )
                .at(tcf)
                .found(t),
            );
        }
        if let Some(r) = bs.reserved.filter(|r| r.debits_only() && t.is_credit()) {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ReservedDescription,
                    format!(
                        "company entry description {r} is reserved for debit entries; transaction code {t} is a credit"
                    ),
                )
                .at(tcf)
                .found(t),
            );
        }
    }

    /// The DFI account number must not be blank, and the receiver's name
    /// (positions 55-76; 40-54 in CIE and MTE entries, as moov reads them)
    /// must not be all zeros or spaces where the SEC code requires one.
    fn mandatory_entry_fields(&mut self, line: u64, bs: &BatchState, b: &RecordBytes) {
        let k = RecordKind::EntryDetail;
        let acct = L::entry_detail::DFI_ACCOUNT_NUMBER;
        if field::is_blank(acct.span.of(b)) {
            self.push(
                ValidationError::new(line, k, Rule::MandatoryField, "DFI account number is blank")
                    .at(acct),
            );
        }
        if !bs.sec.requires_individual_name() {
            return;
        }
        let (range, column) = if matches!(bs.sec, SecCode::Cie | SecCode::Mte) {
            (39..54, 40)
        } else {
            (54..76, 55)
        };
        if zeros_or_spaces(&b[range.clone()]) {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::MandatoryField,
                    format!(
                        "individual name is mandatory in a {} batch and must not be all zeros or spaces",
                        bs.sec
                    ),
                )
                .field(L::entry_detail::INDIVIDUAL_NAME.name)
                .column(column)
                .found(show(&b[range])),
            );
        }
    }

    /// A batch holds one category of entry (NOCs aside), as moov-io/ach
    /// requires: forward entries, or returns — judged when an entry ends.
    fn entry_category(&mut self, bs: &mut BatchState) {
        let Some((line, cat)) = bs.entry.as_ref().map(|e| (e.line, e.category)) else {
            return;
        };
        if bs.is_adv() {
            return;
        }
        match bs.category {
            None => bs.category = Some(cat),
            Some(first) if cat != Category::Noc && cat != first => self.push(
                ValidationError::new(
                    line,
                    RecordKind::EntryDetail,
                    Rule::EntryCategory,
                    format!("a {cat} in a batch whose first entry is a {first}"),
                )
                .values(first, cat),
            ),
            Some(_) => {}
        }
    }

    /// Only a federal agency (originator status code 2) may originate DNE
    /// prenotes (transaction codes 23 and 33), as moov-io/ach checks.
    fn dne_originator(&mut self, bs: &mut BatchState, t: TransactionCode) {
        if bs.sec != SecCode::Dne || bs.osc == b'2' || bs.dne_reported || !matches!(t.0, 23 | 33) {
            return;
        }
        bs.dne_reported = true;
        self.push(
            ValidationError::new(
                bs.line,
                RecordKind::BatchHeader,
                Rule::OriginatorStatusCode,
                format!(
                    "a DNE batch with prenote {t} must have originator status code 2 (a government agency), found {:?}",
                    show(&[bs.osc])
                ),
            )
            .at(L::batch_header::ORIGINATOR_STATUS_CODE)
            .found(show(&[bs.osc])),
        );
    }
}
