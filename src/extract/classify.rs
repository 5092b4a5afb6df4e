//! Tells what a message is about: whether it announces a test, of which class, which
//! sentence describes its scope, and whether it calls a test off.
//!
//! Linear in the text: one regex pass for test words, a bounded look-back for negations and
//! one scan per sentence. When unsure the class is broad (more notice is the safe side): a
//! load word is dropped only by a negation right before it, never by "not only", "sowie" or
//! "but also".

use std::sync::LazyLock;

use regex::Regex;

use crate::model::TestClass;

/// Load-like test words (the first alternative of [`TEST_WORDS`]).
const LOAD_WORDS: &str = r"(?-u:\b)(?:load|stress|performance|perf|soak|spike|endurance|capacity|volume|traffic|scalability)[\s\-]?test(?:s|ing)?(?-u:\b)
          |(?-u:\b)loadtest\w*|(?-u:\b)stresstest\w*|(?-u:\b)last[\s\-]?tests?(?-u:\b)|(?-u:\b)lasttest\w*|(?-u:\b)belastungstest\w*|(?-u:\b)performance[\s\-]?tests?\w*|(?-u:\b)performancetest\w*
          |(?-u:\b)leistungs[\s\-]?test\w*|(?-u:\b)kapazit(?:ät|aet|at)s[\s\-]?test\w*|(?-u:\b)lastspitzen?\w*|(?-u:\b)(?:last|stress|belastungs)[\s\-]?(?:szenario|profil|simulation)\w*
          |(?-u:\b)(?:last|stress|performance|perf|leistungs|kapazit(?:ät|aet|at)s|belastungs|load|soak|spike)-[\s,]*(?:(?:und|oder|sowie|and|or)(?-u:\b)|&|/)
          |(?-u:\b)ddos\w*|(?-u:\b)d[\s\-]dos\w*|(?-u:\b)dos[\s\-]?(?:attack|simulation|test|resilience)\w*|(?-u:\b)flood(?:ing)?\s+test\w*
          |(?-u:\b)denial[\s\-]+of[\s\-]+service(?-u:\b)|(?-u:\b)volumetric(?-u:\b)|(?-u:\b)(?:https?|syn|udp|icmp|layer[\s\-]?[347]|l[347])[\s\-]flood\w*
          |(?-u:\b)tests?\s+de\s+(?:charge|mont[ée]e\s+en\s+charge|stress|performance|r[ée]sistance)|(?-u:\b)essais?\s+de\s+charge|(?-u:\b)mont[ée]e\s+en\s+charge
          |(?-u:\b)(?:test|prov[ae])\s+di\s+(?:carico|stress|prestazion[ei])|(?-u:\b)(?:pruebas?|tests?)\s+de\s+(?:carga|estr[ée]s|rendimiento)|(?-u:\b)testes?\s+de\s+(?:carga|stress|desempenho)
          |(?-u:\b)belastings?[\s\-]?test\w*
          |(?-u:\b)(?:k6|jmeter|gatling|locust|vegeta|artillery|wrk2?|siege|apachebench|apache[\s\-]bench|blazemeter|loader\.io|tsung|bombardier|ab\s+-[nc]|load[\s\-]?runner|neoload|tricentis|loadninja|webload|silk\s+performer|octoperf|loadview|flood\.io)(?-u:\b)";

/// Security test words (the second alternative of [`TEST_WORDS`]).
const SECURITY_WORDS: &str = r"(?-u:\b)pen(?:etration)?[\s\-]?test(?:s|ing|er|ers)?(?-u:\b)|(?-u:\b)pentest\w*|(?-u:\b)penetrationstest\w*
          |(?-u:\b)security[\s\-]?(?:test(?:s|ing)?|scan(?:s|ning)?|assessment|audit)(?-u:\b)|(?-u:\b)sicherheits(?:test|prüfung|pruefung|überprüfung|scan)\w*
          |(?-u:\b)vulnerability[\s\-]?(?:scan(?:s|ning)?|assessment|test(?:s|ing)?)(?-u:\b)|(?-u:\b)schwachstellen\w*
          |(?-u:\b)red[\s\-]team(?:ing)?(?-u:\b)|(?-u:\b)bug[\s\-]bounty(?-u:\b)|(?-u:\b)dast(?-u:\b)|(?-u:\b)owasp(?-u:\b)|(?-u:\b)burp(?-u:\b)|(?-u:\b)nessus(?-u:\b)|(?-u:\b)zap\s+scan\w*";

/// One pass finds every mention of a kind of test; load words are preferred where both
/// could match at the same place.
static TEST_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?xi)(?:{LOAD_WORDS})|(?:{SECURITY_WORDS})")).expect("static regex")
});

/// The load words anchored at the start of the haystack: a match of [`TEST_WORDS`] is a
/// load mention exactly when a load word starts where it starts (leftmost-first prefers
/// the first alternative). Every test word begins with `(?-u:\b)` and a letter, so slicing the
/// text at the match start does not change what matches. This avoids capture groups,
/// whose bounded backtracker costs more than the whole scan.
static LOAD_AT_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("(?xi)^(?:{LOAD_WORDS})")).expect("static regex"));

/// Words that put a security test on the platform itself, not only the customer's app.
static PLATFORM_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)lagoon(?-u:\b)|(?-u:\b)kubernetes(?-u:\b)|(?-u:\b)k8s(?-u:\b)|(?-u:\b)cluster(?-u:\b)|(?-u:\b)platform(?-u:\b)|(?-u:\b)plattform(?-u:\b)|(?-u:\b)infrastructure(?-u:\b)|(?-u:\b)infrastruktur(?-u:\b)|(?-u:\b)shared (?:infra|hosting|services)|(?-u:\b)control plane(?-u:\b)|(?-u:\b)ingress(?-u:\b)|(?-u:\b)amazee\.io (?:infra|platform|cluster)",
    )
    .expect("static regex")
});

/// Words that are about the platform whatever stands around them: breaking out of a
/// container, reaching other tenants, the shared edge in front of every customer. A pen test
/// that tries these tests the hosting itself, not the customer's application.
static PLATFORM_ITSELF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:container|pod|docker)[\s\-]?(?:escapes?|breakouts?|break-outs?|ausbruch)|(?-u:\b)escap(?:e|ing)\s+(?:the\s+|our\s+|from\s+the\s+)?(?:containers?|pods?|sandbox)|(?-u:\b)lateral(?:e)?\s+(?:movement|bewegung)|(?-u:\b)other\s+(?:customers?'?s?|tenants?'?|namespaces?|clusters?|projects?'?)(?-u:\b)|(?-u:\b)(?:andere[nrm]?|fremde[nrm]?)\s+(?:kunden|mandanten|namespaces?)|(?-u:\b)underlying\s+(?:nodes?|hosts?|infrastructure|cluster|hypervisors?|platform)|(?-u:\b)(?:worker|kubernetes|k8s|cluster)[\s\-]nodes?(?-u:\b)|(?-u:\b)(?:multi[\s\-]?)?tenan(?:t|cy)[\s\-]+(?:isolation|separation|boundar\w*|escape)|(?-u:\b)(?:namespace|network|cross[\s\-]tenant)[\s\-]+(?:isolation|separation|escape)|(?-u:\b)mandantentrennung|(?-u:\b)hypervisor|(?-u:\b)shared\s+(?:waf|cdn|firewall|load[\s\-]?balancers?|routers?|edge|nodes?|database\s+servers?)|(?-u:\b)edge[\s\-]?(?:routers?|proxies|proxy|network)|(?-u:\b)(?:hosting|cloud)[\s\-]?provider(?:'s|s'|’s)\s+(?:own\s+|shared\s+)?(?:edge|routers?|waf|cdn|firewall|network|infrastructure|nodes?|servers?|load[\s\-]?balancers?|platform|systems?)(?-u:\b)",
    )
    .expect("static regex")
});

