//! When a schedule runs: its frequency, first date, end, and the run dates
//! that follow from them.
//!
//! **Nominal dates.** Occurrence 1 is the first date on or after `startDate`
//! that fits the schedule; occurrence *n* follows it by *n − 1* periods.
//!
//! - `weekly` / `every_two_weeks`: `startDate` itself, then every 7 / 14 days.
//! - `monthly` / `quarterly` / `annually`: a day of the month, every 1 / 3 / 12
//!   months. The day is `dayOfMonth` (1–28, or `last` for the month's last
//!   day) or, without it, the day of `startDate`. If `startDate` is past that
//!   day in its month, the first run is in the next month.
//! - **Days 29–31 without `dayOfMonth`** (a schedule starting on the 29th,
//!   30th or 31st): the day is kept as the *anchor* and clamped to the last
//!   day of shorter months, without drifting — a schedule starting on
//!   January 31 runs on Feb 28 (29 in leap years), Mar 31, Apr 30, May 31, ….
//!   Annual schedules starting on February 29 run on February 28 in common
//!   years.
//!
//! **Run dates.** A nominal date that is not a banking day moves to the
//! **next** banking day (even into the next month: `last` on Saturday
//! 2026-01-31 runs Monday 2026-02-02). The run date is the entry's effective
//! date.
//!
//! **End.** Either a count (`occurrences`, 1–[`MAX_OCCURRENCES`]) or an
//! `endDate`: the occurrences whose *nominal* date is on or before it (the
//! run date of the last may move past `endDate` to the next banking day).

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::bank::string_enum;
use crate::calendar::BankingCalendar;
use crate::ValidationError;

/// The most occurrences one schedule may have (ten years of weekly runs fit).
pub const MAX_OCCURRENCES: u32 = 1000;

string_enum!(
/// How often a schedule runs.
Frequency, "frequency" {
    Weekly => "weekly",
    EveryTwoWeeks => "every_two_weeks",
    Monthly => "monthly",
    Quarterly => "quarterly",
    Annually => "annually",
});

impl Frequency {
    /// Months between runs for month-based frequencies, `None` for week-based ones.
    pub fn months(self) -> Option<u32> {
        match self {
            Frequency::Weekly | Frequency::EveryTwoWeeks => None,
            Frequency::Monthly => Some(1),
            Frequency::Quarterly => Some(3),
            Frequency::Annually => Some(12),
        }
    }

    fn days(self) -> u64 {
        match self {
            Frequency::Weekly => 7,
            _ => 14,
        }
    }
}

/// `dayOfMonth`: a fixed day 1–28 (every month has it) or the last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayOfMonth {
    Day(u32),
    Last,
}

impl DayOfMonth {
    /// 1–28.
    pub fn day(field: &str, d: i64) -> Result<Self, ValidationError> {
        if (1..=28).contains(&d) {
            Ok(DayOfMonth::Day(d as u32))
        } else {
            Err(ValidationError::new(
                field,
                "invalid_day_of_month",
                format!("dayOfMonth must be 1 to 28 or \"last\" (got {d}); for the 29th to 31st use \"last\" or start the schedule on that day"),
            ))
        }
    }

    /// `"last"`, or a day 1–28 as text (`"15"`), as stored.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        if s == "last" {
            return Ok(DayOfMonth::Last);
        }
        match s.parse::<i64>() {
            Ok(d) => Self::day(field, d),
            Err(_) => Err(ValidationError::new(
                field,
                "invalid_day_of_month",
                format!(
                    "dayOfMonth must be 1 to 28 or \"last\" (got `{}`)",
                    crate::text::clip(s, 20)
                ),
            )),
        }
    }

    /// `"last"` or the day as text.
    pub fn as_string(self) -> String {
        match self {
            DayOfMonth::Day(d) => d.to_string(),
            DayOfMonth::Last => "last".into(),
        }
    }
}

/// How a schedule ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScheduleEnd {
    /// After the occurrences whose nominal date is on or before this date.
    EndDate(NaiveDate),
    /// After this many occurrences.
    Occurrences(u32),
}

/// A validated recurrence: frequency, first date, day of month, end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recurrence {
    frequency: Frequency,
    start_date: NaiveDate,
    day_of_month: Option<DayOfMonth>,
    end: ScheduleEnd,
    /// The first nominal date (occurrence 1).
    first: NaiveDate,
    /// How many occurrences there are.
    total: u32,
}

fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(Months::new(1))?;
    next.pred_opt().map(|d| d.day())
}

/// `day` (29–31 clamped) or the last day of the month `first_of_month` is in.
fn day_in_month(first_of_month: NaiveDate, anchor: Anchor) -> Option<NaiveDate> {
    let last = last_day_of_month(first_of_month.year(), first_of_month.month())?;
    let day = match anchor {
        Anchor::Day(d) => d.min(last),
        Anchor::Last => last,
    };
    first_of_month.with_day(day)
}

