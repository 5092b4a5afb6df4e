//! Pass 2, the element pass: tokens to elements (dates, times, zones, connectors, labels,
//! breaks); the types it produces and the matcher that reads them.

use chrono::{FixedOffset, NaiveDate};
use chrono_tz::Tz;

use crate::model::{Problem, ProblemCode, Zone};

use super::keywords::Keyword;
use super::tokens::{Token, TokenKind};
use super::zones::{AMBIGUOUS, ZoneHints};
use super::{DateFindings, MAX_BADS, MAX_NOTES};

/// A date as read: the day, and its month and day as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CalendarDate {
    pub(super) date: NaiveDate,
    /// The year was written.
    pub(super) year_written: bool,
    pub(super) month: u32,
    pub(super) day: u32,
}

/// `am` or `pm` written after a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Meridiem {
    Am,
    Pm,
}

/// A time of day as read: 24-hour clock once `am`/`pm` is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TimeOfDay {
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    /// `am`/`pm` as written, if it was.
    pub(super) meridiem: Option<Meridiem>,
    /// `9.00` without `Uhr`: only a time where the neighbourhood says so.
    pub(super) weak: bool,
    /// Written ISO style (`T09:00`, seconds): a following `-05:00` is an offset.
    pub(super) iso: bool,
    /// The word `midnight`: 24:00 when it ends a range.
    pub(super) midnight: bool,
    /// Written like a time but no time of day (`25:00`, `24:30`): index into the list of impossible values.
    pub(super) impossible: Option<u32>,
}

impl TimeOfDay {
    /// `hour:minute`, written plainly.
    pub(super) fn new(hour: u32, minute: u32) -> TimeOfDay {
        TimeOfDay {
            hour,
            minute,
            second: 0,
            meridiem: None,
            weak: false,
            iso: false,
            midnight: false,
            impossible: None,
        }
    }
    /// Seconds after midnight, for ordering.
    pub(super) fn key(&self) -> u32 {
        self.hour * 3600 + self.minute * 60 + self.second
    }
}

/// A zone as read from the text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum ZoneValue {
    Fixed(i32),
    Named(Tz),
    /// An abbreviation with several meanings (index into [`AMBIGUOUS`]) the text does not
    /// settle: reported, its times read in the default zone, the caller takes no window.
    Ambiguous(u8),
    /// An abbreviation we do not know: reported as a doubt, no window is built from it.
    Unknown,
}

/// Adjacent date, time and zone elements merged (`Mon 14.12.2026 09:00 CET`): one end of a
/// window, or a day, or a time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Point {
    pub(super) date: Option<CalendarDate>,
    pub(super) ambiguous: bool,
    pub(super) weekday: Option<u32>,
    pub(super) time: Option<TimeOfDay>,
    pub(super) zone: Option<ZoneValue>,
    pub(super) pos: usize,
    /// The point's date or time is impossible (`31.04.2027`, `25:00`): index into the
    /// list of impossible values. No window is built from it; it becomes `window_invalid`.
    pub(super) impossible: Option<u32>,
    /// The impossible part is the date (the point still stands for a day).
    pub(super) impossible_day: bool,
}

impl Point {
    pub(super) fn has_day(&self) -> bool {
        self.date.is_some() || self.weekday.is_some() || self.ambiguous || self.impossible_day
    }
}

/// What an element is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum ElementKind {
    Date(CalendarDate),
    /// A numeric date whose day/month order could go both ways.
    AmbiguousDate,
    /// Written like a date, but no such day exists: index into the list of impossible values.
    ImpossibleDate(u32),
    /// A weekday written without a date (0 = Monday).
    Weekday(u32),
    Time(TimeOfDay),
    Point(Point),
    Num(u32),
    Zone(ZoneValue),
    /// A range connector: `to`, `bis`, `-`.
    Connector,
    And,
    Comma,
    From,
    Between,
    Daily,
    Next,
    /// `true` for a label at the start of a line (`Start:`, `Ende:`).
    Start(bool),
    End(bool),
    /// Words and marks that neither join nor separate (`the`, `of`, brackets, tabs).
    Filler,
    Colon,
    On,
    /// Words that make a sentence speak of the test (`test`, `window`, `Zeitraum`).
    Context,
    /// Words after which a date is not one of the test (`contract`, `since`, `received`).
    Negation,
    TzHint,
    Times,
    Other,
    Break,
    Line,
    Para,
}

