//! The matcher's reader of written times of day (`09:00`, `9 Uhr`, `9am`, `noon`) and of
//! impossible ones (`25:00`).

use super::elements::{Matcher, TimeV};
use super::keywords::Kw;

impl Matcher<'_> {
    /// A time of day that cannot be (`25:00`, `24:30`, `09:75`, `25 Uhr`): why, and the
    /// token after it.
    pub(super) fn bad_time(&self, i: usize) -> Option<(&'static str, usize)> {
        let (a, an) = self.num(i)?;
        if an > 2 || self.glued_before(i) {
            return None;
        }
        if self.ap(i + 1, b':')
            && let Some((b, 2)) = self.anum(i + 2)
            && !self.glued_after(i + 3)
            // More colons: an IPv6 address or a clock with seconds, not looked at here.
            && !self.ap(i + 3, b':')
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
            if matches!(self.kw(k), Kw::Uhr | Kw::H) {
                k += 1;
            }
            return Some((why, k));
        }
        if a > 24 && self.kw(i + 1) == Kw::Uhr {
            return Some(("a day has 24 hours", i + 2));
        }
        None
    }

    pub(super) fn parse_time(&self, i: usize) -> Option<(TimeV, usize)> {
        match self.kw(i) {
            Kw::Noon => return Some((TimeV::hm(12, 0), i + 1)),
            Kw::Midnight => {
                let mut t = TimeV::hm(0, 0);
                t.midnight = true;
                return Some((t, i + 1));
            }
            _ => {}
        }
        let (a, an) = self.num(i)?;
        if an > 2 || a > 24 || self.glued_before(i) {
            return None;
        }
        let iso = self.prev_kw(i) == Kw::T && self.adj(i);
        let mut t = TimeV::hm(a, 0);
        t.iso = iso;
        let mut k = i + 1;
        #[derive(PartialEq)]
        enum Kind {
            Bare,
            Weak,
            Strong,
        }
        let mut kind = Kind::Bare;
        if self.ap(k, b':') {
            let (b, bn) = self.anum(k + 1)?;
            if bn != 2 || b >= 60 {
                return None;
            }
            t.m = b;
            k += 2;
            kind = Kind::Strong;
            if self.ap(k, b':')
                && let Some((c, 2)) = self.anum(k + 1)
                && c < 60
            {
                t.s = c;
                t.iso = true;
                k += 2;
                if self.ap(k, b'.') && self.anum(k + 1).is_some() {
                    k += 2;
                }
            }
        } else if self.ap(k, b'.') {
            if let Some((b, 2)) = self.anum(k + 1)
                && b < 60
                && !self.glued_after(k + 2)
            {
                t.m = b;
                k += 2;
                kind = Kind::Weak;
            }
        } else if self.kw(k) == Kw::H
            && self.adj(k)
            && let Some((b, 2)) = self.anum(k + 1)
            && b < 60
        {
            t.m = b;
            k += 2;
            kind = Kind::Strong;
        }
        let k0 = k;
        match self.kw(k) {
            Kw::Am if a <= 12 && a > 0 && self.parse_date(k + 1).is_none() => {
                t.mer = 1;
                k += 1;
            }
            Kw::Pm if a <= 12 && a > 0 => {
                t.mer = 2;
                k += 1;
            }
            kw @ (Kw::A | Kw::P)
                if a <= 12
                    && a > 0
                    && self.ap(k + 1, b'.')
                    && self.kw(k + 2) == Kw::M
                    && self.adj(k + 2) =>
            {
                t.mer = if kw == Kw::A { 1 } else { 2 };
                k += 3;
                if self.ap(k, b'.') {
                    k += 1;
                }
            }
            Kw::Uhr => k += 1,
            Kw::H if kind != Kind::Weak || self.adj(k) => {
                // `2h`, `24h` after `for`/`within` are durations, not times of day.
                if kind == Kind::Bare && (self.prev_kw(i) == Kw::For || a == 24) {
                    return None;
                }
                k += 1;
            }
            Kw::O if self.p(k + 1, b'\'') && self.kw(k + 2) == Kw::Clock => k += 3,
            Kw::Noon if a == 12 && kind == Kind::Bare => k += 1,
            Kw::Midnight if a == 12 && kind == Kind::Bare => {
                t.h = 0;
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
        if kind == Kind::Bare && self.prev_kw(i) == Kw::For {
            return None;
        }
        t.weak = kind == Kind::Weak;
        if t.mer == 2 && t.h < 12 {
            t.h += 12;
        } else if t.mer == 1 && t.h == 12 {
            t.h = 0;
        }
        if t.h == 24 && (t.m != 0 || t.s != 0) {
            return None;
        }
        Some((t, k))
    }
}
