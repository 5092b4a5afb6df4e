//! intake: reads load/security/penetration test notifications, checks them against the
//! notice rules, and answers.

pub mod extract;
pub mod model;
pub mod read;
pub mod sink;
pub mod source;
