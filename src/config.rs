//! Configuration: the `config.toml` file as written (serde) and the validated runtime form.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::model::Lang;
use crate::sink::OutboxConfig;
use crate::source::MailboxConfig;

/// `config.toml` as written. Every key is optional; the defaults are documented per field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// IANA zone for times written without one (default `Europe/Zurich`).
    pub timezone: Option<String>,
    /// Folder with the reply templates, relative to the config file (default `templates`).
    pub templates: Option<PathBuf>,
    /// Language of customer replies whose text gives no clue: `en` (default) or `de`.
    pub language: Option<String>,
    /// Language of security and staff mail: `en` (default) or `de`.
    pub staff_language: Option<String>,
    #[serde(default)]
    pub rules: RulesFile,
    #[serde(default)]
    pub addresses: AddressesFile,
    /// Where mail comes from (`intake watch`).
    pub mailbox: Option<MailboxConfig>,
    /// Where replies go (`intake watch`).
    pub outbox: Option<OutboxConfig>,
    /// The SQLite store (`intake watch`).
    pub store: Option<StoreFile>,
    /// The optional customer registry.
    pub customers: Option<CustomersFile>,
    /// The security team's daily digest (`intake watch`); none without this section.
    pub digest: Option<DigestFile>,
    /// The web console of `intake watch`; none without `listen`.
    pub web: Option<WebFile>,
}

/// `[web]`: the web console `intake watch` serves.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebFile {
    /// Socket address to listen on, such as `127.0.0.1:8025`; unset: no web console.
    pub listen: Option<String>,
    /// Host names (and addresses) the console answers to, without port. Default:
    /// `localhost`, `127.0.0.1`, `::1` and the address in `listen`.
    pub allowed_hosts: Option<Vec<String>>,
    /// `/readyz` fails when the mailbox was not reached for this many minutes. Default 10.
    pub ready_mailbox_minutes: Option<u32>,
    /// Session cookies carry `Secure` (only sent over HTTPS). Default false: the default
    /// console is plain HTTP on loopback; set it behind TLS.
    pub secure_cookies: Option<bool>,
    /// How long a console session lasts, in hours (1–720). Default 8.
    pub session_hours: Option<u32>,
    /// Single sign-on: the header in which a trusted reverse proxy names the signed-in user
    /// (such as `X-Forwarded-User`). Read only on connections from `trusted_proxies`, which
    /// it requires. Default: unset, no single sign-on.
    pub trusted_proxy_header: Option<String>,
    /// Addresses (CIDR) of the reverse proxies whose `trusted_proxy_header` and
    /// `X-Forwarded-Proto` are believed, such as `["127.0.0.1/32", "::1/128"]`. Default:
    /// none.
    pub trusted_proxies: Option<Vec<String>>,
    /// The address people open the console at (`https://intake.example.com`), for the link
    /// to each request in staff mail. Default: `http://` and `listen`, when that is a
    /// concrete address with a port.
    pub public_url: Option<String>,
}

/// `[digest]`: when the security team gets its daily digest of the next 48 hours' windows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestFile {
    /// Local time of day, `HH:MM` (24-hour clock).
    pub time: String,
    /// IANA zone of `time` (default: the top-level `timezone`).
    pub timezone: Option<String>,
}

/// `[customers]`: where the customer registry is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersFile {
    /// TOML file of `[[customer]]` entries, relative to the config file.
    pub file: PathBuf,
}

pub use crate::decide::rules::{Customer, Rules, SenderVerification};

/// The registry file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    customer: Vec<Customer>,
}

