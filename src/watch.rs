//! `intake watch`: the service loop. Reads new mail from the mailbox, decides each message
//! once, records the decision with the replies it causes, sends them, and tags the mail.
//!
//! Order per message (what makes it exactly-once across a crash): decide → record verdict and
//! outbox in one transaction → send each queued message → mark it sent → tag in the mailbox
//! → advance the saved position. A restart resends what was queued but not marked sent (with
//! the same Message-ID), re-tags what was decided but not tagged, and never decides a
//! recorded message again.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration as StdDuration;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, Duration, Timelike as _, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::watch as signal_watch;
use tracing::{error, info, warn};

use crate::check::Arrival;
use crate::config::Config;
use crate::render::Templates;
use crate::render::compose::{Role, Trouble, delivery_notice};
use crate::sink::{Envelope, Outbox, OutboxConfig, SendError};
use crate::source::{
    Backoff, ImapConfig, ImapSource, MailboxConfig, MaildirConfig, MaildirSource, Wake,
};
use crate::store::{HandOverLog, Identity, Pending, Position, Store};

/// Outgoing messages in flight at once (the SMTP outbox pools its connections).
const SEND_CONCURRENCY: usize = 8;

/// IMAP keywords set on handled mail, by decision.
pub fn keyword(decision: &str) -> &'static str {
    match decision {
        "accept" => "$intake-accepted",
        "reject" => "$intake-rejected",
        "review" => "$intake-review",
        _ => "$intake-ignored",
    }
}

/// A stop request from SIGTERM/SIGINT: the loop finishes the message in hand and returns.
#[derive(Clone)]
pub struct Shutdown(signal_watch::Receiver<bool>);

impl Shutdown {
    /// Listens for SIGINT and SIGTERM.
    pub fn on_signals() -> Shutdown {
        let (tx, rx) = signal_watch::channel(false);
        tokio::spawn(async move {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(t) => t,
                        Err(e) => {
                            error!(error = %e, "cannot listen for SIGTERM");
                            let _ = ctrl_c.await;
                            let _ = tx.send(true);
                            return;
                        }
                    };
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            info!("stop requested; finishing the message in hand");
            let _ = tx.send(true);
        });
        Shutdown(rx)
    }

    /// A shutdown that only fires when the sender says so (tests).
    pub fn manual() -> (signal_watch::Sender<bool>, Shutdown) {
        let (tx, rx) = signal_watch::channel(false);
        (tx, Shutdown(rx))
    }

    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Sleeps `d` or until shutdown; true when shutdown was requested.
    async fn sleep(&mut self, d: StdDuration) -> bool {
        if self.requested() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => self.requested(),
            _ = self.0.changed() => true,
        }
    }
}

/// What one run did, for the closing log line and `--once`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub decided: u64,
    pub skipped: u64,
    pub sent: u64,
    pub unsent: u64,
}

/// Everything the loop holds.
struct Service {
    config: Config,
    templates: Templates,
    store: Store,
    hand_over: HandOverLog,
    outbox: Box<dyn Outbox>,
    summary: Summary,
}

/// Runs `intake watch` until shutdown, or once over what is waiting.
pub async fn run(config: Config, once: bool, shutdown: Shutdown) -> Result<Summary> {
    let templates = Templates::for_config(&config)?;
    let mailbox = config
        .mailbox
        .clone()
        .ok_or_else(|| anyhow!("config has no [mailbox] section: intake watch needs one"))?;
    let outbox_cfg = config
        .outbox
        .clone()
        .ok_or_else(|| anyhow!("config has no [outbox] section: intake watch needs one"))?;
    let store_path = config
        .store_path
        .clone()
        .ok_or_else(|| anyhow!("config has no [store] section: intake watch needs one"))?;
    let store = Store::open(&store_path)?;
    let hand_over = store.hand_over_log()?;
    let outbox = build_outbox(&outbox_cfg)?;
    let mut svc = Service {
        config,
        templates,
        store,
        hand_over,
        outbox,
        summary: Summary::default(),
    };
    info!(store = %store_path.display(), "intake watch starting");
    if svc.config.rules.sender_verification == crate::config::SenderVerification::Off {
        warn!(
            "rules.sender_verification is off: senders are not verified, so acceptances and replies rest on a From header anyone can write; use it only for an MX that writes no Authentication-Results"
        );
    }
    // Whatever a previous run queued but did not send goes out first, except replies it may
    // have delivered already.
    svc.recover_in_doubt()?;
    svc.flush().await?;
    match mailbox {
        MailboxConfig::Imap(cfg) => svc.run_imap(&cfg, once, shutdown).await?,
        MailboxConfig::Maildir(cfg) => svc.run_maildir(&cfg, once, shutdown).await?,
    }
    svc.summary.unsent = svc.store.unsent_count()?;
    info!(
        decided = svc.summary.decided,
        skipped = svc.summary.skipped,
        sent = svc.summary.sent,
        unsent = svc.summary.unsent,
        "intake watch stopped"
    );
    Ok(svc.summary)
}

