//! The staff console's pages: the list of requests and one request, rendered on the server
//! from templates compiled into the binary, HTML-escaped (mail content is hostile: it is
//! only ever shown as text). Ordering, filtering and search are pure functions over the
//! records ([`select`], [`render_list`]), so the benchmark and the tests need no server.

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::warn;

use super::AppState;
use super::session::{RequireUser, field, parse_form};
use crate::accounts::UserRole;
use crate::conversation::{RequestRecord, State as RState};
use crate::model::{Request, Window};
use crate::store::{ActionEntry, OutboxEntry, StoreReader, StoredMail};

/// Rows the list shows at most; the rest are counted.
pub const MAX_ROWS: usize = 500;
/// Requests the list reads from the store at most (the newest).
pub const MAX_REQUESTS: u32 = 20_000;
/// Characters of a search that are used.
pub const MAX_QUERY_CHARS: usize = 100;
/// Bytes of a mail's decoded text shown.
const MAX_MAIL_TEXT: usize = 256 * 1024;
/// Mails and outgoing messages shown per request.
const MAX_MAILS: u32 = 100;

/// The console's page templates (`layout.html` and `pages`), HTML-escaped whatever their
/// names, strict about undefined values.
pub fn environment(pages: &[(&'static str, &'static str)]) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    // Every page escapes what it shows, whatever its name.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("minute", minute_of_rfc3339);
    let layout = ("layout.html", include_str!("assets/layout.html"));
    for (name, text) in std::iter::once(&layout).chain(pages) {
        if let Err(e) = env.add_template(name, text) {
            // A unit test renders every page: this cannot ship.
            warn!(error = %e, template = name, "web console: a page template is broken");
        }
    }
    env
}

/// `2027-01-14T09:00:00+01:00` as people read it on the pages, `2027-01-14 09:00` (the zone
/// is in the column's heading); anything else as it is.
fn minute_of_rfc3339(s: String) -> String {
    match chrono::DateTime::parse_from_rfc3339(&s) {
        Ok(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => s,
    }
}

static PAGES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    environment(&[
        ("login.html", include_str!("assets/login.html")),
        ("list.html", include_str!("assets/list.html")),
        ("request.html", include_str!("assets/request.html")),
        ("admin.html", include_str!("assets/admin.html")),
    ])
});

/// Renders page `name` with `ctx`.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    PAGES.get_template(name)?.render(ctx)
}

/// Who is looking (for the header: name, role, and the sign-out form's token).
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    pub name: String,
    pub role: String,
    pub csrf: String,
}

impl From<&RequireUser> for Viewer {
    fn from(u: &RequireUser) -> Viewer {
        Viewer {
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            csrf: u.csrf.clone(),
        }
    }
}

/// Which requests the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Review,
    Upcoming,
    Running,
    Accepted,
    Rejected,
    Cancelled,
    Incomplete,
    All,
}

impl Filter {
    pub const ALL: [Filter; 8] = [
        Filter::Review,
        Filter::Upcoming,
        Filter::Running,
        Filter::Accepted,
        Filter::Rejected,
        Filter::Cancelled,
        Filter::Incomplete,
        Filter::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Review => "review",
            Filter::Upcoming => "upcoming",
            Filter::Running => "running",
            Filter::Accepted => "accepted",
            Filter::Rejected => "rejected",
            Filter::Cancelled => "cancelled",
            Filter::Incomplete => "incomplete",
            Filter::All => "all",
        }
    }

    /// The filter named `s`; `all` for anything else.
    pub fn parse(s: Option<&str>) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| Some(f.as_str()) == s)
            .unwrap_or(Filter::All)
    }

    fn admits(self, r: &RequestRecord, now: DateTime<Utc>) -> bool {
        let accepted = r.state == RState::Accepted;
        match self {
            Filter::Review => r.state == RState::Review,
            Filter::Rejected => r.state == RState::Rejected,
            Filter::Cancelled => r.state == RState::Cancelled,
            Filter::Incomplete => r.state == RState::Incomplete,
            Filter::Accepted => accepted,
            Filter::Running => accepted && windows(r).iter().any(|w| w.start <= now && now < w.end),
            Filter::Upcoming => accepted && first_start(r).is_some_and(|s| s > now),
            Filter::All => true,
        }
    }
}

