//! Federal Reserve banking days, the operator's file cutoffs and the timing
//! of ACH entries.
//!
//! - [`BankingCalendar`]: which days are banking days (Mon–Fri, not a Fed
//!   holiday closure, not an operator closure) and arithmetic over them.
//! - [`holidays`]: the Fed holidays and their Saturday/Sunday observation rules.
//! - [`cutoffs`]: the operator's file-build cutoffs in US/Eastern wall-clock
//!   time, DST-aware ([`CutoffSchedule`]).
//! - [`timing`]: which file an entry goes in and its effective entry date
//!   ([`plan_entry`]).
//!
//! Everything is pure: the current time is always an argument.
//!
//! Dates are only meaningful within chrono's range; the stepping methods
//! (`next_banking_day` and friends) panic if the answer would lie beyond
//! [`NaiveDate::MAX`] or before [`NaiveDate::MIN`] (year ±262,000).
//! [`plan_entry`], which sees API input, refuses dates outside years
//! 1–9999 with an error instead.

pub mod cutoffs;
pub mod holidays;
pub mod timing;

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

pub use cutoffs::{
    eastern_instant, local_date, Cutoff, CutoffKind, CutoffSchedule, ScheduleError, EASTERN,
};
pub use holidays::{FedHoliday, HolidayClosure};
pub use timing::{plan_entry, EntryPlan, ProcessingMode, TimingError};

/// Why a day is not a banking day, for an operator-facing message.
pub const WEEKEND: &str = "weekend";
/// Reason given for a day in the operator's list of extra closures.
pub const OPERATOR_CLOSURE: &str = "operator closure";

/// Federal Reserve banking days, plus the operator's own closures.
///
/// A banking day is a Monday to Friday that is not a Fed holiday closure (see
/// [`holidays`]) and not in the operator's list of extra closures (e.g. a day
/// the ODFI announced it will not process files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankingCalendar {
    extra_closures: BTreeSet<NaiveDate>,
}

impl BankingCalendar {
    /// The Federal Reserve's calendar with no extra closures.
    pub fn federal_reserve() -> Self {
        Self::default()
    }

    /// This calendar with `dates` also closed. Dates that are already closed
    /// (weekends, holidays) are accepted and change nothing.
    pub fn with_extra_closures(mut self, dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.extra_closures.extend(dates);
        self
    }

    /// The operator's extra closures, in date order.
    pub fn extra_closures(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.extra_closures.iter().copied()
    }

    /// Whether the Fed (and the operator) process ACH on `date`.
    pub fn is_banking_day(&self, date: NaiveDate) -> bool {
        self.closure_reason(date).is_none()
    }

