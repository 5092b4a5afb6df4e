//! The adversarial corpus: every `fixtures/adversarial/*.eml` checked and composed with the
//! shipped rules and templates, against the safe outcome in `fixtures/adversarial/expect.toml`.
//!
//! Per case it asserts: the decision is one the manifest allows (a disallowed `accept` is
//! counted as a wrong accept), the required problem code is present, customer replies go
//! only to the verified sender (or a same-organization Reply-To) and never for review or
//! ignore, every outgoing message is clean (only our headers, each once, no line over 998
//! octets, no bare CR or LF, no control characters echoed, bodies ≤ 64 KB, at most 20
//! problems listed), nothing panics, and each case takes less than a second. Every failure
//! is collected and reported together, with a summary per category; the corpus comes from
//! `scripts/gen-adversarial.py`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use intake::check::{Arrival, Checked, check};
use intake::config::Config;
use intake::domain::same_org;
use intake::render::Templates;
use intake::render::compose::{Outgoing, Role, compose_or_notice};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// The authserv-id every corpus message was received by. The shipped config leaves
/// `trusted_authserv_id` unset (trusting the topmost header, on the assumption that our MX
/// strips forged ones); the corpus holds messages our MX did not stamp at all, so the walk
/// names its MX the way a production config does.
const OUR_MX: &str = "mx.amazee.io";

/// At most this much CPU time per case (check and compose; wall time where the system
/// does not tell a thread's CPU time), unless `ADVERSARIAL_CASE_LIMIT_MS` says
/// otherwise: 1 s in an optimized build (the limit), 5 s in a debug build, which
/// runs this code several times slower. A quadratic stage still takes far longer than either
/// on the large cases.
const CASE_LIMIT: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(5)
} else {
    Duration::from_secs(1)
};

/// A case still running after this long is abandoned and reported as a hang
/// (`ADVERSARIAL_HANG_LIMIT_MS`).
const HANG_LIMIT: Duration = Duration::from_secs(10);

/// The largest body a message of ours may have.
const MAX_BODY: usize = 64 * 1024;

/// The categories of issue 6 (sections 1-9) the corpus must cover, plus the honest
/// controls that prove the walk does not pass by rejecting everything.
const CATEGORIES: &[&str] = &[
    "control",
    "auth",
    "reflect",
    "echo",
    "poison",
    "bounded",
    "hidden",
    "quotes",
    "retract",
    "dates",
    "broad",
    "limits",
    "owner",
    "dupes",
    "automated",
];

/// The headers intake sets on its own messages; nothing else may appear at the top level.
const OUR_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "auto-submitted",
    "x-auto-response-suppress",
    "x-intake-reference",
    "x-intake-decision",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// One case's expectation from the manifest.
#[derive(Debug, Clone)]
struct Expect {
    category: String,
    why: String,
    decisions: Vec<String>,
    problem: Option<String>,
    /// `None`: no constraint; `Some(empty)`: no reply at all; otherwise the addresses a
    /// reply may go to.
    reply_to: Option<Vec<String>>,
    window_start: Option<DateTime<Utc>>,
    target: Option<String>,
    /// The name a reply must greet.
    greeting: Option<String>,
}

