//! Rendered messages compared byte for byte with a fixed clock: the customer reply, the
//! security forward and the staff summary of an accepted, a rejected and a reviewed fixture.

use std::path::Path;

use chrono::{TimeZone, Utc};
use intake::check::{Arrival, Checked, check};
use intake::config::Config;
use intake::model::Lang;
use intake::render::Templates;
use intake::render::compose::{Outgoing, Role, compose, compose_or_notice};
use mail_parser::MessageParser;

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
        let templates = Templates::for_config(&config).unwrap();
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
    // Only `UPDATE_GOLDEN=1` rewrites, and never under CI, where a rewrite would pass.
    let update = crate::golden::update_golden();
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
            _ => assert_eq!(
                roles,
                vec![Role::Staff],
                "{case}: ignored mail gets a short staff summary"
            ),
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
    assert!(update || compared >= 7, "only {compared} messages compared");
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
    let out = compose(&checked, &raw, templates, &config.addresses, now, Some("No automated reply was sent (reply limit per address): anna.vogel@example-clinic.ch already got 5 automated replies in the last 24 hours (limit 5; possible mail loop).")).unwrap();
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

/// The 016 rejection (a verified sender) with `f` applied to its text.
fn variant(shipped: &Shipped, f: impl Fn(&str) -> String) -> (Vec<u8>, Checked) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(root.join("fixtures/corpus/016-short-notice-pentest-reject.eml"))
            .unwrap();
    let raw = f(&text).into_bytes();
    let checked = check(
        &raw,
        Arrival::FromHeaders {
            fallback: shipped.now,
        },
        &shipped.config.rules,
        &shipped.config.addresses.from,
    );
    (raw, checked)
}

fn outputs(shipped: &Shipped, raw: &[u8], c: &Checked) -> Vec<Outgoing> {
    compose(
        c,
        raw,
        &shipped.templates,
        &shipped.config.addresses,
        shipped.now,
        None,
    )
    .unwrap()
}

fn texts(h: &mail_parser::HeaderValue<'_>) -> Option<Vec<String>> {
    h.as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
}

fn header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).into_owned();
    text.split("\r\n\r\n").next().unwrap_or("").to_string()
}

#[test]
fn the_reply_goes_only_to_the_reply_address_never_to_reply_to_or_from_on_their_own() {
    let shipped = Shipped::load();
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace(
            "To: amazee.io Support",
            "Reply-To: victim@third-party.example\r\nTo: amazee.io Support",
        )
    });
    assert_eq!(c.verdict.decision.as_str(), "reject");
    // What trust decided is the only thing that counts: here the verified From.
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out[0].role, Role::Reply);
    assert_eq!(out[0].to, "anna.vogel@example-clinic.ch");
    assert!(
        !out.iter()
            .any(|o| o.to.contains("third-party") && o.role == Role::Reply),
        "{:?}",
        out.iter().map(|o| &o.to).collect::<Vec<_>>()
    );
    // A Reply-To of the same organization, when trust allows it.
    c.reply_address = Some("pentest@it.example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out[0].to, "pentest@it.example-clinic.ch");
    let to = MessageParser::default().parse(&out[0].raw).unwrap();
    assert_eq!(
        to.to().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("pentest@it.example-clinic.ch")
    );
    // No verified address: nobody outside gets anything; staff are told why.
    c.reply_address = None;
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].role, Role::Staff);
    assert_eq!(out[0].to, shipped.config.addresses.staff);
    let staff = MessageParser::default().parse(&out[0].raw).unwrap();
    let text = staff.body_text(0).unwrap();
    assert!(text.contains("No automated reply was sent"), "{text}");
    assert!(text.contains("please answer by hand"), "{text}");
}

