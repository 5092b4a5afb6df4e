//! Each user's tokens and the calendar feed: `/account` (every signed-in user) makes feed
//! and API tokens, shows each once as a URL or key, lists them (made, last used) and revokes
//! them; `GET /feeds/TOKEN.ics` (no session: the token is the key) answers a calendar app
//! with one event per approved window running or to come.
//!
//! The feed's events carry the UIDs and `SEQUENCE` of the security forward's calendar
//! (`render::ics`), so the feed and the mailed `.ics` describe the same entries. An unknown,
//! malformed or revoked token, or one whose user may no longer use it, gets the console's
//! plain 404: nothing tells a guessed token from a revoked one or a wrong path.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tracing::warn;

use super::AppState;
use super::pages::{Viewer, minute};
use super::security::{open_windows, render, server_error};
use super::session::{RequireUser, field, parse_form};
use crate::conversation::RequestRecord;
use crate::render::{MAX_LISTED, clean, ics};
use crate::store::Store;
use crate::tokens::{self, TokenError, TokenKind, TokenOwner, TokenRow};

/// Events a feed holds at most (the earliest windows).
pub const MAX_FEED_EVENTS: usize = 5000;
/// A token's use is written to the store at most this often.
pub const USE_RECORD_SECONDS: i64 = 60;

/// The calendar feed for `requests` at `now`: one VEVENT per approved window that has not
/// ended, by start. `console` is the console's address (`http://host`), for each event's
/// link to its request.
pub fn feed_calendar(
    requests: &[RequestRecord],
    now: DateTime<Utc>,
    own_domain: &str,
    console: &str,
) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//intake//test notifications//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "X-WR-CALNAME:Approved test windows (intake)".into(),
        "REFRESH-INTERVAL;VALUE=DURATION:PT15M".into(),
        "X-PUBLISHED-TTL:PT15M".into(),
    ];
    let slots = open_windows(requests, now);
    for s in slots
        .iter()
        // The forward's calendar lists the first windows only: the same ones here.
        .filter(|s| s.index < MAX_LISTED)
        .take(MAX_FEED_EVENTS)
    {
        let r = s.request;
        let ics::Described {
            contact,
            ips,
            targets,
            scope,
        } = ics::Described::of(s.held);
        let link = format!("{console}/requests/{}", r.reference);
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!(
            "UID:{}",
            ics::uid(&r.reference, s.index, own_domain)
        ));
        lines.push(format!("SEQUENCE:{}", r.sequence));
        // No METHOD: DTSTAMP is when the entry last changed, so an unchanged feed reads
        // the same every time.
        lines.push(format!("DTSTAMP:{}", ics::ical_time(r.updated_at)));
        lines.push(format!("DTSTART:{}", ics::ical_time(s.window.start)));
        lines.push(format!("DTEND:{}", ics::ical_time(s.window.end)));
        lines.push(format!(
            "SUMMARY:{}",
            ics::escape(&format!("Announced test {}: {}", r.reference, targets))
        ));
        lines.push(format!(
            "DESCRIPTION:{}",
            ics::escape(&format!(
                "Reference: {}\nOrganization: {}\nTargets: {}\nOriginating IPs: {}\nContact: {}\nScope: {}\nRequested by: {}\nConsole: {}",
                r.reference,
                clean::one_line(&r.org, clean::ITEM_CHARS),
                targets,
                ips,
                contact,
                scope,
                clean::one_line(&r.sender, clean::ITEM_CHARS),
                link,
            ))
        ));
        lines.push(format!("URL:{link}"));
        lines.push("STATUS:CONFIRMED".into());
        lines.push("TRANSP:TRANSPARENT".into());
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    ics::folded(&lines)
}

/// The console's plain 404, the same for every token that opens nothing.
pub(super) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, super::TEXT)],
        "404 Not Found\n",
    )
        .into_response()
}

/// The console's own address as the client reached it: `http(s)://Host` (the guard has
/// checked the Host against the allowlist).
pub(super) fn base_url(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", state.scheme(peer, headers))
}

