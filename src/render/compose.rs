//! Composing: the full outgoing messages (customer reply, security forward, staff summary)
//! for a checked message, as RFC 5322 bytes ready to send.

use std::time::SystemTime;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};

use super::MAX_LISTED;
use super::{Context, Rendered, Template, Templates, clean, ics, language};
use crate::check::Checked;
use crate::config::Addresses;
use crate::conversation::{Action, Step};
use crate::model::{Decision, Lang, Problem, ProblemCode};

pub use crate::model::{Outgoing, Role};

/// The messages a verdict causes: a staff summary for every message intake does not answer
/// (a short one for ignored mail, none for our own mail: that would loop when staff and
/// support share a mailbox); the customer reply for `accept`/`reject`, only to
/// [`Checked::reply_address`] and only when `hold` is `None`; the security forward for
/// `accept`. `hold` says why the reply is held back (the loop breaker). Within a
/// conversation (`step`), what the message did to its request decides instead: a completed
/// request is accepted with its whole record, a change is confirmed or refused (the security
/// team gets the updated calendar, same UID, higher `SEQUENCE`), a cancellation is
/// acknowledged (the security team gets `CANCEL`), a resend is answered with a short note.
///
/// The customer reply is in the language of the customer's message (its subject and new
/// text, [`language::of_message`]), else in the configured `language`; security and staff
/// mail are in `staff_language` (both on [`Templates`]).
pub fn compose(
    c: &Checked,
    original: &[u8],
    templates: &Templates,
    addresses: &Addresses,
    now: DateTime<Utc>,
    hold: Option<&str>,
) -> Result<Vec<Outgoing>> {
    compose_step(c, original, templates, addresses, now, hold, None)
}

/// [`compose`] for a message that took `step` in its request's conversation.
pub fn compose_step(
    c: &Checked,
    original: &[u8],
    templates: &Templates,
    addresses: &Addresses,
    now: DateTime<Utc>,
    hold: Option<&str>,
    step: Option<&Step>,
) -> Result<Vec<Outgoing>> {
    let own_domain = addresses.own_domain();
    let plan = Plan::of(c, step);
    // Outgoing Message-IDs: the request's reference, and from its second customer message
    // on the step number, so every step's messages are distinct and stable.
    // A step taken in the console has its own: the request's revision after it.
    let stem = match step.and_then(|s| s.request.as_ref().map(|r| (r, s.staff.is_some()))) {
        Some((r, true)) => format!("{}.s{}", r.reference, r.revision),
        Some((r, false)) if r.steps > 1 => format!("{}.{}", r.reference, r.steps),
        _ => c.verdict.reference.clone(),
    };
    // Rendered with the request's merged record where there is one.
    let shown;
    let c = match step.and_then(|s| s.request.as_ref()) {
        Some(r) if plan.whole_record => {
            let mut x = c.clone();
            x.verdict.request = r.record.clone();
            shown = x;
            &shown
        }
        _ => c,
    };
    let v = &c.verdict;
    if plan.short_summary {
        if is_own_mail(c, original, addresses) {
            return Ok(Vec::new());
        }
        return Ok(vec![ignore_summary(c, addresses, now, &stem)?]);
    }
    let staff_lang = templates.staff_language();
    let reply_lang = plan
        .reply
        .map(|_| language::of_message(c).unwrap_or(templates.language()));
    let mut ctx = step_context(c, now, step, staff_lang);
    ctx.language = reply_lang.map_or("", Lang::as_str).into();
    let mut out = Vec::new();

    if let (Some(_), Some(why)) = (plan.reply, hold) {
        ctx.warnings.push(clean::one_line(why, 500));
    } else if let Some(t) = plan.reply {
        // The one address trust allows (the verified From, or a Reply-To of the same
        // organization); never Reply-To or From on their own.
        let to = c
            .reply_address
            .clone()
            .filter(|a| answerable(a, own_domain));
        match to {
            Some(to) => {
                let lang = reply_lang.unwrap_or(staff_lang);
                let r = if lang == staff_lang {
                    templates.render(t, &ctx, lang)?
                } else {
                    let mut rctx = step_context(c, now, step, lang);
                    rctx.language = ctx.language.clone();
                    templates.render(t, &rctx, lang)?
                };
                ctx.reply_sent = true;
                out.push(build(
                    c, Role::Reply, &addresses.from, &to, &r, None, now, own_domain, &stem,
                )?);
            }
            None => ctx.warnings.push(
                "No automated reply was sent: there is no address intake may answer (the sender is not verified, the Reply-To is outside the sender's organization, or the address is missing, our own, or a no-reply/daemon address).".into(),
            ),
        }
    }
    if let Some(sec) = plan.security {
        ctx.method = sec.method.into();
        ctx.sequence = sec.sequence;
        // A cancellation lists the window that is withdrawn.
        let mut cv = c.clone();
        if let Some(prev) = sec.windows_of.clone() {
            cv.verdict.request = prev;
        }
        let sctx = if sec.windows_of.is_some() {
            let mut x = Context::of_in(&cv, now, staff_lang);
            x.action = ctx.action.clone();
            x.state = ctx.state.clone();
            x.history = ctx.history.clone();
            x.method = ctx.method.clone();
            x.sequence = ctx.sequence;
            x.language = ctx.language.clone();
            x
        } else {
            ctx.clone()
        };
        let r = templates.render(sec.template, &sctx, staff_lang)?;
        let cal = ics::calendar(
            &cv.verdict,
            own_domain,
            now,
            &ics::Entry {
                method: sec.method,
                sequence: sec.sequence,
                withdrawn: sec.withdrawn.as_ref(),
            },
        );
        out.push(build(
            c,
            Role::Security,
            &addresses.from,
            &addresses.security_team,
            &r,
            Some((cal, original, sec.method)),
            now,
            own_domain,
            &stem,
        )?);
    }
    ctx.console_url = templates.console_link(&v.reference);
    let r = templates.render(Template::Staff, &ctx, staff_lang)?;
    out.push(build(
        c,
        Role::Staff,
        &addresses.from,
        &addresses.staff,
        &r,
        None,
        now,
        own_domain,
        &stem,
    )?);
    let _ = v;
    Ok(out)
}

