//! Reads one IMAP folder: connect (TLS, STARTTLS or loopback plaintext), list messages after a
//! UID, fetch bodies without marking them read, wait for new mail (IDLE or polling), and tag or
//! move handled messages. Every network step runs under a timeout. [`ImapSource`] is one
//! connection; [`ImapMailbox`] puts the folder behind the [`Mailbox`] trait, a session at a time.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::imap_proto::{Response, Status};
use async_imap::types::{Fetch, UnsolicitedResponse};
use async_imap::{Client, Session};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::{
    AuthMethod, ImapConfig, Incoming, Mailbox, MailboxError, Opened, Resume, Security, SourceError,
    Wake,
};
use crate::clock::{Clock, SystemClock};

type Result<T> = std::result::Result<T, SourceError>;

/// At most this many messages come back from one [`ImapSource::fetch_after`] call, so a first
/// run on a large folder proceeds in bounded steps.
pub const MAX_BATCH: usize = 200;

/// Extra time a body fetch gets per byte of message: 64 KiB/s is slow even for a bad link.
const BODY_BYTES_PER_SECOND: u64 = 64 * 1024;

/// How long the token command may run.
const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The folder's identity and counters after SELECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    /// UIDVALIDITY: when it changes, all earlier UIDs of this folder are meaningless and the
    /// caller must start over (and rely on Message-ID / content hashes to avoid double answers).
    pub uid_validity: u32,
    /// The UID the next arriving message will get at least (0 when the server did not say).
    pub uid_next: u32,
    /// Number of messages in the folder.
    pub exists: u32,
}

/// One message listed by [`ImapSource::fetch_after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The message's UID in the selected folder.
    pub uid: u32,
    /// When the server received the message (IMAP INTERNALDATE, its delivery time).
    pub internal_date: DateTime<Utc>,
    /// RFC822.SIZE in bytes.
    pub size: u64,
    /// The whole message as stored, or `None` when `size` exceeded the caller's `max_bytes`
    /// (the body is then never downloaded).
    pub raw: Option<Vec<u8>>,
    /// The Message-ID header value without angle brackets, when the message has one.
    pub message_id: Option<String>,
}

/// The byte stream under the IMAP client: plaintext (loopback only) or TLS.
#[derive(Debug)]
pub enum ImapStream {
    /// Unencrypted TCP.
    Plain(TcpStream),
    /// TLS over TCP (implicit TLS or after STARTTLS).
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What the server can do, read once after login.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerCaps {
    /// RFC 2177 IDLE.
    pub idle: bool,
    /// RFC 6851 MOVE.
    pub moves: bool,
    /// RFC 4315 UIDPLUS (UID EXPUNGE of single messages).
    pub uidplus: bool,
}

/// A logged-in connection to one IMAP folder.
///
/// Typical loop: `connect`, `select`, then repeatedly `fetch_after(last_uid, max)` / handle /
/// `tag` / `move_to`, and `wait`. Any error for which [`SourceError::needs_reconnect`] is true
/// leaves the source disconnected; drop it and `connect` again after a [`super::Backoff`] delay.
pub struct ImapSource {
    cfg: ImapConfig,
    session: Option<Session<ImapStream>>,
    caps: ServerCaps,
    state: Option<MailboxState>,
    /// For a server that omits INTERNALDATE.
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config holds a password: do not print it.
        f.debug_struct("ImapSource")
            .field("host", &self.cfg.host)
            .field("folder", &self.cfg.folder)
            .field("connected", &self.session.is_some())
            .field("caps", &self.caps)
            .field("state", &self.state)
            .finish()
    }
}

impl ImapSource {
    /// Connects, secures the connection as configured, logs in and reads the capabilities.
    /// Each step (TCP, TLS handshake, greeting, login) is bounded by `timeout_seconds`.
    pub async fn connect(cfg: &ImapConfig) -> Result<Self> {
        Self::connect_with_clock(cfg, Arc::new(SystemClock)).await
    }

