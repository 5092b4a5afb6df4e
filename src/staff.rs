//! What a person does to a request in the console: approve it, reject it with a reason,
//! correct an item and decide again, cancel it, or queue again a reply whose delivery was in
//! doubt.
//!
//! Each action is one store transaction: it checks that the request is still at the
//! revision the person saw, changes it, queues the messages the step causes (composed as
//! intake composes a customer's step, with the person's name and reason) and logs who did
//! what and why. A second submit of the same form, or one made after the customer wrote
//! again, finds another revision and changes nothing; a crash after the commit leaves the
//! messages queued, and the watch loop sends each once.
//!
//! Trust: the customer reply goes to the address intake would answer. When the sender was
//! never verified there is none, and the person must confirm they checked the sender some
//! other way (`confirm_sender`) before intake writes to the address the message only claims;
//! without that, the step is taken and the security team and staff are told, but the
//! customer is not.

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::check::{Arrival, Checked, check};
use crate::config::Config;
use crate::conversation::merge::changes;
use crate::conversation::{Action, Event, RequestRecord, StaffNote, State, Step, parse_zone};
use crate::decide::auth::{Sender, SenderCheck};
use crate::decide::{self, describe, missing_items};
use crate::domain::domain_of;
use crate::extract::dates::{DateContext, find_windows};
use crate::extract::{body_text, hosts, net, traffic};
use crate::model::{Decision, ProblemCode, Zone};
use crate::render::Templates;
use crate::render::compose::{Outgoing, answerable, compose_step};
use crate::store::{LatestMessage, Store};

/// Characters of a reason kept (it goes into mail, one line).
pub const MAX_REASON: usize = 1000;
/// Characters of a corrected value read at most.
pub const MAX_VALUE: usize = 2000;
/// Source addresses a corrected list keeps at most (as extraction keeps).
const MAX_SOURCES: usize = 256;

/// Problems the rules find again from the corrected record (and the loop breaker's hold,
/// which is about a reply, not the request); every other review cause of the request's
/// newest step stays until a person approves.
const RECOMPUTED: [ProblemCode; 9] = [
    ProblemCode::ReplyLimit,
    ProblemCode::SenderUnverified,
    ProblemCode::MissingInformation,
    ProblemCode::NoticeTooShort,
    ProblemCode::WindowInvalid,
    ProblemCode::IpNotPublic,
    ProblemCode::AmbiguousDate,
    ProblemCode::ImplausibleValue,
    ProblemCode::TargetNotOwned,
];

/// An item staff may correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Window,
    Zone,
    OriginatingIps,
    Targets,
    Bandwidth,
    RequestsPerSecond,
    ContactName,
    ContactEmail,
    ContactPhone,
    Scope,
}

impl Item {
    pub const ALL: [Item; 10] = [
        Item::Window,
        Item::Zone,
        Item::OriginatingIps,
        Item::Targets,
        Item::Bandwidth,
        Item::RequestsPerSecond,
        Item::ContactName,
        Item::ContactEmail,
        Item::ContactPhone,
        Item::Scope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Item::Window => "window",
            Item::Zone => "zone",
            Item::OriginatingIps => "originating_ips",
            Item::Targets => "targets",
            Item::Bandwidth => "bandwidth",
            Item::RequestsPerSecond => "requests_per_second",
            Item::ContactName => "contact_name",
            Item::ContactEmail => "contact_email",
            Item::ContactPhone => "contact_phone",
            Item::Scope => "scope",
        }
    }

    /// What the console calls it, with an example of a value.
    pub fn label(self) -> &'static str {
        match self {
            Item::Window => "Window (e.g. 20 January 2027 09:00-17:00 Europe/Zurich)",
            Item::Zone => "Time zone of the times as written (e.g. Asia/Kolkata)",
            Item::OriginatingIps => "Originating IPs (e.g. 203.0.113.7, 198.51.100.0/28)",
            Item::Targets => "Targets (e.g. shop.example.com)",
            Item::Bandwidth => "Bandwidth (e.g. 50 Mbit/s)",
            Item::RequestsPerSecond => "Requests per second (e.g. 200)",
            Item::ContactName => "Contact name",
            Item::ContactEmail => "Contact e-mail",
            Item::ContactPhone => "Contact phone",
            Item::Scope => "Scope",
        }
    }

    pub fn parse(s: &str) -> Option<Item> {
        Item::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Accept the request as it is recorded: the acceptance and the security forward go out.
    Approve {
        reason: String,
        confirm_sender: bool,
    },
    /// Refuse it: the reason and the problems go to the customer.
    Reject {
        reason: String,
        confirm_sender: bool,
    },
    /// Replace one item and decide again.
    Correct {
        item: Item,
        value: String,
        reason: String,
        confirm_sender: bool,
    },
    /// Call the test off: the security team gets `CANCEL` for what it held; the customer is
    /// told unless `quiet` (spam, a duplicate: closed without a word to the sender).
    Cancel {
        reason: String,
        confirm_sender: bool,
        quiet: bool,
    },
    /// Queue again a customer reply given up on because its delivery was in doubt.
    Resend { outbox: i64 },
}

impl Act {
    /// The name logged in `actions`.
    pub fn kind(&self) -> &'static str {
        match self {
            Act::Approve { .. } => "approve",
            Act::Reject { .. } => "reject",
            Act::Correct { .. } => "correct",
            Act::Cancel { .. } => "cancel",
            Act::Resend { .. } => "resend",
        }
    }

    fn reason(&self) -> &str {
        match self {
            Act::Approve { reason, .. }
            | Act::Reject { reason, .. }
            | Act::Correct { reason, .. }
            | Act::Cancel { reason, .. } => reason,
            Act::Resend { .. } => "",
        }
    }

    fn confirm_sender(&self) -> bool {
        match self {
            Act::Approve { confirm_sender, .. }
            | Act::Reject { confirm_sender, .. }
            | Act::Correct { confirm_sender, .. }
            | Act::Cancel { confirm_sender, .. } => *confirm_sender,
            Act::Resend { .. } => false,
        }
    }
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The request's state after it.
    pub state: State,
    /// The request's revision after it (what the next form carries).
    pub revision: u64,
    /// Messages queued (customer, security team, staff).
    pub queued: Vec<(crate::model::Role, String)>,
    /// One sentence for the person.
    pub said: String,
}

/// Why an action was not taken; nothing was changed or queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// What the form asks for cannot be done as given (a value intake cannot read, no
    /// reason, an unverified sender not confirmed, a change the rules refuse).
    Invalid(String),
    /// The request is not where the form saw it (another revision, already accepted or
    /// cancelled, a reply no longer waiting).
    Conflict(String),
}

