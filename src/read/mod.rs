//! Reading mail: turns raw RFC 5322 bytes into the headers and the text a person would read.
//!
//! The text is split into what the sender wrote now (`Text::new`), what they quoted from
//! earlier messages, their signature and disclaimers, and text-like attachments.

mod css;
mod html;
mod mime;
mod quote;

pub use html::html_to_text;

use chrono::{DateTime, Utc};
use mail_parser::{HeaderName, HeaderValue, Message};

use mime::{PartInfo, Walk};

/// A parsed message, reduced to what the checks need. Never fails: broken input gives
/// empty fields and a reason in `unreadable`.
#[derive(Debug, Clone, Default)]
pub struct Letter {
    /// Message-ID without `<>`.
    pub message_id: Option<String>,
    /// Sender address, lowercase.
    pub from: Option<String>,
    /// Sender display name, if any.
    pub from_name: Option<String>,
    /// First Reply-To address, lowercase.
    pub reply_to: Option<String>,
    /// Why the message has no single author: no From, several From headers, or several
    /// mailboxes in From (RFC 7489 §6.6.1). `None` for exactly one From mailbox.
    pub from_problem: Option<String>,
    pub subject: String,
    /// `Date:` header.
    pub date: Option<DateTime<Utc>>,
    /// Date of the topmost `Received:` header (text after its last `;`).
    pub received: Option<DateTime<Utc>>,
    /// `References` then `In-Reply-To` ids, without `<>`, oldest first.
    pub references: Vec<String>,
    /// Raw values of every `Authentication-Results` header, topmost first.
    pub authentication_results: Vec<String>,
    /// Why this looks machine-sent (auto-reply, bounce, delivery report, list or bulk mail),
    /// from headers, content type, sender address and subject; `None` for mail a person wrote.
    pub automated: Option<String>,
    pub text: Text,
    /// The new text of the other rendering when a message has both text/plain and text/html
    /// (the one `text` was not read from), so the two can be compared: normalised and split
    /// like `text.new` (quotes and signature removed; hidden HTML left out), without the
    /// attachments. `None` when there is only one rendering or the plain part is a stub
    /// ("view this message in HTML"); `Some("")` when the other rendering has no readable
    /// text (binary, or only images). For a bare forward as attachment, the attached
    /// message's.
    pub alt_new: Option<String>,
    /// The new text of the HTML rendering with its hidden text revealed: text under elements
    /// hidden by style or attributes, in closed `<details>`, the content of Outlook's
    /// conditional comments and the strings CSS `content` generates, all of which some
    /// reader's client may show. Normalised and split like `alt_new`. `None` when there is no
    /// HTML, it is binary, or revealing changes nothing in its new text. For a bare forward
    /// as attachment, the attached message's.
    pub revealed_new: Option<String>,
    /// Original sender address when this message is a bare forward (the forwarder added no
    /// text of their own) and `text.new` is the forwarded message's body.
    pub forwarded_from: Option<String>,
    /// Set when nothing sensible could be read (no text part, undecodable content...).
    pub unreadable: Option<String>,
}

/// The readable text of a message, by role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    /// What the sender wrote in this message (or, for a bare forward, the forwarded content).
    pub new: String,
    /// Quoted text of earlier messages (`>` lines, "On ... wrote:", Outlook header blocks),
    /// including the quoted parts of text attachments.
    pub quoted: String,
    /// Signature and legal disclaimer of the new text.
    pub signature: String,
    /// Text of text-like attachments (`.txt`, `.csv`, `.ics`), each separated by a blank line.
    /// Each attachment is split like a body: an earlier mail quoted in it (or an `.eml` saved
    /// as text) goes to `quoted`, its new text and signature stay here.
    pub attachments: String,
}

/// Caps on the text kept per role (bytes).
const NEW_CAP: usize = 512 << 10;
const QUOTED_CAP: usize = 512 << 10;
const SIGNATURE_CAP: usize = 64 << 10;
/// Attached messages are read this deep (a forward of a forward of a forward).
const MAX_MESSAGE_DEPTH: usize = 3;
/// Share of suspicious bytes/characters above which a body is taken as binary garbage.
const GARBAGE_RATIO: f64 = 0.30;