/// The windows that count for a request: what the security team holds when accepted.
fn windows(r: &RequestRecord) -> &[Window] {
    held(r).windows.as_slice()
}

fn held(r: &RequestRecord) -> &Request {
    match (&r.state, &r.accepted) {
        (RState::Accepted, Some(a)) => a,
        _ => &r.record,
    }
}

fn first_start(r: &RequestRecord) -> Option<DateTime<Utc>> {
    windows(r).iter().map(|w| w.start).min()
}

/// Where a request sorts: what needs action first (review, then incomplete), then accepted
/// windows still to come or running (by start), then rejected, past and cancelled ones
/// (newest change first).
fn sort_key(r: &RequestRecord, now: DateTime<Utc>) -> (u8, i64) {
    let updated = r.updated_at.timestamp_millis();
    match r.state {
        RState::Review => (0, updated),
        RState::Incomplete => (1, updated),
        RState::Accepted => {
            match windows(r)
                .iter()
                .filter(|w| w.end > now)
                .map(|w| w.start)
                .min()
            {
                Some(start) => (2, start.timestamp_millis()),
                None => (4, -updated),
            }
        }
        RState::Rejected => (3, -updated),
        RState::Cancelled => (5, -updated),
    }
}

/// Whether `r` matches the (lowercased) search `q`: a substring of its reference, sender,
/// organization, contact, targets or originating addresses.
fn matches(r: &RequestRecord, q: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(q);
    let rec = &r.record;
    has(&r.reference)
        || has(&r.sender)
        || has(&r.org)
        || rec.contact.email.as_deref().is_some_and(has)
        || rec.contact.name.as_deref().is_some_and(has)
        || rec.targets.iter().any(|t| has(t))
        || rec
            .originating_ips
            .iter()
            .any(|ip| ip.to_string().contains(q) || ip.addr().to_string().contains(q))
}

/// The search as used: trimmed, lowercase, at most [`MAX_QUERY_CHARS`] characters.
pub fn normalize_query(q: &str) -> String {
    q.trim()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// The requests `filter` and `q` select, in the list's order.
pub fn select<'a>(
    records: &'a [RequestRecord],
    filter: Filter,
    q: &str,
    now: DateTime<Utc>,
) -> Vec<&'a RequestRecord> {
    let q = normalize_query(q);
    let mut out: Vec<(&RequestRecord, (u8, i64))> = records
        .iter()
        .filter(|r| filter.admits(r, now) && (q.is_empty() || matches(r, &q)))
        .map(|r| (r, sort_key(r, now)))
        .collect();
    out.sort_by(|a, b| {
        a.1.cmp(&b.1)
            .then_with(|| a.0.reference.cmp(&b.0.reference))
    });
    out.into_iter().map(|(r, _)| r).collect()
}

/// A time as the pages show it, to the minute (`2027-01-14 09:00`).
pub(super) fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A list bounded for a table cell: the first three, then "and N more".
fn short_list(items: &[String]) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 3 {
        s.push_str(&format!(" and {} more", items.len() - 3));
    }
    s
}

#[derive(Serialize)]
struct Row<'a> {
    reference: &'a str,
    state: &'static str,
    when: &'static str,
    org: &'a str,
    sender: &'a str,
    targets: String,
    window: String,
    updated: String,
}

