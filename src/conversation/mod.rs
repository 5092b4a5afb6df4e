//! Requests as conversations: what a message does to the request it belongs to (creates,
//! completes, changes, cancels it, or needs a person), and the request's record after it.
//!
//! Pure: the caller finds the request (by the message's references or the reference in its
//! subject, see [`references_in_subject`]) and stores the result. The design is in
//! `docs/CONVERSATIONS.md`.

pub mod merge;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::Checked;
use crate::decide::Rules;
use crate::decide::auth::Sender;
use crate::decide::{self, Findings};
use crate::domain::{domain_of, normalize_address, org_domain};
use crate::extract::Extraction;
use crate::model::{Decision, Item, Kind, Problem, ProblemCode, Request, TestClass, Zone};

pub use merge::{Change, changes, merge};

/// Events kept in a request's history; older ones are dropped (the messages themselves stay
/// in the store).
const MAX_HISTORY: usize = 200;
/// Message-IDs kept per request (theirs and ours) for finding it from a reply.
pub const MAX_THREAD_IDS: usize = 500;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Items are missing; waiting for the customer.
    Incomplete,
    /// Complete but not acceptable (too little notice, an invalid window, a private address).
    Rejected,
    /// The security team holds the window.
    Accepted,
    /// A person owns the request now.
    Review,
    /// Called off or postponed.
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Incomplete => "incomplete",
            State::Rejected => "rejected",
            State::Accepted => "accepted",
            State::Review => "review",
            State::Cancelled => "cancelled",
        }
    }

    /// Still waiting for something from the customer or running: a resend may be a duplicate.
    pub fn is_open(self) -> bool {
        matches!(self, State::Incomplete | State::Rejected | State::Accepted)
    }
}

/// What one message did to its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new request, accepted at once.
    Accepted,
    /// A new request, or a follow-up to one not yet accepted, that is still incomplete or not
    /// acceptable.
    Rejected,
    /// A follow-up that completed the request (or fixed what was wrong): accepted.
    Completed,
    /// A change to an accepted request, accepted: the security team gets an update.
    ChangeAccepted,
    /// A change to an accepted request that cannot be accepted: the old window stays.
    ChangeRejected,
    /// The test is called off or postponed.
    Cancelled,
    /// The same notification again.
    Duplicate,
    /// A person must look (the message, or the request from now on).
    Review,
    /// Nothing to do: no notification, or a follow-up that changes nothing ("thanks").
    Ignored,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accepted => "accepted",
            Action::Rejected => "rejected",
            Action::Completed => "completed",
            Action::ChangeAccepted => "change_accepted",
            Action::ChangeRejected => "change_rejected",
            Action::Cancelled => "cancelled",
            Action::Duplicate => "duplicate",
            Action::Review => "review",
            Action::Ignored => "ignored",
        }
    }
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub action: Action,
    pub decision: Decision,
    pub state: State,
    /// What changed, for people (`window: … → …`).
    pub changes: Vec<String>,
    /// Problem messages of this step, for people.
    pub problems: Vec<String>,
}

/// A request: the merged items, where it stands, and how it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub reference: String,
    pub state: State,
    /// The verified sender of the first message, lowercase.
    pub sender: String,
    /// Its organizational domain: colleagues there may write in the thread.
    pub org: String,
    pub record: Request,
    pub test_class: TestClass,
    /// The zone label replies repeat times in.
    pub zone: String,
    /// What the security team holds, if anything was accepted: the accepted record.
    pub accepted: Option<Request>,
    /// Calendar `SEQUENCE` of the last calendar the security team got.
    pub sequence: u32,
    /// Arrival the accepted request's notice was measured from.
    pub notice_from: Option<DateTime<Utc>>,
    /// Messages of the thread (theirs and ours), without `<>`.
    pub message_ids: Vec<String>,
    /// Number of customer messages merged (the step counter of outgoing Message-IDs).
    pub steps: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<Event>,
    /// Counts every change (a customer's message, a person's action in the console): a form
    /// in the console carries the revision it was shown at, so a second submit, or one made
    /// after the request moved on, changes nothing.
    #[serde(default)]
    pub revision: u64,
    /// The kind of test of what the security team holds (a change in review may be of
    /// another kind); absent in records from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_class: Option<TestClass>,
}