fn strings(v: &toml::Value) -> Vec<String> {
    match v {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The generated cases' `expect.toml` and the hand-kept `expect-found.toml` (attacks found by
/// reviews, numbered 300 and up), as one manifest.
fn manifest(dir: &Path) -> (DateTime<Utc>, BTreeMap<String, Expect>) {
    let text = std::fs::read_to_string(dir.join("expect.toml")).unwrap();
    let mut table: toml::Table = toml::from_str(&text).unwrap();
    let found = std::fs::read_to_string(dir.join("expect-found.toml")).unwrap();
    let found: toml::Table = toml::from_str(&found).unwrap();
    for (name, v) in found {
        assert!(
            table.insert(name.clone(), v).is_none(),
            "{name} is in both manifests"
        );
    }
    let arrival = table["arrival"]
        .as_str()
        .unwrap()
        .parse::<DateTime<Utc>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for (name, v) in &table {
        let Some(t) = v.as_table() else { continue };
        let s = |k: &str| t.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let reply_to = t.get("reply_to").map(|v| {
            strings(v)
                .into_iter()
                .filter(|a| a != "none")
                .map(|a| a.to_lowercase())
                .collect::<Vec<_>>()
        });
        out.insert(
            name.clone(),
            Expect {
                category: s("category").unwrap_or_else(|| "?".into()),
                why: s("why").unwrap_or_default(),
                decisions: t.get("decision").map(strings).unwrap_or_default(),
                problem: s("problem"),
                reply_to,
                window_start: s("window_start").map(|x| x.parse().unwrap()),
                target: s("target"),
                greeting: s("greeting"),
            },
        );
    }
    (arrival, out)
}

/// Compose the outgoing messages. Kept in one place so a change of `compose`'s signature
/// is a one-line change here. It takes the checked message mutably: composing that fails
/// may turn the message into a review (issue 6 §3), and the walk judges the final decision.
fn outgoing(
    checked: &mut Checked,
    raw: &[u8],
    templates: &Templates,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Outgoing>> {
    compose_or_notice(checked, raw, templates, &config.addresses, now, None).map(|(out, _)| out)
}

/// What went wrong with one case, by kind (the kinds are the Done-when counts of issue 6).
#[derive(Debug, Default)]
struct Findings {
    wrong_accept: Vec<String>,
    wrong_decision: Vec<String>,
    missing_problem: Vec<String>,
    bad_reply: Vec<String>,
    injected: Vec<String>,
    crash: Vec<String>,
    slow: Vec<String>,
    other: Vec<String>,
}

impl Findings {
    fn all(&self) -> Vec<(&'static str, &Vec<String>)> {
        vec![
            ("wrong accept", &self.wrong_accept),
            ("wrong decision", &self.wrong_decision),
            ("missing problem code", &self.missing_problem),
            (
                "reply to an unverified or third-party address",
                &self.bad_reply,
            ),
            ("injected or unbounded output", &self.injected),
            ("crash or hang", &self.crash),
            ("slower than the limit", &self.slow),
            ("other", &self.other),
        ]
    }
    fn count(&self) -> usize {
        self.all().iter().map(|(_, v)| v.len()).sum()
    }
}

/// The outcome of one category of cases.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    failing: usize,
    clean: BTreeMap<String, usize>,
    kinds: BTreeMap<&'static str, usize>,
}

/// Problems with one outgoing message's bytes: headers, lines, controls, size.
fn inspect(o: &Outgoing) -> Vec<String> {
    let mut bad = Vec::new();
    let raw = &o.raw;
    let role = o.role.as_str();
    // Line structure of the whole message: CRLF only, ≤ 998 octets before it.
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\n' if i == 0 || raw.get(i - 1) != Some(&b'\r') => {
                bad.push(format!("{role}: bare LF at byte {i}"));
                break;
            }
            b'\r' if raw.get(i + 1) != Some(&b'\n') => {
                bad.push(format!("{role}: bare CR at byte {i}"));
                break;
            }
            b'\n' => {
                let len = i.saturating_sub(1) - start;
                if len > 998 {
                    bad.push(format!("{role}: line of {len} octets at byte {start}"));
                    break;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    // The top-level header block: only ours, each once, no Cc/Bcc.
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) || line.is_empty() {
            continue;
        }
        let name = line
            .split_once(':')
            .map_or(line, |(n, _)| n)
            .to_ascii_lowercase();
        *seen.entry(name).or_default() += 1;
    }
    for (name, n) in &seen {
        if !OUR_HEADERS.contains(&name.as_str()) {
            bad.push(format!("{role}: header {name:?} we never set"));
        } else if *n > 1 {
            bad.push(format!("{role}: header {name:?} appears {n} times"));
        }
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        bad.push(format!("{role}: mail-parser cannot parse it"));
        return bad;
    };
    // Exactly one recipient, the one the outbox will use.
    let to: Vec<String> = msg
        .to()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.address().map(str::to_lowercase))
                .collect()
        })
        .unwrap_or_default();
    if to != vec![o.to.to_lowercase()] {
        bad.push(format!("{role}: To is {to:?}, outbox sends to {}", o.to));
    }
    if msg.cc().is_some() || msg.bcc().is_some() {
        bad.push(format!("{role}: Cc/Bcc present"));
    }
    // Decoded header values: no controls, no bidi overrides.
    for h in msg.headers() {
        let text = match h.value() {
            HeaderValue::Text(t) => t.to_string(),
            HeaderValue::TextList(l) => l.join(" "),
            HeaderValue::Address(a) => a
                .iter()
                .map(|x| format!("{:?} {:?}", x.name(), x.address()))
                .collect(),
            _ => String::new(),
        };
        if let Some(c) = text.chars().find(|c| is_forbidden(*c, false)) {
            bad.push(format!(
                "{role}: header {} carries U+{:04X}",
                h.name(),
                c as u32
            ));
        }
    }
    // Our own text parts (not the attached original): bounded and clean.
    for (i, part) in msg.parts.iter().enumerate() {
        let is_text = part
            .content_type()
            .is_none_or(|ct| ct.ctype() == "text" && ct.subtype() == Some("plain"));
        if !is_text || part.is_message() {
            continue;
        }
        let Some(text) = part.text_contents() else {
            continue;
        };
        if text.len() > MAX_BODY {
            bad.push(format!("{role}: text part {i} is {} bytes", text.len()));
        }
        if let Some(c) = text.chars().find(|c| is_forbidden(*c, true)) {
            bad.push(format!("{role}: body carries U+{:04X}", c as u32));
        }
        let listed = text
            .lines()
            .filter(|l| {
                let t = l.trim_start();
                t.starts_with("- [") && t.contains(']')
            })
            .count();
        if listed > 21 {
            bad.push(format!(
                "{role}: {listed} problems listed (at most 20 + a tail)"
            ));
        }
    }
    if o.role == Role::Reply && raw.len() > MAX_BODY {
        bad.push(format!("reply is {} bytes", raw.len()));
    }
    bad
}

