//! Guards: wordings the window reader does not turn into times, but which mean the windows it
//! did read may be wrong (red-team findings 014-025, 056/057, 084-086, 094/095). Each guard is
//! one linear pass; what it finds is a doubt (review), never a window, so the safe side holds
//! even where the wording is only half understood.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::sync::LazyLock;

use crate::model::{Problem, ProblemCode, Zone};

use super::elements::{Element, ElementKind};
use super::keywords::{KEYWORDS, Keyword};
use super::zones::{ABBREVIATIONS, NOT_PLACES, place_zone};
use super::{DateContext, DateFindings, MAX_NOTES, push_note};

/// Doubts about the windows in `findings` that the text around them raises.
pub(super) fn guard_doubts(
    text: &str,
    ctx: &DateContext,
    els: &[Element],
    findings: &DateFindings,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let words = LowerWords::of(text);
    let ws = words.list();
    label_lines(text, els, &mut out);
    let tz = ctx.default_tz;
    let ref_date = ctx.reference.with_timezone(&tz).date_naive();
    if let Some(first) = findings
        .windows
        .iter()
        .map(|w| w.start.with_timezone(&tz).date_naive())
        .min()
    {
        relative_activity(text, &ws, ref_date, first, &mut out);
    }
    zone_statements(text, &ws, ctx, findings, &mut out);
    out
}

pub(super) fn doubt(msg: String) -> Problem {
    Problem::new(ProblemCode::AmbiguousDate, msg)
}

/// Words that date something relative to the arrival of the message.
fn is_relative_word(w: &str) -> bool {
    matches!(
        w,
        "today"
            | "tonight"
            | "tomorrow"
            | "tmrw"
            | "heute"
            | "heut"
            | "morgen"
            | "übermorgen"
            | "uebermorgen"
            | "now"
            | "jetzt"
            | "asap"
            | "sofort"
            | "immediately"
    )
}

/// The lower-case words of a text (letters and digits; `ü` stays) with their byte offsets in
/// it. The guards read every word of a mail, several times: the words are lowercased once,
/// into one buffer, rather than into a `String` each (which was most of the guards' time).
pub(super) struct LowerWords {
    buf: String,
    /// Offset in the text, then start and end in `buf`.
    spans: Vec<(usize, usize, usize)>,
}

impl LowerWords {
    pub(super) fn of(s: &str) -> LowerWords {
        let b = s.as_bytes();
        // ASCII words lowercase in place, at their own offsets: the text lowercased as ASCII
        // holds them all. Other words are lowercased one by one, as they always were
        // (`str::to_lowercase` of the whole text could differ: its final sigma looks across
        // word boundaries), and appended after it.
        let mut buf = s.to_ascii_lowercase();
        let mut spans = Vec::new();
        // The char at `i` (always a char boundary) when it is not ASCII: whether it is a
        // letter or digit, and its length.
        let wide = |i: usize| {
            s.get(i..)
                .and_then(|r| r.chars().next())
                .map_or((false, 1), |c| (c.is_alphanumeric(), c.len_utf8()))
        };
        let mut i = 0usize;
        while let Some(&c) = b.get(i) {
            let (alnum, len) = if c < 0x80 {
                (c.is_ascii_alphanumeric(), 1)
            } else {
                wide(i)
            };
            if !alnum {
                i += len;
                continue;
            }
            let w = i;
            let mut ascii = c < 0x80;
            i += len;
            while let Some(&c) = b.get(i) {
                if c < 0x80 {
                    if !c.is_ascii_alphanumeric() {
                        break;
                    }
                    i += 1;
                } else {
                    let (alnum, len) = wide(i);
                    if !alnum {
                        break;
                    }
                    ascii = false;
                    i += len;
                }
            }
            if ascii {
                spans.push((w, w, i));
            } else {
                let lo = buf.len();
                buf.push_str(&s.get(w..i).unwrap_or("").to_lowercase());
                spans.push((w, lo, buf.len()));
            }
        }
        LowerWords { buf, spans }
    }

