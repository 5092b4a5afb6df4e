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

use crate::model::{Problem, ProblemCode, Request, Zone};
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

/// Which items `text` gives in a labelled field of their own, rather than by a fallback (the
/// first sentence naming a test as the scope, the sender as the contact): a follow-up
/// changes the scope or the contact only where it states them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Labelled {
    pub scope: bool,
    pub contact: bool,
}

pub fn labelled(text: &str) -> Labelled {
    let f = fields::find_fields(text);
    Labelled {
        scope: f.value(Field::Scope).is_some(),
        contact: [
            Field::Contact,
            Field::ContactName,
            Field::ContactEmail,
            Field::ContactPhone,
        ]
        .iter()
        .any(|x| f.value(*x).is_some()),
    }
}

/// Finds the six items in `letter`. `ctx` anchors dates; `own_domain` is never a target
/// (unless it is a platform host); the platform's own hosts under `platform_domains` (apex,
/// `www`, services) make the test one of the platform itself. Cancellation wording and
/// lists beyond [`MAX_SOURCES`]/[`MAX_TARGETS`] become [`Extraction::doubts`].
pub fn extract(
    letter: &Letter,
    text: &str,
    ctx: &DateContext,
    own_domain: &str,
    platform_domains: &[String],
) -> Extraction {
    let fields = fields::find_fields(text);

    // Read for test words and for cancellation wording alike: folded once.
    let folded_text = classify::fold(text);
    let folded_subject = classify::fold(&letter.subject);
    let mentions = classify::mentions_folded(&folded_text);
    let subject_mentions = classify::mentions_folded(&folded_subject);

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
    let mut own_domains: Vec<&str> = vec![own_domain];
    own_domains.extend(platform_domains.iter().map(String::as_str));
    let contact =
        contact::find_contact(&fields, text, &letter.text.signature, sender, &own_domains);

    let mut doubts: Vec<Problem> = Vec::new();
    // Calling the test off or moving it: never an acceptance (the subject counts: Outlook
    // writes "Cancelled: …" there; so does a "PS: the test is cancelled" below the sign-off,
    // which the reader files as signature, disclaimers left out).
    if let Some(words) = classify::cancellation_folded(&folded_subject)
        .or_else(|| classify::cancellation_folded(&folded_text))
        .or_else(|| classify::cancellation(&without_disclaimers(&letter.text.signature)))
    {
        doubts.push(Problem::new(
            ProblemCode::Cancellation,
            format!(
                "The message calls the test off or postpones it (\"{words}\"); a person must confirm whether and when it takes place."
            ),
        ));
    }

    let originating_ips = originating(&fields, text, letter, &mut doubts);

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
        traffic.per_source |= whole.per_source;
    }
    // "9 Gbit/s per source IP" without a count: the total is unknown.
    if traffic.per_source {
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            "The traffic is given per source without a total; a person must work out the whole volume.",
        ));
    }

    // Mail domains of the people involved are not targets unless written as such; the
    // platform's hosts always are.
    let excluded = [own_domain];
    let mut targets = fields
        .get(Field::Targets)
        .map(|t| {
            hosts::find_targets_with(
                &t,
                &hosts::Context {
                    excluded: &excluded,
                    platform_domains,
                    labelled: true,
                },
            )
        })
        .unwrap_or_default();
    if fields
        .get(Field::Targets)
        .as_deref()
        .is_some_and(|f| refers_to_unread(f, letter))
    {
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            "The target field points to a list intake cannot read (an attachment or a separate list); a person must check every target.",
        ));
    }
    if targets.is_empty() {
        targets = hosts::find_targets_with(
            &without_mail_lines(text),
            &hosts::Context {
                excluded: &excluded,
                platform_domains,
                labelled: false,
            },
        );
    }
    if targets.len() > MAX_TARGETS {
        let more = targets.len() - MAX_TARGETS;
        targets.truncate(MAX_TARGETS);
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            format!(
                "The message names more than {MAX_TARGETS} targets ({more} more are not shown); a person must review the list."
            ),
        ));
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
    // A subject naming other days than the body's windows (058).
    if let Some(d) = dates::subject_doubt(&letter.subject, ctx, &found.windows) {
        found.doubts.push(d);
    }
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
    // Text after the sign-off ("PS: we also run a load test", a second inline text part)
    // is read by every person: what it says about the kind of test counts. It does not make
    // a message a notification by itself.
    mentions.merge(&classify::mentions(&letter.text.signature));
    // Targets that are the platform's own hosts make it a test of the platform itself,
    // whatever the words around them say.
    if targets
        .iter()
        .any(|t| is_platform_host(t, platform_domains))
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
        doubts: {
            doubts.extend(found.doubts);
            doubts
        },
        invalid_windows: found.invalid,
    }
}