/// Control characters and bidi overrides attacker text may not carry into our messages.
/// Line ends and tabs are allowed in bodies (ours), nowhere in decoded headers.
fn is_forbidden(c: char, body: bool) -> bool {
    if body && matches!(c, '\r' | '\n' | '\t') {
        return false;
    }
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// What one case produced: the checked message and its outgoing messages.
type Produced = (Checked, anyhow::Result<Vec<Outgoing>>);

/// The shipped setup every case runs with.
struct Setup {
    config: Config,
    templates: Templates,
    arrival: DateTime<Utc>,
}

/// CPU time the calling thread has used, from Linux's `/proc/thread-self/schedstat` (its
/// first field, in nanoseconds); `None` where that file does not exist. The time limit is
/// about the work a case takes, which wall time overstates when the end-to-end tests share
/// the machine's cores.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Checks and composes one message on its own thread, so a panic is caught and a case that
/// runs away is abandoned after `hang` (and reported) instead of stalling the walk. With the
/// result comes the CPU time the case took, where the system tells it.
fn run_case(
    setup: &Arc<Setup>,
    raw: &Arc<Vec<u8>>,
    hang: Duration,
) -> Result<(Produced, Option<Duration>), String> {
    let (tx, rx) = mpsc::channel();
    let (setup, raw) = (Arc::clone(setup), Arc::clone(raw));
    std::thread::spawn(move || {
        let cpu0 = thread_cpu();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut checked = check(
                &raw,
                Arrival::Known(setup.arrival),
                &setup.config.rules,
                &setup.config.addresses.from,
            );
            let out = outgoing(
                &mut checked,
                &raw,
                &setup.templates,
                &setup.config,
                setup.arrival,
            );
            (checked, out)
        }));
        let cpu = cpu0.zip(thread_cpu()).map(|(a, b)| b.saturating_sub(a));
        let _ = tx.send(result.map(|r| (r, cpu)).map_err(|e| {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("panicked: {msg}")
        }));
    });
    match rx.recv_timeout(hang) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(format!("still running after {hang:?}; abandoned (a hang)"))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("the case thread died".into()),
    }
}