    /// [`ImapSource::connect`] taking the arrival time of a message without INTERNALDATE from
    /// `clock`.
    pub async fn connect_with_clock(cfg: &ImapConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        cfg.validate()?;
        let limit = Duration::from_secs(cfg.timeout_seconds);
        let port = cfg.effective_port();
        let addr = format!("{}:{}", cfg.host, port);
        let tcp = match tokio::time::timeout(limit, TcpStream::connect((cfg.host.as_str(), port)))
            .await
        {
            Err(_) => return Err(SourceError::Timeout(format!("connect to {addr}"))),
            Ok(Err(source)) => return Err(SourceError::Connect { addr, source }),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);

        let client = match cfg.security {
            Security::None => {
                let mut c = Client::new(ImapStream::Plain(tcp));
                read_greeting(&mut c, limit).await?;
                c
            }
            Security::Tls => {
                let tls = tls_handshake(cfg, tcp, limit).await?;
                let mut c = Client::new(ImapStream::Tls(Box::new(tls)));
                read_greeting(&mut c, limit).await?;
                c
            }
            Security::Starttls => {
                let mut c = Client::new(tcp);
                read_greeting(&mut c, limit).await?;
                timed(
                    limit,
                    "STARTTLS",
                    c.run_command_and_check_ok("STARTTLS", None),
                )
                .await
                .map_err(|e| SourceError::Tls(format!("server refused STARTTLS: {e}")))?;
                // Nothing may be buffered past the tagged OK (RFC 3501 6.2.1), so handing the
                // raw socket to TLS here loses nothing.
                let tcp = c.into_inner();
                let tls = tls_handshake(cfg, tcp, limit).await?;
                Client::new(ImapStream::Tls(Box::new(tls)))
            }
        };

        let mut session = login(cfg, client, limit).await?;
        let caps = timed(limit, "CAPABILITY", session.capabilities()).await?;
        let caps = ServerCaps {
            idle: caps.has_str("IDLE"),
            moves: caps.has_str("MOVE"),
            uidplus: caps.has_str("UIDPLUS"),
        };
        Ok(ImapSource {
            cfg: cfg.clone(),
            session: Some(session),
            caps,
            state: None,
            clock,
        })
    }

    /// What the server supports (IDLE, MOVE, UIDPLUS).
    pub fn caps(&self) -> ServerCaps {
        self.caps
    }

    /// The configuration this source was connected with.
    pub fn config(&self) -> &ImapConfig {
        &self.cfg
    }

    /// True while the connection is believed usable.
    pub fn is_connected(&self) -> bool {
        self.session.is_some()
    }

    /// The state from the last successful [`ImapSource::select`].
    pub fn state(&self) -> Option<MailboxState> {
        self.state
    }

