//! Cleaning attacker-controlled text before intake echoes it in any message: no control or
//! direction-changing characters, bounded length, and a greeting only for what looks like a
//! person's name.

/// Longest echoed field (subject, scope, contact, a problem text), in characters.
pub const FIELD_CHARS: usize = 300;
/// Longest echoed list item (a target, an address), in characters.
pub const ITEM_CHARS: usize = 255;
/// Longest name intake greets with.
const NAME_CHARS: usize = 64;

/// Characters never echoed: C0 and C1 controls, DEL, the Unicode line and paragraph
/// separators, and the bidirectional marks, embeddings, overrides and isolates (which
/// make a text read differently from what it is, "Trojan Source"). Also the BOM and the
/// zero-width characters that hide text inside words.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{061C}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `s` on one line: unsafe characters and every run of whitespace become one space, the
/// ends are trimmed, and beyond `max` characters it is cut with an ellipsis. Linear in
/// `s`, and it stops reading once the result is full.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4 + 4));
    let mut n = 0usize;
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || is_unsafe(c) {
            space = !out.is_empty();
            continue;
        }
        if space {
            if n + 1 >= max {
                out.push('…');
                return out;
            }
            out.push(' ');
            n += 1;
            space = false;
        }
        if n >= max {
            out.push('…');
            return out;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// A list echoed item by item: each item cleaned to [`ITEM_CHARS`], at most `max_items`
/// of them, then one item saying how many more there are.
pub fn list(items: impl ExactSizeIterator<Item = String>, max_items: usize) -> Vec<String> {
    let total = items.len();
    let mut out: Vec<String> = items
        .take(max_items)
        .map(|s| one_line(&s, ITEM_CHARS))
        .collect();
    if total > max_items {
        out.push(format!("and {} more", total - max_items));
    }
    out
}

/// The name to greet a person by, from a display name or a contact name: "Lastname,
/// Firstname" becomes "Firstname Lastname"; an address, a URL, a host name or anything not
/// made of words gives `None` (the template then greets neutrally).
pub fn greeting_name(raw: &str) -> Option<String> {
    let s = one_line(raw, 4 * NAME_CHARS);
    let s = s.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    if s.is_empty() || s.chars().count() > NAME_CHARS {
        return None;
    }
    let lower = s.to_lowercase();
    let looks_technical = s.contains(['@', '<', '>', '/', '\\', ':', '=', '[', ']', '{', '}'])
        || lower.contains("www.")
        || lower.contains("http")
        || s.chars().any(|c| c.is_ascii_digit())
        // "example.com", "ops.team": a dot inside a word. "J. Doe" keeps its dot.
        || s.split_whitespace().any(|w| {
            w.trim_end_matches('.').contains('.') && w.chars().filter(|c| c.is_alphabetic()).count() > 2
        });
    if looks_technical || !s.chars().any(char::is_alphabetic) {
        return None;
    }
    let name = match s.split_once(',') {
        Some((last, first)) if !first.contains(',') => {
            let (last, first) = (last.trim(), first.trim());
            if last.is_empty() || first.is_empty() {
                return None;
            }
            format!("{first} {last}")
        }
        Some(_) => return None,
        None => s.to_string(),
    };
    // Only letters, spaces and the punctuation names carry.
    name.chars()
        .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '.' || c == '\'' || c == '’')
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_direction_characters_never_pass() {
        let s = "a\u{0}b\u{7}c\u{1b}[31md\u{7f}e\u{85}f\u{9b}g\u{2028}h\u{2029}i\u{202e}j\u{2066}k\u{2069}l\u{200f}m\r\nn\tX";
        let c = one_line(s, 300);
        assert!(!c.chars().any(is_unsafe), "{c:?}");
        assert!(!c.contains(['\r', '\n', '\t']), "{c:?}");
        assert_eq!(c, "a b c [31md e f g h i j k l m n X");
    }

    #[test]
    fn long_fields_are_cut_with_an_ellipsis() {
        let c = one_line(&"x".repeat(10_000), 300);
        assert_eq!(c.chars().count(), 301);
        assert!(c.ends_with('…'));
        let c = one_line("short", 300);
        assert_eq!(c, "short");
        let c = one_line(&"ab ".repeat(1000), 10);
        assert!(c.chars().count() <= 11, "{c}");
        assert_eq!(one_line("  \r\n ", 10), "");
    }

    #[test]
    fn lists_say_how_many_more() {
        let l = list((0..45).map(|i| format!("h{i}.example.ch")), 20);
        assert_eq!(l.len(), 21);
        assert_eq!(l.last().map(String::as_str), Some("and 25 more"));
        let l = list((0..3).map(|i| format!("h{i}")), 20);
        assert_eq!(l, ["h0", "h1", "h2"]);
    }

    #[test]
    fn lastname_comma_firstname_is_turned_around() {
        assert_eq!(
            greeting_name("Muster, Hans").as_deref(),
            Some("Hans Muster")
        );
        assert_eq!(
            greeting_name("\"Müller-Lüdenscheid, Anna\"").as_deref(),
            Some("Anna Müller-Lüdenscheid")
        );
        assert_eq!(greeting_name("Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(greeting_name("J. R. Doe").as_deref(), Some("J. R. Doe"));
        assert_eq!(
            greeting_name("O'Brien, Seán").as_deref(),
            Some("Seán O'Brien")
        );
    }

    #[test]
    fn addresses_urls_and_hosts_are_never_greeted() {
        for s in [
            "jane@example.ch",
            "jane (at) example.ch <x>",
            "https://evil.example/click",
            "www.example.ch",
            "example.ch",
            "ops.team",
            "Support 24/7",
            "Order 12345",
            ",",
            "a, b, c",
            "",
            "   ",
            "!!!",
            "Hans\u{202e}Muster",
        ] {
            let g = greeting_name(s);
            assert!(
                g.is_none() || !g.as_deref().unwrap_or("").chars().any(is_unsafe),
                "{s:?} → {g:?}"
            );
            if s != "Hans\u{202e}Muster" {
                assert_eq!(g, None, "{s:?}");
            }
        }
        assert_eq!(greeting_name(&"Anna ".repeat(40)), None);
    }
}
