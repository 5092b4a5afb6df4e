//! Rendering: the reply texts from editable minijinja templates in `templates/`.
//!
//! Each template's first line is `Subject: …`, then a blank line, then the body. All of
//! them are loaded and test-rendered at start, so a missing or broken template is an error
//! before any mail is read. The English templates are in the folder itself, the German ones
//! in its `de/` subfolder, with the same names and variables; both are required.

pub mod clean;
pub mod compose;
pub mod ics;
pub mod language;

use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::check::Checked;
use crate::config::Config;
use crate::decide::describe_in;
use crate::model::{Decision, Lang, ProblemCode, TestClass};

/// The messages intake writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Acceptance,
    Rejection,
    Security,
    Staff,
    /// A change to an accepted request, accepted.
    ChangeAccepted,
    /// A change to an accepted request that cannot be accepted; the old window stays.
    ChangeRejected,
    /// The customer's cancellation, acknowledged.
    Cancelled,
    /// The same notification again.
    Duplicate,
    /// The security team's update or cancellation of an accepted window.
    SecurityUpdate,
    /// The security team's daily digest (its own context, see `crate::digest`).
    Digest,
}

impl Template {
    pub const ALL: [Template; 10] = [
        Template::Acceptance,
        Template::Rejection,
        Template::Security,
        Template::Staff,
        Template::ChangeAccepted,
        Template::ChangeRejected,
        Template::Cancelled,
        Template::Duplicate,
        Template::SecurityUpdate,
        Template::Digest,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Template::Acceptance => "acceptance.txt",
            Template::Rejection => "rejection.txt",
            Template::Security => "security.txt",
            Template::Staff => "staff.txt",
            Template::ChangeAccepted => "change_accepted.txt",
            Template::ChangeRejected => "change_rejected.txt",
            Template::Cancelled => "cancelled.txt",
            Template::Duplicate => "duplicate.txt",
            Template::SecurityUpdate => "security_update.txt",
            Template::Digest => "digest.txt",
        }
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The loaded, checked templates, both languages, and which language is used for whom.
pub struct Templates {
    env: Environment<'static>,
    /// Customer replies when their text gives no clue (config `language`).
    language: Lang,
    /// Security and staff mail (config `staff_language`).
    staff_language: Lang,
    /// Where the console is (`[web] public_url`): staff mail links each request there.
    console_url: Option<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// Loads every template of both languages from `dir` (English) and `dir/de` (German)
    /// and renders each once with sample data. Customer replies default to English, and
    /// so do staff and security mail; see [`Templates::for_config`].
    pub fn load(dir: &Path) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        for lang in Lang::ALL {
            for t in Template::ALL {
                let path = Self::path(dir, t, lang);
                let source = std::fs::read_to_string(&path)
                    .with_context(|| format!("Reading template {}", path.display()))?;
                env.add_template_owned(Self::name(t, lang), source)
                    .map_err(|e| anyhow!("Template {} is broken: {e}", path.display()))?;
            }
        }
        let templates = Templates {
            env,
            language: Lang::En,
            staff_language: Lang::En,
            console_url: None,
        };
        for lang in Lang::ALL {
            let sample = Context::sample(lang);
            for t in Template::ALL {
                let path = Self::path(dir, t, lang);
                let r = if t == Template::Digest {
                    templates.render_value(t, &crate::digest::sample_context(), lang)
                } else {
                    templates.render(t, &sample, lang)
                };
                let r =
                    r.with_context(|| format!("Template {} fails on sample data", path.display()))?;
                if r.subject.is_empty() {
                    bail!(
                        "Template {} must start with a line `Subject: …`",
                        path.display()
                    );
                }
            }
        }
        Ok(templates)
    }

    /// [`Templates::load`] from the configured folder, with the configured `language` and
    /// `staff_language`.
    pub fn for_config(config: &Config) -> Result<Templates> {
        let mut t = Self::load(&config.templates_dir)?
            .with_languages(config.language, config.staff_language);
        t.console_url = config.web.as_ref().and_then(|w| w.public_url.clone());
        Ok(t)
    }

    /// The console's page of request `reference`, when the console's address is known.
    pub fn console_link(&self, reference: &str) -> String {
        self.console_url
            .as_deref()
            .map(|u| format!("{u}/requests/{reference}"))
            .unwrap_or_default()
    }

