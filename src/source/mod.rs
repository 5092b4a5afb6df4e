//! Where incoming mail comes from: the [`Mailbox`] trait the watch loop reads through, its
//! configuration, the IMAP and Maildir mailboxes behind it, and the retry backoff the watch
//! loop uses between failed attempts.
//!
//! The readers only read (and, for IMAP, set keywords or move handled mail when asked). Which
//! messages were already handled is the caller's store's business: the readers hand out every
//! message after a given point (`last_uid` for IMAP, "not seen by this reader" for Maildir).

pub mod imap;
pub mod maildir;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rand::Rng;
use serde::Deserialize;

pub use imap::{Fetched, ImapMailbox, ImapSource, MailboxState};
pub use maildir::{MaildirMailbox, MaildirMessage, MaildirSource};

use crate::clock::Clock;

/// A folder of incoming mail as the watch loop sees it: open it, fetch what came after a
/// position, mark what was decided, wait for more. Object safe (boxed futures, like
/// [`crate::sink::Outbox`]), so the loop holds a `Box<dyn Mailbox>` built from
/// [`MailboxConfig`]: [`ImapMailbox`] (a server folder) or [`MaildirMailbox`] (a local one).
///
/// Errors say how the loop must react ([`MailboxError`]): after `Reconnect` it waits with
/// backoff and calls [`Mailbox::open`] again; `Fatal` ends `intake watch`.
pub trait Mailbox: Send {
    /// Opens a session (IMAP: connect, log in, SELECT; Maildir: check the folder, seeding a
    /// demo one first). Called at the start of every session, also after a reconnect.
    fn open(&mut self) -> BoxFuture<'_, Result<Opened, MailboxError>>;

    /// Messages after position `after` (the highest [`Incoming::uid`] handled so far), oldest
    /// first, in bounded batches; empty when nothing more is waiting. Bodies over `max_bytes`
    /// are not read (`raw` is `None`). A mailbox that remembers what it handed out (Maildir)
    /// ignores `after`.
    fn fetch_after(
        &mut self,
        after: u64,
        max_bytes: u64,
    ) -> BoxFuture<'_, Result<Vec<Incoming>, MailboxError>>;

    /// Shows in the mailbox what was decided, by `(uid, decision)`: IMAP sets a keyword per
    /// decision and moves handled mail to `move_to` if set; a Maildir is left as it is.
    fn mark_decided<'a>(
        &'a mut self,
        decided: &'a [(u64, String)],
    ) -> BoxFuture<'a, Result<(), MailboxError>>;

    /// The longest single wait for new mail (IMAP: one IDLE; Maildir: a minute).
    fn max_wait(&self) -> Duration;

    /// Waits at most `max` for new mail (IDLE, or polling). `Some(wake)` when the wait ended
    /// by itself, `None` when `stop` completed first; the session stays usable either way.
    fn wait_for_mail<'a>(
        &'a mut self,
        max: Duration,
        stop: BoxFuture<'a, ()>,
    ) -> BoxFuture<'a, Result<Option<Wake>, MailboxError>>;

    /// Ends the session politely (IMAP LOGOUT); best effort.
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// What [`Mailbox::open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The folder's name, recorded with each decision (IMAP folder, Maildir path).
    pub folder: String,
    /// IMAP UIDVALIDITY: when it changes, earlier UIDs mean nothing. 0 for a Maildir.
    pub uid_validity: u32,
    /// Where the store keeps this mailbox's position across restarts; `None` for a mailbox
    /// that hands out everything again after a restart and relies on the store's record of
    /// decisions (Maildir).
    pub resume: Option<Resume>,
}

/// How a mailbox's position is kept in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The store's key for the position (`imap://user@host/folder`).
    pub key: String,
    /// On the first start, answer only mail that arrived at or after this (unset: the start).
    pub answer_since: Option<DateTime<Utc>>,
}

