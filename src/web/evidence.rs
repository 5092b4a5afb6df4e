//! Where a request's items stand in a mail, for the request page: the text is cut into
//! segments, and each segment that gave an item is marked with it, so staff see the evidence
//! next to the record.
//!
//! The evidence is found again when the page is shown, from the message's kept bytes, by the
//! same field reader the extractor uses (labelled lines: `Window:`, `Originating IPs:`, ...)
//! and by the items' own values written in prose (addresses, host names, the contact's
//! address, phone and name). Both are deterministic, so the page shows what intake read
//! then. Work is bounded: each field's lines are found in one forward pass, at most
//! [`MAX_NEEDLES`] values are looked for, each with one linear scan, and at most
//! [`MAX_MARKS`] marks are kept.

use serde::Serialize;

use crate::extract::fields::{Field, find_fields};
use crate::model::Request;

/// Values looked for in prose at most.
pub const MAX_NEEDLES: usize = 64;
/// Marks kept per text at most.
pub const MAX_MARKS: usize = 400;
/// Lines of one labelled field marked at most.
const MAX_FIELD_LINES: usize = 200;

/// A piece of the text; `item` names what it gave (`window`, `originating_ips`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub item: Option<&'static str>,
}

/// A marked range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    start: usize,
    end: usize,
    item: &'static str,
}

fn item_of(field: Field) -> &'static str {
    match field {
        Field::Scope => "scope",
        Field::Contact | Field::ContactName | Field::ContactEmail | Field::ContactPhone => {
            "contact"
        }
        Field::Ips => "originating_ips",
        Field::Bandwidth | Field::Rate | Field::Traffic => "traffic",
        Field::Targets => "targets",
        Field::Window => "window",
    }
}

const FIELDS: [Field; 11] = [
    Field::Window,
    Field::Ips,
    Field::Targets,
    Field::Bandwidth,
    Field::Rate,
    Field::Traffic,
    Field::Contact,
    Field::ContactName,
    Field::ContactEmail,
    Field::ContactPhone,
    Field::Scope,
];

/// Every occurrence of `needle` in `text`, ASCII case-insensitively, at character
/// boundaries of the text.
fn occurrences(text: &str, lower: &str, needle: &str) -> Vec<(usize, usize)> {
    let n = needle.to_ascii_lowercase();
    if n.len() < 3 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&n) {
        let start = from + i;
        let end = start + n.len();
        // Whole words only: 85.195.240.10 is not evidence inside 85.195.240.100.
        let bytes = text.as_bytes();
        let alone = start
            .checked_sub(1)
            .is_none_or(|b| !bytes[b].is_ascii_alphanumeric())
            && bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        if alone && text.is_char_boundary(start) && text.is_char_boundary(end) {
            out.push((start, end));
        }
        from = end;
        if out.len() >= MAX_MARKS {
            break;
        }
    }
    out
}

/// The values of `r` as they may be written in prose, with the item each gives.
fn needles(r: &Request) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for ip in &r.originating_ips {
        // A single address is written without its prefix length.
        let full = ip.to_string();
        let written = if ip.prefix_len() == ip.max_prefix_len() {
            ip.addr().to_string()
        } else {
            full
        };
        out.push((written, "originating_ips"));
    }
    for t in &r.targets {
        out.push((t.clone(), "targets"));
    }
    for v in [&r.contact.email, &r.contact.phone, &r.contact.name]
        .into_iter()
        .flatten()
    {
        out.push((v.clone(), "contact"));
    }
    out.truncate(MAX_NEEDLES);
    out
}

