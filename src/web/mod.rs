//! The web console of `intake watch` (`[web] listen`): the staff pages (requests, one
//! request and the actions on it), sign-in, and the operations endpoints `/healthz`,
//! `/readyz` and `/metrics`. It runs on the watch loop's runtime. Pages read through a
//! read-only connection; sessions and staff actions write through short-lived connections
//! of their own, each one transaction that waits for the loop's (WAL, busy timeout), and an
//! action wakes the loop to send what it queued.
//!
//! Every response passes [`guard`]: a request whose `Host` is not on the allowlist is
//! refused (DNS rebinding), and every answer carries a strict Content-Security-Policy (no
//! script at all, no inline style, no framing), `nosniff`, no referrer, and `no-store` unless
//! the route says otherwise.

pub mod actions;
pub mod admin;
pub mod api;
pub mod evidence;
pub mod feeds;
pub mod held;
pub mod host;
pub mod metrics;
pub mod pages;
pub mod proxy;
pub mod ready;
pub mod security;
pub mod session;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tracing::{info, warn};

pub use host::HostAllowlist;
pub use ready::{LiveProbes, OutboxTarget, Probes};

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::StoreReader;

/// `[web]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Where the console listens.
    pub listen: SocketAddr,
    /// The names the console answers to.
    pub allowed_hosts: HostAllowlist,
    /// `/readyz` fails when the mailbox was not reached for longer than this.
    pub ready_mailbox_minutes: u32,
    /// Session cookies carry `Secure`.
    pub secure_cookies: bool,
    /// How long a session lasts.
    pub session_hours: u32,
    /// Reverse proxies whose forwarding headers are believed (single sign-on).
    pub proxies: proxy::TrustedProxies,
    /// Where people open the console (staff mail links each request there).
    pub public_url: Option<String>,
}

/// Default of `ready_mailbox_minutes`.
pub const DEFAULT_READY_MAILBOX_MINUTES: u32 = 10;
/// Default of `session_hours`.
pub const DEFAULT_SESSION_HOURS: u32 = 8;

/// How the staff console signs people in and shows times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleSettings {
    pub secure_cookies: bool,
    pub session_hours: u32,
    /// Zone for local times when a request names none.
    pub zone: chrono_tz::Tz,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings {
            secure_cookies: false,
            session_hours: DEFAULT_SESSION_HOURS,
            zone: chrono_tz::Europe::Zurich,
        }
    }
}

/// The policy on every response: nothing runs, styles and images only from here, forms
/// only post here, and no page may be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("assets/intake.css");
const INDEX: &str = include_str!("assets/index.html");

/// What the handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    hosts: HostAllowlist,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    store_path: PathBuf,
    /// Opened on first use, and again after an error.
    reader: Mutex<Option<StoreReader>>,
    probes: Arc<dyn Probes>,
    pages: minijinja::Environment<'static>,
    ready_mailbox_minutes: u32,
    secure_cookies: bool,
    session_hours: u32,
    zone: chrono_tz::Tz,
    login_csrf: session::LoginCsrf,
    limiter: Mutex<session::RateLimiter>,
    /// The security views', feed's and API's own (see [`AppState::with_security`]).
    security: security::Extras,
    /// Set when the console may act on requests (inside `intake watch`).
    actions: Option<actions::Actions>,
}

impl AppState {
    /// The state for a console over the store at `store_path` (read only) and the loop's
    /// `metrics`, answering to `hosts`, with `probes` for `/readyz`.
    pub fn new(
        hosts: HostAllowlist,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        store_path: PathBuf,
        probes: Arc<dyn Probes>,
        ready_mailbox_minutes: u32,
        console: ConsoleSettings,
    ) -> Result<AppState> {
        let mut pages = minijinja::Environment::new();
        // Every page escapes what it shows, whatever its name.
        pages.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        pages.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        pages
            .add_template("index.html", INDEX)
            .context("The console's index page")?;
        Ok(AppState(Arc::new(Inner {
            hosts,
            metrics,
            clock,
            store_path,
            reader: Mutex::new(None),
            probes,
            pages,
            ready_mailbox_minutes,
            secure_cookies: console.secure_cookies,
            session_hours: console.session_hours,
            zone: console.zone,
            login_csrf: session::LoginCsrf::random(),
            limiter: Mutex::new(session::RateLimiter::default()),
            security: security::Extras::default(),
            actions: None,
        })))
    }

