//! Finds labelled fields ("Originating IPs: …", "Zeitraum\t…") so each extractor can read the
//! part of the text that is about its item before falling back to the whole text.

/// What a label announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Scope,
    Contact,
    ContactName,
    ContactEmail,
    ContactPhone,
    Ips,
    Bandwidth,
    Rate,
    Traffic,
    Targets,
    Window,
}

/// The labelled parts of a text. Each value keeps its label line (so "Start: …" stays
/// readable for the date finder) and its continuation lines.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    entries: Vec<(Field, String)>,
}

impl Fields {
    /// All text labelled `field`, joined by newlines; `None` when there is no such label.
    pub fn get(&self, field: Field) -> Option<String> {
        let mut out: Option<String> = None;
        for (f, text) in &self.entries {
            if *f == field {
                let s = out.get_or_insert_with(String::new);
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(text);
            }
        }
        out
    }

    /// The value part only (without the label) of the first `field` entry.
    pub fn value(&self, field: Field) -> Option<&str> {
        self.entries
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, t)| strip_label(t))
    }

    pub fn has(&self, field: Field) -> bool {
        self.entries.iter().any(|(f, _)| *f == field)
    }
}

/// Splits `text` into labelled fields. One pass over the lines.
pub fn find_fields(text: &str) -> Fields {
    let mut fields = Fields::default();
    // The entry being built and what its first line's label is (kept so the label is not
    // classified again for every following line).
    let mut current: Option<(Field, String, Head)> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let label = label_of(trimmed);
        if let Some(field) = label.map(|(f, _)| f).or_else(|| bare_label(trimmed)) {
            if let Some((f, v, _)) = current.take() {
                fields.entries.push((f, v));
            }
            // `trimmed` is one non-empty line: it is the entry's first line.
            let head = Head {
                label,
                bare: label.is_none(),
            };
            current = Some((field, trimmed.to_string(), head));
            continue;
        }
        match current.as_mut() {
            // A label alone on its line (HTML table cells, Outlook): its value follows,
            // maybe after blank lines.
            Some((_, value, head)) if trimmed.is_empty() && strip_with(value, head).is_empty() => {}
            Some((_, value, head))
                if !trimmed.is_empty() && is_continuation(trimmed, value, head) =>
            {
                // "Start" + "09.11.2026 20:00" from table cells reads as "Start: 09.11.2026 20:00".
                // Without a line break the value is its first line, whose label is `head`'s.
                let bare = !value.contains('\n') && head.label.is_none();
                value.push_str(if bare { ": " } else { "\n" });
                value.push_str(trimmed);
                if bare {
                    // The first line changed.
                    *head = head_of(value);
                }
            }
            Some(_) => {
                if let Some((f, v, _)) = current.take() {
                    fields.entries.push((f, v));
                }
            }
            None => {}
        }
    }
    if let Some((f, v, _)) = current.take() {
        fields.entries.push((f, v));
    }
    fields
}

/// What the first line of an entry is: a label with its value offset, or a bare label.
#[derive(Debug, Clone, Copy)]
struct Head {
    label: Option<(Field, usize)>,
    /// No `label`, and the line is a bare label.
    bare: bool,
}

fn head_of(entry: &str) -> Head {
    let first = entry.lines().next().unwrap_or("");
    let label = label_of(first);
    Head {
        label,
        bare: label.is_none() && bare_label(first.trim()).is_some(),
    }
}

/// A line that is nothing but a label ("Start", "Target website(s)"), as HTML tables
/// render when each cell becomes its own line.
fn bare_label(line: &str) -> Option<Field> {
    if line.is_empty() || line.chars().count() > 40 || line.contains(['.', ',', '@', '?', '!']) {
        return None;
    }
    classify_label(line.trim_end_matches(':'))
}

/// A line after a label belongs to it while it looks like a list item or short value; a
/// new paragraph of prose ends the field.
fn is_continuation(line: &str, value_so_far: &str, head: &Head) -> bool {
    let label_only = strip_with(value_so_far, head).trim().is_empty();
    label_only
        || line.starts_with(['-', '*', '•', '–', '·'])
        || line.chars().next().is_some_and(|c| c.is_ascii_digit())
        || line.chars().count() <= 60
}

/// The part of a field line after its label.
fn strip_label(entry: &str) -> &str {
    strip_with(entry, &head_of(entry))
}

/// [`strip_label`] with the entry's [`Head`] already known.
fn strip_with<'a>(entry: &'a str, head: &Head) -> &'a str {
    match head.label {
        Some((_, rest_at)) => entry
            .get(rest_at..)
            .unwrap_or("")
            .trim_start_matches(['*', '_', ' ', '\t'])
            .trim(),
        None if head.bare => {
            let first = entry.lines().next().unwrap_or("");
            entry.get(first.len()..).unwrap_or("").trim()
        }
        None => entry,
    }
}