/// Parses and validates a registry (`origin` names it in errors). Domains come back
/// lowercase without a leading `*.` or dot. Every error is reported, not only the first.
pub fn parse_registry(text: &str, origin: &str) -> Result<Vec<Customer>, Vec<String>> {
    let file: RegistryFile = toml::from_str(text).map_err(|e| vec![format!("{origin}: {e}")])?;
    let mut errors = Vec::new();
    let mut out: Vec<Customer> = Vec::with_capacity(file.customer.len());
    for (i, c) in file.customer.into_iter().enumerate() {
        let name = c.name.trim().to_string();
        let at = if name.is_empty() {
            errors.push(format!(
                "{origin}: customer #{}: name must not be empty",
                i + 1
            ));
            format!("customer #{}", i + 1)
        } else {
            format!("customer #{} ({name})", i + 1)
        };
        if out.iter().any(|o| o.name.eq_ignore_ascii_case(&name)) && !name.is_empty() {
            errors.push(format!("{origin}: {at}: the name is used twice"));
        }
        let mut domains = |key: &str, list: Vec<String>| -> Vec<String> {
            if list.is_empty() {
                errors.push(format!(
                    "{origin}: {at}: {key} must list at least one domain"
                ));
            }
            let mut kept = Vec::with_capacity(list.len());
            for d in list {
                let norm = d
                    .trim()
                    .trim_start_matches("*.")
                    .trim_start_matches('.')
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                if !is_domain_name(&norm) {
                    errors.push(format!(
                        "{origin}: {at}: {key}: {d:?} is not a domain name such as \"example.ch\""
                    ));
                } else if is_public_suffix(&norm) {
                    errors.push(format!(
                        "{origin}: {at}: {key}: {d:?} is a public suffix and would cover strangers"
                    ));
                } else {
                    kept.push(norm);
                }
            }
            kept
        };
        let sender_domains = domains("sender_domains", c.sender_domains);
        let target_domains = domains("target_domains", c.target_domains);
        out.push(Customer {
            name,
            sender_domains,
            target_domains,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `name` is itself on the Public Suffix List (`co.uk`, `github.io`): registering it would
/// hand every domain below it to one customer. Names under suffixes the list does not know
/// (`example.test`, `corp.internal`) are private names and allowed.
fn is_public_suffix(name: &str) -> bool {
    let s = psl::suffix(name.as_bytes());
    s.is_some_and(|s| s.is_known() && s.as_bytes() == name.as_bytes())
}

/// Labels of letters, digits and hyphens, at least two of them.
fn is_domain_name(d: &str) -> bool {
    d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `[store]`: where decisions are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// The SQLite file (created with its folder when missing).
    pub path: PathBuf,
}

/// `[rules]`: the notice rules and message checks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Days of notice for a standard test (pen test of the customer's own application). Default 14.
    pub standard_notice_days: Option<u32>,
    /// Days of notice for broad testing (load tests, tests of the platform itself). Default 28.
    pub broad_notice_days: Option<u32>,
    /// Messages larger than this are not parsed but sent to review. Default 25 MiB.
    pub max_message_bytes: Option<u64>,
    /// authserv-id of our own MX in `Authentication-Results`; unset: the topmost header counts.
    pub trusted_authserv_id: Option<String>,
    /// Automated replies to one address per 24 hours at most (a mail-loop breaker). Default 5.
    pub max_replies_per_sender_per_day: Option<u32>,
    /// Domains of the platform's own services: a test aimed at one of their service hosts
    /// (`dashboard.`, `api.`, `ssh.`, ...) is a test of the platform, so broad.
    pub platform_domains: Option<Vec<String>>,
    /// `"dmarc"` (default): only a From domain authenticated by the trusted
    /// `Authentication-Results` is accepted or answered. `"off"`: for an MX that writes no
    /// `Authentication-Results`; intake warns at every start.
    pub sender_verification: Option<SenderVerification>,
    /// Automated replies to one organizational domain per 24 hours at most. Default 20.
    pub max_replies_per_domain_per_day: Option<u32>,
    /// Automated customer replies per hour at most, all senders together. Default 100.
    pub max_replies_per_hour: Option<u32>,
    /// CPU time one message may take to read and decide, in milliseconds; beyond it the
    /// message goes to review as too complex to read safely. Default 2000.
    pub cpu_budget_ms: Option<u64>,
    /// The largest plausible IPv4 source block, as a prefix length: a larger block (a
    /// shorter prefix) goes to review. Default 16.
    pub max_source_prefix_v4: Option<u8>,
    /// The same for IPv6. Default 32.
    pub max_source_prefix_v6: Option<u8>,
    /// The longest plausible window, in days. Default 31.
    pub max_window_days: Option<u32>,
    /// How far ahead a plausible start lies at most, in days after arrival. Default 365.
    pub max_start_days_ahead: Option<u32>,
    /// The highest plausible bandwidth, bits per second. Default 10 Gbit/s.
    pub max_bandwidth_bps: Option<f64>,
    /// The highest plausible request rate per second. Default 100,000.
    pub max_requests_per_second: Option<f64>,
    /// Traffic above this request rate is a load test, whatever the words say. Default 1,000.
    pub load_test_above_requests_per_second: Option<f64>,
    /// Traffic above this bandwidth (bits per second) is a load test. Default 1 Gbit/s.
    pub load_test_above_bps: Option<f64>,
}

/// `[addresses]`: who we are and whom we tell.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressesFile {
    /// The address replies are sent from (and our own domain, for Message-IDs and loop checks).
    pub from: Option<String>,
    /// Receives a summary and calendar entry of every accepted window.
    pub security_team: Option<String>,
    /// Receives a parsed summary of every notification.
    pub staff: Option<String>,
}

/// Validated addresses.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub from: String,
    pub security_team: String,
    pub staff: String,
}

impl Addresses {
    /// Domain of our own `from` address: used for Message-IDs and to recognise our own mail.
    pub fn own_domain(&self) -> &str {
        self.from.rsplit_once('@').map_or("localhost", |(_, d)| d)
    }
}

impl Default for Addresses {
    fn default() -> Self {
        Addresses {
            from: "support@amazee.io".into(),
            security_team: "security@amazee.io".into(),
            staff: "support-staff@amazee.io".into(),
        }
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub rules: Rules,
    pub addresses: Addresses,
    pub templates_dir: PathBuf,
    /// Customer replies whose text gives no clue are in this language.
    pub language: Lang,
    /// Security and staff mail are in this language.
    pub staff_language: Lang,
    /// `intake watch` sections, validated, with relative paths resolved.
    pub mailbox: Option<MailboxConfig>,
    pub outbox: Option<OutboxConfig>,
    pub store_path: Option<PathBuf>,
    /// The daily digest's schedule, if any.
    pub digest: Option<crate::digest::Schedule>,
    /// The web console, when `[web] listen` is set.
    pub web: Option<crate::web::WebConfig>,
    /// Folder relative paths in the file are resolved against.
    pub base_dir: PathBuf,
}

impl Config {
    /// Loads `path`, or `./config.toml` when it exists, or the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        match path {
            Some(p) => Self::from_file(p),
            None => {
                let default = Path::new("config.toml");
                if default.exists() {
                    Self::from_file(default)
                } else {
                    Self::from_str(
                        "",
                        &std::env::current_dir().context("Reading the current directory")?,
                    )
                }
            }
        }
    }

    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Reading config file {}", path.display()))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut cfg = Self::from_str(&text, &base)
            .with_context(|| format!("Invalid config file {}", path.display()))?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses and validates config text; relative paths are resolved against `base`.
    /// Every invalid value is reported, not only the first.
    pub fn from_str(text: &str, base: &Path) -> Result<Config> {
        let file: FileConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut errors = Vec::new();
        let defaults = Rules::default();

        let timezone = match file.timezone.as_deref() {
            None => defaults.timezone,
            Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
                errors.push(format!(
                    "timezone: `{name}` is not an IANA time zone name (e.g. Europe/Zurich)"
                ));
                defaults.timezone
            }),
        };
        let mut lang = |key: &str, v: Option<&str>| match v {
            None => Lang::En,
            Some(x) => Lang::parse(x).unwrap_or_else(|| {
                errors.push(format!(
                    "{key}: `{x}` is not a language intake writes (\"en\" or \"de\")"
                ));
                Lang::En
            }),
        };
        let language = lang("language", file.language.as_deref());
        let staff_language = lang("staff_language", file.staff_language.as_deref());
        let mut days = |key: &str, v: Option<u32>, default: u32| match v {
            Some(0) => {
                errors.push(format!("rules.{key}: must be at least 1 day"));
                default
            }
            Some(d) if d > 365 => {
                errors.push(format!("rules.{key}: {d} days is more than a year"));
                default
            }
            Some(d) => d,
            None => default,
        };
        let standard_notice_days = days(
            "standard_notice_days",
            file.rules.standard_notice_days,
            defaults.standard_notice_days,
        );
        let broad_notice_days = days(
            "broad_notice_days",
            file.rules.broad_notice_days,
            defaults.broad_notice_days,
        );
        if broad_notice_days < standard_notice_days {
            errors.push(format!(
                "rules.broad_notice_days ({broad_notice_days}) must not be below rules.standard_notice_days ({standard_notice_days})"
            ));
        }
        let max_message_bytes = match file.rules.max_message_bytes {
            Some(n) if n < 1024 => {
                errors.push(format!(
                    "rules.max_message_bytes: {n} is too small (at least 1024)"
                ));
                defaults.max_message_bytes
            }
            Some(n) => n,
            None => defaults.max_message_bytes,
        };
        let trusted_authserv_id = match file.rules.trusted_authserv_id {
            Some(id) if id.trim().is_empty() => {
                errors.push("rules.trusted_authserv_id: must not be empty (leave it out to trust the topmost header)".into());
                None
            }
            other => other.map(|s| s.trim().to_ascii_lowercase()),
        };

        let max_replies_per_sender_per_day = match file.rules.max_replies_per_sender_per_day {
            Some(0) => {
                errors.push("rules.max_replies_per_sender_per_day: must be at least 1".into());
                defaults.max_replies_per_sender_per_day
            }
            Some(n) => n,
            None => defaults.max_replies_per_sender_per_day,
        };

        let platform_domains = match file.rules.platform_domains {
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for d in list {
                    let d = d.trim().trim_start_matches('.').to_ascii_lowercase();
                    let valid = d.contains('.')
                        && !d.ends_with('.')
                        && d.split('.').all(|l| {
                            !l.is_empty()
                                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        });
                    if valid {
                        out.push(d);
                    } else {
                        errors.push(format!(
                            "rules.platform_domains: {d:?} is not a domain name such as \"amazee.io\""
                        ));
                    }
                }
                out
            }
            None => defaults.platform_domains.clone(),
        };

        let mut at_least_one = |key: &str, v: Option<u32>, default: u32| match v {
            Some(0) => {
                errors.push(format!("rules.{key}: must be at least 1"));
                default
            }
            Some(n) => n,
            None => default,
        };
        let max_replies_per_domain_per_day = at_least_one(
            "max_replies_per_domain_per_day",
            file.rules.max_replies_per_domain_per_day,
            defaults.max_replies_per_domain_per_day,
        );
        let max_replies_per_hour = at_least_one(
            "max_replies_per_hour",
            file.rules.max_replies_per_hour,
            defaults.max_replies_per_hour,
        );
        let max_window_days = at_least_one(
            "max_window_days",
            file.rules.max_window_days,
            defaults.max_window_days,
        );
        let max_start_days_ahead = at_least_one(
            "max_start_days_ahead",
            file.rules.max_start_days_ahead,
            defaults.max_start_days_ahead,
        );
        let cpu_budget_ms = match file.rules.cpu_budget_ms {
            Some(n) if !(10..=600_000).contains(&n) => {
                errors.push(format!(
                    "rules.cpu_budget_ms: {n} is outside 10..=600000 milliseconds"
                ));
                defaults.cpu_budget_ms
            }
            Some(n) => n,
            None => defaults.cpu_budget_ms,
        };
        let mut prefix = |key: &str, v: Option<u8>, max: u8, default: u8| match v {
            Some(p) if p > max => {
                errors.push(format!("rules.{key}: {p} is longer than /{max}"));
                default
            }
            Some(p) => p,
            None => default,
        };
        let max_source_prefix_v4 = prefix(
            "max_source_prefix_v4",
            file.rules.max_source_prefix_v4,
            32,
            defaults.max_source_prefix_v4,
        );
        let max_source_prefix_v6 = prefix(
            "max_source_prefix_v6",
            file.rules.max_source_prefix_v6,
            128,
            defaults.max_source_prefix_v6,
        );
        let mut positive = |key: &str, v: Option<f64>, default: f64| match v {
            Some(x) if !(x.is_finite() && x > 0.0) => {
                errors.push(format!("rules.{key}: must be a positive number"));
                default
            }
            Some(x) => x,
            None => default,
        };
        let max_bandwidth_bps = positive(
            "max_bandwidth_bps",
            file.rules.max_bandwidth_bps,
            defaults.max_bandwidth_bps,
        );
        let max_requests_per_second = positive(
            "max_requests_per_second",
            file.rules.max_requests_per_second,
            defaults.max_requests_per_second,
        );
        let load_test_above_requests_per_second = positive(
            "load_test_above_requests_per_second",
            file.rules.load_test_above_requests_per_second,
            defaults.load_test_above_requests_per_second,
        );
        let load_test_above_bps = positive(
            "load_test_above_bps",
            file.rules.load_test_above_bps,
            defaults.load_test_above_bps,
        );
        let sender_verification = file.rules.sender_verification.unwrap_or_default();
        let customers = match &file.customers {
            Some(c) => {
                let path = base.join(&c.file);
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        parse_registry(&text, &format!("customers.file {}", path.display()))
                            .unwrap_or_else(|e| {
                                errors.extend(e);
                                Vec::new()
                            })
                    }
                    Err(e) => {
                        errors.push(format!(
                            "customers.file: cannot read {}: {e}",
                            path.display()
                        ));
                        Vec::new()
                    }
                }
            }
            None => Vec::new(),
        };

        let mut mailbox = file.mailbox;
        if let Some(m) = &mut mailbox {
            if let Err(e) = m.validate() {
                errors.push(format!("mailbox: {e}"));
            }
            match m {
                MailboxConfig::Imap(c) => {
                    if let Some(ca) = &mut c.ca_file {
                        *ca = base.join(&*ca);
                    }
                }
                MailboxConfig::Maildir(c) => {
                    c.path = base.join(&c.path);
                    if let Some(seed) = &mut c.seed_from {
                        *seed = base.join(&*seed);
                    }
                }
            }
        }
        let mut outbox = file.outbox;
        if let Some(o) = &mut outbox {
            if let Err(e) = o.validate() {
                errors.push(format!("outbox: {e}"));
            }
            match o {
                OutboxConfig::Smtp(c) => {
                    if let Some(ca) = &mut c.ca_file {
                        *ca = base.join(&*ca);
                    }
                }
                OutboxConfig::File(c) => c.path = base.join(&c.path),
            }
        }

        let d = Addresses::default();
        let mut address = |key: &str, v: Option<String>, default: String| match v {
            Some(a) if !is_plain_address(&a) => {
                errors.push(format!(
                    "addresses.{key}: `{a}` is not an e-mail address like name@example.com"
                ));
                default
            }
            Some(a) => a.to_ascii_lowercase(),
            None => default,
        };
        let addresses = Addresses {
            from: address("from", file.addresses.from, d.from),
            security_team: address(
                "security_team",
                file.addresses.security_team,
                d.security_team,
            ),
            staff: address("staff", file.addresses.staff, d.staff),
        };

        let digest = file.digest.as_ref().map(|d| {
            let at = chrono::NaiveTime::parse_from_str(d.time.trim(), "%H:%M").unwrap_or_else(|_| {
                errors.push(format!(
                    "digest.time: `{}` is not a time of day like 07:00",
                    d.time
                ));
                chrono::NaiveTime::MIN
            });
            let zone = match d.timezone.as_deref() {
                None => timezone,
                Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
                    errors.push(format!(
                        "digest.timezone: `{name}` is not an IANA time zone name (e.g. Europe/Zurich)"
                    ));
                    timezone
                }),
            };
            crate::digest::Schedule { at, zone }
        });

        let web = file
            .web
            .as_ref()
            .and_then(|w| web_config(w, mailbox.as_ref(), &mut errors));

        if !errors.is_empty() {
            bail!("{}", errors.join("\n"));
        }
        Ok(Config {
            path: None,
            rules: Rules {
                timezone,
                standard_notice_days,
                broad_notice_days,
                max_message_bytes,
                trusted_authserv_id,
                max_replies_per_sender_per_day,
                platform_domains,
                sender_verification,
                max_replies_per_domain_per_day,
                max_replies_per_hour,
                cpu_budget_ms,
                max_source_prefix_v4,
                max_source_prefix_v6,
                max_window_days,
                max_start_days_ahead,
                max_bandwidth_bps,
                max_requests_per_second,
                load_test_above_requests_per_second,
                load_test_above_bps,
                customers,
            },
            addresses,
            templates_dir: base.join(file.templates.unwrap_or_else(|| "templates".into())),
            language,
            staff_language,
            mailbox,
            outbox,
            store_path: file.store.map(|s| base.join(s.path)),
            digest,
            web,
            base_dir: base.to_path_buf(),
        })
    }
}

