//! Benchmark of `intake watch` against private Dovecot + Postfix (scripts/mailservers.sh):
//! (a) delivery-to-reply latency, one notification at a time, p50/p95 over 50;
//! (b) backlog throughput: 1,000 notifications waiting, `intake watch --once` until it exits.
//!
//! `cargo bench --bench watch` (needs root for the mail servers, like the e2e tests).

#![allow(clippy::unwrap_used)]
// Real time on purpose: the benchmark dates mail for real Dovecot and Postfix, which run on
// the system clock (clippy.toml bans it elsewhere).
#![allow(clippy::disallowed_methods)]

#[path = "../tests/it/mailservers.rs"]
mod mailservers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use mailservers::MailServers;

const LATENCY_RUNS: usize = 50;
const BACKLOG: usize = 1000;

/// Kills the child when dropped, so an aborted benchmark leaves no process behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A config watching `folder`; replies go to the private Postfix, or into `file_outbox`.
fn write_config(ms: &MailServers, dir: &Path, folder: &str, file_outbox: Option<&Path>) -> PathBuf {
    let config = dir.join(format!("{folder}.toml"));
    let outbox = match file_outbox {
        Some(path) => format!("kind = \"file\"\npath = \"{}\"", path.display()),
        None => format!(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = \"{}\"\nhello_name = \"intake.amazee.test\"\ntimeout_seconds = 30",
            ms.smtp_port,
            ms.ca_file.display()
        ),
    };
    let text = format!(
        r#"templates = "{templates}"
[rules]
max_replies_per_sender_per_day = 1000000
max_replies_per_domain_per_day = 1000000
max_replies_per_hour = 1000000
[addresses]
from = "support@amazee.test"
security_team = "security@amazee.test"
staff = "staff@amazee.test"
[mailbox]
kind = "imap"
host = "127.0.0.1"
port = {imap}
security = "starttls"
ca_file = "{ca}"
username = "support"
password = "{password}"
folder = "{folder}"
idle_minutes = 1
timeout_seconds = 30
answer_since = "2000-01-01T00:00:00Z"
[outbox]
{outbox}
[store]
path = "{store}"
"#,
        templates = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .display(),
        imap = ms.imap_port,
        ca = ms.ca_file.display(),
        password = ms.password("support"),
        store = dir.join(format!("{folder}.sqlite3")).display(),
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn intake(config: &Path, once: bool, log: &Path, level: &str) -> Guard {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intake"));
    cmd.args(["--log-format", "json", "watch", "--config"])
        .arg(config);
    if once {
        cmd.arg("--once");
    }
    let log = std::fs::File::create(log).unwrap();
    Guard(
        cmd.env("RUST_LOG", level)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

/// A complete pen-test notification with a window 40 days out (accepted: reply, security
/// forward with calendar, staff summary).
fn notification(id: &str) -> Vec<u8> {
    let start = (Utc::now() + chrono::Duration::days(40)).format("%d.%m.%Y");
    let end = (Utc::now() + chrono::Duration::days(42)).format("%d.%m.%Y");
    // Each notification its own announcement (a third source address by its id), from the
    // organization that owns the target: an acceptance with its three messages, not a resend.
    let h = id.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!(
        "Authentication-Results: mx.amazee.test; dkim=pass header.d=alpenshop-example.ch; spf=pass smtp.mailfrom=alpenshop-example.ch; dmarc=pass header.from=alpenshop-example.ch\r\n\
         From: Carla Kunde <customer@alpenshop-example.ch>\r\n\
         To: support@amazee.test\r\n\
         Subject: Penetration test announcement shop.alpenshop-example.ch\r\n\
         Date: {date}\r\n\
         Message-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello amazee.io support,\r\n\r\n\
         we announce a penetration test of our online shop, hosted on Lagoon.\r\n\r\n\
         Testing vectors and scope: web application pen test (OWASP Top 10, login, checkout, REST API)\r\n\
         Point of contact: Carla Kunde, customer@alpenshop-example.ch, +41 44 555 20 30\r\n\
         Originating IPs: 85.195.240.10, 85.195.240.11, 2a02:168:{a:x}:{b:x}::10\r\n\
         Traffic volume: max 20 Mbit/s, 50 requests per second\r\n\
         Target website: https://shop.alpenshop-example.ch\r\n\
         Start: {start} 09:00\r\n\
         End: {end} 17:00\r\n\r\n\
         Kind regards\r\nCarla Kunde\r\n",
        date = Utc::now().to_rfc2822(),
        a = h >> 16,
        b = h & 0xffff,
    )
    .into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn latency(ms: &MailServers, dir: &Path) {
    let folder = "bench-latency";
    ms.imap_create("support", folder).await;
    let config = write_config(ms, dir, folder, None);
    let _intake = intake(&config, false, &dir.join("latency.log"), "warn");
    let mut support = ms.session("support").await;
    let mut customer = ms.session("customer").await;
    customer.select("INBOX").await.unwrap();
    let mut times = Vec::with_capacity(LATENCY_RUNS);
    // One warm-up round (intake connecting, first SMTP connection) not counted.
    for i in 0..=LATENCY_RUNS {
        let id = format!("lat{i}-{}@example.test", Utc::now().timestamp_micros());
        let raw = notification(&id);
        let t0 = Instant::now();
        support.append(folder, None, None, &raw).await.unwrap();
        let query = format!("HEADER In-Reply-To \"<{id}>\"");
        loop {
            customer.noop().await.unwrap();
            if !customer.uid_search(&query).await.unwrap().is_empty() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "no reply to {id} within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if i > 0 {
            times.push(t0.elapsed());
        }
        // Let the forward and the summary go out before the next one.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    times.sort();
    println!(
        "watch/latency: APPEND -> reply in customer INBOX, {LATENCY_RUNS} notifications one at a time: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
    let _ = support.logout().await;
    let _ = customer.logout().await;
}

/// `intake watch --once` over BACKLOG waiting notifications, replying through Postfix or,
/// with `file_outbox`, into files (intake's own speed, without the SMTP server's).
async fn backlog(ms: &MailServers, dir: &Path, file_outbox: bool) {
    let folder = if file_outbox {
        "bench-backlog-file"
    } else {
        "bench-backlog"
    };
    let outbox_dir = dir.join(format!("{folder}-outbox"));
    ms.imap_create("support", folder).await;
    let mut support = ms.session("support").await;
    let t_append = Instant::now();
    for i in 0..BACKLOG {
        let id = format!("backlog{i}-{}@example.test", Utc::now().timestamp_micros());
        support
            .append(folder, None, None, &notification(&id))
            .await
            .unwrap();
    }
    let _ = support.logout().await;
    eprintln!(
        "watch/backlog: {BACKLOG} notifications appended in {:.1} s",
        t_append.elapsed().as_secs_f64()
    );
    let config = write_config(ms, dir, folder, file_outbox.then_some(outbox_dir.as_path()));
    let log = dir.join(format!("{folder}.log"));
    let t0 = Instant::now();
    let mut run = intake(&config, true, &log, "info");
    let status = loop {
        if let Some(st) = run.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(900),
            "--once did not finish in 15 min"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = t0.elapsed();
    let summary = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "intake watch --once failed:\n{summary}");
    assert!(
        summary.contains(&format!("{BACKLOG} decided")),
        "not everything was decided:\n{summary}"
    );
    println!(
        "watch/backlog: {BACKLOG} waiting notifications (each: decide, 3 messages {}, tag), intake watch --once: {:.1} s, {:.1} messages/s",
        if file_outbox {
            "to .eml files"
        } else {
            "via SMTP"
        },
        elapsed.as_secs_f64(),
        BACKLOG as f64 / elapsed.as_secs_f64()
    );
    phases(&summary);
}

/// Where the backlog's time went, from the JSON log: when the first and last message was
/// decided and sent, relative to the start.
fn phases(log: &str) {
    let mut start = None;
    let mut spans: std::collections::BTreeMap<&str, (f64, f64, usize)> = Default::default();
    let mut end = 0.0;
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(t) = v["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let t0 = *start.get_or_insert(t);
        let at = (t - t0).num_microseconds().unwrap_or(0) as f64 / 1e6;
        end = at;
        let what = v["fields"]["message"].as_str().unwrap_or("");
        for phase in ["decided", "sent"] {
            if what == phase {
                let e = spans.entry(phase).or_insert((at, at, 0));
                e.1 = at;
                e.2 += 1;
            }
        }
    }
    let show = |p: &str| {
        spans.get(p).map_or("none".to_string(), |(a, b, n)| {
            format!("{n} between {a:.1} s and {b:.1} s")
        })
    };
    println!(
        "watch/backlog phases: decided {}; sent {}; stopped at {end:.1} s",
        show("decided"),
        show("sent")
    );
}

/// The ceiling Postfix itself sets: Postfix's own load generator, `smtp-source`, sending
/// 3,000 messages of 5 KB over 8 connections (intake's 3 messages per notification, 8 in
/// flight), delivered into Dovecot like intake's.
fn postfix_alone(ms: &MailServers) {
    let t0 = Instant::now();
    let out = Command::new("smtp-source")
        .args(["-s", "8", "-m", "3000", "-l", "5000"])
        .args(["-f", "support@amazee.test", "-t", "staff@amazee.test"])
        .arg(format!("127.0.0.1:{}", ms.smtp_port))
        .output();
    match out {
        Ok(o) if o.status.success() => println!(
            "watch/postfix-alone: smtp-source, 3000 messages over 8 connections: {:.1} s, {:.0} messages/s ({:.0} notifications/s at 3 messages each)",
            t0.elapsed().as_secs_f64(),
            3000.0 / t0.elapsed().as_secs_f64(),
            1000.0 / t0.elapsed().as_secs_f64()
        ),
        other => println!("watch/postfix-alone: smtp-source not usable: {other:?}"),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: only run for real.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ms = MailServers::start();
    let dir = tempfile::Builder::new()
        .prefix("intake-bench-")
        .tempdir()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        latency(&ms, dir.path()).await;
        backlog(&ms, dir.path(), false).await;
        backlog(&ms, dir.path(), true).await;
        postfix_alone(&ms);
    });
    drop(ms);
}
