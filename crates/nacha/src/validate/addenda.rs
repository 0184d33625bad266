//! Addenda records: type allowed per SEC code, addenda indicator, counts,
//! addenda and entry-detail sequence numbers, return and change codes and
//! NOC corrected data.

use super::checker::{Category, Checker, EntryState};
use super::error::{Rule, ValidationError};
use super::fields::{check_fields, show};
use crate::codes::{ChangeCode, CorrectedData, ReturnCode, SecCode};
use crate::field::{self, RecordBytes, Span};
use crate::record::addenda::{self, AddendaKind};
use crate::record::layout as L;
use crate::record::{Addenda, RawRecord, RecordKind};

impl Checker {
    pub(super) fn addenda(&mut self, line: u64, rec: &RawRecord) {
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
        match kind {
            AddendaKind::Noc | AddendaKind::RefusedNoc => es.category = Category::Noc,
            AddendaKind::Return | AddendaKind::DishonoredReturn | AddendaKind::ContestedReturn => {
                es.category = Category::Return
            }
            _ => {}
        }
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

    pub(super) fn entry_sequence(&mut self, line: u64, b: &RecordBytes, es: &EntryState) {
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
}