/// One message from [`Mailbox::fetch_after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Its number in the folder: the IMAP UID, or a stable number derived from the Maildir
    /// file's key.
    pub uid: u64,
    /// When it arrived (IMAP INTERNALDATE, Maildir file time).
    pub arrived: DateTime<Utc>,
    /// Its size in bytes.
    pub size: u64,
    /// The whole message, or `None` when it was over the size limit (never read).
    pub raw: Option<Vec<u8>>,
    /// Its Message-ID without angle brackets, if it has one.
    pub message_id: Option<String>,
}

/// How a [`Mailbox`] operation failed, as the watch loop must react to it.
#[derive(Debug)]
pub enum MailboxError {
    /// Connection trouble: open the mailbox again after a backoff delay.
    Reconnect(String),
    /// Configuration, credentials, a local folder or the store: stop with a clear error.
    Fatal(anyhow::Error),
}

impl MailboxError {
    /// A network mailbox's error: reconnect when trying again may help, stop otherwise.
    pub fn from_source(e: SourceError) -> MailboxError {
        if e.is_transient() || e.needs_reconnect() {
            MailboxError::Reconnect(e.to_string())
        } else {
            MailboxError::Fatal(anyhow::anyhow!("mailbox: {e}"))
        }
    }
}

impl From<anyhow::Error> for MailboxError {
    fn from(e: anyhow::Error) -> Self {
        MailboxError::Fatal(e)
    }
}

/// Which mailbox `intake watch` reads, as written in the configuration file
/// (`[mailbox]` with `kind = "imap"` or `kind = "maildir"`).
// Read once at start-up; boxing the IMAP variant would only complicate matching.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum MailboxConfig {
    /// A folder on an IMAP server.
    Imap(ImapConfig),
    /// A local Maildir (for example one a local MDA delivers into).
    Maildir(MaildirConfig),
}

impl MailboxConfig {
    /// Checks what serde cannot: secrets given exactly once, plaintext only to loopback, sane
    /// intervals. Call once after loading the configuration.
    pub fn validate(&self) -> Result<(), SourceError> {
        match self {
            MailboxConfig::Imap(c) => c.validate(),
            MailboxConfig::Maildir(c) => c.validate(),
        }
    }

    /// Builds the mailbox. Nothing is contacted or read yet: that is [`Mailbox::open`]'s job.
    pub fn build(&self, clock: Arc<dyn Clock>) -> Box<dyn Mailbox> {
        match self {
            MailboxConfig::Imap(c) => Box::new(ImapMailbox::new(c, clock)),
            MailboxConfig::Maildir(c) => Box::new(MaildirMailbox::new(c, clock)),
        }
    }
}

/// How the connection to a server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS port 993, SMTPS port 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS before anything else is sent; refusing the
    /// upgrade is an error (no silent downgrade).
    Starttls,
    /// No encryption at all. Only allowed when the host is a loopback address.
    None,
}

/// How intake logs in to the IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The IMAP `LOGIN` command with user name and password.
    #[default]
    Login,
    /// `AUTHENTICATE PLAIN` (SASL PLAIN) with user name and password.
    Plain,
    /// `AUTHENTICATE XOAUTH2` with an OAuth 2 access token (Microsoft 365, Google).
    Xoauth2,
}

