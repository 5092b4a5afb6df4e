//! Test harness: starts private Dovecot + Postfix with scripts/mailservers.sh in a fresh temp
//! folder and offers small helpers to put mail in and look at it.
//!
//! One instance is shared by all tests of the binary ([`shared`]); the script's watchdog stops
//! it (and deletes the folder) within a second of this test process exiting, because statics
//! are never dropped. A [`MailServers`] owned by a test is stopped in `Drop`.
//! Set `INTAKE_SKIP_E2E=1` to skip these tests on machines that cannot run the servers. A
//! skip is never silent: every skipped test prints `SKIPPED: <test name>` to stderr and, when
//! `INTAKE_SKIP_LOG` names a file, appends that line to it; scripts/test counts those lines
//! into its closing "N passed, N failed, N skipped" and fails under CI when any test skipped.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use async_imap::{Client, Session};
use futures::TryStreamExt;
use tokio::net::TcpStream;
use tokio::sync::RwLock;

/// Tests that take servers down hold this for writing; all others hold it for reading.
pub static DISRUPT: RwLock<()> = RwLock::const_new(());

static SHARED: OnceLock<Option<MailServers>> = OnceLock::new();

/// The IMAP listeners of the one private Dovecot (scripts/mailservers.sh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// 127.0.0.1:IMAP_PORT, STARTTLS, everything advertised (IDLE, MOVE, UIDPLUS).
    Starttls,
    /// 127.0.0.1:IMAPS_PORT, TLS from the first byte (like port 993).
    ImplicitTls,
    /// 127.0.0.2, STARTTLS, CAPABILITY without IDLE and MOVE (UIDPLUS kept); rawlogged.
    NoIdle,
    /// 127.0.0.3, STARTTLS, CAPABILITY without IDLE, MOVE and UIDPLUS; rawlogged.
    Minimal,
}

/// The running servers and the facts from DIR/env.
#[derive(Debug)]
pub struct MailServers {
    pub dir: PathBuf,
    pub env: HashMap<String, String>,
    pub imap_port: u16,
    pub smtp_port: u16,
    pub ca_file: PathBuf,
    owned: bool,
}

/// The shared instance, started on first use; `None` when `INTAKE_SKIP_E2E=1`, after
/// recording the calling test as skipped ([`note_skipped`]).
pub fn shared() -> Option<&'static MailServers> {
    let servers = SHARED
        .get_or_init(|| {
            if std::env::var("INTAKE_SKIP_E2E").as_deref() == Ok("1") {
                say("INTAKE_SKIP_E2E=1: the end-to-end mail server tests are skipped (each reported as SKIPPED)");
                return None;
            }
            let mut s = MailServers::start();
            // Owned by the watchdog from now on (statics are not dropped).
            s.owned = false;
            Some(s)
        })
        .as_ref();
    if servers.is_none() {
        note_skipped();
    }
    servers
}

/// Records the running test as skipped: a `SKIPPED: <name>` line on stderr (unaffected by
/// the harness's capture) and in the file `INTAKE_SKIP_LOG` names, for scripts/test to
/// count. The name is the test thread's: libtest names each test's thread after the test.
pub fn note_skipped() {
    use std::io::Write;
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed test>");
    let line = format!("SKIPPED: {name}");
    say(&line);
    if let Some(path) = std::env::var_os("INTAKE_SKIP_LOG") {
        // One write of one short line with O_APPEND: lines of tests running in parallel
        // do not interleave.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            say(&format!(
                "cannot record the skip in {}: {e}",
                Path::new(&path).display()
            ));
        }
    }
}

/// Writes straight to stderr: `eprintln!` would be swallowed by the test harness's capture.
fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailservers.sh")
}

