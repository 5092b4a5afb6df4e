//! The security team's views: `/calendar` (the approved windows running now, later today
//! and in the next 7 days) and `/lookup` ("was this address announced?", the page of
//! `intake lookup`). Both read only what the security team holds: the accepted record of a
//! request that is `accepted`, or in `review` after its acceptance (as `intake lookup` and
//! the digest do); cancelled requests and requests never accepted are never shown.
//!
//! Also what the security views, the feed and the API share beyond the console's own state
//! ([`Extras`]), and their page templates (the console's layout, escaped as every page).

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use anyhow::{Result, anyhow};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tracing::warn;

use super::AppState;
use super::held::Held;
use super::pages::{Viewer, minute};
use super::proxy::TrustedProxies;
use super::session::{RequireUser, field, parse_form};
use crate::accounts::UserRole;
use crate::conversation::{RequestRecord, State as RState};
use crate::model::{Request, Window};

/// Who may read the security views: everyone signed in.
pub const READERS: [UserRole; 3] = [UserRole::Security, UserRole::Staff, UserRole::Admin];
/// How far ahead the calendar looks.
pub const CALENDAR_DAYS: i64 = 7;
/// Windows the calendar shows per section at most; the rest are counted.
pub const MAX_CALENDAR_ROWS: usize = 500;
/// Originating ranges and targets listed per window at most; the rest are counted.
const MAX_LISTED: usize = 50;

/// What the security views, the feed and the API need beyond the console's own state.
#[derive(Default)]
pub struct Extras {
    /// Reverse proxies whose headers are believed (single sign-on, HTTPS).
    pub(super) proxies: TrustedProxies,
    /// Our mail domain: calendar UIDs are `INT-…-N@domain`, as in the security forward.
    pub(super) own_domain: String,
    /// The held requests and the token checks.
    pub(super) held: Held,
}

impl AppState {
    /// The state with the trusted `proxies` and our `own_domain` (for calendar UIDs). Call
    /// it on a fresh state, before the router gets it.
    pub fn with_security(mut self, proxies: TrustedProxies, own_domain: &str) -> Result<AppState> {
        let inner = std::sync::Arc::get_mut(&mut self.0)
            .ok_or_else(|| anyhow!("the console's state is shared already"))?;
        inner.security.proxies = proxies;
        inner.security.own_domain = own_domain.to_string();
        Ok(self)
    }

    /// The held requests (kept until the store changes), on a blocking thread.
    pub(super) async fn held_requests(&self) -> Result<Arc<Vec<RequestRecord>>> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.0.security.held.requests(&state.0.store_path))
            .await
            .map_err(|e| anyhow!("the store read stopped: {e}"))?
    }

    /// `https` when the client came over HTTPS (as far as we can tell), else `http`.
    pub(super) fn scheme(&self, peer: SocketAddr, headers: &HeaderMap) -> &'static str {
        if super::session::secure_cookies(self, peer, headers) {
            "https"
        } else {
            "http"
        }
    }
}

static PAGES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    super::pages::environment(&[
        ("calendar.html", include_str!("assets/calendar.html")),
        ("lookup.html", include_str!("assets/lookup.html")),
        ("account.html", include_str!("assets/account.html")),
    ])
});

/// Renders page `name` (calendar, lookup, account) with `ctx`.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    PAGES.get_template(name)?.render(ctx)
}

/// What the security team holds of `r`: its accepted record, when it is `accepted` or in
/// `review` after an acceptance.
pub fn held(r: &RequestRecord) -> Option<&Request> {
    match r.state {
        RState::Accepted | RState::Review => r.accepted.as_ref(),
        _ => None,
    }
}

/// One approved window of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot<'a> {
    pub request: &'a RequestRecord,
    pub held: &'a Request,
    pub window: Window,
    /// Its place among the held windows (0-based): the calendar UID is `REF-{index+1}@…`.
    pub index: usize,
}

/// The calendar: approved windows running at `now`, starting later today (in the console's
/// zone), starting in the next [`CALENDAR_DAYS`] days after that, and later (accepted
/// windows are at least two weeks ahead when they are accepted, so most wait there); each
/// sorted by start, then reference.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar<'a> {
    pub running: Vec<Slot<'a>>,
    pub today: Vec<Slot<'a>>,
    pub week: Vec<Slot<'a>>,
    pub later: Vec<Slot<'a>>,
}