/// The `kind = "imap"` mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// Server host name or IP address; also the name the TLS certificate must carry.
    pub host: String,
    /// Server port. Default: 993 with `security = "tls"`, 143 otherwise.
    #[serde(default)]
    pub port: Option<u16>,
    /// `"tls"` (default), `"starttls"` or `"none"` (loopback hosts only).
    #[serde(default)]
    pub security: Security,
    /// Login name.
    pub username: String,
    /// Password written in the file. Prefer `password_env`.
    #[serde(default)]
    pub password: Option<String>,
    /// Name of the environment variable holding the password (read at each connect).
    #[serde(default)]
    pub password_env: Option<String>,
    /// `"login"` (default), `"plain"` or `"xoauth2"`.
    #[serde(default)]
    pub auth: AuthMethod,
    /// For `xoauth2`: environment variable holding the access token (read at each connect).
    #[serde(default)]
    pub oauth_token_env: Option<String>,
    /// For `xoauth2`: shell command printing a fresh access token on stdout (run at each
    /// connect, with a 30 s limit), for tokens that expire hourly.
    #[serde(default)]
    pub oauth_token_command: Option<String>,
    /// Folder to watch. Default `INBOX`.
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Seconds between checks when the server lacks IDLE. Default 60.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Minutes one IDLE may last before it is re-issued (1 to 10; NAT gateways and servers drop
    /// quiet connections, RFC 2177 asks for at most 29). Default 9.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u64,
    /// Seconds any single command (and connect, TLS handshake, login) may take before the
    /// connection is declared dead. Default 60. Body fetches get extra time by size.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// PEM file with extra trust anchors (a private CA), added to the built-in web PKI roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Folder handled mail is moved to (created if missing). Unset: mail stays where it is.
    #[serde(default)]
    pub move_to: Option<String>,
    /// Only answer mail that arrived (IMAP INTERNALDATE) at or after this instant (RFC 3339),
    /// so a first start on a full mailbox does not answer years of old mail.
    #[serde(default)]
    pub answer_since: Option<DateTime<Utc>>,
}

fn default_folder() -> String {
    "INBOX".to_string()
}
fn default_poll_seconds() -> u64 {
    60
}
fn default_idle_minutes() -> u64 {
    9
}
fn default_timeout_seconds() -> u64 {
    60
}

impl ImapConfig {
    /// A configuration with the defaults for everything but the essentials; handy for tests and
    /// for callers building one in code.
    pub fn new(host: &str, username: &str, password: &str) -> Self {
        ImapConfig {
            host: host.to_string(),
            port: None,
            security: Security::Tls,
            username: username.to_string(),
            password: Some(password.to_string()),
            password_env: None,
            auth: AuthMethod::Login,
            oauth_token_env: None,
            oauth_token_command: None,
            folder: default_folder(),
            poll_seconds: default_poll_seconds(),
            idle_minutes: default_idle_minutes(),
            timeout_seconds: default_timeout_seconds(),
            ca_file: None,
            move_to: None,
            answer_since: None,
        }
    }

    /// The port to connect to, with the default filled in.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Tls => 993,
            Security::Starttls | Security::None => 143,
        })
    }

    /// See [`MailboxConfig::validate`].
    pub fn validate(&self) -> Result<(), SourceError> {
        let bad = |m: String| Err(SourceError::Config(m));
        if self.host.trim().is_empty() {
            return bad("imap: host is empty".into());
        }
        if self.security == Security::None && !is_loopback_host(&self.host) {
            return bad(format!(
                "imap: security = \"none\" is only allowed for loopback hosts, not {:?}",
                self.host
            ));
        }
        if self.username.is_empty() {
            return bad("imap: username is empty".into());
        }
        match self.auth {
            AuthMethod::Login | AuthMethod::Plain => {
                if self.password.is_some() == self.password_env.is_some() {
                    return bad("imap: give exactly one of password and password_env".into());
                }
                if self.oauth_token_env.is_some() || self.oauth_token_command.is_some() {
                    return bad("imap: oauth_token_* only go with auth = \"xoauth2\"".into());
                }
            }
            AuthMethod::Xoauth2 => {
                if self.oauth_token_env.is_some() == self.oauth_token_command.is_some() {
                    return bad(
                        "imap: auth = \"xoauth2\" needs exactly one of oauth_token_env and \
                         oauth_token_command"
                            .into(),
                    );
                }
                if self.password.is_some() || self.password_env.is_some() {
                    return bad("imap: auth = \"xoauth2\" takes no password".into());
                }
            }
        }
        if self.folder.trim().is_empty() {
            return bad("imap: folder is empty".into());
        }
        if let Some(m) = &self.move_to
            && (m.trim().is_empty() || m == &self.folder)
        {
            return bad("imap: move_to must name another, non-empty folder".into());
        }
        if !(1..=86_400).contains(&self.poll_seconds) {
            return bad("imap: poll_seconds must be 1 to 86400".into());
        }
        if !(1..=10).contains(&self.idle_minutes) {
            return bad("imap: idle_minutes must be 1 to 10".into());
        }
        if !(1..=3_600).contains(&self.timeout_seconds) {
            return bad("imap: timeout_seconds must be 1 to 3600".into());
        }
        Ok(())
    }
}