/// Signs that a message asks how to announce a test rather than announcing one.
static HOW_TO_ASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)what (?:information|info|details|do you need)|which (?:information|details)|how (?:much|many days|far in advance|long in advance|do we|should we|can we|to)|do (?:we|i) need to (?:notify|inform|tell|announce|let)|is it (?:allowed|possible|ok)|are we allowed|may we|can we (?:run|do|perform)|welche (?:informationen|angaben)|wie (?:viel|lange|weit) (?:im voraus|vorher|vorlauf)|dürfen wir|duerfen wir|müssen wir|ist es erlaubt|is there a (?:policy|process|form)",
    )
    .expect("static regex")
});

/// Words that call a test off or move it: English, German, and the basics of French,
/// Italian and Spanish. Words ending in a non-ASCII letter (`annulé`) take no ASCII word
/// boundary after them (there is none between `é` and `.`). Negated forms ("not cancelled") are matched too, on purpose: a
/// person reads them (review is the safe side of a wrong acceptance).
static CANCELLATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:cancel(?:l?ed|l?ing|s|lation)?|call(?:ed|ing)?\s+(?:it\s+|the\s+test\s+|this\s+)?off|(?:will\s+not|won'?t|wo\s+not|not\s+going\s+to|does\s+not|doesn'?t)\s+(?:take\s+place|go\s+ahead|happen|proceed)|(?:is|are)\s+not\s+(?:taking\s+place|going\s+ahead|happening)|please\s+ignore\s+(?:this|the|my|our|that)\s+(?:\w+\s+)?(?:announcement|notification|notice|e-?mail|mail|message|request|ticket)|no\s+longer\s+(?:needed|required|necessary|planned|happening|taking\s+place|going\s+ahead)|not\s+(?:needed|required|necessary)\s+any\s?more|scrap(?:ped|ping)|(?:has|have|had|was|were|is|are|been|be)\s+(?:now\s+|being\s+)?(?:moved|pushed\s+back|deferred|shelved)|new\s+dates?\s+(?:will\s+follow|to\s+follow|will\s+be\s+(?:sent|announced|communicated|shared))|delay(?:ed)?\s+until|until\s+further\s+notice|(?:we|i)\s+(?:have|had)\s+to\s+abort|(?:have|has|had|been|was|were)\s+aborted|abort(?:ing)?\s+(?:the|our|this)\s+(?:planned|scheduled|announced)|(?:do\s+not|don'?t)\s+(?:whitelist|allowlist|allow-list|white-list)\s+anything|(?:\w*test\w*|assessment)\s+is\s+(?:now\s+)?off(?:\s+the\s+table)?|storno|entf(?:ällt|aellt|allen)|f(?:ällt|aellt)\s+(?:(?:leider|daher|deshalb|somit|also|nun|jetzt|kurzfristig|komplett|ganz|ersatzlos|der\s+\w*test\w*|die\s+\w*prüfung)\s+){0,3}aus|abgeblasen|abblasen|bis\s+auf\s+weiteres|neue[rn]?\s+termine?\s+(?:folg|werden)\w*|geannuleerd|annuleren|gaat\s+niet\s+door|uitgesteld|afgelast|adiad[oa]s?|sospes[oa]|non\s+si\s+(?:svolger|far)|n[oã]o\s+(?:vai\s+)?(?:acontecer|ser\s+realizad[oa])|no\s+se\s+(?:realizar|llevar)|do\s+not\s+(?:schedule|proceed)|don'?t\s+(?:schedule|proceed)|please\s+disregard|postpone[ds]?|postponing|postponement|on\s+hold|withdrawn?|rescheduled?|abgesagt|absagen|absage|verschoben|verschieben|storniert|stornieren|stornierung|zurückgezogen|findet\s+nicht\s+statt|nicht\s+(?:mehr\s+)?(?:statt|stattfinden)|bitte\s+nicht\s+einplanen|nicht\s+einplanen|annulation|annullat[oaie]|rinviat[oaie]|rimandat[oaie]|cancelad[oa]s?|aplazad[oa]s?|pospuest[oa]s?|suspendid[oa]s?)(?-u:\b)|(?-u:\b)(?:annul|report)(?:ée|é)s?|(?-u:\b)annul(?:ons|ez|er)(?-u:\b)|(?-u:\b)(?:sagen|sage)\s+(?:\w+\s+){0,4}ab(?-u:\b)|(?-u:\b)verzicht\w*\s+(?:\w+\s+){0,2}auf\s+(?:den|die|das|unseren?|diesen)\s+\w*(?:test|prüfung|pruefung|scan)\w*|(?-u:\b)nicht\s+mehr\s+(?:n(?:ö|oe)tig|erforderlich|notwendig|gebraucht|benötigt|benoetigt)|(?-u:\b)not\s+go(?:ing)?\s+ahead(?-u:\b)|(?-u:\b)no\s+(?:test(?:ing|s)?|pen\s?test\w*)\s+will\s+(?:take\s+place|happen)(?:\s+at\s+all)?[.!]|(?-u:\b)please\s+stop\s+(?:the|our|this|all)(?-u:\b)|(?-u:\b)aborting\s+(?:the|our|this)\s+\w*test|(?-u:\b)decided\s+not\s+to\s+(?:run|do|perform|carry\s+out|go\s+(?:ahead|through)\s+with)|(?-u:\b)(?:please\s+)?delete\s+(?:our|the|this|my)\s+(?:\w+\s+)?(?:announcement|notification|request|test)|(?-u:\b)(?:will\s+not|won'?t|do\s+not|don'?t)\s+need\s+(?:the|this|our)\s+(?:test\s+)?window|(?-u:\b)aura\s+pas\s+lieu|(?-u:\b)non\s+(?:si\s+terr|avr)(?:à|a)",
    )
    .expect("static regex")
});

/// The first words calling a test off or postponing it, as written (at most 80
/// characters), or `None`.
pub fn cancellation(text: &str) -> Option<String> {
    cancellation_folded(&fold(text))
}

/// [`cancellation`] of a text already [`fold`]ed (a text read for both its mentions and a
/// cancellation is folded once).
pub fn cancellation_folded(text: &str) -> Option<String> {
    let m = CANCELLATION.find(text)?;
    let words: String = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
    Some(words.chars().take(80).collect())
}

/// Whether `text` reads as a question about how to announce a test. Separate from
/// [`mentions`] because only messages without concrete items need it.
pub fn asks_how(text: &str) -> bool {
    HOW_TO_ASK.is_match(text)
}

/// Negations that, just before a test word, mean no such test happens.
const NEGATIONS: &[&str] = &[
    "no",
    "not",
    "without",
    "never",
    "kein",
    "keine",
    "keinen",
    "ohne",
    "nicht",
    "won't",
    "neither",
    "nor",
    "excluding",
    "exclude",
    "excluded",
    "except",
];

/// What the text says about tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestMentions {
    /// A load/stress/performance/DDoS-style test is announced (not negated).
    pub load: bool,
    /// A penetration or security test is announced (not negated).
    pub security: bool,
    /// The platform itself is named.
    pub platform: bool,
    /// A test is named outside a question: the text announces rather than asks.
    pub announces: bool,
    /// The first sentence naming a test, as the scope fallback.
    pub first_sentence: Option<String>,
}

impl TestMentions {
    pub fn any(&self) -> bool {
        self.load || self.security
    }