/// Parses `raw` into a [`Letter`]. Total: any byte sequence gives a value, never a panic.
pub fn read(raw: &[u8]) -> Letter {
    // Our own code does not panic; the guard is for the header parser we depend on.
    std::panic::catch_unwind(|| read_at(raw, 0)).unwrap_or_else(|_| Letter {
        unreadable: Some("the message could not be parsed".into()),
        ..Letter::default()
    })
}

fn read_at(raw: &[u8], depth: usize) -> Letter {
    let mut letter = Letter::default();
    if raw.iter().all(u8::is_ascii_whitespace) {
        letter.unreadable = Some("empty message".into());
        return letter;
    }
    // An mbox "From " envelope line is not a header.
    let raw = match raw.strip_prefix(b"From ") {
        Some(rest) => rest
            .iter()
            .position(|&b| b == b'\n')
            .and_then(|p| rest.get(p + 1..))
            .unwrap_or_default(),
        None => raw,
    };
    let (head, body) = mime::split_head(raw);
    let parsed = mime::parse_head(head);
    if let Some(m) = &parsed {
        read_headers(&mut letter, m, head);
    }
    let info = PartInfo::from_message(parsed.as_ref());
    let walk = Walk::run(&info, body);
    if let Some(m) = &parsed {
        letter.automated = automated(&letter, m, head, &walk.root_type);
    }

    // Plain text when there is any, else our own HTML conversion. The HTML is converted
    // once and serves the stub test, the text, or the other rendering (`alt_new`); its
    // revealed rendering, when it hides anything, is kept for `revealed_new`.
    let (html_text, revealed) = if walk.html().trim().is_empty() {
        (None, None)
    } else {
        let (visible, revealed) = html::html_to_texts(walk.html());
        (Some(visible), revealed)
    };
    let html_garbage = walk.html_garbage();
    let has_plain = !walk.plain.trim().is_empty();
    let plain_stub = has_plain
        && html_text
            .as_deref()
            .is_some_and(|h| plain_is_stub(&walk, h));
    let html_chosen = (!has_plain || plain_stub) && html_text.is_some();
    let (chosen, garbage, other) = if has_plain && !plain_stub {
        let other = html_text.map(|h| (h, html_garbage));
        (walk.plain.clone(), walk.plain_garbage(), other)
    } else if let Some(h) = html_text {
        // A stub plain part ("view this message in HTML") is no rendering of the message.
        (h, html_garbage, None)
    } else {
        (String::new(), false, None)
    };
    let garbage = garbage || replacement_share(&chosen) > GARBAGE_RATIO;
    let body_text = if garbage {
        String::new()
    } else {
        quote::normalize(&chosen)
    };
    let split = quote::split(&body_text, &letter.subject);
    // The other rendering gets the same normalisation and split; binary garbage there
    // reads as no text, which disagrees with a message that says something.
    letter.alt_new = other.map(|(text, other_garbage)| {
        if other_garbage || replacement_share(&text) > GARBAGE_RATIO {
            String::new()
        } else {
            cap(
                quote::split(&quote::normalize(&text), &letter.subject).new,
                NEW_CAP,
            )
        }
    });
    // A stub plain part is not the message, but whatever it says is something every reader
    // of the plain rendering sees ("please disregard the HTML version: this test is
    // cancelled"): its own new text joins the new text, so nothing in it goes unread. An
    // honest "view this message in HTML" stub adds no item.
    let mut new_text = split.new;
    let mut stub_text = None;
    if plain_stub && !walk.plain_garbage() {
        let stub = quote::split(&quote::normalize(&walk.plain), &letter.subject);
        let stub_new = quote::join_blocks([stub.new.as_str(), stub.signature.as_str()]);
        if !stub_new.trim().is_empty() {
            stub_text = Some(stub_new);
        }
    }
    // The revealed HTML gets the same normalisation and split, and, where the HTML is the
    // text read, the same stub text added; it is kept only when it differs from the HTML's
    // own new text.
    letter.revealed_new = revealed.and_then(|r| {
        if html_garbage || replacement_share(&r) > GARBAGE_RATIO {
            return None;
        }
        let revealed_new = quote::split(&quote::normalize(&r), &letter.subject).new;
        let html_new = if html_chosen {
            Some(new_text.as_str())
        } else {
            letter.alt_new.as_deref()
        };
        if html_new == Some(revealed_new.as_str()) {
            return None;
        }
        let joined = match (&stub_text, html_chosen) {
            (Some(stub), true) => quote::join_blocks([revealed_new.as_str(), stub.as_str()]),
            _ => revealed_new,
        };
        Some(cap(joined, NEW_CAP))
    });
    if let Some(stub) = &stub_text {
        new_text = quote::join_blocks([new_text.as_str(), stub.as_str()]);
    }
    let mut text = Text {
        new: new_text,
        quoted: split.quoted,
        signature: split.signature,
        attachments: quote::normalize(&walk.attachments),
    };
    if !walk.attachments_quoted.is_empty() {
        text.quoted = quote::join_blocks([text.quoted.as_str(), walk.attachments_quoted.as_str()]);
    }
    letter.forwarded_from = split.forwarded_from;

    if depth < MAX_MESSAGE_DEPTH {
        for bytes in &walk.messages {
            let inner = read_at(bytes, depth + 1);
            merge_attached(&mut letter, &mut text, inner);
        }
    }

    text.new = cap(text.new, NEW_CAP);
    text.quoted = cap(text.quoted, QUOTED_CAP);
    text.signature = cap(text.signature, SIGNATURE_CAP);
    text.attachments = cap(text.attachments, mime::ATTACHMENTS_CAP);
    letter.text = text;

    letter.unreadable = if garbage {
        Some("the body is binary, not text".into())
    } else if parsed.is_none() {
        Some("no message headers".into())
    } else if letter.text.new.is_empty()
        && letter.text.quoted.is_empty()
        && letter.text.signature.is_empty()
        && letter.text.attachments.is_empty()
    {
        Some("no readable text".into())
    } else {
        None
    };
    letter
}