/// After the trust merge: `check` itself picks the address. A verified From with a Reply-To
/// of its own organization is answered at the Reply-To; one at a third party is not, the
/// From is; an unverified sender with a Reply-To at a third party gets nothing at all (the
/// reflection attack).
#[test]
fn reply_to_inside_the_organization_is_used_and_outside_it_is_not() {
    let shipped = Shipped::load();
    let with_reply_to = |addr: &'static str| {
        move |t: &str| {
            t.replace(
                "To: amazee.io Support",
                &format!("Reply-To: {addr}\r\nTo: amazee.io Support"),
            )
        }
    };
    let (raw, c) = variant(
        &shipped,
        with_reply_to("Pentest <pentest@it.example-clinic.ch>"),
    );
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out[0].role, Role::Reply);
    assert_eq!(out[0].to, "pentest@it.example-clinic.ch");

    let (raw, c) = variant(&shipped, with_reply_to("victim@third-party.example"));
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out[0].role, Role::Reply);
    assert_eq!(out[0].to, "anna.vogel@example-clinic.ch");

    let (raw, c) = variant(&shipped, |t| {
        with_reply_to("victim@third-party.example")(t)
            .replace(
                "dmarc=pass header.from=example-clinic.ch",
                "dmarc=fail header.from=example-clinic.ch",
            )
            .replace("dkim=pass", "dkim=fail")
            .replace("spf=pass", "spf=fail")
    });
    let out = outputs(&shipped, &raw, &c);
    assert!(
        out.iter().all(|o| o.role != Role::Reply),
        "reflected to {:?}",
        out.iter().map(|o| &o.to).collect::<Vec<_>>()
    );
    assert!(out.iter().any(|o| o.role == Role::Staff));
}

#[test]
fn a_reply_in_a_thread_answers_the_message_itself_and_keeps_the_chain() {
    let shipped = Shipped::load();
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace(
            "Message-ID: <CAM9vX2pQ4nL7rT1yB5cZ8wD3hF6jK0gE2aU4iO7sN1pM5qR9t@mail.gmail.com>",
            "Message-ID: <third@mail.example-clinic.ch>\r\nIn-Reply-To: <second@amazee.io>\r\nReferences: <root@mail.example-clinic.ch>\r\n <second@amazee.io>",
        )
    });
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    let reply = MessageParser::default().parse(&out[0].raw).unwrap();
    assert_eq!(out[0].role, Role::Reply);
    assert_eq!(
        texts(reply.in_reply_to()),
        Some(vec!["third@mail.example-clinic.ch".into()]),
        "In-Reply-To is the message answered, not the thread's root"
    );
    assert_eq!(
        texts(reply.references()),
        Some(vec![
            "root@mail.example-clinic.ch".into(),
            "second@amazee.io".into(),
            "third@mail.example-clinic.ch".into()
        ]),
        "References keep the chain in order and end with the message answered"
    );
    // The staff summary threads the same way.
    let staff = MessageParser::default()
        .parse(&out.last().unwrap().raw)
        .unwrap();
    assert_eq!(
        staff.in_reply_to().as_text(),
        Some("third@mail.example-clinic.ch")
    );
}

#[test]
fn a_long_thread_keeps_the_newest_references_and_stays_in_bounds() {
    let shipped = Shipped::load();
    let refs: Vec<String> = (0..5000).map(|i| format!("<r{i}@x.example>")).collect();
    let refs = refs.join("\r\n ");
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace(
            "X-Gm-Message-State",
            &format!("References: {refs}\r\nX-Gm-Message-State"),
        )
    });
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    let reply = MessageParser::default().parse(&out[0].raw).unwrap();
    let list = texts(reply.references()).unwrap();
    assert!(list.len() <= 10, "{}", list.len());
    // The newest reference the sender's header held comes just before the message itself.
    assert_eq!(
        list.get(list.len() - 2),
        c.letter
            .references
            .iter()
            .rev()
            .find(|r| r.as_str()
                != "CAM9vX2pQ4nL7rT1yB5cZ8wD3hF6jK0gE2aU4iO7sN1pM5qR9t@mail.gmail.com")
    );
    assert!(
        c.letter.references.len() > 100,
        "{}",
        c.letter.references.len()
    );
    assert_eq!(
        list.last().map(String::as_str),
        c.verdict.message_id.as_deref()
    );
}

