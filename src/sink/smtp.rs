//! Submits outgoing messages over SMTP with lettre: TLS or STARTTLS (rustls, web PKI roots plus
//! an optional private CA), optional AUTH, and a connection pool so a burst of replies reuses
//! one connection.

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Envelope, Outbox, SendError, SmtpConfig, lettre_envelope};
use crate::source::Security;

/// How long an unused pooled connection stays open.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// An SMTP outbox. Cheap to share: clone it or put it behind an `Arc`.
#[derive(Clone)]
pub struct SmtpOutbox {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
}

impl std::fmt::Debug for SmtpOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials: show only where it sends.
        f.debug_struct("SmtpOutbox")
            .field("host", &self.host)
            .finish()
    }
}

impl SmtpOutbox {
    /// Builds the transport (reads the CA file and the password variable now). No connection is
    /// made until the first send.
    pub fn new(cfg: &SmtpConfig) -> Result<Self, SendError> {
        cfg.validate()?;
        let host = cfg
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(cfg.effective_port())
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds)))
            .pool_config(PoolConfig::new().max_size(8).idle_timeout(POOL_IDLE));

        if cfg.security != Security::None {
            let mut params = TlsParameters::builder(host.to_string());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))?;
            b = b.tls(match cfg.security {
                Security::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }

        if let (Some(user), Some(var)) = (&cfg.username, &cfg.password_env) {
            let password = std::env::var(var).map_err(|_| {
                SendError::Permanent(format!("environment variable {var} is not set"))
            })?;
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        if let Some(name) = &cfg.hello_name {
            b = b.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(SmtpOutbox {
            transport: b.build(),
            host: host.to_string(),
        })
    }

    /// Opens a connection and says EHLO (and STARTTLS/AUTH as configured) to prove the server
    /// is reachable; meant for `intake check-config` style start-up checks.
    pub async fn test_connection(&self) -> Result<bool, SendError> {
        self.transport.test_connection().await.map_err(classify)
    }
}

/// lettre's error to ours: 5xx answers, malformed addresses and local client errors are
/// permanent; 4xx answers, network, TLS and timeout trouble are transient.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = e.to_string();
    if e.is_permanent() || e.is_client() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

impl Outbox for SmtpOutbox {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let env = lettre_envelope(envelope)?;
            self.transport
                .send_raw(&env, raw)
                .await
                .map(|_| ())
                .map_err(classify)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_connection_is_transient() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut c = SmtpConfig::new("127.0.0.1");
        c.security = Security::None;
        c.port = Some(port);
        c.timeout_seconds = 5;
        let out = SmtpOutbox::new(&c).unwrap();
        let env = Envelope {
            from: Some("support@amazee.test".into()),
            to: vec!["customer@example.test".into()],
        };
        let e = out
            .send(&env, b"Subject: x\r\n\r\nx\r\n")
            .await
            .unwrap_err();
        assert!(e.is_transient(), "{e}");
    }

    #[test]
    fn bad_ca_file_is_permanent() {
        let mut c = SmtpConfig::new("127.0.0.1");
        c.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(SmtpOutbox::new(&c), Err(SendError::Permanent(_))));
    }

    #[test]
    fn missing_password_variable_is_permanent() {
        let mut c = SmtpConfig::new("smtp.example.com");
        c.username = Some("u".into());
        c.password_env = Some("INTAKE_TEST_SURELY_UNSET_VARIABLE".into());
        assert!(matches!(SmtpOutbox::new(&c), Err(SendError::Permanent(_))));
    }
}