    /// Lets the console act on requests with `actions` (call before the state is shared).
    pub fn with_actions(mut self, actions: actions::Actions) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            inner.actions = Some(actions);
        }
        self
    }

    /// The login rate limiter (held for a moment, never across an await).
    fn limiter(&self) -> std::sync::MutexGuard<'_, session::RateLimiter> {
        self.0
            .limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the read-only store connection, on a blocking thread (the connection is
    /// opened on first use and again after an error).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&StoreReader) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut slot = state
                .0
                .reader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if slot.is_none() {
                *slot = Some(StoreReader::open(&state.0.store_path)?);
            }
            let reader = slot.as_ref().context("the store reader")?;
            let out = f(reader);
            if out.is_err() {
                *slot = None;
            }
            out
        })
        .await
        .context("the store read stopped")?
    }

    /// Counts from the store, on a blocking thread; `None` (and a warning) when the store
    /// cannot be read.
    async fn store_counts(&self) -> Option<metrics::StoreCounts> {
        let read = self
            .read(|reader| {
                Ok(metrics::StoreCounts {
                    outbox_queue: reader.unsent_count()?,
                    requests: reader.requests_by_state()?,
                })
            })
            .await;
        match read {
            Ok(c) => Some(c),
            Err(e) => {
                warn!(error = %format!("{e:#}"), "metrics: cannot read the store");
                None
            }
        }
    }
}

/// The console's routes, behind [`guard`].
pub fn router(state: AppState) -> Router {
    // Every form is small: a larger body is refused before any handler reads it.
    let form = || axum::extract::DefaultBodyLimit::max(session::MAX_FORM_BYTES);
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/static/intake.css", get(css))
        .route(
            "/login",
            get(session::get_login)
                .post(session::post_login)
                .layer(form()),
        )
        .route("/logout", post(session::post_logout).layer(form()))
        .route("/requests", get(pages::list))
        .route("/requests/{reference}", get(pages::request))
        .route(
            "/requests/{reference}/{action}",
            post(actions::post).layer(axum::extract::DefaultBodyLimit::max(
                actions::MAX_ACTION_FORM_BYTES,
            )),
        )
        .route("/admin", get(admin::get))
        .route("/admin/users", post(admin::post_add).layer(form()))
        .route(
            "/admin/users/{name}/{what}",
            post(admin::post_user).layer(form()),
        )
        .route("/calendar", get(security::calendar_page))
        .route("/lookup", get(security::lookup_page))
        .route("/account", get(feeds::account))
        .route("/account/tokens", post(feeds::create_token).layer(form()))
        .route(
            "/account/tokens/{id}/revoke",
            post(feeds::revoke_token).layer(form()),
        )
        .route("/feeds/{file}", get(feeds::feed))
        .route("/api/v1/lookup", get(api::lookup))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Serves the console on `listener` until `shutdown` completes, then finishes the requests
/// in hand. Tests bind port 0 and pass the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A console running on the current runtime; stopped by [`Running::stop`] (or aborted when
/// dropped, e.g. when the loop ends with an error).
pub struct Running {
    /// The address it listens on (the port is the one chosen when `listen` says port 0).
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Binds `config.listen` and spawns the console.
pub async fn start(config: &WebConfig, state: AppState) -> Result<Running> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("web.listen: cannot listen on {}", config.listen))?;
    let addr = listener
        .local_addr()
        .context("web.listen: the bound address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(e) = serve(listener, state, shutdown).await {
            warn!(error = %e, "web console stopped");
        }
    });
    info!(addr = %addr, url = %format!("http://{addr}/"), "web console listening");
    Ok(Running {
        addr,
        stop: Some(stop),
        task,
    })
}

impl Running {
    /// Stops accepting, lets requests in hand finish (a few seconds at most), and returns.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(StdDuration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            warn!("web console: requests still open after 5 seconds; closed");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Refuses requests for hosts not on the allowlist, and puts the security headers on every
/// response (also on refusals and 404s).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let hosts: Vec<&HeaderValue> = req.headers().get_all(header::HOST).iter().collect();
    let mut response = match hosts.as_slice() {
        [] => (StatusCode::BAD_REQUEST, "400 Bad Request: no Host header\n").into_response(),
        [one] => {
            let named = one.to_str().ok();
            // An absolute request target (`GET http://name/ HTTP/1.1`) must name a
            // listed host too.
            let target_ok = req
                .uri()
                .authority()
                .is_none_or(|a| state.0.hosts.allows(a.as_str()));
            if named.is_some_and(|h| state.0.hosts.allows(h)) && target_ok {
                next.run(req).await
            } else {
                (
                    StatusCode::MISDIRECTED_REQUEST,
                    "421 Misdirected Request: this server does not answer to that host name\n",
                )
                    .into_response()
            }
        }
        _ => (
            StatusCode::BAD_REQUEST,
            "400 Bad Request: more than one Host header\n",
        )
            .into_response(),
    };
    security_headers(response.headers_mut());
    response
}

