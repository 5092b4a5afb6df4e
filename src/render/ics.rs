//! The iCalendar (RFC 5545) attachment for the security team: one VEVENT per window.

use chrono::{DateTime, Utc};

use super::{MAX_LISTED, clean};
use crate::model::{Request, Verdict};

/// Which calendar object: an announcement or update (`PUBLISH`) or a withdrawal
/// (`CANCEL`), with its `SEQUENCE` (0 for the first, one more for each change).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub method: &'a str,
    pub sequence: u32,
    /// The record the security team held before a change: its windows beyond the new
    /// record's are withdrawn (`STATUS:CANCELLED`) in the same calendar.
    pub withdrawn: Option<&'a Request>,
}

impl Entry<'_> {
    /// The first announcement of a request.
    pub const FIRST: Entry<'static> = Entry {
        method: "PUBLISH",
        sequence: 0,
        withdrawn: None,
    };
}

/// The calendar for an accepted request, its update or its cancellation. UIDs are stable per
/// request and window (`INT-…-1@domain`), so an update or a resend replaces the same entries
/// instead of adding new ones (RFC 5546: same UID, higher `SEQUENCE`).
pub fn calendar(v: &Verdict, own_domain: &str, stamp: DateTime<Utc>, entry: &Entry<'_>) -> String {
    let r = &v.request;
    let cancel = entry.method == "CANCEL";
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//intake//test notifications//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        format!("METHOD:{}", if cancel { "CANCEL" } else { "PUBLISH" }),
    ];
    let Described {
        contact,
        ips,
        targets,
        scope,
    } = Described::of(r);
    let from = v.from.as_deref().map_or_else(
        || "(unknown)".into(),
        |f| clean::one_line(f, clean::ITEM_CHARS),
    );
    for (i, w) in r.windows.iter().take(MAX_LISTED).enumerate() {
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}", uid(&v.reference, i, own_domain)));
        if entry.sequence > 0 || cancel {
            lines.push(format!("SEQUENCE:{}", entry.sequence));
        }
        if cancel {
            lines.push("STATUS:CANCELLED".into());
        }
        lines.push(format!("DTSTAMP:{}", ical_time(stamp)));
        lines.push(format!("DTSTART:{}", ical_time(w.start)));
        lines.push(format!("DTEND:{}", ical_time(w.end)));
        lines.push(format!(
            "SUMMARY:{}",
            escape(&format!("Announced test {}: {}", v.reference, targets))
        ));
        lines.push(format!(
            "DESCRIPTION:{}",
            escape(&format!(
                "Reference: {}\nTargets: {}\nOriginating IPs: {}\nContact: {}\nScope: {}\nRequested by: {}",
                v.reference,
                targets,
                ips,
                contact,
                scope,
                from
            ))
        ));
        lines.push("TRANSP:TRANSPARENT".into());
        lines.push("END:VEVENT".into());
    }
    // Windows the security team held that the change no longer announces.
    if let Some(before) = entry.withdrawn {
        let kept = r.windows.len().min(MAX_LISTED);
        for (i, w) in before
            .windows
            .iter()
            .enumerate()
            .take(MAX_LISTED)
            .skip(kept)
        {
            lines.push("BEGIN:VEVENT".into());
            lines.push(format!("UID:{}", uid(&v.reference, i, own_domain)));
            lines.push(format!("SEQUENCE:{}", entry.sequence));
            lines.push("STATUS:CANCELLED".into());
            lines.push(format!("DTSTAMP:{}", ical_time(stamp)));
            lines.push(format!("DTSTART:{}", ical_time(w.start)));
            lines.push(format!("DTEND:{}", ical_time(w.end)));
            lines.push(format!(
                "SUMMARY:{}",
                escape(&format!("Withdrawn test window {}", v.reference))
            ));
            lines.push("END:VEVENT".into());
        }
    }
    lines.push("END:VCALENDAR".into());
    folded(&lines)
}

/// A request's items as a calendar entry describes them: the sender's text, cleaned and
/// bounded as in every other output. The security forward and the calendar feed both use it.
pub struct Described {
    pub contact: String,
    pub ips: String,
    pub targets: String,
    pub scope: String,
}

impl Described {
    pub fn of(r: &Request) -> Described {
        Described {
            contact: [&r.contact.name, &r.contact.email, &r.contact.phone]
                .iter()
                .filter_map(|x| x.as_deref())
                .map(|x| clean::one_line(x, clean::ITEM_CHARS))
                .collect::<Vec<_>>()
                .join(", "),
            ips: clean::list(
                r.originating_ips.iter().map(ToString::to_string),
                MAX_LISTED,
            )
            .join(", "),
            targets: clean::list(r.targets.iter().cloned(), MAX_LISTED).join(", "),
            scope: r.scope.as_deref().map_or_else(
                || "(not stated)".into(),
                |s| clean::one_line(s, clean::FIELD_CHARS),
            ),
        }
    }
}

/// `lines` as a calendar file: each folded at 75 octets, CRLF-terminated.
pub fn folded(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines {
        fold(l, &mut out);
    }
    out
}

/// The UID of a request's window `index` (0-based, in the order the security team holds
/// them): `INT-…-N@domain`. The security forward, its updates, the digest and the calendar
/// feed all use it, so a calendar keeps one entry per window.
pub fn uid(reference: &str, index: usize, own_domain: &str) -> String {
    format!("{reference}-{}@{own_domain}", index + 1)
}

/// A time as iCalendar writes it in UTC: `20261210T080000Z`.
pub fn ical_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping: backslash, semicolon, comma and newlines.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Lines longer than 75 octets are folded with CRLF + space, never inside a character.
pub fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_on_char_boundaries() {
        let mut out = String::new();
        fold(&format!("DESCRIPTION:{}", "ü".repeat(100)), &mut out);
        for l in out.split("\r\n") {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(
            unfolded.trim_end(),
            format!("DESCRIPTION:{}", "ü".repeat(100))
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