impl Refused {
    /// The reason, for the person who acted.
    pub fn why(&self) -> &str {
        match self {
            Refused::Invalid(w) | Refused::Conflict(w) => w,
        }
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<Result<T, Refused>> {
    Ok(Err(Refused::Invalid(why.into())))
}

fn conflict<T>(why: impl Into<String>) -> Result<Result<T, Refused>> {
    Ok(Err(Refused::Conflict(why.into())))
}

/// Takes `act` on request `reference`, shown to `actor` at `revision`, in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn act(
    store: &mut Store,
    config: &Config,
    templates: &Templates,
    reference: &str,
    revision: u64,
    actor: &str,
    act: &Act,
    now: DateTime<Utc>,
) -> Result<Result<Done, Refused>> {
    store.begin_batch()?;
    let out = run(
        store, config, templates, reference, revision, actor, act, now,
    );
    match &out {
        Ok(Ok(_)) => store.commit_batch()?,
        _ => store.rollback_batch()?,
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn run(
    store: &mut Store,
    config: &Config,
    templates: &Templates,
    reference: &str,
    revision: u64,
    actor: &str,
    act: &Act,
    now: DateTime<Utc>,
) -> Result<Result<Done, Refused>> {
    let Some(r) = store.request(reference)? else {
        return refuse(format!("There is no request {reference}."));
    };
    if let Act::Resend { outbox } = act {
        // Changes no item: the row's own state is what makes a second submit do nothing.
        let detail = format!("outbox row {outbox}");
        if store.resend_in_doubt(reference, *outbox, actor, &detail, now)? {
            return Ok(Ok(Done {
                state: r.state,
                revision: r.revision,
                queued: Vec::new(),
                said:
                    "The reply is queued again, with the same Message-ID; it goes out in a moment."
                        .into(),
            }));
        }
        return conflict(
            "That reply is not waiting for a decision any more (it was sent, refused, or already queued again): nothing was sent.",
        );
    }
    if r.revision != revision {
        return conflict(format!(
            "The request changed since the page was loaded (it is now {}, after: {}). Nothing was done; look at it again before acting.",
            r.state.as_str(),
            r.history
                .last()
                .map_or("nothing", |e| e.action.as_str())
                .replace('_', " ")
        ));
    }
    let reason = crate::render::clean::one_line(act.reason().trim(), MAX_REASON);
    if reason.is_empty() && !matches!(act, Act::Approve { .. }) {
        return refuse(
            "Say why: the reason is recorded, and goes to the customer with the answer.",
        );
    }
    let Some(latest) = store.latest_message(reference)? else {
        return refuse("No message of this request was kept, so intake cannot answer it.");
    };
    let mut c = basis(&latest, config, &r);
    let verified = latest.verdict.sender_verified;
    let confirmed = !verified && act.confirm_sender();
    if !verified && !confirmed {
        // Nothing is accepted on a claim alone, and nobody is written to on one
        // (reflection): a person must say they checked the sender some other way.
        if matches!(act, Act::Approve { .. }) {
            return refuse(
                "The sender is not verified: approving tells the security team to let this traffic through. Check the sender some other way (a phone call, the customer's portal), then tick “I verified the sender”.",
            );
        }
        c.reply_address = None;
    } else if confirmed {
        // The address the message claims, as a person vouched for it; never one intake
        // would not answer (our own, no-reply, daemons).
        c.reply_address =
            Some(r.sender.clone()).filter(|a| answerable(a, config.addresses.own_domain()));
    }
    if let Act::Cancel { quiet: true, .. } = act {
        c.reply_address = None;
    }
    let note = StaffNote {
        by: actor.to_string(),
        reason: reason.clone(),
        sender_confirmed: confirmed,
        act: match act {
            Act::Approve { .. } => "approved",
            Act::Reject { .. } => "rejected",
            Act::Correct { .. } => "corrected",
            Act::Cancel { .. } => "cancelled",
            Act::Resend { .. } => "resent",
        },
        overridden: Vec::new(),
    };
    let step = match act {
        Act::Approve { .. } => approve(&mut c, r, &note, latest.arrival, now),
        Act::Reject { .. } => reject(&mut c, r, &note, now),
        Act::Cancel { .. } => cancel(&mut c, r, &note, now),
        Act::Correct { item, value, .. } => correct(
            &mut c, r, &note, *item, value, config, &latest, verified, now,
        ),
        // Handled above, before the request is touched.
        Act::Resend { .. } => Err(Refused::Invalid("A resend changes no request.".into())),
    };
    let step = match step {
        Ok(s) => s,
        Err(refused) => return Ok(Err(refused)),
    };
    let outgoing = match compose_step(
        &c,
        &latest.raw,
        templates,
        &config.addresses,
        now,
        None,
        Some(&step),
    ) {
        Ok(o) => o,
        Err(e) => {
            return refuse(format!(
                "intake could not write the messages for this ({}); nothing was done.",
                crate::render::clean::one_line(&format!("{e:#}"), 300)
            ));
        }
    };
    let Some(mut request) = step.request else {
        return refuse("This action leaves no request to record.");
    };
    request.add_ids(outgoing.iter().map(|o| o.message_id.as_str()));
    let detail = match act {
        Act::Correct { item, value, .. } => format!(
            "{}: {} ({reason})",
            item.as_str(),
            crate::render::clean::one_line(value, 300)
        ),
        _ => reason.clone(),
    };
    store.record_staff_step(
        latest.id,
        &request,
        &outgoing,
        actor,
        act.kind(),
        &detail,
        now,
    )?;
    let said = said(act, &request, &outgoing, c.reply_address.is_some());
    Ok(Ok(Done {
        state: request.state,
        revision: request.revision,
        queued: outgoing.iter().map(|o| (o.role, o.to.clone())).collect(),
        said,
    }))
}

/// One sentence on what happened, for the person who acted.
fn said(act: &Act, r: &RequestRecord, out: &[Outgoing], may_reply: bool) -> String {
    let to_customer = out
        .iter()
        .find(|o| o.role == crate::model::Role::Reply)
        .map(|o| o.to.clone());
    let to_security = out.iter().any(|o| o.role == crate::model::Role::Security);
    let mut s = match act {
        Act::Approve { .. } => "Approved.".to_string(),
        Act::Reject { .. } => "Rejected.".to_string(),
        Act::Cancel { .. } => "Cancelled.".to_string(),
        Act::Correct { item, .. } => format!(
            "Corrected the {} and decided again: now {}.",
            item.as_str().replace('_', " "),
            r.state.as_str()
        ),
        Act::Resend { .. } => String::new(),
    };
    match to_customer {
        Some(to) => s.push_str(&format!(" The customer ({to}) gets an answer.")),
        None if !may_reply => s.push_str(
            " The sender is not verified and you did not confirm it, so the customer gets no mail; write to them yourself if you know who they are.",
        ),
        None => {}
    }
    if to_security {
        s.push_str(" The security team gets the calendar entry.");
    }
    s
}

/// The message a console step answers: the request's newest message, read again for its
/// thread and reply address, with its verdict as recorded and the request's record.
fn basis(latest: &LatestMessage, config: &Config, r: &RequestRecord) -> Checked {
    let mut c = check(
        &latest.raw,
        Arrival::Known(latest.arrival),
        &config.rules,
        &config.addresses.from,
    );
    c.verdict = latest.verdict.clone();
    c.verdict.reference = r.reference.clone();
    c.verdict.request = r.record.clone();
    c.verdict.test_class = Some(r.test_class);
    c.verdict.customer_zone = r.zone.clone();
    c.zone = parse_zone(&r.zone).unwrap_or(Zone::Named(config.rules.timezone));
    c.reply_address = c
        .reply_address
        .filter(|a| answerable(a, config.addresses.own_domain()));
    c
}

/// A history entry for a step taken by `note.by`.
#[allow(clippy::too_many_arguments)]
fn event(
    note: &StaffNote,
    action: Action,
    decision: Decision,
    state: State,
    at: DateTime<Utc>,
    what: String,
    lines: Vec<String>,
    problems: Vec<String>,
) -> Event {
    let mut changes = vec![if note.reason.is_empty() {
        what
    } else {
        format!("{what}: {}", note.reason)
    }];
    changes.extend(lines);
    Event {
        at,
        message_id: None,
        from: Some(format!("{} (console)", note.by)),
        action,
        decision,
        state,
        changes,
        problems,
    }
}

fn problem_lines(c: &Checked) -> Vec<String> {
    c.verdict
        .problems
        .iter()
        .take(20)
        .map(|p| p.message.chars().take(300).collect())
        .collect()
}

fn approve(
    c: &mut Checked,
    mut r: RequestRecord,
    note: &StaffNote,
    arrival: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Step, Refused> {
    match r.state {
        State::Accepted => {
            return Err(Refused::Conflict("The request is accepted already.".into()));
        }
        State::Cancelled => {
            return Err(Refused::Invalid(
                "The request is cancelled; a new test needs a new notification.".into(),
            ));
        }
        _ => {}
    }
    let missing = missing_items(&r.record);
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|i| describe(*i)).collect();
        return Err(Refused::Invalid(format!(
            "The request does not say: {}. Correct the item first (or reject the request).",
            list.join("; ")
        )));
    }
    if let Some(w) = r.record.windows.iter().find(|w| w.end <= w.start) {
        return Err(Refused::Invalid(format!(
            "The window from {} to {} ends before it starts; correct the window first.",
            w.start, w.end
        )));
    }
    if let Some(ip) = r
        .record
        .originating_ips
        .iter()
        .find(|ip| net::non_global_reason(ip).is_some())
    {
        return Err(Refused::Invalid(format!(
            "The originating address {ip} is not globally reachable; correct the originating IPs first."
        )));
    }
    let overridden = problem_lines(c);
    let overridden_lines = overridden.clone();
    let previous = r.accepted.clone();
    r.state = State::Accepted;
    r.accepted = Some(r.record.clone());
    r.accepted_class = Some(r.test_class);
    if previous.is_some() {
        r.sequence += 1;
    }
    r.notice_from = Some(arrival);
    let v = &mut c.verdict;
    v.kind = crate::model::Kind::TestNotification;
    v.decision = Decision::Accept;
    // The notice as it stands for the record approved (a corrected window moved it).
    v.notice_days = r
        .record
        .windows
        .iter()
        .map(|w| w.start)
        .min()
        .map(|s| (s - arrival).num_seconds() as f64 / 86_400.0);
    v.problems.clear();
    v.missing.clear();
    v.reason = None;
    let action = if previous.is_some() {
        Action::ChangeAccepted
    } else {
        Action::Completed
    };
    let delta = previous
        .as_ref()
        .map(|p| changes(p, &r.record))
        .unwrap_or_default();
    let lines = delta.iter().map(|d| d.line()).collect();
    let problems = overridden
        .into_iter()
        .map(|p| format!("overridden: {p}"))
        .collect();
    r.push(event(
        note,
        action,
        Decision::Accept,
        State::Accepted,
        now,
        format!("approved by {}", note.by),
        lines,
        problems,
    ));
    let mut note = note.clone();
    note.overridden = overridden_lines;
    Ok(Step {
        action,
        request: Some(r),
        changes: delta,
        previous,
        staff: Some(note),
    })
}

fn reject(
    c: &mut Checked,
    mut r: RequestRecord,
    note: &StaffNote,
    now: DateTime<Utc>,
) -> Result<Step, Refused> {
    match (r.state, &r.accepted) {
        (State::Cancelled, _) => {
            return Err(Refused::Conflict(
                "The request is cancelled already.".into(),
            ));
        }
        (State::Accepted, _) => {
            return Err(Refused::Invalid(
                "The request is accepted; to withdraw it, cancel it.".into(),
            ));
        }
        _ => {}
    }
    c.verdict.kind = crate::model::Kind::TestNotification;
    c.verdict.decision = Decision::Reject;
    c.verdict.reason = Some(format!("rejected by {}", note.by));
    let (action, delta, previous) = match r.accepted.clone() {
        // A change in review: refused, the accepted request stays.
        Some(held) => {
            let delta = changes(&held, &r.record);
            r.record = held.clone();
            r.state = State::Accepted;
            // The kind of test the security team holds, not the refused change's.
            r.test_class = r.accepted_class.unwrap_or(r.test_class);
            c.verdict.test_class = Some(r.test_class);
            c.verdict.request = held.clone();
            (Action::ChangeRejected, delta, Some(held))
        }
        None => {
            c.verdict.missing = missing_items(&r.record);
            r.state = if c.verdict.missing.is_empty() {
                State::Rejected
            } else {
                State::Incomplete
            };
            (Action::Rejected, Vec::new(), None)
        }
    };
    let problems = problem_lines(c);
    let lines = delta.iter().map(|d| d.line()).collect();
    let state = r.state;
    r.push(event(
        note,
        action,
        Decision::Reject,
        state,
        now,
        format!("rejected by {}", note.by),
        lines,
        problems,
    ));
    Ok(Step {
        action,
        request: Some(r),
        changes: delta,
        // A refused change names no withdrawn window; the old one stays.
        previous: previous.filter(|_| action != Action::ChangeRejected),
        staff: Some(note.clone()),
    })
}

fn cancel(
    c: &mut Checked,
    mut r: RequestRecord,
    note: &StaffNote,
    now: DateTime<Utc>,
) -> Result<Step, Refused> {
    if r.state == State::Cancelled {
        return Err(Refused::Conflict(
            "The request is cancelled already.".into(),
        ));
    }
    let previous = r.accepted.clone();
    r.state = State::Cancelled;
    if previous.is_some() {
        r.sequence += 1;
    }
    let v = &mut c.verdict;
    v.kind = crate::model::Kind::TestNotification;
    v.decision = Decision::Ignore;
    v.problems.clear();
    v.missing.clear();
    v.reason = Some(format!("cancelled by {}", note.by));
    r.push(event(
        note,
        Action::Cancelled,
        Decision::Ignore,
        State::Cancelled,
        now,
        format!("cancelled by {}", note.by),
        Vec::new(),
        Vec::new(),
    ));
    Ok(Step {
        action: Action::Cancelled,
        request: Some(r),
        changes: Vec::new(),
        previous,
        staff: Some(note.clone()),
    })
}

/// Replaces `item` with what `value` says and decides the request again, as intake decides
/// a customer's change: same rules, same notice measure.
#[allow(clippy::too_many_arguments)]
fn correct(
    c: &mut Checked,
    mut r: RequestRecord,
    note: &StaffNote,
    item: Item,
    value: &str,
    config: &Config,
    latest: &LatestMessage,
    verified: bool,
    now: DateTime<Utc>,
) -> Result<Step, Refused> {
    if r.state == State::Cancelled {
        return Err(Refused::Invalid(
            "The request is cancelled; a new test needs a new notification.".into(),
        ));
    }
    let value: String = value.trim().chars().take(MAX_VALUE).collect();
    if value.is_empty() {
        return Err(Refused::Invalid("Give the corrected value.".into()));
    }
    let rules = &config.rules;
    let mut ex = c.extraction.clone().unwrap_or_default();
    let mut rec = r.record.clone();
    let mut zone = c.zone;
    let tz_of = |z: Zone| match z {
        Zone::Named(tz) => tz,
        Zone::Fixed(_) => rules.timezone,
    };
    match item {
        Item::Window => {
            let f = find_windows(
                &value,
                &DateContext {
                    default_tz: tz_of(zone),
                    reference: now,
                },
            );
            if f.windows.is_empty()
                || !f.ambiguous_dates.is_empty()
                || !f.ambiguous_zones.is_empty()
                || !f.invalid.is_empty()
                || !f.doubts.is_empty()
            {
                return Err(Refused::Invalid(format!(
                    "intake could not read one clear window from “{value}”. Write it with date, start and end time and zone, e.g. 20 January 2027 09:00-17:00 Europe/Zurich."
                )));
            }
            rec.windows = f.windows;
            if let Some(z) = f.zone {
                zone = z;
            }
            clear_date_doubts(&mut ex);
        }
        Item::Zone => {
            let Ok(tz) = value.parse::<chrono_tz::Tz>() else {
                return Err(Refused::Invalid(format!(
                    "“{value}” is no time zone name intake knows; use an IANA name such as Europe/Zurich or Asia/Kolkata."
                )));
            };
            // The times as the customer wrote them, read in that zone (a zone written
            // next to a time that has one meaning stays what it says). Only where the
            // newest message is where the windows come from: an accepted request, or one
            // whose windows an earlier message gave, is corrected by its window instead
            // (re-reading a later message could bring back what it replaced).
            if r.accepted.is_some() || (r.steps > 1 && !r.record.windows.is_empty()) {
                return Err(Refused::Invalid(
                    "The windows of this request do not come from its newest message alone: correct the window itself (with its zone) instead.".into(),
                ));
            }
            let f = find_windows(
                &body_text(&c.letter),
                &DateContext {
                    default_tz: tz,
                    reference: latest.arrival,
                },
            );
            if f.windows.is_empty() {
                return Err(Refused::Invalid(
                    "The newest message gives no times to read again in that zone; correct the window instead.".into(),
                ));
            }
            rec.windows = f.windows;
            zone = Zone::Named(tz);
            clear_date_doubts(&mut ex);
            ex.ambiguous_dates = f.ambiguous_dates;
            ex.invalid_windows = f.invalid;
        }
        Item::OriginatingIps => {
            let s = net::find_sources(&value, true, MAX_SOURCES);
            if s.ips.is_empty() {
                return Err(Refused::Invalid(format!(
                    "No address or network found in “{value}”; write them as 203.0.113.7, 198.51.100.0/28 or a range."
                )));
            }
            rec.originating_ips = s.ips;
        }
        Item::Targets => {
            let t = hosts::find_targets(&value, &[]);
            if t.is_empty() {
                return Err(Refused::Invalid(format!(
                    "No host name or URL intake takes as a target in “{value}” (it leaves out e-mail addresses and well-known public sites such as search engines)."
                )));
            }
            rec.targets = t;
        }
        Item::Bandwidth => {
            let Some(bps) = traffic::find_traffic(&format!("Bandwidth: {value}")).bandwidth_bps
            else {
                return Err(Refused::Invalid(format!(
                    "No bandwidth found in “{value}”; write it with its unit, e.g. 50 Mbit/s."
                )));
            };
            rec.bandwidth_bps = Some(bps);
        }
        Item::RequestsPerSecond => {
            let rps = traffic::find_traffic(&format!("Requests per second: {value}"))
                .requests_per_second
                .or_else(|| traffic::bare_rate(&value));
            let Some(rps) = rps else {
                return Err(Refused::Invalid(format!(
                    "No rate found in “{value}”; write it as e.g. 200 requests/s."
                )));
            };
            rec.requests_per_second = Some(rps);
        }
        Item::ContactName => {
            rec.contact.name = Some(crate::render::clean::one_line(&value, 200));
        }
        Item::ContactEmail => {
            let ok =
                value.parse::<lettre::Address>().is_ok() && !value.contains(char::is_whitespace);
            if !ok {
                return Err(Refused::Invalid(format!("“{value}” is no e-mail address.")));
            }
            rec.contact.email = Some(value.clone());
        }
        Item::ContactPhone => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            let ok = value
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-()./".contains(ch));
            if !ok || !(6..=20).contains(&digits) {
                return Err(Refused::Invalid(format!(
                    "“{value}” is no phone number (digits, spaces, + - ( ) . / only)."
                )));
            }
            rec.contact.phone = Some(value.clone());
        }
        Item::Scope => {
            rec.scope = Some(crate::render::clean::one_line(&value, MAX_REASON));
        }
    }
    // Nothing new: the same as the record, and (for a change in review) as what is held; a
    // correction equal to a change in review confirms it, which is something.
    if rec == r.record && r.accepted.as_ref().is_none_or(|h| *h == rec) && zone.label() == r.zone {
        return Err(Refused::Invalid(
            "The request already says that: nothing would change.".into(),
        ));
    }
    // What changes against what the security team holds, where it holds something (a
    // change in review is a change of the accepted request), else against the record.
    let held = r.accepted.clone();
    let delta = changes(held.as_ref().unwrap_or(&r.record), &rec);
    // Review causes of the conversation (items taken out, a question, a stranger in the
    // thread, ...) are not found again in the newest message alone: they stay, unless this
    // correction settles them (the list a customer edited, given whole by a person).
    let settled = |code: ProblemCode| {
        RECOMPUTED.contains(&code)
            || (code == ProblemCode::ListEdit
                && matches!(item, Item::OriginatingIps | Item::Targets))
    };
    for p in &latest.verdict.problems {
        if !settled(p.code) && !ex.doubts.iter().any(|d| d.code == p.code) {
            ex.doubts.push(p.clone());
        }
    }
    ex.request = rec.clone();
    ex.is_notification = true;
    if r.test_class == crate::model::TestClass::Broad {
        ex.mentions.load = true;
    }
    let domain = domain_of(&r.sender);
    let sender = if verified || note.sender_confirmed {
        Sender::verified_for(domain.as_deref().unwrap_or(""))
    } else {
        // The reason it failed when the message arrived (a DMARC fail says "forged").
        let why = latest
            .verdict
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::SenderUnverified)
            .map(|p| {
                p.message
                    .trim_start_matches("The sender could not be verified: ")
                    .trim_end_matches('.')
                    .to_string()
            })
            .unwrap_or_else(|| "not verified when the message arrived".into());
        Sender {
            domain,
            check: SenderCheck::Unverified(why),
        }
    };
    let was_accepted = held.is_some();
    // Notice: a window, addresses, targets or traffic a person enters are news as of now
    // (as a customer's change counts from its arrival); a zone re-reads what the customer
    // wrote, from its arrival; a contact change keeps the accepted request's notice.
    // Taking addresses or targets out of what is held narrows the test: no news.
    let narrows = held.as_ref().is_some_and(|h| match item {
        Item::OriginatingIps => rec
            .originating_ips
            .iter()
            .all(|ip| h.originating_ips.iter().any(|k| k.contains(ip))),
        Item::Targets => rec
            .targets
            .iter()
            .all(|t| h.targets.iter().any(|k| k.eq_ignore_ascii_case(t))),
        _ => false,
    });
    let keeps_notice = was_accepted
        && delta.iter().all(|d| match d.item {
            crate::model::Item::ContactName | crate::model::Item::ContactEmail => true,
            crate::model::Item::OriginatingIps | crate::model::Item::Targets => narrows,
            _ => false,
        });
    let news = matches!(
        item,
        Item::Window
            | Item::OriginatingIps
            | Item::Targets
            | Item::Bandwidth
            | Item::RequestsPerSecond
    );
    let notice_from = match r.notice_from {
        Some(t) if keeps_notice => t,
        _ if news && !narrows => now,
        _ => latest.arrival,
    };
    let f = decide::judge(&ex, &sender, rules, notice_from, zone);
    crate::conversation::apply(c, &f, &rec, zone);
    let previous = held;
    let action = crate::conversation::settle(&mut r, &f, rec, zone, notice_from, was_accepted);
    if action == Action::ChangeRejected {
        let why: Vec<String> = f.problems.iter().map(|p| p.message.clone()).collect();
        return Err(Refused::Invalid(format!(
            "With this correction the accepted request could not be accepted ({}). Nothing was changed; the accepted request stays.",
            why.join(" ")
        )));
    }
    let problems = problem_lines(c);
    let lines: Vec<String> = delta.iter().map(|d| d.line()).collect();
    let state = r.state;
    r.push(event(
        note,
        action,
        f.decision,
        state,
        now,
        format!(
            "{} corrected by {}",
            item.as_str().replace('_', " "),
            note.by
        ),
        lines,
        problems,
    ));
    Ok(Step {
        action,
        request: Some(r),
        changes: delta,
        previous: if was_accepted { previous } else { None },
        staff: Some(note.clone()),
    })
}

