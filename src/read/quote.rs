//! Splitting a message body by role: new text, quoted earlier messages, forwarded content and
//! the signature/disclaimer, plus the text normalisation all of them share.

use std::sync::LazyLock;

use regex::Regex;

use super::mime::{all_printable_ascii, word_at};

/// How deep forwards of forwards are unpacked.
const MAX_FORWARD_DEPTH: usize = 4;
/// A closing phrase starts the signature only when at most this many non-empty lines follow.
const MAX_SIGNATURE_LINES: usize = 12;
/// Own text of a forwarder below this many words (after greeting and signature) is "bare".
const BARE_WORDS: usize = 25;

/// The body of one message split by role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Split {
    pub new: String,
    pub quoted: String,
    pub signature: String,
    /// Original sender of a bare forward (the forwarded message's author).
    pub forwarded_from: Option<String>,
}

/// Line-level markers, compiled once. Each is anchored and matched against one trimmed line
/// with leading `*` (plain-text bold) removed, so the whole scan is linear.
static REPLY_SEP: Re = LazyLock::new(|| {
    re(
        r"(?i)^-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|messaggio originale|mensaje original|oorspronkelijk bericht|origineel bericht|mensagem original)\s*-{2,}$",
    )
});
static FWD_SEP: Re = LazyLock::new(|| {
    re(
        r"(?i)^(-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|original-nachricht|messaggio inoltrato|mensaje reenviado|doorgestuurd bericht|mensagem encaminhada|mensagem reencaminhada)\s*-{2,}|begin forwarded message:?|anfang der weitergeleiteten nachricht:?|début du message réexpédié\s*:?|inizio messaggio inoltrato:?|comienzo del mensaje reenviado:?|begin doorgestuurd bericht:?|início da mensagem reencaminhada:?|mensagem encaminhada:?)$",
    )
});
/// The verbs that end an attribution, in EN, DE, FR, IT, ES, NL and PT (Gmail, Apple Mail,
/// Outlook for Mac, Thunderbird), with what may follow them before the colon.
const WROTE_VERBS: &str = r"(wrote|schrieb(?-u:\b).*|a écrit|ha scritto|escribió|schreef(?-u:\b).*|het volgende geschreven|escreveu(\s*\(.*\))?)";
/// "On <date>, <name> wrote:" / "Am <date> um <time> schrieb <name>:" / "Le ... a écrit :" /
/// "Il giorno ... ha scritto:" / "El ... escribió:" / "Op ... schreef ...:" / "Em ... escreveu:".
static ATTRIBUTION: Re =
    LazyLock::new(|| re(&format!(r"(?i)^({ATTR_START})\s.{{4,}}{WROTE_VERBS}\s?:$")));
/// Words an attribution starts with: on, am, le, il (giorno), el, op, em, a (PT: "A 10/11/2026
/// às 09:12, ... escreveu:").
const ATTR_START: &str = "on|am|le|il giorno|il|el|op|em|a";
/// First line of an attribution that a client wrapped over two or three lines.
static ATTRIBUTION_START: Re = LazyLock::new(|| re(&format!(r"(?i)^({ATTR_START})\s.{{4,}}$")));
/// "<name> wrote:" without a date; only counted when `>` lines follow. Also "<name> schrieb
/// am <date>:" (Thunderbird, Gmail on phones) and "<name> escreveu (<date>):".
static WROTE: Re = LazyLock::new(|| re(&format!(r"(?i)^.{{1,200}}(?-u:\b){WROTE_VERBS}\s?:$")));
/// "<name> schrieb am <date>:", "<name> wrote on <date>:": an attribution with a date.
static WROTE_ON: Re = LazyLock::new(|| {
    // Ends with the time of the quoted mail, so "As I wrote on Monday, our IPs are:" is not
    // taken for one.
    re(
        r"(?i)^.{1,200}(?-u:\b)((wrote on|schrieb am|a écrit le|ha scritto il|escribió el|schreef op|escreveu em|escreveu no dia)\s|escreveu\s*\()\s*.{0,80}\d{1,2}[:.h]\d{2}(\s*(am|pm|uhr))?\)?\s?:$",
    )
});
/// Header lines of a quoted/forwarded message block (Outlook in EN, DE, FR, IT, ES, NL, PT).
static HDR_FROM: Re = LazyLock::new(|| re(r"(?i)^(from|von|de|da|van)\s?:\s*\S"));
static HDR_SENT: Re = LazyLock::new(|| {
    re(
        r"(?i)^(sent|gesendet|envoyé|inviato|enviado( el| em)?|enviada( em)?|verzonden|date|datum|data|fecha)\s?:",
    )
});
static HDR_OTHER: Re = LazyLock::new(|| {
    re(r"(?i)^(to|an|à|a|para|aan|subject|betreff|objet|oggetto|asunto|onderwerp|assunto|cc)\s?:")
});
static HDR_ANY: Re = LazyLock::new(|| {
    re(
        r"(?i)^(from|von|de|da|van|sent|gesendet|envoyé|inviato|enviado( el| em)?|enviada( em)?|verzonden|date|datum|data|fecha|to|an|à|a|para|aan|subject|betreff|objet|oggetto|asunto|onderwerp|assunto|cc|ccn|bcc|reply-to|antwort an|répondre à|rispondi a|responder a|importance|wichtigkeit|priorität|priorità|importancia|urgentie|prioridade)\s?:",
    )
});
static FWD_SUBJECT: Re = LazyLock::new(|| {
    re(
        r"(?i)^\s*((re|aw|antw|r|rif|ref|res|rv)\s*:\s*)*(fw|fwd|wg|wtr|tr|weiterleitung|i|inoltro|rv|enc|doorst)\s*:",
    )
});
static EMAIL: Re =
    LazyLock::new(|| re(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
/// Closing phrases; a name may follow on the same line except after thanks-like phrases.
static CLOSING: Re = LazyLock::new(|| {
    re(r"(?ix)^(
        (best|kind|warm|warmest|many)\s+regards|regards|best\s+wishes|all\s+the\s+best|best|
        cheers|br|(yours\s+)?sincerely|yours\s+truly|
        thanks\s+(and|&)\s+(best\s+|kind\s+)?regards|
        ((en|liebi|liebe|viele|e\s+liebe)\s+)?gr(ü|ue|u)ess(li|e)?|mit\s+(den\s+)?(besten|freundlichen)\s+gr(ü|ue|u)(ß|ss)en|
        (freundliche|beste|viele|liebe|herzliche|schöne|sonnige)\s+gr(ü|ue|u)(ß|ss)e|
        gru(ß|ss)|gr(ü|ue|u)(ß|ss)e|mfg|lg|vg|cordialement|meilleures\s+salutations|
        salutations|freundlichst
    )\s*[,.!]*(\s*,?\s+[\p{L}.'/-]+){0,4}\s*$|^(
        thanks|thank\s+you|many\s+thanks|thanks\s+a\s+lot|thanks\s+in\s+advance|
        vielen\s+dank|besten\s+dank|herzlichen\s+dank|danke|merci|merci\s+beaucoup
    )\s*[,.!]*\s*$")
});
/// Mobile client footers, a signature wherever they stand.
static MOBILE: Re = LazyLock::new(|| {
    re(
        r"(?i)^(sent from my(?-u:\b)|von meinem \S+.* gesendet|gesendet von meinem(?-u:\b)|get outlook for(?-u:\b)|envoyé de mon(?-u:\b))",
    )
});
/// Mobile footers and disclaimers in one pattern, so each line costs one match.
static SIG_START: Re = LazyLock::new(|| {
    let m = MOBILE.as_ref().map(Regex::as_str).unwrap_or("");
    let d = DISCLAIMER.as_ref().map(Regex::as_str).unwrap_or("");
    re(&format!("(?:{m})|(?:{d})"))
});
static DISCLAIMER: Re = LazyLock::new(|| {
    re(
        r"(?i)^(confidentiality notice|notice of confidentiality|disclaimer\s*:|important notice\s*:|legal notice\s*:|this e-?mail and any (attachments|files)|this (e-?mail|message|communication) (is|may contain|contains|and any)(?-u:\b).*(confidential|privileged|intended)|the information (contained )?in this (e-?mail|message)|(diese|dieses) (e-?mail|nachricht|mail) (enthält|ist|kann) (möglicherweise )?vertrauliche|vertraulichkeitshinweis|haftungsausschluss|ce (message|courriel|e-mail) (et|est|peut))",
    )
});
static GREETING: Re = LazyLock::new(|| {
    re(
        r"(?i)^(hi|hello|hey|dear|hallo|hoi|salü|guten\s+(tag|morgen|abend)|grüezi|gruezi|grüss\s+gott|liebe[rs]?|sehr\s+geehrte[rs]?|bonjour|salut|moin|servus|good\s+(morning|afternoon|evening))([\s,.!:;]|$)",
    )
});
/// Phrases a forwarder adds without content of their own.
static FILLER: Re = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(fyi|fyr|f\.y\.i\.?|for your (information|reference)|see (below|the (request|mail|email|message) below)|please see (the )?(request |mail |email |message )?below|below|zur (info|kenntnis)|siehe unten|s\. unten|weitergeleitet|forwarding|forwarded|as discussed|wie besprochen|see attached)(?-u:\b)",
    )
});

