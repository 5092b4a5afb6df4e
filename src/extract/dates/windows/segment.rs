//! The rules that turn one segment (a sentence, or a line) into windows, applied in order:
//! first the pairs of points that make a range, then the label lines, then what the ranges
//! leave: time ranges on the days around them, day spans, lone times, lone days.

use chrono::NaiveDate;

use crate::extract::dates::MAX_WINDOWS;
use crate::extract::dates::elements::{Element, ElementKind, Point, ZoneValue};

use super::{Carry, Interpreter, Summary, is_range_end, num_time};

/// One segment as the rules see it.
struct Segment<'s> {
    els: &'s [Element],
    /// The zone written anywhere in the segment.
    zone: Option<ZoneValue>,
    /// The segment (or the heading or label above it) speaks of a test.
    ctx_ok: bool,
    /// Indices of the elements that carry meaning (no fillers or colons).
    sig: Vec<usize>,
    /// Elements already taken as the end of a range.
    used: Vec<bool>,
    /// Index pairs of the elements read as the two ends of a range.
    ranges: Vec<(usize, usize)>,
    /// Per element (and one past the end): a negation since the last comma before it.
    neg_at: Vec<bool>,
    /// Per element (and one past the end): the nearest word before it giving a role,
    /// `Some(true)` for an end.
    role_at: Vec<Option<bool>>,
    /// The segment holds a date (not only weekdays).
    real_dates: bool,
    /// The segment holds an ambiguous date: no remembered date is used for its times.
    poison: bool,
}

/// A time range, with its position.
type TimeRange = (usize, Point, Point);
/// A range of days without times, with its position and whether a time range used it.
type DaySpan = (usize, Point, Point, bool);

/// What the ranges of a segment leave for the later rules.
#[derive(Default)]
struct RangesRead {
    /// Ranges of times only (`09:00-17:00`).
    time_ranges: Vec<TimeRange>,
    /// Ranges of days only (`14-18 Dec`).
    day_spans: Vec<DaySpan>,
    /// The day of the last range that had one.
    last_date: Option<NaiveDate>,
}

/// The points of a segment in no range.
struct FreePoints {
    /// Element index and point.
    points: Vec<(usize, Point)>,
    /// Taken by a rule.
    consumed: Vec<bool>,
    /// Indices into `points` of the days without a time, in order (the same for every time
    /// range).
    days: Vec<usize>,
}

impl<'s> Segment<'s> {
    fn new(els: &'s [Element], zone: Option<ZoneValue>, ctx_ok: bool) -> Self {
        let sig: Vec<usize> = (0..els.len())
            .filter(|&k| {
                !matches!(
                    els.get(k).map(|e| e.kind),
                    Some(ElementKind::Filler | ElementKind::Colon)
                )
            })
            .collect();
        // What lies before each element, computed once so that no point rescans the
        // segment: a negation since the last comma, and the nearest word giving a role.
        let mut neg_at = Vec::with_capacity(els.len() + 1);
        let mut role_at: Vec<Option<bool>> = Vec::with_capacity(els.len() + 1);
        let (mut neg, mut role) = (false, None);
        for e in els {
            neg_at.push(neg);
            role_at.push(role);
            match e.kind {
                ElementKind::Comma => neg = false,
                ElementKind::Negation => neg = true,
                ElementKind::End(_) | ElementKind::Connector => role = Some(true),
                ElementKind::Start(_) | ElementKind::From => role = Some(false),
                _ => {}
            }
        }
        neg_at.push(neg);
        role_at.push(role);
        let real_dates = els.iter().any(|e| {
            matches!(e.kind, ElementKind::Point(p) if p.date.is_some() || p.ambiguous || p.impossible_day)
        });
        let poison = els
            .iter()
            .any(|e| matches!(e.kind, ElementKind::Point(p) if p.ambiguous));
        Segment {
            els,
            zone,
            ctx_ok,
            sig,
            used: vec![false; els.len()],
            ranges: Vec::new(),
            neg_at,
            role_at,
            real_dates,
            poison,
        }
    }

    /// The kind of the `p`-th element that carries meaning.
    fn sig_kind(&self, p: usize) -> Option<ElementKind> {
        self.sig
            .get(p)
            .and_then(|&k| self.els.get(k))
            .map(|e| e.kind)
    }