/// A corrected window or zone settles what the dates left open.
fn clear_date_doubts(ex: &mut crate::extract::Extraction) {
    ex.ambiguous_dates.clear();
    ex.ambiguous_zones.clear();
    ex.invalid_windows.clear();
    ex.doubts.retain(|d| d.code != ProblemCode::AmbiguousDate);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use chrono::{Duration, TimeZone as _};

    use super::*;
    use crate::model::Role;
    use crate::store::Identity;

    struct World {
        store: Store,
        config: Config,
        templates: Templates,
        uid: u64,
    }

    fn world() -> World {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::load(Some(&root.join("config.toml"))).unwrap();
        let templates = Templates::for_config(&config).unwrap();
        World {
            store: Store::in_memory().unwrap(),
            config,
            templates,
            uid: 0,
        }
    }

    fn arrival() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).unwrap()
    }

    /// A notification from Reto at Alpinbank (verified when `verified`), with `when` as its
    /// window line and `extra` lines appended.
    fn notification(id: &str, verified: bool, when: &str) -> Vec<u8> {
        let ar = if verified {
            "Authentication-Results: mx.amazee.io; dkim=pass header.d=alpinbank-example.ch; spf=pass smtp.mailfrom=alpinbank-example.ch; dmarc=pass header.from=alpinbank-example.ch\r\n"
        } else {
            ""
        };
        format!(
            "{ar}From: Reto Hug <reto.hug@alpinbank-example.ch>\r\nTo: support@amazee.io\r\nSubject: Penetration test demo portal\r\nDate: Sun, 10 Jan 2027 10:00:00 +0100\r\nMessage-ID: <{id}@alpinbank-example.ch>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWe announce a penetration test of our demo portal.\r\n\r\nTesting vectors and scope: grey-box web application test\r\nTarget: demo.alpinbank-example.ch\r\nOriginating IPs: 31.10.145.88, 31.10.145.89\r\nTraffic volume: max. 8 Mbit/s, max. 20 requests per second\r\n{when}\r\nContact during the test: Reto Hug, reto.hug@alpinbank-example.ch, +41 58 555 12 40\r\n\r\nReto\r\n"
        )
        .into_bytes()
    }

    impl World {
        /// Decides `raw` as the watch loop would; returns the request's reference.
        fn arrive(&mut self, raw: &[u8]) -> (String, crate::lifecycle::Decided) {
            self.uid += 1;
            let identity = Identity {
                folder: "INBOX".into(),
                uidvalidity: 1,
                uid: self.uid,
                message_id: crate::read::read(raw).message_id,
                content_hash: crate::watch::content_hash(raw),
            };
            let d = crate::lifecycle::decide(
                &mut self.store,
                &self.config,
                &self.templates,
                &identity,
                Some(raw),
                raw.len() as u64,
                Arrival::Known(arrival()),
                None,
                arrival(),
            )
            .unwrap();
            let r = d
                .step
                .as_ref()
                .and_then(|s| s.request.as_ref())
                .unwrap()
                .reference
                .clone();
            (r, d)
        }

        fn request(&self, reference: &str) -> RequestRecord {
            self.store.request(reference).unwrap().unwrap()
        }

        fn act(&mut self, reference: &str, a: Act) -> Result<Done, Refused> {
            let revision = self.request(reference).revision;
            self.act_at(reference, revision, a)
        }

        fn act_at(&mut self, reference: &str, revision: u64, a: Act) -> Result<Done, Refused> {
            act(
                &mut self.store,
                &self.config,
                &self.templates,
                reference,
                revision,
                "alice",
                &a,
                arrival() + Duration::hours(1),
            )
            .unwrap()
        }

        fn queued(&self) -> Vec<crate::store::Pending> {
            self.store.pending(arrival() + Duration::days(1)).unwrap()
        }
    }

    fn roles(d: &Done) -> Vec<Role> {
        d.queued.iter().map(|(r, _)| *r).collect()
    }

    fn text(p: &crate::store::Pending) -> String {
        crate::read::read(&p.raw).text.new
    }

    const WINDOW: &str =
        "Start: Monday, 1 March 2027, 09:00 CET\r\nEnd: Tuesday, 2 March 2027, 17:00 CET";

    #[test]
    fn an_unverified_sender_is_approved_only_when_a_person_confirms_it() {
        let mut w = world();
        let (reference, d) = w.arrive(&notification("a1", false, WINDOW));
        assert_eq!(d.decision, "review");
        let before = w.queued().len();
        let rev = w.request(&reference).revision;
        let refused = w.act(
            &reference,
            Act::Approve {
                reason: "looks fine".into(),
                confirm_sender: false,
            },
        );
        assert!(refused.unwrap_err().why().contains("not verified"));
        assert_eq!(w.queued().len(), before);
        assert_eq!(w.request(&reference).revision, rev);
        let done = w
            .act(
                &reference,
                Act::Approve {
                    reason: "called Reto back on his desk phone".into(),
                    confirm_sender: true,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Accepted);
        assert_eq!(roles(&done), vec![Role::Reply, Role::Security, Role::Staff]);
        let r = w.request(&reference);
        assert_eq!(r.revision, rev + 1);
        assert_eq!(r.accepted.as_ref(), Some(&r.record));
        let last = r.history.last().unwrap();
        assert_eq!(last.from.as_deref(), Some("alice (console)"));
        assert!(last.changes[0].contains("called Reto back"), "{last:?}");
        assert!(last.problems.iter().any(|p| p.starts_with("overridden:")));
        let queued = w.queued();
        assert_eq!(queued.len(), before + 3);
        let security = queued.iter().find(|p| p.role == Role::Security).unwrap();
        let body = text(security);
        assert!(body.contains("approved by alice"), "{body}");
        assert!(body.contains("confirmed it by other means"), "{body}");
        // What the person set aside is in the mail that lets the traffic through.
        assert!(body.contains("set aside:"), "{body}");
        assert!(body.contains("could not be verified"), "{body}");
        let staff = queued.iter().rev().find(|p| p.role == Role::Staff).unwrap();
        assert!(
            String::from_utf8_lossy(&staff.raw).contains("APPROVED BY alice"),
            "{}",
            String::from_utf8_lossy(&staff.raw)
        );
        assert!(String::from_utf8_lossy(&security.raw).contains("METHOD:PUBLISH"));
        // The same form again: nothing.
        let again = w.act_at(
            &reference,
            rev,
            Act::Approve {
                reason: String::new(),
                confirm_sender: true,
            },
        );
        assert!(again.unwrap_err().why().contains("changed since"));
        assert_eq!(w.queued().len(), before + 3);
        assert_eq!(w.store.actions(10).unwrap().len(), 1);
    }

    #[test]
    fn a_window_a_person_enters_counts_its_notice_from_now() {
        let mut w = world();
        let (reference, d) = w.arrive(&notification("n1", true, WINDOW));
        assert_eq!(d.decision, "accept");
        // 45 days later, two days before a new window: too short, whatever the first mail.
        let late = arrival() + Duration::days(45);
        let revision = w.request(&reference).revision;
        let got = act(
            &mut w.store,
            &w.config,
            &w.templates,
            &reference,
            revision,
            "alice",
            &Act::Correct {
                item: Item::Window,
                value: "27 February 2027 09:00 to 17:00 CET".into(),
                reason: "customer phoned".into(),
                confirm_sender: false,
            },
            late,
        )
        .unwrap();
        assert!(got.unwrap_err().why().contains("could not be accepted"));
        // Nor may a zone re-read an accepted request's newest mail.
        let zone = w.act(
            &reference,
            Act::Correct {
                item: Item::Zone,
                value: "Asia/Kolkata".into(),
                reason: "x".into(),
                confirm_sender: false,
            },
        );
        assert!(
            zone.unwrap_err()
                .why()
                .contains("correct the window itself")
        );
        assert_eq!(w.request(&reference).sequence, 0);
    }

    #[test]
    fn a_list_the_customer_edited_stays_in_review_until_a_person_gives_it_whole() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("l1", true, WINDOW));
        let edit = b"Authentication-Results: mx.amazee.io; dkim=pass header.d=alpinbank-example.ch; spf=pass smtp.mailfrom=alpinbank-example.ch; dmarc=pass header.from=alpinbank-example.ch\r\nFrom: Reto Hug <reto.hug@alpinbank-example.ch>\r\nTo: support@amazee.io\r\nSubject: Re: Penetration test demo portal\r\nDate: Sun, 10 Jan 2027 11:00:00 +0100\r\nMessage-ID: <l1-edit@alpinbank-example.ch>\r\nIn-Reply-To: <l1@alpinbank-example.ch>\r\nReferences: <l1@alpinbank-example.ch>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease remove 31.10.145.89 from the originating IPs.\r\n\r\nReto\r\n";
        let (same, d) = w.arrive(edit);
        assert_eq!(same, reference);
        assert_eq!(
            d.decision,
            "review",
            "{:?}",
            d.checked.map(|c| c.verdict.problems)
        );
        // Another item corrected: the edited list still needs a person.
        let done = w
            .act(
                &reference,
                Act::Correct {
                    item: Item::Scope,
                    value: "grey-box web application test of the demo portal".into(),
                    reason: "wording".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Review);
        assert!(!roles(&done).contains(&Role::Security));
        // The list given whole settles it: a narrower list keeps the notice.
        let done = w
            .act(
                &reference,
                Act::Correct {
                    item: Item::OriginatingIps,
                    value: "31.10.145.88".into(),
                    reason: "confirmed: only .88".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Accepted, "{}", done.said);
        let r = w.request(&reference);
        assert_eq!(r.sequence, 1);
        assert_eq!(
            r.accepted.unwrap().originating_ips,
            vec!["31.10.145.88/32".parse::<ipnet::IpNet>().unwrap()]
        );
        assert!(roles(&done).contains(&Role::Security));
    }

    #[test]
    fn a_quiet_cancel_writes_to_nobody_but_the_security_team_and_staff() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("q1", true, WINDOW));
        let done = w
            .act(
                &reference,
                Act::Cancel {
                    reason: "duplicate of another request".into(),
                    confirm_sender: false,
                    quiet: true,
                },
            )
            .unwrap();
        assert_eq!(roles(&done), vec![Role::Security, Role::Staff]);
    }

    #[test]
    fn a_confirmed_approval_sends_the_acceptance_in_the_thread() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("a2", false, WINDOW));
        let done = w
            .act(
                &reference,
                Act::Approve {
                    reason: String::new(),
                    confirm_sender: true,
                },
            )
            .unwrap();
        assert_eq!(roles(&done), vec![Role::Reply, Role::Security, Role::Staff]);
        let reply = w
            .queued()
            .into_iter()
            .find(|p| p.role == Role::Reply)
            .unwrap();
        assert_eq!(reply.recipient, "reto.hug@alpinbank-example.ch");
        let raw = String::from_utf8_lossy(&reply.raw).to_string();
        assert!(
            raw.contains("In-Reply-To: <a2@alpinbank-example.ch>"),
            "{raw}"
        );
        assert!(text(&reply).contains("accepted"));
        assert!(reply.out_message_id.starts_with(&format!("{reference}.s")));
    }

    #[test]
    fn an_ambiguous_zone_corrected_is_decided_again_and_accepted() {
        let mut w = world();
        let (reference, d) = w.arrive(&notification(
            "z1",
            true,
            "Window: 1 March 2027 09:00 to 17:00 IST",
        ));
        assert_eq!(
            d.decision,
            "review",
            "{:?}",
            d.checked.unwrap().verdict.problems
        );
        let done = w
            .act(
                &reference,
                Act::Correct {
                    item: Item::Zone,
                    value: "Asia/Kolkata".into(),
                    reason: "IST is India here (customer in Pune)".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Accepted, "{}", done.said);
        let r = w.request(&reference);
        assert_eq!(r.zone, "Asia/Kolkata");
        let start = Utc.with_ymd_and_hms(2027, 3, 1, 3, 30, 0).unwrap();
        assert_eq!(r.record.windows[0].start, start);
        assert_eq!(roles(&done), vec![Role::Reply, Role::Security, Role::Staff]);
        // A name that is no zone is refused and changes nothing.
        let bad = w.act(
            &reference,
            Act::Correct {
                item: Item::Zone,
                value: "India".into(),
                reason: "x".into(),
                confirm_sender: false,
            },
        );
        assert!(bad.unwrap_err().why().contains("no time zone"));
    }

    #[test]
    fn a_correction_that_leaves_a_doubt_stays_in_review_and_sends_the_customer_nothing() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification(
            "z2",
            false,
            "Window: 1 March 2027 09:00 to 17:00 IST",
        ));
        let done = w
            .act(
                &reference,
                Act::Correct {
                    item: Item::Zone,
                    value: "Asia/Kolkata".into(),
                    reason: "India".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        // The sender is still unverified: a person must approve.
        assert_eq!(done.state, State::Review);
        assert_eq!(roles(&done), vec![Role::Staff]);
    }

    #[test]
    fn rejecting_sends_the_reason_and_the_problems() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification(
            "r1",
            true,
            "Window: 1 March 2027 09:00 to 17:00 IST",
        ));
        let none = w.act(
            &reference,
            Act::Reject {
                reason: "  ".into(),
                confirm_sender: false,
            },
        );
        assert!(none.unwrap_err().why().contains("Say why"));
        let done = w
            .act(
                &reference,
                Act::Reject {
                    reason: "We cannot tell which IST you mean; please resend with an offset."
                        .into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        // The ambiguous times gave no window: the request lacks one.
        assert_eq!(done.state, State::Incomplete);
        let reply = w
            .queued()
            .into_iter()
            .find(|p| p.role == Role::Reply)
            .unwrap();
        let body = text(&reply);
        assert!(
            body.contains("Our support team adds: We cannot tell which IST"),
            "{body}"
        );
        assert!(body.contains("more than one meaning"), "{body}");
    }

    #[test]
    fn cancelling_an_accepted_request_withdraws_the_window() {
        let mut w = world();
        let (reference, d) = w.arrive(&notification("c1", true, WINDOW));
        assert_eq!(d.decision, "accept");
        let done = w
            .act(
                &reference,
                Act::Cancel {
                    reason: "the customer phoned: the test is off".into(),
                    confirm_sender: false,
                    quiet: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Cancelled);
        let r = w.request(&reference);
        assert_eq!(r.sequence, 1);
        let queued = w.queued();
        let security = queued
            .iter()
            .rev()
            .find(|p| p.role == Role::Security)
            .unwrap();
        let raw = String::from_utf8_lossy(&security.raw);
        assert!(raw.contains("METHOD:CANCEL"), "{raw}");
        assert!(raw.contains("SEQUENCE:1"));
        let reply = queued.iter().rev().find(|p| p.role == Role::Reply).unwrap();
        assert!(
            text(reply).contains("our support team has cancelled"),
            "{}",
            text(reply)
        );
        assert!(
            w.act(
                &reference,
                Act::Cancel {
                    reason: "again".into(),
                    confirm_sender: false,
                    quiet: false,
                }
            )
            .unwrap_err()
            .why()
            .contains("cancelled already")
        );
    }

    #[test]
    fn moving_an_accepted_window_sends_an_update_with_a_higher_sequence() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("m1", true, WINDOW));
        let done = w
            .act(
                &reference,
                Act::Correct {
                    item: Item::Window,
                    value: "8 March 2027 09:00 to 17:00 CET".into(),
                    reason: "moved by phone".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Accepted, "{}", done.said);
        let r = w.request(&reference);
        assert_eq!(r.sequence, 1);
        assert_eq!(
            r.accepted.unwrap().windows[0].start,
            Utc.with_ymd_and_hms(2027, 3, 8, 8, 0, 0).unwrap()
        );
        let security = w
            .queued()
            .into_iter()
            .rev()
            .find(|p| p.role == Role::Security)
            .unwrap();
        let raw = String::from_utf8_lossy(&security.raw).to_string();
        assert!(raw.contains("SEQUENCE:1"), "{raw}");
        assert!(raw.contains("alice (support) changed"), "{raw}");
        // A window with too little notice is refused for an accepted request.
        let late = w.act(
            &reference,
            Act::Correct {
                item: Item::Window,
                value: "12 January 2027 09:00 to 17:00 CET".into(),
                reason: "x".into(),
                confirm_sender: false,
            },
        );
        assert!(late.unwrap_err().why().contains("could not be accepted"));
        assert_eq!(w.request(&reference).sequence, 1);
    }

    #[test]
    fn a_correction_that_changes_nothing_is_refused() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("s1", true, WINDOW));
        let got = w.act(
            &reference,
            Act::Correct {
                item: Item::Bandwidth,
                value: "8 Mbit/s".into(),
                reason: "same".into(),
                confirm_sender: false,
            },
        );
        assert!(got.unwrap_err().why().contains("nothing would change"));
        assert_eq!(w.request(&reference).sequence, 0);
    }

    #[test]
    fn unreadable_values_are_refused_with_a_hint() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("v1", false, WINDOW));
        for (item, value, hint) in [
            (Item::Window, "next week sometime", "one clear window"),
            (Item::OriginatingIps, "our office", "No address"),
            (Item::Targets, "the shop", "No host"),
            (Item::Bandwidth, "a lot", "No bandwidth"),
            (Item::ContactEmail, "reto at alpinbank", "no e-mail"),
            (Item::ContactPhone, "call me", "no phone"),
        ] {
            let got = w.act(
                &reference,
                Act::Correct {
                    item,
                    value: value.into(),
                    reason: "x".into(),
                    confirm_sender: false,
                },
            );
            assert!(got.unwrap_err().why().contains(hint), "{item:?}");
        }
        assert_eq!(w.request(&reference).state, State::Review);
        assert!(w.store.actions(10).unwrap().is_empty());
    }

    #[test]
    fn only_a_reply_in_doubt_is_queued_again_and_only_once() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("d1", true, WINDOW));
        let reply = w
            .queued()
            .into_iter()
            .find(|p| p.role == Role::Reply)
            .unwrap();
        let security = w
            .queued()
            .into_iter()
            .find(|p| p.role == Role::Security)
            .unwrap();
        let now = arrival();
        w.store
            .give_up(reply.id, "timeout after the content", true, None, now)
            .unwrap();
        w.store
            .give_up(security.id, "550 refused", false, None, now)
            .unwrap();
        assert!(!w.queued().iter().any(|p| p.id == reply.id));
        let resend = |w: &mut World, id| w.act(&reference, Act::Resend { outbox: id });
        assert!(resend(&mut w, security.id).is_err());
        let done = resend(&mut w, reply.id).unwrap();
        assert!(done.said.contains("queued again"));
        let again: Vec<_> = w
            .queued()
            .into_iter()
            .filter(|p| p.id == reply.id)
            .collect();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].out_message_id, reply.out_message_id);
        assert!(
            resend(&mut w, reply.id)
                .unwrap_err()
                .why()
                .contains("not waiting")
        );
        // Another request's row is not this one's to resend.
        let (other, _) = w.arrive(&notification(
            "d2",
            true,
            "Window: 3 March 2027 09:00 to 17:00 CET",
        ));
        assert_ne!(other, reference);
        let kinds: Vec<String> = w
            .store
            .actions(10)
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect();
        assert_eq!(kinds, vec!["resend"]);
    }

    #[test]
    fn a_reply_overtaken_by_a_newer_one_is_not_sent_again() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("o1", true, WINDOW));
        let acceptance = w
            .queued()
            .into_iter()
            .find(|p| p.role == Role::Reply)
            .unwrap();
        w.store
            .give_up(acceptance.id, "timeout", true, None, arrival())
            .unwrap();
        w.act(
            &reference,
            Act::Cancel {
                reason: "the customer phoned".into(),
                confirm_sender: false,
                quiet: false,
            },
        )
        .unwrap();
        // "Accepted" after "cancelled" would mislead: refused.
        let got = w.act(
            &reference,
            Act::Resend {
                outbox: acceptance.id,
            },
        );
        assert!(got.unwrap_err().why().contains("not waiting"));
    }

    #[test]
    fn rejecting_a_broader_change_in_review_answers_with_the_kind_of_test_held() {
        let mut w = world();
        let (reference, _) = w.arrive(&notification("k1", true, WINDOW));
        // A follow-up adding a host of the platform itself (a broader test) and a partner's
        // shop the bank does not own: review.
        let change = b"Authentication-Results: mx.amazee.io; dkim=pass header.d=alpinbank-example.ch; spf=pass smtp.mailfrom=alpinbank-example.ch; dmarc=pass header.from=alpinbank-example.ch\r\nFrom: Reto Hug <reto.hug@alpinbank-example.ch>\r\nTo: support@amazee.io\r\nSubject: Re: Penetration test demo portal\r\nDate: Sun, 10 Jan 2027 11:00:00 +0100\r\nMessage-ID: <k1-more@alpinbank-example.ch>\r\nIn-Reply-To: <k1@alpinbank-example.ch>\r\nReferences: <k1@alpinbank-example.ch>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease also add dashboard.amazee.io and shop.partner-example.net to the penetration test targets.\r\n\r\nReto\r\n";
        let (_, d) = w.arrive(change);
        assert_eq!(d.decision, "review");
        let r = w.request(&reference);
        assert_eq!(r.state, State::Review);
        assert_eq!(r.test_class, crate::model::TestClass::Broad);
        assert_eq!(r.accepted_class, Some(crate::model::TestClass::Standard));
        let done = w
            .act(
                &reference,
                Act::Reject {
                    reason: "We do not test the platform's own dashboard on request.".into(),
                    confirm_sender: false,
                },
            )
            .unwrap();
        assert_eq!(done.state, State::Accepted);
        let r = w.request(&reference);
        assert_eq!(r.test_class, crate::model::TestClass::Standard);
        let reply = w
            .queued()
            .into_iter()
            .rev()
            .find(|p| p.role == Role::Reply)
            .unwrap();
        let body = text(&reply);
        assert!(
            body.contains("change not accepted") || body.contains("cannot accept the change"),
            "{body}"
        );
        assert!(!body.contains("security test of the platform"), "{body}");
        assert!(body.contains("security/penetration test"), "{body}");
    }
}
