//! Single sign-on through a reverse proxy (`[web] trusted_proxy_header`, `trusted_proxies`):
//! a proxy that has signed the person in (OIDC, client certificates, …) names them in a
//! header, and the console takes that name for a session.
//!
//! Only the TCP peer decides whom to believe: the header is read only on connections from
//! an address in `trusted_proxies`, and ignored on any other (a client cannot sign itself
//! in by sending it). The name must be an existing user, whose role comes from the users
//! table; an unknown name is refused, never created. From a trusted proxy,
//! `X-Forwarded-Proto: https` also makes the console's cookies `Secure`.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// Headers a proxy's user header may not be: the ones HTTP, the console or the proxy
/// itself already give a meaning.
const RESERVED: [&str; 14] = [
    "host",
    "cookie",
    "authorization",
    "proxy-authorization",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
];

/// The peers whose forwarding headers are believed, and the header naming the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The header a trusted proxy names the signed-in user in; `None`: no single sign-on.
    pub user_header: Option<HeaderName>,
    /// Addresses of the proxies (a connection from anywhere else is a client's own).
    pub proxies: Vec<IpNet>,
}

/// What the user header of a request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarded {
    /// No single sign-on for this request: none configured, the peer is not a trusted
    /// proxy, or the proxy sent no (or an empty) header.
    None,
    /// The proxy names this user.
    User(String),
    /// The proxy sent something that is no user name, or the header twice.
    Invalid,
}