#[derive(Debug, Clone, Copy)]
enum Anchor {
    Day(u32),
    Last,
}

impl Recurrence {
    /// Check and build. Fields are named as the API names them.
    pub fn new(
        frequency: Frequency,
        start_date: NaiveDate,
        day_of_month: Option<DayOfMonth>,
        end: ScheduleEnd,
    ) -> Result<Self, ValidationError> {
        if !(2000..=9000).contains(&start_date.year()) {
            return Err(ValidationError::new(
                "startDate",
                "invalid_date",
                "startDate must lie between the years 2000 and 9000",
            ));
        }
        if day_of_month.is_some() && frequency.months().is_none() {
            return Err(ValidationError::new(
                "dayOfMonth",
                "day_of_month_not_allowed",
                format!("dayOfMonth applies to monthly, quarterly and annual schedules, not {frequency}"),
            ));
        }
        let mut r = Recurrence {
            frequency,
            start_date,
            day_of_month,
            end,
            first: start_date,
            total: 0,
        };
        r.first = r.first_nominal().ok_or_else(|| {
            ValidationError::new("startDate", "invalid_date", "startDate is out of range")
        })?;
        r.total = match end {
            ScheduleEnd::Occurrences(n) => {
                if !(1..=MAX_OCCURRENCES).contains(&n) {
                    return Err(ValidationError::new(
                        "occurrences",
                        "invalid_occurrences",
                        format!("occurrences must be 1 to {MAX_OCCURRENCES}"),
                    ));
                }
                n
            }
            ScheduleEnd::EndDate(end_date) => {
                if end_date < start_date {
                    return Err(ValidationError::new(
                        "endDate",
                        "invalid_end_date",
                        format!("endDate {end_date} is before startDate {start_date}"),
                    ));
                }
                let mut n = 0;
                while r.unbounded_nominal(n + 1).is_some_and(|d| d <= end_date) {
                    n += 1;
                    if n > MAX_OCCURRENCES {
                        return Err(ValidationError::new(
                            "endDate",
                            "too_many_occurrences",
                            format!("endDate {end_date} allows more than {MAX_OCCURRENCES} occurrences; choose an earlier endDate"),
                        ));
                    }
                }
                if n == 0 {
                    return Err(ValidationError::new(
                        "endDate",
                        "no_occurrences",
                        format!(
                            "no run date falls between startDate {start_date} and endDate {end_date} (the first would be {})",
                            r.first
                        ),
                    ));
                }
                n
            }
        };
        Ok(r)
    }

    pub fn frequency(&self) -> Frequency {
        self.frequency
    }
    pub fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    pub fn day_of_month(&self) -> Option<DayOfMonth> {
        self.day_of_month
    }
    pub fn end(&self) -> ScheduleEnd {
        self.end
    }
    /// How many occurrences the schedule has.
    pub fn total(&self) -> u32 {
        self.total
    }

    fn anchor(&self) -> Anchor {
        match self.day_of_month {
            Some(DayOfMonth::Day(d)) => Anchor::Day(d),
            Some(DayOfMonth::Last) => Anchor::Last,
            None => Anchor::Day(self.start_date.day()),
        }
    }

    fn first_nominal(&self) -> Option<NaiveDate> {
        if self.frequency.months().is_none() {
            return Some(self.start_date);
        }
        let month = self.start_date.with_day(1)?;
        let candidate = day_in_month(month, self.anchor())?;
        if candidate >= self.start_date {
            Some(candidate)
        } else {
            day_in_month(month.checked_add_months(Months::new(1))?, self.anchor())
        }
    }

    /// The nominal date of occurrence `n` (1-based), ignoring the end.
    fn unbounded_nominal(&self, n: u32) -> Option<NaiveDate> {
        let k = n.checked_sub(1)?;
        match self.frequency.months() {
            None => self
                .first
                .checked_add_days(Days::new(u64::from(k) * self.frequency.days())),
            Some(step) => {
                let month = self
                    .first
                    .with_day(1)?
                    .checked_add_months(Months::new(k.checked_mul(step)?))?;
                day_in_month(month, self.anchor())
            }
        }
    }

    /// The nominal date of occurrence `n` (1-based); `None` past the end.
    pub fn nominal_date(&self, n: u32) -> Option<NaiveDate> {
        if n == 0 || n > self.total {
            return None;
        }
        self.unbounded_nominal(n)
    }

    /// The run date (effective entry date) of occurrence `n`: its nominal
    /// date, or the next banking day if that is not one.
    pub fn run_date(&self, cal: &BankingCalendar, n: u32) -> Option<NaiveDate> {
        self.nominal_date(n)
            .and_then(|d| cal.checked_add_banking_days(d, 0))
    }

