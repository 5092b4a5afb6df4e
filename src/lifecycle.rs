//! One message through the whole lifecycle: check it, find the request it belongs to,
//! advance that conversation, compose what it causes, and record all of it in one
//! transaction. `intake watch` and `intake replay` both decide through here.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use tracing::{error, warn};

use crate::check::{Arrival, Checked, check};
use crate::config::Config;
use crate::conversation::{self, Found, Step};
use crate::domain::{domain_of, org_domain};
use crate::model::Decision;
use crate::render::Templates;
use crate::render::compose::{Outgoing, compose_or_notice_step};
use crate::store::{Identity, Record, Seen, Store};

/// Open requests of one organization compared with a new notification (a resend).
const DUPLICATE_CANDIDATES: u32 = 50;

/// What deciding one message gave.
#[derive(Debug)]
pub struct Decided {
    /// `accept`, `reject`, `review`, `ignore`, or `skipped` (arrived before `answer_since`).
    pub decision: String,
    /// False when the message had been decided before (nothing was recorded or queued).
    pub new: bool,
    pub checked: Option<Checked>,
    pub step: Option<Step>,
    pub outgoing: Vec<Outgoing>,
}

/// Decides the message at `identity` (bytes `raw`, or `None` when it was too large to
/// fetch) unless it was decided before, and records the decision with everything it causes.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    store: &mut Store,
    config: &Config,
    templates: &Templates,
    identity: &Identity,
    raw: Option<&[u8]>,
    size: u64,
    arrival: Arrival,
    answer_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Decided> {
    if let Seen::Decided(decision) = store.seen(identity)? {
        return Ok(Decided {
            decision,
            new: false,
            checked: None,
            step: None,
            outgoing: Vec::new(),
        });
    }
    let rules = &config.rules;
    let raw = raw.unwrap_or_default();
    let mut checked = if raw.is_empty() && size > rules.max_message_bytes {
        let at = match arrival {
            Arrival::Known(t) => t,
            Arrival::FromHeaders { fallback } => fallback,
        };
        crate::check::too_large(size, at, rules)
    } else {
        check(raw, arrival, rules, &config.addresses.from)
    };
    let arrived = checked.verdict.received.unwrap_or(now);
    let before_start = answer_since.is_some_and(|since| arrived < since);
    let (decision, outgoing, step) = if before_start {
        ("skipped".to_string(), Vec::new(), None)
    } else {
        own_reference(store, &mut checked, identity)?;
        let found = find(store, &checked)?;
        let mut step = conversation::advance(&mut checked, found, rules, arrived);
        let hold = loop_breaker(store, config, &checked, now)?;
        // One message's outputs failing to build (an address lettre refuses, a template
        // failing on its data) makes that message a review with a notice to staff; it
        // never stops the batch or the next start.
        let (outgoing, failure) = compose_or_notice_step(
            &mut checked,
            raw,
            templates,
            &config.addresses,
            now,
            hold.as_deref(),
            Some(&step),
        )?;
        if let Some(why) = hold {
            checked.verdict.warnings.push(why);
        }
        if let Some(e) = failure {
            error!(
                reference = %checked.verdict.reference,
                uid = identity.uid,
                error = %e,
                "could not build this message's outputs; review, staff told"
            );
            if let Some(r) = step.request.as_mut() {
                r.state = conversation::State::Review;
            }
        }
        // Our own messages belong to the thread: a reply to any of them finds the request.
        // A message from outside claiming a Message-ID on our domain is never indexed, or it
        // could claim one of our future replies and catch the customer's answer to it
        // (red team 05).
        if let Some(r) = step.request.as_mut() {
            let own = format!("@{}", config.addresses.own_domain().to_ascii_lowercase());
            if let Some(id) = checked.verdict.message_id.as_deref()
                && id.to_ascii_lowercase().ends_with(&own)
            {
                r.message_ids.retain(|m| m != id);
            }
            r.add_ids(outgoing.iter().map(|o| o.message_id.as_str()));
        }
        (
            checked.verdict.decision.as_str().to_string(),
            outgoing,
            Some(step),
        )
    };
    let verdict_json = serde_json::to_string(&checked.verdict).context("Serialising a verdict")?;
    store.record(
        &Record {
            identity,
            sender: checked.verdict.from.as_deref(),
            arrival: arrived,
            decision: &decision,
            rules_version: &checked.verdict.rules_version,
            verdict_json: &verdict_json,
            raw: (!raw.is_empty()).then_some(raw),
            request: step.as_ref().and_then(|s| s.request.as_ref()),
        },
        &outgoing,
        now,
    )?;
    Ok(Decided {
        decision,
        new: true,
        checked: Some(checked),
        step,
        outgoing,
    })
}