impl TrustedProxies {
    /// From `[web] trusted_proxy_header` and `trusted_proxies`; every bad value is one error
    /// (naming its key).
    pub fn from_config(
        header: Option<&str>,
        proxies: Option<&[String]>,
    ) -> Result<TrustedProxies, Vec<String>> {
        let mut errors = Vec::new();
        let mut nets = Vec::new();
        for p in proxies.unwrap_or_default() {
            let t = p.trim();
            let net = t
                .parse::<IpNet>()
                .map(|n| n.trunc())
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from));
            match net {
                Ok(n) if n.prefix_len() == 0 => errors.push(format!(
                    "web.trusted_proxies: {p:?} would trust every client: list the proxies' own addresses"
                )),
                Ok(n) => nets.push(normalize(n)),
                Err(_) => errors.push(format!(
                    "web.trusted_proxies: {p:?} is not an IP address or CIDR block such as \"127.0.0.1/32\" or \"::1/128\""
                )),
            }
        }
        let user_header = match header {
            None => None,
            Some(h) => match HeaderName::from_bytes(h.trim().as_bytes()) {
                Ok(name) if RESERVED.contains(&name.as_str()) => {
                    errors.push(format!(
                        "web.trusted_proxy_header: {h:?} already means something else in HTTP; use a header of its own such as \"X-Forwarded-User\""
                    ));
                    None
                }
                Ok(name) => {
                    if proxies.is_none_or(<[String]>::is_empty) {
                        errors.push(format!(
                            "web.trusted_proxy_header: {h:?} needs web.trusted_proxies, the addresses of the proxies allowed to send it"
                        ));
                    }
                    Some(name)
                }
                Err(_) => {
                    errors.push(format!(
                        "web.trusted_proxy_header: {h:?} is not a header name such as \"X-Forwarded-User\""
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(TrustedProxies {
                user_header,
                proxies: nets,
            })
        } else {
            Err(errors)
        }
    }

    /// Whether a connection from `peer` comes from a trusted proxy.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.proxies.iter().any(|n| n.contains(&peer))
    }

    /// Whom the request names, when single sign-on is on and `peer` is a trusted proxy.
    pub fn user(&self, peer: IpAddr, headers: &HeaderMap) -> Forwarded {
        let Some(name) = &self.user_header else {
            return Forwarded::None;
        };
        if !self.trusts(peer) {
            return Forwarded::None;
        }
        let mut values = headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return if headers.contains_key(name) {
                Forwarded::Invalid
            } else {
                Forwarded::None
            };
        };
        match value.to_str().map(str::trim) {
            Ok("") => Forwarded::None,
            Ok(v) if crate::accounts::check_name(v).is_ok() => Forwarded::User(v.to_string()),
            _ => Forwarded::Invalid,
        }
    }

    /// The client's address: `peer`, or, when `peer` is a trusted proxy, the address it put
    /// last in `X-Forwarded-For` (the one it saw; earlier entries are the client's word).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .unwrap_or(peer)
    }

    /// Whether a trusted proxy says the client came over HTTPS (`X-Forwarded-Proto`, the
    /// value the last proxy added).
    pub fn https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.trusts(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// An IPv4-mapped IPv6 block as the IPv4 block it is.
fn normalize(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(n) if n.prefix_len() >= 96 => match n.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, n.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn loopback() -> TrustedProxies {
        TrustedProxies::from_config(
            Some("X-Forwarded-User"),
            Some(&["127.0.0.1/32".into(), "::1/128".into()]),
        )
        .unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let p = loopback();
        let h = headers(&[("x-forwarded-user", "alice")]);
        assert_eq!(p.user(ip("127.0.0.1"), &h), Forwarded::User("alice".into()));
        assert_eq!(p.user(ip("::1"), &h), Forwarded::User("alice".into()));
        // IPv4-mapped (a dual-stack listener).
        assert_eq!(
            p.user(ip("::ffff:127.0.0.1"), &h),
            Forwarded::User("alice".into())
        );
        for other in ["127.0.0.2", "192.0.2.1", "::2"] {
            assert_eq!(p.user(ip(other), &h), Forwarded::None, "{other}");
        }
        // Off without the header key, whatever the peer.
        let off = TrustedProxies::from_config(None, Some(&["127.0.0.1".into()])).unwrap();
        assert_eq!(off.user(ip("127.0.0.1"), &h), Forwarded::None);
        assert_eq!(
            TrustedProxies::default().user(ip("127.0.0.1"), &h),
            Forwarded::None
        );
    }

    #[test]
    fn the_client_address_is_the_one_the_trusted_proxy_saw() {
        let p = loopback();
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 203.0.113.7")]);
        // The proxy appended what it saw last; what came before is the client's word.
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("203.0.113.7"));
        // From anyone else the header is the client's word: their own address counts.
        assert_eq!(p.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        let junk = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(p.client(ip("127.0.0.1"), &junk), ip("127.0.0.1"));
        assert_eq!(
            p.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn only_one_valid_user_name_is_taken() {
        let p = loopback();
        let peer = ip("127.0.0.1");
        assert_eq!(p.user(peer, &headers(&[])), Forwarded::None);
        assert_eq!(
            p.user(peer, &headers(&[("x-forwarded-user", "  ")])),
            Forwarded::None
        );
        assert_eq!(
            p.user(peer, &headers(&[("X-Forwarded-User", " bob.s ")])),
            Forwarded::User("bob.s".into())
        );
        for bad in ["Alice", "alice@example.com", "a b", "cli:root"] {
            assert_eq!(
                p.user(peer, &headers(&[("x-forwarded-user", bad)])),
                Forwarded::Invalid,
                "{bad}"
            );
        }
        assert_eq!(
            p.user(
                peer,
                &headers(&[("x-forwarded-user", "alice"), ("x-forwarded-user", "bob")])
            ),
            Forwarded::Invalid
        );
    }

    #[test]
    fn https_is_believed_from_a_trusted_proxy_only() {
        let p = loopback();
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert!(p.https(ip("127.0.0.1"), &h));
        assert!(!p.https(ip("192.0.2.1"), &h));
        assert!(!p.https(ip("127.0.0.1"), &headers(&[("x-forwarded-proto", "http")])));
        assert!(p.https(
            ip("127.0.0.1"),
            &headers(&[("x-forwarded-proto", "http, HTTPS")])
        ));
        assert!(!p.https(ip("127.0.0.1"), &headers(&[])));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = |h: Option<&str>, p: Option<&[String]>| {
            TrustedProxies::from_config(h, p).unwrap_err().join("\n")
        };
        let e = err(Some("X-Forwarded-User"), None);
        assert!(e.contains("needs web.trusted_proxies"), "{e}");
        let e = err(Some("X-Forwarded-User"), Some(&[]));
        assert!(e.contains("needs web.trusted_proxies"), "{e}");
        let e = err(Some("X Forwarded User"), Some(&["127.0.0.1".into()]));
        assert!(e.contains("not a header name"), "{e}");
        let e = err(Some("Cookie"), Some(&["127.0.0.1".into()]));
        assert!(e.contains("already means something else"), "{e}");
        let e = err(
            None,
            Some(&["localhost".into(), "0.0.0.0/0".into(), "::/0".into()]),
        );
        assert!(e.contains("\"localhost\" is not an IP address"), "{e}");
        assert!(e.contains("\"0.0.0.0/0\" would trust every client"), "{e}");
        assert!(e.contains("\"::/0\" would trust every client"), "{e}");
        let ok = TrustedProxies::from_config(
            Some("x-remote-user"),
            Some(&["10.1.2.3/8".into(), "::ffff:192.0.2.0/120".into()]),
        )
        .unwrap();
        assert_eq!(ok.user_header.unwrap().as_str(), "x-remote-user");
        assert_eq!(
            ok.proxies,
            [
                "10.0.0.0/8".parse::<IpNet>().unwrap(),
                "192.0.2.0/24".parse().unwrap()
            ]
        );
    }
}
