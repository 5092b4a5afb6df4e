//! The Host header allowlist: a browser tricked by DNS rebinding sends the attacker's name
//! in `Host`, so a request for any name the operator did not list is refused.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The names the console answers to, normalized (lowercase, no port, no trailing dot, IPv6
/// literals in their canonical form without brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAllowlist(Vec<String>);

impl HostAllowlist {
    /// The allowlist from the configuration's `allowed_hosts`; `None` gives the default:
    /// `localhost`, `127.0.0.1`, `::1` and the address the console listens on (unless it
    /// listens on every address). Each bad entry is one error.
    pub fn new(entries: Option<&[String]>, listen: SocketAddr) -> Result<Self, Vec<String>> {
        let Some(entries) = entries else {
            let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
                .into_iter()
                .map(String::from)
                .collect();
            let ip = listen.ip().to_canonical();
            if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
                names.push(ip.to_string());
            }
            return Ok(HostAllowlist(names));
        };
        let mut names = Vec::with_capacity(entries.len());
        let mut errors = Vec::new();
        for e in entries {
            match normalize_entry(e) {
                Ok(n) if !names.contains(&n) => names.push(n),
                Ok(_) => {}
                Err(why) => errors.push(format!("web.allowed_hosts: {e:?} {why}")),
            }
        }
        if names.is_empty() && errors.is_empty() {
            errors.push("web.allowed_hosts: must name at least one host".into());
        }
        if errors.is_empty() {
            Ok(HostAllowlist(names))
        } else {
            Err(errors)
        }
    }

    /// True when the value of a `Host` header (with or without a port) names a listed host.
    pub fn allows(&self, header: &str) -> bool {
        host_of(header).is_some_and(|h| self.0.contains(&h))
    }

    /// The listed names.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// An allowlist entry: a host name or an IP address (IPv6 with or without brackets), no port.
fn normalize_entry(e: &str) -> Result<String, &'static str> {
    let e = e.trim();
    let bare = e
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(e);
    if let Ok(v6) = bare.parse::<Ipv6Addr>() {
        return Ok(v6.to_string());
    }
    if e.contains(':') {
        return Err("is not a host name or address (write it without a port)");
    }
    name(e).ok_or("is not a host name or address such as \"intake.example.com\"")
}

/// The host named by a `Host` header value: `name`, `name:port`, `1.2.3.4:port`,
/// `[v6]` or `[v6]:port`; `None` when it is none of these.
pub fn host_of(header: &str) -> Option<String> {
    let h = header.trim();
    if let Some(rest) = h.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return inner.parse::<Ipv6Addr>().ok().map(|a| a.to_string());
    }
    let host = match h.split_once(':') {
        Some((host, port)) if is_port(port) => host,
        Some(_) => return None,
        None => h,
    };
    name(host)
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// A host name or IPv4 address, lowercase, without a trailing dot.
fn name(h: &str) -> Option<String> {
    let h = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    let ok = !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !ok {
        return None;
    }
    // `127.1` and friends are IPv4 to some resolvers; only the dotted quad is an address.
    Some(match h.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => h,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn listen(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn list(entries: &[&str]) -> HostAllowlist {
        let v: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        HostAllowlist::new(Some(&v), listen("127.0.0.1:8025")).unwrap()
    }

    #[test]
    fn ports_are_stripped_and_case_does_not_matter() {
        let l = list(&["localhost", "127.0.0.1", "Intake.Example.COM"]);
        for ok in [
            "localhost",
            "localhost:8025",
            "LOCALHOST:1",
            "127.0.0.1",
            "127.0.0.1:8025",
            "intake.example.com",
            "intake.example.com.:443",
            " intake.EXAMPLE.com ",
        ] {
            assert!(l.allows(ok), "{ok}");
        }
        for refused in [
            "",
            ":8025",
            "evil.example",
            "evil.example:8025",
            "localhost.evil.example",
            "127.0.0.2:8025",
            "localhost:80:80",
            "localhost:http",
            "localhost:123456",
            "127.0.0.1 evil",
            "intake.example.com@evil.example",
            "[127.0.0.1]",
        ] {
            assert!(!l.allows(refused), "{refused:?}");
        }
    }

    #[test]
    fn ipv6_literals_need_brackets_and_compare_canonically() {
        let l = list(&["[::1]", "2001:DB8::1"]);
        for ok in [
            "[::1]",
            "[::1]:8025",
            "[0:0:0:0:0:0:0:1]:8025",
            "[2001:db8::1]",
            "[2001:0DB8:0::1]:443",
        ] {
            assert!(l.allows(ok), "{ok}");
        }
        for refused in [
            "::1",
            "[::1",
            "[::1]8025",
            "[::1]:",
            "[::2]",
            "[evil]:80",
            "2001:db8::1",
        ] {
            assert!(!l.allows(refused), "{refused:?}");
        }
    }

    #[test]
    fn the_default_is_localhost_and_the_listen_address() {
        let d = HostAllowlist::new(None, listen("127.0.0.1:8025")).unwrap();
        assert_eq!(d.names(), ["localhost", "127.0.0.1", "::1"]);
        let d = HostAllowlist::new(None, listen("192.0.2.7:80")).unwrap();
        assert!(d.allows("192.0.2.7:80"));
        assert!(d.allows("localhost:80"));
        let d = HostAllowlist::new(None, listen("[2001:db8::5]:80")).unwrap();
        assert!(d.allows("[2001:db8::5]"));
        // Listening everywhere adds no address: the operator lists the names in use.
        let d = HostAllowlist::new(None, listen("0.0.0.0:8025")).unwrap();
        assert_eq!(d.names().len(), 3);
        assert!(!d.allows("0.0.0.0:8025"));
    }

    #[test]
    fn bad_entries_are_each_named() {
        let v: Vec<String> = ["localhost:8025", "not a host", "ok.example", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let err = HostAllowlist::new(Some(&v), listen("127.0.0.1:1")).unwrap_err();
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(err[0].contains("\"localhost:8025\"") && err[0].contains("port"));
        assert!(err[1].contains("\"not a host\""));
        let err = HostAllowlist::new(Some(&[]), listen("127.0.0.1:1")).unwrap_err();
        assert!(err[0].contains("at least one"), "{err:?}");
    }
}