/// One element of the text and the byte where it starts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Element {
    pub(super) kind: ElementKind,
    pub(super) pos: usize,
}

/// Reads the elements of one text from its tokens.
pub(super) struct Matcher<'a> {
    pub(super) tokens: &'a [Token],
    pub(super) text: &'a str,
    pub(super) ref_date: NaiveDate,
    pub(super) findings: DateFindings,
    pub(super) hints: ZoneHints,
    /// Impossible dates and times, as written, with why.
    pub(super) impossibles: Vec<Impossible>,
    /// The current sentence says `time zone` or `all times` before this point.
    pub(super) seg_tz_hint: bool,
}

/// A date or time that cannot be: what was written and why it is impossible.
#[derive(Debug, Clone)]
pub(super) struct Impossible {
    pub(super) written: String,
    pub(super) why: String,
    /// A time, not a date.
    pub(super) time: bool,
}

impl<'a> Matcher<'a> {
    /// A matcher over the tokens of `text`; `ref_date` anchors dates without a year.
    pub(super) fn new(
        toks: &'a [Token],
        text: &'a str,
        ref_date: NaiveDate,
        hints: ZoneHints,
    ) -> Self {
        Matcher {
            tokens: toks,
            text,
            ref_date,
            findings: DateFindings::default(),
            hints,
            impossibles: Vec::new(),
            seg_tz_hint: false,
        }
    }
}

