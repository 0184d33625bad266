//! The Federal Reserve's holidays and the days the Fed is actually closed for
//! them.
//!
//! The eleven holidays are fixed by federal law (5 U.S.C. 6103) and observed by
//! the Federal Reserve Banks; Juneteenth only from 2022, the first year the
//! Reserve Banks closed for it. The Fed's observation rules differ from the
//! federal government's:
//!
//! - a holiday on a **Saturday** is not moved: the Fed is open on the Friday
//!   before (e.g. Sat 2026-07-04 → Fri 2026-07-03 is a banking day);
//! - a holiday on a **Sunday** closes the Fed on the **following Monday**
//!   (e.g. Sun 2027-07-04 → Mon 2027-07-05 is closed).
//!
//! The day after Thanksgiving, Christmas Eve and Inauguration Day are not Fed
//! holidays.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A Federal Reserve holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FedHoliday {
    NewYearsDay,
    MartinLutherKingJrDay,
    PresidentsDay,
    MemorialDay,
    Juneteenth,
    IndependenceDay,
    LaborDay,
    ColumbusDay,
    VeteransDay,
    ThanksgivingDay,
    ChristmasDay,
}

impl FedHoliday {
    /// Every holiday, in calendar order.
    pub const ALL: [FedHoliday; 11] = [
        FedHoliday::NewYearsDay,
        FedHoliday::MartinLutherKingJrDay,
        FedHoliday::PresidentsDay,
        FedHoliday::MemorialDay,
        FedHoliday::Juneteenth,
        FedHoliday::IndependenceDay,
        FedHoliday::LaborDay,
        FedHoliday::ColumbusDay,
        FedHoliday::VeteransDay,
        FedHoliday::ThanksgivingDay,
        FedHoliday::ChristmasDay,
    ];

    /// The holiday's name, as an operator would read it in an error message.
    pub fn name(self) -> &'static str {
        match self {
            FedHoliday::NewYearsDay => "New Year's Day",
            FedHoliday::MartinLutherKingJrDay => "Martin Luther King Jr. Day",
            FedHoliday::PresidentsDay => "Presidents' Day",
            FedHoliday::MemorialDay => "Memorial Day",
            FedHoliday::Juneteenth => "Juneteenth",
            FedHoliday::IndependenceDay => "Independence Day",
            FedHoliday::LaborDay => "Labor Day",
            FedHoliday::ColumbusDay => "Columbus Day",
            FedHoliday::VeteransDay => "Veterans Day",
            FedHoliday::ThanksgivingDay => "Thanksgiving Day",
            FedHoliday::ChristmasDay => "Christmas Day",
        }
    }

    /// The name of the Monday the Fed closes for this holiday when the
    /// holiday falls on a Sunday.
    pub fn observed_name(self) -> &'static str {
        match self {
            FedHoliday::NewYearsDay => "New Year's Day (observed)",
            FedHoliday::MartinLutherKingJrDay => "Martin Luther King Jr. Day (observed)",
            FedHoliday::PresidentsDay => "Presidents' Day (observed)",
            FedHoliday::MemorialDay => "Memorial Day (observed)",
            FedHoliday::Juneteenth => "Juneteenth (observed)",
            FedHoliday::IndependenceDay => "Independence Day (observed)",
            FedHoliday::LaborDay => "Labor Day (observed)",
            FedHoliday::ColumbusDay => "Columbus Day (observed)",
            FedHoliday::VeteransDay => "Veterans Day (observed)",
            FedHoliday::ThanksgivingDay => "Thanksgiving Day (observed)",
            FedHoliday::ChristmasDay => "Christmas Day (observed)",
        }
    }

    /// The holiday's actual date in `year`, or `None` when it was not a Fed
    /// holiday that year (Juneteenth before 2022) or the date is outside
    /// chrono's range.
    pub fn date_in(self, year: i32) -> Option<NaiveDate> {
        use Weekday::{Mon, Thu};
        match self {
            FedHoliday::NewYearsDay => NaiveDate::from_ymd_opt(year, 1, 1),
            FedHoliday::MartinLutherKingJrDay => nth_weekday(year, 1, Mon, 3),
            FedHoliday::PresidentsDay => nth_weekday(year, 2, Mon, 3),
            FedHoliday::MemorialDay => last_weekday(year, 5, Mon),
            FedHoliday::Juneteenth if year < JUNETEENTH_FIRST_YEAR => None,
            FedHoliday::Juneteenth => NaiveDate::from_ymd_opt(year, 6, 19),
            FedHoliday::IndependenceDay => NaiveDate::from_ymd_opt(year, 7, 4),
            FedHoliday::LaborDay => nth_weekday(year, 9, Mon, 1),
            FedHoliday::ColumbusDay => nth_weekday(year, 10, Mon, 2),
            FedHoliday::VeteransDay => NaiveDate::from_ymd_opt(year, 11, 11),
            FedHoliday::ThanksgivingDay => nth_weekday(year, 11, Thu, 4),
            FedHoliday::ChristmasDay => NaiveDate::from_ymd_opt(year, 12, 25),
        }
    }

    /// The day the Fed is closed for this holiday in `year`: the holiday
    /// itself on a weekday, the Monday after when it falls on a Sunday, and
    /// `None` when it falls on a Saturday (no substitute day).
    pub fn closure_in(self, year: i32) -> Option<NaiveDate> {
        let date = self.date_in(year)?;
        match date.weekday() {
            Weekday::Sat => None,
            Weekday::Sun => date.checked_add_days(Days::new(1)),
            _ => Some(date),
        }
    }
}

