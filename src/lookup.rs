//! "Was this address announced?": the approved windows whose originating addresses hold an
//! address (or overlap a range) at a moment. Pure: `intake lookup` loads the requests from
//! the store ([`crate::store::Store::held_requests`]) and prints what [`lookup`] finds.
//!
//! Only what the security team holds counts: the accepted record (`RequestRecord::accepted`)
//! of a request that is `accepted`, or in `review` after an acceptance. A change that was
//! rejected leaves the old accepted record in place, so that is what matches; a cancelled
//! request never matches, nor does one that was never accepted.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::Serialize;

use crate::conversation::{RequestRecord, State};
use crate::model::{Contact, Request, Window};

/// One request whose approved window holds the moment and whose originating addresses hold
/// the address or overlap the range.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub request: &'a RequestRecord,
    /// What the security team holds (the accepted record).
    pub held: &'a Request,
    /// The first approved window (by start) holding the moment.
    pub window: Window,
    /// The originating ranges that hold the address or overlap the range, in the record's
    /// order.
    pub ranges: Vec<IpNet>,
}

/// The approved windows of `requests` holding `at` (start inclusive, end exclusive) whose
/// originating ranges contain or overlap `net`; one match per request, sorted by window
/// start, then reference. A linear scan: the times are compared before any address.
pub fn lookup(requests: &[RequestRecord], net: IpNet, at: DateTime<Utc>) -> Vec<Match<'_>> {
    let net = normalize(net);
    let mut out = Vec::new();
    for r in requests {
        if !matches!(r.state, State::Accepted | State::Review) {
            continue;
        }
        let Some(held) = &r.accepted else {
            continue;
        };
        let Some(window) = held
            .windows
            .iter()
            .filter(|w| w.start <= at && at < w.end)
            .min_by_key(|w| w.start)
        else {
            continue;
        };
        let ranges: Vec<IpNet> = held
            .originating_ips
            .iter()
            .filter(|n| overlaps(**n, net))
            .copied()
            .collect();
        if !ranges.is_empty() {
            out.push(Match {
                request: r,
                held,
                window: *window,
                ranges,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.window.start, &a.request.reference).cmp(&(b.window.start, &b.request.reference))
    });
    out
}

/// Whether two blocks share an address. CIDR blocks either nest or are disjoint, so they
/// overlap when one holds the other's first address; blocks of different families never do.
pub fn overlaps(a: IpNet, b: IpNet) -> bool {
    match (a, b) {
        (IpNet::V4(x), IpNet::V4(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        (IpNet::V6(x), IpNet::V6(y)) => x.contains(&y.network()) || y.contains(&x.network()),
        _ => false,
    }
}

/// An IPv4-mapped IPv6 block (`::ffff:192.0.2.1`, `::ffff:192.0.2.0/120`) as the IPv4 block
/// it is; anything else unchanged.
fn normalize(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let Some(v4) = n.network().to_ipv4_mapped()
        && let Ok(m) = ipnet::Ipv4Net::new(v4, n.prefix_len() - 96)
    {
        return IpNet::V4(m);
    }
    net
}

/// The address or range to look up: an IP address (`192.0.2.7`, `2001:db8::7`) or a CIDR
/// block (`192.0.2.0/24`; host bits are dropped), IPv4-mapped IPv6 read as IPv4.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    let net = s
        .parse::<IpNet>()
        .map(|n| n.trunc())
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("`{s}` is not an IP address or CIDR block (e.g. 192.0.2.7, 2001:db8::/48)")
        })?;
    Ok(normalize(net))
}

/// The moment to look at: RFC 3339 (`2026-12-10T09:00:00Z`, `…+01:00`), or `YYYY-MM-DD HH:MM`
/// in `zone`. A local time the clocks skip or pass twice is refused (give an offset).
pub fn parse_time(s: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").map_err(|_| {
        format!("`{s}` is not a time like 2026-12-10T09:00:00Z or `2026-12-10 10:00` (in {zone})")
    })?;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(..) => Err(format!(
            "`{s}` happens twice in {zone} (the clocks go back): give it in RFC 3339 with an offset"
        )),
        LocalResult::None => Err(format!(
            "`{s}` does not exist in {zone} (the clocks go forward): give it in RFC 3339"
        )),
    }
}

/// A window as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct WindowJson {
    pub start: String,
    pub end: String,
}