    /// The same templates with `language` for customer replies whose text gives no clue and
    /// `staff_language` for security and staff mail.
    pub fn with_languages(mut self, language: Lang, staff_language: Lang) -> Templates {
        self.language = language;
        self.staff_language = staff_language;
        self
    }

    /// The language of customer replies whose text gives no clue.
    pub fn language(&self) -> Lang {
        self.language
    }

    /// The language of security and staff mail.
    pub fn staff_language(&self) -> Lang {
        self.staff_language
    }

    fn name(t: Template, lang: Lang) -> String {
        format!("{}/{}", lang.as_str(), t.file_name())
    }

    /// Where template `t` in `lang` is read from: English in `dir`, the others in a
    /// subfolder named by the language.
    fn path(dir: &Path, t: Template, lang: Lang) -> std::path::PathBuf {
        match lang {
            Lang::En => dir.join(t.file_name()),
            other => dir.join(other.as_str()).join(t.file_name()),
        }
    }

    /// Template `t` in `lang` with `ctx`.
    pub fn render(&self, t: Template, ctx: &Context, lang: Lang) -> Result<Rendered> {
        self.render_value(t, ctx, lang)
    }

    /// Renders `t` in `lang` with any serialisable context (the digest has its own).
    pub fn render_value<T: Serialize>(&self, t: Template, ctx: &T, lang: Lang) -> Result<Rendered> {
        let tmpl = self.env.get_template(&Self::name(t, lang))?;
        let text = tmpl.render(ctx).map_err(|e| anyhow!("{e:#}"))?;
        let (first, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        let subject = first
            .strip_prefix("Subject:")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let body = body.strip_prefix('\n').unwrap_or(body);
        Ok(Rendered {
            subject: one_line(&subject),
            body: body.to_string(),
        })
    }
}

/// A reply's subject without the reply and forward prefixes mail clients stack up
/// (`Re: AW: Fwd:`) and without our own tag (`[INT-…] accepted`) from an earlier answer, so a
/// thread's subjects do not grow with every step.
pub fn thread_subject(subject: &str) -> String {
    const PREFIXES: &[&str] = &[
        "re", "aw", "antw", "antwort", "fw", "fwd", "wg", "tr", "sv", "vs", "rif", "r", "ref",
    ];
    let mut s = subject.trim();
    while let Some((head, rest)) = s.split_once(':') {
        let head = head.trim();
        // `Re[2]:` as some clients count.
        let word = head.split('[').next().unwrap_or(head);
        if head.len() <= 10 && PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p)) {
            s = rest.trim_start();
        } else {
            break;
        }
    }
    let mut out = s.to_string();
    if let Some(at) = out.find("[INT-")
        && at > 0
    {
        out.truncate(at);
    }
    let out = out.trim().to_string();
    if out.is_empty() {
        subject.trim().to_string()
    } else {
        out
    }
}

/// Subjects are one line whatever the customer's subject held, and bounded, so the
/// header stays far below 998 octets.
fn one_line(s: &str) -> String {
    clean::one_line(s, clean::FIELD_CHARS + 100)
}

/// Problems, targets, addresses and windows listed at most, then "and N more".
pub const MAX_LISTED: usize = 20;
/// Warnings and problems are ours, but they quote what the sender wrote.
const MAX_PROBLEM_CHARS: usize = 500;