/// Every header line of every output is at most 998 octets, and no line the attacker wrote
/// became a header of ours.
fn assert_headers_sound(out: &[Outgoing]) {
    for o in out {
        let head = header_block(&o.raw);
        for line in head.split("\r\n") {
            assert!(line.len() <= 998, "{} octets: {line:.120}", line.len());
            assert!(
                !line.to_ascii_lowercase().starts_with("bcc:")
                    && !line.to_ascii_lowercase().starts_with("x-injected"),
                "injected header in {:?}: {line}",
                o.role
            );
        }
        assert!(
            o.raw.len() <= 64 * 1024,
            "{:?} is {} bytes",
            o.role,
            o.raw.len()
        );
    }
}

#[test]
fn an_encoded_word_subject_with_line_breaks_injects_no_header() {
    use base64::Engine as _;
    let shipped = Shipped::load();
    let evil = "Pen test\r\nBcc: everyone@victim.example\r\nX-Injected: 1\u{202e}\u{2028}\u{85}";
    let b64 = base64::engine::general_purpose::STANDARD.encode(evil);
    let name = base64::engine::general_purpose::STANDARD.encode("Vogel\r\nBcc: x@y.example, Anna");
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace(
            "Subject: Pen test next week",
            &format!("Subject: =?utf-8?b?{b64}?="),
        )
        .replace("From: Anna Vogel <", &format!("From: =?utf-8?b?{name}?= <"))
    });
    assert!(
        c.verdict.subject.contains('\n'),
        "the decoded subject carries the break"
    );
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out.len(), 2);
    assert_headers_sound(&out);
    for o in &out {
        let m = MessageParser::default().parse(&o.raw).unwrap();
        let subject = m.subject().unwrap();
        assert!(
            !subject.chars().any(intake::render::clean::is_unsafe),
            "{subject:?}"
        );
        assert!(
            subject.contains("Bcc: everyone@victim.example"),
            "kept as text: {subject}"
        );
        let body = m.body_text(0).unwrap();
        assert!(
            !body
                .chars()
                .any(|ch| matches!(ch, '\u{202e}' | '\u{2028}' | '\u{85}')),
            "{body:?}"
        );
    }
}

#[test]
fn attacker_text_is_bounded_in_every_output() {
    let shipped = Shipped::load();
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace(
            "Subject: Pen test next week",
            &format!("Subject: {}", "Pentest ".repeat(400)),
        )
    });
    let v = &mut c.verdict;
    v.decision = intake::model::Decision::Accept;
    v.request.scope = Some(format!("{}\u{1b}[2J", "OWASP ".repeat(5000)));
    v.request.targets = (0..40_000)
        .map(|i| format!("h{i}.example-clinic.ch"))
        .collect();
    v.request.originating_ips = (0..40_000u32)
        .map(|i| {
            ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(0x0b00_0000 + i), 32)
                .unwrap()
                .into()
        })
        .collect();
    v.request.contact.name = Some("x".repeat(100_000));
    v.problems = (0..200)
        .map(|i| {
            intake::model::Problem::new(
                intake::model::ProblemCode::MissingInformation,
                format!("problem {i} {}", "y".repeat(2000)),
            )
        })
        .collect();
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out.len(), 3);
    assert_headers_sound(&out);
    let staff = MessageParser::default().parse(&out[2].raw).unwrap();
    let text = staff.body_text(0).unwrap();
    assert!(text.contains("... and 180 more"), "{text:.3000}");
    assert!(
        text.contains("and 39980 more"),
        "targets and addresses say how many more"
    );
    assert!(!text.contains('\u{1b}'));
    assert!(!text.contains(&"y".repeat(600)), "problem texts are cut");
    assert!(!text.contains(&"x".repeat(400)), "contact names are cut");

    c.verdict.decision = intake::model::Decision::Reject;
    let out = outputs(&shipped, &raw, &c);
    let reply = MessageParser::default().parse(&out[0].raw).unwrap();
    let text = reply.body_text(0).unwrap();
    assert!(text.contains("... and 180 more"), "{text:.3000}");
    assert!(text.contains("  20. problem 19"), "{text:.3000}");
    assert!(!text.contains("21. problem 20"));
}

