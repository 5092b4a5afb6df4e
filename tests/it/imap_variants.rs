//! End-to-end tests of the IMAP source against the other faces of the private Dovecot:
//! implicit TLS, a server advertising neither IDLE nor MOVE (and one without UIDPLUS too),
//! XOAUTH2 logins checked by a real token endpoint, and `intake watch` with `move_to`.
//!
//! The reduced servers are the same Dovecot behind a shorter CAPABILITY list; Dovecot's
//! rawlog of those sessions shows which commands the source really sent.

use std::time::{Duration, Instant};

use intake::source::{AuthMethod, ImapSource, SourceError, Wake};

use crate::mailservers::{DISRUPT, Listener, MailServers, shared};
use crate::watch::{
    Intake, Setup, answers, notification, out_of_office, support_flags, unique, wait_answers,
};

fn message(subject: &str, id: &str) -> Vec<u8> {
    format!(
        "From: Carla Kunde <customer@example.test>\r\nTo: support@amazee.test\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Thu, 01 Jan 2026 09:00:00 +0100\r\n\
         \r\nWe plan a load test of www.example.test from 198.51.100.7.\r\n"
    )
    .into_bytes()
}

/// The client's lines of a rawlog without the timestamps, one command per entry.
fn commands(rawlog: &str) -> Vec<String> {
    rawlog
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// The rawlog of the one session of `user` that selected `folder` (the source's session).
fn session_commands(ms: &MailServers, user: &str, folder: &str) -> Vec<String> {
    // The imap process writes its rawlog as it goes; give the last lines a moment to land.
    let t0 = Instant::now();
    loop {
        let sessions: Vec<String> = ms
            .rawlog_sessions(user, folder)
            .into_iter()
            .filter(|s| s.contains(&format!("SELECT \"{folder}\"")))
            .collect();
        if sessions.len() == 1 && sessions[0].contains("LOGOUT") {
            return commands(&sessions[0]);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "expected one finished rawlogged session selecting {folder}, found {}:\n{sessions:#?}",
            sessions.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sent(cmds: &[String], verb: &str) -> bool {
    // Each line is "TAG VERB ..."; compare the verb(s) after the tag.
    cmds.iter().any(|c| {
        c.split_once(' ')
            .is_some_and(|(_, rest)| rest.to_ascii_uppercase().starts_with(verb))
    })
}

// ---------------------------------------------------------------------------------------
// 1. Implicit TLS

#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_verifies_the_private_ca_and_fetches() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("imaps");
    let id = format!("{}@example.test", unique("imaps-msg"));
    ms.imap_append("support", &folder, &message("over TLS", &id), None)
        .await;

    let cfg = ms.listener_config(Listener::ImplicitTls, "support", &folder);
    assert_eq!(cfg.security, intake::source::Security::Tls);
    let mut src = ImapSource::connect(&cfg)
        .await
        .expect("implicit TLS with the test CA");
    let state = src.select().await.unwrap();
    assert_eq!(state.exists, 1);
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id.as_deref(), Some(id.as_str()));
    assert!(
        String::from_utf8_lossy(got[0].raw.as_deref().unwrap()).contains("www.example.test"),
        "the whole body came over TLS"
    );
    src.logout().await;

    // Without the private CA only the web PKI roots are trusted: the certificate is refused
    // during the handshake, before any credentials are sent.
    let mut untrusted = cfg.clone();
    untrusted.ca_file = None;
    let e = ImapSource::connect(&untrusted).await.unwrap_err();
    assert!(
        matches!(&e, SourceError::Tls(t) if t.to_lowercase().contains("certificate")),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. No IDLE, no MOVE (and no UIDPLUS)

#[tokio::test(flavor = "multi_thread")]
async fn without_idle_the_source_polls_and_sees_new_mail_within_a_few_intervals() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("noidle-poll");
    ms.imap_create("security", &folder).await;

    let mut cfg = ms.listener_config(Listener::NoIdle, "security", &folder);
    cfg.poll_seconds = 1;
    let mut src = ImapSource::connect(&cfg).await.unwrap();
    let caps = src.caps();
    assert!(!caps.idle && !caps.moves, "advertised: {caps:?}");
    assert!(caps.uidplus);
    src.select().await.unwrap();
    assert!(src.fetch_after(0, 1 << 20).await.unwrap().is_empty());

    // Nothing arrives: the wait ends after one poll interval, not after `max` (an IDLE
    // would sit there the whole 30 s).
    let t0 = Instant::now();
    let w = src.wait(Duration::from_secs(30)).await.unwrap();
    let quiet = t0.elapsed();
    assert_eq!(w, Wake::Quiet);
    assert!(
        quiet >= Duration::from_millis(900) && quiet < Duration::from_secs(4),
        "one poll took {quiet:?}"
    );

    // A message appended while the source waits is seen within a few poll intervals.
    let id = format!("{}@example.test", unique("noidle-msg"));
    let raw = message("polled", &id);
    let appended = Instant::now();
    let append = tokio::spawn({
        let folder = folder.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            shared()
                .unwrap()
                .imap_append("security", &folder, &raw, None)
                .await;
        }
    });
    let mut seen = Vec::new();
    let mut wakes = Vec::new();
    while seen.is_empty() {
        assert!(
            appended.elapsed() < Duration::from_secs(6),
            "not seen after {:?}; wakes {wakes:?}",
            appended.elapsed()
        );
        wakes.push(src.wait(Duration::from_secs(30)).await.unwrap());
        seen = src.fetch_after(0, 1 << 20).await.unwrap();
    }
    append.await.unwrap();
    let took = appended.elapsed();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].message_id.as_deref(), Some(id.as_str()));
    assert!(
        wakes.contains(&Wake::Changed),
        "the NOOP after the nap reported the new message: {wakes:?}"
    );
    assert!(took < Duration::from_secs(4), "seen after {took:?}");
    src.logout().await;

    // What went over the wire: NOOPs, never an IDLE.
    let cmds = session_commands(ms, "security", &folder);
    assert!(sent(&cmds, "NOOP"), "{cmds:#?}");
    assert!(!sent(&cmds, "IDLE"), "{cmds:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_move_the_source_copies_flags_deleted_and_uid_expunges() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("nomove");
    let handled = unique("nomove-handled");
    let (a, b) = (
        format!("{}@example.test", unique("nomove-a")),
        format!("{}@example.test", unique("nomove-b")),
    );
    ms.imap_append("staff", &folder, &message("a", &a), None)
        .await;
    ms.imap_append("staff", &folder, &message("b", &b), None)
        .await;

    let mut src = ImapSource::connect(&ms.listener_config(Listener::NoIdle, "staff", &folder))
        .await
        .unwrap();
    assert!(!src.caps().moves && src.caps().uidplus);
    src.select().await.unwrap();
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 2);
    // The target does not exist yet: COPY says TRYCREATE, the source creates it and retries.
    src.move_to(got[0].uid, &handled).await.unwrap();
    src.logout().await;

    let left = ms.imap_fetch_all("staff", &folder).await;
    let moved = ms.imap_fetch_all("staff", &handled).await;
    assert_eq!(
        left.len(),
        1,
        "the moved message is expunged from the folder"
    );
    assert!(String::from_utf8_lossy(&left[0]).contains(&b));
    assert_eq!(moved.len(), 1);
    assert!(String::from_utf8_lossy(&moved[0]).contains(&a));

    let cmds = session_commands(ms, "staff", &folder);
    let uid = got[0].uid;
    assert!(sent(&cmds, &format!("UID COPY {uid} ")), "{cmds:#?}");
    assert!(
        cmds.iter()
            .any(|c| c.contains(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))),
        "{cmds:#?}"
    );
    assert!(sent(&cmds, &format!("UID EXPUNGE {uid}")), "{cmds:#?}");
    assert!(sent(&cmds, "CREATE"), "{cmds:#?}");
    assert!(
        !sent(&cmds, "UID MOVE") && !sent(&cmds, "MOVE"),
        "{cmds:#?}"
    );
    // Only UID EXPUNGE: a plain EXPUNGE would remove other people's \Deleted mail too.
    assert!(!sent(&cmds, "EXPUNGE"), "{cmds:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_uidplus_the_moved_message_is_only_flagged_deleted() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("minimal");
    let handled = unique("minimal-handled");
    let id = format!("{}@example.test", unique("minimal-msg"));
    ms.imap_append("loop", &folder, &message("m", &id), None)
        .await;
    ms.imap_create("loop", &handled).await;

    let mut src = ImapSource::connect(&ms.listener_config(Listener::Minimal, "loop", &folder))
        .await
        .unwrap();
    let caps = src.caps();
    assert!(!caps.idle && !caps.moves && !caps.uidplus, "{caps:?}");
    src.select().await.unwrap();
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 1);
    src.move_to(got[0].uid, &handled).await.unwrap();
    let flags = src.flags(got[0].uid).await.unwrap();
    assert!(flags.iter().any(|f| f == "\\Deleted"), "{flags:?}");
    src.logout().await;

    // Copied, and left in place flagged \Deleted for a person's client to expunge.
    assert_eq!(ms.imap_fetch_all("loop", &handled).await.len(), 1);
    assert_eq!(ms.imap_fetch_all("loop", &folder).await.len(), 1);
    let cmds = session_commands(ms, "loop", &folder);
    assert!(sent(&cmds, "UID COPY"), "{cmds:#?}");
    assert!(
        !cmds
            .iter()
            .any(|c| c.to_ascii_uppercase().contains("EXPUNGE")),
        "{cmds:#?}"
    );
    assert!(!cmds.iter().any(|c| c.to_ascii_uppercase().contains("MOVE")));
}

