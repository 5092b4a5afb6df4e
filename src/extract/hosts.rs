//! Finds target hostnames: from URLs and bare names, never from e-mail addresses.
//!
//! Decisions:
//! - A name counts only if the Public Suffix List (the `psl` crate) knows its suffix (or its
//!   last label is an `xn--` label), so `.sh`, `.amsterdam`, `.app`, `.dev` hosts are hosts and
//!   `http://intranet.local` is not. A name of one label and a suffix that is usually a file
//!   extension (`config.sh`, `app.py`, `readme.md`, `backup.zip`: [`FILE_EXTENSIONS`]) is a
//!   file, unless a scheme, a target field or a platform domain says host (`shop.lagoon.sh`
//!   with three labels is a host anyway).
//! - Every host under the platform's domains (apex and `www` included) is a target, even
//!   when it is also our own mail domain; only its documentation and support pages named in
//!   prose are references.
//! - A wildcard (`*.shop.example.ch`) stays a wildcard.
//! - Internationalised names are kept as written, lowercased (`münchen.example.de`), not
//!   converted to punycode.
//! - Without a scheme, a name whose TLD is written `Capitalised` after a lowercase label
//!   (`the site.It was`) is a missing space after a full stop, not a name; when what comes
//!   before is itself a name (`kunde.ch.Danke`), that name is taken.
//! - A URL's port, path, query and fragment are skipped, so names in paths or query strings
//!   (`?redirect=other.example.com`, `/files/report.pdf`) are never taken.
//! - Tool and vendor sites ([`is_tool_site`]) are dropped, as are names equal (case-insensitive)
//!   to an entry of `excluded_domains` (unless they are platform hosts). Customer routes on the platform
//!   (`myproject.amazeeio.cloud`, `nginx-myproject-prod.ch4.amazee.io`) are kept.

use std::collections::HashSet;

/// Hostnames in `text`, lowercase, without scheme, port or path, in order, without duplicates.
/// Names equal (case-insensitive) to one of `excluded_domains` are left out, as are tool and
/// vendor sites (see [`is_tool_site`]).
///
/// One pass over the text: runs of letters, digits, `-` and `.` are the candidates (a hand-made
/// tokenizer: a Unicode-aware regex for this is several times slower).
pub fn find_targets(text: &str, excluded_domains: &[&str]) -> Vec<String> {
    find_targets_with(
        text,
        &Context {
            excluded: excluded_domains,
            platform_domains: &[],
            labelled: false,
        },
    )
}

/// What is known about the text targets are read from.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Names never taken (our own mail domain, ...), unless they are platform hosts.
    pub excluded: &'a [&'a str],
    /// The platform's domains: every host there (apex, `www`, services, customer routes)
    /// is a target, even when it is also in `excluded`.
    pub platform_domains: &'a [String],
    /// The text is a labelled target field: every name in it is meant as a host, so a file
    /// extension that is also a public suffix (`.sh`, `.py`) is read as one.
    pub labelled: bool,
}

