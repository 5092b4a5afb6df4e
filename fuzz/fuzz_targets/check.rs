//! Fuzzes the whole pure core and the composing of replies: arbitrary bytes as a message must
//! give a verdict, never a panic; the verdict must serialise; the outgoing messages must be
//! built (or the message turned into a review with a notice), never a panic, and every header
//! line they carry must stay within RFC 5322's 998 octets.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use intake::check::{Arrival, check};
use intake::config::{Addresses, Rules};
use intake::render::Templates;
use intake::render::compose::compose_or_notice;
use libfuzzer_sys::fuzz_target;

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates"))
        .expect("the shipped templates load")
});

fuzz_target!(|data: &[u8]| {
    let rules = Rules::default();
    let fallback = Utc
        .with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
        .single()
        .unwrap_or_default();
    let mut checked = check(
        data,
        Arrival::FromHeaders { fallback },
        &rules,
        "support@amazee.io",
    );
    let _ = serde_json::to_string(&checked.verdict);
    let addresses = Addresses::default();
    if let Ok((out, _)) = compose_or_notice(&mut checked, data, &TEMPLATES, &addresses, fallback, None)
    {
        for o in out {
            let head_end = o
                .raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(o.raw.len());
            for line in o.raw[..head_end].split(|&b| b == b'\n') {
                assert!(line.len() <= 999, "header line of {} octets", line.len());
            }
        }
    }
});
