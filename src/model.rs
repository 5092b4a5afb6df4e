//! The types a verdict is made of: what was asked for, what is wrong with it, and what we decide.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One announced test window, always in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The zone a customer wrote their times in, kept so replies can repeat the window in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    /// A label for people: the IANA name, or `UTC+01:00`.
    pub fn label(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(off) => {
                let secs = off.local_minus_utc();
                if secs == 0 {
                    "UTC".to_string()
                } else {
                    let sign = if secs < 0 { '-' } else { '+' };
                    let secs = secs.abs();
                    format!("UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
                }
            }
        }
    }

    /// `2026-12-14 09:00 CET` style rendering of an instant in this zone.
    pub fn format(&self, t: DateTime<Utc>) -> String {
        match self {
            Zone::Named(tz) => t.with_timezone(tz).format("%Y-%m-%d %H:%M %Z").to_string(),
            Zone::Fixed(off) => t
                .with_timezone(off)
                .format("%Y-%m-%d %H:%M %:z")
                .to_string(),
        }
    }
}

/// The person who can stop the test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The six items a notification must carry, as far as they were found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub scope: Option<String>,
    pub contact: Contact,
    pub originating_ips: Vec<IpNet>,
    #[serde(serialize_with = "whole_if_integral")]
    pub bandwidth_bps: Option<f64>,
    #[serde(serialize_with = "whole_if_integral")]
    pub requests_per_second: Option<f64>,
    pub targets: Vec<String>,
    pub windows: Vec<Window>,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    TestNotification,
    AutoReply,
    Other,
}

/// What happens to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Reject,
    Review,
    Ignore,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Reject => "reject",
            Decision::Review => "review",
            Decision::Ignore => "ignore",
        }
    }
}

/// How much notice a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestClass {
    /// A pen test or security test of the customer's own application: two weeks.
    Standard,
    /// Load/stress/performance/DDoS-style tests and tests of the platform itself: four weeks.
    Broad,
}

/// The language of the messages intake writes (`language`, `staff_language` in the config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// `en`, `de`: the config value and the template folder's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The config value, case-insensitive; `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A required item, named as in the `missing` array of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    Scope,
    ContactName,
    ContactEmail,
    OriginatingIps,
    Bandwidth,
    RequestsPerSecond,
    Targets,
    Window,
}

impl Item {
    pub const ALL: [Item; 8] = [
        Item::Scope,
        Item::ContactName,
        Item::ContactEmail,
        Item::OriginatingIps,
        Item::Bandwidth,
        Item::RequestsPerSecond,
        Item::Targets,
        Item::Window,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Item::Scope => "scope",
            Item::ContactName => "contact_name",
            Item::ContactEmail => "contact_email",
            Item::OriginatingIps => "originating_ips",
            Item::Bandwidth => "bandwidth",
            Item::RequestsPerSecond => "requests_per_second",
            Item::Targets => "targets",
            Item::Window => "window",
        }
    }
}

/// Machine-readable problem codes; the `message` beside them is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    MissingInformation,
    NoticeTooShort,
    WindowInvalid,
    IpNotPublic,
    AmbiguousDate,
    SenderUnverified,
    TooLarge,
    Unreadable,
    ReplyLimit,
    /// A value beyond the plausibility limits of `[rules]` (huge source block, very long
    /// window, start far ahead, zero or enormous traffic).
    ImplausibleValue,
    /// A target not known to belong to the verified sender.
    TargetNotOwned,
    /// The text calls the test off or postpones it.
    Cancellation,
    /// The text/plain and text/html renderings say different things.
    AlternativesDisagree,
    /// Text hidden from some readers but shown by others (hidden HTML, Outlook's conditional
    /// comments, CSS `content`) says something else than the visible text.
    HiddenText,
    /// Reading the message took longer than the CPU budget.
    TooComplex,
    /// Sent by a machine (ticketing tool, bulk sender): never answered automatically.
    AutomatedSender,
    /// A message in a request's thread from someone who does not speak for the request
    /// (another organization, not its contact, or not verified).
    NotTheRequester,
    /// A message in the thread of a request that staff handle (in review or cancelled).
    RequestWithStaff,
    /// A follow-up takes items out of a list (originating IPs, targets), or says so
    /// ambiguously: a person confirms what remains.
    ListEdit,
    /// A message names several requests (its thread, or references in its subject).
    SeveralRequests,
    /// A follow-up that changes no item and is no plain thank-you: a person reads it.
    UnclearFollowUp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
}

impl Problem {
    pub fn new(code: ProblemCode, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
        }
    }
}

/// The outcome of checking one message: the `intake check --json` contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// The path as given on the command line; set by the caller.
    pub file: Option<String>,
    pub message_id: Option<String>,
    pub from: Option<String>,
    /// Arrival time the notice is measured from.
    pub received: Option<DateTime<Utc>>,
    pub kind: Kind,
    pub decision: Decision,
    pub test_class: Option<TestClass>,
    pub required_notice_days: Option<u32>,
    #[serde(serialize_with = "round_days")]
    pub notice_days: Option<f64>,
    pub missing: Vec<Item>,
    pub problems: Vec<Problem>,
    pub request: Request,
    /// Our reference for this request, stable per Message-ID.
    pub reference: String,
    pub subject: String,
    /// Things a person may want to know that do not change the decision.
    pub warnings: Vec<String>,
    /// The zone the customer wrote times in, or the configured one.
    pub customer_zone: String,
    /// Why a message was ignored or sent to review, in a few words.
    pub reason: Option<String>,
    /// Version of the rules that decided, recorded with every verdict.
    pub rules_version: String,
    /// The one From domain is authenticated by the trusted `Authentication-Results` (or
    /// verification is off). Only then may the sender get a reply or an acceptance.
    pub sender_verified: bool,
}

impl Verdict {
    pub fn has(&self, code: ProblemCode) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }
}

fn round_days<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_f64((d * 1000.0).round() / 1000.0),
        None => s.serialize_none(),
    }
}

/// `500` rather than `500.0` when a rate is a whole number; fractions stay (`8.333`).
fn whole_if_integral<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => s.serialize_i64(*x as i64),
        Some(x) => s.serialize_f64((x * 1000.0).round() / 1000.0),
        None => s.serialize_none(),
    }
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The customer's acceptance or rejection.
    Reply,
    /// The approved window for the security team.
    Security,
    /// The parsed summary for support staff.
    Staff,
}

impl Role {
    /// The role as stored, read back (`None` for anything else).
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Reply, Role::Security, Role::Staff]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reply => "reply",
            Role::Security => "security",
            Role::Staff => "staff",
        }
    }
}

/// One message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub role: Role,
    pub from: String,
    pub to: String,
    /// Without `<>`; stable per request and role, so a resend carries the same one.
    pub message_id: String,
    pub raw: Vec<u8>,
}
