//! `/readyz`: can intake do its job right now? Three checks, each with a line of text: the
//! store takes writes, the mailbox answered within the last `ready_mailbox_minutes`, and the
//! outbox's server (or folder) can take mail. The checks sit behind [`Probes`], so the logic
//! is tested with fakes and the web server with the real ones ([`LiveProbes`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::sink::OutboxConfig;

/// A check's verdict: `Ok` with what was seen, `Err` with what is wrong.
pub type CheckResult = Result<String, String>;

/// How long one check may take before it counts as failed.
pub const CHECK_TIMEOUT: StdDuration = StdDuration::from_secs(5);

/// The three readiness checks.
pub trait Probes: Send + Sync {
    /// The store can be written.
    fn store(&self) -> BoxFuture<'_, CheckResult>;
    /// The mailbox was reached recently enough.
    fn mailbox(&self) -> CheckResult;
    /// Outgoing mail can be handed over.
    fn outbox(&self) -> BoxFuture<'_, CheckResult>;
}

/// Runs every check (the slow ones at once, each within [`CHECK_TIMEOUT`]) and says whether
/// all passed, with one line per check.
pub async fn readiness(p: &dyn Probes) -> (bool, String) {
    let (store, outbox) = tokio::join!(timed(p.store()), timed(p.outbox()));
    let checks = [
        ("store", store),
        ("mailbox", p.mailbox()),
        ("outbox", outbox),
    ];
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let mut text = String::from(if ready { "ready\n" } else { "not ready\n" });
    for (name, r) in &checks {
        let line = match r {
            Ok(what) => format!("{name}: ok: {what}\n"),
            Err(why) => format!("{name}: FAIL: {why}\n"),
        };
        text.push_str(&line);
    }
    (ready, text)
}

/// `f`, failed when it takes longer than [`CHECK_TIMEOUT`].
async fn timed(f: BoxFuture<'_, CheckResult>) -> CheckResult {
    tokio::time::timeout(CHECK_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer within {} seconds",
                CHECK_TIMEOUT.as_secs()
            ))
        })
}

/// The mailbox check: reached at most `minutes` before `now`.
pub fn mailbox_check(
    last: Option<DateTime<Utc>>,
    up: bool,
    now: DateTime<Utc>,
    minutes: u32,
) -> CheckResult {
    let Some(last) = last else {
        return Err("not reached since intake started".into());
    };
    let age = (now - last).num_seconds().max(0);
    let session = if up {
        "session open"
    } else {
        "no session open"
    };
    if age <= i64::from(minutes) * 60 {
        Ok(format!("reached {age} s ago ({session})"))
    } else {
        Err(format!(
            "last reached {age} s ago, more than {minutes} minutes ({session})"
        ))
    }
}

/// What the outbox check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxTarget {
    /// An SMTP server: reachable when the last send got an answer, else when it accepts a
    /// TCP connection.
    Smtp { host: String, port: u16 },
    /// The file outbox's folder: a file can be created in it.
    Folder(PathBuf),
    /// Nothing configured (the loop was given its outbox directly): nothing to check.
    None,
}

impl OutboxTarget {
    pub fn of(config: Option<&OutboxConfig>) -> OutboxTarget {
        match config {
            Some(OutboxConfig::Smtp(c)) => OutboxTarget::Smtp {
                host: c.host.clone(),
                port: c.effective_port(),
            },
            Some(OutboxConfig::File(c)) => OutboxTarget::Folder(c.path.clone()),
            None => OutboxTarget::None,
        }
    }
}

/// The real checks, on the running service.
pub struct LiveProbes {
    pub store_path: PathBuf,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub mailbox_minutes: u32,
    pub outbox: OutboxTarget,
}

impl Probes for LiveProbes {
    fn store(&self) -> BoxFuture<'_, CheckResult> {
        let path = self.store_path.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                crate::store::probe_writable(&path, CHECK_TIMEOUT - StdDuration::from_secs(1))
            })
            .await
            .map_err(|e| format!("the probe stopped: {e}"))?
            .map(|()| "writable".to_string())
            .map_err(|e| format!("{e:#}"))
        })
    }

    fn mailbox(&self) -> CheckResult {
        mailbox_check(
            self.metrics.mailbox_last_reached(),
            self.metrics.mailbox_up(),
            self.clock.now(),
            self.mailbox_minutes,
        )
    }

    fn outbox(&self) -> BoxFuture<'_, CheckResult> {
        Box::pin(async move {
            match &self.outbox {
                OutboxTarget::None => Ok("not configured here".into()),
                OutboxTarget::Folder(dir) => {
                    let dir = dir.clone();
                    tokio::task::spawn_blocking(move || folder_writable(&dir))
                        .await
                        .map_err(|e| format!("the probe stopped: {e}"))?
                }
                OutboxTarget::Smtp { host, port } => {
                    let health = self.metrics.outbox_health();
                    if health.answered_last()
                        && let Some(at) = health.last_answer
                    {
                        return Ok(format!("{host}:{port} answered the last send ({at})"));
                    }
                    let trouble = health
                        .last_trouble
                        .map(|(at, why)| format!("; the last send failed at {at}: {why}"))
                        .unwrap_or_default();
                    match tokio::time::timeout(
                        CHECK_TIMEOUT - StdDuration::from_secs(1),
                        tokio::net::TcpStream::connect((host.as_str(), *port)),
                    )
                    .await
                    {
                        Ok(Ok(_)) => Ok(format!("{host}:{port} accepts connections{trouble}")),
                        Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}{trouble}")),
                        Err(_) => Err(format!("{host}:{port} does not answer{trouble}")),
                    }
                }
            }
        })
    }
}