/// [`find_targets`] with the platform's domains and whether the text is a target field.
pub fn find_targets_with(text: &str, ctx: &Context<'_>) -> Vec<String> {
    // Dots other scripts write and defanged names are hosts all the same: a browser or a
    // tester's tool reads `ebanking。victim-bank。ch` and `hxxps://ebanking[.]victim-bank[.]ch`
    // as the real host, so the ownership check must see it too.
    let normalized = undefang(text, ctx.labelled);
    let text = normalized.as_str();
    let excluded: Vec<String> = ctx
        .excluded
        .iter()
        .map(|d| d.trim().trim_end_matches('.').to_lowercase())
        .collect();
    let platform = |name: &str| {
        ctx.platform_domains
            .iter()
            .any(|d| crate::domain::is_under(name, d))
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let len = text.len();
    let mut i = 0;
    while i < len {
        let (is_tok, w) = token_char_at(text, i);
        if !is_tok {
            i += w;
            continue;
        }
        let start = i;
        while i < len {
            // ASCII name characters in a tight loop; anything else as `token_char_at` says.
            let run = text
                .as_bytes()
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
                .count();
            if run > 0 {
                i += run;
                continue;
            }
            let (is_tok, w) = token_char_at(text, i);
            if !is_tok {
                break;
            }
            i += w;
        }
        let Some(token) = text.get(start..i) else {
            break;
        };
        // Hyphens and dots at the edges are punctuation ("shop.example.ch." ends a sentence).
        let front = token.trim_start_matches(['.', '-']);
        let host = front.trim_end_matches(['.', '-']);
        let s = start + (token.len() - front.len());
        let e = s + host.len();
        if !host.contains('.') {
            // `*.ch`: a wildcard over a whole public suffix is still a target (one nobody
            // owns), never a silent drop.
            // Most words are no wildcard: lowercased only when one is (both tests are pure).
            if !wildcard_before(text, s) {
                continue;
            }
            let lower = host.to_lowercase();
            if is_known_tld(&lower) {
                let name = format!("*.{lower}");
                if seen.insert(name.clone()) {
                    out.push(name);
                }
            }
            continue;
        }
        // A DNS label may hold `_` (`e_banking.victim-bank.ch` resolves); in prose such a
        // name is more often a file or an identifier, so there it needs a scheme.
        if host.contains('_') && !ctx.labelled && !after_scheme(text, s) {
            continue;
        }
        // The rest of a URL (port, path, query) never holds a target.
        if e == i {
            i = skip_url_rest(text, i);
        }
        let has_scheme = after_scheme(text, s);
        // "*.shop.example.ch": a wildcard stays one.
        let wildcard = wildcard_before(text, s);
        if !has_scheme && !wildcard && !stands_alone(text, s, e) {
            continue;
        }
        let mut name = host.to_lowercase();
        let host_like = |name: &str| {
            has_scheme || ctx.labelled || wildcard || platform(name) || !looks_like_file(name)
        };
        if wildcard && is_public_suffix(&name) {
            // `*.co.uk`: as `*.ch` above.
            name.insert_str(0, "*.");
            if seen.insert(name.clone()) {
                out.push(name);
            }
            continue;
        }
        if !has_scheme && (looks_like_sentence_glue(host) || !plausible(&name)) {
            // "kunde.ch.Danke": a missing space after a full stop; the name is what came before.
            match host.rsplit_once('.') {
                Some((head, last))
                    if head.contains('.') && last.starts_with(char::is_uppercase) =>
                {
                    name = head.to_lowercase();
                }
                _ => continue,
            }
        }
        if !plausible(&name) || !host_like(&name) {
            continue;
        }
        let ours = platform(&name);
        if !ours && (is_tool_site(&name) || excluded.contains(&name)) {
            continue;
        }
        // Platform documentation linked in prose is a reference, not a target; in a target
        // field it is one. Our own domain in prose ("Dear amazee.io team") is a target only
        // where the words say so ("against amazee.io", "…, amazee.io").
        if ours
            && !ctx.labelled
            && !has_scheme
            && (is_tool_site(&name) || (excluded.contains(&name) && !named_as_target(text, s)))
        {
            continue;
        }
        if wildcard {
            name.insert_str(0, "*.");
        }
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    // In a target field an address (`203.0.113.80`, `https://[2001:db8::80]/`) is a target
    // as much as a name: dropping it would accept a test of a host nobody checked.
    if ctx.labelled {
        for net in target_addresses(text) {
            let name = match net {
                ipnet::IpNet::V4(n) if n.prefix_len() == 32 => n.addr().to_string(),
                ipnet::IpNet::V6(n) if n.prefix_len() == 128 => n.addr().to_string(),
                other => other.to_string(),
            };
            if seen.insert(name.clone()) {
                out.push(name);
            }
        }
    }
    out
}

/// Whether `*.` stands right before byte `s` as the start of a wildcard (not inside a word,
/// a path or an address).
fn wildcard_before(text: &str, s: usize) -> bool {
    s > 1
        && text.get(..s).is_some_and(|b| {
            b.ends_with("*.")
                && !b
                    .get(..b.len() - 2)
                    .and_then(|p| p.chars().next_back())
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '/' | '@'))
        })
}

/// Whether `name` (lowercase) is itself a public suffix the Public Suffix List knows
/// (`ch`, `co.uk`), not a name registered under one.
fn is_public_suffix(name: &str) -> bool {
    psl::suffix(name.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == name.as_bytes())
}

/// The addresses a target field names. A field runs on over lines that carry a label of
/// their own ("Load generators: …", an iCalendar "DESCRIPTION:") and lines about sources
/// ("source IPs …"): those are not part of what the field names. (The same rule as the
/// sources' `field_addresses` in `extract::mod`, so an address is never both.)
pub fn target_addresses(field: &str) -> Vec<ipnet::IpNet> {
    let mut out = Vec::new();
    for (i, line) in field.lines().enumerate() {
        let lower = line.to_lowercase();
        let own_label = i > 0
            && lower.split_once(':').is_some_and(|(head, _)| {
                let head = head.trim();
                !head.is_empty()
                    && head.len() <= 40
                    && head
                        .chars()
                        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '_' | '(' | ')'))
            });
        let about_sources = i > 0
            && [
                "source",
                "from",
                "quell",
                "generator",
                "originat",
                "von ",
                "scanner",
            ]
            .iter()
            .any(|w| lower.contains(w));
        if !own_label && !about_sources {
            out.extend(crate::extract::net::find_addresses(line));
        }
    }
    out
}

