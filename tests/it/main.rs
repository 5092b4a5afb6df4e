//! The `it` integration test binary: one harness, one module per area. The end-to-end
//! modules run against real Dovecot and Postfix instances on loopback (scripts/mailservers.sh).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod adversarial;
mod browser;
mod cli;
mod conversations;
mod edges;
mod golden;
mod imap_variants;
mod mailservers;
mod render;
mod smtp_variants;
mod watch;
mod web;
