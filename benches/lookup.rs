#![allow(clippy::unwrap_used)]
//! `intake lookup` over 10,000 approved windows (target < 5 ms per lookup): the pure
//! `lookup` scan for a single IPv4 address, an IPv4 /16, an IPv6 address and an address no
//! window holds; and, for scale, loading the 10,000 held requests from a store (what the
//! command does before the scan).
//!
//! `cargo bench --bench lookup`

mod common;

use std::hint::black_box;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use intake::conversation::State;
use intake::lookup::{lookup, parse_net};
use ipnet::IpNet;

use common::requests;

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
    let store = common::store_with(&dir.path().join("intake.sqlite3"), &rs);
    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.bench_function("load 10,000 held requests", |b| {
        b.iter(|| store.held_requests().unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