/// `text` with the dots of other scripts (U+3002, U+FF0E, U+FF61, which IDNA maps to `.`)
/// and common defanging undone: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `hxxp(s)`, `[:]`;
/// in a target field also `name dot example dot ch`. One pass, linear.
fn undefang(text: &str, labelled: bool) -> String {
    const SWAPS: &[(&str, &str)] = &[
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{dot}", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("hxxp", "http"),
        // Link wrappers (Outlook safelinks, Google redirects) carry the real address as a
        // query value: decoded and split off, it is read as a host of its own.
        ("%3a%2f%2f", "://"),
        ("%2f", "/"),
        ("%2e", "."),
        ("=http", "= http"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < text.len() {
        // A run of ASCII bytes that start nothing below is copied as it is (most of a
        // text; char by char it was most of the time spent here).
        let run = text
            .as_bytes()
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| {
                b < 0x80 && !matches!(b, b'[' | b'(' | b'{' | b'h' | b'H' | b'%' | b'=' | b' ')
            })
            .count();
        if run > 0 {
            out.push_str(text.get(i..i + run).unwrap_or(""));
            i += run;
            continue;
        }
        let rest = text.get(i..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            break;
        };
        if matches!(c, '\u{3002}' | '\u{FF0E}' | '\u{FF61}') {
            out.push('.');
            i += c.len_utf8();
            continue;
        }
        if matches!(c, '[' | '(' | '{' | 'h' | 'H' | '%' | '=') {
            for (from, to) in SWAPS {
                if rest
                    .get(..from.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(from))
                {
                    out.push_str(to);
                    i += from.len();
                    continue 'outer;
                }
            }
        }
        // "ebanking dot victim-bank dot ch": only where every word is meant as a host.
        if labelled
            && c == ' '
            && rest
                .get(..5)
                .is_some_and(|h| h.eq_ignore_ascii_case(" dot "))
            && out.chars().next_back().is_some_and(char::is_alphanumeric)
            && rest
                .get(5..)
                .and_then(|r| r.chars().next())
                .is_some_and(char::is_alphanumeric)
        {
            out.push('.');
            i += 5;
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Whether a target field points to a list intake cannot read ("the hosts in the attached
/// scope.xlsx", "siehe Anhang"): the targets found in it are then not all the targets.
pub fn refers_elsewhere(field: &str) -> bool {
    let lower = field.to_lowercase();
    // One search for all the words and file kinds first: most fields name none, and a
    // search per entry was most of the time here. Only a hit needs the edge tests below.
    static ANY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        let alternatives: Vec<String> = WORDS
            .iter()
            .chain(FILES)
            .map(|p| regex::escape(p))
            .collect();
        #[allow(clippy::expect_used)]
        regex::Regex::new(&alternatives.join("|")).expect("static regex")
    });
    if !ANY.is_match(&lower) {
        return false;
    }
    const WORDS: &[&str] = &[
        "attached",
        "attachment",
        "enclosed",
        "anhang",
        "angehängt",
        "angehaengt",
        "beigefügt",
        "beigefuegt",
        "beilage",
        "anlage",
        "separate list",
        "separate mail",
        "separate e-mail",
        "separate email",
        "separater liste",
        "separaten liste",
        "separater mail",
        "see list",
        "siehe liste",
    ];
    const FILES: &[&str] = &[
        ".xlsx", ".xls", ".csv", ".pdf", ".docx", ".doc", ".txt", ".ods", ".odt", ".zip",
    ];
    let word_at = |p: &str| {
        lower.match_indices(p).any(|(i, _)| {
            let before = lower.get(..i).and_then(|b| b.chars().next_back());
            !before.is_some_and(char::is_alphanumeric)
        })
    };
    let file_at = |p: &str| {
        lower.match_indices(p).any(|(i, _)| {
            let after = lower.get(i + p.len()..).and_then(|a| a.chars().next());
            !after.is_some_and(char::is_alphanumeric)
        })
    };
    WORDS.iter().any(|w| word_at(w)) || FILES.iter().any(|f| file_at(f))
}

/// Whether the words just before byte `s` make the name there a target: a test word or
/// "against" right before it, or a list (`:`, `,`, `/`, "and").
fn named_as_target(text: &str, s: usize) -> bool {
    let mut from = s.saturating_sub(64);
    while from < s && !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text.get(from..s).unwrap_or("").trim_end();
    if before.ends_with([':', ',', ';', '(']) {
        return true;
    }
    let prev = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    [
        "against",
        "gegen",
        "target",
        "targets",
        "ziel",
        "test",
        "testing",
        "tests",
        "scan",
        "scanning",
        "pentest",
        "attack",
        "attacking",
        "and",
        "und",
        "including",
        "inkl",
        "also",
        "auch",
        "of",
        "von",
    ]
    .contains(&prev.as_str())
}

/// Whether the character at byte `i` can be part of a hostname token, and its length.
fn token_char_at(text: &str, i: usize) -> (bool, usize) {
    match text.as_bytes().get(i) {
        None => (false, 1),
        Some(&b) if b < 0x80 => (
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'),
            1,
        ),
        Some(_) => match text.get(i..).and_then(|r| r.chars().next()) {
            Some(c) => (c.is_alphanumeric(), c.len_utf8()),
            // Not a char boundary: cannot happen when `i` advances by whole chars.
            None => (false, 1),
        },
    }
}

/// Whether the name starting at `s` follows `scheme://` (with optional `user:pw@`).
fn after_scheme(text: &str, s: usize) -> bool {
    let Some(before) = text.get(..s) else {
        return false;
    };
    let Some(rest) = before.strip_suffix("://").or_else(|| {
        // user info: "https://user:pw@host"
        let at = before.strip_suffix('@')?;
        // Bounded look-back keeps a long run of "a.b@a.b@..." linear.
        let mut from = at.len().saturating_sub(128);
        while !at.is_char_boundary(from) {
            from += 1;
        }
        let word_start = at
            .get(from..)?
            .rfind(|c: char| c.is_whitespace() || matches!(c, '<' | '(' | '"' | '[' | '\''))
            .map_or(from, |p| from + p + 1);
        let word = at.get(word_start..)?;
        let sep = word.find("://")?;
        let info = word.get(sep + 3..)?;
        (!info.contains(['/', '@'])).then(|| at.get(..word_start + sep))?
    }) else {
        return false;
    };
    let scheme = rest
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "ftp" | "ws" | "wss")
}

/// Whether the name at `s..e` (not after a scheme) is a name of its own: not part of an e-mail
/// address (`@` on either side), a file path (`/` before it) or a query string.
fn stands_alone(text: &str, s: usize, e: usize) -> bool {
    let before = text.get(..s).and_then(|b| b.chars().next_back());
    let after = text.get(e..).and_then(|a| a.chars().next());
    if after.is_some_and(|c| c == '@' || c == '_') {
        return false;
    }
    !matches!(
        before,
        Some('@' | '_' | '/' | '\\' | '%' | '=' | '&' | '.' | '-')
    )
}

/// `site.It`: a lowercase word, a full stop without a space, then a capitalised word.
fn looks_like_sentence_glue(raw: &str) -> bool {
    let Some((head, tld)) = raw.rsplit_once('.') else {
        return false;
    };
    let mut chars = tld.chars();
    let capitalised = chars.next().is_some_and(char::is_uppercase)
        && chars.clone().next().is_some()
        && chars.all(char::is_lowercase);
    capitalised && head.chars().any(char::is_lowercase)
}

/// Skips a URL's `:port`, path, query and fragment after the name ending at `e`.
fn skip_url_rest(text: &str, e: usize) -> usize {
    let Some(rest) = text.get(e..) else {
        return e;
    };
    let mut i = 0;
    if let Some(port) = rest.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            i = 1 + digits;
        }
    }
    if rest
        .get(i..)
        .is_some_and(|r| r.starts_with(['/', '?', '#']))
    {
        let tail = rest.get(i..).unwrap_or("");
        i += tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
    }
    e + i
}