impl std::fmt::Display for FedHoliday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The first year the Federal Reserve Banks closed for Juneteenth.
pub const JUNETEENTH_FIRST_YEAR: i32 = 2022;

/// A day the Fed is closed for a holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HolidayClosure {
    /// The weekday the Fed is closed.
    pub date: NaiveDate,
    pub holiday: FedHoliday,
    /// `true` when `date` is the Monday after a Sunday holiday.
    pub observed: bool,
}

impl HolidayClosure {
    /// "Thanksgiving Day", or "Independence Day (observed)" for a substitute Monday.
    pub fn name(&self) -> &'static str {
        if self.observed {
            self.holiday.observed_name()
        } else {
            self.holiday.name()
        }
    }
}

/// The weekdays in `year` on which the Fed is closed for a holiday, in date
/// order. Holidays on a Saturday have no closure; a Sunday holiday closes the
/// following Monday.
pub fn holiday_closures(year: i32) -> Vec<HolidayClosure> {
    let mut out: Vec<HolidayClosure> = FedHoliday::ALL
        .iter()
        .filter_map(|&holiday| {
            let actual = holiday.date_in(year)?;
            let date = holiday.closure_in(year)?;
            Some(HolidayClosure {
                date,
                holiday,
                observed: date != actual,
            })
        })
        .collect();
    out.sort();
    out
}

/// The holiday the Fed is closed for on `date`, if any. Only weekdays can be
/// holiday closures; a Saturday or Sunday that is itself a holiday is
/// reported by [`holiday_on`].
pub fn holiday_closure_on(date: NaiveDate) -> Option<HolidayClosure> {
    match date.weekday() {
        Weekday::Sat | Weekday::Sun => None,
        Weekday::Mon => {
            if let Some(h) = holiday_on(date) {
                return Some(HolidayClosure {
                    date,
                    holiday: h,
                    observed: false,
                });
            }
            let sunday = date.checked_sub_days(Days::new(1))?;
            holiday_on(sunday).map(|h| HolidayClosure {
                date,
                holiday: h,
                observed: true,
            })
        }
        _ => holiday_on(date).map(|h| HolidayClosure {
            date,
            holiday: h,
            observed: false,
        }),
    }
}

/// The Fed holiday whose actual date is `date`, whatever the weekday.
pub fn holiday_on(date: NaiveDate) -> Option<FedHoliday> {
    FedHoliday::ALL
        .into_iter()
        .find(|h| h.date_in(date.year()) == Some(date))
}

/// The `n`th (1-based) `weekday` of `month` in `year`.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The last `weekday` of `month` in `year`.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    last.checked_sub_days(Days::new(u64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn floating_holidays_fall_on_the_right_weekday_of_the_month() {
        assert_eq!(
            FedHoliday::MartinLutherKingJrDay.date_in(2026),
            Some(d(2026, 1, 19))
        );
        assert_eq!(
            FedHoliday::PresidentsDay.date_in(2026),
            Some(d(2026, 2, 16))
        );
        assert_eq!(FedHoliday::MemorialDay.date_in(2027), Some(d(2027, 5, 31)));
        assert_eq!(FedHoliday::MemorialDay.date_in(2026), Some(d(2026, 5, 25)));
        assert_eq!(FedHoliday::LaborDay.date_in(2026), Some(d(2026, 9, 7)));
        assert_eq!(FedHoliday::ColumbusDay.date_in(2025), Some(d(2025, 10, 13)));
        assert_eq!(
            FedHoliday::ThanksgivingDay.date_in(2026),
            Some(d(2026, 11, 26))
        );
    }

    #[test]
    fn juneteenth_is_a_fed_holiday_only_from_2022() {
        assert_eq!(FedHoliday::Juneteenth.date_in(2021), None);
        assert_eq!(FedHoliday::Juneteenth.date_in(2022), Some(d(2022, 6, 19)));
        // Sun 2022-06-19 → closed Mon 2022-06-20.
        assert_eq!(
            FedHoliday::Juneteenth.closure_in(2022),
            Some(d(2022, 6, 20))
        );
    }

    #[test]
    fn saturday_holidays_have_no_closure_and_sunday_holidays_close_monday() {
        assert_eq!(FedHoliday::IndependenceDay.closure_in(2026), None);
        assert_eq!(
            FedHoliday::IndependenceDay.closure_in(2027),
            Some(d(2027, 7, 5))
        );
        assert_eq!(FedHoliday::ChristmasDay.closure_in(2027), None);
        let monday = holiday_closure_on(d(2027, 7, 5)).expect("observed closure");
        assert!(monday.observed);
        assert_eq!(monday.name(), "Independence Day (observed)");
    }

    #[test]
    fn holiday_closures_are_sorted_weekdays() {
        for year in 2000..2100 {
            let list = holiday_closures(year);
            assert!(list.windows(2).all(|w| w[0].date < w[1].date), "{year}");
            for c in &list {
                assert!(!matches!(c.date.weekday(), Weekday::Sat | Weekday::Sun));
                assert_eq!(holiday_closure_on(c.date), Some(*c));
            }
        }
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for year in [i32::MIN, i32::MAX, -262_143, 262_142, 262_143] {
            let _ = holiday_closures(year);
        }
        let _ = holiday_closure_on(NaiveDate::MIN);
        let _ = holiday_closure_on(NaiveDate::MAX);
    }
}
