//! The rules the engine applies, validated from `[rules]` of the configuration (see
//! `config.rs`, which builds them): notice, limits, sender verification, the platform's
//! domains and the customer registry. Core types: nothing here reads files or the clock.

use chrono_tz::Tz;
use serde::Deserialize;

/// One customer of the registry: whose mail may announce tests of which hosts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// For people (staff summaries, error messages).
    pub name: String,
    /// Verified mail from these domains (or hosts under them) speaks for the customer.
    pub sender_domains: Vec<String>,
    /// The customer's hosts: these domains and every host under them.
    pub target_domains: Vec<String>,
}

/// `[rules] sender_verification`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderVerification {
    /// DMARC, or an aligned DKIM/SPF pass where the domain publishes no DMARC policy.
    #[default]
    Dmarc,
    /// No verification (an MX that writes no `Authentication-Results`).
    Off,
}

/// Validated rules the engine applies.
#[derive(Debug, Clone)]
pub struct Rules {
    pub timezone: Tz,
    pub standard_notice_days: u32,
    pub broad_notice_days: u32,
    pub max_message_bytes: u64,
    pub trusted_authserv_id: Option<String>,
    pub max_replies_per_sender_per_day: u32,
    /// Lowercase, without a leading dot.
    pub platform_domains: Vec<String>,
    pub sender_verification: SenderVerification,
    pub max_replies_per_domain_per_day: u32,
    pub max_replies_per_hour: u32,
    pub cpu_budget_ms: u64,
    pub max_source_prefix_v4: u8,
    pub max_source_prefix_v6: u8,
    pub max_window_days: u32,
    pub max_start_days_ahead: u32,
    pub max_bandwidth_bps: f64,
    pub max_requests_per_second: f64,
    /// Traffic above this request rate (or [`Rules::load_test_above_bps`]) is a load test,
    /// broad, whatever the words say: a "penetration test" at 90,000 requests per second loads
    /// the platform like one.
    pub load_test_above_requests_per_second: f64,
    pub load_test_above_bps: f64,
    /// The customer registry (`[customers] file`); empty without one.
    pub customers: Vec<Customer>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            timezone: chrono_tz::Europe::Zurich,
            standard_notice_days: 14,
            broad_notice_days: 28,
            max_message_bytes: 25 * 1024 * 1024,
            trusted_authserv_id: None,
            max_replies_per_sender_per_day: 5,
            platform_domains: ["amazee.io", "amazeeio.cloud", "lagoon.sh"]
                .map(String::from)
                .to_vec(),
            sender_verification: SenderVerification::Dmarc,
            max_replies_per_domain_per_day: 20,
            max_replies_per_hour: 100,
            cpu_budget_ms: 2000,
            max_source_prefix_v4: 16,
            max_source_prefix_v6: 32,
            max_window_days: 31,
            max_start_days_ahead: 365,
            max_bandwidth_bps: 10e9,
            max_requests_per_second: 100_000.0,
            load_test_above_requests_per_second: 1_000.0,
            load_test_above_bps: 1e9,
            customers: Vec::new(),
        }
    }
}
