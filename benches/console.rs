#![allow(clippy::unwrap_used)]
//! The staff console's request list over 10,000 requests (target < 100 ms of server time):
//! `render_list` filters, searches, sorts and renders the page's HTML (500 rows shown) from
//! synthetic `RequestRecord`s in every state.
//!
//! `cargo bench --bench console`

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use intake::conversation::{Action, Event, RequestRecord, State};
use intake::model::{Contact, Decision, Request, TestClass, Window};
use intake::web::pages::{Filter, render_list};

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

criterion_group!(benches, bench);
criterion_main!(benches);
