//! Extraction: the six items of a notification, from the text of a [`crate::read::Letter`].
//!
//! Labelled fields are read first; an item without a label is looked for in the whole new
//! text. Quoted earlier messages never count; signatures only for the contact.

pub mod classify;
pub mod contact;
pub mod dates;
pub mod fields;
pub mod hosts;
pub mod net;
pub mod traffic;

use crate::model::{Problem, Request, Zone};
use crate::read::Letter;
use classify::TestMentions;
use dates::{DateContext, DateFindings};
use fields::Field;

/// Everything found in one message.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// The message announces a test (rather than asking about one, or being about
    /// something else).
    pub is_notification: bool,
    pub request: Request,
    pub mentions: TestMentions,
    pub ambiguous_dates: Vec<String>,
    pub ambiguous_zones: Vec<String>,
    pub zone: Option<Zone>,
    /// Findings that make the message doubtful enough for a person to look at it (unknown
    /// zone abbreviation, cancellation wording, activity dated before the window, ...). Each
    /// becomes a problem and the decision `review`.
    pub doubts: Vec<Problem>,
    /// Windows that cannot be taken as written (no end time, impossible date), for people:
    /// each becomes a `window_invalid` problem.
    pub invalid_windows: Vec<String>,
}

/// The text the items are read from: the new text plus text-like attachments.
pub fn body_text(letter: &Letter) -> String {
    let mut text = String::with_capacity(letter.text.new.len() + letter.text.attachments.len() + 1);
    text.push_str(&letter.text.new);
    if !letter.text.attachments.is_empty() {
        text.push('\n');
        text.push_str(&letter.text.attachments);
    }
    text
}

/// Finds the six items in `letter`. `ctx` anchors dates; `own_domain` is never a target;
/// service hosts under `platform_domains` make the test one of the platform itself.
pub fn extract(
    letter: &Letter,
    text: &str,
    ctx: &DateContext,
    own_domain: &str,
    platform_domains: &[String],
) -> Extraction {
    let fields = fields::find_fields(text);

    let mentions = classify::mentions(text);
    let subject_mentions = classify::mentions(&letter.subject);

    let scope = fields
        .value(Field::Scope)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| mentions.first_sentence.clone());

    // For a bare forward, the original sender stands behind the notification.
    let sender = match letter.forwarded_from.as_deref() {
        Some(original) => contact::Sender {
            name: None,
            email: Some(original),
        },
        None => contact::Sender {
            name: letter.from_name.as_deref(),
            email: letter.from.as_deref(),
        },
    };
    let contact = contact::find_contact(&fields, text, &letter.text.signature, sender);

    let ips_text = fields.get(Field::Ips);
    let mut originating_ips = ips_text
        .as_deref()
        .map(net::find_addresses)
        .unwrap_or_default();
    if originating_ips.is_empty() {
        originating_ips = net::find_addresses(text);
    }

    let traffic_text = [Field::Bandwidth, Field::Rate, Field::Traffic]
        .iter()
        .filter_map(|f| fields.get(*f))
        .collect::<Vec<_>>()
        .join("\n");
    let mut traffic = traffic::find_traffic(&traffic_text);
    if traffic.requests_per_second.is_none() {
        traffic.requests_per_second = fields
            .get(Field::Rate)
            .as_deref()
            .and_then(traffic::bare_rate);
    }
    if traffic.bandwidth_bps.is_none() || traffic.requests_per_second.is_none() {
        let whole = traffic::find_traffic(text);
        traffic.bandwidth_bps = traffic.bandwidth_bps.or(whole.bandwidth_bps);
        traffic.requests_per_second = traffic.requests_per_second.or(whole.requests_per_second);
    }

    // Mail domains of the people involved are not targets unless written as such.
    let excluded = [own_domain];
    let mut targets = fields
        .get(Field::Targets)
        .map(|t| hosts::find_targets(&t, &excluded))
        .unwrap_or_default();
    if targets.is_empty() {
        targets = hosts::find_targets(&without_mail_lines(text), &excluded);
    }

    // Windows come from the labelled window field when it has any; the whole new text is
    // read as well, always: places named anywhere settle zone abbreviations, and activity
    // dated before the window (`passive scanning from 1 Feb`) or a zone we cannot read
    // counts even when written outside the field.
    let window_text = fields.get(Field::Window);
    let hints = dates::ZoneHints::of(text);
    let whole = dates::find_windows_hinted(text, ctx, hints);
    let field = window_text
        .as_deref()
        .map(|t| dates::find_windows_hinted(t, ctx, hints));
    let mut found: DateFindings = match field {
        Some(mut field) if !field.windows.is_empty() => {
            dates::merge_outside(&mut field, whole, ctx.default_tz);
            field
        }
        Some(mut field) => {
            field.windows = whole.windows;
            field.ambiguous_dates.extend(whole.ambiguous_dates);
            field.ambiguous_zones.extend(whole.ambiguous_zones);
            field.zone = field.zone.or(whole.zone);
            field.invalid.extend(whole.invalid);
            field.doubts.extend(whole.doubts);
            field
        }
        None => whole,
    };
    // The field is part of the whole text: what both found is said once (the lists are
    // short, capped where they are made).
    fn dedup_keep_order<T: PartialEq>(v: &mut Vec<T>) {
        let mut out: Vec<T> = Vec::with_capacity(v.len());
        for x in v.drain(..) {
            if !out.contains(&x) {
                out.push(x);
            }
        }
        *v = out;
    }
    dedup_keep_order(&mut found.ambiguous_dates);
    dedup_keep_order(&mut found.ambiguous_zones);
    dedup_keep_order(&mut found.invalid);
    dedup_keep_order(&mut found.doubts);

    // A zone with two meanings makes every time in the message doubtful: no window is
    // taken rather than a guessed one.
    if !found.ambiguous_zones.is_empty() {
        found.windows.clear();
    }
    // Concrete items that only a real announcement carries.
    let concrete =
        !originating_ips.is_empty() || (!found.windows.is_empty() && !targets.is_empty());
    let is_notification = (concrete || !classify::asks_how(text))
        && (mentions.announces
            || (mentions.any() && concrete)
            || (subject_mentions.any() && concrete));
    let mut mentions = mentions;
    mentions.merge(&subject_mentions);
    // Targets that are the platform's own services make it a test of the platform itself,
    // whatever the words around them say.
    if targets
        .iter()
        .any(|t| is_platform_service(t, platform_domains))
    {
        mentions.platform = true;
    }

    Extraction {
        is_notification,
        request: Request {
            scope,
            contact,
            originating_ips,
            bandwidth_bps: traffic.bandwidth_bps,
            requests_per_second: traffic.requests_per_second,
            targets,
            windows: found.windows,
        },
        mentions,
        ambiguous_dates: found.ambiguous_dates,
        ambiguous_zones: found.ambiguous_zones,
        zone: found.zone,
        doubts: found.doubts,
        invalid_windows: found.invalid,
    }
}

