//! Sign-in for the staff console: sessions, CSRF tokens, the login rate limit, and the
//! [`RequireUser`] guard.
//!
//! A session is a random 256-bit token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
//! with `[web] secure_cookies`); the store keeps only its SHA-256 (`sessions`, migration 9),
//! with the user, role, expiry and the session's CSRF token, which every POST form carries.
//! The login form, before any session exists, is protected by a signed double-submit cookie:
//! a random value in a cookie, signed with a key the process draws at start, that the form
//! must repeat. Failed logins are limited in memory, over [`FAILURE_WINDOW_MINUTES`] minutes:
//! [`MAX_FAILURES`] per name from one client address, and [`MAX_SPREAD_FAILURES`] per address
//! (many names tried) and per name (tried from many addresses). One person mistyping cannot
//! lock out everyone behind the same address, nor anyone lock a colleague out with a few
//! tries; a guesser still gets only a few dozen tries per quarter hour, each an argon2 hash
//! against a password of 12 characters or more. Behind a trusted proxy the client address is
//! the one the proxy puts last in `X-Forwarded-For`.
//!
//! Beside sessions, a reverse proxy listed in `[web] trusted_proxies` may sign people in
//! (single sign-on, [`super::proxy`]): its `trusted_proxy_header` names an existing user,
//! who then needs no session; their forms carry a CSRF token signed with the process's key.
//!
//! The web console writes the store only here (sessions and the `actions` log), each time
//! on a short-lived connection of its own ([`Store::open_shared`]: WAL lets it read while the
//! watch loop writes, and its writes wait for the loop's transactions through the busy
//! timeout), on a blocking thread.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use tracing::warn;

use super::AppState;
use crate::accounts::UserRole;
use crate::store::Store;

/// The session cookie.
pub const SESSION_COOKIE: &str = "intake_session";
/// The login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "intake_login";
/// Failed logins allowed for one name from one client address within the window.
pub const MAX_FAILURES: usize = 5;
/// Failed logins allowed from one address (any names), or for one name (any addresses).
pub const MAX_SPREAD_FAILURES: usize = 30;
/// The window of the login rate limit.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// Keys (addresses and names) the rate limiter remembers at most.
const MAX_LIMITER_KEYS: usize = 10_000;
/// How long a login form stays valid.
const LOGIN_FORM_SECONDS: i64 = 3600;
/// A form body larger than this is refused.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex(&b)
}

/// What the store keeps of a session token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, with `Max-Age`, `Secure` when asked.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> String {
    let mut c =
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n == name).then_some(v)
        })
}

/// The login form's CSRF protection: a random value, and the cookie that vouches for it.
pub struct LoginCsrf {
    key: [u8; 32],
}

impl LoginCsrf {
    /// With a key of its own (drawn at start: forms from before a restart are refused).
    pub fn new(key: [u8; 32]) -> LoginCsrf {
        LoginCsrf { key }
    }

    /// A random key.
    pub fn random() -> LoginCsrf {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        LoginCsrf { key }
    }

    fn sign(&self, value: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(b"intake login csrf\0");
        h.update(value.as_bytes());
        hex(&h.finalize())
    }

    /// A fresh value for the form and the cookie value (`value.signature`) that goes with it.
    pub fn issue(&self) -> (String, String) {
        let value = random_token();
        let cookie = format!("{value}.{}", self.sign(&value));
        (value, cookie)
    }

    /// The CSRF token of a user signed in by a trusted proxy (who has no session row to
    /// keep one in): their name signed with the key, apart from the login form's values.
    pub fn for_proxy_user(&self, name: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(b"intake proxy user csrf\0");
        h.update(name.as_bytes());
        hex(&h.finalize())
    }

    /// Whether the form's `field` is the value the cookie vouches for, signed by us.
    pub fn check(&self, cookie: Option<&str>, field: Option<&str>) -> bool {
        let (Some(cookie), Some(field)) = (cookie, field) else {
            return false;
        };
        let Some((value, signature)) = cookie.split_once('.') else {
            return false;
        };
        value.len() == 64 && same(&self.sign(value), signature) && same(value, field)
    }
}