// ---------------------------------------------------------------------------------------
// 3. XOAUTH2

#[tokio::test(flavor = "multi_thread")]
async fn xoauth2_logs_in_with_a_token_from_env_or_command_and_refuses_a_wrong_one() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("xoauth2");
    let id = format!("{}@example.test", unique("xoauth2-msg"));
    ms.imap_append("customer", &folder, &message("oauth", &id), None)
        .await;
    let token = ms.oauth_token("customer");

    let mut base = ms.listener_config(Listener::ImplicitTls, "customer", &folder);
    base.password = None;
    base.auth = AuthMethod::Xoauth2;

    // From an environment variable (read at connect).
    let var = format!("INTAKE_IT_OAUTH_TOKEN_{}", std::process::id());
    // SAFETY: a variable no other code reads, set before the first connect that reads it;
    // std serialises its own environment accesses.
    unsafe { std::env::set_var(&var, &token) };
    let mut from_env = base.clone();
    from_env.oauth_token_env = Some(var.clone());
    let mut src = ImapSource::connect(&from_env)
        .await
        .expect("XOAUTH2 with the token from the environment");
    src.select().await.unwrap();
    let got = src.fetch_after(0, 1 << 20).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id.as_deref(), Some(id.as_str()));
    src.logout().await;

    // From a command that prints the current token; it runs at each connect, so a rotated
    // token is picked up and a revoked one is refused.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let mut from_cmd = base.clone();
    from_cmd.oauth_token_command = Some(format!("cat '{}'", file.display()));
    let src = ImapSource::connect(&from_cmd)
        .await
        .expect("XOAUTH2 with the token from the command");
    src.logout().await;
    // Dovecot logged these logins as XOAUTH2 (checked by the token endpoint), not as
    // anything that would work without it.
    let log = std::fs::read_to_string(ms.dir.join("dovecot.log")).unwrap();
    assert!(
        log.lines()
            .filter(|l| l.contains("Login: user=<customer>, method=XOAUTH2"))
            .count()
            >= 2,
        "dovecot.log has no XOAUTH2 logins of customer"
    );

    std::fs::write(&file, "revoked-or-expired-token\n").unwrap();
    let t0 = Instant::now();
    let e = ImapSource::connect(&from_cmd).await.unwrap_err();
    assert!(
        matches!(&e, SourceError::Auth(t) if t.contains("AUTHENTICATIONFAILED")),
        "{e}"
    );
    assert!(!e.is_transient(), "a refused token is not retried: {e}");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the failure challenge was answered, not waited out: {:?}",
        t0.elapsed()
    );

    // A valid token of another user does not log in as this one.
    unsafe { std::env::set_var(&var, ms.oauth_token("staff")) };
    let e = ImapSource::connect(&from_env).await.unwrap_err();
    assert!(
        matches!(&e, SourceError::Auth(_)) && !e.is_transient(),
        "{e}"
    );
    unsafe { std::env::remove_var(&var) };

    // The variable gone: a credentials error, never a connection attempt with no token.
    let e = ImapSource::connect(&from_env).await.unwrap_err();
    assert!(matches!(&e, SourceError::Credentials(_)), "{e}");
    assert!(!e.is_transient());

    // The same over STARTTLS, to the plain-IMAP port.
    let mut starttls = from_cmd.clone();
    let st = ms.listener_config(Listener::Starttls, "customer", &folder);
    starttls.security = st.security;
    starttls.port = st.port;
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let src = ImapSource::connect(&starttls)
        .await
        .expect("XOAUTH2 after STARTTLS");
    src.logout().await;
}