impl RequestRecord {
    /// Whether `sender` (a verified address) may speak for this request: same organizational
    /// domain as the first sender, or the named contact.
    pub fn speaks_for(&self, sender: &str) -> bool {
        // At a shared mail provider (gmail.com, gmx.ch, ...) the domain is no organization:
        // only the first sender's own address speaks for the request.
        let same_org = self.is_member(sender);
        let sender = normalize_address(sender);
        let contact = self
            .record
            .contact
            .email
            .as_deref()
            .is_some_and(|c| normalize_address(c) == sender);
        same_org || contact
    }

    /// Whether `address` belongs to the requesting organization (at a shared mail provider:
    /// is the first sender's own address).
    pub fn is_member(&self, address: &str) -> bool {
        let address = normalize_address(address);
        if crate::domain::is_shared_mail_provider(&self.org) {
            return address == normalize_address(&self.sender);
        }
        domain_of(&address)
            .map(|d| org_domain(&d).unwrap_or(d))
            .is_some_and(|o| o == self.org)
    }

    /// Adds the Message-IDs of one more step (bounded; the oldest beyond the bound go).
    pub fn add_ids<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            if !id.is_empty() && !self.message_ids.iter().any(|m| m == id) {
                self.message_ids.push(id.to_string());
            }
        }
        if self.message_ids.len() > MAX_THREAD_IDS {
            let drop = self.message_ids.len() - MAX_THREAD_IDS;
            // Keep the first (the thread root) and the newest.
            self.message_ids.drain(1..=drop);
        }
    }
}

/// What a message did, with the request after it.
#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// The request after this message; `None` when the message belongs to none and
    /// creates none (ignored mail, a stray reply in a thread that is not its sender's).
    pub request: Option<RequestRecord>,
    /// What changed (for a change or a completion), for people.
    pub changes: Vec<Change>,
    /// The request as the security team held it before a change or cancellation.
    pub previous: Option<Request>,
    /// Taken by a person in the console rather than by a customer's message.
    pub staff: Option<StaffNote>,
}

/// Who took a step in the console, and why (shown to the customer where the step has a
/// reply, and to the security team and staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffNote {
    pub by: String,
    pub reason: String,
    /// The sender was not verified, and `by` said they checked it some other way.
    pub sender_confirmed: bool,
    /// What was done, in a word for people (`approved`, `rejected`, `corrected`,
    /// `cancelled`).
    pub act: &'static str,
    /// The problems a person set aside by approving (for the security team and staff).
    pub overridden: Vec<String>,
}

/// How a message relates to the requests already known.
#[derive(Debug, Clone)]
pub enum Found {
    /// It names no request.
    None,
    /// It names this request (by reference or thread).
    Thread(RequestRecord),
    /// It names no request but repeats this open one of the same organization.
    Same(RequestRecord),
    /// It names several requests (by thread or reference): a person sorts it out.
    Several(Vec<String>),
}

/// Request references (`INT-` and ten characters of our alphabet) in a subject.
pub fn references_in_subject(subject: &str) -> Vec<String> {
    let b = subject.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = subject.get(i..).and_then(|s| s.find("INT-")) {
        let start = i + p;
        let end = start + 14;
        let tail_ok = b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
        let head_ok = subject
            .get(..start)
            .and_then(|h| h.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric());
        if let Some(r) = subject.get(start..end)
            && head_ok
            && tail_ok
            && r[4..]
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && out.len() < 4
        {
            out.push(r.to_string());
        }
        i = start + 4;
    }
    out
}

