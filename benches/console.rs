#![allow(clippy::unwrap_used)]
//! The staff console's request list over 10,000 requests (target < 100 ms of server time):
//! `render_list` filters, searches, sorts and renders the page's HTML (500 rows shown) from
//! synthetic `RequestRecord`s in every state.
//!
//! The lookup API over 10,000 approved windows (target < 5 ms of server time): the real
//! console (axum, the token check on its own connection, the held requests kept in memory)
//! on loopback over a store of 10,000 held requests, asked `GET /api/v1/lookup` with a
//! bearer token on one kept-alive connection; beside it the answer alone (scan and JSON), the
//! calendar feed and the calendar page over the same requests.
//!
//! `cargo bench --bench console`

mod common;

use std::hint::black_box;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use intake::accounts::UserRole;
use intake::clock::{Clock, FixedClock};
use intake::conversation::{Action, Event, RequestRecord, State};
use intake::metrics::Metrics;
use intake::model::{Contact, Decision, Request, TestClass, Window};
use intake::tokens::{self, TokenKind};
use intake::web::api::lookup_json;
use intake::web::feeds::feed_calendar;
use intake::web::pages::{Filter, render_list};
use intake::web::proxy::TrustedProxies;
use intake::web::security::{query, render_calendar};
use intake::web::{AppState, ConsoleSettings, HostAllowlist, LiveProbes, OutboxTarget, serve};
use ipnet::IpNet;

const REQUESTS: usize = 10_000;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

fn record(n: usize) -> RequestRecord {
    let states = [
        State::Accepted,
        State::Rejected,
        State::Review,
        State::Incomplete,
        State::Cancelled,
        State::Accepted,
    ];
    let state = states[n % states.len()];
    let t = now();
    let start = t + Duration::hours((n % 2000) as i64 - 500);
    let req = Request {
        scope: Some("external pen test of the web application".into()),
        contact: Contact {
            name: Some(format!("Contact {n}")),
            email: Some(format!("sec{n}@org{}.example", n % 997)),
            phone: Some("+41 58 555 00 00".into()),
        },
        originating_ips: vec![
            format!("203.0.{}.{}/32", n % 200, n % 250).parse().unwrap(),
            format!("2001:db8:{:x}::/48", n % 65_000).parse().unwrap(),
        ],
        bandwidth_bps: Some(1e8),
        requests_per_second: Some(300.0),
        targets: vec![
            format!("shop{n}.org{}.example", n % 997),
            format!("api{n}.org{}.example", n % 997),
        ],
        windows: vec![Window {
            start,
            end: start + Duration::hours(10),
        }],
    };
    RequestRecord {
        reference: format!("INT-{n:010}"),
        state,
        sender: format!("sec{n}@org{}.example", n % 997),
        org: format!("org{}.example", n % 997),
        record: req.clone(),
        test_class: TestClass::Standard,
        zone: "Europe/Zurich".into(),
        accepted: (state == State::Accepted).then_some(req),
        sequence: 0,
        notice_from: None,
        message_ids: vec![format!("m{n}@org.example")],
        steps: 1,
        created_at: t - Duration::hours((n % 700) as i64 + 1),
        updated_at: t - Duration::hours((n % 700) as i64),
        history: vec![Event {
            at: t - Duration::hours((n % 700) as i64),
            message_id: None,
            from: None,
            action: Action::Review,
            decision: Decision::Review,
            state,
            changes: vec![],
            problems: vec![],
        }],
        revision: 1,
        accepted_class: None,
    }
}

fn bench(c: &mut Criterion) {
    let records: Vec<RequestRecord> = (0..REQUESTS).map(record).collect();
    let mut g = c.benchmark_group("console_list_10k");
    g.bench_function("all", |b| {
        b.iter(|| black_box(render_list(&records, Filter::All, "", now(), None).unwrap()))
    });
    g.bench_function("search", |b| {
        b.iter(|| {
            black_box(render_list(&records, Filter::All, "ORG12.example", now(), None).unwrap())
        })
    });
    g.bench_function("search_address", |b| {
        b.iter(|| black_box(render_list(&records, Filter::All, "2001:db8:7", now(), None).unwrap()))
    });
    g.bench_function("upcoming", |b| {
        b.iter(|| black_box(render_list(&records, Filter::Upcoming, "", now(), None).unwrap()))
    });
    g.finish();
}

/// An HTTP/1.1 client on one kept-alive connection.
struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        Client {
            stream: BufReader::new(s),
        }
    }

    /// The status and body of `GET path` with `token` as bearer.
    fn get(&mut self, path: &str, token: &str) -> (u16, String) {
        write!(
            self.stream.get_mut(),
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut status = String::new();
        self.stream.read_line(&mut status).unwrap();
        let code = status.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        (code, String::from_utf8(body).unwrap())
    }
}

