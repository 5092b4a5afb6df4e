//! intake: reads load/security/penetration test notifications, checks them against the
//! notice rules, and answers.

pub mod accounts;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod decide;
pub mod digest;
pub mod domain;
pub mod extract;
pub mod lifecycle;
pub mod lookup;
pub mod metrics;
pub mod model;
pub mod read;
pub mod render;
pub mod replay;
pub mod sink;
pub mod source;
pub mod staff;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod watch;
pub mod web;
