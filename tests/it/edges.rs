//! End-to-end tests of the I/O edges: the IMAP and Maildir sources and the SMTP and file
//! outboxes against real Dovecot and Postfix on loopback.

// Real time on purpose: these tests date mail for, and compare with, real Dovecot, Postfix and
// the `intake` binary, which all run on the system clock (clippy.toml bans it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use intake::sink::{Envelope, FileConfig, OutboxConfig, SendError, SmtpOutbox};
use intake::source::{
    AuthMethod, Backoff, ImapSource, MaildirConfig, MaildirSource, Security, SourceError, Wake,
};

use crate::mailservers::{DISRUPT, MailServers, shared};

fn servers() -> Option<&'static MailServers> {
    shared()
}

fn message(subject: &str, id: &str, body_len: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Customer <customer@example.test>\r\nTo: support@amazee.test\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Thu, 01 Jan 2026 09:00:00 +0100\r\n\r\n"
    )
    .into_bytes();
    while m.len() < body_len {
        m.extend_from_slice(b"We plan a load test of www.example.test from 198.51.100.7.\r\n");
    }
    m
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{n}")
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_starttls_fetch_sizes_dates_tags_without_seen() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("fetch");
    let small = [
        message("one", "one@example.test", 300),
        message("two", "two@example.test", 600),
    ];
    let big = message("big", "big@example.test", 20_000);
    ms.imap_append(
        "support",
        &folder,
        &small[0],
        Some("01-Jan-2026 10:00:00 +0100"),
    )
    .await;
    ms.imap_append("support", &folder, &small[1], None).await;
    ms.imap_append("support", &folder, &big, None).await;

    let cfg = ms.imap_config("support", &folder);
    let mut src = ImapSource::connect(&cfg)
        .await
        .expect("connect over STARTTLS with the CA");
    assert!(src.caps().idle, "Dovecot offers IDLE");
    let st = src.select().await.unwrap();
    assert!(st.uid_validity > 0);
    assert_eq!(st.exists, 3);
    assert!(st.uid_next >= 4);

    let got = src.fetch_after(0, 10_000).await.unwrap();
    assert_eq!(got.len(), 3);
    let uids: Vec<u32> = got.iter().map(|m| m.uid).collect();
    assert!(
        uids.windows(2).all(|w| w[0] < w[1]),
        "ascending UIDs: {uids:?}"
    );
    assert_eq!(got[0].raw.as_deref(), Some(small[0].as_slice()));
    assert_eq!(got[1].raw.as_deref(), Some(small[1].as_slice()));
    assert_eq!(got[0].size, small[0].len() as u64);
    assert_eq!(got[2].size, big.len() as u64);
    assert_eq!(
        got[2].raw, None,
        "over max_bytes: size known, body not fetched"
    );
    assert_eq!(got[2].message_id.as_deref(), Some("big@example.test"));
    assert_eq!(got[0].message_id.as_deref(), Some("one@example.test"));
    assert_eq!(
        got[0].internal_date,
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
        "INTERNALDATE from APPEND, converted to UTC"
    );
    let age = Utc::now() - got[1].internal_date;
    assert!(
        age.num_seconds().abs() < 120,
        "fresh APPEND gets the current time: {age}"
    );

    // Nothing after the last UID; `n:*` past the end must not return the last message again.
    assert!(
        src.fetch_after(got[2].uid, 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    let tail = src.fetch_after(got[0].uid, 10_000).await.unwrap();
    assert_eq!(tail.iter().map(|m| m.uid).collect::<Vec<_>>(), uids[1..]);

    src.tag(got[0].uid, "$intake-accepted").await.unwrap();
    src.tag(got[1].uid, "$intake-review").await.unwrap();
    assert!(matches!(
        src.tag(got[1].uid, "bad keyword").await,
        Err(SourceError::Config(_))
    ));

    // Seen from a second, independent connection: tags persisted, nothing marked read.
    let mut other = ImapSource::connect(&cfg).await.unwrap();
    other.select().await.unwrap();
    let f0 = other.flags(got[0].uid).await.unwrap();
    let f1 = other.flags(got[1].uid).await.unwrap();
    let f2 = other.flags(got[2].uid).await.unwrap();
    assert!(f0.iter().any(|f| f == "$intake-accepted"), "{f0:?}");
    assert!(f1.iter().any(|f| f == "$intake-review"), "{f1:?}");
    for f in [&f0, &f1, &f2] {
        assert!(
            !f.iter().any(|x| x == "\\Seen"),
            "BODY.PEEK must not set \\Seen: {f:?}"
        );
    }
    other.logout().await;
    src.logout().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_move_to_handled_folder() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("move");
    let handled = unique("handled");
    ms.imap_append(
        "staff",
        &folder,
        &message("m1", "m1@example.test", 100),
        None,
    )
    .await;
    ms.imap_append(
        "staff",
        &folder,
        &message("m2", "m2@example.test", 100),
        None,
    )
    .await;
    let mut src = ImapSource::connect(&ms.imap_config("staff", &folder))
        .await
        .unwrap();
    src.select().await.unwrap();
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 2);
    // The target folder does not exist yet: TRYCREATE, create, retry.
    src.move_to(got[0].uid, &handled).await.unwrap();
    src.logout().await;
    let left = ms.imap_fetch_all("staff", &folder).await;
    let moved = ms.imap_fetch_all("staff", &handled).await;
    assert_eq!(left.len(), 1);
    assert_eq!(moved.len(), 1);
    assert!(String::from_utf8_lossy(&moved[0]).contains("m1@example.test"));
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_idle_wakes_promptly_on_append() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("idle");
    ms.imap_create("security", &folder).await;
    let mut src = ImapSource::connect(&ms.imap_config("security", &folder))
        .await
        .unwrap();
    src.select().await.unwrap();
    assert!(src.fetch_after(0, 1 << 20).await.unwrap().is_empty());

    // Quiet folder: the wait ends at `max` with Quiet and the connection stays usable.
    let t0 = Instant::now();
    assert_eq!(src.wait(Duration::from_secs(1)).await.unwrap(), Wake::Quiet);
    assert!(t0.elapsed() < Duration::from_secs(4));
    assert!(src.is_connected());

    let raw = message("idle", "idle@example.test", 200);
    let f2 = folder.clone();
    let appender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        ms.imap_append("security", &f2, &raw, None).await;
    });
    let t0 = Instant::now();
    let wake = src.wait(Duration::from_secs(60)).await.unwrap();
    let took = t0.elapsed();
    appender.await.unwrap();
    assert_eq!(wake, Wake::Changed);
    assert!(
        took < Duration::from_secs(5),
        "IDLE noticed the APPEND after {took:?}"
    );
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id.as_deref(), Some("idle@example.test"));
    src.logout().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_reconnects_after_dovecot_restart() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.write().await;
    let folder = unique("restart");
    ms.imap_append("loop", &folder, &message("r", "r@example.test", 100), None)
        .await;
    let cfg = ms.imap_config("loop", &folder);
    let mut src = ImapSource::connect(&cfg).await.unwrap();
    let before = src.select().await.unwrap();

    ms.script("restart-dovecot");

    // The old connection is dead: the next command fails with a transient error that asks
    // for a reconnect (or, at worst, the wait notices).
    let err = match src.fetch_after(0, 1 << 20).await {
        Err(e) => e,
        Ok(_) => src.wait(Duration::from_secs(2)).await.unwrap_err(),
    };
    assert!(err.is_transient() && err.needs_reconnect(), "{err:?}");
    assert!(!src.is_connected());
    assert!(matches!(src.select().await, Err(SourceError::NotConnected)));

    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let t0 = Instant::now();
    let mut src = loop {
        match ImapSource::connect(&cfg).await {
            Ok(s) => break s,
            Err(e) => {
                assert!(e.is_transient(), "{e}");
                assert!(t0.elapsed() < Duration::from_secs(30), "no reconnect: {e}");
                tokio::time::sleep(backoff.next()).await;
            }
        }
    };
    let after = src.select().await.unwrap();
    assert_eq!(
        after.uid_validity, before.uid_validity,
        "same folder, same UIDVALIDITY"
    );
    assert_eq!(src.fetch_after(0, 1 << 20).await.unwrap().len(), 1);
    src.logout().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_refuses_untrusted_certificate_and_wrong_password() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let mut cfg = ms.imap_config("support", "INBOX");
    cfg.ca_file = None;
    let e = ImapSource::connect(&cfg).await.unwrap_err();
    assert!(
        matches!(e, SourceError::Tls(_)),
        "test CA not trusted without ca_file: {e}"
    );

    let mut cfg = ms.imap_config("support", "INBOX");
    cfg.password = Some("wrong".into());
    let e = ImapSource::connect(&cfg).await.unwrap_err();
    assert!(matches!(e, SourceError::Auth(_)), "{e}");
    assert!(!e.is_transient(), "a wrong password is not retried blindly");

    // Loopback plaintext with SASL PLAIN works (and is allowed only because it is loopback).
    let mut cfg = ms.imap_config("support", "INBOX");
    cfg.security = Security::None;
    cfg.ca_file = None;
    cfg.auth = AuthMethod::Plain;
    let mut src = ImapSource::connect(&cfg).await.unwrap();
    assert!(src.select().await.unwrap().uid_validity > 0);
    src.logout().await;

    // A folder that does not exist is a NO, not a connection problem.
    let mut src = ImapSource::connect(&ms.imap_config("support", "Nope"))
        .await
        .unwrap();
    let e = src.select().await.unwrap_err();
    assert!(matches!(e, SourceError::No { .. }), "{e}");
    assert!(!e.needs_reconnect());
    src.logout().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_delivers_through_postfix_into_the_mailbox() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let id = unique("reply");
    let raw = format!(
        "From: Support <support@amazee.test>\r\nTo: customer@example.test\r\n\
         Subject: Re: load test {id}\r\nMessage-ID: <{id}@amazee.test>\r\n\
         Auto-Submitted: auto-replied\r\n\r\nThanks, your test is accepted.\r\n"
    );
    let out = SmtpOutbox::new(&ms.smtp_config()).unwrap();
    assert!(out.test_connection().await.unwrap());
    let env = Envelope {
        from: None,
        to: vec![ms.address("customer")],
    };
    use intake::sink::Outbox;
    out.send(&env, raw.as_bytes()).await.unwrap();
    // A second message over the same pooled transport.
    let raw2 = raw
        .replace("accepted", "still accepted")
        .replace(&id, &format!("{id}-2"));
    out.send(&env, raw2.as_bytes()).await.unwrap();

    let t0 = Instant::now();
    let found = loop {
        let all = ms.imap_fetch_all("customer", "INBOX").await;
        let mine: Vec<String> = all
            .iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .filter(|m| m.contains(&id))
            .collect();
        if mine.len() >= 2 || t0.elapsed() > Duration::from_secs(20) {
            break mine;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(found.len(), 2, "both replies delivered via LMTP");
    let first = found.iter().find(|m| !m.contains("still")).unwrap();
    assert!(first.contains("Thanks, your test is accepted."));
    assert!(
        first.contains("Return-Path: <>"),
        "null sender kept:\n{first}"
    );
    assert!(
        first.contains("Auto-Submitted: auto-replied"),
        "headers sent as-is"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_unknown_recipient_is_permanent() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    let r = ms
        .smtp_send(
            "support@amazee.test",
            &["nobody@example.test"],
            b"Subject: x\r\n\r\nx\r\n",
        )
        .await;
    assert!(matches!(r, Err(SendError::Permanent(_))), "{r:?}");
    let r = ms
        .smtp_send(
            "support@amazee.test",
            &["someone@elsewhere.invalid"],
            b"Subject: x\r\n\r\nx\r\n",
        )
        .await;
    assert!(
        matches!(r, Err(SendError::Permanent(_))),
        "no relaying: {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_down_is_transient_and_recovers() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.write().await;
    let out = SmtpOutbox::new(&ms.smtp_config()).unwrap();
    let env = Envelope {
        from: Some(ms.address("support")),
        to: vec![ms.address("staff")],
    };
    let id = unique("down");
    let raw =
        format!("From: support@amazee.test\r\nTo: staff@amazee.test\r\nSubject: {id}\r\n\r\nx\r\n");
    use intake::sink::Outbox;
    // Warm the pool so the stop also kills a pooled connection.
    out.send(&env, raw.as_bytes()).await.unwrap();

    ms.script("stop-postfix");
    let r = out.send(&env, raw.as_bytes()).await;
    ms.script("start-postfix");
    assert!(matches!(r, Err(SendError::Transient(_))), "{r:?}");

    // Back up: the same outbox works again without being rebuilt.
    let t0 = Instant::now();
    loop {
        match out.send(&env, raw.as_bytes()).await {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    e.is_transient() && t0.elapsed() < Duration::from_secs(20),
                    "{e}"
                );
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    let t0 = Instant::now();
    loop {
        let n = ms
            .imap_fetch_all("staff", "INBOX")
            .await
            .iter()
            .filter(|m| String::from_utf8_lossy(m).contains(&id))
            .count();
        if n >= 2 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "only {n} of 2 delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn file_outbox_writes_eml() {
    let d = tempfile::tempdir().unwrap();
    let cfg = OutboxConfig::File(FileConfig {
        path: d.path().join("outbox"),
    });
    let out = cfg.build().unwrap();
    let raw =
        b"From: support@amazee.test\r\nTo: customer@example.test\r\nSubject: Re: x\r\n\r\nok\r\n";
    let env = Envelope {
        from: None,
        to: vec!["customer@example.test".into()],
    };
    out.send(&env, raw).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(d.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    assert_eq!(std::fs::read(&files[0]).unwrap(), raw);
    let bad = Envelope {
        from: None,
        to: vec!["no at sign".into()],
    };
    assert!(matches!(
        out.send(&bad, raw).await,
        Err(SendError::Permanent(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn maildir_source_reads_what_dovecot_delivered() {
    let Some(ms) = servers() else { return };
    let _g = DISRUPT.read().await;
    // The "loop" user's INBOX is a real Maildir written by Dovecot's LMTP.
    let cfg = MaildirConfig {
        path: ms.maildir("loop"),
        seed_from: None,
    };
    let id = unique("md");
    let raw = format!(
        "From: customer@example.test\r\nTo: loop@amazee.test\r\nSubject: {id}\r\n\r\nx\r\n"
    );
    ms.smtp_send(
        "customer@example.test",
        &["loop@amazee.test"],
        raw.as_bytes(),
    )
    .await
    .unwrap();
    ms.wait_for_count("loop", "INBOX", 1, Duration::from_secs(20))
        .await;

    let mut src = MaildirSource::new(&cfg).unwrap();
    let got = src.fetch_new(1 << 20).await.unwrap();
    let mine: Vec<_> = got
        .iter()
        .filter(|m| String::from_utf8_lossy(m.raw.as_deref().unwrap_or(b"")).contains(&id))
        .collect();
    assert_eq!(mine.len(), 1, "{got:?}");
    assert!((Utc::now() - mine[0].arrived).num_seconds().abs() < 120);
    // Already seen: not listed again.
    assert!(src.fetch_new(1 << 20).await.unwrap().is_empty());
    assert_eq!(
        src.wait(Duration::from_millis(100)).await.unwrap(),
        Wake::Quiet
    );

    let id2 = unique("md2");
    let raw2 = raw.replace(&id, &id2);
    ms.smtp_send(
        "customer@example.test",
        &["loop@amazee.test"],
        raw2.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        src.wait(Duration::from_secs(20)).await.unwrap(),
        Wake::Changed
    );
    let got = src.fetch_new(1 << 20).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(String::from_utf8_lossy(got[0].raw.as_deref().unwrap()).contains(&id2));
}
