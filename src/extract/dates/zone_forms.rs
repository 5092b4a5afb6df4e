//! The matcher's reader of written zones: offsets, abbreviations, region and place names,
//! IANA names, and words that look like a zone we do not know.

use chrono_tz::Tz;

use super::elements::{Matcher, ZoneValue};
use super::keywords::Keyword;
use super::tokens::TokenKind;
use super::zones::{AMBIGUOUS, NOT_ZONES, PLACES, REGIONS, ZONE_HOMONYMS};

impl Matcher<'_> {
    /// An offset with its sign at `k`. `after_utc`: written as `UTC+1`, so short forms count.
    fn offset(&self, k: usize, after_utc: bool, iso: bool) -> Option<(i32, usize)> {
        let sign = match self.kind(k)? {
            TokenKind::Punct(b'+') => 1,
            TokenKind::Punct(b'-') | TokenKind::Minus => -1,
            _ => return None,
        };
        let (v, n) = self.adjacent_num(k + 1)?;
        let (h, m, next) = match n {
            4 => (v / 100, v % 100, k + 2),
            1 | 2 => {
                if self.adjacent_punct(k + 2, b':')
                    && let Some((mm, 2)) = self.adjacent_num(k + 3)
                {
                    (v, mm, k + 4)
                } else {
                    if !(after_utc || (n == 2 && self.adjacent(k))) {
                        return None;
                    }
                    (v, 0, k + 2)
                }
            }
            _ => return None,
        };
        if !after_utc && sign < 0 && !(self.adjacent(k) && (iso || n == 4)) {
            return None;
        }
        if h > 14 || m >= 60 {
            return None;
        }
        Some((sign * (h as i32 * 3600 + m as i32 * 60), next))
    }

    /// `(Standard|Summer|Daylight)? Time` at `k`: the token after it.
    fn time_word_at(&self, k: usize) -> Option<usize> {
        let k = if matches!(self.keyword(k), Keyword::Standard | Keyword::Summer) {
            k + 1
        } else {
            k
        };
        (self.keyword(k) == Keyword::TimeWord).then_some(k + 1)
    }

    /// An explicit offset right next to an abbreviation: `CST (UTC-6)`, `IST/UTC+5:30`,
    /// `IST, GMT+05:30`, `IST (+05:30)`.
    fn offset_near(&self, k: usize) -> Option<(i32, usize)> {
        let k = if matches!(self.kind(k), Some(TokenKind::Punct(b'(' | b'/' | b','))) {
            k + 1
        } else {
            k
        };
        let (off, next) = match self.keyword(k) {
            Keyword::Utc => self.offset(k + 1, true, true)?,
            _ => self.offset(k, true, true)?,
        };
        Some((
            off,
            if self.punct(next, b')') {
                next + 1
            } else {
                next
            },
        ))
    }

    pub(super) fn parse_zone(
        &self,
        i: usize,
        after_time: Option<bool>,
    ) -> Option<(ZoneValue, usize)> {
        // Words that are only a zone next to a time, or after `time zone:` / `all times`.
        let near = after_time.is_some() || self.seg_tz_hint;
        match self.kind(i)? {
            TokenKind::Word { keyword: kw, upper } => match kw {
                Keyword::Utc => {
                    if let Some((off, k)) = self.offset(i + 1, true, true) {
                        return Some((ZoneValue::Fixed(off), k));
                    }
                    Some((ZoneValue::Fixed(0), i + 1))
                }
                Keyword::Z if upper && after_time.is_some() && self.adjacent(i) => {
                    Some((ZoneValue::Fixed(0), i + 1))
                }
                Keyword::Abbreviation(off, need_upper, alone)
                    if (upper || !need_upper) && (alone || near) =>
                {
                    if self.adjacent_punct(i + 1, b'/')
                        && let Keyword::Abbreviation(off2, ..) = self.keyword(i + 2)
                        && self.adjacent(i + 2)
                        && matches!((off, off2), (3600, 7200) | (7200, 3600))
                    {
                        return Some((ZoneValue::Named(chrono_tz::Europe::Zurich), i + 3));
                    }
                    Some((ZoneValue::Fixed(off), i + 1))
                }
                Keyword::AmbiguousZone(a) if upper => {
                    let meanings = AMBIGUOUS.get(usize::from(a)).map_or(&[][..], |m| m.1);
                    // An offset written next to it decides, if it is one of the meanings;
                    // one that is none of them leaves the abbreviation unsettled.
                    if let Some((off, k)) = self.offset_near(i + 1) {
                        if meanings.iter().any(|(o, _)| *o == off) {
                            return Some((ZoneValue::Fixed(off), k));
                        }
                        return Some((ZoneValue::Ambiguous(a), i + 1));
                    }
                    match self.hints.settle(a) {
                        Some(off) => Some((ZoneValue::Fixed(off), i + 1)),
                        None => Some((ZoneValue::Ambiguous(a), i + 1)),
                    }
                }
                Keyword::RegionAbbr(r) if upper && near => REGIONS
                    .get(usize::from(r))
                    .map(|(_, tz)| (ZoneValue::Named(*tz), i + 1)),
                Keyword::Region(r) => {
                    if let Some(k) = self.time_word_at(i + 1) {
                        return REGIONS
                            .get(usize::from(r))
                            .map(|(_, tz)| (ZoneValue::Named(*tz), k));
                    }
                    self.iana(i)
                }
                Keyword::Place(p) => {
                    let tz = PLACES.get(usize::from(p))?.0;
                    if let Some(k) = self.time_word_at(i + 1) {
                        return Some((ZoneValue::Named(tz), k));
                    }
                    // `09:00 UK`
                    (upper && after_time.is_some()).then_some((ZoneValue::Named(tz), i + 1))
                }
                Keyword::Swiss => {
                    let mut k = i + 1;
                    if self.keyword(k) == Keyword::Local {
                        k += 1;
                    }
                    (self.keyword(k) == Keyword::TimeWord)
                        .then_some((ZoneValue::Named(chrono_tz::Europe::Zurich), k + 1))
                }
                Keyword::Local | Keyword::TimeWord => {
                    let mut k = i + 1;
                    if kw == Keyword::Local && self.keyword(k) == Keyword::TimeWord {
                        k += 1;
                    }
                    if self.punct(k, b'(') {
                        k += 1;
                    }
                    if self.keyword(k) == Keyword::Swiss {
                        k += 1;
                        if self.punct(k, b')') {
                            k += 1;
                        }
                        return Some((ZoneValue::Named(chrono_tz::Europe::Zurich), k));
                    }
                    None
                }
                Keyword::Central if self.keyword(i + 1) == Keyword::European => {
                    let mut k = i + 2;
                    let mut off = 3600;
                    match self.keyword(k) {
                        Keyword::Summer => {
                            off = 7200;
                            k += 1;
                        }
                        Keyword::Standard => k += 1,
                        _ => {}
                    }
                    (self.keyword(k) == Keyword::TimeWord).then_some((ZoneValue::Fixed(off), k + 1))
                }
                // `Central (Standard|Daylight) Time` without `European`: the US one.
                Keyword::Central => self
                    .time_word_at(i + 1)
                    .map(|k| (ZoneValue::Named(chrono_tz::America::Chicago), k)),
                _ => self.iana(i),
            },
            TokenKind::Punct(b'+' | b'-') | TokenKind::Minus => {
                let iso = after_time?;
                self.offset(i, false, iso)
                    .map(|(o, k)| (ZoneValue::Fixed(o), k))
            }
            TokenKind::Punct(b'(') if after_time.is_some() => {
                let (z, k) = self.parse_zone(i + 1, Some(false))?;
                Some((z, if self.punct(k, b')') { k + 1 } else { k }))
            }
            _ => None,
        }
    }

    /// Right after a time: a word that looks like a zone we do not know (`09:00 XYZT`,
    /// `(XYZT)`, `09:00 Moscow time`). Returns what was written and the token after it.
    pub(super) fn unknown_zone(&self, i: usize) -> Option<(String, usize)> {
        let paren = self.punct(i, b'(');
        let w = if paren { i + 1 } else { i };
        let tok = self.tokens.get(w)?;
        if !matches!(
            tok.kind,
            TokenKind::Word {
                keyword: Keyword::None,
                ..
            }
        ) {
            return None;
        }
        let word = self.text.get(tok.start..tok.end)?;
        let bytes = word.as_bytes();
        let caps = (2..=5).contains(&bytes.len())
            && bytes.iter().all(|c| c.is_ascii_uppercase())
            && matches!(bytes.last(), Some(b'T' | b'Z'))
            && (!NOT_ZONES.contains(&word)
                || (ZONE_HOMONYMS.contains(&word)
                    && !self.is_word(w + 1)
                    && !self.punct(w + 1, b'/')));
        if caps {
            let k = if paren && self.punct(w + 1, b')') {
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

    fn iana(&self, i: usize) -> Option<(ZoneValue, usize)> {
        if !(self.adjacent_punct(i + 1, b'/') && self.is_word(i + 2) && self.adjacent(i + 2)) {
            return None;
        }
        // Zone names are capitalised on both sides of the slash (`Europe/Zurich`).
        let cap = |k: usize| {
            self.tokens
                .get(k)
                .and_then(|t| self.text.as_bytes().get(t.start))
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
            && self.adjacent(k)
            && (self.is_word(k)
                || self.punct(k, b'/')
                || self.punct(k, b'_')
                || (self.punct(k, b'-') && self.is_word(k + 1) && self.adjacent(k + 1)))
        {
            k += 1;
        }
        let s = self.tokens.get(i)?.start;
        let e = self.tokens.get(k - 1)?.end;
        let name = self.text.get(s..e)?;
        name.parse::<Tz>().ok().map(|tz| (ZoneValue::Named(tz), k))
    }
}