impl Matcher<'_> {
    /// The kind of token `i`.
    pub(super) fn kind(&self, i: usize) -> Option<TokenKind> {
        self.tokens.get(i).map(|t| t.kind)
    }
    /// The number at `i`: its value and digit count.
    pub(super) fn num(&self, i: usize) -> Option<(u32, u8)> {
        match self.kind(i) {
            Some(TokenKind::Num {
                value: v,
                digits: n,
            }) => Some((v, n)),
            _ => None,
        }
    }
    /// The number at `i` if it touches the token before it.
    pub(super) fn adjacent_num(&self, i: usize) -> Option<(u32, u8)> {
        if self.adjacent(i) { self.num(i) } else { None }
    }
    /// Whether token `i` is the punctuation `c`.
    pub(super) fn punct(&self, i: usize, c: u8) -> bool {
        self.kind(i) == Some(TokenKind::Punct(c))
    }
    /// Whether token `i` is the punctuation `c` touching the token before it.
    pub(super) fn adjacent_punct(&self, i: usize, c: u8) -> bool {
        self.punct(i, c) && self.adjacent(i)
    }
    /// Whether token `i` touches the token before it (no whitespace between).
    pub(super) fn adjacent(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(|t| !t.spaced)
    }
    /// The keyword of the word at `i` (`Keyword::None` for anything else).
    pub(super) fn keyword(&self, i: usize) -> Keyword {
        match self.kind(i) {
            Some(TokenKind::Word { keyword: kw, .. }) => kw,
            _ => Keyword::None,
        }
    }
    /// Whether token `i` is a word.
    pub(super) fn is_word(&self, i: usize) -> bool {
        matches!(self.kind(i), Some(TokenKind::Word { .. }))
    }
    /// Whether token `i` is a hyphen, dash or minus sign.
    fn is_dash(&self, i: usize) -> bool {
        matches!(
            self.kind(i),
            Some(TokenKind::Punct(b'-') | TokenKind::Dash | TokenKind::Minus)
        )
    }
    /// Whether token `i` joins a range: a dash or `to`/`bis`/`until`.
    pub(super) fn is_connector(&self, i: usize) -> bool {
        self.is_dash(i) || self.keyword(i) == Keyword::To
    }
    /// The keyword of the token before `i`.
    pub(super) fn prev_keyword(&self, i: usize) -> Keyword {
        i.checked_sub(1).map_or(Keyword::None, |j| self.keyword(j))
    }
    /// The number at `i` continues a dotted or slashed run (`1.2.3`, `10.12.2026.1`).
    pub(super) fn glued_before(&self, i: usize) -> bool {
        i >= 2
            && self.adjacent(i)
            && matches!(self.kind(i - 1), Some(TokenKind::Punct(b'.' | b'/' | b':')))
            && self.adjacent(i - 1)
            && self.num(i - 2).is_some()
    }
    pub(super) fn glued_after(&self, i: usize) -> bool {
        matches!(self.kind(i), Some(TokenKind::Punct(b'.' | b'/')))
            && self.adjacent(i)
            && self.adjacent_num(i + 1).is_some()
    }
    /// The text of tokens `a` up to (not including) `b_excl`.
    pub(super) fn span(&self, a: usize, b_excl: usize) -> String {
        let s = self.tokens.get(a).map_or(0, |t| t.start);
        let e = b_excl
            .checked_sub(1)
            .and_then(|k| self.tokens.get(k))
            .map_or(s, |t| t.end);
        self.text.get(s..e).unwrap_or("").to_string()
    }

    /// Remembers the first zone the customer wrote.
    fn note_zone(&mut self, z: ZoneValue) {
        if self.findings.zone.is_some() {
            return;
        }
        match z {
            ZoneValue::Fixed(off) => {
                self.findings.zone = FixedOffset::east_opt(off).map(Zone::Fixed)
            }
            ZoneValue::Named(tz) => self.findings.zone = Some(Zone::Named(tz)),
            ZoneValue::Ambiguous(_) | ZoneValue::Unknown => {}
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
    fn keep_impossible(&mut self, written: String, why: String, time: bool) -> u32 {
        if self.impossibles.len() >= MAX_BADS {
            // Beyond the cap the last entry stands for all: still no window from them.
            return u32::try_from(self.impossibles.len().saturating_sub(1)).unwrap_or(0);
        }
        self.impossibles.push(Impossible { written, why, time });
        u32::try_from(self.impossibles.len() - 1).unwrap_or(0)
    }

    /// A segment of elements is complete: an ambiguous zone in it counts where the segment
    /// speaks of times or tests (a time, a date, `time zone`, `all times`, `Test window
    /// (IST):` above the times), not in `Prices excl. GST.`
    fn close_segment(&mut self, seg: &[Element]) {
        let timely = seg.iter().any(|e| {
            matches!(
                e.kind,
                ElementKind::Time(_)
                    | ElementKind::Date(_)
                    | ElementKind::AmbiguousDate
                    | ElementKind::ImpossibleDate(_)
                    | ElementKind::TzHint
                    | ElementKind::Times
                    | ElementKind::Context
                    | ElementKind::Start(_)
                    | ElementKind::End(_)
            )
        });
        if !timely {
            return;
        }
        for e in seg {
            if let ElementKind::Zone(ZoneValue::Ambiguous(a)) = e.kind
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
            match self.keyword(k) {
                Keyword::DateWord
                | Keyword::TimeWord
                | Keyword::Of
                | Keyword::The
                | Keyword::Context => k += 1,
                _ => break,
            }
        }
        self.punct(k, b':')
            || matches!(
                self.kind(k),
                Some(TokenKind::Tab) | Some(TokenKind::LineBreak { .. }) | None
            )
    }

    pub(super) fn elements(&mut self) -> Vec<Element> {
        let mut out: Vec<Element> = Vec::with_capacity(self.tokens.len() / 2 + 4);
        let mut i = 0usize;
        let mut line_content = false;
        let mut seg_start = 0usize;
        while let Some(tok) = self.tokens.get(i).copied() {
            let pos = tok.start;
            // Most tokens are plain words: only a few kinds can start a date, time or zone.
            let (maybe_date, maybe_time, maybe_zone) = match tok.kind {
                TokenKind::Num { .. } => (true, true, false),
                TokenKind::Word { keyword: kw, .. } => match kw {
                    Keyword::Month(_) | Keyword::Weekday(..) => (true, false, false),
                    Keyword::Noon | Keyword::Midnight => (false, true, false),
                    Keyword::Utc
                    | Keyword::Z
                    | Keyword::Abbreviation(..)
                    | Keyword::AmbiguousZone(_)
                    | Keyword::RegionAbbr(_)
                    | Keyword::Region(_)
                    | Keyword::Place(_)
                    | Keyword::Swiss
                    | Keyword::Local
                    | Keyword::TimeWord
                    | Keyword::Central => (false, false, true),
                    _ => (false, false, self.adjacent_punct(i + 1, b'/')),
                },
                _ => (false, false, false),
            };
            // Dates, possibly two at once for day ranges.
            if maybe_date && let Some(hit) = self.parse_date(i) {
                let a = self.resolve(&hit.first, hit.weekday);
                let b = hit.second.as_ref().map(|b| self.resolve(b, None));
                if a.is_some() && b.is_none_or(|b| b.is_some()) {
                    let push = |r: Option<Option<CalendarDate>>,
                                this: &mut Self,
                                out: &mut Vec<Element>| match r {
                        Some(Some(d)) => out.push(Element {
                            kind: ElementKind::Date(d),
                            pos,
                        }),
                        _ => {
                            let s = this.span(i, hit.next);
                            let amb = &mut this.findings.ambiguous_dates;
                            if amb.len() < MAX_NOTES && !amb.contains(&s) {
                                amb.push(s);
                            }
                            out.push(Element {
                                kind: ElementKind::AmbiguousDate,
                                pos,
                            });
                        }
                    };
                    push(a, self, &mut out);
                    if let Some(b) = b {
                        out.push(Element {
                            kind: ElementKind::Connector,
                            pos,
                        });
                        push(b, self, &mut out);
                    }
                    line_content = true;
                    i = hit.next;
                    continue;
                }
                // Written as a date, but no such day: kept, so it is reported rather than
                // lost (or, worse, replaced by a neighbouring date).
                let why = self
                    .impossible(&hit.first)
                    .or_else(|| hit.second.as_ref().and_then(|b| self.impossible(b)));
                if let Some(why) = why {
                    let ix = self.keep_impossible(self.span(i, hit.next), why, false);
                    out.push(Element {
                        kind: ElementKind::ImpossibleDate(ix),
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
                    && let Some((why, k)) = self.impossible_time(i)
                {
                    let ix = self.keep_impossible(self.span(i, k), why.to_string(), true);
                    let mut t = TimeOfDay::new(0, 0);
                    t.impossible = Some(ix);
                    time = Some((t, k));
                }
                if let Some((t, k)) = time {
                    out.push(Element {
                        kind: ElementKind::Time(t),
                        pos,
                    });
                    line_content = true;
                    i = k;
                    if let Some((z, k2)) = self.parse_zone(i, Some(t.iso)) {
                        self.note_zone(z);
                        out.push(Element {
                            kind: ElementKind::Zone(z),
                            pos: self.tokens.get(i).map_or(pos, |t| t.start),
                        });
                        i = self.settled_after(k2, z).unwrap_or(k2);
                    } else if let Some((name, k2)) = self.unknown_zone(i) {
                        // Never read silently in our own zone.
                        self.doubt(format!(
                            "The time zone \"{name}\" is not one we can read safely; no window is taken from times in it."
                        ));
                        out.push(Element {
                            kind: ElementKind::Zone(ZoneValue::Unknown),
                            pos: self.tokens.get(i).map_or(pos, |t| t.start),
                        });
                        i = k2;
                    }
                    continue;
                }
            }
            if maybe_zone && let Some((z, k)) = self.parse_zone(i, None) {
                self.note_zone(z);
                out.push(Element {
                    kind: ElementKind::Zone(z),
                    pos,
                });
                line_content = true;
                i = k;
                continue;
            }
            let el = match tok.kind {
                TokenKind::Num {
                    value: v,
                    digits: n,
                } => {
                    line_content = true;
                    if n <= 2 && v <= 24 && !self.glued_before(i) && !self.glued_after(i + 1) {
                        ElementKind::Num(v)
                    } else {
                        ElementKind::Other
                    }
                }
                TokenKind::Word { keyword: kw, .. } => {
                    let first = !line_content;
                    line_content = true;
                    match kw {
                        Keyword::Weekday(_, false) if self.prev_keyword(i) == Keyword::Holiday => {
                            ElementKind::Other
                        }
                        Keyword::Weekday(w, false) => ElementKind::Weekday(w),
                        Keyword::To => {
                            if first && self.label_follows(i) {
                                ElementKind::End(true)
                            } else {
                                ElementKind::Connector
                            }
                        }
                        Keyword::And => ElementKind::And,
                        Keyword::From | Keyword::Vom => {
                            if first && self.label_follows(i) {
                                ElementKind::Start(true)
                            } else {
                                ElementKind::From
                            }
                        }
                        Keyword::Between => ElementKind::Between,
                        Keyword::Start => ElementKind::Start(first && self.label_follows(i)),
                        Keyword::End => ElementKind::End(first && self.label_follows(i)),
                        Keyword::Daily => ElementKind::Daily,
                        Keyword::Next => ElementKind::Next,
                        Keyword::On | Keyword::Am => ElementKind::On,
                        Keyword::The | Keyword::Of | Keyword::T => ElementKind::Filler,
                        Keyword::Context | Keyword::DateWord | Keyword::TimeWord => {
                            ElementKind::Context
                        }
                        Keyword::Times => ElementKind::Times,
                        Keyword::TzHint => ElementKind::TzHint,
                        Keyword::Negation => ElementKind::Negation,
                        _ => ElementKind::Other,
                    }
                }
                TokenKind::Punct(b',') => ElementKind::Comma,
                TokenKind::Punct(b':') => ElementKind::Colon,
                TokenKind::Punct(b'-') | TokenKind::Dash | TokenKind::Minus => {
                    ElementKind::Connector
                }
                TokenKind::Punct(b'&') => ElementKind::And,
                TokenKind::Punct(b'@') => ElementKind::On,
                TokenKind::Punct(b'.') => {
                    let next_sp = self.tokens.get(i + 1).is_none_or(|t| t.spaced);
                    if next_sp {
                        ElementKind::Break
                    } else {
                        ElementKind::Other
                    }
                }
                TokenKind::Punct(b'!' | b'?' | b';') => ElementKind::Break,
                TokenKind::Punct(b'(' | b')' | b'*' | b'"' | b'>' | b'[' | b']')
                | TokenKind::Tab => ElementKind::Filler,
                TokenKind::LineBreak { paragraph: para } => {
                    line_content = false;
                    if para {
                        ElementKind::Para
                    } else {
                        ElementKind::Line
                    }
                }
                TokenKind::Punct(_) => ElementKind::Other,
            };
            match el {
                ElementKind::TzHint | ElementKind::Times => self.seg_tz_hint = true,
                ElementKind::Break | ElementKind::Line | ElementKind::Para => {
                    self.seg_tz_hint = false;
                    self.close_segment(out.get(seg_start..).unwrap_or(&[]));
                    seg_start = out.len();
                }
                _ => {}
            }
            // Runs of plain words only matter as one blocker (or one hint of context).
            if !(matches!(el, ElementKind::Other | ElementKind::Context)
                && out.last().is_some_and(|l| {
                    std::mem::discriminant(&l.kind) == std::mem::discriminant(&el)
                }))
            {
                out.push(Element { kind: el, pos });
            }
            i += 1;
        }
        self.close_segment(out.get(seg_start..).unwrap_or(&[]));
        out
    }

    /// `UTC+05:30 (IST)`: an ambiguous abbreviation after an offset that is one of its
    /// meanings only repeats it. Returns the token after it.
    fn settled_after(&self, k: usize, z: ZoneValue) -> Option<usize> {
        let ZoneValue::Fixed(off) = z else {
            return None;
        };
        let paren = self.punct(k, b'(');
        let j = if paren || self.punct(k, b'/') {
            k + 1
        } else {
            k
        };
        let Some(TokenKind::Word {
            keyword: Keyword::AmbiguousZone(a),
            upper: true,
        }) = self.kind(j)
        else {
            return None;
        };
        let (_, meanings) = AMBIGUOUS.get(usize::from(a))?;
        if !meanings.iter().any(|(o, _)| *o == off) {
            return None;
        }
        Some(if paren && self.punct(j + 1, b')') {
            j + 2
        } else {
            j + 1
        })
    }

    /// `9.00` counts as a time next to dates, connectors and time words, not as `1.50 Gbit/s`.
    fn weak_time_ok(&self, out: &[Element], k: usize) -> bool {
        let prev = out
            .iter()
            .rev()
            .find(|e| !matches!(e.kind, ElementKind::Filler | ElementKind::Colon))
            .map(|e| e.kind);
        if matches!(
            prev,
            Some(
                ElementKind::Date(_)
                    | ElementKind::Connector
                    | ElementKind::From
                    | ElementKind::Between
                    | ElementKind::On
                    | ElementKind::Start(_)
                    | ElementKind::End(_)
            )
        ) {
            return true;
        }
        self.is_connector(k) && self.num(k + 1).is_some()
    }
}