/// The end of the local day holding `now` in `zone` (the next local midnight).
fn end_of_day(now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&zone).date_naive() + Duration::days(1);
    let midnight = tomorrow.and_time(NaiveTime::MIN);
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        // A zone whose clocks skip midnight: an hour later exists.
        .unwrap_or_else(|| now + Duration::hours(24))
}

/// Sorts approved windows by start, then reference, then window.
fn sort(slots: &mut [Slot<'_>]) {
    slots.sort_by(|a, b| {
        (a.window.start, &a.request.reference, a.index).cmp(&(
            b.window.start,
            &b.request.reference,
            b.index,
        ))
    });
}

/// Every approved window of `requests` that has not ended at `now` (running or to come),
/// sorted by start, then reference.
pub fn open_windows(requests: &[RequestRecord], now: DateTime<Utc>) -> Vec<Slot<'_>> {
    let mut out: Vec<Slot<'_>> = requests
        .iter()
        .filter_map(|r| held(r).map(|h| (r, h)))
        .flat_map(|(request, held)| {
            held.windows
                .iter()
                .enumerate()
                .filter(move |(_, w)| w.end > now)
                .map(move |(index, w)| Slot {
                    request,
                    held,
                    window: *w,
                    index,
                })
        })
        .collect();
    sort(&mut out);
    out
}

/// The calendar at `now`, with "today" in `zone`.
pub fn calendar(requests: &[RequestRecord], now: DateTime<Utc>, zone: Tz) -> Calendar<'_> {
    let today_ends = end_of_day(now, zone);
    let horizon = today_ends.max(now) + Duration::days(CALENDAR_DAYS);
    let mut c = Calendar::default();
    for s in open_windows(requests, now) {
        if s.window.start <= now {
            c.running.push(s);
        } else if s.window.start < today_ends {
            c.today.push(s);
        } else if s.window.start < horizon {
            c.week.push(s);
        } else {
            c.later.push(s);
        }
    }
    c
}

/// The first [`MAX_LISTED`] items and how many more there are.
fn bounded(items: impl ExactSizeIterator<Item = String>) -> (Vec<String>, usize) {
    let n = items.len();
    (
        items.take(MAX_LISTED).collect(),
        n.saturating_sub(MAX_LISTED),
    )
}

#[derive(Debug, Serialize)]
struct SlotView {
    reference: String,
    state: &'static str,
    org: String,
    sender: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    ips: Vec<String>,
    ips_more: usize,
    targets: Vec<String>,
    targets_more: usize,
    start: String,
    end: String,
    local_start: String,
    local_end: String,
    zone: String,
}

fn slot_view(s: &Slot<'_>, fallback: Tz) -> SlotView {
    let zone: Tz = s.request.zone.parse().unwrap_or(fallback);
    let local = |t: DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let c = &s.held.contact;
    let (ips, ips_more) = bounded(s.held.originating_ips.iter().map(ToString::to_string));
    let (targets, targets_more) = bounded(s.held.targets.iter().cloned());
    SlotView {
        reference: s.request.reference.clone(),
        state: s.request.state.as_str(),
        org: s.request.org.clone(),
        sender: s.request.sender.clone(),
        contact_name: c.name.clone().unwrap_or_default(),
        contact_email: c.email.clone().unwrap_or_default(),
        contact_phone: c.phone.clone().unwrap_or_default(),
        ips,
        ips_more,
        targets,
        targets_more,
        start: minute(s.window.start),
        end: minute(s.window.end),
        local_start: local(s.window.start),
        local_end: local(s.window.end),
        zone: zone.name().to_string(),
    }
}

#[derive(Debug, Serialize)]
struct Section {
    id: &'static str,
    title: String,
    empty: &'static str,
    rows: Vec<SlotView>,
    more: usize,
}