    /// Both texts' mentions together (subject and body).
    pub fn merge(&mut self, other: &TestMentions) {
        self.load |= other.load;
        self.security |= other.security;
        self.platform |= other.platform;
    }

    /// Broad when anything load-like is announced, or a security test names the platform.
    /// When unsure the longer notice applies: a wrong "standard" could let a test through.
    pub fn class(&self) -> TestClass {
        if self.load || (self.security && self.platform) {
            TestClass::Broad
        } else {
            TestClass::Standard
        }
    }
}

/// Scans `text` (subject and new text) once for test words.
///
/// Linear in the text: the look-back for negations is bounded ([`LOOK_BACK`]), and the
/// sentence around a test word is found once per sentence (later words in the same sentence
/// reuse it, and the backward scan for a new sentence stops where the previous one ended).
pub fn mentions(text: &str) -> TestMentions {
    mentions_in(&fold(text))
}

/// [`mentions`] of a text already [`fold`]ed (see [`cancellation_folded`]).
pub fn mentions_folded(text: &str) -> TestMentions {
    mentions_in(text)
}

/// [`mentions`] of a text already [`fold`]ed.
fn mentions_in(text: &str) -> TestMentions {
    let mut m = TestMentions::default();
    // The sentence of the last kept test word: its bounds and whether it is a question.
    let mut sentence: Option<(usize, usize, bool)> = None;
    let mut benchmark = false;
    for whole in TEST_WORDS.find_iter(text) {
        let at = text.get(whole.start()..).unwrap_or("");
        let load = LOAD_AT_START.is_match(at);
        if negated(text, whole.start(), load) {
            continue;
        }
        if load {
            m.load = true;
        } else {
            m.security = true;
        }
        let (s, e, question) = match sentence {
            Some(known) if whole.start() < known.1 => known,
            _ => {
                // The previous sentence ended at `known.1`, right after (or on) the delimiter
                // that also starts this one: scanning back from one byte before it finds the
                // same start as a scan from the beginning of the text.
                let floor = sentence.map_or(0, |(_, e, _)| e.saturating_sub(1));
                let found = sentence_bounds(text, floor, whole.start(), whole.end());
                sentence = Some(found);
                found
            }
        };
        if !question {
            m.announces = true;
            if m.first_sentence.is_none() {
                m.first_sentence = text.get(s..e).map(str::trim).and_then(collapse_sentence);
            }
        }
        // Nothing a later word could add.
        if m.load && m.security && m.announces && m.first_sentence.is_some() {
            break;
        }
    }
    // "benchmark at 500 rps": a benchmark with a stated request rate is a load test.
    for b in BENCHMARK.find_iter(text).take_while(|_| !m.load) {
        if !negated(text, b.start(), true) {
            benchmark = true;
            break;
        }
    }
    if benchmark && RATE.is_match(text) {
        m.load = true;
    }
    // "20,000 virtual users", "5000 gleichzeitige Nutzer": a crowd of simulated users is a
    // load test whatever tool is named.
    if !m.load {
        m.load = USERS
            .find_iter(text)
            .any(|u| many_users(u.as_str()) && !negated(text, u.start(), true));
    }
    // Container escapes, other tenants, the shared edge: the platform itself, unless
    // negated right before ("no container escape attempts").
    m.platform = PLATFORM_ITSELF
        .find_iter(text)
        .any(|w| !negated(text, w.start(), false) && !merely_near(text, w.start()))
        || PLATFORM_WORDS
            .find_iter(text)
            .any(|w| names_the_platform_itself(text, w.start(), w.end()));
    m
}

/// Words just before a platform-itself word that make it where traffic passes or what must
/// not be hurt, not what is tested: "allow our IPs in the shared WAF", "without affecting
/// other customers", "to avoid impact on other tenants".
const MERELY_NEAR: &[&str] = &[
    "in",
    "on",
    "at",
    "through",
    "behind",
    "via",
    "im",
    "am",
    "hinter",
    "durch",
    "affect",
    "affecting",
    "affects",
    "avoid",
    "avoiding",
    "impact",
    "disturb",
    "disturbing",
    "harm",
    "beeinträchtigen",
    "stören",
    "betreffen",
];

/// Whether one of the three words before `at` (same clause) is in [`MERELY_NEAR`].
fn merely_near(text: &str, at: usize) -> bool {
    clause_tail(text, at, NEAR)
        .split_whitespace()
        .rev()
        .take(3)
        .any(|w| is_one_of(trim_word(w), MERELY_NEAR))
}

/// Fewest simulated users that make a load test: a pen tester's "2 concurrent users" for a
/// race condition is none.
const MIN_USERS: u64 = 50;

/// Whether a [`USERS`] match names at least [`MIN_USERS`] users ("5k" counts thousands).
fn many_users(m: &str) -> bool {
    let number: String = m
        .chars()
        .take_while(|c| !c.is_alphabetic())
        .filter(char::is_ascii_digit)
        .take(12)
        .collect();
    let thousands = m
        .chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(|c| c.eq_ignore_ascii_case(&'k'));
    let n: u64 = number.parse().unwrap_or(u64::MAX);
    n.saturating_mul(if thousands { 1000 } else { 1 }) >= MIN_USERS
}

/// A number of simulated users ("20,000 virtual users", "5k concurrent users", "500
/// gleichzeitige Nutzer", "1000 VUs").
static USERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[0-9][0-9,.'’ ]*\s?k?\s?(?:(?:virtual|concurrent|simultaneous|parallel|simulated)\s+(?:users?|clients?|sessions?|visitors?)|v-?users?(?-u:\b)|vus(?-u:\b)|(?:gleichzeitige|virtuelle|parallele|simulierte)[nr]?\s+(?:nutzer|benutzer|user|besucher)|utilisateurs\s+(?:simultan|virtuel|concurrent)|utenti\s+(?:simultane|virtuali|concorrenti)|usuarios\s+(?:simult|virtual|concurrent))")
        .expect("static regex")
});

/// Latin-looking letters of other scripts (Cyrillic, Greek, fullwidth) and the Latin letter
/// they pass for.
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'с' | 'ϲ' => 'c',
        'С' | 'Ϲ' => 'C',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'Е' | 'Ε' => 'E',
        'һ' => 'h',
        'Н' | 'Η' => 'H',
        'і' | 'ι' | 'ı' => 'i',
        'І' | 'Ι' | 'Ӏ' => 'I',
        'ј' => 'j',
        'Ј' => 'J',
        'κ' | 'к' => 'k',
        'К' | 'Κ' => 'K',
        'ӏ' => 'l',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'о' | 'ο' => 'o',
        'О' | 'Ο' => 'O',
        'р' | 'ρ' => 'p',
        'Р' | 'Ρ' => 'P',
        'ԛ' => 'q',
        'ѕ' => 's',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' => 'w',
        'х' | 'χ' => 'x',
        'Х' | 'Χ' => 'X',
        'у' => 'y',
        'У' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        // Fullwidth Latin letters.
        '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(c as u32 - 0xFF21 + 0x41).unwrap_or(c)
        }
        _ => return None,
    })
}

/// Characters that render as nothing and may sit inside a word to break matching.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Five or more single letters with one space between ("C A N C E L L E D").
static SPACED_LETTERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:[A-Za-z] ){4,}[A-Za-z](?-u:\b)").expect("static regex")
});