/// The headers every response carries.
fn security_headers(h: &mut HeaderMap) {
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

const TEXT: &str = "text/plain; charset=utf-8";

async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, TEXT)], "ok\n").into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let (ready, text) = ready::readiness(state.0.probes.as_ref()).await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CONTENT_TYPE, TEXT)], text).into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let counts = state.store_counts().await;
    let text = metrics::render(&state.0.metrics, counts.as_ref(), state.0.clock.now());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        CSS,
    )
        .into_response()
}

async fn index(State(state): State<AppState>) -> Response {
    let page = state.0.pages.get_template("index.html").and_then(|t| {
        t.render(minijinja::context! {
            version => env!("CARGO_PKG_VERSION"),
            ready_mailbox_minutes => state.0.ready_mailbox_minutes,
        })
    });
    match page {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            warn!(error = %e, "web console: the index page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, TEXT)],
                "500 Internal Server Error\n",
            )
                .into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, TEXT)],
        "404 Not Found\n",
    )
        .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone as _, Utc};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::clock::FixedClock;
    use crate::web::ready::tests::Fake;

    /// A response as read off the wire.
    struct Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            let mut found = self
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name));
            let first = found.next().map(|(_, v)| v.as_str());
            assert!(found.next().is_none(), "{name} twice");
            first
        }
    }

    /// Sends `request` as written and reads the whole answer (the server closes).
    async fn exchange(addr: SocketAddr, request: &str) -> Answer {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        c.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_string(), v.trim().to_string())
            })
            .collect();
        Answer {
            status,
            headers,
            body: body.to_string(),
        }
    }

    async fn get(addr: SocketAddr, path: &str, host: &str) -> Answer {
        exchange(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await
    }

    struct Console {
        addr: SocketAddr,
        metrics: Arc<Metrics>,
        _stop: tokio::sync::oneshot::Sender<()>,
        _dir: tempfile::TempDir,
        store: crate::store::Store,
    }

    async fn console(probes: Fake) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let store_path = dir.path().join("s.db");
        let store = crate::store::Store::open(&store_path).unwrap();
        let metrics = Arc::new(Metrics::default());
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hosts = HostAllowlist::new(None, addr).unwrap();
        let state = AppState::new(
            hosts,
            metrics.clone(),
            Arc::new(FixedClock::new(now)),
            store_path,
            Arc::new(probes),
            10,
            ConsoleSettings::default(),
        )
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Console {
            addr,
            metrics,
            _stop: stop,
            _dir: dir,
            store,
        }
    }

    fn healthy() -> Fake {
        Fake {
            store: Ok("writable".into()),
            mailbox: Ok("reached 1 s ago".into()),
            outbox: Ok("fine".into()),
            outbox_hangs: false,
        }
    }

    fn assert_security_headers(a: &Answer, what: &str) {
        assert_eq!(
            a.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY),
            "{what}"
        );
        assert_eq!(
            a.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{what}");
        assert_eq!(a.header("x-frame-options"), Some("DENY"), "{what}");
        let csp = CONTENT_SECURITY_POLICY;
        assert!(
            !csp.contains("script-src") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    }

    #[tokio::test]
    async fn every_answer_carries_the_security_headers() {
        let c = console(healthy()).await;
        let host = c.addr.to_string();
        for path in [
            "/",
            "/healthz",
            "/readyz",
            "/metrics",
            "/static/intake.css",
            "/nope",
        ] {
            let a = get(c.addr, path, &host).await;
            assert_security_headers(&a, path);
            let cache = a.header("cache-control").unwrap();
            if path.starts_with("/static/") {
                assert_eq!(cache, "max-age=300");
            } else {
                assert_eq!(cache, "no-store", "{path}");
            }
        }
        let refused = get(c.addr, "/healthz", "evil.example").await;
        assert_eq!(refused.status, 421);
        assert_security_headers(&refused, "a refusal");
        assert_eq!(get(c.addr, "/nope", &host).await.status, 404);
    }

    #[tokio::test]
    async fn only_listed_hosts_are_answered() {
        let c = console(healthy()).await;
        let port = c.addr.port();
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("LocalHost:{port}"),
            "localhost".to_string(),
            format!("[::1]:{port}"),
        ] {
            let a = get(c.addr, "/healthz", &host).await;
            assert_eq!((a.status, a.body.as_str()), (200, "ok\n"), "{host}");
        }
        // DNS rebinding: the attacker's name pointed at 127.0.0.1.
        for host in [
            format!("evil.example:{port}"),
            "localhost.evil.example".to_string(),
            format!("127.0.0.2:{port}"),
            "[::2]".to_string(),
        ] {
            let a = get(c.addr, "/healthz", &host).await;
            assert_eq!(a.status, 421, "{host}");
            assert!(
                a.body.contains("does not answer to that host"),
                "{}",
                a.body
            );
        }
        // No Host at all (HTTP/1.0), two of them, or an absolute target naming another host.
        let none = exchange(c.addr, "GET /healthz HTTP/1.0\r\n\r\n").await;
        assert_eq!(none.status, 400);
        let two = exchange(
            c.addr,
            "GET /healthz HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(two.status, 400);
        let absolute = exchange(
            c.addr,
            "GET http://evil.example/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(absolute.status, 421);
    }

    #[tokio::test]
    async fn readyz_is_503_when_a_check_fails() {
        let c = console(healthy()).await;
        let a = get(c.addr, "/readyz", "localhost").await;
        assert_eq!(a.status, 200);
        assert!(a.body.starts_with("ready\n"), "{}", a.body);
        assert_eq!(a.header("content-type"), Some("text/plain; charset=utf-8"));
        let mut sick = healthy();
        sick.mailbox = Err("last reached 900 s ago".into());
        let c = console(sick).await;
        let a = get(c.addr, "/readyz", "localhost").await;
        assert_eq!(a.status, 503);
        assert!(
            a.body.contains("mailbox: FAIL: last reached 900 s ago"),
            "{}",
            a.body
        );
        assert!(a.body.contains("store: ok: writable"), "{}", a.body);
    }

    #[tokio::test]
    async fn metrics_come_from_the_loop_and_the_store() {
        use crate::web::metrics::tests::{parse, value};
        let mut c = console(healthy()).await;
        c.metrics
            .record_decision("reject", StdDuration::from_millis(2));
        // One decision with a reply waiting in the store's outbox.
        let identity = crate::store::Identity {
            folder: "INBOX".into(),
            uidvalidity: 1,
            uid: 1,
            message_id: None,
            content_hash: "h".into(),
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let outgoing = crate::model::Outgoing {
            role: crate::model::Role::Reply,
            to: "jane@example.ch".into(),
            from: "support@amazee.io".into(),
            message_id: "r@amazee.io".into(),
            raw: b"x".to_vec(),
        };
        c.store
            .record(
                &crate::store::Record {
                    identity: &identity,
                    sender: None,
                    arrival: now,
                    decision: "reject",
                    rules_version: "test",
                    verdict_json: "{}",
                    raw: None,
                    request: None,
                },
                &[outgoing],
                now,
            )
            .unwrap();
        let a = get(c.addr, "/metrics", "localhost").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("content-type"), Some(metrics::CONTENT_TYPE));
        let s = parse(&a.body);
        assert_eq!(
            value(&s, "intake_decisions_total", &[("decision", "reject")]),
            1.0
        );
        assert_eq!(value(&s, "intake_outbox_queue", &[]), 1.0);
        assert_eq!(value(&s, "intake_requests", &[("state", "accepted")]), 0.0);
        assert_eq!(value(&s, "intake_decision_seconds_count", &[]), 1.0);
    }

    #[tokio::test]
    async fn the_page_and_its_css_run_no_script_and_load_nothing_from_outside() {
        let c = console(healthy()).await;
        let page = get(c.addr, "/", "localhost").await;
        assert_eq!(page.status, 200);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            page.body
                .contains("<link rel=\"stylesheet\" href=\"/static/intake.css\">"),
            "{}",
            page.body
        );
        assert!(page.body.contains("10 minutes"), "{}", page.body);
        for inline in [
            "<script",
            "<style",
            " style=",
            " on",
            "javascript:",
            "http://",
            "https://",
        ] {
            assert!(!page.body.contains(inline), "{inline} in the page");
        }
        let css = get(c.addr, "/static/intake.css", "localhost").await;
        assert_eq!(css.status, 200);
        assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
        assert!(!css.body.contains("url(") && !css.body.contains("@import"));
    }

    #[test]
    fn pages_escape_what_they_show() {
        let state = AppState::new(
            HostAllowlist::new(None, "127.0.0.1:1".parse().unwrap()).unwrap(),
            Arc::new(Metrics::default()),
            Arc::new(FixedClock::new(
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            )),
            PathBuf::from("/nonexistent"),
            Arc::new(healthy()),
            10,
            ConsoleSettings::default(),
        )
        .unwrap();
        let mut env = state.0.pages.clone();
        env.add_template("t.txt", "{{ x }}").unwrap();
        let out = env
            .get_template("t.txt")
            .unwrap()
            .render(minijinja::context! { x => "<b>&\"" })
            .unwrap();
        assert_eq!(out, "&lt;b&gt;&amp;&quot;");
    }
}