/// A short plain part next to a much richer HTML part is a placeholder ("view this message
/// in HTML") rather than the message: read the HTML then.
fn plain_is_stub(walk: &Walk<'_>, html_text: &str) -> bool {
    if walk.plain.len() >= 300 {
        return false;
    }
    let plain_words = walk.plain.split_whitespace().count();
    let html_words = html_text.split_whitespace().count();
    html_words > plain_words * 2 + 15
}

/// Merges an attached message (`message/rfc822`, forward as attachment) into the outer text:
/// a bare forward makes the attached body the new text, otherwise it is quoted.
fn merge_attached(letter: &mut Letter, text: &mut Text, inner: Letter) {
    let bare = letter.automated.is_none()
        && letter.forwarded_from.is_none()
        && quote::is_bare(&text.new)
        && !inner.text.new.is_empty();
    let inner_from = inner.forwarded_from.clone().or(inner.from.clone());
    let mut header = String::new();
    if let Some(f) = &inner.from {
        header.push_str("From: ");
        if let Some(n) = &inner.from_name {
            header.push_str(n);
            header.push_str(" <");
            header.push_str(f);
            header.push('>');
        } else {
            header.push_str(f);
        }
        header.push('\n');
    }
    if let Some(d) = inner.date {
        header.push_str(&format!("Date: {}\n", d.to_rfc2822()));
    }
    if !inner.subject.is_empty() {
        header.push_str(&format!("Subject: {}\n", inner.subject));
    }
    if bare {
        let own_new = std::mem::take(&mut text.new);
        let own_sig = if inner.text.signature.is_empty() {
            String::new()
        } else {
            std::mem::replace(&mut text.signature, inner.text.signature)
        };
        let own_quoted = std::mem::take(&mut text.quoted);
        text.quoted = quote::join_blocks([
            own_new.as_str(),
            own_sig.as_str(),
            own_quoted.as_str(),
            header.as_str(),
            inner.text.quoted.as_str(),
        ]);
        text.new = inner.text.new;
        letter.forwarded_from = inner_from;
        // The new text is now the attached message's: so is the other rendering.
        letter.alt_new = inner.alt_new;
        letter.revealed_new = inner.revealed_new;
    } else {
        let own_quoted = std::mem::take(&mut text.quoted);
        text.quoted = quote::join_blocks([
            own_quoted.as_str(),
            header.as_str(),
            inner.text.new.as_str(),
            inner.text.signature.as_str(),
            inner.text.quoted.as_str(),
        ]);
    }
    text.attachments =
        quote::join_blocks([text.attachments.as_str(), inner.text.attachments.as_str()]);
}

