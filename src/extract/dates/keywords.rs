//! The keyword table: every word the date reader knows (months, weekdays, connectors, zone
//! names, words of context), packed so that a lookup costs one multiply.

use std::sync::LazyLock;

use super::zones::{ABBREVIATIONS, AMBIGUOUS, PLACES, REGIONS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kw {
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
pub(super) struct KwTable {
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
    pub(super) fn get(&self, w: &[u8]) -> Option<Kw> {
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

pub(super) static KEYWORDS: LazyLock<KwTable> = LazyLock::new(|| {
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
