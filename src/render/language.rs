//! The customer's language: German or English, from the words of the new text.
//!
//! Frequent function words of each language are counted on word boundaries,
//! case-insensitively; the language with more of them wins. Field labels in the other
//! language (`Start:`, `IPs:`, `Bandbreite:`) are not function words and do not count, so a
//! German notification with English labels stays German. Only the first
//! [`MAX_BYTES`] are read, so the work is linear and bounded whatever the message holds.

use crate::check::Checked;
use crate::model::Lang;

/// Text beyond this is not read (a notification says what it is long before).
pub const MAX_BYTES: usize = 20 * 1024;
/// Fewer function words than this, all languages together: too little to tell.
const MIN_HITS: usize = 3;
/// Longer words are no function words and are not lowercased.
const MAX_WORD_CHARS: usize = 16;

/// German function words and the words of greetings and closings. Words both languages
/// use (`in`, `an`, `am`, `so`, `hallo`) are in neither list.
fn is_german(w: &str) -> bool {
    matches!(
        w,
        "und"
            | "der"
            | "die"
            | "das"
            | "den"
            | "dem"
            | "des"
            | "wir"
            | "sie"
            | "ihr"
            | "ihre"
            | "ihnen"
            | "ihren"
            | "uns"
            | "ich"
            | "bitte"
            | "nicht"
            | "mit"
            | "für"
            | "fuer"
            | "ist"
            | "sind"
            | "ein"
            | "eine"
            | "einen"
            | "einem"
            | "einer"
            | "unser"
            | "unsere"
            | "unseren"
            | "unserer"
            | "unseres"
            | "vom"
            | "zum"
            | "zur"
            | "von"
            | "auf"
            | "bei"
            | "bis"
            | "nach"
            | "über"
            | "oder"
            | "auch"
            | "werden"
            | "wird"
            | "möchten"
            | "gerne"
            | "gern"
            | "dank"
            | "danke"
            | "vielen"
            | "grüsse"
            | "grüße"
            | "gruss"
            | "gruß"
            | "freundlichen"
            | "freundliche"
            | "liebe"
            | "lieber"
            | "sehr"
            | "geehrte"
            | "geehrter"
            | "geehrten"
            | "guten"
            | "grüezi"
    )
}

/// English function words and the words of greetings and closings.
fn is_english(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "and"
            | "we"
            | "our"
            | "us"
            | "you"
            | "your"
            | "please"
            | "is"
            | "are"
            | "be"
            | "with"
            | "for"
            | "will"
            | "would"
            | "from"
            | "of"
            | "to"
            | "on"
            | "at"
            | "this"
            | "that"
            | "which"
            | "between"
            | "during"
            | "until"
            | "regards"
            | "kind"
            | "best"
            | "dear"
            | "hello"
            | "hi"
            | "thanks"
            | "thank"
            | "like"
            | "let"
    )
}

/// German or English, from `text`; `None` when it holds too few function words to tell or
/// as many of each.
pub fn detect(text: &str) -> Option<Lang> {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text.get(..end).unwrap_or("");
    let (mut de, mut en) = (0usize, 0usize);
    let mut word = String::with_capacity(MAX_WORD_CHARS * 4);
    for w in text.split(|c: char| !c.is_alphabetic()) {
        if w.is_empty() || w.chars().nth(MAX_WORD_CHARS).is_some() {
            continue;
        }
        word.clear();
        word.extend(w.chars().flat_map(char::to_lowercase));
        if is_german(&word) {
            de += 1;
        } else if is_english(&word) {
            en += 1;
        }
    }
    if de + en < MIN_HITS {
        return None;
    }
    match de.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Lang::De),
        std::cmp::Ordering::Less => Some(Lang::En),
        std::cmp::Ordering::Equal => None,
    }
}

/// The language of a checked message: its subject, its new text and the first lines of its
/// signature (where "Freundliche Grüsse" usually is), never the quoted earlier messages.
pub fn of_message(c: &Checked) -> Option<Lang> {
    let t = &c.letter.text;
    let mut s = String::with_capacity(MAX_BYTES.min(t.new.len() + 512));
    s.push_str(bounded(&c.verdict.subject, 1024));
    s.push('\n');
    s.push_str(bounded(&t.new, MAX_BYTES));
    s.push('\n');
    for line in t.signature.lines().take(2) {
        s.push_str(bounded(line, 200));
        s.push('\n');
    }
    detect(&s)
}

