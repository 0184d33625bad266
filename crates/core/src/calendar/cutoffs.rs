//! The operator's file-build cutoffs, in US/Eastern wall-clock time.
//!
//! At each cutoff Inflow builds a NACHA file from the entries waiting for it.
//! The FedACH deadlines are 10:30, 14:45 and 16:45 ET for the three Same Day
//! ACH windows and about 02:15 ET for next-day files; an ODFI's deadlines are
//! earlier, and the operator's internal cutoffs earlier still, so they are
//! configurable. The defaults are same-day windows at 10:00, 14:00 and 16:15
//! ET and the standard (next-day) cutoff at 20:00 ET.
//!
//! Cutoff times are wall-clock times in `America/New_York`: 20:00 ET is
//! 01:00 UTC the next day in winter (EST, UTC−5) and 00:00 UTC in summer
//! (EDT, UTC−4). Cutoffs happen only on banking days; weekends, Fed holidays
//! and operator closures have none.
//!
//! Cutoffs between 01:00 and 03:00 ET are refused: US daylight-saving changes
//! happen at 02:00 local time, so such a time is skipped one day a year and
//! repeated on another.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::BankingCalendar;

/// The time zone of every cutoff and of "today": US/Eastern, with DST.
pub const EASTERN: Tz = chrono_tz::America::New_York;

/// The calendar date in US/Eastern at instant `now` — what "today" means for
/// cutoffs and effective entry dates.
pub fn local_date(now: DateTime<Utc>) -> NaiveDate {
    let utc = now.naive_utc();
    let offset = EASTERN.offset_from_utc_datetime(&utc).fix();
    // Only at the very edge of chrono's range does the local time not exist;
    // the UTC date stands in there (callers refuse such dates anyway).
    utc.checked_add_offset(offset)
        .map_or(utc.date(), |local| local.date())
}

/// The instant at which US/Eastern wall-clock `time` occurs on `date`.
///
/// A time repeated by the autumn change resolves to its first occurrence; a
/// time skipped by the spring change (neither can happen with a validated
/// [`CutoffSchedule`]) resolves as if the clocks had not yet moved.
pub fn eastern_instant(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    match EASTERN.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Offset in force at the start of the gap (read at the same
            // numeric instant taken as UTC, which is before the change).
            let before = EASTERN.offset_from_utc_datetime(&local).fix();
            let utc = local
                .checked_sub_signed(Duration::seconds(i64::from(before.local_minus_utc())))
                .unwrap_or(local);
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// Which kind of file a cutoff builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutoffKind {
    /// A Same Day ACH window; `window` is the 0-based index into
    /// [`CutoffSchedule::same_day_windows`] (the first window of the day is 0).
    SameDay { window: usize },
    /// The standard cutoff: entries settle on the next banking day.
    Standard,
}

/// One cutoff: a banking day's file-build deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cutoff {
    /// The instant of the cutoff.
    pub at: DateTime<Utc>,
    /// The US/Eastern banking day the cutoff belongs to.
    pub date: NaiveDate,
    pub kind: CutoffKind,
}

impl Cutoff {
    pub fn is_same_day(&self) -> bool {
        matches!(self.kind, CutoffKind::SameDay { .. })
    }

    pub fn is_standard(&self) -> bool {
        self.kind == CutoffKind::Standard
    }
}

/// A cutoff schedule the operator configured cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "same-day window {number} ({time}) must be later than window {previous_number} ({previous}); list the windows in ascending order without repeats"
    )]
    WindowsNotAscending {
        /// 1-based position of the offending window.
        number: usize,
        time: NaiveTime,
        previous_number: usize,
        previous: NaiveTime,
    },
    #[error(
        "same-day window {number} ({time}) must be earlier than the standard cutoff ({standard})"
    )]
    WindowNotBeforeStandard {
        number: usize,
        time: NaiveTime,
        standard: NaiveTime,
    },
    #[error(
        "cutoff {time} ET falls between 01:00 and 03:00, which daylight-saving changes skip or repeat; choose a time outside that range"
    )]
    InDaylightSavingChange { time: NaiveTime },
}

