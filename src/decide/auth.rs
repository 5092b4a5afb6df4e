//! Sender verification: is the domain of the one From mailbox authenticated by our own
//! `Authentication-Results` (RFC 8601), by DMARC (RFC 7489) or an aligned DKIM/SPF pass?
//!
//! Only a header our border MTA wrote means anything: those whose authserv-id is
//! `rules.trusted_authserv_id` (all of them: one MTA writes one per milter), else the topmost.
//! With the id set, only headers above our MX's border `Received:` are handed in
//! (`check::trusted_authentication_results`): one with our id further down was written by
//! the sender. Results among ours that contradict each other prove nothing.
//! Everything that does not positively prove the From domain is `Unverified`, with the reason
//! in words for staff. Verification never looks at a forwarded author: the From (the
//! forwarder) is who wrote this message.

use super::rules::{Rules, SenderVerification};
use crate::domain::{domain_of, is_under, org_domain, same_org};
use crate::read::Letter;

/// Headers read at most (the reader keeps 50); more is an attack, not mail.
const MAX_HEADERS: usize = 50;
/// Characters of one header value read at most; real ones are a few hundred.
const MAX_HEADER_CHARS: usize = 8 << 10;
/// Results (`method=result ...` clauses) read per header at most.
const MAX_RESULTS: usize = 64;
/// Properties read per result at most.
const MAX_PROPS: usize = 16;

/// The outcome for the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderCheck {
    /// Authenticated; says how, for staff (`DMARC pass`, `aligned DKIM pass (d=…)`, …).
    Verified(String),
    /// Not authenticated; says why, for staff.
    Unverified(String),
}

impl SenderCheck {
    pub fn is_verified(&self) -> bool {
        matches!(self, SenderCheck::Verified(_))
    }
}

/// The sender as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Domain of the one From mailbox, lowercase; `None` without exactly one From mailbox.
    pub domain: Option<String>,
    pub check: SenderCheck,
}

impl Sender {
    pub fn verified(&self) -> bool {
        self.check.is_verified()
    }

    /// A verified sender of `domain` (tests and callers that verified elsewhere).
    pub fn verified_for(domain: &str) -> Sender {
        Sender {
            domain: Some(domain.to_ascii_lowercase()),
            check: SenderCheck::Verified("verified".into()),
        }
    }
}

/// Verifies the sender of `letter` under `rules`. `own_address` is our `addresses.from`:
/// mail claiming our own domains (or the platform's) is never taken without verification.
pub fn verify(letter: &Letter, rules: &Rules, own_address: &str) -> Sender {
    verify_with(letter, &letter.authentication_results, rules, own_address)
}

/// [`verify`] over `headers`, the `Authentication-Results` values of our own zone (topmost
/// first), as `check::trusted_authentication_results` finds them in the raw header block:
/// a header with our id below our MX's `Received:` is the sender's and never counts.
pub fn verify_with(
    letter: &Letter,
    headers: &[String],
    rules: &Rules,
    own_address: &str,
) -> Sender {
    let domain = if letter.from_problem.is_none() {
        letter.from.as_deref().and_then(domain_of)
    } else {
        None
    };
    let check = match (&letter.from_problem, &domain) {
        // No single author: nothing to verify, whatever the headers say (RFC 7489 §6.6.1).
        (Some(why), _) => SenderCheck::Unverified(format!("{why}, so there is no single sender")),
        (None, None) => SenderCheck::Unverified("the From header holds no usable address".into()),
        (None, Some(d)) => match rules.sender_verification {
            SenderVerification::Off if is_own(d, rules, own_address) => {
                SenderCheck::Unverified(format!(
                    "sender verification is off, and mail claiming our own domain {d} is never taken unverified"
                ))
            }
            SenderVerification::Off => SenderCheck::Verified(
                "sender verification is off ([rules] sender_verification)".into(),
            ),
            SenderVerification::Dmarc => {
                check_sender(headers, rules.trusted_authserv_id.as_deref(), d)
            }
        },
    };
    Sender { domain, check }
}

/// `domain` is ours: in the organizational domain of `own_address`, or under a platform domain.
pub fn is_own(domain: &str, rules: &Rules, own_address: &str) -> bool {
    // A domain under a suffix the list does not know (a test setup's `amazee.test`) is
    // its own organization.
    let own_org = domain_of(own_address).map(|d| org_domain(&d).unwrap_or(d));
    own_org.is_some_and(|o| is_under(domain, &o))
        || rules.platform_domains.iter().any(|p| is_under(domain, p))
}