/// What message `c` (arrived at `arrival`) does, given the request it was `found` in.
/// `c` was checked on its own; here it is judged as part of its conversation.
pub fn advance(c: &mut Checked, found: Found, rules: &Rules, arrival: DateTime<Utc>) -> Step {
    match found {
        Found::None => first(c, arrival),
        Found::Same(r) => duplicate(c, r, arrival),
        Found::Thread(r) => follow_up(c, r, rules, arrival),
        Found::Several(refs) => {
            // One message, one request: which one it changes or cancels is for a person
            // (red team 13).
            to_review(
                c,
                ProblemCode::SeveralRequests,
                "names several requests",
                format!(
                    "The message names several requests ({}); it was merged into none of them. A person must apply it to each.",
                    refs.join(", ")
                ),
            );
            Step::none(Action::Review)
        }
    }
}

/// A message that starts a request (or is no request at all).
fn first(c: &mut Checked, arrival: DateTime<Utc>) -> Step {
    let v = &c.verdict;
    if v.decision == Decision::Ignore || v.kind != Kind::TestNotification {
        return Step::none(Action::Ignored);
    }
    let (action, state) = match v.decision {
        Decision::Accept => (Action::Accepted, State::Accepted),
        Decision::Reject if !v.missing.is_empty() => (Action::Rejected, State::Incomplete),
        Decision::Reject => (Action::Rejected, State::Rejected),
        _ => (Action::Review, State::Review),
    };
    let sender = v.from.clone().unwrap_or_default();
    let org = domain_of(&sender)
        .map(|d| org_domain(&d).unwrap_or(d))
        .unwrap_or_default();
    let mut r = RequestRecord {
        reference: v.reference.clone(),
        state,
        sender,
        org,
        record: v.request.clone(),
        test_class: v.test_class.unwrap_or(TestClass::Broad),
        zone: v.customer_zone.clone(),
        accepted: (state == State::Accepted).then(|| v.request.clone()),
        sequence: 0,
        notice_from: (state == State::Accepted).then_some(arrival),
        message_ids: Vec::new(),
        steps: 1,
        created_at: arrival,
        updated_at: arrival,
        history: Vec::new(),
        revision: 0,
        accepted_class: None,
    };
    if r.accepted.is_some() {
        r.accepted_class = Some(r.test_class);
    }
    r.add_ids(v.message_id.as_deref());
    r.push_event(c, action, arrival, &[]);
    Step {
        action,
        request: Some(r),
        changes: Vec::new(),
        previous: None,
        staff: None,
    }
}

/// A message that repeats an open request.
fn duplicate(c: &mut Checked, mut r: RequestRecord, arrival: DateTime<Utc>) -> Step {
    c.verdict.reference = r.reference.clone();
    // Never a second acceptance: the customer hears the request is known, staff see it.
    if c.verdict.decision == Decision::Accept {
        c.verdict.decision = Decision::Ignore;
    }
    c.verdict.warnings.push(format!(
        "The same notification as request {} (state {}); it is not handled a second time.",
        r.reference,
        r.state.as_str()
    ));
    r.steps += 1;
    r.add_ids(c.verdict.message_id.as_deref());
    r.push_event(c, Action::Duplicate, arrival, &[]);
    Step {
        action: Action::Duplicate,
        request: Some(r),
        changes: Vec::new(),
        previous: None,
        staff: None,
    }
}

