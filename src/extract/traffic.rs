//! Finds the announced traffic volume: bandwidth and request rate.
//!
//! One regex pass finds every rate unit (`Mbit/s`, `MB/s`, `rps`, `Anfragen pro Sekunde`, ...),
//! with the number in front of it when there is one. A unit without a number in front is a label
//! (`Requests per second: 2,000 (peak 5k)`, `RPS\t500`, `Bandwidth (Mbit/s): 200`): the plain
//! numbers after it on the same line, up to the next unit, count in that unit. After a number
//! with its unit, the plain numbers in a parenthesis right behind it and those after a peak word
//! count too (`500 rps (peak 1200)`, `1'200 Anfragen pro Minute, Spitze 3'000`).
//! The result is the highest value of each kind.
//!
//! Numbers: `1,000` `1'000` `1 000` (thousands), `1.000` (German thousands: exactly three digits
//! after the point and a leading digit other than 0), `1.5`, `0,5` (decimal comma), `5k`, `2.5k`,
//! `1M`. Lowercase `b` means bits, uppercase `B` bytes (×8); all-caps `MBPS` is taken as bits.
//! `k`/`M`/`G`/`T` are decimal, `Ki`/`Mi`/`Gi`/`Ti` binary. A bare `bit` needs a prefix
//! (`64 bit` is not a rate); bytes need "per second" (`100 MB` is a volume, not a rate).
//! Known gap: a stray number before a space-separated thousands group (`Phase 1 500 rps`) reads as
//! `1 500`.

use std::sync::LazyLock;

use regex::Regex;

/// Highest stated bandwidth and request rate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// Bits per second (k = 1e3, M = 1e6, G = 1e9; bytes count 8 bits).
    pub bandwidth_bps: Option<f64>,
    /// Requests per second (per-minute rates divided by 60).
    pub requests_per_second: Option<f64>,
    /// A figure is stated per source ("9 Gbit/s per source IP") and no count of sources
    /// next to it says how much that is in total: the values above understate the test.
    pub per_source: bool,
}

/// A number: thousands with `,` `'` `’` or spaces (optional `.` decimals); German thousands with
/// `.` (optional `,` decimals); or plain digits with an optional `.`/`,` decimal part.
const NUM: &str = r"(?:(?P<n1>[1-9][0-9]{0,2}(?:[,'’ \u{a0}\u{202f}][0-9]{3})+(?:\.[0-9]{1,6})?)|(?P<n2>[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]{1,6})?)|(?P<n3>[0-9]{1,12}(?:[.,][0-9]{1,6})?))(?P<mult>[kKM])?";

/// Rate units, ASCII only (no Unicode tables in the scan): request rates first, then
/// bandwidths (optional prefix, bits or bytes, optionally "per second"). The number in front is
/// read backwards by hand ([`number_before`]); the unit text is classified by hand
/// ([`kind_of`]).
const UNIT: &str = r"(?-u)(?i:rps|tps|qps|rpm|r/s|requests?[- ]rate|rate of requests|anfragen?-?rate|(?:requests?|reqs?|req\.|hits?|calls?|anfragen|aufrufe|zugriffe|transactions?|transaktionen|queries|abfragen|iterations?|page[ -]?views|seitenaufrufe)(?:[ ]?/[ ]?|[ ](?:per|pro|je|a|each|every)[ ])(?:seconds?|sekunden?|sec\.?|sek\.?|s|minutes?|minuten?|min\.?|hours?|stunden?|hr|h))|(?:[kKmMgGtT]i?|(?i:kilo|mega|giga|tera))?(?:(?i:bits?|bytes?)(?:[ ]?/[ ]?(?i:seconds?|sekunden?|sec|sek|s)\.?|[ ](?i:per|pro|je|a)[ ](?i:seconds?|sekunden?|sec\.?|sek\.?|s))?|bps|Bps|BPS|b/s(?:ec)?|B/s(?:ec)?)";

static UNITS: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(UNIT).expect("unit regex")
});

/// Words after which a plain number behind a rate is its peak.
static PEAK: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i-u:\b(?:peaks?|spitzen?|spitzenlast|spitzenwerte?|max(?:imum|imal)?|bis zu|up to|bursts?|top)\b)|höchstens")
        .expect("peak regex")
});

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(NUM).expect("number regex")
});

/// Words after a plain number in a labelled tail that say it counts something else.
const NOT_A_RATE: &[&str] = &[
    "user",
    "users",
    "vu",
    "vus",
    "vusers",
    "concurrent",
    "parallel",
    "parallele",
    "virtual",
    "virtuelle",
    "client",
    "clients",
    "thread",
    "threads",
    "connection",
    "connections",
    "verbindungen",
    "session",
    "sessions",
    "benutzer",
    "nutzer",
    "gleichzeitige",
    "gleichzeitig",
    "minute",
    "minutes",
    "min",
    "minuten",
    "hour",
    "hours",
    "h",
    "std",
    "stunde",
    "stunden",
    "second",
    "seconds",
    "sec",
    "s",
    "sek",
    "sekunden",
    "ms",
    "day",
    "days",
    "tag",
    "tage",
    "week",
    "weeks",
    "woche",
    "wochen",
    "ip",
    "ips",
    "address",
    "addresses",
    "adressen",
    "server",
    "servers",
    "instance",
    "instances",
    "node",
    "nodes",
    "machine",
    "machines",
    "agent",
    "agents",
    "region",
    "regions",
    "location",
    "locations",
    "standorte",
    "standort",
    "mal",
    "times",
    "x",
    "kb",
    "mb",
    "gb",
    "tb",
    "percent",
    "prozent",
    "uhr",
    "am",
    "pm",
    "request",
    "requests",
    "anfragen",
    "req",
    "hits",
    "calls",
    "pages",
    "seiten",
    "mio",
    "million",
    "millionen",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Factor to requests per second.
    Req(f64),
    /// Factor to bits per second.
    Bw(f64),
}

struct Hit {
    start: usize,
    end: usize,
    kind: Kind,
    /// The number in front, already converted; `None` for a label.
    value: Option<f64>,
}