/// A `q` for a link.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The list page for `records` (any order) with `filter` and search `q` at `now`, as seen
/// by `viewer` (`None`: without the header, as the benchmark renders it).
pub fn render_list(
    records: &[RequestRecord],
    filter: Filter,
    q: &str,
    now: DateTime<Utc>,
    viewer: Option<&Viewer>,
) -> Result<String, minijinja::Error> {
    let selected = select(records, filter, q, now);
    let rows: Vec<Row> = selected
        .iter()
        .take(MAX_ROWS)
        .map(|r| {
            let running = r.state == RState::Accepted
                && windows(r).iter().any(|w| w.start <= now && now < w.end);
            let past = r.state == RState::Accepted && windows(r).iter().all(|w| w.end <= now);
            Row {
                reference: &r.reference,
                state: r.state.as_str(),
                when: if running {
                    "running"
                } else if past {
                    "over"
                } else {
                    ""
                },
                org: &r.org,
                sender: &r.sender,
                targets: short_list(&held(r).targets),
                window: windows(r)
                    .iter()
                    .min()
                    .map(|w| format!("{} – {}", minute(w.start), minute(w.end)))
                    .unwrap_or_default(),
                updated: minute(r.updated_at),
            }
        })
        .collect();
    let q_shown: String = q.trim().chars().take(MAX_QUERY_CHARS).collect();
    render(
        "list.html",
        minijinja::context! {
            viewer => viewer,
            filters => Filter::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            filter => filter.as_str(),
            q_url => url_encode(&q_shown),
            q => q_shown,
            total => selected.len(),
            shown => rows.len(),
            rows => rows,
        },
    )
}

#[derive(Serialize)]
struct WindowView {
    start: String,
    end: String,
    local_start: String,
    local_end: String,
}

#[derive(Serialize)]
struct EventView {
    at: String,
    from: String,
    action: &'static str,
    decision: &'static str,
    state: &'static str,
    changes: Vec<String>,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct OutboxView {
    id: i64,
    resendable: bool,
    role: String,
    to: String,
    subject: String,
    created: String,
    delivery: String,
    delivery_class: &'static str,
}

#[derive(Serialize)]
struct MailView {
    /// The new text, cut where items were found.
    segments: Vec<super::evidence::Segment>,
    subject: String,
    from: String,
    arrival: String,
    decision: String,
    full: String,
}

fn bounded(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n[… cut]");
    }
    s
}

fn rate(x: Option<f64>, unit: &str) -> String {
    match x {
        None => "—".into(),
        Some(v) => {
            let (v, p) = if unit == "bit/s" {
                [(1e9, "G"), (1e6, "M"), (1e3, "k")]
                    .into_iter()
                    .find(|(d, _)| v >= *d)
                    .map_or((v, ""), |(d, p)| (v / d, p))
            } else {
                (v, "")
            };
            format!("{} {p}{unit}", (v * 1000.0).round() / 1000.0)
        }
    }
}

fn mail_view(m: &StoredMail, record: &Request) -> MailView {
    let (subject, new, full) = match &m.raw {
        Some(raw) => {
            let l = crate::read::read(raw);
            let t = &l.text;
            let full = [&t.new, &t.quoted, &t.signature, &t.attachments]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n");
            (l.subject.clone(), t.new.clone(), full)
        }
        None => (
            String::new(),
            "(the message's bytes were not kept)".into(),
            String::new(),
        ),
    };
    let new = bounded(new, MAX_MAIL_TEXT);
    MailView {
        segments: super::evidence::segments(&new, record),
        subject: bounded(subject, 1000),
        from: m.sender.clone().unwrap_or_default(),
        arrival: m.arrival.clone(),
        decision: m.decision.clone(),
        full: bounded(full, MAX_MAIL_TEXT),
    }
}

fn outbox_view(o: &OutboxEntry) -> OutboxView {
    let delivery = match &o.delivery {
        crate::store::Delivery::Failed(why) => format!("failed: {why}"),
        crate::store::Delivery::Sent => {
            format!("sent {}", o.sent_at.as_deref().unwrap_or(""))
        }
        crate::store::Delivery::Pending if o.attempts > 0 => {
            format!("pending ({} attempts)", o.attempts)
        }
        d => d.as_str().to_string(),
    };
    OutboxView {
        id: o.id,
        resendable: o.resendable,
        role: o.role.clone(),
        to: o.recipient.clone(),
        subject: o.subject.clone(),
        created: o.created_at.clone(),
        delivery,
        delivery_class: match &o.delivery {
            crate::store::Delivery::Sent => "sent",
            crate::store::Delivery::Failed(_) => "failed",
            crate::store::Delivery::InDoubt => "in_doubt",
            crate::store::Delivery::Pending => "pending",
        },
    }
}

