//! `intake replay`: a conversation's messages, in order, through the whole lifecycle on an
//! in-memory store, with each message's arrival taken from its own headers. What it prints
//! is what `intake watch` would decide and send; the same files always give the same
//! references and Message-IDs (the time of each step is its message's arrival).

use anyhow::Result;
use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

use crate::check::Arrival;
use crate::config::Config;
use crate::lifecycle;
use crate::model::{Request, Verdict};
use crate::render::Templates;
use crate::render::compose::Outgoing;
use crate::store::{Identity, Store};

/// One outgoing message as `replay --json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingView {
    pub role: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub ics_uid: Option<String>,
    pub ics_sequence: Option<u32>,
    pub ics_method: Option<String>,
}

/// One message's step: the `check` contract's keys, then the request's.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayStep {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub request_ref: Option<String>,
    pub request_state: Option<String>,
    pub request_record: Option<Request>,
    /// What the message did to its request (`conversation::Action`), for people.
    pub request_action: Option<String>,
    pub outgoing: Vec<OutgoingView>,
    /// The messages themselves (not in the JSON contract), for tests and people.
    #[serde(skip)]
    pub messages: Vec<Outgoing>,
}

/// Replays `messages` (a name for each, and its bytes) in order.
pub fn replay(
    config: &Config,
    templates: &Templates,
    messages: &[(String, Vec<u8>)],
) -> Result<Vec<ReplayStep>> {
    let mut store = Store::in_memory()?;
    let mut last: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;
    let mut out = Vec::with_capacity(messages.len());
    for (i, (name, raw)) in messages.iter().enumerate() {
        let identity = Identity {
            folder: "replay".into(),
            uidvalidity: 1,
            uid: i as u64 + 1,
            message_id: crate::read::read(raw).message_id,
            content_hash: crate::watch::content_hash(raw),
        };
        // The step's own arrival is its "now": replies are dated as if sent on arrival.
        let arrival = crate::check::check(
            raw,
            Arrival::FromHeaders { fallback: last },
            &config.rules,
            &config.addresses.from,
        )
        .verdict
        .received
        .unwrap_or(last);
        last = arrival;
        let d = lifecycle::decide(
            &mut store,
            config,
            templates,
            &identity,
            Some(raw),
            raw.len() as u64,
            Arrival::Known(arrival),
            None,
            arrival,
        )?;
        let Some(checked) = d.checked else {
            continue;
        };
        let mut verdict = checked.verdict;
        verdict.file = Some(name.clone());
        let request = d.step.as_ref().and_then(|s| s.request.as_ref());
        out.push(ReplayStep {
            verdict,
            request_ref: request.map(|r| r.reference.clone()),
            request_state: request.map(|r| r.state.as_str().to_string()),
            request_record: request.map(|r| r.record.clone()),
            request_action: d.step.as_ref().map(|s| s.action.as_str().to_string()),
            outgoing: d.outgoing.iter().map(view).collect(),
            messages: d.outgoing,
        });
    }
    Ok(out)
}

/// What `replay` shows of an outgoing message: read back from its bytes, as a recipient
/// would see it.
pub fn view(o: &Outgoing) -> OutgoingView {
    let parsed = MessageParser::default().parse(&o.raw);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_string();
    let mut ics = (None, None, None);
    if let Some(m) = &parsed {
        for part in m.parts.iter() {
            let is_calendar = part
                .content_type()
                .is_some_and(|ct| ct.ctype() == "text" && ct.subtype() == Some("calendar"));
            if !is_calendar {
                continue;
            }
            let text = String::from_utf8_lossy(part.contents()).to_string();
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("UID:") {
                    ics.0.get_or_insert_with(|| v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("SEQUENCE:") {
                    ics.1.get_or_insert_with(|| v.trim().parse().unwrap_or(0));
                } else if let Some(v) = line.strip_prefix("METHOD:") {
                    ics.2.get_or_insert_with(|| v.trim().to_string());
                }
            }
            if ics.0.is_some() {
                ics.1.get_or_insert(0);
            }
        }
    }
    OutgoingView {
        role: o.role.as_str().to_string(),
        to: o.to.clone(),
        subject,
        message_id: o.message_id.clone(),
        ics_uid: ics.0,
        ics_sequence: ics.1,
        ics_method: ics.2,
    }
}