/// The context of a message that took `step`, with the words intake writes in `lang`.
fn step_context(c: &Checked, now: DateTime<Utc>, step: Option<&Step>, lang: Lang) -> Context {
    let mut ctx = Context::of_in(c, now, lang);
    if let Some(s) = step {
        ctx.action = s.action.as_str().into();
        ctx.changes = s
            .changes
            .iter()
            .take(MAX_LISTED)
            .map(|x| x.line_in(lang))
            .collect();
        if let Some(r) = &s.request {
            ctx.state = r.state.as_str().into();
            ctx.history = history_lines(r);
            ctx.sequence = r.sequence;
            ctx.follow_up = r.steps > 1;
        }
        ctx.had_acceptance = s.previous.is_some();
        if let Some(n) = &s.staff {
            ctx.staff_by = clean::one_line(&n.by, 64);
            ctx.staff_reason = clean::one_line(&n.reason, 1000);
            ctx.staff_confirmed_sender = n.sender_confirmed;
            ctx.staff_act = n.act.into();
            ctx.staff_overridden = n
                .overridden
                .iter()
                .take(MAX_LISTED)
                .map(|p| clean::one_line(p, 500))
                .collect();
        }
    }
    ctx
}

/// The request's history for people, one line per step, the newest last.
fn history_lines(r: &crate::conversation::RequestRecord) -> Vec<String> {
    let skip = r.history.len().saturating_sub(MAX_LISTED);
    r.history
        .iter()
        .skip(skip)
        .map(|e| {
            let mut line = format!(
                "{} {} from {}: {} (now {})",
                e.at.format("%Y-%m-%d %H:%M UTC"),
                e.decision.as_str(),
                e.from.as_deref().unwrap_or("(unknown)"),
                e.action.as_str().replace('_', " "),
                e.state.as_str()
            );
            if !e.changes.is_empty() {
                line.push_str("; ");
                line.push_str(&e.changes.join("; "));
            }
            clean::one_line(&line, 600)
        })
        .collect()
}

