//! The pure core: one message in, one verdict out. No I/O, no calendar clock: arrival comes
//! in. The only clock read is a monotonic one for the CPU budget.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::decide::Rules;
use crate::decide::{self, RULES_VERSION, auth};
use crate::domain::{domain_of, is_shared_mail_provider, org_domain, same_org};
use crate::extract::{self, Extraction, dates::DateContext};
use crate::model::{Decision, Kind, Problem, ProblemCode, Request, Verdict, Zone};
use crate::read::{self, Letter};

/// A checked message: the verdict and what it was made from (for rendering replies).
#[derive(Debug, Clone)]
pub struct Checked {
    pub verdict: Verdict,
    pub letter: Letter,
    pub extraction: Option<Extraction>,
    /// The zone replies repeat the window in.
    pub zone: Zone,
    /// Days of notice required (standard, broad), for replies that explain the rule.
    pub notice_rules: (u32, u32),
    /// The one address an automated reply may go to: the verified From, or a Reply-To in
    /// the same organizational domain. `None`: nobody gets a reply.
    pub reply_address: Option<String>,
}

/// Where the arrival time comes from.
#[derive(Debug, Clone, Copy)]
pub enum Arrival {
    /// Given by the caller (`--received`, IMAP INTERNALDATE, Maildir delivery time).
    Known(DateTime<Utc>),
    /// Read from the message (topmost `Received:`, else `Date:`), else this fallback.
    FromHeaders { fallback: DateTime<Utc> },
}

/// The time one message may take to read, extract and decide (`rules.cpu_budget_ms`).
/// Checked cooperatively at every stage boundary, so no stage's work outlives the message;
/// `Copy` and cheap (one monotonic clock read per check) so long loops can take it along.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    start: Instant,
    limit: Duration,
}

impl Budget {
    /// A budget of `ms` milliseconds from now.
    pub fn start_ms(ms: u64) -> Budget {
        Budget {
            start: Instant::now(),
            limit: Duration::from_millis(ms),
        }
    }

    /// The budget is spent. Wall time on a monotonic clock: never less than the CPU time
    /// the message took, so the budget can run out early on a busy machine, never late.
    pub fn exceeded(&self) -> bool {
        self.start.elapsed() > self.limit
    }

    pub fn limit_ms(&self) -> u128 {
        self.limit.as_millis()
    }
}

/// Checks one raw message. Total: any bytes give a verdict.
pub fn check(raw: &[u8], arrival: Arrival, rules: &Rules, own_address: &str) -> Checked {
    check_within(
        raw,
        arrival,
        rules,
        own_address,
        Budget::start_ms(rules.cpu_budget_ms),
    )
}

/// [`check`] within a given CPU budget: once it is spent, the message goes to review as too
/// complex to read safely, and no further stage runs.
pub fn check_within(
    raw: &[u8],
    arrival: Arrival,
    rules: &Rules,
    own_address: &str,
    budget: Budget,
) -> Checked {
    if raw.len() as u64 > rules.max_message_bytes {
        let received = match arrival {
            Arrival::Known(t) | Arrival::FromHeaders { fallback: t } => t,
        };
        return too_large(raw.len() as u64, received, rules);
    }

    let letter = read::read(raw);
    let trusted = trusted_authentication_results(raw, rules.trusted_authserv_id.as_deref());
    check_letter(letter, &trusted, raw, arrival, rules, own_address, budget)
}

/// Bytes of the header block scanned at most for the trusted zone; real header blocks are a
/// few kilobytes, and the reader itself gives up on far less.
const MAX_HEAD_BYTES: usize = 256 << 10;
/// Header fields scanned at most.
const MAX_HEAD_FIELDS: usize = 1000;
/// `Authentication-Results` values kept at most (the reader keeps 50 too).
const MAX_ZONE_RESULTS: usize = 50;

/// The `Authentication-Results` values our own servers wrote, topmost first.
///
/// Anyone can write an `Authentication-Results` header with our authserv-id into the mail
/// they send; Postfix and OpenDMARC leave it in place below our MX's `Received:` (red-team
/// findings 001/002). Headers are read top-down, the way servers prepend them: the trusted
/// zone ends at the border `Received:`, the first one stamped `by` a host of the
/// authserv-id's organization `from` a host outside it. Results below it are the sender's.
/// Without a border, only results above the first `Received:` count; without any
/// `Received:` (a message handed in directly), all of them. Without a configured authserv-id
/// there is no border to find: every value is returned and verification keeps trusting the
/// topmost only.
///
/// Pure and linear: bytes up to the first blank line, at most [`MAX_HEAD_BYTES`], unfolded.
pub fn trusted_authentication_results(raw: &[u8], authserv_id: Option<&str>) -> Vec<String> {
    let fields = header_fields(raw);
    let is_ar = |name: &str| name.eq_ignore_ascii_case("authentication-results");
    let is_received = |name: &str| name.eq_ignore_ascii_case("received");
    let Some(id) = authserv_id else {
        return fields
            .into_iter()
            .filter(|(n, _)| is_ar(n))
            .map(|(_, v)| v.into_owned())
            .take(MAX_ZONE_RESULTS)
            .collect();
    };
    let id = id.trim().trim_end_matches('.').to_ascii_lowercase();
    let ours = org_domain(&id).unwrap_or(id);
    let border = fields
        .iter()
        .position(|(n, v)| is_received(n) && is_border_received(v, &ours));
    let end = border
        .or_else(|| fields.iter().position(|(n, _)| is_received(n)))
        .unwrap_or(fields.len());
    fields
        .into_iter()
        .take(end)
        .filter(|(n, _)| is_ar(n))
        .map(|(_, v)| v.into_owned())
        .take(MAX_ZONE_RESULTS)
        .collect()
}

/// The header fields of `raw` as (name, unfolded value), top-down. The block ends at the
/// first line that is empty or only whitespace (the reader stops there too: a field after
/// such a line is body to every client), and after [`MAX_HEAD_BYTES`] bytes. Names and values
/// borrow from `raw` where they can (only a few are kept; most are only looked at).
fn header_fields(raw: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let head = raw.get(..raw.len().min(MAX_HEAD_BYTES)).unwrap_or(&[]);
    let mut fields: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        // `from_utf8_lossy` as such, with the quicker check of valid (most) lines first.
        let text = match std::str::from_utf8(line) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(line),
        };
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // A folded continuation of the field above (RFC 5322 §2.2.3).
            if let Some((_, v)) = fields.last_mut() {
                let v = v.to_mut();
                v.push(' ');
                v.push_str(text.trim());
            }
            continue;
        }
        if fields.len() >= MAX_HEAD_FIELDS {
            break;
        }
        let field = match &text {
            Cow::Borrowed(t) => t
                .split_once(':')
                .map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v.trim()))),
            Cow::Owned(t) => t
                .split_once(':')
                .map(|(n, v)| (Cow::Owned(n.to_string()), Cow::Owned(v.trim().to_string()))),
        };
        match field {
            Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                fields.push((name, value));
            }
            // Not a field (a mbox `From ` line, junk): it ends no zone and counts as nothing.
            _ => fields.push((Cow::Borrowed(""), Cow::Borrowed(""))),
        }
    }
    fields
}