fn section(
    id: &'static str,
    title: String,
    empty: &'static str,
    slots: &[Slot<'_>],
    zone: Tz,
) -> Section {
    Section {
        id,
        title,
        empty,
        rows: slots
            .iter()
            .take(MAX_CALENDAR_ROWS)
            .map(|s| slot_view(s, zone))
            .collect(),
        more: slots.len().saturating_sub(MAX_CALENDAR_ROWS),
    }
}

/// The calendar page for `requests` at `now` (today in `zone`), as seen by `viewer`.
pub fn render_calendar(
    requests: &[RequestRecord],
    now: DateTime<Utc>,
    zone: Tz,
    viewer: Option<&Viewer>,
) -> Result<String, minijinja::Error> {
    let c = calendar(requests, now, zone);
    let local_now = now.with_timezone(&zone);
    let sections = [
        section(
            "running",
            "Running now".into(),
            "No approved window is running.",
            &c.running,
            zone,
        ),
        section(
            "today",
            format!("Later today ({})", local_now.format("%a %Y-%m-%d")),
            "No more windows start today.",
            &c.today,
            zone,
        ),
        section(
            "week",
            format!("The next {CALENDAR_DAYS} days"),
            "No windows start in the next days.",
            &c.week,
            zone,
        ),
        section(
            "later",
            "Later".into(),
            "No later windows are approved.",
            &c.later,
            zone,
        ),
    ];
    render(
        "calendar.html",
        minijinja::context! {
            viewer => viewer,
            now_utc => minute(now),
            now_local => local_now.format("%Y-%m-%d %H:%M").to_string(),
            zone => zone.name(),
            sections => sections,
        },
    )
}

const HTML: &str = "text/html; charset=utf-8";

fn html(status: StatusCode, result: Result<String, minijinja::Error>) -> Response {
    match result {
        Ok(page) => (status, [(header::CONTENT_TYPE, HTML)], page).into_response(),
        Err(e) => {
            warn!(error = %e, "web console: a page failed");
            server_error()
        }
    }
}

pub(super) fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, super::TEXT)],
        "500 Internal Server Error\n",
    )
        .into_response()
}

/// `GET /calendar`.
pub async fn calendar_page(State(state): State<AppState>, user: RequireUser) -> Response {
    if let Err(r) = user.allow(&READERS) {
        return r;
    }
    let requests = match state.held_requests().await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: cannot read the held requests");
            return server_error();
        }
    };
    let now = state.0.clock.now();
    html(
        StatusCode::OK,
        render_calendar(&requests, now, state.0.zone, Some(&Viewer::from(&user))),
    )
}

/// A lookup as asked: the address or block and the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub net: ipnet::IpNet,
    pub at: DateTime<Utc>,
}

/// The `ip` and `at` of a lookup (as `intake lookup` reads them: `at` is RFC 3339 or
/// `YYYY-MM-DD HH:MM` in `zone`, default `now`); `Ok(None)` without an `ip`.
pub fn query(
    ip: Option<&str>,
    at: Option<&str>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Option<Query>, String> {
    let Some(ip) = ip.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // Bounded: an error message repeats what was asked.
    let ip: String = ip.chars().take(100).collect();
    let net = crate::lookup::parse_net(&ip)?;
    let at = match at.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => crate::lookup::parse_time(&s.chars().take(100).collect::<String>(), zone)?,
        None => now,
    };
    Ok(Some(Query { net, at }))
}

/// The lookup page: the form (with what was asked), an error, or the matches.
pub fn render_lookup(
    requests: &[RequestRecord],
    ip: &str,
    at: &str,
    asked: &Result<Option<Query>, String>,
    zone: Tz,
    viewer: Option<&Viewer>,
) -> Result<String, minijinja::Error> {
    let (error, result) = match asked {
        Err(e) => (Some(e.as_str()), None),
        Ok(None) => (None, None),
        Ok(Some(q)) => {
            let matches: Vec<_> = crate::lookup::lookup(requests, q.net, q.at)
                .iter()
                .map(|m| m.to_json(zone))
                .map(|j| serde_json::to_value(j).unwrap_or_default())
                .collect();
            (
                None,
                Some(minijinja::context! {
                    net => q.net.to_string(),
                    at_utc => q.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    at_local => q.at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string(),
                    matches => matches,
                }),
            )
        }
    };
    let shown = |s: &str| s.chars().take(100).collect::<String>();
    render(
        "lookup.html",
        minijinja::context! {
            viewer => viewer,
            ip => shown(ip),
            at => shown(at),
            zone => zone.name(),
            error => error,
            result => result,
        },
    )
}

