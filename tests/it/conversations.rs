//! The golden conversations: every thread in `fixtures/conversations/NN-…/` replayed through
//! the whole lifecycle (`intake::replay`, as `intake replay` does) and each step compared with
//! its `expect.toml` (format in `docs/CONVERSATIONS.md`). All differences of all threads are
//! reported together.

use std::path::{Path, PathBuf};

use intake::config::Config;
use intake::render::Templates;
use intake::replay::{ReplayStep, replay};
use serde_json::Value;

fn threads() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conversations");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The thread's messages, `1.eml`, `2.eml`, … in numeric order.
fn messages(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let n = p.file_stem()?.to_str()?.parse().ok()?;
            (p.extension()? == "eml").then_some((n, p))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, p)| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn strings(v: Option<&toml::Value>) -> Option<Vec<String>> {
    v.and_then(|x| x.as_array()).map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

/// Differences between one step and what `expect` says of it (only the keys it gives).
fn step_differences(
    n: usize,
    expect: &toml::Value,
    got: &ReplayStep,
    all: &[ReplayStep],
) -> Vec<String> {
    let d = std::cell::RefCell::new(Vec::new());
    let check = |what: &str, e: String, a: String| {
        if e != a {
            d.borrow_mut()
                .push(format!("step {n}: {what}: expected {e}, got {a}"));
        }
    };
    let v = &got.verdict;
    if let Some(e) = expect.get("decision").and_then(|x| x.as_str()) {
        check("decision", e.into(), v.decision.as_str().into());
    }
    if let Some(e) = expect.get("request_state").and_then(|x| x.as_str()) {
        check(
            "request_state",
            e.into(),
            got.request_state.clone().unwrap_or_else(|| "none".into()),
        );
    }
    if let Some(e) = strings(expect.get("outgoing")) {
        let a: Vec<String> = got.outgoing.iter().map(|o| o.role.clone()).collect();
        check("outgoing", format!("{e:?}"), format!("{a:?}"));
    }
    if let Some(e) = strings(expect.get("missing")) {
        let a: Vec<String> = v.missing.iter().map(|i| i.as_str().to_string()).collect();
        check("missing", format!("{e:?}"), format!("{a:?}"));
    }
    if let Some(e) = strings(expect.get("problems")) {
        let a: Vec<String> = v
            .problems
            .iter()
            .filter_map(|p| {
                serde_json::to_value(p.code)
                    .ok()
                    .and_then(|x| x.as_str().map(str::to_string))
            })
            .collect();
        for code in e {
            if !a.contains(&code) {
                d.borrow_mut()
                    .push(format!("step {n}: problem {code} expected among {a:?}"));
            }
        }
    }
    let security = got.outgoing.iter().find(|o| o.role == "security");
    if let Some(e) = expect.get("ics_method").and_then(|x| x.as_str()) {
        check(
            "ics_method",
            e.into(),
            security
                .and_then(|s| s.ics_method.clone())
                .unwrap_or_else(|| "none".into()),
        );
    }
    if let Some(e) = expect.get("ics_sequence").and_then(|x| x.as_integer()) {
        check(
            "ics_sequence",
            e.to_string(),
            security
                .and_then(|s| s.ics_sequence)
                .map_or_else(|| "none".into(), |q| q.to_string()),
        );
    }
    if let Some(k) = expect.get("same_request_as").and_then(|x| x.as_integer()) {
        let other = usize::try_from(k)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| all.get(k));
        check(
            &format!("request_ref (same as step {k})"),
            format!("{:?}", other.and_then(|o| o.request_ref.clone())),
            format!("{:?}", got.request_ref),
        );
    }
    // `reply_contains` / `reply_lacks`: phrases the customer reply's text must (not) hold.
    let reply_text = got
        .messages
        .iter()
        .find(|m| m.role == intake::model::Role::Reply)
        .and_then(|m| mail_parser::MessageParser::default().parse(&m.raw))
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default();
    for phrase in strings(expect.get("reply_contains")).unwrap_or_default() {
        if !reply_text.contains(&phrase) {
            d.borrow_mut().push(format!(
                "step {n}: the reply lacks {phrase:?}:\n{reply_text}"
            ));
        }
    }
    for phrase in strings(expect.get("reply_lacks")).unwrap_or_default() {
        if reply_text.contains(&phrase) {
            d.borrow_mut().push(format!(
                "step {n}: the reply holds {phrase:?}:\n{reply_text}"
            ));
        }
    }
    // `record.<key> = …`: keys of the merged record, compared as JSON.
    if let Some(rec) = expect.get("record").and_then(|x| x.as_table()) {
        let actual = serde_json::to_value(&got.request_record).unwrap_or(Value::Null);
        for (key, e) in rec {
            let e: Value = serde_json::to_value(e).unwrap_or(Value::Null);
            let a = actual.get(key).cloned().unwrap_or(Value::Null);
            let same = match (&e, &a) {
                // Addresses: written as the customer wrote them, compared as CIDR.
                (Value::Array(x), Value::Array(y)) if key == "originating_ips" => {
                    let norm = |v: &Vec<Value>| {
                        let mut s: Vec<String> = v
                            .iter()
                            .filter_map(|i| i.as_str())
                            .map(|i| {
                                if i.contains('/') {
                                    i.to_string()
                                } else if i.contains(':') {
                                    format!("{i}/128")
                                } else {
                                    format!("{i}/32")
                                }
                            })
                            .collect();
                        s.sort();
                        s
                    };
                    norm(x) == norm(y)
                }
                (Value::Array(x), Value::Array(y)) if key == "targets" => {
                    let mut x: Vec<String> = x.iter().map(ToString::to_string).collect();
                    let mut y: Vec<String> = y.iter().map(ToString::to_string).collect();
                    x.sort();
                    y.sort();
                    x == y
                }
                (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
                // A table names the keys it checks (`record.contact.email`).
                (Value::Object(x), Value::Object(y)) => x.iter().all(|(k, v)| y.get(k) == Some(v)),
                _ => e == a,
            };
            if !same {
                d.borrow_mut()
                    .push(format!("step {n}: record.{key}: expected {e}, got {a}"));
            }
        }
    }
    d.into_inner()
}

#[test]
fn golden_conversations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(Some(&root.join("config.toml"))).unwrap();
    let templates = Templates::for_config(&config).unwrap();
    let threads = threads();
    assert!(
        threads.len() >= 25,
        "fixtures/conversations must hold at least 25 threads, found {}",
        threads.len()
    );
    let mut failures = Vec::new();
    let mut steps_total = 0;
    for dir in &threads {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let expect: toml::Value = toml::from_str(
            &std::fs::read_to_string(dir.join("expect.toml"))
                .unwrap_or_else(|e| panic!("{name}/expect.toml: {e}")),
        )
        .unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
        let expected: Vec<toml::Value> = expect
            .get("step")
            .and_then(|s| s.as_array())
            .cloned()
            .unwrap_or_default();
        let msgs = messages(dir);
        assert_eq!(
            expected.len(),
            msgs.len(),
            "{name}: {} steps expected for {} messages",
            expected.len(),
            msgs.len()
        );
        let got = replay(&config, &templates, &msgs).unwrap();
        assert_eq!(got.len(), msgs.len(), "{name}: every message gives a step");
        steps_total += got.len();
        for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
            for diff in step_differences(i + 1, e, g, &got) {
                failures.push(format!("{name}: {diff}"));
            }
        }
        // The same files give the same references and Message-IDs.
        let again = replay(&config, &templates, &msgs).unwrap();
        for (a, b) in got.iter().zip(&again) {
            let ids = |s: &ReplayStep| {
                s.outgoing
                    .iter()
                    .map(|o| o.message_id.clone())
                    .collect::<Vec<_>>()
            };
            if a.request_ref != b.request_ref || ids(a) != ids(b) {
                failures.push(format!(
                    "{name}: a second replay gave other references or Message-IDs"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences in {} threads ({} steps):\n{}",
        failures.len(),
        threads.len(),
        steps_total,
        failures.join("\n")
    );
}
