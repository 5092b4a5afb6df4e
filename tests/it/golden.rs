//! The golden corpus: every `fixtures/corpus/*.eml` against its hand-written `*.json`.
//!
//! Compared: the contract keys of `intake check --json`. Problem messages are for people and
//! are not compared (codes are, as a set); `notice_days` within 0.01; the expected `scope`
//! must appear in the extracted one. On mismatch the actual verdict is written beside the
//! fixture as `*.actual.json`; `UPDATE_GOLDEN=1` rewrites the expectations instead (only the
//! value `1`, and never under `CI`: see [`update_golden`]).

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use intake::check::{Arrival, check};
use intake::config::Config;
use serde_json::{Value, json};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

/// The verdict reduced to what the golden files hold.
fn comparable(v: &Value) -> Value {
    let mut problems: Vec<String> = v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    problems.sort();
    problems.dedup();
    json!({
        "message_id": v["message_id"],
        "from": v["from"],
        "received": v["received"],
        "kind": v["kind"],
        "decision": v["decision"],
        "test_class": v["test_class"],
        "required_notice_days": v["required_notice_days"],
        "notice_days": v["notice_days"],
        "missing": v["missing"],
        "problems": problems,
        "request": v["request"],
        "sender_verified": v["sender_verified"],
    })
}

fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let e = comparable(expected);
    let a = comparable(actual);
    let mut diffs = Vec::new();
    for key in [
        "message_id",
        "from",
        "received",
        "kind",
        "decision",
        "test_class",
        "required_notice_days",
        "missing",
        "problems",
        "sender_verified",
    ] {
        if e[key] != a[key] {
            diffs.push(format!("{key}: expected {} got {}", e[key], a[key]));
        }
    }
    match (e["notice_days"].as_f64(), a["notice_days"].as_f64()) {
        (Some(x), Some(y)) if (x - y).abs() <= 0.01 => {}
        (None, None) => {}
        (x, y) => diffs.push(format!("notice_days: expected {x:?} got {y:?}")),
    }
    let (er, ar) = (&e["request"], &a["request"]);
    match (er["scope"].as_str(), ar["scope"].as_str()) {
        (Some(x), Some(y)) if y.to_lowercase().contains(&x.to_lowercase()) => {}
        (None, _)
            if er["scope"].is_null()
                && (ar["scope"].is_null() || e["kind"] != "test_notification") => {}
        (x, y) => diffs.push(format!(
            "request.scope: expected to contain {x:?}, got {y:?}"
        )),
    }
    for key in ["contact", "originating_ips", "targets", "windows"] {
        if er[key] != ar[key] {
            diffs.push(format!(
                "request.{key}: expected {} got {}",
                er[key], ar[key]
            ));
        }
    }
    for key in ["bandwidth_bps", "requests_per_second"] {
        match (er[key].as_f64(), ar[key].as_f64()) {
            (Some(x), Some(y)) if (x - y).abs() <= 1e-6 * x.abs().max(1.0) => {}
            (None, None) => {}
            (x, y) => diffs.push(format!("request.{key}: expected {x:?} got {y:?}")),
        }
    }
    diffs
}

/// Whether to rewrite golden files instead of comparing: only with `UPDATE_GOLDEN=1`
/// exactly (`0`, `false` or empty compare as usual), and never under `CI`, where a request to
/// rewrite is a failure rather than a pass. Shared by every golden-file test.
pub fn update_golden() -> bool {
    let var = |k: &str| std::env::var(k).ok();
    update_wanted(var("UPDATE_GOLDEN").as_deref(), var("CI").as_deref())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`update_golden`] on given values of `UPDATE_GOLDEN` and `CI`.
fn update_wanted(update: Option<&str>, ci: Option<&str>) -> Result<bool, String> {
    let update = update == Some("1");
    let ci = ci.is_some_and(|v| !v.is_empty());
    if update && ci {
        return Err(
            "UPDATE_GOLDEN=1 under CI: golden files are never rewritten in CI; compare them instead"
                .into(),
        );
    }
    Ok(update)
}

#[test]
fn update_golden_0_compares_instead_of_rewriting() {
    assert_eq!(update_wanted(Some("0"), None), Ok(false));
    assert_eq!(update_wanted(Some(""), None), Ok(false));
    assert_eq!(update_wanted(Some("true"), None), Ok(false));
    assert_eq!(update_wanted(None, None), Ok(false));
    assert_eq!(update_wanted(Some("1"), None), Ok(true));
    assert_eq!(update_wanted(Some("1"), Some("")), Ok(true));
}

#[test]
fn update_golden_under_ci_fails() {
    assert!(update_wanted(Some("1"), Some("true")).is_err());
    assert_eq!(update_wanted(Some("0"), Some("true")), Ok(false));
    assert_eq!(update_wanted(None, Some("1")), Ok(false));
}

#[test]
fn golden_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::from_file(&root.join("config.toml")).expect("shipped config loads");
    let fallback = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
    let update = update_golden();
    let files = corpus();
    let mut failures = Vec::new();
    for eml in &files {
        let raw = std::fs::read(eml).unwrap();
        let checked = check(
            &raw,
            Arrival::FromHeaders { fallback },
            &config.rules,
            &config.addresses.from,
        );
        let actual = serde_json::to_value(&checked.verdict).unwrap();
        let expected_path = eml.with_extension("json");
        let actual_path = eml.with_extension("actual.json");
        if update {
            let mut v = comparable(&actual);
            v["file"] = Value::Null;
            v["problems"] = Value::Array(
                v["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| json!({"code": c}))
                    .collect(),
            );
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&v).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let expected: Value = match std::fs::read_to_string(&expected_path) {
            Ok(s) => serde_json::from_str(&s)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
            Err(_) => {
                failures.push(format!("{}: no expected .json", eml.display()));
                continue;
            }
        };
        let diffs = differences(&expected, &actual);
        if diffs.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(
                &actual_path,
                serde_json::to_string_pretty(&actual).unwrap() + "\n",
            )
            .unwrap();
            failures.push(format!(
                "{}:\n    {}",
                eml.file_name().unwrap().to_string_lossy(),
                diffs.join("\n    ")
            ));
        }
    }
    assert!(
        files.len() >= 40,
        "the corpus must hold at least 40 fixtures, found {}",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
