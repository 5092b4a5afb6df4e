//! The types a verdict is made of: what was asked for, what is wrong with it, and what we decide.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::Serialize;

/// One announced test window, always in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The six items a notification must carry, as far as they were found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Request {
    pub scope: Option<String>,
    pub contact: Contact,
    pub originating_ips: Vec<IpNet>,
    pub bandwidth_bps: Option<f64>,
    pub requests_per_second: Option<f64>,
    pub targets: Vec<String>,
    pub windows: Vec<Window>,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    TestNotification,
    AutoReply,
    Other,
}

/// What happens to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestClass {
    /// A pen test or security test of the customer's own application: two weeks.
    Standard,
    /// Load/stress/performance/DDoS-style tests and tests of the platform itself: four weeks.
    Broad,
}

/// A required item, named as in the `missing` array of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    MissingInformation,
    NoticeTooShort,
    WindowInvalid,
    IpNotPublic,
    AmbiguousDate,
    AmbiguousZone,
    SenderUnverified,
    TooLarge,
    Unreadable,
    ReplyLimit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