/// Failed logins in the last window, per key (`pair:…` for a name from an address, `ip:…`,
/// `user:…`).
#[derive(Debug, Default)]
pub struct RateLimiter {
    failures: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl RateLimiter {
    fn window() -> Duration {
        Duration::minutes(FAILURE_WINDOW_MINUTES)
    }

    fn recent(&self, key: &str, now: DateTime<Utc>) -> usize {
        self.failures.get(key).map_or(0, |f| {
            f.iter().filter(|t| now - **t < Self::window()).count()
        })
    }

    /// How many failures `key` is allowed.
    fn limit(key: &str) -> usize {
        if key.starts_with("pair:") {
            MAX_FAILURES
        } else {
            MAX_SPREAD_FAILURES
        }
    }

    /// Whether any of `keys` has used up its failures.
    pub fn blocked(&self, keys: &[String], now: DateTime<Utc>) -> bool {
        keys.iter().any(|k| self.recent(k, now) >= Self::limit(k))
    }

    /// Counts a failed login against each of `keys`.
    pub fn fail(&mut self, keys: &[String], now: DateTime<Utc>) {
        for key in keys {
            if !self.failures.contains_key(key) && self.failures.len() >= MAX_LIMITER_KEYS {
                self.failures
                    .retain(|_, f| f.back().is_some_and(|t| now - *t < Self::window()));
                if self.failures.len() >= MAX_LIMITER_KEYS {
                    // Forget the key whose last failure is oldest.
                    if let Some(oldest) = self
                        .failures
                        .iter()
                        .min_by_key(|(_, f)| f.back().copied())
                        .map(|(k, _)| k.clone())
                    {
                        self.failures.remove(&oldest);
                    }
                }
            }
            let f = self.failures.entry(key.clone()).or_default();
            while f.front().is_some_and(|t| now - *t >= Self::window()) {
                f.pop_front();
            }
            f.push_back(now);
            while f.len() > Self::limit(key) {
                f.pop_front();
            }
        }
    }

    /// A successful login clears the failures of its name (not of its address).
    pub fn succeed(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The rate limiter's keys for a login from `ip` as `name`.
pub fn limiter_keys(ip: std::net::IpAddr, name: &str) -> Vec<String> {
    let name = bounded_name(name);
    vec![
        format!("pair:{ip}|{name}"),
        format!("ip:{ip}"),
        format!("user:{name}"),
    ]
}

/// A name as tried, bounded (it is logged).
fn bounded_name(name: &str) -> String {
    name.chars().take(64).collect()
}

/// The fields of an `application/x-www-form-urlencoded` body or query string.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .take(32)
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = it.next().unwrap_or_default();
            let v = it.next().unwrap_or_default();
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// The first value of `name` in `fields`.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn url_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = s.get(i + 1).and_then(|c| (*c as char).to_digit(16));
                let lo = s.get(i + 2).and_then(|c| (*c as char).to_digit(16));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A signed-in user, for handlers that need one: no session (or an expired one) redirects
/// to `/login` (303).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequireUser {
    pub name: String,
    pub role: UserRole,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    token_hash: String,
}

impl RequireUser {
    /// Refuses (403) a user whose role is not among `roles`.
    #[allow(clippy::result_large_err)]
    pub fn allow(&self, roles: &[UserRole]) -> Result<(), Response> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(text(
                StatusCode::FORBIDDEN,
                format!(
                    "403 Forbidden: the role {} may not see this page\n",
                    self.role
                ),
            ))
        }
    }

    /// Whether `field` is this session's CSRF token.
    pub fn csrf_ok(&self, field: Option<&str>) -> bool {
        field.is_some_and(|f| same(f, &self.csrf))
    }
}

fn to_login() -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/login")],
        "303 See Other: sign in at /login\n",
    )
        .into_response()
}

/// A plain-text answer (refusals, errors).
pub(super) fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, super::TEXT)], body.into()).into_response()
}

fn server_error() -> Response {
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "500 Internal Server Error\n",
    )
}

/// Whether the console's cookies for this request carry `Secure`: always with `[web]
/// secure_cookies`, else when a trusted proxy says the client came over HTTPS.
pub fn secure_cookies(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    state.0.secure_cookies || state.0.security.proxies.https(peer.ip(), headers)
}

/// The user a trusted proxy names (single sign-on, see [`super::proxy`]): an existing user
/// with their role from the users table; an unknown name is refused (403), never created.
async fn proxy_user(state: &AppState, name: String) -> Result<RequireUser, Response> {
    let n = name.clone();
    let role = state.read(move |r| r.user_role(&n)).await;
    match role {
        Ok(Some(role)) => Ok(RequireUser {
            csrf: state.0.login_csrf.for_proxy_user(&name),
            name,
            role,
            token_hash: String::new(),
        }),
        Ok(None) => {
            warn!(user = %name, "web console: the proxy names a user who has no account");
            Err(text(
                StatusCode::FORBIDDEN,
                format!(
                    "403 Forbidden: the proxy signed in {name}, who has no account here (an admin adds one with `intake user add`)\n"
                ),
            ))
        }
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: cannot read a user");
            Err(server_error())
        }
    }
}

