//! Submits outgoing messages over SMTP with lettre: TLS or STARTTLS (rustls, web PKI roots plus
//! an optional private CA), optional AUTH, and a small pool of open connections so a burst of
//! replies reuses them.
//!
//! Connections are opened here rather than by lettre's pooled transport so that the socket can
//! have `TCP_NODELAY`: lettre writes the closing `.` of the DATA phase on its own, and with Nagle's
//! algorithm that small write waits for the server's delayed ACK (about 40 ms per message).
//! That holds for implicit TLS too: the TLS handshake is done here (tokio-rustls) on our own
//! socket and the encrypted stream handed to lettre.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};

use super::{Envelope, HandOver, Outbox, SendError, SmtpConfig, lettre_envelope};
use crate::tls::Security;

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
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

/// How the connection is secured.
enum Tls {
    /// `security = "none"` (loopback only).
    Plain,
    /// `security = "starttls"`: lettre upgrades the connection after the first EHLO.
    Starttls(TlsParameters),
    /// `security = "tls"`: TLS from the first byte, handshake done here.
    Implicit {
        connector: TlsConnector,
        name: ServerName<'static>,
    },
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
        let tls = match cfg.security {
            Security::None => Tls::Plain,
            // The same trust anchors as the STARTTLS branch below and the IMAP source: the web
            // PKI roots plus the certificates in `ca_file`.
            Security::Tls => Tls::Implicit {
                connector: TlsConnector::from(Arc::new(
                    crate::tls::client_config(cfg.ca_file.as_deref())
                        .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))?,
                )),
                // An IP address is a valid name too (checked against the certificate's
                // IP address entries).
                name: ServerName::try_from(host.clone()).map_err(|e| {
                    SendError::Permanent(format!("{host:?} is not a valid TLS server name: {e}"))
                })?,
            },
            Security::Starttls => {
                let mut params = TlsParameters::builder(host.clone());
                if let Some(path) = &cfg.ca_file {
                    let pem = std::fs::read(path)
                        .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                    let cert = Certificate::from_pem(&pem)
                        .map_err(|e| SendError::Permanent(format!("{}: {e}", path.display())))?;
                    params = params.add_root_certificate(cert);
                }
                Tls::Starttls(
                    params
                        .build_rustls()
                        .map_err(|e| SendError::Permanent(format!("TLS set-up: {e}")))?,
                )
            }
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
    /// A new connection: TCP with `TCP_NODELAY`, then TLS, EHLO, STARTTLS and AUTH as
    /// configured, each step within the timeout.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        tracing::debug!(host = %self.host, port = self.port, "opening an SMTP connection");
        let tcp = open_tcp(&self.host, self.port, self.timeout).await?;
        let mut conn = match &self.tls {
            Tls::Implicit { connector, name } => {
                let tls = self
                    .within("TLS handshake", connector.connect(name.clone(), tcp))
                    .await?
                    .map_err(|e| {
                        // Transient, like a failed STARTTLS handshake (lettre's connection
                        // error) and the IMAP source's TLS errors: see `tls_failure`.
                        tls_failure(&self.host, self.port, &e)
                    })?;
                // lettre sees an unencrypted stream (`is_encrypted` is false); that only
                // matters to its `can_starttls`, which is never asked here, and to nothing
                // in AUTH, which the server offers because it sees TLS.
                self.within(
                    "greeting and EHLO",
                    AsyncSmtpConnection::connect_with_transport(
                        Box::new(ImplicitTls(tls)),
                        &self.hello,
                    ),
                )
                .await?
                .map_err(|e| self.setup_failure("greeting and EHLO", e))?
            }
            Tls::Plain | Tls::Starttls(_) => {
                let mut conn = self
                    .within(
                        "greeting and EHLO",
                        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello),
                    )
                    .await?
                    .map_err(|e| self.setup_failure("greeting and EHLO", e))?;
                if let Tls::Starttls(tls) = &self.tls {
                    // Required, never silently skipped.
                    self.within("STARTTLS", conn.starttls(tls.clone(), &self.hello))
                        .await?
                        .map_err(|e| self.setup_failure("STARTTLS", e))?;
                }
                conn
            }
        };
        if let Some(creds) = &self.credentials {
            self.within(
                "AUTH",
                conn.auth(&[Mechanism::Plain, Mechanism::Login], creds),
            )
            .await?
            .map_err(|e| self.setup_failure("AUTH", e))?;
        }
        Ok(conn)
    }

    /// A failure while opening a connection (greeting, EHLO, STARTTLS, AUTH: even a 5xx such as
    /// a wrong password) is transient. It is about the server or the `[outbox]` settings, not
    /// about any message: were it permanent, every queued message would be given up, and the
    /// notice to staff would fail the same way. Kept, the messages go out once it is fixed.
    fn setup_failure(&self, step: &str, e: lettre::transport::smtp::Error) -> SendError {
        SendError::Transient(format!(
            "{step} with {}:{} failed: {e} (a server or [outbox] configuration problem; messages are kept and retried)",
            self.host, self.port
        ))
    }

    /// `step` bounded by the timeout. Nothing has been sent when a step of opening a
    /// connection times out, so that is transient.
    async fn within<T>(&self, step: &str, fut: impl Future<Output = T>) -> Result<T, SendError> {
        tokio::time::timeout(self.timeout, fut).await.map_err(|_| {
            SendError::Transient(format!("{step} with {}:{} timed out", self.host, self.port))
        })
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

    /// One SMTP transaction on `conn`. A connection that failed is closed; one that worked
    /// goes back to the pool.
    async fn send_on(
        &self,
        mut conn: AsyncSmtpConnection,
        env: &lettre::address::Envelope,
        raw: &[u8],
        hand_over: &HandOver<'_>,
    ) -> Result<(), SendError> {
        let handed = AtomicBool::new(false);
        let result = match tokio::time::timeout(
            self.timeout,
            transact(&mut conn, env, raw, hand_over, &handed),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => {
                let what = format!("sending to {}:{} timed out", self.host, self.port);
                Err(if handed.load(Ordering::SeqCst) {
                    SendError::InDoubt(what)
                } else {
                    SendError::Transient(what)
                })
            }
        };
        // After a failure the session is mid-transaction, perhaps inside DATA where a QUIT
        // would only be read as content: the connection is closed without one, which also
        // makes the server discard any content it got without the final dot.
        if result.is_ok() {
            self.give_back(conn).await;
        }
        result
    }
}

