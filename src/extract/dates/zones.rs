//! Zone tables: abbreviations with one meaning and with several, the places that settle them,
//! US regions, cities; and [`ZoneHints`], the places a whole message names.

use chrono_tz::Tz;

use super::keywords::{KEYWORDS, Keyword};

/// Zone abbreviations with one meaning: name, seconds east of UTC, capitals only, and whether
/// the abbreviation counts on its own (away from a time). Summer-time forms are their own
/// entries: an abbreviation names a fixed offset (`AEST` is +10 even in January, when Sydney
/// keeps `AEDT`).
pub(super) const ABBREVIATIONS: &[(&str, i32, bool, bool)] = &[
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
pub(super) const PLACES: &[(Tz, &[&str])] = &[
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
pub(super) const AMBIGUOUS: &[(&str, &[(i32, u8)])] = &[
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
pub(super) const REGIONS: &[(&str, Tz)] = &[
    ("et", chrono_tz::America::New_York),
    ("ct", chrono_tz::America::Chicago),
    ("mt", chrono_tz::America::Denver),
    ("pt", chrono_tz::America::Los_Angeles),
];

/// All-capital words that may follow a time without being a zone (`09:00 TBD`, `17:00 GET`).
pub(super) const NOT_ZONES: &[&str] = &[
    "IT", "NOT", "BUT", "GET", "SET", "PUT", "LET", "OUT", "JUST", "MUST", "POST", "HOST", "EXACT",
    "ACT", "OPT", "APT", "CUT", "HIT", "FIT", "UAT", "MIT", "BIT", "ALT", "FIRST", "LATEST",
];

/// Words of [`NOT_ZONES`] that are also zone abbreviations (Georgia Time, UTC+4; Acre or
/// Australian Central Time): no zone only where another word or a path follows (`09:00 GET
/// requests`, `GET /api`); alone after a time (`10:30 GET`) they are a zone we do not
/// convert, and the window goes to a person.
pub(super) const ZONE_HOMONYMS: &[&str] = &["GET", "ACT"];

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
                && let Some(Keyword::Place(p)) = KEYWORDS.get(w)
            {
                bits |= 1 << p;
            }
        }
        // `Central Standard Time` (not `Central European`) is the US one.
        // Both start with `central `: without it, neither needs a look.
        if contains_ci(text.as_bytes(), b"central ")
            && (contains_ci(text.as_bytes(), b"central standard time")
                || contains_ci(text.as_bytes(), b"central daylight time"))
        {
            bits |= 1 << place::US_CENTRAL;
        }
        ZoneHints(bits)
    }

    fn has(self, p: u8) -> bool {
        self.0 & (1u64 << p) != 0
    }

    /// The one meaning of ambiguous abbreviation `amb` the places settle, if exactly one.
    pub(super) fn settle(self, amb: u8) -> Option<i32> {
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
pub(super) fn place_zone(w: &str) -> Option<Tz> {
    if let Some((_, tz)) = CITIES.iter().find(|(n, _)| *n == w) {
        return Some(*tz);
    }
    match KEYWORDS.get(w.as_bytes()) {
        Some(Keyword::Place(p)) => PLACES.get(usize::from(p)).map(|(tz, _)| *tz),
        _ => None,
    }
}

/// Words before `time`/`Zeit` that are no place (`local time`, `response time`); a word not
/// here and no place is only a doubt where the wording is a zone statement.
pub(super) const NOT_PLACES: &[&str] = &[
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