/// Validates `[web]`; `None` without `listen` (or when it is invalid, with the errors noted).
fn web_config(
    w: &WebFile,
    mailbox: Option<&MailboxConfig>,
    errors: &mut Vec<String>,
) -> Option<crate::web::WebConfig> {
    let minutes = match w.ready_mailbox_minutes {
        Some(m) if !(1..=1440).contains(&m) => {
            errors.push(format!(
                "web.ready_mailbox_minutes: {m} is outside 1..=1440 minutes"
            ));
            crate::web::DEFAULT_READY_MAILBOX_MINUTES
        }
        Some(m) => m,
        None => crate::web::DEFAULT_READY_MAILBOX_MINUTES,
    };
    // A quiet IDLE is the longest the mailbox goes without answering: readiness must wait
    // longer than that.
    if let Some(MailboxConfig::Imap(imap)) = mailbox {
        let idle = imap.idle_minutes.clamp(1, 10);
        if u64::from(minutes) <= idle {
            errors.push(format!(
                "web.ready_mailbox_minutes ({minutes}) must be longer than mailbox.idle_minutes ({idle}): the mailbox says nothing during an IDLE"
            ));
        }
    }
    let session_hours = match w.session_hours {
        Some(h) if !(1..=720).contains(&h) => {
            errors.push(format!("web.session_hours: {h} is outside 1..=720 hours"));
            crate::web::DEFAULT_SESSION_HOURS
        }
        Some(h) => h,
        None => crate::web::DEFAULT_SESSION_HOURS,
    };
    let proxies = match crate::web::proxy::TrustedProxies::from_config(
        w.trusted_proxy_header.as_deref(),
        w.trusted_proxies.as_deref(),
    ) {
        Ok(p) => p,
        Err(e) => {
            errors.extend(e);
            crate::web::proxy::TrustedProxies::default()
        }
    };
    let text = w.listen.as_deref()?;
    let listen = match text.trim().parse::<std::net::SocketAddr>() {
        Ok(a) => a,
        Err(_) => {
            errors.push(format!(
                "web.listen: `{text}` is not a socket address such as 127.0.0.1:8025 or [::1]:8025"
            ));
            return None;
        }
    };
    let allowed_hosts = match crate::web::HostAllowlist::new(w.allowed_hosts.as_deref(), listen) {
        Ok(h) => h,
        Err(e) => {
            errors.extend(e);
            return None;
        }
    };
    let public_url = match w.public_url.as_deref().map(str::trim) {
        Some(u) => {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() <= 200
                && u.len() > "https://".len()
                && u.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                errors.push(format!(
                    "web.public_url: `{u}` is not an http(s) address such as https://intake.example.com"
                ));
            }
            Some(u.trim_end_matches('/').to_string())
        }
        None if !listen.ip().is_unspecified() && listen.port() != 0 => {
            Some(format!("http://{listen}"))
        }
        None => None,
    };
    Some(crate::web::WebConfig {
        listen,
        allowed_hosts,
        ready_mailbox_minutes: minutes,
        secure_cookies: w.secure_cookies.unwrap_or(false),
        session_hours,
        proxies,
        public_url,
    })
}

