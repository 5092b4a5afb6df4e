//! Finds originating addresses (IPv4/IPv6, CIDR blocks, `A - B` ranges) and tells which are
//! globally reachable.

use ipnet::IpNet;

/// Every address, block and range in `text`, in order of first appearance, without duplicates.
/// Single addresses become /32 or /128; a range becomes the fewest CIDR blocks covering it.
pub fn find_addresses(text: &str) -> Vec<IpNet> {
    let _ = text;
    Vec::new()
}

/// Whether every address in `net` is globally reachable (IANA special-purpose registries).
pub fn is_globally_reachable(net: &IpNet) -> bool {
    let _ = net;
    true
}

/// Why `net` is not globally reachable, in a few words, or `None` when it is.
pub fn non_global_reason(net: &IpNet) -> Option<&'static str> {
    let _ = net;
    None
}