impl MailServers {
    /// Runs `mailservers.sh start` in a new temp folder and parses its env file. Panics with
    /// the script's output when the servers cannot start.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("intake-mail-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let t0 = Instant::now();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .env("MAILSERVERS_WATCH_PID", std::process::id().to_string())
            .env("MAILSERVERS_CLEANUP", "1")
            .output()
            .expect("run scripts/mailservers.sh");
        assert!(
            out.status.success(),
            "mailservers.sh start failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        say(&format!(
            "mail servers up in {:?} at {}",
            t0.elapsed(),
            dir.display()
        ));
        let text = std::fs::read_to_string(dir.join("env")).expect("DIR/env");
        let env: HashMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        let port = |k: &str| env[k].parse::<u16>().expect(k);
        MailServers {
            imap_port: port("IMAP_PORT"),
            smtp_port: port("SMTP_PORT"),
            ca_file: PathBuf::from(&env["CA_FILE"]),
            dir,
            env,
            owned: true,
        }
    }

    /// Runs another script command (`restart-dovecot`, `stop-postfix`, `start-postfix`).
    pub fn script(&self, command: &str) {
        let out = Command::new("bash")
            .arg(script())
            .arg(command)
            .arg(&self.dir)
            .output()
            .expect("run scripts/mailservers.sh");
        assert!(
            out.status.success(),
            "mailservers.sh {command} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The password of a test user.
    pub fn password(&self, user: &str) -> String {
        self.env[&format!("{}_PASSWORD", user.to_uppercase())].clone()
    }

    /// The address of a test user.
    pub fn address(&self, user: &str) -> String {
        self.env[&format!("{}_ADDRESS", user.to_uppercase())].clone()
    }

    /// The user's Maildir (Dovecot's INBOX).
    pub fn maildir(&self, user: &str) -> PathBuf {
        PathBuf::from(&self.env["MAIL_DIR"]).join(user)
    }

    /// A source configuration for `user`/`folder` over STARTTLS trusting the test CA.
    pub fn imap_config(&self, user: &str, folder: &str) -> intake::source::ImapConfig {
        let mut c = intake::source::ImapConfig::new("127.0.0.1", user, &self.password(user));
        c.port = Some(self.imap_port);
        c.security = intake::source::Security::Starttls;
        c.ca_file = Some(self.ca_file.clone());
        c.folder = folder.to_string();
        c.timeout_seconds = 10;
        c
    }

    /// A port from DIR/env (`IMAPS_PORT`, `IMAP_NOIDLE_PORT`, ...).
    pub fn env_port(&self, key: &str) -> u16 {
        self.env[key].parse::<u16>().expect(key)
    }

    /// A source configuration like [`MailServers::imap_config`] for one of the listeners of
    /// the same Dovecot (same users, same mail).
    pub fn listener_config(
        &self,
        listener: Listener,
        user: &str,
        folder: &str,
    ) -> intake::source::ImapConfig {
        use intake::source::Security;
        let mut c = self.imap_config(user, folder);
        let (host, port, security) = match listener {
            Listener::Starttls => ("127.0.0.1".to_string(), self.imap_port, Security::Starttls),
            Listener::ImplicitTls => (
                "127.0.0.1".to_string(),
                self.env_port("IMAPS_PORT"),
                Security::Tls,
            ),
            Listener::NoIdle => (
                self.env["IMAP_NOIDLE_HOST"].clone(),
                self.env_port("IMAP_NOIDLE_PORT"),
                Security::Starttls,
            ),
            Listener::Minimal => (
                self.env["IMAP_MINIMAL_HOST"].clone(),
                self.env_port("IMAP_MINIMAL_PORT"),
                Security::Starttls,
            ),
        };
        c.host = host;
        c.port = Some(port);
        c.security = security;
        c
    }

    /// The one OAuth 2 access token the test token endpoint accepts for `user`.
    pub fn oauth_token(&self, user: &str) -> String {
        self.env[&format!("{}_OAUTH_TOKEN", user.to_uppercase())].clone()
    }

    /// What clients sent (the `*.in` rawlogs) in each session of `user` on the reduced
    /// listeners that mentions `needle` (for example a test's unique folder name).
    pub fn rawlog_sessions(&self, user: &str, needle: &str) -> Vec<String> {
        let dir = PathBuf::from(&self.env["RAWLOG_DIR"]).join(user);
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir).expect("rawlog dir").flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "in")
                && let Ok(text) = std::fs::read_to_string(&p)
                && text.contains(needle)
            {
                out.push(text);
            }
        }
        out
    }

    /// A plaintext loopback session for the helpers below (no TLS: the helpers test nothing).
    pub async fn session(&self, user: &str) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .expect("connect imap");
        let mut client = Client::new(tcp);
        client.read_response().await.expect("greeting");
        client
            .login(user, self.password(user))
            .await
            .map_err(|(e, _)| e)
            .expect("login")
    }

    /// APPENDs a message (creating the folder when needed), optionally with an INTERNALDATE
    /// such as `"01-Jan-2026 10:00:00 +0100"`.
    pub async fn imap_append(&self, user: &str, folder: &str, raw: &[u8], date: Option<&str>) {
        let mut s = self.session(user).await;
        let _ = s.create(folder).await;
        s.append(
            folder,
            None,
            date.map(|d| format!("\"{d}\"")).as_deref(),
            raw,
        )
        .await
        .expect("append");
        let _ = s.logout().await;
    }

    /// Creates a folder (ignores "already exists").
    pub async fn imap_create(&self, user: &str, folder: &str) {
        let mut s = self.session(user).await;
        let _ = s.create(folder).await;
        let _ = s.logout().await;
    }

    /// All messages of a folder (BODY.PEEK, so nothing is marked read), in UID order.
    pub async fn imap_fetch_all(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        let mut s = self.session(user).await;
        let mb = s.examine(folder).await.expect("examine");
        let mut out = Vec::new();
        if mb.exists > 0 {
            let fetched: Vec<_> = s
                .uid_fetch("1:*", "(UID BODY.PEEK[])")
                .await
                .expect("fetch")
                .try_collect()
                .await
                .expect("fetch stream");
            let mut fetched: Vec<(u32, Vec<u8>)> = fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect();
            fetched.sort_by_key(|(u, _)| *u);
            out = fetched.into_iter().map(|(_, b)| b).collect();
        }
        let _ = s.logout().await;
        out
    }

    /// Polls until the folder holds at least `n` messages; returns them or panics at `timeout`.
    pub async fn wait_for_count(
        &self,
        user: &str,
        folder: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<Vec<u8>> {
        let t0 = Instant::now();
        loop {
            let all = self.imap_fetch_all(user, folder).await;
            if all.len() >= n {
                return all;
            }
            assert!(
                t0.elapsed() < timeout,
                "{user}/{folder}: {} of {n} messages after {timeout:?}",
                all.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// An SMTP outbox to the test Postfix over STARTTLS, trusting the test CA.
    pub fn smtp_config(&self) -> intake::sink::SmtpConfig {
        let mut c = intake::sink::SmtpConfig::new("127.0.0.1");
        c.port = Some(self.smtp_port);
        c.security = intake::source::Security::Starttls;
        c.ca_file = Some(self.ca_file.clone());
        c.hello_name = Some("tests.amazee.test".into());
        c.timeout_seconds = 10;
        c
    }

    /// An SMTP outbox to the test Postfix's implicit-TLS listener (`SMTPS_PORT`, like port
    /// 465), trusting the test CA, without AUTH (the listener offers it, but it is optional).
    pub fn smtps_config(&self) -> intake::sink::SmtpConfig {
        let mut c = self.smtp_config();
        c.port = Some(self.env_port("SMTPS_PORT"));
        c.security = intake::source::Security::Tls;
        c
    }

    /// Submits a message through Postfix with the crate's own SMTP outbox.
    pub async fn smtp_send(
        &self,
        from: &str,
        to: &[&str],
        raw: &[u8],
    ) -> Result<(), intake::sink::SendError> {
        use intake::sink::{Envelope, Outbox, SmtpOutbox};
        let out = SmtpOutbox::new(&self.smtp_config())?;
        let env = Envelope {
            from: Some(from.to_string()),
            to: to.iter().map(|s| s.to_string()).collect(),
        };
        out.send(&env, raw).await
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        if self.owned {
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(&self.dir)
                .output();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