    /// Up to `count` run dates from occurrence `from` on, with their numbers.
    pub fn run_dates_from(
        &self,
        cal: &BankingCalendar,
        from: u32,
        count: usize,
    ) -> Vec<(u32, NaiveDate)> {
        (from.max(1)..=self.total)
            .filter_map(|n| self.run_date(cal, n).map(|d| (n, d)))
            .take(count)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn fed() -> BankingCalendar {
        BankingCalendar::federal_reserve()
    }

    fn nominal(r: &Recurrence) -> Vec<NaiveDate> {
        (1..=r.total()).filter_map(|n| r.nominal_date(n)).collect()
    }

    fn runs(r: &Recurrence) -> Vec<NaiveDate> {
        (1..=r.total())
            .filter_map(|n| r.run_date(&fed(), n))
            .collect()
    }

    #[test]
    fn monthly_on_the_31st_clamps_to_short_months_without_drifting() {
        let r = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 31),
            None,
            ScheduleEnd::Occurrences(6),
        )
        .unwrap();
        assert_eq!(
            nominal(&r),
            vec![
                d(2026, 1, 31),
                d(2026, 2, 28),
                d(2026, 3, 31),
                d(2026, 4, 30),
                d(2026, 5, 31),
                d(2026, 6, 30)
            ]
        );
        // Sat 01-31 → Mon 02-02; Sat 02-28 → Mon 03-02; Sun 05-31 → Mon 06-01.
        assert_eq!(
            runs(&r),
            vec![
                d(2026, 2, 2),
                d(2026, 3, 2),
                d(2026, 3, 31),
                d(2026, 4, 30),
                d(2026, 6, 1),
                d(2026, 6, 30)
            ]
        );
        // A leap year keeps the 29th of February.
        let leap = Recurrence::new(
            Frequency::Monthly,
            d(2028, 1, 31),
            None,
            ScheduleEnd::Occurrences(2),
        )
        .unwrap();
        assert_eq!(nominal(&leap)[1], d(2028, 2, 29));
    }

    #[test]
    fn monthly_last_runs_on_each_months_last_day_moved_to_a_banking_day() {
        let r = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 10),
            Some(DayOfMonth::Last),
            ScheduleEnd::EndDate(d(2026, 12, 31)),
        )
        .unwrap();
        assert_eq!(r.total(), 12);
        let n = nominal(&r);
        assert_eq!(n[0], d(2026, 1, 31));
        assert_eq!(n[1], d(2026, 2, 28));
        assert_eq!(n[11], d(2026, 12, 31));
        let runs = runs(&r);
        assert_eq!(runs[0], d(2026, 2, 2), "Sat Jan 31 → Mon Feb 2");
        assert_eq!(runs[4], d(2026, 6, 1), "Sun May 31 → Mon Jun 1");
        assert_eq!(runs[9], d(2026, 11, 2), "Sat Oct 31 → Mon Nov 2");
        assert_eq!(runs[11], d(2026, 12, 31), "a Thursday");
        assert!(runs.iter().all(|r| fed().is_banking_day(*r)));
    }

    #[test]
    fn a_day_of_month_before_the_start_day_begins_next_month() {
        let r = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 20),
            Some(DayOfMonth::Day(5)),
            ScheduleEnd::Occurrences(2),
        )
        .unwrap();
        assert_eq!(nominal(&r), vec![d(2026, 2, 5), d(2026, 3, 5)]);
        let q = Recurrence::new(
            Frequency::Quarterly,
            d(2026, 1, 5),
            Some(DayOfMonth::Day(5)),
            ScheduleEnd::Occurrences(4),
        )
        .unwrap();
        assert_eq!(
            nominal(&q),
            vec![d(2026, 1, 5), d(2026, 4, 5), d(2026, 7, 5), d(2026, 10, 5)]
        );
    }

    #[test]
    fn every_two_weeks_moves_holidays_to_the_next_banking_day() {
        // Fridays from 2026-11-13: Thanksgiving week's Friday 11-27 is open;
        // Fri 2026-12-25 (Christmas) moves to Mon 12-28.
        let r = Recurrence::new(
            Frequency::EveryTwoWeeks,
            d(2026, 11, 13),
            None,
            ScheduleEnd::Occurrences(5),
        )
        .unwrap();
        assert_eq!(
            runs(&r),
            vec![
                d(2026, 11, 13),
                d(2026, 11, 27),
                d(2026, 12, 11),
                d(2026, 12, 28),
                d(2027, 1, 8)
            ]
        );
        // Mondays from 2026-01-05: MLK Day 01-19 → Tue 01-20, Presidents' Day 02-16 → Tue 02-17.
        let r = Recurrence::new(
            Frequency::EveryTwoWeeks,
            d(2026, 1, 5),
            None,
            ScheduleEnd::EndDate(d(2026, 2, 28)),
        )
        .unwrap();
        assert_eq!(
            runs(&r),
            vec![d(2026, 1, 5), d(2026, 1, 20), d(2026, 2, 2), d(2026, 2, 17)]
        );
    }

    #[test]
    fn the_end_by_count_and_by_date() {
        let by_count = Recurrence::new(
            Frequency::Weekly,
            d(2026, 3, 2),
            None,
            ScheduleEnd::Occurrences(3),
        )
        .unwrap();
        assert_eq!(by_count.total(), 3);
        assert_eq!(by_count.nominal_date(3), Some(d(2026, 3, 16)));
        assert_eq!(by_count.nominal_date(4), None);
        assert_eq!(by_count.nominal_date(0), None);

        // End date inclusive: a run exactly on it counts.
        let by_date = Recurrence::new(
            Frequency::Weekly,
            d(2026, 3, 2),
            None,
            ScheduleEnd::EndDate(d(2026, 3, 16)),
        )
        .unwrap();
        assert_eq!(by_date.total(), 3);
        let by_date = Recurrence::new(
            Frequency::Weekly,
            d(2026, 3, 2),
            None,
            ScheduleEnd::EndDate(d(2026, 3, 15)),
        )
        .unwrap();
        assert_eq!(by_date.total(), 2);

        // The last nominal date is on the end date, its run date after it.
        let r = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 31),
            None,
            ScheduleEnd::EndDate(d(2026, 10, 31)),
        )
        .unwrap();
        assert_eq!(r.total(), 10);
        assert_eq!(r.run_date(&fed(), 10), Some(d(2026, 11, 2)));
    }

    #[test]
    fn annual_and_quarterly_runs() {
        let r = Recurrence::new(
            Frequency::Annually,
            d(2028, 2, 29),
            None,
            ScheduleEnd::Occurrences(3),
        )
        .unwrap();
        assert_eq!(
            nominal(&r),
            vec![d(2028, 2, 29), d(2029, 2, 28), d(2030, 2, 28)]
        );
        let q = Recurrence::new(
            Frequency::Quarterly,
            d(2026, 1, 31),
            None,
            ScheduleEnd::Occurrences(4),
        )
        .unwrap();
        assert_eq!(
            nominal(&q),
            vec![
                d(2026, 1, 31),
                d(2026, 4, 30),
                d(2026, 7, 31),
                d(2026, 10, 31)
            ]
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let e = Recurrence::new(
            Frequency::Weekly,
            d(2026, 1, 1),
            Some(DayOfMonth::Last),
            ScheduleEnd::Occurrences(2),
        )
        .unwrap_err();
        assert_eq!(e.field, "dayOfMonth");
        let e = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 1),
            None,
            ScheduleEnd::Occurrences(0),
        )
        .unwrap_err();
        assert_eq!(e.field, "occurrences");
        let e = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 10),
            None,
            ScheduleEnd::EndDate(d(2026, 1, 9)),
        )
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("endDate", "invalid_end_date"));
        let e = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 20),
            Some(DayOfMonth::Day(5)),
            ScheduleEnd::EndDate(d(2026, 1, 31)),
        )
        .unwrap_err();
        assert_eq!(e.code, "no_occurrences");
        let e = Recurrence::new(
            Frequency::Weekly,
            d(2026, 1, 1),
            None,
            ScheduleEnd::EndDate(d(2046, 1, 1)),
        )
        .unwrap_err();
        assert_eq!(e.code, "too_many_occurrences");
        assert!(DayOfMonth::day("dayOfMonth", 29).is_err());
        assert!(DayOfMonth::day("dayOfMonth", 0).is_err());
        assert_eq!(DayOfMonth::parse("x", "last").unwrap(), DayOfMonth::Last);
        assert_eq!(DayOfMonth::parse("x", "28").unwrap(), DayOfMonth::Day(28));
        assert!(DayOfMonth::parse("x", "31").is_err());
    }

    #[test]
    fn run_dates_are_banking_days_and_strictly_increase() {
        for f in Frequency::ALL {
            let r = Recurrence::new(*f, d(2026, 1, 1), None, ScheduleEnd::Occurrences(60)).unwrap();
            let v = runs(&r);
            assert_eq!(v.len(), 60);
            assert!(v.windows(2).all(|w| w[0] < w[1]), "{f}: {v:?}");
            assert!(v.iter().all(|x| fed().is_banking_day(*x)));
        }
        let r = Recurrence::new(
            Frequency::Monthly,
            d(2026, 1, 1),
            None,
            ScheduleEnd::Occurrences(12),
        )
        .unwrap();
        assert_eq!(
            r.run_dates_from(&fed(), 11, 5),
            vec![(11, d(2026, 11, 2)), (12, d(2026, 12, 1))]
        );
    }
}