/// A `Received:` value our organization `ours` stamped for a connection from outside it:
/// the `by` host is under `ours`, and the `from` clause shows a host or address outside.
///
/// The `from` clause holds the client's HELO name (the client's choice), the reverse name
/// and the connecting IP address (both checked by the receiving server). It is inside only
/// when every dotted name in it is under `ours` and every IP address in it is loopback or
/// private: a client that says `HELO relay.amazee.io` still connects from its own address.
fn is_border_received(value: &str, ours: &str) -> bool {
    // Words outside comments for `from`/`by`; the `from` clause with its comment.
    let mut from_words: Vec<String> = Vec::new();
    let mut by_host: Option<String> = None;
    let mut section = "";
    let mut depth = 0u32;
    let mut word = String::new();
    let mut words: Vec<(u32, String)> = Vec::new();
    for c in value.chars() {
        match c {
            '(' => {
                words.push((depth, std::mem::take(&mut word)));
                depth = depth.saturating_add(1);
            }
            ')' => {
                words.push((depth, std::mem::take(&mut word)));
                depth = depth.saturating_sub(1);
            }
            ';' if depth == 0 => {
                // The date follows: the clauses are over.
                words.push((depth, std::mem::take(&mut word)));
                break;
            }
            c if c.is_whitespace() || c == '[' || c == ']' || c == ',' => {
                words.push((depth, std::mem::take(&mut word)));
            }
            c => word.push(c),
        }
    }
    words.push((depth, word));
    for (depth, w) in words.into_iter().filter(|(_, w)| !w.is_empty()) {
        if depth == 0 {
            let lower = w.to_ascii_lowercase();
            match lower.as_str() {
                "from" | "by" | "via" | "with" | "id" | "for" => {
                    section = match lower.as_str() {
                        "from" => "from",
                        "by" => "by",
                        _ => "other",
                    };
                    continue;
                }
                _ => {}
            }
        }
        match section {
            "from" => from_words.push(w.to_ascii_lowercase()),
            "by" if depth == 0 && by_host.is_none() => by_host = Some(w.to_ascii_lowercase()),
            _ => {}
        }
    }
    let Some(by) = by_host else {
        return false;
    };
    if !crate::domain::is_under(&by, ours) {
        return false;
    }
    if from_words.is_empty() {
        // Stamped by one of our hosts for a local submission or a pickup: no border.
        return false;
    }
    from_words.iter().any(|w| outside(w, ours))
}

/// One word of a `Received: from` clause names something outside `ours`: a public IP
/// address, or a dotted host name not under `ours`. Undotted words (`localhost`, `unknown`,
/// `helo=`) say nothing.
fn outside(word: &str, ours: &str) -> bool {
    let w = word
        .rsplit_once('=')
        .map_or(word, |(_, v)| v)
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != ':' && c != '.');
    let ip_text = w.strip_prefix("ipv6:").unwrap_or(w);
    if let Ok(ip) = ip_text.parse::<std::net::IpAddr>() {
        return match ip {
            std::net::IpAddr::V4(a) => !(a.is_loopback() || a.is_private()),
            std::net::IpAddr::V6(a) => {
                !(a.is_loopback()
                    || (a.segments().first().copied().unwrap_or(0) & 0xfe00) == 0xfc00)
            }
        };
    }
    w.contains('.') && !crate::domain::is_under(w, ours)
}

/// The stages after reading: verification, extraction, the rules. `trusted` holds the
/// `Authentication-Results` values of our own zone ([`trusted_authentication_results`]);
/// `raw` is only hashed for the reference.
fn check_letter(
    letter: Letter,
    trusted: &[String],
    raw: &[u8],
    arrival: Arrival,
    rules: &Rules,
    own_address: &str,
    budget: Budget,
) -> Checked {
    let default_zone = Zone::Named(rules.timezone);
    let notice_rules = (rules.standard_notice_days, rules.broad_notice_days);
    let received = match arrival {
        Arrival::Known(t) => t,
        Arrival::FromHeaders { fallback } => letter.received.or(letter.date).unwrap_or(fallback),
    };
    let mut v = blank_verdict(&letter, raw, received, default_zone);
    if budget.exceeded() {
        return too_complex(v, letter, None, budget, default_zone, notice_rules);
    }
    let own_domain = own_address.rsplit_once('@').map_or("", |(_, d)| d);
    let sender = auth::verify_with(&letter, trusted, rules, own_address);
    v.sender_verified = sender.verified();

    if let Some(why) = automated(&letter, own_address) {
        v.kind = Kind::AutoReply;
        v.decision = Decision::Ignore;
        v.reason = Some(why);
        if letter.automated.is_none() {
            return finish(v, letter, None, default_zone, notice_rules);
        }
        // A machine may relay a complete notification (a ticketing tool, a bulk sender):
        // a person looks at it; it never gets an automated reply (RFC 3834).
        let text = extract::body_text(&letter);
        if text.trim().is_empty() {
            return finish(v, letter, None, default_zone, notice_rules);
        }
        let ctx = DateContext {
            default_tz: rules.timezone,
            reference: received,
        };
        let ex = extract::extract(&letter, &text, &ctx, own_domain, &rules.platform_domains);
        if budget.exceeded() {
            return too_complex(v, letter, Some(ex), budget, default_zone, notice_rules);
        }
        if !is_complete_notification(&ex) {
            return finish(v, letter, Some(ex), default_zone, notice_rules);
        }
        let zone = ex.zone.unwrap_or(default_zone);
        let f = decide::judge(&ex, &sender, rules, received, zone);
        fill(&mut v, f, &ex, zone);
        v.kind = Kind::TestNotification;
        v.decision = Decision::Review;
        v.reason = Some("sent by a machine".into());
        v.problems.insert(
            0,
            Problem::new(
                ProblemCode::AutomatedSender,
                format!(
                    "This notification was sent by a machine ({}); it gets no automated reply. A person must confirm it with the customer.",
                    letter.automated.as_deref().unwrap_or("automated")
                ),
            ),
        );
        return finish(v, letter, Some(ex), zone, notice_rules);
    }

    let text = extract::body_text(&letter);
    if text.trim().is_empty() || letter.unreadable.is_some() && text.trim().len() < 20 {
        let why = letter
            .unreadable
            .clone()
            .unwrap_or_else(|| "the message has no readable text".into());
        v.kind = Kind::TestNotification;
        v.decision = Decision::Review;
        v.reason = Some("unreadable".into());
        v.problems.push(Problem::new(
            ProblemCode::Unreadable,
            format!("Nothing sensible could be read from this message ({why}). A person must look at it."),
        ));
        return finish(v, letter, None, default_zone, notice_rules);
    }

    let ctx = DateContext {
        default_tz: rules.timezone,
        reference: received,
    };
    let mut ex = extract::extract(&letter, &text, &ctx, own_domain, &rules.platform_domains);
    if budget.exceeded() {
        return too_complex(v, letter, Some(ex), budget, default_zone, notice_rules);
    }

    // The other MIME alternative must say the same: a reader sees one, intake reads one.
    // So must the HTML with its hidden text revealed: some client shows that text (Outlook
    // its conditional comments and, on the web, what `mso-hide` hides; most clients CSS
    // `content`), and hidden text as such is no doubt, only a different meaning is.
    for code in [ProblemCode::AlternativesDisagree, ProblemCode::HiddenText] {
        let other_new = if code == ProblemCode::HiddenText {
            letter.revealed_new.as_deref()
        } else {
            letter.alt_new.as_deref()
        };
        let Some(other_new) = other_new.filter(|o| !o.trim().is_empty()) else {
            continue;
        };
        if letter.text.new.trim().is_empty() {
            continue;
        }
        // The same words in the same order read the same: no second extraction (the common
        // case, a plain part and its HTML twin, differ only in line breaks and spacing).
        if same_words(other_new, &letter.text.new) {
            continue;
        }
        let mut other_text =
            String::with_capacity(other_new.len() + letter.text.attachments.len() + 1);
        other_text.push_str(other_new);
        if !letter.text.attachments.is_empty() {
            other_text.push('\n');
            other_text.push_str(&letter.text.attachments);
        }
        let other = extract::extract(
            &letter,
            &other_text,
            &ctx,
            own_domain,
            &rules.platform_domains,
        );
        if budget.exceeded() {
            return too_complex(v, letter, Some(ex), budget, default_zone, notice_rules);
        }
        let differ = disagreements(&ex, &other);
        if !differ.is_empty() {
            ex.doubts.push(rendering_problem(code, &differ));
        }
    }

    if let Some(p) = hosts_named_elsewhere(&ex, &text, &sender, rules, own_domain) {
        ex.doubts.push(p);
    }

    // The doubts above are found for every message, not only for notifications: a reply in
    // a request's thread is no notification on its own, but it may complete or change the
    // request, and then the same hidden text or foreign host must not slip through.
    if !ex.is_notification {
        v.kind = Kind::Other;
        v.decision = Decision::Ignore;
        v.reason = Some(if ex.mentions.any() {
            "mentions tests but announces none (a question or a follow-up)".into()
        } else {
            "not a test notification".into()
        });
        // A reply in a request's thread may still be answered (it may complete the
        // request): the address trust allows is known for it too.
        let reply_address = reply_address(&letter, &sender, rules, own_address);
        let mut c = finish(v, letter, Some(ex), default_zone, notice_rules);
        c.reply_address = reply_address;
        return c;
    }

    let zone = ex.zone.unwrap_or(default_zone);
    let f = decide::judge(&ex, &sender, rules, received, zone);
    if budget.exceeded() {
        return too_complex(v, letter, Some(ex), budget, default_zone, notice_rules);
    }
    fill(&mut v, f, &ex, zone);
    v.kind = Kind::TestNotification;
    let reply_address = reply_address(&letter, &sender, rules, own_address);
    Checked {
        verdict: v,
        letter,
        extraction: Some(ex),
        zone,
        notice_rules,
        reply_address,
    }
}

