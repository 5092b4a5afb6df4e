//! The matcher's reader of written zones: offsets, abbreviations, region and place names,
//! IANA names, and words that look like a zone we do not know.

use chrono_tz::Tz;

use super::elements::{Matcher, Zv};
use super::keywords::Kw;
use super::tokens::T;
use super::zones::{AMBIGUOUS, NOT_ZONES, PLACES, REGIONS, ZONE_HOMONYMS};

impl Matcher<'_> {
    /// An offset with its sign at `k`. `after_utc`: written as `UTC+1`, so short forms count.
    fn offset(&self, k: usize, after_utc: bool, iso: bool) -> Option<(i32, usize)> {
        let sign = match self.t(k)? {
            T::P(b'+') => 1,
            T::P(b'-') | T::Minus => -1,
            _ => return None,
        };
        let (v, n) = self.anum(k + 1)?;
        let (h, m, next) = match n {
            4 => (v / 100, v % 100, k + 2),
            1 | 2 => {
                if self.ap(k + 2, b':')
                    && let Some((mm, 2)) = self.anum(k + 3)
                {
                    (v, mm, k + 4)
                } else {
                    if !(after_utc || (n == 2 && self.adj(k))) {
                        return None;
                    }
                    (v, 0, k + 2)
                }
            }
            _ => return None,
        };
        if !after_utc && sign < 0 && !(self.adj(k) && (iso || n == 4)) {
            return None;
        }
        if h > 14 || m >= 60 {
            return None;
        }
        Some((sign * (h as i32 * 3600 + m as i32 * 60), next))
    }

    /// `(Standard|Summer|Daylight)? Time` at `k`: the token after it.
    fn time_word_at(&self, k: usize) -> Option<usize> {
        let k = if matches!(self.kw(k), Kw::Standard | Kw::Summer) {
            k + 1
        } else {
            k
        };
        (self.kw(k) == Kw::TimeWord).then_some(k + 1)
    }

    /// An explicit offset right next to an abbreviation: `CST (UTC-6)`, `IST/UTC+5:30`,
    /// `IST, GMT+05:30`, `IST (+05:30)`.
    fn offset_near(&self, k: usize) -> Option<(i32, usize)> {
        let k = if matches!(self.t(k), Some(T::P(b'(' | b'/' | b','))) {
            k + 1
        } else {
            k
        };
        let (off, next) = match self.kw(k) {
            Kw::Utc => self.offset(k + 1, true, true)?,
            _ => self.offset(k, true, true)?,
        };
        Some((off, if self.p(next, b')') { next + 1 } else { next }))
    }

    pub(super) fn parse_zone(&self, i: usize, after_time: Option<bool>) -> Option<(Zv, usize)> {
        // Words that are only a zone next to a time, or after `time zone:` / `all times`.
        let near = after_time.is_some() || self.seg_tz_hint;
        match self.t(i)? {
            T::Word { kw, upper } => match kw {
                Kw::Utc => {
                    if let Some((off, k)) = self.offset(i + 1, true, true) {
                        return Some((Zv::Fixed(off), k));
                    }
                    Some((Zv::Fixed(0), i + 1))
                }
                Kw::Z if upper && after_time.is_some() && self.adj(i) => {
                    Some((Zv::Fixed(0), i + 1))
                }
                Kw::Abbr(off, need_upper, alone) if (upper || !need_upper) && (alone || near) => {
                    if self.ap(i + 1, b'/')
                        && let Kw::Abbr(off2, ..) = self.kw(i + 2)
                        && self.adj(i + 2)
                        && matches!((off, off2), (3600, 7200) | (7200, 3600))
                    {
                        return Some((Zv::Named(chrono_tz::Europe::Zurich), i + 3));
                    }
                    Some((Zv::Fixed(off), i + 1))
                }
                Kw::AmbZone(a) if upper => {
                    let meanings = AMBIGUOUS.get(usize::from(a)).map_or(&[][..], |m| m.1);
                    // An offset written next to it decides, if it is one of the meanings;
                    // one that is none of them leaves the abbreviation unsettled.
                    if let Some((off, k)) = self.offset_near(i + 1) {
                        if meanings.iter().any(|(o, _)| *o == off) {
                            return Some((Zv::Fixed(off), k));
                        }
                        return Some((Zv::Amb(a), i + 1));
                    }
                    match self.hints.settle(a) {
                        Some(off) => Some((Zv::Fixed(off), i + 1)),
                        None => Some((Zv::Amb(a), i + 1)),
                    }
                }
                Kw::RegionAbbr(r) if upper && near => REGIONS
                    .get(usize::from(r))
                    .map(|(_, tz)| (Zv::Named(*tz), i + 1)),
                Kw::Region(r) => {
                    if let Some(k) = self.time_word_at(i + 1) {
                        return REGIONS
                            .get(usize::from(r))
                            .map(|(_, tz)| (Zv::Named(*tz), k));
                    }
                    self.iana(i)
                }
                Kw::Place(p) => {
                    let tz = PLACES.get(usize::from(p))?.0;
                    if let Some(k) = self.time_word_at(i + 1) {
                        return Some((Zv::Named(tz), k));
                    }
                    // `09:00 UK`
                    (upper && after_time.is_some()).then_some((Zv::Named(tz), i + 1))
                }
                Kw::Swiss => {
                    let mut k = i + 1;
                    if self.kw(k) == Kw::Local {
                        k += 1;
                    }
                    (self.kw(k) == Kw::TimeWord)
                        .then_some((Zv::Named(chrono_tz::Europe::Zurich), k + 1))
                }
                Kw::Local | Kw::TimeWord => {
                    let mut k = i + 1;
                    if kw == Kw::Local && self.kw(k) == Kw::TimeWord {
                        k += 1;
                    }
                    if self.p(k, b'(') {
                        k += 1;
                    }
                    if self.kw(k) == Kw::Swiss {
                        k += 1;
                        if self.p(k, b')') {
                            k += 1;
                        }
                        return Some((Zv::Named(chrono_tz::Europe::Zurich), k));
                    }
                    None
                }
                Kw::Central if self.kw(i + 1) == Kw::European => {
                    let mut k = i + 2;
                    let mut off = 3600;
                    match self.kw(k) {
                        Kw::Summer => {
                            off = 7200;
                            k += 1;
                        }
                        Kw::Standard => k += 1,
                        _ => {}
                    }
                    (self.kw(k) == Kw::TimeWord).then_some((Zv::Fixed(off), k + 1))
                }
                // `Central (Standard|Daylight) Time` without `European`: the US one.
                Kw::Central => self
                    .time_word_at(i + 1)
                    .map(|k| (Zv::Named(chrono_tz::America::Chicago), k)),
                _ => self.iana(i),
            },
            T::P(b'+' | b'-') | T::Minus => {
                let iso = after_time?;
                self.offset(i, false, iso).map(|(o, k)| (Zv::Fixed(o), k))
            }
            T::P(b'(') if after_time.is_some() => {
                let (z, k) = self.parse_zone(i + 1, Some(false))?;
                Some((z, if self.p(k, b')') { k + 1 } else { k }))
            }
            _ => None,
        }
    }

    /// Right after a time: a word that looks like a zone we do not know (`09:00 XYZT`,
    /// `(XYZT)`, `09:00 Moscow time`). Returns what was written and the token after it.
    pub(super) fn unknown_zone(&self, i: usize) -> Option<(String, usize)> {
        let paren = self.p(i, b'(');
        let w = if paren { i + 1 } else { i };
        let tok = self.toks.get(w)?;
        if !matches!(tok.t, T::Word { kw: Kw::None, .. }) {
            return None;
        }
        let word = self.text.get(tok.s..tok.e)?;
        let bytes = word.as_bytes();
        let caps = (2..=5).contains(&bytes.len())
            && bytes.iter().all(|c| c.is_ascii_uppercase())
            && matches!(bytes.last(), Some(b'T' | b'Z'))
            && (!NOT_ZONES.contains(&word)
                || (ZONE_HOMONYMS.contains(&word) && !self.is_word(w + 1) && !self.p(w + 1, b'/')));
        if caps {
            let k = if paren && self.p(w + 1, b')') {
                w + 2
            } else {
                w + 1
            };
            return Some((word.to_string(), k));
        }
        // `Moscow time`, `Berlin Standard Time`: a place we do not know.
        if bytes.first().is_some_and(|c| c.is_ascii_uppercase())
            && let Some(k) = self.time_word_at(w + 1)
        {
            return Some((self.span(w, k), k));
        }
        None
    }

    fn iana(&self, i: usize) -> Option<(Zv, usize)> {
        if !(self.ap(i + 1, b'/') && self.is_word(i + 2) && self.adj(i + 2)) {
            return None;
        }
        // Zone names are capitalised on both sides of the slash (`Europe/Zurich`).
        let cap = |k: usize| {
            self.toks
                .get(k)
                .and_then(|t| self.text.as_bytes().get(t.s))
                .is_some_and(|c| c.is_ascii_uppercase())
        };
        if !cap(i) || !cap(i + 2) {
            return None;
        }
        // The longest names (`America/Argentina/ComodRivadavia`, `America/Port-au-Prince`)
        // are a few tokens: a bound keeps a long `A/B/C/...` run from being rescanned from
        // each of its words.
        let mut k = i + 3;
        while k < i + 12
            && self.adj(k)
            && (self.is_word(k)
                || self.p(k, b'/')
                || self.p(k, b'_')
                || (self.p(k, b'-') && self.is_word(k + 1) && self.adj(k + 1)))
        {
            k += 1;
        }
        let s = self.toks.get(i)?.s;
        let e = self.toks.get(k - 1)?.e;
        let name = self.text.get(s..e)?;
        name.parse::<Tz>().ok().map(|tz| (Zv::Named(tz), k))
    }
}
