//! The `intake check` contract as other tools see it: JSON Lines, exit statuses, error
//! lines, help, configuration errors, and bad input that must still get a verdict.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn intake(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn corpus(name: &str) -> String {
    format!("fixtures/corpus/{name}.eml")
}

#[test]
fn json_lines_in_the_order_given_with_the_contract_keys() {
    let files = [
        corpus("016-short-notice-pentest-reject"),
        corpus("001-pentest-plain-accept"),
        corpus("041-out-of-office-ignore"),
    ];
    let mut args = vec!["check", "--json"];
    args.extend(files.iter().map(String::as_str));
    let out = intake(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = lines(&out);
    assert_eq!(v.len(), 3);
    for (line, file) in v.iter().zip(&files) {
        assert_eq!(line["file"], file.as_str());
        for key in [
            "message_id",
            "from",
            "received",
            "kind",
            "decision",
            "test_class",
            "required_notice_days",
            "notice_days",
            "missing",
            "problems",
            "request",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
        for key in [
            "scope",
            "contact",
            "originating_ips",
            "bandwidth_bps",
            "requests_per_second",
            "targets",
            "windows",
        ] {
            assert!(line["request"].get(key).is_some(), "request.{key} missing");
        }
        assert!(line["received"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(v[0]["decision"], "reject");
    assert_eq!(v[1]["decision"], "accept");
    assert_eq!(v[2]["decision"], "ignore");
    assert_eq!(v[2]["kind"], "auto_reply");
    assert_eq!(v[2]["test_class"], Value::Null);
}

#[test]
fn received_overrides_the_headers() {
    let out = intake(&[
        "check",
        "--json",
        "--received",
        "2026-09-27T08:00:00Z",
        &corpus("001-pentest-plain-accept"),
    ]);
    let v = &lines(&out)[0];
    assert_eq!(v["received"], "2026-09-27T08:00:00Z");
    assert_eq!(v["decision"], "reject", "one day of notice is too little");
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(problems, vec!["notice_too_short"]);
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("earliest start")
    );
}

#[test]
fn an_unreadable_file_is_reported_and_the_others_still_checked() {
    let out = intake(&[
        "check",
        "--json",
        "does/not/exist.eml",
        &corpus("001-pentest-plain-accept"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v = lines(&out);
    assert_eq!(v[0]["file"], "does/not/exist.eml");
    assert!(
        v[0]["error"]
            .as_str()
            .unwrap()
            .contains("does/not/exist.eml")
    );
    assert_eq!(v[1]["decision"], "accept");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does/not/exist.eml"));
}

#[test]
fn bad_usage_and_bad_config_exit_1_with_a_clear_message() {
    let out = intake(&[
        "check",
        "--json",
        "--received",
        "yesterday",
        &corpus("001-pentest-plain-accept"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = intake(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[rules]\nstandard_notice_dayz = 14\n").unwrap();
    let out = intake(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        &corpus("001-pentest-plain-accept"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("standard_notice_dayz"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn help_explains_itself() {
    let out = intake(&["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--json",
        "--received",
        "--config",
        "--render",
        "Exit status",
    ] {
        assert!(help.contains(word), "{word} in {help}");
    }
}

#[test]
fn the_human_summary_names_decision_problems_and_items() {
    let out = intake(&["check", &corpus("016-short-notice-pentest-reject")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REJECT"), "{text}");
    assert!(text.contains("notice_too_short"), "{text}");
    assert!(text.contains("termine.example-clinic.ch"), "{text}");
}

#[test]
fn render_prints_the_full_messages() {
    let out = intake(&[
        "check",
        "--render",
        "--received",
        "2026-09-01T08:00:00Z",
        &corpus("001-pentest-plain-accept"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("=== reply to lukas.meier@bergbahnen-example.ch ==="),
        "{text}"
    );
    assert!(text.contains("=== security to security@amazee.io ==="));
    assert!(text.contains("BEGIN:VCALENDAR"));
    assert!(text.contains("Content-Type: message/rfc822"));
}

/// Writes `bytes` to a temp file and checks it; the verdict line.
fn check_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Value {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = intake(&[
        "check",
        "--json",
        "--received",
        "2026-11-26T08:00:00Z",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out).remove(0)
}

#[test]
fn bad_input_gets_a_verdict_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = check_bytes(d, "empty.eml", b"");
    assert_eq!(empty["decision"], "review");
    let mut seed = 0x2545F4914F6CDD1Du64;
    let garbage: Vec<u8> = (0..100_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 32) as u8
        })
        .collect();
    assert_eq!(
        check_bytes(d, "garbage.eml", &garbage)["decision"],
        "review"
    );
    // A verified sender: the verdict is the rejection for missing items, not a review for an
    // unverified sender.
    let latin1 = b"Authentication-Results: mx.amazee.io; dmarc=pass header.from=example.ch\r\nFrom: a@example.ch\r\nSubject: Pentest\r\nContent-Type: text/plain; charset=x-unknown-8\r\n\r\nWir planen einen Penetrationstest f\xfcr shop.example.ch am 14.12.2026.\r\n";
    let v = check_bytes(d, "charset.eml", latin1);
    assert_eq!(v["kind"], "test_notification");
    assert_eq!(v["decision"], "reject");
    let truncated = b"From: a@example.ch\r\nSubject: Pen test\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nWe will run a penetration test of shop.example.ch from 14.12.2026 09:00 to";
    assert_eq!(
        check_bytes(d, "truncated.eml", truncated)["kind"],
        "test_notification"
    );
    let mut many = b"From: a@example.ch\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..1000 {
        many.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    many.extend_from_slice(b"--p--\r\n");
    let v = check_bytes(d, "many-parts.eml", &many);
    assert!(v["decision"].is_string());
    let mut line =
        b"From: a@example.ch\r\nSubject: long\r\nContent-Type: text/html\r\n\r\n<p>".to_vec();
    line.extend(std::iter::repeat_n(b'x', 1_000_000));
    assert!(check_bytes(d, "long-line.eml", &line)["decision"].is_string());
}

#[test]
fn a_message_above_the_size_limit_is_not_parsed_but_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = b"From: a@example.ch\r\nSubject: Pentest\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPen test, see attachment.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let row = b"JVBERi0xLjcKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\n";
    while big.len() < 50 * 1024 * 1024 {
        big.extend_from_slice(row);
    }
    big.extend_from_slice(b"--b--\r\n");
    let v = check_bytes(dir.path(), "huge.eml", &big);
    assert_eq!(v["decision"], "review");
    assert_eq!(v["problems"][0]["code"], "too_large");
    // Under a raised limit the same 50 MB message is read, attachment skipped, in bounded memory.
    let cfg = dir.path().join("big.toml");
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[rules]\nmax_message_bytes = 104857600\n",
            templates
        ),
    )
    .unwrap();
    let out = intake(&[
        "check",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        dir.path().join("huge.eml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = lines(&out).remove(0);
    assert_eq!(v["kind"], "test_notification");
    assert_ne!(v["problems"][0]["code"], "too_large");
}

/// A config in `dir` for `intake watch` on the demo Maildir (seeded into `dir/maildir`), with
/// the file outbox `dir/outbox` and the store at `store`.
fn demo_watch_config(dir: &Path, store: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = dir.join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\nseed_from = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n",
            root.join("templates"),
            dir.join("maildir"),
            root.join("fixtures/demo"),
            dir.join("outbox"),
            store,
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn watch_stops_with_a_clear_error_when_the_store_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the store's folder should be: nothing can be created below it.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"").unwrap();
    let cfg = demo_watch_config(dir.path(), &blocker.join("intake.sqlite3"));
    let out = intake(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store"), "{err}");
    assert!(
        !dir.path().join("outbox").exists()
            || std::fs::read_dir(dir.path().join("outbox"))
                .unwrap()
                .next()
                .is_none(),
        "nothing answered without a record"
    );
}

#[test]
fn watch_once_on_the_demo_maildir_decides_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_watch_config(dir.path(), &dir.path().join("intake.sqlite3"));
    let out = intake(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    for d in [
        "decision=accept",
        "decision=reject",
        "decision=review",
        "decision=ignore",
    ] {
        assert!(err.contains(d), "{d} in the demo:\n{err}");
    }
    // accept: reply + security + staff; reject: reply + staff; review: staff...
    let written = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    // ...and the ignored out-of-office a short staff summary.
    assert_eq!(written, 7);
    let again = intake(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 decided"));
    assert_eq!(
        std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .count(),
        7,
        "nothing answered twice"
    );
}

/// Runs intake with `args`, failing the test (instead of hanging it) after 20 s.
fn intake_within_20s(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("intake {args:?} still running after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A directory, a FIFO and a device are refused before any read (a FIFO would block, a
/// device never end); each gets an error line, the files around them are still checked.
#[test]
fn a_directory_fifo_or_device_is_an_error_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.eml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let sub = dir.path().join("folder.eml");
    std::fs::create_dir(&sub).unwrap();
    let good = corpus("016-short-notice-pentest-reject");
    for bad in [
        sub.to_str().unwrap(),
        fifo.to_str().unwrap(),
        "/dev/zero",
        "/dev/null",
    ] {
        let out = intake_within_20s(&["check", "--json", &good, bad, &good]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let v = lines(&out);
        assert_eq!(v.len(), 3, "{bad}");
        assert_eq!(v[0]["decision"], "reject");
        assert_eq!(v[1]["file"], bad);
        let err = v[1]["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{bad}: {}", v[1]));
        assert!(err.contains("not a regular file"), "{bad}: {err}");
        assert_eq!(v[2]["decision"], "reject");
        assert!(String::from_utf8_lossy(&out.stderr).contains(bad));
        // The same for people.
        let out = intake_within_20s(&["check", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("ERROR"),
            "{bad}"
        );
    }
}

/// A 64 GB sparse file: read up to the limit and one byte more, never further, so the
/// verdict comes at once and says how large the file is.
#[test]
fn a_huge_file_is_read_only_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.eml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(64 << 30).unwrap();
    drop(f);
    let start = std::time::Instant::now();
    let out = intake_within_20s(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = lines(&out).remove(0);
    assert_eq!(v["decision"], "review");
    assert_eq!(v["problems"][0]["code"], "too_large");
    let msg = v["problems"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&(64u64 << 30).to_string()), "{msg}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

/// `check --render` with a message whose reply address lettre refuses, between two good
/// ones: that file is reported (exit 2) and becomes a review with a notice to staff; the
/// others are rendered as usual.
#[test]
fn render_reports_a_poison_message_and_renders_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(root.join(corpus("016-short-notice-pentest-reject"))).unwrap();
    let poison = dir.path().join("poison.eml");
    std::fs::write(
        &poison,
        text.replace(
            "From: Anna Vogel <anna.vogel@example-clinic.ch>",
            "From: Anna Vogel <anna..vogel@example-clinic.ch>",
        ),
    )
    .unwrap();
    let good = corpus("016-short-notice-pentest-reject");
    let out = intake_within_20s(&[
        "check",
        "--json",
        "--render",
        &good,
        poison.to_str().unwrap(),
        &good,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("poison.eml"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdicts: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let decisions: Vec<&str> = verdicts
        .iter()
        .map(|v| v["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["reject", "review", "reject"]);
    assert_eq!(
        stdout
            .matches("=== reply to anna.vogel@example-clinic.ch ===")
            .count(),
        2
    );
    assert!(stdout.contains("could not answer"), "the staff notice");
    assert!(!stdout.contains("=== reply to anna..vogel"));
}

/// Two different messages under one Message-ID (a sender's broken tool, or an attacker
/// reusing a real notification's id): each is decided and answered as its own request,
/// under its own reference, instead of the second one's replies colliding with the first
/// one's and vanishing. A second run decides nothing again.
#[test]
fn a_second_message_with_a_known_message_id_is_answered_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let maildir = dir.path().join("maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let text =
        std::fs::read_to_string(root.join(corpus("016-short-notice-pentest-reject"))).unwrap();
    let second = text.replace(
        "Window: Thursday 3 December 2026",
        "Window: Friday 4 December 2026",
    );
    assert_ne!(text, second);
    std::fs::write(maildir.join("new/1700000000.M1P1.test"), &text).unwrap();
    std::fs::write(maildir.join("new/1700000001.M2P1.test"), &second).unwrap();
    let cfg = dir.path().join("watch.toml");
    std::fs::write(
        &cfg,
        format!(
            "templates = {:?}\n[mailbox]\nkind = \"maildir\"\npath = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n",
            root.join("templates"),
            maildir,
            dir.path().join("outbox"),
            dir.path().join("intake.sqlite3"),
        ),
    )
    .unwrap();
    let out = intake_within_20s(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("2 decided"), "{err}");
    let written: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // Two requests, each with its own staff summary (and, for a verified sender, reply).
    let staff: BTreeSet<String> = written
        .iter()
        .filter(|m| {
            m.contains("\nTo: support-staff@amazee.io") || m.starts_with("To: support-staff")
        })
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("X-Intake-Reference:"))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(staff.len(), 2, "two references: {staff:?}");
    assert!(
        err.contains("a different message with a Message-ID seen before"),
        "{err}"
    );
    let again = intake_within_20s(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("0 decided"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .count(),
        written.len(),
        "nothing answered twice"
    );
}

/// `sender_verification = "off"` trusts any From: every start says so in the log.
#[test]
fn watch_warns_at_every_start_when_sender_verification_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let maildir = dir.path().join("maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let cfg = dir.path().join("watch.toml");
    let write = |mode: &str| {
        std::fs::write(
            &cfg,
            format!(
                "templates = {:?}\n[rules]\nsender_verification = \"{mode}\"\n[mailbox]\nkind = \"maildir\"\npath = {:?}\n[outbox]\nkind = \"file\"\npath = {:?}\n[store]\npath = {:?}\n",
                root.join("templates"),
                maildir,
                dir.path().join("outbox"),
                dir.path().join("intake.sqlite3"),
            ),
        )
        .unwrap();
    };
    write("off");
    for _ in 0..2 {
        let out = intake_within_20s(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("sender_verification is off"), "{err}");
    }
    write("dmarc");
    let out = intake_within_20s(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("sender_verification is off"), "{err}");
}

#[test]
fn replay_prints_one_json_line_per_step_with_the_request_keys() {
    let thread = "fixtures/conversations/04-window-moved-with-enough-notice";
    let args = [
        "replay",
        "--json",
        &format!("{thread}/1.eml"),
        &format!("{thread}/2.eml"),
    ];
    let out = intake(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps = lines(&out);
    assert_eq!(steps.len(), 2);
    for s in &steps {
        // Every key of the check contract, then the request's.
        for key in [
            "file",
            "message_id",
            "from",
            "received",
            "kind",
            "decision",
            "test_class",
            "required_notice_days",
            "notice_days",
            "missing",
            "problems",
            "request",
            "reference",
            "request_ref",
            "request_state",
            "request_record",
            "outgoing",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
        for o in s["outgoing"].as_array().unwrap() {
            for key in [
                "role",
                "to",
                "subject",
                "message_id",
                "ics_uid",
                "ics_sequence",
                "ics_method",
            ] {
                assert!(o.get(key).is_some(), "outgoing.{key} missing in {o}");
            }
        }
    }
    assert_eq!(steps[0]["request_ref"], steps[1]["request_ref"]);
    assert_eq!(steps[1]["request_state"], "accepted");
    let security: Vec<&Value> = steps[1]["outgoing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["role"] == "security")
        .collect();
    assert_eq!(security[0]["ics_sequence"], 1);
    assert_eq!(security[0]["ics_method"], "PUBLISH");
    // Staff get no calendar: the three ics keys are null.
    let staff = steps[1]["outgoing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["role"] == "staff")
        .unwrap();
    assert!(
        staff["ics_uid"].is_null()
            && staff["ics_sequence"].is_null()
            && staff["ics_method"].is_null()
    );
    // The same files give the same references and Message-IDs.
    let again = lines(&intake(&args));
    assert_eq!(steps, again);
    // For people: the request and what would be sent.
    let human = intake(
        &args[..1]
            .iter()
            .chain(&args[2..])
            .copied()
            .collect::<Vec<_>>(),
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("change accepted → accepted") && text.contains("SEQUENCE 1"),
        "{text}"
    );
}

#[test]
fn show_prints_a_request_with_its_history_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_watch_config(dir.path(), &dir.path().join("intake.sqlite3"));
    let out = intake(&["watch", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let accepted = err
        .lines()
        .find(|l| l.contains("decision=accept"))
        .and_then(|l| l.split("reference=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let show = intake(&["show", "--config", cfg.to_str().unwrap(), &accepted]);
    assert_eq!(
        show.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.starts_with(&format!("{accepted}: accepted")), "{text}");
    assert!(
        text.contains("shop.alpenshop-example.ch") && text.contains("history:"),
        "{text}"
    );
    let json = intake(&[
        "show",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        &accepted,
    ]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    let missing = intake(&["show", "--config", cfg.to_str().unwrap(), "INT-NOSUCHREF0"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No request INT-NOSUCHREF0"));
}

/// Runs intake with `args` and `input` on stdin (a pipe, as `printf 'secret\n' | intake ...`).
fn intake_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_intake"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The command may refuse before reading: a closed pipe is no failure here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

fn store_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("intake.toml");
    std::fs::write(
        &cfg,
        format!("[store]\npath = {:?}\n", dir.join("intake.sqlite3")),
    )
    .unwrap();
    cfg
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn user_add_list_passwd_remove_with_piped_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = store_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let secret = "correct horse battery";
    for (name, role) in [
        ("alice", "staff"),
        ("bob.sec", "security"),
        ("root-1", "admin"),
    ] {
        let out = intake_with_stdin(
            &["user", "add", name, "--role", role, "--config", cfg],
            &format!("{secret}\n"),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let list = intake(&["user", "list", "--config", cfg]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let text = String::from_utf8(list.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names_roles: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        names_roles,
        [
            ("alice", "staff"),
            ("bob.sec", "security"),
            ("root-1", "admin")
        ],
        "{text}"
    );
    assert!(!text.contains("argon2") && !text.contains(secret), "{text}");

    // The hash in the store is argon2id, and the password itself is nowhere in the file.
    let db = std::fs::read(dir.path().join("intake.sqlite3")).unwrap();
    let db_text = String::from_utf8_lossy(&db);
    assert!(db_text.contains("$argon2id$v=19$"));
    assert!(!db_text.contains(secret));

    let store = intake::store::Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    let role = intake::accounts::verify_password(&store, "alice", secret).unwrap();
    assert_eq!(role, Some(intake::accounts::UserRole::Staff));
    drop(store);

    // passwd: the new password works, the old one no longer does (CRLF from a Windows pipe).
    let out = intake_with_stdin(
        &["user", "passwd", "alice", "--config", cfg],
        "a different passphrase\r\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let store = intake::store::Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    assert_eq!(
        intake::accounts::verify_password(&store, "alice", secret).unwrap(),
        None
    );
    assert_eq!(
        intake::accounts::verify_password(&store, "alice", "a different passphrase").unwrap(),
        Some(intake::accounts::UserRole::Staff)
    );
    drop(store);

    let out = intake(&["user", "remove", "bob.sec", "--config", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(intake(&["user", "list", "--config", cfg]).stdout).unwrap();
    assert!(
        text.contains("alice") && !text.contains("bob.sec"),
        "{text}"
    );

    // Every change is in the action log, by the command line.
    let store = intake::store::Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    let kinds: Vec<String> = store
        .actions(10)
        .unwrap()
        .into_iter()
        .rev()
        .map(|a| {
            assert!(a.actor.starts_with("cli:"), "{}", a.actor);
            format!("{} {}", a.kind, a.subject)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "user_added alice",
            "user_added bob.sec",
            "user_added root-1",
            "user_password_changed alice",
            "user_removed bob.sec"
        ]
    );
}

#[test]
fn user_errors_exit_1_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = store_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let ok = "a long enough secret\n";
    let out = intake_with_stdin(
        &["user", "add", "alice", "--role", "staff", "--config", cfg],
        ok,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let cases: [(&[&str], &str, &str); 9] = [
        (
            &["user", "add", "alice", "--role", "admin"],
            ok,
            "exists already",
        ),
        (&["user", "add", "bob", "--role", "root"], ok, "not a role"),
        (&["user", "add", "bob"], ok, "--role"),
        (&["user", "add", "Bob", "--role", "staff"], ok, "lowercase"),
        (
            &["user", "add", "bob smith", "--role", "staff"],
            ok,
            "not a valid user name",
        ),
        (
            &["user", "add", "bob", "--role", "staff"],
            "short\n",
            "at least 12",
        ),
        (&["user", "add", "bob", "--role", "staff"], "", "empty"),
        (&["user", "passwd", "carol"], ok, "no user `carol`"),
        (&["user", "remove", "carol"], ok, "no user `carol`"),
    ];
    for (args, input, says) in cases {
        let mut args = args.to_vec();
        args.extend(["--config", cfg]);
        let out = intake_with_stdin(&args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // A short new password leaves the old one in place.
    let out = intake_with_stdin(&["user", "passwd", "alice", "--config", cfg], "too short\n");
    assert_eq!(out.status.code(), Some(1));
    let store = intake::store::Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    assert!(
        intake::accounts::verify_password(&store, "alice", "a long enough secret")
            .unwrap()
            .is_some()
    );
    let list = intake(&["user", "list", "--config", cfg]);
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "only alice: {text}");

    // No store yet: passwd, remove and list say so.
    let empty = tempfile::tempdir().unwrap();
    let cfg = store_config(empty.path());
    let out = intake(&["user", "list", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no store"), "{}", stderr(&out));
}

#[test]
fn lookup_finds_the_demo_acceptance_inside_its_window_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = demo_watch_config(dir.path(), &dir.path().join("intake.sqlite3"));
    let cfg = cfg.to_str().unwrap();
    // No store yet: a clear error, not "no match".
    let early = intake(&["lookup", "85.195.240.10", "--config", cfg]);
    assert_eq!(early.status.code(), Some(1));
    assert!(stderr(&early).contains("no store"), "{}", stderr(&early));

    let out = intake(&["watch", "--once", "--config", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reference = stderr(&out)
        .lines()
        .find(|l| l.contains("decision=accept"))
        .and_then(|l| l.split("reference=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    // The demo's windows are relative to today: read them back.
    let show: Value =
        serde_json::from_slice(&intake(&["show", "--json", "--config", cfg, &reference]).stdout)
            .unwrap();
    let held = &show["accepted"];
    let ip = held["originating_ips"][0]
        .as_str()
        .unwrap()
        .trim_end_matches("/32")
        .to_string();
    let time = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(held["windows"][0][k].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let (start, end) = (time("start"), time("end"));
    let rfc =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let inside = rfc(start + (end - start) / 2);

    let hit = intake(&["lookup", &ip, "--at", &inside, "--config", cfg]);
    assert_eq!(hit.status.code(), Some(0), "{}", stderr(&hit));
    let text = String::from_utf8_lossy(&hit.stdout);
    for want in [
        reference.as_str(),
        "accepted",
        "shop.alpenshop-example.ch",
        "lena.brunner@alpenshop-example.ch",
        "Lena Brunner",
        &format!("{ip}/32"),
        "Europe/Zurich",
    ] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }

    // JSON: an array of matches; the start is inside, the range query finds it as well.
    let json = intake(&[
        "lookup",
        "85.195.240.0/24",
        "--at",
        &rfc(start),
        "--json",
        "--config",
        cfg,
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let m = &v.as_array().unwrap()[0];
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(m["reference"], reference.as_str());
    assert_eq!(m["state"], "accepted");
    assert_eq!(m["window"]["start"], rfc(start).as_str());
    assert_eq!(m["window"]["end"], rfc(end).as_str());
    assert_eq!(m["targets"][0], "shop.alpenshop-example.ch");
    assert_eq!(m["contact"]["email"], "lena.brunner@alpenshop-example.ch");
    assert_eq!(m["requested_by"], "lena.brunner@alpenshop-example.ch");
    // Both demo addresses are in the /24.
    assert_eq!(m["matching_ranges"], held["originating_ips"]);

    // Outside the window (the end is not in it), before it, now, or another address: 3.
    for (args, why) in [
        (vec!["lookup", &ip, "--at", &rfc(end)], "at the end"),
        (
            vec![
                "lookup",
                &ip,
                "--at",
                &rfc(start - chrono::Duration::minutes(1)),
            ],
            "before the start",
        ),
        (
            vec!["lookup", &ip],
            "now (the demo's window is weeks ahead)",
        ),
        (
            vec!["lookup", "192.0.2.1", "--at", &inside],
            "another address",
        ),
        (
            vec!["lookup", "2001:db8::1", "--at", &inside],
            "another family",
        ),
    ] {
        let mut args = args.clone();
        args.extend(["--config", cfg]);
        let out = intake(&args);
        assert_eq!(out.status.code(), Some(3), "{why}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{why}");
        assert!(stderr(&out).contains("no approved window"), "{why}");
    }
    let none = intake(&["lookup", "192.0.2.1", "--json", "--config", cfg]);
    assert_eq!(none.status.code(), Some(3));
    assert_eq!(
        serde_json::from_slice::<Value>(&none.stdout).unwrap(),
        serde_json::json!([])
    );

    // Bad input: 1 with a clear message.
    for (args, says) in [
        (vec!["lookup", "shop.example.ch"], "not an IP address"),
        (vec!["lookup", "192.0.2.1/33"], "not an IP address"),
        (vec!["lookup", &ip, "--at", "tomorrow"], "not a time"),
        (vec!["lookup"], "IP|CIDR"),
    ] {
        let mut args = args.clone();
        args.extend(["--config", cfg]);
        let out = intake(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn token_add_list_revoke_print_the_token_once_and_log_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = store_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let out = intake_with_stdin(
        &["user", "add", "sec", "--role", "security", "--config", cfg],
        "correct horse battery\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let add = intake(&[
        "token", "add", "sec", "--kind", "feed", "--label", "phone", "--config", cfg,
    ]);
    assert_eq!(add.status.code(), Some(0), "{}", stderr(&add));
    let token = String::from_utf8(add.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert!(intake::tokens::well_formed(&token), "{token}");
    assert!(
        stderr(&add).contains("feed token 1 for sec"),
        "{}",
        stderr(&add)
    );
    let api = intake(&["token", "add", "sec", "--kind", "api", "--config", cfg]);
    assert_eq!(api.status.code(), Some(0), "{}", stderr(&api));

    // Only the hash is in the file.
    let db = String::from_utf8_lossy(&std::fs::read(dir.path().join("intake.sqlite3")).unwrap())
        .into_owned();
    assert!(!db.contains(&token));

    let list = intake(&["token", "list", "--config", cfg]);
    let text = String::from_utf8(list.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(&rows[0][..3], ["1", "sec", "feed"], "{text}");
    assert_eq!(&rows[1][..3], ["2", "sec", "api"], "{text}");
    assert!(text.contains("active") && text.contains("phone"), "{text}");
    assert!(!text.contains(&token), "{text}");

    let out = intake(&["token", "revoke", "1", "--config", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text =
        String::from_utf8(intake(&["token", "list", "sec", "--config", cfg]).stdout).unwrap();
    assert!(text.contains("revoked"), "{text}");

    for (args, why) in [
        (&["token", "revoke", "1"][..], "revoked already"),
        (&["token", "revoke", "99"], "no token 99"),
        (
            &["token", "add", "nobody", "--kind", "api"],
            "no user `nobody`",
        ),
        (&["token", "add", "sec", "--kind", "session"], "feed or api"),
        (&["token", "add", "sec"], "--kind"),
    ] {
        let mut a = args.to_vec();
        a.extend(["--config", cfg]);
        let out = intake(&a);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }

    // Removing the user revokes the API token too.
    assert_eq!(
        intake(&["user", "remove", "sec", "--config", cfg])
            .status
            .code(),
        Some(0)
    );
    let store = intake::store::Store::open_shared(&dir.path().join("intake.sqlite3")).unwrap();
    assert!(store.tokens(None).unwrap().iter().all(|t| !t.is_active()));
    let kinds: Vec<String> = store
        .actions(20)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|a| a.kind.starts_with("token_"))
        .map(|a| {
            assert!(a.actor.starts_with("cli:"), "{}", a.actor);
            format!("{} {}", a.kind, a.detail)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "token_created feed token 1 (phone)",
            "token_created api token 2",
            "token_revoked feed token 1 (phone)",
            "token_revoked api token 2 (user removed)",
        ]
    );
}