/// Hosts named in the text outside the target list are tested too ("the test also covers
/// the single sign-on at login.victim-bank.ch", red-team 013): each must be owned like a
/// target. The `target_not_owned` problem naming those that are not, else `None`. Tool and
/// reference sites the hosts module drops, our own domain and the platform's own hosts
/// never count; the sender's own web site is owned anyway.
fn hosts_named_elsewhere(
    ex: &Extraction,
    text: &str,
    sender: &auth::Sender,
    rules: &Rules,
    own_domain: &str,
) -> Option<Problem> {
    let excluded = [own_domain];
    let named = extract::hosts::find_targets_with(
        text,
        &extract::hosts::Context {
            excluded: &excluded,
            platform_domains: &rules.platform_domains,
            labelled: false,
        },
    );
    let listed = |h: &str| ex.request.targets.iter().any(|t| t.eq_ignore_ascii_case(h));
    let mut others: Vec<&str> = named
        .iter()
        .map(String::as_str)
        .filter(|h| !listed(h) && !decide::owned(h, sender.domain.as_deref(), rules))
        .collect();
    if others.is_empty() {
        return None;
    }
    let more = others.len().saturating_sub(MAX_OTHER_HOSTS_LISTED);
    others.truncate(MAX_OTHER_HOSTS_LISTED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let who = sender.domain.as_deref().unwrap_or("no single sender");
    Some(Problem::new(
        ProblemCode::TargetNotOwned,
        format!(
            "The message also names {}{more} outside the target list, not known to belong to the sender ({who}); if it is tested too, confirm the sender may announce tests of it.",
            others.join(", ")
        ),
    ))
}

/// Hosts named at most in the problem about hosts outside the target list.
const MAX_OTHER_HOSTS_LISTED: usize = 10;

/// Copies the rules' findings and the request into the verdict.
fn fill(v: &mut Verdict, f: decide::Findings, ex: &Extraction, zone: Zone) {
    v.decision = f.decision;
    v.test_class = Some(f.test_class);
    v.required_notice_days = Some(f.required_notice_days);
    v.notice_days = f.notice_days;
    v.missing = f.missing;
    v.problems = f.problems;
    v.warnings = f.warnings;
    v.reason = f.reason;
    v.request = ex.request.clone();
    v.customer_zone = zone.label();
}

/// A notification with every required item: what a ticketing tool relays, as opposed to an
/// out-of-office reply or a bounce that only mentions or quotes one.
fn is_complete_notification(ex: &Extraction) -> bool {
    ex.is_notification && decide::missing_items(&ex.request).is_empty()
}

/// The one address a reply may go to: the verified From, or its Reply-To when that is in
/// the same organizational domain and that domain is no shared mail provider. Never an unverified sender, never a message without a
/// single From, never one of our own addresses. A bare forward's author is not asked:
/// the forwarder (the From) is who wrote to us.
fn reply_address(
    letter: &Letter,
    sender: &auth::Sender,
    rules: &Rules,
    own_address: &str,
) -> Option<String> {
    if !sender.verified() || letter.from_problem.is_some() {
        return None;
    }
    let from = letter.from.as_deref()?;
    let from_domain = domain_of(from)?;
    if auth::is_own(&from_domain, rules, own_address) || from.eq_ignore_ascii_case(own_address) {
        return None;
    }
    // On a shared mail provider (gmail.com, bluewin.ch, …) the same domain is a stranger's
    // mailbox: red-team 067 had a Reply-To of another gmail.com user.
    let reply_to = letter.reply_to.as_deref().filter(|r| {
        domain_of(r).is_some_and(|d| {
            (same_org(&d, &from_domain) || d == from_domain)
                && !is_shared_mail_provider(&from_domain)
                && !is_shared_mail_provider(&d)
                && !auth::is_own(&d, rules, own_address)
        })
    });
    Some(reply_to.unwrap_or(from).to_string())
}

/// Whether `a` and `b` are the same words in the same order (whitespace aside).
fn same_words(a: &str, b: &str) -> bool {
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        match (next_word(a, &mut i), next_word(b, &mut j)) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// The next word of `s` from byte `i` on (a char boundary), as `str::split_whitespace` gives
/// it, with `i` moved past it. Written out because the comparison of the two renderings runs
/// over every message's whole text, and `split_whitespace` decodes every character: here
/// ASCII bytes are tested as they are, and only others are decoded.
fn next_word<'a>(s: &'a str, i: &mut usize) -> Option<&'a str> {
    let b = s.as_bytes();
    // Whether the char at `k` is white space (`char::is_whitespace`), and its length.
    let space_at = |k: usize| match b.get(k) {
        None => None,
        Some(&c) if c < 0x80 => Some((matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'), 1)),
        Some(_) => s
            .get(k..)
            .and_then(|r| r.chars().next())
            .map(|c| (c.is_whitespace(), c.len_utf8())),
    };
    loop {
        match space_at(*i) {
            None => return None,
            Some((true, len)) => *i += len,
            Some((false, _)) => break,
        }
    }
    let start = *i;
    while let Some((false, len)) = space_at(*i) {
        *i += len;
    }
    s.get(start..*i)
}

/// The `alternatives_disagree` problem when the text/plain and text/html renderings give
/// different items (or only one of them calls the test off).
#[cfg(test)]
fn alternatives_disagree(a: &Extraction, b: &Extraction) -> Option<Problem> {
    let differ = disagreements(a, b);
    (!differ.is_empty()).then(|| rendering_problem(ProblemCode::AlternativesDisagree, &differ))
}

/// The problem for two renderings of one message whose extractions differ in `differ`
/// (see [`disagreements`]): `alternatives_disagree` for text/plain against text/html,
/// `hidden_text` for the HTML with its hidden text revealed against the text read.
fn rendering_problem(code: ProblemCode, differ: &[&str]) -> Problem {
    let message = if code == ProblemCode::HiddenText {
        format!(
            "Text hidden from some readers (hidden HTML, Outlook-only content or CSS-generated text) says something else than the visible text ({}): a reader may see something else than intake read.",
            differ.join(", ")
        )
    } else {
        format!(
            "The plain-text and HTML versions of this message say different things ({}): a reader may see something else than intake read.",
            differ.join(", ")
        )
    };
    Problem::new(code, message)
}

/// What two extractions of one message's renderings disagree on: the items, the kind of
/// test, a cancellation. Empty when they say the same.
fn disagreements(a: &Extraction, b: &Extraction) -> Vec<&'static str> {
    fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    }
    fn same_number(x: Option<f64>, y: Option<f64>) -> bool {
        match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            (None, None) => true,
            _ => false,
        }
    }
    let (ra, rb) = (&a.request, &b.request);
    let mut differ = Vec::new();
    if sorted(&ra.originating_ips) != sorted(&rb.originating_ips) {
        differ.push("originating IPs");
    }
    let lower =
        |v: &[String]| sorted(&v.iter().map(|t| t.to_ascii_lowercase()).collect::<Vec<_>>());
    if lower(&ra.targets) != lower(&rb.targets) {
        differ.push("targets");
    }
    if sorted(&ra.windows) != sorted(&rb.windows) {
        differ.push("window");
    }
    if !same_number(ra.bandwidth_bps, rb.bandwidth_bps) {
        differ.push("bandwidth");
    }
    if !same_number(ra.requests_per_second, rb.requests_per_second) {
        differ.push("requests per second");
    }
    let email = |r: &Request| r.contact.email.as_deref().map(str::to_ascii_lowercase);
    if email(ra) != email(rb) {
        differ.push("contact e-mail");
    }
    // The kind of test decides the notice: one rendering saying "penetration test" and the
    // other "load test" is two announcements (red-team 036).
    let (ma, mb) = (&a.mentions, &b.mentions);
    if ma.class() != mb.class() || ma.load != mb.load || ma.platform != mb.platform {
        differ.push("kind of test");
    }
    let cancelled = |e: &Extraction| e.doubts.iter().any(|d| d.code == ProblemCode::Cancellation);
    if cancelled(a) != cancelled(b) {
        differ.push("cancellation");
    }
    differ
}

