//! Finds originating addresses (IPv4/IPv6, CIDR blocks, `A - B` ranges) and tells which are
//! globally reachable.
//!
//! Decisions:
//! - A reversed range (`.20 - .10`) or a range mixing IPv4 and IPv6 is not a range: both ends are
//!   kept as single addresses, so a person reviewing still sees them.
//! - A CIDR block with host bits set (`203.0.113.5/24`) is normalised to its network
//!   (`203.0.113.0/24`). A prefix longer than the family allows (`/33`) is ignored and the
//!   address is kept as a single address.
//! - `a.b.c.*` / `a.b.c.x` become the /24; `addr/255.255.255.0` and `addr mask 255.255.255.0`
//!   use the netmask when it is contiguous.
//! - As sources ([`find_sources`]): an address retracted in its clause ("we will NOT test
//!   from …", "except …", "(not …)", "… no longer used") or written as a target ("against …",
//!   "target: …", a URL) is never one; "IPs will follow", "TBD", "folgen" on a line about
//!   addresses make the item missing; at most `cap` are kept and the rest counted.
//! - IPv6 text must contain a decimal digit, so words such as `a::b`, `dead::beef` or a bare `::`
//!   are not taken for addresses; an IPv4-mapped address stays IPv6 (`::ffff:192.0.2.1/128`).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::LazyLock;

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use regex::Regex;

/// IPv6 candidate: 3 to 8 groups (some possibly empty, for `::`), optionally ending in an
/// embedded dotted IPv4. Validated by the standard parser afterwards.
const V6: &str = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?:\.[0-9]{1,3}){3})?";
/// IPv4 candidate; the last octet may be a wildcard (`*`, `x`) meaning the /24.
const V4: &str = r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.(?:[0-9]{1,3}|[*xX])";

/// One pass over the text finds every address candidate.
static ADDR: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(&format!("{V6}|{V4}")).expect("address regex")
});

/// What may follow an address: a prefix length, a netmask, or the end of a range. Anchored, and
/// only ever run on a short window after an address.
static SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    let pat = format!(
        r"^(?:/(?P<mask>{V4})|/(?P<len>[0-9]{{1,3}})|[ \t]+(?i:net|subnet|netz|subnetz)?(?i:mask|maske)[ \t:]+(?P<mask2>{V4})|(?:[ \t]*[-–—‒―][ \t]*|[ \t]+(?i:to|bis|until|through|thru)[ \t]+)(?P<end>{V6}|{V4})|-(?P<short>[0-9]{{1,3}}))"
    );
    #[allow(clippy::expect_used)]
    Regex::new(&pat).expect("suffix regex")
});

/// Longest suffix worth looking at (` through ` plus a full IPv6 address with embedded IPv4).
const SUFFIX_WINDOW: usize = 80;

/// Every address, block and range in `text`, in order of first appearance, without duplicates.
/// Single addresses become /32 or /128; a range becomes the fewest CIDR blocks covering it.
pub fn find_addresses(text: &str) -> Vec<IpNet> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    scan(text, |net, _, _| {
        if seen.insert(net) {
            out.push(net);
        }
    });
    out
}

/// Originating addresses as a notification states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// The addresses the test comes from, in order, without duplicates, at most `cap`.
    pub ips: Vec<IpNet>,
    /// Addresses written as retracted, negated or as targets: never sources.
    pub dropped: Vec<IpNet>,
    /// The text says the addresses are not known yet ("IPs will follow", "TBD").
    pub placeholder: bool,
    /// How many more source addresses were written than `cap` keeps.
    pub over_cap: usize,
    /// In a labelled field: tokens that look like an address or range but were not read as
    /// one (`185.199.111-200.0`), at most [`MAX_UNREAD`]. The list may be longer than what
    /// was taken.
    pub unread: Vec<String>,
}

/// Most unread tokens kept in [`Sources::unread`].
pub const MAX_UNREAD: usize = 8;

/// Words that, before an address in the same clause, take it back: "we will NOT test from
/// …", "except …", "(not …)", "instead of …".
const RETRACT_BEFORE: &[&str] = &[
    "not",
    "never",
    "nicht",
    "nie",
    "kein",
    "keine",
    "keinen",
    "except",
    "excluding",
    "exclude",
    "excluded",
    "ausser",
    "außer",
    "ausgenommen",
    "ohne",
    "without",
    "instead",
    "anstatt",
    "statt",
    "rather",
    "formerly",
    "previously",
    "früher",
    "frueher",
    "old",
    "alte",
    "alten",
    "won't",
    "don't",
    "isn't",
    "aren't",
    "wont",
    "dont",
    "no",
    "longer",
];

/// Words that make an address in the same clause a target: "against 203.0.113.9",
/// "target: …", "Ziel …".
const TARGET_BEFORE: &[&str] = &[
    "target",
    "targets",
    "targeting",
    "targeted",
    "against",
    "gegen",
    "ziel",
    "ziele",
    "zielsystem",
    "zielsysteme",
    "zielserver",
    "zieladresse",
    "zieladressen",
    "ziel-ip",
    "target-ip",
    "attack",
    "attacking",
    "victim",
    "destination",
    "destinations",
    "dest",
    "angriffsziel",
];

/// Words that make an address in the same clause a source: "from …", "Quell-IP …".
const SOURCE_BEFORE: &[&str] = &[
    "from",
    "source",
    "sources",
    "originating",
    "origin",
    "von",
    "aus",
    "quelle",
    "quell-ip",
    "quell-ips",
    "quelladresse",
    "quelladressen",
    "absender",
    "egress",
    "outbound",
    "via",
];

/// Phrases saying the addresses are not known yet.
const PLACEHOLDERS: &[&str] = &[
    "will be provided",
    "will be sent",
    "will be shared",
    "will follow",
    "to follow",
    "to be provided",
    "to be confirmed",
    "to be announced",
    "to be defined",
    "to be determined",
    "not yet known",
    "not known yet",
    "not yet available",
    "unknown",
    "tbd",
    "tba",
    "tbc",
    "n/a",
    "later",
    "folgen",
    "folgt",
    "nachgereicht",
    "nachliefern",
    "noch offen",
    "noch nicht bekannt",
    "unbekannt",
    "später",
    "spaeter",
    // The list is not all of it: more sources will come, or some are not listed at all
    // ("plus a rotating residential proxy pool", "and dynamic cloud IPs", "e.g. …").
    "will send",
    "will be named",
    "send them",
    "final list",
    "full list",
    "complete list",
    "vollständige liste",
    "finale liste",
    "e.g.",
    "z.b.",
    "z. b.",
    "for example",
    "for instance",
    "zum beispiel",
    "beispielsweise",
    "such as",
    "among others",
    "unter anderem",
    "u.a.",
    "etc",
    "usw",
    "and more",
    "and others",
    "und weitere",
    "list follows",
    "liste folgt",
    "dynamic ip",
    "dynamic ips",
    "dynamic cloud",
    "dynamic address",
    "dynamic addresses",
    "dynamische ip",
    "dynamische ips",
    "dynamischen ips",
    "dynamische cloud",
    "random ip",
    "random ips",
    "random source",
    "rotating",
    "rotierende",
    "rotierenden",
    "residential",
    "proxy pool",
    "proxy-pool",
    "botnet",
    "various",
    "verschiedene",
    "zufällige",
];