/// Checks `from_domain` against the trusted headers among `headers` (topmost first).
/// `authserv_id` set: every header with that id counts, and any failure among them wins.
/// Unset: only the topmost header counts (our MX prepends it last).
pub fn check_sender(
    headers: &[String],
    authserv_id: Option<&str>,
    from_domain: &str,
) -> SenderCheck {
    let from_domain = from_domain.trim().to_ascii_lowercase();
    let parsed: Vec<ArHeader> = headers
        .iter()
        .take(MAX_HEADERS)
        .map(|h| parse_header(h))
        .collect();
    if parsed.is_empty() {
        return SenderCheck::Unverified("the message has no Authentication-Results header".into());
    }
    let trusted: Vec<&ArHeader> = match authserv_id {
        Some(id) => parsed
            .iter()
            .filter(|h| {
                h.authserv
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(id))
            })
            .collect(),
        None => parsed.first().into_iter().collect(),
    };
    if trusted.is_empty() {
        let others: Vec<&str> = parsed
            .iter()
            .map(|h| {
                h.authserv
                    .as_deref()
                    .unwrap_or("(no authserv-id, Microsoft 365 style)")
            })
            .take(5)
            .collect();
        return SenderCheck::Unverified(format!(
            "no Authentication-Results from our server {}; only from {}",
            authserv_id.unwrap_or("?"),
            others.join(", ")
        ));
    }
    evaluate(&trusted, &from_domain)
}

/// The verdict over the trusted headers' results.
fn evaluate(trusted: &[&ArHeader], from: &str) -> SenderCheck {
    let results = || trusted.iter().flat_map(|h| h.results.iter());
    if let Some((a, b)) = contradiction(trusted) {
        return SenderCheck::Unverified(format!(
            "our Authentication-Results contradict each other ({a} and {b})"
        ));
    }
    // Any failure of the verdict-carrying methods wins over any pass.
    if let Some(r) = results().find(|r| {
        r.method == "dmarc" && matches!(r.result.as_str(), "fail" | "temperror" | "permerror")
    }) {
        let about = r.prop("header.from").unwrap_or(from);
        return SenderCheck::Unverified(format!("DMARC {} for {about}", r.result));
    }
    // Microsoft 365's composite verdict: anything but pass is a failure.
    if let Some(r) = results().find(|r| r.method == "compauth" && r.result != "pass") {
        return SenderCheck::Unverified(format!(
            "Microsoft 365 composite authentication says compauth={}",
            r.result
        ));
    }
    // DMARC evaluated some other From than the one we read: header confusion, not proof.
    if let Some(r) = results().find(|r| {
        r.method == "dmarc"
            && r.prop("header.from")
                .is_some_and(|hf| !hf.eq_ignore_ascii_case(from))
    }) {
        return SenderCheck::Unverified(format!(
            "DMARC {} was for {}, not for the From domain {from}",
            r.result,
            r.prop("header.from").unwrap_or("?")
        ));
    }
    let dmarc: Vec<&AuthResult> = results().filter(|r| r.method == "dmarc").collect();
    if dmarc
        .iter()
        .any(|r| r.result == "pass" && r.prop("header.from").is_some())
    {
        return SenderCheck::Verified(format!("DMARC pass for {from}"));
    }
    // Beyond `pass` only `none` (no policy published) lets alignment decide; `policy`,
    // `bestguesspass` and anything unknown prove nothing.
    if let Some(r) = dmarc.iter().find(|r| r.result != "none") {
        return SenderCheck::Unverified(if r.result == "pass" {
            "DMARC pass names no header.from, so it proves nothing about the From domain".into()
        } else {
            format!("DMARC result {} for {from} proves nothing", r.result)
        });
    }

    // No DMARC policy: an aligned DKIM or SPF pass proves the domain.
    let mut foreign = Vec::new();
    let mut seen = Vec::new();
    for r in results() {
        let identity = match r.method.as_str() {
            "dkim" => r
                .prop("header.d")
                .map(str::to_string)
                .or_else(|| r.prop("header.i").and_then(domain_of)),
            "spf" => r.prop("smtp.mailfrom").map(|m| match domain_of(m) {
                Some(d) => d,
                None => m.to_ascii_lowercase(),
            }),
            _ => continue,
        };
        let identity = identity.map(|d| d.trim_end_matches('.').to_ascii_lowercase());
        if r.result == "pass" && r.test_mode {
            seen.push(format!("{}=pass in test mode", r.method));
        } else if r.result == "pass" {
            match identity {
                Some(d) if same_org(&d, from) => {
                    let how = if r.method == "dkim" { "DKIM" } else { "SPF" };
                    return SenderCheck::Verified(format!(
                        "aligned {how} pass for {d} (no DMARC policy published)"
                    ));
                }
                Some(d) => foreign.push(format!("{} for {d}", r.method.to_uppercase())),
                None => seen.push(format!("{}=pass without a domain", r.method)),
            }
        } else {
            seen.push(format!("{}={}", r.method, r.result));
        }
    }
    if !foreign.is_empty() {
        foreign.truncate(4);
        return SenderCheck::Unverified(format!(
            "SPF/DKIM passed only for other domains than {from} ({})",
            foreign.join(", ")
        ));
    }
    seen.truncate(6);
    if seen.is_empty() {
        SenderCheck::Unverified(format!(
            "our Authentication-Results show no result for {from}"
        ))
    } else {
        SenderCheck::Unverified(format!(
            "nothing aligned with {from} passed ({})",
            seen.join(", ")
        ))
    }
}