// ---------------------------------------------------------------------------------------
// 4. `intake watch` with move_to

/// Runs `intake watch` on a fresh folder with `move_to`, against `listener` (patched into
/// the harness's standard configuration), and checks: the notification is answered once,
/// tagged and moved; ignored mail stays; a restart answers nothing again.
async fn watch_with_move_to(ms: &MailServers, listener: Listener, tag: &str) {
    let folder = unique(&format!("watch-move-{tag}"));
    let handled = unique(&format!("watch-handled-{tag}"));
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let cfg = ms.listener_config(listener, "support", &folder);
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let patched = text
        .replace(
            &format!("host = \"127.0.0.1\"\nport = {}\n", ms.imap_port),
            &format!(
                "host = \"{}\"\nport = {}\npoll_seconds = 1\n",
                cfg.host,
                cfg.port.unwrap()
            ),
        )
        .replace(
            &format!("folder = \"{folder}\"\n"),
            &format!("folder = \"{folder}\"\nmove_to = \"{handled}\"\n"),
        );
    assert!(
        patched.contains("move_to") && patched.contains("poll_seconds"),
        "config not patched:\n{patched}"
    );
    std::fs::write(&setup.config, patched).unwrap();

    let mut intake = setup.start();
    let accept = format!("{}@example.test", unique(&format!("move-accept-{tag}")));
    let ooo = format!("{}@example.test", unique(&format!("move-ooo-{tag}")));
    ms.imap_append("support", &folder, &notification(&accept, 40, "pass"), None)
        .await;
    ms.imap_append("support", &folder, &out_of_office(&ooo), None)
        .await;

    let got = wait_answers(
        ms,
        &intake,
        "customer",
        std::slice::from_ref(&accept),
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .await;
    assert_eq!(got[&accept].len(), 1);

    // The notification lands in the target folder with its keyword; the ignored message is
    // tagged but stays where it was.
    wait_moved(ms, &intake, &handled, &accept).await;
    let t0 = Instant::now();
    loop {
        let left = support_flags(ms, &folder).await;
        // Without UIDPLUS the original stays, flagged \Deleted, for a person to expunge.
        let accept_left = left
            .get(&accept)
            .is_some_and(|f| !(listener == Listener::Minimal && f.iter().any(|x| x == "Deleted")));
        let ooo_tagged = left
            .get(&ooo)
            .is_some_and(|f| f.iter().any(|x| x == "$intake-ignored"));
        if !accept_left && ooo_tagged {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "after the move {folder}: {left:?}\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Restart: nothing is answered again, and the new instance still works (a second
    // notification is answered), so the silence is not just a dead process.
    assert!(intake.terminate().is_some_and(|s| s.success()));
    let mut again = setup.start();
    let second = format!("{}@example.test", unique(&format!("move-second-{tag}")));
    ms.imap_append("support", &folder, &notification(&second, 40, "pass"), None)
        .await;
    let got = wait_answers(
        ms,
        &again,
        "customer",
        &[accept.clone(), second.clone()],
        Duration::from_secs(30),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        got[&accept].len(),
        1,
        "answered once, not again after restart"
    );
    assert_eq!(got[&second].len(), 1);
    assert!(
        answers(ms, "customer", std::slice::from_ref(&ooo)).await[&ooo].is_empty(),
        "ignored mail is never answered"
    );
    wait_moved(ms, &again, &handled, &second).await;
    assert!(again.terminate().is_some_and(|s| s.success()));

    if listener == Listener::Minimal {
        // Both runs polled and copied: no IDLE, no MOVE, no EXPUNGE ever went over the wire.
        let t0 = Instant::now();
        let sessions = loop {
            let s: Vec<Vec<String>> = ms
                .rawlog_sessions("support", &folder)
                .iter()
                .map(|s| commands(s))
                .collect();
            // Both runs were stopped by SIGTERM while waiting, and each still logged out.
            let watches: Vec<&Vec<String>> = s.iter().filter(|c| sent(c, "SELECT")).collect();
            if watches.len() >= 2
                && watches.iter().all(|c| sent(c, "LOGOUT"))
                && s.iter().any(|c| sent(c, "UID COPY"))
                && s.iter().any(|c| sent(c, "NOOP"))
            {
                break s;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "rawlogs: {s:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        for c in &sessions {
            for verb in ["IDLE", "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE"] {
                assert!(!sent(c, verb), "{verb} sent: {c:#?}");
            }
        }
    }
}

/// Waits until the message `id` is in the support user's `folder` with `$intake-accepted`.
async fn wait_moved(ms: &MailServers, intake: &Intake, folder: &str, id: &str) {
    let t0 = Instant::now();
    loop {
        // The target folder is created by the first move (TRYCREATE): EXAMINE fails until then.
        let mut s = ms.session("support").await;
        let exists = s.examine(folder).await.is_ok();
        let _ = s.logout().await;
        let moved = if exists {
            support_flags(ms, folder).await
        } else {
            Default::default()
        };
        if moved
            .get(id)
            .is_some_and(|f| f.iter().any(|x| x == "$intake-accepted"))
        {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{id} not moved to {folder} and tagged: {moved:?}\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_moves_handled_mail_answers_once_and_not_again_after_restart() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    watch_with_move_to(ms, Listener::Starttls, "move").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_on_a_server_without_idle_move_or_uidplus_polls_copies_and_answers_once() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    watch_with_move_to(ms, Listener::Minimal, "minimal").await;
}