    fn limit(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_seconds)
    }

    /// Runs one command on the session; on errors that leave the connection in an unknown
    /// state the session is dropped so the next call reports [`SourceError::NotConnected`].
    async fn run<T, F>(&mut self, limit: Duration, what: &str, f: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut Session<ImapStream>) -> async_imap::error::Result<T>,
    {
        let session = self.session.as_mut().ok_or(SourceError::NotConnected)?;
        let out = timed(limit, what, f(session)).await;
        if let Err(e) = &out
            && e.needs_reconnect()
        {
            self.session = None;
        }
        out
    }

    /// Selects the configured folder read-write (keywords and moves need it) and returns its
    /// UIDVALIDITY, UIDNEXT and message count.
    pub async fn select(&mut self) -> Result<MailboxState> {
        let folder = self.cfg.folder.clone();
        let limit = self.limit();
        let mb = self
            .run(limit, "SELECT", async move |s| s.select(&folder).await)
            .await?;
        let uid_validity = mb.uid_validity.ok_or_else(|| {
            self.session = None;
            SourceError::Protocol {
                command: "SELECT".into(),
                text: "server sent no UIDVALIDITY".into(),
            }
        })?;
        let state = MailboxState {
            uid_validity,
            uid_next: mb.uid_next.unwrap_or(0),
            exists: mb.exists,
        };
        self.state = Some(state);
        Ok(state)
    }

    /// Lists messages with UID greater than `last_uid` (at most [`MAX_BATCH`], lowest UIDs
    /// first) with INTERNALDATE, size and Message-ID, then downloads the body of each message
    /// whose size is at most `max_bytes`. Bodies are fetched with `BODY.PEEK[]`, so `\Seen` is
    /// never set. Call again with the highest UID returned until the result is empty.
    pub async fn fetch_after(&mut self, last_uid: u32, max_bytes: u64) -> Result<Vec<Fetched>> {
        if self.state.is_none() {
            self.select().await?;
        }
        let Some(first) = last_uid.checked_add(1) else {
            return Ok(Vec::new());
        };
        let limit = self.limit();
        let set = format!("{first}:*");
        let metas: Vec<Fetch> = self
            .run(limit, "UID FETCH", async move |s| {
                s.uid_fetch(
                    &set,
                    "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
                )
                .await?
                .try_collect()
                .await
            })
            .await?;

        let mut out: Vec<Fetched> = Vec::new();
        for f in &metas {
            // `n:*` also returns the highest message when n is past it (RFC 3501 6.4.8).
            let Some(uid) = f.uid.filter(|u| *u > last_uid) else {
                continue;
            };
            if out.iter().any(|o| o.uid == uid) {
                continue;
            }
            out.push(Fetched {
                uid,
                // A server that omits INTERNALDATE is broken; "now" keeps the message usable.
                internal_date: f
                    .internal_date()
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_else(|| self.clock.now()),
                size: u64::from(f.size.unwrap_or(0)),
                raw: None,
                message_id: f.header().and_then(message_id_from_header),
            });
        }
        out.sort_by_key(|m| m.uid);
        out.truncate(MAX_BATCH);

        for m in &mut out {
            if m.size > max_bytes {
                continue;
            }
            let uid = m.uid.to_string();
            let body_limit = limit + Duration::from_secs(m.size / BODY_BYTES_PER_SECOND);
            let fetched: Vec<Fetch> = self
                .run(body_limit, "UID FETCH BODY.PEEK[]", async move |s| {
                    s.uid_fetch(&uid, "(UID BODY.PEEK[])")
                        .await?
                        .try_collect()
                        .await
                })
                .await?;
            let body = fetched
                .iter()
                .filter(|f| f.uid == Some(m.uid))
                .find_map(|f| f.body().map(<[u8]>::to_vec));
            // No body: expunged meanwhile by someone else; keep the listing without it. The
            // size the server announced may differ from what it sends; the limit holds anyway.
            if let Some(b) = body
                && u64::try_from(b.len()).unwrap_or(u64::MAX) <= max_bytes
            {
                m.raw = Some(b);
            }
        }
        self.drain_unsolicited();
        Ok(out)
    }

    /// Waits for the folder to change, at most `max` (and at most `idle_minutes` per IDLE, so a
    /// long wait is made of re-issued IDLEs; the caller simply calls again). Without IDLE it
    /// sleeps `poll_seconds` (or `max` if shorter) and sends a NOOP, which also proves the
    /// connection alive. Dropping the returned future mid-IDLE leaves the source disconnected;
    /// [`ImapSource::wait_unless`] ends a wait cleanly.
    pub async fn wait(&mut self, max: Duration) -> Result<Wake> {
        Ok(self
            .wait_unless(max, std::future::pending())
            .await?
            .unwrap_or(Wake::Quiet))
    }

    /// [`ImapSource::wait`] that ends early, with `None`, when `stop` completes. An IDLE in
    /// progress is ended with DONE first, so the session stays usable (for a clean LOGOUT).
    pub async fn wait_unless(
        &mut self,
        max: Duration,
        stop: impl Future<Output = ()>,
    ) -> Result<Option<Wake>> {
        if self.session.is_none() {
            return Err(SourceError::NotConnected);
        }
        if self.drain_unsolicited() {
            return Ok(Some(Wake::Changed));
        }
        if !self.caps.idle {
            let nap = max.min(Duration::from_secs(self.cfg.poll_seconds));
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = stop => return Ok(None),
            }
            let limit = self.limit();
            self.run(limit, "NOOP", async |s| s.noop().await).await?;
            return Ok(Some(if self.drain_unsolicited() {
                Wake::Changed
            } else {
                Wake::Quiet
            }));
        }

        let limit = self.limit();
        let idle_for = max.min(Duration::from_secs(
            self.cfg.idle_minutes.saturating_mul(60),
        ));
        let session = self.session.take().ok_or(SourceError::NotConnected)?;
        let mut handle = session.idle();
        timed(limit, "IDLE", handle.init()).await?;
        let woke = {
            // async-imap's own timeout restarts on every server keepalive, so bound the whole
            // wait from outside; dropping the future (and its stop source) ends the wait.
            let (fut, _stop) = handle.wait_with_timeout(idle_for);
            tokio::select! {
                r = tokio::time::timeout(idle_for, fut) => match r {
                    Err(_) => Some(Wake::Quiet),
                    Ok(Ok(async_imap::extensions::idle::IdleResponse::NewData(_))) => {
                        Some(Wake::Changed)
                    }
                    Ok(Ok(_)) => Some(Wake::Quiet),
                    Ok(Err(e)) => return Err(map_imap_error("IDLE", e)),
                },
                _ = stop => None,
            }
        };
        let session = timed(limit, "DONE", handle.done()).await?;
        self.session = Some(session);
        self.drain_unsolicited();
        Ok(woke)
    }

    /// Sets a keyword such as `$intake-accepted` on a message (`UID STORE +FLAGS.SILENT`), so
    /// people looking at the mailbox see what intake did. Keywords must be IMAP atoms; the
    /// system flags `\Answered`, `\Flagged`, `\Seen`, `\Draft`, `\Deleted` are allowed too.
    pub async fn tag(&mut self, uid: u32, keyword: &str) -> Result<()> {
        self.tag_all(&[uid], keyword).await
    }

    /// [`ImapSource::tag`] for many messages in one `UID STORE` (nothing to do for none).
    pub async fn tag_all(&mut self, uids: &[u32], keyword: &str) -> Result<()> {
        if !is_settable_flag(keyword) {
            return Err(SourceError::Config(format!(
                "{keyword:?} is not a valid IMAP keyword"
            )));
        }
        if uids.is_empty() {
            return Ok(());
        }
        let limit = self.limit();
        let query = format!("+FLAGS.SILENT ({keyword})");
        let set = uid_set(uids);
        self.run(limit, "UID STORE", async move |s| {
            s.uid_store(&set, &query)
                .await?
                .try_collect::<Vec<_>>()
                .await
                .map(|_| ())
        })
        .await
    }

    /// The flags and keywords currently set on a message (empty when it no longer exists).
    pub async fn flags(&mut self, uid: u32) -> Result<Vec<String>> {
        let limit = self.limit();
        let set = uid.to_string();
        let fetched: Vec<Fetch> = self
            .run(limit, "UID FETCH FLAGS", async move |s| {
                s.uid_fetch(&set, "(UID FLAGS)").await?.try_collect().await
            })
            .await?;
        Ok(fetched
            .iter()
            .filter(|f| f.uid == Some(uid))
            .flat_map(|f| f.flags().map(|fl| flag_name(&fl)).collect::<Vec<_>>())
            .collect())
    }

    /// Moves a handled message to `folder` (created when missing): `UID MOVE` where supported,
    /// else `UID COPY` + `\Deleted` + `UID EXPUNGE` (UIDPLUS), else copy and flag `\Deleted`
    /// only, leaving the expunge to the mail client (a plain EXPUNGE would also remove other
    /// people's deleted mail).
    pub async fn move_to(&mut self, uid: u32, folder: &str) -> Result<()> {
        self.move_all(&[uid], folder).await
    }

    /// [`ImapSource::move_to`] for many messages in one command each (nothing for none).
    pub async fn move_all(&mut self, uids: &[u32], folder: &str) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        match self.move_once(&set, folder).await {
            Err(SourceError::No { text, .. })
                if text.to_ascii_uppercase().contains("TRYCREATE") =>
            {
                let limit = self.limit();
                let name = folder.to_string();
                self.run(limit, "CREATE", async move |s| s.create(&name).await)
                    .await?;
                self.move_once(&set, folder).await
            }
            other => other,
        }
    }

    async fn move_once(&mut self, set: &str, folder: &str) -> Result<()> {
        let limit = self.limit();
        let set = set.to_string();
        let to = folder.to_string();
        if self.caps.moves {
            return self
                .run(limit, "UID MOVE", async move |s| s.uid_mv(&set, &to).await)
                .await;
        }
        let (s1, t1) = (set.clone(), to.clone());
        self.run(limit, "UID COPY", async move |s| s.uid_copy(&s1, &t1).await)
            .await?;
        let s2 = set.clone();
        self.run(limit, "UID STORE", async move |s| {
            s.uid_store(&s2, "+FLAGS.SILENT (\\Deleted)")
                .await?
                .try_collect::<Vec<_>>()
                .await
                .map(|_| ())
        })
        .await?;
        if self.caps.uidplus {
            self.run(limit, "UID EXPUNGE", async move |s| {
                s.uid_expunge(&set)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
                    .map(|_| ())
            })
            .await?;
        }
        Ok(())
    }

    /// Says goodbye (best effort, bounded by the timeout) and closes the connection.
    pub async fn logout(mut self) {
        let limit = self.limit();
        if let Some(mut s) = self.session.take() {
            let _ = tokio::time::timeout(limit, s.logout()).await;
        }
    }

    /// Empties the channel of unsolicited server responses (it is bounded and would otherwise
    /// silently drop); true if any announced a change to the folder.
    fn drain_unsolicited(&mut self) -> bool {
        let Some(s) = self.session.as_mut() else {
            return false;
        };
        let mut changed = false;
        while let Ok(r) = s.unsolicited_responses.try_recv() {
            if matches!(
                r,
                UnsolicitedResponse::Exists(_)
                    | UnsolicitedResponse::Recent(_)
                    | UnsolicitedResponse::Expunge(_)
            ) {
                changed = true;
            }
        }
        changed
    }
}

