//! Where replies go: the [`Outbox`] trait, its configuration, and the SMTP and file outboxes
//! (plus a recording stub for tests). The caller builds complete RFC 5322 bytes; an outbox
//! sends them unchanged.

pub mod file;
pub mod smtp;
pub mod stub;

use std::path::PathBuf;

use futures::future::BoxFuture;
use serde::Deserialize;

pub use file::FileOutbox;
pub use smtp::SmtpOutbox;
pub use stub::StubOutbox;

pub use crate::source::Security;

/// The SMTP envelope: who bounces go to and who receives the message (independent of the
/// From/To headers inside the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Return path (`MAIL FROM`). `None` sends with the null return path `<>`, which RFC 3834
    /// recommends for automatic replies so they never cause bounces to loop.
    pub from: Option<String>,
    /// Recipients (`RCPT TO`); at least one.
    pub to: Vec<String>,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later: the server is unreachable, timed out, or answered 4xx.
    #[error("temporary send failure: {0}")]
    Transient(String),
    /// Retrying will not help: 5xx answer, invalid address, unusable configuration.
    #[error("permanent send failure: {0}")]
    Permanent(String),
    /// The message's content had gone to the server when the connection failed or timed out,
    /// before the server's answer: it may or may not have been accepted. Sending it again
    /// could deliver it twice.
    #[error("delivery in doubt: {0}")]
    InDoubt(String),
}

impl SendError {
    /// True for [`SendError::Transient`].
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient(_))
    }
}

/// Called once per send, just before the message's content starts going out: after this
/// point a failure may leave the message delivered. An error stops the send, which then
/// fails as [`SendError::Transient`] with nothing delivered.
pub type HandOver<'a> = dyn Fn() -> Result<(), String> + Send + Sync + 'a;

fn no_hand_over() -> Result<(), String> {
    Ok(())
}

/// Something that delivers finished messages. Object safe, so the watch loop can hold a
/// `Box<dyn Outbox>` built from [`OutboxConfig`].
pub trait Outbox: Send + Sync {
    /// Sends `raw` (a complete RFC 5322 message, CRLF line ends) to `envelope.to`, unchanged,
    /// calling `hand_over` just before the content goes out.
    fn send_with<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        hand_over: &'a HandOver<'a>,
    ) -> BoxFuture<'a, Result<(), SendError>>;

    /// [`Outbox::send_with`] without a hand-over callback.
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        self.send_with(envelope, raw, &no_hand_over)
    }
}

/// Where replies go, as written in the configuration file (`[outbox]` with `kind = "smtp"` or
/// `kind = "file"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OutboxConfig {
    /// Submit over SMTP.
    Smtp(SmtpConfig),
    /// Write each message as an `.eml` file into a folder (dry runs, tests, hand review).
    File(FileConfig),
}

/// The `kind = "smtp"` outbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name or IP address; also the name the TLS certificate must carry.
    pub host: String,
    /// Server port. Default: 465 with `security = "tls"`, 587 with `"starttls"`, 25 with `"none"`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `"starttls"` (default), `"tls"` or `"none"` (loopback hosts only).
    #[serde(default = "default_smtp_security")]
    pub security: Security,
    /// Login name for SMTP AUTH (PLAIN or LOGIN, only over TLS). Unset: no authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the SMTP password (required with `username`).
    #[serde(default)]
    pub password_env: Option<String>,
    /// PEM file with extra trust anchors (a private CA), added to the built-in web PKI roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name sent in EHLO. Default: this machine's host name.
    #[serde(default)]
    pub hello_name: Option<String>,
    /// Seconds each SMTP step may take. Default 60.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
}

fn default_smtp_security() -> Security {
    Security::Starttls
}
fn default_smtp_timeout() -> u64 {
    60
}

impl SmtpConfig {
    /// A configuration with defaults for everything but the host.
    pub fn new(host: &str) -> Self {
        SmtpConfig {
            host: host.to_string(),
            port: None,
            security: default_smtp_security(),
            username: None,
            password_env: None,
            ca_file: None,
            hello_name: None,
            timeout_seconds: default_smtp_timeout(),
        }
    }

    /// The port to connect to, with the default filled in.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::None => 25,
        })
    }

    /// Checks what serde cannot (plaintext only to loopback, credentials complete).
    pub fn validate(&self) -> Result<(), SendError> {
        let bad = |m: String| Err(SendError::Permanent(m));
        if self.host.trim().is_empty() {
            return bad("smtp: host is empty".into());
        }
        if self.security == Security::None && !crate::source::is_loopback_host(&self.host) {
            return bad(format!(
                "smtp: security = \"none\" is only allowed for loopback hosts, not {:?}",
                self.host
            ));
        }
        if self.username.is_some() != self.password_env.is_some() {
            return bad("smtp: username and password_env go together".into());
        }
        if !(1..=3_600).contains(&self.timeout_seconds) {
            return bad("smtp: timeout_seconds must be 1 to 3600".into());
        }
        Ok(())
    }
}