#[test]
fn a_person_is_greeted_by_name_an_address_never() {
    let shipped = Shipped::load();
    for (from, contact, greeting) in [
        ("\"Vogel, Anna\" <", "Anna Vogel, ", "Hello Anna Vogel,"),
        ("Anna Vogel <", "", "Hello Anna Vogel,"),
        ("\"anna.vogel@example-clinic.ch\" <", "", ""),
        // The display name is an address: the contact's name is used instead.
        (
            "\"anna.vogel@example-clinic.ch\" <",
            "Anna Vogel, ",
            "Hello Anna Vogel,",
        ),
        ("\"https://evil.example/login\" <", "", ""),
        ("\"www.example-clinic.ch\" <", "", ""),
        ("<", "", ""),
        ("<", "Anna Vogel, ", "Hello Anna Vogel,"),
    ] {
        let (raw, mut c) = variant(&shipped, |t| {
            t.replace("From: Anna Vogel <", &format!("From: {from}"))
                .replace("Contact: Anna Vogel, ", &format!("Contact: {contact}"))
        });
        c.reply_address = Some("anna.vogel@example-clinic.ch".into());
        let out = outputs(&shipped, &raw, &c);
        let m = MessageParser::default().parse(&out[0].raw).unwrap();
        let text = m.body_text(0).unwrap();
        let first = text.lines().next().unwrap_or("");
        if greeting.is_empty() {
            // Without a usable name: a neutral greeting (or the signature's first name),
            // never the address or the link.
            assert!(first.starts_with("Hello"), "{first}");
            assert!(
                !first.contains(['@', '/', '.']) && !first.contains("www"),
                "{from} / {contact}: {first}"
            );
        } else {
            assert_eq!(first, greeting, "{from} / {contact}");
        }
    }
}

/// Addresses lettre may refuse: whatever happens to the reply, the caller gets outputs,
/// never an error; a refused one makes the message a review with a notice to staff that
/// carries the original.
#[test]
fn an_address_lettre_refuses_makes_a_review_with_a_notice_not_an_error() {
    let shipped = Shipped::load();
    let mut refused = 0;
    for addr in [
        "jane..doe@example-clinic.ch",
        ".jane@example-clinic.ch",
        "jane.@example-clinic.ch",
        "\"jane doe\"@example-clinic.ch",
        "jane@[192.0.2.1]",
        "jane@exämple-clinic.ch",
        "jäne@example-clinic.ch",
        &format!("{}@example-clinic.ch", "a".repeat(300)),
        &format!("jane@{}.example-clinic.ch", "b".repeat(300)),
        "jane@example-clinic.ch\r\nBcc: x@y.example",
    ] {
        let (raw, mut c) = variant(&shipped, |t| t.to_string());
        c.reply_address = Some(addr.to_string());
        let (out, failure) = compose_or_notice(
            &mut c,
            &raw,
            &shipped.templates,
            &shipped.config.addresses,
            shipped.now,
            None,
        )
        .unwrap();
        assert_headers_sound(&out);
        match failure {
            None => {
                assert_eq!(out[0].role, Role::Reply, "{addr}");
                assert_eq!(c.verdict.decision.as_str(), "reject");
            }
            Some(e) => {
                refused += 1;
                assert_eq!(c.verdict.decision.as_str(), "review", "{addr}");
                assert_eq!(out.len(), 1, "{addr}");
                assert_eq!(out[0].role, Role::Staff);
                assert_eq!(out[0].to, shipped.config.addresses.staff);
                let m = MessageParser::default().parse(&out[0].raw).unwrap();
                assert!(m.subject().unwrap().contains("REVIEW"), "{addr}");
                assert!(m.body_text(0).unwrap().contains(&e[..e.len().min(40)]));
                let att = m.attachment(0).expect("the original is attached");
                let inner = att.message().expect("as message/rfc822");
                assert_eq!(inner.message_id(), c.verdict.message_id.as_deref());
            }
        }
    }
    assert!(refused >= 3, "only {refused} addresses were refused");
}

