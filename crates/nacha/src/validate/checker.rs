//! The single-pass validation state machine. Feed it records in file order
//! with [`Checker::check_line`], then call [`Checker::finish`].

use super::error::{Rule, ValidationError};
use super::fields::{check_fields, check_routing, show};
use super::ValidateOptions;
use crate::codes::{ChangeCode, CorrectedData, ReturnCode, SecCode, ServiceClass, TransactionCode};
use crate::field::{self, RecordBytes, Span};
use crate::reader::lines::{LineIssue, RawLine};
use crate::record::addenda::{self, AddendaKind};
use crate::record::layout as L;
use crate::record::{Addenda, RawRecord, RecordKind};

#[derive(Debug)]
struct EntryState {
    line: u64,
    has_indicator: bool,
    addenda: u32,
    count05: u32,
    trace: Option<u64>,
}

#[derive(Debug)]
struct BatchState {
    line: u64,
    sec: SecCode,
    is_iat: bool,
    scc: Option<ServiceClass>,
    scc_raw: [u8; 3],
    company_id: [u8; 10],
    odfi: [u8; 8],
    batch_number: [u8; 7],
    reversal: bool,
    records: u64,
    hash: u64,
    debit: u64,
    credit: u64,
    last_trace: Option<u64>,
    entry: Option<EntryState>,
}

impl BatchState {
    fn is_adv(&self) -> bool {
        self.sec == SecCode::Adv
    }
}

/// Streaming validator state.
#[derive(Debug)]
pub struct Checker {
    opts: ValidateOptions,
    errors: Vec<ValidationError>,
    header_seen: bool,
    any_record: bool,
    control_seen: bool,
    batch: Option<BatchState>,
    batch_count: u64,
    records: u64,
    physical: u64,
    entry_addenda: u64,
    hash: u64,
    debit: u64,
    credit: u64,
    last_batch_number: Option<u64>,
    adv_file: bool,
    after_control_reported: bool,
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [b' '; N];
    let n = b.len().min(N);
    a[..n].copy_from_slice(&b[..n]);
    a
}

impl Checker {
    /// A checker with the given options.
    pub fn new(opts: &ValidateOptions) -> Self {
        Checker {
            opts: *opts,
            errors: Vec::new(),
            header_seen: false,
            any_record: false,
            control_seen: false,
            batch: None,
            batch_count: 0,
            records: 0,
            physical: 0,
            entry_addenda: 0,
            hash: 0,
            debit: 0,
            credit: 0,
            last_batch_number: None,
            adv_file: false,
            after_control_reported: false,
        }
    }

    fn push(&mut self, e: ValidationError) {
        self.errors.push(e);
    }

    fn err(
        &mut self,
        line: u64,
        kind: RecordKind,
        rule: Rule,
        field: Option<&'static str>,
        msg: String,
    ) {
        let mut e = ValidationError::new(line, kind, rule, msg);
        e.field = field;
        self.errors.push(e);
    }

    /// Checks one record cut from the input.
    pub fn check_line(&mut self, l: &RawLine) {
        self.check_record(l.line, &l.record, l.issue);
    }

    /// Checks one record.
    pub fn check_record(&mut self, line: u64, rec: &RawRecord, issue: Option<LineIssue>) {
        let before = self.errors.len();
        let kind = rec.kind();
        let b = rec.bytes();
        self.physical += 1;
        if kind != RecordKind::Padding {
            if self.control_seen && !self.after_control_reported {
                self.after_control_reported = true;
                self.err(
                    line,
                    kind,
                    Rule::DataAfterFileControl,
                    None,
                    format!("{kind} after the file control"),
                );
            }
            self.records += 1;
        }
        match kind {
            RecordKind::FileHeader => self.file_header(line, b),
            RecordKind::BatchHeader => self.batch_header(line, b),
            RecordKind::EntryDetail => self.entry(line, b),
            RecordKind::Addenda => self.addenda(line, rec),
            RecordKind::BatchControl => self.batch_control(line, b),
            RecordKind::FileControl => self.file_control(line, b),
            RecordKind::Padding => {}
            RecordKind::Unknown => self.err(
                line,
                kind,
                Rule::UnknownRecordType,
                Some("record type code"),
                format!("unknown record type code {:?}", show(&b[..1])),
            ),
        }
        self.any_record = true;
        let len_msg = match issue {
            Some(LineIssue::Long(n)) => Some(n),
            Some(LineIssue::Short(n)) if self.errors.len() > before => Some(n),
            _ => None,
        };
        if let Some(n) = len_msg {
            self.push(
                ValidationError::new(
                    line,
                    kind,
                    Rule::RecordLength,
                    format!("record must be 94 characters, found {n}"),
                )
                .values(94, n),
            );
        }
    }