/// `s` cut at a character boundary at most `max` bytes in.
fn bounded(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GERMAN: &str = "Guten Tag

Wir lassen durch die CyberLabs Example GmbH einen Penetrationstest unseres
Kundenportals durchführen, das bei Ihnen auf Lagoon betrieben wird. Gerne
melden wir den Test wie folgt an:

Testumfang: Prüfung der Webapplikation nach OWASP ASVS Level 2
Zielsysteme: https://portal.stadtwerke-example.ch
Quell-IP: 194.230.144.22 und 194.230.144.23
Bandbreite: max. 50 Mbit/s
Zeitraum: 14. Dezember 2026, 9 Uhr bis 18. Dezember 2026, 17 Uhr

Für Rückfragen stehen wir gerne zur Verfügung.

Mit freundlichen Grüssen
Jürg Baumann";

    const ENGLISH: &str = "Hello amazee.io team,

we would like to announce a penetration test of our booking shop. Please find the
details below.

Scope: OWASP top 10, authenticated
Targets: shop.example.com
Source IPs: 185.199.110.17
Window: 2027-01-11 09:00 to 17:00 CET
Contact: Jane Doe, jane@example.com, +41 44 555 12 34

Let us know if anything is missing.

Kind regards
Jane";

    #[test]
    fn a_german_notification_is_german() {
        assert_eq!(detect(GERMAN), Some(Lang::De));
        assert_eq!(detect(&GERMAN.to_uppercase()), Some(Lang::De));
        assert_eq!(
            detect(
                "Sehr geehrte Damen und Herren\n\nhiermit kündigen wir einen Lasttest an. Freundliche Grüße"
            ),
            Some(Lang::De)
        );
    }

    #[test]
    fn an_english_notification_is_english() {
        assert_eq!(detect(ENGLISH), Some(Lang::En));
        assert_eq!(
            detect("Dear support, we will run a load test on the shop. Best regards"),
            Some(Lang::En)
        );
    }

    #[test]
    fn german_text_with_english_field_labels_stays_german() {
        let mixed = "Grüezi mitenand

Wir möchten einen Lasttest für unseren Shop anmelden. Die Details:

Start: 2027-02-01 08:00
End: 2027-02-01 12:00
IPs: 203.0.113.10, 203.0.113.11
Targets: shop.example.ch
Bandwidth: 200 Mbit/s
Requests per second: 500
Contact: Reto Muster, reto@example.ch

Bitte bestätigen Sie uns den Termin.

Freundliche Grüsse
Reto";
        assert_eq!(detect(mixed), Some(Lang::De));
        // And the other way round: English text with German labels.
        let mixed = "Hello, we will run a penetration test of the shop and would like to
announce it.

Zeitraum: 2027-02-01 08:00 bis 12:00
Quell-IP: 203.0.113.10
Ziel: shop.example.ch

Thank you and kind regards";
        assert_eq!(detect(mixed), Some(Lang::En));
    }

    #[test]
    fn too_little_or_garbage_text_tells_nothing() {
        for t in [
            "",
            "   \n\t",
            "Pentest",
            "Start: 2027-02-01 08:00\nIPs: 203.0.113.10\nTargets: shop.example.ch",
            "\u{0}\u{1}\u{fffd}\u{202e}",
            "x".repeat(100_000).as_str(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ".repeat(2000).as_str(),
            "und the", // one of each: a tie is no clue
            "und the die and",
        ] {
            assert_eq!(detect(t), None, "{:.60}", t);
        }
    }

    #[test]
    fn words_count_only_on_word_boundaries() {
        // `die` inside `Studie`, `the` inside `theme`, `und` inside `Grund`: no words.
        assert_eq!(detect("Studie Grund theme another Thursday Wunder"), None);
        assert_eq!(detect("Thema: the_and_we"), Some(Lang::En));
    }

    #[test]
    fn only_the_first_twenty_kilobytes_are_read() {
        let mut t = "und die der ".repeat(10);
        t.push_str(&" ".repeat(MAX_BYTES));
        t.push_str(&"the and we ".repeat(1000));
        assert_eq!(detect(&t), Some(Lang::De));
        // A cut inside a multi-byte character is no panic.
        let t = "ä".repeat(MAX_BYTES);
        assert_eq!(detect(&t), None);
    }

    #[test]
    fn a_huge_text_is_fast() {
        let t = "Wir und die Bitte the and ".repeat(200_000);
        let start = std::time::Instant::now();
        let _ = detect(&t);
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
