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

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

use crate::model::{Problem, ProblemCode, Window, Zone};

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
    let mut m = Matcher {
        toks: &toks,
        text,
        ref_date,
        findings: DateFindings::default(),
        hints,
        bads: Vec::new(),
        seg_tz_hint: false,
    };
    let els = m.elements();
    let items = build_points(&els);
    let mut interp = Interp {
        ctx,
        ref_date,
        global: None,
        out: Vec::new(),
        distinct: std::collections::HashSet::new(),
        overflow: false,
        bads: &m.bads,
        invalid: Vec::new(),
        lone: Vec::new(),
        steps: 0,
        carry: None,
        pend: Pending::default(),
        heading_ctx: false,
        table_header: false,
        line_no: 0,
        headers: header_blocks(text),
    };
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
    let mut m = Matcher {
        toks: &toks,
        text: subject,
        ref_date,
        findings: DateFindings::default(),
        hints: ZoneHints::of(subject),
        bads: Vec::new(),
        seg_tz_hint: false,
    };
    let els = m.elements();
    let day = |t: DateTime<Utc>| t.with_timezone(&ctx.default_tz).date_naive();
    let inside = |d: NaiveDate| windows.iter().any(|w| day(w.start) <= d && d <= day(w.end));
    let outside = els.iter().find_map(|el| {
        let d = match el.i {
            I::Date(d) => Some(d.date),
            I::Pt(p) => p.date.map(|d| d.date),
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

// ---------------------------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kw {
    None,
    Month(u32),
    /// Weekday (0 = Monday); `true` for short forms that only count in front of a date.
    Wday(u32, bool),
    Ord,
    Am,
    Pm,
    A,
    P,
    M,
    Uhr,
    H,
    O,
    Clock,
    Noon,
    Midnight,
    To,
    And,
    From,
    Vom,
    Between,
    Start,
    End,
    Daily,
    Next,
    On,
    Of,
    The,
    T,
    Z,
    Utc,
    /// Fixed-offset abbreviation: seconds east, whether it only counts in capitals, and
    /// whether it counts on its own (away from a time). Abbreviations that are also words or
    /// initials (`CAT`, `ART`, `PET`) only count right after a time or after `time zone:`.
    Abbr(i32, bool, bool),
    /// Abbreviation with more than one meaning: index into [`AMBIGUOUS`].
    AmbZone(u8),
    /// Abbreviation of a zone with summer time (`ET`, `PT`): index into [`REGIONS`]. Only
    /// right after a time.
    RegionAbbr(u8),
    /// `Eastern`, `Pacific`, `Mountain`: a zone when followed by `(Standard) Time`.
    Region(u8),
    /// A country or city that settles an ambiguous abbreviation: index into [`PLACES`].
    Place(u8),
    Swiss,
    Local,
    TimeWord,
    DateWord,
    Central,
    European,
    Summer,
    Standard,
    Ctx,
    Neg,
    TzHint,
    Times,
    For,
    /// `Black` (Friday), `Cyber` (Monday): the weekday after it names a sales day, not a
    /// date of the test.
    Holiday,
}

/// Keywords packed into a `u128` (lowercase, up to 16 bytes) in an open-addressing table:
/// a lookup is one multiply and usually one comparison, cheap enough for every word of a mail.
struct KwTable {
    slots: Vec<(u128, Kw)>,
}

const KW_BITS: u32 = 11;
const KW_SLOTS: usize = 1 << KW_BITS;

/// Packs an ASCII word, lowercased, into a key; `None` if it is too long to be a keyword.
fn kw_key(w: &[u8]) -> Option<u128> {
    if w.is_empty() || w.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf.get_mut(..w.len())?.copy_from_slice(w);
    // Setting bit 5 lowercases ASCII letters; only the word's own bytes get it.
    let lower = 0x2020_2020_2020_2020_2020_2020_2020_2020u128;
    let mask = if w.len() == 16 {
        lower
    } else {
        lower & ((1u128 << (8 * w.len())) - 1)
    };
    Some(u128::from_le_bytes(buf) | mask)
}

fn kw_slot(k: u128) -> usize {
    let h = ((k as u64) ^ ((k >> 64) as u64).rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - KW_BITS)) as usize % KW_SLOTS
}

impl KwTable {
    fn insert(&mut self, w: &'static str, kw: Kw) {
        let Some(k) = kw_key(w.as_bytes()) else {
            return;
        };
        let mut i = kw_slot(k);
        for _ in 0..KW_SLOTS {
            match self.slots.get_mut(i) {
                Some(slot) if slot.0 == 0 => {
                    *slot = (k, kw);
                    return;
                }
                // The first meaning listed wins.
                Some(slot) if slot.0 == k => return,
                _ => i = (i + 1) % KW_SLOTS,
            }
        }
    }

    /// `w` must be ASCII letters (any case).
    fn get(&self, w: &[u8]) -> Option<Kw> {
        let k = kw_key(w)?;
        let mut i = kw_slot(k);
        loop {
            let (key, kw) = *self.slots.get(i)?;
            if key == k {
                return Some(kw);
            }
            if key == 0 {
                return None;
            }
            i = (i + 1) % KW_SLOTS;
        }
    }
}

/// Zone abbreviations with one meaning: name, seconds east of UTC, capitals only, and whether
/// the abbreviation counts on its own (away from a time). Summer-time forms are their own
/// entries: an abbreviation names a fixed offset (`AEST` is +10 even in January, when Sydney
/// keeps `AEDT`).
const ABBREVIATIONS: &[(&str, i32, bool, bool)] = &[
    // Europe
    ("cet", 3600, false, true),
    ("mez", 3600, false, true),
    ("cest", 7200, false, true),
    ("mesz", 7200, false, true),
    ("cedt", 7200, true, true),
    ("met", 3600, true, false),
    ("mest", 7200, true, false),
    ("wet", 0, true, true),
    ("wez", 0, true, true),
    ("west", 3600, true, true),
    ("wesz", 3600, true, true),
    ("eet", 7200, true, true),
    ("oez", 7200, true, true),
    ("eest", 10800, true, true),
    ("oesz", 10800, true, true),
    ("msk", 3 * 3600, true, true),
    ("trt", 3 * 3600, true, true),
    ("fet", 3 * 3600, true, false),
    // Russia
    ("samt", 4 * 3600, true, true),
    ("yekt", 5 * 3600, true, true),
    ("omst", 6 * 3600, true, true),
    ("novt", 7 * 3600, true, true),
    ("krat", 7 * 3600, true, true),
    ("irkt", 8 * 3600, true, true),
    ("yakt", 9 * 3600, true, true),
    ("vlat", 10 * 3600, true, true),
    ("magt", 11 * 3600, true, true),
    ("sakt", 11 * 3600, true, true),
    ("pett", 12 * 3600, true, true),
    // Middle East, Central and South Asia
    ("idt", 3 * 3600, true, false),
    ("irst", 3 * 3600 + 1800, true, true),
    ("azt", 4 * 3600, true, true),
    ("aft", 4 * 3600 + 1800, true, false),
    ("pkt", 5 * 3600, true, true),
    ("uzt", 5 * 3600, true, true),
    ("slst", 5 * 3600 + 1800, true, true),
    ("npt", 5 * 3600 + 2700, true, true),
    ("mmt", 6 * 3600 + 1800, true, false),
    // East and South-East Asia
    ("ict", 7 * 3600, true, false),
    ("wib", 7 * 3600, true, true),
    ("wita", 8 * 3600, true, true),
    ("wit", 9 * 3600, true, false),
    ("sgt", 8 * 3600, true, true),
    ("myt", 8 * 3600, true, true),
    ("pht", 8 * 3600, true, true),
    ("hkt", 8 * 3600, true, true),
    ("awst", 8 * 3600, true, true),
    ("jst", 9 * 3600, true, true),
    ("kst", 9 * 3600, true, true),
    // Australia and the Pacific
    ("acst", 9 * 3600 + 1800, true, true),
    ("acdt", 10 * 3600 + 1800, true, true),
    ("aest", 10 * 3600, true, true),
    ("aedt", 11 * 3600, true, true),
    ("nzst", 12 * 3600, true, true),
    ("nzdt", 13 * 3600, true, true),
    ("fjt", 12 * 3600, true, true),
    ("hst", -10 * 3600, true, true),
    ("hdt", -9 * 3600, true, true),
    // Africa
    ("wat", 3600, true, false),
    ("cat", 2 * 3600, true, false),
    ("sast", 2 * 3600, true, true),
    ("eat", 3 * 3600, true, false),
    // North America (CST, AST: see AMBIGUOUS)
    ("est", -5 * 3600, true, true),
    ("edt", -4 * 3600, true, true),
    ("cdt", -5 * 3600, true, true),
    ("mst", -7 * 3600, true, true),
    ("mdt", -6 * 3600, true, true),
    ("pst", -8 * 3600, true, true),
    ("pdt", -7 * 3600, true, true),
    ("akst", -9 * 3600, true, true),
    ("akdt", -8 * 3600, true, true),
    ("adt", -3 * 3600, true, true),
    ("nst", -3 * 3600 - 1800, true, true),
    ("ndt", -2 * 3600 - 1800, true, true),
    // South America
    ("brt", -3 * 3600, true, true),
    ("brst", -2 * 3600, true, true),
    ("art", -3 * 3600, true, false),
    ("uyt", -3 * 3600, true, true),
    ("clt", -4 * 3600, true, true),
    ("clst", -3 * 3600, true, true),
    ("bot", -4 * 3600, true, false),
    ("vet", -4 * 3600, true, false),
    ("gyt", -4 * 3600, true, true),
    ("pet", -5 * 3600, true, false),
    ("cot", -5 * 3600, true, false),
];

/// Indexes into [`PLACES`].
mod place {
    pub const INDIA: u8 = 0;
    pub const ISRAEL: u8 = 1;
    pub const IRELAND: u8 = 2;
    pub const CHINA: u8 = 3;
    pub const US_CENTRAL: u8 = 4;
    pub const CUBA: u8 = 5;
    pub const BRITAIN: u8 = 6;
    pub const BANGLADESH: u8 = 7;
    pub const ATLANTIC: u8 = 8;
    pub const ARABIA: u8 = 9;
    pub const GULF: u8 = 10;
    pub const SOUTH_GEORGIA: u8 = 11;
    pub const SAMOA: u8 = 12;
    pub const SINGAPORE: u8 = 13;
    pub const ECUADOR: u8 = 14;
    pub const CARIBBEAN: u8 = 15;
    pub const ARMENIA: u8 = 16;
    pub const AMAZON: u8 = 17;
}

/// Places named in a text (country, city, the city part of an IANA name) and their zone
/// (for `India time`, `UK time`). A place settles which meaning an ambiguous abbreviation has.
const PLACES: &[(Tz, &[&str])] = &[
    (
        chrono_tz::Asia::Kolkata,
        &[
            "india",
            "indian",
            "indien",
            "kolkata",
            "calcutta",
            "mumbai",
            "bombay",
            "delhi",
            "bangalore",
            "bengaluru",
            "chennai",
            "hyderabad",
            "pune",
            "noida",
            "gurgaon",
            "gurugram",
            "ahmedabad",
        ],
    ),
    (
        chrono_tz::Asia::Jerusalem,
        &["israel", "israeli", "jerusalem", "aviv", "haifa"],
    ),
    (
        chrono_tz::Europe::Dublin,
        &["ireland", "irish", "irland", "dublin", "galway"],
    ),
    (
        chrono_tz::Asia::Shanghai,
        &[
            "china",
            "chinese",
            "prc",
            "beijing",
            "peking",
            "shanghai",
            "shenzhen",
            "guangzhou",
            "hangzhou",
            "chengdu",
            "taiwan",
            "taipei",
        ],
    ),
    (
        chrono_tz::America::Chicago,
        &[
            "chicago",
            "texas",
            "dallas",
            "houston",
            "minneapolis",
            "winnipeg",
            "oklahoma",
            "nashville",
            "memphis",
            "milwaukee",
        ],
    ),
    (
        chrono_tz::America::Havana,
        &["cuba", "cuban", "havana", "habana"],
    ),
    (
        chrono_tz::Europe::London,
        &[
            "uk",
            "britain",
            "british",
            "england",
            "scotland",
            "wales",
            "london",
            "manchester",
            "birmingham",
            "edinburgh",
            "glasgow",
            "bristol",
            "leeds",
            "liverpool",
            "cardiff",
            "belfast",
        ],
    ),
    (
        chrono_tz::Asia::Dhaka,
        &["bangladesh", "dhaka", "dacca", "chittagong"],
    ),
    (
        chrono_tz::America::Halifax,
        &["atlantic", "halifax", "bermuda", "puerto"],
    ),
    (
        chrono_tz::Asia::Riyadh,
        &[
            "arabia", "arabian", "saudi", "riyadh", "jeddah", "kuwait", "qatar", "doha", "bahrain",
            "iraq", "baghdad",
        ],
    ),
    (
        chrono_tz::Asia::Dubai,
        &[
            "gulf", "dubai", "emirates", "uae", "dhabi", "oman", "muscat", "sharjah",
        ],
    ),
    (chrono_tz::Atlantic::South_Georgia, &[]),
    (chrono_tz::Pacific::Pago_Pago, &["samoa", "pago"]),
    (chrono_tz::Asia::Singapore, &["singapore"]),
    (
        chrono_tz::America::Guayaquil,
        &["ecuador", "quito", "guayaquil"],
    ),
    (
        chrono_tz::America::Port_of_Spain,
        &["caribbean", "antigua", "grenada"],
    ),
    (chrono_tz::Asia::Yerevan, &["armenia", "yerevan"]),
    (chrono_tz::America::Manaus, &["manaus", "amazonas"]),
];

/// Abbreviations with more than one meaning: each meaning is a fixed offset and the place
/// that makes it the one meant.
const AMBIGUOUS: &[(&str, &[(i32, u8)])] = &[
    (
        "IST",
        &[
            (5 * 3600 + 1800, place::INDIA),
            (2 * 3600, place::ISRAEL),
            (3600, place::IRELAND),
        ],
    ),
    (
        "CST",
        &[
            (-6 * 3600, place::US_CENTRAL),
            (8 * 3600, place::CHINA),
            (-5 * 3600, place::CUBA),
        ],
    ),
    (
        "BST",
        &[(3600, place::BRITAIN), (6 * 3600, place::BANGLADESH)],
    ),
    (
        "AST",
        &[(-4 * 3600, place::ATLANTIC), (3 * 3600, place::ARABIA)],
    ),
    (
        "GST",
        &[(4 * 3600, place::GULF), (-2 * 3600, place::SOUTH_GEORGIA)],
    ),
    (
        "SST",
        &[(-11 * 3600, place::SAMOA), (8 * 3600, place::SINGAPORE)],
    ),
    (
        "ECT",
        &[(-5 * 3600, place::ECUADOR), (-4 * 3600, place::CARIBBEAN)],
    ),
    (
        "AMT",
        &[(4 * 3600, place::ARMENIA), (-4 * 3600, place::AMAZON)],
    ),
];

/// US zones written without standard or summer time (`ET`, `9am PT`, `Eastern Time`): the
/// zone with its summer time. Order matches the `Region` keywords.
const REGIONS: &[(&str, Tz)] = &[
    ("et", chrono_tz::America::New_York),
    ("ct", chrono_tz::America::Chicago),
    ("mt", chrono_tz::America::Denver),
    ("pt", chrono_tz::America::Los_Angeles),
];

/// All-capital words that may follow a time without being a zone (`09:00 TBD`, `17:00 GET`).
const NOT_ZONES: &[&str] = &[
    "IT", "NOT", "BUT", "GET", "SET", "PUT", "LET", "OUT", "JUST", "MUST", "POST", "HOST", "EXACT",
    "ACT", "OPT", "APT", "CUT", "HIT", "FIT", "UAT", "MIT", "BIT", "ALT", "FIRST", "LATEST",
];

/// Words of [`NOT_ZONES`] that are also zone abbreviations (Georgia Time, UTC+4; Acre or
/// Australian Central Time): no zone only where another word or a path follows (`09:00 GET
/// requests`, `GET /api`); alone after a time (`10:30 GET`) they are a zone we do not
/// convert, and the window goes to a person.
const ZONE_HOMONYMS: &[&str] = &["GET", "ACT"];

/// A bit per place named in a text (see [`PLACES`]), gathered once over the whole message
/// so a place in the signature settles an abbreviation in the window field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneHints(u64);

impl ZoneHints {
    /// The places named in `text`. One pass over its ASCII words.
    pub fn of(text: &str) -> ZoneHints {
        let mut bits = 0u64;
        for w in text.as_bytes().split(|c| !c.is_ascii_alphabetic()) {
            if (2..=16).contains(&w.len())
                && let Some(Kw::Place(p)) = KEYWORDS.get(w)
            {
                bits |= 1 << p;
            }
        }
        // `Central Standard Time` (not `Central European`) is the US one.
        if contains_ci(text.as_bytes(), b"central standard time")
            || contains_ci(text.as_bytes(), b"central daylight time")
        {
            bits |= 1 << place::US_CENTRAL;
        }
        ZoneHints(bits)
    }

    fn has(self, p: u8) -> bool {
        self.0 & (1u64 << p) != 0
    }

    /// The one meaning of ambiguous abbreviation `amb` the places settle, if exactly one.
    fn settle(self, amb: u8) -> Option<i32> {
        let (_, meanings) = AMBIGUOUS.get(usize::from(amb))?;
        let mut hit = meanings.iter().filter(|(_, p)| self.has(*p));
        match (hit.next(), hit.next()) {
            (Some((off, _)), None) => Some(*off),
            _ => None,
        }
    }
}

/// Case-insensitive substring test, linear in `hay`. Only for needles whose first letter
/// does not occur again in them, so a mismatch never needs more than a restart.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let mut k = 0usize;
    for &c in hay {
        let c = c.to_ascii_lowercase();
        if needle.get(k) == Some(&c) {
            k += 1;
            if k == needle.len() {
                return true;
            }
        } else {
            k = usize::from(needle.first() == Some(&c));
        }
    }
    false
}