/// Two results among our headers that cannot both be true, as `method=result` words: one
/// check of one identity gives one result, so a second one was written by someone else
/// (a forged header that got past the zone, or a confused relay). DMARC is evaluated once
/// per message; SPF once per envelope sender; DKIM once per signature (domain and
/// selector), and `dkim=none` says there is no signature at all.
fn contradiction(trusted: &[&ArHeader]) -> Option<(String, String)> {
    let results: Vec<&AuthResult> = trusted
        .iter()
        .flat_map(|h| h.results.iter())
        .take(MAX_RESULTS)
        .collect();
    let key = |r: &AuthResult| -> Option<String> {
        let p = |name: &str| {
            r.prop(name)
                .unwrap_or("")
                .trim_end_matches('.')
                .to_ascii_lowercase()
        };
        match r.method.as_str() {
            "dmarc" => Some(String::new()),
            "spf" => Some(p("smtp.mailfrom")),
            "dkim" => Some(format!("{}/{}", p("header.d"), p("header.s"))),
            _ => None,
        }
    };
    // Quadratic in at most MAX_RESULTS clauses.
    for (i, a) in results.iter().enumerate() {
        for b in results.iter().skip(i + 1) {
            if a.method != b.method || a.result == b.result {
                continue;
            }
            let clash = if a.method == "dkim" && (a.result == "none" || b.result == "none") {
                true
            } else {
                key(a).is_some() && key(a) == key(b)
            };
            if clash {
                return Some((
                    format!("{}={}", a.method, a.result),
                    format!("{}={}", b.method, b.result),
                ));
            }
        }
    }
    None
}

/// One `Authentication-Results` header.
#[derive(Debug, Default)]
struct ArHeader {
    /// The authserv-id, lowercase; `None` for Microsoft 365 headers that start with a result.
    authserv: Option<String>,
    results: Vec<AuthResult>,
}

/// One `method=result prop=value …` clause.
#[derive(Debug, Default)]
struct AuthResult {
    /// Lowercase, without a `/version`.
    method: String,
    /// Lowercase.
    result: String,
    /// `(ptype.property, value)`, property lowercase, value as written (unquoted).
    props: Vec<(String, String)>,
    /// A comment in the clause says the key is in test mode.
    test_mode: bool,
}

impl AuthResult {
    fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// A lexical token of a header value.
#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Eq,
    Semi,
    /// A comment saying `test mode`: OpenDKIM's words for a key published with `t=y`,
    /// which RFC 6376 §3.6.1 says to treat as unsigned (red-team 071).
    TestMode,
}