/// Whether any of [`PLACEHOLDERS`] occurs (anywhere, not only as a whole word).
static ANY_PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives: Vec<String> = PLACEHOLDERS.iter().map(|p| regex::escape(p)).collect();
    #[allow(clippy::expect_used)]
    Regex::new(&alternatives.join("|")).expect("placeholder regex")
});

/// Lines of `text` about addresses that say they are not known yet: in a labelled IP field
/// every line, elsewhere lines naming addresses ("IP", "address", "Adresse").
pub fn says_placeholder(text: &str, labelled: bool) -> bool {
    text.lines().any(|line| {
        // Whole words: "ip" in "description" or "script" is no address. Checked before the
        // line is lowercased, which most lines never need.
        let about = labelled
            || line.split(|c: char| !c.is_alphanumeric()).any(|w| {
                let starts = |p: &str| w.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
                let ends = |p: &str| {
                    w.len() >= p.len()
                        && w.get(w.len() - p.len()..)
                            .is_some_and(|t| t.eq_ignore_ascii_case(p))
                };
                ["ip", "ips", "ipv4", "ipv6"]
                    .iter()
                    .any(|x| w.eq_ignore_ascii_case(x))
                    || starts("address")
                    || starts("adresse")
                    || ends("adressen")
            });
        if !about {
            return false;
        }
        let lower = line.to_lowercase();
        // One search for all the phrases first: most lines hold none, and a search per
        // phrase was most of the time here. Only a hit needs the whole-word test below.
        if !ANY_PLACEHOLDER.is_match(&lower) {
            return false;
        }
        PLACEHOLDERS.iter().any(|p| {
            lower.match_indices(p).any(|(i, _)| {
                // Whole words: "tba" is not "tbath", "later" not "translater".
                let before = lower.get(..i).and_then(|b| b.chars().next_back());
                let after = lower.get(i + p.len()..).and_then(|a| a.chars().next());
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
        })
    })
}

/// The source addresses in `text`: every address except those retracted or written as
/// targets ([`RETRACT_BEFORE`], [`TARGET_BEFORE`], a URL), at most `cap` kept.
pub fn find_sources(text: &str, labelled: bool, cap: usize) -> Sources {
    let mut out = Sources {
        placeholder: says_placeholder(text, labelled),
        ..Sources::default()
    };
    let mut seen = HashSet::new();
    let mut dropped = HashSet::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    scan(text, |net, start, end| {
        if labelled && spans.last() != Some(&(start, end)) {
            spans.push((start, end));
        }
        match role(text, start, end) {
            Role::Source => {
                if seen.contains(&net) {
                    return;
                }
                if out.ips.len() < cap {
                    seen.insert(net);
                    out.ips.push(net);
                } else {
                    out.over_cap += 1;
                }
            }
            Role::Dropped => {
                if out.dropped.len() < cap && dropped.insert(net) {
                    out.dropped.push(net);
                }
            }
        }
    });
    if labelled {
        out.unread = unread_tokens(text, &spans);
    }
    // An address written once as a target or retracted is never a source, even where it is
    // written again elsewhere.
    out.ips.retain(|n| !dropped.contains(n));
    out
}

/// Runs of address characters in `text` that look like an address or range (a digit and
/// three dots, or two colons) but lie outside every span `scan` read (`spans` in order).
fn unread_tokens(text: &str, spans: &[(usize, usize)]) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut span_at = 0;
    while i < bytes.len() && out.len() < MAX_UNREAD {
        let in_run = |b: u8| address_byte(b) || matches!(b, b'/' | b'-');
        if !bytes.get(i).is_some_and(|&b| in_run(b)) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(|&b| in_run(b)) {
            i += 1;
        }
        let Some(run) = text.get(start..i) else { break };
        // "IPv6:2001:db8::1": the label's "6:" is no part of the address.
        let (start, run) = if label_prefix(text, start, run) {
            (start + 2, run.get(2..).unwrap_or(""))
        } else {
            (start, run)
        };
        let run = run.trim_end_matches(['.', ':', '-', '/']);
        let end = start + run.len();
        let dots = run.bytes().filter(|&b| b == b'.').count();
        let colons = run.bytes().filter(|&b| b == b':').count();
        // Three dots, or an IPv6 shape (`::` or three colons; "08:00-18:00" is a time).
        if !run.bytes().any(|b| b.is_ascii_digit())
            || (dots < 3 && colons < 3 && !run.contains("::"))
        {
            continue;
        }
        // Spans come in text order and do not overlap: the one that could hold this run is
        // the last starting at or before it (one pointer, linear).
        while spans.get(span_at + 1).is_some_and(|&(s, _)| s <= start) {
            span_at += 1;
        }
        let covered = spans
            .get(span_at)
            .is_some_and(|&(s, e)| s <= start && e >= end);
        if !covered {
            out.push(run.to_string());
        }
    }
    out
}

enum Role {
    Source,
    Dropped,
}

/// What the address written at `start..end` is, from the words of its clause around it.
fn role(text: &str, start: usize, end: usize) -> Role {
    let before = clause_before(text, start);
    // In a URL (`https://203.0.113.9/`, `http://[2001:db8::1]:8080`) it is a target.
    let tight = before.trim_end_matches('[');
    if tight.ends_with("//") || tight.ends_with('@') {
        return Role::Dropped;
    }
    let keep = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '-');
    let words = || {
        before
            .split_whitespace()
            .rev()
            .map(move |w| w.trim_matches(|c: char| !keep(c)))
    };
    for w in words().take(12) {
        if one_of(w, RETRACT_BEFORE) || one_of(w, TARGET_BEFORE) {
            return Role::Dropped;
        }
        if one_of(w, SOURCE_BEFORE) {
            // A retraction further back in the same clause still counts: "we will NOT
            // test from …".
            return if words().any(|w| one_of(w, RETRACT_BEFORE)) {
                Role::Dropped
            } else {
                Role::Source
            };
        }
    }
    if retracted_after(text, end) {
        return Role::Dropped;
    }
    Role::Source
}