/// Whom `token` opens `kind` for (`None`: malformed, unknown, revoked, or its user may no
/// longer use it), on a blocking thread; its use is recorded at most once a minute.
pub(super) async fn authenticate(
    state: &AppState,
    token: &str,
    kind: TokenKind,
) -> anyhow::Result<Option<TokenOwner>> {
    if !tokens::well_formed(token) {
        return Ok(None);
    }
    let hash = tokens::hash(token);
    let s = state.clone();
    let owner = tokio::task::spawn_blocking(move || {
        s.0.security.held.token_owner(&s.0.store_path, &hash, kind)
    })
    .await
    .map_err(|e| anyhow::anyhow!("the token check stopped: {e}"))??
    .filter(|o| o.may_use(kind));
    if let Some(o) = &owner {
        let now = state.0.clock.now();
        if o.last_used_at
            .is_none_or(|t| now - t >= Duration::seconds(USE_RECORD_SECONDS))
        {
            // Not waited for: the answer does not depend on it.
            let (path, id) = (state.0.store_path.clone(), o.id);
            tokio::task::spawn_blocking(move || {
                if let Err(e) = Store::open_shared(&path).and_then(|s| s.token_used(id, now)) {
                    warn!(error = %format!("{e:#}"), token = id, "web console: cannot record a token's use");
                }
            });
        }
    }
    Ok(owner)
}

/// `GET /feeds/{TOKEN}.ics`: the calendar of approved windows, for a calendar app.
pub async fn feed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let owner = match authenticate(&state, token, TokenKind::Feed).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found(),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: cannot check a feed token");
            return server_error();
        }
    };
    let requests = match state.held_requests().await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %format!("{e:#}"), user = %owner.user, "web console: cannot read the held requests");
            return server_error();
        }
    };
    let body = feed_calendar(
        &requests,
        state.0.clock.now(),
        &state.0.security.own_domain,
        &base_url(&state, peer, &headers),
    );
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store, private"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"intake-windows.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, Serialize)]
struct TokenView {
    id: i64,
    kind: &'static str,
    label: String,
    created: String,
    created_by: String,
    last_used: String,
    active: bool,
    revoked: String,
}

fn token_view(t: &TokenRow) -> TokenView {
    TokenView {
        id: t.id,
        kind: t.kind.as_str(),
        label: t.label.clone(),
        created: minute(t.created_at),
        created_by: t.created_by.clone(),
        last_used: t.last_used_at.map_or_else(|| "never".into(), minute),
        active: t.is_active(),
        revoked: match (&t.revoked_at, &t.revoked_by) {
            (Some(at), by) => format!("{} by {}", minute(*at), by.as_deref().unwrap_or("?")),
            (None, _) => String::new(),
        },
    }
}

/// A token just made, shown once.
#[derive(Debug, Serialize)]
pub struct NewToken {
    pub id: i64,
    pub kind: &'static str,
    /// The feed's URL, or the API key.
    pub secret: String,
    /// How to use it (an example).
    pub example: String,
}

/// Revoked tokens listed at most (the newest).
const MAX_REVOKED_SHOWN: usize = 20;

/// The account page of `viewer` with their `tokens`, a token just made, or an error.
pub fn render_account(
    viewer: &Viewer,
    tokens: &[TokenRow],
    new: Option<&NewToken>,
    error: Option<&str>,
) -> Result<String, minijinja::Error> {
    let active: Vec<TokenView> = tokens
        .iter()
        .filter(|t| t.is_active())
        .map(token_view)
        .collect();
    let revoked: Vec<TokenView> = tokens
        .iter()
        .rev()
        .filter(|t| !t.is_active())
        .take(MAX_REVOKED_SHOWN)
        .map(token_view)
        .collect();
    render(
        "account.html",
        minijinja::context! {
            viewer => viewer,
            active => active,
            revoked => revoked,
            new => new,
            error => error,
            max_label => tokens::MAX_LABEL_CHARS,
        },
    )
}

const HTML: &str = "text/html; charset=utf-8";

fn forbidden_form() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, super::TEXT)],
        "403 Forbidden: the form's security token is missing or wrong; load /account again\n",
    )
        .into_response()
}

/// The account page with a status, after reading the user's tokens.
async fn account_page(
    state: &AppState,
    user: &RequireUser,
    status: StatusCode,
    new: Option<NewToken>,
    error: Option<String>,
) -> Response {
    let name = user.name.clone();
    let viewer = Viewer::from(user);
    let done = state
        .read(move |r| {
            let tokens = r.tokens(&name)?;
            Ok(render_account(
                &viewer,
                &tokens,
                new.as_ref(),
                error.as_deref(),
            )?)
        })
        .await;
    match done {
        Ok(html) => (status, [(header::CONTENT_TYPE, HTML)], html).into_response(),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: the account page failed");
            server_error()
        }
    }
}

/// `GET /account`: the user's tokens.
pub async fn account(State(state): State<AppState>, user: RequireUser) -> Response {
    account_page(&state, &user, StatusCode::OK, None, None).await
}