/// The text as a reader sees it, for matching words: a word written with look-alike letters
/// of another script among Latin ones ("lоad" with a Cyrillic о) is spelled in Latin,
/// invisible characters are left out, a word hyphenated across a line break
/// ("load-⏎test") is joined, and letters spaced out ("C A N C E L") are closed up. Words
/// entirely of another script (Russian, Greek text) stay as written. One pass, linear.
pub fn fold(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let needs_chars = !text.is_ascii() || text.contains("-\n") || text.contains("-\r\n");
    let joined: Cow<'_, str> = if needs_chars {
        Cow::Owned(fold_chars(text))
    } else {
        Cow::Borrowed(text)
    };
    if !SPACED_LETTERS.is_match(&joined) {
        return joined;
    }
    let closed = SPACED_LETTERS.replace_all(&joined, |c: &regex::Captures<'_>| {
        c.get(0)
            .map_or(String::new(), |m| m.as_str().replace(' ', ""))
    });
    Cow::Owned(closed.into_owned())
}

/// The character work of [`fold`]: words one at a time (a word is a run of letters, digits
/// and invisible characters).
fn fold_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    // Whether the word has a look-alike letter, and whether all its letters look Latin.
    let flush = |word: &mut String, out: &mut String| {
        // No ASCII letter is a look-alike: most words are copied as they are.
        if word.is_ascii() {
            out.push_str(word);
            word.clear();
            return;
        }
        let has_confusable = word.chars().any(|c| confusable(c).is_some());
        let latin_looking = word
            .chars()
            .all(|c| !c.is_alphabetic() || (c as u32) < 0x250 || confusable(c).is_some());
        if has_confusable && latin_looking {
            out.extend(word.chars().map(|c| confusable(c).unwrap_or(c)));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        if invisible(c) {
            continue;
        }
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        // "load-⏎test": a hyphen at the end of a line right after a letter joins the word
        // on the next line (the line break and indentation are dropped).
        if c == '-' && word.chars().last().is_some_and(char::is_alphabetic) {
            let mut ahead = chars.clone();
            if ahead.peek() == Some(&'\r') {
                ahead.next();
            }
            if ahead.next() == Some('\n') {
                while matches!(ahead.peek(), Some(' ' | '\t')) {
                    ahead.next();
                }
                if ahead.peek().is_some_and(|n| n.is_alphabetic()) {
                    word.push('-');
                    chars = ahead;
                    continue;
                }
            }
        }
        flush(&mut word, &mut out);
        out.push(c);
    }
    flush(&mut word, &mut out);
    out
}

/// The sentence containing `start..end` (its trimmed bounds) and whether it is a question,
/// scanning back no further than `floor`.
fn sentence_bounds(text: &str, floor: usize, start: usize, end: usize) -> (usize, usize, bool) {
    let s = floor
        + text
            .get(floor..start)
            .map_or(0, |b| sentence_start(b.as_bytes()));
    let e = text
        .get(end..)
        .and_then(|a| sentence_end(a.as_bytes()))
        .map_or(text.len(), |i| end + i);
    #[cfg(test)]
    SCANNED.with(|c| c.set(c.get() + (start - floor) + (e - end)));
    let span = text.get(s..e).map(str::trim);
    // A `?` can only end a sentence; a sentence longer than the reported 400 characters
    // does not read as a question (as before: its shortened form does not end in `?`).
    let question = span.is_some_and(|t| {
        t.ends_with('?') && collapse_sentence(t).is_some_and(|c| c.ends_with('?'))
    });
    (s, e, question)
}

#[cfg(test)]
thread_local! {
    /// Bytes the sentence scans walked, for the linearity test.
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// "benchmark", "Benchmarks", "benchmarking": a load test when a request rate goes with it.
static BENCHMARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)bench[\s\-]?mark\w*").expect("static regex"));

/// A stated request rate ("500 rps", "2k req/s", "1000 requests per second", "Anfragen pro
/// Sekunde").
static RATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[0-9][0-9,.'’ ]*\s?k?\s?(?:rps|req/s|requests?\s*(?:/|per)\s*s|anfragen\s*(?:/|pro)\s*s|requests?\s*(?:/|per)\s*min)")
        .expect("static regex")
});

/// Words just before a platform word that make it the customer's hosting, not the target:
/// "hosted on Lagoon", "runs on your platform", "our learning platform".
const HOSTING_BEFORE: &[&str] = &[
    "on",
    "auf",
    "in",
    "bei",
    "hosted",
    "runs",
    "running",
    "run",
    "deployed",
    "betrieben",
    "gehostet",
    "our",
    "unsere",
    "unserer",
    "unser",
    "unseren",
    "my",
    "via",
    "within",
    "behind",
];
/// Words just after a platform word that name a customer's project on it.
const PROJECT_AFTER: &[&str] = &[
    "project",
    "projekt",
    "environment",
    "environments",
    "umgebung",
    "route",
    "routes",
    "app",
    "application",
    "site",
    "sites",
    "hosting",
];

/// Whether the platform word at `start..end` is itself what is tested. Generic words
/// ("platform", "infrastructure") need to be ours: "your platform", "the hosting
/// platform", "Lagoon infrastructure", "the platform itself".
fn names_the_platform_itself(text: &str, start: usize, end: usize) -> bool {
    let word = text.get(start..end).unwrap_or("").to_lowercase();
    // A few words on either side, in bounded windows: a long run without spaces around
    // many platform words must not be walked again for each.
    let before = window_before(text, start, 200);
    let after = window_after(text, end, 200);
    let generic =
        ["platform", "plattform", "infrastructure", "infrastruktur"].contains(&word.as_str());
    if generic {
        let prev: Vec<String> = before
            .split_whitespace()
            .rev()
            .take(2)
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
                    .to_lowercase()
            })
            .collect();
        let next = after
            .split_whitespace()
            .next()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .unwrap_or_default();
        let ours = prev.iter().any(|w| {
            [
                "your",
                "ihre",
                "ihrer",
                "eure",
                "hosting",
                "amazee",
                "amazee.io",
                "lagoon",
                "shared",
                "the",
            ]
            .contains(&w.as_str())
        }) || next == "itself"
            || next == "selbst";
        if !ours {
            return false;
        }
    }
    let hosted = before
        .split_whitespace()
        .rev()
        .take(3)
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .any(|w| HOSTING_BEFORE.contains(&w.as_str()));
    let project = after
        .split_whitespace()
        .next()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .is_some_and(|w| PROJECT_AFTER.contains(&w.as_str()));
    !hosted && !project
}

/// The at most `n` bytes of `text` before `at`, cut at a character boundary.
fn window_before(text: &str, at: usize, n: usize) -> &str {
    let mut from = at.saturating_sub(n);
    while from < at && !text.is_char_boundary(from) {
        from += 1;
    }
    text.get(from..at).unwrap_or("")
}

/// The at most `n` bytes of `text` after `at`, cut at a character boundary.
fn window_after(text: &str, at: usize, n: usize) -> &str {
    let mut to = at.saturating_add(n).min(text.len());
    while to > at && !text.is_char_boundary(to) {
        to -= 1;
    }
    text.get(at..to).unwrap_or("")
}

/// How far back a negation is looked for: a few words. Bounded so that a long text made of
/// test words is read in linear time.
const LOOK_BACK: usize = 512;

/// Words that may stand between a negation and a load word without changing what the
/// negation is about ("no real load test", "keinen richtigen Lasttest").
const FILLERS: &[&str] = &[
    "a",
    "an",
    "any",
    "the",
    "real",
    "actual",
    "full",
    "proper",
    "big",
    "large",
    "kind",
    "of",
    "sort",
    "ein",
    "eine",
    "einen",
    "einer",
    "richtigen",
    "richtige",
    "richtiger",
    "echten",
    "echte",
    "echter",
    "grossen",
    "großen",
    "grosse",
    "große",
];