    /// Each word with its byte offset in the text, in order.
    pub(super) fn list(&self) -> Vec<(usize, &str)> {
        self.spans
            .iter()
            .map(|&(p, lo, hi)| (p, self.buf.get(lo..hi).unwrap_or("")))
            .collect()
    }
}

/// 084-086: a labelled start or end line (`Start: today 14:00`, `Start: 03-Dec-2026 08:00`,
/// `Start: 03.12.0000 08:00`) with a time but no day the reader took. The reader then dates
/// the time from the other end, so a test starting today looks like one weeks ahead. The day
/// is never borrowed silently: a relative word, a month name or numbers besides the time on
/// such a line, or a start line without a day next to an end line with one, is a doubt.
fn label_lines(text: &str, els: &[Element], out: &mut Vec<Problem>) {
    struct L {
        start: bool,
        time: bool,
        day: bool,
        pos: usize,
    }
    let mut lines: Vec<L> = Vec::new();
    let mut cur: Option<L> = None;
    for el in els {
        match el.kind {
            ElementKind::Start(true) | ElementKind::End(true) => {
                if let Some(l) = cur.take() {
                    lines.push(l);
                }
                cur = Some(L {
                    start: matches!(el.kind, ElementKind::Start(true)),
                    time: false,
                    day: false,
                    pos: el.pos,
                });
            }
            ElementKind::Line | ElementKind::Para => {
                if let Some(l) = cur.take() {
                    lines.push(l);
                }
            }
            _ => {
                if let Some(l) = cur.as_mut() {
                    match el.kind {
                        ElementKind::Time(_) => l.time = true,
                        ElementKind::Point(p) => {
                            l.time |= p.time.is_some();
                            l.day |= p.has_day();
                        }
                        ElementKind::Date(_)
                        | ElementKind::AmbiguousDate
                        | ElementKind::ImpossibleDate(_)
                        | ElementKind::Weekday(_) => l.day = true,
                        _ => {}
                    }
                }
            }
        }
    }
    if let Some(l) = cur.take() {
        lines.push(l);
    }
    let other_has_day = |start: bool| lines.iter().any(|o| o.start != start && o.day);
    for l in &lines {
        if !l.time || l.day {
            continue;
        }
        let rest = text.get(l.pos..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        // The value after the label's colon (the label itself may hold digits: `Start 1:`).
        let value = line.split_once(':').map_or(line, |(_, v)| v);
        let unread = LowerWords::of(value).list().iter().any(|(_, w)| {
            is_relative_word(w)
                || matches!(KEYWORDS.get(w.as_bytes()), Some(Keyword::Month(_)))
                || matches!(*w, "next" | "nächste" | "nächsten" | "naechste")
        }) || stray_digits(value);
        if unread || (l.start && other_has_day(true)) {
            let shown: String = line.trim().chars().take(80).collect();
            push_note(
                out,
                doubt(format!(
                    "The day in '{shown}' cannot be read: it is not taken from the other end of the window, a person must check when the test runs."
                )),
            );
        }
    }
}

/// Digit runs in `value` that are not part of a time of day (`14:00`, `9am`, `9 Uhr`, `9h`).
fn stray_digits(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0usize;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let before_colon = s > 0 && b[s - 1] == b':' && s >= 2 && b[s - 2].is_ascii_digit();
        let after_colon = b.get(i) == Some(&b':') && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        let after_word = {
            // A few characters suffice (`uhr`, `p.m`): the pass stays linear on long lines.
            let tail: String = value
                .get(i..)
                .unwrap_or("")
                .trim_start()
                .chars()
                .take(4)
                .collect::<String>()
                .to_ascii_lowercase();
            ["am", "pm", "a.m", "p.m", "uhr", "h ", "h)", "h,"]
                .iter()
                .any(|p| tail.starts_with(p))
                || tail == "h"
        };
        if !(before_colon || after_colon || after_word) {
            return true;
        }
    }
    false
}