/// The `kind = "maildir"` mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaildirConfig {
    /// The Maildir folder (the one holding `new/` and `cur/`). Files are only read, never
    /// moved, renamed or flagged.
    pub path: PathBuf,
    /// Demo only: a folder of message templates copied into `path` when it does not exist
    /// yet, with `{{now}}` (RFC 2822 date) and `{{date+N}}` (DD.MM.YYYY, N days from
    /// today) filled in, so demo windows never age into rejections.
    #[serde(default)]
    pub seed_from: Option<PathBuf>,
}

impl MaildirConfig {
    /// See [`MailboxConfig::validate`].
    pub fn validate(&self) -> Result<(), SourceError> {
        if self.path.as_os_str().is_empty() {
            return Err(SourceError::Config("maildir: path is empty".into()));
        }
        Ok(())
    }
}

/// True for `localhost`, 127.0.0.0/8 and ::1: the only hosts that may be reached without TLS.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// What a `wait` call ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server (or the folder) reported a change, such as a new message: fetch now.
    Changed,
    /// Nothing was reported before the wait ended. Fetching anyway is cheap and catches
    /// notifications that got lost.
    Quiet,
}

/// Why reading mail failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The configuration cannot work (never transient).
    #[error("mailbox configuration: {0}")]
    Config(String),
    /// A password, token variable or token command could not be read.
    #[error("credentials: {0}")]
    Credentials(String),
    /// TCP connect failed (refused, unreachable, name not found).
    #[error("connect to {addr}: {source}")]
    Connect {
        /// `host:port` tried.
        addr: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// TLS set-up or handshake failed (bad CA file, certificate not trusted, STARTTLS refused).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server refused the login.
    #[error("login refused: {0}")]
    Auth(String),
    /// A step took longer than allowed; the connection is dropped.
    #[error("timed out: {0}")]
    Timeout(String),
    /// There is no connection (never connected, or dropped after an earlier error): reconnect.
    #[error("not connected")]
    NotConnected,
    /// The server closed the connection or it broke.
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// The server answered NO to a command.
    #[error("server refused {command}: {text}")]
    No {
        /// The command, without arguments.
        command: String,
        /// The server's text.
        text: String,
    },
    /// The server answered BAD, or something it sent could not be understood.
    #[error("protocol error in {command}: {text}")]
    Protocol {
        /// The command, without arguments.
        command: String,
        /// What went wrong.
        text: String,
    },
    /// A local file (Maildir, CA file) could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl SourceError {
    /// True when trying again later (after [`Backoff`]) may succeed without anyone changing the
    /// configuration: network trouble, timeouts, dropped connections, a server that is
    /// temporarily unavailable. False for configuration, credentials and refused logins
    /// (retrying a wrong password can lock the account) and for commands the server rejects.
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Config(_) | SourceError::Credentials(_) => false,
            SourceError::Connect { .. }
            | SourceError::Tls(_)
            | SourceError::Timeout(_)
            | SourceError::NotConnected
            | SourceError::ConnectionLost(_)
            | SourceError::Protocol { .. } => true,
            // RFC 5530 response codes for "try again later".
            SourceError::Auth(text) | SourceError::No { text, .. } => {
                let t = text.to_ascii_uppercase();
                t.contains("[UNAVAILABLE]") || t.contains("[INUSE]") || t.contains("[SERVERBUG]")
            }
            SourceError::Io { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
        }
    }

    /// True when the connection is unusable afterwards and must be re-established.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            SourceError::Connect { .. }
                | SourceError::Tls(_)
                | SourceError::Timeout(_)
                | SourceError::NotConnected
                | SourceError::ConnectionLost(_)
                | SourceError::Protocol { .. }
        )
    }
}

