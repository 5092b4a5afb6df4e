//! Rules and decision: completeness, notice, window sanity, originating addresses, sender
//! verification, plausibility, ownership of targets and doubts, turned into one decision
//! with every problem listed. Review (a person must look) outranks reject.

pub mod auth;
pub mod rules;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{is_shared_mail_provider, is_under, org_domain};
use crate::extract::Extraction;
use crate::extract::net;
use crate::model::{Decision, Item, Problem, ProblemCode, Request, TestClass, Zone};
pub use rules::{Customer, Rules, SenderVerification};

/// Bumped whenever a rule changes meaning; stored with every decision.
pub const RULES_VERSION: &str = "2026-12-04.3";

/// Targets named at most in one `target_not_owned` problem.
const MAX_TARGETS_LISTED: usize = 10;

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

/// Applies the rules to an extracted notification from `sender` that arrived at `arrival`.
pub fn judge(
    ex: &Extraction,
    sender: &auth::Sender,
    rules: &Rules,
    arrival: DateTime<Utc>,
    zone: Zone,
) -> Findings {
    let r = &ex.request;
    let mut test_class = ex.mentions.class();
    let mut warnings = Vec::new();
    let rps = r.requests_per_second.unwrap_or(0.0);
    let bps = r.bandwidth_bps.unwrap_or(0.0);
    if test_class == TestClass::Standard
        && (rps > rules.load_test_above_requests_per_second || bps > rules.load_test_above_bps)
    {
        // Traffic at load-test scale is a load test whatever it is called.
        test_class = TestClass::Broad;
        warnings.push(format!(
            "Traffic at load-test scale ({} requests/s, {} bit/s; load tests start above {} requests/s or {} bit/s): the longer notice applies.",
            rps, bps, rules.load_test_above_requests_per_second, rules.load_test_above_bps
        ));
    }
    let required = match test_class {
        TestClass::Standard => rules.standard_notice_days,
        TestClass::Broad => rules.broad_notice_days,
    };
    let mut problems = Vec::new();
    // Review causes in the order they are found; the first names the reason.
    let mut review: Vec<&'static str> = Vec::new();

    if let auth::SenderCheck::Unverified(why) = &sender.check {
        problems.push(Problem::new(
            ProblemCode::SenderUnverified,
            format!("The sender could not be verified: {why}."),
        ));
        review.push("sender not verified");
    }

    for d in &ex.doubts {
        problems.push(d.clone());
        review.push(review_reason(d.code));
    }

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
        }
    }
    for w in &ex.invalid_windows {
        problems.push(Problem::new(ProblemCode::WindowInvalid, w.clone()));
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
        review.push("ambiguous date or zone");
    }
    for z in &ex.ambiguous_zones {
        problems.push(Problem::new(
            ProblemCode::AmbiguousDate,
            format!("The time zone \"{z}\" has more than one meaning."),
        ));
        review.push("ambiguous date or zone");
    }

    let implausible = implausible_values(r, rules, arrival, zone);
    if !implausible.is_empty() {
        review.push("implausible value");
    }
    problems.extend(implausible);

    if let Some(p) = unowned_targets(&r.targets, sender.domain.as_deref(), rules) {
        problems.push(p);
        review.push("target not known to belong to the sender");
    }

    if r.contact.phone.is_none() {
        warnings.push("No phone number for the contact (asked for if possible).".into());
    }

    let (decision, reason) = if let Some(why) = review.first() {
        (Decision::Review, Some((*why).to_string()))
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

/// A few words for staff on why a doubt sends the message to review.
pub fn review_reason(code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::Cancellation => "cancelled or postponed",
        ProblemCode::AlternativesDisagree => "plain and HTML text disagree",
        ProblemCode::HiddenText => "hidden text says something else",
        ProblemCode::AmbiguousDate => "ambiguous date or zone",
        ProblemCode::WindowInvalid => "unclear window",
        ProblemCode::ImplausibleValue => "implausible value",
        ProblemCode::TargetNotOwned => "target not known to belong to the sender",
        ProblemCode::SenderUnverified => "sender not verified",
        ProblemCode::TooComplex => "too complex to read safely",
        ProblemCode::AutomatedSender => "sent by a machine",
        ProblemCode::NotTheRequester => "reply in the thread from someone else",
        ProblemCode::RequestWithStaff => "the request is with staff",
        ProblemCode::ListEdit => "items taken out of a list",
        ProblemCode::SeveralRequests => "names several requests",
        ProblemCode::UnclearFollowUp => "a follow-up intake cannot act on",
        ProblemCode::Unreadable | ProblemCode::TooLarge => "unreadable",
        ProblemCode::MissingInformation
        | ProblemCode::NoticeTooShort
        | ProblemCode::IpNotPublic
        | ProblemCode::ReplyLimit => "doubtful content",
    }
}