/// A line pattern; `None` only if the constant pattern were invalid (a test checks they all
/// compile), in which case it never matches instead of panicking.
type Re = LazyLock<Option<Regex>>;

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn is(r: &Re, s: &str) -> bool {
    r.as_ref().is_some_and(|r| r.is_match(s))
}

/// Normalises text: CRLF/CR → LF, NBSP and other fixed spaces → space, invisible characters
/// and control characters dropped, trailing whitespace stripped, at most one blank line in a
/// row, no blank lines at either end.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut line = String::new();
    let mut blank_run = 0usize;
    let flush = |line: &str, out: &mut String, blank_run: &mut usize| {
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            *blank_run += 1;
        } else {
            if !out.is_empty() {
                out.push('\n');
                if *blank_run > 0 {
                    out.push('\n');
                }
            }
            out.push_str(trimmed);
            *blank_run = 0;
        }
    };
    let mut rest = s;
    loop {
        // A line ends at `\n`, `\r\n` or a lone `\r`. One scan finds the end and tells
        // whether the line is plain (printable ASCII and tabs), skipping eight bytes at a
        // time where they are printable ASCII.
        let bytes = rest.as_bytes();
        let mut end = 0usize;
        let mut plain = true;
        let line_end = 'scan: loop {
            if word_at(bytes, end).is_some_and(all_printable_ascii) {
                end += 8;
                continue;
            }
            // The next eight bytes one by one (retrying the word test at every byte would
            // test the same odd byte eight times).
            for _ in 0..8 {
                match bytes.get(end) {
                    None => break 'scan None,
                    Some(b'\r' | b'\n') => break 'scan Some(end),
                    Some(b'\t' | 0x20..=0x7e) => {}
                    Some(_) => plain = false,
                }
                end += 1;
            }
        };
        let (raw, next) = match line_end {
            Some(i) => {
                let skip = if rest.as_bytes().get(i..i + 2) == Some(b"\r\n") {
                    2
                } else {
                    1
                };
                (
                    rest.get(..i).unwrap_or(""),
                    Some(rest.get(i + skip..).unwrap_or("")),
                )
            }
            None => (rest, None),
        };
        // Most lines are printable ASCII and are kept as they are.
        if plain {
            flush(raw, &mut out, &mut blank_run);
        } else {
            line.clear();
            let mut overridden = false;
            for c in raw.chars() {
                match c {
                    // Text under a bidi override is shown reversed ("1.2.3.4" reads
                    // "4.3.2.1"): what a reader sees is not what the characters say, so it
                    // is left out up to the end of the override or of the line.
                    '\u{202d}' | '\u{202e}' => overridden = true,
                    '\u{202c}' => overridden = false,
                    _ if overridden => {}
                    '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => {
                        line.push(' ')
                    }
                    '\t' => line.push('\t'),
                    c if c.is_control() || invisible(c) => {}
                    c => line.push(c),
                }
            }
            flush(&line, &mut out, &mut blank_run);
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    out
}

/// Characters that take no room on screen (zero-width spaces and joiners, soft hyphen,
/// word joiner, BOM, bidi marks and embeddings, invisible operators, variation selectors,
/// tag characters): they are dropped, so a word split by one reads as the word a person sees.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202c}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e007f}'
            | '\u{e0100}'..='\u{e01ef}'
    )
}

/// Removes `*` bold markers and spaces at the start so markers match plain-text bold too.
fn key(line: &str) -> &str {
    // Most lines start and end with a printable ASCII character other than `*`: nothing
    // to trim (a non-ASCII end byte may belong to Unicode whitespace, so it takes the
    // general path). Lines are keyed several times each, so this pays.
    if let (Some(&first), Some(&last)) = (line.as_bytes().first(), line.as_bytes().last())
        && first.is_ascii_graphic()
        && first != b'*'
        && last.is_ascii_graphic()
    {
        return line;
    }
    line.trim().trim_start_matches('*').trim_start()
}

/// A `>` quote line: `>` followed by a space, another `>` or nothing (so a line starting
/// ">500 requests/s" is the sender's own text).
fn is_quote_line(line: &str) -> bool {
    line.trim_start()
        .strip_prefix('>')
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '>', '\t']))
}