#[test]
fn ignored_mail_gets_a_short_summary_but_our_own_mail_none() {
    let shipped = Shipped::load();
    let (raw, c) = shipped.check("041-out-of-office-ignore");
    assert_eq!(c.verdict.decision.as_str(), "ignore");
    let out = outputs(&shipped, &raw, &c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].role, Role::Staff);
    let m = MessageParser::default().parse(&out[0].raw).unwrap();
    assert!(m.subject().unwrap().starts_with("[intake] IGNORE"));

    // Our own summary coming back (staff and support share a mailbox): nothing, or it
    // would loop.
    let (raw, c) = {
        let raw = out[0].raw.clone();
        let c = check(
            &raw,
            Arrival::Known(shipped.now),
            &shipped.config.rules,
            &shipped.config.addresses.from,
        );
        (raw, c)
    };
    assert_eq!(c.verdict.decision.as_str(), "ignore");
    assert!(outputs(&shipped, &raw, &c).is_empty());

    // A bounce of one of our messages (it quotes our headers): nothing either.
    let bounce = format!(
        "From: MAILER-DAEMON@mx.example-clinic.ch\r\nTo: support@amazee.io\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.example-clinic.ch>\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n{}\r\n",
        header_block(&out[0].raw)
    );
    let c = check(
        bounce.as_bytes(),
        Arrival::Known(shipped.now),
        &shipped.config.rules,
        &shipped.config.addresses.from,
    );
    assert_eq!(c.verdict.decision.as_str(), "ignore");
    assert!(outputs(&shipped, bounce.as_bytes(), &c).is_empty());
}

/// A Message-ID or a reference that could break our headers (spaces, brackets, line
/// breaks) is never echoed: not as In-Reply-To, not in References. The reader keeps such
/// values as written, so compose is the last line.
#[test]
fn message_ids_that_could_break_a_header_are_never_echoed() {
    let shipped = Shipped::load();
    let (raw, mut c) = variant(&shipped, |t| t.to_string());
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    for evil in [
        "two words@mail.example-clinic.ch",
        "a<b>@mail.example-clinic.ch",
        "x@evil.example>\r\nBcc: all@victim.example",
        "tab\there@mail.example-clinic.ch",
    ] {
        c.verdict.message_id = Some(evil.into());
        c.letter.references = vec![evil.into()];
        let out = outputs(&shipped, &raw, &c);
        assert_headers_sound(&out);
        for o in &out {
            let head = header_block(&o.raw).to_ascii_lowercase();
            assert!(!head.contains("in-reply-to:"), "{evil:?} echoed: {head}");
            assert!(!head.contains("references:"), "{evil:?} echoed: {head}");
        }
    }
    // A sound Message-ID is answered, and only the sound references of its thread stay.
    c.verdict.message_id = Some("third@mail.example-clinic.ch".into());
    c.letter.references = vec![
        "root@mail.example-clinic.ch".into(),
        "bad ref@mail.example-clinic.ch".into(),
        "also<bad>@mail.example-clinic.ch".into(),
        "second@amazee.io".into(),
    ];
    let out = outputs(&shipped, &raw, &c);
    let reply = MessageParser::default().parse(&out[0].raw).unwrap();
    assert_eq!(
        texts(reply.references()),
        Some(vec![
            "root@mail.example-clinic.ch".into(),
            "second@amazee.io".into(),
            "third@mail.example-clinic.ch".into()
        ])
    );
    let head = header_block(&out[0].raw);
    assert!(!head.contains("bad"), "{head}");
}