/// IMAP keywords set on handled mail, by decision.
pub fn keyword(decision: &str) -> &'static str {
    match decision {
        "accept" => "$intake-accepted",
        "reject" => "$intake-rejected",
        "review" => "$intake-review",
        _ => "$intake-ignored",
    }
}

/// The configured IMAP folder as a [`Mailbox`]: one [`ImapSource`] connection per session.
/// [`Mailbox::open`] connects anew; any error drops the connection, so after a
/// [`MailboxError::Reconnect`] nothing stale is kept while the watch loop backs off.
pub struct ImapMailbox {
    cfg: ImapConfig,
    clock: Arc<dyn Clock>,
    session: Option<ImapSource>,
}

impl fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl ImapMailbox {
    /// The mailbox for `cfg`; nothing is contacted before [`Mailbox::open`].
    pub fn new(cfg: &ImapConfig, clock: Arc<dyn Clock>) -> Self {
        ImapMailbox {
            cfg: cfg.clone(),
            clock,
            session: None,
        }
    }

    /// The store's key for this folder's position.
    pub fn position_key(&self) -> String {
        format!(
            "imap://{}@{}/{}",
            self.cfg.username, self.cfg.host, self.cfg.folder
        )
    }

    fn session(&mut self) -> std::result::Result<&mut ImapSource, MailboxError> {
        self.session
            .as_mut()
            .ok_or_else(|| MailboxError::from_source(SourceError::NotConnected))
    }