    /// Why `date` is not a banking day: the holiday's name (e.g.
    /// "Thanksgiving Day", "Independence Day (observed)"), [`WEEKEND`], or
    /// [`OPERATOR_CLOSURE`]; `None` for a banking day.
    ///
    /// A holiday that falls on a weekend is named rather than called a
    /// weekend, since that is what a person expects to read.
    pub fn closure_reason(&self, date: NaiveDate) -> Option<&'static str> {
        if let Some(h) = holidays::holiday_on(date) {
            if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                return Some(h.name());
            }
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Some(WEEKEND);
        }
        if let Some(c) = holidays::holiday_closure_on(date) {
            return Some(c.name());
        }
        if self.extra_closures.contains(&date) {
            return Some(OPERATOR_CLOSURE);
        }
        None
    }

    /// The first banking day strictly after `date`.
    ///
    /// # Panics
    /// Only if no such day exists within chrono's date range.
    pub fn next_banking_day(&self, date: NaiveDate) -> NaiveDate {
        self.checked_next_banking_day(date)
            .expect("a banking day after the date exists within chrono's range")
    }

    /// `date` if it is a banking day, else the next banking day.
    ///
    /// # Panics
    /// Only if no such day exists within chrono's date range.
    pub fn banking_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        if self.is_banking_day(date) {
            date
        } else {
            self.next_banking_day(date)
        }
    }

    /// The last banking day strictly before `date`.
    ///
    /// # Panics
    /// Only if no such day exists within chrono's date range.
    pub fn previous_banking_day(&self, date: NaiveDate) -> NaiveDate {
        self.checked_previous_banking_day(date)
            .expect("a banking day before the date exists within chrono's range")
    }

    /// The `n`th banking day after `date` (whether or not `date` itself is
    /// one): `n = 1` is [`next_banking_day`](Self::next_banking_day), and
    /// `n = 0` is [`banking_day_on_or_after`](Self::banking_day_on_or_after).
    /// Examples: Thu 2018-01-11 + 2 → Tue 2018-01-16 (Mon 01-15 is MLK Day);
    /// Fri 2021-07-02 + 2 → Wed 2021-07-07 (Mon 07-05 observes Sun 07-04);
    /// Sun 2021-07-04 + 1 → Tue 2021-07-06.
    ///
    /// # Panics
    /// Only if the answer would lie beyond chrono's date range.
    pub fn add_banking_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        self.checked_add_banking_days(date, n)
            .expect("the banking day lies within chrono's range")
    }

    /// [`next_banking_day`](Self::next_banking_day), or `None` past the end of chrono's range.
    pub fn checked_next_banking_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date.succ_opt()?;
        while !self.is_banking_day(d) {
            d = d.succ_opt()?;
        }
        Some(d)
    }

    /// [`previous_banking_day`](Self::previous_banking_day), or `None` before the start of chrono's range.
    pub fn checked_previous_banking_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date.pred_opt()?;
        while !self.is_banking_day(d) {
            d = d.pred_opt()?;
        }
        Some(d)
    }

    /// [`add_banking_days`](Self::add_banking_days), or `None` past the end of chrono's range.
    pub fn checked_add_banking_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return if self.is_banking_day(date) {
                Some(date)
            } else {
                self.checked_next_banking_day(date)
            };
        }
        let mut d = date;
        for _ in 0..n {
            d = self.checked_next_banking_day(d)?;
        }
        Some(d)
    }

    /// The banking days in `from..=to`, in order.
    pub fn banking_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> + '_ {
        from.iter_days()
            .take_while(move |d| *d <= to)
            .filter(|d| self.is_banking_day(*d))
    }

    /// Every day in `year` that is a weekday but not a banking day, with the
    /// reason: the Fed's holiday closures and the operator's closures.
    pub fn weekday_closures(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let mut out: Vec<(NaiveDate, &'static str)> = holidays::holiday_closures(year)
            .into_iter()
            .map(|c| (c.date, c.name()))
            .collect();
        for d in self.extra_closures.iter().filter(|d| d.year() == year) {
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
                && !out.iter().any(|(h, _)| h == d)
            {
                out.push((*d, OPERATOR_CLOSURE));
            }
        }
        out.sort();
        out
    }
}