/// Most originating addresses or blocks kept: more is no plausible announcement, and the
/// outputs (verdict, replies) stay bounded. Beyond it the message goes to review.
pub const MAX_SOURCES: usize = 256;
/// Most targets kept, for the same reasons.
pub const MAX_TARGETS: usize = 100;

/// A field that points to a list intake did not read: a file kind it cannot read
/// (spreadsheets, PDFs, documents, archives), or an attachment when none was read at all.
/// ("see the attached source-ips.csv" beside a read CSV attachment is fine.)
fn refers_to_unread(field: &str, letter: &Letter) -> bool {
    if !hosts::refers_elsewhere(field) {
        return false;
    }
    let lower = field.to_lowercase();
    let unreadable_kind = [
        ".xlsx", ".xls", ".pdf", ".docx", ".doc", ".ods", ".odt", ".zip", ".pptx", ".numbers",
    ]
    .iter()
    .any(|e| lower.contains(e));
    unreadable_kind || letter.text.attachments.trim().is_empty()
}

/// The originating addresses: from the labelled field when there is one, else from the
/// whole text. Retracted or negated addresses and those written as targets (in the target
/// field, the scope field, a URL, after "against") are never sources; a placeholder ("IPs
/// will follow", "TBD") makes the item missing.
fn originating(
    fields: &fields::Fields,
    text: &str,
    letter: &Letter,
    doubts: &mut Vec<Problem>,
) -> Vec<ipnet::IpNet> {
    let labelled = fields.get(Field::Ips);
    let mut sources = labelled
        .as_deref()
        .map(|t| net::find_sources(t, true, MAX_SOURCES))
        .unwrap_or_default();
    // Address-like tokens of the field that were not read would silently shrink the list.
    if !sources.unread.is_empty() {
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            format!(
                "The originating-IP field holds {} that could not be read as addresses; a person must check the list.",
                sources.unread.join(", ")
            ),
        ));
    }
    if labelled
        .as_deref()
        .is_some_and(|f| refers_to_unread(f, letter))
    {
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            "The originating-IP field points to a list intake cannot read (an attachment or a separate list); a person must check every address.",
        ));
    }
    if sources.ips.is_empty() && !sources.placeholder {
        sources = net::find_sources(text, false, MAX_SOURCES);
    }
    if sources.placeholder {
        return Vec::new();
    }
    // Addresses written as targets or as the scope are never sources.
    let not_sources: std::collections::HashSet<ipnet::IpNet> = [Field::Targets, Field::Scope]
        .iter()
        .filter_map(|f| fields.get(*f))
        .flat_map(|t| field_addresses(&t))
        .collect();
    sources.ips.retain(|n| !not_sources.contains(n));
    if sources.over_cap > 0 {
        doubts.push(Problem::new(
            ProblemCode::ImplausibleValue,
            format!(
                "The message lists more than {MAX_SOURCES} originating addresses or blocks ({} more are not shown); a person must review the list.",
                sources.over_cap
            ),
        ));
    }
    sources.ips
}

/// The addresses a target or scope field itself names (the target rule of
/// [`hosts::target_addresses`], so an address is never both a source and a target).
fn field_addresses(field: &str) -> Vec<ipnet::IpNet> {
    hosts::target_addresses(field)
}

