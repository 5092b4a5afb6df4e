//! Extraction: the six items of a notification, from the text of a [`crate::read::Letter`].

pub mod dates;
pub mod hosts;
pub mod net;
pub mod traffic;
