//! Rules and decision: completeness, notice, window sanity, originating addresses, sender
//! verification and ambiguity, turned into one decision with every problem listed.

pub mod auth;

use chrono::{DateTime, Duration, Utc};

use crate::config::Rules;
use crate::extract::Extraction;
use crate::extract::net;
use crate::model::{Decision, Item, Problem, ProblemCode, Request, TestClass, Zone};

/// Bumped whenever a rule changes meaning; stored with every decision.
pub const RULES_VERSION: &str = "2026-11-26.1";

/// The rules' findings for one notification.
#[derive(Debug, Clone)]
pub struct Findings {
    pub decision: Decision,
    pub test_class: TestClass,
    pub required_notice_days: u32,
    pub notice_days: Option<f64>,
    pub missing: Vec<Item>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    pub reason: Option<String>,
}

/// Applies the rules to an extracted notification that arrived at `arrival`.
pub fn judge(
    ex: &Extraction,
    sender: auth::SenderCheck,
    rules: &Rules,
    arrival: DateTime<Utc>,
    zone: Zone,
) -> Findings {
    let r = &ex.request;
    let test_class = ex.mentions.class();
    let required = match test_class {
        TestClass::Standard => rules.standard_notice_days,
        TestClass::Broad => rules.broad_notice_days,
    };
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let missing = missing_items(r);
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|i| describe(*i)).collect();
        problems.push(Problem::new(
            ProblemCode::MissingInformation,
            format!("The notification does not say: {}.", list.join("; ")),
        ));
    }

    let earliest = r.windows.iter().map(|w| w.start).min();
    let notice_days = earliest.map(|s| (s - arrival).num_seconds() as f64 / 86_400.0);
    if let (Some(start), Some(days)) = (earliest, notice_days)
        && days < f64::from(required)
    {
        let qualifying = arrival + Duration::days(i64::from(required));
        let message = if days < 0.0 {
            format!(
                "The test window starts {} , before this message arrived. {} tests need {required} days notice: the earliest start we can accept is {}.",
                zone.format(start),
                class_word(test_class),
                zone.format(qualifying)
            )
        } else {
            format!(
                "The test starts {} , only {:.1} days after this message arrived; {} tests need at least {required} days notice. The earliest start we can accept is {}.",
                zone.format(start),
                days,
                class_word(test_class),
                zone.format(qualifying)
            )
        };
        problems.push(Problem::new(ProblemCode::NoticeTooShort, message));
    }

    for w in &r.windows {
        if w.end <= w.start {
            problems.push(Problem::new(
                ProblemCode::WindowInvalid,
                format!(
                    "The window from {} to {} ends before it starts.",
                    zone.format(w.start),
                    zone.format(w.end)
                ),
            ));
        } else if w.end - w.start > Duration::days(31) {
            warnings.push(format!(
                "The window from {} to {} is longer than a month.",
                zone.format(w.start),
                zone.format(w.end)
            ));
        }
    }
    if let Some(start) = earliest
        && start - arrival > Duration::days(366)
    {
        warnings.push(format!(
            "The test starts more than a year from now ({}).",
            zone.format(start)
        ));
    }

    for ip in &r.originating_ips {
        if let Some(why) = net::non_global_reason(ip) {
            problems.push(Problem::new(
                ProblemCode::IpNotPublic,
                format!(
                    "The originating address {ip} is not globally reachable ({why}); we need the public addresses the test traffic will come from."
                ),
            ));
        }
    }

    for d in &ex.ambiguous_dates {
        problems.push(Problem::new(
            ProblemCode::AmbiguousDate,
            format!("The date \"{d}\" could be read day-first or month-first."),
        ));
    }
    for z in &ex.ambiguous_zones {
        problems.push(Problem::new(
            ProblemCode::AmbiguousDate,
            format!("The time zone \"{z}\" has more than one meaning."),
        ));
    }
    if let auth::SenderCheck::Failed(why) = &sender {
        problems.push(Problem::new(
            ProblemCode::SenderUnverified,
            format!("The sender could not be verified: {why}."),
        ));
    }

    if r.contact.phone.is_none() {
        warnings.push("No phone number for the contact (asked for if possible).".into());
    }

    let review = problems
        .iter()
        .any(|p| matches!(p.code, ProblemCode::SenderUnverified | ProblemCode::AmbiguousDate));
    let (decision, reason) = if review {
        let why = if problems.iter().any(|p| p.code == ProblemCode::SenderUnverified) {
            "sender not verified"
        } else {
            "ambiguous date or zone"
        };
        (Decision::Review, Some(why.to_string()))
    } else if problems.is_empty() {
        (Decision::Accept, None)
    } else {
        (Decision::Reject, None)
    };

    Findings {
        decision,
        test_class,
        required_notice_days: required,
        notice_days,
        missing,
        problems,
        warnings,
        reason,
    }
}

/// Required items not found, in the contract's order.
pub fn missing_items(r: &Request) -> Vec<Item> {
    Item::ALL
        .into_iter()
        .filter(|item| match item {
            Item::Scope => r.scope.is_none(),
            Item::ContactName => r.contact.name.is_none(),
            Item::ContactEmail => r.contact.email.is_none(),
            Item::OriginatingIps => r.originating_ips.is_empty(),
            Item::Bandwidth => r.bandwidth_bps.is_none(),
            Item::RequestsPerSecond => r.requests_per_second.is_none(),
            Item::Targets => r.targets.is_empty(),
            Item::Window => r.windows.is_empty(),
        })
        .collect()
}

/// Plain words for a missing item, saying what to send.
pub fn describe(item: Item) -> &'static str {
    match item {
        Item::Scope => "the testing vectors and scope (what kind of test, which parts of the application)",
        Item::ContactName => "the name of a contact person who can stop the test",
        Item::ContactEmail => "the contact person's e-mail address",
        Item::OriginatingIps => "the originating IP addresses or ranges the test traffic comes from",
        Item::Bandwidth => "the expected bandwidth (for example 200 Mbit/s)",
        Item::RequestsPerSecond => "the expected request rate (for example 500 requests per second)",
        Item::Targets => "the target website(s) as host names (for example shop.example.com)",
        Item::Window => "the start and end date and time of the test, with time zone",
    }
}

fn class_word(c: TestClass) -> &'static str {
    match c {
        TestClass::Standard => "Penetration and security",
        TestClass::Broad => "Load tests and tests of the platform itself (broad)",
    }
}