/// Words right after a negation that turn it into an addition: "not only", "nicht nur".
const NOT_ONLY: &[&str] = &[
    "only",
    "just",
    "merely",
    "solely",
    "nur",
    "bloss",
    "bloß",
    "allein",
    "lediglich",
];

/// Words that make a clause add rather than take away: "a pen test as well as …",
/// "sowie", "but also".
const ADDS: &[&str] = &[
    "also",
    "auch",
    "sowie",
    "well",
    "plus",
    "zusätzlich",
    "additionally",
];

/// How far back the four words before a test word are looked for.
const NEAR: usize = 160;

/// The clause ending at `at`, from at most `n` bytes before it: back to the last `.`, `;`,
/// line break, `:`, `!`, `?` or `,`. A word cut by the window's start is left out.
fn clause_tail(text: &str, at: usize, n: usize) -> &str {
    let before = window_before(text, at, n);
    match before.rfind(['.', ';', '\n', ':', '!', '?', ',']) {
        Some(i) => before.get(i + 1..).unwrap_or(""),
        None if before.len() < at => before
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest),
        None => before,
    }
}

/// `w` without surrounding punctuation.
fn trim_word(w: &str) -> &str {
    w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '\''))
}

/// Whether the word `w` is one of `list` (lowercase), without allocating for ASCII words.
fn is_one_of(w: &str, list: &[&str]) -> bool {
    if w.is_ascii() {
        list.iter().any(|x| x.eq_ignore_ascii_case(w))
    } else {
        let lower = w.to_lowercase();
        list.contains(&trim_word(&lower))
    }
}

/// Whether the test word at `at` is negated ("no load testing", "kein Pentest").
///
/// For security words: a negation among the four words before it, in the same clause. For
/// load words stricter, since dropping one shortens the notice: only a negation directly
/// before it (articles and a few adjectives in between), and never "not only" or a
/// clause that goes on with "but also", "as well as", "sowie" or "sondern auch".
///
/// Bounded: the four words come from at most [`NEAR`] bytes, the clause checked for
/// [`ADDS`] (only once a negation is found) from at most [`LOOK_BACK`].
fn negated(text: &str, at: usize, load: bool) -> bool {
    let near = clause_tail(text, at, NEAR);
    let mut words = near.split_whitespace().rev().take(4).map(trim_word);
    if !load {
        return words.any(|w| is_one_of(w, NEGATIONS));
    }
    let mut nearer: Option<&str> = None;
    for w in words {
        if is_one_of(w, NEGATIONS) {
            // "not only a load test": the word after the negation (nearer the test word).
            if nearer.is_some_and(|n| is_one_of(n, NOT_ONLY)) {
                return false;
            }
            let clause = clause_tail(text, at, LOOK_BACK);
            return !clause
                .split_whitespace()
                .any(|w| is_one_of(trim_word(w), ADDS));
        }
        if !is_one_of(w, FILLERS) {
            return false;
        }
        nearer = Some(w);
    }
    false
}

/// Where the sentence ending at the end of `before` starts: just after the last `!`, `?`,
/// `. `, `.\n` or blank line, or after the `- `/`* ` marker of a list item (one backward
/// scan; the nearest delimiter wins, as every candidate lies at or just after its start).
fn sentence_start(before: &[u8]) -> usize {
    let mut i = before.len();
    while i > 0 {
        i -= 1;
        let Some(&b) = before.get(i) else { break };
        let next = before.get(i + 1).copied();
        match b {
            b'!' | b'?' => return i + 1,
            b'.' if matches!(next, Some(b' ' | b'\n')) => return i + 1,
            b'\n' => match next {
                Some(b'-' | b'*') => return i + 2,
                Some(b'\n') => return i + 1,
                // "\n•": the bullet is three bytes, all inside `before`.
                Some(0xe2) if before.get(i + 1..i + 4) == Some("•".as_bytes()) => return i + 1,
                _ => {}
            },
            _ => {}
        }
    }
    0
}

/// Where the sentence starting at `after` ends (offset into `after`): after the first `!`,
/// `?`, `. ` or `.\n`, or before the first blank line or list item; `None` at the end.
fn sentence_end(after: &[u8]) -> Option<usize> {
    for (i, &b) in after.iter().enumerate() {
        let next = after.get(i + 1).copied();
        match b {
            b'!' | b'?' => return Some(i + 1),
            b'.' if matches!(next, Some(b' ' | b'\n')) => return Some(i + 1),
            b'\n' => match next {
                Some(b'\n' | b'-' | b'*') => return Some(i),
                Some(0xe2) if after.get(i + 1..i + 4) == Some("•".as_bytes()) => return Some(i),
                _ => {}
            },
            _ => {}
        }
    }
    None
}

/// The text of the sentence containing `start..end`, trimmed (the reference for the
/// cached bounds [`mentions`] uses). Sentences end at `.`, `!`, `?`, a blank line or a
/// list item; a single line break (wrapped text) does not end one.
#[cfg(test)]
fn sentence_span(text: &str, start: usize, end: usize) -> Option<&str> {
    let s = sentence_start(text.get(..start)?.as_bytes());
    let after = text.get(end..)?;
    let e = sentence_end(after.as_bytes()).map_or(text.len(), |i| end + i);
    Some(text.get(s..e.min(text.len()))?.trim())
}

/// A sentence as reported: whitespace runs become one space, at most 400 characters.
fn collapse_sentence(sentence: &str) -> Option<String> {
    if sentence.is_ascii() {
        // Byte-wise: ASCII whitespace (as `char::is_whitespace` has it) is tab, LF, VT, FF,
        // CR and space, and 400 characters are 400 bytes.
        let is_space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
        let mut out: Vec<u8> = Vec::with_capacity(sentence.len().min(1600));
        for word in sentence
            .as_bytes()
            .split(is_space)
            .filter(|w| !w.is_empty())
        {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(word);
            if out.len() > 1600 {
                break;
            }
        }
        out.truncate(400);
        return String::from_utf8(out).ok().filter(|s| !s.is_empty());
    }
    collapse_any(sentence)
}

