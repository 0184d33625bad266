//! When a debit goes into a file, and its effective entry date (EED).
//!
//! "Today" is the US/Eastern calendar date; cutoffs are those of the
//! operator's [`CutoffSchedule`], and only banking days have them. A cutoff
//! takes the entries that are waiting for it when it strikes: an entry
//! planned at exactly a cutoff's instant has missed it.
//!
//! **Standard processing, no requested date.** The entry goes into the next
//! standard cutoff: today's if today is a banking day and that cutoff has not
//! passed, else the next banking day's. Its EED is the banking day after that
//! cutoff's day. Example (default 20:00 ET cutoff): Friday 15:00 → Friday's
//! file, EED Monday (Tuesday when Monday is a holiday); Friday 21:00 → Monday's
//! file, EED Tuesday.
//!
//! **Same-day processing, no requested date.** If today is a banking day and
//! the last same-day window has not passed, the entry goes into today's next
//! window with EED today. Otherwise it rolls to the next banking day: EED is
//! that day and the entry goes into its first same-day window.
//!
//! **Requested effective date (a deferred debit).** The date must be
//!
//! 1. within years 1–9999,
//! 2. today or later ([`TimingError::InThePast`]),
//! 3. at most `horizon_days` calendar days after today
//!    ([`TimingError::BeyondHorizon`]),
//! 4. a banking day ([`TimingError::NotABankingDay`]),
//! 5. no earlier than the EED the same mode would give with no requested date
//!    ([`TimingError::TooSoon`]).
//!
//! A Nacha originator may not send a debit more than one banking day before
//! its EED, so Inflow holds it until then: a standard entry is released into
//! the standard cutoff of the banking day before its EED (or the earliest
//! possible cutoff, if that is later); a same-day entry is released into the
//! same-day windows of its EED itself. The plan is `deferred` when its
//! release day is later than the earliest possible one (the collection is
//! `scheduled` rather than `pending`).
//!
//! An entry is same-day exactly when its EED is its release day
//! ([`EntryPlan::same_day`]); standard entries are always released at least
//! one banking day before their EED.
//!
//! Same-day processing is also limited to entries of at most
//! [`SAME_DAY_ENTRY_LIMIT_MINOR`]; that check belongs to the caller, which
//! knows the amount.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{add_days, local_date, BankingCalendar, CutoffSchedule};
use crate::bank::string_enum;

string_enum!(
    /// Standard (next-banking-day settlement) or Same Day ACH.
    ProcessingMode, "processing mode" { Standard => "standard", SameDay => "same_day" });

impl ProcessingMode {
    /// "standard" or "same-day", for messages.
    pub fn label(self) -> &'static str {
        match self {
            ProcessingMode::Standard => "standard",
            ProcessingMode::SameDay => "same-day",
        }
    }
}

/// Same Day ACH per-entry limit, in USD minor units ($1,000,000.00, since
/// 2022-03-18). Larger entries must be processed as standard.
pub const SAME_DAY_ENTRY_LIMIT_MINOR: i64 = 100_000_000;

/// Where an entry goes: the file of which day, and its effective entry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryPlan {
    /// The EED written in the batch header: always a banking day.
    pub effective_date: NaiveDate,
    /// The US/Eastern banking day whose cutoff may first carry the entry:
    /// its standard cutoff for a standard entry, its same-day windows for a
    /// same-day entry. Always a banking day, never after `effective_date`.
    pub release_date: NaiveDate,
    /// `effective_date == release_date`: the entry settles the day its file goes out.
    pub same_day: bool,
    /// The entry is held past the earliest cutoff that could carry it.
    pub deferred: bool,
}