fn build_outbox(cfg: &OutboxConfig) -> Result<Box<dyn Outbox>> {
    cfg.build().map_err(|e| anyhow!("outbox: {e}"))
}

impl Service {
    /// Decides one message and queues its replies. Returns the decision, and whether it was
    /// made now (`false`: decided before, under this or another position; nothing is done
    /// again).
    fn decide(
        &mut self,
        identity: &Identity,
        raw: Option<&[u8]>,
        size: u64,
        arrival: DateTime<Utc>,
        answer_since: Option<DateTime<Utc>>,
    ) -> Result<(String, bool)> {
        let now = Utc::now();
        let d = crate::lifecycle::decide(
            &mut self.store,
            &self.config,
            &self.templates,
            identity,
            raw,
            size,
            Arrival::Known(arrival),
            answer_since,
            now,
        )?;
        if !d.new {
            return Ok((d.decision, false));
        }
        if d.decision == "skipped" {
            self.summary.skipped += 1;
        } else {
            self.summary.decided += 1;
        }
        if let Some(c) = &d.checked {
            info!(
                message_id = c.verdict.message_id.as_deref().unwrap_or(""),
                sender = c.verdict.from.as_deref().unwrap_or(""),
                decision = %d.decision,
                reference = %c.verdict.reference,
                action = d.step.as_ref().map_or("", |s| s.action.as_str()),
                request_state = d
                    .step
                    .as_ref()
                    .and_then(|s| s.request.as_ref())
                    .map_or("", |r| r.state.as_str()),
                uid = identity.uid,
                queued = d.outgoing.len(),
                "decided"
            );
        }
        Ok((d.decision, true))
    }