    /// Drops the connection after an error (its state is unknown) and classifies the error.
    fn failed(&mut self, e: SourceError) -> MailboxError {
        self.session = None;
        MailboxError::from_source(e)
    }

    async fn tag_and_move(&mut self, decided: &[(u64, String)]) -> Result<()> {
        let mut by_keyword: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
        let mut to_move = Vec::new();
        for (uid, decision) in decided {
            let uid = u32::try_from(*uid).unwrap_or(u32::MAX);
            by_keyword.entry(keyword(decision)).or_default().push(uid);
            // Handled mail leaves the folder; what was ignored or skipped stays.
            if matches!(decision.as_str(), "accept" | "reject" | "review") {
                to_move.push(uid);
            }
        }
        let move_to = self.cfg.move_to.clone();
        let imap = self.session.as_mut().ok_or(SourceError::NotConnected)?;
        for (keyword, uids) in &by_keyword {
            imap.tag_all(uids, keyword).await?;
        }
        if let Some(target) = &move_to {
            imap.move_all(&to_move, target).await?;
        }
        Ok(())
    }
}

impl Mailbox for ImapMailbox {
    fn open(&mut self) -> BoxFuture<'_, std::result::Result<Opened, MailboxError>> {
        Box::pin(async move {
            self.session = None;
            let mut imap = ImapSource::connect_with_clock(&self.cfg, self.clock.clone())
                .await
                .map_err(MailboxError::from_source)?;
            let state = imap.select().await.map_err(MailboxError::from_source)?;
            self.session = Some(imap);
            Ok(Opened {
                folder: self.cfg.folder.clone(),
                uid_validity: state.uid_validity,
                resume: Some(Resume {
                    key: self.position_key(),
                    answer_since: self.cfg.answer_since,
                }),
            })
        })
    }

    fn fetch_after(
        &mut self,
        after: u64,
        max_bytes: u64,
    ) -> BoxFuture<'_, std::result::Result<Vec<Incoming>, MailboxError>> {
        Box::pin(async move {
            let last = u32::try_from(after).unwrap_or(u32::MAX);
            let fetched = self.session()?.fetch_after(last, max_bytes).await;
            let batch = fetched.map_err(|e| self.failed(e))?;
            Ok(batch
                .into_iter()
                .map(|m| Incoming {
                    uid: u64::from(m.uid),
                    arrived: m.internal_date,
                    size: m.size,
                    raw: m.raw,
                    message_id: m.message_id,
                })
                .collect())
        })
    }

    fn mark_decided<'a>(
        &'a mut self,
        decided: &'a [(u64, String)],
    ) -> BoxFuture<'a, std::result::Result<(), MailboxError>> {
        Box::pin(async move {
            let marked = self.tag_and_move(decided).await;
            marked.map_err(|e| self.failed(e))
        })
    }

    fn max_wait(&self) -> Duration {
        Duration::from_secs(self.cfg.idle_minutes.clamp(1, 10) * 60)
    }

    fn wait_for_mail<'a>(
        &'a mut self,
        max: Duration,
        stop: BoxFuture<'a, ()>,
    ) -> BoxFuture<'a, std::result::Result<Option<Wake>, MailboxError>> {
        Box::pin(async move {
            let woke = self.session()?.wait_unless(max, stop).await;
            woke.map_err(|e| self.failed(e))
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(imap) = self.session.take() {
                imap.logout().await;
            }
        })
    }
}