/// The security team's message of a step.
struct SecurityPlan {
    template: Template,
    method: &'static str,
    sequence: u32,
    /// For a cancellation: the record whose windows are withdrawn.
    windows_of: Option<crate::model::Request>,
    /// For a change: the windows the security team held, so one no longer announced is
    /// withdrawn in the same calendar.
    withdrawn: Option<crate::model::Request>,
}

/// What a message causes: which reply, which security message, and how staff hear of it.
struct Plan {
    reply: Option<Template>,
    security: Option<SecurityPlan>,
    /// Only the short summary of ignored mail (or nothing for our own mail).
    short_summary: bool,
    /// Render the request's merged record rather than this message's items.
    whole_record: bool,
}

impl Plan {
    fn of(c: &Checked, step: Option<&Step>) -> Plan {
        let v = &c.verdict;
        let plain = |reply, security, short| Plan {
            reply,
            security,
            short_summary: short,
            whole_record: false,
        };
        let publish = |sequence| SecurityPlan {
            template: Template::Security,
            method: "PUBLISH",
            sequence,
            windows_of: None,
            withdrawn: None,
        };
        let Some(s) = step else {
            return match v.decision {
                Decision::Accept => plain(Some(Template::Acceptance), Some(publish(0)), false),
                Decision::Reject => plain(Some(Template::Rejection), None, false),
                Decision::Review => plain(None, None, false),
                Decision::Ignore => plain(None, None, true),
            };
        };
        let sequence = s.request.as_ref().map_or(0, |r| r.sequence);
        let whole = |reply, security| Plan {
            reply,
            security,
            short_summary: false,
            whole_record: true,
        };
        match s.action {
            Action::Accepted => plain(Some(Template::Acceptance), Some(publish(sequence)), false),
            Action::Rejected => whole(Some(Template::Rejection), None),
            Action::Completed => whole(Some(Template::Acceptance), Some(publish(sequence))),
            Action::ChangeAccepted => whole(
                Some(Template::ChangeAccepted),
                Some(SecurityPlan {
                    template: Template::SecurityUpdate,
                    method: "PUBLISH",
                    sequence,
                    windows_of: None,
                    withdrawn: s.previous.clone(),
                }),
            ),
            Action::ChangeRejected => whole(Some(Template::ChangeRejected), None),
            Action::Cancelled => whole(
                Some(Template::Cancelled),
                s.previous.clone().map(|prev| SecurityPlan {
                    template: Template::SecurityUpdate,
                    method: "CANCEL",
                    sequence,
                    windows_of: Some(prev),
                    withdrawn: None,
                }),
            ),
            Action::Duplicate => whole(Some(Template::Duplicate), None),
            Action::Review => plain(None, None, false),
            Action::Ignored => plain(None, None, true),
        }
    }
}

/// [`compose`], but one message's failure (an address lettre cannot build, a template that
/// fails on its data) never stops the caller: the message becomes `review` and staff get a
/// notice with the original attached. Returns the error text when that happened.
pub fn compose_or_notice(
    c: &mut Checked,
    original: &[u8],
    templates: &Templates,
    addresses: &Addresses,
    now: DateTime<Utc>,
    hold: Option<&str>,
) -> Result<(Vec<Outgoing>, Option<String>)> {
    compose_or_notice_step(c, original, templates, addresses, now, hold, None)
}

/// [`compose_or_notice`] for a message that took `step` in its request's conversation.
pub fn compose_or_notice_step(
    c: &mut Checked,
    original: &[u8],
    templates: &Templates,
    addresses: &Addresses,
    now: DateTime<Utc>,
    hold: Option<&str>,
    step: Option<&Step>,
) -> Result<(Vec<Outgoing>, Option<String>)> {
    let e = match compose_step(c, original, templates, addresses, now, hold, step) {
        Ok(out) => return Ok((out, None)),
        Err(e) => clean::one_line(&format!("{e:#}"), 500),
    };
    let v = &mut c.verdict;
    v.decision = Decision::Review;
    v.reason = Some("intake could not write its messages for this one".into());
    v.problems.push(Problem::new(
        ProblemCode::Unreadable,
        format!("intake could not build its reply or summary for this message ({e}); nothing was sent to the sender. A person must answer by hand."),
    ));
    let notice = failure_notice(c, original, addresses, &e, now)?;
    Ok((vec![notice], Some(e)))
}

