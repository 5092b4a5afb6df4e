//! MIME walking: finds the body text, text-like attachments and attached messages of a raw
//! message, decoding only the parts it reads and never more than a fixed cap of each.
//!
//! mail-parser's full `parse` decodes every part eagerly (a 50 MB attachment would be decoded
//! and copied), so the structure is walked here and mail-parser only parses header blocks.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::LazyLock;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{HeaderName, HeaderValue, Message, MessageParser};

/// Most MIME parts visited in one message (a 1,000-part message is read, a million is not).
const MAX_PARTS: usize = 2_000;
/// Deepest multipart nesting followed.
const MAX_DEPTH: usize = 12;
/// Decoded bytes of text/plain body kept.
const PLAIN_CAP: usize = 1 << 20;
/// Decoded bytes of text/html body kept (HTML is verbose; the converter output is capped too).
const HTML_CAP: usize = 4 << 20;
/// Decoded bytes of one text-like attachment.
pub(crate) const ATTACHMENT_CAP: usize = 256 << 10;
/// Decoded bytes of all text-like attachments together.
pub(crate) const ATTACHMENTS_CAP: usize = 1 << 20;
/// Decoded bytes of one attached message (`message/rfc822`).
const MESSAGE_CAP: usize = 2 << 20;
/// Attached messages kept per message.
const MAX_MESSAGES: usize = 4;

/// Content-Transfer-Encoding of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Base64,
    QuotedPrintable,
}

/// What one part's header block says about its body.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartInfo {
    /// Lowercase MIME type, e.g. `text`.
    pub ctype: String,
    /// Lowercase MIME subtype, e.g. `plain`.
    pub subtype: String,
    pub boundary: Option<String>,
    pub charset: Option<String>,
    /// Lowercase file name from Content-Disposition or Content-Type `name`.
    pub filename: Option<String>,
    /// `Content-Disposition: attachment`.
    pub attachment: bool,
    pub encoding: Option<Encoding>,
    /// Whether the header block had a Content-Type at all.
    pub typed: bool,
}

impl PartInfo {
    /// Reads the MIME headers of one parsed header block.
    pub(crate) fn from_message(msg: Option<&Message<'_>>) -> PartInfo {
        let mut info = PartInfo {
            ctype: "text".into(),
            subtype: "plain".into(),
            ..PartInfo::default()
        };
        let Some(msg) = msg else { return info };
        let Some(root) = msg.parts.first() else {
            return info;
        };
        for h in &root.headers {
            match (&h.name, &h.value) {
                (HeaderName::ContentType, HeaderValue::ContentType(ct)) => {
                    info.typed = true;
                    info.ctype = ct.ctype().to_ascii_lowercase();
                    info.subtype = ct.subtype().unwrap_or("").to_ascii_lowercase();
                    info.boundary = ct.attribute("boundary").map(str::to_string);
                    info.charset = ct
                        .attribute("charset")
                        .map(|c| c.trim().to_ascii_lowercase());
                    if info.filename.is_none() {
                        info.filename = ct.attribute("name").map(|n| n.trim().to_lowercase());
                    }
                }
                (HeaderName::ContentDisposition, HeaderValue::ContentType(cd)) => {
                    info.attachment = cd.ctype().eq_ignore_ascii_case("attachment");
                    if let Some(name) = cd.attribute("filename") {
                        info.filename = Some(name.trim().to_lowercase());
                    }
                }
                (HeaderName::ContentTransferEncoding, HeaderValue::Text(enc)) => {
                    let enc = enc.trim();
                    info.encoding = Some(if enc.eq_ignore_ascii_case("base64") {
                        Encoding::Base64
                    } else if enc.eq_ignore_ascii_case("quoted-printable") {
                        Encoding::QuotedPrintable
                    } else {
                        Encoding::Identity
                    });
                }
                _ => {}
            }
        }
        info
    }

    fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Identity)
    }

    fn is_type(&self, ctype: &str, subtype: &str) -> bool {
        self.ctype == ctype && self.subtype == subtype
    }

    /// Attachment in the reader's sense: declared so, or carrying a file name.
    fn is_attachment(&self) -> bool {
        self.attachment || self.filename.is_some()
    }

    /// Text we read from an attachment: plain text, CSV, calendar entries.
    fn is_text_attachment(&self) -> bool {
        self.is_type("text", "plain")
            || self.is_type("text", "csv")
            || self.is_type("text", "calendar")
            || self
                .filename
                .as_deref()
                .is_some_and(|n| n.ends_with(".txt") || n.ends_with(".csv") || n.ends_with(".ics"))
    }
}