/// Values beyond the plausibility limits of `[rules]`: each an `implausible_value` problem
/// saying which limit, so staff see why. At a limit is plausible; beyond it is not.
pub fn implausible_values(
    r: &Request,
    rules: &Rules,
    arrival: DateTime<Utc>,
    zone: Zone,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for ip in &r.originating_ips {
        let (limit, family) = match ip {
            ipnet::IpNet::V4(_) => (rules.max_source_prefix_v4, "IPv4"),
            ipnet::IpNet::V6(_) => (rules.max_source_prefix_v6, "IPv6"),
        };
        if ip.prefix_len() < limit {
            out.push(Problem::new(ProblemCode::ImplausibleValue, format!(
                "The originating block {ip} is larger than the largest plausible {family} source block (/{limit}): nobody tests from that many addresses; ask for the addresses actually used."
            )));
        }
    }
    // A range is written as the fewest covering blocks, which may all be small: the
    // addresses together must not exceed one largest plausible block either.
    if out.is_empty() {
        let (mut v4, mut v6) = (0u128, 0u128);
        for ip in &r.originating_ips {
            let size = |bits: u8, len: u8| 1u128.checked_shl(u32::from(bits.saturating_sub(len)));
            match ip {
                ipnet::IpNet::V4(n) => {
                    v4 = v4.saturating_add(size(32, n.prefix_len()).unwrap_or(u128::MAX))
                }
                ipnet::IpNet::V6(n) => {
                    v6 = v6.saturating_add(size(128, n.prefix_len()).unwrap_or(u128::MAX))
                }
            }
        }
        for (total, bits, limit, family) in [
            (v4, 32u8, rules.max_source_prefix_v4, "IPv4"),
            (v6, 128u8, rules.max_source_prefix_v6, "IPv6"),
        ] {
            let cap = 1u128
                .checked_shl(u32::from(bits - limit.min(bits)))
                .unwrap_or(u128::MAX);
            if total > cap {
                out.push(Problem::new(
                    ProblemCode::ImplausibleValue,
                    format!(
                        "The originating {family} addresses together cover {total} addresses, more than the largest plausible source block (/{limit}): ask for the addresses actually used."
                    ),
                ));
            }
        }
    }
    let mut push = |m: String| out.push(Problem::new(ProblemCode::ImplausibleValue, m));
    let max_window = Duration::days(i64::from(rules.max_window_days));
    for w in &r.windows {
        if w.end - w.start > max_window {
            push(format!(
                "The window from {} to {} is longer than {} days: announce each test period separately.",
                zone.format(w.start),
                zone.format(w.end),
                rules.max_window_days
            ));
        }
    }
    if let Some(start) = r.windows.iter().map(|w| w.start).min()
        && start - arrival > Duration::days(i64::from(rules.max_start_days_ahead))
    {
        push(format!(
            "The test starts {}, more than {} days after this message arrived: probably a wrong year.",
            zone.format(start),
            rules.max_start_days_ahead
        ));
    }
    let zero = |x: Option<f64>| x.is_some_and(|v| v <= 0.0);
    if zero(r.bandwidth_bps) || zero(r.requests_per_second) {
        push("The announced traffic is zero: a test without traffic needs no announcement, so the figures are probably wrong.".into());
    }
    if let Some(b) = r.bandwidth_bps
        && b > rules.max_bandwidth_bps
    {
        push(format!(
            "The bandwidth of {} is above the plausible ceiling of {}.",
            bits_per_second(b),
            bits_per_second(rules.max_bandwidth_bps)
        ));
    }
    if let Some(q) = r.requests_per_second
        && q > rules.max_requests_per_second
    {
        push(format!(
            "The request rate of {q} per second is above the plausible ceiling of {} per second.",
            rules.max_requests_per_second
        ));
    }
    out
}

/// `10 Gbit/s`, `200 Mbit/s`: a bandwidth for people.
fn bits_per_second(b: f64) -> String {
    let (v, unit) = if b >= 1e9 {
        (b / 1e9, "Gbit/s")
    } else if b >= 1e6 {
        (b / 1e6, "Mbit/s")
    } else {
        (b, "bit/s")
    };
    let v = (v * 1000.0).round() / 1000.0;
    format!("{v} {unit}")
}

/// The `target_not_owned` problem for targets that are not under the sender's
/// organizational domain, not platform hosts and not registered for the sender; `None` when
/// every target is owned.
pub fn unowned_targets(targets: &[String], sender: Option<&str>, rules: &Rules) -> Option<Problem> {
    let unowned: Vec<&String> = targets
        .iter()
        .filter(|t| !owned(t, sender, rules))
        .collect();
    if unowned.is_empty() {
        return None;
    }
    let mut list: Vec<&str> = unowned
        .iter()
        .take(MAX_TARGETS_LISTED)
        .map(|t| t.as_str())
        .collect();
    let more = unowned.len().saturating_sub(MAX_TARGETS_LISTED);
    let more_text = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    list.sort_unstable();
    let who = sender.unwrap_or("no single sender");
    Some(Problem::new(
        ProblemCode::TargetNotOwned,
        format!(
            "Target not known to belong to the sender ({who}): {}{more_text}. It is not under the sender's domain, not one of the platform's own hosts, and not listed for the sender in the customer registry; confirm the sender may announce tests of it.",
            list.join(", ")
        ),
    ))
}

