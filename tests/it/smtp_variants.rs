//! End-to-end tests of the SMTP outbox over implicit TLS (`security = "tls"`, like port 465)
//! against the real Postfix of scripts/mailservers.sh (its `SMTPS_PORT` wrapper-mode listener),
//! delivering through Dovecot into the recipient's mailbox.

// Real time on purpose: these tests date mail for, and compare with, real Dovecot, Postfix and
// the `intake` binary, which all run on the system clock (clippy.toml bans it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use intake::sink::{Envelope, Outbox, SendError, SmtpOutbox};

use crate::mailservers::{DISRUPT, MailServers, shared};

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{n}")
}

/// Writes straight to stderr: measurements for whoever runs the tests with `--nocapture`.
fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// A reply as intake sends it, with a unique Message-ID, 8-bit text and a line starting with a
/// dot (which must survive dot-stuffing on the way).
fn reply(id: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Support <support@amazee.test>\r\nTo: customer@example.test\r\n\
         Subject: Re: Lasttest {id} #{n}\r\nMessage-ID: <{id}.{n}@amazee.test>\r\n\
         Date: Thu, 01 Jan 2026 09:00:00 +0100\r\nAuto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         Grüezi, your load test is accepted (#{n}).\r\n.hidden line starting with a dot\r\n\
         ..and one with two\r\n-- \r\nSupport\r\n"
    )
    .into_bytes()
}

/// The messages in `user`'s INBOX that mention `needle`, once there are at least `n` of them
/// (panics after 30 s).
async fn wait_for(ms: &MailServers, user: &str, needle: &str, n: usize) -> Vec<Vec<u8>> {
    let t0 = Instant::now();
    loop {
        let mine: Vec<Vec<u8>> = ms
            .imap_fetch_all(user, "INBOX")
            .await
            .into_iter()
            .filter(|m| String::from_utf8_lossy(m).contains(needle))
            .collect();
        if mine.len() >= n {
            return mine;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{user}: {} of {n} messages with {needle}",
            mine.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// True when `raw` arrived byte for byte as the end of the delivered message `m`, after the
/// trace headers Postfix and Dovecot prepend (no empty line added at the end either).
fn arrived_unchanged(m: &[u8], raw: &[u8]) -> bool {
    m.ends_with(raw)
}

/// The `Received:` header Postfix added (Dovecot's LMTP adds another above it), unfolded.
fn postfix_received(m: &[u8]) -> String {
    let text = String::from_utf8_lossy(m);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        match fields.last_mut() {
            Some(f) if line.starts_with(' ') || line.starts_with('\t') => {
                f.push(' ');
                f.push_str(line.trim());
            }
            _ => fields.push(line.to_string()),
        }
    }
    fields
        .into_iter()
        .find(|f| f.to_ascii_lowercase().starts_with("received:") && f.contains("(Postfix)"))
        .unwrap_or_default()
}

fn to_customer(ms: &MailServers) -> Envelope {
    Envelope {
        from: Some(ms.address("support")),
        to: vec![ms.address("customer")],
    }
}

/// A message sent over implicit TLS arrives byte for byte (Postfix and Dovecot only prepend
/// their trace headers), and Postfix saw it over TLS (`with ESMTPS`, RFC 3848).
#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_delivers_the_message_unchanged() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let id = unique("smtps-one");
    let raw = reply(&id, 1);
    let out = SmtpOutbox::new(&ms.smtps_config()).unwrap();
    assert!(out.test_connection().await.unwrap());
    out.send(&to_customer(ms), &raw).await.unwrap();

    let got = wait_for(ms, "customer", &id, 1).await;
    assert_eq!(got.len(), 1, "delivered once");
    let m = &got[0];
    assert!(
        arrived_unchanged(m, &raw),
        "content changed on the way:\n{}",
        String::from_utf8_lossy(m)
    );
    let text = String::from_utf8_lossy(m);
    assert!(text.contains(&format!("Message-ID: <{id}.1@amazee.test>")));
    assert!(text.contains("\r\n.hidden line starting with a dot\r\n"));
    assert!(text.contains("Grüezi"));
    let r = postfix_received(m);
    assert!(r.contains("with ESMTPS "), "not over TLS: {r}");
}

/// AUTH PLAIN works over implicit TLS (lettre does not know the stream we hand it is
/// encrypted, which must not matter), Postfix records the authenticated TLS submission
/// (`with ESMTPSA`), and a wrong password is a transient failure that names the cause (the
/// messages are kept until the configuration is fixed).
#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_with_auth() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let var = format!("INTAKE_IT_SMTP_PASSWORD_{}", std::process::id());
    let wrong = format!("INTAKE_IT_SMTP_WRONG_PASSWORD_{}", std::process::id());
    // SAFETY: variables no other code reads, set before the outboxes that read them are built;
    // std serialises its own environment accesses.
    unsafe {
        std::env::set_var(&var, ms.password("support"));
        std::env::set_var(&wrong, "not-the-password");
    }
    let mut cfg = ms.smtps_config();
    cfg.username = Some("support".into());
    cfg.password_env = Some(var);
    let out = SmtpOutbox::new(&cfg).unwrap();
    let id = unique("smtps-auth");
    let raw = reply(&id, 1);
    out.send(&to_customer(ms), &raw).await.unwrap();
    let got = wait_for(ms, "customer", &id, 1).await;
    assert!(arrived_unchanged(&got[0], &raw));
    let r = postfix_received(&got[0]);
    assert!(
        r.contains("with ESMTPSA "),
        "not authenticated over TLS: {r}"
    );

    cfg.password_env = Some(wrong);
    let out = SmtpOutbox::new(&cfg).unwrap();
    let r = out.send(&to_customer(ms), &reply(&id, 2)).await;
    assert!(
        matches!(&r, Err(SendError::Transient(e)) if e.contains("535") && e.contains("AUTH")),
        "{r:?}"
    );
}