/// Finds the highest bandwidth and the highest request rate stated in `text`.
pub fn find_traffic(text: &str) -> Traffic {
    let hits = unit_hits(text);
    let mut out = Traffic::default();
    let mut record = |kind: Kind, n: f64| {
        let (slot, v) = match kind {
            Kind::Req(f) => (&mut out.requests_per_second, n * f),
            Kind::Bw(f) => (&mut out.bandwidth_bps, n * f),
        };
        if v.is_finite() && slot.is_none_or(|old| v > old) {
            *slot = Some(v);
        }
    };
    let mut per_source = false;
    for (i, hit) in hits.iter().enumerate() {
        // "9 Gbit/s per source IP (we use 200 sources)": the total is the figure times the
        // count; without a count the figure is flagged.
        let factor = match per_source_count(text, hit) {
            None => 1.0,
            Some(Some(n)) => n,
            Some(None) => {
                per_source = true;
                1.0
            }
        };
        if let Some(v) = hit.value {
            record(hit.kind, v * factor);
        }
        let limit = hits.get(i + 1).map_or(text.len(), |h| h.start);
        for range in tails(text, hit, limit) {
            for n in tail_numbers(text, range) {
                record(hit.kind, n * factor);
            }
        }
    }
    out.per_source = per_source;
    out
}

/// Whether the line of `hit` states its figure per source (`per source IP`, `pro IP`,
/// `je Lastgenerator`): `None` when not, `Some(Some(n))` with the number of sources the line
/// gives ("we use 200 sources"), `Some(None)` when it gives none.
fn per_source_count(text: &str, hit: &Hit) -> Option<Option<f64>> {
    let line_start = text.get(..hit.start)?.rfind('\n').map_or(0, |p| p + 1);
    let rest = text.get(hit.end..)?;
    let line_end = hit.end + rest.find('\n').unwrap_or(rest.len()).min(300);
    let mut from = line_start.max(hit.start.saturating_sub(300));
    while from < hit.start && !text.is_char_boundary(from) {
        from += 1;
    }
    let line = text.get(from..line_end)?.to_lowercase();
    const PER: &[&str] = &["per", "pro", "je", "each", "every"];
    const SOURCE: &[&str] = &[
        "source",
        "sources",
        "ip",
        "ips",
        "ip-adresse",
        "address",
        "host",
        "hosts",
        "node",
        "nodes",
        "agent",
        "agents",
        "server",
        "instance",
        "generator",
        "machine",
        "worker",
        "workers",
        "quelle",
        "quell-ip",
        "quellip",
        "lastgenerator",
        "injector",
        "bot",
        "client",
        "vm",
    ];
    const TOTAL: &[&str] = &[
        "total",
        "insgesamt",
        "gesamt",
        "aggregate",
        "aggregated",
        "combined",
        "overall",
        "summe",
    ];
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| TOTAL.contains(w)) {
        return None;
    }
    let per_source = words.windows(2).any(|w| {
        let (a, b) = (
            w.first().copied().unwrap_or(""),
            w.get(1).copied().unwrap_or(""),
        );
        PER.contains(&a) && SOURCE.contains(&b)
            || a == "per" && b.starts_with("source")
            || a.starts_with("per-") && SOURCE.contains(&a.get(4..).unwrap_or(""))
    });
    if !per_source {
        return None;
    }
    // "200 sources", "200 source IPs", "200 IPs", "200 Quell-IPs": a count of sources.
    let count = words.windows(2).find_map(|w| {
        let (a, b) = (
            w.first().copied().unwrap_or(""),
            w.get(1).copied().unwrap_or(""),
        );
        let n: f64 = a.parse().ok()?;
        let counts = [
            "source",
            "ip",
            "quell",
            "host",
            "node",
            "agent",
            "server",
            "instanc",
            "generator",
            "machine",
            "worker",
            "lastgenerator",
            "vm",
            "bot",
            "client",
            "address",
            "adressen",
        ];
        (n >= 1.0 && counts.iter().any(|c| b.starts_with(c))).then_some(n)
    });
    Some(count)
}

/// All units in `text`, in order, each with the number in front of it if there is one.
fn unit_hits(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    for m in UNITS.find_iter(text) {
        // The unit must end a word ("rpsx", "Bitte") and begin one ("corps", "Ambit"), unless
        // it is glued to its number ("100Mbit/s", "5krps").
        if glued_after(text, m.end()) {
            continue;
        }
        let number = number_before(text, m.start());
        let glued_mult = number.as_ref().is_some_and(|n| n.mult_end == m.start());
        if !glued_mult && !starts_alone(text, m.start()) && !after_digit(text, m.start()) {
            continue;
        }
        let Some(kind) = kind_of(m.as_str(), number.as_ref().is_some_and(|n| n.mult != 1.0)) else {
            continue;
        };
        hits.push(Hit {
            start: number.as_ref().map_or(m.start(), |n| n.start),
            end: m.end(),
            kind,
            value: number.map(|n| n.value),
        });
    }
    hits
}

struct Number {
    /// With the multiplier applied.
    value: f64,
    mult: f64,
    start: usize,
    /// Where the number with its `k`/`M` ends (before the optional space).
    mult_end: usize,
}

