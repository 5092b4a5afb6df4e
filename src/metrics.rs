//! What the watch loop tells the web console: decisions, sends, the mailbox connection and
//! decision latencies, counted since the process started. One [`Metrics`] is shared (in an
//! `Arc`) between the loop, which writes it, and the web server, which reads it; everything
//! is an atomic or a short-held `Mutex`, so neither ever waits on the other.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Role;
use crate::sink::SendError;

/// The decisions counted, in the order they are shown.
pub const DECISIONS: [&str; 5] = ["accept", "reject", "review", "ignore", "skipped"];

/// The roles of outgoing mail, in the order they are shown.
pub const ROLES: [Role; 3] = [Role::Reply, Role::Security, Role::Staff];

/// What became of one attempt to send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted it.
    Sent,
    /// Refused for good (5xx, an unusable address): staff are told.
    Failed,
    /// The content went out but the answer never came back.
    InDoubt,
    /// A temporary failure (4xx, no connection): tried again later.
    Deferred,
}

impl SendOutcome {
    /// Every outcome, in the order they are shown.
    pub const ALL: [SendOutcome; 4] = [
        SendOutcome::Sent,
        SendOutcome::Failed,
        SendOutcome::InDoubt,
        SendOutcome::Deferred,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::Failed => "failed",
            SendOutcome::InDoubt => "in_doubt",
            SendOutcome::Deferred => "deferred",
        }
    }

    /// The outcome of a send's result.
    pub fn of(result: &Result<(), SendError>) -> SendOutcome {
        match result {
            Ok(()) => SendOutcome::Sent,
            Err(SendError::Permanent(_)) => SendOutcome::Failed,
            Err(SendError::InDoubt(_)) => SendOutcome::InDoubt,
            Err(SendError::Transient(_)) => SendOutcome::Deferred,
        }
    }
}

/// Upper bounds of the decision latency histogram, in seconds (a typical notification takes
/// well under a millisecond; the CPU budget stops at two seconds by default).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The last thing the outbox's server said, as far as sending told: the web console's
/// readiness check believes a recent success and probes otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxHealth {
    /// When a message was last accepted or refused by the server (either proves it reachable).
    pub last_answer: Option<DateTime<Utc>>,
    /// When the last send failed without a definite answer, and why.
    pub last_trouble: Option<(DateTime<Utc>, String)>,
}

