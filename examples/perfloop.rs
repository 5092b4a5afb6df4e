#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Runs `check` on one file many times, for profiling (`perf record`, callgrind).
//!
//! `perfloop FILE [N]`. One warm-up check runs first in `warm_up` (compiles the lazily built
//! regexes and fills their DFA caches), then N checks run inside `timed_loop`, so callgrind can count only
//! the steady state: `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='perfloop::timed_loop' target/release/examples/perfloop FILE 1000`.
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
    warm_up(&raw, arrival, &rules);
    let t = std::time::Instant::now();
    timed_loop(&raw, arrival, &rules, n);
    eprintln!("{:?} per check", t.elapsed() / n.max(1) as u32);
}

/// One check outside the measured loop: regex compilation and DFA cache warm-up are
/// one-time costs, not per-message ones.
#[inline(never)]
fn warm_up(raw: &[u8], arrival: Arrival, rules: &Rules) {
    std::hint::black_box(check(raw, arrival, rules, "support@amazee.io"));
}

/// The measured loop; kept out of line so a profiler can select it by name.
#[inline(never)]
fn timed_loop(raw: &[u8], arrival: Arrival, rules: &Rules, n: usize) {
    for _ in 0..n {
        std::hint::black_box(check(
            std::hint::black_box(raw),
            arrival,
            rules,
            "support@amazee.io",
        ));
    }
}