/// Mail intake wrote itself (its replies, summaries and notices), or a bounce or
/// auto-reply carrying one of them: never summarised, or staff and support sharing a
/// mailbox would get a summary of the summary, forever.
fn is_own_mail(c: &Checked, original: &[u8], addresses: &Addresses) -> bool {
    let from_us = c
        .letter
        .from
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case(&addresses.from));
    // Every message intake sends carries this header; a bounce quotes it.
    const MARK: &[u8] = b"X-Intake-Reference:";
    from_us
        || original
            .windows(MARK.len())
            .any(|w| w.eq_ignore_ascii_case(MARK))
}

/// The short staff summary of an ignored message (auto-reply, bounce, ordinary mail).
fn ignore_summary(
    c: &Checked,
    addresses: &Addresses,
    now: DateTime<Utc>,
    stem: &str,
) -> Result<Outgoing> {
    let v = &c.verdict;
    let ctx = Context::of(c, now);
    let subject = format!("[intake] IGNORE {}: {}", v.reference, ctx.subject);
    let body = format!(
        "Decision: ignore ({})\r\nReference: {}\r\nFrom: {}\r\nMessage-ID: {}\r\nSubject: {}\r\nReceived: {}\r\n\r\nNot a test notification intake answers; no reply was sent. It stays in the support mailbox.\r\n",
        if ctx.reason.is_empty() {
            "no reason given"
        } else {
            &ctx.reason
        },
        v.reference,
        ctx.from,
        ctx.message_id,
        ctx.subject,
        ctx.received,
    );
    let r = Rendered { subject, body };
    build(
        c,
        Role::Staff,
        &addresses.from,
        &addresses.staff,
        &r,
        None,
        now,
        addresses.own_domain(),
        stem,
    )
}

/// The notice to staff when a message's own outputs could not be built: only our own
/// text and cleaned values, so it cannot fail the way the outputs did, with the original
/// attached.
fn failure_notice(
    c: &Checked,
    original: &[u8],
    addresses: &Addresses,
    error: &str,
    now: DateTime<Utc>,
) -> Result<Outgoing> {
    let v = &c.verdict;
    let from = v.from.as_deref().map_or_else(
        || "(unknown sender)".into(),
        |f| clean::one_line(f, clean::ITEM_CHARS),
    );
    let subject = clean::one_line(&v.subject, clean::FIELD_CHARS);
    let message_id = format!("{}.failed@{}", v.reference, addresses.own_domain());
    let body = format!(
        "intake could not write its messages for this e-mail, so it goes to review and nothing was sent to the sender:\r\n\r\n  {error}\r\n\r\nReference: {}\r\nFrom: {from}\r\nSubject: {subject}\r\n\r\nPlease read the attached original and answer by hand. The other messages were handled as usual.\r\n",
        v.reference
    );
    let from_mb: Mailbox = format!("intake <{}>", addresses.from)
        .parse()
        .with_context(|| format!("Invalid from address {}", addresses.from))?;
    let to_mb: Mailbox = addresses
        .staff
        .parse()
        .with_context(|| format!("Invalid staff address {}", addresses.staff))?;
    let mut mp = MultiPart::mixed().singlepart(SinglePart::plain(body));
    if !original.is_empty() {
        mp = mp.singlepart(original_part(original)?);
    }
    let mut b = Message::builder();
    // Threaded under the message it is about, as every summary is.
    if let Some(id) = v.message_id.as_deref().filter(|id| echoable_id(id)) {
        b = b
            .in_reply_to(format!("<{id}>"))
            .references(format!("<{id}>"));
    }
    let msg = b
        .from(from_mb)
        .to(to_mb)
        .subject(format!(
            "[intake] REVIEW {}: could not answer {subject}",
            v.reference
        ))
        .date(SystemTime::from(now))
        .message_id(Some(format!("<{message_id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Intake-Reference"),
            v.reference.clone(),
        ))
        .multipart(mp)?;
    Ok(Outgoing {
        role: Role::Staff,
        from: addresses.from.clone(),
        to: addresses.staff.clone(),
        message_id,
        raw: msg.formatted(),
    })
}

