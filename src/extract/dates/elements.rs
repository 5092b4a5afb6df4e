//! Pass 2, the element pass: tokens to elements (dates, times, zones, connectors, labels,
//! breaks); the types it produces and the matcher that reads them.

use chrono::{FixedOffset, NaiveDate};
use chrono_tz::Tz;

use crate::model::{Problem, ProblemCode, Zone};

use super::keywords::Kw;
use super::tokens::{T, Tok};
use super::zones::{AMBIGUOUS, ZoneHints};
use super::{DateFindings, MAX_BADS, MAX_NOTES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DateV {
    pub(super) date: NaiveDate,
    /// The year was written.
    pub(super) yx: bool,
    pub(super) m: u32,
    pub(super) d: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TimeV {
    pub(super) h: u32,
    pub(super) m: u32,
    pub(super) s: u32,
    /// 0 none, 1 am, 2 pm.
    pub(super) mer: u8,
    /// `9.00` without `Uhr`: only a time where the neighbourhood says so.
    pub(super) weak: bool,
    /// Written ISO style (`T09:00`, seconds): a following `-05:00` is an offset.
    pub(super) iso: bool,
    /// The word `midnight`: 24:00 when it ends a range.
    pub(super) midnight: bool,
    /// Written like a time but no time of day (`25:00`, `24:30`): index into the bad list.
    pub(super) bad: Option<u32>,
}

impl TimeV {
    pub(super) fn hm(h: u32, m: u32) -> TimeV {
        TimeV {
            h,
            m,
            s: 0,
            mer: 0,
            weak: false,
            iso: false,
            midnight: false,
            bad: None,
        }
    }
    pub(super) fn key(&self) -> u32 {
        self.h * 3600 + self.m * 60 + self.s
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Zv {
    Fixed(i32),
    Named(Tz),
    /// An abbreviation with several meanings (index into [`AMBIGUOUS`]) the text does not
    /// settle: reported, its times read in the default zone, the caller takes no window.
    Amb(u8),
    /// An abbreviation we do not know: reported as a doubt, no window is built from it.
    Unknown,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Pt {
    pub(super) date: Option<DateV>,
    pub(super) amb: bool,
    pub(super) wd: Option<u32>,
    pub(super) time: Option<TimeV>,
    pub(super) zone: Option<Zv>,
    pub(super) pos: usize,
    /// The point's date or time is impossible (`31.04.2027`, `25:00`): index into the bad
    /// list. No window is built from it; it becomes `window_invalid`.
    pub(super) bad: Option<u32>,
    /// The impossible part is the date (the point still stands for a day).
    pub(super) bad_day: bool,
}

impl Pt {
    pub(super) fn has_day(&self) -> bool {
        self.date.is_some() || self.wd.is_some() || self.amb || self.bad_day
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum I {
    Date(DateV),
    AmbDate,
    /// Written like a date, but no such day exists: index into the bad list.
    BadDate(u32),
    Wd(u32),
    Time(TimeV),
    Pt(Pt),
    Num(u32),
    Zone(Zv),
    Conn,
    And,
    Comma,
    From,
    Between,
    Daily,
    Next,
    /// `true` for a label at the start of a line (`Start:`, `Ende:`).
    Start(bool),
    End(bool),
    Fill,
    Colon,
    On,
    Ctx,
    Neg,
    TzHint,
    Times,
    Other,
    Break,
    Line,
    Para,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct El {
    pub(super) i: I,
    pub(super) pos: usize,
}

pub(super) struct Matcher<'a> {
    pub(super) toks: &'a [Tok],
    pub(super) text: &'a str,
    pub(super) ref_date: NaiveDate,
    pub(super) findings: DateFindings,
    pub(super) hints: ZoneHints,
    /// Impossible dates and times, as written, with why.
    pub(super) bads: Vec<Bad>,
    /// The current sentence says `time zone` or `all times` before this point.
    pub(super) seg_tz_hint: bool,
}

/// A date or time that cannot be: what was written and why it is impossible.
#[derive(Debug, Clone)]
pub(super) struct Bad {
    pub(super) written: String,
    pub(super) why: String,
    /// A time, not a date.
    pub(super) time: bool,
}

impl<'a> Matcher<'a> {
    /// A matcher over the tokens of `text`; `ref_date` anchors dates without a year.
    pub(super) fn new(
        toks: &'a [Tok],
        text: &'a str,
        ref_date: NaiveDate,
        hints: ZoneHints,
    ) -> Self {
        Matcher {
            toks,
            text,
            ref_date,
            findings: DateFindings::default(),
            hints,
            bads: Vec::new(),
            seg_tz_hint: false,
        }
    }
}

impl Matcher<'_> {
    pub(super) fn t(&self, i: usize) -> Option<T> {
        self.toks.get(i).map(|t| t.t)
    }
    pub(super) fn num(&self, i: usize) -> Option<(u32, u8)> {
        match self.t(i) {
            Some(T::Num { v, n }) => Some((v, n)),
            _ => None,
        }
    }
    pub(super) fn anum(&self, i: usize) -> Option<(u32, u8)> {
        if self.adj(i) { self.num(i) } else { None }
    }
    pub(super) fn p(&self, i: usize, c: u8) -> bool {
        self.t(i) == Some(T::P(c))
    }
    pub(super) fn ap(&self, i: usize, c: u8) -> bool {
        self.p(i, c) && self.adj(i)
    }
    pub(super) fn adj(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| !t.sp)
    }
    pub(super) fn kw(&self, i: usize) -> Kw {
        match self.t(i) {
            Some(T::Word { kw, .. }) => kw,
            _ => Kw::None,
        }
    }
    pub(super) fn is_word(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::Word { .. }))
    }
    fn is_dash(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::P(b'-') | T::Dash | T::Minus))
    }
    pub(super) fn is_conn(&self, i: usize) -> bool {
        self.is_dash(i) || self.kw(i) == Kw::To
    }
    pub(super) fn prev_kw(&self, i: usize) -> Kw {
        i.checked_sub(1).map_or(Kw::None, |j| self.kw(j))
    }
    /// The number at `i` continues a dotted or slashed run (`1.2.3`, `10.12.2026.1`).
    pub(super) fn glued_before(&self, i: usize) -> bool {
        i >= 2
            && self.adj(i)
            && matches!(self.t(i - 1), Some(T::P(b'.' | b'/' | b':')))
            && self.adj(i - 1)
            && self.num(i - 2).is_some()
    }
    pub(super) fn glued_after(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::P(b'.' | b'/'))) && self.adj(i) && self.anum(i + 1).is_some()
    }
    pub(super) fn span(&self, a: usize, b_excl: usize) -> String {
        let s = self.toks.get(a).map_or(0, |t| t.s);
        let e = b_excl
            .checked_sub(1)
            .and_then(|k| self.toks.get(k))
            .map_or(s, |t| t.e);
        self.text.get(s..e).unwrap_or("").to_string()
    }

    /// Remembers the first zone the customer wrote.
    fn note_zone(&mut self, z: Zv) {
        if self.findings.zone.is_some() {
            return;
        }
        match z {
            Zv::Fixed(off) => self.findings.zone = FixedOffset::east_opt(off).map(Zone::Fixed),
            Zv::Named(tz) => self.findings.zone = Some(Zone::Named(tz)),
            Zv::Amb(_) | Zv::Unknown => {}
        }
    }

    /// Records a finding for people, once, up to [`MAX_NOTES`].
    fn doubt(&mut self, message: String) {
        let d = &mut self.findings.doubts;
        if d.len() < MAX_NOTES && !d.iter().any(|p| p.message == message) {
            d.push(Problem::new(ProblemCode::AmbiguousDate, message));
        }
    }

    /// Keeps an impossible date or time for the windows that would use it.
    fn bad(&mut self, written: String, why: String, time: bool) -> u32 {
        if self.bads.len() >= MAX_BADS {
            // Beyond the cap the last entry stands for all: still no window from them.
            return u32::try_from(self.bads.len().saturating_sub(1)).unwrap_or(0);
        }
        self.bads.push(Bad { written, why, time });
        u32::try_from(self.bads.len() - 1).unwrap_or(0)
    }

    /// A segment of elements is complete: an ambiguous zone in it counts where the segment
    /// speaks of times or tests (a time, a date, `time zone`, `all times`, `Test window
    /// (IST):` above the times), not in `Prices excl. GST.`
    fn close_segment(&mut self, seg: &[El]) {
        let timely = seg.iter().any(|e| {
            matches!(
                e.i,
                I::Time(_)
                    | I::Date(_)
                    | I::AmbDate
                    | I::BadDate(_)
                    | I::TzHint
                    | I::Times
                    | I::Ctx
                    | I::Start(_)
                    | I::End(_)
            )
        });
        if !timely {
            return;
        }
        for e in seg {
            if let I::Zone(Zv::Amb(a)) = e.i
                && let Some((name, _)) = AMBIGUOUS.get(usize::from(a))
            {
                let zones = &mut self.findings.ambiguous_zones;
                if zones.len() < MAX_NOTES && !zones.iter().any(|z| z == name) {
                    zones.push((*name).to_string());
                }
            }
        }
    }

    // --- element pass ----------------------------------------------------------------------

    /// Whether the word at `i` starts a `Label:` (or a `Label<TAB>` table cell).
    fn label_follows(&self, i: usize) -> bool {
        let mut k = i + 1;
        for _ in 0..3 {
            match self.kw(k) {
                Kw::DateWord | Kw::TimeWord | Kw::Of | Kw::The | Kw::Ctx => k += 1,
                _ => break,
            }
        }
        self.p(k, b':') || matches!(self.t(k), Some(T::Tab) | Some(T::Nl { .. }) | None)
    }

    pub(super) fn elements(&mut self) -> Vec<El> {
        let mut out: Vec<El> = Vec::with_capacity(self.toks.len() / 2 + 4);
        let mut i = 0usize;
        let mut line_content = false;
        let mut seg_start = 0usize;
        while let Some(tok) = self.toks.get(i).copied() {
            let pos = tok.s;
            // Most tokens are plain words: only a few kinds can start a date, time or zone.
            let (maybe_date, maybe_time, maybe_zone) = match tok.t {
                T::Num { .. } => (true, true, false),
                T::Word { kw, .. } => match kw {
                    Kw::Month(_) | Kw::Wday(..) => (true, false, false),
                    Kw::Noon | Kw::Midnight => (false, true, false),
                    Kw::Utc
                    | Kw::Z
                    | Kw::Abbr(..)
                    | Kw::AmbZone(_)
                    | Kw::RegionAbbr(_)
                    | Kw::Region(_)
                    | Kw::Place(_)
                    | Kw::Swiss
                    | Kw::Local
                    | Kw::TimeWord
                    | Kw::Central => (false, false, true),
                    _ => (false, false, self.ap(i + 1, b'/')),
                },
                _ => (false, false, false),
            };
            // Dates, possibly two at once for day ranges.
            if maybe_date && let Some(hit) = self.parse_date(i) {
                let a = self.resolve(&hit.a, hit.wd);
                let b = hit.b.as_ref().map(|b| self.resolve(b, None));
                if a.is_some() && b.is_none_or(|b| b.is_some()) {
                    let push =
                        |r: Option<Option<DateV>>, this: &mut Self, out: &mut Vec<El>| match r {
                            Some(Some(d)) => out.push(El { i: I::Date(d), pos }),
                            _ => {
                                let s = this.span(i, hit.next);
                                let amb = &mut this.findings.ambiguous_dates;
                                if amb.len() < MAX_NOTES && !amb.contains(&s) {
                                    amb.push(s);
                                }
                                out.push(El { i: I::AmbDate, pos });
                            }
                        };
                    push(a, self, &mut out);
                    if let Some(b) = b {
                        out.push(El { i: I::Conn, pos });
                        push(b, self, &mut out);
                    }
                    line_content = true;
                    i = hit.next;
                    continue;
                }
                // Written as a date, but no such day: kept, so it is reported rather than
                // lost (or, worse, replaced by a neighbouring date).
                let why = self
                    .impossible(&hit.a)
                    .or_else(|| hit.b.as_ref().and_then(|b| self.impossible(b)));
                if let Some(why) = why {
                    let ix = self.bad(self.span(i, hit.next), why, false);
                    out.push(El {
                        i: I::BadDate(ix),
                        pos,
                    });
                    line_content = true;
                    i = hit.next;
                    continue;
                }
            }
            if maybe_time {
                let mut time = self
                    .parse_time(i)
                    .filter(|(t, k)| !t.weak || self.weak_time_ok(&out, *k));
                if time.is_none()
                    && let Some((why, k)) = self.bad_time(i)
                {
                    let ix = self.bad(self.span(i, k), why.to_string(), true);
                    let mut t = TimeV::hm(0, 0);
                    t.bad = Some(ix);
                    time = Some((t, k));
                }
                if let Some((t, k)) = time {
                    out.push(El { i: I::Time(t), pos });
                    line_content = true;
                    i = k;
                    if let Some((z, k2)) = self.parse_zone(i, Some(t.iso)) {
                        self.note_zone(z);
                        out.push(El {
                            i: I::Zone(z),
                            pos: self.toks.get(i).map_or(pos, |t| t.s),
                        });
                        i = self.settled_after(k2, z).unwrap_or(k2);
                    } else if let Some((name, k2)) = self.unknown_zone(i) {
                        // Never read silently in our own zone.
                        self.doubt(format!(
                            "The time zone \"{name}\" is not one we can read safely; no window is taken from times in it."
                        ));
                        out.push(El {
                            i: I::Zone(Zv::Unknown),
                            pos: self.toks.get(i).map_or(pos, |t| t.s),
                        });
                        i = k2;
                    }
                    continue;
                }
            }
            if maybe_zone && let Some((z, k)) = self.parse_zone(i, None) {
                self.note_zone(z);
                out.push(El { i: I::Zone(z), pos });
                line_content = true;
                i = k;
                continue;
            }
            let el = match tok.t {
                T::Num { v, n } => {
                    line_content = true;
                    if n <= 2 && v <= 24 && !self.glued_before(i) && !self.glued_after(i + 1) {
                        I::Num(v)
                    } else {
                        I::Other
                    }
                }
                T::Word { kw, .. } => {
                    let first = !line_content;
                    line_content = true;
                    match kw {
                        Kw::Wday(_, false) if self.prev_kw(i) == Kw::Holiday => I::Other,
                        Kw::Wday(w, false) => I::Wd(w),
                        Kw::To => {
                            if first && self.label_follows(i) {
                                I::End(true)
                            } else {
                                I::Conn
                            }
                        }
                        Kw::And => I::And,
                        Kw::From | Kw::Vom => {
                            if first && self.label_follows(i) {
                                I::Start(true)
                            } else {
                                I::From
                            }
                        }
                        Kw::Between => I::Between,
                        Kw::Start => I::Start(first && self.label_follows(i)),
                        Kw::End => I::End(first && self.label_follows(i)),
                        Kw::Daily => I::Daily,
                        Kw::Next => I::Next,
                        Kw::On | Kw::Am => I::On,
                        Kw::The | Kw::Of | Kw::T => I::Fill,
                        Kw::Ctx | Kw::DateWord | Kw::TimeWord => I::Ctx,
                        Kw::Times => I::Times,
                        Kw::TzHint => I::TzHint,
                        Kw::Neg => I::Neg,
                        _ => I::Other,
                    }
                }
                T::P(b',') => I::Comma,
                T::P(b':') => I::Colon,
                T::P(b'-') | T::Dash | T::Minus => I::Conn,
                T::P(b'&') => I::And,
                T::P(b'@') => I::On,
                T::P(b'.') => {
                    let next_sp = self.toks.get(i + 1).is_none_or(|t| t.sp);
                    if next_sp { I::Break } else { I::Other }
                }
                T::P(b'!' | b'?' | b';') => I::Break,
                T::P(b'(' | b')' | b'*' | b'"' | b'>' | b'[' | b']') | T::Tab => I::Fill,
                T::Nl { para } => {
                    line_content = false;
                    if para { I::Para } else { I::Line }
                }
                T::P(_) => I::Other,
            };
            match el {
                I::TzHint | I::Times => self.seg_tz_hint = true,
                I::Break | I::Line | I::Para => {
                    self.seg_tz_hint = false;
                    self.close_segment(out.get(seg_start..).unwrap_or(&[]));
                    seg_start = out.len();
                }
                _ => {}
            }
            // Runs of plain words only matter as one blocker (or one hint of context).
            if !(matches!(el, I::Other | I::Ctx)
                && out
                    .last()
                    .is_some_and(|l| std::mem::discriminant(&l.i) == std::mem::discriminant(&el)))
            {
                out.push(El { i: el, pos });
            }
            i += 1;
        }
        self.close_segment(out.get(seg_start..).unwrap_or(&[]));
        out
    }

    /// `UTC+05:30 (IST)`: an ambiguous abbreviation after an offset that is one of its
    /// meanings only repeats it. Returns the token after it.
    fn settled_after(&self, k: usize, z: Zv) -> Option<usize> {
        let Zv::Fixed(off) = z else { return None };
        let paren = self.p(k, b'(');
        let j = if paren || self.p(k, b'/') { k + 1 } else { k };
        let Some(T::Word {
            kw: Kw::AmbZone(a),
            upper: true,
        }) = self.t(j)
        else {
            return None;
        };
        let (_, meanings) = AMBIGUOUS.get(usize::from(a))?;
        if !meanings.iter().any(|(o, _)| *o == off) {
            return None;
        }
        Some(if paren && self.p(j + 1, b')') {
            j + 2
        } else {
            j + 1
        })
    }

    /// `9.00` counts as a time next to dates, connectors and time words, not as `1.50 Gbit/s`.
    fn weak_time_ok(&self, out: &[El], k: usize) -> bool {
        let prev = out
            .iter()
            .rev()
            .find(|e| !matches!(e.i, I::Fill | I::Colon))
            .map(|e| e.i);
        if matches!(
            prev,
            Some(I::Date(_) | I::Conn | I::From | I::Between | I::On | I::Start(_) | I::End(_))
        ) {
            return true;
        }
        self.is_conn(k) && self.num(k + 1).is_some()
    }
}