/// Length limits, a public suffix known to the Public Suffix List (the `psl` crate) with a
/// label below it, and not a product name that looks like a host (`asp.net`).
fn plausible(name: &str) -> bool {
    if name.len() > 253
        || name
            .split('.')
            .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return false;
    }
    let Some(tld) = name.rsplit('.').next() else {
        return false;
    };
    let known = psl::domain(name.as_bytes()).is_some_and(|d| d.suffix().is_known());
    if !(known || (tld.starts_with("xn--") && tld.len() > 4 && name.contains('.'))) {
        return false;
    }
    !FRAMEWORK_NAMES.contains(&name)
}

/// Names that look like hostnames but are products.
const FRAMEWORK_NAMES: &[&str] = &["asp.net", "ado.net", "vb.net", "dot.net"];

/// Public suffixes that are far more often file extensions in these mails (`deploy.sh`,
/// `app.py`, `readme.md`, `backup.zip`, `server.key`), including generic TLDs.
///
/// Kept short on purpose: suffixes customers really use for their apex (`.ai`, `.in`,
/// `.pl`, `.pro`) are not on it, so `example.ai` stays a host.
const FILE_EXTENSIONS: &[&str] = &[
    "rs", "md", "sh", "py", "so", "cc", "pm", "tf", "ml", "mk", "ps", "zip", "mov", "key", "pub",
];

/// A name of one label and a suffix that is usually a file extension (`config.sh`), not
/// `shop.lagoon.sh` or `www.example.py`: read as a file unless the context says host
/// (scheme, target field, platform domain).
fn looks_like_file(name: &str) -> bool {
    let Some((head, ext)) = name.rsplit_once('.') else {
        return false;
    };
    FILE_EXTENSIONS.contains(&ext) && !head.contains('.')
}

/// Whether `tld` (lowercase, no dot) is a public suffix the Public Suffix List knows.
pub fn is_known_tld(tld: &str) -> bool {
    psl::suffix(tld.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == tld.as_bytes())
}

/// Sites of load-testing tools, code hosting, meeting and mail services, and amazee.io's own
/// documentation and web pages: customers name them as the tool, not the target.
const TOOL_SITES: &[&str] = &[
    "k6.io",
    "grafana.com",
    "grafana.net",
    "loader.io",
    "blazemeter.com",
    "gatling.io",
    "locust.io",
    "artillery.io",
    "apache.org",
    "github.com",
    "githubusercontent.com",
    "gitlab.com",
    "google.com",
    "microsoft.com",
    "office.com",
    "outlook.com",
    "live.com",
    "zoom.us",
    "webex.com",
    "slack.com",
    "owasp.org",
    "portswigger.net",
    "zaproxy.org",
    "nmap.org",
];