/// Position of the first `\n` in `bytes`, testing eight bytes at a time (multipart bodies
/// are split line by line, and most of their bytes are in long lines).
pub(crate) fn find_newline(bytes: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0usize;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A zero byte in `x` is a `\n` in the chunk (the test never misses one).
        let x = u64::from_le_bytes(word) ^ NL;
        if x.wrapping_sub(LO) & !x & HI != 0
            && let Some(p) = chunk.iter().position(|&b| b == b'\n')
        {
            return Some(at + p);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| at + p)
}

/// Eight bytes as a little-endian word, or `None` past the end (for the word-at-a-time
/// fast paths below and in the text normaliser).
pub(crate) fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Whether all eight bytes of `x` are printable ASCII (0x20..=0x7e): the common case that
/// text scans can skip eight bytes at a time.
pub(crate) fn all_printable_ascii(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // No high bit; no byte below 0x20 (exact when no high bit is set: no borrow crosses
    // bytes); no 0x7f (adding one sets its high bit, and no byte can carry).
    x & HI == 0 && x.wrapping_sub(LO * 0x20) & !x & HI == 0 && x.wrapping_add(LO) & HI == 0
}

/// Splits an entity into its header block and body at the first empty line.
/// Without an empty line: all header when the first line looks like a header, else all body.
pub(crate) fn split_head(entity: &[u8]) -> (&[u8], &[u8]) {
    let mut pos = 0usize;
    while pos < entity.len() {
        let rest = entity.get(pos..).unwrap_or_default();
        let end = find_newline(rest).map(|i| pos + i);
        let line_end = end.unwrap_or(entity.len());
        let line = entity.get(pos..line_end).unwrap_or_default();
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            let body_start = end.map_or(entity.len(), |e| e + 1);
            return (
                entity.get(..pos).unwrap_or_default(),
                entity.get(body_start..).unwrap_or_default(),
            );
        }
        if pos == 0 && !looks_like_header(line) {
            return (&[], entity);
        }
        match end {
            Some(e) => pos = e + 1,
            None => break,
        }
    }
    (entity, &[])
}

/// `Name:` at the start of a line, the name made of printable ASCII without spaces.
fn looks_like_header(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(i) => line
            .get(..i)
            .is_some_and(|n| n.iter().all(|b| b.is_ascii_graphic())),
    }
}

/// Parses a header block with mail-parser (RFC 2047 words, folding, parameters).
pub(crate) fn parse_head(head: &[u8]) -> Option<Message<'_>> {
    if head.is_empty() {
        return None;
    }
    PARSER.parse_headers(head)
}

/// Parses only the headers the reader interprets; all others (Received, DKIM, ARC...) are
/// skipped unparsed — their raw text is still reachable through the header offsets.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .header_address(HeaderName::From)
        .header_address(HeaderName::ReplyTo)
        .header_text(HeaderName::Subject)
        .header_date(HeaderName::Date)
        .header_id(HeaderName::MessageId)
        .header_id(HeaderName::References)
        .header_id(HeaderName::InReplyTo)
        .header_content_type(HeaderName::ContentType)
        .header_content_type(HeaderName::ContentDisposition)
        .header_text(HeaderName::ContentTransferEncoding)
        .default_header_ignore()
});

/// Splits a multipart body at its boundary lines; preamble and epilogue are dropped, a
/// missing close delimiter (truncated message) ends the last part at the end of the body.
pub(crate) fn split_multipart<'a>(body: &'a [u8], boundary: &[u8], max: usize) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0usize;
    while pos < body.len() {
        let rest = body.get(pos..).unwrap_or_default();
        let end = find_newline(rest).map(|i| pos + i);
        let line_end = end.unwrap_or(body.len());
        let line = body.get(pos..line_end).unwrap_or_default();
        if let Some(after) = line
            .strip_prefix(b"--")
            .and_then(|l| l.strip_prefix(boundary))
        {
            let close = after.starts_with(b"--");
            let rest_blank = close || after.iter().all(|b| b.is_ascii_whitespace());
            if rest_blank {
                if let Some(s) = start {
                    // The line break before the delimiter belongs to the delimiter.
                    let mut e = pos.saturating_sub(1);
                    if e > s && body.get(e.saturating_sub(1)) == Some(&b'\r') {
                        e -= 1;
                    }
                    parts.push(body.get(s..e.max(s)).unwrap_or_default());
                    if parts.len() >= max {
                        return parts;
                    }
                }
                if close {
                    return parts;
                }
                start = Some(end.map_or(body.len(), |e| e + 1));
            }
        }
        match end {
            Some(e) => pos = e + 1,
            None => break,
        }
    }
    if let Some(s) = start {
        parts.push(body.get(s..).unwrap_or_default());
    }
    parts
}