/// Host names of the platform's own services (not customer routes, which sit deeper under
/// cluster domains such as `nginx-shop-prod.ch4.amazee.io`).
fn is_platform_service(host: &str, domains: &[String]) -> bool {
    const SERVICES: &[&str] = &[
        "api",
        "dashboard",
        "ui",
        "ssh",
        "git",
        "keycloak",
        "auth",
        "harbor",
        "registry",
        "logs",
        "grafana",
        "kibana",
        "status",
        "lagoon",
        "backup",
        "webhook",
        "webhooks",
    ];
    domains.iter().any(|d| {
        host.strip_suffix(d.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(|sub| {
                let labels: Vec<&str> = sub.split('.').collect();
                labels.len() <= 2 && labels.first().is_some_and(|l| SERVICES.contains(l))
            })
    })
}

/// The text without lines that are only about reaching people (their mail domains and
/// web sites are not targets).
fn without_mail_lines(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            !(lower.contains('@')
                && (lower.contains("contact")
                    || lower.contains("kontakt")
                    || lower.contains("ansprech")
                    || lower.contains("mail")))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::is_platform_service;
    use crate::config::Rules;

    #[test]
    fn platform_services_are_told_from_customer_routes() {
        let domains = Rules::default().platform_domains;
        for h in [
            "dashboard.amazee.io",
            "api.lagoon.amazeeio.cloud",
            "ssh.lagoon.amazeeio.cloud",
            "keycloak.amazee.io",
        ] {
            assert!(is_platform_service(h, &domains), "{h}");
        }
        for h in [
            "nginx-shop-prod.ch4.amazee.io",
            "www.example.ch",
            "amazee.io",
            "shop.amazeeio.cloud",
            "api.example.ch",
            "api.notamazee.io",
        ] {
            assert!(!is_platform_service(h, &domains), "{h}");
        }
    }

    #[test]
    fn platform_domains_come_from_the_rules() {
        let domains = vec!["hosting.example".to_string()];
        assert!(is_platform_service("api.hosting.example", &domains));
        assert!(is_platform_service("git.eu.hosting.example", &domains));
        assert!(!is_platform_service("dashboard.amazee.io", &domains));
        assert!(!is_platform_service("dashboard.amazee.io", &[]));
    }
}