/// `target` belongs to `sender`'s organization, to the platform, or to the sender in the
/// customer registry. A wildcard `*.shop.example.ch` is owned like `shop.example.ch`.
///
/// The platform's own hosts (a platform domain itself and its service hosts,
/// [`is_platform_service_host`]) may be announced by any sender. A customer's route deeper
/// under a platform domain (`victimshop.amazeeio.cloud`, `nginx-shop-prod.ch4.amazee.io`),
/// or a wildcard over one, is that customer's, so only the registry gives it to a sender
/// (red-team 003/004). A wildcard over a platform domain covers every customer on it, and
/// one over a public suffix covers everybody: neither is ever owned (005, 012). The organizational domain of
/// a shared mail provider (gmail.com, …) owns nothing for its users (080).
pub fn owned(target: &str, sender: Option<&str>, rules: &Rules) -> bool {
    let t = target.trim().trim_end_matches('.');
    let (wildcard, host) = match t.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if host.is_empty() || host.contains('*') {
        return false;
    }
    let platform_itself = rules
        .platform_domains
        .iter()
        .any(|p| host.eq_ignore_ascii_case(p.trim_end_matches('.')));
    if wildcard && (platform_itself || is_public_suffix(host)) {
        return false;
    }
    if !wildcard && is_platform_service_host(host, &rules.platform_domains) {
        return true;
    }
    let Some(sender) = sender else {
        return false;
    };
    // The sender's organization; a domain outside the Public Suffix List owns only itself.
    let org = org_domain(sender).unwrap_or_else(|| sender.to_ascii_lowercase());
    if !is_shared_mail_provider(&org) && !under_platform_only(&org, rules) && is_under(host, &org) {
        return true;
    }
    rules
        .customers
        .iter()
        .any(|c| customer_owns(c, sender, host))
}

/// `name` is a public suffix (`ch`, `co.uk`, `github.io`): it has no organizational domain.
fn is_public_suffix(name: &str) -> bool {
    org_domain(name).is_none()
}

/// `org` is a platform domain or under one: a sender there (a platform address) owns the
/// platform's service hosts like everybody, but not every customer route under it.
fn under_platform_only(org: &str, rules: &Rules) -> bool {
    rules.platform_domains.iter().any(|p| is_under(org, p))
}

// Service hosts of the platform itself, one label under a platform domain: the list
// `extract` classifies as a platform test; deeper names are routes.
use crate::extract::PLATFORM_SERVICES;

/// `host` is a platform domain itself or one of its service hosts (`dashboard.amazeeio.cloud`).
pub fn is_platform_service_host(host: &str, platform_domains: &[String]) -> bool {
    let host = host.trim().trim_end_matches('.');
    platform_domains.iter().any(|d| {
        if host.eq_ignore_ascii_case(d) {
            return true;
        }
        if !is_under(host, d) {
            return false;
        }
        let sub = host.get(..host.len() - d.len() - 1).unwrap_or("");
        !sub.contains('.')
            && PLATFORM_SERVICES
                .iter()
                .any(|s| s.eq_ignore_ascii_case(sub))
    })
}

/// `customer` lists `sender` (or a parent domain of it) and `host` (or a parent of it).
fn customer_owns(customer: &Customer, sender: &str, host: &str) -> bool {
    customer.sender_domains.iter().any(|s| is_under(sender, s))
        && customer.target_domains.iter().any(|t| is_under(host, t))
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

/// [`describe`] in `lang`: German replies list what is missing in German.
pub fn describe_in(item: Item, lang: crate::model::Lang) -> &'static str {
    match lang {
        crate::model::Lang::En => describe(item),
        crate::model::Lang::De => describe_de(item),
    }
}