/// An Outlook-style header block starting at `i`: a From line, then within the next lines a
/// Sent/Date line and a To/Subject line.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let Some(first) = lines.get(i) else {
        return false;
    };
    let k = key(first);
    // Cheap test first: "From:", "Von:", "De :" have their colon within the first bytes.
    if !k.bytes().take(8).any(|b| b == b':') || !is(&HDR_FROM, k) {
        return false;
    }
    let window = lines.iter().skip(i + 1).take(6).map(|l| key(l));
    let (mut sent, mut other) = (false, false);
    for l in window {
        sent |= is(&HDR_SENT, l);
        other |= is(&HDR_OTHER, l);
    }
    sent && other
}

/// Length in lines of an attribution ("On … wrote:") starting at `i`, if any.
fn attribution_at(lines: &[&str], i: usize) -> Option<usize> {
    let l = key(lines.get(i)?);
    let first = l.split(' ').next().unwrap_or("");
    let starts = ["on", "am", "le", "il", "el", "op", "em", "a"]
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w));
    if l.len() > 400 {
        return None;
    }
    if starts && is(&ATTRIBUTION, l) {
        return Some(1);
    }
    if l.ends_with(':') && is(&WROTE_ON, l) {
        return Some(1);
    }
    // Wrapped over two or three lines (Gmail wraps plain text at 76 characters, often in
    // the middle of the name or address): the joined lines make one attribution. Only
    // tried when one of the next two lines ends with a colon, so most lines cost nothing.
    if !l.ends_with(':') && l.len() <= 200 {
        // The next two lines, keyed (on the stack: this runs for most lines).
        let mut two = [""; 2];
        let mut n = 0usize;
        for (slot, x) in two.iter_mut().zip(lines.iter().skip(i + 1)) {
            *slot = key(x);
            n += 1;
        }
        let next = two.get(..n).unwrap_or_default();
        let end = next
            .iter()
            .take_while(|n| !n.is_empty() && n.len() <= 200)
            .position(|n| n.ends_with(':'));
        if let Some(end) = end {
            let mut joined = l.to_string();
            for n in next.iter().take(end + 1) {
                joined.push(' ');
                joined.push_str(n);
            }
            if (starts && is(&ATTRIBUTION_START, l) && is(&ATTRIBUTION, &joined))
                || is(&WROTE_ON, &joined)
            {
                return Some(end + 2);
            }
        }
    }
    if l.ends_with(':') && is(&WROTE, l) && next_nonempty(lines, i + 1).is_some_and(is_quote_line) {
        return Some(1);
    }
    None
}

fn next_nonempty<'a>(lines: &[&'a str], from: usize) -> Option<&'a str> {
    lines
        .iter()
        .skip(from)
        .find(|l| !l.trim().is_empty())
        .copied()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Reply,
    Forward,
}

/// Splits normalised `text` of a message with `subject`.
pub(crate) fn split(text: &str, subject: &str) -> Split {
    split_at_depth(text, subject, 0)
}

/// Splits the normalised text of a text attachment. Forwarded mail inside it is never
/// unpacked as new text: everything from a reply or forward marker on is quoted.
pub(crate) fn split_attachment(text: &str) -> Split {
    split_at_depth(text, "", MAX_FORWARD_DEPTH)
}

fn split_at_depth(text: &str, subject: &str, depth: usize) -> Split {
    let lines: Vec<&str> = text.lines().collect();
    let fwd_subject = is(&FWD_SUBJECT, subject);
    let mut own: Vec<&str> = Vec::new();
    let mut quoted: Vec<&str> = Vec::new();
    let mut marker: Option<(usize, Marker)> = None;
    let mut i = 0usize;
    while i < lines.len() {
        let line = lines.get(i).copied().unwrap_or("");
        if is_quote_line(line) {
            quoted.push(line);
            i += 1;
            continue;
        }
        let k = key(line);
        if k.is_empty() {
            own.push(line);
            i += 1;
            continue;
        }
        let first = k.as_bytes().first().map_or(0, u8::to_ascii_lowercase);
        // Separators start with `-` or a letter of "Anfang", "Begin", "Début", "Inizio",
        // "Início", "Comienzo", "Mensagem" (non-ASCII first letters go to the pattern).
        let may_sep = first == b'-'
            || (k.len() < 80
                && (matches!(first, b'a' | b'b' | b'd' | b'i' | b'c' | b'm') || first >= 0x80));
        if may_sep && is(&FWD_SEP, k) {
            marker = Some((i, Marker::Forward));
            break;
        }
        if (first == b'-' && is(&REPLY_SEP, k)) || header_block_at(&lines, i) {
            let kind = if fwd_subject {
                Marker::Forward
            } else {
                Marker::Reply
            };
            marker = Some((i, kind));
            break;
        }
        if let Some(n) = attribution_at(&lines, i) {
            if next_nonempty(&lines, i + n).is_some_and(is_quote_line) {
                // Attribution of a `>` block: the block is quoted line by line, text after
                // it (bottom-posting, inline answers) stays new.
                quoted.extend(lines.iter().skip(i).take(n));
                i += n;
                continue;
            }
            marker = Some((i, Marker::Reply));
            break;
        }
        own.push(line);
        i += 1;
    }

    // Separator lines right above a marker (Outlook's "____", "-----") belong to it.
    let mut separators: Vec<&str> = Vec::new();
    if marker.is_some() {
        while let Some(last) = own.last() {
            let t = last.trim();
            if t.is_empty() {
                own.pop();
            } else if t.len() >= 5 && t.chars().all(|c| matches!(c, '_' | '-' | '=' | '*')) {
                separators.insert(0, last);
                own.pop();
            } else {
                break;
            }
        }
    }
    let (body, signature) = cut_signature(&own);
    let mut out = Split {
        // Removing `>` lines can leave blank lines next to each other.
        new: normalize(&body.join("\n")),
        signature: normalize(&signature.join("\n")),
        ..Split::default()
    };
    let rest: Vec<&str> = marker
        .map(|(m, _)| {
            separators
                .iter()
                .chain(lines.iter().skip(m))
                .copied()
                .collect()
        })
        .unwrap_or_default();

    match marker {
        Some((m, Marker::Forward)) if depth < MAX_FORWARD_DEPTH && is_bare(&out.new) => {
            let (header, fwd_body, from) = forwarded_parts(&lines, m);
            let inner_subject = header
                .iter()
                .find_map(|l| {
                    let k = key(l);
                    let (name, value) = k.split_once(':')?;
                    let name = name.trim().to_lowercase();
                    matches!(name.as_str(), "subject" | "betreff" | "objet").then_some(value)
                })
                .unwrap_or("");
            let inner = split_at_depth(&fwd_body.join("\n"), inner_subject.trim(), depth + 1);
            let mut q = vec![out.new.clone()];
            if inner.signature.is_empty() {
                out.signature = std::mem::take(&mut out.signature);
            } else {
                q.push(std::mem::take(&mut out.signature));
                out.signature = inner.signature;
            }
            q.push(quoted.join("\n"));
            q.push(header.join("\n"));
            q.push(inner.quoted);
            out.quoted = join_blocks(q.iter().map(String::as_str));
            out.new = inner.new;
            out.forwarded_from = inner.forwarded_from.or(from);
        }
        _ => {
            out.quoted = join_blocks([quoted.join("\n").as_str(), rest.join("\n").as_str()]);
        }
    }
    out
}

