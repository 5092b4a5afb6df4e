#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Runs `check` on one file many times, for profiling (`perf record`, callgrind).
use chrono::{TimeZone, Utc};
use intake::check::{Arrival, check};
use intake::config::Rules;
fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let n: usize = std::env::args()
        .nth(2)
        .map_or(20000, |s| s.parse().unwrap());
    let raw = std::fs::read(path).unwrap();
    let rules = Rules::default();
    let arrival = Arrival::Known(Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap());
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(check(
            std::hint::black_box(&raw),
            arrival,
            &rules,
            "support@amazee.io",
        ));
    }
    eprintln!("{:?} per check", t.elapsed() / n as u32);
}