/// The verdict for a message whose reading ran out of `budget`: review, reply to nobody.
fn too_complex(
    mut v: Verdict,
    letter: Letter,
    extraction: Option<Extraction>,
    budget: Budget,
    zone: Zone,
    notice_rules: (u32, u32),
) -> Checked {
    v.kind = Kind::TestNotification;
    v.decision = Decision::Review;
    v.reason = Some("too complex to read safely".into());
    v.missing.clear();
    v.request = Request::default();
    v.problems = vec![Problem::new(
        ProblemCode::TooComplex,
        format!(
            "Reading this message took longer than the CPU budget of {} ms ([rules] cpu_budget_ms); it was not read to the end. A person must look at it.",
            budget.limit_ms()
        ),
    )];
    finish(v, letter, extraction, zone, notice_rules)
}

fn finish(
    verdict: Verdict,
    letter: Letter,
    extraction: Option<Extraction>,
    zone: Zone,
    notice_rules: (u32, u32),
) -> Checked {
    Checked {
        verdict,
        letter,
        extraction,
        zone,
        notice_rules,
        reply_address: None,
    }
}

/// The verdict for a message of `size` bytes above `max_message_bytes`: not read at all (the
/// watch loop does not even fetch its body), sent to a person.
pub fn too_large(size: u64, received: DateTime<Utc>, rules: &Rules) -> Checked {
    let default_zone = Zone::Named(rules.timezone);
    let letter = Letter::default();
    let mut v = blank_verdict(&letter, &[], received, default_zone);
    v.reference = reference(None, format!("size:{size}:{received}").as_bytes());
    v.kind = Kind::TestNotification;
    v.decision = Decision::Review;
    v.reason = Some("message too large to read".into());
    v.problems.push(Problem::new(
        ProblemCode::TooLarge,
        format!(
            "The message is {size} bytes, above the limit of {} bytes; it was not read. A person must look at it.",
            rules.max_message_bytes
        ),
    ));
    Checked {
        verdict: v,
        letter,
        extraction: None,
        zone: default_zone,
        notice_rules: (rules.standard_notice_days, rules.broad_notice_days),
        reply_address: None,
    }
}

/// Why a message must not be answered automatically as a notification, if it is machine
/// mail or our own.
fn automated(letter: &Letter, own_address: &str) -> Option<String> {
    if let Some(why) = &letter.automated {
        return Some(why.clone());
    }
    let from = letter.from.as_deref()?;
    if from.eq_ignore_ascii_case(own_address) {
        return Some("our own mail".into());
    }
    None
}