/// The number right in front of a unit starting at `u`: one optional space, an optional `k`/`M`
/// glued to the digits, then the leftmost start that makes a whole number not glued to the
/// text before it ("HTTP/2 100 rps" reads 100, "14.12.2026 100 rps" reads 100).
fn number_before(text: &str, u: usize) -> Option<Number> {
    let before = text.get(..u)?;
    let before = before
        .strip_suffix(' ')
        .or_else(|| before.strip_suffix('\u{a0}'))
        .unwrap_or(before);
    let mult_end = before.len();
    // "2 million requests per second", "1,5 Mio. rps": a multiplier word before the unit.
    let (before, word_mult) = word_multiplier_before(before);
    let (before, mult) = match before.as_bytes().last() {
        Some(b'k' | b'K') => (before.get(..before.len() - 1)?, 1e3),
        Some(b'M') => (before.get(..before.len() - 1)?, 1e6),
        _ => (before, 1.0),
    };
    // "1e6 rps": the exponent and its mantissa.
    let (before, mult) = match sci_before(before) {
        Some((rest, exp)) => (rest, mult * 10f64.powi(exp)),
        None => (before, mult),
    };
    let mult = mult * word_mult;
    let end = before.len();
    if !before.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // Back over digits and separators, at most 40 bytes.
    let mut start = end;
    for (i, c) in before.char_indices().rev() {
        if end - i > 40 || !(c.is_ascii_digit() || NUMBER_SEPARATORS.contains(&c)) {
            break;
        }
        start = i;
    }
    let region = before.get(start..)?;
    let mut prev_digit = false;
    for (i, c) in region.char_indices() {
        let digit = c.is_ascii_digit();
        let group_start = digit && !prev_digit;
        prev_digit = digit;
        if !group_start || !starts_alone(text, start + i) {
            continue;
        }
        let Some(value) = region.get(i..).and_then(parse_number) else {
            continue;
        };
        return Some(Number {
            value: value * mult,
            mult,
            start: start + i,
            mult_end,
        });
    }
    None
}

/// `before` without a trailing multiplier word (`million`, `Mio.`, `Tausend`) and the space
/// before it, and the word's factor (1 when there is none).
fn word_multiplier_before(before: &str) -> (&str, f64) {
    let trimmed = before.trim_end_matches('.');
    let word_at = trimmed
        .char_indices()
        .rev()
        .take(17)
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or(trimmed.len(), |(i, _)| i);
    let word = trimmed.get(word_at..).unwrap_or("").to_lowercase();
    let factor = match word.as_str() {
        "thousand" | "tausend" | "tsd" => 1e3,
        "million" | "millionen" | "mio" | "mln" => 1e6,
        "billion" | "milliarde" | "milliarden" | "mrd" => 1e9,
        _ => return (before, 1.0),
    };
    let head = trimmed.get(..word_at).unwrap_or("");
    match head
        .strip_suffix(' ')
        .or_else(|| head.strip_suffix('\u{a0}'))
    {
        Some(h) if h.ends_with(|c: char| c.is_ascii_digit()) => (h, factor),
        _ => (before, 1.0),
    }
}

/// `before` ending in `<digits>e<1-2 digits>` (`1e6`, `2.5E+5`): the text up to the end of
/// the mantissa and the exponent.
fn sci_before(before: &str) -> Option<(&str, i32)> {
    let b = before.as_bytes();
    let digits = b
        .iter()
        .rev()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let exp_at = b.len() - digits;
    let exp: i32 = before.get(exp_at..)?.parse().ok()?;
    let mut at = exp_at;
    if at > 0 && b.get(at - 1) == Some(&b'+') {
        at -= 1;
    }
    if at < 2 || !matches!(b.get(at - 1), Some(b'e' | b'E')) || !b.get(at - 2)?.is_ascii_digit() {
        return None;
    }
    (exp <= 30).then_some((before.get(..at - 1)?, exp))
}

const NUMBER_SEPARATORS: &[char] = &[',', '.', '\'', '’', ' ', '\u{a0}', '\u{202f}'];

/// Whether the character before `s` is an ASCII digit ("100Mbit/s").
fn after_digit(text: &str, s: usize) -> bool {
    text.get(..s)
        .is_some_and(|b| b.ends_with(|c: char| c.is_ascii_digit()))
}

/// The value of `s` when all of it is one number in one of the forms of [`NUM`] (without the
/// `k`/`M` multiplier), tried in the same order: thousands separated by `,` `'` `’` or spaces
/// (optional `.` decimals); thousands separated by `.` (optional `,` decimals); plain digits
/// with an optional `.`/`,` decimal part. By hand: a backtracking regex per number was the
/// slowest part of the scan.
fn parse_number(s: &str) -> Option<f64> {
    let mut groups: Vec<&str> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if !c.is_ascii_digit() {
            groups.push(s.get(start..i).filter(|g| !g.is_empty())?);
            seps.push(c);
            start = i + c.len_utf8();
        }
    }
    groups.push(s.get(start..).filter(|g| !g.is_empty())?);
    let first = *groups.first()?;
    let lead_ok = first.len() <= 3 && !first.starts_with('0');
    let thousands = |is_sep: &dyn Fn(char) -> bool, decimal: char| -> Option<f64> {
        // k >= 1 thousands groups, then optionally one decimal part.
        let (int_seps, frac) = match seps.last() {
            Some(&d) if d == decimal => (seps.len() - 1, groups.last().copied()),
            _ => (seps.len(), None),
        };
        if !lead_ok || int_seps == 0 || !seps.iter().take(int_seps).all(|&c| is_sep(c)) {
            return None;
        }
        if !groups.iter().skip(1).take(int_seps).all(|g| g.len() == 3) {
            return None;
        }
        if frac.is_some_and(|f| f.len() > 6) {
            return None;
        }
        let int: String = groups.iter().take(int_seps + 1).copied().collect();
        let text = match frac {
            Some(f) => format!("{int}.{f}"),
            None => int,
        };
        text.parse().ok()
    };
    if seps.is_empty() {
        return (first.len() <= 12).then(|| first.parse().ok())?;
    }
    if let Some(v) = thousands(
        &|c| matches!(c, ',' | '\'' | '’' | ' ' | '\u{a0}' | '\u{202f}'),
        '.',
    ) {
        return Some(v);
    }
    if let Some(v) = thousands(&|c| c == '.', ',') {
        return Some(v);
    }
    match (groups.as_slice(), seps.as_slice()) {
        ([int, frac], ['.' | ',']) if int.len() <= 12 && frac.len() <= 6 => {
            format!("{int}.{frac}").parse().ok()
        }
        _ => None,
    }
}