/// A message in the thread of request `r`.
fn follow_up(c: &mut Checked, mut r: RequestRecord, rules: &Rules, arrival: DateTime<Utc>) -> Step {
    let sender_ok =
        c.verdict.sender_verified && c.verdict.from.as_deref().is_some_and(|f| r.speaks_for(f));
    if !sender_ok {
        // Not the customer: staff look; the request does not change and nobody is
        // answered. The message keeps its own reference (its summary must not take the
        // Message-ID of one of the request's) and names the request.
        let why = if c.verdict.sender_verified {
            format!(
                "A message in the thread of request {} from someone outside the requesting organization who is not its contact; it was not merged into the request.",
                r.reference
            )
        } else {
            format!(
                "A message in the thread of request {} whose sender could not be verified; it was not merged into the request.",
                r.reference
            )
        };
        to_review(
            c,
            ProblemCode::NotTheRequester,
            "reply in the thread from someone else",
            why,
        );
        return Step::none(Action::Review);
    }
    c.verdict.reference = r.reference.clone();
    r.steps += 1;
    r.add_ids(c.verdict.message_id.as_deref());

    if c.verdict.kind == Kind::AutoReply {
        r.push_event(c, Action::Ignored, arrival, &[]);
        return Step::of(Action::Ignored, r);
    }
    if matches!(r.state, State::Review | State::Cancelled) {
        let why = format!(
            "Request {} is {}: a person handles every further message in its thread.",
            r.reference,
            if r.state == State::Review {
                "with staff for review"
            } else {
                "cancelled"
            }
        );
        to_review(
            c,
            ProblemCode::RequestWithStaff,
            "the request is with staff",
            why,
        );
        r.push_event(c, Action::Review, arrival, &[]);
        return Step::of(Action::Review, r);
    }
    let Some(ex) = c.extraction.clone() else {
        // Nothing could be read (too large, unreadable, over budget): the check's review.
        to_review(
            c,
            ProblemCode::Unreadable,
            "unreadable follow-up",
            String::new(),
        );
        r.state = State::Review;
        r.push_event(c, Action::Review, arrival, &[]);
        return Step::of(Action::Review, r);
    };

    let (merged, unclear) = merge(&r.record, &ex, &crate::extract::body_text(&c.letter));
    let delta = changes(&r.record, &merged);
    // A load test announced in the thread of a standard test is a change too, and never one
    // that keeps the old notice (red team 02, 10).
    let broader = ex.mentions.class() == TestClass::Broad && r.test_class == TestClass::Standard;
    let cancellation = ex
        .doubts
        .iter()
        .any(|d| d.code == ProblemCode::Cancellation);
    let moved = cancellation
        && merge::postpones(&c.letter.text.new)
        && delta.iter().any(|d| d.item == Item::Window);
    if cancellation && !moved {
        let previous = r.accepted.clone();
        r.state = State::Cancelled;
        if previous.is_some() {
            r.sequence += 1;
        }
        // No traffic is announced: the message is no acceptance; the request's state and the
        // customer's acknowledgement say what happened.
        c.verdict.decision = Decision::Ignore;
        c.verdict.kind = Kind::TestNotification;
        c.verdict.problems.clear();
        c.verdict.missing.clear();
        c.verdict.reason = Some("the customer called the test off".into());
        r.push_event(c, Action::Cancelled, arrival, &[]);
        return Step {
            action: Action::Cancelled,
            request: Some(r),
            changes: Vec::new(),
            previous,
            staff: None,
        };
    }
    // Review causes in the new message itself (other than the move we understood).
    let mut doubts: Vec<Problem> = ex
        .doubts
        .iter()
        .filter(|d| !(moved && d.code == ProblemCode::Cancellation))
        .cloned()
        .collect();
    if !unclear.is_empty() {
        doubts.push(Problem::new(
            ProblemCode::ListEdit,
            format!(
                "The message takes items out of the {} (or says so ambiguously); a person must confirm what remains announced.",
                unclear.join(" and ")
            ),
        ));
    }
    // The named contact may speak for the request, but handing it to someone outside the
    // organization is the organization's call (red team 04).
    let sender = c.verdict.from.clone().unwrap_or_default();
    if !r.is_member(&sender)
        && delta.iter().any(|d| d.item == Item::ContactEmail)
        && merged
            .contact
            .email
            .as_deref()
            .is_some_and(|e| !r.is_member(e))
    {
        doubts.push(Problem::new(
            ProblemCode::NotTheRequester,
            format!(
                "The contact {sender}, outside the requesting organization, names another contact outside it; the organization must confirm."
            ),
        ));
    }
    if delta.is_empty() && !broader && doubts.is_empty() {
        if merge::acknowledges(&c.letter.text.new) {
            // "Thanks", "see you then": nothing to decide again.
            c.verdict.decision = Decision::Ignore;
            c.verdict.reason = Some(format!(
                "a thank-you in the thread of request {} that changes nothing",
                r.reference
            ));
            r.push_event(c, Action::Ignored, arrival, &[]);
            return Step::of(Action::Ignored, r);
        }
        // Something intake cannot act on: a question, a wording it does not know ("we will
        // not need the window after all"). A person reads it rather than nobody (red team 07).
        to_review(
            c,
            ProblemCode::UnclearFollowUp,
            "a follow-up intake cannot act on",
            format!(
                "A message in the thread of request {} that changes no item and is no plain thank-you: a person must read it (a question, a cancellation or change in words intake does not know).",
                r.reference
            ),
        );
        r.state = State::Review;
        r.push_event(c, Action::Review, arrival, &[]);
        return Step::of(Action::Review, r);
    }

    // Judge the whole merged request again, as the customer's organization wrote it.
    let mut whole: Extraction = ex.clone();
    whole.is_notification = true;
    whole.request = merged.clone();
    whole.doubts = doubts;
    if r.test_class == TestClass::Broad {
        whole.mentions.load = true;
    }
    let zone = ex
        .zone
        .or_else(|| parse_zone(&r.zone))
        .unwrap_or(Zone::Named(rules.timezone));
    let sender = Sender::verified_for(domain_of(&r.sender).as_deref().unwrap_or(""));
    // Notice: from the arrival of the message that completes or changes the request; a
    // change of contact alone keeps the notice the accepted request had.
    let contact_only = !broader
        && delta
            .iter()
            .all(|d| matches!(d.item, Item::ContactName | Item::ContactEmail));
    let notice_from = match (r.state, r.notice_from) {
        (State::Accepted, Some(t)) if contact_only => t,
        _ => arrival,
    };
    let f = decide::judge(&whole, &sender, rules, notice_from, zone);
    let was_accepted = r.state == State::Accepted;
    let previous = r.accepted.clone();
    apply(c, &f, &merged, zone);
    let action = settle(&mut r, &f, merged, zone, notice_from, was_accepted);
    let mut lines: Vec<String> = delta.iter().map(Change::line).collect();
    if broader {
        lines.push("kind of test: standard → broad (load test or test of the platform)".into());
    }
    r.push_event(c, action, arrival, &lines);
    Step {
        action,
        request: Some(r),
        changes: delta,
        previous: if was_accepted { previous } else { None },
        staff: None,
    }
}