/// Whether `name` (lowercase) is a tool or vendor site or amazee.io's documentation or
/// support pages; the apex, `www` and customer routes under amazee.io are not.
pub fn is_tool_site(name: &str) -> bool {
    let under = |domain: &str| {
        name == domain
            || name
                .strip_suffix(domain)
                .is_some_and(|head| head.ends_with('.'))
    };
    if TOOL_SITES.iter().any(|d| under(d)) {
        return true;
    }
    if let Some(head) = name.strip_suffix(".amazee.io") {
        let label = head.rsplit('.').next().unwrap_or(head);
        return matches!(label, "docs" | "support");
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(text: &str) -> Vec<String> {
        find_targets(text, &[])
    }

    #[test]
    fn a_public_suffix_is_no_host() {
        // Found by the property test below: `it.com` is a public suffix (CentralNic).
        assert!(t("Please test https://it.com/x and it.com.").is_empty());
    }

    /// With the default platform domains, our own mail domain excluded, `labelled` for a
    /// target field.
    fn platform(text: &str, labelled: bool) -> Vec<String> {
        let domains = crate::decide::Rules::default().platform_domains;
        find_targets_with(
            text,
            &Context {
                excluded: &["amazee.io"],
                platform_domains: &domains,
                labelled,
            },
        )
    }

    /// Red-team 007–009: an address in the target field was dropped and the message accepted
    /// for the one owned host.
    #[test]
    fn ip_target_in_target_field_is_kept_not_dropped() {
        assert_eq!(
            platform(
                "https://shop.evil-agency.net and 203.0.113.80 (our second load balancer)",
                true
            ),
            ["shop.evil-agency.net", "203.0.113.80"]
        );
        assert_eq!(
            platform("https://shop.evil-agency.net, https://203.0.113.80/", true),
            ["shop.evil-agency.net", "203.0.113.80"]
        );
        assert_eq!(
            platform(
                "Zielsysteme: https://[2001:db8::80]/ und shop.evil-agency.net",
                true
            ),
            ["shop.evil-agency.net", "2001:db8::80"]
        );
        assert_eq!(platform("198.51.100.0/28", true), ["198.51.100.0/28"]);
        // A line of its own about sources is not part of what the field names.
        assert_eq!(
            platform("shop.example.ch\nsource IPs 185.199.110.17", true),
            ["shop.example.ch"]
        );
        // In prose an address is no target name (sources are read there).
        assert_eq!(t("we test from 203.0.113.80"), Vec::<String>::new());
    }

    /// Red-team 010/011: dots of other scripts, which IDNA maps to '.'.
    #[test]
    fn ideographic_and_fullwidth_dots_are_dots() {
        assert_eq!(
            platform(
                "https://shop.evil-agency.net, https://ebanking\u{3002}victim-bank\u{3002}ch",
                true
            ),
            ["shop.evil-agency.net", "ebanking.victim-bank.ch"]
        );
        assert_eq!(
            t("Ziel: ebanking\u{FF0E}victim-bank\u{FF0E}ch und login\u{FF61}victim-bank\u{FF61}ch"),
            ["ebanking.victim-bank.ch", "login.victim-bank.ch"]
        );
    }

    /// Red-team 012: `*.ch` in the target list vanished; a wildcard over a public suffix is a
    /// target nobody owns.
    #[test]
    fn wildcard_over_a_public_suffix_is_kept() {
        assert_eq!(
            platform("shop.evil-agency.net, *.ch", true),
            ["shop.evil-agency.net", "*.ch"]
        );
        assert_eq!(
            platform("*.co.uk and *.shop.example.ch", true),
            ["*.co.uk", "*.shop.example.ch"]
        );
        assert_eq!(t("Scope: *.ch"), ["*.ch"]);
        // Not a wildcard: a multiplication or a file glob inside a path.
        assert_eq!(t("3*.5 and /tmp/*.ch"), Vec::<String>::new());
    }

    /// Red-team 098/099: a target copied from Outlook or Google carries the real host inside
    /// the wrapper's query.
    #[test]
    fn hosts_inside_link_wrappers_are_read() {
        let ctx = Context {
            excluded: &[],
            platform_domains: &[],
            labelled: true,
        };
        let t = find_targets_with(
            "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Febanking.victim-bank.ch%2Flogin&data=05%7C01",
            &ctx,
        );
        assert!(t.contains(&"ebanking.victim-bank.ch".to_string()), "{t:?}");
        let t = find_targets_with(
            "https://www.google.com/url?q=https://ebanking.victim-bank.ch/&sa=D",
            &ctx,
        );
        assert!(t.contains(&"ebanking.victim-bank.ch".to_string()), "{t:?}");
    }

    /// Red-team 088–092: defanged names, as testers write hosts in reports.
    #[test]
    fn defanged_target_names_are_read() {
        assert_eq!(
            platform("shop.evil-agency.net, ebanking[.]victim-bank[.]ch", true),
            ["shop.evil-agency.net", "ebanking.victim-bank.ch"]
        );
        assert_eq!(
            platform("hxxps://ebanking.victim-bank.ch/login", true),
            ["ebanking.victim-bank.ch"]
        );
        assert_eq!(
            platform("HXXPS[://]ebanking(.)victim-bank(dot)ch", true),
            ["ebanking.victim-bank.ch"]
        );
        assert_eq!(
            platform("ebanking dot victim-bank dot ch", true),
            ["ebanking.victim-bank.ch"]
        );
        assert_eq!(
            platform("ebanking.victim-bank(.)ch", true),
            ["ebanking.victim-bank.ch"]
        );
        // In prose "dot" stays a word.
        assert_eq!(t("the shop dot com era"), Vec::<String>::new());
        assert_eq!(
            t("Ziel: hxxp://ebanking[.]victim-bank[.]ch"),
            ["ebanking.victim-bank.ch"]
        );
    }

    /// Red-team 092: underscore labels resolve in DNS and browsers.
    #[test]
    fn underscore_labels_in_a_target_are_hosts() {
        assert_eq!(
            platform("https://e_banking.victim-bank.ch", true),
            ["e_banking.victim-bank.ch"]
        );
        assert_eq!(
            t("Target: https://e_banking.victim-bank.ch/"),
            ["e_banking.victim-bank.ch"]
        );
        // In prose without a scheme: an identifier or a file, as before.
        assert_eq!(
            t("see my_script.example.sh and _dmarc.example.ch"),
            Vec::<String>::new()
        );
        assert_eq!(t("mail first_last@example.ch"), Vec::<String>::new());
    }

    /// Red-team 093: targets said to be in an attachment intake cannot read.
    #[test]
    fn target_field_referring_to_an_attachment_is_flagged() {
        assert!(refers_elsewhere(
            "https://shop.evil-agency.net and the hosts in the attached scope.xlsx"
        ));
        assert!(refers_elsewhere(
            "shop.example.ch sowie alle Hosts gemäss Anhang"
        ));
        assert!(refers_elsewhere("see targets.csv"));
        assert!(refers_elsewhere("Liste in der Beilage"));
        assert!(!refers_elsewhere("https://shop.example.ch, api.example.ch"));
        assert!(!refers_elsewhere(
            "shop.example.ch (PDF export page: /export.pdfx)"
        ));
        assert!(!refers_elsewhere("unattached.example.ch"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            t("Target: https://shop.example.ch/path?x=1"),
            ["shop.example.ch"]
        );
        assert_eq!(
            t("http://staging.example.com:8080/login"),
            ["staging.example.com"]
        );
        assert_eq!(t("www.example.org/checkout"), ["www.example.org"]);
        assert_eq!(t("<https://shop.example.ch>"), ["shop.example.ch"]);
        assert_eq!(t("(https://shop.example.ch)."), ["shop.example.ch"]);
        assert_eq!(t("HTTPS://Shop.Example.CH/"), ["shop.example.ch"]);
        assert_eq!(t("https://user:pw@shop.example.ch/"), ["shop.example.ch"]);
        assert_eq!(t("see:https://shop.example.ch"), ["shop.example.ch"]);
        assert_eq!(t("x https://a@b@shop.example.ch"), Vec::<String>::new());
        assert_eq!(
            t("https://shop.example.ch/redirect?to=evil.example.net&f=report.pdf"),
            ["shop.example.ch"]
        );
        assert_eq!(t("https://shop.example.ch/#/cart"), ["shop.example.ch"]);
        assert_eq!(t("wss://ws.example.ch/socket"), ["ws.example.ch"]);
    }

    #[test]
    fn bare_names() {
        assert_eq!(
            t("Please test api.example.ch and Example.COM."),
            ["api.example.ch", "example.com"]
        );
        assert_eq!(
            t("Ziel: shop.example.ch, www.example.ch)"),
            ["shop.example.ch", "www.example.ch"]
        );
        assert_eq!(
            t("Domains:\tshop.example.ch\twww.example.swiss"),
            ["shop.example.ch", "www.example.swiss"]
        );
        assert_eq!(t("shop.example.ch; shop.example.ch"), ["shop.example.ch"]);
        assert_eq!(
            t("my-app.example.digital, app.example.online, a.example.tech"),
            [
                "my-app.example.digital",
                "app.example.online",
                "a.example.tech"
            ]
        );
        assert_eq!(t("example.co.uk"), ["example.co.uk"]);
        assert_eq!(t("münchen.example.de"), ["münchen.example.de"]);
        assert_eq!(
            t("xn--mnchen-3ya.example.de"),
            ["xn--mnchen-3ya.example.de"]
        );
        assert_eq!(t("shop.xn--p1ai"), ["shop.xn--p1ai"]);
        assert_eq!(t("example.ch's checkout"), ["example.ch"]);
    }

    #[test]
    fn punctuation_and_glue() {
        assert_eq!(
            t("See www.Kunde-Shop.CH and kunde-shop.ch:443."),
            ["www.kunde-shop.ch", "kunde-shop.ch"]
        );
        assert_eq!(t("Bitte testen Sie kunde.ch.Danke!"), ["kunde.ch"]);
        assert_eq!(t("Target shop.kunde.ch.Thanks, Jane"), ["shop.kunde.ch"]);
        assert_eq!(
            t("The site (http://www.example.ch/) has a CDN (example.ch.cdn.cloudflare.net)."),
            ["www.example.ch", "example.ch.cdn.cloudflare.net"]
        );
        assert_eq!(
            t("on shop.example.com (staging: stage.shop.example.com)."),
            ["shop.example.com", "stage.shop.example.com"]
        );
        assert_eq!(
            t("«shop.example.ch»; „www.example.ch“"),
            ["shop.example.ch", "www.example.ch"]
        );
        assert_eq!(
            t("shop.example.ch- and foo-.example.ch"),
            ["shop.example.ch"]
        );
        assert_eq!(t("shop..example.ch"), Vec::<String>::new());
        assert_eq!(t("my_app.example.ch"), Vec::<String>::new());
    }

    #[test]
    fn never_from_email() {
        assert_eq!(t("bob@example.com"), Vec::<String>::new());
        assert_eq!(t("mailto:bob@example.com"), Vec::<String>::new());
        assert_eq!(
            t("Kontakt: Hans Muster <hans.muster@mail.example.ch>"),
            Vec::<String>::new()
        );
        assert_eq!(
            t("bob.smith@shop.example.ch, then shop.example.ch"),
            ["shop.example.ch"]
        );
    }

    #[test]
    fn not_names() {
        for text in [
            "see index.html and report.pdf",
            "config.yml, main.rs, readme.md, README.md",
            "run script.sh or app.py",
            "built with node.js, Next.js, Vue.js and ASP.NET",
            "e.g. this, i.e. that",
            "z.B. dies, u.a. das, ca. 300",
            "version 1.2.3, v2.0.1",
            "from 203.0.113.5",
            "http://10.0.0.1:8080/",
            "localhost:3000",
            "http://intranet.local/",
            "the site.It was down",
            "/var/www/example.com/index.php",
            "archive.zip and clip.mov",
            "St.Gallen",
            "Grüezi.Wir testen",
            "_dmarc.example.com",
            "Done.Thanks for your help.Regards",
            "Files: test-plan.jmx, results.csv, load.js, run.sh, index.php, /wp-admin/admin-ajax.php",
            "settings.py and deploy.rs and notes.md",
            "Sender: \"Security Team\" <security@pentest-firm.com>",
        ] {
            assert_eq!(t(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn tool_sites_and_platform_routes() {
        let text = "We use k6.io (https://grafana.com/docs/k6), loader.io, blazemeter.com, \
            gatling.io, locust.io, jmeter.apache.org and apache.org; code on github.com and \
            gitlab.com; call on teams.microsoft.com or zoom.us, see docs.amazee.io, \
            www.amazee.io and amazee.io. Targets: myproject.amazeeio.cloud and \
            nginx-myproject-prod.ch4.amazee.io";
        // The platform's apex and `www` are targets when named (a test of them is one of
        // the platform); its documentation named in prose is a reference.
        assert_eq!(
            platform(text, false),
            [
                "www.amazee.io",
                "amazee.io",
                "myproject.amazeeio.cloud",
                "nginx-myproject-prod.ch4.amazee.io"
            ]
        );
        assert!(is_tool_site("app.k6.io"));
        assert!(is_tool_site("docs.amazee.io"));
        assert!(!is_tool_site("amazee.io"));
        assert!(!is_tool_site("www.amazee.io"));
        assert!(is_tool_site("support.amazee.io"));
        assert!(!is_tool_site("foo.amazee.io"));
        assert!(!is_tool_site("notk6.io"));
        assert!(!is_tool_site("mygithub.com"));
    }

    #[test]
    fn excluded_domains_are_exact() {
        let text = "Targets: example.ch, shop.example.ch, OTHER.example.ch";
        assert_eq!(
            find_targets(text, &["Example.CH"]),
            ["shop.example.ch", "other.example.ch"]
        );
        assert_eq!(
            find_targets(text, &["other.example.ch."]),
            ["example.ch", "shop.example.ch"]
        );
    }

    #[test]
    fn realistic_mails() {
        let en = "Hello support,\nwe (Acme AG, acme.ch) would like to run a load test against \
            https://shop.acme.ch and the API api.acme.ch/v2 from 14.12.2026.\nTool: k6 \
            (https://k6.io), report to ops@acme.ch.\nRegards, Jane";
        assert_eq!(t(en), ["acme.ch", "shop.acme.ch", "api.acme.ch"]);
        let de = "Grüezi\nWir möchten einen Penetrationstest auf www.beispiel.ch bzw. \
            beispiel.ch (inkl. Login unter https://login.beispiel.ch:8443/) durchführen, \
            z.B. mit OWASP ZAP (zaproxy.org).\nFreundliche Grüsse\nHans (hans@beispiel.ch)";
        assert_eq!(
            t(de),
            ["www.beispiel.ch", "beispiel.ch", "login.beispiel.ch"]
        );
    }

    #[test]
    fn big_input_is_fast() {
        // Big hostile inputs give the right answer (the speed is measured in benches/).
        let none = Vec::<String>::new();
        assert_eq!(t(&"a.".repeat(500_000)), none);
        assert_eq!(t(&("a-".repeat(500_000) + ".ch")), none);
        assert_eq!(t(&"https://".repeat(100_000)), none);
        assert_eq!(t(&"a.ch@".repeat(200_000)), none);
        assert_eq!(t(&"https://a.ch/".repeat(100_000)), ["a.ch"]);
        assert_eq!(t(&"*.".repeat(300_000)), none);
        let many: String = (0..40_000).map(|i| format!("h{i}.example.ch ")).collect();
        let found = t(&many);
        assert_eq!(found.len(), 40_000);
        assert_eq!(found.last().map(String::as_str), Some("h39999.example.ch"));
    }

    #[test]
    fn public_suffixes_decide_what_is_a_host() {
        assert_eq!(
            t("Targets: shop.lagoon.sh, events.example.amsterdam, app.example.dev, my.example.app"),
            [
                "shop.lagoon.sh",
                "events.example.amsterdam",
                "app.example.dev",
                "my.example.app"
            ]
        );
        assert_eq!(
            t("www.example.py and api.example.zip"),
            ["www.example.py", "api.example.zip"]
        );
        // Unknown suffixes are not hosts.
        assert_eq!(
            t("shop.example.invalidtld and intranet.corp"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn file_names_with_a_suffix_that_is_a_tld_are_files() {
        for text in [
            "see report.pdf and index.php",
            "run config.sh, then app.py; notes in readme.md",
            "the archive backup.zip and demo.mov",
            "keys: server.key and id_rsa.pub",
            "hashes in checksums.md, keys in deploy.key",
        ] {
            assert_eq!(t(text), Vec::<String>::new(), "{text}");
        }
        // A scheme, a target field or the platform says host.
        assert_eq!(t("https://config.sh/"), ["config.sh"]);
        let labelled = find_targets_with(
            "Targets: tools.sh",
            &Context {
                excluded: &[],
                platform_domains: &[],
                labelled: true,
            },
        );
        assert_eq!(labelled, ["tools.sh"]);
        assert_eq!(platform("Pentest of lagoon.sh", false), ["lagoon.sh"]);
    }

    #[test]
    fn wildcards_stay_wildcards() {
        assert_eq!(
            t("Targets: *.shop.example.ch and www.example.ch"),
            ["*.shop.example.ch", "www.example.ch"]
        );
        assert_eq!(t("Ziel: *.example.ch"), ["*.example.ch"]);
        // Not a wildcard: glued to a word or a path.
        assert_eq!(t("files/*.example.ch"), Vec::<String>::new());
    }

    #[test]
    fn platform_hosts_are_targets_even_as_our_own_domain() {
        assert_eq!(
            platform("Targets: amazee.io, www.amazee.io", true),
            ["amazee.io", "www.amazee.io"]
        );
        assert_eq!(
            platform(
                "We will run a load test against amazee.io next week.",
                false
            ),
            ["amazee.io"]
        );
        assert_eq!(
            platform("Pentest of www.amazee.io", false),
            ["www.amazee.io"]
        );
        // Greeting the team, reading the docs: no target.
        assert_eq!(
            platform(
                "Dear amazee.io team, as docs.amazee.io says, we test shop.example.ch.",
                false
            ),
            ["shop.example.ch"]
        );
        // In a target field the documentation host is a target too.
        assert_eq!(
            platform("Targets: docs.amazee.io", true),
            ["docs.amazee.io"]
        );
        // Not a platform domain: our own domain stays excluded.
        assert_eq!(
            find_targets_with(
                "Targets: example.net, shop.example.ch",
                &Context {
                    excluded: &["example.net"],
                    platform_domains: &[],
                    labelled: true
                }
            ),
            ["shop.example.ch"]
        );
    }

    proptest! {
        #[test]
        fn no_panic(s in "\\PC*") {
            let _ = t(&s);
        }

        #[test]
        fn results_are_lowercase_substrings(s in "[a-zA-Z0-9.@/:ü -]{0,60}") {
            let lower = s.to_lowercase();
            for h in t(&s) {
                prop_assert!(lower.contains(&h), "{h} not in {s:?}");
                prop_assert_eq!(h.clone(), h.to_lowercase());
                prop_assert!(!h.contains('@') && !h.contains('/'));
            }
        }

        #[test]
        fn generated_hosts_are_found(labels in prop::collection::vec("[a-z][a-z0-9-]{0,10}[a-z0-9]", 1..4), tld in prop::sample::select(vec!["ch", "com", "swiss", "de", "io", "cloud"])) {
            let host = format!("{}.{tld}", labels.join("."));
            prop_assume!(!is_tool_site(&host));
            // A public suffix (`it.com`, `us.com` are on the list) is nobody's host.
            prop_assume!(crate::domain::org_domain(&host).is_some());
            let text = format!("Please test https://{host}/x and {host}.");
            prop_assert_eq!(t(&text), vec![host.clone()]);
            prop_assert_eq!(t(&format!("mail me: info@{host}")), Vec::<String>::new());
        }
    }
}