/// Converts a unit as written to a factor; `None` when it is not a rate after all (a bare `bit`
/// without prefix, bytes without "per second"). `has_mult`: the number carried `k`/`M`.
fn kind_of(unit: &str, has_mult: bool) -> Option<Kind> {
    let lower = unit.to_ascii_lowercase();
    let base_at = ["bit", "byte", "bps", "b/s"]
        .iter()
        .filter_map(|b| lower.find(b))
        .min();
    let Some(at) = base_at else {
        let per = match lower.as_str() {
            "rps" | "tps" | "qps" | "r/s" => 1.0,
            "rpm" => 60.0,
            _ => {
                let last = lower
                    .rsplit([' ', '/'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('.');
                if last.starts_with('m') {
                    60.0
                } else if last.starts_with('h') || last.starts_with("st") {
                    3600.0
                } else {
                    1.0
                }
            }
        };
        return Some(Kind::Req(1.0 / per));
    };
    let prefix = lower.get(..at)?;
    let base = unit.get(at..)?;
    let lbase = lower.get(at..)?;
    let word_rest = |w: &str| {
        let r = lbase.strip_prefix(w).unwrap_or("");
        r.strip_prefix('s').unwrap_or(r).to_string()
    };
    let (bits, per_second) = if lbase.starts_with("bit") {
        (true, !word_rest("bit").is_empty())
    } else if lbase.starts_with("byte") {
        (false, !word_rest("byte").is_empty())
    } else if base == "BPS" {
        (true, true)
    } else {
        (!base.starts_with('B'), true)
    };
    if !per_second && (!bits || (prefix.is_empty() && !has_mult)) {
        return None;
    }
    let exp = match prefix.chars().next() {
        None => 0,
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some(_) => return None,
    };
    let scale = if prefix.len() == 2 && prefix.ends_with('i') {
        1024f64.powi(exp)
    } else {
        1000f64.powi(exp)
    };
    Some(Kind::Bw(scale * if bits { 1.0 } else { 8.0 }))
}

/// The byte ranges after `hit` whose plain numbers count in its unit, ending before `limit`:
/// for a label, the rest of its line (or sentence); after a number with its unit, a parenthesis
/// right behind it ("500 rps (peak 1200)") and whatever follows a peak word ("1'200 Anfragen pro
/// Minute, Spitze 3'000").
fn tails(text: &str, hit: &Hit, limit: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(rest) = text.get(hit.end..limit) else {
        return out;
    };
    let mut end = rest.find(['\n', '\r']).unwrap_or(rest.len()).min(200);
    if let Some(s) = sentence_end(rest) {
        end = end.min(s);
    }
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let Some(rest) = rest.get(..end) else {
        return out;
    };
    if hit.value.is_none() {
        // The label's own separator first ("RPS: 500", "Requests per second\t2,000"), then the
        // values up to the next label ("; Concurrent users: 3000") or cell divider.
        let body = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '=' | ')' | ']' | '-')
        });
        let body_at = rest.len() - body.len();
        let stop = body
            .char_indices()
            .find(|&(i, c)| {
                matches!(c, ';' | '|' | '=')
                    || (c == ':'
                        && !body
                            .get(i + 1..)
                            .is_some_and(|r| r.starts_with(|d: char| d.is_ascii_digit())))
            })
            .map_or(body.len(), |(i, _)| i);
        out.push((hit.end + body_at, hit.end + body_at + stop));
        return out;
    }
    let trimmed = rest.trim_start_matches([' ', '\u{a0}']);
    if let Some(inner) = trimmed.strip_prefix('(') {
        let open = hit.end + (rest.len() - trimmed.len()) + 1;
        out.push((open, open + inner.find(')').unwrap_or(inner.len())));
    }
    if let Some(m) = PEAK.find(rest) {
        out.push((hit.end + m.end(), hit.end + rest.len()));
    }
    out
}

/// Where a sentence ends in `s`: a full stop followed by a space and a capital letter (not
/// "ca. 300" or "max. 500").
fn sentence_end(s: &str) -> Option<usize> {
    s.match_indices(". ").map(|(i, _)| i).find(|&i| {
        s.get(i + 2..)
            .and_then(|r| r.chars().next())
            .is_some_and(char::is_uppercase)
    })
}

/// Plain numbers in `text[start..end]` that are not glued to other text and not followed by a
/// word saying they count something else.
fn tail_numbers(text: &str, (start, end): (usize, usize)) -> Vec<f64> {
    let mut out = Vec::new();
    let Some(region) = text.get(..end) else {
        return out;
    };
    let mut pos = start;
    while let Some(whole) = NUMBER.find_at(region, pos) {
        pos = whole.end();
        if !starts_alone(text, whole.start()) {
            continue;
        }
        let (digits, mut mult) = match whole.as_str().as_bytes().last() {
            Some(b'k' | b'K') => (whole.as_str().get(..whole.len() - 1), 1e3),
            Some(b'M') => (whole.as_str().get(..whole.len() - 1), 1e6),
            _ => (Some(whole.as_str()), 1.0),
        };
        // "1e6", "2.5E+5", "10^6": scientific notation, read whole rather than as its mantissa.
        let mut end = whole.end();
        if let Some((len, power)) = exponent_after(text, end) {
            end += len;
            pos = pos.max(end);
            match power {
                Power::Ten(e) => mult *= 10f64.powi(e),
                Power::Of(e) => {
                    if let Some(v) = digits.and_then(parse_number) {
                        mult *= v.powi(e - 1);
                    }
                }
            }
        }
        // "up to 2 million", "1,5 Mio.", "20 Tausend": a multiplier word.
        if let Some((len, m)) = multiplier_after(text, end) {
            end += len;
            mult *= m;
        }
        if let (Some(per), Some(v)) = (number_ends_alone(text, end), digits.and_then(parse_number))
        {
            out.push(v * mult * per);
        }
    }
    out
}

enum Power {
    /// `1e6`: times ten to the power.
    Ten(i32),
    /// `10^6`: the number itself to the power.
    Of(i32),
}