/// 20 messages one after another over one pooled implicit-TLS connection, then 20 more four
/// at a time (as the watch loop sends): all 40 arrive, each exactly once. The time of the
/// sequential part is printed (with Nagle's algorithm on, each message would wait ~40 ms for
/// the server's delayed ACK).
#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_burst_over_the_pool_arrives_complete() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let id = unique("smtps-burst");
    let out = SmtpOutbox::new(&ms.smtps_config()).unwrap();
    let env = to_customer(ms);
    // Opens the connection the sequential sends reuse.
    out.send(&env, &reply(&id, 0)).await.unwrap();
    let t0 = Instant::now();
    for n in 1..=20 {
        out.send(&env, &reply(&id, n)).await.unwrap();
    }
    let sequential = t0.elapsed();
    say(&format!(
        "smtp_variants: 20 sequential implicit-TLS sends over one pooled connection took {sequential:?} ({:?} each)",
        sequential / 20
    ));

    let results: Vec<Result<(), SendError>> = futures::stream::iter(21..=40)
        .map(|n| {
            let (out, env, id) = (&out, &env, &id);
            async move { out.send(env, &reply(id, n)).await }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let got = wait_for(ms, "customer", &id, 41).await;
    assert_eq!(got.len(), 41, "each message exactly once");
    for n in 0..=40 {
        let raw = reply(&id, n);
        assert_eq!(
            got.iter().filter(|m| arrived_unchanged(m, &raw)).count(),
            1,
            "message #{n}"
        );
    }
}

/// Without the private CA the server's certificate is not trusted: the send fails before
/// anything is handed over, as a transient error that names the certificate problem (the
/// reply stays queued and is retried with growing pauses, so fixing the certificate or the
/// CA file delivers it; a permanent error would drop it and route it to staff through the
/// same unusable server).
#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_untrusted_certificate_is_transient_and_sends_nothing() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let mut cfg = ms.smtps_config();
    cfg.ca_file = None;
    let out = SmtpOutbox::new(&cfg).unwrap();
    let calls = AtomicUsize::new(0);
    let hand_over = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    };
    let id = unique("smtps-untrusted");
    let r = out
        .send_with(&to_customer(ms), &reply(&id, 1), &hand_over)
        .await;
    assert!(
        matches!(&r, Err(SendError::Transient(e)) if e.contains("certificate")),
        "{r:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing handed over");
    let r = out.test_connection().await;
    assert!(
        matches!(&r, Err(SendError::Transient(e)) if e.contains("certificate")),
        "{r:?}"
    );
}
