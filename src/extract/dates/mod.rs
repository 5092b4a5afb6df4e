//! Finds test windows in free text: dates, times, ranges and zones, in English and German.
//!
//! The text is read in three passes, each linear in its input:
//! 1. a hand-written tokenizer turns the text into numbers, words (classified once against a
//!    keyword table), punctuation and hard line breaks (soft-wrapped lines are joined);
//! 2. a pattern matcher turns tokens into elements: dates (incl. day ranges such as
//!    `14-18 Dec`), times, zones, connectors (`to`, `bis`, `-`), labels (`Start:`), breaks;
//!    adjacent date, time and zone elements are then merged into points;
//! 3. an interpreter walks the points sentence by sentence (and line by line) and builds
//!    windows: ranges, day ranges with daily hours, lists of days, labelled start/end lines,
//!    single days, with zone, year and weekday inference.
//!
//! Decisions on open points:
//! - A day range followed by a time range (`14-18 Dec, 09:00-17:00 daily`) gives one window per
//!   day (up to 31 days; longer spans give one window from the first start to the last end).
//! - A range whose end has no date of its own takes the start's date; if its end time is then
//!   before the start time (`22:00-02:00`), the end is on the next day.
//! - `midnight` as a range end means 24:00 of that day.
//! - A date without a time (`on 14 January`, `14.–15. Januar`) is the whole day(s) in its zone.
//! - A time without its partner (`on 14.12.2026 from 09:00`, `until 17:00`) is no window but an
//!   invalid one (`DateFindings::invalid`), and so is an impossible date or time (`31.04.2027`,
//!   29 February outside a leap year, month 13, `25:00`, `24:30`): it is reported as written,
//!   never rolled over and never replaced by a neighbouring date.
//! - A zone abbreviation with several meanings (`IST`, `CST`, `BST`, ...) is settled by an
//!   offset written next to it, or by exactly one of its places named in the message (`India`,
//!   `Dallas`, `Asia/Kolkata`, a `.uk` domain); otherwise it is reported and its times are read
//!   in the default zone (the caller takes no window from it). Abbreviations of one meaning
//!   come from a table of fixed offsets (summer forms are their own entries: `AEST` is +10 even
//!   in January). An unknown capitalised zone right after a time (`09:00 XYZT`, `Moscow time`)
//!   is a doubt and gives no window.
//! - A lone day opened by `from`/`starting`/`ab` before the other windows (`passive scanning
//!   from 1 Feb, test on 1 March`) is kept as a window, so the notice counts from it, and is a
//!   doubt for a person.
//! - A weekday that does not fit its date (`Monday, 15 December 2026`) makes the date ambiguous.
//! - Output is capped (windows, notes); every pass is linear in the text (see the tests).
//!
//! The files, in the order of the passes:
//! - `keywords.rs`: the keyword table every word is classified against;
//! - `zones.rs`: zone tables (abbreviations, ambiguous ones and the places that settle them,
//!   regions, cities) and [`ZoneHints`];
//! - `tokens.rs`: pass 1, the tokenizer;
//! - `elements.rs`: pass 2, tokens to elements, with the types it produces and the matcher;
//!   `date_forms.rs`, `time_forms.rs` and `zone_forms.rs` hold the matcher's readers of
//!   written dates, times and zones;
//! - `points.rs`: adjacent date, time and zone elements merged into points;
//! - `windows.rs`: pass 3, the interpreter that builds windows from the points, sentence by
//!   sentence; `windows/segment.rs` holds the rules it applies to one sentence, in order;
//! - `guards.rs`: doubts from wordings around the windows that the passes do not read;
//! - `tests.rs`: tests of the whole reader.

mod date_forms;
mod elements;
mod guards;
mod keywords;
mod points;
mod time_forms;
mod tokens;
mod windows;
mod zone_forms;
mod zones;

#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::model::{Problem, ProblemCode, Window, Zone};

use elements::{ElementKind, Matcher};
use guards::guard_doubts;
use points::build_points;
use tokens::tokenize;
use windows::{Interpreter, header_blocks};
pub use zones::ZoneHints;

/// What the date finder needs to know besides the text.
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    /// Zone for times written without one (config `timezone`).
    pub default_tz: Tz,
    /// Arrival of the message: anchors dates written without a year and weekday names.
    pub reference: DateTime<Utc>,
}

/// Windows and doubts found in a text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DateFindings {
    /// Every window, in order of first appearance, without duplicates. A window whose end is
    /// not after its start is kept as written (the rules reject it).
    pub windows: Vec<Window>,
    /// Snippets of text whose day/month order could go both ways (`03/04/2027`).
    pub ambiguous_dates: Vec<String>,
    /// Zone abbreviations with more than one meaning (`IST`), as written.
    pub ambiguous_zones: Vec<String>,
    /// The first zone the customer wrote explicitly, if any.
    pub zone: Option<Zone>,
    /// Windows that cannot be taken as written (no end time, impossible date), described
    /// for people; they become `window_invalid`.
    pub invalid: Vec<String>,
    /// Findings a person must look at (an unknown zone abbreviation, activity dated before
    /// the window, ...); they send the message to review.
    pub doubts: Vec<crate::model::Problem>,
    /// The instants of the `invalid` entries that are a time without its partner (start with
    /// no end or end with no start), so [`merge_outside`] can tell a paraphrase of a field
    /// window from activity outside it.
    lone: Vec<(DateTime<Utc>, String)>,
}

/// Finds every test window in `text`.
pub fn find_windows(text: &str, ctx: &DateContext) -> DateFindings {
    find_windows_hinted(text, ctx, ZoneHints::of(text))
}