/// Scientific notation right after a number ending at `e`: `e6`, `E+05`, `^6`; its length
/// and the power. The exponent is at most two digits (and at most 30).
fn exponent_after(text: &str, e: usize) -> Option<(usize, Power)> {
    let rest = text.get(e..)?;
    let b = rest.as_bytes();
    let (skip, caret) = match b.first()? {
        b'e' | b'E' => (1, false),
        b'^' => (1, true),
        _ => return None,
    };
    let sign = usize::from(matches!(b.get(skip), Some(b'+')));
    let digits = b
        .iter()
        .skip(skip + sign)
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let len = skip + sign + digits;
    if glued_after(text, e + len) {
        return None;
    }
    let exp: i32 = rest.get(skip + sign..len)?.parse().ok()?;
    if exp > 30 {
        return None;
    }
    Some((
        len,
        if caret {
            Power::Of(exp)
        } else {
            Power::Ten(exp)
        },
    ))
}

/// Multiplier words (`million`, `Mio.`, `Millionen`, `thousand`, `Tausend`, `Mrd.`) after a
/// number ending at `e`, separated by one space: the bytes they take and their factor.
fn multiplier_after(text: &str, e: usize) -> Option<(usize, f64)> {
    let rest = text.get(e..)?;
    let body = rest.trim_start_matches([' ', '\u{a0}']);
    let gap = rest.len() - body.len();
    if gap > 2 {
        return None;
    }
    let word: String = body
        .chars()
        .take_while(|c| c.is_alphabetic())
        .take(16)
        .collect::<String>();
    let lower = word.to_lowercase();
    let factor = match lower.as_str() {
        "thousand" | "thousands" | "tausend" | "tsd" => 1e3,
        "million" | "millions" | "millionen" | "mio" | "mln" | "mil" => 1e6,
        "billion" | "billions" | "milliarde" | "milliarden" | "mrd" => 1e9,
        _ => return None,
    };
    let mut len = gap + word.len();
    if text.get(e + len..).is_some_and(|r| r.starts_with('.'))
        && matches!(lower.as_str(), "mio" | "mrd" | "tsd" | "mln")
    {
        len += 1;
    }
    Some((len, factor))
}

/// Whether a number ending at `e` stands alone: not glued to letters or followed by a
/// decimal/time/date continuation, a percent sign, or a word saying what it counts. Returns the
/// factor to per-second for a `/s`, `/min` or `/h` right behind it (1 when there is none).
fn number_ends_alone(text: &str, e: usize) -> Option<f64> {
    let rest = text.get(e..)?;
    let mut it = rest.chars();
    match it.next() {
        Some(c) if c.is_alphanumeric() || c == '%' => return None,
        Some('.' | ',' | ':' | '/') if it.next().is_some_and(|c| c.is_ascii_digit()) => {
            return None;
        }
        Some('/') => {
            let per: String = rest
                .get(1..)?
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .take(8)
                .collect::<String>()
                .to_ascii_lowercase();
            return match per.as_str() {
                "s" | "sec" | "sek" | "second" | "sekunde" => Some(1.0),
                "m" | "min" | "minute" => Some(1.0 / 60.0),
                "h" | "hr" | "hour" | "std" | "stunde" => Some(1.0 / 3600.0),
                _ => None,
            };
        }
        _ => {}
    }
    let word: String = rest
        .trim_start_matches([' ', '\u{a0}'])
        .chars()
        .take_while(|c| c.is_alphabetic() || *c == '%')
        .take(20)
        .collect::<String>()
        .to_lowercase();
    (!(word.starts_with('%') || NOT_A_RATE.contains(&word.as_str()))).then_some(1.0)
}

/// Whether something starting at byte `s` is not glued to the text before it: not after a
/// letter/digit, and not after `.` `,` `:` `/` `'` that follow a letter or digit (`1.5`,
/// `12:00`, `24/7`, `HTTP/2`).
fn starts_alone(text: &str, s: usize) -> bool {
    let Some(before) = text.get(..s) else {
        return false;
    };
    let mut it = before.chars().rev();
    match it.next() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '_' => false,
        Some('.' | ',' | ':' | '/' | '\'' | '’') => {
            !it.next().is_some_and(|c| c.is_alphanumeric())
        }
        Some(_) => true,
    }
}

