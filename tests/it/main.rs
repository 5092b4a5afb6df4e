//! The `it` integration test binary: end-to-end tests of the mail edges against real Dovecot
//! and Postfix instances on loopback (see scripts/mailservers.sh).

mod edges;
mod mailservers;