/// Words that make a sentence about test activity.
fn is_activity_word(w: &str) -> bool {
    // `contains` sets up a substring searcher per call; for a word, comparing each place
    // is cheaper (this runs for most words of a mail).
    let has = |p: &[u8]| w.as_bytes().windows(p.len()).any(|x| x == p);
    has(b"test")
        || has(b"scan")
        || matches!(
            w,
            "run"
                | "runs"
                | "running"
                | "pilot"
                | "smoke"
                | "probe"
                | "probing"
                | "attack"
                | "attacks"
                | "recon"
                | "reconnaissance"
                | "start"
                | "starts"
                | "starting"
                | "begin"
                | "begins"
                | "kick"
                | "lauf"
                | "laufen"
                | "läuft"
                | "beginnen"
                | "beginnt"
                | "starten"
                | "startet"
                | "angriff"
                | "angriffe"
                | "durchführen"
                | "durchgeführt"
                | "prüfung"
        )
}

fn number_word(w: &str) -> bool {
    w.bytes().all(|c| c.is_ascii_digit())
        || matches!(
            w,
            "a" | "an"
                | "one"
                | "two"
                | "three"
                | "four"
                | "five"
                | "six"
                | "seven"
                | "eight"
                | "nine"
                | "ten"
                | "few"
                | "couple"
                | "einer"
                | "einem"
                | "zwei"
                | "drei"
                | "vier"
                | "fünf"
                | "sechs"
                | "sieben"
                | "acht"
                | "neun"
                | "zehn"
                | "paar"
                | "wenigen"
        )
}

/// 056/057/094/095: test activity dated relative to the arrival (`a smoke test runs
/// tomorrow`, `Scans laufen bereits ab morgen`, `pilot run in 3 days`, `on the 3rd`). The
/// reader builds no window from it, so the notice would be measured from the later window:
/// a sentence with such a date and an activity word is a doubt.
fn relative_activity(
    text: &str,
    ws: &[(usize, &str)],
    today: NaiveDate,
    first: NaiveDate,
    out: &mut Vec<Problem>,
) {
    // Sentences: split at `.!?;` before a space (not after a short number: `am 3.`) and at
    // blank lines.
    let b = text.as_bytes();
    let mut start = 0usize;
    // The words of the sentence being read: `ws[lo..hi]`. Sentences end at ASCII marks that
    // are no word characters, so the words of a sentence are the text's words inside it.
    let mut lo = 0usize;
    let mut i = 0usize;
    while i <= b.len() {
        // Only these bytes can end a sentence: the others are skipped in one scan.
        i += b
            .get(i..)
            .unwrap_or_default()
            .iter()
            .position(|c| matches!(c, b'.' | b'!' | b'?' | b';' | b'\n'))
            .unwrap_or(b.len() - i);
        let end_here = if i == b.len() {
            true
        } else {
            let c = b[i];
            let next_sp = b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
            let short_num = c == b'.'
                && i >= 1
                && b[i - 1].is_ascii_digit()
                && !(i >= 3 && b[i - 2].is_ascii_digit() && b[i - 3].is_ascii_digit());
            (matches!(c, b'!' | b'?' | b';') && next_sp)
                || (c == b'.' && next_sp && !short_num)
                || (c == b'\n'
                    && text
                        .get(i + 1..)
                        .is_some_and(|t| t.split('\n').next().is_some_and(|l| l.trim().is_empty())))
        };
        if end_here {
            while ws.get(lo).is_some_and(|(p, _)| *p < start) {
                lo += 1;
            }
            let mut hi = lo;
            while ws.get(hi).is_some_and(|(p, _)| *p < i) {
                hi += 1;
            }
            if let Some(s) = text.get(start..i) {
                relative_sentence(s, start, ws.get(lo..hi).unwrap_or(&[]), today, first, out);
            }
            start = i + 1;
        }
        i += 1;
    }
}