/// The parsed outputs of `raw`, rendered with `templates`: (role, subject, body text).
fn parsed(
    shipped: &Shipped,
    templates: &Templates,
    raw: &[u8],
    c: &Checked,
) -> Vec<(Role, String, String)> {
    compose(
        c,
        raw,
        templates,
        &shipped.config.addresses,
        shipped.now,
        None,
    )
    .unwrap()
    .iter()
    .map(|o| {
        let m = MessageParser::default().parse(&o.raw).unwrap();
        (
            o.role,
            m.subject().unwrap_or_default().to_string(),
            m.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
        )
    })
    .collect()
}

#[test]
fn a_german_notification_gets_a_german_acceptance_and_staff_mail_stays_english() {
    let shipped = Shipped::load();
    assert_eq!(
        (
            shipped.config.language.as_str(),
            shipped.config.staff_language.as_str()
        ),
        ("en", "en"),
        "the shipped config"
    );
    let (raw, c) = shipped.check("004-german-pentest-latin1-accept");
    assert_eq!(c.verdict.decision.as_str(), "accept");
    let out = parsed(&shipped, &shipped.templates, &raw, &c);
    let roles: Vec<Role> = out.iter().map(|o| o.0).collect();
    assert_eq!(roles, [Role::Reply, Role::Security, Role::Staff]);

    let (_, subject, body) = &out[0];
    let reference = &c.verdict.reference;
    assert_eq!(
        subject,
        &format!("Re: Anmeldung Penetrationstest Kundenportal – Dezember [{reference}] akzeptiert")
    );
    assert!(body.starts_with("Guten Tag Jürg Baumann\n"), "{body}");
    for phrase in [
        "Vielen Dank, dass Sie uns Ihren Sicherheits- bzw. Penetrationstest angemeldet haben.",
        "unter der Referenz",
        "Quell-IP-Adressen: 194.230.144.22/32, 194.230.144.23/32",
        "2026-12-14 09:00 CET bis 2026-12-18 17:00 CET",
        "Anfragen/s",
        "Freundliche Grüsse",
    ] {
        assert!(body.contains(phrase), "{phrase} in:\n{body}");
    }
    assert!(!body.contains("Kind regards"), "{body}");

    let (_, subject, body) = &out[1];
    assert!(
        subject.starts_with("[intake] Approved test window"),
        "{subject}"
    );
    assert!(body.contains("Originating IPs:"), "{body}");
    assert!(body.contains("requests/s"), "{body}");
    let (_, subject, body) = &out[2];
    assert!(subject.starts_with("[intake] ACCEPT"), "{subject}");
    assert!(body.contains("Decision: accept"), "{body}");
    assert!(body.contains("\nReply language: de\n"), "{body}");
    assert!(
        body.contains("An acceptance was sent to the customer"),
        "{body}"
    );
}

#[test]
fn a_german_rejection_names_the_problems_and_missing_items_in_german() {
    let shipped = Shipped::load();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(root.join("fixtures/corpus/004-german-pentest-latin1-accept.eml"))
            .unwrap();
    // Without the source addresses, and on 1 December: missing item and too short notice.
    let raw = text
        .replace("Quell-IP: 194.230.144.22 und 194.230.144.23\n", "")
        .into_bytes();
    let late = Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap();
    let c = check(
        &raw,
        Arrival::Known(late),
        &shipped.config.rules,
        &shipped.config.addresses.from,
    );
    assert_eq!(c.verdict.decision.as_str(), "reject", "{:?}", c.verdict);
    let out = parsed(&shipped, &shipped.templates, &raw, &c);
    let (role, subject, body) = &out[0];
    assert_eq!(*role, Role::Reply);
    assert!(subject.ends_with("] Handlungsbedarf"), "{subject}");
    for phrase in [
        "leider noch nicht akzeptieren",
        "In Ihrer Meldung fehlen Angaben: Quell-IP-Adressen oder -Bereiche, von denen der Testverkehr kommt.",
        "Die Vorlaufzeit ist zu kurz.",
        "(Details: The test starts",
        "  - Quell-IP-Adressen oder -Bereiche",
        "der früheste Beginn",
        "Bitte beginnen Sie erst mit dem Test",
    ] {
        assert!(body.contains(phrase), "{phrase} in:\n{body}");
    }
    // The missing item's English detail is not repeated: the German lead says all of it.
    assert!(!body.contains("does not say"), "{body}");
    let (_, _, staff) = out.last().unwrap();
    assert!(staff.contains("[missing_information] The notification does not say"));
    assert!(staff.contains("A rejection listing the problems above was sent"));
}