impl FromRequestParts<AppState> for RequireUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // A trusted proxy's word comes first; from any other peer its header is ignored.
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            match state.0.security.proxies.user(peer.ip(), &parts.headers) {
                super::proxy::Forwarded::User(name) => return proxy_user(state, name).await,
                super::proxy::Forwarded::Invalid => {
                    return Err(text(
                        StatusCode::FORBIDDEN,
                        "403 Forbidden: the proxy's user header names no valid user\n",
                    ));
                }
                super::proxy::Forwarded::None => {}
            }
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(to_login());
        }
        let hash = token_hash(token);
        let path = state.0.store_path.clone();
        let now = state.0.clock.now();
        let h = hash.clone();
        let found =
            tokio::task::spawn_blocking(move || Store::open_shared(&path)?.session(&h, now)).await;
        match found {
            Ok(Ok(Some(row))) => Ok(RequireUser {
                name: row.user,
                role: row.role,
                csrf: row.csrf,
                token_hash: hash,
            }),
            Ok(Ok(None)) => Err(to_login()),
            Ok(Err(e)) => {
                warn!(error = %format!("{e:#}"), "web console: cannot read a session");
                Err(server_error())
            }
            Err(e) => {
                warn!(error = %e, "web console: the session read stopped");
                Err(server_error())
            }
        }
    }
}

const HTML: &str = "text/html; charset=utf-8";

/// The login page with a fresh CSRF value (and its cookie).
fn login_page(
    state: &AppState,
    secure: bool,
    status: StatusCode,
    error: Option<&str>,
    name: &str,
) -> Response {
    let (value, signed) = state.0.login_csrf.issue();
    let page = super::pages::render(
        "login.html",
        minijinja::context! { viewer => None::<()>, csrf => value, error => error, name => name },
    );
    match page {
        Ok(html) => {
            let cookie = set_cookie(LOGIN_COOKIE, &signed, "/login", LOGIN_FORM_SECONDS, secure);
            let mut r = (status, [(header::CONTENT_TYPE, HTML)], html).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            warn!(error = %e, "web console: the login page failed");
            server_error()
        }
    }
}

/// `GET /login`.
pub async fn get_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let secure = secure_cookies(&state, peer, &headers);
    login_page(&state, secure, StatusCode::OK, None, "")
}

enum LoginOutcome {
    In,
    Refused,
}

/// `POST /login`: name, password and the form's CSRF value.
pub async fn post_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    if !state
        .0
        .login_csrf
        .check(cookie(&headers, LOGIN_COOKIE), field(&fields, "csrf"))
    {
        return text(
            StatusCode::FORBIDDEN,
            "403 Forbidden: the form's security token is missing or wrong; load /login again\n",
        );
    }
    let name = field(&fields, "name").unwrap_or("").trim().to_string();
    let password = field(&fields, "password").unwrap_or("").to_string();
    let now = state.0.clock.now();
    let keys = limiter_keys(state.0.security.proxies.client(peer.ip(), &headers), &name);
    if state.limiter().blocked(&keys, now) {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "429 Too Many Requests: too many failed logins from this address or for this name; wait {FAILURE_WINDOW_MINUTES} minutes and try again\n"
            ),
        );
    }
    let path = state.0.store_path.clone();
    let hours = i64::from(state.0.session_hours);
    let token = random_token();
    let csrf = random_token();
    let (n, t, c) = (name.clone(), token_hash(&token), csrf.clone());
    let ip = peer.ip().to_string();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_shared(&path)?;
        match crate::accounts::verify_password(&store, &n, &password)? {
            Some(role) => {
                store.create_session(&t, &n, role, &c, now, now + Duration::hours(hours))?;
                Ok::<_, anyhow::Error>(LoginOutcome::In)
            }
            None => {
                let tried = bounded_name(&n);
                store.log_action(&tried, "login_failed", &tried, &format!("from {ip}"), now)?;
                Ok(LoginOutcome::Refused)
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(LoginOutcome::In)) => {
            // The name's failures are forgiven (from here and overall), not the address's.
            state.limiter().succeed(&keys[0]);
            state.limiter().succeed(&keys[2]);
            let mut r = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/requests")],
                "303 See Other: /requests\n",
            )
                .into_response();
            let secure = secure_cookies(&state, peer, &headers);
            for c in [
                set_cookie(SESSION_COOKIE, &token, "/", hours * 3600, secure),
                set_cookie(LOGIN_COOKIE, "", "/login", 0, secure),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(Ok(LoginOutcome::Refused)) => {
            state.limiter().fail(&keys, now);
            login_page(
                &state,
                secure_cookies(&state, peer, &headers),
                StatusCode::UNAUTHORIZED,
                Some("Wrong name or password."),
                &name,
            )
        }
        Ok(Err(e)) => {
            warn!(error = %format!("{e:#}"), "web console: a login failed");
            server_error()
        }
        Err(e) => {
            warn!(error = %e, "web console: a login stopped");
            server_error()
        }
    }
}