/// `s` is a sentence at byte `base` of the text, `ws` its words (offsets in the text).
fn relative_sentence(
    s: &str,
    base: usize,
    ws: &[(usize, &str)],
    today: NaiveDate,
    first: NaiveDate,
    out: &mut Vec<Problem>,
) {
    // Something to be delivered later (`IPs will be provided next week`) is no activity.
    let delivery = ws.iter().any(|(_, w)| {
        matches!(
            *w,
            "provide"
                | "provided"
                | "send"
                | "sent"
                | "deliver"
                | "delivered"
                | "follow"
                | "follows"
                | "share"
                | "shared"
                | "nachgereicht"
                | "nachreichen"
                | "geliefert"
                | "liefern"
                | "mitteilen"
                | "senden"
                | "schicken"
        )
    });
    if delivery || !ws.iter().any(|(_, w)| is_activity_word(w)) {
        return;
    }
    let w = |k: usize| ws.get(k).map_or("", |(_, w)| *w);
    let mut hit: Option<String> = None;
    for k in 0..ws.len() {
        let cur = w(k);
        // Only these words start a relative date below; any other gives no span (one test
        // here spares most words the chain of comparisons and the date arithmetic).
        if !matches!(
            cur,
            "morgen"
                | "today"
                | "tonight"
                | "heute"
                | "heut"
                | "tomorrow"
                | "tmrw"
                | "übermorgen"
                | "uebermorgen"
                | "next"
                | "nächste"
                | "nächsten"
                | "naechste"
                | "naechsten"
                | "kommende"
                | "kommenden"
                | "this"
                | "diese"
                | "dieser"
                | "in"
                | "the"
                | "am"
        ) {
            continue;
        }
        let prev = if k > 0 { w(k - 1) } else { "" };
        let next = w(k + 1);
        let day = |n: i64| today + Duration::days(n);
        let wd_of = |x: &str| {
            [
                ["monday", "montag"],
                ["tuesday", "dienstag"],
                ["wednesday", "mittwoch"],
                ["thursday", "donnerstag"],
                ["friday", "freitag"],
                ["saturday", "samstag"],
                ["sunday", "sonntag"],
            ]
            .iter()
            .position(|p| p.contains(&x))
        };
        let to_monday = 7 - i64::from(today.weekday().num_days_from_monday());
        let one = |d: NaiveDate| Some((d, d));
        let span: Option<(NaiveDate, NaiveDate)> = if cur == "morgen" {
            // `Guten Morgen`, `am Morgen` are the morning, not tomorrow.
            if matches!(
                prev,
                "guten" | "schönen" | "am" | "jeden" | "frühen" | "einen" | "den"
            ) {
                None
            } else {
                one(day(1))
            }
        } else if matches!(cur, "today" | "tonight" | "heute" | "heut") {
            one(today)
        } else if matches!(cur, "tomorrow" | "tmrw") {
            one(day(1))
        } else if matches!(cur, "übermorgen" | "uebermorgen") {
            one(day(2))
        } else if matches!(
            cur,
            "next" | "nächste" | "nächsten" | "naechste" | "naechsten" | "kommende" | "kommenden"
        ) {
            match next {
                "week" | "woche" => Some((day(to_monday), day(to_monday + 6))),
                "weekend" | "wochenende" => Some((day(to_monday - 2), day(to_monday - 1))),
                x => wd_of(x).map(|d| {
                    let ahead = (d as i64 - i64::from(today.weekday().num_days_from_monday()))
                        .rem_euclid(7);
                    let ahead = if ahead == 0 { 7 } else { ahead };
                    (day(ahead), day(ahead + 7))
                }),
            }
        } else if matches!(cur, "this" | "diese" | "dieser") {
            match next {
                "week" | "woche" | "weekend" | "wochenende" => Some((today, day(to_monday - 1))),
                "afternoon" | "evening" | "morning" | "night" => one(today),
                _ => None,
            }
        } else if cur == "in" && number_word(next) {
            let n: i64 = next.parse().unwrap_or(match next {
                "two" | "zwei" | "couple" | "paar" => 2,
                "three" | "drei" => 3,
                "four" | "vier" => 4,
                "five" | "fünf" => 5,
                "six" | "sechs" => 6,
                "seven" | "sieben" => 7,
                "eight" | "acht" => 8,
                "nine" | "neun" => 9,
                "ten" | "zehn" => 10,
                _ => 1,
            });
            let n = n.min(400);
            match w(k + 2) {
                "day" | "days" | "tag" | "tagen" => one(day(n)),
                "week" | "weeks" | "woche" | "wochen" => one(day(7 * n)),
                "hour" | "hours" | "stunde" | "stunden" => one(today),
                "of" if matches!(w(k + 3), "days" | "weeks") => one(day(1)),
                _ => None,
            }
        } else if (cur == "the" && prev == "on") || cur == "am" {
            // `on the 3rd`, `am 3.`: a day of month with no month after it.
            let digits = next.bytes().take_while(u8::is_ascii_digit).count();
            let shape = if cur == "the" {
                (1..=2).contains(&digits)
                    && next.len() == digits + 2
                    && matches!(next.get(digits..), Some("st" | "nd" | "rd" | "th"))
            } else {
                let after = ws.get(k + 1).map_or(s.len(), |(p, w)| p - base + w.len());
                let tail = s.get(after..).unwrap_or("");
                (1..=2).contains(&digits)
                    && next.len() == digits
                    && tail.starts_with('.')
                    && !tail
                        .get(1..)
                        .is_some_and(|t| t.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            };
            let month_after = matches!(KEYWORDS.get(w(k + 2).as_bytes()), Some(Keyword::Month(_)))
                || (w(k + 2) == "of"
                    && matches!(KEYWORDS.get(w(k + 3).as_bytes()), Some(Keyword::Month(_))));
            let d: u32 = next.get(..digits).and_then(|x| x.parse().ok()).unwrap_or(0);
            if shape && !month_after && (1..=31).contains(&d) {
                // The next such day from today on.
                let this_month = today.with_day(d).filter(|x| *x >= today);
                let next_month = (1..=3).find_map(|m| {
                    today
                        .checked_add_months(chrono::Months::new(m))
                        .and_then(|x| x.with_day(d))
                });
                this_month.or(next_month).and_then(one)
            } else {
                None
            }
        } else {
            None
        };
        let found = span.is_some_and(|(lo, hi)| lo < first && !(lo <= first && first <= hi));
        if found {
            let upto = if cur == "in" {
                k + 3
            } else if matches!(
                cur,
                "the"
                    | "am"
                    | "next"
                    | "nächste"
                    | "nächsten"
                    | "naechste"
                    | "naechsten"
                    | "kommende"
                    | "kommenden"
                    | "this"
                    | "diese"
                    | "dieser"
            ) {
                k + 2
            } else {
                k + 1
            };
            let phrase: Vec<&str> = (k.saturating_sub(1)..upto.min(ws.len())).map(w).collect();
            hit = Some(phrase.join(" "));
            break;
        }
    }
    if let Some(shown) = hit {
        push_note(
            out,
            doubt(format!(
                "Activity dated relative to this message ('{shown}'): the notice counts from the earliest activity, a person must check what runs when."
            )),
        );
    }
}

/// Times of day written in `text`, as minutes after midnight: `10:30`, `10.30`, `9h`,
/// `9 Uhr`, `9am`, `9 pm`. Generous (a date `10.12` adds 10:12): it only decides whether a
/// window matches a stated zone.
fn written_times(text: &str) -> std::collections::HashSet<u32> {
    let b = text.as_bytes();
    let mut out = std::collections::HashSet::new();
    let mut i = 0usize;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() && i - s < 3 {
            i += 1;
        }
        let h = text
            .get(s..i)
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(99);
        if h > 24 {
            continue;
        }
        if matches!(b.get(i), Some(b':' | b'.'))
            && let Some(mm) = text.get(i + 1..i + 3)
            && let Ok(m) = mm.parse::<u32>()
            && m < 60
        {
            out.insert(h * 60 + m);
            if h < 12 {
                out.insert((h + 12) * 60 + m);
            }
            continue;
        }
        let tail = text
            .get(i..(i + 6).min(b.len()))
            .unwrap_or("")
            .trim_start()
            .to_ascii_lowercase();
        if tail.starts_with("pm") || tail.starts_with("p.m") {
            out.insert((h % 12 + 12) * 60);
        } else if tail.starts_with('h')
            || tail.starts_with("uhr")
            || tail.starts_with("am")
            || tail.starts_with("a.m")
        {
            out.insert(h % 24 * 60);
            if tail.starts_with('a') {
                out.insert(h % 12 * 60);
            }
        }
    }
    out
}

