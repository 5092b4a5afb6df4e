#![allow(clippy::unwrap_used)]
//! Per-message `check` on a typical notification and on a 10 MB message with attachments,
//! each beside a bare mail-parser parse of the same bytes; and the two hostile inputs of
//! issue 6 §4: 1.5 MB of repeated test words (body plus text attachment, target < 100 ms for
//! `check`) and 40,000 addresses in one mail (target < 200 ms for `check` plus the outputs
//! composed with the shipped templates).

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use intake::check::{Arrival, check};
use intake::config::{Addresses, Rules};
use intake::render::Templates;
use intake::render::compose::compose;

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

/// A notification whose body and text attachment are ~1.5 MB of test words with and
/// without negations, few sentence ends (the former quadratic look-back case).
fn test_words() -> Vec<u8> {
    words_message(
        "no load test but a pentest and not only a Lasttest, kein Stresstest sowie security scan ",
    )
}

/// The same with every test word negated: nothing settles the class early, every word is
/// looked at (the worst case of the test-class scan).
fn negated_test_words() -> Vec<u8> {
    words_message("kein Lasttest und kein Pentest, no load test nor security scan ")
}

/// A message of ~1.5 MB of `unit` repeated, half in the body, half in a text attachment.
fn words_message(unit: &str) -> Vec<u8> {
    let half = unit.repeat(750_000 / unit.len());
    let mut m = String::from(
        "From: Jane Doe <jane@example.ch>\r\nTo: support@amazee.io\r\nSubject: Load test\r\n\
         Date: Thu, 26 Nov 2026 08:14:00 +0000\r\nMessage-ID: <words@example.ch>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    m.push_str(&half);
    m.push_str("\r\n--b\r\nContent-Type: text/plain; name=plan.txt\r\nContent-Disposition: attachment; filename=plan.txt\r\n\r\n");
    m.push_str(&half);
    m.push_str("\r\n--b--\r\n");
    m.into_bytes()
}

/// A complete notification listing 40,000 originating addresses.
fn many_addresses() -> Vec<u8> {
    let mut m = String::from(
        "From: Jane Doe <jane@example.ch>\r\nTo: support@amazee.io\r\nSubject: Load test announcement\r\n\
         Date: Thu, 26 Nov 2026 08:14:00 +0000\r\nMessage-ID: <addrs@example.ch>\r\n\
         Authentication-Results: mx1.amazee.io; dkim=pass header.d=example.ch; spf=pass smtp.mailfrom=example.ch; dmarc=pass header.from=example.ch\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         We announce a load test of shop.example.ch.\r\nScope: load test of the checkout\r\n\
         Contact: Jane Doe, jane@example.ch, +41 79 555 12 34\r\nBandwidth: 50 Mbit/s\r\nRate: 200 rps\r\n\
         Window: 14.01.2027 08:00 - 14.01.2027 18:00\r\nTargets: shop.example.ch\r\nSource IPs:\r\n",
    );
    for i in 0..40_000u32 {
        let [_, b, c, d] = i.to_be_bytes();
        m.push_str(&format!("185.{b}.{c}.{d}\r\n"));
    }
    m.into_bytes()
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

    for (name, words) in [
        ("test_words_1_5mb", test_words()),
        ("negated_test_words_1_5mb", negated_test_words()),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(words.len() as u64));
        g.sample_size(20);
        g.bench_function("check", |b| {
            b.iter(|| check(black_box(&words), arrival, &rules, "support@amazee.io"))
        });
        g.finish();
    }

    let addrs = many_addresses();
    let templates = Templates::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates"
    )))
    .unwrap();
    let addresses = Addresses::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
    let mut g = c.benchmark_group("addresses_40k");
    g.throughput(Throughput::Bytes(addrs.len() as u64));
    g.sample_size(20);
    g.bench_function("check_and_compose", |b| {
        b.iter(|| {
            let checked = check(black_box(&addrs), arrival, &rules, "support@amazee.io");
            compose(&checked, &addrs, &templates, &addresses, now, None).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
