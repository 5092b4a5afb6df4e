//! The security team's daily digest: once a day at a configured local time, the accepted
//! windows that start or run in the next 48 hours (each with its calendar file) and the
//! windows that ended since the last digest.
//!
//! Pure: the watch loop asks [`due`] with its clock's time and the last digest's, hands the
//! accepted requests to [`plan`], renders with [`compose`] and records the digest and its
//! outbox row in one transaction, so a crash never sends a day's digest twice or not at all.

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Serialize;

use crate::config::Addresses;
use crate::conversation::RequestRecord;
use crate::model::{Outgoing, Role, Verdict, Window};
use crate::render::{Template, Templates, clean, ics};

/// How far ahead the digest looks.
pub const AHEAD: Duration = Duration::hours(48);
/// Requests listed in one digest at most (the rest are counted).
const MAX_LISTED: usize = 200;

/// `[digest]`: when the security team gets its daily digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Local time of day.
    pub at: NaiveTime,
    pub zone: Tz,
}

/// The digest's time on the local day of `t`, in UTC. At a gap in the local clock (the
/// spring-forward hour) it is the first valid time after it.
fn slot_on(day: chrono::NaiveDate, s: &Schedule) -> DateTime<Utc> {
    let mut local = day.and_time(s.at);
    for _ in 0..4 {
        if let Some(t) = s.zone.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

/// The digest slot that is due at `now`, if any: the latest slot at or before `now` that is
/// after `last` (the last digest's slot; `None` before the first). One digest per day; slots
/// missed while intake was down are not sent one by one, only the latest.
pub fn due(now: DateTime<Utc>, last: Option<DateTime<Utc>>, s: &Schedule) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&s.zone).date_naive();
    let mut slot = slot_on(today, s);
    if slot > now {
        slot = slot_on(today.pred_opt()?, s);
    }
    match last {
        Some(l) if l >= slot => None,
        // The first start does not send yesterday's digest: the first slot counts from the
        // start on (the caller records `now` as the last slot when it has none).
        _ => Some(slot),
    }
}

/// The next slot after `now`, for the loop to sleep until.
pub fn next(now: DateTime<Utc>, s: &Schedule) -> DateTime<Utc> {
    let today = now.with_timezone(&s.zone).date_naive();
    let slot = slot_on(today, s);
    if slot > now {
        return slot;
    }
    today
        .succ_opt()
        .map_or(now + Duration::days(1), |d| slot_on(d, s))
}

/// One request's windows in a digest.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub request: &'a RequestRecord,
    pub windows: Vec<Window>,
}

/// What one digest lists.
#[derive(Debug, Clone, Default)]
pub struct Plan<'a> {
    /// Accepted windows starting or running in `[slot, slot + 48 h)` (of requests not
    /// cancelled).
    pub upcoming: Vec<Line<'a>>,
    /// Accepted windows (of accepted or since-cancelled requests) that ended in
    /// `(since, slot]`.
    pub ended: Vec<Line<'a>>,
}

/// The digest at `slot` for `requests`; `since` is the previous digest's slot (a day before
/// when there was none). Sorted by start, then reference.
pub fn plan<'a>(
    requests: &'a [RequestRecord],
    slot: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Plan<'a> {
    let mut p = Plan::default();
    for r in requests {
        let Some(accepted) = &r.accepted else {
            continue;
        };
        // A request in review after its acceptance keeps the window the security team holds.
        if r.state != crate::conversation::State::Cancelled {
            let up: Vec<Window> = accepted
                .windows
                .iter()
                .filter(|w| w.start < slot + AHEAD && w.end > slot)
                .copied()
                .collect();
            if !up.is_empty() {
                p.upcoming.push(Line {
                    request: r,
                    windows: up,
                });
            }
        }
        let ended: Vec<Window> = accepted
            .windows
            .iter()
            .filter(|w| w.end > since && w.end <= slot)
            .copied()
            .collect();
        if !ended.is_empty() && r.state != crate::conversation::State::Cancelled {
            p.ended.push(Line {
                request: r,
                windows: ended,
            });
        }
    }
    let key = |l: &Line<'_>| {
        (
            l.windows.first().map(|w| w.start),
            l.request.reference.clone(),
        )
    };
    p.upcoming.sort_by_key(key);
    p.ended.sort_by_key(key);
    p
}

#[derive(Debug, Serialize)]
struct LineView {
    reference: String,
    targets: String,
    ips: String,
    contact: String,
    windows: Vec<String>,
}

#[derive(Debug, Serialize)]
struct DigestContext {
    date: String,
    zone: String,
    upcoming: Vec<LineView>,
    ended: Vec<LineView>,
    more: usize,
}