async fn timed<T, F>(limit: Duration, what: &str, fut: F) -> Result<T>
where
    F: Future<Output = async_imap::error::Result<T>>,
{
    match tokio::time::timeout(limit, fut).await {
        Err(_) => Err(SourceError::Timeout(format!(
            "{what} after {} s",
            limit.as_secs()
        ))),
        Ok(r) => r.map_err(|e| map_imap_error(what, e)),
    }
}

fn map_imap_error(what: &str, e: async_imap::error::Error) -> SourceError {
    use async_imap::error::Error as E;
    match e {
        E::Io(io) => SourceError::ConnectionLost(format!("{what}: {io}")),
        E::ConnectionLost => SourceError::ConnectionLost(format!("{what}: closed by server")),
        E::No(text) => SourceError::No {
            command: what.to_string(),
            text,
        },
        E::Bad(text) => SourceError::Protocol {
            command: what.to_string(),
            text: format!("BAD {text}"),
        },
        E::Validate(v) => SourceError::Config(format!("{what}: {v}")),
        other => SourceError::Protocol {
            command: what.to_string(),
            text: other.to_string(),
        },
    }
}

async fn read_greeting<T>(client: &mut Client<T>, limit: Duration) -> Result<()>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + fmt::Debug + Send,
{
    let greeting = match tokio::time::timeout(limit, client.read_response()).await {
        Err(_) => return Err(SourceError::Timeout("server greeting".into())),
        Ok(Err(e)) => return Err(SourceError::ConnectionLost(format!("greeting: {e}"))),
        Ok(Ok(None)) => {
            return Err(SourceError::ConnectionLost("closed before greeting".into()));
        }
        Ok(Ok(Some(g))) => g,
    };
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            information,
            ..
        } => Err(SourceError::ConnectionLost(format!(
            "server said BYE: {}",
            information.as_deref().unwrap_or("")
        ))),
        other => Err(SourceError::Protocol {
            command: "greeting".into(),
            text: format!("unexpected {other:?}"),
        }),
    }
}

/// A UID set for a command: sorted, duplicates dropped, runs written as ranges
/// (`3,5:9,12`), so a thousand consecutive messages are one short argument.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&start) = sorted.get(i) {
        let mut end = start;
        while sorted
            .get(i + 1)
            .is_some_and(|&n| Some(n) == end.checked_add(1))
        {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// rustls client config: the web PKI roots plus the certificates in `ca_file`.
pub fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| SourceError::Tls(format!("{}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(SourceError::Tls(format!(
                "{}: no certificates found",
                path.display()
            )));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| SourceError::Tls(format!("{}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

async fn tls_handshake(
    cfg: &ImapConfig,
    tcp: TcpStream,
    limit: Duration,
) -> Result<TlsStream<TcpStream>> {
    let config = tls_config(cfg.ca_file.as_deref())?;
    let host = cfg
        .host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| SourceError::Tls(format!("{host:?} is not a valid TLS name: {e}")))?;
    let connector = TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Err(_) => Err(SourceError::Timeout("TLS handshake".into())),
        Ok(Err(e)) => Err(SourceError::Tls(e.to_string())),
        Ok(Ok(s)) => Ok(s),
    }
}

/// The password or token, read now so rotated secrets are picked up on reconnect.
async fn secret(cfg: &ImapConfig) -> Result<String> {
    let from_env = |var: &str| {
        std::env::var(var)
            .map_err(|_| SourceError::Credentials(format!("environment variable {var} is not set")))
    };
    if let Some(p) = &cfg.password {
        return Ok(p.clone());
    }
    if let Some(v) = cfg
        .password_env
        .as_deref()
        .or(cfg.oauth_token_env.as_deref())
    {
        return from_env(v);
    }
    if let Some(cmd) = &cfg.oauth_token_command {
        let run = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(TOKEN_COMMAND_TIMEOUT, run).await {
            Err(_) => {
                return Err(SourceError::Credentials(
                    "oauth_token_command timed out".into(),
                ));
            }
            Ok(Err(e)) => {
                return Err(SourceError::Credentials(format!(
                    "oauth_token_command: {e}"
                )));
            }
            Ok(Ok(o)) => o,
        };
        if !out.status.success() {
            return Err(SourceError::Credentials(format!(
                "oauth_token_command exited with {}",
                out.status
            )));
        }
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if token.is_empty() {
            return Err(SourceError::Credentials(
                "oauth_token_command printed nothing".into(),
            ));
        }
        return Ok(token);
    }
    Err(SourceError::Config(
        "no password or token configured".into(),
    ))
}