/// `local@domain.tld` with no spaces or angle brackets.
fn is_plain_address(a: &str) -> bool {
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !a.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::from_str(text, Path::new("/etc/intake"))
    }

    #[test]
    fn empty_file_gives_documented_defaults() {
        let cfg = parse("").unwrap();
        assert_eq!(cfg.rules.timezone, chrono_tz::Europe::Zurich);
        assert_eq!(cfg.rules.standard_notice_days, 14);
        assert_eq!(cfg.rules.broad_notice_days, 28);
        assert_eq!(cfg.rules.max_message_bytes, 25 * 1024 * 1024);
        assert_eq!(cfg.rules.trusted_authserv_id, None);
        assert_eq!(cfg.templates_dir, Path::new("/etc/intake/templates"));
        assert_eq!(cfg.addresses.own_domain(), "amazee.io");
        assert_eq!(
            cfg.rules.platform_domains,
            ["amazee.io", "amazeeio.cloud", "lagoon.sh"]
        );
    }

    #[test]
    fn platform_domains_are_normalised_and_checked() {
        let cfg =
            parse("[rules]\nplatform_domains = [\"Hosting.Example\", \".lagoon.sh\"]\n").unwrap();
        assert_eq!(cfg.rules.platform_domains, ["hosting.example", "lagoon.sh"]);
        let err = parse("[rules]\nplatform_domains = [\"amazee.io\", \"not a domain\", \"io\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules.platform_domains"), "{err}");
        assert!(err.contains("not a domain"), "{err}");
        assert!(err.contains("\"io\""), "{err}");
        assert!(!err.contains("\"amazee.io\" is not"), "{err}");
    }

    #[test]
    fn languages_are_read_and_checked() {
        let cfg = parse("").unwrap();
        assert_eq!((cfg.language, cfg.staff_language), (Lang::En, Lang::En));
        let cfg = parse("language = \"de\"\nstaff_language = \"DE\"\n").unwrap();
        assert_eq!((cfg.language, cfg.staff_language), (Lang::De, Lang::De));
        let cfg = parse("language = \"de\"\n").unwrap();
        assert_eq!((cfg.language, cfg.staff_language), (Lang::De, Lang::En));
        let err = parse("language = \"fr\"\nstaff_language = \"deutsch\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("language: `fr` is not a language"), "{err}");
        assert!(err.contains("staff_language: `deutsch`"), "{err}");
        assert!(err.contains("\"en\" or \"de\""), "{err}");
        let err = parse("language = 1\n").unwrap_err().to_string();
        assert!(err.contains("language"), "{err}");
        let err = parse("languages = \"de\"\n").unwrap_err().to_string();
        assert!(err.contains("languages"), "{err}");
    }

    #[test]
    fn web_is_off_without_listen_and_checked_with_it() {
        assert_eq!(parse("").unwrap().web, None);
        assert_eq!(
            parse("[web]\nready_mailbox_minutes = 5\n").unwrap().web,
            None
        );
        let w = parse("[web]\nlisten = \"127.0.0.1:8025\"\n")
            .unwrap()
            .web
            .unwrap();
        assert_eq!(w.listen, "127.0.0.1:8025".parse().unwrap());
        assert_eq!(w.ready_mailbox_minutes, 10);
        assert!(!w.secure_cookies);
        assert_eq!(w.session_hours, 8);
        assert_eq!(w.allowed_hosts.names(), ["localhost", "127.0.0.1", "::1"]);
        let w = parse(
            "[web]\nlisten = \"[::1]:0\"\nallowed_hosts = [\"Intake.Example.com\"]\nready_mailbox_minutes = 3\nsecure_cookies = true\nsession_hours = 2\n",
        )
        .unwrap()
        .web
        .unwrap();
        assert!(w.secure_cookies);
        assert_eq!(w.session_hours, 2);
        let err = parse("[web]\nlisten = \"127.0.0.1:1\"\nsession_hours = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("web.session_hours: 0"), "{err}");
        assert_eq!(w.listen.port(), 0);
        assert_eq!(w.allowed_hosts.names(), ["intake.example.com"]);
        assert_eq!(w.ready_mailbox_minutes, 3);

        let err = parse("[web]\nlisten = \"localhost:8025\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("web.listen: `localhost:8025`"), "{err}");
        let err = parse("[web]\nlisten = \"127.0.0.1\"\nready_mailbox_minutes = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("web.listen: `127.0.0.1`"), "{err}");
        assert!(err.contains("web.ready_mailbox_minutes: 0"), "{err}");
        let err =
            parse("[web]\nlisten = \"127.0.0.1:8025\"\nallowed_hosts = [\"localhost:8025\"]\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("web.allowed_hosts"), "{err}");
        let err = parse("[web]\nlisten = \"127.0.0.1:8025\"\nport = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("port"), "{err}");

        // The console's address for links in staff mail.
        let url = |text: &str| parse(text).unwrap().web.unwrap().public_url;
        assert_eq!(
            url("[web]\nlisten = \"127.0.0.1:8025\"\n").as_deref(),
            Some("http://127.0.0.1:8025")
        );
        assert_eq!(url("[web]\nlisten = \"0.0.0.0:8025\"\n"), None);
        assert_eq!(url("[web]\nlisten = \"127.0.0.1:0\"\n"), None);
        assert_eq!(
            url("[web]\nlisten = \"0.0.0.0:8025\"\npublic_url = \"https://intake.example.com/\"\n")
                .as_deref(),
            Some("https://intake.example.com")
        );
        let err =
            parse("[web]\nlisten = \"127.0.0.1:8025\"\npublic_url = \"javascript:alert(1)\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("web.public_url"), "{err}");
    }

    #[test]
    fn trusted_proxy_keys_are_read_and_checked() {
        let w = parse("[web]\nlisten = \"127.0.0.1:8025\"\n")
            .unwrap()
            .web
            .unwrap();
        assert_eq!(w.proxies, crate::web::proxy::TrustedProxies::default());
        let w = parse(
            "[web]\nlisten = \"127.0.0.1:8025\"\ntrusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]\n",
        )
        .unwrap()
        .web
        .unwrap();
        assert_eq!(
            w.proxies.user_header.as_ref().map(|h| h.as_str()),
            Some("x-forwarded-user")
        );
        assert!(w.proxies.trusts("::1".parse().unwrap()));
        assert!(!w.proxies.trusts("192.0.2.1".parse().unwrap()));
        // Each bad value is named, beside the other errors.
        let err = parse(
            "[web]\nlisten = \"127.0.0.1:8025\"\nsession_hours = 0\ntrusted_proxy_header = \"X-Forwarded-User\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("web.session_hours: 0"), "{err}");
        assert!(
            err.contains(
                "web.trusted_proxy_header: \"X-Forwarded-User\" needs web.trusted_proxies"
            ),
            "{err}"
        );
        let err = parse(
            "[web]\nlisten = \"127.0.0.1:8025\"\ntrusted_proxy_header = \"X User\"\ntrusted_proxies = [\"proxy.example\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("web.trusted_proxy_header: \"X User\""),
            "{err}"
        );
        assert!(
            err.contains("web.trusted_proxies: \"proxy.example\""),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_config_serves_the_console_on_loopback() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
        let web = Config::from_file(&path).unwrap().web.unwrap();
        assert_eq!(web.listen, "127.0.0.1:8025".parse().unwrap());
        assert_eq!(web.ready_mailbox_minutes, 10);
        assert!(web.allowed_hosts.allows("localhost:8025"));
        assert!(web.allowed_hosts.allows("127.0.0.1:8025"));
        assert!(!web.allowed_hosts.allows("intake.example.com"));
    }

    #[test]
    fn readiness_waits_longer_than_an_imap_idle() {
        let imap = "[mailbox]\nkind = \"imap\"\nhost = \"imap.example.com\"\nusername = \"u\"\npassword_env = \"P\"\n";
        let ok = format!("{imap}[web]\nlisten = \"127.0.0.1:8025\"\n");
        assert!(
            parse(&ok).unwrap().web.is_some(),
            "default 10 > default idle 9"
        );
        let err = parse(&format!(
            "{imap}idle_minutes = 10\n[web]\nlisten = \"127.0.0.1:8025\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "web.ready_mailbox_minutes (10) must be longer than mailbox.idle_minutes (10)"
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse("[rules]\nstandard_notice = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("standard_notice"), "{err}");
    }

    #[test]
    fn wrong_type_is_named() {
        let err = parse("[rules]\nbroad_notice_days = \"four weeks\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("broad_notice_days"), "{err}");
    }

    #[test]
    fn every_bad_value_is_reported() {
        let err = parse(
            "timezone = \"Mars/Olympus\"\n[rules]\nstandard_notice_days = 0\n[addresses]\nstaff = \"not an address\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("timezone"), "{err}");
        assert!(err.contains("rules.standard_notice_days"), "{err}");
        assert!(err.contains("addresses.staff"), "{err}");
    }

    #[test]
    fn broad_below_standard_is_refused() {
        let err = parse("[rules]\nstandard_notice_days = 20\nbroad_notice_days = 10\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("broad_notice_days"), "{err}");
    }

    #[test]
    fn watch_sections_are_typed_and_paths_resolved() {
        let cfg = parse(
            "[mailbox]\nkind = \"maildir\"\npath = \"var/mail\"\n[outbox]\nkind = \"file\"\npath = \"var/outbox\"\n[store]\npath = \"var/intake.sqlite3\"\n",
        )
        .unwrap();
        match cfg.mailbox.unwrap() {
            MailboxConfig::Maildir(m) => assert_eq!(m.path, Path::new("/etc/intake/var/mail")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            cfg.store_path.unwrap(),
            Path::new("/etc/intake/var/intake.sqlite3")
        );
        let err = parse("[mailbox]\nkind = \"imap\"\nhost = \"mail.example.com\"\nusername = \"u\"\npasword = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pasword"), "{err}");
    }

    #[test]
    fn values_are_taken() {
        let cfg = parse(
            "timezone = \"America/New_York\"\ntemplates = \"/srv/t\"\n[rules]\nstandard_notice_days = 10\nbroad_notice_days = 30\ntrusted_authserv_id = \"MX.Example.com\"\n",
        )
        .unwrap();
        assert_eq!(cfg.rules.timezone, chrono_tz::America::New_York);
        assert_eq!(cfg.rules.standard_notice_days, 10);
        assert_eq!(cfg.rules.broad_notice_days, 30);
        assert_eq!(
            cfg.rules.trusted_authserv_id.as_deref(),
            Some("mx.example.com")
        );
        assert_eq!(cfg.templates_dir, Path::new("/srv/t"));
    }

    #[test]
    fn sender_verification_and_plausibility_keys_are_read() {
        let cfg = parse(
            "[rules]\nsender_verification = \"off\"\ncpu_budget_ms = 500\nmax_source_prefix_v4 = 20\nmax_bandwidth_bps = 1e9\n",
        )
        .unwrap();
        assert_eq!(cfg.rules.sender_verification, SenderVerification::Off);
        assert_eq!(cfg.rules.cpu_budget_ms, 500);
        assert_eq!(cfg.rules.max_source_prefix_v4, 20);
        assert_eq!(cfg.rules.max_bandwidth_bps, 1e9);
        let err = parse("[rules]\nsender_verification = \"spf\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sender_verification"), "{err}");
    }

    const REGISTRY: &str = r#"
[[customer]]
name = "Example Foundation (via Webagentur Example)"
sender_domains = ["webagentur-example.ch", "*.Example-Foundation.org."]
target_domains = ["example-foundation.org"]

[[customer]]
name = "Bergbahnen Example AG"
sender_domains = ["bergbahnen-example.ch"]
target_domains = ["bergbahnen-example.ch", "skipass-example.com"]
"#;

    #[test]
    fn a_registry_is_parsed_and_normalised() {
        let list = parse_registry(REGISTRY, "customers.toml").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0].sender_domains,
            ["webagentur-example.ch", "example-foundation.org"]
        );
        assert_eq!(list[1].target_domains[1], "skipass-example.com");
        assert_eq!(parse_registry("", "customers.toml").unwrap(), vec![]);
    }

    #[test]
    fn every_registry_error_is_named() {
        let bad = r#"
[[customer]]
name = ""
sender_domains = []
target_domains = ["github.io", "not a domain"]

[[customer]]
name = "Twice"
sender_domains = ["co.uk"]
target_domains = ["example.ch"]

[[customer]]
name = "twice"
sender_domains = ["example.ch"]
target_domains = ["example.ch"]
"#;
        let errors = parse_registry(bad, "customers.toml").unwrap_err();
        let all = errors.join("\n");
        for needle in [
            "customer #1: name must not be empty",
            "customer #1: sender_domains must list at least one domain",
            "\"github.io\" is a public suffix",
            "\"not a domain\" is not a domain name",
            "customer #2 (Twice): sender_domains: \"co.uk\" is a public suffix",
            "customer #3 (twice): the name is used twice",
        ] {
            assert!(all.contains(needle), "{needle} in:\n{all}");
        }
        let err = parse_registry(
            "[[customer]]\nname = \"x\"\nsender_domain = []\n",
            "customers.toml",
        )
        .unwrap_err()
        .join("\n");
        assert!(err.contains("sender_domain"), "{err}");
    }

    #[test]
    fn the_registry_file_is_loaded_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("customers.toml"), REGISTRY).unwrap();
        let cfg = Config::from_str("[customers]\nfile = \"customers.toml\"\n", dir.path()).unwrap();
        assert_eq!(cfg.rules.customers.len(), 2);
        let err = Config::from_str("[customers]\nfile = \"missing.toml\"\n", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("customers.file") && err.contains("missing.toml"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("bad.toml"),
            "[[customer]]\nname = \"x\"\nsender_domains = [\"com\"]\ntarget_domains = [\"x.ch\"]\n",
        )
        .unwrap();
        let err = Config::from_str("[customers]\nfile = \"bad.toml\"\n", dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml") && err.contains("\"com\""), "{err}");
    }

    #[test]
    fn private_names_under_unknown_suffixes_may_be_registered() {
        let list = parse_registry(
            "[[customer]]\nname = \"Lab\"\nsender_domains = [\"example.test\"]\ntarget_domains = [\"shop.corp.internal\", \"alpenshop-example.ch\"]\n",
            "customers.toml",
        )
        .unwrap();
        assert_eq!(list[0].sender_domains, ["example.test"]);
    }

    #[test]
    fn the_shipped_example_registry_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("customers.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let list = parse_registry(&text, "customers.example.toml").unwrap();
        assert!(!list.is_empty());
    }
}
