//! Submits outgoing messages over SMTP with lettre: TLS or STARTTLS (rustls, web PKI roots plus
//! an optional private CA), optional AUTH, and a small pool of open connections so a burst of
//! replies reuses them.
//!
//! Connections are opened here rather than by lettre's pooled transport so that the socket can
//! have `TCP_NODELAY`: lettre writes the closing `.` of the DATA phase on its own, and with Nagle's
//! algorithm that small write waits for the server's delayed ACK (about 40 ms per message).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::Mutex;

use super::{Envelope, Outbox, SendError, SmtpConfig, lettre_envelope};
use crate::source::Security;

/// How long an unused connection stays open.
const POOL_IDLE: Duration = Duration::from_secs(60);
/// Open connections kept for reuse at most.
const POOL_MAX: usize = 8;

/// An SMTP outbox. Cheap to share: clone it or put it behind an `Arc`.
#[derive(Clone)]
pub struct SmtpOutbox {
    inner: Arc<Inner>,
}

struct Inner {
    host: String,
    port: u16,
    security: Security,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for SmtpOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The outbox holds credentials: show only where it sends.
        f.debug_struct("SmtpOutbox")
            .field("host", &self.inner.host)
            .field("port", &self.inner.port)
            .finish()
    }
}

impl SmtpOutbox {
    /// Reads the CA file and the password variable now. No connection is made until the
    /// first send.
    pub fn new(cfg: &SmtpConfig) -> Result<Self, SendError> {
        cfg.validate()?;
        let host = cfg
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls = if cfg.security == Security::None {
            None
        } else {
            let mut params = TlsParameters::builder(host.clone());
            if let Some(path) = &cfg.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                params = params.add_root_certificate(cert);
            }
            Some(
                params
                    .build_rustls()
                    .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))?,
            )
        };
        let credentials = match (&cfg.username, &cfg.password_env) {
            (Some(user), Some(var)) => {
                let password = std::env::var(var).map_err(|_| {
                    SendError::Permanent(format!("environment variable {var} is not set"))
                })?;
                Some(Credentials::new(user.clone(), password))
            }
            _ => None,
        };
        let hello = match &cfg.hello_name {
            Some(name) => ClientId::Domain(name.clone()),
            None => ClientId::default(),
        };
        Ok(SmtpOutbox {
            inner: Arc::new(Inner {
                host,
                port: cfg.effective_port(),
                security: cfg.security,
                tls,
                credentials,
                hello,
                timeout: Duration::from_secs(cfg.timeout_seconds),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Opens a connection and says EHLO (and STARTTLS/AUTH as configured) to prove the server
    /// is reachable.
    pub async fn test_connection(&self) -> Result<bool, SendError> {
        let mut conn = self.inner.connect().await?;
        let _ = conn.quit().await;
        Ok(true)
    }
}

impl Inner {
    /// A new connection: TCP with `TCP_NODELAY`, then STARTTLS, EHLO and AUTH as configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        tracing::debug!(host = %self.host, port = self.port, "opening an SMTP connection");
        let mut conn = match (self.security, &self.tls) {
            (Security::Tls, Some(tls)) => {
                // Implicit TLS: lettre opens the socket and wraps it before EHLO.
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(tls.clone()),
                    None,
                )
                .await
                .map_err(classify)?
            }
            _ => {
                let tcp = tokio::time::timeout(
                    self.timeout,
                    tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
                )
                .await
                .map_err(|_| {
                    SendError::Transient(format!(
                        "connecting to {}:{} timed out",
                        self.host, self.port
                    ))
                })?
                .map_err(|e| {
                    SendError::Transient(format!("connecting to {}:{}: {e}", self.host, self.port))
                })?;
                tcp.set_nodelay(true)
                    .map_err(|e| SendError::Transient(format!("TCP_NODELAY: {e}")))?;
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                        .await
                        .map_err(classify)?;
                if let Some(tls) = &self.tls {
                    // Required, never silently skipped.
                    conn.starttls(tls.clone(), &self.hello)
                        .await
                        .map_err(classify)?;
                }
                conn
            }
        };
        if let Some(creds) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], creds)
                .await
                .map_err(classify)?;
        }
        Ok(conn)
    }

    /// An idle connection that is still fresh, if any.
    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().await;
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < POOL_IDLE && !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    async fn give_back(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().await;
        if idle.len() < POOL_MAX && !conn.has_broken() {
            idle.push((conn, Instant::now()));
        }
    }

    async fn send_on(
        &self,
        mut conn: AsyncSmtpConnection,
        env: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<(), SendError> {
        match tokio::time::timeout(self.timeout, conn.send(env, raw)).await {
            Ok(Ok(_)) => {
                self.give_back(conn).await;
                Ok(())
            }
            Ok(Err(e)) => {
                let e = classify(e);
                if e.is_transient() {
                    conn.abort().await;
                } else {
                    // A refused message leaves the session usable: reset it for the next one.
                    self.give_back(conn).await;
                }
                Err(e)
            }
            Err(_) => Err(SendError::Transient(format!(
                "sending to {}:{} timed out",
                self.host, self.port
            ))),
        }
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
            let inner = &self.inner;
            if let Some(conn) = inner.take_idle().await {
                match inner.send_on(conn, &env, raw).await {
                    // A pooled connection the server closed meanwhile: try once on a new one.
                    Err(e) if e.is_transient() => {}
                    other => return other,
                }
            }
            let conn = inner.connect().await?;
            inner.send_on(conn, &env, raw).await
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
