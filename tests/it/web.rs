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

/// Sends `request` as written and reads the whole answer.
fn exchange(addr: SocketAddr, request: &str) -> Answer {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get_with(addr: SocketAddr, path: &str, cookie: &str) -> Answer {
    exchange(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn post(addr: SocketAddr, path: &str, cookie: &str, body: &str) -> Answer {
    exchange(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

impl Answer {
    /// Every `Set-Cookie` header.
    fn set_cookies(&self) -> Vec<&str> {
        self.head
            .split("\r\n")
            .skip(1)
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("set-cookie").then(|| v.trim())
            })
            .collect()
    }

    /// `name=value` of the cookie `name` set by this answer.
    fn cookie(&self, name: &str) -> String {
        let c = self
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie in\n{}", self.head));
        c.split(';').next().unwrap().to_string()
    }

    /// The value of the hidden `csrf` field of the page's (first) form.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

const HOSTILE: &str = "Return-Path: <bounce@mailer.hostile-example.org>
Delivered-To: support@amazee.io
Authentication-Results: mx.amazee.io; dkim=none; spf=fail smtp.mailfrom=mailer.hostile-example.org; dmarc=fail (p=reject) header.from=hostile-example.org
From: \"<b>Evil</b>\" <sec@hostile-example.org>
To: support@amazee.io
Subject: Pen test <script>alert(1)</script> of app.hostile-example.org
Date: {{now}}
Message-ID: <demo-hostile-5@hostile-example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi,

we will run a penetration test against app.hostile-example.org.
<script>alert(1)</script> <a href=\"javascript:alert(2)\">click</a>

Scope: external pen test of the web application
Contact: Eve Example, sec@hostile-example.org
Source IPs: 45.90.12.9
Bandwidth: 10 Mbit/s, 50 requests per second
Window: {{date+30}} 08:00 - {{date+30}} 18:00
";

#[test]
fn the_console_signs_in_lists_requests_shows_one_escaped_and_limits_logins() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    // The demo's messages and one with a hostile subject and body.
    let seed = dir.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    for e in std::fs::read_dir(root.join("fixtures/demo")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, seed.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(seed.join("5-hostile.eml"), HOSTILE).unwrap();
    let store = dir.path().join("intake.sqlite3");
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\nseed_from = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n[web]\nlisten = \"127.0.0.1:0\"\n",
            root.join("templates"),
            dir.path().join("maildir"),
            seed,
            dir.path().join("outbox"),
            store,
        ),
    )
    .unwrap();
    let password = "correct horse battery";
    let mut add = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["user", "add", "alice", "--role", "staff", "--config"])
        .arg(&cfg)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

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
    let _running = Running(child);
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr: SocketAddr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("no 'web console listening' line");
        if line.contains("web console listening") {
            let at = line.split("addr=").nth(1).unwrap();
            break at.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // All five messages decided.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = get(addr, "/metrics", "localhost");
        let decided: f64 = ["accept", "reject", "review", "ignore"]
            .iter()
            .map(|d| {
                sample(
                    &m.body,
                    &format!("intake_decisions_total{{decision=\"{d}\"}}"),
                )
            })
            .sum();
        if decided >= 5.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not decided in time:\n{}",
            m.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Not signed in: to the login page.
    let anon = get(addr, "/requests", "localhost");
    assert_eq!(anon.status, 303);
    assert_eq!(anon.header("location"), Some("/login"));
    assert_eq!(
        get_with(addr, "/requests/INT-AAAAAAAAAA", "intake_session=0").status,
        303
    );

    let form = get(addr, "/login", "localhost");
    assert_eq!(form.status, 200);
    let login_cookie = form.cookie("intake_login");
    let csrf = form.csrf();
    let set = form.set_cookies().join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let creds = format!("name=alice&password={}", password.replace(' ', "+"));

    // No CSRF value, a wrong one, or no cookie: 403.
    assert_eq!(post(addr, "/login", &login_cookie, &creds).status, 403);
    let wrong = format!("{creds}&csrf={}", "0".repeat(64));
    assert_eq!(post(addr, "/login", &login_cookie, &wrong).status, 403);
    assert_eq!(
        post(addr, "/login", "", &format!("{creds}&csrf={csrf}")).status,
        403
    );

    // The right password: a session cookie, HttpOnly and SameSite=Strict (no Secure on
    // plain HTTP by default). Two sessions: one is expired below.
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let ok = post(
            addr,
            "/login",
            &login_cookie,
            &format!("{creds}&csrf={csrf}"),
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.header("location"), Some("/requests"));
        let c = ok
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("intake_session="))
            .unwrap()
            .to_string();
        assert!(
            c.contains("; HttpOnly") && c.contains("; SameSite=Strict"),
            "{c}"
        );
        assert!(c.contains("; Path=/; Max-Age=28800"), "{c}");
        assert!(!c.contains("Secure"), "{c}");
        sessions.push(ok.cookie("intake_session"));
    }
    let (a, b) = (&sessions[0], &sessions[1]);

    // The list: the demo's requests and the hostile one, review first, escaped.
    let list = get_with(addr, "/requests", a);
    assert_eq!(
        list.status,
        200,
        "{}",
        lines.try_iter().collect::<Vec<_>>().join("\n")
    );
    let states: Vec<&str> = list
        .body
        .split("<tr class=\"state-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(states.len(), 4, "{}", list.body);
    assert_eq!(&states[..2], ["review", "review"], "{}", list.body);
    assert!(states.contains(&"accepted"), "{states:?}");
    assert!(list.body.contains("alpenshop-example.ch"));
    assert!(!list.body.contains("<script"), "{}", list.body);
    let review = get_with(addr, "/requests?filter=accepted", a);
    assert_eq!(review.body.matches("<tr class=\"state-").count(), 1);

    // Search finds the hostile request; its page shows the mail as text.
    let found = get_with(addr, "/requests?q=HOSTILE-example", a);
    let at = found.body.find("href=\"/requests/INT-").unwrap() + 16;
    let reference = &found.body[at..at + 14];
    assert_eq!(
        found.body.matches("<tr class=\"state-").count(),
        1,
        "{}",
        found.body
    );
    let page = get_with(addr, &format!("/requests/{reference}"), a);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(reference));
    assert!(page.body.contains("app.hostile-example.org"));
    assert!(
        page.body.contains("Messages sent") && page.body.contains("support-staff@"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        page.body
    );
    for raw in ["<script", "<b>Evil", "<a href=\"javascript"] {
        assert!(!page.body.contains(raw), "{raw} in\n{}", page.body);
    }
    assert_eq!(get_with(addr, "/requests/INT-NOSUCHREF0", a).status, 404);
    // A staff user is not an admin.
    assert_eq!(get_with(addr, "/admin", a).status, 403);

    // An expired session is refused (and deleted).
    {
        let db = rusqlite::Connection::open(&store).unwrap();
        let token = b.trim_start_matches("intake_session=");
        let hash: String = {
            use sha2::Digest as _;
            sha2::Sha256::digest(token.as_bytes())
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        };
        let n = db
            .execute(
                "UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE token_hash = ?1",
                [&hash],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let expired = get_with(addr, "/requests", b);
    assert_eq!(
        (expired.status, expired.header("location")),
        (303, Some("/login"))
    );

    // Logout needs the session's CSRF token.
    assert_eq!(post(addr, "/logout", a, "").status, 403);
    assert_eq!(get_with(addr, "/requests", a).status, 200);
    let out = post(addr, "/logout", a, &format!("csrf={}", list.csrf()));
    assert_eq!(out.status, 303);
    assert!(out.cookie("intake_session") == "intake_session=");
    assert_eq!(get_with(addr, "/requests", a).status, 303);

    // Five wrong passwords are refused; the sixth attempt is not even tried.
    let bad = format!("name=alice&password=wrong+password+1&csrf={csrf}");
    for i in 0..5 {
        let r = post(addr, "/login", &login_cookie, &bad);
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
        assert!(r.body.contains("Wrong name or password."));
        assert!(!r.head.contains("intake_session="), "{}", r.head);
    }
    let limited = post(
        addr,
        "/login",
        &login_cookie,
        &format!("{creds}&csrf={csrf}"),
    );
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited.body.contains("too many failed logins"),
        "{}",
        limited.body
    );

    // Logins are logged: who tried, what happened.
    let db = rusqlite::Connection::open(&store).unwrap();
    let kinds: Vec<(String, String)> = db
        .prepare("SELECT actor, kind FROM actions WHERE kind LIKE 'log%' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let count = |k: &str| {
        kinds
            .iter()
            .filter(|(a, kind)| a == "alice" && kind == k)
            .count()
    };
    assert_eq!(
        (count("login"), count("logout"), count("login_failed")),
        (2, 1, 5),
        "{kinds:?}"
    );
}

/// Starts `intake watch` on `cfg`; returns it, the console's address and its log lines.
fn start_watch(cfg: &Path) -> (Running, SocketAddr, mpsc::Receiver<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
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
    let running = Running(child);
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let addr: SocketAddr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("no 'web console listening' line");
        if line.contains("web console listening") {
            let at = line.split("addr=").nth(1).unwrap();
            break at.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    (running, addr, lines)
}

/// Adds user `name` with `role` and `password` through the CLI.
fn add_user(cfg: &Path, name: &str, role: &str, password: &str) {
    let mut add = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["user", "add", name, "--role", role, "--config"])
        .arg(cfg)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs `name` in; returns the session cookie.
fn sign_in(addr: SocketAddr, name: &str, password: &str) -> String {
    let form = get(addr, "/login", "localhost");
    let ok = post(
        addr,
        "/login",
        &form.cookie("intake_login"),
        &format!(
            "name={name}&password={}&csrf={}",
            password.replace(' ', "+"),
            form.csrf()
        ),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    ok.cookie("intake_session")
}

/// The value of the first hidden `name` field after `after` in `html`.
fn hidden(html: &str, after: &str, name: &str) -> String {
    let from = html
        .find(after)
        .unwrap_or_else(|| panic!("no {after} in\n{html}"));
    let pat = format!("name=\"{name}\" value=\"");
    let at = html[from..].find(&pat).unwrap() + from + pat.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The messages in the file outbox, by Message-ID.
fn outbox_ids(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = rd
        .filter_map(|e| {
            let raw = std::fs::read_to_string(e.ok()?.path()).ok()?;
            raw.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .map(|v| v.trim().trim_matches(['<', '>']).to_string())
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn staff_act_in_the_console_guarded_recorded_and_sent_once_across_a_kill() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    std::fs::write(seed.join("5-hostile.eml"), HOSTILE).unwrap();
    let outbox = dir.path().join("outbox");
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\nseed_from = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n[web]\nlisten = \"127.0.0.1:0\"\n",
            root.join("templates"),
            dir.path().join("maildir"),
            seed,
            outbox,
            dir.path().join("intake.sqlite3"),
        ),
    )
    .unwrap();
    add_user(&cfg, "alice", "staff", "correct horse battery");
    add_user(&cfg, "sam", "security", "security team only");
    let (running, addr, _lines) = start_watch(&cfg);
    // The unverified notification is a review: staff are told, nobody else.
    let deadline = Instant::now() + Duration::from_secs(30);
    while outbox_ids(&outbox).is_empty() {
        assert!(Instant::now() < deadline, "no staff summary");
        std::thread::sleep(Duration::from_millis(100));
    }
    let alice = sign_in(addr, "alice", "correct horse battery");
    let sam = sign_in(addr, "sam", "security team only");
    let list = get_with(addr, "/requests?filter=review", &alice);
    let at = list.body.find("href=\"/requests/INT-").unwrap() + 16;
    let reference = list.body[at..at + 14].to_string();
    let path = format!("/requests/{reference}");
    let page = get_with(addr, &path, &alice);
    assert!(page.body.contains("id=\"approve\""), "{}", page.body);
    assert!(page.body.contains("not verified"), "{}", page.body);
    let csrf = hidden(&page.body, "id=\"actions\"", "csrf");
    let version = hidden(&page.body, "/approve\"", "version");
    // Security reads, but may not act, and sees no forms.
    let seen = get_with(addr, &path, &sam);
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains("id=\"approve\""));
    let sam_csrf = seen.csrf();
    let approve = format!("{path}/approve");
    let form = format!("csrf={csrf}&version={version}&confirm_sender=yes&reason=phoned+Eve");
    assert_eq!(
        post(
            addr,
            &approve,
            &sam,
            &format!("csrf={sam_csrf}&version={version}")
        )
        .status,
        403
    );
    // No CSRF token, or another session's: refused.
    assert_eq!(
        post(addr, &approve, &alice, &format!("version={version}")).status,
        403
    );
    assert_eq!(
        post(
            addr,
            &approve,
            &alice,
            &format!("csrf={sam_csrf}&version={version}")
        )
        .status,
        403
    );
    // A stale version: refused, nothing done.
    let stale = post(addr, &approve, &alice, &format!("csrf={csrf}&version=999"));
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("changed since the page was loaded"));
    assert_eq!(outbox_ids(&outbox).len(), 1);

    // Approve, and kill -9 the moment the answer is back.
    let done = post(addr, &approve, &alice, &form);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some(format!("{path}?done=approve").as_str())
    );
    let pid = running.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    drop(running);

    // Restarted: the forward and the summary go out (internal mail caught mid-hand-over is
    // sent again: a calendar with the same UID and SEQUENCE changes nothing), and the
    // customer hears exactly once: the acceptance, or, when the kill caught it being handed
    // over, a notice asking staff to check it instead.
    let (running, addr, _lines) = start_watch(&cfg);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The request's second revision (the first was the notification) names the messages.
    let id = |role: &str| format!("{reference}.s2.{role}@amazee.io");
    let doubt = format!("doubt.{}", id("reply"));
    // Replies to the customer (never two), and whether the customer heard or staff were
    // asked to check (at least one of the two).
    let customer = |ids: &[String]| {
        let replies = ids.iter().filter(|i| **i == id("reply")).count();
        let doubts = ids.iter().filter(|i| **i == doubt).count();
        (replies, replies + doubts >= 1)
    };
    loop {
        let ids = outbox_ids(&outbox);
        if customer(&ids).1 && ids.contains(&id("security")) && ids.contains(&id("staff")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not sent: {ids:?}, wanted {reference}.s2.*"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The same form again after the restart: nothing more.
    let alice = sign_in(addr, "alice", "correct horse battery");
    let page = get_with(addr, &path, &alice);
    let csrf = hidden(&page.body, "/logout", "csrf");
    let before = outbox_ids(&outbox);
    let again = post(
        addr,
        &approve,
        &alice,
        &format!("csrf={csrf}&version={version}&confirm_sender=yes"),
    );
    assert_eq!(again.status, 409, "{}", again.body);
    std::thread::sleep(Duration::from_millis(500));
    let ids = outbox_ids(&outbox);
    assert_eq!(ids, before);
    assert!(customer(&ids).0 <= 1, "{ids:?}");
    for i in &ids {
        assert!(
            i.contains(&reference)
                && (i.contains(".s2.") || *i == format!("{reference}.staff@amazee.io")),
            "{i}"
        );
    }
    if ids.contains(&id("reply")) {
        let reply = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .find(|m| {
                m.lines().find_map(|l| l.strip_prefix("Message-ID: "))
                    == Some(&format!("<{}>", id("reply")))
            })
            .unwrap();
        assert!(reply.contains("To: sec@hostile-example.org"), "{reply}");
        assert!(reply.contains("In-Reply-To: <demo-hostile-5@hostile-example.org>"));
    }
    // The page says who did what, and why.
    let page = get_with(addr, &format!("{path}?done=approve"), &alice);
    assert!(page.body.contains("id=\"notice\""));
    assert!(
        page.body
            .contains("<span id=\"state\" class=\"state state-accepted\">accepted</span>")
    );
    assert!(page.body.contains("alice (console)"), "{}", page.body);
    assert!(page.body.contains("phoned Eve"));
    drop(running);
}

#[test]
fn admins_manage_accounts_in_the_console_and_others_may_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n[web]\nlisten = \"127.0.0.1:0\"\n",
            root.join("templates"),
            dir.path().join("maildir"),
            dir.path().join("outbox"),
            dir.path().join("intake.sqlite3"),
        ),
    )
    .unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.path().join("maildir").join(sub)).unwrap();
    }
    add_user(&cfg, "root", "admin", "admin password 1");
    add_user(&cfg, "alice", "staff", "correct horse battery");
    let (_running, addr, _lines) = start_watch(&cfg);
    let root_session = sign_in(addr, "root", "admin password 1");
    let alice = sign_in(addr, "alice", "correct horse battery");
    let page = get_with(addr, "/admin", &root_session);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<td>alice</td><td>staff</td>"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    // Staff may not, with their own token either.
    let alice_csrf = get_with(addr, "/requests", &alice).csrf();
    let add = "name=bob&role=security&password=bob+the+security+guy";
    assert_eq!(
        post(
            addr,
            "/admin/users",
            &alice,
            &format!("{add}&csrf={alice_csrf}")
        )
        .status,
        403
    );
    // No token: refused.
    assert_eq!(post(addr, "/admin/users", &root_session, add).status, 403);
    // Bad input: a clear refusal, nothing added.
    let short = post(
        addr,
        "/admin/users",
        &root_session,
        &format!("name=bob&role=security&password=short&csrf={csrf}"),
    );
    assert_eq!(short.status, 422);
    assert!(short.body.contains("too short"), "{}", short.body);
    let bad = post(
        addr,
        "/admin/users",
        &root_session,
        &format!("name=Bob%3Cx%3E&role=security&password=long+enough+pass&csrf={csrf}"),
    );
    assert_eq!(bad.status, 422);
    assert!(!bad.body.contains("<x>"));
    // Added: bob signs in as security.
    let ok = post(
        addr,
        "/admin/users",
        &root_session,
        &format!("{add}&csrf={csrf}"),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("Added bob (security)."), "{}", ok.body);
    let bob = sign_in(addr, "bob", "bob the security guy");
    assert_eq!(get_with(addr, "/admin", &bob).status, 403);
    // A new password for bob; the old one stops working.
    let set = post(
        addr,
        "/admin/users/bob/password",
        &root_session,
        &format!("password=a+new+long+password&csrf={csrf}"),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    sign_in(addr, "bob", "a new long password");
    // Removing yourself is refused; removing bob ends his session.
    let me = post(
        addr,
        "/admin/users/root/remove",
        &root_session,
        &format!("csrf={csrf}"),
    );
    assert_eq!(me.status, 422);
    assert_eq!(get_with(addr, "/requests", &bob).status, 200);
    let gone = post(
        addr,
        "/admin/users/bob/remove",
        &root_session,
        &format!("csrf={csrf}"),
    );
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(get_with(addr, "/requests", &bob).status, 303);
    // All of it is in the log, with the admin as the actor.
    let log = get_with(addr, "/admin", &root_session).body;
    for kind in ["user_added", "user_password_changed", "user_removed"] {
        assert!(
            log.contains(&format!("<td>root</td><td>{kind}</td><td>bob</td>")),
            "{kind} in {log}"
        );
    }
}