/// Data the digest template must render without error, checked at start.
pub fn sample_context() -> impl Serialize {
    let line = || {
        LineView {
        reference: "INT-SAMPLE".into(),
        targets: "shop.example.com".into(),
        ips: "185.199.110.17/32".into(),
        contact: "Jane Doe, jane@example.com".into(),
        windows: vec!["2027-01-11 08:00 to 2027-01-11 16:00 UTC (Mon 11.01. 09:00 CET to Mon 11.01. 17:00 CET)".into()],
    }
    };
    DigestContext {
        date: "2027-01-10".into(),
        zone: "Europe/Zurich".into(),
        upcoming: vec![line()],
        ended: vec![line()],
        more: 1,
    }
}

fn view(l: &Line<'_>, zone: Tz) -> LineView {
    let r = &l.request.record;
    let c = &r.contact;
    LineView {
        reference: l.request.reference.clone(),
        targets: clean::list(r.targets.iter().cloned(), 20).join(", "),
        ips: clean::list(r.originating_ips.iter().map(ToString::to_string), 20).join(", "),
        contact: [&c.name, &c.email, &c.phone]
            .iter()
            .filter_map(|x| x.as_deref())
            .map(|x| clean::one_line(x, clean::ITEM_CHARS))
            .collect::<Vec<_>>()
            .join(", "),
        windows: l
            .windows
            .iter()
            .map(|w| {
                format!(
                    "{} to {} UTC ({} to {})",
                    w.start.format("%Y-%m-%d %H:%M"),
                    w.end.format("%Y-%m-%d %H:%M"),
                    w.start.with_timezone(&zone).format("%a %d.%m. %H:%M %Z"),
                    w.end.with_timezone(&zone).format("%a %d.%m. %H:%M %Z"),
                )
            })
            .collect(),
    }
}

/// The digest message for the security team, with one calendar file per upcoming request
/// (the same UIDs and `SEQUENCE` as the request's own calendar, so importing it changes
/// nothing that is already there).
pub fn compose(
    p: &Plan<'_>,
    slot: DateTime<Utc>,
    zone: Tz,
    templates: &Templates,
    addresses: &Addresses,
) -> Result<Outgoing> {
    let own_domain = addresses.own_domain();
    let ctx = DigestContext {
        date: slot.with_timezone(&zone).format("%Y-%m-%d").to_string(),
        zone: zone.name().to_string(),
        upcoming: p
            .upcoming
            .iter()
            .take(MAX_LISTED)
            .map(|l| view(l, zone))
            .collect(),
        ended: p
            .ended
            .iter()
            .take(MAX_LISTED)
            .map(|l| view(l, zone))
            .collect(),
        more: p.upcoming.len().saturating_sub(MAX_LISTED)
            + p.ended.len().saturating_sub(MAX_LISTED),
    };
    let r = templates.render_value(Template::Digest, &ctx, templates.staff_language())?;
    let message_id = format!("digest-{}@{own_domain}", ctx.date);
    let from: Mailbox = format!("amazee.io Support <{}>", addresses.from)
        .parse()
        .with_context(|| format!("Invalid from address {}", addresses.from))?;
    let to: Mailbox = addresses
        .security_team
        .parse()
        .with_context(|| format!("Invalid security address {}", addresses.security_team))?;
    let mut mp = MultiPart::mixed()
        .boundary(format!("intake-digest-{}", ctx.date))
        .singlepart(SinglePart::plain(r.body.clone()));
    for l in p.upcoming.iter().take(MAX_LISTED) {
        let mut v = verdict_of(l.request);
        v.request.windows = l
            .request
            .accepted
            .as_ref()
            .map(|a| a.windows.clone())
            .unwrap_or_default();
        let cal = ics::calendar(
            &v,
            own_domain,
            slot,
            &ics::Entry {
                method: "PUBLISH",
                sequence: l.request.sequence,
                withdrawn: None,
            },
        );
        mp = mp.singlepart(
            Attachment::new(format!("{}.ics", l.request.reference)).body(
                cal,
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .context("calendar content type")?,
            ),
        );
    }
    let msg = Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject)
        .date(std::time::SystemTime::from(slot))
        .message_id(Some(format!("<{message_id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Intake-Reference"),
            format!("digest-{}", ctx.date),
        ))
        .multipart(mp)?;
    Ok(Outgoing {
        role: Role::Security,
        from: addresses.from.clone(),
        to: addresses.security_team.clone(),
        message_id,
        raw: msg.formatted(),
    })
}