/// Truncates to at most `max` bytes at a character boundary.
fn cap(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while end > 0 && !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Share of U+FFFD and control characters (a charset decoder's verdict on binary data).
fn replacement_share(s: &str) -> f64 {
    // Counted on the UTF-8 bytes: a character starts at every non-continuation byte, U+FFFD
    // is EF BF BD, and the control characters are C0, DEL and C1 (C2 80..C2 9F).
    // Runs of eight printable ASCII bytes (most of any text) are eight good characters and
    // are skipped a word at a time; everything else goes byte by byte.
    const MAX_CHARS: usize = 1 << 16;
    let b = s.as_bytes();
    let (mut bad, mut total) = (0usize, 0usize);
    let mut i = 0usize;
    while let Some(&x) = b.get(i) {
        if total + 8 <= MAX_CHARS && mime::word_at(b, i).is_some_and(mime::all_printable_ascii) {
            total += 8;
            i += 8;
            continue;
        }
        i += 1;
        if x & 0xc0 == 0x80 {
            continue;
        }
        if total == MAX_CHARS {
            break;
        }
        total += 1;
        let is_bad = match x {
            b'\n' | b'\r' | b'\t' | 0x0c => false,
            0x00..=0x1f | 0x7f => true,
            0xc2 => matches!(b.get(i), Some(0x80..=0x9f)),
            0xef => b.get(i..i + 2) == Some(&[0xbf, 0xbd]),
            _ => false,
        };
        bad += usize::from(is_bad);
    }
    if total == 0 {
        0.0
    } else {
        bad as f64 / total as f64
    }
}

/// Raw value of a header (its bytes in `head`), unfolded and trimmed.
fn raw_value(head: &[u8], start: u32, end: u32) -> String {
    let bytes = head.get(start as usize..end as usize).unwrap_or_default();
    // `from_utf8` checks ASCII a word at a time; the lossy decoder goes byte by byte.
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i > 0 {
            if line.trim().is_empty() {
                continue;
            }
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line);
        }
    }
    out.trim().to_string()
}

fn to_utc(dt: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    if !dt.is_valid() {
        return None;
    }
    DateTime::from_timestamp(dt.to_timestamp(), 0)
}

/// Date of a `Received:` value: the text after its last `;`, tolerating comments and junk.
fn received_date(value: &str) -> Option<DateTime<Utc>> {
    let (_, date) = value.rsplit_once(';')?;
    let date = date.trim();
    if let Some(dt) = mail_parser::DateTime::parse_rfc822(date)
        .as_ref()
        .and_then(to_utc)
    {
        return Some(dt);
    }
    DateTime::parse_from_rfc2822(date)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn push_ids(out: &mut Vec<String>, value: Option<&HeaderValue<'_>>) {
    let mut push = |id: &str| {
        let id = id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        // The length test first: the duplicate test is linear in `out`.
        if !id.is_empty() && out.len() < 500 && !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    };
    match value {
        Some(HeaderValue::Text(t)) => push(t),
        Some(HeaderValue::TextList(l)) => l.iter().for_each(|t| push(t)),
        _ => {}
    }
}

fn read_headers(letter: &mut Letter, m: &Message<'_>, head: &[u8]) {
    letter.message_id = m
        .message_id()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .filter(|id| !id.is_empty());
    let from_headers = m
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::From)
        .count();
    let from_mailboxes = m.from().map_or(0, |a| a.iter().count());
    letter.from_problem = match (from_headers, from_mailboxes) {
        (0, _) => Some("the message has no From header".into()),
        (1, 1) => None,
        (1, 0) => Some("the From header holds no address".into()),
        (1, _) => Some("the From header names several mailboxes".into()),
        _ => Some("the message has several From headers".into()),
    };
    if let Some(a) = m.from().and_then(|a| a.first()) {
        letter.from = a
            .address
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        letter.from_name = a
            .name
            .as_deref()
            .map(|s| s.trim().trim_matches(['"', '\'']).trim().to_string())
            .filter(|s| !s.is_empty() && Some(s.to_lowercase()) != letter.from);
    }
    letter.reply_to = m
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address.as_deref())
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    letter.subject = m.subject().unwrap_or("").trim().to_string();
    letter.date = m.date().and_then(to_utc);
    let headers = m.headers();
    letter.received = headers
        .iter()
        .find(|h| h.name == HeaderName::Received)
        .and_then(|h| received_date(&raw_value(head, h.offset_start, h.offset_end)));
    push_ids(&mut letter.references, m.header(HeaderName::References));
    push_ids(&mut letter.references, m.header(HeaderName::InReplyTo));
    letter.authentication_results = headers
        .iter()
        .filter(|h| h.name == HeaderName::AuthenticationResults)
        .take(50)
        .map(|h| raw_value(head, h.offset_start, h.offset_end))
        .collect();
}