/// `POST /logout` (with the session's CSRF token): ends the session.
pub async fn post_logout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    user: RequireUser,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    if !user.csrf_ok(field(&fields, "csrf")) {
        return text(
            StatusCode::FORBIDDEN,
            "403 Forbidden: the form's security token is missing or wrong\n",
        );
    }
    let path = state.0.store_path.clone();
    let now = state.0.clock.now();
    let done = tokio::task::spawn_blocking(move || {
        let store = Store::open_shared(&path)?;
        store.delete_session(&user.token_hash)?;
        store.log_action(&user.name, "logout", &user.name, "", now)
    })
    .await;
    if !matches!(done, Ok(Ok(()))) {
        warn!("web console: a logout could not be recorded");
        return server_error();
    }
    let mut r = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/login")],
        "303 See Other: signed out\n",
    )
        .into_response();
    let c = set_cookie(
        SESSION_COOKIE,
        "",
        "/",
        0,
        secure_cookies(&state, peer, &headers),
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    #[test]
    fn the_login_page_renders_with_its_token() {
        let html = super::super::pages::render(
            "login.html",
            minijinja::context! { viewer => None::<()>, csrf => "v", error => Some("<x>"), name => "\"n" },
        )
        .unwrap();
        assert!(html.contains("name=\"csrf\" value=\"v\""), "{html}");
        assert!(
            html.contains("&lt;x&gt;") && html.contains("value=\"&quot;n\""),
            "{html}"
        );
    }

    #[test]
    fn tokens_are_random_256_bit_and_only_their_hash_is_kept() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert_ne!(h, a);
        assert_eq!(h, token_hash(&a));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cookies_are_httponly_strict_and_secure_only_when_asked() {
        assert_eq!(
            set_cookie("intake_session", "v", "/", 28800, false),
            "intake_session=v; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800"
        );
        assert!(set_cookie("a", "v", "/", 1, true).ends_with("; Secure"));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("x=1; intake_session=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("intake_login=q"));
        assert_eq!(cookie(&h, "intake_session"), Some("abc"));
        assert_eq!(cookie(&h, "intake_login"), Some("q"));
        assert_eq!(cookie(&h, "intake"), None);
    }

    #[test]
    fn the_login_csrf_cookie_must_be_ours_and_match_the_form() {
        let csrf = LoginCsrf::new([7; 32]);
        let (value, signed) = csrf.issue();
        assert!(csrf.check(Some(&signed), Some(&value)));
        assert!(!csrf.check(Some(&signed), None));
        assert!(!csrf.check(None, Some(&value)));
        assert!(!csrf.check(Some(&signed), Some(&random_token())));
        // A cookie the attacker made up (a value and a signature of their own) is refused,
        // and so is ours under another key.
        let forged = format!("{value}.{}", token_hash(&value));
        assert!(!csrf.check(Some(&forged), Some(&value)));
        assert!(!LoginCsrf::new([8; 32]).check(Some(&signed), Some(&value)));
        assert!(!csrf.check(Some("short.sig"), Some("short")));
    }

    #[test]
    fn a_name_from_one_address_gets_five_tries_and_nobody_locks_out_the_rest() {
        let mut l = RateLimiter::default();
        let ip = "192.0.2.1".parse().unwrap();
        let other: std::net::IpAddr = "198.51.100.9".parse().unwrap();
        let keys = limiter_keys(ip, "alice");
        for i in 0..5 {
            assert!(!l.blocked(&keys, t0()), "attempt {i}");
            l.fail(&keys, t0() + Duration::minutes(i));
        }
        let now = t0() + Duration::minutes(5);
        assert!(l.blocked(&keys, now));
        // The same address with another name, and the same name from elsewhere: still free
        // (one person's typos behind a shared proxy lock nobody else out).
        assert!(!l.blocked(&limiter_keys(ip, "bob"), now));
        assert!(!l.blocked(&limiter_keys(other, "alice"), now));
        // Fifteen minutes after the first failure, one slot is free again.
        assert!(l.blocked(&keys, t0() + Duration::minutes(14)));
        assert!(!l.blocked(&keys, t0() + Duration::minutes(15)));
        // Spraying many names from one address, or one name from many: 30 at most.
        let mut l = RateLimiter::default();
        for i in 0..MAX_SPREAD_FAILURES {
            l.fail(&limiter_keys(ip, &format!("n{i}")), now);
        }
        assert!(l.blocked(&limiter_keys(ip, "fresh"), now));
        assert!(!l.blocked(&limiter_keys(other, "fresh"), now));
        let mut l = RateLimiter::default();
        for i in 0..MAX_SPREAD_FAILURES {
            l.fail(
                &limiter_keys(format!("203.0.113.{i}").parse().unwrap(), "alice"),
                now,
            );
        }
        assert!(l.blocked(&limiter_keys(other, "alice"), now));
        // A success forgives the name, not the address.
        let mut l = RateLimiter::default();
        for i in 0..MAX_SPREAD_FAILURES {
            l.fail(&limiter_keys(ip, &format!("n{i}")), now);
        }
        l.succeed(&limiter_keys(ip, "n1")[2]);
        assert!(l.blocked(&limiter_keys(ip, "n1"), now));
    }

    #[test]
    fn the_limiter_stays_bounded() {
        let mut l = RateLimiter::default();
        for i in 0..(MAX_LIMITER_KEYS + 50) {
            l.fail(&[format!("user:u{i}")], t0() + Duration::seconds(i as i64));
        }
        assert!(l.len() <= MAX_LIMITER_KEYS);
        let newest = format!("user:u{}", MAX_LIMITER_KEYS + 49);
        assert_eq!(l.recent(&newest, t0() + Duration::seconds(10_049)), 1);
    }

    #[test]
    fn forms_are_decoded() {
        let f = parse_form(b"name=al%69ce&password=a+b%26c%3D&csrf=&bad=%zz");
        assert_eq!(field(&f, "name"), Some("alice"));
        assert_eq!(field(&f, "password"), Some("a b&c="));
        assert_eq!(field(&f, "csrf"), Some(""));
        assert_eq!(field(&f, "bad"), Some("%zz"));
        assert_eq!(field(&f, "none"), None);
    }

    #[test]
    fn the_guard_refuses_a_role_that_may_not_see_a_page() {
        let u = RequireUser {
            name: "sec".into(),
            role: UserRole::Security,
            csrf: "c".repeat(64),
            token_hash: String::new(),
        };
        assert!(
            u.allow(&[UserRole::Staff, UserRole::Security, UserRole::Admin])
                .is_ok()
        );
        let refused = u.allow(&[UserRole::Admin]).unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(u.csrf_ok(Some(&"c".repeat(64))));
        assert!(!u.csrf_ok(Some("c")));
        assert!(!u.csrf_ok(None));
    }

    #[test]
    fn sessions_expire_and_are_deleted() {
        let mut s = Store::in_memory().unwrap();
        crate::accounts::add_user(
            &mut s,
            "alice",
            UserRole::Staff,
            "a long password!",
            "cli:t",
            t0(),
        )
        .unwrap();
        let h = token_hash("tok");
        s.create_session(
            &h,
            "alice",
            UserRole::Staff,
            "csrf",
            t0(),
            t0() + Duration::hours(8),
        )
        .unwrap();
        let row = s.session(&h, t0() + Duration::hours(7)).unwrap().unwrap();
        assert_eq!((row.user.as_str(), row.role), ("alice", UserRole::Staff));
        assert_eq!(s.session(&h, t0() + Duration::hours(8)).unwrap(), None);
        // Deleted: even an earlier clock finds nothing now.
        assert_eq!(s.session(&h, t0()).unwrap(), None);
        assert!(
            s.actions(10)
                .unwrap()
                .iter()
                .any(|a| a.kind == "login" && a.actor == "alice")
        );
    }
}