fn api(c: &mut Criterion) {
    let rs = common::requests();
    // A held request's first IPv4 address, at noon of its window's first day.
    let (v4, at) = rs
        .iter()
        .filter(|r| r.state == State::Accepted)
        .find_map(|r| {
            let held = r.accepted.as_ref()?;
            let n = held
                .originating_ips
                .iter()
                .find(|n| matches!(n, IpNet::V4(_)))?;
            Some((n.network(), held.windows[0].start + Duration::hours(12)))
        })
        .unwrap();
    let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // The store: the requests, a user and an API token.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.sqlite3");
    let mut store = common::store_with(&path, &rs);
    store
        .add_user(
            "sec",
            UserRole::Security,
            "$argon2id$bench",
            "bench",
            common::t0(),
        )
        .unwrap();
    let (_, token) = tokens::create(
        &mut store,
        "sec",
        TokenKind::Api,
        "bench",
        "bench",
        common::t0(),
    )
    .unwrap();
    drop(store);

    // The console, on a runtime of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(at));
    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::default());
        let probes = LiveProbes {
            store_path: path.clone(),
            metrics: metrics.clone(),
            clock: clock.clone(),
            mailbox_minutes: 10,
            outbox: OutboxTarget::None,
        };
        let state = AppState::new(
            HostAllowlist::new(None, addr).unwrap(),
            metrics,
            clock.clone(),
            path.clone(),
            Arc::new(probes),
            10,
            ConsoleSettings::default(),
        )
        .unwrap()
        .with_security(TrustedProxies::default(), "amazee.io")
        .unwrap();
        tokio::spawn(serve(listener, state, std::future::pending()));
        addr
    });

    let mut client = Client::connect(addr);
    let hit = format!("/api/v1/lookup?ip={v4}&at={at_text}");
    let miss = format!("/api/v1/lookup?ip=192.0.2.1&at={at_text}");
    let block = format!("/api/v1/lookup?ip=85.195.0.0/16&at={at_text}");
    // The first request reads the 10,000 requests from the store.
    let started = Instant::now();
    let (status, body) = client.get(&hit, &token);
    let cold = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let hits = serde_json::from_str::<serde_json::Value>(&body).unwrap();
    println!(
        "api: first request (reads the held requests) {cold:?}; {v4} at {at_text}: {} match(es)",
        hits.as_array().unwrap().len()
    );
    assert_eq!(client.get(&miss, &token), (200, "[]\n".to_string()));
    let mut g = c.benchmark_group("api lookup 10,000 windows");
    for (name, p) in [
        ("ipv4 address", &hit),
        ("ipv4 /16", &block),
        ("no match", &miss),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let (status, body) = client.get(p, &token);
                assert_eq!(status, 200);
                black_box(body)
            })
        });
    }
    g.bench_function("wrong token (401)", |b| {
        let wrong = "0".repeat(64);
        b.iter(|| assert_eq!(client.get(&hit, &wrong).0, 401))
    });
    g.finish();

    // The same answers in the process: scan and JSON only, and the feed and calendar page.
    let zone = chrono_tz::Europe::Zurich;
    let q = query(Some(&v4.to_string()), Some(&at_text), zone, at)
        .unwrap()
        .unwrap();
    let mut g = c.benchmark_group("security views 10,000 windows");
    g.bench_function("lookup answer (scan + JSON)", |b| {
        b.iter(|| black_box(lookup_json(&rs, q, zone).unwrap()))
    });
    let feed = feed_calendar(&rs, at, "amazee.io", "http://localhost");
    println!(
        "feed at {at_text}: {} events, {} bytes",
        feed.matches("BEGIN:VEVENT").count(),
        feed.len()
    );
    g.sample_size(20);
    g.bench_function("calendar feed", |b| {
        b.iter(|| black_box(feed_calendar(&rs, at, "amazee.io", "http://localhost")))
    });
    g.bench_function("calendar page", |b| {
        b.iter(|| black_box(render_calendar(&rs, at, zone, None).unwrap()))
    });
    g.finish();
    drop(runtime);
}

/// The request page of a request whose notification lists 20,000 addresses under one label
/// (about 300 KB): the mail shown with every item marked, the worst a customer can make it.
fn request_page(c: &mut Criterion) {
    use intake::store::{OutboxEntry, StoredMail};
    use intake::web::pages::{PageExtras, Viewer, render_request};
    let r = record(1);
    let mut body = String::from(
        "Subject: Pen test\r\nFrom: a@org1.example\r\n\r\nTarget: shop1.org1.example\r\nOriginating IPs:\r\n",
    );
    for i in 0..20_000u32 {
        body.push_str(&format!("85.{}.{}.10\r\n", i / 256, i % 256));
    }
    let mails = [StoredMail {
        id: 1,
        arrival: "2026-12-01T10:00:00Z".into(),
        decision: "review".into(),
        sender: Some("a@org1.example".into()),
        raw: Some(body.into_bytes()),
    }];
    let outbox: [OutboxEntry; 0] = [];
    let viewer = Viewer {
        name: "alice".into(),
        role: "staff".into(),
        csrf: "c".repeat(64),
    };
    let mut g = c.benchmark_group("console_request_page");
    g.bench_function("20k_listed_addresses", |b| {
        b.iter(|| {
            black_box(
                render_request(
                    &r,
                    &outbox,
                    &mails,
                    Some(&viewer),
                    chrono_tz::Europe::Zurich,
                    &PageExtras::default(),
                )
                .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench, api, request_page);
criterion_main!(benches);
