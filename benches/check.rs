#![allow(clippy::unwrap_used)]
//! Per-message `check` on a typical notification and on a 10 MB message with attachments,
//! each beside a bare mail-parser parse of the same bytes.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use intake::check::{Arrival, check};
use intake::config::Rules;

fn typical() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/bench/typical.eml"
    ))
    .expect("fixtures/bench/typical.eml")
}

/// The typical notification with a 10 MB PDF-like attachment and a CSV of addresses.
fn large() -> Vec<u8> {
    let text = String::from_utf8(typical()).expect("utf-8 fixture");
    let (headers, _) = text.split_once("\r\n\r\n").expect("header/body split");
    let headers = headers.replace(
        "multipart/alternative;\r\n\tboundary=\"_000_ZR0P278MB0123A1B2C3D4E5F6ZR0P278MB0123CHEP_\"",
        "multipart/mixed; boundary=\"outer\"",
    );
    let mut m = headers.into_bytes();
    m.extend_from_slice(b"\r\n\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    m.extend_from_slice(b"Penetration test announcement, details in the attached files.\r\nStart: 14.12.2026 08:00\r\nEnd: 18.12.2026 18:00\r\n");
    m.extend_from_slice(b"\r\n--outer\r\nContent-Type: text/csv; name=ips.csv\r\nContent-Disposition: attachment; filename=ips.csv\r\n\r\nip,comment\r\n185.199.110.17,scanner 1\r\n185.199.110.18,scanner 2\r\n");
    m.extend_from_slice(b"\r\n--outer\r\nContent-Type: application/pdf; name=scope.pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=scope.pdf\r\n\r\n");
    let line = b"JVBERi0xLjcKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\n";
    while m.len() < 10 * 1024 * 1024 {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(b"\r\n--outer--\r\n");
    m
}

fn bench(c: &mut Criterion) {
    let rules = Rules::default();
    let arrival = Arrival::Known(Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap());
    for (name, raw) in [("typical", typical()), ("10mb", large())] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(raw.len() as u64));
        if name == "10mb" {
            g.sample_size(20);
        }
        g.bench_function("check", |b| {
            b.iter(|| check(black_box(&raw), arrival, &rules, "support@amazee.io"))
        });
        g.bench_function("mail_parser_parse", |b| {
            b.iter(|| mail_parser::MessageParser::default().parse(black_box(&raw[..])))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