/// Subject starts of auto-replies and bounces (lowercase).
const AUTO_SUBJECT_PREFIXES: &[&str] = &[
    "out of office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "automatische antwort",
    "abwesenheitsnotiz",
    "ich bin nicht im büro",
    "undeliverable:",
    "unzustellbar:",
    "returned mail",
    "réponse automatique",
];
/// Subject parts of auto-replies and bounces wherever they stand (lowercase).
const AUTO_SUBJECT_PARTS: &[&str] = &[
    "undelivered mail returned to sender",
    "delivery status notification",
    "mail delivery failed",
    "abwesenheitsnotiz",
    "ich bin nicht im büro",
    "out of office:",
    "automatic reply:",
    "automatische antwort:",
];
const AUTO_LOCAL_PARTS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
];

/// Why a message looks machine-sent, from headers, content type, sender and subject.
fn automated(letter: &Letter, m: &Message<'_>, head: &[u8], root_type: &str) -> Option<String> {
    for h in m.headers() {
        let name = h.name.as_str();
        let value = || raw_value(head, h.offset_start, h.offset_end).to_lowercase();
        if name.eq_ignore_ascii_case("auto-submitted") {
            let v = value();
            let first = v
                .split(|c: char| c == ';' || c == '(' || c.is_whitespace())
                .find(|t| !t.is_empty())
                .unwrap_or("");
            if !first.is_empty() && first != "no" {
                return Some(format!("Auto-Submitted: {v}"));
            }
        } else if name.eq_ignore_ascii_case("x-autoreply") {
            if value() == "yes" {
                return Some("X-Autoreply: yes".into());
            }
        } else if name.eq_ignore_ascii_case("precedence") {
            let v = value();
            if matches!(v.as_str(), "bulk" | "list" | "junk" | "auto_reply") {
                return Some(format!("Precedence: {v}"));
            }
        } else if name.eq_ignore_ascii_case("list-id")
            || name.eq_ignore_ascii_case("list-unsubscribe")
        {
            return Some(format!("mailing list ({name} header)"));
        } else if name.eq_ignore_ascii_case("return-path") {
            let v = value();
            if v.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "<>" {
                return Some("empty Return-Path (bounce)".into());
            }
        }
    }
    if matches!(
        root_type,
        "multipart/report" | "message/delivery-status" | "message/disposition-notification"
    ) {
        return Some(format!("delivery report ({root_type})"));
    }
    if let Some(local) = letter.from.as_deref().and_then(|f| f.split('@').next())
        && AUTO_LOCAL_PARTS.contains(&local)
    {
        return Some(format!("machine sender ({local})"));
    }
    let subject = letter.subject.to_lowercase();
    let subject = subject.trim();
    if let Some(p) = AUTO_SUBJECT_PREFIXES
        .iter()
        .find(|p| subject.starts_with(*p))
    {
        return Some(format!("auto-reply or bounce subject ({p})"));
    }
    if let Some(p) = AUTO_SUBJECT_PARTS.iter().find(|p| subject.contains(*p)) {
        return Some(format!("auto-reply or bounce subject ({p})"));
    }
    None
}

#[cfg(test)]
mod tests;