/// What a request decided again becomes: `f` the findings on the `merged` record, measured
/// from `notice_from`; `was_accepted` when the security team holds an accepted version. The
/// merged record is taken unless the result is a refused change (`ChangeRejected`), which
/// leaves the request as it was.
pub(crate) fn settle(
    r: &mut RequestRecord,
    f: &Findings,
    merged: Request,
    zone: Zone,
    notice_from: DateTime<Utc>,
    was_accepted: bool,
) -> Action {
    let action = match (was_accepted, f.decision) {
        (_, Decision::Review) => {
            r.state = State::Review;
            Action::Review
        }
        (false, Decision::Accept) => {
            r.state = State::Accepted;
            r.accepted = Some(merged.clone());
            r.notice_from = Some(notice_from);
            Action::Completed
        }
        (false, _) => {
            r.state = if f.missing.is_empty() {
                State::Rejected
            } else {
                State::Incomplete
            };
            Action::Rejected
        }
        (true, Decision::Accept) => {
            r.state = State::Accepted;
            r.accepted = Some(merged.clone());
            r.sequence += 1;
            r.notice_from = Some(notice_from);
            Action::ChangeAccepted
        }
        (true, _) => Action::ChangeRejected,
    };
    if action != Action::ChangeRejected {
        r.record = merged;
        r.test_class = f.test_class;
        r.zone = zone.label();
    }
    if matches!(action, Action::Completed | Action::ChangeAccepted) {
        r.accepted_class = Some(f.test_class);
    }
    action
}

