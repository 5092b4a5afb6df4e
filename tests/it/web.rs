//! The web console of `intake watch` as an operator meets it: the real binary on the demo
//! Maildir with `[web] listen` on a free port (the binary logs the address it bound), asked
//! over plain HTTP/1.1, then stopped with SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};

use rusqlite::OptionalExtension as _;
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

/// Messages decided so far, by the `/metrics` text.
fn decided(metrics: &str) -> f64 {
    ["accept", "reject", "review", "ignore"]
        .iter()
        .map(|d| {
            sample(
                metrics,
                &format!("intake_decisions_total{{decision=\"{d}\"}}"),
            )
        })
        .sum()
}

/// Waits until the console at `addr` counts `n` messages decided.
fn wait_decided(addr: SocketAddr, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let m = get(addr, "/metrics", "localhost");
        if decided(&m.body) >= n as f64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not decided in time:\n{}",
            m.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let (mut running, addr, lines) = start_watch(&cfg);
    // The lines after the console's: what the stop below says.
    let mut log = Vec::new();
    let host = addr.to_string();

    let health = get(addr, "/healthz", &host);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));

    // The demo's four messages are decided and their seven messages written.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let m = get(addr, "/metrics", "localhost");
        assert_eq!(m.status, 200, "{}", m.body);
        let decided = decided(&m.body);
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
    add_user(&cfg, "alice", "staff", password);
    let (_running, addr, lines) = start_watch(&cfg);
    // All five messages decided.
    wait_decided(addr, 5, Duration::from_secs(30));

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
    assert_eq!(ok.status, 303, "{}", ok.body);
    let shown = get_with(addr, ok.header("location").unwrap(), &root_session);
    assert!(shown.body.contains("Added bob."), "{}", shown.body);
    assert!(
        shown.body.contains("<td>bob</td><td>security</td>"),
        "{}",
        shown.body
    );
    let bob = sign_in(addr, "bob", "bob the security guy");
    assert_eq!(get_with(addr, "/admin", &bob).status, 403);
    // A new password for bob; the old one stops working.
    let set = post(
        addr,
        "/admin/users/bob/password",
        &root_session,
        &format!("password=a+new+long+password&csrf={csrf}"),
    );
    assert_eq!(set.status, 303, "{}", set.body);
    // The new password ends the sessions the old one opened.
    assert_eq!(get_with(addr, "/requests", &bob).status, 303);
    let bob = sign_in(addr, "bob", "a new long password");
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
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert_eq!(
        gone.header("location"),
        Some("/admin?done=removed&name=bob")
    );
    // The notice names only an account name as the checks allow one: nothing else shows.
    let forged = get_with(
        addr,
        "/admin?done=added&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        &root_session,
    );
    assert!(!forged.body.contains("id=\"notice\""), "{}", forged.body);
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

// ---------------------------------------------------------------------------------------
// The security team's views: calendar, feeds, the lookup page and API, single sign-on.

use chrono::{DateTime, Duration as Days, Utc};
use intake::clock::Clock as _;

/// The password of the users [`console_with`] adds.
const PASSWORD: &str = "correct horse battery";

/// A console process of `intake watch` and what a test needs to talk to it.
struct Console {
    addr: SocketAddr,
    cfg: std::path::PathBuf,
    store: std::path::PathBuf,
    _running: Running,
    _lines: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

/// Writes `mails` (name, text, arrival) into a fresh Maildir (each file's modification time
/// is its arrival), adds `users` (name, role) with `intake user add`, and starts `intake
/// watch` with `web_extra` in `[web]`; waits until every mail is decided.
fn console_with(
    mails: &[(&str, String, DateTime<Utc>)],
    users: &[(&str, &str)],
    web_extra: &str,
) -> Console {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for (name, text, arrival) in mails {
        let p = maildir
            .join("new")
            .join(format!("{}.{name}.e2e", arrival.timestamp()));
        std::fs::write(&p, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified((*arrival).into())
            .unwrap();
    }
    let store = dir.path().join("intake.sqlite3");
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n[web]\nlisten = \"127.0.0.1:0\"\n{web_extra}",
            root.join("templates"),
            maildir,
            dir.path().join("outbox"),
            store,
        ),
    )
    .unwrap();
    for (name, role) in users {
        add_user(&cfg, name, role, PASSWORD);
    }
    let (running, addr, lines) = start_watch(&cfg);
    wait_decided(addr, mails.len(), Duration::from_secs(60));
    Console {
        addr,
        cfg,
        store,
        _running: running,
        _lines: lines,
        _dir: dir,
    }
}