/// MAIL, RCPT, DATA, then the content, as lettre's `send` does, but with the hand-over
/// recorded between DATA's go-ahead and the content. Before that point any failure leaves
/// nothing delivered. After it, the server's own answer (2xx, 4xx, 5xx) is definite, while a
/// lost connection or garbled answer leaves the message in doubt.
async fn transact(
    conn: &mut AsyncSmtpConnection,
    env: &lettre::address::Envelope,
    raw: &[u8],
    hand_over: &HandOver<'_>,
    handed: &AtomicBool,
) -> Result<(), SendError> {
    let mut options = Vec::new();
    let non_ascii = env
        .to()
        .iter()
        .chain(env.from())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Permanent(
                "an address is not ASCII and the server does not offer SMTPUTF8".into(),
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(SendError::Permanent(
                "the message is not ASCII and the server does not offer 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(env.from().cloned(), options))
        .await
        .map_err(classify)?;
    for to in env.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(classify)?;
    }
    conn.command(Data).await.map_err(classify)?;
    hand_over().map_err(SendError::Transient)?;
    handed.store(true, Ordering::SeqCst);
    // lettre ends the content with CRLF "." CRLF itself: a message that already ends in CRLF
    // would otherwise arrive with an extra empty line.
    let content = raw.strip_suffix(b"\r\n").unwrap_or(raw);
    match conn.message(content).await {
        Ok(_) => Ok(()),
        Err(e) if e.status().is_some() => Err(classify(e)),
        Err(e) => Err(SendError::InDoubt(e.to_string())),
    }
}

/// A TCP connection with `TCP_NODELAY`, within `limit`.
async fn open_tcp(host: &str, port: u16, limit: Duration) -> Result<TcpStream, SendError> {
    let tcp = tokio::time::timeout(limit, TcpStream::connect((host, port)))
        .await
        .map_err(|_| SendError::Transient(format!("connecting to {host}:{port} timed out")))?
        .map_err(|e| SendError::Transient(format!("connecting to {host}:{port}: {e}")))?;
    tcp.set_nodelay(true)
        .map_err(|e| SendError::Transient(format!("TCP_NODELAY: {e}")))?;
    Ok(tcp)
}

/// A failed TLS handshake, certificate errors included, is transient: the reply stays queued
/// and is retried with growing pauses (capped at an hour), so renewing an expired certificate
/// or fixing `ca_file` delivers it. A permanent error would give the reply up and route it to
/// staff through this same server, where the notice fails the same way. This is also what a
/// failed STARTTLS handshake is (lettre reports it as a connection error) and what the IMAP
/// source does. The text names the cause (`invalid peer certificate: UnknownIssuer`, ...).
fn tls_failure(host: &str, port: u16, e: &io::Error) -> SendError {
    SendError::Transient(format!("TLS handshake with {host}:{port} failed: {e}"))
}

/// The implicit-TLS stream as lettre takes it (its stream trait needs `peer_addr`).
#[derive(Debug)]
struct ImplicitTls(TlsStream<TcpStream>);

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
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
    fn send_with<'a>(
        &'a self,
        envelope: &'a Envelope,
        raw: &'a [u8],
        hand_over: &'a HandOver<'a>,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let env = lettre_envelope(envelope)?;
            let inner = &self.inner;
            if let Some(conn) = inner.take_idle().await {
                match inner.send_on(conn, &env, raw, hand_over).await {
                    // A pooled connection the server closed meanwhile: try once on a new
                    // one. Only a transient failure, known to have delivered nothing; never
                    // a message in doubt.
                    Err(e) if e.is_transient() => {}
                    other => return other,
                }
            }
            let conn = inner.connect().await?;
            inner.send_on(conn, &env, raw, hand_over).await
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

    #[tokio::test]
    async fn connections_are_opened_with_nodelay() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let tcp = open_tcp("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(tcp.nodelay().unwrap());
    }

    #[test]
    fn implicit_tls_set_up() {
        let mut c = SmtpConfig::new("127.0.0.1");
        c.security = Security::Tls;
        let out = SmtpOutbox::new(&c).unwrap();
        assert!(matches!(out.inner.tls, Tls::Implicit { .. }));
        assert_eq!(out.inner.port, 465);
        c.host = "[::1]".into();
        SmtpOutbox::new(&c).unwrap();
        c.host = "smtp.example.com".into();
        SmtpOutbox::new(&c).unwrap();
        c.host = "not a name".into();
        assert!(matches!(SmtpOutbox::new(&c), Err(SendError::Permanent(_))));
        c.host = "smtp.example.com".into();
        c.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(SmtpOutbox::new(&c), Err(SendError::Permanent(_))));
        let empty = tempfile::NamedTempFile::new().unwrap();
        c.ca_file = Some(empty.path().to_path_buf());
        assert!(matches!(SmtpOutbox::new(&c), Err(SendError::Permanent(_))));
    }

    #[tokio::test]
    async fn implicit_tls_to_a_plaintext_server_is_transient_and_hands_nothing_over() {
        use std::sync::atomic::AtomicUsize;
        let (port, _peer) = peer(false, AfterDot::Accept).await;
        let mut c = SmtpConfig::new("127.0.0.1");
        c.security = Security::Tls;
        c.port = Some(port);
        c.timeout_seconds = 2;
        let out = SmtpOutbox::new(&c).unwrap();
        let env = Envelope {
            from: Some("support@amazee.test".into()),
            to: vec!["customer@example.test".into()],
        };
        let calls = AtomicUsize::new(0);
        let hand_over = || {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        let r = out
            .send_with(&env, b"Subject: x\r\n\r\nx\r\n", &hand_over)
            .await;
        assert!(
            matches!(&r, Err(SendError::Transient(e)) if e.contains("TLS handshake")),
            "{r:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_silent_server_times_out_while_opening_transiently() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        for security in [Security::None, Security::Tls] {
            let mut c = SmtpConfig::new("127.0.0.1");
            c.security = security;
            c.port = Some(port);
            c.timeout_seconds = 1;
            let out = SmtpOutbox::new(&c).unwrap();
            // Accepted by the kernel's backlog, never answered: no greeting, no handshake.
            let r = tokio::time::timeout(Duration::from_secs(10), out.test_connection())
                .await
                .expect("bounded by the timeout");
            assert!(
                matches!(&r, Err(SendError::Transient(e)) if e.contains("timed out")),
                "{r:?}"
            );
        }
        drop(l);
    }

    /// How the scripted peer ends the transaction once the content has arrived.
    #[derive(Clone, Copy)]
    enum AfterDot {
        Accept,
        Answer451,
        Hangup,
        Silence,
    }

    /// A scripted SMTP peer on loopback, for the faults a real server cannot be made to
    /// produce on cue. Returns the port and what it received, in the end.
    async fn peer(
        hang_up_after_mail: bool,
        after: AfterDot,
    ) -> (u16, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (sock, _) = l.accept().await.unwrap();
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            let mut seen = String::new();
            w.write_all(b"220 peer ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return seen;
                }
                seen.push_str(&line);
                if in_data {
                    if line == ".\r\n" {
                        match after {
                            AfterDot::Accept => w.write_all(b"250 2.0.0 queued\r\n").await.unwrap(),
                            AfterDot::Answer451 => {
                                w.write_all(b"451 4.3.0 try later\r\n").await.unwrap()
                            }
                            AfterDot::Hangup => return seen,
                            AfterDot::Silence => {
                                // No answer; wait until the client gives up and closes.
                                let mut rest = String::new();
                                let _ = r.read_line(&mut rest).await;
                                return seen;
                            }
                        }
                        in_data = false;
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let answer: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-peer\r\n250 8BITMIME\r\n",
                    "MAIL" if hang_up_after_mail => return seen,
                    "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return seen;
                    }
                    _ => b"502 5.5.2 what\r\n",
                };
                w.write_all(answer).await.unwrap();
            }
        });
        (port, task)
    }

    /// Sends one message to a scripted peer; the result, hand-over calls, what it received.
    async fn send_to_peer(
        hang_up_after_mail: bool,
        after: AfterDot,
        refuse_hand_over: bool,
    ) -> (Result<(), SendError>, usize, String) {
        use std::sync::atomic::AtomicUsize;
        let (port, task) = peer(hang_up_after_mail, after).await;
        let mut c = SmtpConfig::new("127.0.0.1");
        c.security = Security::None;
        c.port = Some(port);
        c.timeout_seconds = 2;
        let out = SmtpOutbox::new(&c).unwrap();
        let env = Envelope {
            from: Some("support@amazee.test".into()),
            to: vec!["customer@example.test".into()],
        };
        let calls = AtomicUsize::new(0);
        let hand_over = || {
            calls.fetch_add(1, Ordering::SeqCst);
            if refuse_hand_over {
                Err("store unavailable".to_string())
            } else {
                Ok(())
            }
        };
        let r = out
            .send_with(&env, b"Subject: x\r\n\r\nthe content\r\n", &hand_over)
            .await;
        drop(out);
        // The outbox closed or pooled the connection; dropped, it closes it either way.
        let seen = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        (r, calls.load(Ordering::SeqCst), seen)
    }

    #[tokio::test]
    async fn an_accepted_message_is_handed_over_once() {
        let (r, calls, _) = send_to_peer(false, AfterDot::Accept, false).await;
        assert_eq!(r, Ok(()));
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_hangup_after_the_content_leaves_the_message_in_doubt() {
        let (r, calls, _) = send_to_peer(false, AfterDot::Hangup, false).await;
        assert!(matches!(r, Err(SendError::InDoubt(_))), "{r:?}");
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn silence_after_the_content_is_in_doubt_not_retried() {
        let (r, calls, _) = send_to_peer(false, AfterDot::Silence, false).await;
        assert!(matches!(r, Err(SendError::InDoubt(_))), "{r:?}");
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_4xx_answer_to_the_content_is_a_plain_retry() {
        let (r, calls, _) = send_to_peer(false, AfterDot::Answer451, false).await;
        assert!(
            matches!(r, Err(SendError::Transient(ref e)) if e.contains("451")),
            "{r:?}"
        );
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_hangup_before_data_is_transient_and_never_handed_over() {
        let (r, calls, _) = send_to_peer(true, AfterDot::Accept, false).await;
        assert!(matches!(r, Err(SendError::Transient(_))), "{r:?}");
        assert_eq!(calls, 0);
    }

    #[tokio::test]
    async fn a_failed_hand_over_sends_no_content() {
        let (r, calls, seen) = send_to_peer(false, AfterDot::Accept, true).await;
        assert_eq!(r, Err(SendError::Transient("store unavailable".into())));
        assert_eq!(calls, 1);
        assert!(seen.contains("DATA"), "{seen}");
        assert!(!seen.contains("the content"), "{seen}");
    }
}