/// Whether the word `w` is one of `list` (lowercase), without allocating for ASCII words.
fn one_of(w: &str, list: &[&str]) -> bool {
    if w.is_ascii() {
        list.iter().any(|x| x.eq_ignore_ascii_case(w))
    } else {
        list.contains(&w.to_lowercase().as_str())
    }
}

/// The text of the clause before `at` on its line: at most 160 bytes, back to a line
/// break, `;`, `!`, `?` or a full stop that ends a sentence.
fn clause_before(text: &str, at: usize) -> &str {
    let mut from = at.saturating_sub(160);
    while from < at && !text.is_char_boundary(from) {
        from += 1;
    }
    let window = text.get(from..at).unwrap_or("");
    let cut = window
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            matches!(c, '\n' | ';' | '!' | '?')
                || (c == '.'
                    && window
                        .get(i + 1..)
                        .is_some_and(|r| r.starts_with(char::is_whitespace)))
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    let mut clause = window.get(cut..).unwrap_or("");
    if cut == 0 && from > 0 {
        // The window may have cut a word: drop its tail.
        clause = clause
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r);
    }
    // "not from A but from B", "nicht von A, sondern von B": what follows the contrast is
    // a clause of its own.
    let lower = clause.to_ascii_lowercase();
    let contrast = [" but ", " sondern "]
        .iter()
        .filter_map(|w| lower.rfind(w).map(|i| i + w.len()))
        .max();
    match contrast {
        Some(i) => clause.get(i..).unwrap_or(clause),
        None => clause,
    }
}

/// "203.0.113.5 (no longer used)", "203.0.113.5 will not be used": a retraction right
/// after the address, within its clause. Not "(not …)": that takes back the address after
/// it, not this one ("203.0.113.5 (not 203.0.113.7)").
fn retracted_after(text: &str, end: usize) -> bool {
    let mut to = end.saturating_add(48).min(text.len());
    while to > end && !text.is_char_boundary(to) {
        to -= 1;
    }
    let after = text.get(end..to).unwrap_or("");
    let clause = after
        .split(['\n', ';', ',', ')'])
        .next()
        .unwrap_or("")
        .to_lowercase();
    [
        "not used",
        "no longer",
        "is not",
        "will not",
        "won't",
        "nicht mehr",
        "wird nicht",
        "werden nicht",
        "entfällt",
        "entfaellt",
        "retracted",
        "withdrawn",
        "excluded",
        "ausgenommen",
    ]
    .iter()
    .any(|p| clause.contains(p))
}

/// Calls `found(net, start, end)` for every address, block and range block in `text`, in
/// order, with the byte span of what was written for it (a range's blocks share one span).
fn scan(text: &str, mut found: impl FnMut(IpNet, usize, usize)) {
    // Cheap byte pass first: the regex only runs on runs of address characters that hold a
    // digit and a dot or two colons, which ordinary prose almost never has.
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes.get(i).is_some_and(|&b| address_byte(b)) {
            i += 1;
            continue;
        }
        let run_start = i;
        let (mut digit, mut dot, mut colons) = (false, false, 0u32);
        while let Some(&b) = bytes.get(i).filter(|&&b| address_byte(b)) {
            digit |= b.is_ascii_digit();
            dot |= b == b'.';
            colons += u32::from(b == b':');
            i += 1;
        }
        if !(digit && (dot || colons >= 2)) {
            continue;
        }
        // `i` follows an ASCII byte, so it is a char boundary.
        let Some(run) = text.get(..i) else { break };
        let mut pos = run_start;
        while let Some(m) = ADDR.find_at(run, pos) {
            pos = m.end();
            if label_prefix(text, m.start(), m.as_str()) {
                // "IPv6:2001:db8::1": the candidate swallowed the label's "6:"; look again
                // right after the colon.
                pos = m.start() + 2;
                continue;
            }
            let at = m.start();
            let Some((addr, end)) = candidate(text, m.start(), m.end()) else {
                continue;
            };
            let mut push = |net: IpNet, to: usize| found(net, at, to);
            let addr = match addr {
                Candidate::Wildcard(net) => {
                    push(IpNet::V4(net), end);
                    continue;
                }
                Candidate::Addr(a) => a,
            };
            pos = end;
            match suffix(text, end, addr) {
                Some((Suffix::Net(net), after)) => {
                    push(net, after);
                    pos = after;
                }
                Some((Suffix::Range(last), after)) => {
                    pos = after;
                    match range_blocks(addr, last) {
                        Some(blocks) => blocks.into_iter().for_each(|b| push(b, after)),
                        None => {
                            push(IpNet::from(addr), after);
                            push(IpNet::from(last), after);
                        }
                    }
                }
                None => push(IpNet::from(addr), end),
            }
            if pos >= i {
                // A range or mask reached past this run: go on after it.
                i = pos;
                break;
            }
        }
    }
}

/// Whether the candidate `raw` at `s` starts with the "4:"/"6:" of an `IPv4:`/`IPv6:` label.
fn label_prefix(text: &str, s: usize, raw: &str) -> bool {
    (raw.starts_with("4:") || raw.starts_with("6:"))
        && text
            .get(..s)
            .and_then(|b| b.get(b.len().saturating_sub(3)..))
            .is_some_and(|l| l.eq_ignore_ascii_case("ipv"))
}

/// Bytes that can be part of an address candidate (including the `*`/`x` wildcard octet).
fn address_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || matches!(b, b':' | b'.' | b'*' | b'x' | b'X')
}

enum Candidate {
    Addr(IpAddr),
    /// `a.b.c.*`
    Wildcard(Ipv4Net),
}

enum Suffix {
    Net(IpNet),
    Range(IpAddr),
}

/// Validates the regex match `text[s..e]`: parses it and checks that it is not glued to
/// surrounding text (version numbers, words, longer dotted sequences). Returns the address and
/// where it ends (a trailing lone `:` is not part of an IPv6 address).
fn candidate(text: &str, s: usize, e: usize) -> Option<(Candidate, usize)> {
    let raw = text.get(s..e)?;
    let before = text.get(..s)?.chars().next_back();
    if raw.contains(':') {
        // A sentence may end with a colon: "from 2001:db8::1: we ...".
        let (t, e) = if raw.ends_with(':') && !raw.ends_with("::") {
            (raw.get(..raw.len() - 1)?, e - 1)
        } else {
            (raw, e)
        };
        if !t.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let after_label = text
            .get(..s)
            .and_then(|b| b.get(b.len().saturating_sub(5)..))
            .is_some_and(|l| l.eq_ignore_ascii_case("ipv6:") || l.eq_ignore_ascii_case("ipv4:"));
        if !after_label
            && before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '.'))
        {
            return None;
        }
        if !follows_ok(text, e, true) {
            return None;
        }
        let a = Ipv6Addr::from_str(t).ok()?;
        return Some((Candidate::Addr(IpAddr::V6(a)), e));
    }
    if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.')) {
        return None;
    }
    if !follows_ok(text, e, false) {
        return None;
    }
    if let Some(prefix) = raw.strip_suffix(['*', 'x', 'X']) {
        let a = parse_v4(&format!("{prefix}0"))?;
        let net = Ipv4Net::new(a, 24).ok()?;
        return Some((Candidate::Wildcard(net), e));
    }
    let a = parse_v4(raw)?;
    Some((Candidate::Addr(IpAddr::V4(a)), e))
}

