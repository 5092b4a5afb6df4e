//! The matcher's reader of written dates: numeric, textual and ISO forms, day ranges, year
//! inference, and why a date that cannot be is impossible.

use chrono::{Datelike, Duration, NaiveDate};

use super::elements::{CalendarDate, Matcher};
use super::keywords::Keyword;
use super::tokens::TokenKind;

pub(super) struct RawDate {
    year: Option<i32>,
    month: u32,
    day: u32,
    /// The other reading (month, day) of an ambiguous numeric date.
    alt: Option<(u32, u32)>,
}

pub(super) struct DateHit {
    pub(super) first: RawDate,
    pub(super) second: Option<RawDate>,
    pub(super) weekday: Option<u32>,
    pub(super) next: usize,
}

fn year_of(v: u32, n: u8) -> Option<i32> {
    match n {
        2 => Some(2000 + v as i32),
        4 if (1900..=2200).contains(&v) => Some(v as i32),
        _ => None,
    }
}

impl Matcher<'_> {
    fn weekday_prefix(&self, i: usize) -> (Option<u32>, usize) {
        if let Keyword::Weekday(w, _) = self.keyword(i) {
            let mut j = i + 1;
            if self.adjacent_punct(j, b'.') {
                j += 1;
            }
            if self.punct(j, b',') {
                j += 1;
            }
            if self.keyword(j) == Keyword::The {
                j += 1;
            }
            return (Some(w), j);
        }
        (None, i)
    }

    pub(super) fn parse_date(&self, i: usize) -> Option<DateHit> {
        let (wd, j) = self.weekday_prefix(i);
        let (a, b, next) = self.date_body(j, wd.is_some(), true)?;
        Some(DateHit {
            first: a,
            second: b,
            weekday: wd,
            next,
        })
    }

    fn year_after(&self, k: usize) -> (Option<i32>, usize) {
        let k0 = if self.punct(k, b',') { k + 1 } else { k };
        if let Some((v, 4)) = self.num(k0)
            && !self.adjacent_punct(k0 + 1, b':')
            && !self.glued_after(k0 + 1)
            && let Some(y) = year_of(v, 4)
        {
            return (Some(y), k0 + 1);
        }
        (None, k)
    }

    fn date_body(
        &self,
        j: usize,
        has_wd: bool,
        allow_range: bool,
    ) -> Option<(RawDate, Option<RawDate>, usize)> {
        if let Keyword::Month(m) = self.keyword(j) {
            return self.month_first(j, m, allow_range);
        }
        let (v, n) = self.num(j)?;
        if self.glued_before(j) {
            return None;
        }
        if n == 4 {
            // ISO 2026-12-14 or 2026/12/14.
            let sep = match self.kind(j + 1) {
                Some(TokenKind::Punct(c @ (b'-' | b'/'))) if self.adjacent(j + 1) => c,
                _ => return None,
            };
            let (m, mn) = self.adjacent_num(j + 2)?;
            if !self.adjacent_punct(j + 3, sep) {
                return None;
            }
            let (d, dn) = self.adjacent_num(j + 4)?;
            // Out-of-range fields still make a date, an impossible one (`2027-13-01`).
            if mn > 2 || dn > 2 {
                return None;
            }
            if self.adjacent_punct(j + 5, sep) && self.adjacent_num(j + 6).is_some() {
                return None;
            }
            let y = year_of(v, 4)?;
            return Some((
                RawDate {
                    year: Some(y),
                    month: m,
                    day: d,
                    alt: None,
                },
                None,
                j + 5,
            ));
        }
        // Days up to 39 are read as (impossible) dates where the form is clearly a date
        // (`32.01.`, `35 January`): they must not vanish as "no date".
        if n > 2 || v == 0 || v > 39 {
            return None;
        }
        // Dotted, day first: 14.12.2026, 14.12.26, 14.12.
        if self.adjacent_punct(j + 1, b'.')
            && let Some((m, mn)) = self.adjacent_num(j + 2)
            && mn <= 2
            && m >= 1
        {
            if self.adjacent_punct(j + 3, b'.') {
                if let Some((y, yn)) = self.adjacent_num(j + 4) {
                    if self.glued_after(j + 5) || self.adjacent_punct(j + 5, b':') {
                        return None;
                    }
                    let y = year_of(y, yn)?;
                    // With a two-digit year only in-range fields make a date (`1.13.27` is
                    // more likely a version than month 13).
                    if yn != 4 && (m > 12 || v > 31) {
                        return None;
                    }
                    return Some((
                        RawDate {
                            year: Some(y),
                            month: m,
                            day: v,
                            alt: None,
                        },
                        None,
                        j + 5,
                    ));
                }
                if m > 12 {
                    return None;
                }
                return Some((
                    RawDate {
                        year: None,
                        month: m,
                        day: v,
                        alt: None,
                    },
                    None,
                    j + 4,
                ));
            }
            // `am 14.12 um 9 Uhr`: no trailing dot, only where a date is expected.
            if m <= 12
                && v <= 31
                && (has_wd || matches!(self.prev_keyword(j), Keyword::Am | Keyword::Vom))
                && !matches!(self.keyword(j + 3), Keyword::Uhr | Keyword::H)
                && !self.glued_after(j + 3)
                && !self.adjacent_punct(j + 3, b':')
            {
                return Some((
                    RawDate {
                        year: None,
                        month: m,
                        day: v,
                        alt: None,
                    },
                    None,
                    j + 3,
                ));
            }
        }
        // Slashed or dashed numeric: 03/04/2027, 12/25/2026, 03-04-2027, 14/12.
        for sep in [b'/', b'-'] {
            if !self.adjacent_punct(j + 1, sep) {
                continue;
            }
            let Some((b2, bn)) = self.adjacent_num(j + 2) else {
                continue;
            };
            if bn > 2 {
                continue;
            }
            if self.adjacent_punct(j + 3, sep) {
                let Some((y, yn)) = self.adjacent_num(j + 4) else {
                    continue;
                };
                if (sep == b'-' && yn != 4)
                    || self.glued_after(j + 5)
                    || self.adjacent_punct(j + 5, sep)
                {
                    continue;
                }
                let y = year_of(y, yn)?;
                return slash(v, b2, Some(y)).map(|r| (r, None, j + 5));
            }
            if sep == b'/'
                && (has_wd || (n == 2 && bn == 2))
                && !self.adjacent_punct(j + 3, b'/')
                && !self.glued_before(j)
                && !matches!(self.keyword(j + 3), Keyword::H | Keyword::Uhr)
            {
                return slash(v, b2, None).map(|r| (r, None, j + 3));
            }
        }
        // Textual, day first: 14 Dec, 14th of December, 14. Dezember 2026.
        let mut k = j + 1;
        // `03-Dec-2026` (DD-Mon-YYYY, as tools and logs write dates).
        let dashed =
            self.adjacent_punct(k, b'-') && matches!(self.keyword(k + 1), Keyword::Month(_));
        if (self.keyword(k) == Keyword::Ordinal && self.adjacent(k))
            || self.adjacent_punct(k, b'.')
            || dashed
        {
            k += 1;
        }
        if allow_range && let Some(r) = self.day_range(j, v, k) {
            return Some(r);
        }
        if self.keyword(k) == Keyword::Of {
            k += 1;
        }
        if let Keyword::Month(m) = self.keyword(k) {
            k += 1;
            if self.adjacent_punct(k, b'.') || (dashed && self.adjacent_punct(k, b'-')) {
                k += 1;
            }
            let (y, k2) = self.year_after(k);
            return Some((
                RawDate {
                    year: y,
                    month: m,
                    day: v,
                    alt: None,
                },
                None,
                k2,
            ));
        }
        None
    }

    /// `14-18 December`, `14. bis 18. Dezember`, `14.-18.12.2026`, `zwischen 14. und 18.12.`
    fn day_range(&self, j: usize, v: u32, k: usize) -> Option<(RawDate, Option<RawDate>, usize)> {
        let between = self.prev_keyword(j) == Keyword::Between
            || (self.prev_keyword(j) == Keyword::The
                && j >= 2
                && self.keyword(j - 2) == Keyword::Between);
        if !(self.is_connector(k) || (between && self.keyword(k) == Keyword::And)) {
            return None;
        }
        if self.keyword(k) == Keyword::To
            && !self.adjacent(j + 1)
            && k == j + 1
            && self.keyword(k + 1) == Keyword::The
        {
            return None;
        }
        let (_, k2) = self.weekday_prefix(k + 1);
        let (b, _, next) = self.date_body(k2, true, false)?;
        if b.alt.is_some() || v >= b.day {
            return None;
        }
        let a = RawDate {
            year: b.year,
            month: b.month,
            day: v,
            alt: None,
        };
        Some((a, Some(b), next))
    }

    fn month_first(
        &self,
        j: usize,
        m: u32,
        allow_range: bool,
    ) -> Option<(RawDate, Option<RawDate>, usize)> {
        let mut k = j + 1;
        if self.adjacent_punct(k, b'.') {
            k += 1;
        }
        let (d, dn) = self.num(k)?;
        if dn > 2 || d == 0 || d > 39 || self.adjacent_punct(k + 1, b':') || self.glued_after(k + 1)
        {
            return None;
        }
        if matches!(
            self.keyword(k + 1),
            Keyword::Am | Keyword::Pm | Keyword::Uhr | Keyword::H
        ) {
            return None;
        }
        k += 1;
        if self.keyword(k) == Keyword::Ordinal && self.adjacent(k) {
            k += 1;
        }
        if allow_range
            && self.is_connector(k)
            && let Some((d2, dn2)) = self.num(k + 1)
            && dn2 <= 2
            && d2 > d
            && d2 <= 31
            && !self.adjacent_punct(k + 2, b':')
            && !self.glued_after(k + 2)
            && !matches!(
                self.keyword(k + 2),
                Keyword::Am | Keyword::Pm | Keyword::Uhr | Keyword::H
            )
        {
            let mut k2 = k + 2;
            if self.keyword(k2) == Keyword::Ordinal && self.adjacent(k2) {
                k2 += 1;
            }
            let (y, k3) = self.year_after(k2);
            return Some((
                RawDate {
                    year: y,
                    month: m,
                    day: d,
                    alt: None,
                },
                Some(RawDate {
                    year: y,
                    month: m,
                    day: d2,
                    alt: None,
                }),
                k3,
            ));
        }
        let (y, k2) = self.year_after(k);
        Some((
            RawDate {
                year: y,
                month: m,
                day: d,
                alt: None,
            },
            None,
            k2,
        ))
    }

    fn infer(&self, m: u32, d: u32) -> Option<NaiveDate> {
        let lo = self.ref_date - Duration::days(60);
        let hi = self.ref_date + Duration::days(305);
        let y = self.ref_date.year();
        [y - 1, y, y + 1]
            .into_iter()
            .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
            .find(|dt| *dt >= lo && *dt < hi)
    }

    fn mk(&self, y: Option<i32>, m: u32, d: u32) -> Option<CalendarDate> {
        let date = match y {
            Some(y) => NaiveDate::from_ymd_opt(y, m, d)?,
            None => self.infer(m, d)?,
        };
        Some(CalendarDate {
            date,
            year_written: y.is_some(),
            month: m,
            day: d,
        })
    }

    /// `None`: no such date; `Some(None)`: ambiguous; `Some(Some(d))`: the date.
    pub(super) fn resolve(&self, raw: &RawDate, wd: Option<u32>) -> Option<Option<CalendarDate>> {
        let fits =
            |d: &CalendarDate| wd.is_none_or(|w| d.date.weekday().num_days_from_monday() == w);
        let a = self.mk(raw.year, raw.month, raw.day);
        let Some((am, ad)) = raw.alt else {
            let a = a?;
            return Some(if fits(&a) { Some(a) } else { None });
        };
        let b = self.mk(raw.year, am, ad);
        if a.is_none() && b.is_none() {
            return None;
        }
        if wd.is_some() {
            let fa = a.filter(fits);
            let fb = b.filter(fits);
            return Some(match (fa, fb) {
                (Some(x), None) | (None, Some(x)) => Some(x),
                _ => None,
            });
        }
        Some(None)
    }

    /// Why `raw` is no date at all (`31.04.2027`, `29 Feb` near no leap year, month 13), or
    /// `None` if it is one (or could be read as one).
    pub(super) fn impossible(&self, raw: &RawDate) -> Option<String> {
        if raw.alt.is_some() || self.mk(raw.year, raw.month, raw.day).is_some() {
            return None;
        }
        let Some(name) = month_name(raw.month) else {
            return Some(format!("there is no month {}", raw.month));
        };
        let year = match raw.year {
            Some(y) => Some(y),
            // The year a date without one would fall in: that of the 1st of its month.
            None => self.infer(raw.month, 1).map(|d| d.year()),
        };
        let days = year.and_then(|y| days_in_month(y, raw.month));
        Some(match (raw.year, year, days) {
            (Some(y), _, Some(n)) => format!("{name} {y} has {n} days"),
            (None, Some(y), Some(n)) if raw.month == 2 && raw.day == 29 => {
                format!("February {y} has {n} days")
            }
            _ => format!("{name} has no day {}", raw.day),
        })
    }
}

fn month_name(m: u32) -> Option<&'static str> {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES.get(usize::try_from(m).ok()?.checked_sub(1)?).copied()
}

fn days_in_month(y: i32, m: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    u32::try_from((next - first).num_days()).ok()
}

fn slash(a: u32, b: u32, y: Option<i32>) -> Option<RawDate> {
    if a == 0 || b == 0 || a > 31 || b > 31 {
        return None;
    }
    match (a <= 12, b <= 12) {
        (false, true) => Some(RawDate {
            year: y,
            month: b,
            day: a,
            alt: None,
        }),
        (true, false) => Some(RawDate {
            year: y,
            month: a,
            day: b,
            alt: None,
        }),
        (true, true) if a == b => Some(RawDate {
            year: y,
            month: a,
            day: a,
            alt: None,
        }),
        (true, true) => Some(RawDate {
            year: y,
            month: b,
            day: a,
            alt: Some((a, b)),
        }),
        (false, false) => None,
    }
}
