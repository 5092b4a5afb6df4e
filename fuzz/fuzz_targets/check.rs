//! Fuzzes the whole pure core: arbitrary bytes as a message must give a verdict, never a
//! panic, and the verdict must serialise.
#![no_main]

use chrono::{TimeZone, Utc};
use intake::check::{Arrival, check};
use intake::config::Rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rules = Rules::default();
    let fallback = Utc
        .with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
        .single()
        .unwrap_or_default();
    let checked = check(
        data,
        Arrival::FromHeaders { fallback },
        &rules,
        "support@amazee.io",
    );
    let _ = serde_json::to_string(&checked.verdict);
});