/// `text` cut into segments, the evidence of `r`'s items marked.
pub fn segments(text: &str, r: &Request) -> Vec<Segment> {
    let lower = text.to_ascii_lowercase();
    let mut marks: Vec<Mark> = Vec::new();
    // Labelled fields: each line of a field's entry, where it stands.
    let fields = find_fields(text);
    for field in FIELDS {
        let Some(entry) = fields.get(field) else {
            continue;
        };
        // A field's entry may run on over following lines; only lines that can carry its
        // value count (a sign-off after `Bandwidth:` is no traffic figure).
        let carries = |l: &str| match field {
            Field::Scope => true,
            Field::Targets => l.contains('.'),
            Field::Contact | Field::ContactName => true,
            Field::ContactEmail => l.contains('@'),
            _ => l.bytes().any(|b| b.is_ascii_digit()),
        };
        // The entry's lines stand in order: each is looked for after the one before, so
        // a field costs one pass over the text, however many lines it has.
        let mut from = 0;
        for line in entry
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && carries(l))
            .take(MAX_FIELD_LINES)
        {
            if let Some(i) = text[from..].find(line) {
                let start = from + i;
                marks.push(Mark {
                    start,
                    end: start + line.len(),
                    item: item_of(field),
                });
                from = start + line.len();
            }
        }
    }
    for (needle, item) in needles(r) {
        for (start, end) in occurrences(text, &lower, &needle) {
            marks.push(Mark { start, end, item });
        }
        if marks.len() >= MAX_MARKS {
            break;
        }
    }
    // The first of overlapping marks wins (a field's whole line over a value inside it).
    marks.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    let mut kept: Vec<Mark> = Vec::new();
    for m in marks {
        if kept.last().is_none_or(|k| m.start >= k.end) {
            kept.push(m);
        }
        if kept.len() >= MAX_MARKS {
            break;
        }
    }
    let mut out = Vec::with_capacity(kept.len() * 2 + 1);
    let mut at = 0;
    for m in kept {
        if m.start > at {
            out.push(Segment {
                text: text[at..m.start].to_string(),
                item: None,
            });
        }
        out.push(Segment {
            text: text[m.start..m.end].to_string(),
            item: Some(m.item),
        });
        at = m.end;
    }
    if at < text.len() {
        out.push(Segment {
            text: text[at..].to_string(),
            item: None,
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Contact;

    fn request() -> Request {
        Request {
            scope: Some("web application pen test".into()),
            contact: Contact {
                name: Some("Carla Kunde".into()),
                email: Some("carla@alpenshop-example.ch".into()),
                phone: None,
            },
            originating_ips: vec!["85.195.240.10/32".parse().unwrap()],
            bandwidth_bps: Some(2e7),
            requests_per_second: Some(50.0),
            targets: vec!["shop.alpenshop-example.ch".into()],
            windows: vec![],
        }
    }

    fn marked(segs: &[Segment]) -> Vec<(&str, &str)> {
        segs.iter()
            .filter_map(|s| s.item.map(|i| (i, s.text.as_str())))
            .collect()
    }

    #[test]
    fn labelled_lines_and_values_in_prose_are_marked_and_the_text_is_kept_whole() {
        let text = "Hello,\n\nwe test SHOP.alpenshop-example.ch from 85.195.240.10 next month.\nWindow: 13 January 2027 09:00 to 17:00 CET\nBandwidth: 20 Mbit/s\nCall Carla Kunde if anything breaks.\n";
        let segs = segments(text, &request());
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, text);
        let m = marked(&segs);
        assert!(
            m.contains(&("targets", "SHOP.alpenshop-example.ch")),
            "{m:?}"
        );
        assert!(m.contains(&("originating_ips", "85.195.240.10")), "{m:?}");
        assert!(
            m.contains(&("window", "Window: 13 January 2027 09:00 to 17:00 CET")),
            "{m:?}"
        );
        assert!(m.contains(&("traffic", "Bandwidth: 20 Mbit/s")), "{m:?}");
        assert!(m.contains(&("contact", "Carla Kunde")), "{m:?}");
    }

    #[test]
    fn a_long_labelled_list_is_marked_in_one_pass_where_each_line_stands() {
        // 20,000 lines under one label: the old search from the start for every line took
        // seconds; each line is now looked for after the one before.
        let mut text = String::from("Originating IPs:\n");
        for i in 0..20_000 {
            text.push_str(&format!("10.{}.{}.1\n", i / 256, i % 256));
        }
        let segs = segments(&text, &request());
        assert!(segs.iter().filter(|s| s.item.is_some()).count() <= MAX_FIELD_LINES);
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, text);
        // The same line twice is marked twice, where each stands.
        let text = "Targets: a.example.ch\nTargets: a.example.ch\n";
        let marks: Vec<_> = segments(text, &request())
            .into_iter()
            .filter(|s| s.item.is_some())
            .collect();
        assert_eq!(marks.len(), 2);
    }

    #[test]
    fn hostile_and_huge_texts_stay_bounded() {
        let text = "85.195.240.10 ".repeat(100_000);
        let segs = segments(&text, &request());
        assert!(marked(&segs).len() <= MAX_MARKS);
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, text);
        // Multi-byte text around values: cuts only at character boundaries.
        let text = "ÄÖÜ shop.alpenshop-example.ch 🙂 85.195.240.10 ü";
        let segs = segments(text, &request());
        assert_eq!(marked(&segs).len(), 2);
        // Not inside longer addresses or names.
        let text = "from 85.195.240.100 against myshop.alpenshop-example.ch";
        assert!(marked(&segments(text, &request())).is_empty());
    }
}
