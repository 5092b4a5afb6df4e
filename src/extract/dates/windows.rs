//! Pass 3, the interpreter: walks the points sentence by sentence (and line by line) and
//! builds windows: ranges, day ranges with daily hours, lists of days, labelled start/end
//! lines, single days.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

use crate::model::{Problem, ProblemCode, Window, Zone};

use super::elements::{Element, ElementKind, Impossible, Meridiem, Point, TimeOfDay, ZoneValue};
use super::{DateContext, MAX_NOTES, MAX_WINDOWS, activity_before};

mod segment;

#[derive(Clone, Copy, Debug)]
struct Carry {
    date: NaiveDate,
    out_idx: Option<usize>,
    line: usize,
}

#[derive(Default)]
pub(super) struct Pending {
    start: Option<Point>,
    end: Option<Point>,
    carry: Option<NaiveDate>,
    seg_zone: Option<ZoneValue>,
}

pub(super) struct Interpreter<'a> {
    ctx: &'a DateContext,
    ref_date: NaiveDate,
    global: Option<ZoneValue>,
    /// Windows by text position; `true` for a lone day opened by `from`/`starting` with no
    /// end (`passive scanning from 1 Feb`).
    out: Vec<(usize, Option<Window>, bool)>,
    /// Distinct windows emitted so far; beyond [`MAX_WINDOWS`] no new one is built.
    distinct: std::collections::HashSet<Window>,
    overflow: bool,
    /// Impossible dates and times found by the matcher.
    impossibles: &'a [Impossible],
    /// Windows that cannot be taken as written, for people.
    invalid: Vec<String>,
    /// See [`DateFindings::lone`].
    lone: Vec<(DateTime<Utc>, String)>,
    /// See [`Work::steps`].
    pub(super) steps: usize,
    carry: Option<Carry>,
    pend: Pending,
    heading_ctx: bool,
    table_header: bool,
    line_no: usize,
    /// Byte ranges of quoted mail headers (`From:`/`Subject:` blocks of a forward).
    headers: Vec<(usize, usize)>,
}

impl<'a> Interpreter<'a> {
    /// An interpreter for one text: `impossibles` are the impossible dates and times the matcher
    /// found, `headers` the byte ranges of quoted mail headers.
    pub(super) fn new(
        ctx: &'a DateContext,
        ref_date: NaiveDate,
        impossibles: &'a [Impossible],
        headers: Vec<(usize, usize)>,
    ) -> Self {
        Interpreter {
            ctx,
            ref_date,
            global: None,
            out: Vec::new(),
            distinct: std::collections::HashSet::new(),
            overflow: false,
            impossibles,
            invalid: Vec::new(),
            lone: Vec::new(),
            steps: 0,
            carry: None,
            pend: Pending::default(),
            heading_ctx: false,
            table_header: false,
            line_no: 0,
            headers,
        }
    }
}

/// Whether an element can be one end of a range: a point or a bare number.
fn is_range_end(i: &ElementKind) -> bool {
    matches!(i, ElementKind::Point(_) | ElementKind::Num(_))
}

/// A bare number next to a time becomes a time: `von 9 bis 17 Uhr`, `9 to 5pm`, `1-3pm`.
fn num_time(v: u32, partner: &TimeOfDay) -> Option<TimeOfDay> {
    if v > 24 {
        return None;
    }
    let mut t = TimeOfDay::new(v, 0);
    if partner.meridiem == Some(Meridiem::Pm) && v < 12 && v + 12 <= partner.hour {
        t.hour = v + 12;
    }
    Some(t)
}