/// If `line` starts with a known label followed by `:` or a tab, the field and the byte
/// offset where its value starts.
fn label_of(line: &str) -> Option<(Field, usize)> {
    // Leading bullets, numbering and markdown emphasis are not part of the label.
    let start = line
        .char_indices()
        .find(|&(_, c)| {
            !matches!(
                c,
                '-' | '*' | '•' | '–' | '·' | '#' | ' ' | '\t' | '>' | '_'
            )
        })
        .map(|(i, _)| i)?;
    let rest = line.get(start..)?;
    let rest = match rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ')')) {
        Some(i) if i > 0 && rest.get(i..)?.starts_with(' ') => rest.get(i..)?.trim_start(),
        _ => rest,
    };
    let offset = line.len() - rest.len();
    // The label ends at the first ':' or tab within a short distance.
    let end = label_end(rest)?;
    let label = rest.get(..end)?;
    let field = classify_label(label)?;
    // "Note: …" style prose is not a label; URLs ("https:") are not either.
    if rest.get(end..)?.starts_with("://") {
        return None;
    }
    Some((field, offset + end + 1))
}

/// Byte offset of the first `:` or tab among the first 48 characters of `rest`. Scanned
/// on the bytes (both are ASCII, and a character starts at every non-continuation byte),
/// which runs for every line and is cheaper than decoding characters.
fn label_end(rest: &str) -> Option<usize> {
    let mut chars = 0usize;
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        if b & 0xc0 == 0x80 {
            continue;
        }
        if chars == 48 {
            return None;
        }
        chars += 1;
        if b == b':' || b == b'\t' {
            return Some(i);
        }
    }
    None
}

