//! The integration test binary: one harness, one module per area.

mod golden;