/// The request `c` belongs to: by its thread (References, In-Reply-To) or a reference in
/// its subject; else an open request of the same organization it repeats item for item.
fn find(store: &Store, c: &Checked) -> Result<Found> {
    // Machine mail never joins a thread: an out-of-office or a bounce quoting our reply is
    // no word from the customer, and our own mail (a summary delivered back to the support
    // mailbox) must stay unanswered, or a shared mailbox would loop.
    if c.verdict.kind == crate::model::Kind::AutoReply {
        return Ok(Found::None);
    }
    let refs = &c.letter.references;
    let in_subject = conversation::references_in_subject(&c.letter.subject);
    let mut named = store.find_requests(refs, &in_subject)?;
    if named.len() > 1 {
        return Ok(Found::Several(
            named.into_iter().map(|r| r.reference).collect(),
        ));
    }
    if let Some(r) = named.pop() {
        return Ok(Found::Thread(r));
    }
    let v = &c.verdict;
    if v.kind != crate::model::Kind::TestNotification
        || !v.sender_verified
        || v.request.targets.is_empty()
        || v.request.windows.is_empty()
    {
        return Ok(Found::None);
    }
    let Some(org) = v
        .from
        .as_deref()
        .and_then(domain_of)
        .map(|d| org_domain(&d).unwrap_or(d))
    else {
        return Ok(Found::None);
    };
    for r in store.open_requests(&org, DUPLICATE_CANDIDATES)? {
        if Some(r.test_class) == v.test_class && same_notification(&r.record, &v.request) {
            return Ok(Found::Same(r));
        }
    }
    Ok(Found::None)
}

/// Item for item the same announcement (a resend, the copy CC'd to support): only then is a
/// new message no new request. Anything more or different (a now complete resend of an
/// incomplete one, other traffic, another contact) is a request of its own (red team 11, 12).
fn same_notification(a: &crate::model::Request, b: &crate::model::Request) -> bool {
    fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    }
    let lower =
        |v: &[String]| sorted(&v.iter().map(|t| t.to_ascii_lowercase()).collect::<Vec<_>>());
    let email = |r: &crate::model::Request| r.contact.email.as_deref().map(str::to_ascii_lowercase);
    !a.targets.is_empty()
        && lower(&a.targets) == lower(&b.targets)
        && sorted(&a.windows) == sorted(&b.windows)
        && sorted(&a.originating_ips) == sorted(&b.originating_ips)
        && a.bandwidth_bps == b.bandwidth_bps
        && a.requests_per_second == b.requests_per_second
        && email(a) == email(b)
}

/// A message reusing the Message-ID of another, different message already recorded is
/// its own request: its reference (and so every outgoing Message-ID) is derived from
/// the Message-ID and its content, or its outputs would collide with the first one's
/// and vanish. Stable: re-reading it after a crash or a UIDVALIDITY change gives the same.
fn own_reference(store: &Store, c: &mut Checked, identity: &Identity) -> Result<()> {
    let Some(id) = c.verdict.message_id.clone() else {
        return Ok(());
    };
    if !store.message_id_taken(&id, &identity.content_hash)? {
        return Ok(());
    }
    let reference =
        crate::check::reference(None, format!("{id}\n{}", identity.content_hash).as_bytes());
    warn!(message_id = %id, reference = %reference, "a different message with a Message-ID seen before; handled as its own request");
    c.verdict.warnings.push(format!(
        "Another, different message with the same Message-ID was received before; this one is handled on its own under reference {reference}."
    ));
    c.verdict.reference = reference;
    Ok(())
}

/// The loop breaker for the reply `c` would cause; `Some(why)` holds it back.
fn loop_breaker(
    store: &Store,
    config: &Config,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if c.verdict.decision == Decision::Review {
        return Ok(None);
    }
    // Only the address a reply would go to counts; no address, no reply to count.
    let Some(to) = c.reply_address.as_deref() else {
        return Ok(None);
    };
    crate::watch::reply_hold(store, &config.rules, to, now)
}