/// A window as the templates show it.
#[derive(Debug, Clone, Serialize)]
pub struct WindowView {
    pub start_utc: String,
    pub end_utc: String,
    pub start_local: String,
    pub end_local: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemView {
    pub code: String,
    /// The problem as the engine wrote it (English), cleaned and bounded.
    pub message: String,
    /// The problem in the context's language: the message itself in English; in German a
    /// German sentence per problem code.
    pub lead: String,
    /// What `lead` does not say: empty in English; in German the English message, unless
    /// the German lead says all of it (missing items).
    pub detail: String,
}

/// Everything a template may use.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub reference: String,
    pub subject: String,
    pub from: String,
    pub message_id: String,
    pub received: String,
    pub customer_name: String,
    pub decision: String,
    pub reason: String,
    pub test_class: String,
    pub test_word: String,
    pub required_notice_days: String,
    pub standard_notice_days: u32,
    pub broad_notice_days: u32,
    pub notice_days: String,
    pub zone: String,
    pub windows: Vec<WindowView>,
    pub targets: Vec<String>,
    pub ips: Vec<String>,
    pub bandwidth: String,
    pub rate: String,
    pub scope: String,
    pub contact_line: String,
    pub problems: Vec<ProblemView>,
    /// Problems beyond the first [`MAX_LISTED`], not listed.
    pub more_problems: usize,
    pub missing: Vec<String>,
    pub earliest_start: String,
    pub warnings: Vec<String>,
    pub review_checks: Vec<String>,
    pub rules_version: String,
    /// Whether the customer got an automated reply (false for review, and when the reply
    /// was suppressed).
    pub reply_sent: bool,
    /// What the message did to its request (`conversation::Action`), empty outside one.
    pub action: String,
    /// The request's state after the message, empty outside a conversation.
    pub state: String,
    /// What changed, one line each (`window: … → …`).
    pub changes: Vec<String>,
    /// The request's history, oldest first, one line each.
    pub history: Vec<String>,
    /// A cancelled request had been accepted (the security team held its window).
    pub had_acceptance: bool,
    /// A later message of its request (a reply in the thread): replies then say only what is
    /// still missing, not the whole form again.
    pub follow_up: bool,
    /// Calendar method (`PUBLISH`, `CANCEL`) and `SEQUENCE` of the security message.
    pub method: String,
    pub sequence: u32,
    /// The language of the customer reply (`en`, `de`), empty where there is none.
    pub language: String,
    /// A step taken by a person in the console: who, and the reason they gave (one line,
    /// cleaned); both empty otherwise.
    pub staff_by: String,
    pub staff_reason: String,
    /// The sender was not verified automatically; `staff_by` confirmed it.
    pub staff_confirmed_sender: bool,
    /// The request's page in the console (staff mail), empty when unknown.
    pub console_url: String,
    /// What a person did in the console, in a word (`approved`, ...), empty otherwise.
    pub staff_act: String,
    /// The problems a person set aside by approving.
    pub staff_overridden: Vec<String>,
}

const UTC_FMT: &str = "%Y-%m-%d %H:%M";

impl Context {
    /// The view of a checked message the templates render, in English. `now` dates the
    /// earliest qualifying start in rejections.
    pub fn of(c: &Checked, now: chrono::DateTime<chrono::Utc>) -> Context {
        Self::of_in(c, now, Lang::En)
    }