/// Checks one case; returns the findings it adds and its decision.
fn walk_one(
    name: &str,
    raw: &Arc<Vec<u8>>,
    exp: &Expect,
    setup: &Arc<Setup>,
    limits: (Duration, Duration),
    f: &mut Findings,
) -> Option<String> {
    let t0 = Instant::now();
    let result = run_case(setup, raw, limits.1);
    let wall = t0.elapsed();
    let (checked, out) = match result {
        Ok((x, cpu)) => {
            // CPU time where the system tells it, wall time otherwise.
            let took = cpu.unwrap_or(wall);
            if took > limits.0 {
                f.slow.push(format!("{name}: {took:?} (wall {wall:?})"));
            }
            x
        }
        Err(e) => {
            f.crash.push(format!("{name}: {e}"));
            return None;
        }
    };
    let v = &checked.verdict;
    let decision = v.decision.as_str().to_string();
    let problems: Vec<String> = v
        .problems
        .iter()
        .filter_map(|p| {
            serde_json::to_value(p.code)
                .ok()
                .and_then(|x| x.as_str().map(str::to_string))
        })
        .collect();
    if !exp.decisions.is_empty() && !exp.decisions.contains(&decision) {
        let line = format!(
            "{name}: {decision}, allowed {:?} ({}); problems {problems:?}",
            exp.decisions, exp.why
        );
        if decision == "accept" {
            f.wrong_accept.push(line);
        } else {
            f.wrong_decision.push(line);
        }
    }
    if decision == "accept" {
        if let Some(want) = exp.window_start {
            let got = v.request.windows.iter().map(|w| w.start).min();
            if got != Some(want) {
                f.wrong_accept.push(format!(
                    "{name}: accepted with window start {got:?}, not {want}"
                ));
            }
        }
        if let Some(t) = exp
            .target
            .as_ref()
            .filter(|t| !v.request.targets.contains(t))
        {
            f.wrong_accept.push(format!(
                "{name}: accepted without target {t}: {:?}",
                v.request.targets
            ));
        }
    }
    if let Some(p) = exp.problem.as_ref().filter(|p| !problems.contains(p)) {
        f.missing_problem
            .push(format!("{name}: no {p} among {problems:?} ({decision})"));
    }
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            // A message whose outputs cannot be built must still reach staff (issue 6 §3);
            // compose failing here means the batch would carry an error for it.
            f.other.push(format!("{name}: compose failed: {e:#}"));
            return Some(decision);
        }
    };
    let replies: Vec<&Outgoing> = out.iter().filter(|o| o.role == Role::Reply).collect();
    for r in &replies {
        let to = r.to.to_lowercase();
        let from = v.from.clone().unwrap_or_default();
        let mut why = Vec::new();
        if !matches!(decision.as_str(), "accept" | "reject") {
            why.push(format!("a reply for a {decision}"));
        }
        if !v.sender_verified {
            why.push("the sender is not verified".to_string());
        }
        let org_ok = intake::domain::domain_of(&to)
            .zip(intake::domain::domain_of(&from))
            .is_some_and(|(a, b)| same_org(&a, &b));
        if !org_ok {
            why.push(format!("{to} is outside the From's organization ({from})"));
        }
        match &exp.reply_to {
            Some(allowed) if allowed.is_empty() => why.push("the manifest allows no reply".into()),
            Some(allowed) if !allowed.contains(&to) => {
                why.push(format!("the manifest allows only {allowed:?}"));
            }
            _ => {}
        }
        let greeting = MessageParser::default()
            .parse(&r.raw)
            .and_then(|m| m.body_text(0).map(|t| t.to_string()))
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("Hello") || l.starts_with("Hallo"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        if greeting.contains('@') {
            f.injected
                .push(format!("{name}: the reply greets an address: {greeting:?}"));
        }
        if let Some(g) = exp
            .greeting
            .as_ref()
            .filter(|g| greeting != format!("Hello {g},"))
        {
            f.other.push(format!(
                "{name}: reply greets {greeting:?}, not \"Hello {g},\""
            ));
        }
        if !why.is_empty() {
            f.bad_reply
                .push(format!("{name}: reply to {to}: {}", why.join("; ")));
        }
    }
    if replies.len() > 1 {
        f.bad_reply
            .push(format!("{name}: {} replies for one message", replies.len()));
    }
    if decision == "review" && !out.iter().any(|o| o.role == Role::Staff) {
        f.other
            .push(format!("{name}: review without a staff summary"));
    }
    for o in &out {
        for b in inspect(o) {
            f.injected.push(format!("{name}: {b}"));
        }
    }
    Some(decision)
}