/// The German names of the items, as a German reply lists them.
pub fn describe_de(item: Item) -> &'static str {
    match item {
        Item::Scope => "Testvektoren und Umfang (welche Art von Test, welche Teile der Anwendung)",
        Item::ContactName => "Name einer Ansprechperson, die den Test stoppen kann",
        Item::ContactEmail => "E-Mail-Adresse der Ansprechperson",
        Item::OriginatingIps => "Quell-IP-Adressen oder -Bereiche, von denen der Testverkehr kommt",
        Item::Bandwidth => "erwartete Bandbreite (zum Beispiel 200 Mbit/s)",
        Item::RequestsPerSecond => {
            "erwartete Anfragen pro Sekunde (zum Beispiel 500 Anfragen pro Sekunde)"
        }
        Item::Targets => "Zielwebsite(s) als Hostnamen (zum Beispiel shop.example.com)",
        Item::Window => "Start- und Endzeit des Tests (Datum und Uhrzeit) mit Zeitzone",
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

    fn zurich() -> Zone {
        Zone::Named(chrono_tz::Europe::Zurich)
    }

    fn complete(start: DateTime<Utc>) -> Extraction {
        Extraction {
            is_notification: true,
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

    fn jane() -> auth::Sender {
        auth::Sender::verified_for("example.ch")
    }

    fn judge_with(ex: &Extraction, rules: &Rules, arrival: DateTime<Utc>) -> Findings {
        judge(ex, &jane(), rules, arrival, zurich())
    }

    fn judge_at(ex: &Extraction, arrival: DateTime<Utc>) -> Findings {
        judge_with(ex, &Rules::default(), arrival)
    }

    fn codes(f: &Findings) -> Vec<ProblemCode> {
        f.problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn complete_with_enough_notice_is_accepted() {
        let f = judge_at(&complete(at(2026, 12, 14, 8)), at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Accept, "{:?}", f.problems);
        assert_eq!(f.notice_days, Some(18.0));
        assert_eq!(f.required_notice_days, 14);
        assert_eq!(f.reason, None);
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
        assert!(codes(&f).contains(&ProblemCode::NoticeTooShort));
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
        assert!(codes(&f).contains(&ProblemCode::NoticeTooShort));
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
        // 10.0.0.0/8 is also larger than a /16: review outranks the rejections.
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(f.missing, vec![Item::Bandwidth, Item::Targets]);
        for c in [
            ProblemCode::MissingInformation,
            ProblemCode::NoticeTooShort,
            ProblemCode::WindowInvalid,
            ProblemCode::IpNotPublic,
            ProblemCode::ImplausibleValue,
        ] {
            assert!(codes(&f).contains(&c), "{c:?} in {:?}", codes(&f));
        }
    }

    /// One test per item, so a rule that never reports one of them is caught.
    macro_rules! missing_alone {
        ($($name:ident: $item:expr, $clear:expr;)*) => {$(
            #[test]
            fn $name() {
                let mut ex = complete(at(2026, 12, 14, 8));
                let clear: fn(&mut Request) = $clear;
                clear(&mut ex.request);
                let f = judge_at(&ex, at(2026, 11, 26, 8));
                assert_eq!(f.missing, vec![$item]);
                assert_eq!(f.decision, Decision::Reject);
                let p = f
                    .problems
                    .iter()
                    .find(|p| p.code == ProblemCode::MissingInformation)
                    .expect("missing_information");
                assert!(p.message.contains(describe($item)), "{}", p.message);
            }
        )*};
    }

    missing_alone! {
        missing_scope_alone_is_reported: Item::Scope, |r| r.scope = None;
        missing_contact_name_alone_is_reported: Item::ContactName, |r| r.contact.name = None;
        missing_contact_email_alone_is_reported: Item::ContactEmail, |r| r.contact.email = None;
        missing_originating_ips_alone_is_reported: Item::OriginatingIps, |r| r.originating_ips.clear();
        missing_bandwidth_alone_is_reported: Item::Bandwidth, |r| r.bandwidth_bps = None;
        missing_requests_per_second_alone_is_reported: Item::RequestsPerSecond, |r| r.requests_per_second = None;
        missing_targets_alone_is_reported: Item::Targets, |r| r.targets.clear();
        missing_window_alone_is_reported: Item::Window, |r| r.windows.clear();
    }

    #[test]
    fn unverified_sender_goes_to_review_with_other_problems_listed() {
        let ex = complete(at(2026, 11, 28, 8));
        let sender = auth::Sender {
            domain: Some("example.ch".into()),
            check: auth::SenderCheck::Unverified("DMARC fail for example.ch".into()),
        };
        let f = judge(
            &ex,
            &sender,
            &Rules::default(),
            at(2026, 11, 26, 8),
            zurich(),
        );
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(f.reason.as_deref(), Some("sender not verified"));
        assert!(codes(&f).contains(&ProblemCode::NoticeTooShort));
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::SenderUnverified)
            .unwrap();
        assert!(p.message.contains("DMARC fail"), "{}", p.message);
    }

    #[test]
    fn a_complete_notification_from_an_unverified_sender_is_never_accepted() {
        let ex = complete(at(2026, 12, 14, 8));
        let sender = auth::Sender {
            domain: Some("example.ch".into()),
            check: auth::SenderCheck::Unverified("no Authentication-Results".into()),
        };
        let f = judge(
            &ex,
            &sender,
            &Rules::default(),
            at(2026, 11, 26, 8),
            zurich(),
        );
        assert_eq!(f.decision, Decision::Review);
    }

    #[test]
    fn ambiguity_goes_to_review() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.ambiguous_dates.push("03/04/2027".into());
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(f.reason.as_deref(), Some("ambiguous date or zone"));
    }

    #[test]
    fn every_doubt_is_listed_and_goes_to_review() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.doubts.push(Problem::new(
            ProblemCode::Cancellation,
            "The text says the test is cancelled.",
        ));
        ex.doubts.push(Problem::new(
            ProblemCode::AmbiguousDate,
            "The zone \"YEKT\" is not known.",
        ));
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(f.reason.as_deref(), Some("cancelled or postponed"));
        assert!(codes(&f).contains(&ProblemCode::Cancellation));
        assert!(codes(&f).contains(&ProblemCode::AmbiguousDate));
    }

    #[test]
    fn review_outranks_reject_and_the_rejections_stay_listed() {
        let mut ex = complete(at(2026, 11, 28, 8));
        ex.request.contact.email = None;
        ex.doubts.push(Problem::new(
            ProblemCode::AlternativesDisagree,
            "plain and HTML differ",
        ));
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(f.reason.as_deref(), Some("plain and HTML text disagree"));
        assert!(codes(&f).contains(&ProblemCode::MissingInformation));
        assert!(codes(&f).contains(&ProblemCode::NoticeTooShort));
    }

    #[test]
    fn invalid_windows_are_window_invalid_and_reject() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.invalid_windows
            .push("31 April 2027 does not exist.".into());
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Reject);
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::WindowInvalid)
            .unwrap();
        assert!(p.message.contains("31 April"), "{}", p.message);
    }

    #[test]
    fn missing_phone_is_only_a_warning() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.contact.phone = None;
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Accept);
        assert!(f.warnings.iter().any(|w| w.contains("phone")));
    }

    // --- Plausibility: at each limit is fine, just beyond it is review ---

    fn implausible(f: &Findings) -> Vec<&str> {
        f.problems
            .iter()
            .filter(|p| p.code == ProblemCode::ImplausibleValue)
            .map(|p| p.message.as_str())
            .collect()
    }

    fn assert_plausible(f: &Findings) {
        assert_eq!(f.decision, Decision::Accept, "{:?}", f.problems);
    }

    fn assert_implausible(f: &Findings, says: &str) {
        assert_eq!(f.decision, Decision::Review, "{:?}", f.problems);
        assert_eq!(f.reason.as_deref(), Some("implausible value"));
        let m = implausible(f);
        assert!(m.iter().any(|m| m.contains(says)), "{says} in {m:?}");
    }

    #[test]
    fn ipv4_source_block_limit_is_a_slash_16() {
        let arrival = at(2026, 11, 26, 8);
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.originating_ips = vec!["85.195.0.0/16".parse().unwrap()];
        assert_plausible(&judge_at(&ex, arrival));
        ex.request.originating_ips = vec!["85.194.0.0/15".parse().unwrap()];
        assert_implausible(&judge_at(&ex, arrival), "85.194.0.0/15");
    }

    #[test]
    fn ipv6_source_block_limit_is_a_slash_32() {
        let arrival = at(2026, 11, 26, 8);
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.originating_ips = vec!["2a02:1210::/32".parse().unwrap()];
        assert_plausible(&judge_at(&ex, arrival));
        ex.request.originating_ips = vec!["2a02:1210::/31".parse().unwrap()];
        assert_implausible(&judge_at(&ex, arrival), "/32");
    }

    #[test]
    fn a_huge_range_split_into_small_blocks_is_still_implausible() {
        // 1.0.0.1 - 1.1.255.254 as covering blocks: none larger than a /17, together a /15.
        let arrival = at(2026, 11, 26, 8);
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.originating_ips = [
            "85.0.0.0/17",
            "85.0.128.0/17",
            "85.1.0.0/17",
            "85.1.128.0/17",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        assert_implausible(&judge_at(&ex, arrival), "together cover 131072 addresses");
        // Exactly one /16 worth in two halves is fine.
        ex.request.originating_ips.truncate(2);
        assert_plausible(&judge_at(&ex, arrival));
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.originating_ips = vec![
            "2a02:1210::/33".parse().unwrap(),
            "2a02:1211::/33".parse().unwrap(),
            "2a02:1212::/33".parse().unwrap(),
        ];
        assert_implausible(&judge_at(&ex, arrival), "IPv6 addresses together");
    }

    #[test]
    fn a_window_may_last_31_days_and_not_a_second_more() {
        let arrival = at(2026, 11, 26, 8);
        let start = at(2026, 12, 14, 8);
        let mut ex = complete(start);
        ex.request.windows[0].end = start + Duration::days(31);
        assert_plausible(&judge_at(&ex, arrival));
        ex.request.windows[0].end = start + Duration::days(31) + Duration::seconds(1);
        assert_implausible(&judge_at(&ex, arrival), "longer than 31 days");
    }

    #[test]
    fn a_start_may_lie_365_days_ahead_and_not_a_second_more() {
        let arrival = at(2026, 11, 26, 8);
        let ex = complete(arrival + Duration::days(365));
        assert_plausible(&judge_at(&ex, arrival));
        let ex = complete(arrival + Duration::days(365) + Duration::seconds(1));
        assert_implausible(&judge_at(&ex, arrival), "more than 365 days");
    }

    #[test]
    fn zero_traffic_is_implausible() {
        let arrival = at(2026, 11, 26, 8);
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.bandwidth_bps = Some(0.0);
        assert_implausible(&judge_at(&ex, arrival), "zero");
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.requests_per_second = Some(0.0);
        assert_implausible(&judge_at(&ex, arrival), "zero");
        // The smallest real figures are fine.
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.bandwidth_bps = Some(1.0);
        ex.request.requests_per_second = Some(0.1);
        assert_plausible(&judge_at(&ex, arrival));
    }

    #[test]
    fn bandwidth_ceiling_is_10_gbit() {
        let arrival = at(2026, 11, 26, 8);
        // Traffic this large is a load test: four weeks of notice.
        let mut ex = complete(at(2027, 1, 14, 8));
        ex.request.bandwidth_bps = Some(10e9);
        assert_plausible(&judge_at(&ex, arrival));
        ex.request.bandwidth_bps = Some(10e9 + 1.0);
        assert_implausible(&judge_at(&ex, arrival), "ceiling of 10 Gbit/s");
    }

    #[test]
    fn request_rate_ceiling_is_100000_per_second() {
        let arrival = at(2026, 11, 26, 8);
        let mut ex = complete(at(2027, 1, 14, 8));
        ex.request.requests_per_second = Some(100_000.0);
        assert_plausible(&judge_at(&ex, arrival));
        ex.request.requests_per_second = Some(100_001.0);
        assert_implausible(&judge_at(&ex, arrival), "request rate");
    }

    #[test]
    fn traffic_at_load_test_scale_is_a_load_test_whatever_it_is_called() {
        let arrival = at(2026, 11, 26, 8);
        // A "penetration test" 18 days ahead: fine at 1,000 requests/s and 1 Gbit/s...
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.requests_per_second = Some(1_000.0);
        ex.request.bandwidth_bps = Some(1e9);
        let f = judge_at(&ex, arrival);
        assert_eq!(
            (f.decision, f.test_class),
            (Decision::Accept, TestClass::Standard)
        );
        // ...but above either it is a load test, and 18 days are too little notice.
        for (rps, bps) in [(1_001.0, 1e9), (1_000.0, 1e9 + 1.0), (90_000.0, 9e9)] {
            ex.request.requests_per_second = Some(rps);
            ex.request.bandwidth_bps = Some(bps);
            let f = judge_at(&ex, arrival);
            assert_eq!(f.test_class, TestClass::Broad, "{rps} {bps}");
            assert_eq!(f.required_notice_days, 28);
            assert_eq!(f.decision, Decision::Reject);
            assert!(f.warnings.iter().any(|w| w.contains("load-test scale")));
        }
    }

    #[test]
    fn plausibility_limits_come_from_the_rules() {
        let arrival = at(2026, 11, 26, 8);
        let rules = Rules {
            max_source_prefix_v4: 24,
            max_requests_per_second: 100.0,
            ..Rules::default()
        };
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.originating_ips = vec!["85.195.240.0/23".parse().unwrap()];
        let f = judge_with(&ex, &rules, arrival);
        assert_eq!(implausible(&f).len(), 2, "{:?}", f.problems);
    }

    // --- Ownership of targets ---

    fn owner_rules() -> Rules {
        Rules {
            customers: vec![Customer {
                name: "Webagentur Example".into(),
                sender_domains: vec!["webagentur-example.ch".into()],
                target_domains: vec!["example-foundation.org".into()],
            }],
            ..Rules::default()
        }
    }

    fn owns(sender: &str, target: &str) -> bool {
        owned(target, Some(sender), &owner_rules())
    }

    #[test]
    fn the_senders_own_domain_and_subdomains_are_owned() {
        assert!(owns("example.ch", "example.ch"));
        assert!(owns("example.ch", "shop.example.ch"));
        assert!(owns("example.ch", "a.b.shop.example.ch"));
        // A sender on a subdomain speaks for its organization.
        assert!(owns("mail.example.ch", "www.example.ch"));
        assert!(owns("example.co.uk", "shop.example.co.uk"));
    }

    #[test]
    fn look_alikes_are_not_owned() {
        assert!(!owns("example.ch", "example.ch.evil.com"));
        assert!(!owns("example.ch", "shop.example.ch.evil.com"));
        assert!(!owns("example.ch", "notexample.ch"));
        assert!(!owns("example.ch", "example.com"));
        assert!(!owns("example.co.uk", "other.co.uk"));
    }

    #[test]
    fn private_public_suffixes_separate_their_tenants() {
        assert!(!owns("attacker.github.io", "victim.github.io"));
        assert!(owns("victim.github.io", "www.victim.github.io"));
        assert!(!owns("evil.herokuapp.com", "shop.herokuapp.com"));
    }

    #[test]
    fn the_platforms_own_hosts_are_owned_by_everyone() {
        assert!(owns("example.ch", "dashboard.amazeeio.cloud"));
        assert!(owns("example.ch", "api.lagoon.sh"));
        assert!(owns("example.ch", "lagoon.sh"));
        assert!(owns("example.ch", "www.amazee.io"));
        assert!(!owns("example.ch", "amazee.io.evil.com"));
        assert!(!owns("example.ch", "notamazee.io"));
    }

    #[test]
    fn another_customers_route_on_the_platform_is_not_owned_by_a_stranger() {
        // Red-team 003/004: "we will test victimshop.amazeeio.cloud" from evil-agency.net.
        assert!(!owns("evil-agency.net", "victimshop.amazeeio.cloud"));
        assert!(!owns(
            "evil-agency.net",
            "nginx-victimshop-prod.ch4.amazee.io"
        ));
        assert!(!owns("evil-agency.net", "www.victimshop.amazeeio.cloud"));
        assert!(!owns(
            "evil-agency.net",
            "dashboard.ch4.amazee.io.amazeeio.cloud"
        ));
        // The registry gives a route to its customer, wildcards under it included.
        let rules = Rules {
            customers: vec![Customer {
                name: "Victim Shop".into(),
                sender_domains: vec!["victimshop.ch".into()],
                target_domains: vec!["victimshop.amazeeio.cloud".into()],
            }],
            ..Rules::default()
        };
        assert!(owned(
            "victimshop.amazeeio.cloud",
            Some("victimshop.ch"),
            &rules
        ));
        assert!(owned(
            "*.victimshop.amazeeio.cloud",
            Some("victimshop.ch"),
            &rules
        ));
        assert!(!owned(
            "victimshop.amazeeio.cloud",
            Some("evil-agency.net"),
            &rules
        ));
    }

    #[test]
    fn a_wildcard_over_the_whole_platform_or_a_public_suffix_is_never_owned() {
        // Red-team 005: "Targets: *.amazeeio.cloud" is every customer on the cluster.
        for t in [
            "*.amazeeio.cloud",
            "*.amazee.io",
            "*.lagoon.sh",
            "*.ch",
            "*.co.uk",
            "*.github.io",
        ] {
            assert!(!owns("example.ch", t), "{t}");
            assert!(
                !owned(t, Some("webagentur-example.ch"), &owner_rules()),
                "{t}"
            );
        }
    }

    #[test]
    fn a_freemail_user_owns_nothing_of_the_provider() {
        // Red-team 080: jane.doe.7731@gmail.com announcing a pen test of www.gmail.com.
        for (sender, target) in [
            ("gmail.com", "gmail.com"),
            ("gmail.com", "www.gmail.com"),
            ("bluewin.ch", "www.bluewin.ch"),
            ("yahoo.co.uk", "login.yahoo.co.uk"),
            ("gmx.ch", "gmx.ch"),
        ] {
            assert!(!owns(sender, target), "{sender} {target}");
        }
        // The registry still speaks for a customer on free mail.
        let rules = Rules {
            customers: vec![Customer {
                name: "Verein Example".into(),
                sender_domains: vec!["gmail.com".into()],
                target_domains: vec!["verein-example.ch".into()],
            }],
            ..Rules::default()
        };
        assert!(owned("www.verein-example.ch", Some("gmail.com"), &rules));
    }

    #[test]
    fn the_registry_lists_hosts_for_their_senders_only() {
        assert!(owns("webagentur-example.ch", "www.example-foundation.org"));
        assert!(owns("mail.webagentur-example.ch", "example-foundation.org"));
        assert!(!owns("example.ch", "www.example-foundation.org"));
        assert!(!owns("webagentur-example.ch", "www.other-foundation.org"));
        assert!(!owns(
            "webagentur-example.ch.evil.com",
            "www.example-foundation.org"
        ));
    }

    #[test]
    fn a_wildcard_target_is_owned_like_its_base() {
        assert!(owns("example.ch", "*.shop.example.ch"));
        assert!(owns("example.ch", "*.example.ch"));
        assert!(!owns("example.ch", "*.example.ch.evil.com"));
        assert!(!owns("example.ch", "*.ch"));
        assert!(!owns("example.ch", "*"));
        assert!(owns("webagentur-example.ch", "*.example-foundation.org"));
    }

    #[test]
    fn without_a_single_sender_only_platform_hosts_are_owned() {
        assert!(!owned("shop.example.ch", None, &Rules::default()));
        assert!(owned("dashboard.amazeeio.cloud", None, &Rules::default()));
        assert!(!owned("shop.ch4.amazee.io", None, &Rules::default()));
    }

    #[test]
    fn a_target_not_owned_goes_to_review_and_names_the_targets() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.targets = vec![
            "shop.example.ch".into(),
            "www.victim-bank.ch".into(),
            "*.example.ch.evil.com".into(),
        ];
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        assert_eq!(f.decision, Decision::Review);
        assert_eq!(
            f.reason.as_deref(),
            Some("target not known to belong to the sender")
        );
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::TargetNotOwned)
            .unwrap();
        assert!(p.message.contains("www.victim-bank.ch"), "{}", p.message);
        assert!(p.message.contains("*.example.ch.evil.com"), "{}", p.message);
        assert!(!p.message.contains("shop.example.ch,"), "{}", p.message);
        assert!(
            p.message
                .to_lowercase()
                .contains("target not known to belong to the sender")
        );
    }

    #[test]
    fn an_agency_announcing_a_registered_customers_hosts_is_accepted() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.targets = vec!["spenden.example-foundation.org".into()];
        let sender = auth::Sender::verified_for("webagentur-example.ch");
        let f = judge(&ex, &sender, &owner_rules(), at(2026, 11, 26, 8), zurich());
        assert_eq!(f.decision, Decision::Accept, "{:?}", f.problems);
        let f = judge(
            &ex,
            &sender,
            &Rules::default(),
            at(2026, 11, 26, 8),
            zurich(),
        );
        assert_eq!(f.decision, Decision::Review);
    }

    // --- Found by cargo mutants: what staff and customers read must be right too ---

    fn notice_message(f: &Findings) -> &str {
        f.problems
            .iter()
            .find(|p| p.code == ProblemCode::NoticeTooShort)
            .map(|p| p.message.as_str())
            .expect("notice_too_short")
    }

    #[test]
    fn the_notice_problem_says_whether_the_window_already_began_and_which_rule_applies() {
        let arrival = at(2026, 11, 26, 8);
        // Before arrival: no "only -6.0 days after".
        let f = judge_at(&complete(at(2026, 11, 20, 8)), arrival);
        let m = notice_message(&f);
        assert!(m.contains("before this message arrived"), "{m}");
        assert!(!m.contains("days after"), "{m}");
        assert!(
            m.contains("penetration and security tests need 14 days"),
            "{m}"
        );
        // Two days ahead: how short, and the earliest acceptable start.
        let f = judge_at(&complete(at(2026, 11, 28, 8)), arrival);
        let m = notice_message(&f);
        assert!(
            m.contains("only 2.0 days after this message arrived"),
            "{m}"
        );
        assert!(!m.contains("before this message arrived"), "{m}");
        assert!(m.contains("2026-12-10 09:00 CET"), "{m}");
        // Starting the moment it arrived is not before it.
        let f = judge_at(&complete(arrival), arrival);
        let m = notice_message(&f);
        assert!(m.contains("only 0.0 days after"), "{m}");
        // A load test names its own rule.
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.mentions.load = true;
        let f = judge_at(&ex, arrival);
        let m = notice_message(&f);
        assert!(
            m.contains(
                "load tests and security tests of the platform itself need at least 28 days"
            ),
            "{m}"
        );
    }

    #[test]
    fn each_missing_item_is_asked_for_in_plain_words() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request = Request::default();
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::MissingInformation)
            .expect("missing_information");
        for words in [
            "the testing vectors and scope",
            "the name of a contact person who can stop the test",
            "the contact person's e-mail address",
            "the originating IP addresses or ranges",
            "the expected bandwidth (for example 200 Mbit/s)",
            "the expected request rate",
            "the target website(s) as host names",
            "the start and end date and time of the test, with time zone",
        ] {
            assert!(p.message.contains(words), "{words} in {}", p.message);
        }
    }

    #[test]
    fn bandwidths_are_shown_in_the_unit_people_use() {
        let arrival = at(2026, 11, 26, 8);
        let rules = Rules {
            max_bandwidth_bps: 200e6,
            ..Rules::default()
        };
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.bandwidth_bps = Some(250.5e6);
        let f = judge_with(&ex, &rules, arrival);
        assert_implausible(
            &f,
            "The bandwidth of 250.5 Mbit/s is above the plausible ceiling of 200 Mbit/s.",
        );
        let rules = Rules {
            max_bandwidth_bps: 500.0,
            ..Rules::default()
        };
        ex.request.bandwidth_bps = Some(1500.0);
        let f = judge_with(&ex, &rules, arrival);
        assert_implausible(
            &f,
            "The bandwidth of 1500 bit/s is above the plausible ceiling of 500 bit/s.",
        );
        assert_eq!(bits_per_second(12_345_678_901.0), "12.346 Gbit/s");
        assert_eq!(bits_per_second(1e6), "1 Mbit/s");
        assert_eq!(bits_per_second(999_999.0), "999999 bit/s");
    }

    #[test]
    fn many_unowned_targets_are_listed_up_to_ten_then_counted() {
        let mut ex = complete(at(2026, 12, 14, 8));
        ex.request.targets = (0..12).map(|i| format!("host{i:02}.victim.test")).collect();
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::TargetNotOwned)
            .unwrap();
        assert!(
            p.message.contains("host09.victim.test and 2 more."),
            "{}",
            p.message
        );
        assert!(!p.message.contains("host10.victim.test"), "{}", p.message);
        // Exactly ten: all named, nothing "more".
        ex.request.targets.truncate(10);
        let f = judge_at(&ex, at(2026, 11, 26, 8));
        let p = f
            .problems
            .iter()
            .find(|p| p.code == ProblemCode::TargetNotOwned)
            .unwrap();
        assert!(p.message.contains("host09.victim.test."), "{}", p.message);
        assert!(!p.message.contains("more"), "{}", p.message);
    }

    #[test]
    fn a_wildcard_inside_a_name_is_not_a_host_anyone_owns() {
        // Only a leading `*.` is a wildcard target; `*` elsewhere names no host we know.
        assert!(!owns("example.ch", "shop.*.example.ch"));
        assert!(!owned(
            "x.*.ch4.amazee.io",
            Some("example.ch"),
            &Rules::default()
        ));
    }
}