/// Whether the text at `e` continues a word.
fn glued_after(text: &str, e: usize) -> bool {
    text.get(e..)
        .and_then(|r| r.chars().next())
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bw(text: &str) -> Option<f64> {
        find_traffic(text).bandwidth_bps
    }

    fn rps(text: &str) -> Option<f64> {
        find_traffic(text).requests_per_second
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= b.abs() * 1e-9)
    }

    #[track_caller]
    fn assert_bw(text: &str, want: f64) {
        assert!(
            close(bw(text), want),
            "{text:?}: got {:?}, want {want}",
            bw(text)
        );
    }

    #[track_caller]
    fn assert_rps(text: &str, want: f64) {
        assert!(
            close(rps(text), want),
            "{text:?}: got {:?}, want {want}",
            rps(text)
        );
    }

    /// Red-team 059: "up to 2 million" was read as 2 requests per second.
    #[test]
    fn rate_in_words_million_is_two_million() {
        assert_rps("Requests per second: up to 2 million", 2e6);
        assert_rps("Anfragen pro Sekunde: bis zu 1,5 Mio.", 1.5e6);
        assert_rps("Requests per second: 2 Millionen", 2e6);
        assert_rps("about 2 million requests per second", 2e6);
        assert_rps("RPS: 20 thousand", 20e3);
        assert_rps("20 Tausend Anfragen pro Sekunde", 20e3);
        assert_eq!(
            super::bare_rate("Requests per second\nup to 2 million"),
            Some(2e6)
        );
    }

    /// Red-team 060: "1e6" was read as 1.
    #[test]
    fn rate_in_scientific_notation() {
        assert_rps("Requests per second: 1e6", 1e6);
        assert_rps("Requests per second: 2.5E+5", 2.5e5);
        assert_rps("1e6 rps", 1e6);
        assert_rps("Requests per second: 10^6", 1e6);
        assert_eq!(super::bare_rate("RPS: 1e6"), Some(1e6));
    }

    /// Red-team 061: "9 Gbit/s per source IP (we use 200 sources)" is 1.8 Tbit/s.
    #[test]
    fn per_source_figure_is_multiplied_or_flagged() {
        let t = find_traffic("Bandwidth: 9 Gbit/s per source IP (we use 200 sources)");
        assert!(close(t.bandwidth_bps, 1.8e12), "{t:?}");
        assert!(!t.per_source);
        let t = find_traffic("Bandbreite: 2 Gbit/s pro Quell-IP");
        assert!(close(t.bandwidth_bps, 2e9), "{t:?}");
        assert!(t.per_source);
        let t = find_traffic("Requests per second: 500 per IP");
        assert!(t.per_source, "{t:?}");
        // A total stated next to it, or plain "per second", is no per-source figure.
        assert!(!find_traffic("Bandwidth: 100 Mbit/s in total (about 1 Mbit/s per IP)").per_source);
        assert!(!find_traffic("Requests per second: max. 50").per_source);
    }

    #[test]
    fn bandwidth_units() {
        assert_bw("Bandwidth: 200 Mbit/s", 200e6);
        assert_bw("Bandbreite: max. 1 Gbit/s", 1e9);
        assert_bw("up to 500 kbit/s", 500e3);
        assert_bw("about 800 bit/s", 800.0);
        assert_bw("around 300 kbps", 300e3);
        assert_bw("around 300 Kbps", 300e3);
        assert_bw("~100 Mbps", 100e6);
        assert_bw("2 Gbps peak", 2e9);
        assert_bw("50 Mb/s", 50e6);
        assert_bw("1 Gb/s", 1e9);
        assert_bw("400 KB/s", 400e3 * 8.0);
        assert_bw("400 kB/s", 400e3 * 8.0);
        assert_bw("12.5 MB/s", 100e6);
        assert_bw("1 GB/s", 8e9);
        assert_bw("10 MBps", 80e6);
        assert_bw("100 Megabit pro Sekunde", 100e6);
        assert_bw("100 Mbit", 100e6);
        assert_bw("1 Gigabit per second", 1e9);
        assert_bw("2 Gigabits per second", 2e9);
        assert_bw("10 MiB/s", 10.0 * 8.0 * 1_048_576.0);
        assert_bw("100Mbit/s", 100e6);
        assert_bw("100 MBit/s", 100e6);
        assert_bw("100 mbps", 100e6);
        assert_bw("100 MBPS", 100e6);
        assert_bw("1 Tbit/s", 1e12);
        assert_bw("500 Mbit/sec", 500e6);
        assert_bw("500 Mb/sec", 500e6);
        assert_bw("5 MB/sec", 40e6);
        assert_bw("5 Megabyte pro Sekunde", 40e6);
        assert_bw("100 Mbit/Sek.", 100e6);
        assert_rps("k6 run --rps 500", 500.0);
    }

    #[test]
    fn parse_number_forms() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1", Some(1.0)),
            ("1000", Some(1000.0)),
            ("1,000", Some(1000.0)),
            ("1,000,000", Some(1e6)),
            ("1'000", Some(1000.0)),
            ("1’000", Some(1000.0)),
            ("1 000", Some(1000.0)),
            ("1\u{a0}000", Some(1000.0)),
            ("1,000.5", Some(1000.5)),
            ("1.000", Some(1000.0)),
            ("1.000.000", Some(1e6)),
            ("1.000,5", Some(1000.5)),
            ("1.5", Some(1.5)),
            ("0,5", Some(0.5)),
            ("1,5", Some(1.5)),
            ("0.500", Some(0.5)),
            ("0,500", Some(0.5)),
            ("1,0000", Some(1.0)),
            ("12.34.56", None),
            ("1,00,000", None),
            ("1.000,000", Some(1000.0)),
            ("1,", None),
            (",5", None),
            ("1  000", None),
            ("1234 567", None),
            ("1234567890123", None),
        ];
        for &(s, want) in cases {
            assert_eq!(parse_number(s), want, "{s}");
        }
    }

    #[test]
    fn numbers() {
        assert_bw("1,000 Mbit/s", 1e9);
        assert_bw("1'000 Mbit/s", 1e9);
        assert_bw("1’000 Mbit/s", 1e9);
        assert_bw("1 000 Mbit/s", 1e9);
        assert_bw("1.000 Mbit/s", 1e9);
        assert_bw("1.5 Gbit/s", 1.5e9);
        assert_bw("0,5 Gbit/s", 0.5e9);
        assert_bw("1,5 Gbit/s", 1.5e9);
        assert_bw("0.500 Gbit/s", 0.5e9);
        assert_rps("5k rps", 5000.0);
        assert_rps("2.5k req/s", 2500.0);
        assert_rps("1'500 Anfragen pro Sekunde", 1500.0);
        assert_rps("1.000.000 Anfragen pro Minute", 1e6 / 60.0);
        assert_rps("10,000,000 requests per hour", 1e7 / 3600.0);
    }

    #[test]
    fn ranges_and_modifiers() {
        assert_bw("100-200 Mbit/s", 200e6);
        assert_bw("100 - 200 Mbit/s", 200e6);
        assert_bw("100–200 Mbit/s", 200e6);
        assert_bw("between 100 and 200 Mbit/s", 200e6);
        assert_rps("up to 300 rps", 300.0);
        assert_rps("max 300 rps", 300.0);
        assert_rps("max. 300 rps", 300.0);
        assert_rps("~300 rps", 300.0);
        assert_rps("approx. 300 rps", 300.0);
        assert_rps("ca. 300 Anfragen/s", 300.0);
        assert_rps("5-10k rps", 10000.0);
    }

    #[test]
    fn request_units() {
        assert_rps("500 rps", 500.0);
        assert_rps("500 RPS", 500.0);
        assert_rps("500 req/s", 500.0);
        assert_rps("500 requests/s", 500.0);
        assert_rps("500 requests per second", 500.0);
        assert_rps("500 requests/sec", 500.0);
        assert_rps("500 hits per second", 500.0);
        assert_rps("500 Anfragen pro Sekunde", 500.0);
        assert_rps("500 Requests pro Sekunde", 500.0);
        assert_rps("500 Anfragen/s", 500.0);
        assert_rps("500 Req./Sek.", 500.0);
        assert_rps("500 transactions per second", 500.0);
        assert_rps("500 TPS", 500.0);
        assert_rps("6000 rpm", 100.0);
        assert_rps("6000 req/min", 100.0);
        assert_rps("6000 requests per minute", 100.0);
        assert_rps("6000 Anfragen pro Minute", 100.0);
    }

    #[test]
    fn peak_and_average_take_highest() {
        assert_rps("average 200 rps, peak 800 rps", 800.0);
        assert_rps("Requests per second: 2,000 (peak 5k)", 5000.0);
        assert_rps("RPS\t500", 500.0);
        assert_rps("Requests/s: 500 average, 1200 peak", 1200.0);
        assert_rps("Anfragen pro Sekunde: ca. 300, Spitze 800", 800.0);
        assert_rps("500 rps (peak 1,200)", 1200.0);
        assert_rps("Requests per minute: 6000", 100.0);
        assert_rps("Request rate: 300/sec; Concurrent users: 3000", 300.0);
        assert_rps("Request rate: 6000/min", 100.0);
        assert_rps("Anfragerate: 120/s", 120.0);
        assert_rps(
            "Requests per second (RPS)\t1'500\nBandwidth (Mbit/s)\t250\n",
            1500.0,
        );
        assert_bw(
            "Requests per second (RPS)\t1'500\nBandwidth (Mbit/s)\t250\n",
            250e6,
        );
        assert_rps(
            "Traffic\t10 Gbit/s\nRequests per second\t10'000\nTarget\thttps://x.ch",
            10000.0,
        );
        assert_rps("Peak hits per second: 3 500; average 1 200", 3500.0);
        assert_rps(
            "RPS: 1000 (ramp-up 10 min), 2000 (steady), 5000 (spike)",
            5000.0,
        );
        assert_rps("Load volume: 30 RPS avg / 90 RPS max", 90.0);
        assert_rps(
            "Volume: 50'000 requests per minute (~833 rps), 400 MB/s",
            833.3333333333334,
        );
        assert_bw(
            "Volume: 50'000 requests per minute (~833 rps), 400 MB/s",
            3.2e9,
        );
        assert_rps(
            "Load: 5k rps sustained for 30 minutes, bursts up to 12k rps.",
            12000.0,
        );
        assert_rps("10.000 Benutzer, 200 Anfragen pro Sekunde", 200.0);
        assert_bw(
            "Throughput: 250 Mb/s (peak), 100 Mb/s (avg). TPS: 800",
            250e6,
        );
        assert_rps(
            "Throughput: 250 Mb/s (peak), 100 Mb/s (avg). TPS: 800",
            800.0,
        );
        assert_bw("Bandwidth (Mbit/s): 200", 200e6);
        assert_bw("Bandbreite [Mbit/s]\t100-250", 250e6);
        let t = find_traffic("Traffic volume: ~500 req/s, ~100 Mbit/s");
        assert!(close(t.requests_per_second, 500.0));
        assert!(close(t.bandwidth_bps, 100e6));
    }

    #[test]
    fn labelled_tail_stops_at_other_things() {
        // The number after the next label belongs to that label.
        let t = find_traffic("Bandwidth (Mbit/s): 100, RPS: 500");
        assert!(close(t.bandwidth_bps, 100e6), "{t:?}");
        assert!(close(t.requests_per_second, 500.0), "{t:?}");
        assert_rps("RPS: 500 with 1000 concurrent users", 500.0);
        assert_rps("RPS: 500 from 3 IPs for 30 minutes", 500.0);
        assert_rps("RPS: 500 (10,000 requests in total)", 500.0);
        assert_rps("RPS: 500. On 14.12.2026 we also run 2000 users", 500.0);
        assert_rps("RPS: 500, 20% errors", 500.0);
        assert_rps("RPS\t500\nNotes\t9000", 500.0);
        assert_rps("RPS: 500 starting 12:00", 500.0);
        assert_rps("RPS: 500, Users: 3000", 500.0);
        assert_rps("RPS = 500 | Users = 3000", 500.0);
    }

    #[test]
    fn not_traffic() {
        for t in [
            "500 concurrent users",
            "1000 virtual users",
            "port :443",
            "in 2026",
            "from 203.0.113.10",
            "call +41 44 123 45 67",
            "24/7 support",
            "HTTP/2",
            "a 64 bit machine",
            "the report is 100 MB",
            "10 GB of logs",
            "Bitte 5 Bits",
            "HTTPS",
            "Corps 500",
            "500 requests in total",
        ] {
            assert_eq!(find_traffic(t), Traffic::default(), "{t}");
        }
    }

    #[test]
    fn glued_numbers_retry() {
        assert_rps("HTTP/2 100 rps", 100.0);
        assert_rps("am 14.12.2026 100 rps", 100.0);
        assert_eq!(rps("v1.5 rps"), None);
    }

    #[test]
    fn realistic_mails() {
        let en = "Hi team,\nWe plan a load test of https://shop.example.ch.\n\
            Traffic: we expect an average of 150 requests per second with peaks of 400 rps, \
            roughly 80 Mbit/s outbound. 200 virtual users, 3 load generators.\n\
            Start: 14.12.2026 09:00 CET, end 18:00.";
        let t = find_traffic(en);
        assert!(close(t.requests_per_second, 400.0), "{t:?}");
        assert!(close(t.bandwidth_bps, 80e6), "{t:?}");

        let de = "Grüezi\nWir führen am 3.2.2027 einen Lasttest durch.\n\
            Volumen\tca. 1'200 Anfragen pro Minute, Spitze 3'000\n\
            Bandbreite\tmax. 0,5 Gbit/s\nKontakt: 079 123 45 67";
        let t = find_traffic(de);
        assert!(close(t.requests_per_second, 50.0), "{t:?}");
        assert!(close(t.bandwidth_bps, 0.5e9), "{t:?}");
    }

    #[test]
    fn big_input_is_fast() {
        // Big hostile inputs give the right answer (the speed is measured in benches/).
        let none = Traffic::default();
        // A unit glued to a word is no unit.
        let s = "1".repeat(1_000_000) + " rpsx";
        assert_eq!(find_traffic(&s), none);
        // A number ending in a full stop does not reach the unit.
        let s = "1.".repeat(500_000) + " Mbit/s";
        assert_eq!(find_traffic(&s), none);
        // Labels without numbers.
        let s = "rps ".repeat(250_000);
        assert_eq!(find_traffic(&s), none);
        // A label followed by a long run of plain numbers: they count in its unit.
        let s = "RPS: ".to_string() + &"1 ".repeat(500_000);
        assert_eq!(find_traffic(&s).requests_per_second, Some(1.0));
        assert_eq!(find_traffic(&s).bandwidth_bps, None);
        // Many rates: the highest wins.
        let s: String = (1..=50_000).map(|i| format!("{i} rps, ")).collect();
        assert_eq!(find_traffic(&s).requests_per_second, Some(50_000.0));
    }

    /// The regex reading of a number, to check [`parse_number`] against.
    fn regex_number(s: &str) -> Option<f64> {
        static RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^(?:{NUM})$")).unwrap());
        let c = RE.captures(s)?;
        if c.name("mult").is_some() {
            return None;
        }
        if let Some(m) = c.name("n1") {
            let t: String = m
                .as_str()
                .chars()
                .filter(|&ch| ch.is_ascii_digit() || ch == '.')
                .collect();
            t.parse().ok()
        } else if let Some(m) = c.name("n2") {
            let t: String = m
                .as_str()
                .chars()
                .filter(|&ch| ch != '.')
                .map(|ch| if ch == ',' { '.' } else { ch })
                .collect();
            t.parse().ok()
        } else {
            c.name("n3")?.as_str().replace(',', ".").parse().ok()
        }
    }

    proptest! {
        #[test]
        fn no_panic(s in "\\PC*") {
            let _ = find_traffic(&s);
        }

        #[test]
        fn parse_number_agrees_with_regex(s in "[0-9]{1,4}([.,' ’\u{a0}][0-9]{1,4}){0,3}") {
            prop_assert_eq!(parse_number(&s), regex_number(&s), "{:?}", s);
        }

        #[test]
        fn no_panic_unity(s in "[0-9 .,'kKMGBbitps/ rRqQ:()\\-\\t\\n]{0,80}") {
            let t = find_traffic(&s);
            prop_assert!(t.bandwidth_bps.is_none_or(|v| v.is_finite() && v >= 0.0));
            prop_assert!(t.requests_per_second.is_none_or(|v| v.is_finite() && v >= 0.0));
        }

        #[test]
        fn stated_integer_rates_round_trip(n in 1u32..1_000_000, unit in 0usize..4) {
            let (u, f) = [("rps", 1.0), ("req/s", 1.0), ("requests per minute", 1.0 / 60.0), ("Anfragen pro Sekunde", 1.0)][unit];
            let text = format!("Load: {n} {u}.");
            prop_assert!(close(rps(&text), f64::from(n) * f), "{text}");
        }

        #[test]
        fn highest_of_two_wins(a in 1u32..100_000, b in 1u32..100_000) {
            let text = format!("average {a} Mbit/s, peak {b} Mbit/s");
            prop_assert!(close(bw(&text), f64::from(a.max(b)) * 1e6), "{text}");
        }
    }
}

