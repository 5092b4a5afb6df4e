//! `intake watch`: the service loop. Reads new mail from the mailbox, decides each message
//! once, records the decision with the replies it causes, sends them, and marks the mail.
//!
//! Order per message (what makes it exactly-once across a crash): decide → record verdict and
//! outbox in one transaction → send each queued message → mark it sent → mark it in the
//! mailbox → advance the saved position. A restart resends what was queued but not marked sent
//! (with the same Message-ID), re-marks what was decided but not marked, and never decides a
//! recorded message again.
//!
//! The loop does no I/O of its own: the mailbox ([`Mailbox`]), the outbox ([`Outbox`]) and the
//! time ([`Clock`]) come in as [`Edges`], and the store is the only other thing it touches.

use std::sync::{Arc, LazyLock};
use std::time::Duration as StdDuration;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Duration, Timelike as _, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::watch as signal_watch;
use tracing::{error, info, warn};

use crate::check::Arrival;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::render::Templates;
use crate::render::compose::{Role, Trouble, delivery_notice};
use crate::sink::{Envelope, Outbox, OutboxConfig, SendError};
use crate::source::{Backoff, Mailbox, MailboxError, Opened};
use crate::store::{HandOverLog, Identity, Pending, Position, Store};

/// Outgoing messages in flight at once (the SMTP outbox pools its connections).
const SEND_CONCURRENCY: usize = 8;

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

/// The service's side effects: where mail comes from, where replies go, and what time it is.
/// [`run`] builds the real ones from the configuration; tests pass a Maildir on a temporary
/// folder, a [`crate::sink::StubOutbox`] and a [`crate::clock::FixedClock`].
pub struct Edges {
    pub mailbox: Box<dyn Mailbox>,
    pub outbox: Box<dyn Outbox>,
    pub clock: Arc<dyn Clock>,
}

/// Everything the loop holds.
struct Service {
    config: Config,
    templates: Templates,
    store: Store,
    hand_over: HandOverLog,
    outbox: Box<dyn Outbox>,
    clock: Arc<dyn Clock>,
    summary: Summary,
    /// What the web console shows; shared with it.
    metrics: Arc<Metrics>,
    /// Rung by the console after an action queued messages: the loop stops waiting for
    /// mail and sends them.
    kick: Arc<tokio::sync::Notify>,
}

/// Runs `intake watch` until shutdown, or once over what is waiting, on the configured
/// mailbox and outbox with the system clock.
pub async fn run(config: Config, once: bool, shutdown: Shutdown) -> Result<Summary> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mailbox = config
        .mailbox
        .as_ref()
        .ok_or_else(|| anyhow!("config has no [mailbox] section: intake watch needs one"))?
        .build(clock.clone());
    let outbox_cfg = config
        .outbox
        .as_ref()
        .ok_or_else(|| anyhow!("config has no [outbox] section: intake watch needs one"))?;
    let outbox = build_outbox(outbox_cfg)?;
    let edges = Edges {
        mailbox,
        outbox,
        clock,
    };
    run_with(config, edges, once, shutdown).await
}

/// [`run`] on the given edges (the configuration's `[mailbox]` and `[outbox]` are not used).
pub async fn run_with(
    config: Config,
    edges: Edges,
    once: bool,
    shutdown: Shutdown,
) -> Result<Summary> {
    run_with_metrics(config, edges, Arc::new(Metrics::default()), once, shutdown).await
}