    /// [`Context::of`] with the words intake writes itself (fallbacks, units, the kind of
    /// test, missing items, problem leads) in `lang`.
    pub fn of_in(c: &Checked, now: chrono::DateTime<chrono::Utc>, lang: Lang) -> Context {
        let de = lang == Lang::De;
        let not_stated = if de {
            "(nicht angegeben)"
        } else {
            "(not stated)"
        };
        let v = &c.verdict;
        let r = &v.request;
        let zone = c.zone;
        let windows: Vec<WindowView> = r
            .windows
            .iter()
            .take(MAX_LISTED + 1)
            .map(|w| WindowView {
                start_utc: w.start.format(UTC_FMT).to_string(),
                end_utc: w.end.format(UTC_FMT).to_string(),
                start_local: zone.format(w.start),
                end_local: zone.format(w.end),
            })
            .collect();
        let earliest_start = if v.has(ProblemCode::NoticeTooShort) {
            let days = i64::from(v.required_notice_days.unwrap_or(14));
            zone.format(now + chrono::Duration::days(days))
        } else {
            String::new()
        };
        let contact = &r.contact;
        // Everything below that came from the message is cleaned and bounded here, once,
        // so no template can echo raw attacker text.
        let contact_line = [&contact.name, &contact.email, &contact.phone]
            .iter()
            .filter_map(|x| x.as_deref())
            .map(|x| clean::one_line(x, clean::ITEM_CHARS))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let total_windows = r.windows.len();
        let mut windows: Vec<WindowView> = windows;
        windows.truncate(MAX_LISTED);
        let mut warnings: Vec<String> = v
            .warnings
            .iter()
            .take(MAX_LISTED)
            .map(|w| clean::one_line(w, MAX_PROBLEM_CHARS))
            .collect();
        if total_windows > MAX_LISTED {
            warnings.push(format!(
                "Only the first {MAX_LISTED} of {total_windows} windows are listed."
            ));
        }
        let fallback_subject = if de {
            "Ihre Testankündigung"
        } else {
            "Your test notification"
        };
        Context {
            reference: v.reference.clone(),
            subject: if v.subject.trim().is_empty() {
                fallback_subject.into()
            } else {
                let s = one_line(&thread_subject(&v.subject));
                if s.is_empty() {
                    fallback_subject.into()
                } else {
                    s
                }
            },
            from: v.from.as_deref().map_or_else(
                || {
                    if de {
                        "(unbekannter Absender)"
                    } else {
                        "(unknown sender)"
                    }
                    .into()
                },
                |f| clean::one_line(f, clean::ITEM_CHARS),
            ),
            message_id: v.message_id.as_deref().map_or_else(
                || if de { "(keine)" } else { "(none)" }.into(),
                |m| clean::one_line(m, clean::ITEM_CHARS),
            ),
            received: v
                .received
                .map(|t| format!("{} UTC ({})", t.format(UTC_FMT), zone.format(t)))
                .unwrap_or_default(),
            customer_name: c
                .letter
                .from_name
                .as_deref()
                .and_then(clean::greeting_name)
                .or_else(|| contact.name.as_deref().and_then(clean::greeting_name))
                .unwrap_or_default(),
            decision: v.decision.as_str().into(),
            reason: v
                .reason
                .as_deref()
                .map(|r| clean::one_line(r, clean::FIELD_CHARS))
                .unwrap_or_default(),
            test_class: match v.test_class {
                Some(TestClass::Standard) => "standard".into(),
                Some(TestClass::Broad) => "broad".into(),
                None => "unknown".into(),
            },
            test_word: test_word(c, lang),
            required_notice_days: v
                .required_notice_days
                .map_or_else(|| "?".into(), |d| d.to_string()),
            standard_notice_days: c.notice_rules.0,
            broad_notice_days: c.notice_rules.1,
            notice_days: v
                .notice_days
                .map_or_else(|| "?".into(), |d| format!("{d:.1}")),
            zone: zone.label(),
            windows,
            targets: clean::list(r.targets.iter().cloned(), MAX_LISTED),
            ips: clean::list(
                r.originating_ips.iter().map(ToString::to_string),
                MAX_LISTED,
            ),
            bandwidth: r.bandwidth_bps.map_or_else(
                || {
                    if de {
                        "Bandbreite nicht angegeben"
                    } else {
                        "bandwidth not stated"
                    }
                    .into()
                },
                human_bps,
            ),
            rate: r.requests_per_second.map_or_else(
                || {
                    if de {
                        "Anfragerate nicht angegeben"
                    } else {
                        "request rate not stated"
                    }
                    .into()
                },
                |x| {
                    if de {
                        format!("{} Anfragen/s", trim_num(x))
                    } else {
                        format!("{} requests/s", trim_num(x))
                    }
                },
            ),
            scope: r
                .scope
                .as_deref()
                .map(|s| clean::one_line(s, clean::FIELD_CHARS))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| not_stated.into()),
            contact_line: if contact_line.is_empty() {
                not_stated.into()
            } else {
                contact_line
            },
            problems: v
                .problems
                .iter()
                .take(MAX_LISTED)
                .map(|p| problem_view(p, &v.missing, lang))
                .collect(),
            more_problems: v.problems.len().saturating_sub(MAX_LISTED),
            missing: v
                .missing
                .iter()
                .map(|i| describe_in(*i, lang).to_string())
                .collect(),
            earliest_start,
            warnings,
            review_checks: review_checks(c),
            rules_version: v.rules_version.to_string(),
            reply_sent: false,
            action: String::new(),
            state: String::new(),
            changes: Vec::new(),
            history: Vec::new(),
            had_acceptance: false,
            follow_up: false,
            method: "PUBLISH".into(),
            sequence: 0,
            language: String::new(),
            staff_by: String::new(),
            staff_reason: String::new(),
            staff_confirmed_sender: false,
            console_url: String::new(),
            staff_act: String::new(),
            staff_overridden: Vec::new(),
        }
    }

    /// Data every template must render without error, used to check templates at start.
    fn sample(lang: Lang) -> Context {
        let w = WindowView {
            start_utc: "2027-01-11 08:00".into(),
            end_utc: "2027-01-11 16:00".into(),
            start_local: "2027-01-11 09:00 CET".into(),
            end_local: "2027-01-11 17:00 CET".into(),
        };
        Context {
            reference: "INT-SAMPLE".into(),
            subject: "Pen test notification".into(),
            from: "ops@example.com".into(),
            message_id: "sample@example.com".into(),
            received: "2026-12-01 10:00 UTC".into(),
            customer_name: "Jane Doe".into(),
            decision: "review".into(),
            reason: "sample".into(),
            test_class: "standard".into(),
            test_word: "penetration test".into(),
            required_notice_days: "14".into(),
            standard_notice_days: 14,
            broad_notice_days: 28,
            notice_days: "41.0".into(),
            zone: "Europe/Zurich".into(),
            windows: vec![w],
            targets: vec!["shop.example.com".into()],
            ips: vec!["185.199.110.17/32".into()],
            bandwidth: "100 Mbit/s".into(),
            rate: "500 requests/s".into(),
            scope: "OWASP top 10".into(),
            contact_line: "Jane Doe, jane@example.com".into(),
            problems: vec![ProblemView {
                code: "notice_too_short".into(),
                message: "sample".into(),
                lead: "sample".into(),
                detail: "sample".into(),
            }],
            more_problems: 1,
            missing: vec![describe_in(crate::model::Item::Bandwidth, lang).into()],
            earliest_start: "2026-12-15 10:00 CET".into(),
            warnings: vec!["sample".into()],
            review_checks: vec!["sample".into()],
            rules_version: "sample".into(),
            reply_sent: true,
            action: "change_accepted".into(),
            state: "accepted".into(),
            changes: vec!["window: 2027-01-11 08:00 UTC → 2027-01-18 08:00 UTC".into()],
            history: vec!["2026-12-01 10:00 UTC accepted (ops@example.com)".into()],
            had_acceptance: true,
            follow_up: true,
            method: "PUBLISH".into(),
            sequence: 1,
            language: lang.as_str().into(),
            staff_by: "alice".into(),
            staff_reason: "sample".into(),
            staff_confirmed_sender: true,
            console_url: "http://127.0.0.1:8025/requests/INT-SAMPLE".into(),
            staff_act: "approved".into(),
            staff_overridden: vec!["sample".into()],
        }
    }
}