/// The rate in a value labelled as a request rate but written without a unit
/// ("Requests per second: up to 2,000", "Requests: 20 per second max"): the highest number,
/// per minute when the label or value says so.
pub fn bare_rate(field: &str) -> Option<f64> {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\b(\d{1,3}(?:[',’]\d{3})+|\d+(?:\.\d+)?)(?:[eE]\+?(\d{1,2})\b)?\s*(k\b|thousand\b|tausend\b|mio\b|mln\b|millions?\b|millionen\b|billion\b|mrd\b|milliarden?\b)?")
            .expect("static regex")
    });
    let lower = field.to_lowercase();
    let per_minute = lower.contains("minute") || lower.contains("/min") || lower.contains("rpm");
    let best = NUMBER
        .captures_iter(field)
        .filter_map(|c| {
            let digits: String = c
                .get(1)?
                .as_str()
                .chars()
                .filter(|ch| ch.is_ascii_digit() || *ch == '.')
                .collect();
            let mut n: f64 = digits.parse().ok()?;
            if let Some(e) = c.get(2).and_then(|e| e.as_str().parse::<i32>().ok()) {
                n *= 10f64.powi(e);
            }
            if let Some(m) = c.get(3) {
                let m = m.as_str().to_lowercase();
                n *= match m.as_str() {
                    "k" | "thousand" | "tausend" => 1e3,
                    "billion" | "mrd" | "milliarde" | "milliarden" => 1e9,
                    _ => 1e6,
                };
            }
            Some(n)
        })
        .fold(None, |acc: Option<f64>, n| {
            Some(acc.map_or(n, |a| a.max(n)))
        })?;
    Some(if per_minute { best / 60.0 } else { best })
}

#[cfg(test)]
mod bare_rate_tests {
    use super::bare_rate;

    #[test]
    fn unlabelled_numbers_in_a_rate_field() {
        assert_eq!(bare_rate("Requests per second\nup to 2,000"), Some(2000.0));
        assert_eq!(bare_rate("Requests: 20 per second max"), Some(20.0));
        assert_eq!(bare_rate("Anfragen pro Minute: 1'200"), Some(20.0));
        assert_eq!(bare_rate("RPS: 1.5k"), Some(1500.0));
        assert_eq!(bare_rate("Requests: n/a"), None);
    }
}