fn window_views(ws: &[Window], zone: Option<chrono_tz::Tz>) -> Vec<WindowView> {
    ws.iter()
        .map(|w| {
            let local = |t: DateTime<Utc>| match zone {
                Some(z) => t.with_timezone(&z).format("%Y-%m-%d %H:%M %Z").to_string(),
                None => "—".into(),
            };
            WindowView {
                start: minute(w.start),
                end: minute(w.end),
                local_start: local(w.start),
                local_end: local(w.end),
            }
        })
        .collect()
}

/// What the request page shows besides the request: the outcome of an action just taken,
/// whether its sender was verified (the action forms ask for confirmation otherwise), and
/// the console actions taken on it.
#[derive(Debug, Clone, Default)]
pub struct PageExtras {
    /// `("done" | "refused", text)`.
    pub notice: Option<(&'static str, String)>,
    pub sender_verified: bool,
    pub actions: Vec<ActionEntry>,
}

#[derive(Serialize)]
struct ActionView {
    at: String,
    actor: String,
    kind: String,
    detail: String,
}

#[derive(Serialize)]
struct ItemView {
    value: &'static str,
    label: &'static str,
}

/// The page of one request, with the messages sent for it and the mail received.
pub fn render_request(
    r: &RequestRecord,
    outbox: &[OutboxEntry],
    mails: &[StoredMail],
    viewer: Option<&Viewer>,
    local_zone: chrono_tz::Tz,
    extras: &PageExtras,
) -> Result<String, minijinja::Error> {
    let rec = &r.record;
    let zone: Option<chrono_tz::Tz> = r.zone.parse().ok().or(Some(local_zone));
    let contact = [&rec.contact.name, &rec.contact.email, &rec.contact.phone]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let zone_label = zone.map_or_else(|| "local".to_string(), |z| z.name().to_string());
    let view = minijinja::context! {
        reference => r.reference,
        state => r.state.as_str(),
        sender => r.sender,
        org => r.org,
        class => match r.test_class {
            crate::model::TestClass::Standard => "standard",
            crate::model::TestClass::Broad => "broad",
        },
        created => minute(r.created_at),
        updated => minute(r.updated_at),
        steps => r.steps,
        scope => rec.scope.clone().unwrap_or_else(|| "—".into()),
        contact => if contact.is_empty() { "—".to_string() } else { contact },
        ips => rec.originating_ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
        bandwidth => rate(rec.bandwidth_bps, "bit/s"),
        rps => rate(rec.requests_per_second, "requests/s"),
        targets => rec.targets,
        zone => zone_label,
        windows => window_views(&rec.windows, zone),
    };
    let held_view = r
        .accepted
        .as_ref()
        .filter(|a| a.windows != rec.windows)
        .map(|a| window_views(&a.windows, zone));
    let history: Vec<EventView> = r
        .history
        .iter()
        .map(|e| EventView {
            at: minute(e.at),
            from: e.from.clone().unwrap_or_default(),
            action: e.action.as_str(),
            decision: e.decision.as_str(),
            state: e.state.as_str(),
            changes: e.changes.clone(),
            problems: e.problems.clone(),
        })
        .collect();
    render(
        "request.html",
        minijinja::context! {
            viewer => viewer,
            r => view,
            held => held_view,
            problems => r.history.last().map(|e| e.problems.clone()).unwrap_or_default(),
            history => history,
            outbox => outbox.iter().map(outbox_view).collect::<Vec<_>>(),
            mails => mails.iter().map(|m| mail_view(m, rec)).collect::<Vec<_>>(),
            can_act => viewer.is_some_and(|v| v.role == "staff" || v.role == "admin"),
            revision => r.revision,
            may_approve => matches!(r.state, RState::Review | RState::Rejected | RState::Incomplete),
            may_reject => matches!(r.state, RState::Review | RState::Rejected | RState::Incomplete),
            may_correct => r.state != RState::Cancelled,
            may_cancel => r.state != RState::Cancelled,
            change_in_review => r.accepted.is_some() && r.state == RState::Review,
            sender_verified => extras.sender_verified,
            items => crate::staff::Item::ALL.iter().map(|i| ItemView { value: i.as_str(), label: i.label() }).collect::<Vec<_>>(),
            notice => extras.notice.as_ref().map(|(kind, text)| minijinja::context! { kind => kind, text => text }),
            actions => extras.actions.iter().map(|a| ActionView {
                at: minute(a.at),
                actor: a.actor.clone(),
                kind: a.kind.clone(),
                detail: bounded(a.detail.clone(), 2000),
            }).collect::<Vec<_>>(),
        },
    )
}

const HTML: &str = "text/html; charset=utf-8";

pub fn page(result: anyhow::Result<Option<String>>) -> Response {
    match result {
        Ok(Some(html)) => ([(header::CONTENT_TYPE, HTML)], html).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, super::TEXT)],
            "404 Not Found: no such request\n",
        )
            .into_response(),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, super::TEXT)],
                "500 Internal Server Error\n",
            )
                .into_response()
        }
    }
}

