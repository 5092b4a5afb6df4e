#![allow(clippy::unwrap_used)]
//! `intake lookup` over 10,000 approved windows (target < 5 ms per lookup): the pure
//! `lookup` scan for a single IPv4 address, an IPv4 /16, an IPv6 address and an address no
//! window holds; and, for scale, loading the 10,000 held requests from a store (what the
//! command does before the scan).
//!
//! `cargo bench --bench lookup`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use intake::conversation::{Action, Event, RequestRecord, State};
use intake::lookup::{lookup, parse_net};
use intake::model::{Contact, Decision, Request, TestClass, Window};
use intake::store::{Identity, Record, Store};
use ipnet::IpNet;

const WINDOWS: usize = 10_000;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// A small deterministic generator (no dependency, same data every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// 10,000 requests, one window each, spread over two years (1 to 5 days long); two or three
/// originating ranges each, a fifth of them IPv6; mostly accepted, some in review, some
/// cancelled (which the scan must skip).
fn requests() -> Vec<RequestRecord> {
    let mut rng = Lcg(7);
    (0..WINDOWS)
        .map(|i| {
            let start = t0() + Duration::hours((rng.next() % (2 * 365 * 24)) as i64);
            let end = start + Duration::days(1 + (rng.next() % 5) as i64);
            let n = 2 + (rng.next() % 2) as usize;
            let ips: Vec<IpNet> = (0..n)
                .map(|_| {
                    if rng.next().is_multiple_of(5) {
                        let a = Ipv6Addr::new(
                            0x2001,
                            0x0db8,
                            (rng.next() % 65536) as u16,
                            0,
                            0,
                            0,
                            0,
                            (rng.next() % 65536) as u16,
                        );
                        IpNet::new(IpAddr::V6(a), [128, 64, 48][(rng.next() % 3) as usize])
                            .unwrap()
                            .trunc()
                    } else {
                        let a = Ipv4Addr::from((85u32 << 24) | ((rng.next() as u32) & 0x00ff_ffff));
                        IpNet::new(IpAddr::V4(a), [32, 32, 29, 24][(rng.next() % 4) as usize])
                            .unwrap()
                            .trunc()
                    }
                })
                .collect();
            let state = match rng.next() % 20 {
                0 => State::Cancelled,
                1 => State::Review,
                _ => State::Accepted,
            };
            let held = Request {
                scope: Some("web application pen test (OWASP Top 10)".into()),
                contact: Contact {
                    name: Some(format!("Contact {i}")),
                    email: Some(format!("contact{i}@customer{i}.example")),
                    phone: Some("+41 44 555 20 30".into()),
                },
                originating_ips: ips,
                bandwidth_bps: Some(20e6),
                requests_per_second: Some(50.0),
                targets: vec![format!("shop.customer{i}.example")],
                windows: vec![Window { start, end }],
            };
            RequestRecord {
                reference: format!("INT-{i:010}"),
                state,
                sender: format!("contact{i}@customer{i}.example"),
                org: format!("customer{i}.example"),
                record: held.clone(),
                test_class: TestClass::Standard,
                zone: "Europe/Zurich".into(),
                accepted: Some(held),
                sequence: 0,
                notice_from: Some(start - Duration::days(20)),
                message_ids: vec![
                    format!("m{i}@customer{i}.example"),
                    format!("INT-{i:010}.reply@amazee.io"),
                    format!("INT-{i:010}.security@amazee.io"),
                ],
                steps: 1,
                created_at: start - Duration::days(20),
                updated_at: start - Duration::days(20),
                history: vec![Event {
                    at: start - Duration::days(20),
                    message_id: Some(format!("m{i}@customer{i}.example")),
                    from: Some(format!("contact{i}@customer{i}.example")),
                    action: Action::Accepted,
                    decision: Decision::Accept,
                    state: State::Accepted,
                    changes: Vec::new(),
                    problems: Vec::new(),
                }],
                revision: 1,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rs = requests();
    // For each family, an address of a held request, at noon of its window's first day.
    let probe = |v6: bool| {
        rs.iter()
            .filter(|r| r.state == State::Accepted)
            .find_map(|r| {
                let held = r.accepted.as_ref()?;
                let n = held
                    .originating_ips
                    .iter()
                    .find(|n| matches!(n, IpNet::V6(_)) == v6)?;
                Some((
                    IpNet::from(n.network()),
                    held.windows[0].start + Duration::hours(12),
                ))
            })
            .unwrap()
    };
    let (v4, at4) = probe(false);
    let (v6, at6) = probe(true);
    let queries = [
        ("ipv4 address", v4, at4),
        ("ipv4 /16", parse_net("85.195.0.0/16").unwrap(), at4),
        ("ipv6 address", v6, at6),
        ("no match", parse_net("192.0.2.1").unwrap(), at4),
    ];
    let mut g = c.benchmark_group("lookup 10,000 windows");
    for (name, q, at) in queries {
        let hits = lookup(&rs, q, at).len();
        println!("{name} {q}: {hits} match(es) at {at}");
        g.bench_function(name, |b| {
            b.iter(|| lookup(black_box(&rs), black_box(q), at))
        });
    }
    g.finish();

    // What `intake lookup` does before the scan: the held requests from the store.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    store.begin_batch().unwrap();
    for (i, r) in rs.iter().enumerate() {
        let identity = Identity {
            folder: "INBOX".into(),
            uidvalidity: 1,
            uid: i as u64,
            message_id: Some(r.message_ids[0].clone()),
            content_hash: format!("{i:064x}"),
        };
        store
            .record(
                &Record {
                    identity: &identity,
                    sender: Some(&r.sender),
                    arrival: r.created_at,
                    decision: "accept",
                    rules_version: "bench",
                    verdict_json: "{}",
                    raw: None,
                    request: Some(r),
                },
                &[],
                r.created_at,
            )
            .unwrap();
    }
    store.commit_batch().unwrap();
    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.bench_function("load 10,000 held requests", |b| {
        b.iter(|| store.held_requests().unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