/// An effective entry date that cannot be honoured, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    #[error(
        "effectiveDate {date} is not a banking day ({reason}); the next banking day is {next_banking_day}"
    )]
    NotABankingDay {
        date: NaiveDate,
        reason: &'static str,
        next_banking_day: NaiveDate,
    },
    #[error("effectiveDate {date} is in the past; today is {today} (US/Eastern)")]
    InThePast { date: NaiveDate, today: NaiveDate },
    #[error(
        "effectiveDate {date} is too soon for {} processing; the earliest possible effective date is {earliest}",
        .mode.label()
    )]
    TooSoon {
        date: NaiveDate,
        earliest: NaiveDate,
        mode: ProcessingMode,
    },
    #[error(
        "effectiveDate {date} is more than {horizon_days} days ahead; the latest allowed is {latest}"
    )]
    BeyondHorizon {
        date: NaiveDate,
        latest: NaiveDate,
        horizon_days: u32,
    },
    #[error(
        "same-day processing is not offered: the operator's cutoff schedule has no same-day windows; use standard processing"
    )]
    SameDayNotOffered,
    #[error("date {date} is outside the supported range (years 1 to 9999)")]
    OutOfRange { date: NaiveDate },
}

impl TimingError {
    /// A stable machine-readable code for the API's error object.
    pub fn code(&self) -> &'static str {
        match self {
            TimingError::NotABankingDay { .. } => "effective_date_not_banking_day",
            TimingError::InThePast { .. } => "effective_date_in_past",
            TimingError::TooSoon { .. } => "effective_date_too_soon",
            TimingError::BeyondHorizon { .. } => "effective_date_beyond_horizon",
            TimingError::SameDayNotOffered => "same_day_not_offered",
            TimingError::OutOfRange { .. } => "date_out_of_range",
        }
    }
}

fn check_range(date: NaiveDate) -> Result<(), TimingError> {
    if (1..=9999).contains(&date.year()) {
        Ok(())
    } else {
        Err(TimingError::OutOfRange { date })
    }
}

/// Plan an entry submitted at `now`: see the module documentation for the
/// rules. `requested_effective_date` makes it a deferred debit, allowed at
/// most `horizon_days` calendar days after today (US/Eastern).
pub fn plan_entry(
    cal: &BankingCalendar,
    schedule: &CutoffSchedule,
    now: DateTime<Utc>,
    mode: ProcessingMode,
    requested_effective_date: Option<NaiveDate>,
    horizon_days: u32,
) -> Result<EntryPlan, TimingError> {
    let today = local_date(now);
    check_range(today)?;
    if let Some(date) = requested_effective_date {
        check_range(date)?;
    }
    let earliest = earliest_plan(cal, schedule, now, mode)?;
    let Some(date) = requested_effective_date else {
        return Ok(earliest);
    };

    if date < today {
        return Err(TimingError::InThePast { date, today });
    }
    // Past chrono's range the horizon cannot bind: the date is ≤ 9999-12-31.
    let latest = add_days(today, u64::from(horizon_days)).unwrap_or(NaiveDate::MAX);
    if date > latest {
        return Err(TimingError::BeyondHorizon {
            date,
            latest,
            horizon_days,
        });
    }
    if let Some(reason) = cal.closure_reason(date) {
        return Err(TimingError::NotABankingDay {
            date,
            reason,
            next_banking_day: cal.next_banking_day(date),
        });
    }
    if date < earliest.effective_date {
        return Err(TimingError::TooSoon {
            date,
            earliest: earliest.effective_date,
            mode,
        });
    }
    let release_date = match mode {
        ProcessingMode::Standard => cal.previous_banking_day(date).max(earliest.release_date),
        ProcessingMode::SameDay => date,
    };
    Ok(EntryPlan {
        effective_date: date,
        release_date,
        same_day: release_date == date,
        deferred: release_date > earliest.release_date,
    })
}