/// Decodes a transfer encoding, producing at most `cap` bytes and reading no further.
pub(crate) fn decode_body(body: &[u8], enc: Encoding, cap: usize) -> Cow<'_, [u8]> {
    match enc {
        Encoding::Identity => Cow::Borrowed(body.get(..cap.min(body.len())).unwrap_or(body)),
        Encoding::Base64 => Cow::Owned(decode_base64(body, cap)),
        Encoding::QuotedPrintable => Cow::Owned(decode_qp(body, cap)),
    }
}

/// Base64 digit values (standard and URL-safe alphabets), 0xff for bytes outside them.
static BASE64: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0u8;
    while i < 26 {
        t[(b'A' + i) as usize] = i;
        t[(b'a' + i) as usize] = i + 26;
        i += 1;
    }
    let mut d = 0u8;
    while d < 10 {
        t[(b'0' + d) as usize] = d + 52;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

/// Lenient base64: skips everything outside the alphabet (line breaks, padding, junk).
fn decode_base64(input: &[u8], cap: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((input.len() / 4 * 3).min(cap));
    // Four digits make three bytes; digits are gathered in groups of four so the bytes are
    // written three at a time.
    let mut acc: u32 = 0;
    let mut n = 0u32;
    let mut i = 0usize;
    while let Some(&b) = input.get(i) {
        // Fast path: at a group boundary, eight alphabet digits in a row (most of a base64
        // line) make six bytes at once, and four make three.
        if n == 0
            && out.len() + 6 < cap
            && let Some(chunk) = input.get(i..i + 8)
        {
            let mut v = 0u64;
            let mut bad = 0u8;
            for &c in chunk {
                let d = BASE64[usize::from(c)];
                bad |= d;
                v = (v << 6) | u64::from(d);
            }
            // Digits are below 64; 0xff (outside the alphabet) has the high bit.
            if bad & 0x80 == 0 {
                let [_, _, p, q, r, s, t, u] = v.to_be_bytes();
                out.extend_from_slice(&[p, q, r, s, t, u]);
                i += 8;
                continue;
            }
        }
        if n == 0
            && let Some(&[w, x, y, z]) = input.get(i..i + 4)
        {
            let d = [w, x, y, z].map(|c| BASE64[usize::from(c)]);
            if d.iter().all(|&v| v != 0xff) {
                let v = d.iter().fold(0u32, |a, &v| (a << 6) | u32::from(v));
                let [_, p, q, r] = v.to_be_bytes();
                out.extend_from_slice(&[p, q, r]);
                i += 4;
                if out.len() >= cap {
                    break;
                }
                continue;
            }
        }
        i += 1;
        let v = BASE64[usize::from(b)];
        if v == 0xff {
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            let [_, x, y, z] = acc.to_be_bytes();
            out.extend_from_slice(&[x, y, z]);
            acc = 0;
            n = 0;
            if out.len() >= cap {
                break;
            }
        }
    }
    // A short last group: two digits make one byte, three make two. Even a zero cap keeps
    // the first byte, so the group is decoded whenever fewer than `max(cap, 1)` are out.
    if out.len() < cap.max(1) {
        match n {
            2 => out.push((acc >> 4) as u8),
            3 => {
                let [_, _, x, y] = (acc >> 2).to_be_bytes();
                out.extend_from_slice(&[x, y]);
            }
            _ => {}
        }
    }
    // At most `cap` bytes (and the first byte even for a zero cap, as ever).
    out.truncate(cap.max(1));
    out
}

/// Lenient quoted-printable: soft breaks removed, bad escapes kept literally.
fn decode_qp(input: &[u8], cap: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len().min(cap));
    let mut i = 0usize;
    while i < input.len() && out.len() < cap {
        // Copy the run up to the next `=` in one go.
        let rest = input.get(i..).unwrap_or_default();
        let run = rest.iter().position(|&b| b == b'=').unwrap_or(rest.len());
        let take = run.min(cap - out.len());
        out.extend_from_slice(rest.get(..take).unwrap_or_default());
        i += take;
        if take < run || i >= input.len() {
            break;
        }
        let b = input.get(i).copied().unwrap_or(0);
        if b == b'=' {
            let h1 = input.get(i + 1).copied();
            let h2 = input.get(i + 2).copied();
            match (h1, h2) {
                (Some(b'\n'), _) => {
                    i += 2;
                    continue;
                }
                (Some(b'\r'), Some(b'\n')) => {
                    i += 3;
                    continue;
                }
                (Some(a), Some(c)) => {
                    if let (Some(x), Some(y)) = (hex(a), hex(c)) {
                        out.push(x * 16 + y);
                        i += 3;
                        continue;
                    }
                    // `=` followed by spaces then a line break is a soft break too.
                    let mut j = i + 1;
                    while matches!(input.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    match input.get(j) {
                        Some(b'\n') => {
                            i = j + 1;
                            continue;
                        }
                        Some(b'\r') if input.get(j + 1) == Some(&b'\n') => {
                            i = j + 2;
                            continue;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Bytes to text in the declared charset; undeclared or mislabelled non-UTF-8 is read as
/// Windows-1252 (what Swiss/German clients send when they get the label wrong).
pub(crate) fn to_text(bytes: &[u8], charset: Option<&str>) -> String {
    let label = charset.unwrap_or("utf-8");
    let is_utf8_label = matches!(label, "utf-8" | "utf8" | "us-ascii" | "ascii" | "");
    if matches!(
        label,
        "iso-8859-1"
            | "iso8859-1"
            | "latin1"
            | "latin-1"
            | "windows-1252"
            | "cp1252"
            | "iso-8859-15"
    ) {
        return decode_1252(bytes);
    }
    if !is_utf8_label && let Some(dec) = charset_decoder(label.as_bytes()) {
        return dec(bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
            // Only a truncated final character (we cut at a byte cap).
            String::from_utf8_lossy(bytes.get(..e.valid_up_to()).unwrap_or_default()).into_owned()
        }
        Err(_) => decode_1252(bytes),
    }
}

/// Windows-1252 (a superset of ISO-8859-1 as mail clients use it; ISO-8859-15 differs only
/// in a few rarely used symbols). Plain ASCII is copied as is.
fn decode_1252(bytes: &[u8]) -> String {
    if bytes.is_ascii() {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut rest = bytes;
    while !rest.is_empty() {
        // Copy the ASCII run in one go, then map one high byte.
        let run = rest
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        out.push_str(std::str::from_utf8(rest.get(..run).unwrap_or_default()).unwrap_or(""));
        let Some(&b) = rest.get(run) else { break };
        out.push(if (0x80..=0x9f).contains(&b) {
            c1_1252(b)
        } else {
            char::from(b)
        });
        rest = rest.get(run + 1..).unwrap_or_default();
    }
    out
}

/// The Windows-1252 meaning of the C1 range 0x80..=0x9f.
fn c1_1252(b: u8) -> char {
    match b {
        0x80 => '€',
        0x82 => '‚',
        0x84 => '„',
        0x85 => '…',
        0x86 => '†',
        0x8a => 'Š',
        0x8c => 'Œ',
        0x8e => 'Ž',
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201c}',
        0x94 => '\u{201d}',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        0x99 => '™',
        0x9a => 'š',
        0x9c => 'œ',
        0x9e => 'ž',
        0x9f => 'Ÿ',
        _ => '\u{fffd}',
    }
}

/// Everything read from the MIME tree of one message.
#[derive(Debug, Default)]
pub(crate) struct Walk<'a> {
    /// Inline text/plain parts, concatenated.
    pub plain: String,
    /// Inline text/html parts (body, encoding, charset), decoded only when the HTML is
    /// read: most mail has a plain part, and the HTML twin is then never looked at.
    html_parts: Vec<(&'a [u8], Encoding, Option<String>)>,
    /// The decoded HTML and its suspicious/total byte counts, built on first use.
    html_built: OnceCell<(String, (usize, usize))>,
    /// Text-like attachments (their new text and signature), separated by blank lines.
    pub attachments: String,
    /// Earlier mail quoted inside text attachments.
    pub attachments_quoted: String,
    /// Decoded bytes of text attachments read so far (bounded by `ATTACHMENTS_CAP`).
    attachments_read: usize,
    /// Attached messages (`message/rfc822`), raw.
    pub messages: Vec<Cow<'a, [u8]>>,
    /// Content-Type of the root entity, `type/subtype`.
    pub root_type: String,
    /// MIME entities visited (bounded by `MAX_PARTS`).
    pub parts_seen: usize,
    /// Suspicious and total bytes of the plain and HTML bodies (see [`suspicious`]).
    plain_stats: (usize, usize),
}

/// Bytes that do not occur in text: control characters, and, when the bytes are not UTF-8,
/// any non-ASCII byte (legacy-charset text has only a few umlauts; binary data half).
fn suspicious(bytes: &[u8]) -> usize {
    // Eight printable ASCII bytes at a time hold no control character.
    let mut controls = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        if word_at(bytes, i).is_some_and(all_printable_ascii) {
            i += 8;
            continue;
        }
        // The next eight bytes one by one before the word test is tried again.
        let next = bytes.get(i..(i + 8).min(bytes.len())).unwrap_or_default();
        controls += next
            .iter()
            .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
            .count();
        i += 8;
    }
    if std::str::from_utf8(bytes).is_ok() {
        controls
    } else {
        controls + bytes.iter().filter(|&&b| b >= 0x80).count()
    }
}

fn garbage(stats: (usize, usize)) -> bool {
    stats.1 > 0 && stats.0 as f64 / stats.1 as f64 > 0.30
}

impl<'a> Walk<'a> {
    /// Walks the body of a message whose header block was already parsed into `info`.
    pub(crate) fn run(info: &PartInfo, body: &'a [u8]) -> Walk<'a> {
        let mut w = Walk {
            root_type: format!("{}/{}", info.ctype, info.subtype),
            ..Walk::default()
        };
        w.body(info, body, 0);
        w
    }

    /// Whether the plain body looks like binary data rather than text.
    pub(crate) fn plain_garbage(&self) -> bool {
        garbage(self.plain_stats)
    }

    /// Whether the HTML body looks like binary data rather than text.
    pub(crate) fn html_garbage(&self) -> bool {
        garbage(self.html_decoded().1)
    }

    /// Inline text/html parts, decoded and concatenated.
    pub(crate) fn html(&self) -> &str {
        &self.html_decoded().0
    }

    fn html_decoded(&self) -> &(String, (usize, usize)) {
        self.html_built.get_or_init(|| {
            let mut html = String::new();
            let mut stats = (0, 0);
            for (body, encoding, charset) in &self.html_parts {
                let room = HTML_CAP.saturating_sub(html.len());
                if room > 0 {
                    let bytes = decode_body(body, *encoding, room);
                    stats.0 += suspicious(&bytes);
                    stats.1 += bytes.len();
                    push_sep(&mut html, &to_text(&bytes, charset.as_deref()), "\n<br>\n");
                }
            }
            (html, stats)
        })
    }

    fn entity(&mut self, entity: &'a [u8], depth: usize) {
        let (head, body) = split_head(entity);
        let parsed = parse_head(head);
        let info = PartInfo::from_message(parsed.as_ref());
        self.body(&info, body, depth);
    }

    fn body(&mut self, info: &PartInfo, body: &'a [u8], depth: usize) {
        self.parts_seen += 1;
        if self.parts_seen > MAX_PARTS {
            return;
        }
        if info.ctype == "multipart" {
            if let Some(boundary) = info.boundary.as_deref().filter(|b| !b.is_empty()) {
                if depth >= MAX_DEPTH {
                    return;
                }
                let budget = MAX_PARTS.saturating_sub(self.parts_seen);
                for part in split_multipart(body, boundary.as_bytes(), budget) {
                    if self.parts_seen > MAX_PARTS {
                        break;
                    }
                    self.entity(part, depth + 1);
                }
                return;
            }
            // A multipart without a boundary cannot be split: read it as plain text.
            self.add_plain(info, body);
            return;
        }
        if info.ctype == "message" && matches!(info.subtype.as_str(), "rfc822" | "global") {
            if self.messages.len() < MAX_MESSAGES {
                self.messages
                    .push(decode_body(body, info.encoding(), MESSAGE_CAP));
            }
            return;
        }
        if info.is_type("text", "calendar") || info.is_type("text", "csv") {
            self.add_attachment(info, body);
            return;
        }
        if info.is_attachment() {
            if info.is_text_attachment() {
                self.add_attachment(info, body);
            }
            return;
        }
        if info.is_type("text", "plain") {
            self.add_plain(info, body);
        } else if info.is_type("text", "html") {
            self.html_parts
                .push((body, info.encoding(), info.charset.clone()));
        }
    }

    fn add_plain(&mut self, info: &PartInfo, body: &[u8]) {
        let room = PLAIN_CAP.saturating_sub(self.plain.len());
        if room > 0 {
            let bytes = decode_body(body, info.encoding(), room);
            self.plain_stats.0 += suspicious(&bytes);
            self.plain_stats.1 += bytes.len();
            push_sep(
                &mut self.plain,
                &to_text(&bytes, info.charset.as_deref()),
                "\n",
            );
        }
    }

    fn add_attachment(&mut self, info: &PartInfo, body: &[u8]) {
        let room = ATTACHMENTS_CAP
            .saturating_sub(self.attachments_read)
            .min(ATTACHMENT_CAP);
        if room == 0 {
            return;
        }
        let bytes = decode_body(body, info.encoding(), room);
        self.attachments_read += bytes.len();
        let text = to_text(&bytes, info.charset.as_deref());
        if info.is_type("text", "calendar")
            || info
                .filename
                .as_deref()
                .is_some_and(|n| n.ends_with(".ics"))
        {
            push_sep(&mut self.attachments, &calendar_text(&text), "\n\n");
            return;
        }
        // A text attachment may hold an earlier mail (a saved thread, an `.eml` as text):
        // only what is new in it counts, as in a body.
        let split = super::quote::split_attachment(&super::quote::normalize(&text));
        let own = super::quote::join_blocks([split.new.as_str(), split.signature.as_str()]);
        push_sep(&mut self.attachments, &own, "\n\n");
        push_sep(&mut self.attachments_quoted, &split.quoted, "\n\n");
    }
}

/// Most lines read from one calendar attachment; the rest is left out.
const CALENDAR_LINES: usize = 2_000;

/// The text of an iCalendar attachment (RFC 5545) as a person reads it in a calendar:
/// unfolded, with each event's `DTSTART`/`DTEND` written as dates the window reader
/// understands (`Start: 2026-12-01 07:00 UTC`), escaped text values decoded, a
/// cancelled invitation said in words, and the time-zone definitions (whose `DTSTART`s are
/// 1970 rule dates, not the test) left out. An invitation whose start differs from the
/// body's is thus read as a second window, not ignored. Linear in the input.
fn calendar_text(ics: &str) -> String {
    let unfolded = ics
        .replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "");
    let mut out = String::with_capacity(unfolded.len().min(1 << 16));
    // Nesting of BEGIN/END: only what is in an event (not its alarms, not a VTIMEZONE) is
    // the event's.
    let mut stack: Vec<String> = Vec::new();
    for line in unfolded.lines().take(CALENDAR_LINES) {
        let line = line.trim_end_matches('\r');
        let Some((head, value)) = line.split_once(':') else {
            push_line(&mut out, line);
            continue;
        };
        let mut params = head.split(';');
        let name = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" => {
                if stack.len() < 16 {
                    stack.push(value.trim().to_ascii_uppercase());
                }
                continue;
            }
            "END" => {
                stack.pop();
                continue;
            }
            _ => {}
        }
        let inside = stack.last().map(String::as_str);
        if stack.iter().any(|c| c == "VTIMEZONE") {
            continue;
        }
        let label = match name.as_str() {
            "METHOD" if value.trim().eq_ignore_ascii_case("CANCEL") => {
                push_line(&mut out, "This calendar invitation is cancelled.");
                continue;
            }
            "STATUS" if value.trim().eq_ignore_ascii_case("CANCELLED") => {
                push_line(&mut out, "Status: cancelled");
                continue;
            }
            "DTSTART" if inside != Some("VALARM") => "Start",
            "DTEND" | "DUE" if inside != Some("VALARM") => "End",
            "SUMMARY" => "Summary",
            "DESCRIPTION" => "Description",
            "LOCATION" => "Location",
            "COMMENT" => "Comment",
            _ => {
                push_line(&mut out, line);
                continue;
            }
        };
        if label == "Start" || label == "End" {
            let mut tzid = None;
            for p in params {
                if let Some((k, v)) = p.split_once('=')
                    && k.trim().eq_ignore_ascii_case("TZID")
                {
                    tzid = Some(v.trim().trim_matches('"').to_string());
                }
            }
            match calendar_time(value.trim(), tzid.as_deref()) {
                Some(t) => push_line(&mut out, &format!("{label}: {t}")),
                None => push_line(&mut out, line),
            }
        } else {
            push_line(&mut out, &format!("{label}: {}", unescape_text(value)));
        }
    }
    out
}

/// `20261201T070000Z` as `2026-12-01 07:00 UTC`, `20261201` as `2026-12-01`, a local time
/// with its `TZID`; `None` for anything else.
fn calendar_time(v: &str, tzid: Option<&str>) -> Option<String> {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !digits(0..8) {
        return None;
    }
    let date = format!("{}-{}-{}", &v[0..4], &v[4..6], &v[6..8]);
    if b.len() == 8 {
        return Some(date);
    }
    if b.get(8) != Some(&b'T') || !digits(9..15) {
        return None;
    }
    let time = format!("{}:{}", &v[9..11], &v[11..13]);
    match &v[15..] {
        "Z" | "z" => Some(format!("{date} {time} UTC")),
        "" => Some(match tzid {
            Some(z) if !z.is_empty() => format!("{date} {time} {z}"),
            _ => format!("{date} {time}"),
        }),
        _ => None,
    }
}

/// An iCalendar TEXT value decoded: `\n` is a line break, `\,` `\;` `\\` the character.
fn unescape_text(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

/// Appends `text` after `sep` when `dst` already has text.
fn push_sep(dst: &mut String, text: &str, sep: &str) {
    if text.trim().is_empty() {
        return;
    }
    if !dst.is_empty() {
        dst.push_str(sep);
    }
    dst.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_attachments_read_as_a_person_reads_them() {
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
                   BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
                   BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20270118T080000\r\n\
                   DTEND:20270118T160000Z\r\nSUMMARY:Pen test\\, shop\r\n\
                   DESCRIPTION:IPs 18.192.40.12\\nand 18.192.40.1\r\n 3\r\n\
                   BEGIN:VALARM\r\nDTSTART:20270101T000000Z\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let t = calendar_text(ics);
        assert!(t.contains("Start: 2027-01-18 08:00 Europe/Berlin\n"), "{t}");
        assert!(t.contains("End: 2027-01-18 16:00 UTC\n"), "{t}");
        assert!(t.contains("Summary: Pen test, shop\n"), "{t}");
        assert!(
            t.contains("Description: IPs 18.192.40.12\nand 18.192.40.13\n"),
            "{t}"
        );
        // Neither the time-zone rules nor an alarm are the test's window.
        assert!(!t.contains("1970") && !t.contains("2027-01-01"), "{t}");
        assert_eq!(
            calendar_time("20261201", None).as_deref(),
            Some("2026-12-01")
        );
        assert_eq!(calendar_time("2026120", None), None);
        assert_eq!(calendar_time("20261201T0700", None), None);
        assert_eq!(calendar_time("20261201T070000+01", None), None);
        assert_eq!(calendar_time("2026-12-01", None), None);
        assert_eq!(
            calendar_time("20261201T070000", None).as_deref(),
            Some("2026-12-01 07:00")
        );
        let cancelled = calendar_text(
            "BEGIN:VCALENDAR\nMETHOD:CANCEL\nBEGIN:VEVENT\nSTATUS:CANCELLED\nEND:VEVENT\n",
        );
        assert!(cancelled.contains("cancelled."), "{cancelled}");
        // Any bytes: no panic, bounded output.
        for s in [
            "DTSTART:\u{e9}\u{e9}\u{e9}\u{e9}T",
            "DTSTART:2026120\u{e9}",
            ":",
            "BEGIN:\nEND:\nEND:\n",
            "\\",
        ] {
            let _ = calendar_text(s);
        }
        let big = "BEGIN:VEVENT\n".repeat(100_000);
        assert!(calendar_text(&big).len() < 1000);
    }

    /// The former bit-by-bit decoder, kept to check the grouped one against.
    fn decode_base64_reference(input: &[u8], cap: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        for &b in input {
            let v = BASE64[usize::from(b)];
            if v == 0xff {
                continue;
            }
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push(((acc >> bits) & 0xff) as u8);
                acc &= (1 << bits) - 1;
                if out.len() >= cap {
                    break;
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn find_newline_finds_the_first(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"\n\r\x0a\x0b\x09\x8a\xff\x00a-".to_vec()),
                0..40,
            )
        ) {
            proptest::prop_assert_eq!(
                find_newline(&bytes),
                bytes.iter().position(|&b| b == b'\n')
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_matches_reference(
            input in proptest::collection::vec(
                proptest::sample::select(b"AZaz09+/-_=\r\n .\xc3".to_vec()),
                0..64,
            ),
            cap in 0usize..40,
        ) {
            proptest::prop_assert_eq!(decode_base64(&input, cap), decode_base64_reference(&input, cap));
        }

        /// Mostly alphabet digits, as real base64 lines are, so the four-at-a-time path
        /// runs and hands over to the digit-by-digit one at breaks, junk and the cap.
        #[test]
        fn base64_matches_reference_on_long_lines(
            input in "([A-Za-z0-9+/]{0,30}[=\r\n .\u{e9}_-]{0,2}){0,8}",
            cap in 0usize..200,
        ) {
            proptest::prop_assert_eq!(
                decode_base64(input.as_bytes(), cap),
                decode_base64_reference(input.as_bytes(), cap)
            );
        }

        #[test]
        fn suspicious_counts_like_a_plain_filter(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"aZ ~\x7f\x1f\x00\t\n\r\x0c\x80\xc3\xbc".to_vec()),
                0..80,
            ),
            ascii_run in 0usize..20,
        ) {
            let mut bytes = bytes;
            bytes.splice(0..0, std::iter::repeat_n(b'x', ascii_run));
            let controls = bytes
                .iter()
                .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
                .count();
            let expected = if std::str::from_utf8(&bytes).is_ok() {
                controls
            } else {
                controls + bytes.iter().filter(|&&b| b >= 0x80).count()
            };
            proptest::prop_assert_eq!(suspicious(&bytes), expected);
        }
    }

    #[test]
    fn split_head_finds_blank_line_crlf_and_lf() {
        let (h, b) = split_head(b"A: 1\r\nB: 2\r\n\r\nbody\r\n");
        assert_eq!(h, b"A: 1\r\nB: 2\r\n");
        assert_eq!(b, b"body\r\n");
        let (h, b) = split_head(b"no header here\nx");
        assert!(h.is_empty());
        assert_eq!(b, b"no header here\nx");
        let (h, b) = split_head(b"Subject: only");
        assert_eq!(h, b"Subject: only");
        assert!(b.is_empty());
    }

    #[test]
    fn multipart_split_ignores_preamble_and_prefix_boundaries() {
        let body = b"preamble\r\n--b1\r\nA: 1\r\n\r\none\r\n--b1x\r\nstill one\r\n--b1\r\n\r\ntwo\r\n--b1--\r\nepilogue";
        let parts = split_multipart(body, b"b1", 100);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], &b"A: 1\r\n\r\none\r\n--b1x\r\nstill one"[..]);
        assert_eq!(parts[1], &b"\r\ntwo"[..]);
    }

    #[test]
    fn truncated_multipart_keeps_last_part() {
        let parts = split_multipart(b"--b\n\nfirst\n--b\n\nsecond, cut", b"b", 100);
        assert_eq!(parts, vec![&b"\nfirst"[..], &b"\nsecond, cut"[..]]);
    }

    #[test]
    fn base64_and_qp_decode_with_caps() {
        assert_eq!(
            decode_base64(b"SGVs\r\nbG8g\r\nV29y bGQ=", 100),
            b"Hello World"
        );
        assert_eq!(decode_base64(b"SGVsbG8gV29ybGQ=", 5), b"Hello");
        assert_eq!(
            decode_qp(b"Gr=C3=BC=\r\nsse =3D ok=\nx =ZZ", 100),
            "Grüsse = okx =ZZ".as_bytes()
        );
        assert_eq!(decode_qp(b"abcdef", 3), b"abc");
    }

    #[test]
    fn charsets() {
        assert_eq!(to_text(b"Gr\xfcsse", Some("iso-8859-1")), "Grüsse");
        assert_eq!(to_text(b"Gr\xfcsse", None), "Grüsse");
        assert_eq!(to_text("Grüsse".as_bytes(), Some("utf-8")), "Grüsse");
        assert_eq!(to_text(b"x\xc3", Some("utf-8")), "x");
        assert_eq!(
            to_text(b"\x93Gr\xfcezi\x94 \x80 5", Some("windows-1252")),
            "\u{201c}Grüezi\u{201d} € 5"
        );
    }
}