/// A problem as a template shows it in `lang`; see [`ProblemView`].
fn problem_view(
    p: &crate::model::Problem,
    missing: &[crate::model::Item],
    lang: Lang,
) -> ProblemView {
    let message = clean::one_line(&p.message, MAX_PROBLEM_CHARS);
    let code = serde_json::to_value(p.code)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default();
    match lang {
        Lang::En => ProblemView {
            code,
            lead: message.clone(),
            message,
            detail: String::new(),
        },
        Lang::De if p.code == ProblemCode::MissingInformation && !missing.is_empty() => {
            let list: Vec<&str> = missing.iter().map(|i| describe_in(*i, lang)).collect();
            ProblemView {
                code,
                lead: format!("In Ihrer Meldung fehlen Angaben: {}.", list.join("; ")),
                detail: String::new(),
                message,
            }
        }
        Lang::De => ProblemView {
            code,
            lead: problem_lead_de(p.code).into(),
            detail: message.clone(),
            message,
        },
    }
}

/// A German sentence per problem code, for German replies; the English message follows it
/// as the detail.
pub fn problem_lead_de(code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::MissingInformation => "In Ihrer Meldung fehlen Angaben.",
        ProblemCode::NoticeTooShort => "Die Vorlaufzeit ist zu kurz.",
        ProblemCode::WindowInvalid => "Das angegebene Testfenster ist ungültig.",
        ProblemCode::IpNotPublic => {
            "Eine Quell-IP-Adresse ist nicht öffentlich erreichbar; wir benötigen die öffentlichen Adressen, von denen der Testverkehr kommt."
        }
        ProblemCode::AmbiguousDate => "Ein Datum oder eine Zeitzone ist nicht eindeutig.",
        ProblemCode::SenderUnverified => "Der Absender konnte nicht verifiziert werden.",
        ProblemCode::TooLarge => "Die Nachricht ist zu gross, um sie automatisch zu lesen.",
        ProblemCode::Unreadable => "Die Nachricht konnte nicht gelesen werden.",
        ProblemCode::ReplyLimit => "Das Limit für automatische Antworten ist erreicht.",
        ProblemCode::ImplausibleValue => "Ein Wert liegt ausserhalb des Plausiblen.",
        ProblemCode::TargetNotOwned => {
            "Ein Ziel gehört nach unseren Unterlagen nicht zu Ihrer Organisation."
        }
        ProblemCode::Cancellation => "Die Nachricht sagt den Test ab oder verschiebt ihn.",
        ProblemCode::AlternativesDisagree => {
            "Die Text- und die HTML-Fassung der Nachricht sagen Verschiedenes."
        }
        ProblemCode::HiddenText => {
            "Die Nachricht enthält versteckten Text, der etwas anderes sagt als der sichtbare."
        }
        ProblemCode::TooComplex => "Die Nachricht ist zu komplex, um sie sicher zu lesen.",
        ProblemCode::AutomatedSender => "Die Nachricht stammt von einem automatischen Absender.",
        ProblemCode::NotTheRequester => "Der Absender spricht nicht für diese Anfrage.",
        ProblemCode::RequestWithStaff => "Diese Anfrage wird von unserem Support-Team bearbeitet.",
        ProblemCode::ListEdit => {
            "Die Nachricht nimmt Einträge aus einer Liste heraus; unser Team bestätigt, was angemeldet bleibt."
        }
        ProblemCode::SeveralRequests => "Die Nachricht bezieht sich auf mehrere Anfragen.",
        ProblemCode::UnclearFollowUp => "Unser Team liest Ihre Nachricht und meldet sich.",
    }
}