/// A match as `intake lookup --json` prints it (the README lists the fields).
#[derive(Debug, Clone, Serialize)]
pub struct MatchJson<'a> {
    pub reference: &'a str,
    pub state: &'static str,
    /// The approved window holding the moment, in UTC.
    pub window: WindowJson,
    /// The same window in `timezone`, with its offset.
    pub window_local: WindowJson,
    pub timezone: String,
    /// The originating ranges that hold the address or overlap the range.
    pub matching_ranges: Vec<String>,
    /// Every approved originating range of the request.
    pub originating_ips: Vec<String>,
    pub targets: &'a [String],
    pub contact: &'a Contact,
    /// The verified sender of the request's first message.
    pub requested_by: &'a str,
    /// Its organizational domain.
    pub organization: &'a str,
}

impl<'a> Match<'a> {
    /// The JSON shape, with the window also in `zone`.
    pub fn to_json(&self, zone: Tz) -> MatchJson<'a> {
        let utc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let local = |t: DateTime<Utc>| {
            t.with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        };
        MatchJson {
            reference: &self.request.reference,
            state: self.request.state.as_str(),
            window: WindowJson {
                start: utc(self.window.start),
                end: utc(self.window.end),
            },
            window_local: WindowJson {
                start: local(self.window.start),
                end: local(self.window.end),
            },
            timezone: zone.name().to_string(),
            matching_ranges: self.ranges.iter().map(ToString::to_string).collect(),
            originating_ips: self
                .held
                .originating_ips
                .iter()
                .map(ToString::to_string)
                .collect(),
            targets: &self.held.targets,
            contact: &self.held.contact,
            requested_by: &self.request.sender,
            organization: &self.request.org,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::model::TestClass;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn net(s: &str) -> IpNet {
        parse_net(s).unwrap()
    }

    fn window(start: &str, end: &str) -> Window {
        Window {
            start: t(start),
            end: t(end),
        }
    }

    fn held(ips: &[&str], windows: &[Window]) -> Request {
        Request {
            originating_ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
            windows: windows.to_vec(),
            targets: vec!["shop.example.ch".into()],
            contact: Contact {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.ch".into()),
                phone: Some("+41 44 555 00 00".into()),
            },
            ..Request::default()
        }
    }

    fn request(reference: &str, state: State, accepted: Option<Request>) -> RequestRecord {
        let at = t("2026-11-01T08:00:00Z");
        RequestRecord {
            reference: reference.into(),
            state,
            sender: "jane@example.ch".into(),
            org: "example.ch".into(),
            record: accepted.clone().unwrap_or_default(),
            test_class: TestClass::Standard,
            zone: "Europe/Zurich".into(),
            accepted,
            sequence: 0,
            notice_from: None,
            message_ids: Vec::new(),
            steps: 1,
            created_at: at,
            updated_at: at,
            history: Vec::new(),
            revision: 0,
            accepted_class: None,
        }
    }

    fn december() -> Window {
        window("2026-12-10T08:00:00Z", "2026-12-12T16:00:00Z")
    }

    fn refs(m: &[Match<'_>]) -> Vec<String> {
        m.iter().map(|m| m.request.reference.clone()).collect()
    }

    const INSIDE: &str = "2026-12-11T10:00:00Z";

    #[test]
    fn a_single_address_inside_a_range_matches() {
        let rs = [request(
            "INT-A",
            State::Accepted,
            Some(held(&["203.0.113.0/24", "198.51.100.7/32"], &[december()])),
        )];
        for (q, range) in [
            ("203.0.113.42", "203.0.113.0/24"),
            ("203.0.113.0", "203.0.113.0/24"),
            ("203.0.113.255", "203.0.113.0/24"),
            ("198.51.100.7", "198.51.100.7/32"),
            ("::ffff:198.51.100.7", "198.51.100.7/32"),
        ] {
            let m = lookup(&rs, net(q), t(INSIDE));
            assert_eq!(refs(&m), ["INT-A"], "{q}");
            assert_eq!(m[0].ranges, [range.parse::<IpNet>().unwrap()], "{q}");
            assert_eq!(m[0].window, december());
        }
        for q in ["203.0.114.0", "203.0.112.255", "198.51.100.8", "10.0.0.1"] {
            assert!(lookup(&rs, net(q), t(INSIDE)).is_empty(), "{q}");
        }
    }

    #[test]
    fn ranges_match_when_they_overlap_either_way() {
        let rs = [request(
            "INT-A",
            State::Accepted,
            Some(held(
                &["203.0.113.0/26", "203.0.113.128/32", "2001:db8:10::/48"],
                &[december()],
            )),
        )];
        let ranges = |q: &str| -> Vec<String> {
            lookup(&rs, net(q), t(INSIDE))
                .first()
                .map(|m| m.ranges.iter().map(ToString::to_string).collect())
                .unwrap_or_default()
        };
        // The query holds the range(s).
        assert_eq!(
            ranges("203.0.113.0/24"),
            ["203.0.113.0/26", "203.0.113.128/32"]
        );
        assert_eq!(ranges("0.0.0.0/0"), ["203.0.113.0/26", "203.0.113.128/32"]);
        // The range holds the query.
        assert_eq!(ranges("203.0.113.32/27"), ["203.0.113.0/26"]);
        assert_eq!(ranges("203.0.113.0/26"), ["203.0.113.0/26"]);
        // Host bits in the query are dropped: 203.0.113.77/26 is 203.0.113.64/26.
        assert!(ranges("203.0.113.77/26").is_empty());
        assert!(ranges("203.0.113.64/26").is_empty());
        assert!(ranges("203.0.113.129/32").is_empty());
        // IPv6.
        assert_eq!(ranges("2001:db8:10:ffff::1"), ["2001:db8:10::/48"]);
        assert_eq!(ranges("2001:db8::/32"), ["2001:db8:10::/48"]);
        assert_eq!(ranges("2001:db8:10:4::/64"), ["2001:db8:10::/48"]);
        assert!(ranges("2001:db8:11::1").is_empty());
        assert!(ranges("2001:db9::/32").is_empty());
        // Families never mix: ::/0 holds no IPv4 block, 0.0.0.0/0 no IPv6 one.
        assert_eq!(ranges("::/0"), ["2001:db8:10::/48"]);
    }

    #[test]
    fn ipv6_single_addresses() {
        let rs = [request(
            "INT-V6",
            State::Accepted,
            Some(held(&["2001:db8::7/128"], &[december()])),
        )];
        assert_eq!(
            refs(&lookup(&rs, net("2001:0db8:0:0::7"), t(INSIDE))),
            ["INT-V6"]
        );
        assert!(lookup(&rs, net("2001:db8::8"), t(INSIDE)).is_empty());
        assert!(lookup(&rs, net("0.0.0.7"), t(INSIDE)).is_empty());
    }

    #[test]
    fn windows_hold_their_start_but_not_their_end() {
        let w = december();
        let rs = [request(
            "INT-A",
            State::Accepted,
            Some(held(&["192.0.2.1/32"], &[w])),
        )];
        let ip = net("192.0.2.1");
        assert!(lookup(&rs, ip, w.start - Duration::seconds(1)).is_empty());
        assert_eq!(refs(&lookup(&rs, ip, w.start)), ["INT-A"]);
        assert_eq!(
            refs(&lookup(&rs, ip, w.end - Duration::milliseconds(1))),
            ["INT-A"]
        );
        assert!(lookup(&rs, ip, w.end).is_empty());
    }

    #[test]
    fn the_window_holding_the_moment_is_reported() {
        let first = window("2026-12-10T08:00:00Z", "2026-12-10T16:00:00Z");
        let second = window("2026-12-11T08:00:00Z", "2026-12-11T16:00:00Z");
        let rs = [request(
            "INT-A",
            State::Accepted,
            Some(held(&["192.0.2.1/32"], &[first, second])),
        )];
        let ip = net("192.0.2.1");
        assert_eq!(lookup(&rs, ip, t("2026-12-11T09:00:00Z"))[0].window, second);
        assert_eq!(lookup(&rs, ip, t("2026-12-10T09:00:00Z"))[0].window, first);
        assert!(
            lookup(&rs, ip, t("2026-12-10T20:00:00Z")).is_empty(),
            "between"
        );
    }

    #[test]
    fn only_what_the_security_team_holds_matches() {
        let h = || Some(held(&["192.0.2.1/32"], &[december()]));
        let rs = [
            request("INT-ACC", State::Accepted, h()),
            request("INT-REV", State::Review, h()),
            // Review before any acceptance: nothing is held.
            request("INT-REV0", State::Review, None),
            request("INT-CAN", State::Cancelled, h()),
            request("INT-INC", State::Incomplete, None),
            request("INT-REJ", State::Rejected, None),
        ];
        // The merged record of the never-accepted ones carries the address too: never read.
        let mut rs = rs.to_vec();
        for r in &mut rs {
            r.record = held(&["192.0.2.1/32"], &[december()]);
        }
        assert_eq!(
            refs(&lookup(&rs, net("192.0.2.1"), t(INSIDE))),
            ["INT-ACC", "INT-REV"]
        );
    }

    #[test]
    fn a_rejected_change_leaves_the_old_accepted_record_matching() {
        // Accepted for 192.0.2.1 in December; a change to 198.51.100.1 in January was
        // rejected: the request stays accepted with its old record.
        let mut r = request(
            "INT-A",
            State::Accepted,
            Some(held(&["192.0.2.1/32"], &[december()])),
        );
        r.record = held(
            &["198.51.100.1/32"],
            &[window("2027-01-10T08:00:00Z", "2027-01-12T16:00:00Z")],
        );
        let rs = [r];
        assert_eq!(refs(&lookup(&rs, net("192.0.2.1"), t(INSIDE))), ["INT-A"]);
        assert!(lookup(&rs, net("198.51.100.1"), t(INSIDE)).is_empty());
        assert!(lookup(&rs, net("198.51.100.1"), t("2027-01-11T09:00:00Z")).is_empty());
        assert!(lookup(&rs, net("192.0.2.1"), t("2027-01-11T09:00:00Z")).is_empty());
    }

    #[test]
    fn matches_are_sorted_by_window_start_then_reference() {
        let early = window("2026-12-09T08:00:00Z", "2026-12-12T16:00:00Z");
        let rs = [
            request(
                "INT-C",
                State::Accepted,
                Some(held(&["192.0.2.0/24"], &[december()])),
            ),
            request(
                "INT-B",
                State::Accepted,
                Some(held(&["192.0.2.1/32"], &[december()])),
            ),
            request(
                "INT-A",
                State::Accepted,
                Some(held(&["192.0.2.0/30"], &[early])),
            ),
        ];
        assert_eq!(
            refs(&lookup(&rs, net("192.0.2.1"), t(INSIDE))),
            ["INT-A", "INT-B", "INT-C"]
        );
    }

    #[test]
    fn queries_parse_as_addresses_or_blocks() {
        assert_eq!(net("192.0.2.7").to_string(), "192.0.2.7/32");
        assert_eq!(net(" 192.0.2.7/24 ").to_string(), "192.0.2.0/24");
        assert_eq!(net("2001:DB8::1").to_string(), "2001:db8::1/128");
        assert_eq!(net("::ffff:192.0.2.7").to_string(), "192.0.2.7/32");
        assert_eq!(net("::ffff:192.0.2.0/120").to_string(), "192.0.2.0/24");
        for bad in [
            "",
            "example.ch",
            "192.0.2",
            "192.0.2.7/33",
            "300.1.1.1",
            "192.0.2.0/24/1",
        ] {
            let e = parse_net(bad).unwrap_err();
            assert!(e.contains("not an IP address"), "{bad}: {e}");
        }
    }

    #[test]
    fn times_parse_as_rfc3339_or_local() {
        let z = chrono_tz::Europe::Zurich;
        assert_eq!(
            parse_time("2026-12-10T09:00:00Z", z).unwrap(),
            t("2026-12-10T09:00:00Z")
        );
        assert_eq!(
            parse_time("2026-12-10T10:00:00+01:00", z).unwrap(),
            t("2026-12-10T09:00:00Z")
        );
        // Local: CET in winter, CEST in summer.
        assert_eq!(
            parse_time("2026-12-10 10:00", z).unwrap(),
            t("2026-12-10T09:00:00Z")
        );
        assert_eq!(
            parse_time("2026-07-10 10:00", z).unwrap(),
            t("2026-07-10T08:00:00Z")
        );
        assert!(
            parse_time("2026-03-29 02:30", z)
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            parse_time("2026-10-25 02:30", z)
                .unwrap_err()
                .contains("happens twice")
        );
        for bad in [
            "tomorrow",
            "2026-12-10",
            "10.12.2026 10:00",
            "2026-12-32 10:00",
        ] {
            assert!(parse_time(bad, z).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_shape() {
        let rs = [request(
            "INT-A",
            State::Review,
            Some(held(&["192.0.2.0/24", "198.51.100.1/32"], &[december()])),
        )];
        let m = lookup(&rs, net("192.0.2.9"), t(INSIDE));
        let v = serde_json::to_value(m[0].to_json(chrono_tz::Europe::Zurich)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "reference": "INT-A",
                "state": "review",
                "window": {"start": "2026-12-10T08:00:00Z", "end": "2026-12-12T16:00:00Z"},
                "window_local": {"start": "2026-12-10T09:00:00+01:00", "end": "2026-12-12T17:00:00+01:00"},
                "timezone": "Europe/Zurich",
                "matching_ranges": ["192.0.2.0/24"],
                "originating_ips": ["192.0.2.0/24", "198.51.100.1/32"],
                "targets": ["shop.example.ch"],
                "contact": {"name": "Jane Doe", "email": "jane@example.ch", "phone": "+41 44 555 00 00"},
                "requested_by": "jane@example.ch",
                "organization": "example.ch",
            })
        );
    }
}
