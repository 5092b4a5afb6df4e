//! The staff console in a real browser: headless Chromium driven through chromedriver (both
//! Debian packages, installed here with apt-get when missing, like the mail servers), against
//! the real `intake watch` binary on the harness's Dovecot and Postfix with
//! `[web] listen = "127.0.0.1:0"`.
//!
//! The harness ([`Browser`]) starts chromedriver on a free loopback port in a process group of
//! its own, under a small shell watchdog that takes the group down when this test process
//! goes away, opens one WebDriver session with a fixed window (1280×900, so screenshots are
//! stable) and a fresh profile, and kills everything it started when dropped. One browser runs
//! at a time (two cores). Skips follow the mail servers' rules: `INTAKE_SKIP_E2E=1` skips and
//! reports each test as `SKIPPED` ([`note_skipped`]); a missing browser that cannot be
//! installed fails the test.
//!
//! Every run writes screenshots of the pages it visits to `target/screenshots/NAME.png`.
//!
//! The tests drive the console's actions (approve, correct) through their forms, and the
//! security view (calendar, `.ics` feed, lookup) through its pages.

// Real time on purpose, as in watch.rs: the mail is dated for, and compared with, the real
// servers and the `intake` binary, which all run on the system clock.
#![allow(clippy::disallowed_methods)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::Utc;
use fantoccini::{Client, ClientBuilder, Locator};
use tokio::sync::{Mutex, MutexGuard};

