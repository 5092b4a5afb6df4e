//! The keyword table: every word the date reader knows (months, weekdays, connectors, zone
//! names, words of context), packed so that a lookup costs one multiply.

use std::sync::LazyLock;

use super::zones::{ABBREVIATIONS, AMBIGUOUS, PLACES, REGIONS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keyword {
    None,
    Month(u32),
    /// Weekday (0 = Monday); `true` for short forms that only count in front of a date.
    Weekday(u32, bool),
    /// `st`, `nd`, `rd`, `th` after a day.
    Ordinal,
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
    Abbreviation(i32, bool, bool),
    /// Abbreviation with more than one meaning: index into [`AMBIGUOUS`].
    AmbiguousZone(u8),
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
    /// Words that speak of the test (`test`, `window`, `Zeitraum`, `scan`).
    Context,
    /// Words after which a date is not one of the test (`contract`, `since`, `received`).
    Negation,
    TzHint,
    Times,
    For,
    /// `Black` (Friday), `Cyber` (Monday): the weekday after it names a sales day, not a
    /// date of the test.
    Holiday,
}

/// Keywords packed into a `u128` (lowercase, up to 16 bytes) in an open-addressing table:
/// a lookup is one multiply and usually one comparison, cheap enough for every word of a mail.
pub(super) struct KeywordTable {
    slots: Vec<(u128, Keyword)>,
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

impl KeywordTable {
    fn insert(&mut self, w: &'static str, kw: Keyword) {
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
    pub(super) fn get(&self, w: &[u8]) -> Option<Keyword> {
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

pub(super) static KEYWORDS: LazyLock<KeywordTable> = LazyLock::new(|| {
    let mut m = KeywordTable {
        slots: vec![(0, Keyword::None); KW_SLOTS],
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
            m.insert(name, Keyword::Month(n));
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
            m.insert(name, Keyword::Weekday(n, false));
        }
        for name in short {
            m.insert(name, Keyword::Weekday(n, true));
        }
    }
    let simple: &[(&[&str], Keyword)] = &[
        (&["st", "nd", "rd", "th"], Keyword::Ordinal),
        (&["am"], Keyword::Am),
        (&["pm"], Keyword::Pm),
        (&["a"], Keyword::A),
        (&["p"], Keyword::P),
        (&["m"], Keyword::M),
        (&["uhr"], Keyword::Uhr),
        (&["h", "hrs", "hr"], Keyword::H),
        (&["o"], Keyword::O),
        (&["clock"], Keyword::Clock),
        (&["noon", "midday", "mittag"], Keyword::Noon),
        (&["midnight", "mitternacht"], Keyword::Midnight),
        (
            &[
                "to", "until", "till", "til", "untill", "through", "thru", "bis",
            ],
            Keyword::To,
        ),
        (&["and", "und"], Keyword::And),
        (&["from", "von", "ab"], Keyword::From),
        (&["vom"], Keyword::Vom),
        (&["between", "zwischen"], Keyword::Between),
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
            Keyword::Start,
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
            Keyword::End,
        ),
        (
            &["daily", "each", "jeweils", "taeglich", "everyday"],
            Keyword::Daily,
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
            Keyword::Next,
        ),
        (&["on", "at", "um"], Keyword::On),
        (&["of"], Keyword::Of),
        (&["the", "dem", "den", "der"], Keyword::The),
        (&["t"], Keyword::T),
        (&["z"], Keyword::Z),
        (&["utc", "gmt"], Keyword::Utc),
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
            Keyword::Swiss,
        ),
        (&["local", "lokale", "lokaler"], Keyword::Local),
        (
            &["time", "zeit", "uhrzeit", "ortszeit", "lokalzeit"],
            Keyword::TimeWord,
        ),
        (
            &["date", "dates", "datum", "daten", "tag", "day", "days"],
            Keyword::DateWord,
        ),
        (&["central"], Keyword::Central),
        (&["european"], Keyword::European),
        (&["summer", "daylight"], Keyword::Summer),
        (&["standard"], Keyword::Standard),
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
            Keyword::Context,
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
            Keyword::Negation,
        ),
        (
            &["timezone", "zeitzone", "zone", "timezones"],
            Keyword::TzHint,
        ),
        (&["black", "cyber"], Keyword::Holiday),
        (
            &["times", "zeiten", "zeitangaben", "uhrzeiten"],
            Keyword::Times,
        ),
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
            Keyword::For,
        ),
    ];
    for (names, kw) in simple {
        for name in *names {
            m.insert(name, *kw);
        }
    }
    for &(name, off, upper, alone) in ABBREVIATIONS {
        m.insert(name, Keyword::Abbreviation(off, upper, alone));
    }
    for (k, (name, _)) in AMBIGUOUS.iter().enumerate() {
        m.insert(name, Keyword::AmbiguousZone(k as u8));
    }
    for (k, (name, _)) in REGIONS.iter().enumerate() {
        m.insert(name, Keyword::RegionAbbr(k as u8));
    }
    for (k, name) in ["eastern", "central", "mountain", "pacific"]
        .iter()
        .enumerate()
    {
        // `central` keeps its own keyword (`Central European Time`).
        m.insert(name, Keyword::Region(k as u8));
    }
    for (k, (_, words)) in PLACES.iter().enumerate() {
        for w in *words {
            m.insert(w, Keyword::Place(k as u8));
        }
    }
    m
});