static KEYWORDS: LazyLock<KwTable> = LazyLock::new(|| {
    let mut m = KwTable {
        slots: vec![(0, Kw::None); KW_SLOTS],
    };
    let months: [(&[&str], u32); 12] = [
        (&["jan", "january", "januar", "jaenner", "janner"], 1),
        (&["feb", "february", "februar", "febr"], 2),
        (&["mar", "march", "maerz", "marz", "mrz"], 3),
        (&["apr", "april"], 4),
        (&["may", "mai"], 5),
        (&["jun", "june", "juni"], 6),
        (&["jul", "july", "juli"], 7),
        (&["aug", "august"], 8),
        (&["sep", "sept", "september"], 9),
        (&["oct", "october", "okt", "oktober"], 10),
        (&["nov", "november"], 11),
        (&["dec", "december", "dez", "dezember"], 12),
    ];
    for (names, n) in months {
        for name in names {
            m.insert(name, Kw::Month(n));
        }
    }
    let days: [(&[&str], &[&str], u32); 7] = [
        (&["monday", "montag"], &["mon", "mo"], 0),
        (&["tuesday", "dienstag"], &["tue", "tues", "di"], 1),
        (&["wednesday", "mittwoch"], &["wed", "mi"], 2),
        (
            &["thursday", "donnerstag"],
            &["thu", "thur", "thurs", "do"],
            3,
        ),
        (&["friday", "freitag"], &["fri", "fr"], 4),
        (&["saturday", "samstag", "sonnabend"], &["sat", "sa"], 5),
        (&["sunday", "sonntag"], &["sun", "so"], 6),
    ];
    for (long, short, n) in days {
        for name in long {
            m.insert(name, Kw::Wday(n, false));
        }
        for name in short {
            m.insert(name, Kw::Wday(n, true));
        }
    }
    let simple: &[(&[&str], Kw)] = &[
        (&["st", "nd", "rd", "th"], Kw::Ord),
        (&["am"], Kw::Am),
        (&["pm"], Kw::Pm),
        (&["a"], Kw::A),
        (&["p"], Kw::P),
        (&["m"], Kw::M),
        (&["uhr"], Kw::Uhr),
        (&["h", "hrs", "hr"], Kw::H),
        (&["o"], Kw::O),
        (&["clock"], Kw::Clock),
        (&["noon", "midday", "mittag"], Kw::Noon),
        (&["midnight", "mitternacht"], Kw::Midnight),
        (
            &[
                "to", "until", "till", "til", "untill", "through", "thru", "bis",
            ],
            Kw::To,
        ),
        (&["and", "und"], Kw::And),
        (&["from", "von", "ab"], Kw::From),
        (&["vom"], Kw::Vom),
        (&["between", "zwischen"], Kw::Between),
        (
            &[
                "start",
                "starts",
                "starting",
                "begin",
                "begins",
                "beginning",
                "beginn",
                "beginnt",
                "beginnen",
                "startet",
                "starten",
                "startzeit",
                "startdatum",
                "startzeitpunkt",
                "testbeginn",
                "begindatum",
                "beginndatum",
                "beginnzeit",
                "anfang",
            ],
            Kw::Start,
        ),
        (
            &[
                "end",
                "ends",
                "ending",
                "ende",
                "endet",
                "enden",
                "finish",
                "finishes",
                "endzeit",
                "enddatum",
                "endzeitpunkt",
                "testende",
                "stop",
            ],
            Kw::End,
        ),
        (
            &["daily", "each", "jeweils", "taeglich", "everyday"],
            Kw::Daily,
        ),
        (
            &[
                "next",
                "naechsten",
                "naechster",
                "naechstes",
                "naechste",
                "kommenden",
                "kommender",
                "coming",
            ],
            Kw::Next,
        ),
        (&["on", "at", "um"], Kw::On),
        (&["of"], Kw::Of),
        (&["the", "dem", "den", "der"], Kw::The),
        (&["t"], Kw::T),
        (&["z"], Kw::Z),
        (&["utc", "gmt"], Kw::Utc),
        (
            &[
                "swiss",
                "schweizer",
                "schweiz",
                "zurich",
                "zuerich",
                "zuercher",
                "zurcher",
                "switzerland",
            ],
            Kw::Swiss,
        ),
        (&["local", "lokale", "lokaler"], Kw::Local),
        (
            &["time", "zeit", "uhrzeit", "ortszeit", "lokalzeit"],
            Kw::TimeWord,
        ),
        (
            &["date", "dates", "datum", "daten", "tag", "day", "days"],
            Kw::DateWord,
        ),
        (&["central"], Kw::Central),
        (&["european"], Kw::European),
        (&["summer", "daylight"], Kw::Summer),
        (&["standard"], Kw::Standard),
        (
            &[
                "test",
                "tests",
                "testing",
                "window",
                "windows",
                "fenster",
                "zeitraum",
                "timeframe",
                "timeslot",
                "slot",
                "period",
                "schedule",
                "scheduled",
                "planned",
                "plan",
                "plans",
                "planning",
                "geplant",
                "planen",
                "run",
                "running",
                "perform",
                "performed",
                "performing",
                "conduct",
                "conducting",
                "execute",
                "durchfuehren",
                "durchgefuehrt",
                "durchfuehrung",
                "stattfinden",
                "findet",
                "termin",
                "termine",
                "when",
                "wann",
                "pentest",
                "penetration",
                "scan",
                "scanning",
                "assessment",
                "audit",
                "campaign",
                "duration",
                "dauer",
                "zeitfenster",
                "will",
                "werden",
                "wird",
                // Activity before or around the test proper counts as much as the test.
                "recon",
                "reconnaissance",
                "passive",
                "passiv",
                "passives",
                "passiven",
                "discovery",
                "enumeration",
                "osint",
                "footprinting",
                "fingerprinting",
                "crawling",
                "spidering",
                "probing",
                "preparation",
                "vorbereitung",
                "vorbereitungen",
                "aufklaerung",
                "erkundung",
                "phase",
                "activity",
                "activities",
                "aktivitaet",
                "aktivitaeten",
            ],
            Kw::Ctx,
        ),
        (
            &[
                "contract",
                "vertrag",
                "invoice",
                "rechnung",
                "invoiced",
                "discussed",
                "besprochen",
                "last",
                "letzte",
                "letzten",
                "letztes",
                "letzter",
                "previous",
                "previously",
                "vorherige",
                "vorherigen",
                "since",
                "seit",
                "dated",
                "datiert",
                "ago",
                "received",
                "erhalten",
                "wrote",
                "schrieb",
                "meeting",
                "besprechung",
                "signed",
                "unterzeichnet",
                "sent",
                "valid",
                "gueltig",
                "expires",
                "expiry",
                "deadline",
            ],
            Kw::Neg,
        ),
        (&["timezone", "zeitzone", "zone", "timezones"], Kw::TzHint),
        (&["black", "cyber"], Kw::Holiday),
        (&["times", "zeiten", "zeitangaben", "uhrzeiten"], Kw::Times),
        (
            &[
                "for",
                "fuer",
                "during",
                "waehrend",
                "within",
                "innerhalb",
                "approx",
                "approximately",
                "ca",
                "etwa",
                "about",
                "rund",
                "max",
                "maximal",
                "every",
                "alle",
                "per",
                "pro",
                "last",
            ],
            Kw::For,
        ),
    ];
    for (names, kw) in simple {
        for name in *names {
            m.insert(name, *kw);
        }
    }
    for &(name, off, upper, alone) in ABBREVIATIONS {
        m.insert(name, Kw::Abbr(off, upper, alone));
    }
    for (k, (name, _)) in AMBIGUOUS.iter().enumerate() {
        m.insert(name, Kw::AmbZone(k as u8));
    }
    for (k, (name, _)) in REGIONS.iter().enumerate() {
        m.insert(name, Kw::RegionAbbr(k as u8));
    }
    for (k, name) in ["eastern", "central", "mountain", "pacific"]
        .iter()
        .enumerate()
    {
        // `central` keeps its own keyword (`Central European Time`).
        m.insert(name, Kw::Region(k as u8));
    }
    for (k, (_, words)) in PLACES.iter().enumerate() {
        for w in *words {
            m.insert(w, Kw::Place(k as u8));
        }
    }
    m
});

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Num {
        v: u32,
        n: u8,
    },
    Word {
        kw: Kw,
        upper: bool,
    },
    P(u8),
    /// En or em dash: a range connector.
    Dash,
    /// U+2212 minus sign.
    Minus,
    /// A hard line break; `para` when a blank line follows.
    Nl {
        para: bool,
    },
    Tab,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    t: T,
    s: usize,
    e: usize,
    /// Whitespace (or a soft line break) precedes the token.
    sp: bool,
}

const WORD_BUF: usize = 24;

fn tokenize(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut toks = Vec::with_capacity(b.len() / 3 + 4);
    let mut i = 0usize;
    let mut sp = true;
    let mut line_start = 0usize;
    let mut line_tab = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => {
                let mut j = i;
                let mut nl = 0;
                while let Some(&x) = b.get(j) {
                    match x {
                        b'\n' => nl += 1,
                        b'\r' | b' ' | b'\t' => {}
                        _ => break,
                    }
                    j += 1;
                }
                let prev = text.get(line_start..i).unwrap_or("").trim();
                // Plain-text mails are hard-wrapped near 72 columns: a long line that does not
                // end a heading continues on the next one, unless that one is a list item or label.
                let soft = nl == 1
                    && !line_tab
                    && prev.len() >= 40
                    && !prev.ends_with(':')
                    && !next_line_is_special(b, j);
                if !soft {
                    toks.push(Tok {
                        t: T::Nl { para: nl >= 2 },
                        s: i,
                        e: i + 1,
                        sp: true,
                    });
                }
                sp = true;
                line_start = j;
                line_tab = false;
                i = j;
            }
            b' ' | b'\r' | 0x0b | 0x0c => {
                sp = true;
                i += 1;
                while b.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
            b'\t' => {
                toks.push(Tok {
                    t: T::Tab,
                    s: i,
                    e: i + 1,
                    sp: true,
                });
                line_tab = true;
                sp = true;
                i += 1;
            }
            b'0'..=b'9' => {
                let s = i;
                let mut v: u32 = 0;
                let mut n: u8 = 0;
                while let Some(&d) = b.get(i) {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    v = v.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                    n = n.saturating_add(1);
                    i += 1;
                }
                toks.push(Tok {
                    t: T::Num { v, n },
                    s,
                    e: i,
                    sp,
                });
                sp = false;
            }
            _ if c.is_ascii_alphabetic() || c >= 0x80 => {
                let ch = if c < 0x80 {
                    c as char
                } else {
                    text.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ')
                };
                if ch.is_alphabetic() {
                    let s = i;
                    let (kw, upper, next) = read_word(text, i);
                    i = next;
                    toks.push(Tok {
                        t: T::Word { kw, upper },
                        s,
                        e: i,
                        sp,
                    });
                    sp = false;
                } else {
                    let len = ch.len_utf8().max(1);
                    let t = match ch {
                        '\u{2013}' | '\u{2014}' => Some(T::Dash),
                        '\u{2212}' => Some(T::Minus),
                        '\u{2022}' | '\u{00b7}' => Some(T::P(b'*')),
                        _ if ch.is_whitespace() => None,
                        _ => Some(T::P(b'~')),
                    };
                    match t {
                        Some(t) => {
                            toks.push(Tok {
                                t,
                                s: i,
                                e: i + len,
                                sp,
                            });
                            sp = false;
                        }
                        None => sp = true,
                    }
                    i += len;
                }
            }
            _ => {
                toks.push(Tok {
                    t: T::P(c),
                    s: i,
                    e: i + 1,
                    sp,
                });
                sp = false;
                i += 1;
            }
        }
    }
    toks
}

/// Whether the line starting at byte `j` is a list item, a table row or a `Label:` line.
fn next_line_is_special(b: &[u8], j: usize) -> bool {
    match b.get(j) {
        Some(b'-' | b'*' | b'>' | b'+') => return true,
        Some(0xE2) if b.get(j + 1) == Some(&0x80) && b.get(j + 2) == Some(&0xA2) => return true,
        Some(0xC2) if b.get(j + 1) == Some(&0xB7) => return true,
        _ => {}
    }
    let mut prev = 0u8;
    for k in j..j.saturating_add(30) {
        match b.get(k) {
            None | Some(b'\n') => break,
            Some(b'\t') => return true,
            Some(b':') if prev.is_ascii_alphabetic() => return true,
            Some(&x) => prev = x,
        }
    }
    false
}