#[test]
fn the_configured_language_is_used_when_the_text_gives_no_clue() {
    let shipped = Shipped::load();
    // The 016 rejection without its English sentences: only field labels are left.
    let (raw, mut c) = variant(&shipped, |t| {
        t.replace("Hi amazee team,", "")
            .replace(
                "Short notice, sorry: our pen tester has a free slot next week.",
                "",
            )
            .replace("Thanks a lot!", "")
    });
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    assert_eq!(intake::render::language::of_message(&c), None);
    let german = Templates::load(&shipped.config.templates_dir)
        .unwrap()
        .with_languages(Lang::De, Lang::En);
    let out = parsed(&shipped, &german, &raw, &c);
    assert!(out[0].1.ends_with("] Handlungsbedarf"), "{}", out[0].1);
    assert!(
        out[0].2.starts_with("Guten Tag Anna Vogel\n"),
        "{}",
        out[0].2
    );
    assert!(out[1].2.contains("Reply language: de"), "{}", out[1].2);
    let out = parsed(&shipped, &shipped.templates, &raw, &c);
    assert!(out[0].1.ends_with("] action needed"), "{}", out[0].1);
    assert!(out[1].2.contains("Reply language: en"), "{}", out[1].2);

    // A text that reads as English stays English whatever the default.
    let (raw, mut c) = variant(&shipped, |t| t.to_string());
    c.reply_address = Some("anna.vogel@example-clinic.ch".into());
    let out = parsed(&shipped, &german, &raw, &c);
    assert!(out[0].1.ends_with("] action needed"), "{}", out[0].1);
    assert!(out[0].2.starts_with("Hello Anna Vogel,"), "{}", out[0].2);
}

#[test]
fn staff_and_security_mail_follow_staff_language() {
    let shipped = Shipped::load();
    let templates = Templates::load(&shipped.config.templates_dir)
        .unwrap()
        .with_languages(Lang::En, Lang::De);
    let (raw, c) = shipped.check("001-pentest-plain-accept");
    let out = parsed(&shipped, &templates, &raw, &c);
    assert!(out[0].1.ends_with("] accepted"), "{}", out[0].1);
    assert!(out[0].2.contains("Kind regards"), "{}", out[0].2);
    assert!(
        out[1].1.starts_with("[intake] Genehmigtes Testfenster"),
        "{}",
        out[1].1
    );
    assert!(out[1].2.contains("Quell-IP-Adressen:"), "{}", out[1].2);
    assert!(out[2].2.contains("Entscheid: accept"), "{}", out[2].2);
    assert!(out[2].2.contains("Antwortsprache: en"), "{}", out[2].2);
    assert!(
        out[2]
            .2
            .contains("Dem Kunden wurde eine Bestätigung gesendet"),
        "{}",
        out[2].2
    );
}

#[test]
fn the_german_templates_are_required_at_start() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for t in intake::render::Template::ALL {
        std::fs::copy(
            root.join("templates").join(t.file_name()),
            dir.path().join(t.file_name()),
        )
        .unwrap();
    }
    let err = Templates::load(dir.path()).unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("de/acceptance.txt"), "{err}");
    std::fs::create_dir(dir.path().join("de")).unwrap();
    for t in intake::render::Template::ALL {
        std::fs::copy(
            root.join("templates/de").join(t.file_name()),
            dir.path().join("de").join(t.file_name()),
        )
        .unwrap();
    }
    Templates::load(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("de/rejection.txt"),
        "Subject: x\n\n{{ no_such_variable }}",
    )
    .unwrap();
    let err = format!("{:#}", Templates::load(dir.path()).unwrap_err());
    assert!(err.contains("de/rejection.txt"), "{err}");
}