/// Who may see the request pages: everyone signed in (security reads only).
const READERS: [UserRole; 3] = [UserRole::Staff, UserRole::Security, UserRole::Admin];

/// `GET /requests?filter=…&q=…`.
pub async fn list(State(state): State<AppState>, user: RequireUser, uri: Uri) -> Response {
    if let Err(r) = user.allow(&READERS) {
        return r;
    }
    let fields = parse_form(uri.query().unwrap_or("").as_bytes());
    let filter = Filter::parse(field(&fields, "filter"));
    let q = field(&fields, "q").unwrap_or("").to_string();
    let now = state.0.clock.now();
    let viewer = Viewer::from(&user);
    let done = state
        .read(move |reader| {
            let records = reader.requests(MAX_REQUESTS)?;
            Ok(Some(render_list(&records, filter, &q, now, Some(&viewer))?))
        })
        .await;
    page(done)
}

/// `GET /requests/{reference}`.
pub async fn request(
    State(state): State<AppState>,
    user: RequireUser,
    Path(reference): Path<String>,
    uri: Uri,
) -> Response {
    if let Err(r) = user.allow(&READERS) {
        return r;
    }
    let fields = parse_form(uri.query().unwrap_or("").as_bytes());
    let notice = field(&fields, "done")
        .and_then(done_text)
        .map(|t| ("done", t.to_string()));
    page(request_page(&state, &user, reference, notice).await)
}

/// What `?done=KIND` says after an action (fixed text: nothing from the query is shown).
fn done_text(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "approve" => "Approved. The messages below are queued and go out in a moment.",
        "reject" => "Rejected. The answer to the customer is queued below.",
        "correct" => "Corrected and decided again; the new decision is above.",
        "cancel" => "Cancelled. The messages below are queued and go out in a moment.",
        "resend" => "The reply is queued again with the same Message-ID.",
        _ => return None,
    })
}