/// The offset of the first [`ABBREVIATIONS`] entry named `w`. The table is asked for most
/// words of a mail: it is kept sorted by the name packed into a `u64` (zero-padded; words
/// hold no NUL), so a lookup is a few integer comparisons, where a scan compared the word
/// with every entry and a hashed map costs a SipHash per word.
fn abbreviation_offset(w: &str) -> Option<i32> {
    fn key(w: &[u8]) -> Option<u64> {
        let mut b = [0u8; 8];
        b.get_mut(..w.len())?.copy_from_slice(w);
        Some(u64::from_le_bytes(b))
    }
    static TABLE: LazyLock<Vec<(u64, i32)>> = LazyLock::new(|| {
        let mut t: Vec<(u64, i32)> = Vec::new();
        for &(name, off, ..) in ABBREVIATIONS {
            if let Some(k) = key(name.as_bytes())
                && !t.iter().any(|(x, _)| *x == k)
            {
                t.push((k, off));
            }
        }
        t.sort_unstable_by_key(|(k, _)| *k);
        t
    });
    let k = key(w.as_bytes())?;
    let i = TABLE.binary_search_by_key(&k, |(k, _)| *k).ok()?;
    TABLE.get(i).map(|(_, off)| *off)
}

/// What a zone statement names: a zone, or a place we cannot resolve.
enum Stated {
    Zone(Tz),
    Fixed(i32),
    Unknown,
}