/// The operator's cutoffs: same-day windows and one standard cutoff per
/// banking day, as US/Eastern wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffSchedule {
    same_day: Vec<NaiveTime>,
    standard: NaiveTime,
}

const fn hm(h: u32, m: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => t,
        None => panic!("invalid constant time"),
    }
}

impl Default for CutoffSchedule {
    /// Same-day windows at 10:00, 14:00 and 16:15 ET; standard cutoff at 20:00 ET.
    fn default() -> Self {
        Self {
            same_day: Self::DEFAULT_SAME_DAY_WINDOWS.to_vec(),
            standard: Self::DEFAULT_STANDARD_CUTOFF,
        }
    }
}

impl CutoffSchedule {
    /// 10:00, 14:00 and 16:15 ET.
    pub const DEFAULT_SAME_DAY_WINDOWS: [NaiveTime; 3] = [hm(10, 0), hm(14, 0), hm(16, 15)];
    /// 20:00 ET.
    pub const DEFAULT_STANDARD_CUTOFF: NaiveTime = hm(20, 0);

    const DST_CHANGE_START: NaiveTime = hm(1, 0);
    const DST_CHANGE_END: NaiveTime = hm(3, 0);

    /// A schedule of `same_day_windows` (ascending, each before `standard`;
    /// may be empty, meaning same-day processing is not offered) and the
    /// `standard` cutoff. No time may fall in 01:00–03:00 ET.
    pub fn new(
        same_day_windows: Vec<NaiveTime>,
        standard: NaiveTime,
    ) -> Result<Self, ScheduleError> {
        for &time in same_day_windows.iter().chain(std::iter::once(&standard)) {
            if (Self::DST_CHANGE_START..Self::DST_CHANGE_END).contains(&time) {
                return Err(ScheduleError::InDaylightSavingChange { time });
            }
        }
        for (i, pair) in same_day_windows.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                return Err(ScheduleError::WindowsNotAscending {
                    number: i + 2,
                    time: pair[1],
                    previous_number: i + 1,
                    previous: pair[0],
                });
            }
        }
        if let Some((i, &time)) = same_day_windows
            .iter()
            .enumerate()
            .find(|(_, &t)| t >= standard)
        {
            return Err(ScheduleError::WindowNotBeforeStandard {
                number: i + 1,
                time,
                standard,
            });
        }
        Ok(Self {
            same_day: same_day_windows,
            standard,
        })
    }

    /// The same-day windows, ascending.
    pub fn same_day_windows(&self) -> &[NaiveTime] {
        &self.same_day
    }

    /// The standard (next-day) cutoff.
    pub fn standard_cutoff(&self) -> NaiveTime {
        self.standard
    }

    /// Whether the schedule has any same-day window.
    pub fn offers_same_day(&self) -> bool {
        !self.same_day.is_empty()
    }

    /// The cutoffs of `date`, in order: none unless it is a banking day.
    pub fn cutoffs_on(&self, cal: &BankingCalendar, date: NaiveDate) -> Vec<Cutoff> {
        if !cal.is_banking_day(date) {
            return Vec::new();
        }
        let same_day = self.same_day.iter().enumerate().map(|(window, &t)| Cutoff {
            at: eastern_instant(date, t),
            date,
            kind: CutoffKind::SameDay { window },
        });
        let standard = Cutoff {
            at: eastern_instant(date, self.standard),
            date,
            kind: CutoffKind::Standard,
        };
        same_day.chain(std::iter::once(standard)).collect()
    }

    /// Every cutoff strictly after `after`, in order; endless (up to the end
    /// of chrono's date range).
    pub fn cutoffs_after<'a>(
        &'a self,
        cal: &'a BankingCalendar,
        after: DateTime<Utc>,
    ) -> impl Iterator<Item = Cutoff> + 'a {
        // Start a day early: cheap insurance should a cutoff ever resolve to
        // an instant on the previous local date.
        let today = local_date(after);
        let start = today.pred_opt().unwrap_or(today);
        start
            .iter_days()
            .flat_map(move |d| self.cutoffs_on(cal, d))
            .filter(move |c| c.at > after)
    }

    /// The first cutoff strictly after `after`.
    ///
    /// # Panics
    /// Only if no banking day is left in chrono's date range.
    pub fn next_cutoff(&self, cal: &BankingCalendar, after: DateTime<Utc>) -> Cutoff {
        self.cutoffs_after(cal, after)
            .next()
            .expect("a cutoff exists after any instant within chrono's range")
    }

    /// The first standard cutoff strictly after `after`.
    ///
    /// # Panics
    /// Only if no banking day is left in chrono's date range.
    pub fn next_standard_cutoff(&self, cal: &BankingCalendar, after: DateTime<Utc>) -> Cutoff {
        self.cutoffs_after(cal, after)
            .find(Cutoff::is_standard)
            .expect("a standard cutoff exists after any instant within chrono's range")
    }

    /// The first same-day window strictly after `after`; `None` when the
    /// schedule has no same-day windows.
    pub fn next_same_day_cutoff(
        &self,
        cal: &BankingCalendar,
        after: DateTime<Utc>,
    ) -> Option<Cutoff> {
        if !self.offers_same_day() {
            return None;
        }
        self.cutoffs_after(cal, after).find(Cutoff::is_same_day)
    }

    /// Every cutoff in `(from, to]`, in order — what a worker must run when
    /// the (sandbox) clock jumps from `from` to `to`. Empty when `to <= from`.
    pub fn cutoffs_between(
        &self,
        cal: &BankingCalendar,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Cutoff> {
        if to <= from {
            return Vec::new();
        }
        self.cutoffs_after(cal, from)
            .take_while(|c| c.at <= to)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid test instant")
            .with_timezone(&Utc)
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn fed() -> BankingCalendar {
        BankingCalendar::federal_reserve()
    }

    fn instants(cs: &[Cutoff]) -> Vec<String> {
        cs.iter()
            .map(|c| c.at.format("%Y-%m-%dT%H:%MZ").to_string())
            .collect()
    }

    #[test]
    fn default_schedule_is_10_14_1615_and_20_eastern() {
        let s = CutoffSchedule::default();
        assert_eq!(s.same_day_windows(), &[t(10, 0), t(14, 0), t(16, 15)]);
        assert_eq!(s.standard_cutoff(), t(20, 0));
        assert_eq!(
            CutoffSchedule::new(s.same_day_windows().to_vec(), t(20, 0)),
            Ok(s)
        );
    }

    #[test]
    fn schedule_refuses_unordered_late_or_dst_ambiguous_times() {
        assert!(matches!(
            CutoffSchedule::new(vec![t(14, 0), t(10, 0)], t(20, 0)),
            Err(ScheduleError::WindowsNotAscending { number: 2, .. })
        ));
        assert!(matches!(
            CutoffSchedule::new(vec![t(10, 0), t(10, 0)], t(20, 0)),
            Err(ScheduleError::WindowsNotAscending { .. })
        ));
        assert!(matches!(
            CutoffSchedule::new(vec![t(10, 0), t(20, 0)], t(20, 0)),
            Err(ScheduleError::WindowNotBeforeStandard { number: 2, .. })
        ));
        assert!(matches!(
            CutoffSchedule::new(vec![], t(2, 15)),
            Err(ScheduleError::InDaylightSavingChange { .. })
        ));
        assert!(matches!(
            CutoffSchedule::new(vec![t(1, 30)], t(20, 0)),
            Err(ScheduleError::InDaylightSavingChange { .. })
        ));
        let err = CutoffSchedule::new(vec![t(14, 0), t(10, 0)], t(20, 0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "same-day window 2 (10:00:00) must be later than window 1 (14:00:00); list the windows in ascending order without repeats"
        );
        assert!(CutoffSchedule::new(vec![], t(3, 0)).is_ok());
        assert!(CutoffSchedule::new(vec![t(0, 30)], t(23, 59)).is_ok());
    }

    #[test]
    fn local_date_is_eastern_in_winter_and_summer() {
        // EST: midnight ET = 05:00 UTC.
        assert_eq!(local_date(utc("2026-01-10T04:59:59Z")), d(2026, 1, 9));
        assert_eq!(local_date(utc("2026-01-10T05:00:00Z")), d(2026, 1, 10));
        // EDT: midnight ET = 04:00 UTC.
        assert_eq!(local_date(utc("2026-07-10T03:59:59Z")), d(2026, 7, 9));
        assert_eq!(local_date(utc("2026-07-10T04:00:00Z")), d(2026, 7, 10));
    }

    #[test]
    fn cutoffs_across_the_spring_dst_change_move_one_hour_earlier_in_utc() {
        // Fri 2026-03-06 is EST, Mon 2026-03-09 is EDT (the change is Sun 03-08).
        let s = CutoffSchedule::default();
        let cs = s.cutoffs_between(
            &fed(),
            utc("2026-03-06T05:00:00Z"), // Fri 00:00 EST
            utc("2026-03-10T23:59:59Z"),
        );
        assert_eq!(
            instants(&cs),
            [
                "2026-03-06T15:00Z",
                "2026-03-06T19:00Z",
                "2026-03-06T21:15Z",
                "2026-03-07T01:00Z", // Fri 20:00 EST
                "2026-03-09T14:00Z",
                "2026-03-09T18:00Z",
                "2026-03-09T20:15Z",
                "2026-03-10T00:00Z", // Mon 20:00 EDT
                "2026-03-10T14:00Z",
                "2026-03-10T18:00Z",
                "2026-03-10T20:15Z",
            ]
        );
        assert_eq!(cs[3].date, d(2026, 3, 6));
        assert_eq!(cs[3].kind, CutoffKind::Standard);
        assert_eq!(cs[7].date, d(2026, 3, 9));
        assert_eq!(cs[4].kind, CutoffKind::SameDay { window: 0 });
        assert_eq!(cs[6].kind, CutoffKind::SameDay { window: 2 });
    }

    #[test]
    fn cutoffs_across_the_autumn_dst_change_move_one_hour_later_in_utc() {
        // Fri 2026-10-30 is EDT, Mon 2026-11-02 is EST (the change is Sun 11-01).
        let s = CutoffSchedule::default();
        let cal = fed();
        let fri = s.next_standard_cutoff(&cal, utc("2026-10-30T12:00:00Z"));
        assert_eq!(fri.at, utc("2026-10-31T00:00:00Z"));
        assert_eq!(fri.date, d(2026, 10, 30));
        let mon = s.next_standard_cutoff(&cal, fri.at);
        assert_eq!(mon.at, utc("2026-11-03T01:00:00Z"));
        assert_eq!(mon.date, d(2026, 11, 2));
        let first = s.next_cutoff(&cal, fri.at);
        assert_eq!(first.at, utc("2026-11-02T15:00:00Z"));
        assert_eq!(first.kind, CutoffKind::SameDay { window: 0 });
    }

    #[test]
    fn next_cutoff_is_strictly_after_the_given_instant() {
        let s = CutoffSchedule::default();
        let cal = fed();
        // Wed 2026-07-15 10:00 EDT = 14:00Z.
        let at = utc("2026-07-15T14:00:00Z");
        let c = s.next_cutoff(&cal, at - Duration::seconds(1));
        assert_eq!((c.at, c.kind), (at, CutoffKind::SameDay { window: 0 }));
        let c = s.next_cutoff(&cal, at);
        assert_eq!(c.at, utc("2026-07-15T18:00:00Z"));
        assert_eq!(c.kind, CutoffKind::SameDay { window: 1 });
    }

    #[test]
    fn no_cutoffs_on_weekends_or_holidays() {
        let s = CutoffSchedule::default();
        let cal = fed();
        // Wed 2026-11-25 20:00 EST → next is Fri 11-27 (Thanksgiving skipped).
        let c = s.next_cutoff(&cal, utc("2026-11-26T01:00:00Z"));
        assert_eq!(c.date, d(2026, 11, 27));
        assert_eq!(c.at, utc("2026-11-27T15:00:00Z"));
        // Thu 2026-12-24 after 20:00 → Mon 12-28 (Christmas Friday, weekend).
        let c = s.next_cutoff(&cal, utc("2026-12-25T01:00:00Z"));
        assert_eq!(c.date, d(2026, 12, 28));
        assert!(s.cutoffs_on(&cal, d(2026, 12, 26)).is_empty());
        assert!(s.cutoffs_on(&cal, d(2026, 11, 26)).is_empty());
        assert_eq!(s.cutoffs_on(&cal, d(2026, 11, 27)).len(), 4);
    }

    #[test]
    fn operator_closures_have_no_cutoffs() {
        let s = CutoffSchedule::default();
        let cal = fed().with_extra_closures([d(2026, 11, 27)]);
        let c = s.next_cutoff(&cal, utc("2026-11-26T01:00:00Z"));
        assert_eq!(c.date, d(2026, 11, 30));
    }

    #[test]
    fn cutoffs_between_a_multi_day_jump_lists_each_once_in_order() {
        let s = CutoffSchedule::default();
        let cal = fed();
        let from = utc("2026-11-20T12:00:00Z"); // Fri 07:00 EST
        let to = utc("2026-12-01T01:00:00Z"); // Mon 11-30 20:00 EST, inclusive
        let cs = s.cutoffs_between(&cal, from, to);
        // Banking days: 11-20, 23, 24, 25, 27, 30 → 6 × 4 cutoffs.
        assert_eq!(cs.len(), 24);
        assert!(cs.windows(2).all(|w| w[0].at < w[1].at));
        assert_eq!(cs.last().map(|c| c.at), Some(to));
        assert!(cs.iter().all(|c| c.date != d(2026, 11, 26)));
        // Contiguous calls cover the range without gaps or overlap.
        let mid = utc("2026-11-25T19:00:00Z"); // exactly the 14:00 window on 11-25
        let mut joined = s.cutoffs_between(&cal, from, mid);
        joined.extend(s.cutoffs_between(&cal, mid, to));
        assert_eq!(joined, cs);
        assert!(s.cutoffs_between(&cal, to, from).is_empty());
        assert!(s.cutoffs_between(&cal, to, to).is_empty());
    }

    #[test]
    fn schedule_without_same_day_windows_has_only_standard_cutoffs() {
        let s = CutoffSchedule::new(vec![], t(18, 0)).expect("valid");
        let cal = fed();
        assert!(!s.offers_same_day());
        assert_eq!(
            s.next_same_day_cutoff(&cal, utc("2026-07-15T12:00:00Z")),
            None
        );
        let c = s.next_cutoff(&cal, utc("2026-07-15T12:00:00Z"));
        assert_eq!(c.at, utc("2026-07-15T22:00:00Z"));
        assert!(c.is_standard());
    }

    #[test]
    fn eastern_instant_resolves_skipped_and_repeated_times_without_panicking() {
        // 02:30 does not exist on 2026-03-08; 01:30 happens twice on 2026-11-01.
        assert_eq!(
            eastern_instant(d(2026, 3, 8), t(2, 30)),
            utc("2026-03-08T07:30:00Z")
        );
        assert_eq!(
            eastern_instant(d(2026, 11, 1), t(1, 30)),
            utc("2026-11-01T05:30:00Z")
        );
    }
}
