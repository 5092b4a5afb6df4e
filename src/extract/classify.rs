//! Tells what a message is about: whether it announces a test, of which class, and which
//! sentence describes its scope.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::TestClass;

/// Load-like test words (the first alternative of [`TEST_WORDS`]).
const LOAD_WORDS: &str = r"(?-u:\b)(?:load|stress|performance|perf|soak|spike|endurance|capacity|volume|traffic|scalability)[\s\-]?test(?:s|ing)?(?-u:\b)
          |(?-u:\b)last[\s\-]?tests?(?-u:\b)|(?-u:\b)lasttest\w*|(?-u:\b)belastungstest\w*|(?-u:\b)performance[\s\-]?tests?\w*|(?-u:\b)stresstest\w*
          |(?-u:\b)ddos\w*|(?-u:\b)dos[\s\-]?(?:attack|simulation|test)\w*|(?-u:\b)flood(?:ing)?\s+test\w*";

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

/// Signs that a message asks how to announce a test rather than announcing one.
static HOW_TO_ASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)what (?:information|info|details|do you need)|which (?:information|details)|how (?:much|many days|far in advance|long in advance|do we|should we|can we|to)|do (?:we|i) need to (?:notify|inform|tell|announce|let)|is it (?:allowed|possible|ok)|are we allowed|may we|can we (?:run|do|perform)|welche (?:informationen|angaben)|wie (?:viel|lange|weit) (?:im voraus|vorher|vorlauf)|dürfen wir|duerfen wir|müssen wir|ist es erlaubt|is there a (?:policy|process|form)",
    )
    .expect("static regex")
});

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
pub fn mentions(text: &str) -> TestMentions {
    let mut m = TestMentions::default();
    for whole in TEST_WORDS.find_iter(text) {
        if negated(text, whole.start()) {
            continue;
        }
        let at = text.get(whole.start()..).unwrap_or("");
        if LOAD_AT_START.is_match(at) {
            m.load = true;
        } else {
            m.security = true;
        }
        // The sentence is only built when it is kept or may be a question: a `?` can only
        // end a sentence (it ends one), so one not ending in `?` is no question.
        let span = sentence_span(text, whole.start(), whole.end());
        let question = span.is_some_and(|s| {
            s.ends_with('?') && collapse_sentence(s).is_some_and(|s| s.ends_with('?'))
        });
        if !question {
            m.announces = true;
            if m.first_sentence.is_none() {
                m.first_sentence = span.and_then(collapse_sentence);
            }
        }
    }
    m.platform = PLATFORM_WORDS
        .find_iter(text)
        .any(|w| names_the_platform_itself(text, w.start(), w.end()));
    m
}

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
    let before = text.get(..start).unwrap_or("");
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
        let next = text
            .get(end..)
            .unwrap_or("")
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
    let after = text.get(end..).unwrap_or("");
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

/// True when one of the three words before `at` is a negation ("no load testing").
fn negated(text: &str, at: usize) -> bool {
    let before = text.get(..at).unwrap_or("");
    // Only look within the same clause.
    let clause_start = before
        .rfind(['.', ';', '\n', ':', '!', '?', ','])
        .map_or(0, |i| i + 1);
    let clause = before.get(clause_start..).unwrap_or("");
    let keep = |c: char| c.is_alphanumeric() || c == '\'';
    clause.split_whitespace().rev().take(4).any(|w| {
        if w.is_ascii() {
            // Lowercasing ASCII changes no character class, so trimming first and comparing
            // without case gives the same answer without a copy.
            let w = w.trim_matches(|c: char| !keep(c));
            NEGATIONS.iter().any(|n| n.eq_ignore_ascii_case(w))
        } else {
            NEGATIONS.contains(&w.to_lowercase().trim_matches(|c: char| !keep(c)))
        }
    })
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

/// The text of the sentence containing `start..end`, trimmed. Sentences end at `.`, `!`,
/// `?`, a blank line or a list item; a single line break (wrapped text) does not end one.
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
        let negated = |at: usize| {
            let before = text.get(..at).unwrap_or("");
            let clause_start = before
                .rfind(['.', ';', '\n', ':', '!', '?', ','])
                .map_or(0, |i| i + 1);
            let clause = before.get(clause_start..).unwrap_or("");
            clause.split_whitespace().rev().take(4).any(|w| {
                NEGATIONS.contains(
                    &w.to_lowercase()
                        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\''),
                )
            })
        };
        let mut m = TestMentions::default();
        for whole in TEST_WORDS.find_iter(text) {
            if negated(whole.start()) {
                continue;
            }
            let at = text.get(whole.start()..).unwrap_or("");
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
        m.platform = mentions(text).platform;
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
            proptest::prop_assert_eq!(mentions(&text), mentions_reference(&text));
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
