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
                "The test window starts {}, before this message arrived. {} need {required} days notice: the earliest start we can accept is {}.",
                zone.format(start),
                class_word(test_class),
                zone.format(qualifying)
            )
        } else {
            format!(
                "The test starts {}, only {:.1} days after this message arrived; {} need at least {required} days notice. The earliest start we can accept is {}.",
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

    let review = problems.iter().any(|p| {
        matches!(
            p.code,
            ProblemCode::SenderUnverified | ProblemCode::AmbiguousDate
        )
    });
    let (decision, reason) = if review {
        let why = if problems
            .iter()
            .any(|p| p.code == ProblemCode::SenderUnverified)
        {
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
        Item::Scope => {
            "the testing vectors and scope (what kind of test, which parts of the application)"
        }
        Item::ContactName => "the name of a contact person who can stop the test",
        Item::ContactEmail => "the contact person's e-mail address",
        Item::OriginatingIps => {
            "the originating IP addresses or ranges the test traffic comes from"
        }
        Item::Bandwidth => "the expected bandwidth (for example 200 Mbit/s)",
        Item::RequestsPerSecond => {
            "the expected request rate (for example 500 requests per second)"
        }
        Item::Targets => "the target website(s) as host names (for example shop.example.com)",
        Item::Window => "the start and end date and time of the test, with time zone",
    }
}

fn class_word(c: TestClass) -> &'static str {
    match c {
        TestClass::Standard => "penetration and security tests",
        TestClass::Broad => "load tests and security tests of the platform itself",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::extract::classify::TestMentions;
    use crate::model::{Contact, Window};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn complete(start: DateTime<Utc>) -> Extraction {
        Extraction {
            request: Request {
                scope: Some("OWASP top 10 on the shop".into()),
                contact: Contact {
                    name: Some("Jane Doe".into()),
                    email: Some("jane@example.ch".into()),
                    phone: Some("+41 79 555 12 34".into()),
                },
                originating_ips: vec!["185.199.110.17/32".parse().unwrap()],
                bandwidth_bps: Some(1e8),
                requests_per_second: Some(500.0),
                targets: vec!["shop.example.ch".into()],
                windows: vec![Window {
                    start,
                    end: start + Duration::hours(8),
                }],
            },
            mentions: TestMentions {
                security: true,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn judge_at(ex: &Extraction, arrival: DateTime<Utc>) -> Findings {
        judge(
            ex,
            auth::SenderCheck::Verified,
            &Rules::default(),
            arrival,
            Zone::Named(chrono_tz::Europe::Zurich),
        )
    }

    #[test]
    fn complete_with_enough_notice_is_accepted() {
        let f = judge_at(&complete(at(2026, 12, 14, 8)), at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Accept, "{:?}", f.problems);
        assert_eq!(f.notice_days, Some(18.0));
        assert_eq!(f.required_notice_days, 14);
    }

    #[test]
    fn exactly_the_required_notice_is_enough_and_a_second_less_is_not() {
        let arrival = at(2026, 11, 26, 8);
        let f = judge_at(&complete(arrival + Duration::days(14)), arrival);
        assert_eq!(f.decision, Decision::Accept);
        let f = judge_at(
            &complete(arrival + Duration::days(14) - Duration::seconds(1)),
            arrival,
        );
        assert_eq!(f.decision, Decision::Reject);
        assert!(
            f.problems
                .iter()
                .any(|p| p.code == ProblemCode::NoticeTooShort)
        );
    }

    #[test]
    fn broad_tests_need_28_days_and_the_message_names_the_earliest_start() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.mentions.load = true;
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.test_class, TestClass::Broad);
        assert_eq!(f.required_notice_days, 28);
        assert_eq!(f.decision, Decision::Reject);
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::NoticeTooShort)
            .unwrap();
        assert!(p.message.contains("2026-12-24 09:00 CET"), "{}", p.message);
    }

    #[test]
    fn window_before_arrival_is_too_short() {
        let f = judge_at(&complete(at(2026, 11, 20, 8)), at(2026, 11, 26, 8));
        assert!(f.notice_days.unwrap() < 0.0);
        assert!(
            f.problems
                .iter()
                .any(|p| p.code == ProblemCode::NoticeTooShort)
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let mut ex = complete(at(2026, 11, 28, 8));
        ex.request.bandwidth_bps = None;
        ex.request.targets.clear();
        ex.request.windows.push(Window {
            start: at(2026, 12, 30, 8),
            end: at(2026, 12, 30, 7),
        });
        ex.request
            .originating_ips
            .push("10.0.0.0/8".parse().unwrap());
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Reject);
        assert_eq!(f.missing, vec![Item::Bandwidth, Item::Targets]);
        let codes: Vec<ProblemCode> = f.problems.iter().map(|p| p.code).collect();
        for c in [
            ProblemCode::MissingInformation,
            ProblemCode::NoticeTooShort,
            ProblemCode::WindowInvalid,
        ] {
            assert!(codes.contains(&c), "{c:?} in {codes:?}");
        }
    }

    #[test]
    fn unverified_sender_and_ambiguity_go_to_review_with_other_problems_listed() {
        let mut ex = complete(at(2026, 11, 28, 8));
        let f = judge(
            &ex,
            auth::SenderCheck::Failed("DMARC failed".into()),
            &Rules::default(),
            at(2026, 11, 26, 8),
            Zone::Named(chrono_tz::Europe::Zurich),
        );
        assert_eq!(f.decision, Decision::Review);
        assert!(
            f.problems
                .iter()
                .any(|p| p.code == ProblemCode::NoticeTooShort)
        );
        ex.ambiguous_dates.push("03/04/2027".into());
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Review);
    }

    #[test]
    fn unknown_sender_check_is_not_a_problem() {
        let ex = complete(at(2026, 12, 14, 8));
        let f = judge(
            &ex,
            auth::SenderCheck::Unknown,
            &Rules::default(),
            at(2026, 11, 26, 8),
            Zone::Named(chrono_tz::Europe::Zurich),
        );
        assert_eq!(f.decision, Decision::Accept);
    }

    #[test]
    fn missing_phone_is_only_a_warning() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.contact.phone = None;
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Accept);
        assert!(f.warnings.iter().any(|w| w.contains("phone")));
    }
}
