//! The integration test binary: one harness, one module per area.
#![allow(clippy::unwrap_used)]

mod golden;