/// What the customer announced, in `lang` (German: masculine, "Ihren Lasttest").
fn test_word(c: &Checked, lang: Lang) -> String {
    let de = lang == Lang::De;
    let (load, security) = c.extraction.as_ref().map_or((false, false), |ex| {
        (ex.mentions.load, ex.mentions.security)
    });
    let word = match (load, security) {
        (true, true) if de => "Last- und Sicherheitstest",
        (true, true) => "load and security test",
        (true, false) if de => "Lasttest",
        (true, false) => "load test",
        (false, true) if c.verdict.test_class == Some(TestClass::Broad) => {
            if de {
                "Sicherheitstest der Plattform"
            } else {
                "security test of the platform"
            }
        }
        (false, true) if de => "Sicherheits- bzw. Penetrationstest",
        (false, true) => "security/penetration test",
        (false, false) if de => "Test",
        (false, false) => "test",
    };
    word.into()
}

/// What a person should look at for a `review`.
fn review_checks(c: &Checked) -> Vec<String> {
    let v = &c.verdict;
    if v.decision != Decision::Review {
        return Vec::new();
    }
    let mut out = Vec::new();
    for p in v.problems.iter().take(MAX_LISTED) {
        let check = match p.code {
            ProblemCode::SenderUnverified => format!(
                "Confirm with the customer through a known channel that {} really sent this ({})",
                v.from.as_deref().map_or_else(
                    || "the sender".into(),
                    |f| clean::one_line(f, clean::ITEM_CHARS)
                ),
                clean::one_line(&p.message, MAX_PROBLEM_CHARS)
            ),
            ProblemCode::AmbiguousDate => format!(
                "Ask which date or zone is meant: {}",
                clean::one_line(&p.message, MAX_PROBLEM_CHARS)
            ),
            ProblemCode::TooLarge | ProblemCode::Unreadable => {
                format!(
                    "Open the original message and read it by hand: {}",
                    clean::one_line(&p.message, MAX_PROBLEM_CHARS)
                )
            }
            _ => continue,
        };
        out.push(check);
    }
    if out.is_empty() {
        out.push("Read the original message and decide by hand.".into());
    }
    out
}

/// `100 Mbit/s`, `1.5 Gbit/s`.
pub fn human_bps(bps: f64) -> String {
    let (v, unit) = if bps >= 1e9 {
        (bps / 1e9, "Gbit/s")
    } else if bps >= 1e6 {
        (bps / 1e6, "Mbit/s")
    } else if bps >= 1e3 {
        (bps / 1e3, "kbit/s")
    } else {
        (bps, "bit/s")
    };
    format!("{} {unit}", trim_num(v))
}

fn trim_num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::thread_subject;

    #[test]
    fn reply_prefixes_and_our_tags_are_dropped_from_thread_subjects() {
        for (a, b) in [
            (
                "Re: Re: Pentest shop [INT-ABCDEFGHJK] action needed",
                "Pentest shop",
            ),
            ("AW: WG: Lasttest Shop", "Lasttest Shop"),
            ("RE[2]: Pen test", "Pen test"),
            ("Pen test: shop and API", "Pen test: shop and API"),
            ("[INT-ABCDEFGHJK]", "[INT-ABCDEFGHJK]"),
            ("Re:", "Re:"),
            ("Ticket: Re: x", "Ticket: Re: x"),
        ] {
            assert_eq!(thread_subject(a), b, "{a}");
        }
    }
}
