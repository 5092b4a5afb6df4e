//! Finds the announced traffic volume: bandwidth and request rate.

/// Highest stated bandwidth and request rate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// Bits per second (k = 1e3, M = 1e6, G = 1e9; bytes count 8 bits).
    pub bandwidth_bps: Option<f64>,
    /// Requests per second (per-minute rates divided by 60).
    pub requests_per_second: Option<f64>,
}

/// Finds the highest bandwidth and the highest request rate stated in `text`.
pub fn find_traffic(text: &str) -> Traffic {
    let _ = text;
    Traffic::default()
}