/// Sends `c` to review with `why` (for staff) as its first problem.
fn to_review(c: &mut Checked, code: ProblemCode, reason: &str, why: String) {
    let v = &mut c.verdict;
    v.decision = Decision::Review;
    v.reason = Some(reason.into());
    if !why.is_empty() {
        v.problems.insert(0, Problem::new(code, why));
    }
}

/// The merged findings as the message's verdict: decision, problems and missing items of
/// the whole request.
pub(crate) fn apply(c: &mut Checked, f: &Findings, merged: &Request, zone: Zone) {
    let v = &mut c.verdict;
    v.kind = Kind::TestNotification;
    v.decision = f.decision;
    v.test_class = Some(f.test_class);
    v.required_notice_days = Some(f.required_notice_days);
    v.notice_days = f.notice_days;
    v.missing = f.missing.clone();
    v.problems = f.problems.clone();
    v.warnings.extend(f.warnings.iter().cloned());
    v.reason = f.reason.clone();
    v.customer_zone = zone.label();
    let _ = merged;
    c.zone = zone;
}

/// A zone label as written by [`Zone::label`], read back.
pub fn parse_zone(label: &str) -> Option<Zone> {
    if let Ok(tz) = label.parse::<chrono_tz::Tz>() {
        return Some(Zone::Named(tz));
    }
    if label == "UTC" {
        return chrono::FixedOffset::east_opt(0).map(Zone::Fixed);
    }
    let rest = label.strip_prefix("UTC")?;
    let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = rest.get(1..)?.split_once(':')?;
    let secs = sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60);
    chrono::FixedOffset::east_opt(secs).map(Zone::Fixed)
}

impl Step {
    fn none(action: Action) -> Step {
        Step {
            action,
            request: None,
            changes: Vec::new(),
            previous: None,
            staff: None,
        }
    }
    fn of(action: Action, r: RequestRecord) -> Step {
        Step {
            action,
            request: Some(r),
            changes: Vec::new(),
            previous: None,
            staff: None,
        }
    }
}

impl RequestRecord {
    fn push_event(&mut self, c: &Checked, action: Action, at: DateTime<Utc>, changes: &[String]) {
        self.push(Event {
            at,
            message_id: c.verdict.message_id.clone(),
            from: c.verdict.from.clone(),
            action,
            decision: c.verdict.decision,
            state: self.state,
            changes: changes.to_vec(),
            problems: c
                .verdict
                .problems
                .iter()
                .take(20)
                .map(|p| p.message.chars().take(300).collect())
                .collect(),
        });
    }