impl OutboxHealth {
    /// True when the latest news from the server is an answer (nothing since went wrong).
    pub fn answered_last(&self) -> bool {
        match (&self.last_answer, &self.last_trouble) {
            (Some(a), Some((t, _))) => a >= t,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Counters and gauges the watch loop updates and the web console reads.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [AtomicU64; DECISIONS.len()],
    outgoing: [[AtomicU64; SendOutcome::ALL.len()]; ROLES.len()],
    mailbox_up: AtomicBool,
    mailbox_reached: Mutex<Option<DateTime<Utc>>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    /// Sum of all latencies, in nanoseconds.
    latency_sum_ns: AtomicU64,
    outbox: Mutex<OutboxHealth>,
}

/// A consistent-enough copy of the latency histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Cumulative counts per bucket of [`LATENCY_BUCKETS`] (`le`).
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    /// Seconds.
    pub sum: f64,
}

impl Metrics {
    /// Counts a decision made now (`accept`, `reject`, `review`, `ignore` or `skipped`)
    /// and how long it took.
    pub fn record_decision(&self, decision: &str, took: Duration) {
        if let Some(i) = DECISIONS.iter().position(|d| *d == decision) {
            self.decisions[i].fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Counts one send attempt of a message in `role`, at `now`.
    pub fn record_send(&self, role: Role, result: &Result<(), SendError>, now: DateTime<Utc>) {
        let outcome = SendOutcome::of(result);
        let r = ROLES.iter().position(|x| *x == role).unwrap_or(0);
        let o = SendOutcome::ALL
            .iter()
            .position(|x| *x == outcome)
            .unwrap_or(0);
        self.outgoing[r][o].fetch_add(1, Ordering::Relaxed);
        let mut h = lock(&self.outbox);
        match result {
            Ok(()) | Err(SendError::Permanent(_)) => h.last_answer = Some(now),
            Err(SendError::Transient(e) | SendError::InDoubt(e)) => {
                h.last_trouble = Some((now, e.clone()));
            }
        }
    }

    /// The mailbox answered at `now` (a session opened, a fetch, a wait that ended by itself).
    pub fn mailbox_reached(&self, now: DateTime<Utc>) {
        self.mailbox_up.store(true, Ordering::Relaxed);
        *lock(&self.mailbox_reached) = Some(now);
    }

    /// The mailbox session ended (connection lost, or closed at shutdown).
    pub fn mailbox_down(&self) {
        self.mailbox_up.store(false, Ordering::Relaxed);
    }

    /// Decisions made, per entry of [`DECISIONS`].
    pub fn decisions(&self) -> [u64; DECISIONS.len()] {
        std::array::from_fn(|i| self.decisions[i].load(Ordering::Relaxed))
    }

    /// Send attempts of `role` that ended in `outcome`.
    pub fn outgoing(&self, role: Role, outcome: SendOutcome) -> u64 {
        let r = ROLES.iter().position(|x| *x == role).unwrap_or(0);
        let o = SendOutcome::ALL
            .iter()
            .position(|x| *x == outcome)
            .unwrap_or(0);
        self.outgoing[r][o].load(Ordering::Relaxed)
    }

    /// Whether a mailbox session is open.
    pub fn mailbox_up(&self) -> bool {
        self.mailbox_up.load(Ordering::Relaxed)
    }

    /// When the mailbox last answered, if ever.
    pub fn mailbox_last_reached(&self) -> Option<DateTime<Utc>> {
        *lock(&self.mailbox_reached)
    }

    /// What sending last learned about the outbox's server.
    pub fn outbox_health(&self) -> OutboxHealth {
        lock(&self.outbox).clone()
    }

    /// The decision latency histogram.
    pub fn latency(&self) -> Histogram {
        let mut total = 0;
        let cumulative = LATENCY_BUCKETS
            .iter()
            .zip(&self.latency_buckets)
            .map(|(le, n)| {
                total += n.load(Ordering::Relaxed);
                (*le, total)
            })
            .collect();
        // Read after the buckets: `count` is never below the last bucket (+Inf ≥ every le).
        let count = self.latency_count.load(Ordering::Relaxed).max(total);
        Histogram {
            cumulative,
            count,
            sum: self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// Locks `m`, also after a panic elsewhere (the values stay meaningful).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn decisions_sends_and_latencies_are_counted() {
        let m = Metrics::default();
        m.record_decision("accept", Duration::from_micros(300));
        m.record_decision("accept", Duration::from_millis(3));
        m.record_decision("skipped", Duration::from_secs(10));
        m.record_decision("nonsense", Duration::ZERO);
        assert_eq!(m.decisions(), [2, 0, 0, 0, 1]);
        let h = m.latency();
        assert_eq!(h.count, 4);
        assert_eq!(h.cumulative[0], (0.0005, 2));
        assert_eq!(h.cumulative[3], (0.005, 3));
        // The ten seconds are beyond the last bucket: counted only in +Inf (the count).
        assert_eq!(h.cumulative.last().unwrap().1, 3);
        assert!((h.sum - 10.0033).abs() < 1e-9, "{}", h.sum);

        let t = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        m.record_send(Role::Reply, &Ok(()), t);
        m.record_send(
            Role::Staff,
            &Err(SendError::Transient("421".into())),
            t + chrono::Duration::seconds(1),
        );
        assert_eq!(m.outgoing(Role::Reply, SendOutcome::Sent), 1);
        assert_eq!(m.outgoing(Role::Staff, SendOutcome::Deferred), 1);
        assert_eq!(m.outgoing(Role::Staff, SendOutcome::Sent), 0);
        assert!(!m.outbox_health().answered_last());
        m.record_send(
            Role::Security,
            &Err(SendError::Permanent("550".into())),
            t + chrono::Duration::seconds(2),
        );
        assert!(m.outbox_health().answered_last());
    }

    #[test]
    fn the_mailbox_is_up_until_it_goes_down_and_remembers_when_it_answered() {
        let m = Metrics::default();
        assert!(!m.mailbox_up());
        assert_eq!(m.mailbox_last_reached(), None);
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        m.mailbox_reached(t);
        assert!(m.mailbox_up());
        m.mailbox_down();
        assert!(!m.mailbox_up());
        assert_eq!(m.mailbox_last_reached(), Some(t));
    }
}
