//! `/metrics`: the Prometheus text exposition format (version 0.0.4), written by hand. The
//! counters come from the watch loop's [`Metrics`]; the queue and the requests from the
//! store, read on the web server's own read-only connection.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::conversation::State;
use crate::metrics::{DECISIONS, Metrics, ROLES, SendOutcome};

/// The `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request states, in the order they are shown.
const STATES: [State; 5] = [
    State::Incomplete,
    State::Rejected,
    State::Accepted,
    State::Review,
    State::Cancelled,
];

/// What the store says, when it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub outbox_queue: u64,
    /// `(state, requests)`; states not listed have none.
    pub requests: Vec<(String, u64)>,
}

/// The exposition text. Without `store` (it could not be read) the store's metrics are left
/// out rather than shown as zero.
pub fn render(m: &Metrics, store: Option<&StoreCounts>, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(4096);
    head(
        &mut out,
        "intake_decisions_total",
        "counter",
        "Messages decided since intake started, by decision.",
    );
    for (d, n) in DECISIONS.iter().zip(m.decisions()) {
        let _ = writeln!(out, "intake_decisions_total{{decision=\"{d}\"}} {n}");
    }

    head(
        &mut out,
        "intake_outgoing_total",
        "counter",
        "Attempts to send outgoing mail since intake started, by role and result (deferred: a temporary failure, tried again later).",
    );
    for role in ROLES {
        for outcome in SendOutcome::ALL {
            let _ = writeln!(
                out,
                "intake_outgoing_total{{role=\"{}\",result=\"{}\"}} {}",
                role.as_str(),
                outcome.as_str(),
                m.outgoing(role, outcome)
            );
        }
    }

    if let Some(s) = store {
        head(
            &mut out,
            "intake_outbox_queue",
            "gauge",
            "Outgoing messages neither sent nor given up.",
        );
        let _ = writeln!(out, "intake_outbox_queue {}", s.outbox_queue);
    }

    head(
        &mut out,
        "intake_mailbox_up",
        "gauge",
        "1 while a mailbox session is open, else 0.",
    );
    let _ = writeln!(out, "intake_mailbox_up {}", u8::from(m.mailbox_up()));

    head(
        &mut out,
        "intake_mailbox_last_poll_age_seconds",
        "gauge",
        "Seconds since the mailbox last answered (+Inf: not since intake started).",
    );
    let age = match m.mailbox_last_reached() {
        Some(at) => float(((now - at).num_milliseconds().max(0) as f64) / 1000.0),
        None => "+Inf".to_string(),
    };
    let _ = writeln!(out, "intake_mailbox_last_poll_age_seconds {age}");

    head(
        &mut out,
        "intake_decision_seconds",
        "histogram",
        "Time to decide one message and record it with its replies.",
    );
    let h = m.latency();
    for (le, n) in &h.cumulative {
        let _ = writeln!(
            out,
            "intake_decision_seconds_bucket{{le=\"{}\"}} {n}",
            float(*le)
        );
    }
    let _ = writeln!(
        out,
        "intake_decision_seconds_bucket{{le=\"+Inf\"}} {}",
        h.count
    );
    let _ = writeln!(out, "intake_decision_seconds_sum {}", float(h.sum));
    let _ = writeln!(out, "intake_decision_seconds_count {}", h.count);

    if let Some(s) = store {
        head(
            &mut out,
            "intake_requests",
            "gauge",
            "Requests in the store, by state.",
        );
        for state in STATES {
            let n = s
                .requests
                .iter()
                .find(|(name, _)| name == state.as_str())
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "intake_requests{{state=\"{}\"}} {n}", state.as_str());
        }
    }
    out
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A float as Prometheus reads it (Go's `ParseFloat`): Rust's shortest round-trip form.
fn float(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use chrono::TimeZone as _;

    use super::*;
    use crate::model::Role;
    use crate::sink::SendError;

    /// One sample: name, labels, value.
    pub(crate) type Sample = (String, BTreeMap<String, String>, f64);

    /// Parses exposition text back, checking every line: `# HELP name text`,
    /// `# TYPE name kind` (before the family's samples, once), or `name{labels} value` with
    /// a family named by a TYPE line.
    pub(crate) fn parse(text: &str) -> Vec<Sample> {
        assert!(text.ends_with('\n'), "the text ends with a line feed");
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        let mut helped = std::collections::BTreeSet::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap();
                assert!(is_name(name), "{line}");
                assert!(!help.is_empty(), "{line}");
                assert!(helped.insert(name.to_string()), "HELP twice: {line}");
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(is_name(name), "{line}");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "TYPE twice: {line}"
                );
                continue;
            }
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
            };
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                    let mut labels = BTreeMap::new();
                    for pair in body.split(',') {
                        let (k, v) = pair.split_once('=').unwrap();
                        assert!(is_name(k), "{line}");
                        let v = v
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .unwrap_or_else(|| panic!("label value quoted: {line}"));
                        assert!(!v.contains(['"', '\\', '\n']), "{line}");
                        assert!(labels.insert(k.to_string(), v.to_string()).is_none());
                    }
                    (name, labels)
                }
            };
            assert!(is_name(name), "{line}");
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "sample before its TYPE: {line}");
            samples.push((name.to_string(), labels, value));
        }
        samples
    }

    fn is_name(s: &str) -> bool {
        let mut b = s.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    }

    /// The value of the one sample `name` with `labels`.
    pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found: Vec<f64> = samples
            .iter()
            .filter(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}");
        found[0]
    }

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    #[test]
    fn every_line_parses_back_and_says_what_happened() {
        let m = Metrics::default();
        m.record_decision("accept", Duration::from_micros(200));
        m.record_decision("review", Duration::from_millis(30));
        m.record_decision("review", Duration::from_secs(9));
        m.record_send(Role::Reply, &Ok(()), t());
        m.record_send(Role::Security, &Err(SendError::InDoubt("x".into())), t());
        m.mailbox_reached(t() - chrono::Duration::milliseconds(2500));
        let counts = StoreCounts {
            outbox_queue: 3,
            requests: vec![("accepted".into(), 2), ("review".into(), 1)],
        };
        let text = render(&m, Some(&counts), t());
        let s = parse(&text);
        let decision = |d| value(&s, "intake_decisions_total", &[("decision", d)]);
        assert_eq!(
            ["accept", "reject", "review", "ignore", "skipped"].map(decision),
            [1.0, 0.0, 2.0, 0.0, 0.0]
        );
        let sent = |role, result| {
            value(
                &s,
                "intake_outgoing_total",
                &[("role", role), ("result", result)],
            )
        };
        assert_eq!(sent("reply", "sent"), 1.0);
        assert_eq!(sent("security", "in_doubt"), 1.0);
        assert_eq!(sent("staff", "failed"), 0.0);
        assert_eq!(
            s.iter().filter(|x| x.0 == "intake_outgoing_total").count(),
            12
        );
        assert_eq!(value(&s, "intake_outbox_queue", &[]), 3.0);
        assert_eq!(value(&s, "intake_mailbox_up", &[]), 1.0);
        assert_eq!(value(&s, "intake_mailbox_last_poll_age_seconds", &[]), 2.5);
        assert_eq!(value(&s, "intake_requests", &[("state", "accepted")]), 2.0);
        assert_eq!(
            value(&s, "intake_requests", &[("state", "incomplete")]),
            0.0
        );
        // The histogram: cumulative buckets ending in +Inf, which equals the count.
        let buckets: Vec<f64> = s
            .iter()
            .filter(|x| x.0 == "intake_decision_seconds_bucket")
            .map(|x| x.2)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        assert_eq!(
            value(&s, "intake_decision_seconds_bucket", &[("le", "0.0005")]),
            1.0
        );
        assert_eq!(
            value(&s, "intake_decision_seconds_bucket", &[("le", "0.05")]),
            2.0
        );
        assert_eq!(
            value(&s, "intake_decision_seconds_bucket", &[("le", "2.5")]),
            2.0
        );
        assert_eq!(
            value(&s, "intake_decision_seconds_bucket", &[("le", "+Inf")]),
            3.0
        );
        assert_eq!(value(&s, "intake_decision_seconds_count", &[]), 3.0);
        let sum = value(&s, "intake_decision_seconds_sum", &[]);
        assert!((sum - 9.0302).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn before_anything_happened_and_without_the_store() {
        let text = render(&Metrics::default(), None, t());
        let s = parse(&text);
        assert_eq!(value(&s, "intake_mailbox_up", &[]), 0.0);
        assert_eq!(
            value(&s, "intake_mailbox_last_poll_age_seconds", &[]),
            f64::INFINITY
        );
        assert_eq!(value(&s, "intake_decision_seconds_count", &[]), 0.0);
        assert!(!text.contains("intake_outbox_queue"), "{text}");
        assert!(!text.contains("intake_requests"), "{text}");
    }
}