/// Dotted-quad IPv4. Unlike the standard parser it accepts zero-padded octets (`192.168.001.010`,
/// as some tools print them), read as decimal.
fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// Whether the text after an address at byte `e` lets it stand alone: not glued to a word and
/// not continued as a longer dotted (version-like) sequence.
fn follows_ok(text: &str, e: usize, v6: bool) -> bool {
    let Some(rest) = text.get(e..) else {
        return false;
    };
    let mut it = rest.chars();
    match it.next() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '_' => false,
        Some('.') => !it.next().is_some_and(|c| c.is_alphanumeric()),
        Some(':') if v6 => !it.next().is_some_and(|c| c.is_ascii_hexdigit()),
        Some(_) => true,
    }
}

/// Largest char boundary `<= i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Parses a prefix length, netmask or range end right after the address ending at `e`.
/// Returns what it found and where scanning should continue.
fn suffix(text: &str, e: usize, addr: IpAddr) -> Option<(Suffix, usize)> {
    let window = text.get(e..floor_boundary(text, e.saturating_add(SUFFIX_WINDOW)))?;
    // Most addresses are followed by a comma, a space and a word, or a line end: skip the regex.
    let next = window.trim_start_matches([' ', '\t']);
    let maybe = window.starts_with(['/', '-'])
        || next.starts_with(['-', '–', '—', '‒', '―'])
        || (next.len() < window.len()
            && next.starts_with(['t', 'T', 'b', 'B', 'u', 'U', 'm', 'M', 'n', 'N', 's', 'S']));
    if !maybe {
        return None;
    }
    let caps = SUFFIX.captures(window)?;
    let whole = caps.get(0)?;
    let after = e + whole.end();
    if let Some(len) = caps.name("len") {
        let len: u8 = len.as_str().parse().ok()?;
        if !follows_ok(text, after, false) {
            return None;
        }
        let net = IpNet::new(addr, len).ok()?.trunc();
        return Some((Suffix::Net(net), after));
    }
    if let Some(mask) = caps.name("mask").or_else(|| caps.name("mask2")) {
        let IpAddr::V4(a) = addr else { return None };
        if !follows_ok(text, after, false) {
            return None;
        }
        let mask = parse_v4(mask.as_str())?.to_bits();
        let len = mask.leading_ones();
        if mask.checked_shl(len).unwrap_or(0) != 0 {
            return None;
        }
        let net = Ipv4Net::new(a, u8::try_from(len).ok()?).ok()?.trunc();
        return Some((Suffix::Net(IpNet::V4(net)), after));
    }
    if let Some(end) = caps.name("end") {
        let (cand, end_at) = candidate(text, e + end.start(), after)?;
        let Candidate::Addr(last) = cand else {
            return None;
        };
        return Some((Suffix::Range(last), end_at));
    }
    if let Some(short) = caps.name("short") {
        let IpAddr::V4(a) = addr else { return None };
        if !follows_ok(text, after, false) || text.get(after..)?.starts_with('-') {
            return None;
        }
        let last: u8 = short.as_str().parse().ok()?;
        let [o1, o2, o3, _] = a.octets();
        let last = Ipv4Addr::new(o1, o2, o3, last);
        return Some((Suffix::Range(IpAddr::V4(last)), after));
    }
    None
}

/// The fewest CIDR blocks covering exactly `first..=last`; `None` when the range is reversed or
/// mixes families.
pub fn range_blocks(first: IpAddr, last: IpAddr) -> Option<Vec<IpNet>> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
            Some(Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect())
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
            Some(Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect())
        }
        _ => None,
    }
}

/// Whether every address in `net` is globally reachable (IANA special-purpose registries).
pub fn is_globally_reachable(net: &IpNet) -> bool {
    non_global_reason(net).is_none()
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u128 {
    Ipv4Addr::new(a, b, c, d).to_bits() as u128
}

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16) -> u128 {
    Ipv6Addr::new(a, b, c, d, e, f, g, h).to_bits()
}

const PRIVATE: &str = "private (RFC 1918)";
const DOCUMENTATION: &str = "documentation";
const RESERVED_V6: &str = "reserved (outside global unicast 2000::/3)";