/// `date + n` calendar days, `None` past chrono's range.
pub(crate) fn add_days(date: NaiveDate, n: u64) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn fed() -> BankingCalendar {
        BankingCalendar::federal_reserve()
    }

    /// The weekday closures of each year, as listed in the domain reference §2.5.
    fn expected_closures(year: i32) -> Vec<NaiveDate> {
        let md: &[(u32, u32)] = match year {
            2025 => &[
                (1, 1),
                (1, 20),
                (2, 17),
                (5, 26),
                (6, 19),
                (7, 4),
                (9, 1),
                (10, 13),
                (11, 11),
                (11, 27),
                (12, 25),
            ],
            2026 => &[
                (1, 1),
                (1, 19),
                (2, 16),
                (5, 25),
                (6, 19),
                (9, 7),
                (10, 12),
                (11, 11),
                (11, 26),
                (12, 25),
            ],
            2027 => &[
                (1, 1),
                (1, 18),
                (2, 15),
                (5, 31),
                (7, 5),
                (9, 6),
                (10, 11),
                (11, 11),
                (11, 25),
            ],
            _ => unreachable!("no reference list for {year}"),
        };
        md.iter().map(|&(m, day)| d(year, m, day)).collect()
    }

    #[test]
    fn every_listed_2025_to_2027_closure_is_closed_and_no_other_weekday_is() {
        let cal = fed();
        for year in [2025, 2026, 2027] {
            let expected = expected_closures(year);
            let listed: Vec<NaiveDate> = cal
                .weekday_closures(year)
                .into_iter()
                .map(|(d, _)| d)
                .collect();
            assert_eq!(listed, expected, "closures of {year}");
            for day in d(year, 1, 1).iter_days().take_while(|x| x.year() == year) {
                let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                let closed = weekend || expected.contains(&day);
                assert_eq!(cal.is_banking_day(day), !closed, "{day}");
            }
        }
    }

    #[test]
    fn saturday_holidays_leave_the_friday_before_open() {
        let cal = fed();
        // Independence Day 2026, Juneteenth 2027, Christmas 2027 fall on Saturdays.
        for (fri, sat) in [
            (d(2026, 7, 3), d(2026, 7, 4)),
            (d(2027, 6, 18), d(2027, 6, 19)),
            (d(2027, 12, 24), d(2027, 12, 25)),
            (d(2021, 12, 31), d(2022, 1, 1)),
        ] {
            assert!(cal.is_banking_day(fri), "{fri} is open");
            assert!(!cal.is_banking_day(sat));
        }
        assert!(
            cal.is_banking_day(d(2026, 7, 6)),
            "no substitute Monday either"
        );
    }

    #[test]
    fn sunday_holiday_closes_the_following_monday() {
        let cal = fed();
        assert!(!cal.is_banking_day(d(2027, 7, 5)));
        assert_eq!(
            cal.closure_reason(d(2027, 7, 5)),
            Some("Independence Day (observed)")
        );
        assert_eq!(cal.closure_reason(d(2027, 7, 4)), Some("Independence Day"));
        assert!(cal.is_banking_day(d(2027, 7, 2)));
        assert!(cal.is_banking_day(d(2027, 7, 6)));
    }

    #[test]
    fn closure_reasons_name_the_holiday_the_weekend_or_the_operator() {
        let cal = fed().with_extra_closures([d(2026, 12, 24)]);
        assert_eq!(
            cal.closure_reason(d(2026, 11, 26)),
            Some("Thanksgiving Day")
        );
        assert_eq!(cal.closure_reason(d(2026, 12, 25)), Some("Christmas Day"));
        assert_eq!(cal.closure_reason(d(2026, 11, 28)), Some(WEEKEND));
        assert_eq!(cal.closure_reason(d(2026, 7, 4)), Some("Independence Day"));
        assert_eq!(cal.closure_reason(d(2026, 12, 24)), Some(OPERATOR_CLOSURE));
        assert_eq!(cal.closure_reason(d(2026, 12, 23)), None);
    }

    #[test]
    fn day_after_thanksgiving_and_christmas_eve_are_banking_days() {
        let cal = fed();
        assert!(cal.is_banking_day(d(2026, 11, 27)));
        assert!(cal.is_banking_day(d(2025, 11, 28)));
        assert!(cal.is_banking_day(d(2025, 12, 24)));
    }

    #[test]
    fn operator_closures_are_skipped_like_holidays() {
        let cal = fed().with_extra_closures([d(2026, 11, 27), d(2026, 11, 28)]);
        assert!(!cal.is_banking_day(d(2026, 11, 27)));
        assert_eq!(cal.next_banking_day(d(2026, 11, 25)), d(2026, 11, 30));
        assert_eq!(cal.previous_banking_day(d(2026, 11, 30)), d(2026, 11, 25));
        assert_eq!(
            cal.weekday_closures(2026)
                .into_iter()
                .filter(|(_, r)| *r == OPERATOR_CLOSURE)
                .count(),
            1,
            "the Saturday is a weekend anyway"
        );
    }

    #[test]
    fn moov_add_banking_days_examples() {
        let cal = fed();
        // Thursday + 1 → Friday; + 2 over MLK Day → Tuesday.
        assert_eq!(cal.add_banking_days(d(2018, 1, 11), 1), d(2018, 1, 12));
        assert_eq!(cal.add_banking_days(d(2018, 1, 11), 2), d(2018, 1, 16));
        // Friday + 2 over MLK Day → Wednesday.
        assert_eq!(cal.add_banking_days(d(2018, 1, 12), 2), d(2018, 1, 17));
        // Sun 2021-07-04 closes Mon 07-05: Friday + 1 → Tuesday, + 2 → Wednesday.
        // (The domain reference's "Fri 2021-07-02 + 2 → Tue 2021-07-06" is
        // moov's *business*-day example, which counts that Monday.)
        assert_eq!(cal.add_banking_days(d(2021, 7, 2), 1), d(2021, 7, 6));
        assert_eq!(cal.add_banking_days(d(2021, 7, 2), 2), d(2021, 7, 7));
        // From the Sunday holiday itself, + 1 → Tuesday.
        assert_eq!(cal.add_banking_days(d(2021, 7, 4), 1), d(2021, 7, 6));
        // Sun 2022-06-19 (first Fed Juneteenth) closes Mon 06-20.
        assert_eq!(cal.add_banking_days(d(2022, 6, 17), 1), d(2022, 6, 21));
        // Sat 2023-11-11 Veterans Day leaves Fri 11-10 open.
        assert_eq!(cal.add_banking_days(d(2023, 11, 9), 1), d(2023, 11, 10));
        // Sat 2021-12-25 and Sat 2022-01-01 leave both Fridays before open.
        assert_eq!(cal.add_banking_days(d(2021, 12, 23), 1), d(2021, 12, 24));
        assert_eq!(cal.add_banking_days(d(2021, 12, 30), 1), d(2021, 12, 31));
    }

    #[test]
    fn moov_banking_day_examples() {
        let cal = fed();
        for closed in [
            d(2018, 1, 1),
            d(2018, 1, 15),
            d(2018, 2, 19),
            d(2018, 5, 28),
            d(2018, 7, 4),
            d(2018, 9, 3),
            d(2018, 10, 8),
            d(2018, 11, 12), // Veterans Day on Sunday, closed Monday
            d(2018, 11, 22),
            d(2018, 12, 25),
        ] {
            assert!(!cal.is_banking_day(closed), "{closed}");
        }
        assert!(cal.is_banking_day(d(2018, 1, 3)));
        assert!(cal.is_banking_day(d(2023, 11, 10)));
    }

    #[test]
    fn add_zero_banking_days_rolls_a_closed_day_forward_only() {
        let cal = fed();
        assert_eq!(cal.add_banking_days(d(2026, 11, 25), 0), d(2026, 11, 25));
        assert_eq!(cal.add_banking_days(d(2026, 11, 26), 0), d(2026, 11, 27));
        assert_eq!(cal.add_banking_days(d(2026, 11, 28), 1), d(2026, 11, 30));
    }

    #[test]
    fn next_and_previous_are_strict_and_on_or_after_is_not() {
        let cal = fed();
        let wed = d(2026, 11, 25);
        assert_eq!(cal.next_banking_day(wed), d(2026, 11, 27));
        assert_eq!(cal.banking_day_on_or_after(wed), wed);
        assert_eq!(cal.previous_banking_day(wed), d(2026, 11, 24));
        assert_eq!(
            cal.banking_day_on_or_after(d(2026, 12, 25)),
            d(2026, 12, 28)
        );
        assert_eq!(cal.previous_banking_day(d(2026, 12, 28)), d(2026, 12, 24));
        // Fri 2026-07-03 is open although Independence Day is the next day.
        assert_eq!(cal.next_banking_day(d(2026, 7, 2)), d(2026, 7, 3));
    }

    #[test]
    fn stepping_off_the_end_of_chronos_range_is_none_not_a_panic() {
        let cal = fed();
        assert_eq!(cal.checked_next_banking_day(NaiveDate::MAX), None);
        assert_eq!(cal.checked_previous_banking_day(NaiveDate::MIN), None);
        assert_eq!(cal.checked_add_banking_days(NaiveDate::MAX, 3), None);
    }

    #[test]
    fn banking_days_between_is_inclusive_and_skips_closures() {
        let cal = fed();
        let days: Vec<_> = cal
            .banking_days_between(d(2026, 11, 24), d(2026, 11, 30))
            .collect();
        assert_eq!(
            days,
            vec![
                d(2026, 11, 24),
                d(2026, 11, 25),
                d(2026, 11, 27),
                d(2026, 11, 30)
            ]
        );
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // 1990-01-01 .. ~2100
        (0u64..40_000).prop_map(|n| d(1990, 1, 1) + Days::new(n))
    }

    proptest! {
        #[test]
        fn add_banking_days_lands_on_a_banking_day_and_is_monotonic(
            a in any_date(), gap in 0u64..20, n in 0u32..40, m in 0u32..5,
        ) {
            let cal = fed();
            let b = a + Days::new(gap);
            let ra = cal.add_banking_days(a, n);
            prop_assert!(cal.is_banking_day(ra));
            prop_assert!(ra >= a);
            // Monotonic in the start date …
            prop_assert!(cal.add_banking_days(b, n) >= ra);
            // … and in the number of days (strictly from n = 1 on).
            prop_assert!(cal.add_banking_days(a, n + m) >= ra);
            if n > 0 && m > 0 {
                prop_assert!(cal.add_banking_days(a, n + m) > ra);
            }
            // Exactly n banking days lie in (a, result] (n ≥ 1).
            if n > 0 {
                let between = cal.banking_days_between(a + Days::new(1), ra).count();
                prop_assert_eq!(between, n as usize);
            }
        }

        #[test]
        fn next_and_previous_banking_day_are_inverse_on_banking_days(a in any_date()) {
            let cal = fed();
            let next = cal.next_banking_day(a);
            prop_assert!(next > a && cal.is_banking_day(next));
            prop_assert!(cal.banking_days_between(a.succ_opt().unwrap_or(a), next).count() == 1);
            let prev = cal.previous_banking_day(next);
            prop_assert_eq!(prev, cal.previous_banking_day(a.succ_opt().unwrap_or(a)));
            if cal.is_banking_day(a) {
                prop_assert_eq!(prev, a);
            }
        }
    }
}