/// The `kind = "file"` outbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Folder the `.eml` files are written to (created if missing).
    pub path: PathBuf,
}

impl OutboxConfig {
    /// Checks the configuration without connecting anywhere.
    pub fn validate(&self) -> Result<(), SendError> {
        match self {
            OutboxConfig::Smtp(c) => c.validate(),
            OutboxConfig::File(c) if c.path.as_os_str().is_empty() => {
                Err(SendError::Permanent("file: path is empty".into()))
            }
            OutboxConfig::File(_) => Ok(()),
        }
    }

    /// Builds the outbox. Nothing is contacted yet; SMTP connects on the first send and keeps
    /// the connection for the next ones.
    pub fn build(&self) -> Result<Box<dyn Outbox>, SendError> {
        Ok(match self {
            OutboxConfig::Smtp(c) => Box::new(SmtpOutbox::new(c)?),
            OutboxConfig::File(c) => Box::new(FileOutbox::new(&c.path)?),
        })
    }
}

/// Converts our envelope to lettre's, rejecting unusable addresses as permanent failures.
pub(crate) fn lettre_envelope(e: &Envelope) -> Result<lettre::address::Envelope, SendError> {
    let parse = |s: &str| {
        s.trim()
            .parse::<lettre::Address>()
            .map_err(|err| SendError::Permanent(format!("invalid address {s:?}: {err}")))
    };
    let from = match e.from.as_deref() {
        None => None,
        Some(f) => Some(parse(f)?),
    };
    let to =
        e.to.iter()
            .map(|t| parse(t))
            .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err(SendError::Permanent("no recipients".into()));
    }
    lettre::address::Envelope::new(from, to)
        .map_err(|err| SendError::Permanent(format!("envelope: {err}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn smtp_config_defaults_and_checks() {
        let c: OutboxConfig = toml::from_str(
            "kind = \"smtp\"\nhost = \"smtp.example.com\"\nusername = \"u\"\npassword_env = \"P\"",
        )
        .unwrap();
        let OutboxConfig::Smtp(s) = &c else { panic!() };
        assert_eq!(s.security, Security::Starttls);
        assert_eq!(s.effective_port(), 587);
        c.validate().unwrap();

        let c: OutboxConfig =
            toml::from_str("kind = \"smtp\"\nhost = \"smtp.example.com\"\nsecurity = \"none\"")
                .unwrap();
        assert!(c.validate().is_err(), "plaintext to a remote host");
        let c: OutboxConfig =
            toml::from_str("kind = \"smtp\"\nhost = \"127.0.0.1\"\nsecurity = \"none\"").unwrap();
        c.validate().unwrap();
        let c: OutboxConfig =
            toml::from_str("kind = \"smtp\"\nhost = \"h\"\nusername = \"u\"").unwrap();
        assert!(c.validate().is_err(), "username without password");
        assert!(
            toml::from_str::<OutboxConfig>("kind = \"smtp\"\nhost = \"h\"\nrelay = 1").is_err()
        );
        let f: OutboxConfig = toml::from_str("kind = \"file\"\npath = \"/tmp/out\"").unwrap();
        assert_eq!(
            f,
            OutboxConfig::File(FileConfig {
                path: "/tmp/out".into()
            })
        );
    }

    #[test]
    fn envelope_conversion() {
        let e = Envelope {
            from: None,
            to: vec!["customer@example.test".into()],
        };
        let l = lettre_envelope(&e).unwrap();
        assert!(l.from().is_none());
        assert_eq!(l.to().len(), 1);
        let bad = Envelope {
            from: Some("support@amazee.test".into()),
            to: vec!["not an address".into()],
        };
        assert!(matches!(
            lettre_envelope(&bad),
            Err(SendError::Permanent(_))
        ));
        let none = Envelope {
            from: Some("support@amazee.test".into()),
            to: vec![],
        };
        assert!(matches!(
            lettre_envelope(&none),
            Err(SendError::Permanent(_))
        ));
    }

    proptest! {
        #[test]
        fn envelope_never_panics(from in proptest::option::of(".{0,40}"), to in proptest::collection::vec(".{0,40}", 0..3)) {
            let _ = lettre_envelope(&Envelope { from, to });
        }
    }
}