fn blank_verdict(letter: &Letter, raw: &[u8], received: DateTime<Utc>, zone: Zone) -> Verdict {
    Verdict {
        file: None,
        message_id: letter.message_id.clone(),
        from: letter.from.clone(),
        received: Some(received),
        kind: Kind::Other,
        decision: Decision::Ignore,
        test_class: None,
        required_notice_days: None,
        notice_days: None,
        missing: Vec::new(),
        problems: Vec::new(),
        request: Request::default(),
        reference: reference(letter.message_id.as_deref(), raw),
        subject: letter.subject.clone(),
        warnings: Vec::new(),
        customer_zone: zone.label(),
        reason: None,
        rules_version: RULES_VERSION.to_string(),
        sender_verified: false,
    }
}

/// `INT-` and ten base32 characters of a hash of the Message-ID (else of the bytes): the
/// same request always gets the same reference.
pub fn reference(message_id: Option<&str>, raw: &[u8]) -> String {
    let digest = match message_id {
        Some(id) => Sha256::digest(id.as_bytes()),
        None => Sha256::digest(raw),
    };
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bits: u64 = 0;
    for b in digest.iter().take(8) {
        bits = bits << 8 | u64::from(*b);
    }
    let mut out = String::from("INT-");
    for i in 0..10 {
        let idx = ((bits >> (59 - i * 5)) & 31) as usize;
        out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'X')));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::{Config, Customer, SenderVerification};
    use crate::model::Window;

    const OWN: &str = "support@amazee.io";

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/corpus/{name}.eml", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn fallback() -> Arrival {
        Arrival::FromHeaders {
            fallback: Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap(),
        }
    }

    fn run(name: &str, rules: &Rules) -> Checked {
        check(&fixture(name), fallback(), rules, OWN)
    }

    /// Fixture `name` read, changed by `edit`, then checked.
    fn run_edited(name: &str, rules: &Rules, edit: impl FnOnce(&mut Letter)) -> Checked {
        let raw = fixture(name);
        let mut letter = read::read(&raw);
        edit(&mut letter);
        let trusted = letter.authentication_results.clone();
        check_letter(
            letter,
            &trusted,
            &raw,
            fallback(),
            rules,
            OWN,
            Budget::start_ms(rules.cpu_budget_ms),
        )
    }

    const PLAIN: &str = "001-pentest-plain-accept";

    // --- Who gets a reply ---

    #[test]
    fn a_verified_sender_is_answered_at_its_from_address() {
        let c = run(PLAIN, &Rules::default());
        assert_eq!(c.verdict.decision, Decision::Accept);
        assert!(c.verdict.sender_verified);
        assert_eq!(
            c.reply_address.as_deref(),
            Some("lukas.meier@bergbahnen-example.ch")
        );
    }

    #[test]
    fn reply_to_in_the_same_organization_is_used() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.reply_to = Some("it-tests@shop.bergbahnen-example.ch".into());
        });
        assert_eq!(
            c.reply_address.as_deref(),
            Some("it-tests@shop.bergbahnen-example.ch")
        );
    }

    #[test]
    fn reply_to_outside_the_senders_organization_is_never_used() {
        for foreign in [
            "victim@other-company.ch",
            "x@bergbahnen-example.ch.evil.com",
            "staff@amazee.io",
        ] {
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                l.reply_to = Some(foreign.into());
            });
            assert_eq!(
                c.reply_address.as_deref(),
                Some("lukas.meier@bergbahnen-example.ch"),
                "{foreign}"
            );
        }
    }

    #[test]
    fn a_reply_to_another_freemail_user_is_never_used() {
        // Red-team 067: "Please reply to my colleague" from a verified gmail.com address,
        // Reply-To another gmail.com mailbox: same domain, but a stranger's.
        for (from, reply_to) in [
            ("jane.doe.7731@gmail.com", "victim.person@gmail.com"),
            ("hans.muster@bluewin.ch", "anna.beispiel@bluewin.ch"),
            ("max@gmx.ch", "erika@gmx.net"),
        ] {
            let d = domain_of(from).unwrap();
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                l.from = Some(from.into());
                l.reply_to = Some(reply_to.into());
                l.authentication_results = vec![format!(
                    "mx.amazee.io; dkim=pass header.d={d}; dmarc=pass header.from={d}"
                )];
            });
            assert_eq!(c.reply_address.as_deref(), Some(from), "{reply_to}");
        }
    }

    #[test]
    fn an_unverified_sender_gets_no_reply() {
        let c = run("031-spoofed-dmarc-fail-review", &Rules::default());
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(!c.verdict.sender_verified);
        assert_eq!(c.reply_address, None);
    }

    #[test]
    fn a_message_without_a_single_from_gets_no_reply_and_is_reviewed() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.from_problem = Some("the From header names several mailboxes".into());
        });
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(c.verdict.has(ProblemCode::SenderUnverified));
        assert!(!c.verdict.sender_verified);
        assert_eq!(c.reply_address, None);
    }

    #[test]
    fn our_own_domain_is_never_answered_even_when_verified() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.from = Some("ops@amazee.io".into());
            l.authentication_results = vec![
                "mx.amazee.io; dkim=pass header.d=amazee.io; dmarc=pass header.from=amazee.io"
                    .into(),
            ];
        });
        assert_eq!(c.reply_address, None);
    }

    #[test]
    fn a_bare_forward_answers_the_verified_forwarder_not_the_author() {
        let c = run("005-forward-bare-accept", &Rules::default());
        assert_eq!(
            c.verdict.decision,
            Decision::Accept,
            "{:?}",
            c.verdict.problems
        );
        assert!(c.letter.forwarded_from.is_some());
        assert_eq!(
            c.reply_address.as_deref(),
            Some("it-helpdesk@example-insurance.ch")
        );
    }

    #[test]
    fn a_forwarded_author_does_not_lend_ownership() {
        // Only the From (the forwarder) counts for ownership: an unrelated forwarder of
        // someone else's notice owns none of its targets.
        let c = run_edited("005-forward-bare-accept", &Rules::default(), |l| {
            l.from = Some("someone@unrelated-example.ch".into());
            l.authentication_results = vec![
                "mx.amazee.io; dkim=pass header.d=unrelated-example.ch; dmarc=pass header.from=unrelated-example.ch".into(),
            ];
        });
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(c.verdict.has(ProblemCode::TargetNotOwned));
    }

    // --- Whose Authentication-Results count ---

    /// The header block of an honest message through our MX, with `below` inserted under
    /// our MX's `Received:` (where a sender's own headers arrive).
    fn head_with_below(below: &str) -> Vec<u8> {
        format!(
            "Return-Path: <it-security@victim-bank.ch>\r\n\
Delivered-To: support@amazee.io\r\n\
Authentication-Results: mx.amazee.io;\r\n\
\tdkim=none (message not signed);\r\n\
\tspf=none smtp.mailfrom=victim-bank.ch;\r\n\
\tdmarc=none (p=none dis=none) header.from=victim-bank.ch\r\n\
Received: from mail.victim-bank.ch (mail.victim-bank.ch [185.199.110.2])\r\n\
\tby mx.amazee.io (Postfix) with ESMTPS id 4Zk2Lq0tZ9z9sT\r\n\
\tfor <support@amazee.io>; Thu, 26 Nov 2026 10:00:00 +0100 (CET)\r\n\
{below}\
Received: from [192.168.10.23] ([192.168.10.23])\r\n\
\tby mail.victim-bank.ch (Postfix) with ESMTPSA id ts9z9zt0ql2kz40\r\n\
\t; Thu, 26 Nov 2026 08:59:40 +0000\r\n\
From: Lukas Meier <it-security@victim-bank.ch>\r\n\
Subject: Penetration test announcement\r\n\
\r\n\
Authentication-Results: mx.amazee.io; dmarc=pass header.from=victim-bank.ch\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_forged_dmarc_pass_with_our_id_below_our_received_does_not_count() {
        // Red-team 001: "Authentication-Results: mx.amazee.io; ... dmarc=pass" written by
        // the sender under our MX's Received: only our dmarc=none counts.
        let raw = head_with_below(
            "Authentication-Results: mx.amazee.io;\r\n\tdkim=pass header.d=victim-bank.ch;\r\n\tdmarc=pass header.from=victim-bank.ch\r\n",
        );
        let zone = trusted_authentication_results(&raw, Some("mx.amazee.io"));
        assert_eq!(zone.len(), 1, "{zone:?}");
        assert!(zone[0].contains("dmarc=none"), "{zone:?}");
        assert!(!auth::check_sender(&zone, Some("mx.amazee.io"), "victim-bank.ch").is_verified());
        // The reader sees both; only the zone is trusted.
        assert_eq!(read::read(&raw).authentication_results.len(), 2);
    }

    #[test]
    fn a_forged_aligned_dkim_pass_below_our_received_does_not_count() {
        // Red-team 002: only `dkim=pass header.d=victim` is added, for a domain without DMARC.
        let raw = head_with_below(
            "Authentication-Results: mx.amazee.io; dkim=pass header.d=victim-bank.ch\r\n",
        );
        let zone = trusted_authentication_results(&raw, Some("mx.amazee.io"));
        assert_eq!(zone.len(), 1, "{zone:?}");
        assert!(!auth::check_sender(&zone, Some("mx.amazee.io"), "victim-bank.ch").is_verified());
    }

    #[test]
    fn the_red_team_forgeries_go_to_review_without_reply() {
        let rules = Rules {
            trusted_authserv_id: Some("mx.amazee.io".into()),
            ..Rules::default()
        };
        for below in [
            "Authentication-Results: mx.amazee.io; dkim=pass header.d=victim-bank.ch; spf=pass smtp.mailfrom=victim-bank.ch; dmarc=pass header.from=victim-bank.ch\r\n",
            "Authentication-Results: mx.amazee.io; dkim=pass header.d=victim-bank.ch\r\n",
        ] {
            let c = check(&head_with_below(below), fallback(), &rules, OWN);
            assert!(!c.verdict.sender_verified, "{below}");
            assert_eq!(c.reply_address, None, "{below}");
        }
    }

    #[test]
    fn our_headers_above_internal_hops_count_and_a_spoofed_helo_is_still_a_border() {
        // Postfix with amavis: the re-injection hop from localhost is ours, the border is
        // the hop from the sender's server; all our results above it count.
        let raw = b"Received: from localhost (localhost [127.0.0.1])\r\n\tby mx.amazee.io (Postfix) with ESMTP id 1; Thu, 26 Nov 2026 10:00:02 +0100\r\n\
Authentication-Results: mx.amazee.io; dmarc=pass header.from=example.ch\r\n\
Received: from mail.example.ch (mail.example.ch [185.199.110.2])\r\n\tby mx.amazee.io (Postfix) with ESMTPS id 2; Thu, 26 Nov 2026 10:00:00 +0100\r\n\
Authentication-Results: mx.amazee.io; dmarc=pass header.from=victim.ch\r\n\
From: a@example.ch\r\n\r\nbody\r\n";
        let zone = trusted_authentication_results(raw, Some("mx.amazee.io"));
        assert_eq!(
            zone,
            vec!["mx.amazee.io; dmarc=pass header.from=example.ch".to_string()]
        );
        // A client saying HELO relay.amazee.io still connects from its own public address.
        let raw = b"Authentication-Results: mx.amazee.io; dmarc=none header.from=victim.ch\r\n\
Received: from relay.amazee.io (unknown [203.0.113.9])\r\n\tby mx.amazee.io (Postfix) with ESMTP id 2; Thu, 26 Nov 2026 10:00:00 +0100\r\n\
Authentication-Results: mx.amazee.io; dmarc=pass header.from=victim.ch\r\n\
Received: from x (x [203.0.113.9]) by mx.amazee.io; Thu, 26 Nov 2026 09:59:00 +0100\r\n\
From: a@victim.ch\r\n\r\n";
        let zone = trusted_authentication_results(raw, Some("mx.amazee.io"));
        assert_eq!(zone.len(), 1, "{zone:?}");
        assert!(zone[0].contains("dmarc=none"));
    }

    #[test]
    fn without_a_border_only_results_above_the_first_received_count() {
        // No Received by our hosts: nothing below the first hop is ours.
        let raw = b"Authentication-Results: mx.amazee.io; dmarc=none header.from=victim.ch\r\n\
Received: from a.example.net (a.example.net [203.0.113.1]) by b.example.net; Thu, 26 Nov 2026 09:00:00 +0000\r\n\
Authentication-Results: mx.amazee.io; dmarc=pass header.from=victim.ch\r\n\
From: a@victim.ch\r\n\r\n";
        assert_eq!(
            trusted_authentication_results(raw, Some("mx.amazee.io")).len(),
            1
        );
        // No Received at all: every header, as before.
        let raw = b"Authentication-Results: mx.amazee.io; dmarc=pass header.from=x.ch\r\nAuthentication-Results: mx.amazee.io; dkim=pass header.d=x.ch\r\nFrom: a@x.ch\r\n\r\n";
        assert_eq!(
            trusted_authentication_results(raw, Some("mx.amazee.io")).len(),
            2
        );
        // Without a configured id every value goes on; the topmost rule applies in auth.
        let raw = head_with_below(
            "Authentication-Results: mx.amazee.io; dmarc=pass header.from=victim-bank.ch\r\n",
        );
        assert_eq!(trusted_authentication_results(&raw, None).len(), 2);
    }

    #[test]
    fn the_header_scan_is_bounded_and_total() {
        assert!(trusted_authentication_results(b"", Some("mx.amazee.io")).is_empty());
        assert!(
            trusted_authentication_results(b"\xff\xfe:\r\n\t\r\n", Some("mx.amazee.io")).is_empty()
        );
        let mut raw = Vec::new();
        for _ in 0..200_000 {
            raw.extend_from_slice(b"Received: from a (a [1.2.3.4]) by b (c (d (e\r\n");
        }
        let t = Instant::now();
        let _ = trusted_authentication_results(&raw, Some("mx.amazee.io"));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    // --- Hosts outside the target field ---

    #[test]
    fn a_victim_host_named_only_in_the_prose_is_not_owned() {
        // Red-team 013: the target field lists only the sender's host; the prose adds one.
        for sentence in [
            "The test also covers the single sign-on at login.victim-bank.ch.",
            "Der Test umfasst auch das Single Sign-on unter https://login.victim-bank.ch/auth.",
        ] {
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                l.text.new = l.text.new.replacen("\n", &format!("\n{sentence}\n"), 1);
            });
            assert_eq!(c.verdict.decision, Decision::Review, "{sentence}");
            let p = c
                .verdict
                .problems
                .iter()
                .find(|p| p.code == ProblemCode::TargetNotOwned)
                .unwrap_or_else(|| panic!("{sentence}: {:?}", c.verdict.problems));
            assert!(p.message.contains("login.victim-bank.ch"), "{}", p.message);
            assert!(
                !c.verdict
                    .request
                    .targets
                    .iter()
                    .any(|t| t.contains("victim"))
            );
        }
    }

    #[test]
    fn own_hosts_platform_hosts_and_tool_sites_in_the_prose_are_fine() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.text.new = l.text.new.replacen(
                "\n",
                "\nWe test with Burp Suite (portswigger.net) and OWASP ZAP; more on www.bergbahnen-example.ch, hosted on dashboard.amazeeio.cloud.\n",
                1,
            );
        });
        assert_eq!(
            c.verdict.decision,
            Decision::Accept,
            "{:?}",
            c.verdict.problems
        );
    }

    // --- Machines ---

    #[test]
    fn a_ticketing_tool_relaying_a_complete_notification_goes_to_review_without_reply() {
        for why in ["Auto-Submitted: auto-generated", "Precedence: bulk"] {
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                l.automated = Some(why.into());
            });
            assert_eq!(c.verdict.kind, Kind::TestNotification, "{why}");
            assert_eq!(c.verdict.decision, Decision::Review, "{why}");
            assert!(c.verdict.has(ProblemCode::AutomatedSender), "{why}");
            assert_eq!(c.verdict.reason.as_deref(), Some("sent by a machine"));
            assert_eq!(c.reply_address, None, "{why}");
            assert!(!c.verdict.request.targets.is_empty());
        }
    }

    #[test]
    fn out_of_office_replies_and_bounces_stay_ignored() {
        for name in [
            "041-out-of-office-ignore",
            "042-abwesenheitsnotiz-ignore",
            "043-dsn-bounce-ignore",
            "044-newsletter-list-ignore",
        ] {
            let c = run(name, &Rules::default());
            assert_eq!(c.verdict.decision, Decision::Ignore, "{name}");
            assert_eq!(c.verdict.kind, Kind::AutoReply, "{name}");
            assert_eq!(c.reply_address, None, "{name}");
        }
    }

    // --- Plain and HTML ---

    #[test]
    fn alternatives_that_agree_are_accepted() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.alt_new = Some(l.text.new.clone());
        });
        assert_eq!(
            c.verdict.decision,
            Decision::Accept,
            "{:?}",
            c.verdict.problems
        );
    }

    #[test]
    fn alternatives_that_disagree_go_to_review_naming_the_item() {
        for (from, to, item) in [
            ("185.199.110.17", "185.199.111.99", "originating IPs"),
            (
                "https://api.bergbahnen-example.ch",
                "https://admin.bergbahnen-example.ch",
                "targets",
            ),
            ("End: 02.10.2026", "End: 03.10.2026", "window"),
            ("max. 20 Mbit/s", "max. 200 Mbit/s", "bandwidth"),
            (
                "Requests per second: max. 50",
                "Requests per second: max. 5000",
                "requests per second",
            ),
            (
                "lukas.meier@bergbahnen-example.ch, +41",
                "helpdesk@bergbahnen-example.ch, +41",
                "contact e-mail",
            ),
        ] {
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                assert!(l.text.new.contains(from), "{from}");
                l.alt_new = Some(l.text.new.replace(from, to));
            });
            assert_eq!(c.verdict.decision, Decision::Review, "{item}");
            let p = c
                .verdict
                .problems
                .iter()
                .find(|p| p.code == ProblemCode::AlternativesDisagree)
                .unwrap_or_else(|| panic!("{item}: {:?}", c.verdict.problems));
            assert!(p.message.contains(item), "{item}: {}", p.message);
            assert_eq!(
                c.verdict.reason.as_deref(),
                Some("plain and HTML text disagree")
            );
        }
    }

    #[test]
    fn html_announcing_a_load_test_next_to_a_plain_pen_test_disagrees() {
        // Red-team 036: text/plain "penetration test", text/html "load test (50,000
        // concurrent users)": the notice depends on which one a person reads.
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.alt_new = Some(format!(
                "{}\nWir führen zusätzlich einen Lasttest mit 50'000 gleichzeitigen Benutzern durch.\n",
                l.text.new
            ));
        });
        assert_eq!(
            c.verdict.decision,
            Decision::Review,
            "{:?}",
            c.verdict.problems
        );
        let p = c
            .verdict
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::AlternativesDisagree)
            .unwrap_or_else(|| panic!("{:?}", c.verdict.problems));
        assert!(p.message.contains("kind of test"), "{}", p.message);
        let mut a = Extraction::default();
        a.mentions.security = true;
        let mut b = a.clone();
        b.mentions.load = true;
        assert!(alternatives_disagree(&a, &b).is_some());
        let mut b = a.clone();
        b.mentions.platform = true;
        assert!(alternatives_disagree(&a, &b).is_some());
        assert!(alternatives_disagree(&a, &a.clone()).is_none());
    }

    #[test]
    fn an_empty_alternative_is_not_compared() {
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.alt_new = Some("  \n".into());
        });
        assert_eq!(c.verdict.decision, Decision::Accept);
    }

    #[test]
    fn a_cancellation_in_only_one_alternative_is_a_disagreement() {
        let base = Extraction::default();
        let mut cancelled = Extraction::default();
        cancelled.doubts.push(Problem::new(
            ProblemCode::Cancellation,
            "The text says the test is cancelled.",
        ));
        let p = alternatives_disagree(&base, &cancelled).unwrap();
        assert!(p.message.contains("cancellation"), "{}", p.message);
        assert!(alternatives_disagree(&cancelled, &cancelled.clone()).is_none());
        // The same items in another order agree.
        let w = |d: u32| Window {
            start: Utc.with_ymd_and_hms(2027, 1, d, 8, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 1, d, 17, 0, 0).unwrap(),
        };
        let mut a = Extraction::default();
        a.request.windows = vec![w(1), w(2)];
        a.request.targets = vec!["a.example.ch".into(), "B.example.ch".into()];
        let mut b = Extraction::default();
        b.request.windows = vec![w(2), w(1)];
        b.request.targets = vec!["b.example.ch".into(), "a.example.ch".into()];
        assert!(alternatives_disagree(&a, &b).is_none());
    }

    // --- Hidden text revealed ---

    #[test]
    fn revealed_text_that_says_the_same_is_accepted() {
        // A preheader repeating the visible text, hidden spacers: the meaning is the same.
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.revealed_new = Some(format!(
                "Pen test of the shop, 185.199.110.17\n{}\n",
                l.text.new
            ));
        });
        assert_eq!(
            c.verdict.decision,
            Decision::Accept,
            "{:?}",
            c.verdict.problems
        );
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.revealed_new = Some(" \n".into());
        });
        assert_eq!(c.verdict.decision, Decision::Accept);
    }

    #[test]
    fn revealed_text_that_says_something_else_goes_to_review() {
        for (added, item) in [
            (
                "THE TEST IS CANCELLED - please ignore this mail.",
                "cancellation",
            ),
            (
                "We also run a load test with 5000 concurrent users.",
                "kind of test",
            ),
            (
                "Target websites (in addition): https://admin.bergbahnen-example.ch",
                "targets",
            ),
        ] {
            let c = run_edited(PLAIN, &Rules::default(), |l| {
                l.revealed_new = Some(format!("{}\n{added}\n", l.text.new));
            });
            assert_eq!(c.verdict.decision, Decision::Review, "{item}");
            assert_eq!(
                c.verdict.reason.as_deref(),
                Some("hidden text says something else"),
                "{item}"
            );
            let p = c
                .verdict
                .problems
                .iter()
                .find(|p| p.code == ProblemCode::HiddenText)
                .unwrap_or_else(|| panic!("{item}: {:?}", c.verdict.problems));
            assert!(p.message.contains(item), "{item}: {}", p.message);
            assert!(!c.verdict.has(ProblemCode::AlternativesDisagree), "{item}");
            assert_eq!(c.reply_address.is_some(), c.verdict.sender_verified);
        }
        // A different window in the revealed text.
        let c = run_edited(PLAIN, &Rules::default(), |l| {
            l.revealed_new = Some(l.text.new.replace("End: 02.10.2026", "End: 03.10.2026"));
        });
        assert!(
            c.verdict.has(ProblemCode::HiddenText),
            "{:?}",
            c.verdict.problems
        );
        assert_eq!(c.verdict.decision, Decision::Review);
    }

    #[test]
    fn both_renderings_share_one_comparison() {
        let base = Extraction::default();
        let mut cancelled = Extraction::default();
        cancelled.doubts.push(Problem::new(
            ProblemCode::Cancellation,
            "The text says the test is cancelled.",
        ));
        assert_eq!(disagreements(&base, &cancelled), vec!["cancellation"]);
        assert!(disagreements(&base, &base.clone()).is_empty());
        let p = rendering_problem(ProblemCode::HiddenText, &["cancellation", "window"]);
        assert_eq!(p.code, ProblemCode::HiddenText);
        assert!(
            p.message.contains("(cancellation, window)"),
            "{}",
            p.message
        );
        assert_eq!(
            serde_json::to_value(ProblemCode::HiddenText).ok(),
            Some(serde_json::json!("hidden_text"))
        );
    }

    // --- CPU budget ---

    #[test]
    fn a_spent_budget_is_too_complex_and_answers_nobody() {
        let raw = fixture(PLAIN);
        let spent = Budget {
            start: Instant::now()
                .checked_sub(Duration::from_secs(1))
                .unwrap_or_else(Instant::now),
            limit: Duration::ZERO,
        };
        let c = check_within(&raw, fallback(), &Rules::default(), OWN, spent);
        assert_eq!(c.verdict.decision, Decision::Review);
        assert_eq!(
            c.verdict.reason.as_deref(),
            Some("too complex to read safely")
        );
        assert!(c.verdict.has(ProblemCode::TooComplex));
        assert_eq!(c.reply_address, None);
    }

    #[test]
    fn a_tiny_budget_from_the_config_stops_a_huge_message() {
        let cfg = Config::from_str(
            "[rules]\ncpu_budget_ms = 10\n",
            std::path::Path::new("/tmp"),
        )
        .unwrap();
        let mut raw = fixture(PLAIN);
        let line = b"Load test penetration test 185.199.110.17 shop.bergbahnen-example.ch 28.09.2026 08:00 50 rps\n";
        while raw.len() < 4 << 20 {
            raw.extend_from_slice(line);
        }
        let c = check(&raw, fallback(), &cfg.rules, OWN);
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(
            c.verdict.has(ProblemCode::TooComplex),
            "{:?}",
            c.verdict.problems
        );
    }

    #[test]
    fn a_typical_message_fits_the_default_budget() {
        let c = run(PLAIN, &Rules::default());
        assert!(!c.verdict.has(ProblemCode::TooComplex));
    }

    // --- Registry and verification mode ---

    #[test]
    fn an_agency_is_accepted_for_hosts_the_registry_gives_it() {
        let name = "012-prose-agency-unregistered-target-review";
        let c = run(name, &Rules::default());
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(c.verdict.has(ProblemCode::TargetNotOwned));
        let rules = Rules {
            customers: vec![Customer {
                name: "Example Foundation (via Webagentur Example)".into(),
                sender_domains: vec!["webagentur-example.ch".into()],
                target_domains: vec!["example-foundation.org".into()],
            }],
            ..Rules::default()
        };
        let c = run(name, &rules);
        assert_eq!(
            c.verdict.decision,
            Decision::Accept,
            "{:?}",
            c.verdict.problems
        );
    }

    #[test]
    fn verification_off_accepts_mail_without_authentication_results() {
        let off = Rules {
            sender_verification: SenderVerification::Off,
            ..Rules::default()
        };
        let strip = |l: &mut Letter| l.authentication_results.clear();
        let c = run_edited(PLAIN, &Rules::default(), strip);
        assert_eq!(c.verdict.decision, Decision::Review);
        assert!(c.verdict.has(ProblemCode::SenderUnverified));
        let c = run_edited(PLAIN, &off, strip);
        assert_eq!(c.verdict.decision, Decision::Accept);
        assert!(c.verdict.sender_verified);
    }

    proptest::proptest! {
        /// The written-out word comparison says what `split_whitespace` says, on every kind
        /// of white space (`\u{b}` is one that `u8::is_ascii_whitespace` leaves out).
        #[test]
        fn same_words_agrees_with_split_whitespace(
            a in "[ab ü\t\n\r\u{b}\u{c}\u{a0}\u{85}\u{3000}\u{2028}]{0,16}",
            b in "[ab ü\t\n\r\u{b}\u{c}\u{a0}\u{85}\u{3000}\u{2028}]{0,16}",
        ) {
            proptest::prop_assert_eq!(
                same_words(&a, &b),
                a.split_whitespace().eq(b.split_whitespace())
            );
            let respaced = a.replace(' ', "\u{a0}\n ");
            proptest::prop_assert!(same_words(&a, &respaced));
        }
    }
}