/// `GET /lookup?ip=…&at=…`: bad input is a 400 with the form and what is wrong.
pub async fn lookup_page(State(state): State<AppState>, user: RequireUser, uri: Uri) -> Response {
    if let Err(r) = user.allow(&READERS) {
        return r;
    }
    let fields = parse_form(uri.query().unwrap_or("").as_bytes());
    let ip = field(&fields, "ip").unwrap_or("").to_string();
    let at = field(&fields, "at").unwrap_or("").to_string();
    let zone = state.0.zone;
    let asked = query(Some(&ip), Some(&at), zone, state.0.clock.now());
    let requests = match &asked {
        Ok(Some(_)) => match state.held_requests().await {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %format!("{e:#}"), "web console: cannot read the held requests");
                return server_error();
            }
        },
        _ => Arc::new(Vec::new()),
    };
    let status = if asked.is_err() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    html(
        status,
        render_lookup(
            &requests,
            &ip,
            &at,
            &asked,
            zone,
            Some(&Viewer::from(&user)),
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::model::Contact;
    use crate::web::pages::tests::record;

    fn now() -> DateTime<Utc> {
        // 09:00 in Zurich.
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    /// An accepted request `n` with one window from `from_h` to `to_h` hours from now.
    pub fn window_request(n: usize, state: RState, from_h: i64, to_h: i64) -> RequestRecord {
        let mut r = record(n, state, 1, 0);
        let w = Window {
            start: now() + Duration::hours(from_h),
            end: now() + Duration::hours(to_h),
        };
        r.record.windows = vec![w];
        if let Some(a) = &mut r.accepted {
            a.windows = vec![w];
        }
        r
    }

    fn refs(s: &[Slot<'_>]) -> Vec<String> {
        s.iter().map(|s| s.request.reference.clone()).collect()
    }

    #[test]
    fn windows_are_running_today_or_this_week_and_only_held_ones_count() {
        let mut review = window_request(6, RState::Review, 30, 40);
        review.accepted = Some(review.record.clone());
        let mut review_unaccepted = window_request(7, RState::Review, 30, 40);
        review_unaccepted.accepted = None;
        let mut cancelled = window_request(8, RState::Cancelled, -1, 5);
        cancelled.accepted = Some(cancelled.record.clone());
        let rs = vec![
            window_request(1, RState::Accepted, -2, 3),  // running
            window_request(2, RState::Accepted, 2, 5),   // later today (10:00 Zurich)
            window_request(3, RState::Accepted, 20, 30), // tomorrow
            window_request(4, RState::Accepted, 24 * 9, 24 * 10), // beyond the week
            window_request(5, RState::Accepted, -30, -2), // over
            review,
            review_unaccepted,
            cancelled,
            window_request(9, RState::Rejected, -1, 5),
        ];
        let c = calendar(&rs, now(), chrono_tz::Europe::Zurich);
        assert_eq!(refs(&c.running), ["INT-0000000001"]);
        assert_eq!(refs(&c.today), ["INT-0000000002"]);
        assert_eq!(refs(&c.week), ["INT-0000000003", "INT-0000000006"]);
        assert_eq!(refs(&c.later), ["INT-0000000004"]);
        // "Today" ends at local midnight: 23:00 UTC in Zurich in winter.
        let late = window_request(10, RState::Accepted, 14, 16); // 23:00 Zurich... 22:00 UTC
        let after = window_request(11, RState::Accepted, 15, 16); // 00:00 Zurich
        let rs = [late, after];
        let c = calendar(&rs, now(), chrono_tz::Europe::Zurich);
        assert_eq!(refs(&c.today), ["INT-0000000010"]);
        assert_eq!(refs(&c.week), ["INT-0000000011"]);
        let c = calendar(&rs, now(), chrono_tz::UTC);
        assert_eq!(refs(&c.today), ["INT-0000000010", "INT-0000000011"]);
    }

    #[test]
    fn a_rejected_change_leaves_the_accepted_window_on_the_calendar() {
        let mut r = window_request(1, RState::Accepted, 1, 4);
        // The change asked for next month; the security team holds today's window.
        r.record.windows = vec![Window {
            start: now() + Duration::days(30),
            end: now() + Duration::days(31),
        }];
        let rs = [r];
        let c = calendar(&rs, now(), chrono_tz::Europe::Zurich);
        assert_eq!(refs(&c.today), ["INT-0000000001"]);
        assert_eq!(c.today[0].window.start, now() + Duration::hours(1));
    }

    #[test]
    fn the_page_shows_contacts_times_in_both_zones_and_escapes_everything() {
        let evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>";
        let mut r = window_request(1, RState::Accepted, -1, 3);
        let held = r.accepted.as_mut().unwrap();
        held.contact = Contact {
            name: Some(evil.into()),
            email: Some("jane@example.ch".into()),
            phone: Some("+41 44 555 00 00".into()),
        };
        held.targets = vec![evil.into()];
        r.org = evil.into();
        r.zone = "America/New_York".into();
        let viewer = Viewer {
            name: "sec".into(),
            role: "security".into(),
            csrf: "c".into(),
        };
        let html = render_calendar(
            std::slice::from_ref(&r),
            now(),
            chrono_tz::Europe::Zurich,
            Some(&viewer),
        )
        .unwrap();
        assert!(html.contains("href=\"/requests/INT-0000000001\""), "{html}");
        assert!(html.contains("jane@example.ch") && html.contains("+41 44 555 00 00"));
        // minijinja writes `/` as `&#x2f;`, which a browser shows as `/`.
        let shown = html.replace("&#x2f;", "/");
        assert!(shown.contains("203.0.1.1/32"), "{html}");
        // 07:00 UTC is 02:00 in New York.
        assert!(shown.contains("2026-11-26 07:00") && shown.contains("2026-11-26 02:00"));
        assert!(shown.contains("America/New_York"));
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        for inline in ["<style", " style=", "javascript:"] {
            assert!(!html.contains(inline), "{inline}");
        }
    }

    #[test]
    fn lookup_queries_read_as_the_command_reads_them() {
        let z = chrono_tz::Europe::Zurich;
        assert_eq!(query(None, None, z, now()), Ok(None));
        assert_eq!(query(Some("  "), Some("x"), z, now()), Ok(None));
        let q = query(Some("203.0.1.1"), None, z, now()).unwrap().unwrap();
        assert_eq!((q.net.to_string(), q.at), ("203.0.1.1/32".into(), now()));
        let q = query(Some("203.0.1.0/24"), Some("2026-12-10 10:00"), z, now())
            .unwrap()
            .unwrap();
        assert_eq!(q.at, Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap());
        assert!(
            query(Some("example.ch"), None, z, now())
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(
            query(Some("192.0.2.1"), Some("tomorrow"), z, now())
                .unwrap_err()
                .contains("is not a time")
        );
        // A long input is cut in the message.
        let e = query(Some(&"x".repeat(10_000)), None, z, now()).unwrap_err();
        assert!(e.len() < 300, "{}", e.len());
    }

    #[test]
    fn the_lookup_page_lists_matches_with_contacts_and_says_when_none() {
        let r = window_request(1, RState::Accepted, -1, 3);
        let rs = [r];
        let z = chrono_tz::Europe::Zurich;
        let asked = query(Some("203.0.1.1"), None, z, now());
        let html = render_lookup(&rs, "203.0.1.1", "", &asked, z, None).unwrap();
        assert!(html.contains("href=\"/requests/INT-0000000001\""), "{html}");
        assert!(html.contains("Contact 1") && html.contains("sec1@org1.example"));
        assert!(html.contains("1 approved window"), "{html}");
        // Times as people read them: UTC, and the same in Zurich (an hour later in winter).
        assert!(
            html.contains("2026-11-26 07:00 – 2026-11-26 11:00")
                && html.contains("2026-11-26 08:00 – 2026-11-26 12:00"),
            "{html}"
        );
        let asked = query(Some("192.0.2.1"), None, z, now());
        let html = render_lookup(&rs, "192.0.2.1", "", &asked, z, None)
            .unwrap()
            .replace("&#x2f;", "/");
        assert!(
            html.contains("No approved window holds 192.0.2.1/32"),
            "{html}"
        );
        let asked = query(Some("<b>x"), None, z, now());
        let html = render_lookup(&rs, "<b>x", "", &asked, z, None).unwrap();
        assert!(html.contains("class=\"error\""), "{html}");
        assert!(
            !html.contains("<b>x") && html.contains("&lt;b&gt;x"),
            "{html}"
        );
    }
}