/// `POST /account/tokens` (csrf, kind, label): makes a token and shows it once.
pub async fn create_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    user: RequireUser,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    if !user.csrf_ok(field(&fields, "csrf")) {
        return forbidden_form();
    }
    let kind = match field(&fields, "kind").unwrap_or("").parse::<TokenKind>() {
        Ok(k) => k,
        Err(e) => {
            return account_page(
                &state,
                &user,
                StatusCode::BAD_REQUEST,
                None,
                Some(e.to_string()),
            )
            .await;
        }
    };
    let label = field(&fields, "label").unwrap_or("").to_string();
    let (path, name, now) = (
        state.0.store_path.clone(),
        user.name.clone(),
        state.0.clock.now(),
    );
    let made = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_shared(&path)?;
        Ok::<_, anyhow::Error>(tokens::create(&mut store, &name, kind, &label, &name, now))
    })
    .await;
    let base = base_url(&state, peer, &headers);
    match made {
        Ok(Ok(Ok((id, token)))) => {
            let new = match kind {
                TokenKind::Feed => NewToken {
                    id,
                    kind: kind.as_str(),
                    example: "Subscribe to this address in your calendar app (Thunderbird, Apple Calendar, Outlook: “subscribe to a calendar from the web”).".into(),
                    secret: format!("{base}/feeds/{token}.ics"),
                },
                TokenKind::Api => NewToken {
                    id,
                    kind: kind.as_str(),
                    example: format!(
                        "curl -H 'Authorization: Bearer {token}' '{base}/api/v1/lookup?ip=192.0.2.7'"
                    ),
                    secret: token,
                },
            };
            account_page(&state, &user, StatusCode::OK, Some(new), None).await
        }
        Ok(Ok(Err(e @ (TokenError::LongLabel | TokenError::TooMany { .. })))) => {
            account_page(
                &state,
                &user,
                StatusCode::BAD_REQUEST,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Ok(Ok(Err(e))) => {
            warn!(error = %e, user = %user.name, "web console: cannot make a token");
            server_error()
        }
        Ok(Err(e)) => {
            warn!(error = %format!("{e:#}"), "web console: cannot make a token");
            server_error()
        }
        Err(e) => {
            warn!(error = %e, "web console: making a token stopped");
            server_error()
        }
    }
}

/// `POST /account/tokens/{id}/revoke` (csrf): revokes one of the user's own tokens.
pub async fn revoke_token(
    State(state): State<AppState>,
    user: RequireUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    if !user.csrf_ok(field(&fields, "csrf")) {
        return forbidden_form();
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let (path, name, now) = (
        state.0.store_path.clone(),
        user.name.clone(),
        state.0.clock.now(),
    );
    let done = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_shared(&path)?;
        Ok::<_, anyhow::Error>(tokens::revoke(&mut store, id, Some(&name), &name, now))
    })
    .await;
    match done {
        Ok(Ok(Ok(_) | Err(TokenError::AlreadyRevoked(_)))) => {
            let mut r = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/account")],
                "303 See Other: /account\n",
            )
                .into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(super::TEXT));
            r
        }
        // Not this user's (or no such token): the same as a wrong path.
        Ok(Ok(Err(TokenError::UnknownToken(_)))) => not_found(),
        Ok(Ok(Err(e))) => {
            warn!(error = %e, "web console: cannot revoke a token");
            server_error()
        }
        Ok(Err(e)) => {
            warn!(error = %format!("{e:#}"), "web console: cannot revoke a token");
            server_error()
        }
        Err(e) => {
            warn!(error = %e, "web console: revoking a token stopped");
            server_error()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::conversation::State as RState;
    use crate::model::Window;
    use crate::web::security::tests::window_request;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    /// The calendar's lines, unfolded.
    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn one_event_per_open_window_with_the_forward_uid_and_sequence() {
        let mut two = window_request(2, RState::Accepted, 20, 30);
        let later = Window {
            start: now() + Duration::days(3),
            end: now() + Duration::days(4),
        };
        two.accepted.as_mut().unwrap().windows.push(later);
        two.sequence = 2;
        let mut cancelled = window_request(3, RState::Cancelled, 5, 6);
        cancelled.accepted = Some(cancelled.record.clone());
        let rs = vec![
            window_request(1, RState::Accepted, -2, 3),
            two,
            cancelled,
            window_request(4, RState::Accepted, -30, -2),
            window_request(5, RState::Rejected, 5, 6),
        ];
        let ics = feed_calendar(&rs, now(), "amazee.io", "https://intake.example");
        let lines = unfolded(&ics);
        assert_eq!(lines.first().unwrap(), "BEGIN:VCALENDAR");
        assert_eq!(lines.last().unwrap(), "END:VCALENDAR");
        let uids: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("UID:"))
            .collect();
        assert_eq!(
            uids,
            [
                "INT-0000000001-1@amazee.io",
                "INT-0000000002-1@amazee.io",
                "INT-0000000002-2@amazee.io"
            ]
        );
        let seqs: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("SEQUENCE:"))
            .collect();
        assert_eq!(seqs, ["0", "2", "2"]);
        assert!(
            lines.contains(&"DTSTART:20261126T060000Z".to_string()),
            "{ics}"
        );
        assert!(lines.contains(&"DTEND:20261126T110000Z".to_string()));
        assert!(lines.contains(&"URL:https://intake.example/requests/INT-0000000001".to_string()));
        let description = lines
            .iter()
            .find(|l| l.starts_with("DESCRIPTION:Reference: INT-0000000001"))
            .unwrap();
        for part in [
            "Contact 1\\, sec1@org1.example",
            "Originating IPs: 203.0.1.1/32",
            "Targets: shop1.org1.example",
        ] {
            assert!(description.contains(part), "{part} in {description}");
        }
        // Lines are folded at 75 octets, CRLF throughout.
        assert!(ics.split("\r\n").all(|l| l.len() <= 75));
        assert!(!ics.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn the_uid_is_the_one_the_security_forward_uses() {
        let r = window_request(7, RState::Accepted, 20, 30);
        let feed = feed_calendar(std::slice::from_ref(&r), now(), "amazee.io", "http://x");
        // The verdict the forward and the digest build their calendar from.
        let v = crate::digest::verdict_of(&r);
        let forward = ics::calendar(&v, "amazee.io", now(), &ics::Entry::FIRST);
        let uid = |s: &str| {
            unfolded(s)
                .into_iter()
                .find(|l| l.starts_with("UID:"))
                .unwrap()
        };
        assert_eq!(uid(&feed), uid(&forward));
    }

    #[test]
    fn hostile_text_cannot_break_out_of_its_property() {
        let mut r = window_request(1, RState::Accepted, 1, 3);
        let h = r.accepted.as_mut().unwrap();
        h.contact.name = Some("Eve\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil".into());
        h.targets = vec!["a;b,c\\d".into()];
        let ics = feed_calendar(&[r], now(), "amazee.io", "http://x");
        let lines = unfolded(&ics);
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
        assert!(!lines.iter().any(|l| l == "UID:evil"), "{ics}");
        assert!(ics.contains("a\\;b\\,c\\\\d"), "{ics}");
    }

    #[test]
    fn the_account_page_shows_a_new_token_once_and_lists_the_others_escaped() {
        let viewer = Viewer {
            name: "alice".into(),
            role: "security".into(),
            csrf: "CSRF".into(),
        };
        let row = |id, kind, revoked: bool| TokenRow {
            id,
            user: "alice".into(),
            kind,
            label: "<b>laptop</b>".into(),
            created_at: now(),
            created_by: "alice".into(),
            last_used_at: None,
            revoked_at: revoked.then(now),
            revoked_by: revoked.then(|| "alice".into()),
        };
        let new = NewToken {
            id: 1,
            kind: "feed",
            secret: "http://localhost/feeds/abc.ics".into(),
            example: "x".into(),
        };
        let html = render_account(
            &viewer,
            &[row(1, TokenKind::Feed, false), row(2, TokenKind::Api, true)],
            Some(&new),
            None,
        )
        .unwrap();
        // minijinja writes `/` as `&#x2f;`, which a browser shows (and copies) as `/`.
        assert!(
            html.replace("&#x2f;", "/")
                .contains("http://localhost/feeds/abc.ics"),
            "{html}"
        );
        assert!(
            html.contains("action=\"/account/tokens/1/revoke\""),
            "{html}"
        );
        assert!(
            !html.contains("action=\"/account/tokens/2/revoke\""),
            "{html}"
        );
        assert!(html.contains("name=\"csrf\" value=\"CSRF\""), "{html}");
        assert!(html.contains("&lt;b&gt;laptop"), "{html}");
        assert!(!html.contains("<b>laptop"));
        let again = render_account(
            &viewer,
            &[row(1, TokenKind::Feed, false)],
            None,
            Some("<x>"),
        )
        .unwrap();
        assert!(!again.contains("/feeds/abc.ics"));
        assert!(again.contains("&lt;x&gt;"));
    }
}
