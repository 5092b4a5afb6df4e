//! The pure core: one message in, one verdict out. No I/O, no clock: arrival comes in.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::config::Rules;
use crate::decide::{self, RULES_VERSION, auth};
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

/// Checks one raw message. Total: any bytes give a verdict.
pub fn check(raw: &[u8], arrival: Arrival, rules: &Rules, own_address: &str) -> Checked {
    let default_zone = Zone::Named(rules.timezone);
    let notice_rules = (rules.standard_notice_days, rules.broad_notice_days);
    if raw.len() as u64 > rules.max_message_bytes {
        let received = match arrival {
            Arrival::Known(t) | Arrival::FromHeaders { fallback: t } => t,
        };
        return too_large(raw.len() as u64, received, rules);
    }

    let letter = read::read(raw);
    let received = match arrival {
        Arrival::Known(t) => t,
        Arrival::FromHeaders { fallback } => letter.received.or(letter.date).unwrap_or(fallback),
    };
    let mut v = blank_verdict(&letter, raw, received, default_zone);
    let own_domain = own_address.rsplit_once('@').map_or("", |(_, d)| d);

    if let Some(why) = automated(&letter, own_address) {
        v.kind = Kind::AutoReply;
        v.decision = Decision::Ignore;
        v.reason = Some(why);
        return finish(v, letter, None, default_zone, notice_rules);
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
    let ex = extract::extract(&letter, &text, &ctx, own_domain, &rules.platform_domains);

    if !ex.is_notification {
        v.kind = Kind::Other;
        v.decision = Decision::Ignore;
        v.reason = Some(if ex.mentions.any() {
            "mentions tests but announces none (a question or a follow-up)".into()
        } else {
            "not a test notification".into()
        });
        return finish(v, letter, Some(ex), default_zone, notice_rules);
    }

    let zone = ex.zone.unwrap_or(default_zone);
    let from_domain = letter
        .from
        .as_deref()
        .and_then(|f| f.rsplit_once('@'))
        .map_or("", |(_, d)| d);
    let sender = auth::check_sender(
        &letter.authentication_results,
        rules.trusted_authserv_id.as_deref(),
        from_domain,
    );
    let f = decide::judge(&ex, sender, rules, received, zone);
    v.kind = Kind::TestNotification;
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
    // Until sender verification decides it: the old addressing.
    let reply_address = letter.reply_to.clone().or_else(|| v.from.clone());
    Checked {
        verdict: v,
        letter,
        extraction: Some(ex),
        zone,
        notice_rules,
        reply_address,
    }
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
        rules_version: RULES_VERSION,
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