    fn point_at(&self, k: usize) -> Option<Point> {
        match self.els.get(k).map(|e| e.kind) {
            Some(ElementKind::Point(p)) => Some(p),
            _ => None,
        }
    }

    fn neg_before(&self, k: usize) -> bool {
        self.neg_at.get(k).copied().unwrap_or(false)
    }

    /// Takes elements `a` and `b` as the two ends of a range.
    fn pair(&mut self, a: usize, b: usize) {
        self.ranges.push((a, b));
        for k in [a, b] {
            if let Some(u) = self.used.get_mut(k) {
                *u = true;
            }
        }
    }

    /// `between X and Y`, and two ends joined by a connector (`X - Y`, `X to Y`; not two
    /// bare numbers).
    fn between_and_connected_ends(&mut self) {
        let mut p = 0;
        while p < self.sig.len() {
            let (Some(cur), Some(&k)) = (self.sig_kind(p), self.sig.get(p)) else {
                break;
            };
            if matches!(cur, ElementKind::Between)
                && self.sig_kind(p + 1).as_ref().is_some_and(is_range_end)
                && matches!(self.sig_kind(p + 2), Some(ElementKind::And))
                && self.sig_kind(p + 3).as_ref().is_some_and(is_range_end)
                && let (Some(&a), Some(&b)) = (self.sig.get(p + 1), self.sig.get(p + 3))
            {
                self.pair(a, b);
                p += 4;
                continue;
            }
            if is_range_end(&cur)
                && matches!(self.sig_kind(p + 1), Some(ElementKind::Connector))
                && let Some(y) = self.sig_kind(p + 2)
                && is_range_end(&y)
                && !(matches!(cur, ElementKind::Num(_)) && matches!(y, ElementKind::Num(_)))
                && let Some(&b) = self.sig.get(p + 2)
            {
                self.pair(k, b);
                p += 3;
                continue;
            }
            p += 1;
        }
    }

    /// `starts at 09:00 and ends at 17:00`: a point after a start word and one after an end
    /// word.
    fn start_and_end_words(&mut self) {
        let mut st: Option<usize> = None;
        for p in 0..self.sig.len() {
            let role = match self.sig_kind(p) {
                Some(ElementKind::Start(_)) => false,
                Some(ElementKind::End(_)) => true,
                _ => continue,
            };
            let mut q = p + 1;
            while matches!(
                self.sig_kind(q),
                Some(
                    ElementKind::On | ElementKind::From | ElementKind::Context | ElementKind::Other
                )
            ) && q < p + 4
            {
                q += 1;
            }
            let Some(&k) = self.sig.get(q) else { continue };
            if !matches!(self.sig_kind(q), Some(ElementKind::Point(_)))
                || self.used.get(k).copied().unwrap_or(true)
            {
                continue;
            }
            if !role {
                st = Some(k);
            } else if let Some(s) = st.take() {
                self.pair(s, k);
            }
        }
    }

    /// A row of two points under a `Date | Start | End` header, where no other rule found a
    /// range.
    fn table_row_under_header(&mut self) {
        if !self.ranges.is_empty() {
            return;
        }
        let pts: Vec<usize> = (0..self.els.len())
            .filter(|&k| self.point_at(k).is_some())
            .collect();
        if let [a, b] = pts[..] {
            self.pair(a, b);
        }
    }
}

/// The two ends of range `(a, b)` as points: a bare number next to a time becomes a time
/// (`9 to 5pm`); `None` where they make no range.
fn range_ends(els: &[Element], a: usize, b: usize) -> Option<(Point, Point)> {
    let (ea, eb) = (els.get(a).map(|e| e.kind), els.get(b).map(|e| e.kind));
    match (ea, eb) {
        (Some(ElementKind::Point(x)), Some(ElementKind::Point(y))) => Some((x, y)),
        (Some(ElementKind::Num(v)), Some(ElementKind::Point(y))) => {
            let t = y.time.and_then(|t| num_time(v, &t))?;
            let x = Point {
                time: Some(t),
                pos: els.get(a).map_or(0, |e| e.pos),
                ..Point::default()
            };
            Some((x, y))
        }
        (Some(ElementKind::Point(x)), Some(ElementKind::Num(v))) => {
            let t = x.time.and_then(|t| num_time(v, &t))?;
            let y = Point {
                time: Some(t),
                pos: els.get(b).map_or(0, |e| e.pos),
                ..Point::default()
            };
            Some((x, y))
        }
        _ => None,
    }
}