/// A label lowercased with its punctuation turned into spaces, so "Target website(s)" and
/// "Ziel-URL" both read as words.
fn normalise_label(label: &str) -> String {
    let punct = |c: char| matches!(c, '*' | '_' | '(' | ')' | '[' | ']' | '"' | '-' | '/');
    if label.is_ascii() {
        // Byte by byte: mapped ASCII stays ASCII, so the bytes are valid UTF-8.
        let bytes: Vec<u8> = label
            .bytes()
            .map(|b| {
                if punct(char::from(b)) {
                    b' '
                } else {
                    b.to_ascii_lowercase()
                }
            })
            .collect();
        if let Ok(s) = String::from_utf8(bytes) {
            return s;
        }
    }
    label
        .chars()
        .map(|c| {
            if punct(c) {
                ' '
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

/// Maps a label text to its field. Labels are matched after lowercasing and dropping
/// punctuation, so "Target website(s)" and "Ziel-URL" both work.
fn classify_label(label: &str) -> Option<Field> {
    let norm = normalise_label(label);
    // At most six words, kept on the stack (this runs for most lines of every message).
    let mut slots = [""; 6];
    let mut count = 0usize;
    for w in norm.split_whitespace() {
        let slot = slots.get_mut(count)?;
        *slot = w;
        count += 1;
    }
    let words = slots.get(..count)?;
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    // Labels are a few words long: a plain scan beats `str::contains`, whose searcher
    // set-up costs more than the search (this runs for most lines of every message).
    let contains = |p: &str| {
        joined
            .as_bytes()
            .windows(p.len())
            .any(|w| w == p.as_bytes())
    };
    let has = |w: &str| words.contains(&w);
    let starts = |p: &str| words.iter().any(|x| x.starts_with(p));

    // Order matters: the most specific labels first.
    if has("phone")
        || has("tel")
        || has("telefon")
        || has("telephone")
        || has("mobile")
        || has("mobil")
        || has("handy")
        || has("natel")
        || starts("telefonnummer")
        || joined == "cell"
    {
        return Some(Field::ContactPhone);
    }
    if has("email") || has("mail") || starts("e-mail") {
        return Some(Field::ContactEmail);
    }
    if joined == "name" || joined == "contact name" || joined == "full name" {
        return Some(Field::ContactName);
    }
    if starts("ansprech")
        || starts("kontakt")
        || starts("contact")
        || has("poc")
        || contains("point of contact")
        || starts("notfallkontakt")
        || joined == "emergency contact"
    {
        return Some(Field::Contact);
    }
    if starts("ip")
        || starts("quell")
        || contains("source address")
        || contains("originating")
        || contains("source ip")
        || contains("absender ip")
        || starts("ipv")
        || contains("addresses")
        || contains("adressen")
    {
        return Some(Field::Ips);
    }
    if starts("bandwidth")
        || starts("bandbreite")
        || joined == "throughput"
        || joined == "durchsatz"
    {
        return Some(Field::Bandwidth);
    }
    if contains("per second")
        || joined == "rps"
        || contains("request rate")
        || contains("pro sekunde")
        || joined == "req s"
        || joined == "requests s"
        || contains("per minute")
        || joined == "rpm"
    {
        return Some(Field::Rate);
    }
    if starts("traffic")
        || starts("volume")
        || starts("datenvolumen")
        || joined == "last"
        || joined == "load"
        || joined == "verkehr"
        || contains("traffic volume")
        || joined == "expected load"
    {
        return Some(Field::Traffic);
    }
    if starts("target")
        || starts("ziel")
        || has("url")
        || has("urls")
        || starts("website")
        || has("domains")
        || has("domain")
        || has("hosts")
        || has("hostnames")
        || has("sites")
        || contains("in scope")
        || starts("webseite")
        || starts("systems")
        || has("applications")
        || has("application")
        || has("environment")
        || has("umgebung")
    {
        return Some(Field::Targets);
    }
    if starts("scope")
        || starts("vector")
        || starts("vektor")
        || starts("umfang")
        || starts("testumfang")
        || contains("type of test")
        || joined == "test type"
        || starts("testart")
        || contains("art des tests")
        || starts("methodolog")
        || starts("beschreibung")
        || joined == "description"
        || joined == "test description"
        || starts("testvektor")
        || joined == "tests"
        || joined == "testing"
    {
        return Some(Field::Scope);
    }
    if starts("window")
        || starts("zeitraum")
        || starts("zeitfenster")
        || starts("testzeitraum")
        || starts("testfenster")
        || starts("timeframe")
        || joined == "time frame"
        || starts("date")
        || starts("datum")
        || joined == "when"
        || starts("schedule")
        || words[0] == "start"
        || words[0] == "end"
        || starts("begin")
        || has("ende")
        || joined == "von"
        || joined == "bis"
        || joined == "from"
        || joined == "until"
        || joined == "to"
        || has("time")
        || has("times")
        || starts("uhrzeit")
        || starts("termin")
        || starts("period")
        || has("zeitzone")
        || has("timezone")
        || joined == "time zone"
    {
        return Some(Field::Window);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_labelled_list() {
        let f = find_fields(
            "Hi team,\n\nTesting vectors and scope: OWASP top 10 against the shop\nPoint of contact: Jane Doe, jane@example.ch, +41 79 555 12 34\nOriginating IPs:\n- 185.199.110.17\n- 185.199.110.18\n\nBandwidth: 100 Mbit/s\nRequests per second: 500\nTarget website(s): https://shop.example.ch\nStart: 2026-12-14 09:00\nEnd: 2026-12-14 17:00\n",
        );
        assert_eq!(f.value(Field::Scope), Some("OWASP top 10 against the shop"));
        assert_eq!(
            f.value(Field::Contact),
            Some("Jane Doe, jane@example.ch, +41 79 555 12 34")
        );
        assert_eq!(
            f.get(Field::Ips).unwrap(),
            "Originating IPs:\n- 185.199.110.17\n- 185.199.110.18"
        );
        assert_eq!(f.value(Field::Bandwidth), Some("100 Mbit/s"));
        assert_eq!(f.value(Field::Rate), Some("500"));
        assert_eq!(f.value(Field::Targets), Some("https://shop.example.ch"));
        assert_eq!(
            f.get(Field::Window).unwrap(),
            "Start: 2026-12-14 09:00\nEnd: 2026-12-14 17:00"
        );
    }

    #[test]
    fn german_labels_and_table_cells() {
        let f = find_fields(
            "Ansprechpartner:\tHans Muster\nQuell-IP-Adressen:\t85.195.240.10\nZielsysteme:\twww.beispiel.ch\nZeitraum:\t14.12.2026 08:00 - 12:00 Uhr\n",
        );
        assert_eq!(f.value(Field::Contact), Some("Hans Muster"));
        assert_eq!(f.value(Field::Ips), Some("85.195.240.10"));
        assert_eq!(f.value(Field::Targets), Some("www.beispiel.ch"));
        assert!(f.get(Field::Window).unwrap().contains("14.12.2026"));
    }

    #[test]
    fn urls_and_prose_are_not_labels() {
        let f = find_fields("https://shop.example.ch is our site.\nWe would like to test it.\n");
        assert!(!f.has(Field::Targets));
        assert!(!f.has(Field::Window));
    }

    #[test]
    fn labels_have_at_most_six_words() {
        assert_eq!(
            classify_label("Our (main) point-of-contact"),
            Some(Field::Contact)
        );
        assert_eq!(
            classify_label("the one point of contact here"),
            Some(Field::Contact)
        );
        assert_eq!(classify_label("the one and only point of contact"), None);
        assert_eq!(classify_label(" ** "), None);
    }

    #[test]
    fn numbered_and_bold_labels() {
        let f = find_fields("1. **Scope:** login and checkout\n2) Targets: a.example.com\n");
        assert_eq!(f.value(Field::Scope), Some("login and checkout"));
        assert_eq!(f.value(Field::Targets), Some("a.example.com"));
    }

    #[test]
    fn labels_alone_on_their_line_take_the_next_lines() {
        let f = find_fields(
            "Start\n\n09.11.2026 20:00 CET\n\nEnd\n\n09.11.2026 23:30 CET\n\nRequests per second\n\nup to 2,000\n",
        );
        assert_eq!(
            f.get(Field::Window).unwrap(),
            "Start: 09.11.2026 20:00 CET\nEnd: 09.11.2026 23:30 CET"
        );
        assert_eq!(f.value(Field::Rate), Some("up to 2,000"));
    }

    #[test]
    fn prose_paragraph_ends_a_field() {
        let f = find_fields(
            "Targets: shop.example.ch\nPlease let us know if anything is missing from this request, we are happy to provide more details on the setup.\n",
        );
        assert_eq!(f.get(Field::Targets).unwrap(), "Targets: shop.example.ch");
    }

    /// The former loop, which classified an entry's first line again for every line after
    /// it; kept to check the cached version against.
    fn find_fields_reference(text: &str) -> Vec<(Field, String)> {
        fn cont(line: &str, value_so_far: &str) -> bool {
            let label_only = strip_label(value_so_far).trim().is_empty();
            label_only
                || line.starts_with(['-', '*', '•', '–', '·'])
                || line.chars().next().is_some_and(|c| c.is_ascii_digit())
                || line.chars().count() <= 60
        }
        let mut entries = Vec::new();
        let mut current: Option<(Field, String)> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if let Some(field) = label_of(trimmed)
                .map(|(f, _)| f)
                .or_else(|| bare_label(trimmed))
            {
                if let Some(done) = current.take() {
                    entries.push(done);
                }
                current = Some((field, trimmed.to_string()));
                continue;
            }
            match current.as_mut() {
                Some((_, value)) if trimmed.is_empty() && strip_label(value).is_empty() => {}
                Some((_, value)) if !trimmed.is_empty() && cont(trimmed, value) => {
                    let bare = !value.contains('\n') && label_of(value).is_none();
                    value.push_str(if bare { ": " } else { "\n" });
                    value.push_str(trimmed);
                }
                Some(_) => {
                    if let Some(done) = current.take() {
                        entries.push(done);
                    }
                }
                None => {}
            }
        }
        if let Some(done) = current.take() {
            entries.push(done);
        }
        entries
    }

    proptest::proptest! {
        #[test]
        fn cached_labels_give_the_same_fields(
            lines in proptest::collection::vec(
                "Start|End|Start:|Ziel|Target website\\(s\\)|Contact|IPs:|Zeitraum\t|Bandwidth: 10 Mbit/s|- 1.2.3.4|09.11.2026 20:00||  |\r|Note: x|https://a.ch|We will test the shop next week with many requests from our office.|\\* Scope: web|Phone|Kontakt: Hans|17:00",
                0..12,
            )
        ) {
            let text = lines.join("\n");
            let got: Vec<(Field, String)> = find_fields(&text).entries;
            proptest::prop_assert_eq!(got, find_fields_reference(&text));
        }

        #[test]
        fn label_end_is_within_48_characters(rest in "[a :\t]{0,60}|[aü€😀:\t]{0,60}") {
            let reference = rest
                .char_indices()
                .take(48)
                .find(|&(_, c)| c == ':' || c == '\t')
                .map(|(i, _)| i);
            proptest::prop_assert_eq!(label_end(&rest), reference);
        }

        /// The byte-wise ASCII path gives what the character-wise lowercasing gives.
        #[test]
        fn label_normalisation_matches_charwise(label in "[ -~]{0,30}|\\PC{0,20}") {
            let charwise: String = label
                .chars()
                .map(|c| match c {
                    '*' | '_' | '(' | ')' | '[' | ']' | '"' | '-' | '/' => ' ',
                    c => c.to_lowercase().next().unwrap_or(c),
                })
                .collect();
            proptest::prop_assert_eq!(normalise_label(&label), charwise);
        }
    }
}
