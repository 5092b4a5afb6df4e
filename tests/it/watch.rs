//! End-to-end tests of `intake watch`: the real binary against the harness's Dovecot and
//! Postfix, observed only from the outside (the mailboxes of customer, security and staff,
//! and the keywords on the support side).
//!
//! Every test watches its own support folder (test 1 the INBOX itself) and recognises its
//! replies by `In-Reply-To`, so tests sharing the servers cannot see each other's mail.

// Real time on purpose: these tests date mail for, and compare with, real Dovecot, Postfix and
// the `intake` binary, which all run on the system clock (clippy.toml bans it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mail_parser::{MessageParser, MimeHeaders as _};

use crate::mailservers::{DISRUPT, MailServers, shared};

// ---------------------------------------------------------------------------------------
// Running the binary

/// A running `intake watch`; killed (SIGKILL) and reaped when dropped, so a failing test
/// leaves no process behind.
pub(crate) struct Intake {
    child: Option<Child>,
    log: PathBuf,
}

impl Intake {
    pub(crate) fn start(config: &Path, log: &Path, once: bool) -> Intake {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
        cmd.arg("watch").arg("--config").arg(config);
        if once {
            cmd.arg("--once");
        }
        let child = cmd
            .env("INTAKE_RETRY_BASE_MS", "300")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start intake watch");
        Intake {
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit (at most 20 s, then SIGKILL).
    pub(crate) fn terminate(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Waits for the process to exit by itself (`--once`), at most `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let t0 = Instant::now();
        while t0.elapsed() < limit {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                self.child = None;
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
        None
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A temp folder with a config for `intake watch` on `folder` of the support user.
pub(crate) struct Setup {
    _dir: tempfile::TempDir,
    pub(crate) config: PathBuf,
    pub(crate) log: PathBuf,
}

impl Setup {
    pub(crate) fn new(ms: &MailServers, folder: &str, max_replies: u32) -> Setup {
        let mailbox = format!(
            r#"kind = "imap"
host = "127.0.0.1"
port = {imap_port}
security = "starttls"
ca_file = "{ca}"
username = "support"
password = "{password}"
folder = "{folder}"
idle_minutes = 1
timeout_seconds = 10
answer_since = "2000-01-01T00:00:00Z""#,
            imap_port = ms.imap_port,
            ca = ms.ca_file.display(),
            password = ms.password("support"),
        );
        Setup::with_mailbox(ms, &mailbox, max_replies)
    }

    /// A config reading the Maildir `path` instead of IMAP, sending through Postfix.
    fn maildir(ms: &MailServers, path: &Path) -> Setup {
        let mailbox = format!("kind = \"maildir\"\npath = \"{}\"", path.display());
        Setup::with_mailbox(ms, &mailbox, 1000)
    }

    fn with_mailbox(ms: &MailServers, mailbox: &str, max_replies: u32) -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("intake-watch-")
            .tempdir()
            .unwrap();
        let config = dir.path().join("intake.toml");
        let text = format!(
            r#"timezone = "Europe/Zurich"
templates = "{templates}"

[rules]
max_replies_per_sender_per_day = {max_replies}
# Every test customer writes from alpenshop-example.ch: the organization's limit is the sender's.
max_replies_per_domain_per_day = {max_replies}
max_replies_per_hour = 100000

[addresses]
from = "{support}"
security_team = "{security}"
staff = "{staff}"

[mailbox]
{mailbox}

[outbox]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "starttls"
ca_file = "{ca}"
hello_name = "intake.amazee.test"
timeout_seconds = 10

[store]
path = "{store}"
"#,
            templates = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates")
                .display(),
            support = ms.address("support"),
            security = ms.address("security"),
            staff = ms.address("staff"),
            smtp_port = ms.smtp_port,
            ca = ms.ca_file.display(),
            store = dir.path().join("intake.sqlite3").display(),
        );
        std::fs::write(&config, text).unwrap();
        let log = dir.path().join("intake.log");
        Setup {
            _dir: dir,
            config,
            log,
        }
    }

    pub(crate) fn start(&self) -> Intake {
        Intake::start(&self.config, &self.log, false)
    }

    fn once(&self) -> Intake {
        Intake::start(&self.config, &self.log, true)
    }

    /// `intake watch --once`, which must exit 0 by itself within a minute.
    fn run_once(&self) -> Intake {
        let mut run = self.once();
        let code = run
            .wait_exit(Duration::from_secs(60))
            .and_then(|s| s.code());
        assert_eq!(code, Some(0), "--once exits 0:\n{}", run.log_tail());
        run
    }
}

// ---------------------------------------------------------------------------------------
// Realistic mail, dated relative to today

pub(crate) fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{n}")
}

/// The window used in notifications: 09:00 UTC `start_days` from today to 17:00 UTC two
/// days later.
pub(crate) fn window(start_days: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = (Utc::now() + chrono::Duration::days(start_days)).date_naive();
    let start = day.and_hms_opt(9, 0, 0).unwrap().and_utc();
    (start, start + chrono::Duration::hours(56))
}

/// A complete pen-test notification from the customer. `dmarc` is the verdict our MX wrote
/// in Authentication-Results ("pass" or "fail").
pub(crate) fn notification(message_id: &str, start_days: i64, dmarc: &str) -> Vec<u8> {
    let (start, end) = window(start_days);
    format!(
        "Return-Path: <customer@alpenshop-example.ch>\r\n\
         Authentication-Results: mx.amazee.test; dkim=pass header.d=alpenshop-example.ch; spf=pass smtp.mailfrom=alpenshop-example.ch; dmarc={dmarc} header.from=alpenshop-example.ch\r\n\
         From: Carla Kunde <customer@alpenshop-example.ch>\r\n\
         To: amazee.io Support <support@amazee.test>\r\n\
         Subject: Penetration test announcement shop.alpenshop-example.ch\r\n\
         Date: {date}\r\n\
         Message-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello amazee.io support,\r\n\
         \r\n\
         we announce a penetration test of our online shop, hosted on Lagoon.\r\n\
         \r\n\
         Testing vectors and scope: web application pen test (OWASP Top 10, login, checkout, REST API)\r\n\
         Point of contact: Carla Kunde, customer@alpenshop-example.ch, +41 44 555 20 30\r\n\
         Originating IPs: 85.195.240.10, 85.195.240.11, {third_ip}\r\n\
         Traffic volume: max 20 Mbit/s, 50 requests per second\r\n\
         Target website: https://shop.alpenshop-example.ch\r\n\
         Start: {s} 09:00 UTC\r\n\
         End: {e} 17:00 UTC\r\n\
         \r\n\
         Kind regards\r\n\
         Carla Kunde\r\n",
        date = Utc::now().to_rfc2822(),
        s = start.format("%d.%m.%Y"),
        e = end.format("%d.%m.%Y"),
        third_ip = third_ip(message_id),
    )
    .into_bytes()
}

/// The third originating address of a test notification, an IPv6 address of the customer's
/// /32 picked by its Message-ID (one of 2^32): notifications that are otherwise the same are
/// different announcements, not resends of one (which intake takes as one request).
pub(crate) fn third_ip(message_id: &str) -> String {
    let h = message_id.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!("2a02:168:{:x}:{:x}::10", h >> 16, h & 0xffff)
}

pub(crate) fn out_of_office(message_id: &str) -> Vec<u8> {
    format!(
        "Return-Path: <customer@alpenshop-example.ch>\r\n\
         From: Carla Kunde <customer@alpenshop-example.ch>\r\n\
         To: support@amazee.test\r\n\
         Subject: Automatische Antwort: Re: Penetration test announcement\r\n\
         Date: {date}\r\n\
         Message-ID: <{message_id}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         X-Auto-Response-Suppress: All\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Vielen Dank fuer Ihre Nachricht. Ich bin bis am Montag nicht im Buero.\r\n\
         In dringenden Faellen wenden Sie sich bitte an it@example.test.\r\n",
        date = Utc::now().to_rfc2822(),
    )
    .into_bytes()
}

/// A Postfix-style DSN bouncing one of our earlier replies.
fn bounce(message_id: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\n\
         From: Mail Delivery System <MAILER-DAEMON@mail.example.test>\r\n\
         To: support@amazee.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: {date}\r\n\
         Message-ID: <{message_id}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B0UND\"\r\n\
         \r\n\
         --B0UND\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         I'm sorry to have to inform you that your message could not be delivered.\r\n\
         <old@example.test>: user unknown\r\n\
         \r\n\
         --B0UND\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mail.example.test\r\n\
         \r\n\
         Final-Recipient: rfc822; old@example.test\r\n\
         Action: failed\r\n\
         Status: 5.1.1\r\n\
         \r\n\
         --B0UND\r\n\
         Content-Type: message/rfc822\r\n\
         \r\n\
         From: amazee.io Support <support@amazee.test>\r\n\
         To: old@example.test\r\n\
         Subject: Re: Penetration test announcement\r\n\
         \r\n\
         Your penetration test window was accepted.\r\n\
         --B0UND--\r\n",
        date = Utc::now().to_rfc2822(),
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------
// Looking at the mailboxes

/// One delivered message with the headers the tests need.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) message_id: String,
    pub(crate) in_reply_to: String,
    pub(crate) references: String,
    pub(crate) raw: Vec<u8>,
}

/// The unfolded value of the first header `name`, without angle brackets for ids.
pub(crate) fn header(raw: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut found: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(v) = found.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case(name)
        {
            found = Some(v.trim().to_string());
        }
    }
    found.unwrap_or_default()
}

fn bare(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

async fn mailbox(ms: &MailServers, user: &str) -> Vec<Got> {
    ms.imap_fetch_all(user, "INBOX")
        .await
        .into_iter()
        .map(|raw| Got {
            message_id: bare(&header(&raw, "Message-ID")),
            in_reply_to: bare(&header(&raw, "In-Reply-To")),
            references: header(&raw, "References"),
            raw,
        })
        .collect()
}

/// The messages in `user`'s INBOX answering each of `ids` (by In-Reply-To).
pub(crate) async fn answers(
    ms: &MailServers,
    user: &str,
    ids: &[String],
) -> BTreeMap<String, Vec<Got>> {
    let mut by: BTreeMap<String, Vec<Got>> = ids.iter().map(|i| (i.clone(), vec![])).collect();
    for g in mailbox(ms, user).await {
        if let Some(v) = by.get_mut(&g.in_reply_to) {
            v.push(g);
        }
    }
    by
}

/// Polls until every id in `ids` has at least one answer in `user`'s INBOX; then waits
/// `settle` more (so late duplicates are seen too) and returns the final picture.
pub(crate) async fn wait_answers(
    ms: &MailServers,
    intake: &Intake,
    user: &str,
    ids: &[String],
    timeout: Duration,
    settle: Duration,
) -> BTreeMap<String, Vec<Got>> {
    let t0 = Instant::now();
    loop {
        let got = answers(ms, user, ids).await;
        let missing: Vec<&String> = got
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| k)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < timeout,
            "{user}: no answer to {} of {} messages after {timeout:?} (first: {})\n--- intake log ---\n{}",
            missing.len(),
            ids.len(),
            missing[0],
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(settle).await;
    answers(ms, user, ids).await
}

/// Staff notices about replies in doubt, by the notification they answer (the attached reply
/// names it in In-Reply-To).
pub(crate) async fn doubt_notices(ms: &MailServers, ids: &[String]) -> BTreeMap<String, Vec<Got>> {
    let mut by: BTreeMap<String, Vec<Got>> = ids.iter().map(|i| (i.clone(), vec![])).collect();
    for g in mailbox(ms, "staff").await {
        if !header(&g.raw, "Subject").contains("may not have been delivered") {
            continue;
        }
        let text = String::from_utf8_lossy(&g.raw).into_owned();
        for (id, v) in by.iter_mut() {
            if text.contains(&format!("In-Reply-To: <{id}>")) {
                v.push(g.clone());
            }
        }
    }
    by
}

/// Flags of every message in `folder` of the support user, by Message-ID.
pub(crate) async fn support_flags(ms: &MailServers, folder: &str) -> BTreeMap<String, Vec<String>> {
    let mut s = ms.session("support").await;
    s.examine(folder).await.unwrap();
    let fetched: Vec<_> = s
        .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for f in &fetched {
        let id = bare(&header(f.header().unwrap_or_default(), "Message-ID"));
        let flags = f
            .flags()
            .map(|fl| match fl {
                async_imap::types::Flag::Seen => "\\Seen".to_string(),
                async_imap::types::Flag::Custom(c) => c.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        out.insert(id, flags);
    }
    let _ = s.logout().await;
    out
}

/// Waits until each of `ids` in the support `folder` carries an `$intake-` keyword.
async fn wait_tagged(ms: &MailServers, intake: &Intake, folder: &str, ids: &[String]) {
    let t0 = Instant::now();
    loop {
        let flags = support_flags(ms, folder).await;
        let untagged: Vec<&String> = ids
            .iter()
            .filter(|id| {
                !flags
                    .get(*id)
                    .is_some_and(|f| f.iter().any(|x| x.starts_with("$intake-")))
            })
            .collect();
        if untagged.is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "not tagged after 30 s: {untagged:?}\n--- intake log ---\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Straight to stderr: the test harness captures `eprintln!`.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

pub(crate) fn text_of(raw: &[u8]) -> String {
    let msg = MessageParser::default().parse(raw).unwrap();
    msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// 1. Every decision, end to end

#[tokio::test(flavor = "multi_thread")]
async fn watch_answers_each_decision_once_threaded_with_forward_and_tags() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let setup = Setup::new(ms, "INBOX", 1000);
    let mut intake = setup.start();

    let accept = format!("{}@example.test", unique("accept"));
    let reject = format!("{}@example.test", unique("reject"));
    let review = format!("{}@example.test", unique("review"));
    let ooo = format!("{}@example.test", unique("ooo"));
    let dsn = format!("{}@mail.example.test", unique("dsn"));
    let mails = [
        (accept.clone(), notification(&accept, 40, "pass")),
        (reject.clone(), notification(&reject, 3, "pass")),
        (review.clone(), notification(&review, 40, "fail")),
        (ooo.clone(), out_of_office(&ooo)),
        (dsn.clone(), bounce(&dsn)),
    ];
    for (_, raw) in &mails {
        ms.imap_append("support", "INBOX", raw, None).await;
    }
    let all: Vec<String> = mails.iter().map(|(id, _)| id.clone()).collect();

    // Staff hear about the three notifications (and, below, briefly about ignored mail).
    let notifications = [accept.clone(), reject.clone(), review.clone()];
    let staff = wait_answers(
        ms,
        &intake,
        "staff",
        &notifications,
        Duration::from_secs(45),
        Duration::ZERO,
    )
    .await;
    let customer = wait_answers(
        ms,
        &intake,
        "customer",
        &[accept.clone(), reject.clone()],
        Duration::from_secs(30),
        Duration::from_secs(2),
    )
    .await;
    let customer_all = answers(ms, "customer", &all).await;
    let staff_all = answers(ms, "staff", &all).await;
    let security = answers(ms, "security", &all).await;

    // Exactly one threaded reply per accept and reject.
    for id in [&accept, &reject] {
        let r = &customer[id];
        assert_eq!(r.len(), 1, "replies to {id}: {r:?}");
        assert!(
            r[0].references.contains(&format!("<{id}>")),
            "References carries the notification: {}",
            r[0].references
        );
        assert!(
            r[0].message_id.ends_with(".reply@amazee.test") && r[0].message_id.starts_with("INT-"),
            "stable reply Message-ID: {}",
            r[0].message_id
        );
        assert_eq!(header(&r[0].raw, "Auto-Submitted"), "auto-replied");
    }
    assert_eq!(
        header(&customer[&accept][0].raw, "X-Intake-Decision"),
        "accept"
    );
    assert_eq!(
        header(&customer[&reject][0].raw, "X-Intake-Decision"),
        "reject"
    );
    let rejection = text_of(&customer[&reject][0].raw);
    assert!(
        rejection.contains("14 days for this kind of test"),
        "the rejection names the notice rule:\n{rejection}"
    );
    for id in [&review, &ooo, &dsn] {
        assert!(
            customer_all[id].is_empty(),
            "nothing to the customer for {id}"
        );
    }
    // Ignored mail gets a short staff summary (nothing is dropped silently), nothing more.
    let staff_all = wait_answers(
        ms,
        &intake,
        "staff",
        &[ooo.clone(), dsn.clone()],
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .await
    .into_iter()
    .chain(staff_all)
    .fold(
        BTreeMap::new(),
        |mut m: BTreeMap<String, Vec<Got>>, (k, v)| {
            m.entry(k).or_insert(v);
            m
        },
    );
    for id in [&ooo, &dsn] {
        assert_eq!(
            staff_all[id].len(),
            1,
            "one short staff summary for ignored {id}"
        );
        assert!(
            header(&staff_all[id][0].raw, "Subject").starts_with("[intake] IGNORE"),
            "{}",
            header(&staff_all[id][0].raw, "Subject")
        );
    }
    for id in &notifications {
        assert_eq!(staff[id].len(), 1, "one staff summary for {id}");
    }
    let review_summary = text_of(&staff[&review][0].raw);
    assert!(
        review_summary.contains("review") && review_summary.contains("No reply was sent"),
        "{review_summary}"
    );

    // One forward to security, for the accept only, with the calendar and the original.
    for id in [&reject, &review, &ooo, &dsn] {
        assert!(security[id].is_empty(), "no security forward for {id}");
    }
    let fwd = &security[&accept];
    assert_eq!(fwd.len(), 1, "one security forward: {fwd:?}");
    let parsed = MessageParser::default().parse(&fwd[0].raw).unwrap();
    let ics = parsed
        .attachments()
        .find(|a| a.attachment_name() == Some("test-window.ics"))
        .expect("test-window.ics attached");
    let ics = String::from_utf8_lossy(ics.contents()).replace("\r\n", "\n");
    let (start, end) = window(40);
    assert!(ics.starts_with("BEGIN:VCALENDAR\n"), "{ics}");
    assert!(ics.trim_end().ends_with("END:VCALENDAR"), "{ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    let line = |k: &str| {
        ics.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        line("DTSTART"),
        format!("DTSTART:{}", start.format("%Y%m%dT%H%M%SZ"))
    );
    assert_eq!(
        line("DTEND"),
        format!("DTEND:{}", end.format("%Y%m%dT%H%M%SZ"))
    );
    // The customer's message travels along unchanged (today as an `original.eml` file
    // part: lettre refuses 7bit/8bit for lines over 76 characters, so compose falls back).
    let original = parsed
        .attachments()
        .find(|a| a.attachment_name() == Some("original.eml"))
        .expect("original.eml attached");
    assert!(
        original.contents() == mails[0].1.as_slice()
            || original
                .message()
                .is_some_and(|m| m.message_id() == Some(accept.as_str())),
        "the attached original differs from what was sent:\n{}",
        String::from_utf8_lossy(original.contents())
    );

    // Support's copies: tagged by decision, still unread.
    wait_tagged(ms, &intake, "INBOX", &all).await;
    let flags = support_flags(ms, "INBOX").await;
    for (id, kw) in [
        (&accept, "$intake-accepted"),
        (&reject, "$intake-rejected"),
        (&review, "$intake-review"),
        (&ooo, "$intake-ignored"),
        (&dsn, "$intake-ignored"),
    ] {
        let f = &flags[id];
        assert!(f.iter().any(|x| x == kw), "{id}: {f:?} lacks {kw}");
        assert_eq!(
            f.iter().filter(|x| x.starts_with("$intake-")).count(),
            1,
            "{id}: one decision keyword: {f:?}"
        );
        assert!(!f.iter().any(|x| x == "\\Seen"), "{id} marked read: {f:?}");
    }

    // SIGTERM: a clean stop with status 0.
    let log = intake.log.clone();
    let status = intake.terminate();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------
// 2. kill -9 at random moments

/// A small deterministic generator (Knuth's MMIX LCG), so a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_survives_kill_9_without_losing_or_doubling_replies() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-kill");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    const N: usize = 50;
    const SEED: u64 = 0x1A7A_4E5E_ED00_0001;

    let ids: Vec<String> = (0..N)
        .map(|i| format!("{}@example.test", unique(&format!("kill{i:02}"))))
        .collect();
    // Even ones are accepted (reply, forward, summary), odd ones rejected (reply, summary).
    let accepts: Vec<String> = ids.iter().step_by(2).cloned().collect();
    let appender = {
        let ids = ids.clone();
        let folder = folder.clone();
        tokio::spawn(async move {
            let mut rng = Lcg(SEED ^ 0xA5A5);
            for (i, id) in ids.iter().enumerate() {
                let days = if i % 2 == 0 { 40 } else { 3 };
                ms.imap_append("support", &folder, &notification(id, days, "pass"), None)
                    .await;
                tokio::time::sleep(Duration::from_millis(rng.between(20, 160))).await;
            }
        })
    };

    let mut rng = Lcg(SEED);
    let mut kills = 0u32;
    let mut intake = setup.start();
    while !appender.is_finished() {
        tokio::time::sleep(Duration::from_millis(rng.between(80, 900))).await;
        intake.kill9();
        kills += 1;
        intake = setup.start();
    }
    appender.await.unwrap();
    // A few more kills after the last arrival, while the backlog is worked off.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(rng.between(50, 400))).await;
        intake.kill9();
        kills += 1;
        intake = setup.start();
    }

    // Every notification gets its reply, or, when a kill came while the reply was being
    // handed to Postfix, a notice asking staff to check it (with the reply attached).
    let t0 = Instant::now();
    let (replies, notices) = loop {
        let replies = answers(ms, "customer", &ids).await;
        let notices = doubt_notices(ms, &ids).await;
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| replies[*id].is_empty() && notices[*id].is_empty())
            .collect();
        if missing.is_empty() {
            break (replies, notices);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "neither reply nor staff notice for {} of {N} (first: {})\n--- intake log ---\n{}",
            missing.len(),
            missing[0],
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let forwards = wait_answers(
        ms,
        &intake,
        "security",
        &accepts,
        Duration::from_secs(20),
        Duration::from_secs(3),
    )
    .await;
    // Late duplicates would have arrived by now.
    let replies_after = answers(ms, "customer", &ids).await;
    assert!(intake.running(), "intake died:\n{}", intake.log_tail());

    for (id, got) in &replies_after {
        assert!(
            got.len() <= 1,
            "{id}: the customer got {} replies after {kills} kills\n{}",
            got.len(),
            intake.log_tail()
        );
        assert!(
            notices[id].len() <= 1,
            "{id}: {} staff notices",
            notices[id].len()
        );
    }
    for (id, got) in &forwards {
        let distinct: BTreeSet<&str> = got.iter().map(|g| g.message_id.as_str()).collect();
        assert_eq!(distinct.len(), 1, "{id}: forwards {distinct:?}");
    }
    let in_doubt: Vec<&String> = ids.iter().filter(|id| !notices[*id].is_empty()).collect();
    let unanswered = ids.iter().filter(|id| replies[*id].is_empty()).count();
    say(&format!(
        "kill -9 test: {kills} kills; {} of {N} replies went to staff as in doubt ({unanswered} of them not delivered)",
        in_doubt.len()
    ));
    // Only a kill during a hand-over puts a reply in doubt.
    assert!(
        in_doubt.len() <= kills as usize,
        "{} replies in doubt after only {kills} kills",
        in_doubt.len()
    );
    assert!(kills >= 5, "the schedule killed intake only {kills} times");
    wait_tagged(ms, &intake, &folder, &ids).await;
}

// ---------------------------------------------------------------------------------------
// 3. Servers going away

#[tokio::test(flavor = "multi_thread")]
async fn watch_recovers_from_dovecot_restart_and_postfix_outage() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.write().await;
    let folder = unique("watch-outage");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let intake = setup.start();

    // Steady state first: intake is connected and idling.
    let first = format!("{}@example.test", unique("before"));
    ms.imap_append("support", &folder, &notification(&first, 40, "pass"), None)
        .await;
    let r = wait_answers(
        ms,
        &intake,
        "customer",
        std::slice::from_ref(&first),
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .await;
    assert_eq!(r[&first].len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Dovecot goes away under the IDLE and comes back; intake must reconnect by itself.
    ms.script("restart-dovecot");
    let after = format!("{}@example.test", unique("after-restart"));
    ms.imap_append("support", &folder, &notification(&after, 40, "pass"), None)
        .await;
    let r = wait_answers(
        ms,
        &intake,
        "customer",
        std::slice::from_ref(&after),
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .await;
    assert_eq!(r[&after].len(), 1);

    // Postfix down while notifications arrive: decided and tagged, replies wait.
    ms.script("stop-postfix");
    let during: Vec<String> = (0..3)
        .map(|i| format!("{}@example.test", unique(&format!("smtp-down{i}"))))
        .collect();
    for (i, id) in during.iter().enumerate() {
        let days = if i == 1 { 3 } else { 40 };
        ms.imap_append("support", &folder, &notification(id, days, "pass"), None)
            .await;
    }
    wait_tagged(ms, &intake, &folder, &during).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let none = answers(ms, "customer", &during).await;
    assert!(none.values().all(Vec::is_empty), "Postfix was down");
    ms.script("start-postfix");
    let r = wait_answers(
        ms,
        &intake,
        "customer",
        &during,
        Duration::from_secs(45),
        Duration::from_secs(1),
    )
    .await;
    for (id, got) in &r {
        assert_eq!(got.len(), 1, "{id}: {got:?}");
    }
    let staff = wait_answers(
        ms,
        &intake,
        "staff",
        &during,
        Duration::from_secs(20),
        Duration::ZERO,
    )
    .await;
    assert!(staff.values().all(|v| v.len() == 1));
}

// ---------------------------------------------------------------------------------------
// 4. Mail loop

#[tokio::test(flavor = "multi_thread")]
async fn watch_breaks_a_mail_loop_after_five_replies() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-loop");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 5);
    let intake = setup.start();

    // An auto-responder without any marker: the same plain mail again and again, each with a
    // new Message-ID (short notice, so each would get a rejection).
    let ids: Vec<String> = (0..10)
        .map(|i| format!("{}@example.test", unique(&format!("loop{i}"))))
        .collect();
    for id in &ids {
        ms.imap_append("support", &folder, &notification(id, 3, "pass"), None)
            .await;
    }
    let staff = wait_answers(
        ms,
        &intake,
        "staff",
        &ids,
        Duration::from_secs(45),
        Duration::from_secs(2),
    )
    .await;
    let replies = answers(ms, "customer", &ids).await;
    let answered: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !replies[*id].is_empty())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        answered,
        vec![0, 1, 2, 3, 4],
        "the first five are answered, then intake stops"
    );
    assert!(replies.values().all(|v| v.len() <= 1));
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(staff[id].len(), 1, "{id}");
        let text = text_of(&staff[id][0].raw);
        let limited =
            text.contains("reply limit") || text.contains("automated replies in the last 24 hours");
        assert_eq!(
            limited,
            i >= 5,
            "summary {i} mentions the limit: {limited}\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 5. --once

#[tokio::test(flavor = "multi_thread")]
async fn watch_once_processes_the_backlog_and_exits() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-once");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let accept = format!("{}@example.test", unique("once-accept"));
    let reject = format!("{}@example.test", unique("once-reject"));
    let ooo = format!("{}@example.test", unique("once-ooo"));
    ms.imap_append("support", &folder, &notification(&accept, 40, "pass"), None)
        .await;
    ms.imap_append("support", &folder, &notification(&reject, 3, "pass"), None)
        .await;
    ms.imap_append("support", &folder, &out_of_office(&ooo), None)
        .await;
    let ids = [accept.clone(), reject.clone(), ooo.clone()];

    let mut run = setup.once();
    let status = run.wait_exit(Duration::from_secs(60));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "--once exits 0 by itself:\n{}",
        run.log_tail()
    );
    assert!(run.log_tail().contains("3 decided"), "{}", run.log_tail());
    let flags = support_flags(ms, &folder).await;
    for id in &ids {
        assert!(
            flags[id].iter().any(|f| f.starts_with("$intake-")),
            "{id} tagged before exit: {:?}",
            flags[id]
        );
    }
    let first = wait_answers(
        ms,
        &run,
        "customer",
        &[accept.clone(), reject.clone()],
        Duration::from_secs(20),
        Duration::from_secs(1),
    )
    .await;
    assert!(first.values().all(|v| v.len() == 1), "{first:?}");

    let mut again = setup.once();
    let status = again.wait_exit(Duration::from_secs(60));
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "{}",
        again.log_tail()
    );
    assert!(
        again
            .log_tail()
            .contains("0 decided, 0 skipped (older than answer_since), 0 sent"),
        "{}",
        again.log_tail()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = answers(ms, "customer", &ids).await;
    assert_eq!(second[&accept].len(), 1);
    assert_eq!(second[&reject].len(), 1);
    assert!(second[&ooo].is_empty());
}

// ---------------------------------------------------------------------------------------
// 6. UIDVALIDITY change, first start, permanent SMTP refusal

/// Deletes a folder of the support user (the next CREATE gets a new UIDVALIDITY).
async fn imap_delete(ms: &MailServers, folder: &str) {
    let mut s = ms.session("support").await;
    s.delete(folder).await.unwrap();
    let _ = s.logout().await;
}

async fn uidvalidity(ms: &MailServers, folder: &str) -> u32 {
    let mut s = ms.session("support").await;
    let mb = s.examine(folder).await.unwrap();
    let _ = s.logout().await;
    mb.uid_validity.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_resynchronises_after_uidvalidity_changes_without_answering_twice() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-uidvalidity");
    let setup = Setup::new(ms, &folder, 1000);
    let a = format!("{}@example.test", unique("uv-a"));
    let b = format!("{}@example.test", unique("uv-b"));
    let (raw_a, raw_b) = (notification(&a, 40, "pass"), notification(&b, 3, "pass"));
    ms.imap_append("support", &folder, &raw_a, None).await;
    ms.imap_append("support", &folder, &raw_b, None).await;
    setup.run_once();
    let before = uidvalidity(ms, &folder).await;

    // The server renumbers the folder: same messages, new UIDVALIDITY, plus one new one.
    imap_delete(ms, &folder).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let c = format!("{}@example.test", unique("uv-c"));
    ms.imap_append("support", &folder, &raw_a, None).await;
    ms.imap_append("support", &folder, &raw_b, None).await;
    ms.imap_append("support", &folder, &notification(&c, 40, "pass"), None)
        .await;
    assert_ne!(
        uidvalidity(ms, &folder).await,
        before,
        "the test needs a new UIDVALIDITY"
    );

    let again = setup.run_once();
    assert!(
        again.log_tail().contains("UIDVALIDITY changed"),
        "{}",
        again.log_tail()
    );
    assert!(
        again.log_tail().contains("1 decided"),
        "only the new message is decided:\n{}",
        again.log_tail()
    );
    let got = wait_answers(
        ms,
        &again,
        "customer",
        &[a.clone(), b.clone(), c.clone()],
        Duration::from_secs(20),
        Duration::from_secs(1),
    )
    .await;
    for id in [&a, &b, &c] {
        assert_eq!(got[id].len(), 1, "{id} answered exactly once");
    }
    // The re-appended copies are tagged again under the new UIDVALIDITY.
    let flags = support_flags(ms, &folder).await;
    for id in [&a, &b, &c] {
        assert!(
            flags[id].iter().any(|f| f.starts_with("$intake-")),
            "{id}: {:?}",
            flags[id]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_answers_nothing_that_arrived_before_it() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-first-start");
    let setup = Setup::new(ms, &folder, 1000);
    // No answer_since: the moment of the first start counts.
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        text.replace("answer_since = \"2000-01-01T00:00:00Z\"\n", ""),
    )
    .unwrap();
    let old = format!("{}@example.test", unique("first-old"));
    ms.imap_append("support", &folder, &notification(&old, 40, "pass"), None)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let run = setup.run_once();
    assert!(
        run.log_tail().contains("0 decided, 1 skipped"),
        "{}",
        run.log_tail()
    );
    let flags = support_flags(ms, &folder).await;
    assert!(
        flags[&old].contains(&"$intake-ignored".to_string()),
        "{:?}",
        flags[&old]
    );

    let new = format!("{}@example.test", unique("first-new"));
    ms.imap_append("support", &folder, &notification(&new, 40, "pass"), None)
        .await;
    let again = setup.run_once();
    assert!(
        again.log_tail().contains("1 decided, 0 skipped"),
        "{}",
        again.log_tail()
    );
    let got = wait_answers(
        ms,
        &again,
        "customer",
        std::slice::from_ref(&new),
        Duration::from_secs(20),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(got[&new].len(), 1);
    assert!(
        answers(ms, "customer", std::slice::from_ref(&old)).await[&old].is_empty(),
        "the old message stays unanswered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanently_refused_reply_is_not_retried_and_staff_are_told() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-refused");
    let setup = Setup::new(ms, &folder, 1000);
    let id = format!("{}@example.test", unique("refused"));
    // The customer's address does not exist: Postfix refuses it with 550 at RCPT TO.
    let raw = String::from_utf8(notification(&id, 40, "pass"))
        .unwrap()
        .replace(
            "From: Carla Kunde <customer@alpenshop-example.ch>",
            "From: Carla Kunde <nobody-here@alpenshop-example.ch>",
        );
    ms.imap_append("support", &folder, raw.as_bytes(), None)
        .await;
    let run = setup.run_once();
    assert!(
        run.log_tail().contains("sending refused permanently"),
        "{}",
        run.log_tail()
    );
    // The next run sends the staff notice queued for the failure, and does not retry the reply.
    let again = setup.run_once();
    let t0 = Instant::now();
    loop {
        let staff = mailbox(ms, "staff").await;
        let notice = staff.iter().filter(|g| {
            header(&g.raw, "Subject").contains("failed permanently")
                && text_of(&g.raw).contains("nobody-here@alpenshop-example.ch")
        });
        if notice.count() == 1 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no staff notice:\n{}",
            again.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        !again
            .log_tail()
            .contains("to=nobody-here@alpenshop-example.ch role=reply"),
        "not retried:\n{}",
        again.log_tail()
    );
}

// ---------------------------------------------------------------------------------------
// A server that takes the content but answers too late

/// Postfix's slow listener answers the end of a message's content only after 4 s; intake
/// gives up after 2. Postfix still delivers. The customer reply is in doubt: it goes to staff
/// with a request to check, and is never sent a second time, in this run or the next.
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_whose_answer_times_out_goes_to_staff_and_is_never_sent_twice() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-doubt");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let slow = ms.env_port("SMTP_SLOW_PORT");
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace(
            &format!("port = {}\nsecurity", ms.smtp_port),
            &format!("port = {slow}\nsecurity"),
        )
        .replace(
            "timeout_seconds = 10\n\n[store]",
            "timeout_seconds = 2\n\n[store]",
        );
    assert!(text.contains(&format!("port = {slow}\n")), "{text}");
    assert!(text.contains("timeout_seconds = 2\n\n[store]"), "{text}");
    std::fs::write(&setup.config, text).unwrap();

    let id = format!("{}@example.test", unique("doubt"));
    ms.imap_append("support", &folder, &notification(&id, 40, "pass"), None)
        .await;
    let first = setup.run_once();
    assert!(
        first
            .log_tail()
            .contains("reply may or may not have been delivered"),
        "{}",
        first.log_tail()
    );
    let ids = [id.clone()];
    let t0 = Instant::now();
    loop {
        let replies = answers(ms, "customer", &ids).await;
        let notices = doubt_notices(ms, &ids).await;
        if replies[&id].len() == 1 && !notices[&id].is_empty() {
            let text = text_of(&notices[&id][0].raw);
            assert!(text.contains("probably delivered"), "{text}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "replies {}, notices {}\n{}",
            replies[&id].len(),
            notices[&id].len(),
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The next run retries the internal mail that timed out too, never the reply.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = setup.run_once();
    assert!(
        !again.log_tail().contains("role=reply"),
        "the reply was tried again:\n{}",
        again.log_tail()
    );
    // Anything Postfix took in the second run has landed after its pause.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(answers(ms, "customer", &ids).await[&id].len(), 1);
}

// ---------------------------------------------------------------------------------------
// 7. One bad message never stops the rest; no reflection to third parties

/// `raw` with its From line replaced by `from` (a whole header line without CRLF).
fn with_from(raw: Vec<u8>, from: &str) -> Vec<u8> {
    String::from_utf8(raw)
        .unwrap()
        .replacen("From: Carla Kunde <customer@alpenshop-example.ch>", from, 1)
        .into_bytes()
}

/// A verified notification whose From address lettre cannot build (two dots in a row):
/// before, deciding it failed every `watch` start for good.
fn poison(message_id: &str) -> Vec<u8> {
    with_from(
        notification(message_id, 3, "pass"),
        "From: Carla Kunde <carla..kunde@alpenshop-example.ch>",
    )
}

/// Checks what a poison message between two good ones caused: both good ones answered, the
/// poison one in review with a notice to staff carrying the original, and nothing sent to
/// its sender.
async fn assert_poison_handled(
    ms: &MailServers,
    intake: &Intake,
    before: &str,
    poisoned: &str,
    after: &str,
) {
    let good = [before.to_string(), after.to_string()];
    let all = [before.to_string(), poisoned.to_string(), after.to_string()];
    let customer = wait_answers(
        ms,
        intake,
        "customer",
        &good,
        Duration::from_secs(45),
        Duration::ZERO,
    )
    .await;
    for id in &good {
        assert_eq!(customer[id].len(), 1, "{id}: {:?}", customer[id]);
    }
    let staff = wait_answers(
        ms,
        intake,
        "staff",
        &all,
        Duration::from_secs(45),
        Duration::from_secs(1),
    )
    .await;
    let notice = &staff[poisoned];
    assert_eq!(
        notice.len(),
        1,
        "one notice for the poison message: {notice:?}"
    );
    let subject = header(&notice[0].raw, "Subject");
    assert!(
        subject.contains("REVIEW") && subject.contains("could not answer"),
        "{subject}"
    );
    let parsed = MessageParser::default().parse(&notice[0].raw).unwrap();
    let original = parsed.attachment(0).expect("the original is attached");
    assert!(
        original
            .message()
            .is_some_and(|m| m.message_id() == Some(poisoned)),
        "attached: {}",
        String::from_utf8_lossy(original.contents())
    );
    // Nobody outside got anything for it.
    assert!(answers(ms, "customer", &all).await[poisoned].is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_over_imap_goes_to_review_and_the_others_are_answered() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-poison");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let before = format!("{}@example.test", unique("poison-before"));
    let poisoned = format!("{}@example.test", unique("poison"));
    let after = format!("{}@example.test", unique("poison-after"));
    ms.imap_append("support", &folder, &notification(&before, 40, "pass"), None)
        .await;
    ms.imap_append("support", &folder, &poison(&poisoned), None)
        .await;
    ms.imap_append("support", &folder, &notification(&after, 3, "pass"), None)
        .await;

    // `--once` exits 0 with all three decided.
    let run = setup.run_once();
    assert!(run.log_tail().contains("3 decided"), "{}", run.log_tail());
    assert_poison_handled(ms, &run, &before, &poisoned, &after).await;
    let flags = support_flags(ms, &folder).await;
    assert!(
        flags[&poisoned].iter().any(|f| f == "$intake-review"),
        "{:?}",
        flags[&poisoned]
    );
    assert!(flags[&before].iter().any(|f| f == "$intake-accepted"));
    assert!(flags[&after].iter().any(|f| f == "$intake-rejected"));

    // And every later start works too, and answers new mail.
    let later = format!("{}@example.test", unique("poison-later"));
    ms.imap_append("support", &folder, &notification(&later, 3, "pass"), None)
        .await;
    let again = setup.run_once();
    assert!(
        again.log_tail().contains("1 decided"),
        "{}",
        again.log_tail()
    );
    let customer = wait_answers(
        ms,
        &again,
        "customer",
        std::slice::from_ref(&later),
        Duration::from_secs(30),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(customer[&later].len(), 1);
    let staff = answers(ms, "staff", std::slice::from_ref(&poisoned)).await;
    assert_eq!(staff[&poisoned].len(), 1, "the notice is not sent again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_in_a_maildir_goes_to_review_and_the_others_are_answered() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let before = format!("{}@example.test", unique("md-poison-before"));
    let poisoned = format!("{}@example.test", unique("md-poison"));
    let after = format!("{}@example.test", unique("md-poison-after"));
    let now = Utc::now().timestamp();
    for (i, raw) in [
        notification(&before, 40, "pass"),
        poison(&poisoned),
        notification(&after, 3, "pass"),
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(
            maildir
                .join("new")
                .join(format!("{now}.M{i}P1.intake-test")),
            raw,
        )
        .unwrap();
    }
    let setup = Setup::maildir(ms, &maildir);
    let run = setup.run_once();
    assert!(run.log_tail().contains("3 decided"), "{}", run.log_tail());
    assert_poison_handled(ms, &run, &before, &poisoned, &after).await;
    let again = setup.run_once();
    assert!(
        again.log_tail().contains("0 decided"),
        "{}",
        again.log_tail()
    );
}

/// The reflection attack: a notification that claims a customer's From without proof and
/// asks for answers at a third party (Reply-To). Nobody outside gets anything; staff get
/// the summary. And a verified sender's Reply-To outside its organization is not used
/// either: the reply goes to the From.
///
/// Passes only after the trust merge (check.rs then computes `reply_address` from the
/// verification; before it, a verified From's third-party Reply-To is still answered).
#[tokio::test(flavor = "multi_thread")]
async fn reflection_through_a_forged_from_and_a_third_party_reply_to_reaches_nobody() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-reflect");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    // A bystander's mailbox in another organization (Postfix delivers every test user at
    // third-party-example.org too).
    let victim = ms
        .address("loop")
        .replace("@amazee.test", "@third-party-example.org");
    assert_eq!(victim, "loop@third-party-example.org");
    let reply_to = |raw: Vec<u8>| {
        String::from_utf8(raw)
            .unwrap()
            .replacen(
                "To: amazee.io Support",
                &format!("Reply-To: {victim}\r\nTo: amazee.io Support"),
                1,
            )
            .into_bytes()
    };
    let strip_ar = |raw: Vec<u8>| {
        String::from_utf8(raw)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Authentication-Results:"))
            .collect::<Vec<_>>()
            .join("\r\n")
            .into_bytes()
    };
    let foreign_ar = |raw: Vec<u8>| {
        String::from_utf8(raw)
            .unwrap()
            .replacen(
                "Authentication-Results: mx.amazee.test;",
                "Authentication-Results: mx.attacker.test;",
                1,
            )
            .into_bytes()
    };
    let ids: Vec<String> = (0..5)
        .map(|i| format!("{}@example.test", unique(&format!("reflect{i}"))))
        .collect();
    let mails = [
        // DMARC fails for the claimed From.
        reply_to(notification(&ids[0], 3, "fail")),
        // No Authentication-Results at all.
        reply_to(strip_ar(notification(&ids[1], 3, "pass"))),
        // A pass, but written by someone else's server (our MX would have put its own first).
        reply_to(strip_ar(foreign_ar(notification(&ids[2], 3, "pass")))),
        // DMARC passes, for a different domain than the From's.
        reply_to(with_from(
            notification(&ids[3], 3, "pass"),
            "From: Carla Kunde <ceo@bank-victim-example.ch>",
        )),
        // Verified sender, third-party Reply-To: answered at the From, never the Reply-To.
        reply_to(notification(&ids[4], 3, "pass")),
    ];
    for raw in &mails {
        ms.imap_append("support", &folder, raw, None).await;
    }
    let run = setup.run_once();
    let staff = wait_answers(
        ms,
        &run,
        "staff",
        &ids,
        Duration::from_secs(45),
        Duration::from_secs(2),
    )
    .await;
    for id in &ids {
        assert_eq!(staff[id].len(), 1, "staff summary for {id}");
    }
    say(&run.log_tail());
    let victim_got = answers(ms, "loop", &ids).await;
    for id in &ids {
        assert!(victim_got[id].is_empty(), "reflected to {victim} for {id}");
    }
    let customer = answers(ms, "customer", &ids).await;
    for id in &ids[..4] {
        assert!(
            customer[id].is_empty(),
            "an unverified sender got a reply for {id}"
        );
        let text = text_of(&staff[id][0].raw);
        assert!(
            text.contains("No reply was sent") || text.contains("No automated reply was sent"),
            "{text}"
        );
    }
    let verified = wait_answers(
        ms,
        &run,
        "customer",
        std::slice::from_ref(&ids[4]),
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .await;
    assert_eq!(verified[&ids[4]].len(), 1);
}

// ---------------------------------------------------------------------------------------
// 3. A request as a conversation, across kills

/// A reply in the thread of `thread` (the customer's earlier Message-IDs, oldest first)
/// with `body` as its new text, quoting nothing.
fn follow_up(message_id: &str, thread: &[&str], subject: &str, body: &str) -> Vec<u8> {
    let refs: Vec<String> = thread.iter().map(|t| format!("<{t}>")).collect();
    format!(
        "Return-Path: <customer@alpenshop-example.ch>\r\n\
         Authentication-Results: mx.amazee.test; dkim=pass header.d=alpenshop-example.ch; spf=pass smtp.mailfrom=alpenshop-example.ch; dmarc=pass header.from=alpenshop-example.ch\r\n\
         From: Carla Kunde <customer@alpenshop-example.ch>\r\n\
         To: amazee.io Support <support@amazee.test>\r\n\
         Subject: Re: {subject}\r\n\
         Date: {date}\r\n\
         Message-ID: <{message_id}>\r\n\
         In-Reply-To: {last}\r\n\
         References: {refs}\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello,\r\n\
         \r\n\
         {body}\r\n\
         \r\n\
         Kind regards\r\n\
         Carla Kunde\r\n",
        date = Utc::now().to_rfc2822(),
        last = refs.last().cloned().unwrap_or_default(),
        refs = refs.join(" "),
    )
    .into_bytes()
}

/// The calendar of a security message: (UID, SEQUENCE, METHOD), read as a calendar
/// client reads it.
pub(crate) fn calendar_of(raw: &[u8]) -> (String, u32, String) {
    let view = intake::replay::view(&intake::model::Outgoing {
        role: intake::model::Role::Security,
        from: String::new(),
        to: String::new(),
        message_id: String::new(),
        raw: raw.to_vec(),
    });
    (
        view.ics_uid.unwrap_or_default(),
        view.ics_sequence.unwrap_or(0),
        view.ics_method.unwrap_or_default(),
    )
}

/// Appends `raw`, kills intake after `delay_ms` (while it reads, decides or sends), starts it
/// again and waits until the customer, or staff with a reply in doubt, heard about `id`.
#[allow(clippy::too_many_arguments)]
async fn step_with_kill(
    ms: &MailServers,
    setup: &Setup,
    intake: &mut Intake,
    folder: &str,
    id: &str,
    raw: &[u8],
    delay_ms: u64,
) {
    ms.imap_append("support", folder, raw, None).await;
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    intake.kill9();
    *intake = setup.start();
    let t0 = Instant::now();
    loop {
        let customer = answers(ms, "customer", &[id.to_string()]).await;
        let doubt = doubt_notices(ms, &[id.to_string()]).await;
        if !customer[id].is_empty() || !doubt[id].is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no answer to {id}\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_is_completed_moved_and_cancelled_in_its_thread_across_kills() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let folder = unique("watch-thread");
    ms.imap_create("support", &folder).await;
    let setup = Setup::new(ms, &folder, 1000);
    let mut intake = setup.start();
    let subject = "Penetration test announcement shop.alpenshop-example.ch";

    // 1. The notification lacks the originating IPs: rejected, asking for them only.
    let first = format!("{}@example.test", unique("thread1"));
    let raw: Vec<u8> = String::from_utf8(notification(&first, 40, "pass"))
        .unwrap()
        .split("\r\n")
        .filter(|l| !l.starts_with("Originating IPs:"))
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_bytes();
    let mut rng = Lcg(0x5eed_7e57);
    step_with_kill(
        ms,
        &setup,
        &mut intake,
        &folder,
        &first,
        &raw,
        rng.between(0, 400),
    )
    .await;

    // 2. The customer replies in the thread with the IPs: accepted with the whole record.
    let second = format!("{}@example.test", unique("thread2"));
    let raw = follow_up(
        &second,
        &[&first],
        subject,
        "the test traffic comes from 85.195.240.10 and 85.195.240.11.",
    );
    step_with_kill(
        ms,
        &setup,
        &mut intake,
        &folder,
        &second,
        &raw,
        rng.between(0, 400),
    )
    .await;

    // 3. The customer moves the window by a week (still with enough notice).
    let (start, end) = window(47);
    let third = format!("{}@example.test", unique("thread3"));
    let raw = follow_up(
        &third,
        &[&first, &second],
        subject,
        &format!(
            "we need to move the test by a week. New window:\r\nStart: {} 09:00 UTC\r\nEnd: {} 17:00 UTC",
            start.format("%d.%m.%Y"),
            end.format("%d.%m.%Y")
        ),
    );
    step_with_kill(
        ms,
        &setup,
        &mut intake,
        &folder,
        &third,
        &raw,
        rng.between(0, 400),
    )
    .await;

    // 4. The customer cancels.
    let fourth = format!("{}@example.test", unique("thread4"));
    let raw = follow_up(
        &fourth,
        &[&first, &second, &third],
        subject,
        "unfortunately we have to cancel the penetration test. Sorry for the trouble.",
    );
    step_with_kill(
        ms,
        &setup,
        &mut intake,
        &folder,
        &fourth,
        &raw,
        rng.between(0, 400),
    )
    .await;

    // The security team's three messages: accepted, updated, cancelled.
    let ids = [first.clone(), second.clone(), third.clone(), fourth.clone()];
    let t0 = Instant::now();
    let security = loop {
        let s = answers(ms, "security", &ids).await;
        if [&second, &third, &fourth].iter().all(|i| !s[*i].is_empty()) {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "security did not get all three: {s:?}\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Let late duplicates show, then look at everything once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let security = {
        let _ = security;
        answers(ms, "security", &ids).await
    };
    let customer = answers(ms, "customer", &ids).await;
    let doubts = doubt_notices(ms, &ids).await;
    let staff = answers(ms, "staff", &ids).await;

    // Every customer message: exactly one reply (or, after a kill during its hand-over,
    // one notice to staff instead), never two.
    for id in &ids {
        let n = customer[id].len() + doubts[id].len();
        assert_eq!(
            n,
            1,
            "{id}: {} replies, {} in doubt",
            customer[id].len(),
            doubts[id].len()
        );
    }
    let subject_of = |id: &String| {
        customer[id]
            .first()
            .map(|g| header(&g.raw, "Subject"))
            .unwrap_or_default()
    };
    if !customer[&first].is_empty() {
        let s = subject_of(&first);
        assert!(s.ends_with("action needed"), "{s}");
        let body = text_of(&customer[&first][0].raw);
        assert!(body.contains("originating IP"), "{body}");
        assert!(
            !body.contains("the expected bandwidth"),
            "only what is missing: {body}"
        );
    }
    if !customer[&second].is_empty() {
        let s = subject_of(&second);
        assert!(s.ends_with("accepted"), "{s}");
        assert!(!s.contains("Re: Re:"), "{s}");
        let body = text_of(&customer[&second][0].raw);
        assert!(
            body.contains("85.195.240.10/32") && body.contains("shop.alpenshop-example.ch"),
            "the whole record: {body}"
        );
    }
    if !customer[&third].is_empty() {
        assert!(
            subject_of(&third).ends_with("change accepted"),
            "{}",
            subject_of(&third)
        );
    }
    if !customer[&fourth].is_empty() {
        assert!(
            subject_of(&fourth).ends_with("cancelled"),
            "{}",
            subject_of(&fourth)
        );
    }
    // Internal mail caught by a kill mid-hand-over is sent again with the same Message-ID
    // (at-least-once, see the README); what counts is one distinct message per step.
    let distinct = |v: &Vec<Got>| {
        v.iter()
            .map(|g| g.message_id.clone())
            .collect::<BTreeSet<_>>()
    };
    // Security: nothing for the incomplete notification, then one message per step, all
    // for the same calendar entry with a rising SEQUENCE.
    assert!(
        security[&first].is_empty(),
        "{:?}",
        distinct(&security[&first])
    );
    let cal: Vec<(String, u32, String)> = [&second, &third, &fourth]
        .iter()
        .map(|id| {
            assert_eq!(
                distinct(&security[*id]).len(),
                1,
                "security messages for {id}"
            );
            calendar_of(&security[*id][0].raw)
        })
        .collect();
    assert!(
        cal[0].0.starts_with("INT-") && cal[0].0.ends_with("-1@amazee.test"),
        "{cal:?}"
    );
    assert!(cal.iter().all(|c| c.0 == cal[0].0), "one UID: {cal:?}");
    assert_eq!(
        cal.iter().map(|c| (c.1, c.2.as_str())).collect::<Vec<_>>(),
        [(0, "PUBLISH"), (1, "PUBLISH"), (2, "CANCEL")],
        "{cal:?}"
    );
    let moved = text_of(&security[&third][0].raw);
    assert!(
        moved.contains("What changed") && moved.contains(&start.format("%Y-%m-%d").to_string()),
        "{moved}"
    );
    // Staff: one summary per customer message.
    for id in &ids {
        assert_eq!(distinct(&staff[id]).len(), 1, "staff summaries for {id}");
    }
    intake.terminate();
}