/// Joins non-empty blocks with a blank line between them.
pub(crate) fn join_blocks<'a>(blocks: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for b in blocks {
        let b = b.trim_matches('\n');
        if b.trim().is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(b);
    }
    out
}

/// Header lines and body of a forwarded message starting at marker line `m`, plus the
/// original sender's address from its From line.
fn forwarded_parts<'a>(
    lines: &[&'a str],
    m: usize,
) -> (Vec<&'a str>, Vec<&'a str>, Option<String>) {
    let mut i = m;
    let mut header = Vec::new();
    if let Some(first) = lines.get(m)
        && !is(&HDR_ANY, key(first))
    {
        // The separator line itself.
        header.push(*first);
        i += 1;
    }
    // Blank lines between separator and header block.
    while lines.get(i).is_some_and(|l| l.trim().is_empty()) && header.len() < 4 {
        i += 1;
    }
    let mut from = None;
    let mut last_was_header = false;
    while let Some(l) = lines.get(i) {
        let k = key(l);
        if is(&HDR_ANY, k) {
            if from.is_none() && is(&HDR_FROM, k) {
                from = EMAIL
                    .as_ref()
                    .and_then(|r| r.find(k))
                    .map(|e| e.as_str().to_lowercase());
            }
            last_was_header = true;
        } else if last_was_header && k.contains('@') && !k.contains(':') && header.len() < 12 {
            // A wrapped To/Cc list continues on the next line; a body line follows directly
            // when the header block came from HTML, so only address lines count.
        } else {
            break;
        }
        header.push(*l);
        i += 1;
    }
    let body = lines.iter().skip(i).copied().collect();
    (header, body, from)
}

/// Whether a forwarder's own text (signature already removed) adds nothing: only a greeting
/// and filler like "FYI" / "see below", or fewer than `BARE_WORDS` words.
pub(crate) fn is_bare(own: &str) -> bool {
    let mut words = 0usize;
    for (n, line) in own.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let k = key(line);
        if n == 0 && is(&GREETING, k) && k.split_whitespace().count() <= 6 {
            continue;
        }
        let rest = match FILLER.as_ref() {
            Some(r) => r.replace_all(k, " ").into_owned(),
            None => k.to_string(),
        };
        words += rest
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
    }
    words < BARE_WORDS
}

/// Cheap test before [`SIG_START`], which runs on every own line: its alternatives are
/// anchored and start with one of these letters (either case). A non-ASCII first byte
/// always goes to the regex, as Unicode case folding maps a few non-ASCII letters to ASCII
/// ones (`ſ` is an `s`).
fn may_start_signature(k: &str) -> bool {
    k.as_bytes().first().is_some_and(|&b| {
        !b.is_ascii()
            || matches!(
                b.to_ascii_lowercase(),
                b's' | b'v' | b'g' | b'e' | b'c' | b'n' | b'd' | b'i' | b'l' | b't' | b'h'
            )
    })
}

/// Splits own lines into body and signature (closing phrase, `-- `, mobile footer or legal
/// disclaimer, whichever comes first among those that qualify).
pub(crate) fn cut_signature<'a>(lines: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let first_content = lines.iter().position(|l| !l.trim().is_empty());
    let Some(first_content) = first_content else {
        return (Vec::new(), Vec::new());
    };
    let mut hard_cut: Option<usize> = None;
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_end();
        let k = key(l);
        if t == "--"
            || t == "-- "
            || (may_start_signature(k)
                && is(&SIG_START, k)
                && (i > first_content || is(&MOBILE, k)))
        {
            hard_cut = Some(i);
            break;
        }
    }
    let limit = hard_cut.unwrap_or(lines.len());
    // Closing phrase: not the first line of content, and only a short block after it.
    let mut closing: Option<usize> = None;
    let mut nonempty_after = 0usize;
    for i in (first_content + 1..limit).rev() {
        let l = lines.get(i).copied().unwrap_or("");
        let k = key(l);
        if k.is_empty() {
            continue;
        }
        if k.len() <= 80 && k.split_whitespace().count() <= 7 && is(&CLOSING, k) {
            closing = Some(i);
        }
        nonempty_after += 1;
        if nonempty_after > MAX_SIGNATURE_LINES {
            break;
        }
    }
    let cut = closing.unwrap_or(limit).min(limit);
    let mut body: Vec<&str> = lines.iter().take(cut).copied().collect();
    let mut sig: Vec<&str> = lines.iter().skip(cut).copied().collect();
    // A postscript after the sign-off ("PS: the test is cancelled", "Nachtrag: …", a second
    // inline part starting "Update: …") is something the sender wrote now, not part of the
    // signature: from it on, the lines are new text again.
    if let Some(ps) = sig.iter().position(|l| is_postscript(key(l))) {
        body.extend(sig.drain(ps..));
    }
    (body, sig)
}

