//! The `it` integration test binary: end-to-end tests of the mail edges against real Dovecot
//! and Postfix instances on loopback (see scripts/mailservers.sh).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod edges;
mod mailservers;