    /// Sends every due outbox row. SMTP 4xx or a lost connection before the content went
    /// out: retried later with backoff. 5xx: not retried, staff told. A customer reply whose
    /// delivery is in doubt: not retried, staff told; internal mail in doubt is retried.
    async fn flush(&mut self) -> Result<()> {
        use futures::StreamExt as _;
        // Runs even during shutdown: what the message in hand queued is still sent.
        let pending = self.store.pending(Utc::now())?;
        if pending.is_empty() {
            return Ok(());
        }
        // Up to SEND_CONCURRENCY messages are in flight at once, over the outbox's pooled
        // connections; each result is recorded as soon as it comes back.
        let outbox = &self.outbox;
        let log = &self.hand_over;
        let mut results = futures::stream::iter(pending)
            .map(|p| async move {
                let envelope = Envelope {
                    // Automated replies go out with the null sender (RFC 3834), so a bounce
                    // of a bounce cannot start a loop.
                    from: (p.role != Role::Reply.as_str()).then(|| p.sender.clone()),
                    to: vec![p.recipient.clone()],
                };
                // Written (and synced) before the content goes out, on the runtime thread:
                // a few milliseconds, and it must be on disk before the server can deliver.
                let id = p.id;
                let hand_over = move || log.record(id, Utc::now()).map_err(|e| format!("{e:#}"));
                let result = outbox.send_with(&envelope, &p.raw, &hand_over).await;
                (p, result)
            })
            .buffer_unordered(SEND_CONCURRENCY);
        while let Some(first) = results.next().await {
            // Whatever else finished meanwhile is recorded with it: one commit (one fsync) for
            // all the messages sent while the previous commit was being written.
            let mut done = vec![first];
            while let Some(Some(more)) = futures::FutureExt::now_or_never(results.next()) {
                done.push(more);
            }
            let sent: Vec<i64> = done
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(p, _)| p.id)
                .collect();
            self.store.mark_sent_all(&sent, Utc::now())?;
            for (p, result) in done {
                record_result(&self.store, &self.config, &mut self.summary, p, result)?;
            }
        }
        Ok(())
    }

    /// After a crash: customer replies that were being handed to the server when the last
    /// run stopped go to staff instead of being sent a second time.
    fn recover_in_doubt(&self) -> Result<()> {
        for p in self.store.replies_in_doubt()? {
            error!(to = %p.recipient, out_message_id = %p.out_message_id, "the last run stopped while handing this reply to the server; not resent, staff told");
            give_to_staff(
                &self.store,
                &self.config,
                &p,
                Trouble::InDoubt,
                "intake stopped (crash, kill or power loss) before the server's answer came back",
            )?;
        }
        Ok(())
    }

    /// How long the loop may wait before the outbox needs another round.
    fn outbox_wait(&self, max: StdDuration) -> Result<StdDuration> {
        Ok(match self.store.next_due()? {
            Some(due) => (due - Utc::now())
                .to_std()
                .unwrap_or(StdDuration::ZERO)
                .clamp(StdDuration::from_millis(200), max),
            None => max,
        })
    }

    async fn run_maildir(
        &mut self,
        cfg: &MaildirConfig,
        once: bool,
        mut shutdown: Shutdown,
    ) -> Result<()> {
        if let Some(seed) = &cfg.seed_from {
            seed_demo_maildir(seed, &cfg.path, Utc::now())?;
        }
        let mut source = MaildirSource::new(cfg).map_err(|e| anyhow!("mailbox: {e}"))?;
        let folder = cfg.path.display().to_string();
        loop {
            let batch = source
                .fetch_new(self.config.rules.max_message_bytes)
                .await
                .map_err(|e| anyhow!("reading the Maildir: {e}"))?;
            if !batch.is_empty() {
                self.store.begin_batch()?;
            }
            for m in batch.iter() {
                if shutdown.requested() {
                    break;
                }
                let raw = m.raw.as_deref();
                let identity = Identity {
                    folder: folder.clone(),
                    uidvalidity: 0,
                    uid: key_number(&m.key),
                    message_id: raw.and_then(|r| crate::read::read(r).message_id),
                    content_hash: raw.map_or_else(|| format!("size:{}", m.size), content_hash),
                };
                self.decide(&identity, raw, m.size, m.arrived, None)?;
            }
            if !batch.is_empty() {
                self.store.commit_batch()?;
            }
            self.flush().await?;
            if once || shutdown.requested() {
                return Ok(());
            }
            let wait = self.outbox_wait(StdDuration::from_secs(60))?;
            tokio::select! {
                r = source.wait(wait) => { r.map_err(|e| anyhow!("watching the Maildir: {e}"))?; }
                _ = shutdown.sleep(wait) => {}
            }
        }
    }

    async fn run_imap(
        &mut self,
        cfg: &ImapConfig,
        once: bool,
        mut shutdown: Shutdown,
    ) -> Result<()> {
        let source_key = format!("imap://{}@{}/{}", cfg.username, cfg.host, cfg.folder);
        let mut backoff = Backoff::default();
        loop {
            if shutdown.requested() {
                return Ok(());
            }
            match self
                .imap_session(cfg, &source_key, once, &mut shutdown, &mut backoff)
                .await
            {
                Ok(()) => return Ok(()),
                Err(SessionError::Fatal(e)) => return Err(e),
                Err(SessionError::Reconnect(e)) => {
                    let wait = backoff.next();
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "mailbox connection lost; reconnecting");
                    if once && backoff.attempts() > 5 {
                        bail!("mailbox unreachable: {e}");
                    }
                    // Keep sending what is queued while the mailbox is away.
                    self.flush().await.map_err(|e| anyhow!("{e:#}"))?;
                    if shutdown.sleep(wait).await {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// One connection's life: select, catch up, then fetch → idle → fetch.
    async fn imap_session(
        &mut self,
        cfg: &ImapConfig,
        source_key: &str,
        once: bool,
        shutdown: &mut Shutdown,
        backoff: &mut Backoff,
    ) -> Result<(), SessionError> {
        let mut imap = ImapSource::connect(cfg)
            .await
            .map_err(SessionError::from_source)?;
        let state = imap.select().await.map_err(SessionError::from_source)?;
        // Connected: the next outage starts again from the shortest delay instead of the
        // one reached by earlier outages (which grows to five minutes). `--once` keeps
        // counting, so a server that drops every session cannot keep it running forever.
        if !once {
            backoff.reset();
        }
        let now = Utc::now();
        let mut pos = match self
            .store
            .position(source_key)
            .map_err(SessionError::Fatal)?
        {
            Some(p) => p,
            None => {
                // First start: nothing older than this is answered.
                let p = Position {
                    uidvalidity: state.uid_validity,
                    last_uid: 0,
                    // INTERNALDATE has whole seconds: a message in the same second as the first
                    // start counts as after it.
                    answer_since: cfg
                        .answer_since
                        .unwrap_or(now)
                        .with_nanosecond(0)
                        .unwrap_or(now),
                };
                info!(answer_since = %p.answer_since, "first start on this mailbox");
                p
            }
        };
        if pos.uidvalidity != state.uid_validity {
            // The server renumbered the folder: read it again from the start; messages
            // decided before are recognised by Message-ID and content and not answered again.
            warn!(
                old = pos.uidvalidity,
                new = state.uid_validity,
                "UIDVALIDITY changed; resynchronising"
            );
            pos.uidvalidity = state.uid_validity;
            pos.last_uid = 0;
        }
        self.store
            .save_position(source_key, pos)
            .map_err(SessionError::Fatal)?;
        let folder = cfg.folder.clone();
        loop {
            // Tag what was decided but not yet tagged (a crash between deciding and tagging).
            let untagged = self
                .store
                .untagged(&folder, pos.uidvalidity)
                .map_err(SessionError::Fatal)?;
            self.tag_all(&mut imap, cfg, &folder, pos.uidvalidity, &untagged, None)
                .await?;
            // Everything above the last UID seen, never trusting EXISTS alone.
            loop {
                let last = u32::try_from(pos.last_uid).unwrap_or(u32::MAX);
                let batch = imap
                    .fetch_after(last, self.config.rules.max_message_bytes)
                    .await
                    .map_err(SessionError::from_source)?;
                if batch.is_empty() {
                    break;
                }
                // Decide the whole batch (each decision with its replies, all committed
                // together), send everything queued at once, then tag and advance.
                let mut decided = Vec::with_capacity(batch.len());
                self.store.begin_batch().map_err(SessionError::Fatal)?;
                for m in batch {
                    if shutdown.requested() {
                        break;
                    }
                    let identity = Identity {
                        folder: folder.clone(),
                        uidvalidity: pos.uidvalidity,
                        uid: u64::from(m.uid),
                        message_id: m.message_id.clone(),
                        content_hash: m
                            .raw
                            .as_deref()
                            .map_or_else(|| format!("size:{}", m.size), content_hash),
                    };
                    let (decision, new) = self
                        .decide(
                            &identity,
                            m.raw.as_deref(),
                            m.size,
                            m.internal_date,
                            Some(pos.answer_since),
                        )
                        .map_err(SessionError::Fatal)?;
                    if !new {
                        // Decided in an earlier run (or under an older UIDVALIDITY): record
                        // this position so it is tagged, never answered again.
                        self.store
                            .record_duplicate(&identity)
                            .map_err(SessionError::Fatal)?;
                    }
                    pos.last_uid = pos.last_uid.max(u64::from(m.uid));
                    decided.push((u64::from(m.uid), decision));
                }
                self.store.commit_batch().map_err(SessionError::Fatal)?;
                self.flush().await.map_err(SessionError::Fatal)?;
                self.tag_all(
                    &mut imap,
                    cfg,
                    &folder,
                    pos.uidvalidity,
                    &decided,
                    Some((source_key, pos)),
                )
                .await?;
                if shutdown.requested() {
                    imap.logout().await;
                    return Ok(());
                }
            }
            self.flush().await.map_err(SessionError::Fatal)?;
            if once || shutdown.requested() {
                imap.logout().await;
                return Ok(());
            }
            let max = StdDuration::from_secs(cfg.idle_minutes.clamp(1, 10) * 60);
            let wait = self.outbox_wait(max).map_err(SessionError::Fatal)?;
            let stop = async {
                let _ = shutdown.0.changed().await;
            };
            match imap.wait_unless(wait, stop).await {
                Ok(None) => {
                    imap.logout().await;
                    return Ok(());
                }
                Ok(Some(Wake::Changed | Wake::Quiet)) => {}
                Err(e) => return Err(SessionError::from_source(e)),
            }
        }
    }

    /// Tags decided messages with their decision's keyword (one `UID STORE` per decision),
    /// moves the notifications to `move_to` if configured, then records them tagged and the
    /// position `advance`, in one transaction. A crash in between only tags again.
    async fn tag_all(
        &mut self,
        imap: &mut ImapSource,
        cfg: &ImapConfig,
        folder: &str,
        uidvalidity: u32,
        decided: &[(u64, String)],
        advance: Option<(&str, Position)>,
    ) -> Result<(), SessionError> {
        let mut by_keyword: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
        let mut to_move = Vec::new();
        for (uid, decision) in decided {
            let uid = u32::try_from(*uid).unwrap_or(u32::MAX);
            by_keyword.entry(keyword(decision)).or_default().push(uid);
            if matches!(decision.as_str(), "accept" | "reject" | "review") {
                to_move.push(uid);
            }
        }
        for (keyword, uids) in &by_keyword {
            imap.tag_all(uids, keyword)
                .await
                .map_err(SessionError::from_source)?;
        }
        if let Some(target) = &cfg.move_to {
            imap.move_all(&to_move, target)
                .await
                .map_err(SessionError::from_source)?;
        }
        let uids: Vec<u64> = decided.iter().map(|(uid, _)| *uid).collect();
        self.store
            .mark_tagged_all(folder, uidvalidity, &uids, advance)
            .map_err(SessionError::Fatal)
    }
}

/// Why an IMAP session ended.
enum SessionError {
    /// Connection trouble: reconnect with backoff.
    Reconnect(String),
    /// Configuration, credentials or the store: stop with a clear error.
    Fatal(anyhow::Error),
}

impl SessionError {
    fn from_source(e: crate::source::SourceError) -> SessionError {
        if e.is_transient() || e.needs_reconnect() {
            SessionError::Reconnect(e.to_string())
        } else {
            SessionError::Fatal(anyhow!("mailbox: {e}"))
        }
    }
}

/// Retry delays for SMTP: the base (30 s) doubling per attempt, at most an hour.
fn retry_delay(attempts: u32) -> Duration {
    retry_delay_from(*RETRY_BASE, attempts)
}

/// The first SMTP retry delay: 30 s, or `INTAKE_RETRY_BASE_MS` milliseconds when set (read
/// once). Tests and benchmarks lower it so a stopped mail server does not make them wait.
static RETRY_BASE: LazyLock<Duration> = LazyLock::new(|| {
    std::env::var("INTAKE_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ms| *ms > 0)
        .and_then(Duration::try_milliseconds)
        .unwrap_or(Duration::seconds(30))
});

fn retry_delay_from(base: Duration, attempts: u32) -> Duration {
    let cap = Duration::seconds(3600);
    base.checked_mul(1i32 << attempts.min(7))
        .map_or(cap, |d| d.min(cap))
}

/// The loop breaker: no automated reply to `to` when, counting the replies queued before
/// `now`, its normalized address (lowercase, no `+tag`) had `max_replies_per_sender_per_day`
/// in the last 24 hours, its organizational domain `max_replies_per_domain_per_day`, or
/// everyone together `max_replies_per_hour` in the last hour. `Some(why)` for staff.
pub fn reply_hold(
    store: &Store,
    rules: &crate::config::Rules,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let day = now - Duration::hours(24);
    let address = crate::domain::normalize_address(to);
    let sent = store.replies_to(to, day)?;
    let max = rules.max_replies_per_sender_per_day;
    if sent >= max {
        warn!(sender = %address, replies = sent, max, "reply limit per address reached; no automated reply (possible mail loop)");
        return Ok(Some(format!(
            "No automated reply was sent (reply limit per address): {address} already got {sent} automated replies in the last 24 hours (limit {max}; possible mail loop)."
        )));
    }
    let sent = store.replies_to_org(to, day)?;
    let max = rules.max_replies_per_domain_per_day;
    if sent >= max {
        let domain = crate::domain::domain_of(to).unwrap_or_default();
        warn!(sender = %address, domain = %domain, replies = sent, max, "reply limit per organization reached; no automated reply");
        return Ok(Some(format!(
            "No automated reply was sent (reply limit per organization): the organization of {address} already got {sent} automated replies in the last 24 hours (limit {max} per organizational domain)."
        )));
    }
    let sent = store.replies_since(now - Duration::hours(1))?;
    let max = rules.max_replies_per_hour;
    if sent >= max {
        warn!(sender = %address, replies = sent, max, "global reply limit per hour reached; no automated reply");
        return Ok(Some(format!(
            "No automated reply was sent (global reply limit): intake already sent {sent} automated replies in the last hour (global limit {max})."
        )));
    }
    Ok(None)
}

/// Tells staff that a message could not be delivered and will not be retried.
/// Logs a send's result and records what it means (a success is already marked sent).
fn record_result(
    store: &Store,
    config: &Config,
    summary: &mut Summary,
    p: Pending,
    result: Result<(), SendError>,
) -> Result<()> {
    match result {
        Ok(()) => {
            summary.sent += 1;
            info!(to = %p.recipient, role = %p.role, out_message_id = %p.out_message_id, "sent");
        }
        Err(SendError::InDoubt(e)) if p.role == Role::Reply.as_str() => {
            error!(to = %p.recipient, error = %e, out_message_id = %p.out_message_id, "reply may or may not have been delivered; not resent, staff told");
            give_to_staff(store, config, &p, Trouble::InDoubt, &e)?;
        }
        Err(SendError::Transient(e) | SendError::InDoubt(e)) => {
            let wait = retry_delay(p.attempts);
            warn!(to = %p.recipient, error = %e, retry_in_s = wait.num_seconds(), "sending failed, will retry");
            store.mark_retry(p.id, Utc::now(), wait)?;
        }
        Err(SendError::Permanent(e)) => {
            error!(to = %p.recipient, error = %e, "sending refused permanently; staff told");
            give_to_staff(store, config, &p, Trouble::Refused, &e)?;
        }
    }
    Ok(())
}

/// Stops sending `p` and queues a notice to staff with `p` attached (none about a notice to
/// staff itself, which would only queue another for the same address).
fn give_to_staff(
    store: &Store,
    config: &Config,
    p: &Pending,
    trouble: Trouble,
    detail: &str,
) -> Result<()> {
    let notice = if p.role == Role::Staff.as_str() {
        None
    } else {
        Some(delivery_notice(
            &config.addresses,
            trouble,
            &p.recipient,
            &p.out_message_id,
            detail,
            &p.raw,
            Utc::now(),
        )?)
    };
    store.give_up(p.id, detail, notice.as_ref(), Utc::now())
}

/// SHA-256 of the raw bytes, hex.
pub fn content_hash(raw: &[u8]) -> String {
    Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A stable 63-bit number for a Maildir key, used where IMAP has a UID.
fn key_number(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    let mut n = 0u64;
    for b in d.iter().take(8) {
        n = n << 8 | u64::from(*b);
    }
    n >> 1
}

/// Copies the demo templates in `seed` into a new Maildir at `maildir`, filling in dates
/// relative to `now`. Does nothing when the Maildir exists already.
pub fn seed_demo_maildir(seed: &Path, maildir: &Path, now: DateTime<Utc>) -> Result<()> {
    if maildir.join("new").exists() || maildir.join("cur").exists() {
        return Ok(());
    }
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub))
            .with_context(|| format!("Creating {}", maildir.join(sub).display()))?;
    }
    let mut entries: Vec<_> = std::fs::read_dir(seed)
        .with_context(|| format!("Reading the demo folder {}", seed.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    entries.sort();
    for (i, path) in entries.iter().enumerate() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Reading demo message {}", path.display()))?;
        let filled = fill_demo_dates(&text, now);
        let name = format!("{}.demo{i}.intake", now.timestamp());
        let dest = maildir.join("new").join(name);
        std::fs::write(&dest, filled).with_context(|| format!("Writing {}", dest.display()))?;
    }
    info!(count = entries.len(), maildir = %maildir.display(), "demo Maildir written");
    Ok(())
}

/// Replaces `{{now}}` with an RFC 2822 date and `{{date+N}}` with the date N days after
/// `now` as DD.MM.YYYY.
fn fill_demo_dates(text: &str, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            out.push_str(rest.get(start..).unwrap_or(""));
            rest = "";
            break;
        };
        let token = after.get(..end).unwrap_or("").trim();
        let replacement = if token == "now" {
            Some(now.to_rfc2822())
        } else {
            token
                .strip_prefix("date+")
                .and_then(|n| n.parse::<i64>().ok())
                .map(|n| (now + Duration::days(n)).format("%d.%m.%Y").to_string())
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => out.push_str(rest.get(start..start + 2 + end + 2).unwrap_or("")),
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn demo_dates_are_filled_relative_to_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let out = fill_demo_dates(
            "Date: {{now}}\nStart: {{date+40}} 09:00\n{{unknown}} {{",
            now,
        );
        assert_eq!(
            out,
            "Date: Thu, 26 Nov 2026 08:00:00 +0000\nStart: 05.01.2027 09:00\n{{unknown}} {{"
        );
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        let thirty = Duration::seconds(30);
        assert_eq!(retry_delay_from(thirty, 0), thirty);
        assert_eq!(retry_delay_from(thirty, 1), Duration::seconds(60));
        assert_eq!(retry_delay_from(thirty, 20), Duration::seconds(3600));
        let base = Duration::milliseconds(250);
        assert_eq!(retry_delay_from(base, 0), base);
        assert_eq!(retry_delay_from(base, 3), Duration::seconds(2));
        assert_eq!(retry_delay_from(Duration::MAX, 7), Duration::seconds(3600));
    }

    /// Records one customer reply to `to`, queued at `at`.
    fn reply_at(store: &mut Store, n: u64, to: &str, at: DateTime<Utc>) {
        let id = Identity {
            folder: "INBOX".into(),
            uidvalidity: 1,
            uid: n,
            message_id: Some(format!("m{n}@example.ch")),
            content_hash: format!("h{n}"),
        };
        let out = crate::render::compose::Outgoing {
            role: Role::Reply,
            from: "support@amazee.io".into(),
            to: to.into(),
            message_id: format!("INT-{n}.reply@amazee.io"),
            raw: b"Subject: x\r\n\r\nx".to_vec(),
        };
        store
            .record(
                &crate::store::Record {
                    identity: &id,
                    sender: Some(to),
                    arrival: at,
                    decision: "reject",
                    rules_version: "test",
                    verdict_json: "{}",
                    raw: None,
                    request: None,
                },
                &[out],
                at,
            )
            .unwrap();
    }

    fn rules(per_sender: u32, per_domain: u32, per_hour: u32) -> crate::config::Rules {
        crate::config::Rules {
            max_replies_per_sender_per_day: per_sender,
            max_replies_per_domain_per_day: per_domain,
            max_replies_per_hour: per_hour,
            ..crate::config::Rules::default()
        }
    }

    #[test]
    fn the_loop_breaker_counts_24_hours_to_the_minute() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let rules = rules(1, 100, 100);
        // A reply 24h01m ago is outside the window: no hold.
        reply_at(
            &mut store,
            1,
            "jane@example.ch",
            now - Duration::minutes(24 * 60 + 1),
        );
        assert_eq!(
            reply_hold(&store, &rules, "jane@example.ch", now).unwrap(),
            None
        );
        // One 23h59m ago is inside: held.
        reply_at(
            &mut store,
            2,
            "jane@example.ch",
            now - Duration::minutes(24 * 60 - 1),
        );
        let why = reply_hold(&store, &rules, "jane@example.ch", now).unwrap();
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("reply limit per address")),
            "{why:?}"
        );
        // Two minutes later the one from 23h59m ago has left the window as well.
        assert_eq!(
            reply_hold(
                &store,
                &rules,
                "jane@example.ch",
                now + Duration::minutes(2)
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn the_loop_breaker_sees_through_case_and_plus_tags() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let rules = rules(2, 100, 100);
        reply_at(&mut store, 1, "Jane+a@Example.CH", now - Duration::hours(3));
        assert_eq!(
            reply_hold(&store, &rules, "jane@example.ch", now).unwrap(),
            None
        );
        reply_at(&mut store, 2, "jane+b@example.ch", now - Duration::hours(2));
        for variant in ["jane@example.ch", "JANE+c@EXAMPLE.CH", "jane+@example.ch"] {
            assert!(
                reply_hold(&store, &rules, variant, now).unwrap().is_some(),
                "{variant}"
            );
        }
        assert_eq!(
            reply_hold(&store, &rules, "joe@example.ch", now).unwrap(),
            None
        );
    }

    #[test]
    fn the_loop_breaker_counts_an_organization_across_its_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let rules = rules(5, 3, 100);
        reply_at(&mut store, 1, "a@example.co.uk", now - Duration::hours(5));
        reply_at(
            &mut store,
            2,
            "b@mail.example.co.uk",
            now - Duration::hours(4),
        );
        assert_eq!(
            reply_hold(&store, &rules, "c@example.co.uk", now).unwrap(),
            None
        );
        reply_at(
            &mut store,
            3,
            "c@shop.example.co.uk",
            now - Duration::hours(3),
        );
        let why = reply_hold(&store, &rules, "d@example.co.uk", now).unwrap();
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("reply limit per organization")),
            "{why:?}"
        );
        // Another organization under the same public suffix is not held.
        assert_eq!(
            reply_hold(&store, &rules, "d@other.co.uk", now).unwrap(),
            None
        );
        // The organization's window is 24 hours too.
        assert_eq!(
            reply_hold(&store, &rules, "d@example.co.uk", now + Duration::hours(20)).unwrap(),
            None
        );
    }

    #[test]
    fn the_loop_breaker_has_a_global_hourly_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let rules = rules(5, 20, 3);
        reply_at(&mut store, 1, "a@one.example", now - Duration::minutes(61));
        reply_at(&mut store, 2, "b@two.example", now - Duration::minutes(50));
        reply_at(
            &mut store,
            3,
            "c@three.example",
            now - Duration::minutes(30),
        );
        assert_eq!(
            reply_hold(&store, &rules, "d@four.example", now).unwrap(),
            None
        );
        reply_at(&mut store, 4, "e@five.example", now - Duration::minutes(1));
        let why = reply_hold(&store, &rules, "d@four.example", now).unwrap();
        assert!(
            why.as_deref()
                .is_some_and(|w| w.contains("global reply limit")),
            "{why:?}"
        );
    }

    #[test]
    fn keywords_by_decision() {
        assert_eq!(keyword("accept"), "$intake-accepted");
        assert_eq!(keyword("reject"), "$intake-rejected");
        assert_eq!(keyword("review"), "$intake-review");
        assert_eq!(keyword("ignore"), "$intake-ignored");
        assert_eq!(keyword("skipped"), "$intake-ignored");
    }

    #[test]
    fn maildir_keys_give_stable_positive_numbers() {
        assert_eq!(
            key_number("1700000000.M1P2.host"),
            key_number("1700000000.M1P2.host")
        );
        assert_ne!(key_number("a"), key_number("b"));
        assert!(key_number("a") <= i64::MAX as u64);
    }
}