/// [`collapse_sentence`] for any text.
fn collapse_any(sentence: &str) -> Option<String> {
    let mut joined = String::with_capacity(sentence.len().min(1600));
    for word in sentence.split_whitespace() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
        if joined.len() > 1600 {
            break;
        }
    }
    if let Some((cut, _)) = joined.char_indices().nth(400) {
        joined.truncate(cut);
    }
    let sentence = joined;
    (!sentence.is_empty()).then_some(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`mentions`] as first written: every sentence built, every word lowercased.
    fn mentions_reference(text: &str) -> TestMentions {
        let mut m = TestMentions::default();
        for whole in TEST_WORDS.find_iter(text) {
            let at = text.get(whole.start()..).unwrap_or("");
            if negated(text, whole.start(), LOAD_AT_START.is_match(at)) {
                continue;
            }
            if LOAD_AT_START.is_match(at) {
                m.load = true;
            } else {
                m.security = true;
            }
            let sentence =
                sentence_span(text, whole.start(), whole.end()).and_then(collapse_sentence);
            let question = sentence.as_deref().is_some_and(|s| s.ends_with('?'));
            if !question {
                m.announces = true;
                if m.first_sentence.is_none() {
                    m.first_sentence = sentence;
                }
            }
        }
        let full = mentions_in(text);
        m.platform = full.platform;
        // The benchmark rule is not about sentences.
        m.load |= full.load;
        m
    }

    proptest::proptest! {
        #[test]
        fn ascii_sentences_collapse_like_any(s in "[a-z?. \t\n\r\u{b}\u{c}]{0,40}|([a-z]{1,30}[ \t\n\u{b}]{1,3}){0,40}") {
            proptest::prop_assert_eq!(collapse_sentence(&s), collapse_any(&s));
        }

        #[test]
        fn mentions_matches_reference(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "load test", "pentest", "Pentest?", "security scan", "No", "KEIN", "nicht",
                    "won't", "İNOT", "not,", "(no)", "we", "plan", "a", "the", "platform",
                    "?", ".", "!", ",", "\n", "\n\n", "\n- ", "\n• ", "  ", "ü", "x".repeat(90).leak(),
                ]),
                0..60,
            )
        ) {
            let text = words.join(" ");
            proptest::prop_assert_eq!(mentions_in(&text), mentions_reference(&text));
        }
    }

    #[test]
    fn pen_test_of_own_app_is_standard() {
        let m = mentions("We would like to run a penetration test against our Drupal site.");
        assert!(m.security && !m.load);
        assert_eq!(m.class(), TestClass::Standard);
        assert_eq!(
            m.first_sentence.as_deref(),
            Some("We would like to run a penetration test against our Drupal site.")
        );
    }

    #[test]
    fn load_tests_are_broad_in_both_languages() {
        assert_eq!(
            mentions("Load testing of shop.example.ch").class(),
            TestClass::Broad
        );
        assert_eq!(
            mentions("Wir planen einen Lasttest").class(),
            TestClass::Broad
        );
        assert_eq!(mentions("a DDoS simulation").class(), TestClass::Broad);
        assert_eq!(
            mentions("Stress-Test der Webseite").class(),
            TestClass::Broad
        );
    }

    /// German (and English) writers share the end of a compound: "Last- und Penetrationstest"
    /// is a load test and a pen test.
    #[test]
    fn a_suspended_hyphen_compound_is_a_load_test() {
        for text in [
            "Wir planen einen Last- und Penetrationstest.",
            "Geplant: Performance- oder Sicherheitstests der Shop-Instanz",
            "Stress-, Last- und Pentests im Januar",
            "Leistungs- & Penetrationstest",
            "We run load- and penetration tests against shop.example.ch",
        ] {
            let m = mentions(text);
            assert_eq!(m.class(), TestClass::Broad, "{text}");
        }
        // A hyphenated word that is no shared compound stays what it was.
        assert_eq!(
            mentions("Ein Penetrationstest der Last-Mile-Strecke").class(),
            TestClass::Standard
        );
    }

    #[test]
    fn load_balancer_and_negated_load_tests_are_not_load_tests() {
        let m =
            mentions("Pentest of the app behind the load balancer. No load testing will be done.");
        assert!(m.security);
        assert!(!m.load);
        assert_eq!(m.class(), TestClass::Standard);
        let m = mentions("Es wird kein Lasttest durchgeführt, nur ein Pentest.");
        assert!(!m.load && m.security);
    }

    #[test]
    fn security_test_of_the_platform_is_broad() {
        let m = mentions("We plan a security assessment of the Lagoon Kubernetes cluster.");
        assert_eq!(m.class(), TestClass::Broad);
    }

    #[test]
    fn hosting_on_the_platform_is_not_testing_it() {
        for t in [
            "We plan a penetration test of our portal, hosted on Lagoon.",
            "Pentest unserer Webseite, die bei Ihnen auf Lagoon betrieben wird.",
            "A pen test of www.example.org, which runs on your Lagoon platform.",
            "Penetration test of our learning platform.",
            "Pentest of the shop (Lagoon project \"shop-prod\").",
        ] {
            assert_eq!(mentions(t).class(), TestClass::Standard, "{t}");
        }
        assert_eq!(
            mentions("We announce a security test of the platform itself.").class(),
            TestClass::Broad
        );
        assert_eq!(
            mentions("Penetration test learning platform").class(),
            TestClass::Standard
        );
        assert_eq!(
            mentions("Security assessment of your Lagoon infrastructure").class(),
            TestClass::Broad
        );
    }

    #[test]
    fn wrapped_questions_are_still_questions() {
        let m = mentions(
            "- Do you perform regular penetration tests of your infrastructure, and can you\n  share a summary of the latest report?\n- How do you protect the platform?",
        );
        assert!(!m.announces);
    }

    #[test]
    fn questions_about_how_to_announce_are_recognised() {
        assert!(asks_how(
            "What information do you need before we run a pen test?"
        ));
        assert!(asks_how("Wie viel Vorlauf braucht ihr für einen Pentest?"));
        assert!(!asks_how("We will run a pen test from 14 Dec."));
    }

    #[test]
    fn tests_named_only_in_questions_are_not_announced() {
        let m = mentions(
            "It asks:\n- Do you perform regular penetration tests of your infrastructure?\n- Do you allow load tests?\n",
        );
        assert!(m.any());
        assert!(!m.announces);
        assert!(mentions("We will run a load test on 14 Dec. Is that ok?").announces);
    }

    #[test]
    fn german_load_compounds_are_broad() {
        for t in [
            "Wir planen einen Lasttest am 14.12.",
            "Last-Test der Webseite am Montag",
            "Ankündigung Leistungstest Onlineshop",
            "Kapazitätstest der Buchungsplattform",
            "Geplanter Performance-Test der API",
            "Performancetest mit 500 gleichzeitigen Nutzern",
            "Stresstest des Checkouts",
            "Belastungstest am Wochenende",
            "Wir simulieren Lastspitzen wie am Black Friday",
        ] {
            let m = mentions(t);
            assert!(m.load, "{t}");
            assert_eq!(m.class(), TestClass::Broad, "{t}");
        }
    }

    #[test]
    fn load_tools_and_rated_benchmarks_are_load_tests() {
        for t in [
            "We will benchmark the checkout at 500 rps with k6.",
            "Benchmarking the API at 2,000 requests per second.",
            "We run JMeter against shop.example.ch on Monday.",
            "Gatling scenario, then Locust and vegeta, finally wrk.",
            "ab -n 100000 -c 200 https://shop.example.ch/",
            "Soak test over 48 hours, then a spike test and a capacity test.",
            "Volume testing of the import API",
        ] {
            assert!(mentions(t).load, "{t}");
        }
        // No rate, no tool: a security benchmark is not a load test; German "ab" is a date.
        assert!(!mentions("Pentest per CIS Benchmark der Server").load);
        assert!(!mentions("Pentest ab 14.12.2026 um 08:00").load);
    }

    #[test]
    fn not_only_is_no_negation() {
        for t in [
            "This is not only a load test but also a pen test.",
            "Not just a pentest: also a load test of the shop.",
            "Es ist nicht nur ein Lasttest, sondern auch ein Pentest.",
            "Wir machen nicht nur einen Pentest, sondern auch einen Lasttest.",
            "A pentest as well as no... load test",
            "Pentest sowie kein Lasttest", // "sowie": when unsure, broad
        ] {
            assert!(mentions(t).load, "{t}");
        }
        // A real negation still makes it standard.
        for t in [
            "No load test, only a pen test.",
            "There will be no load testing, only a penetration test.",
            "Es wird kein Lasttest durchgeführt, nur ein Pentest.",
            "Pentest ohne Lasttest.",
            "This is not a load test.",
        ] {
            let m = mentions(t);
            assert!(!m.load, "{t}");
        }
        // "won't stop the load test": the negation is about something else.
        assert!(mentions("We won't stop the load test at night.").load);
    }

    #[test]
    fn cancellations_are_found_in_every_language() {
        for (t, word) in [
            ("The load test on 14 Dec is cancelled.", "cancelled"),
            ("Please cancel our pentest announcement.", "cancel"),
            ("We have called off the test.", "called off"),
            (
                "Please do not schedule the test for now.",
                "do not schedule",
            ),
            ("Don't proceed with the test.", "Don't proceed"),
            ("The pentest is postponed to January.", "postponed"),
            ("The test is on hold.", "on hold"),
            ("Our announcement is withdrawn.", "withdrawn"),
            ("Der Lasttest ist abgesagt.", "abgesagt"),
            ("Der Test wird verschoben.", "verschoben"),
            ("Der Auftrag wurde storniert.", "storniert"),
            ("Der Pentest findet nicht statt.", "findet nicht statt"),
            ("Bitte nicht einplanen.", "Bitte nicht einplanen"),
            ("Le test est annulé.", "annulé"),
            ("Le test est reporté.", "reporté"),
            ("Il test è annullato.", "annullato"),
            ("El test está cancelado.", "cancelado"),
            ("La prueba queda aplazada.", "aplazada"),
            // A negated cancellation is read by a person too.
            ("This is not cancelled.", "cancelled"),
        ] {
            assert_eq!(cancellation(t).as_deref(), Some(word), "{t}");
        }
        for t in [
            "We will run a load test on 14 Dec; the report follows afterwards.",
            "Wir führen am 14.12. einen Pentest durch und schicken danach den Bericht.",
            "Holding AG plans a pen test; the scope holds three hosts.",
        ] {
            assert_eq!(cancellation(t), None, "{t}");
        }
    }

    /// Red team 026–029: load tests named in the other languages customers write in.
    #[test]
    fn load_tests_in_french_italian_spanish_dutch_portuguese_are_broad() {
        for t in [
            "We announce a penetration test and a test de charge (montée en charge jusqu'à 5000 utilisateurs).",
            "Nous prévoyons des tests de charge de la boutique.",
            "Pentest e test di carico del nostro shop.",
            "Realizaremos una prueba de carga del portal.",
            "Wij voeren een belastingtest uit op de webshop.",
            "Faremos um teste de carga no portal.",
        ] {
            assert_eq!(mentions(t).class(), TestClass::Broad, "{t}");
        }
    }

    /// Red team 030–032: denial of service spelled out or hyphenated, floods.
    #[test]
    fn denial_of_service_and_floods_are_load_tests() {
        for t in [
            "The pen test includes a denial-of-service simulation against the checkout.",
            "Der Pentest umfasst eine Denial of Service Simulation.",
            "Plus a D-DoS resilience check of the API.",
            "A volumetric attack simulation (HTTP flood, 9 Gbit/s) on day two.",
            "We test SYN-flood protection of the shop.",
        ] {
            assert!(mentions(t).load, "{t}");
        }
    }

    /// Red team 033: load tools other than k6/JMeter, and a crowd of simulated users.
    #[test]
    fn load_runner_and_virtual_users_are_load_tests() {
        for t in [
            "Manual testing with Burp Suite, plus a LoadRunner run with 20,000 virtual users.",
            "We use NeoLoad (Tricentis) against the API.",
            "Pentest und Performance-Messung mit 5000 gleichzeitigen Nutzern.",
            "Ramp-up to 2k concurrent users over an hour.",
            "The scenario runs 800 VUs.",
        ] {
            assert!(mentions(t).load, "{t}");
        }
        // Users without a number are a pen test's wording ("session handling with
        // concurrent users"), and a negated crowd is none.
        for t in [
            "Pentest of session handling with concurrent users.",
            "Pentest only, no 5000 virtual users.",
            "Race conditions are tested with 2 concurrent users.",
        ] {
            assert!(!mentions(t).load, "{t}");
        }
    }

    /// Red team 034: plain text wrapped by the client after a hyphen.
    #[test]
    fn a_load_word_hyphenated_across_a_line_break_is_read() {
        for t in [
            "We would like to announce a penetration test and a load-\ntest of our web shop.",
            "Wir planen einen Pentest und einen Last-\r\n   test der Webseite.",
            "Stress-\ntest des Checkouts",
        ] {
            assert_eq!(mentions(t).class(), TestClass::Broad, "{t:?}");
        }
        // A dash at the end of a line before a list stays a dash.
        assert_eq!(
            mentions("Pentest of the shop -\n- no other tests").class(),
            TestClass::Standard
        );
    }

    /// Red team 035/052: Cyrillic and Greek letters that look Latin inside a word.
    #[test]
    fn homoglyphs_inside_test_words_are_read_as_latin() {
        // Cyrillic о in "load", Cyrillic а in "cancelled", Greek ο and Cyrillic е.
        assert!(mentions("We announce a penetration test and a l\u{43e}ad test.").load);
        assert!(mentions("Str\u{435}sst\u{435}st d\u{435}r API").load);
        assert!(mentions("A l\u{3bf}ad test of the shop").load);
        assert_eq!(
            cancellation("The test is c\u{430}ncelled.").as_deref(),
            Some("cancelled")
        );
        // Zero-width characters and soft hyphens inside a word are left out.
        assert!(mentions("a lo\u{200b}ad te\u{ad}st").load);
        // Words wholly of another script stay as written.
        assert_eq!(fold("Нагрузочный тест сайта"), "Нагрузочный тест сайта");
        assert_eq!(fold("Ελληνικά κείμενα"), "Ελληνικά κείμενα");
    }

    /// Red team 081–083: a pen test that goes for the hosting beneath the application.
    #[test]
    fn container_escape_tenants_and_shared_edge_test_the_platform() {
        for t in [
            "We would like to announce a penetration test of our web shop. We will also attempt a container escape and lateral movement into other namespaces on the underlying nodes.",
            "Penetration test. In scope: tenant isolation, i.e. whether we can reach other customers' databases from our pod.",
            "Pentest of the shop. We will also test whether your shared WAF and the hosting provider's edge router can be bypassed.",
            "Pentest inkl. Container-Ausbruch und Zugriff auf andere Kunden.",
        ] {
            assert_eq!(mentions(t).class(), TestClass::Broad, "{t}");
        }
        for t in [
            "Penetration test of our shop. No container escape attempts, no DoS.",
            "Pentest of our own Cloudflare WAF rules.",
            "We will not attempt lateral movement.",
            // Where traffic passes, what must not be hurt, who hosts the shop.
            "Please allow our IPs in your firewall and in the shared WAF.",
            "Pentest of the shop without affecting other customers.",
            "Pentest of the shop; we take care to avoid impact on other tenants.",
            "Pentest of our shop, hosted by our hosting provider amazee.io.",
        ] {
            assert_eq!(mentions(t).class(), TestClass::Standard, "{t}");
        }
    }

    /// Red team 037–053: the ways people call a test off that the first list missed.
    #[test]
    fn cancellation_wording_of_the_second_red_team() {
        for t in [
            "Wir sagen den Test ab.",
            "Leider sagen wir den geplanten Pentest ab.",
            "Wir verzichten auf den Test.",
            "Bitte austragen, nicht mehr nötig.",
            "Nous annulons le test.",
            "No testing will take place.",
            "We are aborting the test.",
            "We decided not to run the test.",
            "We're not going ahead.",
            "Please stop the test.",
            "Please delete our test announcement.",
            "We will not need the window anymore.",
        ] {
            assert!(cancellation(t).is_some(), "{t}");
        }
        // Not cancellations: the contact who can stop a test, a test that goes ahead.
        for t in [
            "Point of contact who can stop the test: Anna Muster",
            "The test is going ahead as planned.",
            "Wir sagen Ihnen Bescheid.",
            "We need the window from 09:00.",
            "No load testing will be done; only the penetration test.",
            "No testing will take place on weekends.",
        ] {
            assert!(cancellation(t).is_none(), "{t}: {:?}", cancellation(t));
        }
    }

    #[test]
    fn cancellation_wording_found_by_the_red_team() {
        for (t, word) in [
            (
                "The penetration test described below will not take place after all.",
                "will not take place",
            ),
            (
                "Please ignore this announcement, the test is no longer needed.",
                "Please ignore this announcement",
            ),
            ("Management scrapped the test.", "scrapped"),
            ("Der unten beschriebene Pentest entfällt.", "entfällt"),
            ("Der Test fällt leider aus.", "fällt leider aus"),
            ("Wir haben den Test abgeblasen.", "abgeblasen"),
            (
                "The test has been moved to January; new dates will follow.",
                "been moved",
            ),
            ("The test is delayed until further notice.", "delayed until"),
            (
                "We have to abort the planned test; please don't whitelist anything.",
                "We have to abort",
            ),
            ("The test is off.", "test is off"),
            ("STORNO: Penetration test shop", "STORNO"),
            ("De pentest is geannuleerd.", "geannuleerd"),
            ("De test gaat niet door.", "gaat niet door"),
            ("O teste foi adiado.", "adiado"),
            ("Le test n'aura pas lieu.", "aura pas lieu"),
            ("Il test non si terrà.", "non si terrà"),
            ("The test is C A N C E L L E D.", "CANCELLED"),
        ] {
            assert_eq!(cancellation(t).as_deref(), Some(word), "{t}");
        }
        // Honest notifications say these; none calls the test off.
        for t in [
            "We will abort the test immediately if the shop slows down.",
            "Please ignore alerts from our scanner during the window.",
            "Falls der Shop ausfällt, rufen Sie bitte sofort an.",
            "Fällt die Seite aus, stoppen wir sofort.",
            "The test takes place as announced; the report will follow.",
            "Traffic from 185.199.110.17 will be moderate.",
            "We may have to abort the test if the shop slows down.",
            "Please do not whitelist our IPs: we want to see whether the WAF blocks us.",
            "We test at night, when it is off-peak.",
        ] {
            assert_eq!(cancellation(t), None, "{t}");
        }
    }

    #[test]
    fn folding_a_long_text_is_linear_and_keeps_ascii() {
        let text = "load-\ntest l\u{43e}ad ".repeat(100_000);
        let folded = fold(&text);
        assert_eq!(folded.matches("load-test").count(), 100_000);
        assert!(matches!(
            fold("plain ascii text"),
            std::borrow::Cow::Borrowed(_)
        ));
        let spaced = "a b ".repeat(200_000);
        assert!(fold(&spaced).len() < spaced.len());
    }

    #[test]
    fn a_long_text_of_test_words_is_read_right() {
        // No sentence end in 1.5 MB: once quadratic in the look-back.
        let text = "we run a load test and a pentest ".repeat(45_000);
        let m = mentions(&text);
        assert!(m.load && m.security && m.announces);
        assert!(m.first_sentence.is_some_and(|s| s.chars().count() <= 400));
        let negated = "kein Lasttest kein Pentest ".repeat(50_000);
        let m = mentions(&negated);
        assert!(!m.load && !m.security && !m.announces);
    }

    /// Bytes walked by the sentence scans for `text`.
    fn scanned(text: &str) -> usize {
        SCANNED.with(|c| c.set(0));
        let _ = mentions(text);
        SCANNED.with(std::cell::Cell::get)
    }

    proptest::proptest! {
        /// Doubling the text at most doubles the sentence scans (once one scan per test
        /// word walked back to the start of the text).
        #[test]
        fn sentence_scans_are_linear(
            unit in proptest::sample::select(vec![
                "load test ", "pentest and load test, ", "kein Lasttest. ", "x pentest? ",
                "a\n- pentest ", "no load test but a pen test ",
            ]),
            n in 1usize..400,
        ) {
            let one = scanned(&unit.repeat(n));
            let two = scanned(&unit.repeat(2 * n));
            proptest::prop_assert!(two <= 2 * one + 2 * unit.len(), "{one} -> {two}");
            proptest::prop_assert!(two <= 2 * unit.len() * n + unit.len());
        }
    }

    proptest::proptest! {
        /// The look-back is bounded: what comes more than [`LOOK_BACK`] bytes before a
        /// clause changes nothing about it.
        #[test]
        fn far_text_does_not_change_a_clause(
            far in "[a-z ]{0,40}",
            words in proptest::collection::vec(
                proptest::sample::select(vec!["no", "kein", "not", "only", "a", "load test", "Lasttest", "pentest", "also", "the"]),
                1..8,
            ),
        ) {
            let clause = words.join(" ");
            let padded = format!("{}. {clause}", far.repeat(LOOK_BACK));
            let (a, b) = (mentions(&clause), mentions(&padded));
            proptest::prop_assert_eq!(a.load, b.load);
            proptest::prop_assert_eq!(a.security, b.security);
        }
    }

    #[test]
    fn no_test_words_in_billing_mail() {
        let m = mentions("Our invoice 2026-11 seems wrong, can you check the amount?");
        assert!(!m.any());
    }

    /// The former bound search (one `find`/`rfind` per delimiter), kept to check that the
    /// single-scan version finds the same sentence.
    fn bounds_reference(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
        let before = text.get(..start)?;
        let s = [
            before.rfind(['!', '?']).map(|i| i + 1),
            before.rfind(". ").map(|i| i + 1),
            before.rfind(".\n").map(|i| i + 1),
            before.rfind("\n\n").map(|i| i + 1),
            before.rfind("\n-").map(|i| i + 2),
            before.rfind("\n*").map(|i| i + 2),
            before.rfind("\n•").map(|i| i + 1),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        let after = text.get(end..)?;
        let e = [
            after.find(['!', '?']).map(|i| i + 1),
            after.find(". ").map(|i| i + 1),
            after.find(".\n").map(|i| i + 1),
            after.find("\n\n"),
            after.find("\n-"),
            after.find("\n*"),
            after.find("\n•"),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(text.len(), |i| end + i);
        Some((s, e))
    }

    proptest::proptest! {
        #[test]
        fn sentence_bounds_match_reference(
            text in "[a-z .!?\\n*•-]{0,60}",
            a in 0usize..64,
            b in 0usize..64,
        ) {
            let (start, end) = (a.min(b), a.max(b));
            if let Some((s, e)) = bounds_reference(&text, start, end) {
                let before = text.get(..start).unwrap_or("");
                let after = text.get(end..).unwrap_or("");
                proptest::prop_assert_eq!(sentence_start(before.as_bytes()), s);
                let e2 = sentence_end(after.as_bytes()).map_or(text.len(), |i| end + i);
                proptest::prop_assert_eq!(e2, e);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn load_or_security_as_with_capture_groups(
            words in proptest::collection::vec(
                "load|stress|test|tests|testing|pen|penetration|-|ddos|DoS|flood|flooding|security|scan|lasttest|Lasttests|ü|ä|perf|performance|owasp|red|team|bug|bounty| |\n|\\.|x|Sicherheitsprüfung|zap|vulnerability",
                0..12,
            )
        ) {
            static CAPS: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(&format!("(?xi)(?P<load>{LOAD_WORDS})|(?P<sec>{SECURITY_WORDS})"))
                    .expect("static regex")
            });
            let text = words.join(" ").replace(" - ", "-");
            let with_caps: Vec<_> = CAPS
                .captures_iter(&text)
                .filter_map(|c| c.get(0).map(|m| (m.range(), c.name("load").is_some())))
                .collect();
            let without: Vec<_> = TEST_WORDS
                .find_iter(&text)
                .map(|m| (m.range(), LOAD_AT_START.is_match(&text[m.start()..])))
                .collect();
            proptest::prop_assert_eq!(with_caps, without);
        }
    }
}