/// A weekday with no date (`Monday`).
fn weekday_only(p: &Point) -> bool {
    p.weekday.is_some() && p.date.is_none() && !p.impossible_day
}

impl FreePoints {
    fn new(s: &Segment) -> Self {
        let points: Vec<(usize, Point)> = (0..s.els.len())
            .filter(|&k| !s.used.get(k).copied().unwrap_or(true))
            .filter_map(|k| s.point_at(k).map(|p| (k, p)))
            .filter(|(_, p)| {
                !(p.ambiguous || (p.weekday.is_some() && p.date.is_none() && s.real_dates))
            })
            .collect();
        let consumed = vec![false; points.len()];
        let days: Vec<usize> = (0..points.len())
            .filter(|&f| {
                points
                    .get(f)
                    .is_some_and(|(_, p)| p.time.is_none() && p.has_day())
            })
            .collect();
        FreePoints {
            points,
            consumed,
            days,
        }
    }

    fn consume(&mut self, f: usize) {
        if let Some(c) = self.consumed.get_mut(f) {
            *c = true;
        }
    }

    fn is_consumed(&self, f: usize) -> bool {
        self.consumed.get(f).copied().unwrap_or(true)
    }
}

impl Interpreter<'_> {
    /// Builds the windows of one segment (a sentence, or a line): the rules in order.
    pub(super) fn segment(&mut self, seg: &[Element], sum: &Summary) {
        if self.in_forwarded_header(seg) {
            return;
        }
        // Each linear pass below visits the segment a bounded number of times.
        self.steps += seg.len();
        if sum.points == 0 {
            self.after_segment(seg, sum);
            return;
        }
        let ctx_ok = sum.has_ctx || self.heading_ctx || sum.label.is_some();
        let mut s = Segment::new(seg, sum.zone, ctx_ok);
        s.between_and_connected_ends();
        s.start_and_end_words();
        if self.table_header {
            s.table_row_under_header();
        }
        if let Some(end_role) = sum.label
            && s.ranges.is_empty()
        {
            self.label_line_feeds_the_pair(&s, end_role);
            self.after_segment(seg, sum);
            return;
        }
        let mut read = self.full_ranges_now_the_rest_kept(&s);
        let mut free = FreePoints::new(&s);
        self.cap_time_ranges_times_days(&read, &free);
        self.time_ranges_on_their_days(&s, &mut read, &mut free);
        self.day_spans_as_whole_days(&read, s.zone);
        self.lone_times_take_the_day_of_the_sentence(&s, &mut free);
        self.lone_days(&s, &free);
        self.after_segment(seg, sum);
    }

    /// The `Date:` of a forwarded message is when it was sent, not a test window.
    fn in_forwarded_header(&self, seg: &[Element]) -> bool {
        seg.first().is_some_and(|first| {
            self.headers
                .iter()
                .any(|&(a, b)| first.pos >= a && first.pos < b)
        })
    }

    /// Label lines without a range of their own (`Start: 14.12.2026 09:00`) feed the
    /// start/end pair; a date without a time is remembered for times on later lines.
    fn label_line_feeds_the_pair(&mut self, s: &Segment, end_role: bool) {
        if let Some(k) = (0..s.els.len()).find(|&k| s.point_at(k).is_some())
            && let Some(mut pt) = s.point_at(k)
            && !s.neg_before(k)
        {
            pt.zone = pt.zone.or(s.zone);
            if pt.weekday.is_some() && s.real_dates && pt.date.is_none() {
                pt.weekday = None;
            }
            self.feed(end_role, pt, s.zone);
            if pt.time.is_none()
                && let Some(d) = pt.date
            {
                self.carry = Some(Carry {
                    date: d.date,
                    out_idx: None,
                    line: self.line_no,
                });
            } else if pt.impossible_day {
                self.carry = None;
            }
        }
    }

    /// Ranges with a day and a time at either end become windows now; ranges of times only
    /// and of days only are kept for the rules that pair them.
    fn full_ranges_now_the_rest_kept(&mut self, s: &Segment) -> RangesRead {
        let mut read = RangesRead::default();
        for &(a, b) in &s.ranges {
            if self.overflow {
                break;
            }
            let Some((x, y)) = range_ends(s.els, a, b) else {
                continue;
            };
            if x.ambiguous || y.ambiguous || s.neg_before(a) {
                continue;
            }
            if (weekday_only(&x) || weekday_only(&y)) && s.real_dates {
                continue;
            }
            if weekday_only(&x) && weekday_only(&y) {
                continue;
            }
            if !x.has_day() && !y.has_day() {
                read.time_ranges.push((x.pos, x, y));
            } else if x.time.is_none() && y.time.is_none() {
                read.day_spans.push((x.pos, x, y, false));
            } else {
                let w = self.mk_range(&x, &y, s.zone, None);
                read.last_date = self.pt_date(&x).or(self.pt_date(&y)).or(read.last_date);
                self.emit(x.pos, w);
            }
        }
        read
    }

    /// Every time range applies to every day span (or listed day): a sentence pairing more
    /// than the cap allows is no notification anyone writes, and pairing them all, even into
    /// repeats, would be quadratic work.
    fn cap_time_ranges_times_days(&mut self, read: &RangesRead, free: &FreePoints) {
        let days = read.day_spans.len().max(free.days.len());
        if read.time_ranges.len().saturating_mul(days) > MAX_WINDOWS {
            self.overflow = true;
        }
    }

    /// Each time range goes on the days around it, by the first rule that has days: every
    /// day of every day span, each listed day, the one free day, the day of the last full
    /// range, or a date remembered from an earlier line.
    fn time_ranges_on_their_days(
        &mut self,
        s: &Segment,
        read: &mut RangesRead,
        free: &mut FreePoints,
    ) {
        let RangesRead {
            time_ranges,
            day_spans,
            last_date,
        } = read;
        for &(pos, x, y) in time_ranges.iter() {
            if self.overflow {
                break;
            }
            if !day_spans.is_empty() {
                self.daily_on_each_day_span(&x, &y, day_spans, s.zone);
                continue;
            }
            if free.days.len() >= 2 {
                self.on_each_listed_day(&x, &y, free, s.zone);
                continue;
            }
            if let Some(&f) = free.days.first()
                && let Some((_, p)) = free.points.get(f).copied()
            {
                self.on_the_free_day(pos, &x, &y, (f, p), free, last_date, s.zone);
                continue;
            }
            if let Some(d) = *last_date {
                let w = self.mk_range(&x, &y, s.zone, Some(d));
                self.emit(pos, w);
                continue;
            }
            if !s.poison
                && !s.real_dates
                && let Some(d) = self.claim_carry()
            {
                let w = self.mk_range(&x, &y, s.zone, Some(d));
                self.emit(pos, w);
            }
        }
    }

    /// `14-18 Dec, 09:00-17:00`: the time range on every day of every day span.
    fn daily_on_each_day_span(
        &mut self,
        x: &Point,
        y: &Point,
        day_spans: &mut [DaySpan],
        zone: Option<ZoneValue>,
    ) {
        for k in 0..day_spans.len() {
            self.steps += 1;
            if self.overflow {
                break;
            }
            let Some((_, a, b, _)) = day_spans.get(k).copied() else {
                continue;
            };
            if let Some(days) = self.span_days(&a, &b, zone) {
                self.daily(a.pos, days, x, y, zone);
            }
            if let Some(ds) = day_spans.get_mut(k) {
                ds.3 = true;
            }
        }
    }

    /// `14, 15 and 17 December, 09:00-17:00`: the time range on each listed day.
    fn on_each_listed_day(
        &mut self,
        x: &Point,
        y: &Point,
        free: &mut FreePoints,
        zone: Option<ZoneValue>,
    ) {
        for k in 0..free.days.len() {
            let Some(&f) = free.days.get(k) else { break };
            self.steps += 1;
            if self.overflow {
                break;
            }
            let Some((_, p)) = free.points.get(f).copied() else {
                continue;
            };
            if let Some(d) = self.pt_date(&p) {
                let w = self.mk_range(x, y, zone, Some(d));
                self.emit(p.pos, w);
            } else {
                // An impossible day in the list.
                self.reject_impossible(&p, "");
            }
            free.consume(f);
        }
    }

    /// `on 14.12.2026 from 09:00 to 17:00`: the time range on the one free day, which is
    /// then the last date.
    #[allow(clippy::too_many_arguments)]
    fn on_the_free_day(
        &mut self,
        pos: usize,
        x: &Point,
        y: &Point,
        (f, p): (usize, Point),
        free: &mut FreePoints,
        last_date: &mut Option<NaiveDate>,
        zone: Option<ZoneValue>,
    ) {
        if self.reject_impossible(&p, "") {
            free.consume(f);
            return;
        }
        let w = self.mk_range(x, y, zone, self.pt_date(&p));
        self.emit(p.pos.min(pos), w);
        free.consume(f);
        *last_date = self.pt_date(&p);
    }

    /// Day spans no time range used are whole days (`14-18 December`).
    fn day_spans_as_whole_days(&mut self, read: &RangesRead, zone: Option<ZoneValue>) {
        for &(pos, a, b, done) in &read.day_spans {
            if self.overflow {
                break;
            }
            if !done {
                let w = self.mk_range(&a, &b, zone, None);
                self.emit(pos, w);
            }
        }
    }

    /// Lone times take the day of the sentence: `on 14.12.2026, starting at 09:00`. The
    /// first unused day only moves forward, so it is found by a cursor, not a rescan.
    fn lone_times_take_the_day_of_the_sentence(&mut self, s: &Segment, free: &mut FreePoints) {
        let mut day_cursor = 0usize;
        for f in 0..free.points.len() {
            if self.overflow {
                break;
            }
            let Some((k, p)) = free.points.get(f).copied() else {
                continue;
            };
            if p.has_day() || free.is_consumed(f) {
                continue;
            }
            free.consume(f);
            if s.neg_before(k) || !s.ctx_ok {
                continue;
            }
            let end_role = s.role_at.get(k).copied().flatten().unwrap_or(false);
            while let Some(&g) = free.days.get(day_cursor)
                && free.is_consumed(g)
            {
                day_cursor += 1;
                self.steps += 1;
            }
            let day = free.days.get(day_cursor).copied();
            let date = match day {
                Some(g) => {
                    free.consume(g);
                    match free.points.get(g).map(|(_, q)| *q) {
                        Some(q) if self.reject_impossible(&q, "") => continue,
                        Some(q) => self.pt_date(&q),
                        None => None,
                    }
                }
                None if !s.poison && !s.real_dates => self.claim_carry(),
                None => None,
            };
            if let Some(d) = date {
                let w = self.mk_lone(&p, end_role, d, s.zone);
                self.emit(p.pos, w);
            } else if p.impossible.is_some() && !s.real_dates {
                // An impossible time with no day to go with is still reported.
                self.reject_impossible(&p, "");
            }
        }
    }

    /// Lone days and lone day-with-time points; a date without a time is remembered for
    /// times on later lines.
    fn lone_days(&mut self, s: &Segment, free: &FreePoints) {
        for f in 0..free.points.len() {
            if self.overflow {
                break;
            }
            let Some((k, p)) = free.points.get(f).copied() else {
                continue;
            };
            if free.is_consumed(f) || !p.has_day() {
                continue;
            }
            let ok = s.ctx_ok && !s.neg_before(k);
            if p.impossible_day {
                if ok {
                    self.reject_impossible(&p, "");
                }
                // Times on later lines must not take an older date instead.
                self.carry = None;
                continue;
            }
            let Some(d) = self.pt_date(&p) else { continue };
            let idx = if ok {
                // `from 1 Feb` with no end: the day counts, and is remembered as open.
                let open = p.time.is_none() && s.role_at.get(k).copied().flatten() == Some(false);
                let w = self.mk_lone(&p, false, d, s.zone);
                self.emit_open(p.pos, w, open)
            } else {
                None
            };
            if p.time.is_none() && p.date.is_some() && !s.neg_before(k) {
                self.carry = Some(Carry {
                    date: d,
                    out_idx: idx,
                    line: self.line_no,
                });
            }
        }
    }
}
