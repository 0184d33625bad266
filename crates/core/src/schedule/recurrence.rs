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
#[path = "recurrence_tests.rs"]
mod tests;

/// The OpenAPI schema of `dayOfMonth` as it is on the wire: a day 1–28 (a
/// number), the string `"last"`, or null when not given.
#[cfg(feature = "openapi")]
pub fn day_of_month_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let day = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(28));
    let last = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["last"]));
    let absent = ObjectBuilder::new().schema_type(Type::Null);
    OneOfBuilder::new()
        .item(day)
        .item(last)
        .item(absent)
        .description(Some("Monthly, quarterly and annual schedules: a day 1–28 (a number) or `\"last\"`; when not given, the day of `startDate`."))
        .build()
        .into()
}