/// Host names of the platform itself: a platform domain, its `www`, its service hosts
/// (`api.`, `dashboard.`, `ssh.lagoon.`) and wildcards over it. Customer routes sit deeper
/// under cluster domains (`nginx-shop-prod.ch4.amazee.io`) or have a name of their own
/// (`shop.amazeeio.cloud`) and are not the platform's.
/// Service labels of the platform's own hosts (`dashboard.`, `api.`, …) under a platform
/// domain; the decision's ownership rule uses the same list.
pub const PLATFORM_SERVICES: &[&str] = &[
    "www",
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

fn is_platform_host(host: &str, domains: &[String]) -> bool {
    let (wildcard, host) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    domains.iter().any(|d| {
        if host.eq_ignore_ascii_case(d) {
            return true;
        }
        if !crate::domain::is_under(host, d) {
            return false;
        }
        // A wildcard anywhere under the platform covers hosts that are not the customer's.
        if wildcard {
            return true;
        }
        let sub = host.get(..host.len() - d.len() - 1).unwrap_or("");
        let labels: Vec<&str> = sub.split('.').collect();
        labels.len() <= 2
            && labels
                .first()
                .is_some_and(|l| PLATFORM_SERVICES.contains(l))
    })
}

/// The signature without its legal boilerplate: paragraphs of a disclaimer ("if you are not
/// the intended recipient, please disregard …") say nothing about the test. Paragraphs are
/// split at blank lines; one holding a disclaimer marker is left out whole.
fn without_disclaimers(signature: &str) -> String {
    const MARKERS: &[&str] = &[
        "intended recipient",
        "confidential",
        "privileged",
        "disclaimer",
        "vertraulich",
        "empfänger",
        "haftungsausschluss",
        "destinataire",
        "destinatario",
        "unsubscribe",
        "abmelden",
    ];
    signature
        .split("\n\n")
        .filter(|p| {
            let lower = p.to_lowercase();
            !MARKERS.iter().any(|m| lower.contains(m))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
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
    use super::is_platform_host;
    use crate::decide::Rules;

    #[test]
    fn platform_hosts_are_told_from_customer_routes() {
        let domains = Rules::default().platform_domains;
        for h in [
            "dashboard.amazee.io",
            "api.lagoon.amazeeio.cloud",
            "ssh.lagoon.amazeeio.cloud",
            "keycloak.amazee.io",
            // The apex and `www` are the platform's own too.
            "amazee.io",
            "www.amazee.io",
            "lagoon.sh",
            "www.lagoon.sh",
            "amazeeio.cloud",
            // A wildcard over the platform covers its own hosts.
            "*.amazee.io",
            "*.ch4.amazee.io",
        ] {
            assert!(is_platform_host(h, &domains), "{h}");
        }
        for h in [
            "nginx-shop-prod.ch4.amazee.io",
            "www.example.ch",
            "shop.amazeeio.cloud",
            "shop.lagoon.sh",
            "api.example.ch",
            "api.notamazee.io",
            "notamazee.io",
            "*.shop.example.ch",
        ] {
            assert!(!is_platform_host(h, &domains), "{h}");
        }
    }

    #[test]
    fn platform_domains_come_from_the_rules() {
        let domains = vec!["hosting.example".to_string()];
        assert!(is_platform_host("api.hosting.example", &domains));
        assert!(is_platform_host("git.eu.hosting.example", &domains));
        assert!(is_platform_host("hosting.example", &domains));
        assert!(!is_platform_host("dashboard.amazee.io", &domains));
        assert!(!is_platform_host("dashboard.amazee.io", &[]));
    }

    use super::{Extraction, MAX_SOURCES, MAX_TARGETS};
    use crate::check::{Arrival, check};
    use crate::model::{ProblemCode, TestClass};
    use chrono::{TimeZone, Utc};

    /// A notification as Outlook sends it (headers trimmed to what matters), checked on
    /// 26 Nov 2026.
    fn checked(subject: &str, body: &str) -> Extraction {
        let raw = format!(
            "Return-Path: <jane.doe@example.ch>\r\n\
             Authentication-Results: mx1.amazee.io; dkim=pass header.d=example.ch; spf=pass smtp.mailfrom=example.ch; dmarc=pass header.from=example.ch\r\n\
             From: Jane Doe <jane.doe@example.ch>\r\n\
             To: \"support@amazee.io\" <support@amazee.io>\r\n\
             Subject: {subject}\r\n\
             Date: Thu, 26 Nov 2026 08:14:00 +0000\r\n\
             Message-ID: <ZR0P278MB0123A1B2@ZR0P278MB0123.CHEP278.PROD.OUTLOOK.COM>\r\n\
             Content-Language: de-CH\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=\"utf-8\"\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{}",
            body.replace('\n', "\r\n")
        );
        let arrival = Arrival::Known(Utc.with_ymd_and_hms(2026, 11, 26, 8, 14, 0).unwrap());
        check(
            raw.as_bytes(),
            arrival,
            &Rules::default(),
            "support@amazee.io",
        )
        .extraction
        .expect("a notification is extracted")
    }

    const COMPLETE: &str = "Hello amazee.io support,\n\n\
        we announce a penetration test of our customer portal.\n\n\
        Scope: authenticated web application testing (OWASP Top 10)\n\
        Targets: portal.example.ch\n\
        Source IPs: 185.199.110.17, 185.199.110.18\n\
        Traffic: max. 20 Mbit/s, about 50 requests per second\n\
        Window: 14.01.2027 08:00 - 15.01.2027 18:00\n\
        Contact: Jane Doe, jane.doe@example.ch, +41 44 555 18 20\n\n\
        Kind regards\nJane Doe\n";

    fn codes(ex: &Extraction) -> Vec<ProblemCode> {
        ex.doubts.iter().map(|p| p.code).collect()
    }

    #[test]
    fn honest_complete_notification_has_no_doubts() {
        let ex = checked("Announcement: penetration test portal", COMPLETE);
        assert_eq!(codes(&ex), []);
        assert_eq!(ex.request.originating_ips.len(), 2);
        assert_eq!(ex.request.targets, ["portal.example.ch"]);
        assert_eq!(ex.mentions.class(), TestClass::Standard);
    }

    #[test]
    fn cancellation_wording_is_a_doubt() {
        for (subject, extra) in [
            ("Cancelled: penetration test portal", ""),
            (
                "Penetration test portal",
                "Update: the test is postponed until further notice.\n",
            ),
            (
                "Pentest Portal",
                "Achtung: Der Test ist abgesagt, bitte nicht einplanen.\n",
            ),
            ("Pentest Portal", "Der Termin wird verschoben.\n"),
            (
                "Penetration test portal",
                "Please do not schedule this yet.\n",
            ),
        ] {
            let ex = checked(subject, &format!("{extra}{COMPLETE}"));
            assert_eq!(
                codes(&ex),
                [ProblemCode::Cancellation],
                "{subject} / {extra}"
            );
        }
    }

    /// Red team 073/074/076/077: what follows the sign-off is filed as signature, yet
    /// every reader sees it.
    #[test]
    fn a_postscript_after_the_sign_off_counts_for_class_and_cancellation() {
        let ex = checked(
            "Announcement: penetration test portal",
            &format!(
                "{COMPLETE}\nPS: On the second day we will also run a load test with k6 at 5000 rps.\n"
            ),
        );
        assert_eq!(ex.mentions.class(), TestClass::Broad);
        let german = COMPLETE.replace("Kind regards", "Freundliche Grüsse");
        let ex = checked(
            "Pentest Portal",
            &format!("{german}\nNachtrag: zusätzlich machen wir am zweiten Tag einen Lasttest.\n"),
        );
        assert_eq!(ex.mentions.class(), TestClass::Broad);
        for ps in [
            "P.S. Sorry - the test is cancelled, management decided this morning.",
            "PS: Der Test fällt leider aus.",
        ] {
            let ex = checked(
                "Announcement: penetration test portal",
                &format!("{COMPLETE}\n{ps}\n"),
            );
            // Now new text, the postscript may raise other doubts too ("this morning").
            assert!(codes(&ex).contains(&ProblemCode::Cancellation), "{ps}");
        }
    }

    /// A legal disclaimer in the signature ("please disregard", "withdrawn") calls nothing
    /// off: an honest notification with one keeps no doubts.
    #[test]
    fn a_disclaimer_in_the_signature_is_no_cancellation() {
        let body = format!(
            "{COMPLETE}\nCONFIDENTIALITY NOTICE: This e-mail is confidential and intended only for\n\
             the addressee. If you are not the intended recipient, please disregard and delete\n\
             it; any consent given herein may be withdrawn.\n"
        );
        let ex = checked("Announcement: penetration test portal", &body);
        assert_eq!(codes(&ex), []);
        assert_eq!(ex.mentions.class(), TestClass::Standard);
    }

    #[test]
    fn retracted_and_target_addresses_are_not_sources() {
        let body = COMPLETE.replace(
            "Source IPs: 185.199.110.17, 185.199.110.18",
            "Source IPs: 185.199.110.17 (we will NOT test from 185.199.110.18)",
        );
        let ex = checked("Pentest", &body);
        let ips: Vec<String> = ex
            .request
            .originating_ips
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ips, ["185.199.110.17/32"]);

        // No source field: the whole text is read, and targets are not sources.
        let body = "We announce a penetration test against 198.51.100.20 (target: \
            198.51.100.21, https://203.0.113.9/login) from 185.199.110.17.\n\
            Window: 14.01.2027 08:00 - 15.01.2027 18:00\n";
        let ex = checked("Pentest", body);
        let ips: Vec<String> = ex
            .request
            .originating_ips
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ips, ["185.199.110.17/32"]);

        // An address in the target field is never a source, even when listed as one.
        let body = COMPLETE.replace(
            "Targets: portal.example.ch",
            "Targets: 185.199.110.18 (reachable from the internet)",
        );
        let ex = checked("Pentest", &body);
        let ips: Vec<String> = ex
            .request
            .originating_ips
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(ips, ["185.199.110.17/32"]);
    }

    #[test]
    fn address_placeholders_make_the_item_missing() {
        for line in [
            "Source IPs: will be provided",
            "Source IPs: TBD",
            "Quell-IPs: werden nachgereicht",
            "Source IPs: not yet known (not 198.51.100.7)",
        ] {
            let body = COMPLETE.replace("Source IPs: 185.199.110.17, 185.199.110.18", line);
            let ex = checked("Pentest", &body);
            assert!(ex.request.originating_ips.is_empty(), "{line}");
        }
        let body = COMPLETE.replace("Source IPs: 185.199.110.17, 185.199.110.18\n", "")
            + "PS: the IP-Adressen folgen, and 198.51.100.7 is our office.\n";
        let ex = checked("Pentest", &body);
        assert!(ex.request.originating_ips.is_empty());
    }

    #[test]
    fn contact_placeholder_and_our_own_address_are_missing() {
        for line in [
            "Contact: TBD",
            "Ansprechpartner: folgt",
            "Contact: support@amazee.io",
        ] {
            let body = COMPLETE.replace(
                "Contact: Jane Doe, jane.doe@example.ch, +41 44 555 18 20",
                line,
            );
            let ex = checked("Pentest", &body);
            assert_eq!(ex.request.contact.email, None, "{line}");
        }
    }

    #[test]
    fn platform_apex_and_www_as_targets_make_the_test_broad() {
        for targets in [
            "amazee.io",
            "www.amazee.io",
            "*.amazee.io",
            "dashboard.amazee.io",
        ] {
            let body =
                COMPLETE.replace("Targets: portal.example.ch", &format!("Targets: {targets}"));
            let ex = checked("Pentest", &body);
            assert_eq!(ex.request.targets, [targets], "{targets}");
            assert_eq!(ex.mentions.class(), TestClass::Broad, "{targets}");
        }
        // A customer route on the platform stays standard.
        let body = COMPLETE.replace(
            "Targets: portal.example.ch",
            "Targets: nginx-portal-prod.ch4.amazee.io",
        );
        assert_eq!(
            checked("Pentest", &body).mentions.class(),
            TestClass::Standard
        );
    }

    #[test]
    fn german_load_test_is_broad() {
        let body = COMPLETE.replace(
            "we announce a penetration test of our customer portal.",
            "wir kündigen einen Last-Test (Kapazitätstest) unseres Kundenportals an.",
        );
        assert_eq!(
            checked("Ankündigung", &body).mentions.class(),
            TestClass::Broad
        );
    }

    #[test]
    fn forty_thousand_addresses_are_capped_with_a_doubt() {
        let list: String = (0..40_000u32)
            .map(|i| format!("185.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255))
            .collect();
        let body = COMPLETE.replace(
            "Source IPs: 185.199.110.17, 185.199.110.18\n",
            &format!("Source IPs:\n{list}"),
        );
        let ex = checked("Pentest", &body);
        assert_eq!(ex.request.originating_ips.len(), MAX_SOURCES);
        assert!(codes(&ex).contains(&ProblemCode::ImplausibleValue));
    }

    #[test]
    fn too_many_targets_are_capped_with_a_doubt() {
        let list: String = (0..500).map(|i| format!("h{i}.example.ch, ")).collect();
        let body = COMPLETE.replace("Targets: portal.example.ch", &format!("Targets: {list}"));
        let ex = checked("Pentest", &body);
        assert_eq!(ex.request.targets.len(), MAX_TARGETS);
        assert!(codes(&ex).contains(&ProblemCode::ImplausibleValue));
    }
}