/// Capped exponential backoff with jitter, for reconnecting and retrying.
///
/// The n-th delay is drawn uniformly from `[d/2, d]` with `d = min(cap, base * 2^n)`: half of it
/// is a guaranteed pause, the other half spreads many clients apart.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Default for Backoff {
    /// One second, doubling up to five minutes.
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(300))
    }
}

impl Backoff {
    /// A backoff starting near `base` and never exceeding `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
        }
    }

    /// The delay before the next attempt; each call doubles the ceiling until `cap`.
    // Not an Iterator: it never ends, and `Option<Duration>` would only add unwrapping.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(31));
        let ceiling = self.base.saturating_mul(factor).min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let low = ms / 2;
        if low >= ms {
            return ceiling;
        }
        Duration::from_millis(rand::thread_rng().gen_range(low..=ms))
    }

    /// Start again from `base` (call after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<MailboxConfig, toml::de::Error> {
        toml::from_str(s)
    }

    #[test]
    fn imap_config_with_defaults() {
        let c = parse(
            r#"kind = "imap"
               host = "imap.example.com"
               username = "support@example.com"
               password_env = "IMAP_PASSWORD""#,
        )
        .unwrap();
        let MailboxConfig::Imap(i) = &c else {
            panic!("not imap: {c:?}")
        };
        assert_eq!(i.security, Security::Tls);
        assert_eq!(i.effective_port(), 993);
        assert_eq!(i.folder, "INBOX");
        assert_eq!(i.poll_seconds, 60);
        assert_eq!(i.idle_minutes, 9);
        assert_eq!(i.auth, AuthMethod::Login);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn imap_config_full() {
        let c = parse(
            r#"kind = "imap"
               host = "127.0.0.1"
               port = 1143
               security = "starttls"
               username = "support"
               auth = "xoauth2"
               oauth_token_command = "get-token"
               folder = "Support/Tests"
               poll_seconds = 30
               idle_minutes = 5
               ca_file = "/etc/ssl/private-ca.pem"
               move_to = "Handled"
               answer_since = "2026-01-01T00:00:00Z""#,
        )
        .unwrap();
        let MailboxConfig::Imap(i) = &c else { panic!() };
        assert_eq!(i.effective_port(), 1143);
        assert_eq!(i.security, Security::Starttls);
        assert_eq!(i.auth, AuthMethod::Xoauth2);
        assert_eq!(i.move_to.as_deref(), Some("Handled"));
        assert_eq!(
            i.answer_since.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        c.validate().unwrap();
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        assert!(parse("kind = \"imap\"\nhost = \"h\"\nusername = \"u\"\npasword = \"x\"").is_err());
        assert!(parse("kind = \"pop3\"\nhost = \"h\"").is_err());
        assert!(parse("kind = \"maildir\"\npath = \"/m\"\nfolder = \"x\"").is_err());
        assert!(
            parse("kind = \"imap\"\nhost = \"h\"\nusername = \"u\"\nsecurity = \"ssl\"").is_err()
        );
        let m = parse("kind = \"maildir\"\npath = \"/var/mail/support\"").unwrap();
        assert_eq!(
            m,
            MailboxConfig::Maildir(MaildirConfig {
                path: "/var/mail/support".into(),
                seed_from: None,
            })
        );
    }

    #[test]
    fn plaintext_only_to_loopback() {
        let mut c = ImapConfig::new("imap.example.com", "u", "p");
        c.security = Security::None;
        assert!(matches!(c.validate(), Err(SourceError::Config(_))));
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"] {
            c.host = h.into();
            assert!(c.validate().is_ok(), "{h}");
        }
        c.host = "10.0.0.1".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn secrets_exactly_once() {
        let mut c = ImapConfig::new("h", "u", "p");
        c.password_env = Some("X".into());
        assert!(c.validate().is_err(), "both password and password_env");
        c.password = None;
        assert!(c.validate().is_ok());
        c.password_env = None;
        assert!(c.validate().is_err(), "neither");
        c.auth = AuthMethod::Xoauth2;
        assert!(c.validate().is_err(), "xoauth2 without token source");
        c.oauth_token_env = Some("T".into());
        assert!(c.validate().is_ok());
        c.oauth_token_command = Some("cmd".into());
        assert!(c.validate().is_err(), "two token sources");
    }

    #[test]
    fn intervals_are_bounded() {
        let mut c = ImapConfig::new("h", "u", "p");
        c.idle_minutes = 0;
        assert!(c.validate().is_err());
        c.idle_minutes = 11;
        assert!(c.validate().is_err());
        c.idle_minutes = 10;
        c.poll_seconds = 0;
        assert!(c.validate().is_err());
        c.poll_seconds = 1;
        assert!(c.validate().is_ok());
        c.move_to = Some("INBOX".into());
        assert!(
            c.validate().is_err(),
            "moving into the watched folder loops"
        );
    }

    #[test]
    fn transient_classification() {
        assert!(!SourceError::Config("x".into()).is_transient());
        assert!(
            !SourceError::Auth("[AUTHENTICATIONFAILED] Authentication failed.".into())
                .is_transient()
        );
        assert!(
            SourceError::Auth("[UNAVAILABLE] Temporary authentication failure".into())
                .is_transient()
        );
        assert!(SourceError::Timeout("fetch".into()).is_transient());
        assert!(SourceError::ConnectionLost("eof".into()).is_transient());
        assert!(SourceError::NotConnected.needs_reconnect());
        let no = SourceError::No {
            command: "SELECT".into(),
            text: "Mailbox doesn't exist: Nope".into(),
        };
        assert!(!no.is_transient());
        assert!(!no.needs_reconnect());
    }

    #[test]
    fn backoff_grows_to_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let d: Vec<Duration> = (0..20).map(|_| b.next()).collect();
        assert!(d[0] >= Duration::from_millis(500) && d[0] <= Duration::from_secs(1));
        assert!(d[3] >= Duration::from_secs(4) && d[3] <= Duration::from_secs(8));
        for x in &d[9..] {
            assert!(
                *x >= Duration::from_secs(150) && *x <= Duration::from_secs(300),
                "{x:?}"
            );
        }
        // Jitter: not all capped delays are equal.
        assert!(d[9..].windows(2).any(|w| w[0] != w[1]));
        b.reset();
        assert!(b.next() <= Duration::from_secs(1));
        assert_eq!(b.attempts(), 1);
    }

    proptest! {
        #[test]
        fn backoff_never_exceeds_cap(base_ms in 0u64..10_000, cap_ms in 0u64..1_000_000, n in 0usize..100) {
            let cap = Duration::from_millis(cap_ms).max(Duration::from_millis(base_ms));
            let mut b = Backoff::new(Duration::from_millis(base_ms), Duration::from_millis(cap_ms));
            for _ in 0..n {
                let d = b.next();
                prop_assert!(d <= cap);
            }
        }

        #[test]
        fn loopback_check_never_panics(s in ".*") {
            let _ = is_loopback_host(&s);
        }

        #[test]
        fn config_parse_never_panics(s in ".{0,200}") {
            let _ = toml::from_str::<MailboxConfig>(&s);
        }
    }
}