    fn file_header(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::FileHeader;
        if self.header_seen {
            self.err(
                line,
                k,
                Rule::DuplicateFileHeader,
                None,
                "more than one file header".into(),
            );
            return;
        }
        self.header_seen = true;
        if self.any_record {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "file header must be the first record".into(),
            );
        }
        check_fields(&mut self.errors, line, k, b, L::file_header::ALL);
        let dest = L::file_header::IMMEDIATE_DESTINATION;
        let dv = dest.span.of(b);
        let digits = field::trimmed(dv);
        if digits.is_empty() {
            self.err(
                line,
                k,
                Rule::MandatoryField,
                Some(dest.name),
                "immediate destination is blank".into(),
            );
        } else if !self.opts.skip_destination_check_digit {
            check_routing(&mut self.errors, line, k, dest.name, digits.as_bytes());
        }
        let orig = L::file_header::IMMEDIATE_ORIGIN;
        let ov = field::trimmed(orig.span.of(b));
        if ov.is_empty() || ov.bytes().all(|c| c == b'0') {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::ImmediateOrigin,
                    "immediate origin must not be blank or all zeros",
                )
                .field(orig.name)
                .found(&ov),
            );
        }
        let m = b[33];
        if !(m.is_ascii_uppercase() || m.is_ascii_digit()) {
            let f = L::file_header::FILE_ID_MODIFIER;
            self.push(
                ValidationError::new(
                    line,
                    k,
                    Rule::FileIdModifier,
                    format!(
                        "file ID modifier must be A-Z or 0-9, found {:?}",
                        show(&[m])
                    ),
                )
                .field(f.name)
                .found(show(&[m])),
            );
        }
    }

    fn close_batch_without_control(&mut self) {
        if let Some(bs) = self.batch.take() {
            if !self.opts.allow_missing_batch_control {
                self.err(
                    bs.line,
                    RecordKind::BatchHeader,
                    Rule::MissingBatchControl,
                    None,
                    "batch has no batch control".into(),
                );
            }
            self.finish_entry_of(&bs);
            self.add_batch_totals(&bs);
        }
    }

    fn add_batch_totals(&mut self, bs: &BatchState) {
        self.batch_count += 1;
        self.entry_addenda += bs.records;
        self.hash += bs.hash;
        self.debit += bs.debit;
        self.credit += bs.credit;
    }

    fn batch_header(&mut self, line: u64, b: &RecordBytes) {
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
        if !is_iat && field::is_blank(&b[40..50]) {
            let f = L::batch_header::COMPANY_IDENTIFICATION;
            self.err(
                line,
                k,
                Rule::MandatoryField,
                Some(f.name),
                "company identification is blank".into(),
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
            records: 0,
            hash: 0,
            debit: 0,
            credit: 0,
            last_trace: None,
            entry: None,
        });
    }

    fn finish_entry_of(&mut self, bs: &BatchState) {
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

    fn entry(&mut self, line: u64, b: &RecordBytes) {
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
        self.finish_entry_of(&bs);
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
                        self.push(
                            ValidationError::new(line, k, Rule::ServiceClassMismatch, format!("transaction code {t} is not allowed in a batch with service class code {}", scc.code()))
                                .field(tcf.name)
                                .found(t),
                        );
                    }
                }
                self.entry_amount_rules(line, &bs, t, amount);
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
        bs.hash += field::digits(&b[3..11]).unwrap_or(0);
        bs.records += 1;
        bs.entry = Some(EntryState {
            line,
            has_indicator: ind == b'1',
            addenda: 0,
            count05: 0,
            trace,
        });
        self.batch = Some(bs);
    }

    fn entry_amount_rules(&mut self, line: u64, bs: &BatchState, t: TransactionCode, amount: u64) {
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

    fn addenda(&mut self, line: u64, rec: &RawRecord) {
        let k = RecordKind::Addenda;
        let b = rec.bytes();
        let Some(mut bs) = self.batch.take() else {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "addenda outside of a batch".into(),
            );
            return;
        };
        bs.records += 1;
        let sec = bs.sec;
        let Some(mut es) = bs.entry.take() else {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "addenda outside of an entry".into(),
            );
            self.batch = Some(bs);
            return;
        };
        es.addenda += 1;
        let a = Addenda(rec.clone());
        let kind = a.kind();
        let tf = addenda::TYPE_CODE;
        if !es.has_indicator && es.addenda == 1 {
            self.err(
                line,
                k,
                Rule::AddendaIndicator,
                Some(L::entry_detail::ADDENDA_RECORD_INDICATOR.name),
                format!(
                    "addenda follows entry on line {} whose addenda record indicator is 0",
                    es.line
                ),
            );
        }
        let allowed = match kind {
            AddendaKind::Noc
            | AddendaKind::RefusedNoc
            | AddendaKind::Return
            | AddendaKind::DishonoredReturn
            | AddendaKind::ContestedReturn => true,
            AddendaKind::Terminal => matches!(sec, SecCode::Pos | SecCode::Shr | SecCode::Mte),
            AddendaKind::PaymentRelated => !matches!(
                sec,
                SecCode::Tel
                    | SecCode::Pos
                    | SecCode::Shr
                    | SecCode::Mte
                    | SecCode::Iat
                    | SecCode::Adv
                    | SecCode::Cor
            ),
            AddendaKind::Iat(_) => bs.is_iat,
            AddendaKind::Unknown => false,
        };
        if !allowed {
            self.push(
                ValidationError::new(
                    line,
                    k,
                    if sec == SecCode::Tel {
                        Rule::AddendaCount
                    } else {
                        Rule::AddendaType
                    },
                    format!(
                        "addenda type {:?} is not allowed in a {sec} batch",
                        show(tf.span.of(b))
                    ),
                )
                .field(tf.name)
                .found(show(tf.span.of(b))),
            );
        }
        if sec == SecCode::Cor
            && !matches!(
                kind,
                AddendaKind::Noc | AddendaKind::RefusedNoc | AddendaKind::Iat(_)
            )
        {
            self.err(
                line,
                k,
                Rule::AddendaType,
                Some(tf.name),
                "COR entries take only addenda 98".into(),
            );
        }
        check_fields(&mut self.errors, line, k, b, addenda::layout(kind));
        match kind {
            AddendaKind::PaymentRelated => {
                es.count05 += 1;
                let max = match sec {
                    SecCode::Ctx | SecCode::Atx | SecCode::Trx | SecCode::Enr | SecCode::Dne => {
                        9999
                    }
                    _ => 1,
                };
                if es.count05 > max {
                    self.err(
                        line,
                        k,
                        Rule::AddendaCount,
                        None,
                        format!("a {sec} entry allows at most {max} addenda 05"),
                    );
                }
                let seq = field::digits(&b[83..87]);
                if seq.is_some() && seq != Some(u64::from(es.count05)) {
                    self.push(
                        ValidationError::new(
                            line,
                            k,
                            Rule::AddendaSequence,
                            format!(
                                "addenda sequence number {} should be {}",
                                show(&b[83..87]),
                                es.count05
                            ),
                        )
                        .field(addenda::ADDENDA_SEQUENCE.name)
                        .values(es.count05, show(&b[83..87])),
                    );
                }
                self.entry_sequence(line, b, &es);
            }
            AddendaKind::Iat(_) => self.entry_sequence(line, b, &es),
            AddendaKind::Return | AddendaKind::DishonoredReturn | AddendaKind::ContestedReturn => {
                let code = &b[3..6];
                let ok = ReturnCode::from_bytes(code).is_some()
                    || (self.opts.allow_custom_return_codes
                        && code[0] == b'R'
                        && field::is_digits(&code[1..]));
                if !ok {
                    self.push(
                        ValidationError::new(
                            line,
                            k,
                            Rule::ReturnCode,
                            format!(
                                "return reason code {:?} is not a valid return code",
                                show(code)
                            ),
                        )
                        .field("return reason code")
                        .found(show(code)),
                    );
                }
            }
            AddendaKind::Noc | AddendaKind::RefusedNoc => {
                let code = &b[3..6];
                match ChangeCode::from_bytes(code) {
                    None => self.push(
                        ValidationError::new(
                            line,
                            k,
                            Rule::ChangeCode,
                            format!("change code {:?} is not a valid change code", show(code)),
                        )
                        .field("change code")
                        .found(show(code)),
                    ),
                    Some(c) => {
                        if let Err(e) = CorrectedData::parse(c, Span::pos(36, 64).of(b)) {
                            self.push(
                                ValidationError::new(line, k, Rule::CorrectedData, e.to_string())
                                    .field("corrected data")
                                    .found(show(Span::pos(36, 64).of(b))),
                            );
                        }
                    }
                }
            }
            AddendaKind::Terminal | AddendaKind::Unknown => {}
        }
        bs.entry = Some(es);
        self.batch = Some(bs);
    }

    fn entry_sequence(&mut self, line: u64, b: &RecordBytes, es: &EntryState) {
        if let (Some(seq), Some(trace)) = (field::digits(&b[87..94]), es.trace) {
            let want = trace % 10_000_000;
            if seq != want {
                self.push(
                    ValidationError::new(line, RecordKind::Addenda, Rule::AddendaSequence, format!("entry detail sequence number {seq:07} does not match the entry trace number ending {want:07}"))
                        .field(addenda::ENTRY_SEQUENCE.name)
                        .values(format!("{want:07}"), format!("{seq:07}")),
                );
            }
        }
    }

    fn batch_control(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::BatchControl;
        let Some(bs) = self.batch.take() else {
            self.err(
                line,
                k,
                Rule::RecordOrder,
                None,
                "batch control outside of a batch".into(),
            );
            return;
        };
        self.finish_entry_of(&bs);
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
        let (dspan, cspan) = if adv {
            (
                L::adv_batch_control::TOTAL_DEBIT.span,
                L::adv_batch_control::TOTAL_CREDIT.span,
            )
        } else {
            (C::TOTAL_DEBIT.span, C::TOTAL_CREDIT.span)
        };
        let checks = [
            (
                C::ENTRY_ADDENDA_COUNT.name,
                Rule::EntryAddendaCount,
                C::ENTRY_ADDENDA_COUNT.span,
                bs.records,
            ),
            (
                C::ENTRY_HASH.name,
                Rule::EntryHash,
                C::ENTRY_HASH.span,
                field::rightmost(bs.hash, 10),
            ),
            (C::TOTAL_DEBIT.name, Rule::TotalDebit, dspan, bs.debit),
            (C::TOTAL_CREDIT.name, Rule::TotalCredit, cspan, bs.credit),
        ];
        self.compare(line, k, &checks, b);
        self.add_batch_totals(&bs);
    }

    fn compare(
        &mut self,
        line: u64,
        k: RecordKind,
        checks: &[(&'static str, Rule, Span, u64)],
        b: &RecordBytes,
    ) {
        for &(name, rule, span, want) in checks {
            if let Some(found) = field::digits(span.of(b)) {
                if found != want {
                    self.push(
                        ValidationError::new(
                            line,
                            k,
                            rule,
                            format!("{name} {found} does not match computed {want}"),
                        )
                        .field(name)
                        .values(want, found),
                    );
                }
            }
        }
    }

    fn file_control(&mut self, line: u64, b: &RecordBytes) {
        let k = RecordKind::FileControl;
        if self.control_seen {
            self.err(
                line,
                k,
                Rule::DuplicateFileControl,
                None,
                "more than one file control".into(),
            );
            return;
        }
        self.close_batch_without_control();
        self.control_seen = true;
        let adv = self.adv_file && self.batch_count > 0;
        check_fields(
            &mut self.errors,
            line,
            k,
            b,
            if adv {
                L::adv_file_control::ALL
            } else {
                L::file_control::ALL
            },
        );
        use L::file_control as F;
        let (dspan, cspan) = if adv {
            (
                L::adv_file_control::TOTAL_DEBIT.span,
                L::adv_file_control::TOTAL_CREDIT.span,
            )
        } else {
            (F::TOTAL_DEBIT.span, F::TOTAL_CREDIT.span)
        };
        let blocks = self.records.div_ceil(10);
        let checks = [
            (
                F::BATCH_COUNT.name,
                Rule::BatchCount,
                F::BATCH_COUNT.span,
                self.batch_count,
            ),
            (
                F::BLOCK_COUNT.name,
                Rule::BlockCount,
                F::BLOCK_COUNT.span,
                blocks,
            ),
            (
                F::ENTRY_ADDENDA_COUNT.name,
                Rule::EntryAddendaCount,
                F::ENTRY_ADDENDA_COUNT.span,
                self.entry_addenda,
            ),
            (
                F::ENTRY_HASH.name,
                Rule::EntryHash,
                F::ENTRY_HASH.span,
                field::rightmost(self.hash, 10),
            ),
            (F::TOTAL_DEBIT.name, Rule::TotalDebit, dspan, self.debit),
            (F::TOTAL_CREDIT.name, Rule::TotalCredit, cspan, self.credit),
        ];
        self.compare(line, k, &checks, b);
    }

    /// Ends validation and returns every finding.
    pub fn finish(mut self) -> Vec<ValidationError> {
        if let Some(bs) = self.batch.take() {
            if !self.opts.allow_missing_batch_control {
                self.err(
                    bs.line,
                    RecordKind::BatchHeader,
                    Rule::MissingBatchControl,
                    None,
                    "batch has no batch control".into(),
                );
            }
            self.finish_entry_of(&bs);
        }
        if !self.header_seen && !self.opts.allow_missing_file_header {
            self.err(
                0,
                RecordKind::FileHeader,
                Rule::MissingFileHeader,
                None,
                "file has no file header".into(),
            );
        }
        if !self.control_seen && !self.opts.allow_missing_file_control {
            self.err(
                0,
                RecordKind::FileControl,
                Rule::MissingFileControl,
                None,
                "file has no file control".into(),
            );
        }
        if self.control_seen && self.physical % 10 != 0 && self.opts.require_padding {
            self.push(
                ValidationError::new(
                    0,
                    RecordKind::Padding,
                    Rule::Padding,
                    format!(
                        "file has {} records; padding must bring it to a multiple of 10",
                        self.physical
                    ),
                )
                .values("a multiple of 10", self.physical),
            );
        }
        self.errors
    }
}