    /// Records `event` as the newest step: the history stays bounded, and the revision moves
    /// on.
    pub fn push(&mut self, event: Event) {
        self.updated_at = event.at;
        self.revision += 1;
        self.history.push(event);
        if self.history.len() > MAX_HISTORY {
            let drop = self.history.len() - MAX_HISTORY;
            self.history.drain(1..=drop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sender: &str, contact: Option<&str>) -> RequestRecord {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        RequestRecord {
            reference: "INT-ABCDEFGHJK".into(),
            state: State::Accepted,
            sender: sender.into(),
            org: org_domain(&domain_of(sender).unwrap()).unwrap(),
            record: Request {
                contact: crate::model::Contact {
                    email: contact.map(str::to_string),
                    ..Default::default()
                },
                ..Request::default()
            },
            test_class: TestClass::Standard,
            zone: "Europe/Zurich".into(),
            accepted: None,
            sequence: 0,
            notice_from: None,
            message_ids: Vec::new(),
            steps: 1,
            created_at: t,
            updated_at: t,
            history: Vec::new(),
            revision: 0,
            accepted_class: None,
        }
    }

    #[test]
    fn who_speaks_for_a_request() {
        let r = record(
            "anna@shop.example-kunde.ch",
            Some("Pen.Tester+x@redteam-example.com"),
        );
        assert!(r.speaks_for("anna@shop.example-kunde.ch"));
        // A colleague in the same organization, on another host of it.
        assert!(r.speaks_for("Beat@example-kunde.ch"));
        // The named contact, with case and +tag differences.
        assert!(r.speaks_for("pen.tester@redteam-example.com"));
        // Anyone else, including look-alike domains.
        assert!(!r.speaks_for("anna@example-kunde.ch.evil-example.net"));
        assert!(!r.speaks_for("other@redteam-example.com"));
        assert!(!r.speaks_for("anna@example-kunde.com"));
        assert!(!r.speaks_for("not an address"));
        // At a shared mail provider only the first sender's own address (and the contact).
        let r = record("anna.kunde@gmail.com", Some("ops@example-kunde.ch"));
        assert!(r.speaks_for("Anna.Kunde@gmail.com"));
        assert!(r.speaks_for("ops@example-kunde.ch"));
        assert!(!r.speaks_for("mallory@gmail.com"));
        assert!(!r.speaks_for("someone@example-kunde.ch"));
    }

    #[test]
    fn references_are_found_in_subjects_only_as_whole_tokens() {
        assert_eq!(
            references_in_subject("Re: Pentest [INT-ABCDEFGH12] accepted"),
            vec!["INT-ABCDEFGH12".to_string()]
        );
        assert_eq!(
            references_in_subject("INT-ABCDEFGH12 and INT-ZZZZZZZZZ9"),
            vec!["INT-ABCDEFGH12".to_string(), "INT-ZZZZZZZZZ9".to_string()]
        );
        for s in [
            "XINT-ABCDEFGH12",
            "INT-ABCDEFGH123",
            "INT-abcdefgh12",
            "INT-ABC",
            "INT-",
            "ÄINT-ABCDEFGH12",
            "INT-ABCDEFGHÄÄ",
        ] {
            assert!(references_in_subject(s).is_empty(), "{s}");
        }
        // Bounded however many a subject holds.
        assert_eq!(
            references_in_subject(&"INT-ABCDEFGH12 ".repeat(1000)).len(),
            4
        );
    }

    #[test]
    fn zone_labels_read_back() {
        for z in [
            Zone::Named(chrono_tz::Europe::Zurich),
            Zone::Fixed(chrono::FixedOffset::east_opt(4 * 3600).unwrap()),
            Zone::Fixed(chrono::FixedOffset::east_opt(-(5 * 3600 + 1800)).unwrap()),
            Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()),
        ] {
            assert_eq!(parse_zone(&z.label()).map(|x| x.label()), Some(z.label()));
        }
        assert!(parse_zone("UTC+99:00").is_none());
        assert!(parse_zone("Mars/Olympus").is_none());
    }

    #[test]
    fn thread_ids_are_bounded_and_keep_the_root() {
        let mut r = record("anna@example-kunde.ch", None);
        let ids: Vec<String> = (0..MAX_THREAD_IDS + 50)
            .map(|i| format!("m{i}@x"))
            .collect();
        r.add_ids(ids.iter().map(String::as_str));
        // Already there, or empty: nothing added.
        r.add_ids([ids.last().unwrap().as_str(), ""]);
        assert_eq!(r.message_ids.len(), MAX_THREAD_IDS);
        assert_eq!(r.message_ids[0], "m0@x");
        assert_eq!(
            r.message_ids.last().map(String::as_str),
            Some(ids.last().unwrap().as_str())
        );
    }

    #[test]
    fn a_request_round_trips_through_json() {
        let r = record("anna@example-kunde.ch", Some("x@example-kunde.ch"));
        let json = serde_json::to_string(&r).unwrap();
        let back: RequestRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