/// The plan for an entry in `mode` with no requested date.
fn earliest_plan(
    cal: &BankingCalendar,
    schedule: &CutoffSchedule,
    now: DateTime<Utc>,
    mode: ProcessingMode,
) -> Result<EntryPlan, TimingError> {
    match mode {
        ProcessingMode::Standard => {
            let cutoff = schedule.next_standard_cutoff(cal, now);
            Ok(EntryPlan {
                effective_date: cal.next_banking_day(cutoff.date),
                release_date: cutoff.date,
                same_day: false,
                deferred: false,
            })
        }
        ProcessingMode::SameDay => {
            let cutoff = schedule
                .next_same_day_cutoff(cal, now)
                .ok_or(TimingError::SameDayNotOffered)?;
            Ok(EntryPlan {
                effective_date: cutoff.date,
                release_date: cutoff.date,
                same_day: true,
                deferred: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::cutoffs::eastern_instant;
    use crate::calendar::Cutoff;
    use chrono::{Days, NaiveTime};
    use proptest::prelude::*;
    use ProcessingMode::{SameDay, Standard};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn fed() -> BankingCalendar {
        BankingCalendar::federal_reserve()
    }

    const HORIZON: u32 = 365;

    /// Plan with the Fed calendar and the default schedule at `now` (ET wall clock).
    fn plan(
        now: DateTime<Utc>,
        mode: ProcessingMode,
        req: Option<NaiveDate>,
    ) -> Result<EntryPlan, TimingError> {
        plan_entry(&fed(), &CutoffSchedule::default(), now, mode, req, HORIZON)
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        eastern_instant(
            d(y, m, day),
            NaiveTime::from_hms_opt(h, min, 0).expect("valid test time"),
        )
    }

    fn expect(eed: NaiveDate, release: NaiveDate, same_day: bool, deferred: bool) -> EntryPlan {
        EntryPlan {
            effective_date: eed,
            release_date: release,
            same_day,
            deferred,
        }
    }

    // Tue 2026-07-14 is an ordinary banking day (EDT).

    #[test]
    fn standard_before_the_cutoff_goes_out_today_for_tomorrow() {
        let p = plan(at(2026, 7, 14, 19, 59), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 15), d(2026, 7, 14), false, false));
    }

    #[test]
    fn standard_at_or_after_the_cutoff_goes_out_the_next_banking_day() {
        for (h, m) in [(20, 0), (20, 1), (23, 59)] {
            let p = plan(at(2026, 7, 14, h, m), Standard, None).expect("plan");
            assert_eq!(
                p,
                expect(d(2026, 7, 16), d(2026, 7, 15), false, false),
                "{h}:{m}"
            );
        }
        // Just after midnight the next day it is the same plan.
        let p = plan(at(2026, 7, 15, 0, 5), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 16), d(2026, 7, 15), false, false));
    }

    #[test]
    fn standard_on_friday_afternoon_settles_monday_and_friday_night_tuesday() {
        let p = plan(at(2026, 7, 17, 15, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 20), d(2026, 7, 17), false, false));
        let p = plan(at(2026, 7, 17, 21, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 21), d(2026, 7, 20), false, false));
    }

    #[test]
    fn standard_on_friday_before_a_monday_holiday_settles_tuesday() {
        // Mon 2026-09-07 is Labor Day.
        let p = plan(at(2026, 9, 4, 15, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 9, 8), d(2026, 9, 4), false, false));
    }

    #[test]
    fn standard_on_a_weekend_goes_out_monday_for_tuesday() {
        let p = plan(at(2026, 7, 18, 11, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 21), d(2026, 7, 20), false, false));
    }

    #[test]
    fn standard_around_thanksgiving_and_a_friday_christmas() {
        // Wed 2026-11-25 afternoon → released Wed, EED Fri (Thursday is Thanksgiving).
        let p = plan(at(2026, 11, 25, 15, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 11, 27), d(2026, 11, 25), false, false));
        // On Thanksgiving itself → released Fri, EED Mon.
        let p = plan(at(2026, 11, 26, 9, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 11, 30), d(2026, 11, 27), false, false));
        // Thu 2026-12-24 afternoon → released Thu, EED Mon 12-28 (Christmas Fri).
        let p = plan(at(2026, 12, 24, 15, 0), Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 12, 28), d(2026, 12, 24), false, false));
    }

    #[test]
    fn same_day_before_the_last_window_settles_today() {
        for (h, m) in [(0, 1), (9, 59), (10, 0), (13, 59), (14, 0), (16, 14)] {
            let p = plan(at(2026, 7, 14, h, m), SameDay, None).expect("plan");
            assert_eq!(
                p,
                expect(d(2026, 7, 14), d(2026, 7, 14), true, false),
                "{h}:{m}"
            );
        }
    }

    #[test]
    fn same_day_after_the_last_window_rolls_to_the_next_banking_day() {
        for (h, m) in [(16, 15), (16, 16), (19, 0), (23, 59)] {
            let p = plan(at(2026, 7, 14, h, m), SameDay, None).expect("plan");
            assert_eq!(
                p,
                expect(d(2026, 7, 15), d(2026, 7, 15), true, false),
                "{h}:{m}"
            );
        }
        // Friday evening → Monday; before Labor Day → Tuesday.
        let p = plan(at(2026, 7, 17, 17, 0), SameDay, None).expect("plan");
        assert_eq!(p.effective_date, d(2026, 7, 20));
        let p = plan(at(2026, 9, 4, 17, 0), SameDay, None).expect("plan");
        assert_eq!(p, expect(d(2026, 9, 8), d(2026, 9, 8), true, false));
    }

    #[test]
    fn same_day_on_weekends_and_holidays_rolls_to_the_next_banking_day() {
        let p = plan(at(2026, 7, 18, 9, 0), SameDay, None).expect("plan");
        assert_eq!(p.effective_date, d(2026, 7, 20));
        let p = plan(at(2026, 11, 26, 9, 0), SameDay, None).expect("plan");
        assert_eq!(p, expect(d(2026, 11, 27), d(2026, 11, 27), true, false));
        let p = plan(at(2026, 12, 25, 9, 0), SameDay, None).expect("plan");
        assert_eq!(p.effective_date, d(2026, 12, 28));
    }

    #[test]
    fn same_day_is_refused_when_the_schedule_has_no_windows() {
        let s = CutoffSchedule::new(vec![], NaiveTime::from_hms_opt(20, 0, 0).expect("time"))
            .expect("schedule");
        let e = plan_entry(&fed(), &s, at(2026, 7, 14, 9, 0), SameDay, None, HORIZON)
            .expect_err("no windows");
        assert_eq!(e, TimingError::SameDayNotOffered);
        assert_eq!(e.code(), "same_day_not_offered");
    }

    #[test]
    fn requested_date_on_a_holiday_names_it_and_the_next_banking_day() {
        let e = plan(at(2026, 11, 2, 9, 0), Standard, Some(d(2026, 11, 26))).expect_err("holiday");
        assert_eq!(
            e.to_string(),
            "effectiveDate 2026-11-26 is not a banking day (Thanksgiving Day); the next banking day is 2026-11-27"
        );
        assert_eq!(e.code(), "effective_date_not_banking_day");
        let e = plan(at(2026, 11, 2, 9, 0), SameDay, Some(d(2026, 12, 25))).expect_err("holiday");
        assert_eq!(
            e,
            TimingError::NotABankingDay {
                date: d(2026, 12, 25),
                reason: "Christmas Day",
                next_banking_day: d(2026, 12, 28),
            }
        );
    }

    #[test]
    fn requested_date_on_a_weekend_is_refused() {
        let e = plan(at(2026, 7, 14, 9, 0), Standard, Some(d(2026, 7, 25))).expect_err("weekend");
        assert_eq!(
            e.to_string(),
            "effectiveDate 2026-07-25 is not a banking day (weekend); the next banking day is 2026-07-27"
        );
    }

    #[test]
    fn requested_date_in_the_past_is_refused_by_eastern_today() {
        // 2026-07-15T02:00Z is still 07-14 in New York.
        let now = at(2026, 7, 14, 22, 0);
        let e = plan(now, Standard, Some(d(2026, 7, 13))).expect_err("past");
        assert_eq!(
            e.to_string(),
            "effectiveDate 2026-07-13 is in the past; today is 2026-07-14 (US/Eastern)"
        );
        assert_eq!(e.code(), "effective_date_in_past");
    }

    #[test]
    fn requested_date_sooner_than_the_earliest_is_too_soon() {
        // Standard after Tuesday's cutoff: earliest EED is Thursday.
        let e = plan(at(2026, 7, 14, 21, 0), Standard, Some(d(2026, 7, 15))).expect_err("too soon");
        assert_eq!(
            e.to_string(),
            "effectiveDate 2026-07-15 is too soon for standard processing; the earliest possible effective date is 2026-07-16"
        );
        // Standard cannot settle today.
        let e = plan(at(2026, 7, 14, 9, 0), Standard, Some(d(2026, 7, 14))).expect_err("too soon");
        assert_eq!(e.code(), "effective_date_too_soon");
        // Same-day after the last window: today is too soon.
        let e = plan(at(2026, 7, 14, 17, 0), SameDay, Some(d(2026, 7, 14))).expect_err("too soon");
        assert_eq!(
            e,
            TimingError::TooSoon {
                date: d(2026, 7, 14),
                earliest: d(2026, 7, 15),
                mode: SameDay
            }
        );
        assert!(e.to_string().contains("too soon for same-day processing"));
    }

    #[test]
    fn requested_date_beyond_the_horizon_is_refused() {
        let now = at(2026, 7, 14, 9, 0);
        let e = plan_entry(
            &fed(),
            &CutoffSchedule::default(),
            now,
            Standard,
            Some(d(2026, 8, 14)),
            30,
        )
        .expect_err("beyond");
        assert_eq!(
            e.to_string(),
            "effectiveDate 2026-08-14 is more than 30 days ahead; the latest allowed is 2026-08-13"
        );
        assert_eq!(e.code(), "effective_date_beyond_horizon");
        let ok = plan_entry(
            &fed(),
            &CutoffSchedule::default(),
            now,
            Standard,
            Some(d(2026, 8, 13)),
            30,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn requested_earliest_date_is_not_deferred() {
        let now = at(2026, 7, 14, 9, 0);
        let p = plan(now, Standard, Some(d(2026, 7, 15))).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 15), d(2026, 7, 14), false, false));
        let p = plan(now, SameDay, Some(d(2026, 7, 14))).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 14), d(2026, 7, 14), true, false));
    }

    #[test]
    fn deferred_standard_entry_is_released_one_banking_day_before_its_date() {
        let now = at(2026, 7, 14, 9, 0);
        // EED Mon 2026-11-30 → released Fri 11-27 (the day after Thanksgiving).
        let p = plan(now, Standard, Some(d(2026, 11, 30))).expect("plan");
        assert_eq!(p, expect(d(2026, 11, 30), d(2026, 11, 27), false, true));
        // EED Fri 2026-11-27 → released Wed 11-25 (Thanksgiving skipped).
        let p = plan(now, Standard, Some(d(2026, 11, 27))).expect("plan");
        assert_eq!(p.release_date, d(2026, 11, 25));
        // EED Mon 2026-12-28 → released Thu 12-24 (Christmas Friday).
        let p = plan(now, Standard, Some(d(2026, 12, 28))).expect("plan");
        assert_eq!(p.release_date, d(2026, 12, 24));
        // EED Tue 2026-09-08 → released Fri 09-04 (Labor Day Monday).
        let p = plan(now, Standard, Some(d(2026, 9, 8))).expect("plan");
        assert_eq!(p.release_date, d(2026, 9, 4));
    }

    #[test]
    fn deferred_same_day_entry_is_released_on_its_date() {
        let p = plan(at(2026, 7, 14, 9, 0), SameDay, Some(d(2026, 7, 16))).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 16), d(2026, 7, 16), true, true));
    }

    #[test]
    fn a_weekend_request_for_the_next_possible_date_is_not_deferred() {
        // Saturday: earliest standard is released Monday for Tuesday.
        let now = at(2026, 7, 18, 9, 0);
        let p = plan(now, Standard, Some(d(2026, 7, 21))).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 21), d(2026, 7, 20), false, false));
        let p = plan(now, Standard, Some(d(2026, 7, 22))).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 22), d(2026, 7, 21), false, true));
    }

    #[test]
    fn plans_use_eastern_time_across_dst_changes() {
        // Fri 2026-03-06 19:30 EST = 00:30Z Saturday: still before Friday's cutoff.
        let now = DateTime::parse_from_rfc3339("2026-03-07T00:30:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let p = plan(now, Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 3, 9), d(2026, 3, 6), false, false));
        // Mon 2026-03-09 20:30 EDT = 00:30Z Tuesday: past Monday's cutoff.
        let now = DateTime::parse_from_rfc3339("2026-03-10T00:30:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let p = plan(now, Standard, None).expect("plan");
        assert_eq!(p, expect(d(2026, 3, 11), d(2026, 3, 10), false, false));
    }

    #[test]
    fn operator_closures_move_release_and_effective_dates() {
        let cal = fed().with_extra_closures([d(2026, 7, 15)]);
        let s = CutoffSchedule::default();
        let p = plan_entry(&cal, &s, at(2026, 7, 14, 9, 0), Standard, None, HORIZON).expect("plan");
        assert_eq!(p, expect(d(2026, 7, 16), d(2026, 7, 14), false, false));
        let e = plan_entry(
            &cal,
            &s,
            at(2026, 7, 14, 9, 0),
            Standard,
            Some(d(2026, 7, 15)),
            HORIZON,
        )
        .expect_err("closed");
        assert!(e.to_string().contains("(operator closure)"));
    }

    #[test]
    fn absurd_dates_and_clocks_are_errors_not_panics() {
        let s = CutoffSchedule::default();
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let e = plan_entry(&fed(), &s, now, Standard, None, u32::MAX).expect_err("range");
            assert_eq!(e.code(), "date_out_of_range");
        }
        let now = at(2026, 7, 14, 9, 0);
        for date in [NaiveDate::MIN, NaiveDate::MAX, d(10_000, 1, 1)] {
            let e = plan_entry(&fed(), &s, now, Standard, Some(date), u32::MAX).expect_err("range");
            assert_eq!(e, TimingError::OutOfRange { date });
        }
        // Year 9999 with an unbounded horizon is planned (no overflow).
        let p =
            plan_entry(&fed(), &s, now, Standard, Some(d(9999, 12, 31)), u32::MAX).expect("plan");
        assert_eq!(p.release_date, d(9999, 12, 30));
    }

    fn check_invariants(
        cal: &BankingCalendar,
        s: &CutoffSchedule,
        now: DateTime<Utc>,
        mode: ProcessingMode,
        p: &EntryPlan,
    ) -> Result<(), TestCaseError> {
        prop_assert!(cal.is_banking_day(p.effective_date));
        prop_assert!(cal.is_banking_day(p.release_date));
        prop_assert!(p.release_date <= p.effective_date);
        prop_assert!(p.release_date >= local_date(now));
        prop_assert_eq!(p.same_day, mode == SameDay);
        prop_assert_eq!(p.same_day, p.effective_date == p.release_date);
        // The release day has a cutoff of the right kind still ahead of `now`.
        let ahead: Vec<Cutoff> = s
            .cutoffs_on(cal, p.release_date)
            .into_iter()
            .filter(|c| c.at > now && c.is_same_day() == p.same_day)
            .collect();
        prop_assert!(!ahead.is_empty());
        if mode == Standard {
            // Never sent more than one banking day before the EED.
            prop_assert_eq!(cal.next_banking_day(p.release_date), p.effective_date);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_plan_releases_on_a_banking_day_no_later_than_its_effective_date(
            minutes in 0i64..(4 * 366 * 24 * 60),
            same_day in any::<bool>(),
            ahead in proptest::option::of(0u64..60),
        ) {
            let cal = fed();
            let s = CutoffSchedule::default();
            let now = at(2025, 1, 1, 0, 0) + chrono::Duration::minutes(minutes);
            let mode = if same_day { SameDay } else { Standard };
            let requested = ahead.map(|n| local_date(now) + Days::new(n));
            match plan_entry(&cal, &s, now, mode, requested, HORIZON) {
                Ok(p) => {
                    check_invariants(&cal, &s, now, mode, &p)?;
                    let earliest = plan_entry(&cal, &s, now, mode, None, HORIZON)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(p.deferred, p.release_date > earliest.release_date);
                    if let Some(r) = requested {
                        prop_assert_eq!(p.effective_date, r);
                    } else {
                        prop_assert!(!p.deferred);
                    }
                }
                Err(TimingError::NotABankingDay { date, .. }) => {
                    prop_assert!(!cal.is_banking_day(date));
                }
                Err(TimingError::TooSoon { date, earliest, .. }) => {
                    prop_assert!(date < earliest);
                    prop_assert!(requested.is_some());
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