/// Like [`find_windows`], with the places named elsewhere in the message (`hints`, from
/// [`ZoneHints::of`] over the whole text) settling ambiguous zone abbreviations in `text`.
pub fn find_windows_hinted(text: &str, ctx: &DateContext, hints: ZoneHints) -> DateFindings {
    read(text, ctx, hints).0
}

#[cfg_attr(not(test), allow(dead_code))]
/// How much was done for one text; the work of every pass is bounded by a small multiple
/// of its input, which the tests check on crafted input.
#[derive(Debug, Clone, Copy, Default)]
struct Work {
    tokens: usize,
    elements: usize,
    points: usize,
    /// Element visits and loop turns of the window pass.
    steps: usize,
}

fn read(text: &str, ctx: &DateContext, hints: ZoneHints) -> (DateFindings, Work) {
    let toks = tokenize(text);
    let ref_date = ctx.reference.with_timezone(&ctx.default_tz).date_naive();
    let mut m = Matcher::new(&toks, text, ref_date, hints);
    let els = m.elements();
    let items = build_points(&els);
    let mut interp = Interpreter::new(ctx, ref_date, &m.impossibles, header_blocks(text));
    interp.run(&items);
    let steps = interp.steps;
    let (windows, invalid, lone, mut doubts) = interp.finish();
    let mut findings = m.findings;
    findings.windows = windows;
    findings.invalid = invalid;
    findings.lone = lone;
    // Only where windows were read: the guards say why those may be wrong.
    if !findings.windows.is_empty() {
        doubts.extend(guard_doubts(text, ctx, &els, &findings));
    }
    for d in doubts {
        if findings.doubts.len() < MAX_NOTES && !findings.doubts.contains(&d) {
            findings.doubts.push(d);
        }
    }
    let work = Work {
        tokens: toks.len(),
        elements: els.len(),
        points: items.len(),
        steps,
    };
    (findings, work)
}

/// 058: a subject naming days outside every window the body gives (`Pentest 03.12.2026 -
/// 05.12.2026` above a body window of 14.-18.12.) says the test may run at another time than
/// the body: a doubt. Only the days are compared (subjects rarely carry times).
pub fn subject_doubt(subject: &str, ctx: &DateContext, windows: &[Window]) -> Option<Problem> {
    if windows.is_empty() || subject.len() > 2000 {
        return None;
    }
    let toks = tokenize(subject);
    let ref_date = ctx.reference.with_timezone(&ctx.default_tz).date_naive();
    let mut m = Matcher::new(&toks, subject, ref_date, ZoneHints::of(subject));
    let els = m.elements();
    let day = |t: DateTime<Utc>| t.with_timezone(&ctx.default_tz).date_naive();
    let inside = |d: NaiveDate| windows.iter().any(|w| day(w.start) <= d && d <= day(w.end));
    let outside = els.iter().find_map(|el| {
        let d = match el.kind {
            ElementKind::Date(d) => Some(d.date),
            ElementKind::Point(p) => p.date.map(|d| d.date),
            _ => None,
        }?;
        (!inside(d)).then_some(d)
    })?;
    Some(Problem::new(
        ProblemCode::AmbiguousDate,
        format!(
            "The subject names {outside}, outside the window in the text: a person must check when the test runs."
        ),
    ))
}

/// The doubt for activity dated before the test window.
fn activity_before(day: NaiveDate) -> Problem {
    Problem::new(
        ProblemCode::AmbiguousDate,
        format!(
            "Activity is announced for {day}, before the test window: the notice counts from the earliest activity, and a person must check what runs when."
        ),
    )
}

/// Adds to `field` (the findings of the labelled window field, which has windows) what the
/// whole new text says outside it. Windows there that start on an earlier day than every
/// field window are activity before the window (`passive scanning from 1 Feb`): a doubt, not
/// a window. A time without its partner outside the field is a doubt unless it lies inside a
/// field window (`we start at 09:00` beside `Window: 09:00-17:00`). Impossible dates stay
/// invalid, doubts and ambiguous zones are kept.
pub fn merge_outside(field: &mut DateFindings, whole: DateFindings, tz: Tz) {
    let day = |w: &Window| w.start.with_timezone(&tz).date_naive();
    if let Some(first) = field.windows.iter().map(day).min() {
        for w in &whole.windows {
            if day(w) < first && !field.windows.contains(w) {
                push_note(&mut field.doubts, activity_before(day(w)));
            }
        }
    }
    for msg in whole.invalid {
        if field.invalid.contains(&msg) {
            continue;
        }
        match whole.lone.iter().find(|(_, m)| *m == msg) {
            Some((at, _)) => {
                let inside = field.windows.iter().any(|w| w.start <= *at && *at <= w.end);
                if !inside {
                    push_note(
                        &mut field.doubts,
                        Problem::new(
                            ProblemCode::AmbiguousDate,
                            format!("Outside the window field: {msg}"),
                        ),
                    );
                }
            }
            None => push_note(&mut field.invalid, msg),
        }
    }
    for d in whole.doubts {
        push_note(&mut field.doubts, d);
    }
    for z in whole.ambiguous_zones {
        push_note(&mut field.ambiguous_zones, z);
    }
    field.zone = field.zone.or(whole.zone);
}

/// Appends `x` unless it is there already or the list is full.
fn push_note<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if v.len() < 2 * MAX_NOTES && !v.contains(&x) {
        v.push(x);
    }
}

/// Caps on what one text can produce, so a crafted message cannot make output (or the work
/// spent on it) grow beyond what any real notification needs.
const MAX_WINDOWS: usize = 400;
const MAX_NOTES: usize = 20;
const MAX_BADS: usize = 64;