/// Splits a header value into words, `=` and `;`, dropping comments `( … )` (nested, with
/// `\` escapes) and unquoting quoted strings, so neither can smuggle a `;` or `=`.
/// Linear in the (capped) input.
fn lex(value: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = value.chars().take(MAX_HEADER_CHARS);
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if !word.is_empty() {
            out.push(Tok::Word(std::mem::take(word)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '(' => {
                flush(&mut word, &mut out);
                let mut depth = 1u32;
                // The comment's words, lowercase, as far as a test-mode note needs them.
                let mut comment = String::new();
                while depth > 0 {
                    match chars.next() {
                        Some('\\') => {
                            chars.next();
                        }
                        Some('(') => depth += 1,
                        Some(')') => depth -= 1,
                        Some(c) if comment.len() < 200 => comment.push(c.to_ascii_lowercase()),
                        Some(_) => {}
                        None => break,
                    }
                }
                if comment.contains("test mode") || comment.contains("testing") {
                    out.push(Tok::TestMode);
                }
            }
            '"' => {
                // A quoted string is (part of) a word: `header.d="example.com"`.
                loop {
                    match chars.next() {
                        Some('\\') => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        Some('"') | None => break,
                        Some(c) => word.push(c),
                    }
                }
                if word.is_empty() {
                    // `""`: an empty value is still a value.
                    out.push(Tok::Word(String::new()));
                }
            }
            '=' => {
                flush(&mut word, &mut out);
                out.push(Tok::Eq);
            }
            ';' => {
                flush(&mut word, &mut out);
                out.push(Tok::Semi);
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Parses one header value into its authserv-id and results.
fn parse_header(value: &str) -> ArHeader {
    let toks = lex(value);
    let mut clauses = toks.split(|t| *t == Tok::Semi);
    let mut header = ArHeader::default();
    let Some(first) = clauses.next() else {
        return header;
    };
    // Microsoft 365 writes no authserv-id: the value starts with `spf=…`.
    let starts_with_result = matches!(first.get(1), Some(Tok::Eq));
    let mut pending = Vec::new();
    if starts_with_result {
        pending.push(first);
    } else if let Some(Tok::Word(id)) = first.first() {
        header.authserv = Some(id.to_ascii_lowercase());
    }
    for clause in pending.into_iter().chain(clauses) {
        if header.results.len() >= MAX_RESULTS {
            break;
        }
        if let Some(r) = parse_result(clause) {
            header.results.push(r);
        }
    }
    header
}

/// `method[/version] = result [reason=…] ptype.prop = value …`; `None` for `none` or junk.
fn parse_result(clause: &[Tok]) -> Option<AuthResult> {
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < clause.len() && pairs.len() <= MAX_PROPS {
        match (clause.get(i), clause.get(i + 1), clause.get(i + 2)) {
            (Some(Tok::Word(k)), Some(Tok::Eq), Some(Tok::Word(v))) => {
                pairs.push((k.to_ascii_lowercase(), v.clone()));
                i += 3;
            }
            (Some(Tok::Word(k)), Some(Tok::Eq), _) => {
                pairs.push((k.to_ascii_lowercase(), String::new()));
                i += 2;
            }
            _ => i += 1,
        }
    }
    let mut pairs = pairs.into_iter();
    let (method, result) = pairs.next()?;
    let method = method.split('/').next().unwrap_or("").trim().to_string();
    if method.is_empty() {
        return None;
    }
    Some(AuthResult {
        method,
        test_mode: clause.contains(&Tok::TestMode),
        result: result.trim().to_ascii_lowercase(),
        props: pairs
            .map(|(k, v)| {
                let v = v.trim().to_string();
                (k, v)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    fn verified(r: &SenderCheck) -> bool {
        r.is_verified()
    }

    fn why(r: &SenderCheck) -> String {
        match r {
            SenderCheck::Unverified(w) => w.clone(),
            SenderCheck::Verified(how) => panic!("verified ({how}), expected unverified"),
        }
    }

    // --- What verifies ---

    #[test]
    fn opendmarc_dmarc_pass_for_the_from_domain_verifies() {
        let r = check_sender(
            &one(
                "mx.amazee.io; dkim=pass (2048-bit key; unprotected) header.d=example.ch header.i=@example.ch header.b=\"AbC/dEf1\"; spf=pass (mx.amazee.io: domain of jane@example.ch designates 185.199.110.17 as permitted sender) smtp.mailfrom=jane@example.ch; dmarc=pass (p=reject dis=none) header.from=example.ch",
            ),
            None,
            "example.ch",
        );
        assert!(verified(&r), "{r:?}");
    }

    #[test]
    fn gmail_mx_google_com_header_verifies_with_its_id_configured() {
        let r = check_sender(
            &one(
                "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=k3Xp9Q2z;\r\n       spf=pass (google.com: domain of jane@example.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=jane@example.com;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
            ),
            Some("mx.google.com"),
            "example.com",
        );
        assert!(verified(&r), "{r:?}");
    }

    #[test]
    fn no_dmarc_policy_with_aligned_dkim_of_a_subdomain_verifies() {
        let r = check_sender(
            &one(
                "mx.amazee.io; dkim=pass header.d=mail.example.ch; spf=none smtp.mailfrom=bounce.esp.test; dmarc=none header.from=example.ch",
            ),
            None,
            "example.ch",
        );
        assert!(verified(&r), "{r:?}");
    }

    #[test]
    fn no_dmarc_policy_with_aligned_dkim_header_i_only_verifies() {
        let r = check_sender(
            &one(
                "mx.amazee.io; dkim=pass header.i=@news.example.co.uk; dmarc=none header.from=example.co.uk",
            ),
            None,
            "example.co.uk",
        );
        assert!(verified(&r), "{r:?}");
    }

    #[test]
    fn no_dmarc_result_at_all_with_aligned_spf_address_verifies() {
        // Our MX runs no DMARC milter: treated like dmarc=none.
        let r = check_sender(
            &one("mx.amazee.io; spf=pass smtp.mailfrom=jane@shop.example.ch; dkim=none"),
            None,
            "example.ch",
        );
        assert!(verified(&r), "{r:?}");
        let r = check_sender(
            &one("mx.amazee.io; spf=pass smtp.mailfrom=example.ch"),
            None,
            "example.ch",
        );
        assert!(verified(&r), "{r:?}");
    }

    #[test]
    fn several_headers_from_one_mta_are_read_together() {
        // One header per milter, as Postfix with OpenDKIM, policyd-spf and OpenDMARC writes.
        let headers = vec![
            "mx.amazee.io; dmarc=none (p=none dis=none) header.from=example.ch".to_string(),
            "mx.amazee.io; dkim=pass (1024-bit key) header.d=example.ch header.i=@example.ch"
                .to_string(),
            "mx.amazee.io; spf=none smtp.mailfrom=example.ch".to_string(),
        ];
        assert!(verified(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "example.ch"
        )));
        // Without the id configured only the topmost counts, which proves nothing here.
        assert!(!verified(&check_sender(&headers, None, "example.ch")));
    }

    #[test]
    fn microsoft_365_header_without_authserv_id_is_read_with_compauth() {
        let h = one(
            "spf=pass (sender IP is 40.107.22.51) smtp.mailfrom=example.ch; dkim=pass (signature was verified) header.d=example.ch;dmarc=pass action=none header.from=example.ch;compauth=pass reason=100",
        );
        assert!(verified(&check_sender(&h, None, "example.ch")));
        // With an id configured, an id-less header is not ours.
        let w = why(&check_sender(&h, Some("mx.amazee.io"), "example.ch"));
        assert!(
            w.contains("no Authentication-Results from our server"),
            "{w}"
        );
    }

    // --- What does not verify, one test per category ---

    #[test]
    fn no_header_at_all_is_unverified() {
        let w = why(&check_sender(&[], None, "example.ch"));
        assert!(w.contains("no Authentication-Results"), "{w}");
    }

    #[test]
    fn only_headers_from_other_authserv_ids_are_unverified() {
        let headers = vec![
            "relay.example.ch; dmarc=pass header.from=example.ch".to_string(),
            "mx.google.com; dmarc=pass header.from=example.ch".to_string(),
        ];
        let w = why(&check_sender(&headers, Some("mx.amazee.io"), "example.ch"));
        assert!(w.contains("relay.example.ch"), "{w}");
    }

    #[test]
    fn forged_pass_below_our_fail_is_ignored() {
        let headers = vec![
            "mx.amazee.io; dkim=none (message not signed); spf=fail smtp.mailfrom=example-bank.ch; dmarc=fail (p=reject dis=none) header.from=example-bank.ch".to_string(),
            "mail.example-bank.ch; dkim=pass header.d=example-bank.ch; spf=pass smtp.mailfrom=example-bank.ch; dmarc=pass header.from=example-bank.ch".to_string(),
        ];
        let w = why(&check_sender(&headers, None, "example-bank.ch"));
        assert!(w.contains("DMARC fail"), "{w}");
        let w = why(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "example-bank.ch",
        ));
        assert!(w.contains("DMARC fail"), "{w}");
    }

    #[test]
    fn nothing_aligned_passing_is_unverified_for_every_result_word() {
        for result in [
            "none",
            "neutral",
            "temperror",
            "permerror",
            "fail",
            "softfail",
            "policy",
        ] {
            let h = one(&format!(
                "mx.amazee.io; dkim={result} header.d=example.ch; spf={result} smtp.mailfrom=example.ch; dmarc=none header.from=example.ch"
            ));
            let w = why(&check_sender(&h, None, "example.ch"));
            assert!(w.contains("nothing aligned"), "{result}: {w}");
        }
    }

    #[test]
    fn spf_and_dkim_passing_only_for_another_domain_are_unverified() {
        let w = why(&check_sender(
            &one(
                "mx.amazee.io; dkim=pass header.d=sendgrid-example.net; spf=pass smtp.mailfrom=bounces.sendgrid-example.net; dmarc=none header.from=example.ch",
            ),
            None,
            "example.ch",
        ));
        assert!(w.contains("only for other domains"), "{w}");
        // Look-alikes are other domains.
        for d in [
            "example.ch.evil.com",
            "notexample.ch",
            "example.ch-secure.net",
        ] {
            let h = one(&format!(
                "mx.amazee.io; dkim=pass header.d={d}; spf=pass smtp.mailfrom={d}"
            ));
            assert!(!verified(&check_sender(&h, None, "example.ch")), "{d}");
        }
        // Private suffixes of the PSL are their own organizations.
        let h = one("mx.amazee.io; dkim=pass header.d=attacker.github.io");
        assert!(!verified(&check_sender(&h, None, "victim.github.io")));
    }

    #[test]
    fn dmarc_pass_for_a_different_header_from_is_unverified() {
        let w = why(&check_sender(
            &one(
                "mx.amazee.io; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=evil.test; dmarc=pass header.from=evil.test",
            ),
            None,
            "example.ch",
        ));
        assert!(w.contains("evil.test"), "{w}");
    }

    #[test]
    fn dmarc_fail_temperror_permerror_are_unverified_even_with_aligned_passes() {
        for result in ["fail", "temperror", "permerror"] {
            let h = one(&format!(
                "mx.amazee.io; dkim=pass header.d=example.ch; spf=pass smtp.mailfrom=example.ch; dmarc={result} header.from=example.ch"
            ));
            let w = why(&check_sender(&h, None, "example.ch"));
            assert!(w.contains(&format!("DMARC {result}")), "{w}");
        }
    }

    #[test]
    fn any_fail_among_our_headers_wins_over_a_pass() {
        let headers = vec![
            "mx.amazee.io; dkim=pass header.d=example.ch; dmarc=pass header.from=example.ch"
                .to_string(),
            "mx.amazee.io; dmarc=fail header.from=example.ch".to_string(),
        ];
        assert!(!verified(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "example.ch"
        )));
    }

    #[test]
    fn contradicting_results_among_our_headers_are_unverified() {
        // Red-team 001: our dmarc=none next to a forged dmarc=pass with our id.
        let headers = vec![
            "mx.amazee.io; dkim=none (message not signed); spf=none smtp.mailfrom=victim-bank.ch; dmarc=none (p=none dis=none) header.from=victim-bank.ch".to_string(),
            "mx.amazee.io; dkim=pass header.d=victim-bank.ch; spf=pass smtp.mailfrom=victim-bank.ch; dmarc=pass header.from=victim-bank.ch".to_string(),
        ];
        let w = why(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "victim-bank.ch",
        ));
        assert!(w.contains("contradict each other"), "{w}");
        // Red-team 002: "not signed" next to an aligned DKIM pass.
        let headers = vec![
            "mx.amazee.io; dkim=none (message not signed); dmarc=none header.from=victim-bank.ch"
                .to_string(),
            "mx.amazee.io; dkim=pass header.d=victim-bank.ch".to_string(),
        ];
        let w = why(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "victim-bank.ch",
        ));
        assert!(w.contains("contradict each other"), "{w}");
        // Two signatures of different domains and a failing second signature are normal.
        let headers = vec![
            "mx.amazee.io; dkim=pass header.d=example.ch header.s=s1; dkim=fail header.d=mailer-example.net header.s=k1; dkim=pass header.d=example.ch header.s=s2; dmarc=pass header.from=example.ch".to_string(),
            "mx.amazee.io; spf=pass smtp.mailfrom=example.ch".to_string(),
        ];
        assert!(verified(&check_sender(
            &headers,
            Some("mx.amazee.io"),
            "example.ch"
        )));
    }

    #[test]
    fn an_aligned_dkim_pass_with_a_test_mode_key_proves_nothing() {
        // Red-team 071: OpenDKIM's "(1024-bit key; test mode)" for a key with t=y.
        let h = one(
            "mx.amazee.io; dkim=pass (1024-bit key; test mode) header.d=victim-bank.ch header.i=@victim-bank.ch; spf=none smtp.mailfrom=victim-bank.ch; dmarc=none (p=none dis=none) header.from=victim-bank.ch",
        );
        let w = why(&check_sender(&h, Some("mx.amazee.io"), "victim-bank.ch"));
        assert!(w.contains("test mode"), "{w}");
        // The usual comment verifies.
        let h = one(
            "mx.amazee.io; dkim=pass (2048-bit key; unprotected) header.d=victim-bank.ch; dmarc=none header.from=victim-bank.ch",
        );
        assert!(verified(&check_sender(
            &h,
            Some("mx.amazee.io"),
            "victim-bank.ch"
        )));
    }

    #[test]
    fn microsoft_365_compauth_fail_softfail_none_are_failures() {
        for c in ["fail", "softfail", "none"] {
            let h = one(&format!(
                "spf=pass (sender IP is 40.107.22.51) smtp.mailfrom=example.ch; dkim=pass header.d=example.ch;dmarc=pass action=none header.from=example.ch;compauth={c} reason=001"
            ));
            let w = why(&check_sender(&h, None, "example.ch"));
            assert!(w.contains("compauth"), "{c}: {w}");
        }
    }

    #[test]
    fn microsoft_365_header_lower_down_is_not_topmost_and_does_not_count() {
        let headers = vec![
            "mx.amazee.io; spf=softfail smtp.mailfrom=example.ch; dkim=none".to_string(),
            "spf=pass smtp.mailfrom=example.ch; dmarc=pass header.from=example.ch;compauth=pass reason=100".to_string(),
        ];
        assert!(!verified(&check_sender(&headers, None, "example.ch")));
    }

    #[test]
    fn dmarc_bestguesspass_and_policy_prove_nothing() {
        for r in ["bestguesspass", "policy"] {
            let h = one(&format!(
                "mx.amazee.io; dkim=pass header.d=example.ch; dmarc={r} header.from=example.ch"
            ));
            assert!(!verified(&check_sender(&h, None, "example.ch")), "{r}");
        }
    }

    // --- The parser is not fooled ---

    #[test]
    fn comments_and_quotes_do_not_smuggle_results() {
        // A `;` and a fake `dmarc=pass` inside a comment and inside a quoted string.
        let h = one(
            "mx.amazee.io (Postfix; dmarc=pass header.from=example.ch); spf=softfail (x; dmarc=pass header.from=example.ch) smtp.mailfrom=\"a;dmarc=pass header.from=example.ch\"@evil.test; dkim=none",
        );
        assert!(!verified(&check_sender(&h, None, "example.ch")));
        // Nested comments and escapes.
        let h = one(
            "mx.amazee.io; dkim=none (a (nested \\) ; dmarc=pass header.from=example.ch) still comment); spf=none",
        );
        assert!(!verified(&check_sender(&h, None, "example.ch")));
    }

    #[test]
    fn case_whitespace_and_quoted_values_are_normalised() {
        let h = one(
            "MX.Amazee.IO ;\n\tDMARC = Pass (p=none; dis=none)\n\theader.from = \"Example.CH\"",
        );
        assert!(verified(&check_sender(
            &h,
            Some("mx.amazee.io"),
            "example.ch"
        )));
        let h = one("mx.amazee.io;dkim/1=pass header.d=\"EXAMPLE.ch\";dmarc=none");
        assert!(verified(&check_sender(&h, None, "example.ch")));
    }

    #[test]
    fn an_unclosed_comment_swallows_the_rest() {
        let h = one("mx.amazee.io; spf=none (unclosed; dmarc=pass header.from=example.ch");
        assert!(!verified(&check_sender(&h, None, "example.ch")));
    }

    #[test]
    fn huge_headers_are_bounded() {
        let mut value = "mx.amazee.io".to_string();
        for _ in 0..100_000 {
            value.push_str("; spf=none");
        }
        value.push_str("; dmarc=pass header.from=example.ch");
        let t = std::time::Instant::now();
        assert!(!verified(&check_sender(&one(&value), None, "example.ch")));
        let many: Vec<String> = (0..10_000)
            .map(|_| "mx.amazee.io; spf=none".to_string())
            .collect();
        assert!(!verified(&check_sender(
            &many,
            Some("mx.amazee.io"),
            "example.ch"
        )));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_look_alike_authserv_id_is_not_ours() {
        let h = one("mx.amazee.io.evil.com; dmarc=pass header.from=example.ch");
        assert!(!verified(&check_sender(
            &h,
            Some("mx.amazee.io"),
            "example.ch"
        )));
        let h = one("evil-mx.amazee.io; dmarc=pass header.from=example.ch");
        assert!(!verified(&check_sender(
            &h,
            Some("mx.amazee.io"),
            "example.ch"
        )));
    }

    proptest::proptest! {
        /// Any header text: no panic, and a pass hidden in a comment never verifies.
        #[test]
        fn arbitrary_headers_never_panic_and_comments_never_verify(
            junk in "\\PC{0,300}",
            inner in "[a-z=;. \"]{0,40}",
        ) {
            let _ = check_sender(&one(&junk), None, "example.ch");
            let _ = check_sender(&one(&junk), Some("mx.amazee.io"), "example.ch");
            let h = one(&format!(
                "mx.amazee.io; spf=none ({inner} dmarc=pass header.from=example.ch {inner})"
            ));
            // A comment's content may close early only through an unbalanced `)`, which the
            // generator cannot produce; so nothing in it may count.
            proptest::prop_assert!(!check_sender(&h, None, "example.ch").is_verified());
        }
    }

    // --- From problems, own domains, verification off ---

    fn letter(from: &str, ar: &[&str]) -> Letter {
        Letter {
            from: Some(from.to_string()),
            authentication_results: ar.iter().map(|s| s.to_string()).collect(),
            ..Letter::default()
        }
    }

    const PASS: &str =
        "mx.amazee.io; dkim=pass header.d=example.ch; dmarc=pass header.from=example.ch";

    #[test]
    fn several_from_headers_several_mailboxes_or_no_from_are_unverified() {
        let rules = Rules::default();
        for problem in [
            "the message has several From headers",
            "the From header names several mailboxes",
            "the message has no From header",
        ] {
            let mut l = letter("jane@example.ch", &[PASS]);
            l.from_problem = Some(problem.into());
            let s = verify(&l, &rules, "support@amazee.io");
            assert!(!s.verified(), "{problem}");
            assert_eq!(s.domain, None);
        }
    }

    #[test]
    fn verification_off_verifies_except_our_own_domains() {
        let rules = Rules {
            sender_verification: SenderVerification::Off,
            ..Rules::default()
        };
        let s = verify(&letter("jane@example.ch", &[]), &rules, "support@amazee.io");
        assert!(s.verified());
        for own in [
            "ceo@amazee.io",
            "ops@mail.amazee.io",
            "x@lagoon.sh",
            "x@amazeeio.cloud",
        ] {
            let s = verify(&letter(own, &[]), &rules, "support@amazee.io");
            assert!(!s.verified(), "{own}");
        }
    }

    #[test]
    fn our_own_domain_is_recognised_under_an_unknown_suffix_too() {
        let rules = Rules::default();
        assert!(is_own("amazee.test", &rules, "support@amazee.test"));
        assert!(is_own("mail.amazee.test", &rules, "support@amazee.test"));
        assert!(!is_own("example.test", &rules, "support@amazee.test"));
        assert!(is_own("mail.amazee.io", &rules, "support@amazee.io"));
        assert!(!is_own("amazee.io.evil.com", &rules, "support@amazee.io"));
    }

    #[test]
    fn mail_claiming_our_domain_is_unverified_without_a_pass() {
        let rules = Rules::default();
        let l = letter(
            "ceo@amazee.io",
            &[
                "mx.amazee.io; spf=softfail smtp.mailfrom=amazee.io; dmarc=none header.from=amazee.io",
            ],
        );
        assert!(!verify(&l, &rules, "support@amazee.io").verified());
    }

    #[test]
    fn a_bare_forward_is_verified_as_its_forwarder() {
        // The forwarded author's domain is irrelevant: the From is verified.
        let mut l = letter("it@example.ch", &[PASS]);
        l.forwarded_from = Some("ceo@victim-bank.ch".into());
        let s = verify(&l, &Rules::default(), "support@amazee.io");
        assert!(s.verified());
        assert_eq!(s.domain.as_deref(), Some("example.ch"));
    }

    #[test]
    fn configured_authserv_id_comes_from_the_rules() {
        let rules = Rules {
            trusted_authserv_id: Some("mx.amazee.io".into()),
            ..Rules::default()
        };
        let l = letter(
            "jane@example.ch",
            &["evil.test; dmarc=pass header.from=example.ch", PASS],
        );
        assert!(verify(&l, &rules, "support@amazee.io").verified());
        let l = letter(
            "jane@example.ch",
            &["evil.test; dmarc=pass header.from=example.ch"],
        );
        assert!(!verify(&l, &rules, "support@amazee.io").verified());
    }

    // --- Found by cargo mutants: behaviour the tests above left open ---

    #[test]
    fn the_reason_for_staff_names_the_method_that_verified() {
        let dkim = check_sender(
            &one("mx.amazee.io; dkim=pass header.d=example.ch; spf=none; dmarc=none"),
            None,
            "example.ch",
        );
        assert_eq!(
            dkim,
            SenderCheck::Verified(
                "aligned DKIM pass for example.ch (no DMARC policy published)".into()
            )
        );
        let spf = check_sender(
            &one("mx.amazee.io; dkim=none; spf=pass smtp.mailfrom=jane@example.ch; dmarc=none"),
            None,
            "example.ch",
        );
        assert_eq!(
            spf,
            SenderCheck::Verified(
                "aligned SPF pass for example.ch (no DMARC policy published)".into()
            )
        );
    }

    #[test]
    fn a_dmarc_pass_naming_no_header_from_proves_nothing() {
        // Which From DMARC evaluated is unknown, so the pass may be for another one; an
        // aligned DKIM pass next to it does not rescue it either (DMARC was evaluated).
        let w = why(&check_sender(
            &one("mx.amazee.io; dkim=pass header.d=example.ch; dmarc=pass (p=reject)"),
            None,
            "example.ch",
        ));
        assert!(w.contains("names no header.from"), "{w}");
        let w = why(&check_sender(
            &one(
                "mx.amazee.io; dkim=pass header.d=example.ch; dmarc=quarantine header.from=example.ch",
            ),
            None,
            "example.ch",
        ));
        assert!(w.contains("DMARC result quarantine"), "{w}");
    }

    #[test]
    fn a_nested_comment_in_an_spf_explanation_cannot_leak_a_forged_pass() {
        // The SPF comment quotes the envelope sender, which the attacker chooses; a `(`
        // in it opens a nested comment, and only its `)` closes it. Were nesting
        // miscounted, the text after the inner `)` would be read as a result.
        let h = one(
            "mx.amazee.io; spf=softfail (mx.amazee.io: domain of a(b)c; dmarc=pass header.from=example.ch designates 203.0.113.9) smtp.mailfrom=evil.test; dkim=none; dmarc=none header.from=example.ch",
        );
        assert!(!verified(&check_sender(&h, None, "example.ch")));
        // And a comment nested twice still ends where its outer `)` is.
        let h = one(
            "mx.amazee.io; dkim=pass (x (y (z) y) x) header.d=example.ch; dmarc=none header.from=example.ch",
        );
        assert!(verified(&check_sender(&h, None, "example.ch")));
    }

    #[test]
    fn an_empty_result_keeps_its_method_and_a_later_pair_is_never_the_method() {
        // `spf==`: the method is `spf` with no result; the `dmarc=pass` after it is a
        // property of that clause, not a DMARC result.
        let h = one("mx.amazee.io; spf== dmarc=pass header.from=example.ch");
        let w = why(&check_sender(&h, None, "example.ch"));
        assert!(w.contains("nothing aligned"), "{w}");
        let h = one("mx.amazee.io; dkim= ; spf=\"\" dmarc=pass header.from=example.ch");
        assert!(!verified(&check_sender(&h, None, "example.ch")));
    }

    #[test]
    fn an_empty_dmarc_result_still_names_the_from_it_was_for() {
        // `dmarc==` (an empty result): the properties after it are still read, so staff
        // see that DMARC was about another domain.
        let w = why(&check_sender(
            &one("mx.amazee.io; dmarc== header.from=evil.test"),
            None,
            "example.ch",
        ));
        assert!(w.contains("was for evil.test"), "{w}");
    }
}