/// A Message-ID from the sender's mail that may be repeated in our headers: printable
/// ASCII without brackets or spaces, and not absurdly long (a header line stays below
/// 998 octets).
fn echoable_id(id: &str) -> bool {
    (1..=250).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b','))
}

/// References of the thread kept in a reply, the newest ones.
const MAX_REFERENCES: usize = 10;
/// A body beyond this is cut, so a whole message stays below 64 KB.
const MAX_BODY_BYTES: usize = 60 * 1024;

/// `body` cut at a character boundary below [`MAX_BODY_BYTES`], saying so.
fn bounded_body(body: &str) -> String {
    if body.len() <= MAX_BODY_BYTES {
        return body.to_string();
    }
    let mut end = MAX_BODY_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n\n[... cut here: the message would have been longer than 64 KB]\n",
        body.get(..end).unwrap_or("")
    )
}

/// Addresses we never answer automatically: daemons, no-reply boxes and ourselves.
pub fn answerable(address: &str, own_domain: &str) -> bool {
    let a = address.to_ascii_lowercase();
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    let local = local.replace(['-', '_', '.'], "");
    let daemon = [
        "mailerdaemon",
        "postmaster",
        "noreply",
        "donotreply",
        "bounce",
        "bounces",
    ]
    .iter()
    .any(|d| local == *d || local.starts_with(d));
    !daemon && !domain.eq_ignore_ascii_case(own_domain)
}