/// Renders the page of request `reference` for `user`, with `notice` on top.
pub async fn request_page(
    state: &AppState,
    user: &RequireUser,
    reference: String,
    notice: Option<(&'static str, String)>,
) -> anyhow::Result<Option<String>> {
    let viewer = Viewer::from(user);
    let zone = state.0.zone;
    state
        .read(move |reader: &StoreReader| {
            let Some(r) = reader.request(&reference)? else {
                return Ok(None);
            };
            let outbox = reader.request_outbox(&reference, MAX_MAILS * 4)?;
            let mails = reader.request_mails(&reference, MAX_MAILS)?;
            let extras = PageExtras {
                notice,
                sender_verified: reader.latest_sender_verified(&reference)?,
                actions: reader.request_actions(&reference, MAX_MAILS)?,
            };
            Ok(Some(render_request(
                &r,
                &outbox,
                &mails,
                Some(&viewer),
                zone,
                &extras,
            )?))
        })
        .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use chrono::{Duration, TimeZone as _};

    use super::*;
    use crate::conversation::{Action, Event};
    use crate::model::{Contact, Decision, TestClass};

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    /// A request in `state`, updated `age_h` hours ago, with one window starting `start_d`
    /// days from now and lasting a day.
    pub fn record(n: usize, state: RState, age_h: i64, start_d: i64) -> RequestRecord {
        let t = now();
        let w = Window {
            start: t + Duration::days(start_d),
            end: t + Duration::days(start_d + 1),
        };
        let req = Request {
            scope: Some("web app pen test".into()),
            contact: Contact {
                name: Some(format!("Contact {n}")),
                email: Some(format!("sec{n}@org{}.example", n % 97)),
                phone: None,
            },
            originating_ips: vec![format!("203.0.{}.{}/32", n % 200, n % 250).parse().unwrap()],
            bandwidth_bps: Some(1e8),
            requests_per_second: Some(300.0),
            targets: vec![format!("shop{n}.org{}.example", n % 97)],
            windows: vec![w],
        };
        RequestRecord {
            reference: format!("INT-{n:010}"),
            state,
            sender: format!("sec{n}@org{}.example", n % 97),
            org: format!("org{}.example", n % 97),
            record: req.clone(),
            test_class: TestClass::Standard,
            zone: "Europe/Zurich".into(),
            accepted: (state == RState::Accepted).then_some(req),
            sequence: 0,
            notice_from: None,
            message_ids: vec![],
            steps: 1,
            created_at: t - Duration::hours(age_h + 1),
            updated_at: t - Duration::hours(age_h),
            history: vec![Event {
                at: t - Duration::hours(age_h),
                message_id: None,
                from: Some(format!("sec{n}@org{}.example", n % 97)),
                action: Action::Review,
                decision: Decision::Review,
                state,
                changes: vec![],
                problems: vec!["sender not verified".into()],
            }],
            revision: 1,
            accepted_class: None,
        }
    }

    /// `n` requests in every state, as the benchmark renders them.
    pub fn synthetic(n: usize) -> Vec<RequestRecord> {
        let states = [
            RState::Accepted,
            RState::Rejected,
            RState::Review,
            RState::Incomplete,
            RState::Cancelled,
            RState::Accepted,
        ];
        (0..n)
            .map(|i| {
                record(
                    i,
                    states[i % states.len()],
                    (i % 300) as i64,
                    (i % 60) as i64 - 20,
                )
            })
            .collect()
    }

    fn refs(v: &[&RequestRecord]) -> Vec<String> {
        v.iter().map(|r| r.reference.clone()).collect()
    }

    #[test]
    fn what_needs_action_comes_first_then_windows_by_start() {
        let records = vec![
            record(1, RState::Cancelled, 1, 5),
            record(2, RState::Accepted, 1, 10),
            record(3, RState::Rejected, 1, 5),
            record(4, RState::Review, 1, 5),
            record(5, RState::Accepted, 1, 3),
            record(6, RState::Incomplete, 1, 5),
            record(7, RState::Review, 5, 5),
            record(8, RState::Accepted, 1, -5),
            record(9, RState::Accepted, 2, 0),
        ];
        let all = select(&records, Filter::All, "", now());
        assert_eq!(
            refs(&all),
            [7, 4, 6, 9, 5, 2, 3, 8, 1].map(|n| format!("INT-{n:010}"))
        );
        let up = select(&records, Filter::Upcoming, "", now());
        assert_eq!(refs(&up), [5, 2].map(|n| format!("INT-{n:010}")));
        let running = select(&records, Filter::Running, "", now());
        assert_eq!(refs(&running), ["INT-0000000009"]);
        assert_eq!(select(&records, Filter::Accepted, "", now()).len(), 4);
        assert_eq!(select(&records, Filter::Review, "", now()).len(), 2);
        assert_eq!(select(&records, Filter::Cancelled, "", now()).len(), 1);
        assert_eq!(select(&records, Filter::Incomplete, "", now()).len(), 1);
        assert_eq!(select(&records, Filter::Rejected, "", now()).len(), 1);
        assert_eq!(Filter::parse(Some("nonsense")), Filter::All);
        assert_eq!(Filter::parse(Some("review")), Filter::Review);
    }

    #[test]
    fn search_covers_reference_sender_org_targets_and_addresses_in_any_case() {
        let records: Vec<_> = (0..5).map(|n| record(n, RState::Review, 1, 5)).collect();
        let one = |q: &str| refs(&select(&records, Filter::All, q, now()));
        assert_eq!(one("int-0000000003"), ["INT-0000000003"]);
        assert_eq!(one("  SEC2@ORG2.EXAMPLE "), ["INT-0000000002"]);
        assert_eq!(one("shop4."), ["INT-0000000004"]);
        assert_eq!(one("203.0.1.1"), ["INT-0000000001"]);
        assert_eq!(one("org3.example"), ["INT-0000000003"]);
        assert!(one("nothing-like-this").is_empty());
        assert_eq!(one("").len(), 5);
        // A long search is cut, not refused.
        assert!(one(&"x".repeat(10_000)).is_empty());
    }

    #[test]
    fn the_list_is_capped_and_says_how_many_more() {
        let records = synthetic(1200);
        let html = render_list(&records, Filter::All, "", now(), None).unwrap();
        assert_eq!(html.matches("<tr class=\"state-").count(), MAX_ROWS);
        assert!(
            html.contains("1200 requests, the first 500 shown (700 more"),
            "{html}"
        );
    }

    #[test]
    fn hostile_text_is_shown_escaped_everywhere() {
        let mut r = record(1, RState::Review, 1, 5);
        let evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>";
        r.sender = evil.into();
        r.org = evil.into();
        r.record.targets = vec![evil.into()];
        r.record.scope = Some(evil.into());
        r.history[0].problems = vec![evil.into()];
        let viewer = Viewer {
            name: "alice".into(),
            role: "staff".into(),
            csrf: "c".into(),
        };
        let list = render_list(
            std::slice::from_ref(&r),
            Filter::All,
            evil,
            now(),
            Some(&viewer),
        )
        .unwrap();
        let raw = format!(
            "From: x@y.example\r\nSubject: {evil}\r\nContent-Type: text/plain\r\n\r\n{evil}\r\n"
        );
        let mails = [StoredMail {
            id: 1,
            arrival: "2026-11-26T08:00:00Z".into(),
            decision: "review".into(),
            sender: Some(evil.into()),
            raw: Some(raw.into_bytes()),
        }];
        let outbox = [OutboxEntry {
            id: 1,
            resendable: true,
            role: "staff".into(),
            recipient: evil.into(),
            subject: evil.into(),
            created_at: "t".into(),
            sent_at: None,
            attempts: 0,
            delivery: crate::store::Delivery::InDoubt,
        }];
        let page = render_request(
            &r,
            &outbox,
            &mails,
            Some(&viewer),
            chrono_tz::UTC,
            &PageExtras {
                notice: Some(("refused", evil.into())),
                sender_verified: false,
                actions: vec![ActionEntry {
                    actor: "alice".into(),
                    at: now(),
                    kind: "reject".into(),
                    subject: r.reference.clone(),
                    detail: evil.into(),
                }],
            },
        )
        .unwrap();
        for html in [&list, &page] {
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(
                html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
                "{html}"
            );
            for inline in ["<style", " style=", "javascript:"] {
                assert!(!html.contains(inline), "{inline}");
            }
        }
        assert!(page.contains("in doubt"));
    }

    #[test]
    fn every_page_renders() {
        let admin = render(
            "admin.html",
            minijinja::context! {
                viewer => Viewer { name: "root".into(), role: "admin".into(), csrf: "c".into() },
                users => vec![minijinja::context! { name => "<b>x</b>", role => "staff", created => "t", updated => "t" }],
                log => Vec::<String>::new(),
                roles => vec!["staff"],
                min_password => 12,
                notice => None::<String>,
            },
        )
        .unwrap();
        assert!(admin.contains("&lt;b&gt;x&lt;&#x2f;b&gt;"), "{admin}");
    }
}
