//! The web console of `intake watch` as an operator meets it: the real binary on the demo
//! Maildir with `[web] listen` on a free port (the binary logs the address it bound), asked
//! over plain HTTP/1.1, then stopped with SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the child if the test ends early.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn get(addr: SocketAddr, path: &str, host: &str) -> Answer {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// The value of the sample written exactly as `series` (`name{labels}`).
fn sample(metrics: &str, series: &str) -> f64 {
    let values: Vec<f64> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .collect();
    assert_eq!(values.len(), 1, "{series} in\n{metrics}");
    values[0]
}

#[test]
fn watch_serves_health_readiness_and_metrics_and_refuses_other_hosts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\nseed_from = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n[web]\nlisten = \"127.0.0.1:0\"\n",
            root.join("templates"),
            dir.path().join("maildir"),
            root.join("fixtures/demo"),
            dir.path().join("outbox"),
            dir.path().join("intake.sqlite3"),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["watch", "--config", cfg.to_str().unwrap()])
        .current_dir(root)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut running = Running(child);
    // Every log line goes to the test through a channel; the reader keeps the pipe drained.
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let addr: SocketAddr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no 'web console listening' line:\n{}", log.join("\n")));
        log.push(line.clone());
        if line.contains("web console listening") {
            let at = line.split("addr=").nth(1).unwrap();
            break at.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    let host = addr.to_string();

    let health = get(addr, "/healthz", &host);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));

    // The demo's four messages are decided and their seven messages written.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let m = get(addr, "/metrics", "localhost");
        assert_eq!(m.status, 200, "{}", m.body);
        let decided: f64 = ["accept", "reject", "review", "ignore"]
            .iter()
            .map(|d| {
                sample(
                    &m.body,
                    &format!("intake_decisions_total{{decision=\"{d}\"}}"),
                )
            })
            .sum();
        let sent: f64 = ["reply", "security", "staff"]
            .iter()
            .map(|r| {
                sample(
                    &m.body,
                    &format!("intake_outgoing_total{{role=\"{r}\",result=\"sent\"}}"),
                )
            })
            .sum();
        if decided >= 4.0 && sent >= 7.0 {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "not decided in time:\n{}",
            m.body
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let m = metrics.body.as_str();
    for d in ["accept", "reject", "review", "ignore"] {
        assert_eq!(
            sample(m, &format!("intake_decisions_total{{decision=\"{d}\"}}")),
            1.0,
            "{d}"
        );
    }
    assert_eq!(
        sample(m, "intake_decisions_total{decision=\"skipped\"}"),
        0.0
    );
    assert_eq!(
        sample(m, "intake_outgoing_total{role=\"reply\",result=\"sent\"}"),
        2.0
    );
    assert_eq!(
        sample(
            m,
            "intake_outgoing_total{role=\"security\",result=\"sent\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(m, "intake_outgoing_total{role=\"staff\",result=\"sent\"}"),
        4.0
    );
    assert_eq!(sample(m, "intake_outbox_queue"), 0.0);
    assert_eq!(sample(m, "intake_mailbox_up"), 1.0);
    assert!(
        sample(m, "intake_mailbox_last_poll_age_seconds") < 60.0,
        "{m}"
    );
    assert_eq!(sample(m, "intake_decision_seconds_count"), 4.0);
    assert_eq!(
        sample(m, "intake_decision_seconds_bucket{le=\"+Inf\"}"),
        4.0
    );
    assert_eq!(sample(m, "intake_requests{state=\"accepted\"}"), 1.0);
    assert_eq!(
        sample(m, "intake_requests{state=\"rejected\"}")
            + sample(m, "intake_requests{state=\"incomplete\"}"),
        1.0
    );
    for line in m.lines() {
        assert!(
            line.starts_with("# HELP intake_")
                || line.starts_with("# TYPE intake_")
                || line.starts_with("intake_"),
            "{line}"
        );
    }

    let ready = get(addr, "/readyz", &format!("localhost:{}", addr.port()));
    assert_eq!(ready.status, 200, "{}", ready.body);
    for check in ["store: ok", "mailbox: ok", "outbox: ok"] {
        assert!(ready.body.contains(check), "{check}:\n{}", ready.body);
    }

    // Headers on every answer, also on a refusal.
    for path in ["/", "/healthz", "/readyz", "/metrics", "/static/intake.css"] {
        let a = get(addr, path, &host);
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(
            a.header("content-security-policy"),
            Some(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            "{path}"
        );
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    assert_eq!(
        get(addr, "/", &host).header("cache-control"),
        Some("no-store")
    );

    // DNS rebinding: a name that is not ours, pointed at this address, is refused.
    let rebound = get(
        addr,
        "/metrics",
        &format!("attacker.example:{}", addr.port()),
    );
    assert_eq!(rebound.status, 421);
    assert!(!rebound.body.contains("intake_"), "{}", rebound.body);
    assert_eq!(rebound.header("x-content-type-options"), Some("nosniff"));

    // SIGTERM: the loop stops, the console with it, and the exit is clean.
    let pid = running.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = running.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    log.extend(lines.try_iter());
    // The reader thread may still hold the last lines; the pipe closed with the process.
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        log.push(line);
    }
    assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
    assert!(
        log.iter().any(|l| l.contains("intake watch stopped")),
        "{}",
        log.join("\n")
    );
    assert!(TcpStream::connect(addr).is_err(), "the console stopped too");
}