use crate::mailservers::{DISRUPT, MailServers, note_skipped, shared};
use crate::watch::{
    Got, Intake, Setup, answers, doubt_notices, header, notification, text_of, third_ip, unique,
    wait_answers, window,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser window: fixed, so screenshots are comparable from run to run.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

/// One browser at a time: on two cores, Chromiums in parallel only slow each other down.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());
/// Whether Chromium and chromedriver are there (installed once per test process).
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Straight to stderr: the test harness captures `eprintln!`.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

// ---------------------------------------------------------------------------------------
// The browser

/// Installs `chromium` and `chromium-driver` with apt-get when either binary is missing
/// (as root; `apt-get update` only when the first try fails, as scripts/mailservers.sh does).
fn ensure_installed() -> Result<(), String> {
    INSTALLED
        .get_or_init(|| {
            let present = || Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
            if present() {
                return Ok(());
            }
            let root = Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
            if !root {
                return Err(format!(
                    "{CHROMIUM} or {CHROMEDRIVER} missing and not root: cannot install \
                     chromium and chromium-driver (or set INTAKE_SKIP_E2E=1, which is reported)"
                ));
            }
            say("browser tests: installing chromium chromium-driver with apt-get");
            let t0 = Instant::now();
            let install = || {
                Command::new("apt-get")
                    .args(["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q"])
                    .args(["chromium", "chromium-driver"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdin(Stdio::null())
                    .output()
            };
            let mut out = install();
            if !out.as_ref().is_ok_and(|o| o.status.success()) {
                let _ = Command::new("apt-get")
                    .args(["-o", "DPkg::Lock::Timeout=300", "update", "-q"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .stdin(Stdio::null())
                    .output();
                out = install();
            }
            match out {
                Ok(o) if o.status.success() && present() => {
                    say(&format!(
                        "browser tests: chromium installed in {:?}",
                        t0.elapsed()
                    ));
                    Ok(())
                }
                Ok(o) => Err(format!(
                    "apt-get install chromium chromium-driver failed ({}):\n{}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr)
                )),
                Err(e) => Err(format!("cannot run apt-get: {e}")),
            }
        })
        .clone()
}

/// A free TCP port on 127.0.0.1 (the kernel's pick; free again once the listener is dropped).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs chromedriver and watches the test process: when that is gone (a test binary killed
/// or aborted never runs `Drop`), the watchdog kills the whole process group, and Chromium,
/// should chromedriver have started it in a group of its own, by its profile folder (unique
/// to this browser), and deletes the temp folder.
const WATCHDOG: &str = r#"
driver="$1"; port="$2"; log="$3"; watch="$4"; dir="$5"
"$driver" --port="$port" --log-path="$log" >/dev/null 2>&1 &
d=$!
while kill -0 "$watch" 2>/dev/null && kill -0 "$d" 2>/dev/null; do sleep 0.5; done
for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$dir/"; then
        kill -KILL "${p#/proc/}" 2>/dev/null
    fi
done
kill -KILL "$d" 2>/dev/null
rm -rf "$dir"
kill -KILL 0
"#;

/// Headless Chromium under chromedriver, one WebDriver session. Everything it started is
/// killed when it is dropped; [`Browser::close`] ends the session politely first.
pub(crate) struct Browser {
    pub(crate) client: Client,
    /// The watchdog shell: leader of the process group that holds chromedriver.
    driver: Option<Child>,
    profile: tempfile::TempDir,
    _one: MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts chromedriver and a session, installing the packages first when needed; `None`
    /// (and the test reported as skipped) when `INTAKE_SKIP_E2E=1`.
    pub(crate) async fn start() -> Option<Browser> {
        if std::env::var("INTAKE_SKIP_E2E").as_deref() == Ok("1") {
            note_skipped();
            return None;
        }
        let one = ONE_BROWSER.lock().await;
        if let Err(e) = tokio::task::spawn_blocking(ensure_installed).await.unwrap() {
            panic!("browser tests: {e}");
        }
        let t0 = Instant::now();
        let profile = tempfile::Builder::new()
            .prefix("intake-chromium-")
            .tempdir()
            .unwrap();
        let log = profile.path().join("chromedriver.log");
        let profile_dir = profile.path().join("profile");
        std::fs::create_dir(&profile_dir).unwrap();
        let mut last_error = String::new();
        // The port is free when asked for; another process may take it before chromedriver
        // does, so a failed start is tried again on a new one.
        for _ in 0..3 {
            let port = free_port();
            let mut driver = {
                use std::os::unix::process::CommandExt as _;
                Command::new("bash")
                    .arg("-c")
                    .arg(WATCHDOG)
                    .arg("watchdog")
                    .arg(CHROMEDRIVER)
                    .arg(port.to_string())
                    .arg(&log)
                    .arg(std::process::id().to_string())
                    .arg(profile.path())
                    // Chromium's crash handler keeps its database under the config folder.
                    .env("XDG_CONFIG_HOME", profile.path().join("config"))
                    .env("XDG_CACHE_HOME", profile.path().join("cache"))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .process_group(0)
                    .spawn()
                    .expect("start chromedriver")
            };
            let up = Instant::now();
            let mut ready = false;
            while up.elapsed() < Duration::from_secs(20) {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    ready = true;
                    break;
                }
                if driver.try_wait().ok().flatten().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !ready {
                last_error = format!(
                    "chromedriver did not listen on {port}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                kill_group(&mut driver, profile.path());
                continue;
            }
            let client = match connect(port, &profile_dir).await {
                Ok(c) => c,
                Err(e) => {
                    last_error = e;
                    kill_group(&mut driver, profile.path());
                    continue;
                }
            };
            let browser = Browser {
                client,
                driver: Some(driver),
                profile,
                _one: one,
            };
            browser.fit_viewport().await;
            say(&format!("browser up in {:?}", t0.elapsed()));
            return Some(browser);
        }
        panic!("browser tests: cannot start chromedriver and Chromium: {last_error}");
    }

    /// Sizes the window so that the page area (what a screenshot shows) is WIDTH×HEIGHT:
    /// the window's size includes the frame headless Chromium still pretends to have.
    async fn fit_viewport(&self) {
        let c = &self.client;
        c.set_window_size(WIDTH, HEIGHT)
            .await
            .expect("set the window size");
        let inner = c
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("read the page area");
        let got = |i: usize| inner[i].as_u64().unwrap_or(0) as u32;
        let (w, h) = (got(0), got(1));
        if (w, h) != (WIDTH, HEIGHT) && w > 0 && h > 0 {
            c.set_window_size(2 * WIDTH - w, 2 * HEIGHT - h)
                .await
                .expect("set the window size");
        }
    }

    /// Ends the WebDriver session (Chromium quits), then stops chromedriver.
    pub(crate) async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
        drop(self);
    }

    /// Opens `url` and waits for the page.
    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path of the page shown.
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// The query of the page shown ("" without one).
    pub(crate) async fn query(&self) -> String {
        self.client
            .current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .to_string()
    }

    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no {css} on {}: {e}\n{}",
                self.path().await,
                self.visible_text().await
            ),
        }
    }

    pub(crate) async fn find_all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The rendered text of the first element matching `css`, as a person sees it.
    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// What the page shows as text (the `<body>`).
    pub(crate) async fn visible_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Types `value` into the field matching `css`, replacing what it held.
    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Ticks the checkbox matching `css` (a click that loads no page).
    pub(crate) async fn tick(&self, css: &str) {
        let e = self.find(css).await;
        e.click().await.unwrap();
        assert_eq!(
            e.prop("checked").await.unwrap().as_deref(),
            Some("true"),
            "{css} not ticked"
        );
    }

    /// Clicks the element matching `css`, a submit button or a link, and waits until the next
    /// page has replaced this one (a click can return before the navigation it starts).
    pub(crate) async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.navigating(e).await;
    }

    /// Follows the link whose text is `text` (like [`Browser::click`]).
    pub(crate) async fn click_link(&self, text: &str) {
        let e = self
            .client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text:?}: {e}"));
        self.navigating(e).await;
    }

    /// Clicks `e` and waits until the document it belongs to is gone and the next one loaded.
    async fn navigating(&self, e: fantoccini::elements::Element) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        e.click().await.unwrap();
        let t0 = Instant::now();
        loop {
            match old.tag_name().await {
                // Gone; or going: mid-navigation, chromedriver can answer with an inspector
                // error ("Node with given id does not belong to the document").
                Err(e) if e.is_stale_element_reference() || e.is_unknown_error() => break,
                Err(e) => panic!("waiting for the next page: {e}"),
                Ok(_) => {}
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "no new page 30 s after the click on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let t0 = Instant::now();
        while self
            .client
            .execute("return document.readyState;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .as_deref()
            != Some("complete")
        {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "the page did not load"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether a JavaScript dialog (`alert`, `confirm`, `prompt`) is open.
    pub(crate) async fn dialog_open(&self) -> bool {
        match self.client.get_alert_text().await {
            Ok(_) => true,
            Err(e) if e.is_no_such_alert() => false,
            Err(e) => panic!("asking for a dialog: {e}"),
        }
    }

    /// Scrolls the element matching `css` to the top of the window.
    pub(crate) async fn scroll_to(&self, css: &str) {
        let e = self.find(css).await;
        let arg = serde_json::to_value(&e).unwrap();
        self.client
            .execute("arguments[0].scrollIntoView(true);", vec![arg])
            .await
            .unwrap();
    }

    /// Writes a screenshot of the window to `target/screenshots/NAME.png`.
    pub(crate) async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshots();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        say(&format!("screenshot {}", path.display()));
    }
}

/// Where screenshots go: `target/screenshots/` of this crate.
pub(crate) fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// A WebDriver session on chromedriver at `port`: headless Chromium with a fresh profile,
/// nothing fetched from the network on its own (the machine has no network beyond
/// loopback), page JavaScript switched off, and dialogs left open so a test can see them.
async fn connect(port: u16, profile: &Path) -> Result<Client, String> {
    let args = [
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-breakpad".into(),
        "--disable-crash-reporter".into(),
        "--disable-dev-shm-usage".into(),
        "--hide-scrollbars".into(),
        "--force-device-scale-factor=1".into(),
        "--lang=en-US".into(),
        format!("--window-size={WIDTH},{HEIGHT}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let caps = serde_json::json!({
        "browserName": "chrome",
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            // Page scripts off (WebDriver's own still run): the console must work without.
            "prefs": { "profile.managed_default_content_settings.javascript": 2 },
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    tokio::time::timeout(
        Duration::from_secs(60),
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .map_err(|_| "no WebDriver session after 60 s".to_string())?
    .map_err(|e| format!("no WebDriver session: {e}"))
}

/// Kills the process group led by `leader` (the watchdog, chromedriver and the Chromium it
/// started) and whatever still runs with a path under `dir` (the browser's temp folder, unique
/// to it) but left the group, such as Chromium's crash handler, then reaps the leader.
fn kill_group(leader: &mut Child, dir: &Path) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", leader.id())])
        .stderr(Stdio::null())
        .status();
    let _ = leader.wait();
    let needle = format!("{}/", dir.display());
    let mut left = Vec::new();
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for e in procs.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
                && String::from_utf8_lossy(&cmd).contains(&needle)
            {
                left.push(pid.to_string());
            }
        }
    }
    if !left.is_empty() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&left)
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            kill_group(&mut d, self.profile.path());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The console: `intake watch` with `[web] listen`

/// The password of a test account.
fn password_of(name: &str) -> String {
    format!("{name} types a long passphrase")
}

/// `intake user add NAME --role ROLE` with the password on stdin.
fn add_user(config: &Path, name: &str, role: &str) {
    let mut add = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(["user", "add", name, "--role", role, "--config"])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", password_of(name)).as_bytes())
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "intake user add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `intake watch` on a support folder of its own, sending through Postfix, with the web
/// console on a free loopback port.
pub(crate) struct Console {
    setup: Setup,
    pub(crate) intake: Intake,
    /// `http://127.0.0.1:PORT` (changes on restart).
    pub(crate) base: String,
    pub(crate) folder: String,
}

impl Console {
    /// Creates the folder and the accounts (`(name, role)`), then starts intake and waits for
    /// the console to listen.
    pub(crate) async fn start(ms: &MailServers, prefix: &str, users: &[(&str, &str)]) -> Console {
        let folder = unique(prefix);
        ms.imap_create("support", &folder).await;
        let setup = Setup::new(ms, &folder, 1000);
        let mut config = std::fs::read_to_string(&setup.config).unwrap();
        config.push_str("\n[web]\nlisten = \"127.0.0.1:0\"\n");
        std::fs::write(&setup.config, config).unwrap();
        for (name, role) in users {
            add_user(&setup.config, name, role);
        }
        let from = log_len(&setup.log);
        let intake = setup.start();
        let base = listening(&setup.log, from, &intake).await;
        Console {
            setup,
            intake,
            base,
            folder,
        }
    }

    /// Starts intake again on the same store (after a kill) and waits for the console.
    pub(crate) async fn restart(&mut self) {
        let from = log_len(&self.setup.log);
        self.intake = self.setup.start();
        self.base = listening(&self.setup.log, from, &self.intake).await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn log_len(log: &Path) -> usize {
    std::fs::read(log).map(|b| b.len()).unwrap_or(0)
}

/// Waits for the "web console listening addr=…" line written after byte `from` of the log.
async fn listening(log: &Path, from: usize, intake: &Intake) -> String {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read(log).unwrap_or_default();
        let new = String::from_utf8_lossy(text.get(from..).unwrap_or_default()).into_owned();
        if let Some(line) = new.lines().find(|l| l.contains("web console listening"))
            && let Some(at) = line.split("addr=").nth(1)
        {
            let addr = at.split_whitespace().next().unwrap_or_default();
            return format!("http://{addr}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the console did not start:\n{}",
            intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in through the login form and lands on the list.
pub(crate) async fn log_in(b: &Browser, c: &Console, name: &str) {
    b.goto(&c.url("/login")).await;
    b.fill("form.login input[name=name]", name).await;
    b.fill("form.login input[name=password]", &password_of(name))
        .await;
    b.click("form.login button[type=submit]").await;
    assert_eq!(
        b.path().await,
        "/requests",
        "signed in as {name}:\n{}",
        b.visible_text().await
    );
}

/// The request reference a staff summary names ("Reference: INT-…").
fn reference_in(summary: &Got) -> String {
    let text = text_of(&summary.raw);
    text.lines()
        .find_map(|l| l.strip_prefix("Reference: "))
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| panic!("no reference in the staff summary:\n{text}"))
}

/// Appends each notification to the console's folder and waits for the staff summaries;
/// returns the request reference of each, in order.
async fn deliver(ms: &MailServers, c: &Console, mails: &[(&str, Vec<u8>)]) -> Vec<String> {
    for (_, raw) in mails {
        ms.imap_append("support", &c.folder, raw, None).await;
    }
    let ids: Vec<String> = mails.iter().map(|(id, _)| id.to_string()).collect();
    let staff = wait_answers(
        ms,
        &c.intake,
        "staff",
        &ids,
        Duration::from_secs(60),
        Duration::ZERO,
    )
    .await;
    ids.iter().map(|id| reference_in(&staff[id][0])).collect()
}

/// The state of the request page shown: the text and the class of its state badge.
async fn state_of(b: &Browser) -> (String, String) {
    let s = b.find("span.state").await;
    (
        s.text().await.unwrap(),
        s.attr("class").await.unwrap().unwrap_or_default(),
    )
}

/// The references of the rows of the list shown, with each row's state class.
async fn rows(b: &Browser) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tr in b.find_all("table.list tbody tr").await {
        let class = tr.attr("class").await.unwrap().unwrap_or_default();
        let link = tr.find(Locator::Css("a")).await.unwrap();
        out.push((link.text().await.unwrap(), class));
    }
    out
}

/// Plain HTTP GET (what a calendar client does): status, head and body.
fn http_get(base: &str, path: &str) -> (u16, String, String) {
    let host = base.trim_start_matches("http://");
    let mut c = TcpStream::connect(host).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

// ---------------------------------------------------------------------------------------
// Mail for the console

/// A complete notification from the customer whose subject and contact name carry markup
/// and script; the sender is not verified (DMARC failed), so it goes to review.
fn hostile(message_id: &str) -> Vec<u8> {
    let (start, end) = window(40);
    format!(
        "Return-Path: <customer@alpenshop-example.ch>\r\n\
         Authentication-Results: mx.amazee.test; dkim=none; spf=fail smtp.mailfrom=alpenshop-example.ch; dmarc=fail header.from=alpenshop-example.ch\r\n\
         From: \"<img src=x onerror=alert(3)> Carla\" <customer@alpenshop-example.ch>\r\n\
         To: amazee.io Support <support@amazee.test>\r\n\
         Subject: Pen test <script>alert(1)</script> of shop.alpenshop-example.ch\r\n\
         Date: {date}\r\n\
         Message-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello amazee.io support,\r\n\
         \r\n\
         we announce a penetration test of our online shop. <script>alert(4)</script>\r\n\
         \r\n\
         Testing vectors and scope: web application pen test (OWASP Top 10)\r\n\
         Point of contact: <img src=x onerror=alert(2)> Carla Kunde, customer@alpenshop-example.ch, +41 44 555 20 30\r\n\
         Originating IPs: 85.195.240.10, {ip}\r\n\
         Traffic volume: max 20 Mbit/s, 50 requests per second\r\n\
         Target website: https://shop.alpenshop-example.ch\r\n\
         Start: {s} 09:00 UTC\r\n\
         End: {e} 17:00 UTC\r\n\
         \r\n\
         Kind regards\r\n\
         Carla Kunde\r\n",
        date = Utc::now().to_rfc2822(),
        s = start.format("%d.%m.%Y"),
        e = end.format("%d.%m.%Y"),
        ip = third_ip(message_id),
    )
    .into_bytes()
}

/// A complete, verified notification whose times are in "IST" (India, Ireland or Israel?):
/// review with `ambiguous_date`, until staff say which zone.
fn in_ist(message_id: &str) -> Vec<u8> {
    String::from_utf8(notification(message_id, 40, "pass"))
        .unwrap()
        .replace(" 09:00 UTC\r\n", " 09:00 IST\r\n")
        .replace(" 17:00 UTC\r\n", " 17:00 IST\r\n")
        .into_bytes()
}

// ---------------------------------------------------------------------------------------
// 1. Sign in, find a review, read hostile mail as text

#[tokio::test(flavor = "multi_thread")]
async fn browser_signs_in_finds_a_review_and_shows_hostile_mail_as_text() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let t0 = Instant::now();
    let c = Console::start(ms, "browser-list", &[("alice", "staff")]).await;
    let review = format!("{}@example.test", unique("br-review"));
    let evil = format!("{}@example.test", unique("br-hostile"));
    let accept = format!("{}@example.test", unique("br-accept"));
    let refs = deliver(
        ms,
        &c,
        &[
            (&review, notification(&review, 40, "fail")),
            (&evil, hostile(&evil)),
            (&accept, notification(&accept, 40, "pass")),
        ],
    )
    .await;
    let (r_review, r_evil, r_accept) = (&refs[0], &refs[1], &refs[2]);

    // This browser runs no page script at all (the console sends none, and its policy allows
    // none): whatever works below works without JavaScript.
    b.goto("data:text/html,<title>off</title><script>document.title='on'</script>")
        .await;
    assert_eq!(
        b.client.title().await.unwrap(),
        "off",
        "page scripts are off"
    );

    // Not signed in: the list sends the browser to the login form, which runs no script.
    b.goto(&c.url("/requests")).await;
    assert_eq!(b.path().await, "/login");
    assert!(b.find_all("script").await.is_empty());
    b.screenshot("login").await;

    // A wrong password: the form again, with the error and the name kept.
    b.fill("form.login input[name=name]", "alice").await;
    b.fill("form.login input[name=password]", "not the password at all")
        .await;
    b.click("form.login button[type=submit]").await;
    assert_eq!(b.path().await, "/login");
    assert_eq!(b.text("p.error").await, "Wrong name or password.");
    assert_eq!(
        b.find("form.login input[name=name]")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    b.screenshot("login-error").await;

    // The right one: the list, what needs review first.
    log_in(&b, &c, "alice").await;
    let all = rows(&b).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(
        all[..2].iter().all(|(_, class)| class == "state-review"),
        "{all:?}"
    );
    for (r, state) in [
        (r_review, "state-review"),
        (r_evil, "state-review"),
        (r_accept, "state-accepted"),
    ] {
        assert!(all.contains(&(r.clone(), state.to_string())), "{r} {all:?}");
    }
    assert!(b.text("header.bar .who").await.contains("alice (staff)"));
    b.screenshot("requests").await;

    // The filter "review" (a link) shows the two reviews only.
    b.click_link("review").await;
    assert_eq!(b.query().await, "filter=review");
    let reviews = rows(&b).await;
    assert_eq!(reviews.len(), 2, "{reviews:?}");
    assert!(reviews.iter().all(|(_, class)| class == "state-review"));

    // Search by reference, within the filter.
    b.fill("form.search input[name=q]", r_review).await;
    b.click("form.search button[type=submit]").await;
    assert_eq!(
        rows(&b).await,
        [(r_review.clone(), "state-review".to_string())]
    );
    assert!(b.text("p.count").await.starts_with("1 request"));

    // Open it.
    b.click_link(r_review).await;
    assert_eq!(b.path().await, format!("/requests/{r_review}"));
    assert!(b.text("h1").await.contains(r_review.as_str()));
    let (state, class) = state_of(&b).await;
    assert_eq!(state, "review");
    assert!(class.split(' ').any(|c| c == "state-review"), "{class}");
    let page = b.visible_text().await;
    assert!(page.contains("shop.alpenshop-example.ch"), "{page}");
    assert!(page.contains("customer@alpenshop-example.ch"), "{page}");
    b.screenshot("request").await;

    // The hostile notification: its markup is shown as text and nothing of it runs or
    // becomes an element.
    b.goto(&c.url(&format!("/requests?q={r_evil}"))).await;
    b.click_link(r_evil).await;
    assert_eq!(b.path().await, format!("/requests/{r_evil}"));
    assert!(!b.dialog_open().await, "a dialog opened");
    let page = b.visible_text().await;
    for literal in [
        "Pen test <script>alert(1)</script> of shop.alpenshop-example.ch",
        "<img src=x onerror=alert(2)> Carla Kunde",
        "<script>alert(4)</script>",
    ] {
        assert!(
            page.contains(literal),
            "{literal} not shown as text:\n{page}"
        );
    }
    for css in [
        "script",
        "img",
        "[onerror]",
        "[onclick]",
        "iframe",
        "object",
    ] {
        assert!(b.find_all(css).await.is_empty(), "an injected {css}");
    }
    let source = b.client.source().await.unwrap();
    assert!(!source.contains("<script"), "{source}");
    assert!(!source.contains("<img"), "{source}");
    b.scroll_to("section.mail").await;
    b.screenshot("request-hostile").await;
    assert!(!b.dialog_open().await, "a dialog opened");

    say(&format!(
        "browser_signs_in_finds_a_review_and_shows_hostile_mail_as_text: {:?} after the browser started",
        t0.elapsed()
    ));
    b.close().await;
    let mut intake = c.intake;
    intake.terminate();
}

// ---------------------------------------------------------------------------------------
// 2. Actions (approve, correct) and the security team's views, against the console's HTML
//    contract: `<span id="state" class="state state-X">`, one form per action posting to
//    `/requests/REF/ACTION` with hidden `csrf` and `version`, buttons `#approve`,
//    `#correct` (`#correct-item`, `#correct-value`, `#correct-reason`), and after any action
//    the request page again with `<p id="notice">`; `/calendar`, `/account` (`#new-token`,
//    `#feed-url`), `/feeds/TOKEN.ics` and `/lookup?ip=&at=` (`#lookup-results`).

/// The state the request page shows in `#state`, checked against its class.
async fn state(b: &Browser) -> String {
    let s = b.find("#state").await;
    let text = s.text().await.unwrap();
    let class = s.attr("class").await.unwrap().unwrap_or_default();
    assert!(
        class.split(' ').any(|c| c == format!("state-{text}")),
        "#state says {text:?} with class {class:?}"
    );
    text
}

/// The `test-window.ics` of a security forward, with CRLF as LF.
fn ics_of(raw: &[u8]) -> String {
    use mail_parser::{MessageParser, MimeHeaders as _};
    let parsed = MessageParser::default().parse(raw).unwrap();
    let ics = parsed
        .attachments()
        .find(|a| a.attachment_name() == Some("test-window.ics"))
        .expect("test-window.ics attached");
    String::from_utf8_lossy(ics.contents()).replace("\r\n", "\n")
}

/// Distinct messages (internal mail caught by a kill mid-hand-over is sent again with the
/// same Message-ID: at-least-once, see the README).
fn distinct(v: &[Got]) -> usize {
    v.iter()
        .map(|g| g.message_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_approves_a_review_and_the_customer_gets_one_acceptance_even_across_kill_9() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let t0 = Instant::now();
    let mut c = Console::start(ms, "browser-approve", &[("sam", "staff")]).await;
    // Two complete notifications from a sender that could not be verified: reviews.
    let first = format!("{}@example.test", unique("br-approve"));
    let second = format!("{}@example.test", unique("br-approve-kill"));
    let refs = deliver(
        ms,
        &c,
        &[
            (&first, notification(&first, 40, "fail")),
            (&second, notification(&second, 40, "fail")),
        ],
    )
    .await;
    let (r1, r2) = (&refs[0], &refs[1]);
    log_in(&b, &c, "sam").await;

    // Find the review: the filter, then its page.
    b.click_link("review").await;
    let reviews = rows(&b).await;
    for r in [r1, r2] {
        assert!(reviews.iter().any(|(x, _)| x == r), "{r} in {reviews:?}");
    }
    b.click_link(r1).await;
    assert_eq!(state(&b).await, "review");
    let form = format!("form[method=post][action='/requests/{r1}/approve']");
    for field in ["csrf", "version"] {
        b.find(&format!("{form} input[type=hidden][name={field}]"))
            .await;
    }
    b.find(&format!("{form} button[type=submit]#approve")).await;
    // The same page in a second tab: its form (same version) is submitted again below.
    let first_tab = b.client.window().await.unwrap();
    let second_tab = b.client.new_window(true).await.unwrap().handle;
    b.client.switch_to_window(second_tab.clone()).await.unwrap();
    b.goto(&c.url(&format!("/requests/{r1}"))).await;
    b.client.switch_to_window(first_tab.clone()).await.unwrap();

    // Approve: back on the request, accepted, with a notice. The sender is not verified:
    // staff confirm they checked it, or the customer would get no mail.
    b.tick("#approve-confirm").await;
    b.click("#approve").await;
    assert_eq!(b.path().await, format!("/requests/{r1}"));
    let notice = b.text("#notice").await;
    assert!(!notice.trim().is_empty());
    assert_eq!(state(&b).await, "accepted");
    b.screenshot("request-approved").await;

    // The customer gets one acceptance, threaded to the notification; the security team
    // gets the forward with the calendar entry.
    let customer = wait_answers(
        ms,
        &c.intake,
        "customer",
        std::slice::from_ref(&first),
        Duration::from_secs(60),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(customer[&first].len(), 1, "{:?}", customer[&first]);
    let subject = header(&customer[&first][0].raw, "Subject");
    assert!(
        subject.contains(r1.as_str()) && subject.ends_with("accepted"),
        "{subject}"
    );
    let security = wait_answers(
        ms,
        &c.intake,
        "security",
        std::slice::from_ref(&first),
        Duration::from_secs(60),
        Duration::ZERO,
    )
    .await;
    assert_eq!(distinct(&security[&first]), 1);
    let ics = ics_of(&security[&first][0].raw);
    let (start, _) = window(40);
    assert!(
        ics.contains(&format!("DTSTART:{}", start.format("%Y%m%dT%H%M%SZ"))),
        "{ics}"
    );

    // The stale tab submits the same form again: nothing is done, and the page says so.
    b.client.switch_to_window(second_tab).await.unwrap();
    b.tick("#approve-confirm").await;
    b.click("#approve").await;
    // The refusal is shown where the form was posted (409), nothing changed.
    assert!(b.path().await.starts_with(&format!("/requests/{r1}")));
    let again = b.text("#notice").await;
    assert!(!again.trim().is_empty() && again != notice, "{again:?}");
    assert_eq!(state(&b).await, "accepted");
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(first_tab).await.unwrap();

    // Approve the other one and kill -9 intake the moment the answer is back; after the
    // restart the customer still hears exactly once (or, had the kill caught the reply in
    // its hand-over, staff are asked to check it instead: never twice).
    b.goto(&c.url(&format!("/requests/{r2}"))).await;
    assert_eq!(state(&b).await, "review");
    b.tick("#approve-confirm").await;
    b.click("#approve").await;
    c.intake.kill9();
    assert_eq!(b.path().await, format!("/requests/{r2}"));
    c.restart().await;
    let ids = [first.clone(), second.clone()];
    let waited = Instant::now();
    loop {
        let customer = answers(ms, "customer", &ids).await;
        let doubt = doubt_notices(ms, &ids).await;
        if !customer[&second].is_empty() || !doubt[&second].is_empty() {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "no answer to {second} after the restart\n{}",
            c.intake.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let customer = answers(ms, "customer", &ids).await;
    let doubt = doubt_notices(ms, &ids).await;
    let security = answers(ms, "security", &ids).await;
    assert_eq!(customer[&first].len(), 1, "still one acceptance for {r1}");
    assert!(doubt[&first].is_empty());
    // Never two acceptances; the customer heard, or staff were asked to check (both when
    // the kill came after the server took the reply but before intake recorded it).
    assert!(
        customer[&second].len() <= 1 && customer[&second].len() + doubt[&second].len() >= 1,
        "{r2}: {} acceptances, {} in doubt",
        customer[&second].len(),
        doubt[&second].len()
    );
    assert_eq!(distinct(&security[&first]), 1);
    assert_eq!(distinct(&security[&second]), 1);
    // The approval survived the kill (the session too: cookies do not depend on the port).
    b.goto(&c.url(&format!("/requests/{r2}"))).await;
    assert_eq!(state(&b).await, "accepted");

    say(&format!(
        "browser_approves_a_review_…: {:?} after the browser started",
        t0.elapsed()
    ));
    b.close().await;
    c.intake.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_corrects_the_zone_of_a_request_and_sees_the_new_decision() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let t0 = Instant::now();
    let mut c = Console::start(ms, "browser-correct", &[("sam", "staff")]).await;
    let id = format!("{}@example.test", unique("br-ist"));
    let refs = deliver(ms, &c, &[(&id, in_ist(&id))]).await;
    let r = &refs[0];
    log_in(&b, &c, "sam").await;
    b.goto(&c.url(&format!("/requests/{r}"))).await;
    assert_eq!(state(&b).await, "review");
    let problems = b.text("ul.problems").await;
    assert!(problems.contains("IST"), "{problems}");

    // The customer's times were India Standard Time.
    let form = format!("form[method=post][action='/requests/{r}/correct']");
    for field in ["csrf", "version"] {
        b.find(&format!("{form} input[type=hidden][name={field}]"))
            .await;
    }
    b.find(&format!("{form} #correct-item"))
        .await
        .select_by_value("zone")
        .await
        .unwrap();
    b.fill("#correct-value", "Asia/Kolkata").await;
    b.fill(
        "#correct-reason",
        "The customer confirmed India Standard Time by phone",
    )
    .await;
    b.click("#correct").await;
    assert_eq!(b.path().await, format!("/requests/{r}"));
    assert!(!b.text("#notice").await.trim().is_empty());
    // Read again in that zone: 09:00 IST is 03:30 UTC, and with that all is fine.
    assert_eq!(state(&b).await, "accepted");
    let (start, end) = window(40);
    let (start, end) = (
        start.date_naive().and_hms_opt(3, 30, 0).unwrap().and_utc(),
        end.date_naive().and_hms_opt(11, 30, 0).unwrap().and_utc(),
    );
    let page = b.visible_text().await;
    for t in [start, end] {
        let shown = t.format("%Y-%m-%d %H:%M").to_string();
        assert!(page.contains(&shown), "{shown} not on the page:\n{page}");
    }
    b.screenshot("request-corrected").await;

    // The new decision goes out once: the acceptance and the forward, in UTC.
    let customer = wait_answers(
        ms,
        &c.intake,
        "customer",
        std::slice::from_ref(&id),
        Duration::from_secs(60),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(customer[&id].len(), 1, "{:?}", customer[&id]);
    let subject = header(&customer[&id][0].raw, "Subject");
    assert!(subject.ends_with("accepted"), "{subject}");
    let security = wait_answers(
        ms,
        &c.intake,
        "security",
        std::slice::from_ref(&id),
        Duration::from_secs(60),
        Duration::ZERO,
    )
    .await;
    assert_eq!(distinct(&security[&id]), 1);
    let ics = ics_of(&security[&id][0].raw);
    for (k, t) in [("DTSTART", start), ("DTEND", end)] {
        let line = format!("{k}:{}", t.format("%Y%m%dT%H%M%SZ"));
        assert!(ics.contains(&line), "{line} not in\n{ics}");
    }

    say(&format!(
        "browser_corrects_the_zone_…: {:?} after the browser started",
        t0.elapsed()
    ));
    b.close().await;
    c.intake.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_finds_an_accepted_window_in_the_calendar_the_ics_feed_and_the_lookup() {
    let Some(ms) = shared() else { return };
    let _g = DISRUPT.read().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let t0 = Instant::now();
    let mut c = Console::start(ms, "browser-feed", &[("vera", "security")]).await;
    // A verified, complete notification: accepted by intake itself.
    let id = format!("{}@example.test", unique("br-feed"));
    let refs = deliver(ms, &c, &[(&id, notification(&id, 40, "pass"))]).await;
    let r = &refs[0];
    let (start, end) = window(40);
    log_in(&b, &c, "vera").await;

    // The security team's calendar shows the window.
    b.goto(&c.url("/calendar")).await;
    assert_eq!(b.path().await, "/calendar");
    let page = b.visible_text().await;
    assert!(
        page.contains(r.as_str()),
        "{r} not in the calendar:\n{page}"
    );
    b.screenshot("calendar").await;

    // A feed token, shown once.
    b.goto(&c.url("/account")).await;
    // The kind is "feed" unless another is chosen.
    b.click("#new-token").await;
    let feed = b.text("#feed-url").await;
    b.screenshot("account").await;
    let path = feed
        .find("/feeds/")
        .map(|at| feed[at..].trim().to_string())
        .unwrap_or_else(|| panic!("no /feeds/ URL in {feed:?}"));
    assert!(path.ends_with(".ics"), "{path}");
    b.goto(&c.url("/account")).await;
    assert!(
        !b.visible_text().await.contains(&path),
        "the feed URL is shown once"
    );

    // The feed, as a calendar client fetches it (no session): the window, in UTC.
    let (status, head, body) = http_get(&c.base, &path);
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/calendar"),
        "{head}"
    );
    let ics = body.replace("\r\n", "\n");
    assert!(ics.starts_with("BEGIN:VCALENDAR\n"), "{ics}");
    for line in [
        format!("DTSTART:{}", start.format("%Y%m%dT%H%M%SZ")),
        format!("DTEND:{}", end.format("%Y%m%dT%H%M%SZ")),
    ] {
        assert!(ics.contains(&line), "{line} not in\n{ics}");
    }
    assert!(ics.contains(r.as_str()), "{r} not in\n{ics}");
    let (status, _, _) = http_get(&c.base, "/feeds/not-a-token.ics");
    assert!(status == 403 || status == 404, "{status}");

    // The lookup: the address was announced during the window, not before it, and another
    // address not at all.
    let during =
        (start + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let before =
        (start - chrono::Duration::days(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    b.goto(&c.url(&format!("/lookup?ip=85.195.240.10&at={during}")))
        .await;
    let found = b.text("#lookup-results").await;
    assert!(found.contains(r.as_str()), "{r} not in\n{found}");
    b.screenshot("lookup").await;
    for (ip, at) in [("85.195.240.10", &before), ("198.51.100.7", &during)] {
        b.goto(&c.url(&format!("/lookup?ip={ip}&at={at}"))).await;
        for table in b.find_all("#lookup-results").await {
            let text = table.text().await.unwrap();
            assert!(!text.contains(r.as_str()), "{ip} at {at}: {text}");
        }
    }

    say(&format!(
        "browser_finds_an_accepted_window_…: {:?} after the browser started",
        t0.elapsed()
    ));
    b.close().await;
    c.intake.terminate();
}