/// [`run_with`], counting into `metrics`. With `[web] listen` (and without `once`) the web
/// console runs beside the loop, on the same runtime, until the loop ends.
pub async fn run_with_metrics(
    config: Config,
    edges: Edges,
    metrics: Arc<Metrics>,
    once: bool,
    shutdown: Shutdown,
) -> Result<Summary> {
    let Edges {
        mut mailbox,
        outbox,
        clock,
    } = edges;
    let templates = Templates::for_config(&config)?;
    let store_path = config
        .store_path
        .clone()
        .ok_or_else(|| anyhow!("config has no [store] section: intake watch needs one"))?;
    let store = Store::open(&store_path)?;
    let hand_over = store.hand_over_log()?;
    let mut svc = Service {
        config,
        templates,
        store,
        hand_over,
        outbox,
        clock,
        summary: Summary::default(),
        metrics,
        kick: Arc::new(tokio::sync::Notify::new()),
    };
    info!(store = %store_path.display(), "intake watch starting");
    // `--once` is over in seconds: no console, and no port taken from a running intake.
    let web = match &svc.config.web {
        Some(w) if !once => Some(svc.start_web(w, &store_path).await?),
        _ => None,
    };
    if svc.config.rules.sender_verification == crate::config::SenderVerification::Off {
        warn!(
            "rules.sender_verification is off: senders are not verified, so acceptances and replies rest on a From header anyone can write; use it only for an MX that writes no Authentication-Results"
        );
    }
    // Whatever a previous run queued but did not send goes out first, except replies it may
    // have delivered already.
    svc.recover_in_doubt()?;
    svc.flush().await?;
    let watched = svc.watch(mailbox.as_mut(), once, shutdown).await;
    svc.metrics.mailbox_down();
    if let Some(web) = web {
        web.stop().await;
    }
    watched?;
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
    /// Starts the web console on the loop's metrics and store (read only).
    async fn start_web(
        &self,
        web: &crate::web::WebConfig,
        store_path: &std::path::Path,
    ) -> Result<crate::web::Running> {
        let probes = crate::web::LiveProbes {
            store_path: store_path.to_path_buf(),
            metrics: self.metrics.clone(),
            clock: self.clock.clone(),
            mailbox_minutes: web.ready_mailbox_minutes,
            outbox: crate::web::OutboxTarget::of(self.config.outbox.as_ref()),
        };
        let state = crate::web::AppState::new(
            web.allowed_hosts.clone(),
            self.metrics.clone(),
            self.clock.clone(),
            store_path.to_path_buf(),
            Arc::new(probes),
            web.ready_mailbox_minutes,
            crate::web::ConsoleSettings {
                secure_cookies: web.secure_cookies,
                session_hours: web.session_hours,
                zone: self.config.rules.timezone,
            },
        )?
        .with_actions(crate::web::actions::Actions {
            config: Arc::new(self.config.clone()),
            templates: Arc::new(Templates::for_config(&self.config)?),
            kick: self.kick.clone(),
        })
        .with_security(web.proxies.clone(), self.config.addresses.own_domain())?;
        crate::web::start(web, state).await
    }

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
        let now = self.clock.now();
        let started = std::time::Instant::now();
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
        self.metrics.record_decision(&d.decision, started.elapsed());
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
        let pending = self.store.pending(self.clock.now())?;
        if pending.is_empty() {
            return Ok(());
        }
        // Up to SEND_CONCURRENCY messages are in flight at once, over the outbox's pooled
        // connections; each result is recorded as soon as it comes back.
        let outbox = &self.outbox;
        let log = &self.hand_over;
        let clock = &self.clock;
        let mut results = futures::stream::iter(pending)
            .map(|p| async move {
                let envelope = Envelope {
                    // Automated replies go out with the null sender (RFC 3834), so a bounce
                    // of a bounce cannot start a loop.
                    from: (p.role != Role::Reply).then(|| p.sender.clone()),
                    to: vec![p.recipient.clone()],
                };
                // Written (and synced) before the content goes out, on the runtime thread:
                // a few milliseconds, and it must be on disk before the server can deliver.
                let id = p.id;
                let hand_over = move || log.record(id, clock.now()).map_err(|e| format!("{e:#}"));
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
            let now = self.clock.now();
            self.store.mark_sent_all(&sent, now)?;
            for (p, result) in done {
                self.metrics.record_send(p.role, &result, now);
                record_result(&self.store, &self.config, &mut self.summary, p, result, now)?;
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
                self.clock.now(),
            )?;
        }
        Ok(())
    }

    /// Queues the security team's daily digest when its slot is due (`[digest]`). The first
    /// start records the current slot as done, so no stale digest goes out.
    fn digest(&mut self) -> Result<()> {
        let Some(schedule) = self.config.digest else {
            return Ok(());
        };
        let now = self.clock.now();
        let last = self.store.last_digest()?;
        let Some(slot) = crate::digest::due(now, last, &schedule) else {
            return Ok(());
        };
        let Some(since) = last else {
            info!(slot = %slot, "first start: the digest begins with the next slot");
            return self.store.record_digest(slot, None, now);
        };
        let requests = self.store.requests_with_windows(10_000)?;
        let plan = crate::digest::plan(&requests, slot, since);
        let message = crate::digest::compose(
            &plan,
            slot,
            schedule.zone,
            &self.templates,
            &self.config.addresses,
        )?;
        info!(slot = %slot, upcoming = plan.upcoming.len(), ended = plan.ended.len(), "daily digest queued");
        self.store.record_digest(slot, Some(&message), now)
    }

    /// `wait`, shortened to wake for the next digest slot.
    fn digest_wait(&self, wait: StdDuration) -> StdDuration {
        match self.config.digest {
            Some(s) => {
                let now = self.clock.now();
                (crate::digest::next(now, &s) - now)
                    .to_std()
                    .unwrap_or(StdDuration::ZERO)
                    .clamp(
                        StdDuration::from_millis(200),
                        wait.max(StdDuration::from_millis(200)),
                    )
            }
            None => wait,
        }
    }

    /// How long the loop may wait before the outbox needs another round.
    fn outbox_wait(&self, max: StdDuration) -> Result<StdDuration> {
        Ok(match self.store.next_due()? {
            Some(due) => (due - self.clock.now())
                .to_std()
                .unwrap_or(StdDuration::ZERO)
                .clamp(StdDuration::from_millis(200), max),
            None => max,
        })
    }

    /// Runs the mailbox until shutdown (with `once`: until nothing is waiting), one session
    /// after another: after connection trouble it waits with jittered backoff, sending what
    /// is queued meanwhile, and opens the mailbox again.
    async fn watch(
        &mut self,
        mailbox: &mut dyn Mailbox,
        once: bool,
        mut shutdown: Shutdown,
    ) -> Result<()> {
        let mut backoff = Backoff::default();
        loop {
            if shutdown.requested() {
                return Ok(());
            }
            match self
                .session(mailbox, once, &mut shutdown, &mut backoff)
                .await
            {
                Ok(()) => return Ok(()),
                Err(MailboxError::Fatal(e)) => return Err(e),
                Err(MailboxError::Reconnect(e)) => {
                    self.metrics.mailbox_down();
                    let wait = backoff.next();
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "mailbox connection lost; reconnecting");
                    if once && backoff.attempts() > 5 {
                        bail!("mailbox unreachable: {e}");
                    }
                    // Keep sending what is queued while the mailbox is away, also what the
                    // console queues meanwhile (a cancellation must not wait for the mailbox).
                    self.flush().await.map_err(|e| anyhow!("{e:#}"))?;
                    let until = tokio::time::Instant::now() + wait;
                    loop {
                        let kick = self.kick.clone();
                        let left = until.saturating_duration_since(tokio::time::Instant::now());
                        tokio::select! {
                            stopped = shutdown.sleep(left) => {
                                if stopped {
                                    return Ok(());
                                }
                                break;
                            }
                            () = kick.notified() => {
                                self.flush().await.map_err(|e| anyhow!("{e:#}"))?;
                            }
                        }
                    }
                }
            }
        }
    }

    /// One session: open, mark what a crash left unmarked, then fetch → decide → record →
    /// send → mark → wait, until shutdown (or, with `once`, until nothing is waiting).
    async fn session(
        &mut self,
        mailbox: &mut dyn Mailbox,
        once: bool,
        shutdown: &mut Shutdown,
        backoff: &mut Backoff,
    ) -> Result<(), MailboxError> {
        let opened = mailbox.open().await?;
        self.metrics.mailbox_reached(self.clock.now());
        // Connected: the next outage starts again from the shortest delay instead of the
        // one reached by earlier outages (which grows to five minutes). `--once` keeps
        // counting, so a server that drops every session cannot keep it running forever.
        if !once {
            backoff.reset();
        }
        let (mut pos, answer_since) = self.resume(&opened)?;
        let resume_key = opened.resume.as_ref().map(|r| r.key.as_str());
        let folder = opened.folder.as_str();
        loop {
            // Mark what was decided but not yet marked (a crash between deciding and marking).
            let unmarked = self.store.untagged(folder, pos.uidvalidity)?;
            self.mark(mailbox, folder, pos.uidvalidity, &unmarked, None)
                .await?;
            // Everything after the last message seen, never trusting the folder's counters.
            loop {
                let batch = mailbox
                    .fetch_after(pos.last_uid, self.config.rules.max_message_bytes)
                    .await?;
                self.metrics.mailbox_reached(self.clock.now());
                if batch.is_empty() {
                    break;
                }
                // Decide the whole batch (each decision with its replies, all committed
                // together), send everything queued at once, then mark and advance.
                let mut decided = Vec::with_capacity(batch.len());
                self.store.begin_batch()?;
                for m in batch {
                    if shutdown.requested() {
                        break;
                    }
                    let identity = Identity {
                        folder: folder.to_string(),
                        uidvalidity: pos.uidvalidity,
                        uid: m.uid,
                        message_id: m.message_id.clone(),
                        content_hash: m
                            .raw
                            .as_deref()
                            .map_or_else(|| format!("size:{}", m.size), content_hash),
                    };
                    let (decision, new) =
                        self.decide(&identity, m.raw.as_deref(), m.size, m.arrived, answer_since)?;
                    if !new {
                        // Decided in an earlier run (or under an older UIDVALIDITY): record
                        // this position so it is marked, never answered again.
                        self.store.record_duplicate(&identity)?;
                    }
                    pos.last_uid = pos.last_uid.max(m.uid);
                    decided.push((m.uid, decision));
                }
                self.store.commit_batch()?;
                self.flush().await?;
                let advance = resume_key.map(|key| (key, pos));
                self.mark(mailbox, folder, pos.uidvalidity, &decided, advance)
                    .await?;
                if shutdown.requested() {
                    mailbox.close().await;
                    return Ok(());
                }
            }
            self.digest()?;
            self.flush().await?;
            if once || shutdown.requested() {
                mailbox.close().await;
                return Ok(());
            }
            let wait = self.digest_wait(self.outbox_wait(mailbox.max_wait())?);
            let kick = self.kick.clone();
            let stop = Box::pin(async {
                tokio::select! {
                    _ = shutdown.0.changed() => {}
                    () = kick.notified() => {}
                }
            });
            let woke = mailbox.wait_for_mail(wait, stop).await?;
            if woke.is_none() {
                if shutdown.requested() {
                    mailbox.close().await;
                    return Ok(());
                }
                // The console queued messages: send them, then look for mail again.
                continue;
            }
            // The wait ended by itself (new mail, or its time was up): the server answered.
            self.metrics.mailbox_reached(self.clock.now());
        }
    }

    /// Where a session starts: the position saved for this mailbox (a new one on the first
    /// start, reset when UIDVALIDITY changed), saved back; and the arrival time before which
    /// mail is recorded but not answered. A mailbox without a saved position (Maildir) starts
    /// from the beginning every time and answers everything not decided before.
    fn resume(&self, opened: &Opened) -> Result<(Position, Option<DateTime<Utc>>)> {
        let Some(resume) = &opened.resume else {
            let pos = Position {
                uidvalidity: opened.uid_validity,
                last_uid: 0,
                answer_since: DateTime::<Utc>::MIN_UTC,
            };
            return Ok((pos, None));
        };
        let now = self.clock.now();
        let mut pos = match self.store.position(&resume.key)? {
            Some(p) => p,
            None => {
                // First start: nothing older than this is answered.
                let p = Position {
                    uidvalidity: opened.uid_validity,
                    last_uid: 0,
                    // INTERNALDATE has whole seconds: a message in the same second as the first
                    // start counts as after it.
                    answer_since: resume
                        .answer_since
                        .unwrap_or(now)
                        .with_nanosecond(0)
                        .unwrap_or(now),
                };
                info!(answer_since = %p.answer_since, "first start on this mailbox");
                p
            }
        };
        if pos.uidvalidity != opened.uid_validity {
            // The server renumbered the folder: read it again from the start; messages
            // decided before are recognised by Message-ID and content and not answered again.
            warn!(
                old = pos.uidvalidity,
                new = opened.uid_validity,
                "UIDVALIDITY changed; resynchronising"
            );
            pos.uidvalidity = opened.uid_validity;
            pos.last_uid = 0;
        }
        self.store.save_position(&resume.key, pos)?;
        Ok((pos, Some(pos.answer_since)))
    }

    /// Marks decided messages in the mailbox (IMAP: a keyword per decision, and a move when
    /// configured), then records them marked and the position `advance`, in one transaction.
    /// A crash in between only marks them again.
    async fn mark(
        &mut self,
        mailbox: &mut dyn Mailbox,
        folder: &str,
        uidvalidity: u32,
        decided: &[(u64, String)],
        advance: Option<(&str, Position)>,
    ) -> Result<(), MailboxError> {
        mailbox.mark_decided(decided).await?;
        let uids: Vec<u64> = decided.iter().map(|(uid, _)| *uid).collect();
        self.store
            .mark_tagged_all(folder, uidvalidity, &uids, advance)?;
        Ok(())
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
    now: DateTime<Utc>,
) -> Result<()> {
    match result {
        Ok(()) => {
            summary.sent += 1;
            info!(to = %p.recipient, role = p.role.as_str(), out_message_id = %p.out_message_id, "sent");
        }
        Err(SendError::InDoubt(e)) if p.role == Role::Reply => {
            error!(to = %p.recipient, error = %e, out_message_id = %p.out_message_id, "reply may or may not have been delivered; not resent, staff told");
            give_to_staff(store, config, &p, Trouble::InDoubt, &e, now)?;
        }
        Err(SendError::Transient(e) | SendError::InDoubt(e)) => {
            let wait = retry_delay(p.attempts);
            warn!(to = %p.recipient, error = %e, retry_in_s = wait.num_seconds(), "sending failed, will retry");
            store.mark_retry(p.id, now, wait)?;
        }
        Err(SendError::Permanent(e)) => {
            error!(to = %p.recipient, error = %e, "sending refused permanently; staff told");
            give_to_staff(store, config, &p, Trouble::Refused, &e, now)?;
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
    now: DateTime<Utc>,
) -> Result<()> {
    let notice = if p.role == Role::Staff {
        None
    } else {
        Some(delivery_notice(
            &config.addresses,
            trouble,
            &p.recipient,
            &p.out_message_id,
            detail,
            &p.raw,
            now,
        )?)
    };
    store.give_up(
        p.id,
        detail,
        trouble == Trouble::InDoubt && p.role == Role::Reply,
        notice.as_ref(),
        now,
    )
}

/// SHA-256 of the raw bytes, hex.
pub fn content_hash(raw: &[u8]) -> String {
    Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

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

    /// The watch loop without a server: the demo pen-test announcement (accepted: a reply to
    /// the customer, a forward to security, a summary for staff) in a Maildir on a temporary
    /// folder, a recording outbox, and a clock standing at `T`.
    mod without_a_server {
        use std::path::{Path, PathBuf};

        use crate::clock::FixedClock;
        use crate::sink::StubOutbox;
        use crate::sink::stub::Handed;
        use crate::source::{MaildirConfig, MaildirMailbox};

        use super::*;

        const CUSTOMER: &str = "lena.brunner@alpenshop-example.ch";
        const SECURITY: &str = "security@amazee.io";
        const STAFF: &str = "support-staff@amazee.io";

        struct Setup {
            _dir: tempfile::TempDir,
            maildir: PathBuf,
            store: PathBuf,
            clock: Arc<FixedClock>,
            outbox: StubOutbox,
        }

        fn t() -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
        }

        fn setup() -> Setup {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let dir = tempfile::tempdir().unwrap();
            let seed = dir.path().join("seed");
            std::fs::create_dir(&seed).unwrap();
            std::fs::copy(
                root.join("fixtures/demo/1-accept-pentest.eml"),
                seed.join("1-accept-pentest.eml"),
            )
            .unwrap();
            let maildir = dir.path().join("maildir");
            crate::source::maildir::seed_demo_maildir(&seed, &maildir, t()).unwrap();
            // Delivered at T: the Maildir's arrival time is the file's.
            for entry in std::fs::read_dir(maildir.join("new")).unwrap() {
                let file = std::fs::File::options()
                    .write(true)
                    .open(entry.unwrap().path())
                    .unwrap();
                file.set_modified(t().into()).unwrap();
            }
            Setup {
                store: dir.path().join("intake.sqlite3"),
                maildir,
                _dir: dir,
                clock: Arc::new(FixedClock::new(t())),
                outbox: StubOutbox::new(),
            }
        }

        impl Setup {
            /// `intake watch --once`, as a restart: a new mailbox and a newly opened store.
            async fn run_once(&self) -> Summary {
                self.run_once_with("").await
            }

            /// [`Setup::run_once`] with more configuration (`extra`, TOML sections).
            async fn run_once_with(&self, extra: &str) -> Summary {
                self.run_once_counting(extra, Arc::new(Metrics::default()))
                    .await
            }

            /// [`Setup::run_once_with`], counting into `metrics`.
            async fn run_once_counting(&self, extra: &str, metrics: Arc<Metrics>) -> Summary {
                let root = Path::new(env!("CARGO_MANIFEST_DIR"));
                let config = Config::from_str(
                    &format!(
                        "templates = {:?}\n[store]\npath = {:?}\n{extra}",
                        root.join("templates"),
                        self.store
                    ),
                    root,
                )
                .unwrap();
                let clock: Arc<dyn Clock> = self.clock.clone();
                let mailbox = MaildirMailbox::new(
                    &MaildirConfig {
                        path: self.maildir.clone(),
                        seed_from: None,
                    },
                    clock.clone(),
                );
                let edges = Edges {
                    mailbox: Box::new(mailbox),
                    outbox: Box::new(self.outbox.clone()),
                    clock,
                };
                let (_stop, shutdown) = Shutdown::manual();
                run_with_metrics(config, edges, metrics, true, shutdown)
                    .await
                    .unwrap()
            }
        }

        fn recipients(handed: &[Handed]) -> Vec<&str> {
            let mut to: Vec<&str> = handed
                .iter()
                .flat_map(|h| h.envelope.to.iter().map(String::as_str))
                .collect();
            to.sort_unstable();
            to
        }

        fn text(h: &Handed) -> String {
            String::from_utf8_lossy(&h.raw).into_owned()
        }

        #[tokio::test]
        async fn the_daily_digest_goes_out_once_per_slot_with_the_windows_ahead() {
            const DIGEST: &str = "[digest]\ntime = \"07:00\"\n";
            let s = setup();
            // The first start decides the demo notification (a window 40 days ahead) and
            // sends no digest for a slot that passed before it.
            let first = s.run_once_with(DIGEST).await;
            assert_eq!((first.decided, first.sent), (1, 3));
            // 39 days later, 07:30 in Zurich: the window starts tomorrow.
            s.clock
                .set(t() + chrono::Duration::days(39) - chrono::Duration::minutes(30));
            let day = s.run_once_with(DIGEST).await;
            assert_eq!((day.decided, day.sent, day.unsent), (0, 1, 0));
            let handed = s.outbox.handed();
            let digest = handed.last().unwrap();
            assert_eq!(digest.envelope.to, [SECURITY]);
            let raw = text(digest);
            assert!(
                raw.contains("Subject: [intake] Test windows 2027-01-04: 1 in the next 48 hours"),
                "{raw}"
            );
            assert!(raw.contains("shop.alpenshop-example.ch"), "{raw}");
            assert!(raw.contains("text/calendar"), "{raw}");
            // Once per slot: running again the same morning sends nothing.
            let again = s.run_once_with(DIGEST).await;
            assert_eq!((again.sent, again.unsent), (0, 0));
            // Four days later the window (two and a half days long) has ended: the next
            // digest, the only one after the days intake was down, says so.
            s.clock.advance(chrono::Duration::days(4));
            let later = s.run_once_with(DIGEST).await;
            assert_eq!(later.sent, 1);
            let raw = text(s.outbox.handed().last().unwrap());
            assert!(raw.contains("0 in the next 48 hours, 1 ended"), "{raw}");
        }

        #[tokio::test]
        async fn the_loop_counts_what_the_web_console_shows() {
            use crate::metrics::SendOutcome;
            let s = setup();
            s.outbox
                .fail_next(1, SendError::Transient("421 4.3.2 try again later".into()));
            let metrics = Arc::new(Metrics::default());
            // `--once` starts no console, even with [web] listen set.
            let web = "[web]\nlisten = \"127.0.0.1:1\"\n";
            let summary = s.run_once_counting(web, metrics.clone()).await;
            assert_eq!((summary.decided, summary.sent, summary.unsent), (1, 2, 1));
            assert_eq!(metrics.decisions(), [1, 0, 0, 0, 0]);
            assert_eq!(metrics.latency().count, 1);
            let sent: u64 = crate::metrics::ROLES
                .iter()
                .map(|r| metrics.outgoing(*r, SendOutcome::Sent))
                .sum();
            let deferred: u64 = crate::metrics::ROLES
                .iter()
                .map(|r| metrics.outgoing(*r, SendOutcome::Deferred))
                .sum();
            assert_eq!((sent, deferred), (2, 1));
            // The mailbox answered at the clock's time; the session is closed now.
            assert_eq!(metrics.mailbox_last_reached(), Some(t()));
            assert!(!metrics.mailbox_up());
        }

        #[tokio::test]
        async fn everything_goes_out_once_dated_by_the_clock() {
            let s = setup();
            let summary = s.run_once().await;
            assert_eq!((summary.decided, summary.sent, summary.unsent), (1, 3, 0));
            let handed = s.outbox.handed();
            assert_eq!(recipients(&handed), [CUSTOMER, SECURITY, STAFF]);
            for h in &handed {
                assert!(
                    text(h).contains("Date: Thu, 26 Nov 2026 08:00:00 +0000"),
                    "{}",
                    text(h)
                );
            }
            // The reply goes out with the null sender (RFC 3834), internal mail with ours.
            let reply = handed.iter().find(|h| h.envelope.to == [CUSTOMER]).unwrap();
            assert_eq!(reply.envelope.from, None);
            // A restart decides and sends nothing again.
            let again = s.run_once().await;
            assert_eq!((again.decided, again.sent, again.unsent), (0, 0, 0));
            assert_eq!(s.outbox.attempts(), 3);
        }

        #[tokio::test]
        async fn a_transient_send_failure_is_retried_when_due_and_not_before() {
            let s = setup();
            s.outbox
                .fail_next(3, SendError::Transient("421 4.3.2 try again later".into()));
            let first = s.run_once().await;
            assert_eq!((first.decided, first.sent, first.unsent), (1, 0, 3));
            assert!(s.outbox.handed().is_empty());
            assert_eq!(s.outbox.attempts(), 3);
            // Before the first retry delay has passed, nothing is tried again.
            let delay = retry_delay(0);
            s.clock.advance(delay / 2);
            let early = s.run_once().await;
            assert_eq!((early.decided, early.sent, early.unsent), (0, 0, 3));
            assert_eq!(s.outbox.attempts(), 3);
            // Once it has, all three go out, once.
            s.clock.advance(delay);
            let due = s.run_once().await;
            assert_eq!((due.decided, due.sent, due.unsent), (0, 3, 0));
            assert_eq!(recipients(&s.outbox.handed()), [CUSTOMER, SECURITY, STAFF]);
            s.clock.advance(Duration::days(1));
            s.run_once().await;
            assert_eq!(s.outbox.attempts(), 6);
        }

        #[tokio::test]
        async fn a_permanent_refusal_goes_to_staff_and_is_not_retried() {
            let s = setup();
            s.outbox.fail_next(
                3,
                SendError::Permanent("550 5.1.1 recipient unknown".into()),
            );
            let summary = s.run_once().await;
            // The reply and the forward are refused: staff get one notice for each, in the
            // same run. The refused staff summary gets none (it would go to staff again).
            assert_eq!((summary.decided, summary.sent, summary.unsent), (1, 2, 0));
            let handed = s.outbox.handed();
            assert_eq!(recipients(&handed), [STAFF, STAFF]);
            for h in &handed {
                assert!(
                    text(h).contains("550 5.1.1 recipient unknown"),
                    "{}",
                    text(h)
                );
            }
            assert!(handed.iter().any(|h| text(h).contains(CUSTOMER)));
            // Refused mail is never tried again.
            s.clock.advance(Duration::days(1));
            let later = s.run_once().await;
            assert_eq!((later.sent, later.unsent), (0, 0));
            assert_eq!(s.outbox.attempts(), 5);
        }

        #[tokio::test]
        async fn a_reply_in_doubt_goes_to_staff_and_is_never_resent() {
            let s = setup();
            s.outbox
                .fail_next(3, SendError::InDoubt("timeout after the content".into()));
            let first = s.run_once().await;
            // The customer reply may have arrived: staff are told instead of resending it.
            // Internal mail in doubt is simply sent again later.
            assert_eq!((first.decided, first.sent, first.unsent), (1, 1, 2));
            let handed = s.outbox.handed();
            assert_eq!(recipients(&handed), [STAFF]);
            assert!(text(&handed[0]).contains(CUSTOMER), "{}", text(&handed[0]));
            s.clock.advance(Duration::hours(1));
            let later = s.run_once().await;
            assert_eq!((later.sent, later.unsent), (2, 0));
            let handed = s.outbox.handed();
            assert_eq!(recipients(&handed), [SECURITY, STAFF, STAFF]);
            assert!(handed.iter().all(|h| h.envelope.to != [CUSTOMER]));
        }
    }
}