/// A line that starts a postscript: `PS`, `P.S.`, `PPS`, `P.P.S.`, `Nachtrag`, `Addendum`,
/// `Update`, `Edit`, `N.B.`, followed by `:` `.` `-` a space or the end.
fn is_postscript(k: &str) -> bool {
    // The first twelve characters, lowercased; for an ASCII start (almost every line) in a
    // buffer on the stack rather than a `String` built char by char.
    let mut small = [0u8; 12];
    let owned: String;
    let lower: &str = match k.get(..k.len().min(12)).filter(|h| h.is_ascii()) {
        Some(head) => {
            for (d, s) in small.iter_mut().zip(head.bytes()) {
                *d = s.to_ascii_lowercase();
            }
            std::str::from_utf8(small.get(..head.len()).unwrap_or_default()).unwrap_or("")
        }
        None => {
            owned = k.chars().take(12).flat_map(char::to_lowercase).collect();
            &owned
        }
    };
    let rest = [
        "p.p.s.", "p.p.s", "pps", "p.s.", "p. s.", "p.s", "ps", "nachtrag", "addendum", "update",
        "edit", "n.b.", "nb",
    ]
    .iter()
    .find_map(|m| lower.strip_prefix(m));
    rest.is_some_and(|r| {
        r.is_empty() || r.starts_with([':', '.', '-', ' ', ',', '\u{a0}', '\u{2013}'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_compile() {
        for r in [
            &REPLY_SEP,
            &FWD_SEP,
            &ATTRIBUTION,
            &ATTRIBUTION_START,
            &WROTE,
            &WROTE_ON,
            &HDR_FROM,
            &HDR_SENT,
            &HDR_OTHER,
            &HDR_ANY,
            &FWD_SUBJECT,
            &EMAIL,
            &CLOSING,
            &MOBILE,
            &DISCLAIMER,
            &GREETING,
            &FILLER,
        ] {
            let r = r.as_ref().expect("pattern compiles");
            assert!(
                !r.is_match("\u{0}zzz-never-matches-anything-zzz\u{0}"),
                "{}",
                r.as_str()
            );
        }
    }

    /// The first-letter test before `SIG_START` lets every footer and disclaimer through.
    #[test]
    fn signature_prefilter_keeps_every_footer() {
        for line in [
            "Sent from my iPhone",
            "Von meinem iPhone gesendet",
            "Gesendet von meinem Galaxy",
            "Get Outlook for iOS",
            "Envoyé de mon iPhone",
            "CONFIDENTIALITY NOTICE: this message",
            "Notice of confidentiality",
            "Disclaimer: none",
            "Important notice: x",
            "Legal notice: y",
            "This e-mail and any attachments are confidential",
            "This message is confidential",
            "The information in this email is private",
            "Diese E-Mail enthält vertrauliche Informationen",
            "Dieses Mail ist vertrauliche",
            "Vertraulichkeitshinweis",
            "Haftungsausschluss",
            "Ce message et ses pièces jointes",
            "ſent from my phone",
        ] {
            let k = key(line);
            assert!(is(&SIG_START, k) || line.starts_with('ſ'), "{line}");
            assert!(may_start_signature(k), "{line}");
        }
        assert!(!may_start_signature("Best regards"));
        assert!(!may_start_signature(""));
    }

    /// No line the prefilter turns away could have matched: every alternative of the
    /// pattern starts with one of its letters.
    #[test]
    fn signature_prefilter_matches_the_pattern_alternatives() {
        for b in 0u8..0x80 {
            let c = char::from(b);
            for rest in [
                "ent from my x",
                "on meinem x y gesendet",
                "esendet von meinem x",
                "et outlook for x",
                "nvoyé de mon x",
                "onfidentiality notice",
                "otice of confidentiality",
                "isclaimer:",
                "mportant notice:",
                "egal notice:",
                "his email and any files",
                "he information in this email",
                "iese email enthält vertrauliche",
                "ertraulichkeitshinweis",
                "aftungsausschluss",
                "e message et",
            ] {
                let line = format!("{c}{rest}");
                if is(&SIG_START, &line) {
                    assert!(may_start_signature(&line), "{line}");
                }
            }
        }
    }

    /// A postscript after the sign-off is new text (red-team 072-078): an extra target, an
    /// earlier start or a cancellation written there must be read.
    #[test]
    fn a_postscript_after_the_signature_is_new_text() {
        let lines = [
            "We plan a pen test of shop.example.ch.",
            "",
            "Best regards",
            "Lukas Meier",
            "Example AG",
            "",
            "PS: please add ebanking.victim-bank.ch to the scope as well.",
        ];
        let (body, sig) = cut_signature(&lines);
        assert!(body.contains(&"PS: please add ebanking.victim-bank.ch to the scope as well."));
        assert_eq!(sig, ["Best regards", "Lukas Meier", "Example AG", ""]);
        for ps in [
            "P.S. Sorry",
            "Nachtrag: zusätzlich",
            "Update: cancelled",
            "PPS",
            "p.s.: x",
        ] {
            assert!(is_postscript(ps), "{ps}");
        }
        for not in [
            "Pseudo code",
            "Psychology",
            "Editor",
            "Updated regularly",
            "Nbsp",
            "Peter",
        ] {
            assert!(!is_postscript(not), "{not}");
        }
    }

    #[test]
    fn key_strips_spaces_and_bold_markers() {
        for (line, k) in [
            ("From: a", "From: a"),
            ("  From: a  ", "From: a"),
            ("**From:** a", "From:** a"),
            ("* * From: a", "* From: a"),
            ("From: a\u{3000}", "From: a"),
            ("\u{a0}From: a", "From: a"),
            ("*", ""),
            ("", ""),
            ("x", "x"),
        ] {
            assert_eq!(key(line), k, "{line:?}");
            assert_eq!(key(line), line.trim().trim_start_matches('*').trim_start());
        }
    }

    #[test]
    fn normalize_whitespace_and_blank_lines() {
        assert_eq!(
            normalize("\r\n a\u{a0}b  \r\n\r\n\r\n\tc\u{200b}\r\rd\x07\n\n"),
            " a b\n\n\tc\n\nd"
        );
    }

    #[test]
    fn english_reply_with_signature() {
        let t = "Hi team,\n\nWe plan a load test on 1 Dec.\nThanks for your help with the following:\n- scope\n\nBest regards,\nJane Doe\nACME AG\n+41 44 123 45 67\n\nOn Tue, 10 Nov 2026 at 09:12, Support <support@example.com> wrote:\n> Please send details.\n> Thanks";
        let s = split(t, "Re: Load test");
        assert_eq!(
            s.new,
            "Hi team,\n\nWe plan a load test on 1 Dec.\nThanks for your help with the following:\n- scope"
        );
        assert_eq!(
            s.signature,
            "Best regards,\nJane Doe\nACME AG\n+41 44 123 45 67"
        );
        assert!(s.quoted.starts_with("On Tue, 10 Nov 2026"));
        assert!(s.quoted.contains("> Please send details."));
        assert_eq!(s.forwarded_from, None);
    }

    #[test]
    fn gmail_two_line_attribution_and_german() {
        let t = "Here are the IPs: 1.2.3.4\n\nOn Tue, 10 Nov 2026 at 09:12, Support Team <\nsupport@example.com> wrote:\n\nold text";
        let s = split(t, "Re: x");
        assert_eq!(s.new, "Here are the IPs: 1.2.3.4");
        assert!(s.quoted.starts_with("On Tue"));
        assert!(s.quoted.ends_with("old text"));

        let t = "Die IPs sind 5.6.7.8.\n\nFreundliche Grüsse\nHans Muster\n\nAm 12.11.2026 um 10:00 schrieb Support <support@example.com>:\nBitte IPs senden.";
        let s = split(t, "AW: Test");
        assert_eq!(s.new, "Die IPs sind 5.6.7.8.");
        assert_eq!(s.signature, "Freundliche Grüsse\nHans Muster");
        assert!(s.quoted.starts_with("Am 12.11.2026"));
    }

    #[test]
    fn outlook_blocks_and_original_message() {
        let t = "Start is 1.12.2026.\n\nVon: Support <support@example.com>\nGesendet: Montag, 9. November 2026 08:00\nAn: Hans\nBetreff: Test\n\nAlt";
        let s = split(t, "AW: Test");
        assert_eq!(s.new, "Start is 1.12.2026.");
        assert!(s.quoted.starts_with("Von: Support"));

        let t = "New.\n-----Original Message-----\nFrom: a@b.ch\nold";
        let s = split(t, "RE: x");
        assert_eq!(s.new, "New.");
        assert!(s.quoted.contains("old"));

        let t = "Neu.\n\n-----Ursprüngliche Nachricht-----\nVon: a@b.ch\nalt";
        assert_eq!(split(t, "x").new, "Neu.");

        let t = "Nouveau.\n\nDe : Support <s@x.ch>\nEnvoyé : lundi 9 novembre 2026 08:00\nÀ : Hans\nObjet : Test\n\nancien";
        assert_eq!(split(t, "RE: Test").new, "Nouveau.");
    }

    #[test]
    fn outlook_underscore_separator_goes_with_the_quote() {
        let t = "Start 1.12.\n\n________________________________\nFrom: Support <s@x.ch>\nSent: Monday\nTo: me\nSubject: x\n\nold";
        let s = split(t, "RE: x");
        assert_eq!(s.new, "Start 1.12.");
        assert!(
            s.quoted
                .starts_with("________________________________\nFrom: Support")
        );
    }

    #[test]
    fn bottom_posting_keeps_answer_new() {
        let t = "On Mon, Nov 9, 2026, Support wrote:\n> Which IPs?\n\nOur IPs are 10.0.0.1 and 10.0.0.2.\n\nCheers\nBob";
        let s = split(t, "Re: x");
        assert_eq!(s.new, "Our IPs are 10.0.0.1 and 10.0.0.2.");
        assert_eq!(s.signature, "Cheers\nBob");
        assert_eq!(
            s.quoted,
            "On Mon, Nov 9, 2026, Support wrote:\n> Which IPs?"
        );
    }

    #[test]
    fn bare_forward_exposes_forwarded_body() {
        let t = "FYI, please see the request below.\n\nThanks,\nPeter\n\n---------- Forwarded message ---------\nFrom: Jane Doe <Jane.Doe@Customer.ch>\nDate: Mon, 9 Nov 2026 at 10:00\nSubject: Load test\nTo: Peter <peter@agency.ch>\n\nHello,\n\nwe want to load test www.customer.ch on 1.12.2026 from 09:00 to 11:00.\n\nBest regards\nJane Doe\n+41 79 000 00 00\n\nOn Fri, 6 Nov 2026, Bob wrote:\n> old";
        let s = split(t, "Fwd: Load test");
        assert_eq!(
            s.new,
            "Hello,\n\nwe want to load test www.customer.ch on 1.12.2026 from 09:00 to 11:00."
        );
        assert_eq!(s.signature, "Best regards\nJane Doe\n+41 79 000 00 00");
        assert_eq!(s.forwarded_from.as_deref(), Some("jane.doe@customer.ch"));
        assert!(s.quoted.contains("FYI, please see the request below."));
        assert!(s.quoted.contains("Thanks,\nPeter"));
        assert!(s.quoted.contains("> old"));
        assert!(!s.quoted.contains("we want to load test"));
    }

    #[test]
    fn forward_with_own_text_keeps_own_text() {
        let own = "We would like to run a penetration test against our staging site next month. Scope is the web application only, the originating IP is 203.0.113.7 and the contact is me.";
        let t = format!(
            "{own}\n\n-------- Weitergeleitete Nachricht --------\nBetreff: alt\nDatum: Mon, 9 Nov 2026\nVon: X <x@y.ch>\nAn: z@y.ch\n\nAlter Text"
        );
        let s = split(&t, "WG: alt");
        assert_eq!(s.new, own);
        assert!(s.quoted.contains("Alter Text"));
        assert_eq!(s.forwarded_from, None);
    }

    #[test]
    fn outlook_forward_under_fw_subject() {
        let t = "zur Info\n\nFrom: Jane <jane@customer.ch>\nSent: Monday, November 9, 2026 10:00 AM\nTo: Peter\nSubject: Pentest\n\nWe start the pentest on 2026-12-01.\n\nKind regards\nJane";
        let s = split(t, "FW: Pentest");
        assert_eq!(s.new, "We start the pentest on 2026-12-01.");
        assert_eq!(s.signature, "Kind regards\nJane");
        assert_eq!(s.forwarded_from.as_deref(), Some("jane@customer.ch"));
        // The same block under a reply subject is just quoted.
        let s = split(t, "RE: Pentest");
        assert_eq!(s.new, "zur Info");
        assert_eq!(s.forwarded_from, None);
    }

    #[test]
    fn signature_delimiter_mobile_and_disclaimer() {
        let s = split("Text here.\n-- \nJohn\n+1 555", "x");
        assert_eq!(
            (s.new.as_str(), s.signature.as_str()),
            ("Text here.", "--\nJohn\n+1 555")
        );
        let s = split("Text here.\n\nSent from my iPhone", "x");
        assert_eq!(
            (s.new.as_str(), s.signature.as_str()),
            ("Text here.", "Sent from my iPhone")
        );
        let s = split(
            "Text.\n\nMit freundlichen Grüßen\nAnna\n\nCONFIDENTIALITY NOTICE: This e-mail is confidential.\nMore legal text.",
            "x",
        );
        assert_eq!(s.new, "Text.");
        assert!(s.signature.starts_with("Mit freundlichen Grüßen\nAnna"));
        assert!(s.signature.ends_with("More legal text."));
        let s = split(
            "Text.\n\nDiese E-Mail enthält vertrauliche Informationen.",
            "x",
        );
        assert_eq!(s.new, "Text.");
    }

    #[test]
    fn closing_phrases() {
        let closings = [
            "Best regards",
            "Kind regards,",
            "Regards",
            "Best",
            "Cheers!",
            "Thanks,",
            "Thank you,",
            "Thanks",
            "Mit freundlichen Grüssen",
            "Mit freundlichen Grüßen",
            "Freundliche Grüsse",
            "Beste Grüsse",
            "Viele Grüsse",
            "Liebe Grüsse",
            "Gruss",
            "MfG",
            "Gruss Peter",
            "Best regards, Jane Doe",
            "Kind regards / Freundliche Grüsse",
            "En Gruess",
            "Liebi Grüessli",
            "Thanks and best regards,",
            "Sincerely",
            "Herzliche Grüsse aus Bern",
        ];
        for c in closings {
            let s = split(&format!("We test on 1.12.\n\n{c}\nJane"), "x");
            assert_eq!(s.new, "We test on 1.12.", "{c}");
            assert_eq!(s.signature, format!("{c}\nJane"), "{c}");
        }
        for not in [
            "Thanks for your help with the following:",
            "Best time for the test would be the morning of the first day",
            "Regards the IPs: see below",
        ] {
            let s = split(&format!("We test on 1.12.\n{not}\nJane"), "x");
            assert_eq!(s.signature, "", "{not}");
        }
    }

    #[test]
    fn closing_mid_text_is_not_a_signature() {
        let mut t = String::from("Hello\nThanks\n");
        for i in 0..20 {
            t.push_str(&format!("detail line {i}\n"));
        }
        let s = split(&t, "x");
        assert!(s.new.contains("detail line 19"));
        assert!(s.signature.is_empty());
        // "Thanks" as the very first line is not a closing either.
        let s = split("Thanks!\nThe IPs are 1.2.3.4.", "x");
        assert_eq!(s.signature, "");
    }

    #[test]
    fn greater_than_numbers_are_not_quotes() {
        let s = split("Traffic:\n>500 requests/s\n>> old\n>\n> old", "x");
        assert_eq!(s.new, "Traffic:\n>500 requests/s");
        assert_eq!(s.quoted, ">> old\n>\n> old");
    }

    #[test]
    fn interleaved_quotes_go_to_quoted() {
        let s = split("> Which IPs?\n1.2.3.4\n> When?\nTomorrow", "Re: x");
        assert_eq!(s.new, "1.2.3.4\nTomorrow");
        assert_eq!(s.quoted, "> Which IPs?\n> When?");
    }

    #[test]
    fn bare_detection() {
        assert!(is_bare("Hi,\nFYI"));
        assert!(is_bare("Hallo zusammen\nzur Info, siehe unten."));
        assert!(is_bare(""));
        assert!(!is_bare(&"word ".repeat(30)));
    }

    /// Attributions of Gmail, Apple Mail, Outlook for Mac and Thunderbird in the seven
    /// languages customers write in, on one line and wrapped.
    #[test]
    fn attributions_in_seven_languages() {
        let attributions = [
            "On Tue, Nov 10, 2026 at 9:12 AM Support Team <support@example.com> wrote:",
            "On 10 Nov 2026, at 09:12, Support Team <support@example.com> wrote:",
            "On 11/10/26 9:12 AM, Support Team wrote:",
            "Support Team <support@example.com> wrote on Tue, 10 Nov 2026 09:12:",
            "Am Di., 10. Nov. 2026 um 09:12 Uhr schrieb Support Team <support@example.com>:",
            "Am 10.11.2026 um 09:12 schrieb Support Team <support@example.com>:",
            "Support Team <support@example.com> schrieb am Di., 10. Nov. 2026, 09:12:",
            "Le mar. 10 nov. 2026 à 09:12, Support Team <support@example.com> a écrit :",
            "Le 10 nov. 2026 à 09:12, Support Team <support@example.com> a écrit :",
            "Il giorno mar 10 nov 2026 alle ore 09:12 Support Team <support@example.com> ha scritto:",
            "Il 10/11/26 09:12, Support Team ha scritto:",
            "El mar, 10 nov 2026 a las 9:12, Support Team (<support@example.com>) escribió:",
            "El 10 nov 2026, a las 9:12, Support Team <support@example.com> escribió:",
            "Op di 10 nov 2026 om 09:12 schreef Support Team <support@example.com>:",
            "Op 10 nov. 2026 om 09:12 heeft Support Team <support@example.com> het volgende geschreven:",
            "Em ter., 10 de nov. de 2026 às 09:12, Support Team <support@example.com> escreveu:",
            "Em 10 de nov. de 2026, à(s) 09:12, Support Team <support@example.com> escreveu:",
            "A 10/11/2026 às 09:12, Support Team escreveu:",
            "Support Team <support@example.com> escreveu (terça, 10/11/2026 à(s) 09:12):",
        ];
        for a in attributions {
            let t = format!(
                "Our IPs are 192.0.2.10 and 192.0.2.11.\n\n{a}\n\nPlease send IPs 198.51.100.1."
            );
            let s = split(&t, "Re: Test");
            assert_eq!(s.new, "Our IPs are 192.0.2.10 and 192.0.2.11.", "{a}");
            assert!(s.quoted.contains("198.51.100.1"), "{a}");
            // Gmail wraps long attributions; so do narrow clients, over two or three lines.
            for cut in [a.len() / 3, a.len() / 2, 2 * a.len() / 3] {
                let Some(cut) =
                    (cut..a.len()).find(|&c| a.is_char_boundary(c) && a.get(c..c + 1) == Some(" "))
                else {
                    continue;
                };
                let (first, rest) = a.split_at(cut);
                let wrapped = format!(
                    "Our IPs are 192.0.2.10.\n\n{first}\n{}\n\nold 198.51.100.1",
                    rest.trim()
                );
                let s = split(&wrapped, "Re: Test");
                assert_eq!(s.new, "Our IPs are 192.0.2.10.", "{wrapped}");
            }
        }
        let three = "Neue IPs: 192.0.2.10\n\nAm Di., 10. Nov. 2026 um 09:12 Uhr schrieb\nSupport Team <\nsupport@example.com>:\n\nalt 198.51.100.1";
        assert_eq!(split(three, "AW: x").new, "Neue IPs: 192.0.2.10");
    }

    #[test]
    fn wrote_on_in_own_text_is_no_attribution() {
        for line in [
            "As I wrote on Monday, our source IPs are:",
            "Wie ich schrieb am Montag, die IPs sind:",
        ] {
            let s = split(&format!("Hello,\n{line}\n192.0.2.10\n192.0.2.11"), "Re: x");
            assert!(s.new.ends_with("192.0.2.11"), "{line}");
        }
    }

    /// Outlook's header blocks in each language, as HTML gives them and as Outlook's plain
    /// text gives them (`*From:*` in bold), and the "Original Message" separators.
    #[test]
    fn outlook_blocks_and_separators_in_seven_languages() {
        let blocks = [
            "From: Support <support@example.com>\nSent: Tuesday, November 10, 2026 9:12 AM\nTo: Jane <jane@customer.ch>\nSubject: Test",
            "*From:* Support <support@example.com>\n*Sent:* Tuesday, November 10, 2026 9:12 AM\n*To:* Jane\n*Subject:* Test",
            "Von: Support <support@example.com>\nGesendet: Dienstag, 10. November 2026 09:12\nAn: Jane\nBetreff: Test",
            "De : Support <support@example.com>\nEnvoyé : mardi 10 novembre 2026 09:12\nÀ : Jane\nObjet : Test",
            "Da: Support <support@example.com>\nInviato: martedì 10 novembre 2026 09:12\nA: Jane\nOggetto: Test",
            "De: Support <support@example.com>\nEnviado el: martes, 10 de noviembre de 2026 9:12\nPara: Jane\nAsunto: Test",
            "De: Support <support@example.com>\nEnviado: martes, 10 de noviembre de 2026 9:12\nPara: Jane\nAsunto: Test",
            "Van: Support <support@example.com>\nVerzonden: dinsdag 10 november 2026 09:12\nAan: Jane\nOnderwerp: Test",
            "De: Support <support@example.com>\nEnviada em: terça-feira, 10 de novembro de 2026 09:12\nPara: Jane\nAssunto: Test",
            "-----Original Message-----\nold",
            "-----Ursprüngliche Nachricht-----\nalt",
            "-------- Message d'origine --------\nancien",
            "----- Messaggio originale -----\nvecchio",
            "-----Mensaje original-----\nantiguo",
            "-----Oorspronkelijk bericht-----\noud",
            "-----Mensagem original-----\nantigo",
        ];
        for b in blocks {
            let t = format!("New IPs: 192.0.2.10\n\n{b}\n\nOld IPs: 198.51.100.1");
            // (Reply prefixes; "RV:" and "I:" are forwards in Spanish and Italian Outlook.)
            for subject in ["RE: Test", "AW: Test", "R: Test", "Res: Test", "Antw: Test"] {
                let s = split(&t, subject);
                assert_eq!(s.new, "New IPs: 192.0.2.10", "{b}");
                assert!(s.quoted.contains("198.51.100.1"), "{b}");
            }
        }
    }

    #[test]
    fn forward_separators_in_more_languages() {
        for sep in [
            "---------- Messaggio inoltrato ---------",
            "---------- Mensaje reenviado ---------",
            "---------- Doorgestuurd bericht ---------",
            "---------- Mensagem encaminhada ---------",
            "Inizio messaggio inoltrato:",
            "Comienzo del mensaje reenviado:",
            "Begin doorgestuurd bericht:",
            "Início da mensagem reencaminhada:",
        ] {
            let t = format!(
                "FYI\n\n{sep}\nFrom: Jane <jane@customer.ch>\nDate: 9 Nov 2026\nSubject: Pentest\nTo: Peter <p@agency.ch>\n\nWe test on 1.12.2026."
            );
            let s = split(&t, "Fwd: Pentest");
            assert_eq!(s.new, "We test on 1.12.2026.", "{sep}");
            assert_eq!(
                s.forwarded_from.as_deref(),
                Some("jane@customer.ch"),
                "{sep}"
            );
        }
    }

    #[test]
    fn attachment_with_a_quoted_thread_keeps_only_its_new_part() {
        let s = split_attachment(
            "Test plan\nSources: 192.0.2.10\n\nOn Tue, 10 Nov 2026, Bob wrote:\n> Sources: 198.51.100.1",
        );
        assert_eq!(s.new, "Test plan\nSources: 192.0.2.10");
        assert!(s.quoted.contains("198.51.100.1"));
        // An e-mail saved as text is an earlier mail as a whole.
        let s = split_attachment(
            "From: Bob <bob@x.ch>\nSent: Monday\nTo: Jane\nSubject: plan\n\nSources: 198.51.100.1",
        );
        assert_eq!(s.new, "");
        // A forward inside an attachment is not unpacked into new text.
        let s = split_attachment(
            "FYI\n\n---------- Forwarded message ---------\nFrom: a@b.ch\nDate: x\nSubject: y\n\nSources: 198.51.100.1",
        );
        assert_eq!(s.new, "FYI");
        assert!(s.quoted.contains("198.51.100.1"));
    }

    #[test]
    fn invisible_characters_and_bidi_overrides() {
        // Zero-width characters and soft hyphens split words for a program, not for a reader.
        assert_eq!(
            normalize("19\u{200b}2.0.\u{2060}2.1\u{ad}0 Last\u{200c}test\u{feff}\u{e0041}"),
            "192.0.2.10 Lasttest"
        );
        // Text under a bidi override reads reversed on screen: it is left out.
        assert_eq!(
            normalize("IP: \u{202e}01.2.0.291\u{202c} ok\nnext"),
            "IP:  ok\nnext"
        );
        assert_eq!(normalize("IP: \u{202d}x\nnext"), "IP:\nnext");
    }

    /// Many quote markers in a row: each line is looked at a bounded number of times, and
    /// the split is still exact.
    #[test]
    fn many_markers_split_exactly() {
        let mut t = String::from("New: 192.0.2.10\n");
        for i in 0..20_000 {
            t.push_str(&format!("On day {i}, Bob wrote:\n> old {i}\n"));
        }
        let s = split(&t, "Re: x");
        assert_eq!(s.new, "New: 192.0.2.10");
        assert_eq!(s.quoted.lines().count(), 40_000);
        // From lines without Sent and To are no header block; the last ones before them are.
        let t = "From: a\n".repeat(50_000) + "Sent: x\nTo: y\n";
        let s = split(&format!("New.\n{t}"), "RE: x");
        assert_eq!(s.new.lines().count(), 49_996);
        assert_eq!(s.quoted.lines().count(), 7);
        let long = format!("On {} wrote:\nnew", "x".repeat(1 << 20));
        assert!(split(&long, "x").new.ends_with("new"));
    }

    /// The former char-by-char normalisation, kept to check the line-wise one against.
    fn normalize_reference(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut line = String::new();
        let mut blank_run = 0usize;
        let mut chars = s.chars().peekable();
        let flush = |line: &mut String, out: &mut String, blank_run: &mut usize| {
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                *blank_run += 1;
            } else {
                if !out.is_empty() {
                    out.push('\n');
                    if *blank_run > 0 {
                        out.push('\n');
                    }
                }
                out.push_str(trimmed);
                *blank_run = 0;
            }
            line.clear();
        };
        let mut overridden = false;
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    flush(&mut line, &mut out, &mut blank_run);
                    overridden = false;
                }
                '\n' => {
                    flush(&mut line, &mut out, &mut blank_run);
                    overridden = false;
                }
                '\u{202d}' | '\u{202e}' => overridden = true,
                '\u{202c}' => overridden = false,
                _ if overridden => {}
                '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => {
                    line.push(' ')
                }
                '\t' => line.push('\t'),
                c if c.is_control() || invisible(c) => {}
                c => line.push(c),
            }
        }
        flush(&mut line, &mut out, &mut blank_run);
        out
    }

    proptest::proptest! {
        #[test]
        fn normalize_matches_reference(s in "[a ü\t\r\n\u{a0}\u{200b}\u{7}\u{85}.>-]{0,40}") {
            proptest::prop_assert_eq!(normalize(&s), normalize_reference(&s));
        }

        #[test]
        fn normalize_matches_reference_any(s in "\\PC{0,40}|.{0,40}") {
            proptest::prop_assert_eq!(normalize(&s), normalize_reference(&s));
        }

        /// Long printable runs, so the eight-bytes-at-a-time scan meets every kind of
        /// line end and odd byte at every offset.
        #[test]
        fn normalize_matches_reference_ascii_runs(s in "([ -~]{0,19}[\t\r\n\u{a0}\u{200b}\u{7}\u{7f}\u{85}ü]{0,2}){0,10}") {
            proptest::prop_assert_eq!(normalize(&s), normalize_reference(&s));
        }
    }
}
