//! Date generation: the 31st and "last", every two weeks across holidays,
//! end by count and by date.
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
