//! Tests of the whole reader: text in, windows and doubts out.

use chrono::{Duration, FixedOffset, TimeZone};

use super::windows::local_to_utc;
use super::*;

fn ctx_at(y: i32, m: u32, d: u32) -> DateContext {
    DateContext {
        default_tz: chrono_tz::Europe::Zurich,
        reference: Utc
            .with_ymd_and_hms(y, m, d, 10, 0, 0)
            .single()
            .expect("ref"),
    }
}

fn ctx() -> DateContext {
    ctx_at(2026, 11, 2)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

fn w(a: &str, b: &str) -> Window {
    Window {
        start: utc(a),
        end: utc(b),
    }
}

fn wins(text: &str) -> Vec<Window> {
    find_windows(text, &ctx()).windows
}

#[test]
fn spec_example_load_test_sentence() {
    let f = find_windows(
        "We plan to run the load test on Monday, 14 December 2026 from 09:00 to 17:00 CET.",
        &ctx(),
    );
    assert_eq!(
        f.windows,
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
    assert_eq!(
        f.zone,
        Some(Zone::Fixed(FixedOffset::east_opt(3600).expect("off")))
    );
}

#[test]
fn spec_example_zeitraum() {
    assert_eq!(
        wins("Zeitraum: 14.12.2026, 08:00 – 12:00 Uhr"),
        vec![w("2026-12-14T07:00:00Z", "2026-12-14T11:00:00Z")]
    );
}

fn day(y: i32, m: u32, d: u32) -> Window {
    // A whole local (Zurich) day.
    let tz = chrono_tz::Europe::Zurich;
    let a = NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let b = a.succ_opt().expect("succ");
    Window {
        start: tz
            .from_local_datetime(&a.and_hms_opt(0, 0, 0).expect("t"))
            .single()
            .expect("s")
            .with_timezone(&Utc),
        end: tz
            .from_local_datetime(&b.and_hms_opt(0, 0, 0).expect("t"))
            .single()
            .expect("s")
            .with_timezone(&Utc),
    }
}

#[test]
fn spec_example_start_end_lines_utc() {
    let f = find_windows(
        "Start: 2027-01-11 22:00 UTC\nEnd: 2027-01-12 02:00 UTC",
        &ctx(),
    );
    assert_eq!(
        f.windows,
        vec![w("2027-01-11T22:00:00Z", "2027-01-12T02:00:00Z")]
    );
    assert_eq!(f.zone.map(|z| z.label()), Some("UTC".to_string()));
}

#[test]
fn spec_example_testfenster_days() {
    assert_eq!(
        wins("Testfenster: Mo 11.01.2027 bis Fr 15.01.2027"),
        vec![w("2027-01-10T23:00:00Z", "2027-01-15T23:00:00Z")]
    );
}

#[test]
fn spec_example_between_am_est() {
    let f = find_windows("between 8am and 11am EST on January 19, 2027", &ctx());
    assert_eq!(
        f.windows,
        vec![w("2027-01-19T13:00:00Z", "2027-01-19T16:00:00Z")]
    );
    assert_eq!(f.zone.map(|z| z.label()), Some("UTC-05:00".to_string()));
}

#[test]
fn iso_with_offset() {
    assert_eq!(
        wins("Test window: 2026-12-14T09:00:00+01:00 - 2026-12-14T17:00:00+01:00"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
    assert_eq!(
        wins("Window: 2026-12-14T09:00:00Z to 2026-12-14T11:30:00Z"),
        vec![w("2026-12-14T09:00:00Z", "2026-12-14T11:30:00Z")]
    );
    assert_eq!(
        wins("Window: 2026-12-14T09:00:00-05:00 to 2026-12-14T11:00:00-05:00"),
        vec![w("2026-12-14T14:00:00Z", "2026-12-14T16:00:00Z")]
    );
    assert_eq!(
        wins("The test runs 2026-12-14 09:00 +0100 until 2026-12-14 10:00 +0100"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z")]
    );
}

#[test]
fn iso_space_and_dotted_with_range() {
    let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
    assert_eq!(wins("Test: 2026-12-14 09:00 - 2026-12-14 17:00"), want);
    assert_eq!(wins("Test: 14.12.2026 09:00-17:00"), want);
    assert_eq!(wins("Test am 14.12.26 von 9 bis 17 Uhr"), want);
    assert_eq!(wins("The test is on 14.12.2026 from 09:00 to 17:00."), want);
    assert_eq!(
        wins("Lasttest am 14. Dezember 2026, 9 Uhr bis 17 Uhr"),
        want
    );
    assert_eq!(wins("Lasttest am 14.12.2026 von 9.00 bis 17.00 Uhr"), want);
    assert_eq!(wins("Test on December 14, 2026 9:00 AM - 5:00 PM"), want);
    assert_eq!(
        wins("Test on December 14, 2026 from 9 a.m. to 5 p.m."),
        want
    );
    assert_eq!(
        wins("Der Test findet am 14.12.2026 zwischen 9 und 17 Uhr statt."),
        want
    );
    assert_eq!(wins("Test: 14.12.2026 9h - 17h"), want);
    assert_eq!(wins("Test: 14.12.2026 9:00 Uhr bis 17:00 Uhr"), want);
    assert_eq!(wins("Testing on Dec 14th 2026, 9am-5pm"), want);
    assert_eq!(
        wins("We test on 14th of December 2026 from 9 to 5pm."),
        want
    );
    assert_eq!(
        wins("Test window: Monday, 14 December 2026, 09:00 – 17:00"),
        want
    );
    assert_eq!(wins("Test window: 14 Dec 2026 09:00 — 17:00"), want);
}

#[test]
fn yearless_and_weekday_slash() {
    // Reference 2026-11-02: December is in the coming weeks.
    let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
    assert_eq!(wins("Test on Mon 14/12 09:00-17:00"), want);
    assert_eq!(wins("Test on Dec 14th, 9am to 5pm"), want);
    assert_eq!(wins("Test on 14 Dec 09:00-17:00"), want);
    assert_eq!(wins("Test am 14.12. von 09:00 bis 17:00"), want);
}

#[test]
fn noon_and_midnight() {
    assert_eq!(
        wins("Test on 14.12.2026 from noon until midnight"),
        vec![w("2026-12-14T11:00:00Z", "2026-12-14T23:00:00Z")]
    );
    assert_eq!(
        wins("Test on 14.12.2026 from midnight to 12 noon"),
        vec![w("2026-12-13T23:00:00Z", "2026-12-14T11:00:00Z")]
    );
}

#[test]
fn summer_and_winter_time() {
    assert_eq!(
        wins("Test window: 2027-07-01 09:00 - 2027-07-01 10:00"),
        vec![w("2027-07-01T07:00:00Z", "2027-07-01T08:00:00Z")]
    );
    assert_eq!(
        wins("Test window: 2026-12-14 09:00 - 2026-12-14 10:00"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z")]
    );
}

#[test]
fn dst_gap_and_fold() {
    let c = ctx_at(2027, 2, 1);
    // 2027-03-28 02:30 does not exist in Zurich: first valid instant is 03:00 CEST.
    let f = find_windows("Test: 28.03.2027 02:30 - 28.03.2027 04:00", &c);
    assert_eq!(
        f.windows,
        vec![w("2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z")]
    );
    // 2027-10-31 02:30 happens twice: the earlier (CEST) is taken.
    let c = ctx_at(2027, 9, 1);
    let f = find_windows("Test: 31.10.2027 02:30 - 31.10.2027 05:00", &c);
    assert_eq!(
        f.windows,
        vec![w("2027-10-31T00:30:00Z", "2027-10-31T04:00:00Z")]
    );
}

#[test]
fn single_day_whole_day() {
    assert_eq!(
        wins("The test will take place on 14.12.2026."),
        vec![day(2026, 12, 14)]
    );
    assert_eq!(wins("Datum: 14. Dezember 2026"), vec![day(2026, 12, 14)]);
    assert_eq!(wins("Date: 2027-07-01"), vec![day(2027, 7, 1)]);
}

#[test]
fn range_last_day_without_time_ends_at_midnight() {
    assert_eq!(
        wins("Test from 14.12.2026 09:00 to 15.12.2026"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-15T23:00:00Z")]
    );
    assert_eq!(
        wins("Test from 14.12.2026 to 15.12.2026 17:00"),
        vec![w("2026-12-13T23:00:00Z", "2026-12-15T16:00:00Z")]
    );
}

#[test]
fn day_ranges() {
    let want = vec![w("2026-12-13T23:00:00Z", "2026-12-18T23:00:00Z")];
    assert_eq!(wins("Test: 14-18 December 2026"), want);
    assert_eq!(wins("Test vom 14. bis 18. Dezember 2026"), want);
    assert_eq!(wins("Test: Dec 14-18, 2026"), want);
    assert_eq!(wins("Test: Dec 14 - 18"), want);
    assert_eq!(wins("Test: 14.-18.12.2026"), want);
    assert_eq!(wins("Test: 14.12. - 18.12.2026"), want);
    assert_eq!(wins("Testzeitraum: 14.12.2026 – 18.12.2026"), want);
}

#[test]
fn day_range_with_daily_hours_gives_one_window_per_day() {
    let f = wins("Load test: 14-16 Dec 2026, 09:00-17:00 daily");
    assert_eq!(
        f,
        vec![
            w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z"),
            w("2026-12-15T08:00:00Z", "2026-12-15T16:00:00Z"),
            w("2026-12-16T08:00:00Z", "2026-12-16T16:00:00Z"),
        ]
    );
    let g = wins("Lasttest vom 14. bis 16. Dezember 2026 jeweils von 9 bis 17 Uhr");
    assert_eq!(f, g);
}

#[test]
fn list_of_days_with_hours_each() {
    assert_eq!(
        wins("Test on 14.12. and 16.12.2026, 09:00-12:00 each"),
        vec![
            w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
            w("2026-12-16T08:00:00Z", "2026-12-16T11:00:00Z"),
        ]
    );
}

#[test]
fn bullet_list_of_windows() {
    let text = "Planned test windows:\n- Mon 14/12: 09:00-12:00\n- Tue 15/12: 13:00-17:00\n";
    assert_eq!(
        wins(text),
        vec![
            w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
            w("2026-12-15T12:00:00Z", "2026-12-15T16:00:00Z"),
        ]
    );
    let text = "Window 1: 14.12.2026 09:00-12:00\nWindow 2: 15.12.2026 13:00-17:00";
    assert_eq!(
        wins(text),
        vec![
            w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
            w("2026-12-15T12:00:00Z", "2026-12-15T16:00:00Z"),
        ]
    );
}

#[test]
fn labelled_lines_split_date_and_time() {
    let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
    assert_eq!(
        wins("Start date: 14.12.2026\nStart time: 09:00\nEnd date: 14.12.2026\nEnd time: 17:00"),
        want
    );
    assert_eq!(
        wins("Beginn: 14.12.2026, 09:00 Uhr\nEnde: 14.12.2026, 17:00 Uhr"),
        want
    );
    assert_eq!(wins("Von: 14.12.2026 09:00\nBis: 14.12.2026 17:00"), want);
    assert_eq!(
        wins("Start\t14.12.2026\t09:00\nEnd\t14.12.2026\t17:00\n"),
        want
    );
    assert_eq!(wins("Date: 14.12.2026\nStart: 09:00\nEnd: 17:00"), want);
    assert_eq!(wins("Date: 14.12.2026\nTime: 09:00 - 17:00"), want);
    assert_eq!(wins("Start: 14.12.2026 09:00 End: 14.12.2026 17:00"), want);
}

#[test]
fn table_with_header_row() {
    assert_eq!(
        wins("Datum\tVon\tBis\n14.12.2026\t09:00\t17:00\n"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
}

#[test]
fn zones_written_in_many_ways() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "Test 14.12.2026 09:00-17:00 UTC",
            "2026-12-14T09:00:00Z",
            "2026-12-14T17:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 GMT",
            "2026-12-14T09:00:00Z",
            "2026-12-14T17:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 UTC+1",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 GMT+2",
            "2026-12-14T07:00:00Z",
            "2026-12-14T15:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 UTC-05:00",
            "2026-12-14T14:00:00Z",
            "2026-12-14T22:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 MEZ",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 CEST",
            "2026-12-14T07:00:00Z",
            "2026-12-14T15:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 BST (London)",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 PST",
            "2026-12-14T17:00:00Z",
            "2026-12-15T01:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 AEDT",
            "2026-12-13T22:00:00Z",
            "2026-12-14T06:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 JST",
            "2026-12-14T00:00:00Z",
            "2026-12-14T08:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 Europe/London",
            "2026-12-14T09:00:00Z",
            "2026-12-14T17:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 America/New_York",
            "2026-12-14T14:00:00Z",
            "2026-12-14T22:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 (Swiss time)",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 Schweizer Zeit",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 local time (Zurich)",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 +01:00",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
        (
            "Test 14.12.2026 09:00-17:00 CET/CEST",
            "2026-12-14T08:00:00Z",
            "2026-12-14T16:00:00Z",
        ),
    ];
    for (text, a, b) in cases {
        assert_eq!(wins(text), vec![w(a, b)], "{text}");
    }
}

#[test]
fn named_zone_reported() {
    let f = find_windows("Test 14.12.2026 09:00-17:00 Europe/London", &ctx());
    assert_eq!(f.zone, Some(Zone::Named(chrono_tz::Europe::London)));
    let f = find_windows("Test 14.12.2026 09:00-17:00 Swiss time", &ctx());
    assert_eq!(f.zone, Some(Zone::Named(chrono_tz::Europe::Zurich)));
    let f = find_windows("Test 14.12.2026 09:00-17:00", &ctx());
    assert_eq!(f.zone, None);
}

#[test]
fn zone_line_applies_to_whole_text() {
    let text = "Start: 14.12.2026 09:00\nEnd: 14.12.2026 17:00\nZeitzone: UTC";
    let f = find_windows(text, &ctx());
    assert_eq!(
        f.windows,
        vec![w("2026-12-14T09:00:00Z", "2026-12-14T17:00:00Z")]
    );
    let text = "All times are in UTC.\nTest on 14.12.2026 from 09:00 to 17:00.";
    assert_eq!(
        wins(text),
        vec![w("2026-12-14T09:00:00Z", "2026-12-14T17:00:00Z")]
    );
}

#[test]
fn zone_on_start_line_carries_to_end_line() {
    assert_eq!(
        wins("Start: 14.12.2026 09:00 CET\nEnd: 14.12.2026 17:00"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
}

#[test]
fn ambiguous_zone_is_reported() {
    let f = find_windows("Test on 14.12.2026 from 09:00 to 17:00 IST", &ctx());
    assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
    // Read in the default zone; the rules send it to a person.
    assert_eq!(
        f.windows,
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
    // German "ist" is a verb, not a zone.
    let f = find_windows("Der Test ist am 14.12.2026 von 9 bis 17 Uhr.", &ctx());
    assert!(f.ambiguous_zones.is_empty());
    assert_eq!(f.windows.len(), 1);
}

#[test]
fn ambiguous_numeric_dates() {
    let f = find_windows("Test on 03/04/2027 from 09:00 to 17:00", &ctx());
    assert_eq!(f.ambiguous_dates, vec!["03/04/2027".to_string()]);
    assert!(f.windows.is_empty());
    let f = find_windows("Test on 03-04-2027", &ctx());
    assert_eq!(f.ambiguous_dates, vec!["03-04-2027".to_string()]);
    assert!(f.windows.is_empty());
    // A weekday that fits only one reading settles it: 2027-03-04 is a Thursday.
    let f = find_windows("Test on Thursday 03/04/2027 09:00-17:00", &ctx());
    assert!(f.ambiguous_dates.is_empty());
    assert_eq!(
        f.windows,
        vec![w("2027-03-04T08:00:00Z", "2027-03-04T16:00:00Z")]
    );
    // 2027-04-03 is a Saturday.
    let f = find_windows("Test on Sat 03/04/2027 09:00-17:00", &ctx());
    assert_eq!(
        f.windows,
        vec![w("2027-04-03T07:00:00Z", "2027-04-03T15:00:00Z")]
    );
    // Dotted is day first, ISO is never ambiguous, a field over 12 decides.
    let f = find_windows("Test on 03.04.2027", &ctx());
    assert!(f.ambiguous_dates.is_empty());
    assert_eq!(f.windows, vec![day(2027, 4, 3)]);
    let f = find_windows("Test on 2027/04/03", &ctx());
    assert_eq!(f.windows, vec![day(2027, 4, 3)]);
    let f = find_windows("Test on 12/25/2026", &ctx());
    assert!(f.ambiguous_dates.is_empty());
    assert_eq!(f.windows, vec![day(2026, 12, 25)]);
    let f = find_windows("Test on 25/12/2026", &ctx());
    assert_eq!(f.windows, vec![day(2026, 12, 25)]);
}

#[test]
fn weekday_contradicting_date_is_ambiguous() {
    let f = find_windows("Test on Monday, 15 December 2026", &ctx());
    assert_eq!(f.ambiguous_dates.len(), 1);
    assert!(f.windows.is_empty());
}

#[test]
fn year_inference_around_new_year() {
    let c = ctx_at(2026, 12, 20);
    assert_eq!(
        find_windows("Test on 5 Jan", &c).windows,
        vec![day(2027, 1, 5)]
    );
    assert_eq!(
        find_windows("Test on 28 Dec", &c).windows,
        vec![day(2026, 12, 28)]
    );
    // Within 60 days back stays in the past year.
    assert_eq!(
        find_windows("Test on 1 Nov", &c).windows,
        vec![day(2026, 11, 1)]
    );
    assert_eq!(
        find_windows("Test from 28 Dec to 3 Jan", &c).windows,
        vec![w("2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z")]
    );
    assert_eq!(
        find_windows("Test: 30.12. - 02.01.2027", &c).windows,
        vec![w("2026-12-29T23:00:00Z", "2027-01-02T23:00:00Z")]
    );
}

#[test]
fn two_digit_years_and_month_names() {
    assert_eq!(wins("Test on 03.03.27"), vec![day(2027, 3, 3)]);
    assert_eq!(wins("Test am 3. März 2027"), vec![day(2027, 3, 3)]);
    assert_eq!(wins("Test am 3. Maerz 2027"), vec![day(2027, 3, 3)]);
    assert_eq!(wins("Test am 3. Okt. 2027"), vec![day(2027, 10, 3)]);
    assert_eq!(wins("Test on 3 Sept 2027"), vec![day(2027, 9, 3)]);
    assert_eq!(wins("Test on Jan. 3, 2027"), vec![day(2027, 1, 3)]);
    assert_eq!(wins("Test am 3. Dez"), vec![day(2026, 12, 3)]);
}

#[test]
fn weekday_only_references() {
    // Reference Monday 2026-11-02: "next Monday" and "Montag" are 2026-11-09.
    assert_eq!(
        wins("We will run the test next Monday from 9:00 to 12:00."),
        vec![w("2026-11-09T08:00:00Z", "2026-11-09T11:00:00Z")]
    );
    assert_eq!(
        wins("Der Test findet am Montag statt."),
        vec![day(2026, 11, 9)]
    );
}

#[test]
fn overnight_window() {
    assert_eq!(
        wins("Test on 14.12.2026 22:00-02:00"),
        vec![w("2026-12-14T21:00:00Z", "2026-12-15T01:00:00Z")]
    );
}

#[test]
fn end_before_start_is_kept() {
    assert_eq!(
        wins("Test from 15.12.2026 to 14.12.2026"),
        vec![w("2026-12-14T23:00:00Z", "2026-12-14T23:00:00Z")]
    );
}

#[test]
fn non_window_dates_are_ignored() {
    for text in [
        "Our contract from 2019 is still valid.",
        "As discussed on 12 Nov, we send the details later.",
        "Invoice dated 01.12.2026 attached.",
        "Last year's test on 2025-05-01 went fine.",
        "Call me at +41 44 123 45 67.",
        "Our server 10.12.2026.1 is version 1.2.3.",
        "Support is 24/7.",
        "Budget for 03/2027.",
        "We sent 1.50 Gbit/s.",
        "Thanks for your reply on 12.11.2026.",
    ] {
        let f = find_windows(text, &ctx());
        assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
        assert!(f.ambiguous_dates.is_empty(), "{text}");
    }
}

#[test]
fn windows_in_order_and_deduplicated() {
    let text = "Test window: 15.12.2026 09:00-10:00.\nReminder, test window: 14.12.2026 09:00-10:00.\nAgain: test on 15.12.2026 09:00-10:00.";
    assert_eq!(
        wins(text),
        vec![
            w("2026-12-15T08:00:00Z", "2026-12-15T09:00:00Z"),
            w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z"),
        ]
    );
}

#[test]
fn german_prose() {
    let text = "Sehr geehrte Damen und Herren\n\nWir möchten Ihnen mitteilen, dass wir am Dienstag, 15. Dezember 2026 \
                    zwischen 08:00 und 12:00 Uhr einen Lasttest auf www.example.ch durchführen werden.\n\nFreundliche Grüsse";
    assert_eq!(
        wins(text),
        vec![w("2026-12-15T07:00:00Z", "2026-12-15T11:00:00Z")]
    );
}

#[test]
fn realistic_english_mail() {
    let text = "Hi team,\n\nwe'd like to notify you about a penetration test against our site shop.example.com.\n\
                    Scope: web application only.\n\
                    Start: 11 January 2027, 22:00 CET\n\
                    End: 12 January 2027, 02:00 CET\n\
                    Source IPs: 203.0.113.10, 203.0.113.11\n\
                    Contact: Jane Doe, +41 79 123 45 67\n\nThanks!";
    let f = find_windows(text, &ctx());
    assert_eq!(
        f.windows,
        vec![w("2027-01-11T21:00:00Z", "2027-01-12T01:00:00Z")]
    );
    assert_eq!(f.zone.map(|z| z.label()), Some("UTC+01:00".to_string()));
}

#[test]
fn hard_wrapped_sentence() {
    let text = "We plan to run the load test against www.example.com on Monday, 14 December\n2026 from 09:00 to 17:00 CET. Please let us know.";
    assert_eq!(
        wins(text),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn no_panic_on_arbitrary_strings(s in "\\PC{0,300}") {
            let _ = find_windows(&s, &ctx());
        }

        #[test]
        fn no_panic_on_date_like_soup(s in "[0-9 .:/\\-–+TZa-zäöüÄÖÜ\\t\\n,()]{0,200}") {
            let _ = find_windows(&s, &ctx());
        }

        #[test]
        fn no_panic_on_keyword_soup(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("14.12.2026"), Just("09:00"), Just("-"), Just("bis"), Just("to"),
                    Just("Start:"), Just("End:"), Just("\n"), Just("\t"), Just("UTC+1"),
                    Just("Dec"), Just("14"), Just("18"), Just("and"), Just("between"),
                    Just("9am"), Just("IST"), Just("03/04/2027"), Just("Montag"), Just("daily"),
                    Just("midnight"), Just("24:00"), Just("+01:00"), Just("Europe/Zurich"),
                    Just("ü"), Just("."), Just(","), Just("test"), Just("Uhr"), Just("Z"),
                ],
                0..40,
            )
        ) {
            let text = parts.join(" ");
            let a = find_windows(&text, &ctx());
            let b = find_windows(&text, &ctx());
            prop_assert_eq!(&a, &b);
            for (i, w) in a.windows.iter().enumerate() {
                prop_assert!(!a.windows[..i].contains(w));
            }
        }

        #[test]
        fn dotted_ranges_match_chrono(
            y in 2025i32..2030, m in 1u32..=12, d in 1u32..=28,
            h1 in 0u32..24, m1 in 0u32..60, h2 in 0u32..24, m2 in 0u32..60,
        ) {
            let text = format!(
                "Test window: {d:02}.{m:02}.{y} {h1:02}:{m1:02} - {d:02}.{m:02}.{y} {h2:02}:{m2:02}"
            );
            let f = find_windows(&text, &ctx());
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
            let tz = chrono_tz::Europe::Zurich;
            let conv = |h: u32, mi: u32| local_to_utc(tz, date.and_hms_opt(h, mi, 0).expect("t")).expect("utc");
            let want = Window { start: conv(h1, m1), end: conv(h2, m2) };
            prop_assert_eq!(f.windows, vec![want]);
            let direct = tz.from_local_datetime(&date.and_hms_opt(h1, m1, 0).expect("t")).earliest();
            if let Some(direct) = direct {
                prop_assert_eq!(want.start, direct.with_timezone(&Utc));
            }
        }
    }
}

/// A 4 KB mail repeating one window gives that window once (speed is measured by
/// `cargo bench --bench check`, not here).
#[test]
fn a_4k_mail_repeating_one_window_gives_it_once() {
    let para = "Hello, we plan to run a load test on www.example.com on Monday, 14 December 2026 \
                    from 09:00 to 17:00 CET. Source IPs are 203.0.113.10 and 203.0.113.11, traffic \
                    up to 500 Mbit/s and 2000 requests per second. Contact: Jane Doe, +41 44 123 45 67.\n";
    let mut text = String::new();
    while text.len() < 4096 {
        text.push_str(para);
    }
    let found = find_windows(&text, &ctx());
    assert_eq!(
        found.windows,
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
    assert!(found.invalid.is_empty(), "{:?}", found.invalid);
    assert!(found.doubts.is_empty(), "{:?}", found.doubts);
}

#[test]
fn forwarded_header_date_is_not_a_window() {
    let text = "Please see below.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@example.com>\nDate: Mon, 2 Nov 2026 at 10:15\nSubject: Load test\nTo: ops@example.com\n\nWe will run the load test on 14.12.2026 from 09:00 to 17:00.";
    assert_eq!(
        wins(text),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
}

#[test]
fn date_line_after_time_labels() {
    assert_eq!(
        wins("Startzeit: 09:00\nEndzeit: 17:00\nDatum: 14.12.2026"),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
}

#[test]
fn more_prose_forms() {
    assert_eq!(
        wins("The test will be on 14.12.2026.\nWe start at 09:00 and finish at 17:00."),
        vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
    );
    assert_eq!(
        wins("Test on 14.12.2026 09:00-12:00 and 13:00-17:00"),
        vec![
            w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
            w("2026-12-14T12:00:00Z", "2026-12-14T16:00:00Z"),
        ]
    );
    assert_eq!(
        wins("Test on 14.12.2026, 1-3pm"),
        vec![w("2026-12-14T12:00:00Z", "2026-12-14T14:00:00Z")]
    );
    // A start with no end is no window (it used to last until midnight).
    let f = find_windows("Test on 14.12.2026 starting at 09:00", &ctx());
    assert!(f.windows.is_empty());
    assert_eq!(
        f.invalid,
        vec!["The window starting 2026-12-14 09:00 CET has no end time.".to_string()]
    );
    assert_eq!(
        wins("Test zwischen dem 14. und 18. Dezember 2026"),
        vec![w("2026-12-13T23:00:00Z", "2026-12-18T23:00:00Z")]
    );
    assert_eq!(
        wins("Zeitraum: 14.12.2026 bis 16.12.2026, jeweils 08:00 - 12:00 Uhr"),
        vec![
            w("2026-12-14T07:00:00Z", "2026-12-14T11:00:00Z"),
            w("2026-12-15T07:00:00Z", "2026-12-15T11:00:00Z"),
            w("2026-12-16T07:00:00Z", "2026-12-16T11:00:00Z"),
        ]
    );
    assert_eq!(
        wins("Test on 14.12.2026, 15.12.2026 and 16.12.2026"),
        vec![day(2026, 12, 14), day(2026, 12, 15), day(2026, 12, 16)]
    );
}

// --- issue 6: invalid windows ------------------------------------------------------------

fn invalid(text: &str) -> Vec<String> {
    let f = find_windows(text, &ctx());
    assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
    f.invalid
}

#[test]
fn impossible_dates_are_invalid_not_missing() {
    let cases: &[(&str, &str)] = &[
        (
            "Start: 31.04.2027 09:00\nEnd: 01.05.2027 17:00",
            "The start \"31.04.2027\" is not a date: April 2027 has 30 days.",
        ),
        (
            "Test am 30. Februar 2027 von 9 bis 17 Uhr",
            "\"30. Februar 2027\" is not a date: February 2027 has 28 days.",
        ),
        (
            "We will run the pentest on 29 Feb 2027, 09:00-17:00 CET.",
            "The start \"29 Feb 2027\" is not a date: February 2027 has 28 days.",
        ),
        (
            "Testfenster: 32.01.2027 09:00-17:00",
            "The start \"32.01.2027\" is not a date: January 2027 has 31 days.",
        ),
        (
            "Testfenster: 32.01. 09:00-17:00",
            "The start \"32.01.\" is not a date: January has no day 32.",
        ),
        (
            "Test window: 14.13.2027 09:00-17:00",
            "The start \"14.13.2027\" is not a date: there is no month 13.",
        ),
        (
            "Test window: 2027-04-31 09:00 to 2027-05-01 17:00 UTC",
            "The start \"2027-04-31\" is not a date: April 2027 has 30 days.",
        ),
        (
            "Test on April 31, 2027 from 9am to 5pm",
            "\"April 31, 2027\" is not a date: April 2027 has 30 days.",
        ),
        // Reference 2026-11-02: the next February has 28 days.
        (
            "Test on 29.02. 09:00-17:00",
            "The start \"29.02.\" is not a date: February 2027 has 28 days.",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(invalid(text), vec![(*want).to_string()], "{text}");
    }
    // A leap year has the day.
    assert_eq!(
        wins("Test on 29 Feb 2028 09:00-17:00"),
        vec![w("2028-02-29T08:00:00Z", "2028-02-29T16:00:00Z")]
    );
}

#[test]
fn impossible_date_never_rolls_over_or_borrows_a_neighbour() {
    // 31 April must not become 1 May, nor take the date of the end line.
    assert!(wins("Start: 31.04.2027 09:00\nEnd: 01.05.2027 17:00").is_empty());
    // Nor may the times on later lines take an older date.
    let text = "Test on 12.04.2027.\nDate: 31.04.2027\nStart: 09:00\nEnd: 17:00";
    let f = find_windows(text, &ctx());
    assert_eq!(
        f.invalid,
        vec!["\"31.04.2027\" is not a date: April 2027 has 30 days.".to_string()]
    );
    assert!(
        f.windows
            .iter()
            .all(|w| w.end - w.start == Duration::days(1))
    );
}

#[test]
fn impossible_times_are_invalid() {
    assert_eq!(
        invalid("Start: 14.01.2027 25:00\nEnd: 15.01.2027 17:00"),
        vec!["The start time \"25:00\" is not a time of day: a day has 24 hours.".to_string()]
    );
    assert_eq!(
        invalid("Test on 14.01.2027 09:00-24:30"),
        vec!["The end time \"24:30\" is not a time of day: a day ends at 24:00.".to_string()]
    );
    assert_eq!(
        invalid("Lasttest am 14.01.2027 von 9 bis 25 Uhr"),
        vec!["The end time \"25 Uhr\" is not a time of day: a day has 24 hours.".to_string()]
    );
    // 24:00 is the end of the day, not an error.
    assert_eq!(
        wins("Test on 14.01.2027 18:00-24:00"),
        vec![w("2027-01-14T17:00:00Z", "2027-01-14T23:00:00Z")]
    );
}

#[test]
fn start_without_end_is_invalid() {
    assert_eq!(
        invalid("We will start the load test from 14 Jan 2027 09:00 CET."),
        vec!["The window starting 2027-01-14 09:00 +01:00 has no end time.".to_string()]
    );
    assert_eq!(
        invalid("Start: 14.01.2027 09:00\nKontakt: Hans Muster"),
        vec!["The window starting 2027-01-14 09:00 CET has no end time.".to_string()]
    );
    assert_eq!(
        invalid("Der Test beginnt am 14.01.2027 um 09:00 Uhr."),
        vec!["The window starting 2027-01-14 09:00 CET has no end time.".to_string()]
    );
    assert_eq!(
        invalid("Test on 14.01.2027 until 17:00"),
        vec!["The window ending 2027-01-14 17:00 CET has no start time.".to_string()]
    );
}

#[test]
fn date_only_windows_are_whole_days() {
    assert_eq!(wins("Test on 14 January 2027"), vec![day(2027, 1, 14)]);
    assert_eq!(
        wins("Lasttest am 14.–15. Januar 2027"),
        vec![w("2027-01-13T23:00:00Z", "2027-01-15T23:00:00Z")]
    );
    assert!(
        find_windows("Test on 14 January 2027", &ctx())
            .invalid
            .is_empty()
    );
}

// --- issue 6: zones ------------------------------------------------------------------------

#[test]
fn abbreviations_with_two_meanings_are_ambiguous() {
    for z in ["IST", "CST", "BST", "AST", "GST", "SST", "ECT", "AMT"] {
        let f = find_windows(
            &format!("Test on 14.01.2027 from 10:00 to 18:00 {z}"),
            &ctx(),
        );
        assert_eq!(f.ambiguous_zones, vec![z.to_string()], "{z}");
    }
    // A heading names the zone of the times below it.
    let f = find_windows("Test window (IST):\n14.01.2027 10:00-18:00", &ctx());
    assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
    // An offset that is none of the meanings settles nothing.
    let f = find_windows("Test on 14.01.2027 10:00-18:00 IST (UTC+3)", &ctx());
    assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
    // Zone words away from any time are not zones: `ist` (German), `the IST team`.
    for text in [
        "Der Test ist am 14.01.2027 von 9 bis 17 Uhr.",
        "Prices excl. GST. Test on 14.01.2027 09:00-17:00 CET.",
        "Greetings from the IST team.\nTest on 14.01.2027 09:00-17:00 CET.",
    ] {
        assert!(
            find_windows(text, &ctx()).ambiguous_zones.is_empty(),
            "{text}"
        );
    }
}

#[test]
fn text_settles_an_ambiguous_abbreviation() {
    let india = vec![w("2027-01-14T04:30:00Z", "2027-01-14T12:30:00Z")];
    for text in [
        "Test on 14.01.2027 10:00-18:00 IST (India)",
        "Test on 14.01.2027 10:00-18:00 IST (UTC+05:30)",
        "Test on 14.01.2027 10:00-18:00 IST, GMT+5:30",
        "Test on 14.01.2027 10:00-18:00 UTC+05:30 (IST)",
        "Test on 14.01.2027 10:00-18:00 Indian Standard Time",
        "Test on 14.01.2027 10:00-18:00 IST.\nOur team sits in Bengaluru.",
        "Test on 14.01.2027 10:00-18:00 IST (Asia/Kolkata)",
    ] {
        let f = find_windows(text, &ctx());
        assert!(f.ambiguous_zones.is_empty(), "{text}");
        assert_eq!(f.windows, india, "{text}");
    }
    assert_eq!(
        wins("Test on 14.01.2027 09:00-17:00 CST (UTC-6)"),
        vec![w("2027-01-14T15:00:00Z", "2027-01-14T23:00:00Z")]
    );
    assert_eq!(
        wins("Test on 14.01.2027 09:00-17:00 China Standard Time"),
        vec![w("2027-01-14T01:00:00Z", "2027-01-14T09:00:00Z")]
    );
    assert_eq!(
        wins("Test on 14.01.2027 09:00-17:00 CST\nAcme Inc., Dallas, Texas"),
        vec![w("2027-01-14T15:00:00Z", "2027-01-14T23:00:00Z")]
    );
    assert_eq!(
        wins("Test on 14.01.2027 09:00-17:00 GST (Dubai)"),
        vec![w("2027-01-14T05:00:00Z", "2027-01-14T13:00:00Z")]
    );
    // British Summer Time from a UK sender (a `.uk` domain names the country).
    assert_eq!(
        wins("Window: 18 May 2027, 10:00-16:00 BST\nContact: jo@example.org.uk"),
        vec![w("2027-05-18T09:00:00Z", "2027-05-18T15:00:00Z")]
    );
    // Places of two meanings settle nothing.
    let f = find_windows(
        "Test on 14.01.2027 10:00-18:00 IST. Offices in Mumbai and Dublin.",
        &ctx(),
    );
    assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
}

#[test]
fn hints_from_the_whole_message_settle_the_window_field() {
    let hints = ZoneHints::of("Window: 20 January 2027, 10:00 to 18:00 IST\n\nRegards\nPune");
    let f = find_windows_hinted("Window: 20 January 2027, 10:00 to 18:00 IST", &ctx(), hints);
    assert!(f.ambiguous_zones.is_empty());
    assert_eq!(
        f.windows,
        vec![w("2027-01-20T04:30:00Z", "2027-01-20T12:30:00Z")]
    );
}

#[test]
fn zones_of_asia_russia_gulf_australia_africa_americas() {
    // 14 January 2027, 09:00-10:00 local.
    let cases: &[(&str, i64)] = &[
        ("JST", 9 * 60),
        ("KST", 9 * 60),
        ("HKT", 8 * 60),
        ("SGT", 8 * 60),
        ("PHT", 8 * 60),
        ("WIB", 7 * 60),
        ("ICT", 7 * 60),
        ("MSK", 3 * 60),
        ("SAMT", 4 * 60),
        ("YEKT", 5 * 60),
        ("NPT", 5 * 60 + 45),
        ("PKT", 5 * 60),
        // AEDT is in force in January, but AEST is +10 by definition.
        ("AEST", 10 * 60),
        ("AEDT", 11 * 60),
        ("ACST", 9 * 60 + 30),
        ("AWST", 8 * 60),
        ("NZDT", 13 * 60),
        ("SAST", 2 * 60),
        ("WAT", 60),
        ("EAT", 3 * 60),
        ("CAT", 2 * 60),
        ("BRT", -3 * 60),
        ("ART", -3 * 60),
        ("CLT", -4 * 60),
        ("PET", -5 * 60),
        ("COT", -5 * 60),
        ("EST", -5 * 60),
        ("MST", -7 * 60),
        ("PST", -8 * 60),
        // US zones without standard/summer: the city's zone, winter here.
        ("ET", -5 * 60),
        ("PT", -8 * 60),
    ];
    for (z, east) in cases {
        let f = find_windows(&format!("Test on 14.01.2027 09:00-10:00 {z}"), &ctx());
        let start = utc("2027-01-14T09:00:00Z") - Duration::minutes(*east);
        assert_eq!(
            f.windows,
            vec![Window {
                start,
                end: start + Duration::hours(1)
            }],
            "{z}"
        );
        assert!(f.doubts.is_empty() && f.ambiguous_zones.is_empty(), "{z}");
    }
    // ET in July is EDT.
    assert_eq!(
        wins("Test on 14.07.2027 10am-6pm ET"),
        vec![w("2027-07-14T14:00:00Z", "2027-07-14T22:00:00Z")]
    );
}

#[test]
fn unknown_zone_after_a_time_is_a_doubt_never_local_time() {
    for (text, z) in [
        ("Test on 14.01.2027 09:00-17:00 XYZT", "XYZT"),
        ("Test on 14.01.2027 09:00 (PYT) to 17:00 (PYT)", "PYT"),
        ("Test on 14.01.2027 09:00-17:00 Moscow time", "Moscow time"),
        ("Test on 14.01.2027 10:30 GET to 18:00 GET", "GET"),
        ("Test on 14.01.2027 10:30-18:00 GET.", "GET"),
        ("Test on 14.01.2027 10:30-18:00 (ACT)", "ACT"),
    ] {
        let f = find_windows(text, &ctx());
        assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
        assert_eq!(f.doubts.len(), 1, "{text}");
        let d = f.doubts.first().expect("doubt");
        assert_eq!(d.code, ProblemCode::AmbiguousDate);
        assert!(d.message.contains(&format!("\"{z}\"")), "{}", d.message);
    }
    // Capitals that are no zone, and the known ones, raise nothing.
    for text in [
        "Test on 14.01.2027 09:00-17:00 TBD",
        "Test on 14.01.2027 09:00-17:00 EOD",
        "Test on 14.01.2027 between 09:00 AND 17:00 CET",
        "Test on 14.01.2027 09:00-17:00 UTC",
        "Test on 14.01.2027 09:00-17:00 GMT",
        "Test on 14.01.2027 T09:00:00Z to T17:00:00Z",
        "Test on 14.01.2027 09:00-17:00 GET requests only",
        "Test on 14.01.2027 09:00-17:00 GET and POST requests",
        "Test on 14.01.2027 09:00-17:00 GET /api/v2",
    ] {
        let f = find_windows(text, &ctx());
        assert!(f.doubts.is_empty(), "{text}: {:?}", f.doubts);
        assert_eq!(f.windows.len(), 1, "{text}");
    }
}

// --- issue 6: activity before the window -----------------------------------------------

fn activity(text: &str) -> Vec<String> {
    find_windows(text, &ctx())
        .doubts
        .into_iter()
        .map(|d| d.message)
        .collect()
}

#[test]
fn activity_before_the_window_counts() {
    let cases: &[(&str, &str)] = &[
        (
            "ab 1. Februar passives Scanning, Test am 1. März 09:00–17:00 MEZ",
            "2027-02-01",
        ),
        (
            "Passive scanning starts a week earlier, on 3 March. The test runs on 10 March 2027, 09:00-17:00 CET.",
            "2027-03-03",
        ),
        (
            "Reconnaissance begins 1 Feb 2027.\nLoad test: 1 March 2027 09:00-17:00",
            "2027-02-01",
        ),
        (
            "Recon from 1 Feb.\nPentest: 1 March 2027 09:00-17:00",
            "2027-02-01",
        ),
        (
            "Vorbereitung ab dem 1. Februar 2027.\nLasttest am 1. März 2027 von 9 bis 17 Uhr.",
            "2027-02-01",
        ),
    ];
    for (text, day) in cases {
        let f = find_windows(text, &ctx());
        let d = f.doubts.first().expect(text);
        assert!(d.message.contains(day), "{text}: {}", d.message);
        // The early day is kept, so the notice counts from it.
        let first = f.windows.iter().map(|w| w.start).min().expect("windows");
        let want: NaiveDate = day.parse().expect("day");
        assert_eq!(
            first.with_timezone(&chrono_tz::Europe::Zurich).date_naive(),
            want,
            "{text}"
        );
    }
}

#[test]
fn dates_that_are_not_activity_raise_no_doubt() {
    for text in [
        "As discussed on 2 Dec, the test runs on 14.12.2026 09:00-17:00.",
        "Zürich, 2. November 2026\n\nDer Lasttest findet am 14.12.2026 von 9 bis 17 Uhr statt.",
        "Our approval is valid until 31.01.2027. Test on 14.12.2026 09:00-17:00.",
        "We load test before Black Friday: 14.12.2026 09:00-17:00.",
        "Test from 14.12.2026 09:00 to 16.12.2026 17:00.",
        "Test window: 14.12.2026 09:00-17:00.\nA retest follows on 21.12.2026 09:00-17:00.",
    ] {
        assert!(activity(text).is_empty(), "{text}: {:?}", activity(text));
    }
}

#[test]
fn activity_outside_the_window_field_is_seen() {
    let whole = "Hello,\n\npassive reconnaissance starts on 1 February 2027.\n\nWindow: 01.03.2027 09:00-17:00 CET\nContact: Jane Doe";
    let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
    assert_eq!(field.windows.len(), 1);
    merge_outside(
        &mut field,
        find_windows(whole, &ctx()),
        chrono_tz::Europe::Zurich,
    );
    assert_eq!(field.windows.len(), 1);
    assert!(
        field
            .doubts
            .iter()
            .any(|d| d.message.contains("2027-02-01")),
        "{:?}",
        field.doubts
    );
    // A paraphrase of the field window in the prose is no activity and no open start.
    let whole =
        "We will start the test on 1 March 2027 at 09:00.\n\nWindow: 01.03.2027 09:00-17:00 CET";
    let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
    merge_outside(
        &mut field,
        find_windows(whole, &ctx()),
        chrono_tz::Europe::Zurich,
    );
    assert!(field.doubts.is_empty(), "{:?}", field.doubts);
    assert!(field.invalid.is_empty(), "{:?}", field.invalid);
    // A start with no end outside the field, on another day, goes to a person.
    let whole = "Scanning starts on 20 Feb 2027 at 09:00.\n\nWindow: 01.03.2027 09:00-17:00 CET";
    let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
    merge_outside(
        &mut field,
        find_windows(whole, &ctx()),
        chrono_tz::Europe::Zurich,
    );
    assert!(field.invalid.is_empty());
    assert_eq!(field.doubts.len(), 1, "{:?}", field.doubts);
}

// --- issue 6: bounded work ------------------------------------------------------------------

/// 1.5 MB of repeated dates, ranges, test words and crafted zones: the work of every pass
/// stays a small multiple of the input, and what comes out stays within the caps.
#[test]
fn crafted_megabytes_take_linear_work_and_bounded_output() {
    let big = |unit: &str| unit.repeat(1_500_000 / unit.len() + 1);
    let mut distinct = String::new();
    let mut k = 0u32;
    while distinct.len() < 1_500_000 {
        let (d, m, h) = (k % 28 + 1, (k / 28) % 12 + 1, k % 23);
        distinct.push_str(&format!("Test {d}.{m}.2027 {h:02}:00-{:02}:00, ", h + 1));
        k += 1;
    }
    for text in [
        big("Test on 14.12.2026 09:00-17:00 test "),
        big("Lasttest 14-18 Dec 2026, 09:00-17:00 daily and "),
        big("Test 14.12. and 15.12.2026, 09:00-12:00 each "),
        big("test starting at 09:00 on 14.12.2026 "),
        distinct,
        big("test 31.04.2027 25:00 "),
        big("Europe/A/"),
        big("test 09:00 XYZT "),
        big("test 09:00 IST 14.12.2026 Start: 14.12.2026 "),
        big("ab 1. Februar passives Scanning, Test am 1. März 09:00–17:00 MEZ. "),
        big("From: a\nSubject: b\nDate: 1 Dec 2026\n\nTest 14.12.2026.\n"),
    ] {
        let (f, work) = read(&text, &ctx(), ZoneHints::of(&text));
        let head = text.get(..24).unwrap_or("");
        assert!(work.tokens <= text.len(), "{head}");
        assert!(work.elements <= work.tokens + 1, "{head}");
        assert!(work.points <= work.elements, "{head}");
        assert!(
            work.steps <= 2 * work.elements + 64 * MAX_WINDOWS,
            "{head}: {work:?}"
        );
        assert!(f.windows.len() <= MAX_WINDOWS, "{head}");
        assert!(f.invalid.len() <= MAX_NOTES, "{head}");
        assert!(f.doubts.len() <= MAX_NOTES, "{head}");
        assert!(f.ambiguous_dates.len() <= MAX_NOTES, "{head}");
        assert!(f.ambiguous_zones.len() <= MAX_NOTES, "{head}");
    }
}

#[test]
fn more_distinct_windows_than_the_cap_is_a_doubt() {
    let mut text = String::new();
    for k in 0..(MAX_WINDOWS as u32 + 20) {
        let (d, m, h) = (k % 28 + 1, (k / 28) % 12 + 1, k % 23);
        text.push_str(&format!("Test {d}.{m}.2027 {h:02}:00-{:02}:00.\n", h + 1));
    }
    let f = find_windows(&text, &ctx());
    assert_eq!(f.windows.len(), MAX_WINDOWS);
    assert!(
        f.doubts
            .iter()
            .any(|d| d.code == ProblemCode::ImplausibleValue)
    );
}

// Red-team guards (findings 014-025, 056/057, 084-086, 094/095). Arrival 26.11.2026.

fn guard(text: &str) -> DateFindings {
    let c = DateContext {
        default_tz: chrono_tz::Europe::Zurich,
        reference: utc("2026-11-26T09:00:00Z"),
    };
    find_windows(text, &c)
}

fn doubted(text: &str, needle: &str) -> bool {
    guard(text)
        .doubts
        .iter()
        .any(|d| d.message.contains(needle))
}

#[test]
fn attack_start_today_never_borrows_the_end_date() {
    let t = "Start: today 14:00\nEnd: 18.12.2026 18:00";
    assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
    let de = "Beginn: heute 14:00 Uhr\nEnde: 18.12.2026 18:00 Uhr";
    assert!(doubted(de, "cannot be read"), "{:?}", guard(de));
}

#[test]
fn attack_start_dd_mon_yyyy_is_read_not_borrowed() {
    // The form is read: the window starts on 3 December, not on the end's day.
    let f = guard("Start: 03-Dec-2026 08:00\nEnd: 18-Dec-2026 18:00");
    assert_eq!(
        f.windows,
        vec![w("2026-12-03T07:00:00Z", "2026-12-18T17:00:00Z")],
        "{f:?}"
    );
    let f = guard("Start: 03-Dec-2026 08:00\nEnd: 18.12.2026 18:00");
    assert_eq!(
        f.windows.iter().map(|w| w.start).min(),
        Some(utc("2026-12-03T07:00:00Z"))
    );
}

#[test]
fn attack_start_year_0000_never_borrows_the_end_date() {
    let t = "Start: 03.12.0000 08:00\nEnd: 18.12.2026 18:00";
    assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
}

#[test]
fn start_time_only_beside_a_dated_end_is_a_doubt() {
    let t = "Start: 08:00\nEnd: 18.12.2026 18:00";
    assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
}

#[test]
fn honest_end_time_only_and_date_line_raise_no_label_doubt() {
    for t in [
        "Start: 14.12.2026 08:00\nEnd: 18:00",
        "Date: 14.12.2026\nStart: 08:00\nEnd: 17:00",
        "Start: Monday, 14 December 2026, 08:00\nEnd: Friday, 18 December 2026, 18:00",
    ] {
        let f = guard(t);
        assert!(!f.windows.is_empty(), "{t}: {f:?}");
        assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
    }
}

#[test]
fn attack_smoke_test_tomorrow_before_the_window() {
    let t = "Window: 14.12.2026 08:00 - 18.12.2026 18:00\nA first smoke test will run tomorrow at 14:00 for an hour.";
    assert!(doubted(t, "relative"), "{:?}", guard(t));
}

#[test]
fn attack_scans_ab_morgen_before_the_window() {
    let t = "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr\nVorbereitende Scans laufen bereits ab morgen.";
    assert!(doubted(t, "relative"), "{:?}", guard(t));
}

#[test]
fn attack_pilot_run_on_the_3rd_and_in_3_days() {
    for t in [
        "Window: 14.12.2026 08:00 - 18.12.2026 18:00; pilot run on the 3rd",
        "Window: 14.12.2026 08:00 - 18.12.2026 18:00; pilot run in 3 days",
        "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr. Ein Testlauf findet am 3. statt.",
        "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr. Ein Testlauf startet in 3 Tagen.",
    ] {
        assert!(doubted(t, "relative"), "{t}: {:?}", guard(t));
    }
}

#[test]
fn honest_relative_words_raise_no_activity_doubt() {
    for t in [
        // A greeting, not tomorrow.
        "Guten Morgen\nZeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr, Pentest der Webshop-API.",
        // Something delivered later, not activity.
        "Window: 14.12.2026 08:00 - 18.12.2026 18:00\nThe source IPs of the test will be provided tomorrow.",
        // Relative wording that names the window itself.
        "Window: 14.12.2026 08:00 - 18.12.2026 18:00; results of the test in 3 weeks.",
        "Window: 14.12.2026 08:00 - 18.12.2026 18:00; the test runs on the 14th.",
    ] {
        let f = guard(t);
        assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
    }
}

#[test]
fn attack_zone_on_its_own_line_under_the_window() {
    for z in ["(UTC+2)", "(Europe/Helsinki)", "(EET)"] {
        let t = format!("Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n{z}\nContact: Lukas");
        assert!(doubted(&t, "zone"), "{z}: {:?}", guard(&t));
    }
}

#[test]
fn attack_zone_named_by_city_or_country_words() {
    for z in [
        "(all times Kyiv time)",
        "(Moscow time)",
        "(Tokyo time)",
        "(Indian Standard Time)",
        "(Israel time)",
        "(alle Zeiten Ortszeit Athen)",
        "(heure de Moscou)",
        "(times are local to our SOC in Dubai)",
        "(all times Ruritania time)",
    ] {
        let t = format!("Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n{z}");
        assert!(doubted(&t, "zone"), "{z}: {:?}", guard(&t));
    }
    let t = "Start: 10.12.2026 10:30 Helsinki\nEnd: 10.12.2026 20:00";
    assert!(doubted(t, "zone"), "{:?}", guard(t));
}

#[test]
fn honest_zone_statements_raise_no_doubt() {
    for t in [
        "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(CET)",
        "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(all times Zurich time)",
        "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(Europe/Zurich)",
        "Window: 10.12.2026 10:30 - 20:00 (all times UTC+2)",
        "Window: 10.12.2026 10:30 - 20:00 EET",
        "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\nResponse time of our SOC: 15 minutes.",
    ] {
        let f = guard(t);
        assert!(!f.windows.is_empty(), "{t}: {f:?}");
        assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
    }
}

#[test]
fn attack_subject_names_other_days_than_the_body() {
    let c = DateContext {
        default_tz: chrono_tz::Europe::Zurich,
        reference: utc("2026-11-26T09:00:00Z"),
    };
    let body = guard("Window: 14.12.2026 08:00 - 18.12.2026 18:00").windows;
    assert!(subject_doubt("Pentest 03.12.2026 - 05.12.2026 shop", &c, &body).is_some());
    assert!(subject_doubt("Pentest 14.12.2026 - 18.12.2026 shop", &c, &body).is_none());
    assert!(subject_doubt("Pentest shop, Dezember", &c, &body).is_none());
}

#[test]
fn guards_stay_linear_on_a_long_line() {
    // One line of 200k characters of parentheses and place words: the look-back of the
    // zone pass is bounded, so this finishes quickly in a debug build.
    let mut t = String::from("Window: 14.12.2026 08:00 - 18.12.2026 18:00 ");
    for _ in 0..20_000 {
        t.push_str("(Kyiv a ");
    }
    let start = std::time::Instant::now();
    let f = guard(&t);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert!(f.doubts.len() <= 2 * MAX_NOTES);
}