/// 014-025: zone statements the reader does not apply to the window: on their own line
/// (`(UTC+2)`, `(Europe/Helsinki)`, `(EET)`), or as place words (`Kyiv time`, `Indian
/// Standard Time`, `Ortszeit Athen`, `heure de Moscou`, `local to our SOC in Dubai`,
/// `10:30 Helsinki`). A statement whose offset differs from the one the windows were read
/// in, or that names a place we cannot resolve, is a doubt: never read as the configured
/// zone when the text names another place's time.
fn zone_statements(
    text: &str,
    ws: &[(usize, &str)],
    ctx: &DateContext,
    findings: &DateFindings,
    out: &mut Vec<Problem>,
) {
    if findings.windows.is_empty() {
        return;
    }
    let mut stated: Vec<(Stated, String)> = Vec::new();
    let w = |k: usize| ws.get(k).map_or("", |(_, w)| *w);
    // Look back at most a short line's worth, so the pass stays linear on long lines.
    let back = |pos: usize| {
        let mut b = pos.saturating_sub(160);
        while !text.is_char_boundary(b) {
            b += 1;
        }
        text.get(b..pos).unwrap_or("")
    };
    let fwd = |pos: usize| {
        let mut e = (pos + 160).min(text.len());
        while !text.is_char_boundary(e) {
            e -= 1;
        }
        text.get(pos..e).unwrap_or("")
    };
    let in_parens = |pos: usize| {
        let before = back(pos);
        let line = before.rsplit('\n').next().unwrap_or("");
        line.rfind('(')
            .is_some_and(|o| line.get(o..).is_some_and(|t| !t.contains(')')))
    };
    let line_alone = |pos: usize, len: usize| {
        let before = back(pos);
        let after = fwd(pos + len);
        let l = before.rsplit('\n').next().unwrap_or("");
        let r = after.split('\n').next().unwrap_or("");
        l.trim_matches(|c: char| c.is_whitespace() || c == '(')
            .is_empty()
            && r.trim_matches(|c: char| c.is_whitespace() || c == ')')
                .is_empty()
    };
    let after_time = |pos: usize| {
        // `back(pos)` without the spaces, tabs and `(` at its end, read as bytes (the trimmed
        // characters are ASCII, so no other character's bytes can match).
        let before = back(pos).as_bytes();
        let mut n = before.len();
        while n > 0 && matches!(before.get(n - 1), Some(b' ' | b'(' | b'\t')) {
            n -= 1;
        }
        let b = before.get(..n).unwrap_or_default();
        n >= 4
            && b[n - 1].is_ascii_digit()
            && b[n - 2].is_ascii_digit()
            && matches!(b[n - 3], b':' | b'.')
    };
    for k in 0..ws.len() {
        let (pos, cur) = match ws.get(k) {
            Some((p, c)) => (*p, *c),
            None => break,
        };
        let next = w(k + 1);
        // IANA names (`Europe/Helsinki`).
        if text.as_bytes().get(pos + cur.len()) == Some(&b'/')
            && let Some(tail) = text.get(pos..)
        {
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
                .take(40)
                .collect();
            if let Ok(tz) = name.parse::<Tz>() {
                stated.push((Stated::Zone(tz), name));
                continue;
            }
        }
        // `UTC+2`, `GMT-05:00`.
        if matches!(cur, "utc" | "gmt")
            && let Some(tail) = text.get(pos + 3..)
        {
            let t = tail.trim_start();
            let sign = match t.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') | Some(0xe2) => -1,
                _ => 0,
            };
            if sign != 0 {
                let digits = t.trim_start_matches(['+', '-', '−']).trim_start();
                let h: String = digits
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .take(2)
                    .collect();
                let rest = digits.get(h.len()..).unwrap_or("");
                let m: String = rest
                    .strip_prefix(':')
                    .unwrap_or(rest)
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .take(2)
                    .collect();
                if let Ok(h) = h.parse::<i32>() {
                    let m = if m.len() == 2 {
                        m.parse::<i32>().unwrap_or(0)
                    } else {
                        0
                    };
                    let off = sign * (h * 3600 + m * 60);
                    let label = FixedOffset::east_opt(off)
                        .map_or_else(String::new, |f| Zone::Fixed(f).label());
                    stated.push((Stated::Fixed(off), label));
                }
            } else if line_alone(pos, 3) || in_parens(pos) && !after_time(pos) {
                stated.push((Stated::Fixed(0), cur.to_uppercase()));
            }
            continue;
        }
        // An abbreviation alone in parentheses or on its line (`(EET)`).
        // The table first: it is cheap, and rules out most words before the look-arounds.
        if (2..=5).contains(&cur.len())
            && let Some(off) = abbreviation_offset(cur)
            && (line_alone(pos, cur.len())
                || (in_parens(pos)
                    && text
                        .get(pos + cur.len()..)
                        .is_some_and(|t| t.starts_with(')'))))
        {
            stated.push((Stated::Fixed(off), cur.to_uppercase()));
            continue;
        }
        // `<Place> time`, `<Place> Standard Time`.
        let time_next = matches!(next, "time" | "zeit")
            || (matches!(next, "standard" | "summer" | "daylight") && w(k + 2) == "time");
        // Only needed before `time`: looked at lazily.
        let statement_ctx = || {
            in_parens(pos)
                || matches!(w(k.wrapping_sub(1)), "in" | "are" | "times" | "zeiten")
                || matches!(w(k.wrapping_sub(2)), "all" | "alle" | "times")
        };
        let resolve = |word: &str, strict: bool, stated: &mut Vec<(Stated, String)>| {
            if let Some(tz) = place_zone(word) {
                stated.push((Stated::Zone(tz), word.to_string()));
            } else if strict
                && !NOT_PLACES.contains(&word)
                && !word.bytes().all(|c| c.is_ascii_digit())
            {
                stated.push((Stated::Unknown, word.to_string()));
            }
        };
        if time_next && !NOT_PLACES.contains(&cur) {
            resolve(cur, statement_ctx(), &mut stated);
            continue;
        }
        // `Ortszeit Athen`, `Lokalzeit <X>`, `heure de Moscou`, `local time in <X>`,
        // `local to <...> in <X>`.
        if matches!(cur, "ortszeit" | "lokalzeit") && !next.is_empty() {
            let word = if next == "in" { w(k + 2) } else { next };
            resolve(word, true, &mut stated);
            continue;
        }
        if cur == "heure" && matches!(next, "de" | "d") {
            resolve(w(k + 2), true, &mut stated);
            continue;
        }
        if cur == "local" && matches!(next, "to" | "time") {
            // The place is the word after the first `in` within a few words.
            if let Some(j) = (k + 2..k + 9).find(|&j| w(j) == "in") {
                resolve(w(j + 1), true, &mut stated);
            }
            continue;
        }
        // A place right after a time (`10:30 Helsinki`).
        if after_time(pos)
            && let Some(tz) = place_zone(cur)
        {
            stated.push((Stated::Zone(tz), cur.to_string()));
        }
        if stated.len() > MAX_NOTES {
            break;
        }
    }
    if stated.is_empty() {
        return;
    }
    // Whether the windows were read in a stated zone: their start and end, seen in that
    // zone, must be times the text writes. (The reader may note a zone it did not apply, so
    // `findings.zone` does not tell.)
    let written = written_times(text);
    let as_written = |at: DateTime<Utc>, off: i32| {
        let local = at.naive_utc() + Duration::seconds(i64::from(off));
        let m = local.hour() * 60 + local.minute();
        written.contains(&m) || (m == 0 && written.contains(&(24 * 60)))
    };
    let default_off = |at: DateTime<Utc>| {
        use chrono::Offset;
        ctx.default_tz
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let off_of = |s: &Stated, at: DateTime<Utc>| {
        use chrono::Offset;
        match s {
            Stated::Zone(tz) => Some(
                tz.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            ),
            Stated::Fixed(off) => Some(*off),
            Stated::Unknown => None,
        }
    };
    for (s, written) in stated {
        let differs = findings
            .windows
            .iter()
            .any(|win| match off_of(&s, win.start) {
                None => true,
                Some(off) => {
                    off != default_off(win.start)
                        && !(as_written(win.start, off) && as_written(win.end, off))
                }
            });
        if differs {
            push_note(
                out,
                doubt(format!(
                    "The text names the zone '{written}', but the window times were not read in it: a person must check the time zone."
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LowerWords;

    /// The former per-word `String`s, kept to check the shared buffer against.
    fn words_reference(s: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
            if c.is_alphanumeric() {
                if start.is_none() {
                    start = Some(i);
                }
            } else if let Some(b) = start.take() {
                out.push((b, s.get(b..i).unwrap_or("").to_lowercase()));
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn lower_words_match_the_reference(s in "[aZ9 .İΣσßü\u{301}\u{a0}'-]{0,24}|\\PC{0,24}") {
            let words = LowerWords::of(&s);
            let got: Vec<(usize, String)> =
                words.list().into_iter().map(|(p, w)| (p, w.to_string())).collect();
            proptest::prop_assert_eq!(got, words_reference(&s));
        }
    }
}