/// Reads a word at `i`; returns its keyword, whether it is all capitals, and the end.
fn read_word(text: &str, mut i: usize) -> (Kw, bool, usize) {
    let b = text.as_bytes();
    // Fast path: a plain ASCII word, by far the most common token.
    let start = i;
    let j = start
        + b.get(start..)
            .unwrap_or(&[])
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(b.len() - start);
    if b.get(j).is_none_or(|&c| c < 0x80) {
        let word = b.get(start..j).unwrap_or(&[]);
        let kw = match KEYWORDS.get(word) {
            Some(kw) => kw,
            None if word.len() >= 7 => compound_kw(word),
            None => Kw::None,
        };
        // Capitals only matter for zone abbreviations (`EST` vs `est`, `IST` vs `ist`).
        let upper = matches!(
            kw,
            Kw::Abbr(..) | Kw::AmbZone(_) | Kw::RegionAbbr(_) | Kw::Place(_) | Kw::Z
        ) && word.iter().all(|c| c.is_ascii_uppercase());
        return (kw, upper, j);
    }
    let mut buf = [0u8; WORD_BUF];
    let mut n = 0usize;
    let mut ok = true;
    let mut upper = true;
    let mut push = |x: u8, n: &mut usize, ok: &mut bool| {
        if let Some(slot) = buf.get_mut(*n) {
            *slot = x;
            *n += 1;
        } else {
            *ok = false;
        }
    };
    while let Some(&c) = b.get(i) {
        if c.is_ascii_alphabetic() {
            if c.is_ascii_lowercase() {
                upper = false;
            }
            push(c.to_ascii_lowercase(), &mut n, &mut ok);
            i += 1;
        } else if c >= 0x80 {
            let Some(ch) = text.get(i..).and_then(|s| s.chars().next()) else {
                break;
            };
            if !ch.is_alphabetic() {
                break;
            }
            if ch.is_lowercase() {
                upper = false;
            }
            // Fold umlauts the German way so `März` and `Maerz` meet.
            match ch {
                'ä' | 'Ä' => {
                    push(b'a', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ö' | 'Ö' => {
                    push(b'o', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ü' | 'Ü' => {
                    push(b'u', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ß' => {
                    push(b's', &mut n, &mut ok);
                    push(b's', &mut n, &mut ok);
                }
                'é' | 'è' | 'ê' | 'É' => push(b'e', &mut n, &mut ok),
                'à' | 'â' | 'á' => push(b'a', &mut n, &mut ok),
                _ => ok = false,
            }
            i += ch.len_utf8();
        } else {
            break;
        }
    }
    let word = buf.get(..n).unwrap_or(&[]);
    let kw = if ok {
        KEYWORDS.get(word).unwrap_or_else(|| compound_kw(word))
    } else {
        compound_kw(word)
    };
    (kw, upper, i)
}

/// German compounds (`Lasttestzeitraum`, `Wartungsfenster`) still speak of testing.
fn compound_kw(word: &[u8]) -> Kw {
    if word.len() < 7 {
        return Kw::None;
    }
    for (k, &c) in word.iter().enumerate() {
        let rest = word.get(k..).unwrap_or(&[]);
        let starts = |p: &[u8]| {
            rest.get(..p.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(p))
        };
        let hit = match c | 0x20 {
            b't' => starts(b"test"),
            b'f' => starts(b"fenster"),
            b'z' => starts(b"zeitraum"),
            _ => false,
        };
        if hit {
            return Kw::Ctx;
        }
    }
    Kw::None
}

// ---------------------------------------------------------------------------------------------
// Elements
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DateV {
    date: NaiveDate,
    /// The year was written.
    yx: bool,
    m: u32,
    d: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TimeV {
    h: u32,
    m: u32,
    s: u32,
    /// 0 none, 1 am, 2 pm.
    mer: u8,
    /// `9.00` without `Uhr`: only a time where the neighbourhood says so.
    weak: bool,
    /// Written ISO style (`T09:00`, seconds): a following `-05:00` is an offset.
    iso: bool,
    /// The word `midnight`: 24:00 when it ends a range.
    midnight: bool,
    /// Written like a time but no time of day (`25:00`, `24:30`): index into the bad list.
    bad: Option<u32>,
}

impl TimeV {
    fn hm(h: u32, m: u32) -> TimeV {
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
    fn key(&self) -> u32 {
        self.h * 3600 + self.m * 60 + self.s
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Zv {
    Fixed(i32),
    Named(Tz),
    /// An abbreviation with several meanings (index into [`AMBIGUOUS`]) the text does not
    /// settle: reported, its times read in the default zone, the caller takes no window.
    Amb(u8),
    /// An abbreviation we do not know: reported as a doubt, no window is built from it.
    Unknown,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Pt {
    date: Option<DateV>,
    amb: bool,
    wd: Option<u32>,
    time: Option<TimeV>,
    zone: Option<Zv>,
    pos: usize,
    /// The point's date or time is impossible (`31.04.2027`, `25:00`): index into the bad
    /// list. No window is built from it; it becomes `window_invalid`.
    bad: Option<u32>,
    /// The impossible part is the date (the point still stands for a day).
    bad_day: bool,
}

impl Pt {
    fn has_day(&self) -> bool {
        self.date.is_some() || self.wd.is_some() || self.amb || self.bad_day
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum I {
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
struct El {
    i: I,
    pos: usize,
}

struct Raw {
    y: Option<i32>,
    m: u32,
    d: u32,
    /// The other reading (month, day) of an ambiguous numeric date.
    alt: Option<(u32, u32)>,
}

struct DateHit {
    a: Raw,
    b: Option<Raw>,
    wd: Option<u32>,
    next: usize,
}

struct Matcher<'a> {
    toks: &'a [Tok],
    text: &'a str,
    ref_date: NaiveDate,
    findings: DateFindings,
    hints: ZoneHints,
    /// Impossible dates and times, as written, with why.
    bads: Vec<Bad>,
    /// The current sentence says `time zone` or `all times` before this point.
    seg_tz_hint: bool,
}

/// A date or time that cannot be: what was written and why it is impossible.
#[derive(Debug, Clone)]
struct Bad {
    written: String,
    why: String,
    /// A time, not a date.
    time: bool,
}

/// Caps on what one text can produce, so a crafted message cannot make output (or the work
/// spent on it) grow beyond what any real notification needs.
const MAX_WINDOWS: usize = 400;
const MAX_NOTES: usize = 20;
const MAX_BADS: usize = 64;

fn year_of(v: u32, n: u8) -> Option<i32> {
    match n {
        2 => Some(2000 + v as i32),
        4 if (1900..=2200).contains(&v) => Some(v as i32),
        _ => None,
    }
}

impl Matcher<'_> {
    fn t(&self, i: usize) -> Option<T> {
        self.toks.get(i).map(|t| t.t)
    }
    fn num(&self, i: usize) -> Option<(u32, u8)> {
        match self.t(i) {
            Some(T::Num { v, n }) => Some((v, n)),
            _ => None,
        }
    }
    fn anum(&self, i: usize) -> Option<(u32, u8)> {
        if self.adj(i) { self.num(i) } else { None }
    }
    fn p(&self, i: usize, c: u8) -> bool {
        self.t(i) == Some(T::P(c))
    }
    fn ap(&self, i: usize, c: u8) -> bool {
        self.p(i, c) && self.adj(i)
    }
    fn adj(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| !t.sp)
    }
    fn kw(&self, i: usize) -> Kw {
        match self.t(i) {
            Some(T::Word { kw, .. }) => kw,
            _ => Kw::None,
        }
    }
    fn is_word(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::Word { .. }))
    }
    fn is_dash(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::P(b'-') | T::Dash | T::Minus))
    }
    fn is_conn(&self, i: usize) -> bool {
        self.is_dash(i) || self.kw(i) == Kw::To
    }
    fn prev_kw(&self, i: usize) -> Kw {
        i.checked_sub(1).map_or(Kw::None, |j| self.kw(j))
    }
    /// The number at `i` continues a dotted or slashed run (`1.2.3`, `10.12.2026.1`).
    fn glued_before(&self, i: usize) -> bool {
        i >= 2
            && self.adj(i)
            && matches!(self.t(i - 1), Some(T::P(b'.' | b'/' | b':')))
            && self.adj(i - 1)
            && self.num(i - 2).is_some()
    }
    fn glued_after(&self, i: usize) -> bool {
        matches!(self.t(i), Some(T::P(b'.' | b'/'))) && self.adj(i) && self.anum(i + 1).is_some()
    }
    fn span(&self, a: usize, b_excl: usize) -> String {
        let s = self.toks.get(a).map_or(0, |t| t.s);
        let e = b_excl
            .checked_sub(1)
            .and_then(|k| self.toks.get(k))
            .map_or(s, |t| t.e);
        self.text.get(s..e).unwrap_or("").to_string()
    }

    // --- dates -----------------------------------------------------------------------------

    fn weekday_prefix(&self, i: usize) -> (Option<u32>, usize) {
        if let Kw::Wday(w, _) = self.kw(i) {
            let mut j = i + 1;
            if self.ap(j, b'.') {
                j += 1;
            }
            if self.p(j, b',') {
                j += 1;
            }
            if self.kw(j) == Kw::The {
                j += 1;
            }
            return (Some(w), j);
        }
        (None, i)
    }

    fn parse_date(&self, i: usize) -> Option<DateHit> {
        let (wd, j) = self.weekday_prefix(i);
        let (a, b, next) = self.date_body(j, wd.is_some(), true)?;
        Some(DateHit { a, b, wd, next })
    }

    fn year_after(&self, k: usize) -> (Option<i32>, usize) {
        let k0 = if self.p(k, b',') { k + 1 } else { k };
        if let Some((v, 4)) = self.num(k0)
            && !self.ap(k0 + 1, b':')
            && !self.glued_after(k0 + 1)
            && let Some(y) = year_of(v, 4)
        {
            return (Some(y), k0 + 1);
        }
        (None, k)
    }

    fn date_body(
        &self,
        j: usize,
        has_wd: bool,
        allow_range: bool,
    ) -> Option<(Raw, Option<Raw>, usize)> {
        if let Kw::Month(m) = self.kw(j) {
            return self.month_first(j, m, allow_range);
        }
        let (v, n) = self.num(j)?;
        if self.glued_before(j) {
            return None;
        }
        if n == 4 {
            // ISO 2026-12-14 or 2026/12/14.
            let sep = match self.t(j + 1) {
                Some(T::P(c @ (b'-' | b'/'))) if self.adj(j + 1) => c,
                _ => return None,
            };
            let (m, mn) = self.anum(j + 2)?;
            if !self.ap(j + 3, sep) {
                return None;
            }
            let (d, dn) = self.anum(j + 4)?;
            // Out-of-range fields still make a date, an impossible one (`2027-13-01`).
            if mn > 2 || dn > 2 {
                return None;
            }
            if self.ap(j + 5, sep) && self.anum(j + 6).is_some() {
                return None;
            }
            let y = year_of(v, 4)?;
            return Some((
                Raw {
                    y: Some(y),
                    m,
                    d,
                    alt: None,
                },
                None,
                j + 5,
            ));
        }
        // Days up to 39 are read as (impossible) dates where the form is clearly a date
        // (`32.01.`, `35 January`): they must not vanish as "no date".
        if n > 2 || v == 0 || v > 39 {
            return None;
        }
        // Dotted, day first: 14.12.2026, 14.12.26, 14.12.
        if self.ap(j + 1, b'.')
            && let Some((m, mn)) = self.anum(j + 2)
            && mn <= 2
            && m >= 1
        {
            if self.ap(j + 3, b'.') {
                if let Some((y, yn)) = self.anum(j + 4) {
                    if self.glued_after(j + 5) || self.ap(j + 5, b':') {
                        return None;
                    }
                    let y = year_of(y, yn)?;
                    // With a two-digit year only in-range fields make a date (`1.13.27` is
                    // more likely a version than month 13).
                    if yn != 4 && (m > 12 || v > 31) {
                        return None;
                    }
                    return Some((
                        Raw {
                            y: Some(y),
                            m,
                            d: v,
                            alt: None,
                        },
                        None,
                        j + 5,
                    ));
                }
                if m > 12 {
                    return None;
                }
                return Some((
                    Raw {
                        y: None,
                        m,
                        d: v,
                        alt: None,
                    },
                    None,
                    j + 4,
                ));
            }
            // `am 14.12 um 9 Uhr`: no trailing dot, only where a date is expected.
            if m <= 12
                && v <= 31
                && (has_wd || matches!(self.prev_kw(j), Kw::Am | Kw::Vom))
                && !matches!(self.kw(j + 3), Kw::Uhr | Kw::H)
                && !self.glued_after(j + 3)
                && !self.ap(j + 3, b':')
            {
                return Some((
                    Raw {
                        y: None,
                        m,
                        d: v,
                        alt: None,
                    },
                    None,
                    j + 3,
                ));
            }
        }
        // Slashed or dashed numeric: 03/04/2027, 12/25/2026, 03-04-2027, 14/12.
        for sep in [b'/', b'-'] {
            if !self.ap(j + 1, sep) {
                continue;
            }
            let Some((b2, bn)) = self.anum(j + 2) else {
                continue;
            };
            if bn > 2 {
                continue;
            }
            if self.ap(j + 3, sep) {
                let Some((y, yn)) = self.anum(j + 4) else {
                    continue;
                };
                if (sep == b'-' && yn != 4) || self.glued_after(j + 5) || self.ap(j + 5, sep) {
                    continue;
                }
                let y = year_of(y, yn)?;
                return slash(v, b2, Some(y)).map(|r| (r, None, j + 5));
            }
            if sep == b'/'
                && (has_wd || (n == 2 && bn == 2))
                && !self.ap(j + 3, b'/')
                && !self.glued_before(j)
                && !matches!(self.kw(j + 3), Kw::H | Kw::Uhr)
            {
                return slash(v, b2, None).map(|r| (r, None, j + 3));
            }
        }
        // Textual, day first: 14 Dec, 14th of December, 14. Dezember 2026.
        let mut k = j + 1;
        // `03-Dec-2026` (DD-Mon-YYYY, as tools and logs write dates).
        let dashed = self.ap(k, b'-') && matches!(self.kw(k + 1), Kw::Month(_));
        if (self.kw(k) == Kw::Ord && self.adj(k)) || self.ap(k, b'.') || dashed {
            k += 1;
        }
        if allow_range && let Some(r) = self.day_range(j, v, k) {
            return Some(r);
        }
        if self.kw(k) == Kw::Of {
            k += 1;
        }
        if let Kw::Month(m) = self.kw(k) {
            k += 1;
            if self.ap(k, b'.') || (dashed && self.ap(k, b'-')) {
                k += 1;
            }
            let (y, k2) = self.year_after(k);
            return Some((
                Raw {
                    y,
                    m,
                    d: v,
                    alt: None,
                },
                None,
                k2,
            ));
        }
        None
    }

    /// `14-18 December`, `14. bis 18. Dezember`, `14.-18.12.2026`, `zwischen 14. und 18.12.`
    fn day_range(&self, j: usize, v: u32, k: usize) -> Option<(Raw, Option<Raw>, usize)> {
        let between = self.prev_kw(j) == Kw::Between
            || (self.prev_kw(j) == Kw::The && j >= 2 && self.kw(j - 2) == Kw::Between);
        if !(self.is_conn(k) || (between && self.kw(k) == Kw::And)) {
            return None;
        }
        if self.kw(k) == Kw::To && !self.adj(j + 1) && k == j + 1 && self.kw(k + 1) == Kw::The {
            return None;
        }
        let (_, k2) = self.weekday_prefix(k + 1);
        let (b, _, next) = self.date_body(k2, true, false)?;
        if b.alt.is_some() || v >= b.d {
            return None;
        }
        let a = Raw {
            y: b.y,
            m: b.m,
            d: v,
            alt: None,
        };
        Some((a, Some(b), next))
    }

    fn month_first(
        &self,
        j: usize,
        m: u32,
        allow_range: bool,
    ) -> Option<(Raw, Option<Raw>, usize)> {
        let mut k = j + 1;
        if self.ap(k, b'.') {
            k += 1;
        }
        let (d, dn) = self.num(k)?;
        if dn > 2 || d == 0 || d > 39 || self.ap(k + 1, b':') || self.glued_after(k + 1) {
            return None;
        }
        if matches!(self.kw(k + 1), Kw::Am | Kw::Pm | Kw::Uhr | Kw::H) {
            return None;
        }
        k += 1;
        if self.kw(k) == Kw::Ord && self.adj(k) {
            k += 1;
        }
        if allow_range
            && self.is_conn(k)
            && let Some((d2, dn2)) = self.num(k + 1)
            && dn2 <= 2
            && d2 > d
            && d2 <= 31
            && !self.ap(k + 2, b':')
            && !self.glued_after(k + 2)
            && !matches!(self.kw(k + 2), Kw::Am | Kw::Pm | Kw::Uhr | Kw::H)
        {
            let mut k2 = k + 2;
            if self.kw(k2) == Kw::Ord && self.adj(k2) {
                k2 += 1;
            }
            let (y, k3) = self.year_after(k2);
            return Some((
                Raw { y, m, d, alt: None },
                Some(Raw {
                    y,
                    m,
                    d: d2,
                    alt: None,
                }),
                k3,
            ));
        }
        let (y, k2) = self.year_after(k);
        Some((Raw { y, m, d, alt: None }, None, k2))
    }

    fn infer(&self, m: u32, d: u32) -> Option<NaiveDate> {
        let lo = self.ref_date - Duration::days(60);
        let hi = self.ref_date + Duration::days(305);
        let y = self.ref_date.year();
        [y - 1, y, y + 1]
            .into_iter()
            .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
            .find(|dt| *dt >= lo && *dt < hi)
    }

    fn mk(&self, y: Option<i32>, m: u32, d: u32) -> Option<DateV> {
        let date = match y {
            Some(y) => NaiveDate::from_ymd_opt(y, m, d)?,
            None => self.infer(m, d)?,
        };
        Some(DateV {
            date,
            yx: y.is_some(),
            m,
            d,
        })
    }

    /// `None`: no such date; `Some(None)`: ambiguous; `Some(Some(d))`: the date.
    fn resolve(&self, raw: &Raw, wd: Option<u32>) -> Option<Option<DateV>> {
        let fits = |d: &DateV| wd.is_none_or(|w| d.date.weekday().num_days_from_monday() == w);
        let a = self.mk(raw.y, raw.m, raw.d);
        let Some((am, ad)) = raw.alt else {
            let a = a?;
            return Some(if fits(&a) { Some(a) } else { None });
        };
        let b = self.mk(raw.y, am, ad);
        if a.is_none() && b.is_none() {
            return None;
        }
        if wd.is_some() {
            let fa = a.filter(fits);
            let fb = b.filter(fits);
            return Some(match (fa, fb) {
                (Some(x), None) | (None, Some(x)) => Some(x),
                _ => None,
            });
        }
        Some(None)
    }

    /// Why `raw` is no date at all (`31.04.2027`, `29 Feb` near no leap year, month 13), or
    /// `None` if it is one (or could be read as one).
    fn impossible(&self, raw: &Raw) -> Option<String> {
        if raw.alt.is_some() || self.mk(raw.y, raw.m, raw.d).is_some() {
            return None;
        }
        let Some(name) = month_name(raw.m) else {
            return Some(format!("there is no month {}", raw.m));
        };
        let year = match raw.y {
            Some(y) => Some(y),
            // The year a date without one would fall in: that of the 1st of its month.
            None => self.infer(raw.m, 1).map(|d| d.year()),
        };
        let days = year.and_then(|y| days_in_month(y, raw.m));
        Some(match (raw.y, year, days) {
            (Some(y), _, Some(n)) => format!("{name} {y} has {n} days"),
            (None, Some(y), Some(n)) if raw.m == 2 && raw.d == 29 => {
                format!("February {y} has {n} days")
            }
            _ => format!("{name} has no day {}", raw.d),
        })
    }

    // --- times -----------------------------------------------------------------------------

    /// A time of day that cannot be (`25:00`, `24:30`, `09:75`, `25 Uhr`): why, and the
    /// token after it.
    fn bad_time(&self, i: usize) -> Option<(&'static str, usize)> {
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

    fn parse_time(&self, i: usize) -> Option<(TimeV, usize)> {
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

    // --- zones -----------------------------------------------------------------------------

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

    fn parse_zone(&self, i: usize, after_time: Option<bool>) -> Option<(Zv, usize)> {
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
    fn unknown_zone(&self, i: usize) -> Option<(String, usize)> {
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

    fn elements(&mut self) -> Vec<El> {
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

fn month_name(m: u32) -> Option<&'static str> {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES.get(usize::try_from(m).ok()?.checked_sub(1)?).copied()
}

fn days_in_month(y: i32, m: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    u32::try_from((next - first).num_days()).ok()
}

fn slash(a: u32, b: u32, y: Option<i32>) -> Option<Raw> {
    if a == 0 || b == 0 || a > 31 || b > 31 {
        return None;
    }
    match (a <= 12, b <= 12) {
        (false, true) => Some(Raw {
            y,
            m: b,
            d: a,
            alt: None,
        }),
        (true, false) => Some(Raw {
            y,
            m: a,
            d: b,
            alt: None,
        }),
        (true, true) if a == b => Some(Raw {
            y,
            m: a,
            d: a,
            alt: None,
        }),
        (true, true) => Some(Raw {
            y,
            m: b,
            d: a,
            alt: Some((a, b)),
        }),
        (false, false) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Points
// ---------------------------------------------------------------------------------------------

fn skip(els: &[El], mut k: usize, f: impl Fn(&I) -> bool) -> usize {
    while els.get(k).is_some_and(|e| f(&e.i)) {
        k += 1;
    }
    k
}

/// `14-18 Dec, 09:00-17:00`: the time range is daily, not the end of the day range.
fn keep_time_apart(out: &[El], els: &[El], g: usize) -> bool {
    let mut it = out
        .iter()
        .rev()
        .filter(|e| !matches!(e.i, I::Fill | I::Colon));
    let first = it.next().map(|e| e.i);
    let second = it.next().map(|e| e.i);
    let joined = matches!(first, Some(I::Conn | I::And | I::Comma))
        && matches!(second, Some(I::Pt(p)) if p.time.is_none() && p.has_day());
    if !joined {
        return false;
    }
    let h = skip(els, g + 1, |i| matches!(i, I::Fill | I::Zone(_)));
    matches!(els.get(h).map(|e| e.i), Some(I::Conn))
        && matches!(els.get(h + 1).map(|e| e.i), Some(I::Time(_) | I::Num(_)))
}

fn build_points(els: &[El]) -> Vec<El> {
    let mut out: Vec<El> = Vec::with_capacity(els.len());
    let mut k = 0;
    while let Some(el) = els.get(k).copied() {
        let mut pt = Pt {
            pos: el.pos,
            ..Pt::default()
        };
        match el.i {
            I::Date(d) => pt.date = Some(d),
            I::AmbDate => pt.amb = true,
            I::BadDate(b) => {
                pt.bad = Some(b);
                pt.bad_day = true;
            }
            I::Wd(w) => pt.wd = Some(w),
            I::Time(t) => {
                pt.time = Some(t);
                pt.bad = t.bad;
            }
            _ => {
                out.push(el);
                k += 1;
                continue;
            }
        }
        k += 1;
        loop {
            if pt.has_day() && pt.time.is_none() {
                let g = skip(els, k, |i| {
                    matches!(i, I::Fill | I::Colon | I::Comma | I::On)
                });
                if let Some(I::Time(t)) = els.get(g).map(|e| e.i)
                    && !keep_time_apart(&out, els, g)
                {
                    pt.time = Some(t);
                    pt.bad = pt.bad.or(t.bad);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && pt.zone.is_none() {
                let g = skip(els, k, |i| matches!(i, I::Fill));
                if let Some(I::Zone(z)) = els.get(g).map(|e| e.i) {
                    pt.zone = Some(z);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && !pt.has_day() {
                let g = skip(els, k, |i| matches!(i, I::On | I::Fill));
                match els.get(g).map(|e| e.i) {
                    Some(I::Date(d)) => {
                        pt.date = Some(d);
                        k = g + 1;
                        continue;
                    }
                    Some(I::AmbDate) => {
                        pt.amb = true;
                        k = g + 1;
                        continue;
                    }
                    Some(I::BadDate(b)) => {
                        pt.bad = pt.bad.or(Some(b));
                        pt.bad_day = true;
                        k = g + 1;
                        continue;
                    }
                    Some(I::Wd(w)) => {
                        pt.wd = Some(w);
                        k = g + 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if pt.date.is_some() {
                // `14.12.2026 (Monday)`: the weekday adds nothing.
                let g = skip(els, k, |i| matches!(i, I::Fill | I::Comma));
                if let Some(I::Wd(_)) = els.get(g).map(|e| e.i)
                    && g > k
                {
                    k = g + 1;
                    continue;
                }
            }
            break;
        }
        out.push(El {
            i: I::Pt(pt),
            pos: pt.pos,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Interpretation
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Carry {
    date: NaiveDate,
    out_idx: Option<usize>,
    line: usize,
}

#[derive(Default)]
struct Pending {
    start: Option<Pt>,
    end: Option<Pt>,
    carry: Option<NaiveDate>,
    seg_zone: Option<Zv>,
}

struct Interp<'a> {
    ctx: &'a DateContext,
    ref_date: NaiveDate,
    global: Option<Zv>,
    /// Windows by text position; `true` for a lone day opened by `from`/`starting` with no
    /// end (`passive scanning from 1 Feb`).
    out: Vec<(usize, Option<Window>, bool)>,
    /// Distinct windows emitted so far; beyond [`MAX_WINDOWS`] no new one is built.
    distinct: std::collections::HashSet<Window>,
    overflow: bool,
    /// Impossible dates and times found by the matcher.
    bads: &'a [Bad],
    /// Windows that cannot be taken as written, for people.
    invalid: Vec<String>,
    /// See [`DateFindings::lone`].
    lone: Vec<(DateTime<Utc>, String)>,
    /// See [`Work::steps`].
    steps: usize,
    carry: Option<Carry>,
    pend: Pending,
    heading_ctx: bool,
    table_header: bool,
    line_no: usize,
    /// Byte ranges of quoted mail headers (`From:`/`Subject:` blocks of a forward).
    headers: Vec<(usize, usize)>,
}

fn is_ep(i: &I) -> bool {
    matches!(i, I::Pt(_) | I::Num(_))
}

/// A bare number next to a time becomes a time: `von 9 bis 17 Uhr`, `9 to 5pm`, `1-3pm`.
fn num_time(v: u32, partner: &TimeV) -> Option<TimeV> {
    if v > 24 {
        return None;
    }
    let mut t = TimeV::hm(v, 0);
    if partner.mer == 2 && v < 12 && v + 12 <= partner.h {
        t.h = v + 12;
    }
    Some(t)
}

impl Interp<'_> {
    fn run(&mut self, items: &[El]) {
        self.global = find_global_zone(items);
        let mut start = 0;
        let mut sum = Summary::default();
        for (k, el) in items.iter().enumerate() {
            if matches!(el.i, I::Break | I::Line | I::Para) {
                self.segment(items.get(start..k).unwrap_or(&[]), &sum);
                sum = Summary::default();
                start = k + 1;
                if matches!(el.i, I::Line | I::Para) {
                    self.line_no += 1;
                }
            } else {
                sum.add(&el.i);
            }
        }
        self.segment(items.get(start..).unwrap_or(&[]), &sum);
        self.flush();
    }

    /// The windows in text order without duplicates, the invalid ones, and the doubts.
    #[allow(clippy::type_complexity)]
    fn finish(
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
    fn reject_bad(&mut self, p: &Pt, role: &str) -> bool {
        let Some(b) = p.bad else { return false };
        if let Some(bad) = self.bads.get(b as usize) {
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
    fn lone_time(&mut self, d: NaiveDate, t: Option<TimeV>, z: Option<Zv>, msg: String) {
        if let Some(when) = self.instant(d, t, false, z)
            && self.lone.len() < MAX_NOTES
        {
            self.lone.push((when, msg.clone()));
        }
        self.invalid(msg);
    }

    /// `2027-01-14 09:00 CET`, for messages.
    fn describe(&self, d: NaiveDate, t: Option<TimeV>, z: Option<Zv>) -> String {
        let zone = match z {
            Some(Zv::Fixed(off)) => FixedOffset::east_opt(off).map(Zone::Fixed),
            Some(Zv::Named(tz)) => Some(Zone::Named(tz)),
            _ => Some(Zone::Named(self.ctx.default_tz)),
        };
        match (zone, self.instant(d, t, false, z)) {
            (Some(zone), Some(at)) => zone.format(at),
            _ => {
                let (h, m) = t.map_or((0, 0), |t| (t.h, t.m));
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

    fn pt_date(&self, p: &Pt) -> Option<NaiveDate> {
        p.date
            .map(|d| d.date)
            .or(p.wd.map(|w| self.next_weekday(w)))
    }

    fn zone_of(&self, own: Option<Zv>, partner: Option<Zv>, seg: Option<Zv>) -> Option<Zv> {
        own.or(partner).or(seg).or(self.global)
    }

    fn instant(
        &self,
        d: NaiveDate,
        t: Option<TimeV>,
        end: bool,
        z: Option<Zv>,
    ) -> Option<DateTime<Utc>> {
        let (date, h, m, s) = match t {
            None if end => (d.succ_opt()?, 0, 0, 0),
            None => (d, 0, 0, 0),
            Some(t) if t.h == 24 || (t.midnight && end) => (d.succ_opt()?, 0, 0, 0),
            Some(t) => (d, t.h, t.m, t.s),
        };
        let ndt = date.and_hms_opt(h, m, s)?;
        match z {
            Some(Zv::Fixed(off)) => FixedOffset::east_opt(off)?
                .from_local_datetime(&ndt)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            Some(Zv::Named(tz)) => local_to_utc(tz, ndt),
            Some(Zv::Amb(_) | Zv::Unknown) | None => local_to_utc(self.ctx.default_tz, ndt),
        }
    }

    fn mk_range(
        &mut self,
        x: &Pt,
        y: &Pt,
        seg_zone: Option<Zv>,
        src: Option<NaiveDate>,
    ) -> Option<Window> {
        if x.amb || y.amb {
            return None;
        }
        // Both ends are looked at, so each impossible one is reported.
        let bad_x = self.reject_bad(x, "start");
        let bad_y = self.reject_bad(y, "end");
        if bad_x || bad_y {
            return None;
        }
        let mut dx = self.pt_date(x);
        let mut dy = self.pt_date(y);
        if let (Some(a), Some(b)) = (x.date, y.date) {
            if !a.yx && b.yx {
                let mut d = NaiveDate::from_ymd_opt(b.date.year(), a.m, a.d);
                if d.is_some_and(|d| d > b.date) {
                    d = NaiveDate::from_ymd_opt(b.date.year() - 1, a.m, a.d);
                }
                dx = d.or(dx);
            } else if a.yx && !b.yx {
                let mut d = NaiveDate::from_ymd_opt(a.date.year(), b.m, b.d);
                if d.is_some_and(|d| d < a.date) {
                    d = NaiveDate::from_ymd_opt(a.date.year() + 1, b.m, b.d);
                }
                dy = d.or(dy);
            } else if !a.yx && !b.yx && b.date < a.date {
                dy = NaiveDate::from_ymd_opt(b.date.year() + 1, b.m, b.d).or(dy);
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
        if zx == Some(Zv::Unknown) || zy == Some(Zv::Unknown) {
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
        p: &Pt,
        end_role: bool,
        date: NaiveDate,
        seg_zone: Option<Zv>,
    ) -> Option<Window> {
        if self.reject_bad(p, "") {
            return None;
        }
        let z = self.zone_of(p.zone, None, seg_zone);
        if z == Some(Zv::Unknown) {
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
        x: &Pt,
        y: &Pt,
        seg_zone: Option<Zv>,
    ) {
        let (first, last) = days;
        let n = (last - first).num_days();
        if !(0..=31).contains(&n) {
            let a = Pt {
                date: None,
                wd: None,
                ..*x
            };
            let b = Pt {
                date: None,
                wd: None,
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
            let a = Pt {
                date: None,
                wd: None,
                ..*x
            };
            let b = Pt {
                date: None,
                wd: None,
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

    fn segment(&mut self, seg: &[El], sum: &Summary) {
        // The `Date:` of a forwarded message is when it was sent, not a test window.
        if let Some(first) = seg.first()
            && self
                .headers
                .iter()
                .any(|&(a, b)| first.pos >= a && first.pos < b)
        {
            return;
        }
        // Each linear pass below visits the segment a bounded number of times.
        self.steps += seg.len();
        let (npts, has_ctx, label, seg_zone) = (sum.npts, sum.has_ctx, sum.label, sum.zone);
        if npts == 0 {
            self.after_segment(seg, sum);
            return;
        }
        let ctx_ok = has_ctx || self.heading_ctx || label.is_some();
        let sig: Vec<usize> = (0..seg.len())
            .filter(|&k| !matches!(seg.get(k).map(|e| e.i), Some(I::Fill | I::Colon)))
            .collect();
        let at = |p: usize| sig.get(p).and_then(|&k| seg.get(k)).map(|e| e.i);
        let mut used = vec![false; seg.len()];
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut p = 0;
        while p < sig.len() {
            let (Some(cur), Some(&k)) = (at(p), sig.get(p)) else {
                break;
            };
            if matches!(cur, I::Between)
                && at(p + 1).as_ref().is_some_and(is_ep)
                && matches!(at(p + 2), Some(I::And))
                && at(p + 3).as_ref().is_some_and(is_ep)
                && let (Some(&a), Some(&b)) = (sig.get(p + 1), sig.get(p + 3))
            {
                ranges.push((a, b));
                used[a] = true;
                used[b] = true;
                p += 4;
                continue;
            }
            if is_ep(&cur)
                && matches!(at(p + 1), Some(I::Conn))
                && let Some(y) = at(p + 2)
                && is_ep(&y)
                && !(matches!(cur, I::Num(_)) && matches!(y, I::Num(_)))
                && let Some(&b) = sig.get(p + 2)
            {
                ranges.push((k, b));
                used[k] = true;
                used[b] = true;
                p += 3;
                continue;
            }
            p += 1;
        }
        // `starts at 09:00 and ends at 17:00`
        let mut st: Option<usize> = None;
        for p in 0..sig.len() {
            let role = match at(p) {
                Some(I::Start(_)) => false,
                Some(I::End(_)) => true,
                _ => continue,
            };
            let mut q = p + 1;
            while matches!(at(q), Some(I::On | I::From | I::Ctx | I::Other)) && q < p + 4 {
                q += 1;
            }
            let Some(&k) = sig.get(q) else { continue };
            if !matches!(at(q), Some(I::Pt(_))) || used.get(k).copied().unwrap_or(true) {
                continue;
            }
            if !role {
                st = Some(k);
            } else if let Some(s) = st.take() {
                ranges.push((s, k));
                used[s] = true;
                used[k] = true;
            }
        }
        // Table row under a `Date | Start | End` header.
        if self.table_header && ranges.is_empty() {
            let pts: Vec<usize> = (0..seg.len())
                .filter(|&k| matches!(seg.get(k).map(|e| e.i), Some(I::Pt(_))))
                .collect();
            if let [a, b] = pts[..] {
                ranges.push((a, b));
                used[a] = true;
                used[b] = true;
            }
        }
        let pt_at = |k: usize| match seg.get(k).map(|e| e.i) {
            Some(I::Pt(p)) => Some(p),
            _ => None,
        };
        // What lies before each element, computed once so that no point rescans the
        // segment: a negation since the last comma, and the nearest word giving a role.
        let mut neg_at = Vec::with_capacity(seg.len() + 1);
        let mut role_at: Vec<Option<bool>> = Vec::with_capacity(seg.len() + 1);
        {
            let (mut neg, mut role) = (false, None);
            for e in seg {
                neg_at.push(neg);
                role_at.push(role);
                match e.i {
                    I::Comma => neg = false,
                    I::Neg => neg = true,
                    I::End(_) | I::Conn => role = Some(true),
                    I::Start(_) | I::From => role = Some(false),
                    _ => {}
                }
            }
            neg_at.push(neg);
            role_at.push(role);
        }
        let neg_before = |k: usize| neg_at.get(k).copied().unwrap_or(false);
        let real_dates = seg
            .iter()
            .any(|e| matches!(e.i, I::Pt(p) if p.date.is_some() || p.amb || p.bad_day));
        let poison = seg.iter().any(|e| matches!(e.i, I::Pt(p) if p.amb));
        // Label lines without a range of their own feed the start/end pair.
        if let Some(end_role) = label
            && ranges.is_empty()
        {
            if let Some(k) = (0..seg.len()).find(|&k| pt_at(k).is_some())
                && let Some(mut pt) = pt_at(k)
                && !neg_before(k)
            {
                pt.zone = pt.zone.or(seg_zone);
                if pt.wd.is_some() && real_dates && pt.date.is_none() {
                    pt.wd = None;
                }
                self.feed(end_role, pt, seg_zone);
                if pt.time.is_none()
                    && let Some(d) = pt.date
                {
                    self.carry = Some(Carry {
                        date: d.date,
                        out_idx: None,
                        line: self.line_no,
                    });
                } else if pt.bad_day {
                    self.carry = None;
                }
            }
            self.after_segment(seg, sum);
            return;
        }
        let mut time_ranges: Vec<(usize, Pt, Pt)> = Vec::new();
        let mut day_spans: Vec<(usize, Pt, Pt, bool)> = Vec::new();
        let mut last_date: Option<NaiveDate> = None;
        for &(a, b) in &ranges {
            if self.overflow {
                break;
            }
            let (ea, eb) = (seg.get(a).map(|e| e.i), seg.get(b).map(|e| e.i));
            let (x, y) = match (ea, eb) {
                (Some(I::Pt(x)), Some(I::Pt(y))) => (x, y),
                (Some(I::Num(v)), Some(I::Pt(y))) => match y.time.and_then(|t| num_time(v, &t)) {
                    Some(t) => (
                        Pt {
                            time: Some(t),
                            pos: seg.get(a).map_or(0, |e| e.pos),
                            ..Pt::default()
                        },
                        y,
                    ),
                    None => continue,
                },
                (Some(I::Pt(x)), Some(I::Num(v))) => match x.time.and_then(|t| num_time(v, &t)) {
                    Some(t) => (
                        x,
                        Pt {
                            time: Some(t),
                            pos: seg.get(b).map_or(0, |e| e.pos),
                            ..Pt::default()
                        },
                    ),
                    None => continue,
                },
                _ => continue,
            };
            if x.amb || y.amb || neg_before(a) {
                continue;
            }
            let weekday_only = |p: &Pt| p.wd.is_some() && p.date.is_none() && !p.bad_day;
            if (weekday_only(&x) || weekday_only(&y)) && real_dates {
                continue;
            }
            if weekday_only(&x) && weekday_only(&y) {
                continue;
            }
            if !x.has_day() && !y.has_day() {
                time_ranges.push((x.pos, x, y));
            } else if x.time.is_none() && y.time.is_none() {
                day_spans.push((x.pos, x, y, false));
            } else {
                let w = self.mk_range(&x, &y, seg_zone, None);
                last_date = self.pt_date(&x).or(self.pt_date(&y)).or(last_date);
                self.emit(x.pos, w);
            }
        }
        let mut free: Vec<(usize, Pt)> = (0..seg.len())
            .filter(|&k| !used.get(k).copied().unwrap_or(true))
            .filter_map(|k| pt_at(k).map(|p| (k, p)))
            .filter(|(_, p)| !(p.amb || (p.wd.is_some() && p.date.is_none() && real_dates)))
            .collect();
        let mut consumed = vec![false; free.len()];
        // Free days without a time, in order (the same for every time range).
        let day_idx: Vec<usize> = (0..free.len())
            .filter(|&f| {
                free.get(f)
                    .is_some_and(|(_, p)| p.time.is_none() && p.has_day())
            })
            .collect();
        // Every time range applies to every day span (or listed day): a sentence pairing
        // more than the cap allows is no notification anyone writes, and pairing them all,
        // even into repeats, would be quadratic work.
        let days = day_spans.len().max(day_idx.len());
        if time_ranges.len().saturating_mul(days) > MAX_WINDOWS {
            self.overflow = true;
        }
        for (pos, x, y) in &time_ranges {
            if self.overflow {
                break;
            }
            if !day_spans.is_empty() {
                for k in 0..day_spans.len() {
                    self.steps += 1;
                    if self.overflow {
                        break;
                    }
                    let Some((_, a, b, _)) = day_spans.get(k).copied() else {
                        continue;
                    };
                    if let Some(days) = self.span_days(&a, &b, seg_zone) {
                        self.daily(a.pos, days, x, y, seg_zone);
                    }
                    if let Some(ds) = day_spans.get_mut(k) {
                        ds.3 = true;
                    }
                }
                continue;
            }
            if day_idx.len() >= 2 {
                for &f in &day_idx {
                    self.steps += 1;
                    if self.overflow {
                        break;
                    }
                    let Some((_, p)) = free.get(f).copied() else {
                        continue;
                    };
                    if let Some(d) = self.pt_date(&p) {
                        let w = self.mk_range(x, y, seg_zone, Some(d));
                        self.emit(p.pos, w);
                    } else {
                        // An impossible day in the list.
                        self.reject_bad(&p, "");
                    }
                    if let Some(c) = consumed.get_mut(f) {
                        *c = true;
                    }
                }
                continue;
            }
            if let Some(&f) = day_idx.first()
                && let Some((_, p)) = free.get(f).copied()
            {
                if self.reject_bad(&p, "") {
                    if let Some(c) = consumed.get_mut(f) {
                        *c = true;
                    }
                    continue;
                }
                let w = self.mk_range(x, y, seg_zone, self.pt_date(&p));
                self.emit(p.pos.min(*pos), w);
                if let Some(c) = consumed.get_mut(f) {
                    *c = true;
                }
                last_date = self.pt_date(&p);
                continue;
            }
            if let Some(d) = last_date {
                let w = self.mk_range(x, y, seg_zone, Some(d));
                self.emit(*pos, w);
                continue;
            }
            if !poison
                && !real_dates
                && let Some(d) = self.claim_carry()
            {
                let w = self.mk_range(x, y, seg_zone, Some(d));
                self.emit(*pos, w);
            }
        }
        for (pos, a, b, done) in day_spans.clone() {
            if self.overflow {
                break;
            }
            if !done {
                let w = self.mk_range(&a, &b, seg_zone, None);
                self.emit(pos, w);
            }
        }
        // Lone times take the day of the sentence: `on 14.12.2026, starting at 09:00`. The
        // first unused day only moves forward, so it is found by a cursor, not a rescan.
        let mut day_cursor = 0usize;
        for f in 0..free.len() {
            if self.overflow {
                break;
            }
            let Some((k, p)) = free.get(f).copied() else {
                continue;
            };
            if p.has_day() || consumed.get(f).copied().unwrap_or(true) {
                continue;
            }
            if let Some(c) = consumed.get_mut(f) {
                *c = true;
            }
            if neg_before(k) || !ctx_ok {
                continue;
            }
            let end_role = role_at.get(k).copied().flatten().unwrap_or(false);
            while let Some(&g) = day_idx.get(day_cursor)
                && consumed.get(g).copied().unwrap_or(true)
            {
                day_cursor += 1;
                self.steps += 1;
            }
            let day = day_idx.get(day_cursor).copied();
            let date = match day {
                Some(g) => {
                    if let Some(c) = consumed.get_mut(g) {
                        *c = true;
                    }
                    match free.get(g).map(|(_, q)| *q) {
                        Some(q) if self.reject_bad(&q, "") => continue,
                        Some(q) => self.pt_date(&q),
                        None => None,
                    }
                }
                None if !poison && !real_dates => self.claim_carry(),
                None => None,
            };
            if let Some(d) = date {
                let w = self.mk_lone(&p, end_role, d, seg_zone);
                self.emit(p.pos, w);
            } else if p.bad.is_some() && !real_dates {
                // An impossible time with no day to go with is still reported.
                self.reject_bad(&p, "");
            }
        }
        // Lone days and lone day-with-time points.
        for f in 0..free.len() {
            if self.overflow {
                break;
            }
            let Some((k, p)) = free.get(f).copied() else {
                continue;
            };
            if consumed.get(f).copied().unwrap_or(true) || !p.has_day() {
                continue;
            }
            let ok = ctx_ok && !neg_before(k);
            if p.bad_day {
                if ok {
                    self.reject_bad(&p, "");
                }
                // Times on later lines must not take an older date instead.
                self.carry = None;
                continue;
            }
            let Some(d) = self.pt_date(&p) else { continue };
            let idx = if ok {
                // `from 1 Feb` with no end: the day counts, and is remembered as open.
                let open = p.time.is_none() && role_at.get(k).copied().flatten() == Some(false);
                let w = self.mk_lone(&p, false, d, seg_zone);
                self.emit_open(p.pos, w, open)
            } else {
                None
            };
            if p.time.is_none() && p.date.is_some() && !neg_before(k) {
                self.carry = Some(Carry {
                    date: d,
                    out_idx: idx,
                    line: self.line_no,
                });
            }
        }
        free.clear();
        self.after_segment(seg, sum);
    }

    fn span_days(
        &mut self,
        a: &Pt,
        b: &Pt,
        seg_zone: Option<Zv>,
    ) -> Option<(NaiveDate, NaiveDate)> {
        // Reuse the year logic of ranges on two all-day points.
        let w = self.mk_range(
            &Pt {
                time: None,
                zone: Some(Zv::Fixed(0)),
                ..*a
            },
            &Pt {
                time: None,
                zone: Some(Zv::Fixed(0)),
                ..*b
            },
            seg_zone,
            None,
        )?;
        let first = w.start.date_naive();
        let last = w.end.date_naive().pred_opt()?;
        Some((first, last))
    }

    fn after_segment(&mut self, seg: &[El], sum: &Summary) {
        if sum.npts == 0 && !seg.is_empty() {
            self.heading_ctx = sum.has_ctx && sum.ends_colon;
            self.table_header = sum.starts && sum.ends && sum.fills >= 1;
        }
    }

    fn feed(&mut self, end_role: bool, pt: Pt, seg_zone: Option<Zv>) {
        let conflict = |s: &Option<Pt>| {
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
                if s.date.is_none() && !s.amb {
                    s.date = pt.date;
                    s.amb = pt.amb;
                }
                if s.wd.is_none() {
                    s.wd = pt.wd;
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
                if p.amb || self.reject_bad(&p, if end_role { "end" } else { "start" }) {
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
    npts: usize,
    has_ctx: bool,
    /// `Some(false)` for a start label, `Some(true)` for an end label.
    label: Option<bool>,
    zone: Option<Zv>,
    ends_colon: bool,
    starts: bool,
    ends: bool,
    fills: usize,
}

impl Summary {
    fn add(&mut self, i: &I) {
        match i {
            I::Pt(p) => {
                self.npts += 1;
                self.zone = self.zone.or(p.zone);
            }
            I::Zone(z) => self.zone = self.zone.or(Some(*z)),
            I::Ctx | I::Daily | I::Between | I::Times => self.has_ctx = true,
            I::Start(l) => {
                self.has_ctx = true;
                self.starts = true;
                if *l && self.label.is_none() {
                    self.label = Some(false);
                }
            }
            I::End(l) => {
                self.has_ctx = true;
                self.ends = true;
                if *l && self.label.is_none() {
                    self.label = Some(true);
                }
            }
            I::From => self.starts = true,
            I::Conn => self.ends = true,
            I::Fill => self.fills += 1,
            _ => {}
        }
        if !matches!(i, I::Fill) {
            self.ends_colon = matches!(i, I::Colon);
        }
    }
}

/// Byte ranges of mail header blocks left in the text by forwards: runs of `Name: value` lines
/// with a `Subject:`/`Betreff:` line and a `From:`/`Von:` line.
fn header_blocks(text: &str) -> Vec<(usize, usize)> {
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

fn find_global_zone(items: &[El]) -> Option<Zv> {
    let mut hint = false;
    let mut zone: Option<Zv> = None;
    let mut pts = false;
    for el in items {
        match el.i {
            I::TzHint | I::Times => hint = true,
            I::Zone(z) => zone = zone.or(Some(z)),
            I::Pt(p) => {
                pts = true;
                zone = zone.or(p.zone);
            }
            I::Break | I::Line | I::Para => {
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
fn local_to_utc(tz: Tz, ndt: NaiveDateTime) -> Option<DateTime<Utc>> {
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

// ---------------------------------------------------------------------------------------------
// Guards: wordings the window reader does not turn into times, but which mean the windows it
// did read may be wrong (red-team findings 014-025, 056/057, 084-086, 094/095). Each guard is
// one linear pass; what it finds is a doubt (review), never a window, so the safe side holds
// even where the wording is only half understood.
// ---------------------------------------------------------------------------------------------

/// Doubts about the windows in `findings` that the text around them raises.
fn guard_doubts(
    text: &str,
    ctx: &DateContext,
    els: &[El],
    findings: &DateFindings,
) -> Vec<Problem> {
    let mut out = Vec::new();
    label_lines(text, els, &mut out);
    let tz = ctx.default_tz;
    let ref_date = ctx.reference.with_timezone(&tz).date_naive();
    if let Some(first) = findings
        .windows
        .iter()
        .map(|w| w.start.with_timezone(&tz).date_naive())
        .min()
    {
        relative_activity(text, ref_date, first, &mut out);
    }
    zone_statements(text, ctx, findings, &mut out);
    out
}

fn doubt(msg: String) -> Problem {
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

/// The lower-case words of `s` with their byte offsets (letters and digits; `ü` stays).
fn words(s: &str) -> Vec<(usize, String)> {
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

/// 084-086: a labelled start or end line (`Start: today 14:00`, `Start: 03-Dec-2026 08:00`,
/// `Start: 03.12.0000 08:00`) with a time but no day the reader took. The reader then dates
/// the time from the other end, so a test starting today looks like one weeks ahead. The day
/// is never borrowed silently: a relative word, a month name or numbers besides the time on
/// such a line, or a start line without a day next to an end line with one, is a doubt.
fn label_lines(text: &str, els: &[El], out: &mut Vec<Problem>) {
    struct L {
        start: bool,
        time: bool,
        day: bool,
        pos: usize,
    }
    let mut lines: Vec<L> = Vec::new();
    let mut cur: Option<L> = None;
    for el in els {
        match el.i {
            I::Start(true) | I::End(true) => {
                if let Some(l) = cur.take() {
                    lines.push(l);
                }
                cur = Some(L {
                    start: matches!(el.i, I::Start(true)),
                    time: false,
                    day: false,
                    pos: el.pos,
                });
            }
            I::Line | I::Para => {
                if let Some(l) = cur.take() {
                    lines.push(l);
                }
            }
            _ => {
                if let Some(l) = cur.as_mut() {
                    match el.i {
                        I::Time(_) => l.time = true,
                        I::Pt(p) => {
                            l.time |= p.time.is_some();
                            l.day |= p.has_day();
                        }
                        I::Date(_) | I::AmbDate | I::BadDate(_) | I::Wd(_) => l.day = true,
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
        let unread = words(value).iter().any(|(_, w)| {
            is_relative_word(w)
                || matches!(KEYWORDS.get(w.as_bytes()), Some(Kw::Month(_)))
                || matches!(w.as_str(), "next" | "nächste" | "nächsten" | "naechste")
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
    w.contains("test")
        || w.contains("scan")
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
fn relative_activity(text: &str, today: NaiveDate, first: NaiveDate, out: &mut Vec<Problem>) {
    // Sentences: split at `.!?;` before a space (not after a short number: `am 3.`) and at
    // blank lines.
    let b = text.as_bytes();
    let mut start = 0usize;
    let mut i = 0usize;
    while i <= b.len() {
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
            if let Some(s) = text.get(start..i) {
                relative_sentence(s, today, first, out);
            }
            start = i + 1;
        }
        i += 1;
    }
}

fn relative_sentence(s: &str, today: NaiveDate, first: NaiveDate, out: &mut Vec<Problem>) {
    let ws = words(s);
    // Something to be delivered later (`IPs will be provided next week`) is no activity.
    let delivery = ws.iter().any(|(_, w)| {
        matches!(
            w.as_str(),
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
    let w = |k: usize| ws.get(k).map_or("", |(_, w)| w.as_str());
    let mut hit: Option<String> = None;
    for k in 0..ws.len() {
        let cur = w(k);
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
                let after = ws.get(k + 1).map_or(s.len(), |(p, w)| p + w.len());
                let tail = s.get(after..).unwrap_or("");
                (1..=2).contains(&digits)
                    && next.len() == digits
                    && tail.starts_with('.')
                    && !tail
                        .get(1..)
                        .is_some_and(|t| t.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            };
            let month_after = matches!(KEYWORDS.get(w(k + 2).as_bytes()), Some(Kw::Month(_)))
                || (w(k + 2) == "of"
                    && matches!(KEYWORDS.get(w(k + 3).as_bytes()), Some(Kw::Month(_))));
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

/// Cities and countries that name one zone, beyond [`PLACES`] (which holds those that settle
/// ambiguous abbreviations): common capitals and business cities, in the spellings of
/// English, German and French mails. Multi-word names by their last word (`york`, `kong`).
const CITIES: &[(&str, Tz)] = &[
    ("helsinki", chrono_tz::Europe::Helsinki),
    ("finland", chrono_tz::Europe::Helsinki),
    ("finnland", chrono_tz::Europe::Helsinki),
    ("kyiv", chrono_tz::Europe::Kyiv),
    ("kiev", chrono_tz::Europe::Kyiv),
    ("kiew", chrono_tz::Europe::Kyiv),
    ("ukraine", chrono_tz::Europe::Kyiv),
    ("athens", chrono_tz::Europe::Athens),
    ("athen", chrono_tz::Europe::Athens),
    ("athènes", chrono_tz::Europe::Athens),
    ("greece", chrono_tz::Europe::Athens),
    ("griechenland", chrono_tz::Europe::Athens),
    ("bucharest", chrono_tz::Europe::Bucharest),
    ("bukarest", chrono_tz::Europe::Bucharest),
    ("romania", chrono_tz::Europe::Bucharest),
    ("sofia", chrono_tz::Europe::Sofia),
    ("bulgaria", chrono_tz::Europe::Sofia),
    ("riga", chrono_tz::Europe::Riga),
    ("tallinn", chrono_tz::Europe::Tallinn),
    ("vilnius", chrono_tz::Europe::Vilnius),
    ("istanbul", chrono_tz::Europe::Istanbul),
    ("ankara", chrono_tz::Europe::Istanbul),
    ("turkey", chrono_tz::Europe::Istanbul),
    ("türkei", chrono_tz::Europe::Istanbul),
    ("moscow", chrono_tz::Europe::Moscow),
    ("moskau", chrono_tz::Europe::Moscow),
    ("moscou", chrono_tz::Europe::Moscow),
    ("russia", chrono_tz::Europe::Moscow),
    ("minsk", chrono_tz::Europe::Minsk),
    ("cairo", chrono_tz::Africa::Cairo),
    ("kairo", chrono_tz::Africa::Cairo),
    ("lisbon", chrono_tz::Europe::Lisbon),
    ("lissabon", chrono_tz::Europe::Lisbon),
    ("lisbonne", chrono_tz::Europe::Lisbon),
    ("portugal", chrono_tz::Europe::Lisbon),
    ("paris", chrono_tz::Europe::Paris),
    ("berlin", chrono_tz::Europe::Berlin),
    ("frankfurt", chrono_tz::Europe::Berlin),
    ("munich", chrono_tz::Europe::Berlin),
    ("münchen", chrono_tz::Europe::Berlin),
    ("hamburg", chrono_tz::Europe::Berlin),
    ("zurich", chrono_tz::Europe::Zurich),
    ("zürich", chrono_tz::Europe::Zurich),
    ("geneva", chrono_tz::Europe::Zurich),
    ("genf", chrono_tz::Europe::Zurich),
    ("genève", chrono_tz::Europe::Zurich),
    ("bern", chrono_tz::Europe::Zurich),
    ("basel", chrono_tz::Europe::Zurich),
    ("vienna", chrono_tz::Europe::Vienna),
    ("wien", chrono_tz::Europe::Vienna),
    ("rome", chrono_tz::Europe::Rome),
    ("rom", chrono_tz::Europe::Rome),
    ("milan", chrono_tz::Europe::Rome),
    ("mailand", chrono_tz::Europe::Rome),
    ("madrid", chrono_tz::Europe::Madrid),
    ("barcelona", chrono_tz::Europe::Madrid),
    ("amsterdam", chrono_tz::Europe::Amsterdam),
    ("brussels", chrono_tz::Europe::Brussels),
    ("brüssel", chrono_tz::Europe::Brussels),
    ("bruxelles", chrono_tz::Europe::Brussels),
    ("prague", chrono_tz::Europe::Prague),
    ("prag", chrono_tz::Europe::Prague),
    ("warsaw", chrono_tz::Europe::Warsaw),
    ("warschau", chrono_tz::Europe::Warsaw),
    ("budapest", chrono_tz::Europe::Budapest),
    ("stockholm", chrono_tz::Europe::Stockholm),
    ("oslo", chrono_tz::Europe::Oslo),
    ("copenhagen", chrono_tz::Europe::Copenhagen),
    ("kopenhagen", chrono_tz::Europe::Copenhagen),
    ("luxembourg", chrono_tz::Europe::Luxembourg),
    ("tokyo", chrono_tz::Asia::Tokyo),
    ("tokio", chrono_tz::Asia::Tokyo),
    ("osaka", chrono_tz::Asia::Tokyo),
    ("japan", chrono_tz::Asia::Tokyo),
    ("seoul", chrono_tz::Asia::Seoul),
    ("korea", chrono_tz::Asia::Seoul),
    ("kong", chrono_tz::Asia::Hong_Kong),
    ("bangkok", chrono_tz::Asia::Bangkok),
    ("jakarta", chrono_tz::Asia::Jakarta),
    ("manila", chrono_tz::Asia::Manila),
    ("karachi", chrono_tz::Asia::Karachi),
    ("pakistan", chrono_tz::Asia::Karachi),
    ("tehran", chrono_tz::Asia::Tehran),
    ("teheran", chrono_tz::Asia::Tehran),
    ("iran", chrono_tz::Asia::Tehran),
    ("kathmandu", chrono_tz::Asia::Kathmandu),
    ("sydney", chrono_tz::Australia::Sydney),
    ("melbourne", chrono_tz::Australia::Melbourne),
    ("brisbane", chrono_tz::Australia::Brisbane),
    ("perth", chrono_tz::Australia::Perth),
    ("auckland", chrono_tz::Pacific::Auckland),
    ("york", chrono_tz::America::New_York),
    ("boston", chrono_tz::America::New_York),
    ("washington", chrono_tz::America::New_York),
    ("miami", chrono_tz::America::New_York),
    ("atlanta", chrono_tz::America::New_York),
    ("toronto", chrono_tz::America::Toronto),
    ("montreal", chrono_tz::America::Toronto),
    ("denver", chrono_tz::America::Denver),
    ("phoenix", chrono_tz::America::Phoenix),
    ("angeles", chrono_tz::America::Los_Angeles),
    ("francisco", chrono_tz::America::Los_Angeles),
    ("seattle", chrono_tz::America::Los_Angeles),
    ("vancouver", chrono_tz::America::Vancouver),
    ("paulo", chrono_tz::America::Sao_Paulo),
    ("aires", chrono_tz::America::Argentina::Buenos_Aires),
    ("bogota", chrono_tz::America::Bogota),
    ("lima", chrono_tz::America::Lima),
    ("johannesburg", chrono_tz::Africa::Johannesburg),
    ("lagos", chrono_tz::Africa::Lagos),
    ("nairobi", chrono_tz::Africa::Nairobi),
];

/// The zone a place word names, if one.
fn place_zone(w: &str) -> Option<Tz> {
    if let Some((_, tz)) = CITIES.iter().find(|(n, _)| *n == w) {
        return Some(*tz);
    }
    match KEYWORDS.get(w.as_bytes()) {
        Some(Kw::Place(p)) => PLACES.get(usize::from(p)).map(|(tz, _)| *tz),
        _ => None,
    }
}

/// Words before `time`/`Zeit` that are no place (`local time`, `response time`); a word not
/// here and no place is only a doubt where the wording is a zone statement.
const NOT_PLACES: &[&str] = &[
    "local",
    "standard",
    "summer",
    "daylight",
    "same",
    "any",
    "real",
    "response",
    "lead",
    "down",
    "run",
    "test",
    "each",
    "first",
    "last",
    "next",
    "full",
    "part",
    "free",
    "reaction",
    "short",
    "long",
    "business",
    "office",
    "working",
    "maintenance",
    "our",
    "your",
    "the",
    "that",
    "this",
    "what",
    "some",
    "no",
    "one",
    "exact",
    "execution",
    "processing",
    "recovery",
    "up",
    "over",
    "central",
    "eastern",
    "pacific",
    "mountain",
    "european",
    "swiss",
    "universal",
    "coordinated",
    "greenwich",
    "mean",
    "zone",
    "all",
    "are",
    "in",
    "at",
    "a",
    "of",
    "and",
    "or",
    "given",
    "stated",
    "listed",
    "shown",
    "above",
    "below",
    "these",
    "those",
    "such",
    "date",
    "start",
    "end",
    "window",
    "test",
    "execution",
    "scan",
    "downtime",
    "peak",
    "quiet",
    "core",
    "off",
    "on",
    "spare",
    "wall",
];

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
fn zone_statements(text: &str, ctx: &DateContext, findings: &DateFindings, out: &mut Vec<Problem>) {
    if findings.windows.is_empty() {
        return;
    }
    let mut stated: Vec<(Stated, String)> = Vec::new();
    let ws = words(text);
    let w = |k: usize| ws.get(k).map_or("", |(_, w)| w.as_str());
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
        let before = back(pos).trim_end_matches([' ', '(', '\t']);
        let b = before.as_bytes();
        let n = b.len();
        n >= 4
            && b[n - 1].is_ascii_digit()
            && b[n - 2].is_ascii_digit()
            && matches!(b[n - 3], b':' | b'.')
    };
    for k in 0..ws.len() {
        let (pos, cur) = match ws.get(k) {
            Some((p, c)) => (*p, c.as_str()),
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
        if (2..=5).contains(&cur.len())
            && (line_alone(pos, cur.len())
                || (in_parens(pos)
                    && text
                        .get(pos + cur.len()..)
                        .is_some_and(|t| t.starts_with(')'))))
            && let Some((_, off, _, _)) = ABBREVIATIONS.iter().find(|(n, ..)| *n == cur)
        {
            stated.push((Stated::Fixed(*off), cur.to_uppercase()));
            continue;
        }
        // `<Place> time`, `<Place> Standard Time`.
        let time_next = matches!(next, "time" | "zeit")
            || (matches!(next, "standard" | "summer" | "daylight") && w(k + 2) == "time");
        let statement_ctx = in_parens(pos)
            || matches!(w(k.wrapping_sub(1)), "in" | "are" | "times" | "zeiten")
            || matches!(w(k.wrapping_sub(2)), "all" | "alle" | "times");
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
            resolve(cur, statement_ctx, &mut stated);
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
    use super::*;
    use chrono::TimeZone;

    fn ctx_at(y: i32, m: u32, d: u32) -> DateContext {
        DateContext {
            default_tz: chrono_tz::Europe::Zurich,
            reference: Utc
                .with_ymd_and_hms(y, m, d, 10, 0, 0)
                .single()
                .expect("ref"),
        }
    }

    fn ctx() -> DateContext {
        ctx_at(2026, 11, 2)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    fn w(a: &str, b: &str) -> Window {
        Window {
            start: utc(a),
            end: utc(b),
        }
    }

    fn wins(text: &str) -> Vec<Window> {
        find_windows(text, &ctx()).windows
    }

    #[test]
    fn spec_example_load_test_sentence() {
        let f = find_windows(
            "We plan to run the load test on Monday, 14 December 2026 from 09:00 to 17:00 CET.",
            &ctx(),
        );
        assert_eq!(
            f.windows,
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
        assert_eq!(
            f.zone,
            Some(Zone::Fixed(FixedOffset::east_opt(3600).expect("off")))
        );
    }

    #[test]
    fn spec_example_zeitraum() {
        assert_eq!(
            wins("Zeitraum: 14.12.2026, 08:00 – 12:00 Uhr"),
            vec![w("2026-12-14T07:00:00Z", "2026-12-14T11:00:00Z")]
        );
    }

    fn day(y: i32, m: u32, d: u32) -> Window {
        // A whole local (Zurich) day.
        let tz = chrono_tz::Europe::Zurich;
        let a = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let b = a.succ_opt().expect("succ");
        Window {
            start: tz
                .from_local_datetime(&a.and_hms_opt(0, 0, 0).expect("t"))
                .single()
                .expect("s")
                .with_timezone(&Utc),
            end: tz
                .from_local_datetime(&b.and_hms_opt(0, 0, 0).expect("t"))
                .single()
                .expect("s")
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn spec_example_start_end_lines_utc() {
        let f = find_windows(
            "Start: 2027-01-11 22:00 UTC\nEnd: 2027-01-12 02:00 UTC",
            &ctx(),
        );
        assert_eq!(
            f.windows,
            vec![w("2027-01-11T22:00:00Z", "2027-01-12T02:00:00Z")]
        );
        assert_eq!(f.zone.map(|z| z.label()), Some("UTC".to_string()));
    }

    #[test]
    fn spec_example_testfenster_days() {
        assert_eq!(
            wins("Testfenster: Mo 11.01.2027 bis Fr 15.01.2027"),
            vec![w("2027-01-10T23:00:00Z", "2027-01-15T23:00:00Z")]
        );
    }

    #[test]
    fn spec_example_between_am_est() {
        let f = find_windows("between 8am and 11am EST on January 19, 2027", &ctx());
        assert_eq!(
            f.windows,
            vec![w("2027-01-19T13:00:00Z", "2027-01-19T16:00:00Z")]
        );
        assert_eq!(f.zone.map(|z| z.label()), Some("UTC-05:00".to_string()));
    }

    #[test]
    fn iso_with_offset() {
        assert_eq!(
            wins("Test window: 2026-12-14T09:00:00+01:00 - 2026-12-14T17:00:00+01:00"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
        assert_eq!(
            wins("Window: 2026-12-14T09:00:00Z to 2026-12-14T11:30:00Z"),
            vec![w("2026-12-14T09:00:00Z", "2026-12-14T11:30:00Z")]
        );
        assert_eq!(
            wins("Window: 2026-12-14T09:00:00-05:00 to 2026-12-14T11:00:00-05:00"),
            vec![w("2026-12-14T14:00:00Z", "2026-12-14T16:00:00Z")]
        );
        assert_eq!(
            wins("The test runs 2026-12-14 09:00 +0100 until 2026-12-14 10:00 +0100"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z")]
        );
    }

    #[test]
    fn iso_space_and_dotted_with_range() {
        let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
        assert_eq!(wins("Test: 2026-12-14 09:00 - 2026-12-14 17:00"), want);
        assert_eq!(wins("Test: 14.12.2026 09:00-17:00"), want);
        assert_eq!(wins("Test am 14.12.26 von 9 bis 17 Uhr"), want);
        assert_eq!(wins("The test is on 14.12.2026 from 09:00 to 17:00."), want);
        assert_eq!(
            wins("Lasttest am 14. Dezember 2026, 9 Uhr bis 17 Uhr"),
            want
        );
        assert_eq!(wins("Lasttest am 14.12.2026 von 9.00 bis 17.00 Uhr"), want);
        assert_eq!(wins("Test on December 14, 2026 9:00 AM - 5:00 PM"), want);
        assert_eq!(
            wins("Test on December 14, 2026 from 9 a.m. to 5 p.m."),
            want
        );
        assert_eq!(
            wins("Der Test findet am 14.12.2026 zwischen 9 und 17 Uhr statt."),
            want
        );
        assert_eq!(wins("Test: 14.12.2026 9h - 17h"), want);
        assert_eq!(wins("Test: 14.12.2026 9:00 Uhr bis 17:00 Uhr"), want);
        assert_eq!(wins("Testing on Dec 14th 2026, 9am-5pm"), want);
        assert_eq!(
            wins("We test on 14th of December 2026 from 9 to 5pm."),
            want
        );
        assert_eq!(
            wins("Test window: Monday, 14 December 2026, 09:00 – 17:00"),
            want
        );
        assert_eq!(wins("Test window: 14 Dec 2026 09:00 — 17:00"), want);
    }

    #[test]
    fn yearless_and_weekday_slash() {
        // Reference 2026-11-02: December is in the coming weeks.
        let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
        assert_eq!(wins("Test on Mon 14/12 09:00-17:00"), want);
        assert_eq!(wins("Test on Dec 14th, 9am to 5pm"), want);
        assert_eq!(wins("Test on 14 Dec 09:00-17:00"), want);
        assert_eq!(wins("Test am 14.12. von 09:00 bis 17:00"), want);
    }

    #[test]
    fn noon_and_midnight() {
        assert_eq!(
            wins("Test on 14.12.2026 from noon until midnight"),
            vec![w("2026-12-14T11:00:00Z", "2026-12-14T23:00:00Z")]
        );
        assert_eq!(
            wins("Test on 14.12.2026 from midnight to 12 noon"),
            vec![w("2026-12-13T23:00:00Z", "2026-12-14T11:00:00Z")]
        );
    }

    #[test]
    fn summer_and_winter_time() {
        assert_eq!(
            wins("Test window: 2027-07-01 09:00 - 2027-07-01 10:00"),
            vec![w("2027-07-01T07:00:00Z", "2027-07-01T08:00:00Z")]
        );
        assert_eq!(
            wins("Test window: 2026-12-14 09:00 - 2026-12-14 10:00"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z")]
        );
    }

    #[test]
    fn dst_gap_and_fold() {
        let c = ctx_at(2027, 2, 1);
        // 2027-03-28 02:30 does not exist in Zurich: first valid instant is 03:00 CEST.
        let f = find_windows("Test: 28.03.2027 02:30 - 28.03.2027 04:00", &c);
        assert_eq!(
            f.windows,
            vec![w("2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z")]
        );
        // 2027-10-31 02:30 happens twice: the earlier (CEST) is taken.
        let c = ctx_at(2027, 9, 1);
        let f = find_windows("Test: 31.10.2027 02:30 - 31.10.2027 05:00", &c);
        assert_eq!(
            f.windows,
            vec![w("2027-10-31T00:30:00Z", "2027-10-31T04:00:00Z")]
        );
    }

    #[test]
    fn single_day_whole_day() {
        assert_eq!(
            wins("The test will take place on 14.12.2026."),
            vec![day(2026, 12, 14)]
        );
        assert_eq!(wins("Datum: 14. Dezember 2026"), vec![day(2026, 12, 14)]);
        assert_eq!(wins("Date: 2027-07-01"), vec![day(2027, 7, 1)]);
    }

    #[test]
    fn range_last_day_without_time_ends_at_midnight() {
        assert_eq!(
            wins("Test from 14.12.2026 09:00 to 15.12.2026"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-15T23:00:00Z")]
        );
        assert_eq!(
            wins("Test from 14.12.2026 to 15.12.2026 17:00"),
            vec![w("2026-12-13T23:00:00Z", "2026-12-15T16:00:00Z")]
        );
    }

    #[test]
    fn day_ranges() {
        let want = vec![w("2026-12-13T23:00:00Z", "2026-12-18T23:00:00Z")];
        assert_eq!(wins("Test: 14-18 December 2026"), want);
        assert_eq!(wins("Test vom 14. bis 18. Dezember 2026"), want);
        assert_eq!(wins("Test: Dec 14-18, 2026"), want);
        assert_eq!(wins("Test: Dec 14 - 18"), want);
        assert_eq!(wins("Test: 14.-18.12.2026"), want);
        assert_eq!(wins("Test: 14.12. - 18.12.2026"), want);
        assert_eq!(wins("Testzeitraum: 14.12.2026 – 18.12.2026"), want);
    }

    #[test]
    fn day_range_with_daily_hours_gives_one_window_per_day() {
        let f = wins("Load test: 14-16 Dec 2026, 09:00-17:00 daily");
        assert_eq!(
            f,
            vec![
                w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z"),
                w("2026-12-15T08:00:00Z", "2026-12-15T16:00:00Z"),
                w("2026-12-16T08:00:00Z", "2026-12-16T16:00:00Z"),
            ]
        );
        let g = wins("Lasttest vom 14. bis 16. Dezember 2026 jeweils von 9 bis 17 Uhr");
        assert_eq!(f, g);
    }

    #[test]
    fn list_of_days_with_hours_each() {
        assert_eq!(
            wins("Test on 14.12. and 16.12.2026, 09:00-12:00 each"),
            vec![
                w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
                w("2026-12-16T08:00:00Z", "2026-12-16T11:00:00Z"),
            ]
        );
    }

    #[test]
    fn bullet_list_of_windows() {
        let text = "Planned test windows:\n- Mon 14/12: 09:00-12:00\n- Tue 15/12: 13:00-17:00\n";
        assert_eq!(
            wins(text),
            vec![
                w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
                w("2026-12-15T12:00:00Z", "2026-12-15T16:00:00Z"),
            ]
        );
        let text = "Window 1: 14.12.2026 09:00-12:00\nWindow 2: 15.12.2026 13:00-17:00";
        assert_eq!(
            wins(text),
            vec![
                w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
                w("2026-12-15T12:00:00Z", "2026-12-15T16:00:00Z"),
            ]
        );
    }

    #[test]
    fn labelled_lines_split_date_and_time() {
        let want = vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")];
        assert_eq!(
            wins(
                "Start date: 14.12.2026\nStart time: 09:00\nEnd date: 14.12.2026\nEnd time: 17:00"
            ),
            want
        );
        assert_eq!(
            wins("Beginn: 14.12.2026, 09:00 Uhr\nEnde: 14.12.2026, 17:00 Uhr"),
            want
        );
        assert_eq!(wins("Von: 14.12.2026 09:00\nBis: 14.12.2026 17:00"), want);
        assert_eq!(
            wins("Start\t14.12.2026\t09:00\nEnd\t14.12.2026\t17:00\n"),
            want
        );
        assert_eq!(wins("Date: 14.12.2026\nStart: 09:00\nEnd: 17:00"), want);
        assert_eq!(wins("Date: 14.12.2026\nTime: 09:00 - 17:00"), want);
        assert_eq!(wins("Start: 14.12.2026 09:00 End: 14.12.2026 17:00"), want);
    }

    #[test]
    fn table_with_header_row() {
        assert_eq!(
            wins("Datum\tVon\tBis\n14.12.2026\t09:00\t17:00\n"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
    }

    #[test]
    fn zones_written_in_many_ways() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "Test 14.12.2026 09:00-17:00 UTC",
                "2026-12-14T09:00:00Z",
                "2026-12-14T17:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 GMT",
                "2026-12-14T09:00:00Z",
                "2026-12-14T17:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 UTC+1",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 GMT+2",
                "2026-12-14T07:00:00Z",
                "2026-12-14T15:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 UTC-05:00",
                "2026-12-14T14:00:00Z",
                "2026-12-14T22:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 MEZ",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 CEST",
                "2026-12-14T07:00:00Z",
                "2026-12-14T15:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 BST (London)",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 PST",
                "2026-12-14T17:00:00Z",
                "2026-12-15T01:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 AEDT",
                "2026-12-13T22:00:00Z",
                "2026-12-14T06:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 JST",
                "2026-12-14T00:00:00Z",
                "2026-12-14T08:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 Europe/London",
                "2026-12-14T09:00:00Z",
                "2026-12-14T17:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 America/New_York",
                "2026-12-14T14:00:00Z",
                "2026-12-14T22:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 (Swiss time)",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 Schweizer Zeit",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 local time (Zurich)",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 +01:00",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
            (
                "Test 14.12.2026 09:00-17:00 CET/CEST",
                "2026-12-14T08:00:00Z",
                "2026-12-14T16:00:00Z",
            ),
        ];
        for (text, a, b) in cases {
            assert_eq!(wins(text), vec![w(a, b)], "{text}");
        }
    }

    #[test]
    fn named_zone_reported() {
        let f = find_windows("Test 14.12.2026 09:00-17:00 Europe/London", &ctx());
        assert_eq!(f.zone, Some(Zone::Named(chrono_tz::Europe::London)));
        let f = find_windows("Test 14.12.2026 09:00-17:00 Swiss time", &ctx());
        assert_eq!(f.zone, Some(Zone::Named(chrono_tz::Europe::Zurich)));
        let f = find_windows("Test 14.12.2026 09:00-17:00", &ctx());
        assert_eq!(f.zone, None);
    }

    #[test]
    fn zone_line_applies_to_whole_text() {
        let text = "Start: 14.12.2026 09:00\nEnd: 14.12.2026 17:00\nZeitzone: UTC";
        let f = find_windows(text, &ctx());
        assert_eq!(
            f.windows,
            vec![w("2026-12-14T09:00:00Z", "2026-12-14T17:00:00Z")]
        );
        let text = "All times are in UTC.\nTest on 14.12.2026 from 09:00 to 17:00.";
        assert_eq!(
            wins(text),
            vec![w("2026-12-14T09:00:00Z", "2026-12-14T17:00:00Z")]
        );
    }

    #[test]
    fn zone_on_start_line_carries_to_end_line() {
        assert_eq!(
            wins("Start: 14.12.2026 09:00 CET\nEnd: 14.12.2026 17:00"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
    }

    #[test]
    fn ambiguous_zone_is_reported() {
        let f = find_windows("Test on 14.12.2026 from 09:00 to 17:00 IST", &ctx());
        assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
        // Read in the default zone; the rules send it to a person.
        assert_eq!(
            f.windows,
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
        // German "ist" is a verb, not a zone.
        let f = find_windows("Der Test ist am 14.12.2026 von 9 bis 17 Uhr.", &ctx());
        assert!(f.ambiguous_zones.is_empty());
        assert_eq!(f.windows.len(), 1);
    }

    #[test]
    fn ambiguous_numeric_dates() {
        let f = find_windows("Test on 03/04/2027 from 09:00 to 17:00", &ctx());
        assert_eq!(f.ambiguous_dates, vec!["03/04/2027".to_string()]);
        assert!(f.windows.is_empty());
        let f = find_windows("Test on 03-04-2027", &ctx());
        assert_eq!(f.ambiguous_dates, vec!["03-04-2027".to_string()]);
        assert!(f.windows.is_empty());
        // A weekday that fits only one reading settles it: 2027-03-04 is a Thursday.
        let f = find_windows("Test on Thursday 03/04/2027 09:00-17:00", &ctx());
        assert!(f.ambiguous_dates.is_empty());
        assert_eq!(
            f.windows,
            vec![w("2027-03-04T08:00:00Z", "2027-03-04T16:00:00Z")]
        );
        // 2027-04-03 is a Saturday.
        let f = find_windows("Test on Sat 03/04/2027 09:00-17:00", &ctx());
        assert_eq!(
            f.windows,
            vec![w("2027-04-03T07:00:00Z", "2027-04-03T15:00:00Z")]
        );
        // Dotted is day first, ISO is never ambiguous, a field over 12 decides.
        let f = find_windows("Test on 03.04.2027", &ctx());
        assert!(f.ambiguous_dates.is_empty());
        assert_eq!(f.windows, vec![day(2027, 4, 3)]);
        let f = find_windows("Test on 2027/04/03", &ctx());
        assert_eq!(f.windows, vec![day(2027, 4, 3)]);
        let f = find_windows("Test on 12/25/2026", &ctx());
        assert!(f.ambiguous_dates.is_empty());
        assert_eq!(f.windows, vec![day(2026, 12, 25)]);
        let f = find_windows("Test on 25/12/2026", &ctx());
        assert_eq!(f.windows, vec![day(2026, 12, 25)]);
    }

    #[test]
    fn weekday_contradicting_date_is_ambiguous() {
        let f = find_windows("Test on Monday, 15 December 2026", &ctx());
        assert_eq!(f.ambiguous_dates.len(), 1);
        assert!(f.windows.is_empty());
    }

    #[test]
    fn year_inference_around_new_year() {
        let c = ctx_at(2026, 12, 20);
        assert_eq!(
            find_windows("Test on 5 Jan", &c).windows,
            vec![day(2027, 1, 5)]
        );
        assert_eq!(
            find_windows("Test on 28 Dec", &c).windows,
            vec![day(2026, 12, 28)]
        );
        // Within 60 days back stays in the past year.
        assert_eq!(
            find_windows("Test on 1 Nov", &c).windows,
            vec![day(2026, 11, 1)]
        );
        assert_eq!(
            find_windows("Test from 28 Dec to 3 Jan", &c).windows,
            vec![w("2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z")]
        );
        assert_eq!(
            find_windows("Test: 30.12. - 02.01.2027", &c).windows,
            vec![w("2026-12-29T23:00:00Z", "2027-01-02T23:00:00Z")]
        );
    }

    #[test]
    fn two_digit_years_and_month_names() {
        assert_eq!(wins("Test on 03.03.27"), vec![day(2027, 3, 3)]);
        assert_eq!(wins("Test am 3. März 2027"), vec![day(2027, 3, 3)]);
        assert_eq!(wins("Test am 3. Maerz 2027"), vec![day(2027, 3, 3)]);
        assert_eq!(wins("Test am 3. Okt. 2027"), vec![day(2027, 10, 3)]);
        assert_eq!(wins("Test on 3 Sept 2027"), vec![day(2027, 9, 3)]);
        assert_eq!(wins("Test on Jan. 3, 2027"), vec![day(2027, 1, 3)]);
        assert_eq!(wins("Test am 3. Dez"), vec![day(2026, 12, 3)]);
    }

    #[test]
    fn weekday_only_references() {
        // Reference Monday 2026-11-02: "next Monday" and "Montag" are 2026-11-09.
        assert_eq!(
            wins("We will run the test next Monday from 9:00 to 12:00."),
            vec![w("2026-11-09T08:00:00Z", "2026-11-09T11:00:00Z")]
        );
        assert_eq!(
            wins("Der Test findet am Montag statt."),
            vec![day(2026, 11, 9)]
        );
    }

    #[test]
    fn overnight_window() {
        assert_eq!(
            wins("Test on 14.12.2026 22:00-02:00"),
            vec![w("2026-12-14T21:00:00Z", "2026-12-15T01:00:00Z")]
        );
    }

    #[test]
    fn end_before_start_is_kept() {
        assert_eq!(
            wins("Test from 15.12.2026 to 14.12.2026"),
            vec![w("2026-12-14T23:00:00Z", "2026-12-14T23:00:00Z")]
        );
    }

    #[test]
    fn non_window_dates_are_ignored() {
        for text in [
            "Our contract from 2019 is still valid.",
            "As discussed on 12 Nov, we send the details later.",
            "Invoice dated 01.12.2026 attached.",
            "Last year's test on 2025-05-01 went fine.",
            "Call me at +41 44 123 45 67.",
            "Our server 10.12.2026.1 is version 1.2.3.",
            "Support is 24/7.",
            "Budget for 03/2027.",
            "We sent 1.50 Gbit/s.",
            "Thanks for your reply on 12.11.2026.",
        ] {
            let f = find_windows(text, &ctx());
            assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
            assert!(f.ambiguous_dates.is_empty(), "{text}");
        }
    }

    #[test]
    fn windows_in_order_and_deduplicated() {
        let text = "Test window: 15.12.2026 09:00-10:00.\nReminder, test window: 14.12.2026 09:00-10:00.\nAgain: test on 15.12.2026 09:00-10:00.";
        assert_eq!(
            wins(text),
            vec![
                w("2026-12-15T08:00:00Z", "2026-12-15T09:00:00Z"),
                w("2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z"),
            ]
        );
    }

    #[test]
    fn german_prose() {
        let text = "Sehr geehrte Damen und Herren\n\nWir möchten Ihnen mitteilen, dass wir am Dienstag, 15. Dezember 2026 \
                    zwischen 08:00 und 12:00 Uhr einen Lasttest auf www.example.ch durchführen werden.\n\nFreundliche Grüsse";
        assert_eq!(
            wins(text),
            vec![w("2026-12-15T07:00:00Z", "2026-12-15T11:00:00Z")]
        );
    }

    #[test]
    fn realistic_english_mail() {
        let text = "Hi team,\n\nwe'd like to notify you about a penetration test against our site shop.example.com.\n\
                    Scope: web application only.\n\
                    Start: 11 January 2027, 22:00 CET\n\
                    End: 12 January 2027, 02:00 CET\n\
                    Source IPs: 203.0.113.10, 203.0.113.11\n\
                    Contact: Jane Doe, +41 79 123 45 67\n\nThanks!";
        let f = find_windows(text, &ctx());
        assert_eq!(
            f.windows,
            vec![w("2027-01-11T21:00:00Z", "2027-01-12T01:00:00Z")]
        );
        assert_eq!(f.zone.map(|z| z.label()), Some("UTC+01:00".to_string()));
    }

    #[test]
    fn hard_wrapped_sentence() {
        let text = "We plan to run the load test against www.example.com on Monday, 14 December\n2026 from 09:00 to 17:00 CET. Please let us know.";
        assert_eq!(
            wins(text),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            #[test]
            fn no_panic_on_arbitrary_strings(s in "\\PC{0,300}") {
                let _ = find_windows(&s, &ctx());
            }

            #[test]
            fn no_panic_on_date_like_soup(s in "[0-9 .:/\\-–+TZa-zäöüÄÖÜ\\t\\n,()]{0,200}") {
                let _ = find_windows(&s, &ctx());
            }

            #[test]
            fn no_panic_on_keyword_soup(
                parts in proptest::collection::vec(
                    prop_oneof![
                        Just("14.12.2026"), Just("09:00"), Just("-"), Just("bis"), Just("to"),
                        Just("Start:"), Just("End:"), Just("\n"), Just("\t"), Just("UTC+1"),
                        Just("Dec"), Just("14"), Just("18"), Just("and"), Just("between"),
                        Just("9am"), Just("IST"), Just("03/04/2027"), Just("Montag"), Just("daily"),
                        Just("midnight"), Just("24:00"), Just("+01:00"), Just("Europe/Zurich"),
                        Just("ü"), Just("."), Just(","), Just("test"), Just("Uhr"), Just("Z"),
                    ],
                    0..40,
                )
            ) {
                let text = parts.join(" ");
                let a = find_windows(&text, &ctx());
                let b = find_windows(&text, &ctx());
                prop_assert_eq!(&a, &b);
                for (i, w) in a.windows.iter().enumerate() {
                    prop_assert!(!a.windows[..i].contains(w));
                }
            }

            #[test]
            fn dotted_ranges_match_chrono(
                y in 2025i32..2030, m in 1u32..=12, d in 1u32..=28,
                h1 in 0u32..24, m1 in 0u32..60, h2 in 0u32..24, m2 in 0u32..60,
            ) {
                let text = format!(
                    "Test window: {d:02}.{m:02}.{y} {h1:02}:{m1:02} - {d:02}.{m:02}.{y} {h2:02}:{m2:02}"
                );
                let f = find_windows(&text, &ctx());
                let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
                let tz = chrono_tz::Europe::Zurich;
                let conv = |h: u32, mi: u32| local_to_utc(tz, date.and_hms_opt(h, mi, 0).expect("t")).expect("utc");
                let want = Window { start: conv(h1, m1), end: conv(h2, m2) };
                prop_assert_eq!(f.windows, vec![want]);
                let direct = tz.from_local_datetime(&date.and_hms_opt(h1, m1, 0).expect("t")).earliest();
                if let Some(direct) = direct {
                    prop_assert_eq!(want.start, direct.with_timezone(&Utc));
                }
            }
        }
    }

    /// A 4 KB mail repeating one window gives that window once (speed is measured by
    /// `cargo bench --bench check`, not here).
    #[test]
    fn a_4k_mail_repeating_one_window_gives_it_once() {
        let para = "Hello, we plan to run a load test on www.example.com on Monday, 14 December 2026 \
                    from 09:00 to 17:00 CET. Source IPs are 203.0.113.10 and 203.0.113.11, traffic \
                    up to 500 Mbit/s and 2000 requests per second. Contact: Jane Doe, +41 44 123 45 67.\n";
        let mut text = String::new();
        while text.len() < 4096 {
            text.push_str(para);
        }
        let found = find_windows(&text, &ctx());
        assert_eq!(
            found.windows,
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
        assert!(found.invalid.is_empty(), "{:?}", found.invalid);
        assert!(found.doubts.is_empty(), "{:?}", found.doubts);
    }

    #[test]
    fn forwarded_header_date_is_not_a_window() {
        let text = "Please see below.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@example.com>\nDate: Mon, 2 Nov 2026 at 10:15\nSubject: Load test\nTo: ops@example.com\n\nWe will run the load test on 14.12.2026 from 09:00 to 17:00.";
        assert_eq!(
            wins(text),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
    }

    #[test]
    fn date_line_after_time_labels() {
        assert_eq!(
            wins("Startzeit: 09:00\nEndzeit: 17:00\nDatum: 14.12.2026"),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
    }

    #[test]
    fn more_prose_forms() {
        assert_eq!(
            wins("The test will be on 14.12.2026.\nWe start at 09:00 and finish at 17:00."),
            vec![w("2026-12-14T08:00:00Z", "2026-12-14T16:00:00Z")]
        );
        assert_eq!(
            wins("Test on 14.12.2026 09:00-12:00 and 13:00-17:00"),
            vec![
                w("2026-12-14T08:00:00Z", "2026-12-14T11:00:00Z"),
                w("2026-12-14T12:00:00Z", "2026-12-14T16:00:00Z"),
            ]
        );
        assert_eq!(
            wins("Test on 14.12.2026, 1-3pm"),
            vec![w("2026-12-14T12:00:00Z", "2026-12-14T14:00:00Z")]
        );
        // A start with no end is no window (it used to last until midnight).
        let f = find_windows("Test on 14.12.2026 starting at 09:00", &ctx());
        assert!(f.windows.is_empty());
        assert_eq!(
            f.invalid,
            vec!["The window starting 2026-12-14 09:00 CET has no end time.".to_string()]
        );
        assert_eq!(
            wins("Test zwischen dem 14. und 18. Dezember 2026"),
            vec![w("2026-12-13T23:00:00Z", "2026-12-18T23:00:00Z")]
        );
        assert_eq!(
            wins("Zeitraum: 14.12.2026 bis 16.12.2026, jeweils 08:00 - 12:00 Uhr"),
            vec![
                w("2026-12-14T07:00:00Z", "2026-12-14T11:00:00Z"),
                w("2026-12-15T07:00:00Z", "2026-12-15T11:00:00Z"),
                w("2026-12-16T07:00:00Z", "2026-12-16T11:00:00Z"),
            ]
        );
        assert_eq!(
            wins("Test on 14.12.2026, 15.12.2026 and 16.12.2026"),
            vec![day(2026, 12, 14), day(2026, 12, 15), day(2026, 12, 16)]
        );
    }

    // --- issue 6: invalid windows ------------------------------------------------------------

    fn invalid(text: &str) -> Vec<String> {
        let f = find_windows(text, &ctx());
        assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
        f.invalid
    }

    #[test]
    fn impossible_dates_are_invalid_not_missing() {
        let cases: &[(&str, &str)] = &[
            (
                "Start: 31.04.2027 09:00\nEnd: 01.05.2027 17:00",
                "The start \"31.04.2027\" is not a date: April 2027 has 30 days.",
            ),
            (
                "Test am 30. Februar 2027 von 9 bis 17 Uhr",
                "\"30. Februar 2027\" is not a date: February 2027 has 28 days.",
            ),
            (
                "We will run the pentest on 29 Feb 2027, 09:00-17:00 CET.",
                "The start \"29 Feb 2027\" is not a date: February 2027 has 28 days.",
            ),
            (
                "Testfenster: 32.01.2027 09:00-17:00",
                "The start \"32.01.2027\" is not a date: January 2027 has 31 days.",
            ),
            (
                "Testfenster: 32.01. 09:00-17:00",
                "The start \"32.01.\" is not a date: January has no day 32.",
            ),
            (
                "Test window: 14.13.2027 09:00-17:00",
                "The start \"14.13.2027\" is not a date: there is no month 13.",
            ),
            (
                "Test window: 2027-04-31 09:00 to 2027-05-01 17:00 UTC",
                "The start \"2027-04-31\" is not a date: April 2027 has 30 days.",
            ),
            (
                "Test on April 31, 2027 from 9am to 5pm",
                "\"April 31, 2027\" is not a date: April 2027 has 30 days.",
            ),
            // Reference 2026-11-02: the next February has 28 days.
            (
                "Test on 29.02. 09:00-17:00",
                "The start \"29.02.\" is not a date: February 2027 has 28 days.",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(invalid(text), vec![(*want).to_string()], "{text}");
        }
        // A leap year has the day.
        assert_eq!(
            wins("Test on 29 Feb 2028 09:00-17:00"),
            vec![w("2028-02-29T08:00:00Z", "2028-02-29T16:00:00Z")]
        );
    }

    #[test]
    fn impossible_date_never_rolls_over_or_borrows_a_neighbour() {
        // 31 April must not become 1 May, nor take the date of the end line.
        assert!(wins("Start: 31.04.2027 09:00\nEnd: 01.05.2027 17:00").is_empty());
        // Nor may the times on later lines take an older date.
        let text = "Test on 12.04.2027.\nDate: 31.04.2027\nStart: 09:00\nEnd: 17:00";
        let f = find_windows(text, &ctx());
        assert_eq!(
            f.invalid,
            vec!["\"31.04.2027\" is not a date: April 2027 has 30 days.".to_string()]
        );
        assert!(
            f.windows
                .iter()
                .all(|w| w.end - w.start == Duration::days(1))
        );
    }

    #[test]
    fn impossible_times_are_invalid() {
        assert_eq!(
            invalid("Start: 14.01.2027 25:00\nEnd: 15.01.2027 17:00"),
            vec!["The start time \"25:00\" is not a time of day: a day has 24 hours.".to_string()]
        );
        assert_eq!(
            invalid("Test on 14.01.2027 09:00-24:30"),
            vec!["The end time \"24:30\" is not a time of day: a day ends at 24:00.".to_string()]
        );
        assert_eq!(
            invalid("Lasttest am 14.01.2027 von 9 bis 25 Uhr"),
            vec!["The end time \"25 Uhr\" is not a time of day: a day has 24 hours.".to_string()]
        );
        // 24:00 is the end of the day, not an error.
        assert_eq!(
            wins("Test on 14.01.2027 18:00-24:00"),
            vec![w("2027-01-14T17:00:00Z", "2027-01-14T23:00:00Z")]
        );
    }

    #[test]
    fn start_without_end_is_invalid() {
        assert_eq!(
            invalid("We will start the load test from 14 Jan 2027 09:00 CET."),
            vec!["The window starting 2027-01-14 09:00 +01:00 has no end time.".to_string()]
        );
        assert_eq!(
            invalid("Start: 14.01.2027 09:00\nKontakt: Hans Muster"),
            vec!["The window starting 2027-01-14 09:00 CET has no end time.".to_string()]
        );
        assert_eq!(
            invalid("Der Test beginnt am 14.01.2027 um 09:00 Uhr."),
            vec!["The window starting 2027-01-14 09:00 CET has no end time.".to_string()]
        );
        assert_eq!(
            invalid("Test on 14.01.2027 until 17:00"),
            vec!["The window ending 2027-01-14 17:00 CET has no start time.".to_string()]
        );
    }

    #[test]
    fn date_only_windows_are_whole_days() {
        assert_eq!(wins("Test on 14 January 2027"), vec![day(2027, 1, 14)]);
        assert_eq!(
            wins("Lasttest am 14.–15. Januar 2027"),
            vec![w("2027-01-13T23:00:00Z", "2027-01-15T23:00:00Z")]
        );
        assert!(
            find_windows("Test on 14 January 2027", &ctx())
                .invalid
                .is_empty()
        );
    }

    // --- issue 6: zones ------------------------------------------------------------------------

    #[test]
    fn abbreviations_with_two_meanings_are_ambiguous() {
        for z in ["IST", "CST", "BST", "AST", "GST", "SST", "ECT", "AMT"] {
            let f = find_windows(
                &format!("Test on 14.01.2027 from 10:00 to 18:00 {z}"),
                &ctx(),
            );
            assert_eq!(f.ambiguous_zones, vec![z.to_string()], "{z}");
        }
        // A heading names the zone of the times below it.
        let f = find_windows("Test window (IST):\n14.01.2027 10:00-18:00", &ctx());
        assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
        // An offset that is none of the meanings settles nothing.
        let f = find_windows("Test on 14.01.2027 10:00-18:00 IST (UTC+3)", &ctx());
        assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
        // Zone words away from any time are not zones: `ist` (German), `the IST team`.
        for text in [
            "Der Test ist am 14.01.2027 von 9 bis 17 Uhr.",
            "Prices excl. GST. Test on 14.01.2027 09:00-17:00 CET.",
            "Greetings from the IST team.\nTest on 14.01.2027 09:00-17:00 CET.",
        ] {
            assert!(
                find_windows(text, &ctx()).ambiguous_zones.is_empty(),
                "{text}"
            );
        }
    }

    #[test]
    fn text_settles_an_ambiguous_abbreviation() {
        let india = vec![w("2027-01-14T04:30:00Z", "2027-01-14T12:30:00Z")];
        for text in [
            "Test on 14.01.2027 10:00-18:00 IST (India)",
            "Test on 14.01.2027 10:00-18:00 IST (UTC+05:30)",
            "Test on 14.01.2027 10:00-18:00 IST, GMT+5:30",
            "Test on 14.01.2027 10:00-18:00 UTC+05:30 (IST)",
            "Test on 14.01.2027 10:00-18:00 Indian Standard Time",
            "Test on 14.01.2027 10:00-18:00 IST.\nOur team sits in Bengaluru.",
            "Test on 14.01.2027 10:00-18:00 IST (Asia/Kolkata)",
        ] {
            let f = find_windows(text, &ctx());
            assert!(f.ambiguous_zones.is_empty(), "{text}");
            assert_eq!(f.windows, india, "{text}");
        }
        assert_eq!(
            wins("Test on 14.01.2027 09:00-17:00 CST (UTC-6)"),
            vec![w("2027-01-14T15:00:00Z", "2027-01-14T23:00:00Z")]
        );
        assert_eq!(
            wins("Test on 14.01.2027 09:00-17:00 China Standard Time"),
            vec![w("2027-01-14T01:00:00Z", "2027-01-14T09:00:00Z")]
        );
        assert_eq!(
            wins("Test on 14.01.2027 09:00-17:00 CST\nAcme Inc., Dallas, Texas"),
            vec![w("2027-01-14T15:00:00Z", "2027-01-14T23:00:00Z")]
        );
        assert_eq!(
            wins("Test on 14.01.2027 09:00-17:00 GST (Dubai)"),
            vec![w("2027-01-14T05:00:00Z", "2027-01-14T13:00:00Z")]
        );
        // British Summer Time from a UK sender (a `.uk` domain names the country).
        assert_eq!(
            wins("Window: 18 May 2027, 10:00-16:00 BST\nContact: jo@example.org.uk"),
            vec![w("2027-05-18T09:00:00Z", "2027-05-18T15:00:00Z")]
        );
        // Places of two meanings settle nothing.
        let f = find_windows(
            "Test on 14.01.2027 10:00-18:00 IST. Offices in Mumbai and Dublin.",
            &ctx(),
        );
        assert_eq!(f.ambiguous_zones, vec!["IST".to_string()]);
    }

    #[test]
    fn hints_from_the_whole_message_settle_the_window_field() {
        let hints = ZoneHints::of("Window: 20 January 2027, 10:00 to 18:00 IST\n\nRegards\nPune");
        let f = find_windows_hinted("Window: 20 January 2027, 10:00 to 18:00 IST", &ctx(), hints);
        assert!(f.ambiguous_zones.is_empty());
        assert_eq!(
            f.windows,
            vec![w("2027-01-20T04:30:00Z", "2027-01-20T12:30:00Z")]
        );
    }

    #[test]
    fn zones_of_asia_russia_gulf_australia_africa_americas() {
        // 14 January 2027, 09:00-10:00 local.
        let cases: &[(&str, i64)] = &[
            ("JST", 9 * 60),
            ("KST", 9 * 60),
            ("HKT", 8 * 60),
            ("SGT", 8 * 60),
            ("PHT", 8 * 60),
            ("WIB", 7 * 60),
            ("ICT", 7 * 60),
            ("MSK", 3 * 60),
            ("SAMT", 4 * 60),
            ("YEKT", 5 * 60),
            ("NPT", 5 * 60 + 45),
            ("PKT", 5 * 60),
            // AEDT is in force in January, but AEST is +10 by definition.
            ("AEST", 10 * 60),
            ("AEDT", 11 * 60),
            ("ACST", 9 * 60 + 30),
            ("AWST", 8 * 60),
            ("NZDT", 13 * 60),
            ("SAST", 2 * 60),
            ("WAT", 60),
            ("EAT", 3 * 60),
            ("CAT", 2 * 60),
            ("BRT", -3 * 60),
            ("ART", -3 * 60),
            ("CLT", -4 * 60),
            ("PET", -5 * 60),
            ("COT", -5 * 60),
            ("EST", -5 * 60),
            ("MST", -7 * 60),
            ("PST", -8 * 60),
            // US zones without standard/summer: the city's zone, winter here.
            ("ET", -5 * 60),
            ("PT", -8 * 60),
        ];
        for (z, east) in cases {
            let f = find_windows(&format!("Test on 14.01.2027 09:00-10:00 {z}"), &ctx());
            let start = utc("2027-01-14T09:00:00Z") - Duration::minutes(*east);
            assert_eq!(
                f.windows,
                vec![Window {
                    start,
                    end: start + Duration::hours(1)
                }],
                "{z}"
            );
            assert!(f.doubts.is_empty() && f.ambiguous_zones.is_empty(), "{z}");
        }
        // ET in July is EDT.
        assert_eq!(
            wins("Test on 14.07.2027 10am-6pm ET"),
            vec![w("2027-07-14T14:00:00Z", "2027-07-14T22:00:00Z")]
        );
    }

    #[test]
    fn unknown_zone_after_a_time_is_a_doubt_never_local_time() {
        for (text, z) in [
            ("Test on 14.01.2027 09:00-17:00 XYZT", "XYZT"),
            ("Test on 14.01.2027 09:00 (PYT) to 17:00 (PYT)", "PYT"),
            ("Test on 14.01.2027 09:00-17:00 Moscow time", "Moscow time"),
            ("Test on 14.01.2027 10:30 GET to 18:00 GET", "GET"),
            ("Test on 14.01.2027 10:30-18:00 GET.", "GET"),
            ("Test on 14.01.2027 10:30-18:00 (ACT)", "ACT"),
        ] {
            let f = find_windows(text, &ctx());
            assert!(f.windows.is_empty(), "{text}: {:?}", f.windows);
            assert_eq!(f.doubts.len(), 1, "{text}");
            let d = f.doubts.first().expect("doubt");
            assert_eq!(d.code, ProblemCode::AmbiguousDate);
            assert!(d.message.contains(&format!("\"{z}\"")), "{}", d.message);
        }
        // Capitals that are no zone, and the known ones, raise nothing.
        for text in [
            "Test on 14.01.2027 09:00-17:00 TBD",
            "Test on 14.01.2027 09:00-17:00 EOD",
            "Test on 14.01.2027 between 09:00 AND 17:00 CET",
            "Test on 14.01.2027 09:00-17:00 UTC",
            "Test on 14.01.2027 09:00-17:00 GMT",
            "Test on 14.01.2027 T09:00:00Z to T17:00:00Z",
            "Test on 14.01.2027 09:00-17:00 GET requests only",
            "Test on 14.01.2027 09:00-17:00 GET and POST requests",
            "Test on 14.01.2027 09:00-17:00 GET /api/v2",
        ] {
            let f = find_windows(text, &ctx());
            assert!(f.doubts.is_empty(), "{text}: {:?}", f.doubts);
            assert_eq!(f.windows.len(), 1, "{text}");
        }
    }

    // --- issue 6: activity before the window -----------------------------------------------

    fn activity(text: &str) -> Vec<String> {
        find_windows(text, &ctx())
            .doubts
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn activity_before_the_window_counts() {
        let cases: &[(&str, &str)] = &[
            (
                "ab 1. Februar passives Scanning, Test am 1. März 09:00–17:00 MEZ",
                "2027-02-01",
            ),
            (
                "Passive scanning starts a week earlier, on 3 March. The test runs on 10 March 2027, 09:00-17:00 CET.",
                "2027-03-03",
            ),
            (
                "Reconnaissance begins 1 Feb 2027.\nLoad test: 1 March 2027 09:00-17:00",
                "2027-02-01",
            ),
            (
                "Recon from 1 Feb.\nPentest: 1 March 2027 09:00-17:00",
                "2027-02-01",
            ),
            (
                "Vorbereitung ab dem 1. Februar 2027.\nLasttest am 1. März 2027 von 9 bis 17 Uhr.",
                "2027-02-01",
            ),
        ];
        for (text, day) in cases {
            let f = find_windows(text, &ctx());
            let d = f.doubts.first().expect(text);
            assert!(d.message.contains(day), "{text}: {}", d.message);
            // The early day is kept, so the notice counts from it.
            let first = f.windows.iter().map(|w| w.start).min().expect("windows");
            let want: NaiveDate = day.parse().expect("day");
            assert_eq!(
                first.with_timezone(&chrono_tz::Europe::Zurich).date_naive(),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn dates_that_are_not_activity_raise_no_doubt() {
        for text in [
            "As discussed on 2 Dec, the test runs on 14.12.2026 09:00-17:00.",
            "Zürich, 2. November 2026\n\nDer Lasttest findet am 14.12.2026 von 9 bis 17 Uhr statt.",
            "Our approval is valid until 31.01.2027. Test on 14.12.2026 09:00-17:00.",
            "We load test before Black Friday: 14.12.2026 09:00-17:00.",
            "Test from 14.12.2026 09:00 to 16.12.2026 17:00.",
            "Test window: 14.12.2026 09:00-17:00.\nA retest follows on 21.12.2026 09:00-17:00.",
        ] {
            assert!(activity(text).is_empty(), "{text}: {:?}", activity(text));
        }
    }

    #[test]
    fn activity_outside_the_window_field_is_seen() {
        let whole = "Hello,\n\npassive reconnaissance starts on 1 February 2027.\n\nWindow: 01.03.2027 09:00-17:00 CET\nContact: Jane Doe";
        let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
        assert_eq!(field.windows.len(), 1);
        merge_outside(
            &mut field,
            find_windows(whole, &ctx()),
            chrono_tz::Europe::Zurich,
        );
        assert_eq!(field.windows.len(), 1);
        assert!(
            field
                .doubts
                .iter()
                .any(|d| d.message.contains("2027-02-01")),
            "{:?}",
            field.doubts
        );
        // A paraphrase of the field window in the prose is no activity and no open start.
        let whole = "We will start the test on 1 March 2027 at 09:00.\n\nWindow: 01.03.2027 09:00-17:00 CET";
        let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
        merge_outside(
            &mut field,
            find_windows(whole, &ctx()),
            chrono_tz::Europe::Zurich,
        );
        assert!(field.doubts.is_empty(), "{:?}", field.doubts);
        assert!(field.invalid.is_empty(), "{:?}", field.invalid);
        // A start with no end outside the field, on another day, goes to a person.
        let whole =
            "Scanning starts on 20 Feb 2027 at 09:00.\n\nWindow: 01.03.2027 09:00-17:00 CET";
        let mut field = find_windows("Window: 01.03.2027 09:00-17:00 CET", &ctx());
        merge_outside(
            &mut field,
            find_windows(whole, &ctx()),
            chrono_tz::Europe::Zurich,
        );
        assert!(field.invalid.is_empty());
        assert_eq!(field.doubts.len(), 1, "{:?}", field.doubts);
    }

    // --- issue 6: bounded work ------------------------------------------------------------------

    /// 1.5 MB of repeated dates, ranges, test words and crafted zones: the work of every pass
    /// stays a small multiple of the input, and what comes out stays within the caps.
    #[test]
    fn crafted_megabytes_take_linear_work_and_bounded_output() {
        let big = |unit: &str| unit.repeat(1_500_000 / unit.len() + 1);
        let mut distinct = String::new();
        let mut k = 0u32;
        while distinct.len() < 1_500_000 {
            let (d, m, h) = (k % 28 + 1, (k / 28) % 12 + 1, k % 23);
            distinct.push_str(&format!("Test {d}.{m}.2027 {h:02}:00-{:02}:00, ", h + 1));
            k += 1;
        }
        for text in [
            big("Test on 14.12.2026 09:00-17:00 test "),
            big("Lasttest 14-18 Dec 2026, 09:00-17:00 daily and "),
            big("Test 14.12. and 15.12.2026, 09:00-12:00 each "),
            big("test starting at 09:00 on 14.12.2026 "),
            distinct,
            big("test 31.04.2027 25:00 "),
            big("Europe/A/"),
            big("test 09:00 XYZT "),
            big("test 09:00 IST 14.12.2026 Start: 14.12.2026 "),
            big("ab 1. Februar passives Scanning, Test am 1. März 09:00–17:00 MEZ. "),
            big("From: a\nSubject: b\nDate: 1 Dec 2026\n\nTest 14.12.2026.\n"),
        ] {
            let (f, work) = read(&text, &ctx(), ZoneHints::of(&text));
            let head = text.get(..24).unwrap_or("");
            assert!(work.tokens <= text.len(), "{head}");
            assert!(work.elements <= work.tokens + 1, "{head}");
            assert!(work.points <= work.elements, "{head}");
            assert!(
                work.steps <= 2 * work.elements + 64 * MAX_WINDOWS,
                "{head}: {work:?}"
            );
            assert!(f.windows.len() <= MAX_WINDOWS, "{head}");
            assert!(f.invalid.len() <= MAX_NOTES, "{head}");
            assert!(f.doubts.len() <= MAX_NOTES, "{head}");
            assert!(f.ambiguous_dates.len() <= MAX_NOTES, "{head}");
            assert!(f.ambiguous_zones.len() <= MAX_NOTES, "{head}");
        }
    }

    #[test]
    fn more_distinct_windows_than_the_cap_is_a_doubt() {
        let mut text = String::new();
        for k in 0..(MAX_WINDOWS as u32 + 20) {
            let (d, m, h) = (k % 28 + 1, (k / 28) % 12 + 1, k % 23);
            text.push_str(&format!("Test {d}.{m}.2027 {h:02}:00-{:02}:00.\n", h + 1));
        }
        let f = find_windows(&text, &ctx());
        assert_eq!(f.windows.len(), MAX_WINDOWS);
        assert!(
            f.doubts
                .iter()
                .any(|d| d.code == ProblemCode::ImplausibleValue)
        );
    }

    // Red-team guards (findings 014-025, 056/057, 084-086, 094/095). Arrival 26.11.2026.

    fn guard(text: &str) -> DateFindings {
        let c = DateContext {
            default_tz: chrono_tz::Europe::Zurich,
            reference: utc("2026-11-26T09:00:00Z"),
        };
        find_windows(text, &c)
    }

    fn doubted(text: &str, needle: &str) -> bool {
        guard(text)
            .doubts
            .iter()
            .any(|d| d.message.contains(needle))
    }

    #[test]
    fn attack_start_today_never_borrows_the_end_date() {
        let t = "Start: today 14:00\nEnd: 18.12.2026 18:00";
        assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
        let de = "Beginn: heute 14:00 Uhr\nEnde: 18.12.2026 18:00 Uhr";
        assert!(doubted(de, "cannot be read"), "{:?}", guard(de));
    }

    #[test]
    fn attack_start_dd_mon_yyyy_is_read_not_borrowed() {
        // The form is read: the window starts on 3 December, not on the end's day.
        let f = guard("Start: 03-Dec-2026 08:00\nEnd: 18-Dec-2026 18:00");
        assert_eq!(
            f.windows,
            vec![w("2026-12-03T07:00:00Z", "2026-12-18T17:00:00Z")],
            "{f:?}"
        );
        let f = guard("Start: 03-Dec-2026 08:00\nEnd: 18.12.2026 18:00");
        assert_eq!(
            f.windows.iter().map(|w| w.start).min(),
            Some(utc("2026-12-03T07:00:00Z"))
        );
    }

    #[test]
    fn attack_start_year_0000_never_borrows_the_end_date() {
        let t = "Start: 03.12.0000 08:00\nEnd: 18.12.2026 18:00";
        assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
    }

    #[test]
    fn start_time_only_beside_a_dated_end_is_a_doubt() {
        let t = "Start: 08:00\nEnd: 18.12.2026 18:00";
        assert!(doubted(t, "cannot be read"), "{:?}", guard(t));
    }

    #[test]
    fn honest_end_time_only_and_date_line_raise_no_label_doubt() {
        for t in [
            "Start: 14.12.2026 08:00\nEnd: 18:00",
            "Date: 14.12.2026\nStart: 08:00\nEnd: 17:00",
            "Start: Monday, 14 December 2026, 08:00\nEnd: Friday, 18 December 2026, 18:00",
        ] {
            let f = guard(t);
            assert!(!f.windows.is_empty(), "{t}: {f:?}");
            assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
        }
    }

    #[test]
    fn attack_smoke_test_tomorrow_before_the_window() {
        let t = "Window: 14.12.2026 08:00 - 18.12.2026 18:00\nA first smoke test will run tomorrow at 14:00 for an hour.";
        assert!(doubted(t, "relative"), "{:?}", guard(t));
    }

    #[test]
    fn attack_scans_ab_morgen_before_the_window() {
        let t = "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr\nVorbereitende Scans laufen bereits ab morgen.";
        assert!(doubted(t, "relative"), "{:?}", guard(t));
    }

    #[test]
    fn attack_pilot_run_on_the_3rd_and_in_3_days() {
        for t in [
            "Window: 14.12.2026 08:00 - 18.12.2026 18:00; pilot run on the 3rd",
            "Window: 14.12.2026 08:00 - 18.12.2026 18:00; pilot run in 3 days",
            "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr. Ein Testlauf findet am 3. statt.",
            "Zeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr. Ein Testlauf startet in 3 Tagen.",
        ] {
            assert!(doubted(t, "relative"), "{t}: {:?}", guard(t));
        }
    }

    #[test]
    fn honest_relative_words_raise_no_activity_doubt() {
        for t in [
            // A greeting, not tomorrow.
            "Guten Morgen\nZeitraum: 14.12.2026 08:00 - 18.12.2026 18:00 Uhr, Pentest der Webshop-API.",
            // Something delivered later, not activity.
            "Window: 14.12.2026 08:00 - 18.12.2026 18:00\nThe source IPs of the test will be provided tomorrow.",
            // Relative wording that names the window itself.
            "Window: 14.12.2026 08:00 - 18.12.2026 18:00; results of the test in 3 weeks.",
            "Window: 14.12.2026 08:00 - 18.12.2026 18:00; the test runs on the 14th.",
        ] {
            let f = guard(t);
            assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
        }
    }

    #[test]
    fn attack_zone_on_its_own_line_under_the_window() {
        for z in ["(UTC+2)", "(Europe/Helsinki)", "(EET)"] {
            let t = format!("Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n{z}\nContact: Lukas");
            assert!(doubted(&t, "zone"), "{z}: {:?}", guard(&t));
        }
    }

    #[test]
    fn attack_zone_named_by_city_or_country_words() {
        for z in [
            "(all times Kyiv time)",
            "(Moscow time)",
            "(Tokyo time)",
            "(Indian Standard Time)",
            "(Israel time)",
            "(alle Zeiten Ortszeit Athen)",
            "(heure de Moscou)",
            "(times are local to our SOC in Dubai)",
            "(all times Ruritania time)",
        ] {
            let t = format!("Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n{z}");
            assert!(doubted(&t, "zone"), "{z}: {:?}", guard(&t));
        }
        let t = "Start: 10.12.2026 10:30 Helsinki\nEnd: 10.12.2026 20:00";
        assert!(doubted(t, "zone"), "{:?}", guard(t));
    }

    #[test]
    fn honest_zone_statements_raise_no_doubt() {
        for t in [
            "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(CET)",
            "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(all times Zurich time)",
            "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\n(Europe/Zurich)",
            "Window: 10.12.2026 10:30 - 20:00 (all times UTC+2)",
            "Window: 10.12.2026 10:30 - 20:00 EET",
            "Start: 10.12.2026 10:30\nEnd: 10.12.2026 20:00\nResponse time of our SOC: 15 minutes.",
        ] {
            let f = guard(t);
            assert!(!f.windows.is_empty(), "{t}: {f:?}");
            assert!(f.doubts.is_empty(), "{t}: {:?}", f.doubts);
        }
    }

    #[test]
    fn attack_subject_names_other_days_than_the_body() {
        let c = DateContext {
            default_tz: chrono_tz::Europe::Zurich,
            reference: utc("2026-11-26T09:00:00Z"),
        };
        let body = guard("Window: 14.12.2026 08:00 - 18.12.2026 18:00").windows;
        assert!(subject_doubt("Pentest 03.12.2026 - 05.12.2026 shop", &c, &body).is_some());
        assert!(subject_doubt("Pentest 14.12.2026 - 18.12.2026 shop", &c, &body).is_none());
        assert!(subject_doubt("Pentest shop, Dezember", &c, &body).is_none());
    }

    #[test]
    fn guards_stay_linear_on_a_long_line() {
        // One line of 200k characters of parentheses and place words: the look-back of the
        // zone pass is bounded, so this finishes quickly in a debug build.
        let mut t = String::from("Window: 14.12.2026 08:00 - 18.12.2026 18:00 ");
        for _ in 0..20_000 {
            t.push_str("(Kyiv a ");
        }
        let start = std::time::Instant::now();
        let f = guard(&t);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert!(f.doubts.len() <= 2 * MAX_NOTES);
    }
}
