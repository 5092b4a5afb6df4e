//! The matcher's reader of written times of day (`09:00`, `9 Uhr`, `9am`, `noon`) and of
//! impossible ones (`25:00`).

use super::elements::{Matcher, Meridiem, TimeOfDay};
use super::keywords::Keyword;

impl Matcher<'_> {
    /// A time of day that cannot be (`25:00`, `24:30`, `09:75`, `25 Uhr`): why, and the
    /// token after it.
    pub(super) fn impossible_time(&self, i: usize) -> Option<(&'static str, usize)> {
        let (a, an) = self.num(i)?;
        if an > 2 || self.glued_before(i) {
            return None;
        }
        if self.adjacent_punct(i + 1, b':')
            && let Some((b, 2)) = self.adjacent_num(i + 2)
            && !self.glued_after(i + 3)
            // More colons: an IPv6 address or a clock with seconds, not looked at here.
            && !self.adjacent_punct(i + 3, b':')
        {
            let why = if a > 24 && b < 60 {
                "a day has 24 hours"
            } else if a == 24 && b > 0 && b < 60 {
                "a day ends at 24:00"
            } else if b >= 60 {
                "an hour has 60 minutes"
            } else {
                return None;
            };
            let mut k = i + 3;
            if matches!(self.keyword(k), Keyword::Uhr | Keyword::H) {
                k += 1;
            }
            return Some((why, k));
        }
        if a > 24 && self.keyword(i + 1) == Keyword::Uhr {
            return Some(("a day has 24 hours", i + 2));
        }
        None
    }

    pub(super) fn parse_time(&self, i: usize) -> Option<(TimeOfDay, usize)> {
        match self.keyword(i) {
            Keyword::Noon => return Some((TimeOfDay::new(12, 0), i + 1)),
            Keyword::Midnight => {
                let mut t = TimeOfDay::new(0, 0);
                t.midnight = true;
                return Some((t, i + 1));
            }
            _ => {}
        }
        let (a, an) = self.num(i)?;
        if an > 2 || a > 24 || self.glued_before(i) {
            return None;
        }
        let iso = self.prev_keyword(i) == Keyword::T && self.adjacent(i);
        let mut t = TimeOfDay::new(a, 0);
        t.iso = iso;
        let mut k = i + 1;
        #[derive(PartialEq)]
        enum Kind {
            Bare,
            Weak,
            Strong,
        }
        let mut kind = Kind::Bare;
        if self.adjacent_punct(k, b':') {
            let (b, bn) = self.adjacent_num(k + 1)?;
            if bn != 2 || b >= 60 {
                return None;
            }
            t.minute = b;
            k += 2;
            kind = Kind::Strong;
            if self.adjacent_punct(k, b':')
                && let Some((c, 2)) = self.adjacent_num(k + 1)
                && c < 60
            {
                t.second = c;
                t.iso = true;
                k += 2;
                if self.adjacent_punct(k, b'.') && self.adjacent_num(k + 1).is_some() {
                    k += 2;
                }
            }
        } else if self.adjacent_punct(k, b'.') {
            if let Some((b, 2)) = self.adjacent_num(k + 1)
                && b < 60
                && !self.glued_after(k + 2)
            {
                t.minute = b;
                k += 2;
                kind = Kind::Weak;
            }
        } else if self.keyword(k) == Keyword::H
            && self.adjacent(k)
            && let Some((b, 2)) = self.adjacent_num(k + 1)
            && b < 60
        {
            t.minute = b;
            k += 2;
            kind = Kind::Strong;
        }
        let k0 = k;
        match self.keyword(k) {
            Keyword::Am if a <= 12 && a > 0 && self.parse_date(k + 1).is_none() => {
                t.meridiem = Some(Meridiem::Am);
                k += 1;
            }
            Keyword::Pm if a <= 12 && a > 0 => {
                t.meridiem = Some(Meridiem::Pm);
                k += 1;
            }
            kw @ (Keyword::A | Keyword::P)
                if a <= 12
                    && a > 0
                    && self.adjacent_punct(k + 1, b'.')
                    && self.keyword(k + 2) == Keyword::M
                    && self.adjacent(k + 2) =>
            {
                t.meridiem = Some(if kw == Keyword::A {
                    Meridiem::Am
                } else {
                    Meridiem::Pm
                });
                k += 3;
                if self.adjacent_punct(k, b'.') {
                    k += 1;
                }
            }
            Keyword::Uhr => k += 1,
            Keyword::H if kind != Kind::Weak || self.adjacent(k) => {
                // `2h`, `24h` after `for`/`within` are durations, not times of day.
                if kind == Kind::Bare && (self.prev_keyword(i) == Keyword::For || a == 24) {
                    return None;
                }
                k += 1;
            }
            Keyword::O if self.punct(k + 1, b'\'') && self.keyword(k + 2) == Keyword::Clock => {
                k += 3
            }
            Keyword::Noon if a == 12 && kind == Kind::Bare => k += 1,
            Keyword::Midnight if a == 12 && kind == Kind::Bare => {
                t.hour = 0;
                t.midnight = true;
                k += 1;
            }
            _ => {}
        }
        if k == k0 {
            if kind == Kind::Bare {
                return None;
            }
        } else if kind == Kind::Weak {
            kind = Kind::Strong;
        }
        if kind == Kind::Bare && self.prev_keyword(i) == Keyword::For {
            return None;
        }
        t.weak = kind == Kind::Weak;
        if t.meridiem == Some(Meridiem::Pm) && t.hour < 12 {
            t.hour += 12;
        } else if t.meridiem == Some(Meridiem::Am) && t.hour == 12 {
            t.hour = 0;
        }
        if t.hour == 24 && (t.minute != 0 || t.second != 0) {
            return None;
        }
        Some((t, k))
    }
}