/// A request with any headers and body, over a fresh connection.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    exchange(addr, &format!("{head}\r\n{body}"))
}

/// Signs `name` in (with the password of [`console_with`]) and returns the session cookie.
fn login(addr: SocketAddr, name: &str) -> String {
    sign_in(addr, name, PASSWORD)
}

/// Text as the browser shows it (minijinja writes `/` as `&#x2f;`).
fn shown(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

/// `2026-12-10 09:00`-style local time in Zurich (the default zone), as customers write it.
fn zurich(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Zurich)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// A verified notification from `org` announcing `ip` from `start` to `end`, arriving at
/// `arrival`.
fn announcement(
    org: &str,
    id: &str,
    ip: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    arrival: DateTime<Utc>,
) -> String {
    let date = arrival.to_rfc2822();
    format!(
        "Return-Path: <eve@{org}>
Delivered-To: support@amazee.io
Authentication-Results: mx.amazee.io; dkim=pass header.d={org}; spf=pass smtp.mailfrom={org}; dmarc=pass header.from={org}
Received: from mail.{org} (mail.{org} [85.195.240.20])
\tby mx.amazee.io (Postfix) with ESMTPS id 4R8kLq0DkRz9sX
\tfor <support@amazee.io>; {date}
From: Eve O'Brien <eve@{org}>
To: support@amazee.io
Subject: Penetration test announcement shop.{org}
Date: {date}
Message-ID: <{id}@{org}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello amazee.io support,

we announce a penetration test of our online shop.

Testing vectors and scope: web application pen test
Point of contact: Eve O'Brien, eve@{org}, +41 44 555 20 31
Originating IPs: {ip}
Traffic volume: max 20 Mbit/s, 50 requests per second
Target website: https://shop.{org}
Start: {}
End: {}

Kind regards
Eve O'Brien
",
        zurich(start),
        zurich(end)
    )
}

/// A cancellation in the thread of `announcement(org, id, …)`.
fn cancellation(org: &str, id: &str, arrival: DateTime<Utc>) -> String {
    let date = arrival.to_rfc2822();
    format!(
        "Return-Path: <eve@{org}>
Delivered-To: support@amazee.io
Authentication-Results: mx.amazee.io; dkim=pass header.d={org}; spf=pass smtp.mailfrom={org}; dmarc=pass header.from={org}
Received: from mail.{org} (mail.{org} [85.195.240.20])
\tby mx.amazee.io (Postfix) with ESMTPS id 4R8kLq0DkRz9sY
\tfor <support@amazee.io>; {date}
From: Eve O'Brien <eve@{org}>
To: support@amazee.io
Subject: Re: Penetration test announcement shop.{org}
Date: {date}
Message-ID: <{id}-cancel@{org}>
In-Reply-To: <{id}@{org}>
References: <{id}@{org}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Dear amazee.io support

Unfortunately we have to cancel the penetration test announced below; the project budget was not approved.

Kind regards
Eve O'Brien
"
    )
}

/// The reference and state of the request of organization `org` (waiting a little: the
/// decision counter moves before the loop commits its batch).
fn request_of(store: &Path, org: &str) -> (String, String) {
    let db = rusqlite::Connection::open(store).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = db
            .query_row(
                "SELECT reference, state FROM requests WHERE org_domain = ?1",
                [org],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .unwrap();
        if let Some(found) = found {
            return found;
        }
        assert!(Instant::now() < deadline, "no request of {org}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An accepted window running now, one tomorrow that was cancelled since.
fn security_mails(now: DateTime<Utc>) -> Vec<(&'static str, String, DateTime<Utc>)> {
    let arrival = now - Days::days(20);
    vec![
        (
            "running",
            announcement(
                "bergbahn-example.ch",
                "e2e-running",
                "85.195.240.77",
                now - Days::hours(1),
                now + Days::hours(6),
                arrival,
            ),
            arrival,
        ),
        (
            "tomorrow",
            announcement(
                "seilbahn-example.ch",
                "e2e-tomorrow",
                "85.195.240.88",
                now + Days::hours(24),
                now + Days::hours(28),
                arrival + Days::minutes(1),
            ),
            arrival + Days::minutes(1),
        ),
        (
            "cancel",
            cancellation(
                "seilbahn-example.ch",
                "e2e-tomorrow",
                arrival + Days::days(1),
            ),
            arrival + Days::days(1),
        ),
    ]
}

#[test]
fn the_calendar_shows_approved_windows_escaped_and_hides_cancelled_ones() {
    let now = intake::clock::SystemClock.now();
    let c = console_with(&security_mails(now), &[("sec", "security")], "");
    let (running, state) = request_of(&c.store, "bergbahn-example.ch");
    assert_eq!(state, "accepted");
    let (cancelled, state) = request_of(&c.store, "seilbahn-example.ch");
    assert_eq!(state, "cancelled");

    assert_eq!(get(c.addr, "/calendar", "localhost").status, 303);
    let session = login(c.addr, "sec");
    let page = get_with(c.addr, "/calendar", &session);
    assert_eq!(page.status, 200, "{}", page.body);
    let text = shown(&page.body);
    let running_section = text.split("id=\"today\"").next().unwrap();
    assert!(
        running_section.contains(&format!("href=\"/requests/{running}\"")),
        "{text}"
    );
    for item in [
        "85.195.240.77/32",
        "shop.bergbahn-example.ch",
        "eve@bergbahn-example.ch",
        "+41 44 555 20 31",
        "Eve O&#x27;Brien",
        "Europe/Zurich",
    ] {
        assert!(running_section.contains(item), "{item} in\n{text}");
    }
    assert!(
        !text.contains(&cancelled),
        "the cancelled {cancelled} in\n{text}"
    );
    assert!(!text.contains("85.195.240.88"), "{text}");

    // A hostile contact (as a staff correction could store it) is shown as text.
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    {
        let mut store = intake::store::Store::open_shared(&c.store).unwrap();
        let mut r = store.request(&running).unwrap().unwrap();
        r.reference = "INT-XSSXSSXSS0".into();
        r.message_ids.clear();
        r.org = format!("{evil}.example");
        let held = r.accepted.as_mut().unwrap();
        held.contact.name = Some(evil.into());
        held.targets = vec![evil.into()];
        let id = intake::store::Identity {
            folder: "e2e".into(),
            uidvalidity: 1,
            uid: 1,
            message_id: None,
            content_hash: "0".repeat(64),
        };
        store
            .record(
                &intake::store::Record {
                    identity: &id,
                    sender: Some(&r.sender),
                    arrival: now,
                    decision: "accept",
                    rules_version: "e2e",
                    verdict_json: "{}",
                    raw: None,
                    request: Some(&r),
                },
                &[],
                now,
            )
            .unwrap();
    }
    let page = get_with(c.addr, "/calendar", &session);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("INT-XSSXSSXSS0"), "{}", page.body);
    assert!(
        !page.body.contains("<script") && !page.body.contains("<img"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&lt;img src=x onerror=alert(2)&gt;"
        ),
        "{}",
        page.body
    );
    assert_eq!(
        page.header("content-security-policy")
            .map(|c| c.contains("default-src 'none'")),
        Some(true)
    );
}

#[test]
fn a_feed_works_until_it_is_revoked_and_the_api_answers_only_its_tokens() {
    let now = intake::clock::SystemClock.now();
    let c = console_with(
        &security_mails(now),
        &[("sec", "security"), ("desk", "staff")],
        "",
    );
    let (running, _) = request_of(&c.store, "bergbahn-example.ch");
    let (cancelled, _) = request_of(&c.store, "seilbahn-example.ch");
    let session = login(c.addr, "sec");

    // A feed token made on /account, shown once as a URL.
    let account = get_with(c.addr, "/account", &session);
    assert_eq!(account.status, 200, "{}", account.body);
    let csrf = account.csrf();
    assert_eq!(
        post(c.addr, "/account/tokens", &session, "kind=feed&label=phone").status,
        403,
        "no CSRF token"
    );
    let made = post(
        c.addr,
        "/account/tokens",
        &session,
        &format!("csrf={csrf}&kind=feed&label=phone"),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let text = shown(&made.body);
    let at = text.find("http://localhost/feeds/").unwrap();
    let url = text[at..].split('<').next().unwrap();
    let path = url.trim_start_matches("http://localhost");
    assert!(
        path.ends_with(".ics") && path.len() == "/feeds/".len() + 64 + 4,
        "{path}"
    );
    // Shown once: the page after it does not have it.
    assert!(!shown(&get_with(c.addr, "/account", &session).body).contains(path));

    let feed = get(c.addr, path, "localhost");
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert_eq!(
        feed.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert_eq!(feed.header("cache-control"), Some("no-store, private"));
    assert!(feed.header("set-cookie").is_none());
    let ics = feed.body.replace("\r\n ", "");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(
        ics.contains(&format!("UID:{running}-1@amazee.io\r\n")),
        "{ics}"
    );
    assert!(ics.contains("SEQUENCE:0\r\n"), "{ics}");
    assert!(ics.contains("85.195.240.77/32"), "{ics}");
    assert!(!ics.contains(&cancelled), "{ics}");
    // The security forward's calendar has the same UID.
    let forward: String = std::fs::read_dir(c._dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("text/calendar") && m.contains(&running))
        .unwrap();
    assert!(
        forward.contains(&format!("UID:{running}-1@amazee.io")),
        "{forward}"
    );

    // Revoked on the account page: the URL is a plain 404, like any unknown one.
    let listed = get_with(c.addr, "/account", &session);
    let needle = "action=\"/account/tokens/";
    let at = listed.body.find(needle).unwrap() + needle.len();
    let id: String = listed.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let revoke = format!("/account/tokens/{id}/revoke");
    assert_eq!(
        post(c.addr, &revoke, &session, "").status,
        403,
        "no CSRF token"
    );
    let desk = login(c.addr, "desk");
    let desk_csrf = get_with(c.addr, "/account", &desk).csrf();
    assert_eq!(
        post(c.addr, &revoke, &desk, &format!("csrf={desk_csrf}")).status,
        404,
        "another user's token"
    );
    assert_eq!(get(c.addr, path, "localhost").status, 200);
    let done = post(c.addr, &revoke, &session, &format!("csrf={csrf}"));
    assert_eq!(
        (done.status, done.header("location")),
        (303, Some("/account"))
    );
    let gone = get(c.addr, path, "localhost");
    let unknown = get(
        c.addr,
        &format!("/feeds/{}.ics", "0".repeat(64)),
        "localhost",
    );
    let malformed = get(c.addr, "/feeds/nope.ics", "localhost");
    for a in [&gone, &unknown, &malformed] {
        assert_eq!((a.status, a.body.as_str()), (404, "404 Not Found\n"));
    }
    assert!(shown(&get_with(c.addr, "/account", &session).body).contains("Revoked"));

    // The API: an api token from the command line.
    let token = |kind: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_intake"))
            .args(["token", "add", "sec", "--kind", kind, "--config"])
            .arg(&c.cfg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let api = token("api");
    let feed_token = token("feed");
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ask = |query: &str, auth: Option<&str>| {
        let h = auth.map(|t| ("Authorization", t.to_string()));
        let headers: Vec<(&str, &str)> = h.iter().map(|(n, v)| (*n, v.as_str())).collect();
        request(
            c.addr,
            "GET",
            &format!("/api/v1/lookup?{query}"),
            &headers,
            "",
        )
    };
    let bearer = format!("Bearer {api}");
    let q = format!("ip=85.195.240.77&at={}", at.replace('+', "%2B"));
    for (auth, why) in [
        (None, "missing"),
        (Some(format!("Bearer {}", "0".repeat(64))), "unknown"),
        (Some(format!("Bearer {feed_token}")), "a feed token"),
        (Some(format!("Basic {api}")), "not bearer"),
    ] {
        let a = ask(&q, auth.as_deref());
        assert_eq!(a.status, 401, "{why}: {}", a.body);
        assert_eq!(
            a.header("www-authenticate"),
            Some("Bearer realm=\"intake\""),
            "{why}"
        );
        assert_eq!(a.header("content-type"), Some("application/json"), "{why}");
        assert!(!a.body.contains(&running), "{why}");
    }
    for bad in [
        "ip=not-an-ip",
        "ip=192.0.2.1&at=tomorrow",
        "at=2026-12-10T09:00:00Z",
    ] {
        let a = ask(bad, Some(&bearer));
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert!(v["error"].as_str().unwrap().len() > 10, "{bad}: {v}");
    }
    let hit = ask(&q, Some(&bearer));
    assert_eq!(hit.status, 200, "{}", hit.body);
    assert_eq!(hit.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&hit.body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["reference"], running.as_str());
    assert_eq!(v[0]["contact"]["email"], "eve@bergbahn-example.ch");
    assert_eq!(
        v[0]["matching_ranges"],
        serde_json::json!(["85.195.240.77/32"])
    );
    // The same answer as `intake lookup --json`.
    let cli = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["lookup", "--json", "--at", &at, "85.195.240.77", "--config"])
        .arg(&c.cfg)
        .output()
        .unwrap();
    assert_eq!(
        cli.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(v, cli);
    // No match: the cancelled request's address, and one nobody announced.
    for ip in ["85.195.240.88", "192.0.2.1"] {
        let a = ask(
            &format!("ip={ip}&at={}", at.replace('+', "%2B")),
            Some(&bearer),
        );
        assert_eq!((a.status, a.body.as_str()), (200, "[]\n"), "{ip}");
    }

    // The page: the same answer for people, and a clear message for bad input.
    let page = get_with(c.addr, "/lookup?ip=85.195.240.77", &session);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(shown(&page.body).contains(&format!("href=\"/requests/{running}\"")));
    assert!(page.body.contains("+41 44 555 20 31"));
    let bad = get_with(c.addr, "/lookup?ip=%3Cscript%3E", &session);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("is not an IP address"), "{}", bad.body);
    assert!(!bad.body.contains("<script"), "{}", bad.body);

    // Every token made or revoked is in the action log, with who did it.
    let db = rusqlite::Connection::open(&c.store).unwrap();
    let log: Vec<(String, String)> = db
        .prepare("SELECT actor, kind FROM actions WHERE kind LIKE 'token_%' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<&str> = log.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "token_created",
            "token_revoked",
            "token_created",
            "token_created"
        ]
    );
    assert_eq!(log[0].0, "sec");
    assert_eq!(log[1].0, "sec");
    assert!(log[2].0.starts_with("cli:"), "{log:?}");
    // The API token's use is recorded (after the answer, not waited for).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let used: Option<String> = db
            .query_row(
                "SELECT last_used_at FROM tokens WHERE kind = 'api'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if used.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the API token's use was not recorded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_trusted_proxy_signs_people_in_and_anyone_else_sending_its_header_is_ignored() {
    let trusted = console_with(
        &[],
        &[("sec", "security")],
        "trusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]\n",
    );
    let a = trusted.addr;
    // The proxy names an existing user: no session needed, the role from the users table.
    let page = request(a, "GET", "/calendar", &[("X-Forwarded-User", "sec")], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("sec (security)"), "{}", page.body);
    // Its forms work, with the CSRF token the page carries.
    let account = request(a, "GET", "/account", &[("X-Forwarded-User", "sec")], "");
    let csrf = account.csrf();
    let made = request(
        a,
        "POST",
        "/account/tokens",
        &[("X-Forwarded-User", "sec")],
        &format!("csrf={csrf}&kind=api"),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("Your new api token"), "{}", made.body);
    let forged = request(
        a,
        "POST",
        "/account/tokens",
        &[("X-Forwarded-User", "sec")],
        &format!("csrf={}&kind=api", "0".repeat(64)),
    );
    assert_eq!(forged.status, 403);
    // An unknown name is refused, never created; a malformed one too.
    for name in ["mallory", "Sec", "sec@example.com"] {
        let r = request(a, "GET", "/calendar", &[("X-Forwarded-User", name)], "");
        assert_eq!(r.status, 403, "{name}: {}", r.body);
    }
    let db = rusqlite::Connection::open(&trusted.store).unwrap();
    let users: i64 = db
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1);
    // Without the header: the session login as before.
    let anon = request(a, "GET", "/calendar", &[], "");
    assert_eq!(
        (anon.status, anon.header("location")),
        (303, Some("/login"))
    );
    assert_eq!(get_with(a, "/calendar", &login(a, "sec")).status, 200);
    // HTTPS at the proxy: the cookies are Secure.
    let form = request(a, "GET", "/login", &[("X-Forwarded-Proto", "https")], "");
    assert!(
        form.set_cookies().iter().all(|c| c.ends_with("; Secure")),
        "{}",
        form.head
    );
    let plain = request(a, "GET", "/login", &[], "");
    assert!(
        plain.set_cookies().iter().all(|c| !c.contains("Secure")),
        "{}",
        plain.head
    );

    // The same header from a peer that is not a trusted proxy (127.0.0.1 is not listed
    // here): ignored, as is its X-Forwarded-Proto.
    let untrusted = console_with(
        &[],
        &[("sec", "security")],
        "trusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"192.0.2.1/32\"]\n",
    );
    let u = untrusted.addr;
    for name in ["sec", "mallory"] {
        let r = request(u, "GET", "/calendar", &[("X-Forwarded-User", name)], "");
        assert_eq!(
            (r.status, r.header("location")),
            (303, Some("/login")),
            "{name}"
        );
    }
    let form = request(u, "GET", "/login", &[("X-Forwarded-Proto", "https")], "");
    assert!(
        form.set_cookies().iter().all(|c| !c.contains("Secure")),
        "{}",
        form.head
    );
    // A session still works there.
    assert_eq!(get_with(u, "/calendar", &login(u, "sec")).status, 200);
}

#[test]
fn bad_trusted_proxy_settings_stop_intake_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    for (web, named) in [
        (
            "trusted_proxy_header = \"X-Forwarded-User\"\n",
            "web.trusted_proxy_header: \"X-Forwarded-User\" needs web.trusted_proxies",
        ),
        (
            "trusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"not an address\"]\n",
            "web.trusted_proxies: \"not an address\"",
        ),
        (
            "trusted_proxy_header = \"Bad Header\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
            "web.trusted_proxy_header: \"Bad Header\"",
        ),
    ] {
        std::fs::write(
            &cfg,
            format!("[store]\npath = \"s.db\"\n[web]\nlisten = \"127.0.0.1:0\"\n{web}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_intake"))
            .args(["watch", "--once", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{web}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{err}");
    }
}