/// IPv4 blocks that are not globally reachable, most specific first (first match names it).
const V4_SPECIAL: &[(u128, u8, &str)] = &[
    (v4(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (v4(10, 0, 0, 0), 8, PRIVATE),
    (v4(100, 64, 0, 0), 10, "shared address space (CGNAT)"),
    (v4(127, 0, 0, 0), 8, "loopback"),
    (v4(169, 254, 0, 0), 16, "link-local"),
    (v4(172, 16, 0, 0), 12, PRIVATE),
    (v4(192, 0, 0, 0), 24, "IETF protocol assignments"),
    (v4(192, 0, 2, 0), 24, DOCUMENTATION),
    (v4(192, 88, 99, 0), 24, "6to4 relay anycast (deprecated)"),
    (v4(192, 168, 0, 0), 16, PRIVATE),
    (v4(198, 18, 0, 0), 15, "benchmarking"),
    (v4(198, 51, 100, 0), 24, DOCUMENTATION),
    (v4(203, 0, 113, 0), 24, DOCUMENTATION),
    (v4(224, 0, 0, 0), 4, "multicast"),
    (v4(255, 255, 255, 255), 32, "limited broadcast"),
    (v4(240, 0, 0, 0), 4, "reserved"),
];

/// Globally reachable holes inside the IPv4 blocks above (sorted by start).
const V4_GLOBAL: &[(u128, u8)] = &[(v4(192, 0, 0, 9), 32), (v4(192, 0, 0, 10), 32)];

/// IPv6 blocks that are not globally reachable, most specific first. The last three cover
/// everything outside 2000::/3.
const V6_SPECIAL: &[(u128, u8, &str)] = &[
    (0, 128, "unspecified"),
    (1, 128, "loopback"),
    (v6(0, 0, 0, 0, 0, 0xffff, 0, 0), 96, "IPv4-mapped"),
    (
        v6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "IPv4/IPv6 translation",
    ),
    (
        v6(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "IPv4/IPv6 translation (local use)",
    ),
    (v6(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard-only"),
    (v6(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, "Teredo"),
    (v6(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, "benchmarking"),
    (
        v6(0x2001, 0x10, 0, 0, 0, 0, 0, 0),
        28,
        "ORCHID (deprecated)",
    ),
    (
        v6(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments",
    ),
    (v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, DOCUMENTATION),
    (v6(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, "6to4"),
    (v6(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, DOCUMENTATION),
    (
        v6(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "segment routing (SRv6)",
    ),
    (v6(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, "unique local"),
    (v6(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (
        v6(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "site-local (deprecated)",
    ),
    (v6(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
    (0, 3, RESERVED_V6),
    (v6(0x4000, 0, 0, 0, 0, 0, 0, 0), 2, RESERVED_V6),
    (v6(0x8000, 0, 0, 0, 0, 0, 0, 0), 1, RESERVED_V6),
];

/// Globally reachable holes inside 2001::/23 (sorted by start).
const V6_GLOBAL: &[(u128, u8)] = &[
    (v6(0x2001, 1, 0, 0, 0, 0, 0, 1), 128),
    (v6(0x2001, 1, 0, 0, 0, 0, 0, 2), 128),
    (v6(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),
    (v6(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48),
    (v6(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28),
    (v6(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28),
];

/// First and last address of a block of `bits`-wide addresses.
fn span(base: u128, len: u8, bits: u8) -> (u128, u128) {
    let host = u32::from(bits.saturating_sub(len));
    let size_minus_one = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    let first = base & !size_minus_one;
    (first, first | size_minus_one)
}

/// Whether `lo..=hi` is entirely covered by the (sorted) `holes`.
fn covered(lo: u128, hi: u128, holes: &[(u128, u8)], bits: u8) -> bool {
    let mut cur = lo;
    for &(base, len) in holes {
        let (a, b) = span(base, len, bits);
        if a <= cur && cur <= b {
            if b >= hi {
                return true;
            }
            cur = b + 1;
        }
    }
    false
}

/// Why some part of `net` is not globally reachable, or `None` if all of it is.
pub fn non_global_reason(net: &IpNet) -> Option<&'static str> {
    let (bits, lo, hi, table, holes) = match net {
        IpNet::V4(n) => {
            let (lo, hi) = span(u128::from(n.network().to_bits()), n.prefix_len(), 32);
            (32, lo, hi, V4_SPECIAL, V4_GLOBAL)
        }
        IpNet::V6(n) => {
            let (lo, hi) = span(n.network().to_bits(), n.prefix_len(), 128);
            (128, lo, hi, V6_SPECIAL, V6_GLOBAL)
        }
    };
    table.iter().find_map(|&(base, len, reason)| {
        let (a, b) = span(base, len, bits);
        let (i_lo, i_hi) = (a.max(lo), b.min(hi));
        (i_lo <= i_hi && !covered(i_lo, i_hi, holes, bits)).then_some(reason)
    })
}

/// Convenience for callers holding a plain address.
pub fn net_of(addr: IpAddr) -> IpNet {
    match addr {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::from(a)),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::from(a)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(text: &str) -> Vec<String> {
        find_addresses(text).iter().map(|n| n.to_string()).collect()
    }

    fn has_digit(a: &Ipv6Addr) -> bool {
        a.to_string().bytes().any(|b| b.is_ascii_digit())
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses_in_sentences() {
        assert_eq!(
            f("We will test from 185.12.64.3 and 2a02:1234:5678::10."),
            ["185.12.64.3/32", "2a02:1234:5678::10/128"]
        );
        assert_eq!(
            f("Source IP: 185.12.64.3, 185.12.64.4"),
            ["185.12.64.3/32", "185.12.64.4/32"]
        );
        assert_eq!(
            f("IP-Adressen:\t85.195.200.1\n85.195.200.2"),
            ["85.195.200.1/32", "85.195.200.2/32"]
        );
        assert_eq!(f("(185.12.64.3)"), ["185.12.64.3/32"]);
        assert_eq!(f("185.012.064.003"), ["185.12.64.3/32"]);
        assert_eq!(
            f("IPs 185.12.64.3/32,185.12.64.4/32;185.12.64.5"),
            ["185.12.64.3/32", "185.12.64.4/32", "185.12.64.5/32"]
        );
        assert_eq!(f("<185.12.64.3>"), ["185.12.64.3/32"]);
        assert_eq!(f("185.12.64.3:443"), ["185.12.64.3/32"]);
        assert_eq!(f("[2a02:1234::10]:8443"), ["2a02:1234::10/128"]);
        assert_eq!(f("fe80::1%eth0"), ["fe80::1/128"]);
    }

    #[test]
    fn deduplicates_in_order() {
        assert_eq!(
            f("1.1.1.1, 8.8.8.8, 1.1.1.1 and again 8.8.8.8"),
            ["1.1.1.1/32", "8.8.8.8/32"]
        );
    }

    #[test]
    fn ipv6_textual_forms() {
        assert_eq!(f("2001:DB8:0:0:0:0:0:1"), ["2001:db8::1/128"]);
        assert_eq!(
            f("2001:0db8:0000:0000:0000:0000:0000:0001"),
            ["2001:db8::1/128"]
        );
        assert_eq!(f("::1"), ["::1/128"]);
        assert_eq!(f("loopback ::1 only"), ["::1/128"]);
        assert_eq!(f("::ffff:192.0.2.1"), ["::ffff:192.0.2.1/128"]);
        assert_eq!(f("64:ff9b::198.51.100.7"), ["64:ff9b::c633:6407/128"]);
        assert_eq!(f("2a02:1234:5678::/48"), ["2a02:1234:5678::/48"]);
        assert_eq!(f("from 2001:db8::1: then"), ["2001:db8::1/128"]);
    }

    #[test]
    fn cidr_is_normalised() {
        assert_eq!(f("203.0.113.5/24"), ["203.0.113.0/24"]);
        assert_eq!(f("Netz 185.12.64.0/22."), ["185.12.64.0/22"]);
        assert_eq!(f("2001:db8::1/32"), ["2001:db8::/32"]);
        assert_eq!(f("185.12.64.3/33"), ["185.12.64.3/32"]);
        assert_eq!(f("185.12.64.0/255.255.255.0"), ["185.12.64.0/24"]);
        assert_eq!(f("185.12.64.0 netmask 255.255.252.0"), ["185.12.64.0/22"]);
        assert_eq!(
            f("185.12.64.0 mask 255.0.255.0"),
            ["185.12.64.0/32", "255.0.255.0/32"]
        );
        assert_eq!(f("185.12.64.*"), ["185.12.64.0/24"]);
        assert_eq!(f("185.12.64.x"), ["185.12.64.0/24"]);
    }

    #[test]
    fn ranges_become_cidr_blocks() {
        assert_eq!(
            f("198.51.100.10 - 198.51.100.20"),
            [
                "198.51.100.10/31",
                "198.51.100.12/30",
                "198.51.100.16/30",
                "198.51.100.20/32"
            ]
        );
        assert_eq!(f("198.51.100.0–198.51.100.255"), ["198.51.100.0/24"]);
        assert_eq!(f("198.51.100.0 to 198.51.100.127"), ["198.51.100.0/25"]);
        assert_eq!(f("198.51.100.0 bis 198.51.100.63"), ["198.51.100.0/26"]);
        assert_eq!(f("185.12.64.0-255"), ["185.12.64.0/24"]);
        assert_eq!(f("185.12.64.10-11."), ["185.12.64.10/31"]);
        assert_eq!(f("2001:db8::-2001:db8::ff"), ["2001:db8::/120"]);
        assert_eq!(
            f("2001:db8::1 - 2001:db8::2"),
            ["2001:db8::1/128", "2001:db8::2/128"]
        );
        assert_eq!(
            f("2001:db8:: to 2001:db8:0:ffff:ffff:ffff:ffff:ffff"),
            ["2001:db8::/48"]
        );
    }

    #[test]
    fn reversed_and_mixed_ranges_keep_both_ends() {
        assert_eq!(
            f("198.51.100.20 - 198.51.100.10"),
            ["198.51.100.20/32", "198.51.100.10/32"]
        );
        assert_eq!(f("185.12.64.20-10"), ["185.12.64.20/32", "185.12.64.10/32"]);
        assert_eq!(
            f("185.12.64.1 - 2001:db8::1"),
            ["185.12.64.1/32", "2001:db8::1/128"]
        );
    }

    #[test]
    fn not_addresses() {
        for t in [
            "version 1.2.3",
            "release 1.2.3.4.5",
            "v1.2.3.4",
            "build 10.0.19045.3803",
            "am 14.12.2026 um 12:00",
            "between 12:00:00 and 14:30:00",
            "MAC 00:1A:2B:3C:4D:5E",
            "MAC 00:1a:2b:3c:4d:5e",
            "std::vec::Vec",
            "use a::b; foo::bar2",
            "Foo::Bar::2",
            "::",
            "dead::beef",
            "999.1.1.1",
            "1.256.1.1",
            "24/7 support",
            "HTTP/2 and HTTP/1.1",
            "+41 44 123 45 67",
            "1.2.3.4.5.6.7.8",
            "01.02.03.04x",
        ] {
            assert_eq!(f(t), Vec::<String>::new(), "{t}");
        }
    }

    #[test]
    fn partial_garbage_around_valid() {
        assert_eq!(f("1.2.3.4.5 and 8.8.4.4"), ["8.8.4.4/32"]);
        assert_eq!(f("IPv4:85.195.200.1"), ["85.195.200.1/32"]);
        assert_eq!(
            f("IPv6:2a02:168:6a0b::1, ipv6:2a02:168:6a0b::2"),
            ["2a02:168:6a0b::1/128", "2a02:168:6a0b::2/128"]
        );
        assert_eq!(f("IPv4:1.2.3.4"), ["1.2.3.4/32"]);
        assert_eq!(f("85.195.200.1-85.195.200.999"), ["85.195.200.1/32"]);
    }

    #[test]
    fn german_email() {
        let text = "Guten Tag\nWir testen ab dem 14.12.2026 um 09:00 Uhr von folgenden IPs:\n\
            - 185.12.64.3\n- 185.12.64.10 bis 185.12.64.11\n- 2a02:1234:5678::/48\n\
            Version 3.2.1 von k6.";
        assert_eq!(
            f(text),
            ["185.12.64.3/32", "185.12.64.10/31", "2a02:1234:5678::/48"]
        );
    }

    #[test]
    fn outlook_table_and_reply() {
        let text = "Angaben zum Test\n\
            Quell-IP-Adressen\t185.12.64.3\n\
            \t185.12.64.4/31\n\
            \t2a02:1234:5678::1 - 2a02:1234:5678::4\n\
            Zeitraum\t14.12.2026 08:00 – 16.12.2026 18:00\n\
            Tool\tk6 v0.52.0, Grafana 11.0.1\n\
            Telefon\t+41 79 123 45 67";
        assert_eq!(
            f(text),
            [
                "185.12.64.3/32",
                "185.12.64.4/31",
                "2a02:1234:5678::1/128",
                "2a02:1234:5678::2/127",
                "2a02:1234:5678::4/128"
            ]
        );
    }

    #[test]
    fn registry_v4() {
        let cases: &[(&str, Option<&str>)] = &[
            ("0.0.0.0/8", Some("\"this network\" (0.0.0.0/8)")),
            ("10.1.2.3/32", Some(PRIVATE)),
            ("100.64.0.1/32", Some("shared address space (CGNAT)")),
            ("100.128.0.1/32", None),
            ("127.0.0.1/32", Some("loopback")),
            ("169.254.1.1/32", Some("link-local")),
            ("172.16.0.1/32", Some(PRIVATE)),
            ("172.31.255.255/32", Some(PRIVATE)),
            ("172.32.0.1/32", None),
            ("192.0.0.8/32", Some("IETF protocol assignments")),
            ("192.0.0.9/32", None),
            ("192.0.0.10/32", None),
            ("192.0.0.9/31", Some("IETF protocol assignments")),
            ("192.0.0.170/32", Some("IETF protocol assignments")),
            ("192.0.2.1/32", Some(DOCUMENTATION)),
            ("192.88.99.1/32", Some("6to4 relay anycast (deprecated)")),
            ("192.168.1.1/32", Some(PRIVATE)),
            ("198.18.0.1/32", Some("benchmarking")),
            ("198.19.255.1/32", Some("benchmarking")),
            ("198.20.0.1/32", None),
            ("198.51.100.1/32", Some(DOCUMENTATION)),
            ("203.0.113.1/32", Some(DOCUMENTATION)),
            ("224.0.0.1/32", Some("multicast")),
            ("240.0.0.1/32", Some("reserved")),
            ("255.255.255.255/32", Some("limited broadcast")),
            ("8.8.8.8/32", None),
            ("185.12.64.0/22", None),
            ("0.0.0.0/0", Some("\"this network\" (0.0.0.0/8)")),
            ("8.0.0.0/6", Some(PRIVATE)),
            ("192.0.0.0/16", Some("IETF protocol assignments")),
            ("192.31.196.1/32", None),
            ("192.175.48.1/32", None),
        ];
        for &(n, want) in cases {
            assert_eq!(non_global_reason(&net(n)), want, "{n}");
            assert_eq!(is_globally_reachable(&net(n)), want.is_none(), "{n}");
        }
    }

    #[test]
    fn registry_v6() {
        let cases: &[(&str, Option<&str>)] = &[
            ("::/128", Some("unspecified")),
            ("::1/128", Some("loopback")),
            ("::ffff:8.8.8.8/128", Some("IPv4-mapped")),
            ("64:ff9b::808:808/128", Some("IPv4/IPv6 translation")),
            (
                "64:ff9b:1::1/128",
                Some("IPv4/IPv6 translation (local use)"),
            ),
            ("100::1/128", Some("discard-only")),
            ("2001::1/128", Some("Teredo")),
            ("2001:1::1/128", None),
            ("2001:1::2/128", None),
            ("2001:1::3/128", Some("IETF protocol assignments")),
            ("2001:1::/126", Some("IETF protocol assignments")),
            ("2001:2::1/128", Some("benchmarking")),
            ("2001:3::1/128", None),
            ("2001:3::/32", None),
            ("2001:4:112::1/128", None),
            ("2001:4:113::1/128", Some("IETF protocol assignments")),
            ("2001:10::1/128", Some("ORCHID (deprecated)")),
            ("2001:20::1/128", None),
            ("2001:30::1/128", None),
            ("2001:20::/27", None),
            ("2001:40::/26", Some("IETF protocol assignments")),
            ("2001:100::1/128", Some("IETF protocol assignments")),
            ("2001:200::1/128", None),
            ("2001:db8::1/128", Some(DOCUMENTATION)),
            ("2002::1/128", Some("6to4")),
            ("3fff::1/128", Some(DOCUMENTATION)),
            ("3fff:1000::1/128", None),
            ("5f00::1/128", Some("segment routing (SRv6)")),
            ("fc00::1/128", Some("unique local")),
            ("fd12:3456::1/128", Some("unique local")),
            ("fe80::1/128", Some("link-local")),
            ("ff02::1/128", Some("multicast")),
            ("4000::1/128", Some(RESERVED_V6)),
            ("1000::1/128", Some(RESERVED_V6)),
            ("2a02:1234::/32", None),
            ("2620:4f:8000::1/128", None),
            ("2000::/3", Some("Teredo")),
            ("::/0", Some("unspecified")),
        ];
        for &(n, want) in cases {
            assert_eq!(non_global_reason(&net(n)), want, "{n}");
        }
    }

    fn sources(text: &str) -> Vec<String> {
        find_sources(text, false, 256)
            .ips
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn retracted_addresses_are_never_sources() {
        assert_eq!(
            sources("We will NOT test from 203.0.113.5. The test comes from 198.51.100.7."),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("Source IPs: 198.51.100.7, not from 203.0.113.5"),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("All scanners of 198.51.100.0/24 except 198.51.100.9 and 198.51.100.10"),
            ["198.51.100.0/24"]
        );
        assert_eq!(
            sources("Not from 203.0.113.5 but from 198.51.100.7"),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("Wir testen nicht von 203.0.113.5, sondern von 198.51.100.7 aus."),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("Quell-IP: 198.51.100.7 (die alte 203.0.113.5 wird nicht mehr verwendet)"),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("Source: 198.51.100.7\n203.0.113.5 (no longer used)"),
            ["198.51.100.7/32"]
        );
        assert_eq!(
            sources("from 198.51.100.7 instead of 203.0.113.5"),
            ["198.51.100.7/32"]
        );
        // Retracted once, written again: still no source.
        assert!(sources("Not 203.0.113.5.\nIPs: 203.0.113.5").is_empty());
    }

    #[test]
    fn targets_are_never_sources() {
        assert_eq!(
            sources("We scan from 203.0.113.5 against 198.51.100.20."),
            ["203.0.113.5/32"]
        );
        assert!(sources("target: 198.51.100.20").is_empty());
        assert!(
            sources("Please allow https://203.0.113.9/ and http://[2001:db8::9]:8080/").is_empty()
        );
        assert!(sources("Ziel: 198.51.100.20, Ziel-IP 198.51.100.21").is_empty());
        assert_eq!(
            sources("Angriff gegen 198.51.100.20 von 203.0.113.5 aus"),
            ["203.0.113.5/32"]
        );
    }

    /// Red-team 062–065: a source list that is not all of it ("plus a rotating residential
    /// proxy pool", "and dynamic cloud IPs", "e.g. … (final list follows)", "we will send
    /// them next week") is a placeholder: the item is missing, never the addresses written.
    #[test]
    fn incomplete_source_lists_are_placeholders() {
        for field in [
            "185.199.110.17 plus a rotating residential proxy pool",
            "185.199.110.17 and dynamic cloud IPs",
            "e.g. 185.199.110.17 (final list follows)",
            "we will send them next week",
            "185.199.110.17, 185.199.110.18 u.a.",
            "z.B. 185.199.110.17, weitere folgen",
            "185.199.110.0/24 und dynamische IPs aus AWS",
        ] {
            assert!(find_sources(field, true, 256).placeholder, "{field}");
        }
        // A complete list, also in prose, stays one.
        for field in [
            "185.199.110.17, 185.199.110.18",
            "185.199.110.0/24 plus 185.199.111.0/24",
            "Our source IPs are as follows: 185.199.110.17",
            "Weitere Quell-IPs: 185.199.110.18",
        ] {
            assert!(!find_sources(field, true, 256).placeholder, "{field}");
        }
        assert!(
            !find_sources(
                "Dynamic application testing runs from IP 185.199.110.17 next week.",
                false,
                256
            )
            .placeholder
        );
    }

    /// Red-team 066: "185.199.110.17-255, 185.199.111-200.0": the second range was dropped
    /// without a word; it is reported as unread.
    #[test]
    fn unread_range_in_the_ip_field_is_reported() {
        let s = find_sources("185.199.110.17-255, 185.199.111-200.0", true, 256);
        assert_eq!(s.unread, ["185.199.111-200.0"]);
        assert!(!s.ips.is_empty());
        for field in [
            "185.199.110.17, 185.199.110.18",
            "185.199.110.0/24 und 2001:db8::/48",
            "185.199.110.10 - 185.199.110.20, 185.199.110.*",
            "185.199.110.0 mask 255.255.255.0.",
            "IPv6:2001:db8::1 (window 14.12.2026 08:00-18:00)",
        ] {
            assert_eq!(
                find_sources(field, true, 256).unread,
                Vec::<String>::new(),
                "{field}"
            );
        }
        // Prose is not checked.
        assert!(
            find_sources("version 1.2.3.4.5 from 185.199.110.17", false, 256)
                .unread
                .is_empty()
        );
    }

    #[test]
    fn placeholders_mean_the_addresses_are_missing() {
        for text in [
            "The IPs will be provided next week.",
            "Source IPs: TBD",
            "Originating IPs: not yet known (not 198.51.100.7)",
            "IP addresses will follow",
            "Die IP-Adressen folgen.",
            "IP-Adressen werden nachgereicht",
            "Quell-IPs: noch offen",
        ] {
            assert!(find_sources(text, false, 256).placeholder, "{text}");
        }
        assert!(find_sources("TBD", true, 256).placeholder);
        // Not about addresses, or a word that only contains one.
        assert!(!find_sources("Window TBD, from 198.51.100.7", false, 256).placeholder);
        assert!(!find_sources("IPs: 198.51.100.7 (translater host)", false, 256).placeholder);
        assert!(
            !find_sources(
                "The script description follows later. From 198.51.100.7",
                false,
                256
            )
            .placeholder
        );
    }

    #[test]
    fn sources_are_capped_and_counted() {
        let text: String = (0..1000u32)
            .map(|i| format!("185.1.{}.{}\n", i / 256, i % 256))
            .collect();
        let s = find_sources(&text, true, 256);
        assert_eq!(s.ips.len(), 256);
        assert_eq!(s.over_cap, 1000 - 256);
        assert_eq!(
            s.ips.first().map(ToString::to_string).as_deref(),
            Some("185.1.0.0/32")
        );
    }

    proptest! {
        /// Whatever is written around them, sources stay within the cap and are addresses
        /// the plain scan finds.
        #[test]
        fn sources_are_a_bounded_subset(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "203.0.113.5", "198.51.100.7", "10.0.0.0/8", "from", "not", "against",
                    "target:", "https://", "but", ",", ".", "\n", "TBD", "IP", "except",
                ]),
                0..40,
            ),
            cap in 0usize..4,
        ) {
            let text = words.join(" ");
            let all = find_addresses(&text);
            let s = find_sources(&text, false, cap);
            prop_assert!(s.ips.len() <= cap);
            prop_assert!(s.ips.iter().all(|n| all.contains(n)));
        }
    }

    #[test]
    fn big_line_is_fast() {
        let line: String = "1.".repeat(500_000);
        assert!(find_addresses(&line).is_empty());
        let colons: String = "1:".repeat(500_000);
        assert!(find_addresses(&colons).is_empty());
        let digits: String = "1234567890".repeat(100_000);
        assert!(find_addresses(&digits).is_empty());
        // 40,000 distinct addresses on one line: all found, in order; as sources, capped.
        let many: String = (0..40_000u32)
            .map(|i| format!("185.{}.{}.{}, ", i >> 16, (i >> 8) & 255, i & 255))
            .collect();
        let found = find_addresses(&many);
        assert_eq!(found.len(), 40_000);
        assert_eq!(
            found.last().map(ToString::to_string).as_deref(),
            Some("185.0.156.63/32")
        );
        let s = find_sources(&many, true, 256);
        assert_eq!((s.ips.len(), s.over_cap), (256, 40_000 - 256));
    }

    proptest! {
        #[test]
        fn no_panic(s in "\\PC*") {
            let _ = find_addresses(&s);
        }

        #[test]
        fn no_panic_addressy(s in "[0-9a-fA-F:./ \\-x*–]{0,80}") {
            for n in find_addresses(&s) {
                let _ = non_global_reason(&n);
            }
        }

        #[test]
        fn singles_appear_in_text(s in "[0-9a-f:. ,\\-]{0,60}|([0-9a-f]{0,4}[:.]{1,2}){2,9}[ ,.:]") {
            for n in find_addresses(&s) {
                let single = n.prefix_len() == n.max_prefix_len();
                if single {
                    // Some substring of the text is this address (zero-padding allowed for v4).
                    let written = (0..=s.len()).any(|i| {
                        (i..=s.len()).any(|j| {
                            s.get(i..j).is_some_and(|t| {
                                parse_v4(t).map(IpAddr::V4) == Some(n.addr())
                                    || t.parse::<Ipv6Addr>().ok().map(IpAddr::V6) == Some(n.addr())
                            })
                        })
                    });
                    prop_assert!(written, "{n} not in {s:?}");
                }
            }
        }

        #[test]
        fn formatted_ipv4_round_trips(bits in any::<u32>(), pre in "[ a-z(:,]{0,3}", post in "[ ,.)]{0,3}") {
            let a = Ipv4Addr::from_bits(bits);
            let text = format!("{pre} {a}{post}");
            prop_assert_eq!(find_addresses(&text), vec![IpNet::V4(Ipv4Net::from(a))]);
        }

        #[test]
        fn formatted_ipv6_round_trips(bits in any::<u128>()) {
            let a = Ipv6Addr::from_bits(bits);
            let text = format!("from {a} on");
            let found = find_addresses(&text);
            if has_digit(&a) {
                prop_assert_eq!(found, vec![IpNet::V6(Ipv6Net::from(a))]);
            }
        }

        #[test]
        fn v4_ranges_cover_exactly(x in any::<u32>(), y in any::<u32>()) {
            let (a, b) = (x.min(y), x.max(y));
            let text = format!("{} - {}", Ipv4Addr::from_bits(a), Ipv4Addr::from_bits(b));
            let nets = find_addresses(&text);
            let total: u64 = nets.iter().map(|n| 1u64 << (32 - n.prefix_len())).sum();
            prop_assert_eq!(total, u64::from(b - a) + 1);
            // Contiguous, in order, and exactly from a to b.
            let mut next = u64::from(a);
            for n in &nets {
                let IpNet::V4(n) = n else { panic!() };
                prop_assert_eq!(u64::from(n.network().to_bits()), next);
                next = u64::from(n.broadcast().to_bits()) + 1;
            }
            prop_assert_eq!(next, u64::from(b) + 1);
        }

        #[test]
        fn v6_ranges_cover_exactly(x in any::<u128>(), d in any::<u64>()) {
            let a = x.min(u128::MAX - u128::from(d));
            let b = a + u128::from(d);
            let (fa, fb) = (Ipv6Addr::from_bits(a), Ipv6Addr::from_bits(b));
            prop_assume!(has_digit(&fa) && has_digit(&fb));
            let text = format!("{fa} to {fb}");
            let nets = find_addresses(&text);
            let mut next = a;
            for n in &nets {
                let IpNet::V6(n) = n else { panic!() };
                prop_assert_eq!(n.network().to_bits(), next);
                next = n.broadcast().to_bits().wrapping_add(1);
            }
            prop_assert_eq!(next, b.wrapping_add(1));
        }

        #[test]
        fn global_blocks_have_global_parts(bits in any::<u32>(), len in 0u8..=32) {
            let n = IpNet::V4(Ipv4Net::new(Ipv4Addr::from_bits(bits), len).unwrap().trunc());
            if is_globally_reachable(&n) {
                // Every sub-block of a global block is global.
                for sub in [n.network(), n.broadcast()] {
                    prop_assert!(is_globally_reachable(&net_of(sub)));
                }
            }
        }
    }
}