#[test]
fn adversarial_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("fixtures/adversarial");
    let mut config = Config::from_file(&root.join("config.toml")).expect("shipped config loads");
    if config.rules.trusted_authserv_id.is_none() {
        config.rules.trusted_authserv_id = Some(OUR_MX.into());
    }
    let templates = Templates::for_config(&config).expect("shipped templates load");
    let (arrival, expect) = manifest(&dir);
    let ms = |var: &str, default: Duration| {
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(default, Duration::from_millis)
    };
    let limits = (
        ms("ADVERSARIAL_CASE_LIMIT_MS", CASE_LIMIT),
        ms("ADVERSARIAL_HANG_LIMIT_MS", HANG_LIMIT),
    );
    let setup = Arc::new(Setup {
        config,
        templates,
        arrival,
    });

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();

    // A panic inside a case is caught and reported; keep the default hook from printing
    // each one in the middle of the summary.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    let mut f = Findings::default();
    // Per category: cases, decisions of the clean ones, and cases with each kind of finding.
    let mut per_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, String::new());
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(exp) = expect.get(&name) else {
            f.other.push(format!("{name}: not in expect.toml"));
            continue;
        };
        let raw = Arc::new(std::fs::read(path).unwrap());
        let before: Vec<usize> = f.all().iter().map(|(_, v)| v.len()).collect();
        let t0 = Instant::now();
        let decision = walk_one(&name, &raw, exp, &setup, limits, &mut f);
        let took = t0.elapsed();
        if took > slowest.0 {
            slowest = (took, name.clone());
        }
        let t = per_category.entry(exp.category.clone()).or_default();
        t.cases += 1;
        let grew: Vec<&'static str> = f
            .all()
            .iter()
            .zip(&before)
            .filter(|((_, v), n)| v.len() > **n)
            .map(|((kind, _), _)| *kind)
            .collect();
        if grew.is_empty() {
            let d = decision.unwrap_or_else(|| "?".into());
            *t.clean.entry(d).or_default() += 1;
        } else {
            t.failing += 1;
            for kind in grew {
                *t.kinds.entry(kind).or_default() += 1;
            }
        }
    }
    std::panic::set_hook(hook);
    for name in expect.keys() {
        if !dir.join(name).exists() {
            f.other
                .push(format!("{name}: in expect.toml but no such file"));
        }
    }

    let mut report = format!(
        "adversarial corpus: {} cases, slowest {:?} wall ({})\n",
        files.len(),
        slowest.0,
        slowest.1
    );
    report.push_str("per category: cases, failing; clean decisions; cases per kind of finding\n");
    for (cat, t) in &per_category {
        let clean: Vec<String> = t.clean.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let kinds: Vec<String> = t.kinds.iter().map(|(k, v)| format!("{k} {v}")).collect();
        report.push_str(&format!(
            "  {cat:<10} {:>3}, {:>3} failing; clean: {}; findings: {}\n",
            t.cases,
            t.failing,
            clean.join(", "),
            kinds.join(", ")
        ));
    }
    for (kind, items) in f.all() {
        report.push_str(&format!("{kind}: {}\n", items.len()));
    }
    let mut details = String::new();
    for (kind, items) in f.all() {
        for i in items {
            details.push_str(&format!("  [{kind}] {i}\n"));
        }
    }
    let thin: Vec<String> = CATEGORIES
        .iter()
        .filter(|c| per_category.get(**c).is_none_or(|t| t.cases < 3))
        .map(|c| c.to_string())
        .collect();
    assert!(
        thin.is_empty(),
        "every category needs at least 3 cases; too few in {thin:?}"
    );
    assert!(
        files.len() >= 150,
        "the adversarial corpus must hold at least 150 cases, found {}",
        files.len()
    );
    assert!(
        f.count() == 0,
        "{report}\n{} findings:\n{details}",
        f.count()
    );
    // Seen with --nocapture: the summary of a clean walk.
    println!("{report}");
}