impl Interpreter<'_> {
    pub(super) fn run(&mut self, items: &[Element]) {
        self.global = find_global_zone(items);
        let mut start = 0;
        let mut sum = Summary::default();
        for (k, el) in items.iter().enumerate() {
            if matches!(
                el.kind,
                ElementKind::Break | ElementKind::Line | ElementKind::Para
            ) {
                self.segment(items.get(start..k).unwrap_or(&[]), &sum);
                sum = Summary::default();
                start = k + 1;
                if matches!(el.kind, ElementKind::Line | ElementKind::Para) {
                    self.line_no += 1;
                }
            } else {
                sum.add(&el.kind);
            }
        }
        self.segment(items.get(start..).unwrap_or(&[]), &sum);
        self.flush();
    }

    /// The windows in text order without duplicates, the invalid ones, and the doubts.
    #[allow(clippy::type_complexity)]
    pub(super) fn finish(
        mut self,
    ) -> (
        Vec<Window>,
        Vec<String>,
        Vec<(DateTime<Utc>, String)>,
        Vec<Problem>,
    ) {
        self.out.sort_by_key(|(p, ..)| *p);
        let mut doubts = Vec::new();
        // An open-ended start before the test proper (`passive scanning from 1 Feb, test on
        // 1 March`): its day is kept as a window, so the notice counts from it, and a person
        // looks at what really runs when.
        let tz = self.ctx.default_tz;
        let day = |w: &Window| w.start.with_timezone(&tz).date_naive();
        let first_fixed = self
            .out
            .iter()
            .filter(|(_, w, open)| !open && w.is_some())
            .filter_map(|(_, w, _)| w.as_ref().map(day))
            .min();
        if let Some(first) = first_fixed {
            for (_, w, open) in &self.out {
                if let (true, Some(w)) = (*open, w)
                    && day(w) < first
                    && doubts.len() < MAX_NOTES
                {
                    let p = activity_before(day(w));
                    if !doubts.contains(&p) {
                        doubts.push(p);
                    }
                }
            }
        }
        if self.overflow {
            doubts.push(Problem::new(
                ProblemCode::ImplausibleValue,
                format!(
                    "The text gives more than {MAX_WINDOWS} test windows; only the first were read."
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let ws = self
            .out
            .into_iter()
            .filter_map(|(_, w, _)| w)
            .filter(|w| seen.insert(*w))
            .collect();
        (ws, self.invalid, self.lone, doubts)
    }

    fn emit(&mut self, pos: usize, w: Option<Window>) -> Option<usize> {
        self.emit_open(pos, w, false)
    }

    fn emit_open(&mut self, pos: usize, w: Option<Window>, open: bool) -> Option<usize> {
        self.steps += 1;
        let w = w?;
        // Repeats cost nothing; distinct windows beyond the cap are not built.
        if !self.distinct.contains(&w) {
            if self.distinct.len() >= MAX_WINDOWS {
                self.overflow = true;
                return None;
            }
            self.distinct.insert(w);
        }
        self.out.push((pos, Some(w), open));
        Some(self.out.len() - 1)
    }

    /// Records `msg` as an invalid window, once, up to [`MAX_NOTES`].
    fn invalid(&mut self, msg: String) {
        if self.invalid.len() < MAX_NOTES && !self.invalid.contains(&msg) {
            self.invalid.push(msg);
        }
    }

    /// If `p` holds an impossible date or time, records it (as the `role` of a window) and
    /// says so: no window is built from it.
    fn reject_impossible(&mut self, p: &Point, role: &str) -> bool {
        let Some(b) = p.impossible else { return false };
        if let Some(bad) = self.impossibles.get(b as usize) {
            let (w, why) = (&bad.written, &bad.why);
            let msg = match (bad.time, role.is_empty()) {
                (true, true) => format!("The time \"{w}\" is not a time of day: {why}."),
                (true, false) => format!("The {role} time \"{w}\" is not a time of day: {why}."),
                (false, true) => format!("\"{w}\" is not a date: {why}."),
                (false, false) => format!("The {role} \"{w}\" is not a date: {why}."),
            };
            self.invalid(msg);
        }
        true
    }

    /// Records a time without its partner as an invalid window, with its instant.
    fn lone_time(&mut self, d: NaiveDate, t: Option<TimeOfDay>, z: Option<ZoneValue>, msg: String) {
        if let Some(when) = self.instant(d, t, false, z)
            && self.lone.len() < MAX_NOTES
        {
            self.lone.push((when, msg.clone()));
        }
        self.invalid(msg);
    }

    /// `2027-01-14 09:00 CET`, for messages.
    fn describe(&self, d: NaiveDate, t: Option<TimeOfDay>, z: Option<ZoneValue>) -> String {
        let zone = match z {
            Some(ZoneValue::Fixed(off)) => FixedOffset::east_opt(off).map(Zone::Fixed),
            Some(ZoneValue::Named(tz)) => Some(Zone::Named(tz)),
            _ => Some(Zone::Named(self.ctx.default_tz)),
        };
        match (zone, self.instant(d, t, false, z)) {
            (Some(zone), Some(at)) => zone.format(at),
            _ => {
                let (h, m) = t.map_or((0, 0), |t| (t.hour, t.minute));
                format!("{d} {h:02}:{m:02}")
            }
        }
    }

    fn carry_date(&self) -> Option<NaiveDate> {
        self.carry
            .filter(|c| self.line_no.saturating_sub(c.line) <= 3)
            .map(|c| c.date)
    }

    /// Uses the remembered lone date for a time written on a later line; the lone day window
    /// it produced is replaced.
    fn claim_carry(&mut self) -> Option<NaiveDate> {
        let d = self.carry_date()?;
        if let Some(c) = self.carry.as_mut()
            && let Some(idx) = c.out_idx.take()
            && let Some(slot) = self.out.get_mut(idx)
        {
            slot.1 = None;
        }
        Some(d)
    }

    fn next_weekday(&self, w: u32) -> NaiveDate {
        let cur = self.ref_date.weekday().num_days_from_monday();
        let mut diff = (w + 7 - cur) % 7;
        if diff == 0 {
            diff = 7;
        }
        self.ref_date + Duration::days(i64::from(diff))
    }

    fn pt_date(&self, p: &Point) -> Option<NaiveDate> {
        p.date
            .map(|d| d.date)
            .or(p.weekday.map(|w| self.next_weekday(w)))
    }

    fn zone_of(
        &self,
        own: Option<ZoneValue>,
        partner: Option<ZoneValue>,
        seg: Option<ZoneValue>,
    ) -> Option<ZoneValue> {
        own.or(partner).or(seg).or(self.global)
    }

    fn instant(
        &self,
        d: NaiveDate,
        t: Option<TimeOfDay>,
        end: bool,
        z: Option<ZoneValue>,
    ) -> Option<DateTime<Utc>> {
        let (date, h, m, s) = match t {
            None if end => (d.succ_opt()?, 0, 0, 0),
            None => (d, 0, 0, 0),
            Some(t) if t.hour == 24 || (t.midnight && end) => (d.succ_opt()?, 0, 0, 0),
            Some(t) => (d, t.hour, t.minute, t.second),
        };
        let ndt = date.and_hms_opt(h, m, s)?;
        match z {
            Some(ZoneValue::Fixed(off)) => FixedOffset::east_opt(off)?
                .from_local_datetime(&ndt)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            Some(ZoneValue::Named(tz)) => local_to_utc(tz, ndt),
            Some(ZoneValue::Ambiguous(_) | ZoneValue::Unknown) | None => {
                local_to_utc(self.ctx.default_tz, ndt)
            }
        }
    }

    fn mk_range(
        &mut self,
        x: &Point,
        y: &Point,
        seg_zone: Option<ZoneValue>,
        src: Option<NaiveDate>,
    ) -> Option<Window> {
        if x.ambiguous || y.ambiguous {
            return None;
        }
        // Both ends are looked at, so each impossible one is reported.
        let bad_x = self.reject_impossible(x, "start");
        let bad_y = self.reject_impossible(y, "end");
        if bad_x || bad_y {
            return None;
        }
        let mut dx = self.pt_date(x);
        let mut dy = self.pt_date(y);
        if let (Some(a), Some(b)) = (x.date, y.date) {
            if !a.year_written && b.year_written {
                let mut d = NaiveDate::from_ymd_opt(b.date.year(), a.month, a.day);
                if d.is_some_and(|d| d > b.date) {
                    d = NaiveDate::from_ymd_opt(b.date.year() - 1, a.month, a.day);
                }
                dx = d.or(dx);
            } else if a.year_written && !b.year_written {
                let mut d = NaiveDate::from_ymd_opt(a.date.year(), b.month, b.day);
                if d.is_some_and(|d| d < a.date) {
                    d = NaiveDate::from_ymd_opt(a.date.year() + 1, b.month, b.day);
                }
                dy = d.or(dy);
            } else if !a.year_written && !b.year_written && b.date < a.date {
                dy = NaiveDate::from_ymd_opt(b.date.year() + 1, b.month, b.day).or(dy);
            }
        }
        let dx_own = dx.is_some();
        let dy_own = dy.is_some();
        let dx = dx.or(dy).or(src)?;
        let mut dy = dy.or(Some(dx))?;
        if !dy_own
            && dx_own
            && let (Some(tx), Some(ty)) = (x.time, y.time)
            && ty.key() < tx.key()
            && !ty.midnight
        {
            dy = dy.succ_opt()?;
        }
        let zx = self.zone_of(x.zone, y.zone, seg_zone);
        let zy = self.zone_of(y.zone, x.zone, seg_zone);
        // A zone we could not read gives no window (the matcher raised a doubt).
        if zx == Some(ZoneValue::Unknown) || zy == Some(ZoneValue::Unknown) {
            return None;
        }
        // `on 14.01. until 17:00`: a day, then only an end time; when it starts is not said.
        if x.time.is_none() && x.has_day() && !y.has_day() && y.time.is_some() {
            let at = self.describe(dy, y.time, zy);
            self.lone_time(
                dy,
                y.time,
                zy,
                format!("The window ending {at} has no start time."),
            );
            return None;
        }
        Some(Window {
            start: self.instant(dx, x.time, false, zx)?,
            end: self.instant(dy, y.time, true, zy)?,
        })
    }

    /// A point on its own: a date without a time is that whole day in its zone; a time
    /// without its partner (`from 09:00` with no end, `until 17:00` with no start) is not a
    /// window but an invalid one.
    fn mk_lone(
        &mut self,
        p: &Point,
        end_role: bool,
        date: NaiveDate,
        seg_zone: Option<ZoneValue>,
    ) -> Option<Window> {
        if self.reject_impossible(p, "") {
            return None;
        }
        let z = self.zone_of(p.zone, None, seg_zone);
        if z == Some(ZoneValue::Unknown) {
            return None;
        }
        if let Some(t) = p.time {
            let at = self.describe(date, Some(t), z);
            let msg = if end_role {
                format!("The window ending {at} has no start time.")
            } else {
                format!("The window starting {at} has no end time.")
            };
            self.lone_time(date, Some(t), z, msg);
            return None;
        }
        Some(Window {
            start: self.instant(date, None, false, z)?,
            end: self.instant(date, None, true, z)?,
        })
    }

    fn daily(
        &mut self,
        pos: usize,
        days: (NaiveDate, NaiveDate),
        x: &Point,
        y: &Point,
        seg_zone: Option<ZoneValue>,
    ) {
        let (first, last) = days;
        let n = (last - first).num_days();
        if !(0..=31).contains(&n) {
            let a = Point {
                date: None,
                weekday: None,
                ..*x
            };
            let b = Point {
                date: None,
                weekday: None,
                ..*y
            };
            let w = self
                .mk_range(&a, &b, seg_zone, Some(first))
                .map(|w| Window {
                    start: w.start,
                    end: w.end + (last - first),
                });
            self.emit(pos, w);
            return;
        }
        let mut d = first;
        while d <= last && !self.overflow {
            let a = Point {
                date: None,
                weekday: None,
                ..*x
            };
            let b = Point {
                date: None,
                weekday: None,
                ..*y
            };
            let w = self.mk_range(&a, &b, seg_zone, Some(d));
            self.emit(pos, w);
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
    }

    fn span_days(
        &mut self,
        a: &Point,
        b: &Point,
        seg_zone: Option<ZoneValue>,
    ) -> Option<(NaiveDate, NaiveDate)> {
        // Reuse the year logic of ranges on two all-day points.
        let w = self.mk_range(
            &Point {
                time: None,
                zone: Some(ZoneValue::Fixed(0)),
                ..*a
            },
            &Point {
                time: None,
                zone: Some(ZoneValue::Fixed(0)),
                ..*b
            },
            seg_zone,
            None,
        )?;
        let first = w.start.date_naive();
        let last = w.end.date_naive().pred_opt()?;
        Some((first, last))
    }

    fn after_segment(&mut self, seg: &[Element], sum: &Summary) {
        if sum.points == 0 && !seg.is_empty() {
            self.heading_ctx = sum.has_ctx && sum.ends_colon;
            self.table_header = sum.starts && sum.ends && sum.fills >= 1;
        }
    }

    fn feed(&mut self, end_role: bool, pt: Point, seg_zone: Option<ZoneValue>) {
        let conflict = |s: &Option<Point>| {
            s.is_some_and(|s| {
                (s.has_day() && pt.has_day()) || (s.time.is_some() && pt.time.is_some())
            })
        };
        let c = if end_role {
            conflict(&self.pend.end)
        } else {
            conflict(&self.pend.start)
        };
        if c {
            self.flush();
        }
        if self.pend.start.is_none() && self.pend.end.is_none() {
            self.pend.carry = self.carry_date();
            self.pend.seg_zone = seg_zone;
        }
        let slot = if end_role {
            &mut self.pend.end
        } else {
            &mut self.pend.start
        };
        match slot {
            None => *slot = Some(pt),
            Some(s) => {
                if s.date.is_none() && !s.ambiguous {
                    s.date = pt.date;
                    s.ambiguous = pt.ambiguous;
                }
                if s.weekday.is_none() {
                    s.weekday = pt.weekday;
                }
                if s.time.is_none() {
                    s.time = pt.time;
                }
                if s.zone.is_none() {
                    s.zone = pt.zone;
                }
            }
        }
    }

    fn flush(&mut self) {
        let pend = std::mem::take(&mut self.pend);
        let z = pend.seg_zone;
        match (pend.start, pend.end) {
            (Some(s), Some(e)) => {
                let src = if s.has_day() || e.has_day() {
                    None
                } else {
                    match pend.carry {
                        Some(_) => self.claim_carry().or(pend.carry),
                        // `Start: 09:00 / End: 17:00 / Date: 14.12.2026`: the day came after.
                        None => self.claim_carry(),
                    }
                };
                let w = self.mk_range(&s, &e, None, src);
                let _ = z;
                self.emit(s.pos, w);
            }
            (Some(p), None) | (None, Some(p)) => {
                let end_role = pend.start.is_none();
                if p.ambiguous || self.reject_impossible(&p, if end_role { "end" } else { "start" })
                {
                    return;
                }
                let d = match self.pt_date(&p) {
                    Some(d) => Some(d),
                    None => match pend.carry {
                        Some(_) => self.claim_carry().or(pend.carry),
                        // `Start: 09:00 / End: 17:00 / Date: 14.12.2026`: the day came after.
                        None => self.claim_carry(),
                    },
                };
                if let Some(d) = d {
                    let w = self.mk_lone(&p, end_role, d, None);
                    self.emit(p.pos, w);
                }
            }
            (None, None) => {}
        }
    }
}

/// What a segment holds, gathered while it is scanned for its end.
#[derive(Default)]
struct Summary {
    points: usize,
    has_ctx: bool,
    /// `Some(false)` for a start label, `Some(true)` for an end label.
    label: Option<bool>,
    zone: Option<ZoneValue>,
    ends_colon: bool,
    starts: bool,
    ends: bool,
    fills: usize,
}

impl Summary {
    fn add(&mut self, i: &ElementKind) {
        match i {
            ElementKind::Point(p) => {
                self.points += 1;
                self.zone = self.zone.or(p.zone);
            }
            ElementKind::Zone(z) => self.zone = self.zone.or(Some(*z)),
            ElementKind::Context
            | ElementKind::Daily
            | ElementKind::Between
            | ElementKind::Times => self.has_ctx = true,
            ElementKind::Start(l) => {
                self.has_ctx = true;
                self.starts = true;
                if *l && self.label.is_none() {
                    self.label = Some(false);
                }
            }
            ElementKind::End(l) => {
                self.has_ctx = true;
                self.ends = true;
                if *l && self.label.is_none() {
                    self.label = Some(true);
                }
            }
            ElementKind::From => self.starts = true,
            ElementKind::Connector => self.ends = true,
            ElementKind::Filler => self.fills += 1,
            _ => {}
        }
        if !matches!(i, ElementKind::Filler) {
            self.ends_colon = matches!(i, ElementKind::Colon);
        }
    }
}

/// Byte ranges of mail header blocks left in the text by forwards: runs of `Name: value` lines
/// with a `Subject:`/`Betreff:` line and a `From:`/`Von:` line.
pub(super) fn header_blocks(text: &str) -> Vec<(usize, usize)> {
    const NAMES: [&str; 12] = [
        "from", "von", "sent", "gesendet", "date", "datum", "to", "an", "cc", "subject", "betreff",
        "reply-to",
    ];
    let mut out = Vec::new();
    let mut block: Option<(usize, bool, bool)> = None;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_start_matches(['>', ' ', '*']);
        let name = trimmed
            .split_once(':')
            .map(|(n, _)| n.trim().to_ascii_lowercase())
            .filter(|n| NAMES.contains(&n.as_str()));
        match (name, block.as_mut()) {
            (Some(n), Some(b)) => {
                b.1 |= n == "subject" || n == "betreff";
                b.2 |= n == "from" || n == "von";
            }
            (Some(n), None) => {
                block = Some((
                    start,
                    n == "subject" || n == "betreff",
                    n == "from" || n == "von",
                ));
            }
            (None, _) => {
                if let Some((a, subj, from)) = block.take()
                    && subj
                    && from
                {
                    out.push((a, start));
                }
            }
        }
    }
    if let Some((a, true, true)) = block {
        out.push((a, pos));
    }
    out
}

fn find_global_zone(items: &[Element]) -> Option<ZoneValue> {
    let mut hint = false;
    let mut zone: Option<ZoneValue> = None;
    let mut pts = false;
    for el in items {
        match el.kind {
            ElementKind::TzHint | ElementKind::Times => hint = true,
            ElementKind::Zone(z) => zone = zone.or(Some(z)),
            ElementKind::Point(p) => {
                pts = true;
                zone = zone.or(p.zone);
            }
            ElementKind::Break | ElementKind::Line | ElementKind::Para => {
                if hint
                    && !pts
                    && let Some(z) = zone
                {
                    return Some(z);
                }
                hint = false;
                zone = None;
                pts = false;
            }
            _ => {}
        }
    }
    if hint && !pts { zone } else { None }
}

/// Local time in `tz` to UTC: a time in the spring-forward gap moves to the first valid
/// instant after it, a repeated time in the fall-back hour takes the earlier instant.
pub(super) fn local_to_utc(tz: Tz, ndt: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&ndt) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // Summer-time gaps are an hour or two (minute steps); a skipped day (Samoa 2011)
            // is found in half-hour steps, so the search stays short.
            let mut t = ndt.date().and_hms_opt(ndt.hour(), ndt.minute(), 0)?;
            for step in 0..(180 + 48) {
                t += Duration::minutes(if step < 180 { 1 } else { 30 });
                if let Some(x) = tz.from_local_datetime(&t).earliest() {
                    return Some(x.with_timezone(&Utc));
                }
            }
            None
        }
    }
}