/// Creates and removes a small file in `dir`.
fn folder_writable(dir: &std::path::Path) -> CheckResult {
    static N: AtomicU64 = AtomicU64::new(0);
    let probe = dir.join(format!(
        ".intake-ready-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    std::fs::remove_file(&probe).map_err(|e| format!("cannot remove {}: {e}", probe.display()))?;
    Ok(format!("{} is writable", dir.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use chrono::{Duration, TimeZone as _};

    use super::*;

    /// Checks that say what they were told to.
    pub(crate) struct Fake {
        pub store: CheckResult,
        pub mailbox: CheckResult,
        pub outbox: CheckResult,
        pub outbox_hangs: bool,
    }

    impl Probes for Fake {
        fn store(&self) -> BoxFuture<'_, CheckResult> {
            Box::pin(async move { self.store.clone() })
        }
        fn mailbox(&self) -> CheckResult {
            self.mailbox.clone()
        }
        fn outbox(&self) -> BoxFuture<'_, CheckResult> {
            Box::pin(async move {
                if self.outbox_hangs {
                    std::future::pending::<()>().await;
                }
                self.outbox.clone()
            })
        }
    }

    fn fake() -> Fake {
        Fake {
            store: Ok("writable".into()),
            mailbox: Ok("reached 3 s ago".into()),
            outbox: Ok("fine".into()),
            outbox_hangs: false,
        }
    }

    #[tokio::test]
    async fn ready_when_every_check_passes_with_a_line_each() {
        let (ready, text) = readiness(&fake()).await;
        assert!(ready);
        assert_eq!(
            text,
            "ready\nstore: ok: writable\nmailbox: ok: reached 3 s ago\noutbox: ok: fine\n"
        );
    }

    #[tokio::test]
    async fn any_failing_check_makes_it_not_ready_and_says_which() {
        for which in 0..3 {
            let mut f = fake();
            let err = Err("broken".to_string());
            match which {
                0 => f.store = err,
                1 => f.mailbox = err,
                _ => f.outbox = err,
            }
            let (ready, text) = readiness(&f).await;
            assert!(!ready, "{text}");
            assert!(text.starts_with("not ready\n"), "{text}");
            let name = ["store", "mailbox", "outbox"][which];
            assert!(text.contains(&format!("{name}: FAIL: broken")), "{text}");
            assert_eq!(text.matches(": ok: ").count(), 2, "{text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_hangs_fails_after_the_timeout() {
        let mut f = fake();
        f.outbox_hangs = true;
        let (ready, text) = readiness(&f).await;
        assert!(!ready);
        assert!(
            text.contains("outbox: FAIL: no answer within 5 seconds"),
            "{text}"
        );
    }

    #[test]
    fn the_mailbox_must_have_answered_within_the_minutes() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        assert!(mailbox_check(None, false, now, 10).is_err());
        let ok = mailbox_check(Some(now - Duration::minutes(10)), true, now, 10).unwrap();
        assert_eq!(ok, "reached 600 s ago (session open)");
        let err = mailbox_check(Some(now - Duration::seconds(601)), false, now, 10).unwrap_err();
        assert!(err.contains("601 s ago, more than 10 minutes"), "{err}");
        // A clock that stepped back does not make the age negative.
        assert!(mailbox_check(Some(now + Duration::seconds(5)), true, now, 1).is_ok());
    }

    #[tokio::test]
    async fn the_live_outbox_check_trusts_an_answer_and_probes_otherwise() {
        use crate::model::Role;
        use crate::sink::SendError;
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        // A port that was free a moment ago: nobody listens there.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let metrics = Arc::new(Metrics::default());
        let dir = tempfile::tempdir().unwrap();
        let probes = |outbox| LiveProbes {
            store_path: dir.path().join("s.db"),
            metrics: metrics.clone(),
            clock: Arc::new(crate::clock::FixedClock::new(now)),
            mailbox_minutes: 10,
            outbox,
        };
        let smtp = probes(OutboxTarget::Smtp {
            host: "127.0.0.1".into(),
            port: closed,
        });
        let err = smtp.outbox().await.unwrap_err();
        assert!(err.contains("cannot connect"), "{err}");
        metrics.record_send(Role::Reply, &Ok(()), now);
        assert!(smtp.outbox().await.unwrap().contains("answered"));
        metrics.record_send(
            Role::Staff,
            &Err(SendError::Transient("connection refused".into())),
            now + Duration::seconds(1),
        );
        let err = smtp.outbox().await.unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
        // Someone listens: reachable again, even before the next send.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = probes(OutboxTarget::Smtp {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
        });
        assert!(open.outbox().await.unwrap().contains("accepts connections"));

        let folder = probes(OutboxTarget::Folder(dir.path().to_path_buf()));
        assert!(folder.outbox().await.is_ok());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no probe file left"
        );
        let gone = probes(OutboxTarget::Folder(dir.path().join("missing")));
        assert!(gone.outbox().await.unwrap_err().contains("cannot create"));
        // No store file: the store check fails (and creates none).
        assert!(folder.store().await.is_err());
        assert!(!dir.path().join("s.db").exists());
    }
}