/// SASL PLAIN / XOAUTH2 initial responses. On an XOAUTH2 failure the server sends a JSON
/// challenge that must be answered with an empty line, hence the `sent` flag.
struct SaslResponse {
    first: Vec<u8>,
    sent: bool,
}

impl async_imap::Authenticator for SaslResponse {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        if self.sent {
            return Vec::new();
        }
        self.sent = true;
        std::mem::take(&mut self.first)
    }
}

async fn login<T>(cfg: &ImapConfig, client: Client<T>, limit: Duration) -> Result<Session<T>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + fmt::Debug + Send,
{
    let secret = secret(cfg).await?;
    let user = cfg.username.as_str();
    let attempt = async {
        match cfg.auth {
            AuthMethod::Login => client.login(user, &secret).await,
            AuthMethod::Plain => {
                let first = format!("\0{user}\0{secret}").into_bytes();
                client
                    .authenticate("PLAIN", SaslResponse { first, sent: false })
                    .await
            }
            AuthMethod::Xoauth2 => {
                let first = format!("user={user}\x01auth=Bearer {secret}\x01\x01").into_bytes();
                client
                    .authenticate("XOAUTH2", SaslResponse { first, sent: false })
                    .await
            }
        }
    };
    match tokio::time::timeout(limit, attempt).await {
        Err(_) => Err(SourceError::Timeout("login".into())),
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _client))) => Err(match e {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                SourceError::Auth(text)
            }
            other => map_imap_error("login", other),
        }),
    }
}

/// IMAP atom: printable ASCII without atom-specials (RFC 3501 9), as keywords must be.
fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !b"(){ %*\"\\]".contains(&b))
}

/// A keyword (atom) or one of the system flags a client may set.
fn is_settable_flag(s: &str) -> bool {
    match s.strip_prefix('\\') {
        Some(system) => ["Answered", "Flagged", "Seen", "Draft", "Deleted"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(system)),
        None => is_atom(s),
    }
}

fn flag_name(f: &async_imap::types::Flag<'_>) -> String {
    use async_imap::types::Flag;
    match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => "\\Recent".into(),
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(c) => c.to_string(),
    }
}

