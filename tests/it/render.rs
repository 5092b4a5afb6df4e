//! Rendered messages compared byte for byte with a fixed clock: the customer reply, the
//! security forward and the staff summary of an accepted, a rejected and a reviewed fixture.

use std::path::Path;

use chrono::{TimeZone, Utc};
use intake::check::{Arrival, Checked, check};
use intake::config::Config;
use intake::render::Templates;
use intake::render::compose::{Role, compose};

const CASES: &[&str] = &[
    "001-pentest-plain-accept",
    "016-short-notice-pentest-reject",
    "031-spoofed-dmarc-fail-review",
    "041-out-of-office-ignore",
];

/// The shipped configuration and templates, with the fixed clock every test renders at.
struct Shipped {
    config: Config,
    templates: Templates,
    now: chrono::DateTime<Utc>,
}

impl Shipped {
    fn load() -> Shipped {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = Config::from_file(&root.join("config.toml")).unwrap();
        let templates = Templates::load(&config.templates_dir).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        Shipped {
            config,
            templates,
            now,
        }
    }

    /// A corpus fixture's bytes and its checked verdict.
    fn check(&self, case: &str) -> (Vec<u8>, Checked) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read(root.join(format!("fixtures/corpus/{case}.eml"))).unwrap();
        let checked = check(
            &raw,
            Arrival::FromHeaders { fallback: self.now },
            &self.config.rules,
            &self.config.addresses.from,
        );
        (raw, checked)
    }
}

#[test]
fn rendered_messages_match_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = Shipped::load();
    let (config, templates, now) = (&shipped.config, &shipped.templates, shipped.now);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = root.join("fixtures/render");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in CASES {
        let (raw, checked) = shipped.check(case);
        let out = compose(&checked, &raw, templates, &config.addresses, now, None).unwrap();
        let roles: Vec<Role> = out.iter().map(|o| o.role).collect();
        match checked.verdict.decision.as_str() {
            "accept" => assert_eq!(
                roles,
                vec![Role::Reply, Role::Security, Role::Staff],
                "{case}"
            ),
            "reject" => assert_eq!(roles, vec![Role::Reply, Role::Staff], "{case}"),
            "review" => assert_eq!(roles, vec![Role::Staff], "{case}"),
            _ => assert!(out.is_empty(), "{case}: ignored mail causes no message"),
        }
        for o in out {
            let path = dir.join(format!("{case}.{}.eml", o.role.as_str()));
            if update {
                std::fs::write(&path, &o.raw).unwrap();
                continue;
            }
            let expected = std::fs::read(&path).unwrap_or_default();
            compared += 1;
            if expected != o.raw {
                let actual = path.with_extension("actual.eml");
                std::fs::write(&actual, &o.raw).unwrap();
                failures.push(format!(
                    "{} differs; see {}",
                    path.display(),
                    actual.display()
                ));
            }
        }
    }
    assert!(update || compared >= 6, "only {compared} messages compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn replies_are_threaded_and_marked_automatic() {
    let shipped = Shipped::load();
    let (config, templates, now) = (&shipped.config, &shipped.templates, shipped.now);
    let (raw, checked) = shipped.check("016-short-notice-pentest-reject");
    let out = compose(&checked, &raw, templates, &config.addresses, now, None).unwrap();
    let reply = String::from_utf8(out[0].raw.clone()).unwrap();
    let id = checked.verdict.message_id.clone().unwrap();
    assert!(reply.contains(&format!("In-Reply-To: <{id}>")), "{reply}");
    assert!(reply.contains(&format!("References: <{id}>")), "{reply}");
    assert!(reply.contains("Auto-Submitted: auto-replied"));
    assert!(reply.contains("X-Auto-Response-Suppress: All"));
    assert!(reply.contains(&format!("[{}]", checked.verdict.reference)));
    // A resend of the same request carries the same Message-ID.
    let again = compose(
        &checked,
        &raw,
        templates,
        &config.addresses,
        now + chrono::Duration::hours(1),
        None,
    )
    .unwrap();
    assert_eq!(again[0].message_id, out[0].message_id);
    // The rejection says what to fix and when the earliest qualifying start is.
    let body = mail_parser::MessageParser::default()
        .parse(&out[0].raw)
        .unwrap();
    let text = body.body_text(0).unwrap();
    assert!(text.contains("earliest start"), "{text}");
    assert!(
        text.contains("2026-12-10"),
        "earliest start is arrival + 14 days: {text}"
    );
}

#[test]
fn the_reply_limit_suppresses_the_customer_reply_and_tells_staff() {
    let shipped = Shipped::load();
    let (config, templates, now) = (&shipped.config, &shipped.templates, shipped.now);
    let (raw, checked) = shipped.check("016-short-notice-pentest-reject");
    let out = compose(&checked, &raw, templates, &config.addresses, now, Some("No automated reply was sent: jane@example.ch already got 5 automated replies in the last 24 hours (limit 5; possible mail loop).")).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].role, Role::Staff);
    let staff = mail_parser::MessageParser::default()
        .parse(&out[0].raw)
        .unwrap();
    let text = staff.body_text(0).unwrap();
    assert!(text.contains("reply limit"), "{text}");
    assert!(
        text.contains("No automated reply was sent to the customer"),
        "{text}"
    );
    assert!(
        !text.contains("A rejection listing the problems above was sent"),
        "{text}"
    );
}

#[test]
fn a_broken_template_is_a_clear_error_at_start() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "acceptance.txt",
        "rejection.txt",
        "security.txt",
        "staff.txt",
    ] {
        std::fs::copy(root.join("templates").join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("staff.txt"),
        "Subject: x\n\n{% for p in problems %}",
    )
    .unwrap();
    let err = Templates::load(dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("staff.txt"), "{err:#}");
    std::fs::remove_file(dir.path().join("rejection.txt")).unwrap();
    let err = Templates::load(dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("rejection.txt"), "{err:#}");
}