/// A verdict carrying a request's accepted record, for the calendar writer.
pub(crate) fn verdict_of(r: &RequestRecord) -> Verdict {
    Verdict {
        file: None,
        message_id: None,
        from: Some(r.sender.clone()),
        received: None,
        kind: crate::model::Kind::TestNotification,
        decision: crate::model::Decision::Accept,
        test_class: Some(r.test_class),
        required_notice_days: None,
        notice_days: None,
        missing: Vec::new(),
        problems: Vec::new(),
        request: r.accepted.clone().unwrap_or_default(),
        reference: r.reference.clone(),
        subject: String::new(),
        warnings: Vec::new(),
        customer_zone: r.zone.clone(),
        reason: None,
        rules_version: crate::decide::RULES_VERSION.to_string(),
        sender_verified: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zurich(at: &str) -> Schedule {
        Schedule {
            at: NaiveTime::parse_from_str(at, "%H:%M").unwrap(),
            zone: chrono_tz::Europe::Zurich,
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn one_digest_a_day_at_the_local_time() {
        let s = zurich("07:00");
        // 07:00 in Zurich in winter is 06:00 UTC.
        assert_eq!(
            due(t("2027-01-10T06:30:00Z"), None, &s),
            Some(t("2027-01-10T06:00:00Z"))
        );
        assert_eq!(
            due(
                t("2027-01-10T06:30:00Z"),
                Some(t("2027-01-10T06:00:00Z")),
                &s
            ),
            None
        );
        // Before today's slot: yesterday's, unless it was sent.
        assert_eq!(
            due(
                t("2027-01-10T05:00:00Z"),
                Some(t("2027-01-09T06:00:00Z")),
                &s
            ),
            None
        );
        assert_eq!(
            due(
                t("2027-01-10T05:00:00Z"),
                Some(t("2027-01-08T06:00:00Z")),
                &s
            ),
            Some(t("2027-01-09T06:00:00Z"))
        );
        // Down for three days: one digest, the latest.
        assert_eq!(
            due(
                t("2027-01-13T09:00:00Z"),
                Some(t("2027-01-09T06:00:00Z")),
                &s
            ),
            Some(t("2027-01-13T06:00:00Z"))
        );
        // Summer time: 07:00 is 05:00 UTC.
        assert_eq!(
            next(t("2027-07-01T04:00:00Z"), &s),
            t("2027-07-01T05:00:00Z")
        );
        assert_eq!(
            next(t("2027-07-01T05:00:00Z"), &s),
            t("2027-07-02T05:00:00Z")
        );
        // 02:30 does not exist on the spring-forward day: the first valid time after it.
        let gap = zurich("02:30");
        assert_eq!(
            next(t("2027-03-28T00:00:00Z"), &gap),
            t("2027-03-28T01:00:00Z")
        );
    }

    fn request(
        reference: &str,
        state: crate::conversation::State,
        w: &[(&str, &str)],
    ) -> RequestRecord {
        let windows: Vec<Window> = w
            .iter()
            .map(|(a, b)| Window {
                start: t(a),
                end: t(b),
            })
            .collect();
        let record = crate::model::Request {
            windows,
            targets: vec!["shop.example-kunde.ch".into()],
            ..Default::default()
        };
        RequestRecord {
            reference: reference.into(),
            state,
            sender: "anna@example-kunde.ch".into(),
            org: "example-kunde.ch".into(),
            accepted: Some(record.clone()),
            record,
            test_class: crate::model::TestClass::Standard,
            zone: "Europe/Zurich".into(),
            sequence: 0,
            notice_from: None,
            message_ids: Vec::new(),
            steps: 1,
            created_at: t("2027-01-01T00:00:00Z"),
            updated_at: t("2027-01-01T00:00:00Z"),
            history: Vec::new(),
            revision: 0,
            accepted_class: None,
        }
    }

    #[test]
    fn upcoming_running_and_ended_windows() {
        use crate::conversation::State::*;
        let slot = t("2027-01-10T06:00:00Z");
        let since = t("2027-01-09T06:00:00Z");
        let rs = vec![
            request(
                "INT-RUNNING00",
                Accepted,
                &[("2027-01-09T08:00:00Z", "2027-01-11T17:00:00Z")],
            ),
            request(
                "INT-TOMORROW0",
                Accepted,
                &[("2027-01-11T08:00:00Z", "2027-01-11T17:00:00Z")],
            ),
            request(
                "INT-TOOLATE00",
                Accepted,
                &[("2027-01-12T06:00:00Z", "2027-01-12T17:00:00Z")],
            ),
            request(
                "INT-ENDED0000",
                Accepted,
                &[("2027-01-09T01:00:00Z", "2027-01-09T17:00:00Z")],
            ),
            request(
                "INT-OLDENDED0",
                Accepted,
                &[("2027-01-08T01:00:00Z", "2027-01-08T17:00:00Z")],
            ),
            request(
                "INT-CANCELLED",
                Cancelled,
                &[("2027-01-10T08:00:00Z", "2027-01-10T17:00:00Z")],
            ),
            request(
                "INT-REVIEW000",
                Review,
                &[("2027-01-10T08:00:00Z", "2027-01-10T17:00:00Z")],
            ),
        ];
        let p = plan(&rs, slot, since);
        let refs = |v: &[Line<'_>]| {
            v.iter()
                .map(|l| l.request.reference.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            refs(&p.upcoming),
            vec!["INT-RUNNING00", "INT-REVIEW000", "INT-TOMORROW0"]
        );
        assert_eq!(refs(&p.ended), vec!["INT-ENDED0000"]);
    }
}