/// The Message-ID from a header block (unfolded, angle brackets removed). Bounded: looks at
/// the first 64 KiB only and returns at most 998 bytes (the RFC 5322 line limit).
pub fn message_id_from_header(header: &[u8]) -> Option<String> {
    let head = header.get(..header.len().min(64 * 1024)).unwrap_or(header);
    let text = String::from_utf8_lossy(head);
    let mut value: Option<String> = None;
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((name, rest)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("message-id")
        {
            value = Some(rest.trim().to_string());
        }
    }
    let v = value?;
    let inner = match (v.find('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v.get(a + 1..b).unwrap_or(""),
        _ => v.as_str(),
    };
    let inner = inner.trim();
    if inner.is_empty() {
        return None;
    }
    let mut end = inner.len().min(998);
    while !inner.is_char_boundary(end) {
        end -= 1;
    }
    inner.get(..end).map(str::to_string)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn uid_sets_are_sorted_ranges() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[7]), "7");
        assert_eq!(uid_set(&[9, 3, 5, 6, 7, 8, 12, 5]), "3,5:9,12");
        assert_eq!(
            uid_set(&[u32::MAX, u32::MAX - 1, 1]),
            "1,4294967294:4294967295"
        );
        let many: Vec<u32> = (1..=1000).collect();
        assert_eq!(uid_set(&many), "1:1000");
    }

    proptest::proptest! {
        #[test]
        fn uid_set_names_exactly_the_uids(uids in proptest::collection::vec(0u32..60, 0..40)) {
            let mut expanded = Vec::new();
            for part in uid_set(&uids).split(',').filter(|p| !p.is_empty()) {
                let (a, b) = part.split_once(':').unwrap_or((part, part));
                let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
                proptest::prop_assert!(a <= b);
                expanded.extend(a..=b);
            }
            let mut want = uids.clone();
            want.sort_unstable();
            want.dedup();
            proptest::prop_assert_eq!(expanded, want);
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn message_id_plain_and_folded() {
        assert_eq!(
            message_id_from_header(b"Subject: x\r\nMessage-ID: <abc@example.test>\r\n\r\n"),
            Some("abc@example.test".into())
        );
        assert_eq!(
            message_id_from_header(b"message-id:\r\n <folded.1@mx.example.test>\r\n"),
            Some("folded.1@mx.example.test".into())
        );
        assert_eq!(
            message_id_from_header(b"Message-Id: no-brackets@x\r\n"),
            Some("no-brackets@x".into())
        );
        assert_eq!(message_id_from_header(b"Subject: hello\r\n\r\n"), None);
        assert_eq!(message_id_from_header(b"Message-ID: <>\r\n"), None);
        assert_eq!(message_id_from_header(b""), None);
    }

    #[test]
    fn keywords_by_decision() {
        assert_eq!(keyword("accept"), "$intake-accepted");
        assert_eq!(keyword("reject"), "$intake-rejected");
        assert_eq!(keyword("review"), "$intake-review");
        assert_eq!(keyword("ignore"), "$intake-ignored");
        assert_eq!(keyword("skipped"), "$intake-ignored");
        for d in ["accept", "reject", "review", "ignore"] {
            assert!(is_settable_flag(keyword(d)), "{d}");
        }
    }

    #[test]
    fn keywords_must_be_atoms() {
        assert!(is_atom("$intake-accepted"));
        assert!(is_atom("intake_review"));
        assert!(!is_atom("two words"));
        assert!(!is_atom("paren("));
        assert!(!is_atom(""));
        assert!(!is_atom("quote\""));
        assert!(!is_atom("ümlaut"));
        assert!(is_settable_flag("\\Answered"));
        assert!(!is_settable_flag("\\Recent"));
        assert!(!is_settable_flag("\\"));
    }

    #[test]
    fn tls_config_rejects_missing_and_empty_ca() {
        assert!(matches!(
            tls_config(Some(std::path::Path::new("/nonexistent/ca.pem"))),
            Err(SourceError::Io { .. })
        ));
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "not a pem").unwrap();
        assert!(matches!(
            tls_config(Some(f.path())),
            Err(SourceError::Tls(_))
        ));
        assert!(tls_config(None).is_ok());
    }

    #[tokio::test]
    async fn connect_refused_is_transient() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut c = ImapConfig::new("127.0.0.1", "u", "p");
        c.security = Security::None;
        c.port = Some(port);
        let e = ImapSource::connect(&c).await.unwrap_err();
        assert!(matches!(e, SourceError::Connect { .. }), "{e}");
        assert!(e.is_transient());
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        // Accepts the TCP connection but never greets: the greeting timeout must fire.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let keep = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(s);
        });
        let mut c = ImapConfig::new("127.0.0.1", "u", "p");
        c.security = Security::None;
        c.port = Some(port);
        c.timeout_seconds = 1;
        let t0 = std::time::Instant::now();
        let e = ImapSource::connect(&c).await.unwrap_err();
        assert!(matches!(e, SourceError::Timeout(_)), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(3));
        keep.abort();
    }

    #[tokio::test]
    async fn token_command_output_is_used() {
        let mut c = ImapConfig::new("127.0.0.1", "u", "p");
        c.password = None;
        c.auth = AuthMethod::Xoauth2;
        c.oauth_token_command = Some("printf ' tok123\\n'".into());
        assert_eq!(secret(&c).await.unwrap(), "tok123");
        c.oauth_token_command = Some("exit 3".into());
        assert!(matches!(secret(&c).await, Err(SourceError::Credentials(_))));
    }

    proptest! {
        #[test]
        fn message_id_never_panics(h in proptest::collection::vec(any::<u8>(), 0..2000)) {
            if let Some(id) = message_id_from_header(&h) {
                prop_assert!(!id.is_empty() && id.len() <= 998);
            }
        }

        #[test]
        fn message_id_roundtrip(id in "[a-zA-Z0-9.$_-]{1,60}@[a-z0-9.-]{1,30}") {
            let h = format!("From: a@b\r\nMessage-ID: <{id}>\r\nSubject: s\r\n\r\n");
            prop_assert_eq!(message_id_from_header(h.as_bytes()), Some(id));
        }
    }
}