#[allow(clippy::too_many_arguments)]
fn build(
    c: &Checked,
    role: Role,
    from: &str,
    to: &str,
    r: &Rendered,
    attach: Option<(String, &[u8], &str)>,
    now: DateTime<Utc>,
    own_domain: &str,
    stem: &str,
) -> Result<Outgoing> {
    let v = &c.verdict;
    let message_id = format!("{stem}.{}@{}", role.as_str(), own_domain);
    let from_mb: Mailbox = format!("amazee.io Support <{from}>")
        .parse()
        .with_context(|| format!("Invalid from address {from}"))?;
    let to_mb: Mailbox = to
        .parse()
        .with_context(|| format!("Invalid recipient {to}"))?;
    let mut b = Message::builder()
        .from(from_mb)
        .to(to_mb)
        .subject(r.subject.clone())
        .date(SystemTime::from(now))
        .message_id(Some(format!("<{message_id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
            "All".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Intake-Reference"),
            v.reference.clone(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Intake-Decision"),
            v.decision.as_str().into(),
        ));
    if let Some(id) = v.message_id.as_deref().filter(|id| echoable_id(id)) {
        // The thread as the sender had it, newest last, then the message answered: its
        // In-Reply-To is that message, never the thread's root.
        let mut refs: Vec<&str> = c
            .letter
            .references
            .iter()
            .map(String::as_str)
            .filter(|r| echoable_id(r) && *r != id)
            .collect();
        let mut seen = std::collections::HashSet::new();
        refs.retain(|r| seen.insert(*r));
        let skip = refs.len().saturating_sub(MAX_REFERENCES - 1);
        let mut refs: Vec<String> = refs.iter().skip(skip).map(|r| format!("<{r}>")).collect();
        refs.push(format!("<{id}>"));
        b = b.in_reply_to(format!("<{id}>")).references(refs.join(" "));
    }
    let msg = match attach {
        None => b.singlepart(SinglePart::plain(bounded_body(&r.body)))?,
        Some((cal, original, method)) => {
            let boundary = format!("intake-{}", v.reference);
            let calendar = Attachment::new("test-window.ics".into()).body(
                cal,
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .context("calendar content type")?,
            );
            let mut mp = MultiPart::mixed()
                .boundary(boundary)
                .singlepart(SinglePart::plain(bounded_body(&r.body)))
                .singlepart(calendar);
            if !original.is_empty() {
                mp = mp.singlepart(original_part(original)?);
            }
            b.multipart(mp)?
        }
    };
    Ok(Outgoing {
        role,
        from: from.to_string(),
        to: to.to_string(),
        message_id,
        raw: msg.formatted(),
    })
}

/// Why staff are told about an outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// The server refused it permanently (5xx); it is not retried.
    Refused,
    /// It was being handed to the server when the connection or intake itself failed, so it
    /// may or may not have been delivered; intake does not send it again on its own.
    InDoubt,
}

/// A notice to staff about outgoing message `out_id` to `recipient`, with that message
/// attached so it can be forwarded by hand.
pub fn delivery_notice(
    addresses: &Addresses,
    trouble: Trouble,
    recipient: &str,
    out_id: &str,
    detail: &str,
    message: &[u8],
    now: DateTime<Utc>,
) -> Result<Outgoing> {
    let (subject, body, prefix) = match trouble {
        Trouble::Refused => (
            format!("[intake] Delivery to {recipient} failed permanently"),
            format!(
                "intake could not deliver message <{out_id}> to {recipient}; the server refused it permanently:\r\n\r\n  {detail}\r\n\r\nIt will not be retried. Please contact the customer by hand; the message is attached.\r\n"
            ),
            "failed",
        ),
        Trouble::InDoubt => (
            format!("[intake] Please check: reply to {recipient} may not have been delivered"),
            format!(
                "intake was handing its reply <{out_id}> to the mail server when this happened:\r\n\r\n  {detail}\r\n\r\nThe reply had gone to the server but its answer never came back, so it was probably delivered; but that cannot be known, and sending it again could give the customer two answers, so intake does not resend it on its own.\r\n\r\nPlease check whether {recipient} received it (the mail server's log shows the Message-ID above). If not, forward the attached reply to them.\r\n"
            ),
            "doubt",
        ),
    };
    let message_id = format!("{prefix}.{out_id}");
    let from_mb: Mailbox = format!("intake <{}>", addresses.from)
        .parse()
        .with_context(|| format!("Invalid from address {}", addresses.from))?;
    let to_mb: Mailbox = addresses
        .staff
        .parse()
        .with_context(|| format!("Invalid staff address {}", addresses.staff))?;
    let msg = Message::builder()
        .from(from_mb)
        .to(to_mb)
        .subject(subject)
        .date(SystemTime::from(now))
        .message_id(Some(format!("<{message_id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(message_part(message, "message.eml")?),
        )?;
    Ok(Outgoing {
        role: Role::Staff,
        from: addresses.from.clone(),
        to: addresses.staff.clone(),
        message_id,
        raw: msg.formatted(),
    })
}

/// The customer's message as a `message/rfc822` part: 7bit or 8bit as RFC 2046 wants; a
/// message that fits neither (NUL bytes, overlong lines) is attached base64 as a file.
fn original_part(original: &[u8]) -> Result<SinglePart> {
    message_part(original, "original.eml")
}

/// `raw` as a `message/rfc822` part named `name`; see [`original_part`].
fn message_part(original: &[u8], name: &str) -> Result<SinglePart> {
    let crlf = to_crlf(original);
    let lines_fit = crlf.split(|&b| b == b'\n').all(|l| l.len() <= 999);
    if lines_fit && !crlf.contains(&0) {
        let enc = if crlf.is_ascii() {
            ContentTransferEncoding::SevenBit
        } else {
            ContentTransferEncoding::EightBit
        };
        return Ok(SinglePart::builder()
            .header(ContentType::parse("message/rfc822").context("rfc822 content type")?)
            .header(lettre::message::header::ContentDisposition::attachment(
                name,
            ))
            .header(enc)
            .body(Body::dangerous_pre_encoded(crlf, enc)));
    }
    Ok(Attachment::new(name.into()).body(
        original.to_vec(),
        ContentType::parse("application/octet-stream").context("octet-stream content type")?,
    ))
}

/// Bare LF line ends (files saved on Unix) become CRLF, as a MIME part needs.
fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut prev = 0u8;
    for &b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }

    #[test]
    fn daemons_and_ourselves_are_not_answered() {
        assert!(answerable("jane@example.ch", "amazee.io"));
        assert!(!answerable("MAILER-DAEMON@mx.example.ch", "amazee.io"));
        assert!(!answerable("no-reply@example.ch", "amazee.io"));
        assert!(!answerable("noreply@example.ch", "amazee.io"));
        assert!(!answerable("postmaster@example.ch", "amazee.io"));
        assert!(!answerable("support@amazee.io", "amazee.io"));
        assert!(!answerable("not an address", "amazee.io"));
    }

    #[test]
    fn a_notice_in_doubt_carries_the_reply_for_staff_to_forward() {
        use mail_parser::{MessageParser, MimeHeaders as _};
        let reply = b"From: support@amazee.io\r\nTo: jane@example.ch\r\nSubject: Re: Pentest\r\nMessage-ID: <INT-1.reply@amazee.io>\r\nIn-Reply-To: <n1@example.ch>\r\n\r\nAccepted.\r\n";
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 26, 8, 0, 0).unwrap();
        let n = delivery_notice(
            &Addresses::default(),
            Trouble::InDoubt,
            "jane@example.ch",
            "INT-1.reply@amazee.io",
            "connection reset",
            reply,
            now,
        )
        .unwrap();
        assert_eq!(n.role, Role::Staff);
        assert_eq!(n.to, "support-staff@amazee.io");
        assert_eq!(n.message_id, "doubt.INT-1.reply@amazee.io");
        let m = MessageParser::default().parse(&n.raw).unwrap();
        assert!(m.subject().unwrap().contains("may not have been delivered"));
        assert_eq!(
            m.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        let text = m.body_text(0).unwrap();
        assert!(text.contains("<INT-1.reply@amazee.io>"), "{text}");
        assert!(text.contains("connection reset"), "{text}");
        assert!(text.contains("jane@example.ch"), "{text}");
        let att = m.attachment(0).unwrap();
        assert_eq!(att.attachment_name(), Some("message.eml"));
        let inner = att.message().unwrap();
        assert_eq!(inner.message_id(), Some("INT-1.reply@amazee.io"));
        assert_eq!(inner.body_text(0).unwrap().trim(), "Accepted.");

        let refused = delivery_notice(
            &Addresses::default(),
            Trouble::Refused,
            "jane@example.ch",
            "INT-1.reply@amazee.io",
            "550 5.1.1 no such user",
            reply,
            now,
        )
        .unwrap();
        let m = MessageParser::default().parse(&refused.raw).unwrap();
        assert!(m.subject().unwrap().contains("failed permanently"));
        assert!(m.body_text(0).unwrap().contains("550 5.1.1"));
        assert_ne!(refused.message_id, n.message_id);
    }

    #[test]
    fn no_reply_and_bounce_boxes_with_suffixes_are_not_answered() {
        // ESPs and ticketing tools add words or tags after the box name.
        for a in [
            "no-reply-billing@example.ch",
            "noreply.tickets@example.ch",
            "bounces+srs=a1b2=example.ch@esp.example",
            "postmaster-eu@example.ch",
            "Mailer-Daemon.2@mx.example.ch",
            "do_not_reply.alerts@example.ch",
        ] {
            assert!(!answerable(a, "amazee.io"), "{a}");
        }
        // People are answered, whatever their name contains later on.
        assert!(answerable("anna.noreply@example.ch", "amazee.io"));
    }

    #[test]
    fn a_long_body_is_cut_at_a_character_boundary_below_the_limit() {
        // Two-byte characters from an odd offset: the limit falls inside one.
        let body = format!("a{}", "ä".repeat(40_000));
        let cut = bounded_body(&body);
        let (kept, note) = cut
            .split_once("\n\n[... cut here")
            .expect("says it was cut");
        assert_eq!(kept.len(), MAX_BODY_BYTES - 1);
        assert!(body.starts_with(kept));
        assert!(note.contains("64 KB"), "{note}");
        // Plain ASCII is cut exactly at the limit; a body at the limit is not cut.
        let ascii = "x".repeat(MAX_BODY_BYTES + 10);
        let cut = bounded_body(&ascii);
        assert_eq!(
            cut.split_once("\n\n[").map(|(k, _)| k.len()),
            Some(MAX_BODY_BYTES)
        );
        let exact = "x".repeat(MAX_BODY_BYTES);
        assert_eq!(bounded_body(&exact), exact);
    }
}
