//! Merging a follow-up's items into a request, and saying what changed.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::extract::{self, Extraction};
use crate::model::{Item, Request};
use crate::render::clean;

/// A list item is added to the old list, not replacing it, when the follow-up says so.
static ADDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:also|additional(?:ly)?|in\s+addition|as\s+well|add(?:ed|ing)?|plus|furthermore|zusätzlich|ausserdem|außerdem|ergänz\w*|weitere[nrs]?|auch|hinzu\w*)\b",
    )
    .expect("static regex")
});

/// Words that move a test rather than call it off (with new dates, a change).
static POSTPONES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:postpone[ds]?|postponing|moved?|moving|reschedul\w*|push(?:ed)?\s+back|shift(?:ed)?|delay(?:ed)?|defer(?:red)?|verschoben|verschieben|verlegt|verlegen)\b",
    )
    .expect("static regex")
});

/// Whether `text` moves the test (used only when it also gives a new window).
pub fn postpones(text: &str) -> bool {
    POSTPONES.is_match(text)
}

/// The request after a follow-up: what the follow-up states replaces what it restates, lists
/// grow where it says "also", everything it does not state stays.
pub fn merge(old: &Request, ex: &Extraction, text: &str) -> Request {
    let new = &ex.request;
    let said = extract::labelled(text);
    let adds = ADDS.is_match(text);
    let mut m = old.clone();
    if said.scope
        && let Some(s) = &new.scope
    {
        m.scope = Some(s.clone());
    }
    if said.contact {
        let c = &new.contact;
        if c.name.is_some() {
            m.contact.name = c.name.clone();
        }
        if c.email.is_some() {
            m.contact.email = c.email.clone();
        }
        if c.phone.is_some() {
            m.contact.phone = c.phone.clone();
        }
    }
    if !new.originating_ips.is_empty() {
        m.originating_ips = if adds {
            union(&old.originating_ips, &new.originating_ips)
        } else {
            new.originating_ips.clone()
        };
    }
    if !new.targets.is_empty() {
        m.targets = if adds {
            union(&old.targets, &new.targets)
        } else {
            new.targets.clone()
        };
    }
    if !new.windows.is_empty() {
        m.windows = new.windows.clone();
    }
    if new.bandwidth_bps.is_some() {
        m.bandwidth_bps = new.bandwidth_bps;
    }
    if new.requests_per_second.is_some() {
        m.requests_per_second = new.requests_per_second;
    }
    m
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// One item that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub item: Item,
    pub before: String,
    pub after: String,
}

impl Change {
    /// `window: 2027-02-01 … → 2027-02-08 …`, bounded.
    pub fn line(&self) -> String {
        self.line_in(crate::model::Lang::En)
    }

    /// [`Change::line`] in `lang`.
    pub fn line_in(&self, lang: crate::model::Lang) -> String {
        let not_given = match lang {
            crate::model::Lang::En => "(not given)",
            crate::model::Lang::De => "(nicht angegeben)",
        };
        clean::one_line(
            &format!(
                "{}: {} → {}",
                crate::decide::describe_in(self.item, lang),
                if self.before.is_empty() {
                    not_given
                } else {
                    &self.before
                },
                self.after
            ),
            600,
        )
    }
}

/// The items that differ between `old` and `new`, in the contract's order (`contact_name`
/// also stands for a changed phone number).
pub fn changes(old: &Request, new: &Request) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |item: Item, a: String, b: String| {
        if a != b {
            out.push(Change {
                item,
                before: a,
                after: b,
            });
        }
    };
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let num = |o: Option<f64>| o.map(|x| format!("{x}")).unwrap_or_default();
    let list = |v: Vec<String>| v.join(", ");
    push(Item::Scope, opt(&old.scope), opt(&new.scope));
    push(
        Item::ContactName,
        format!("{} {}", opt(&old.contact.name), opt(&old.contact.phone))
            .trim()
            .to_string(),
        format!("{} {}", opt(&new.contact.name), opt(&new.contact.phone))
            .trim()
            .to_string(),
    );
    push(
        Item::ContactEmail,
        opt(&old.contact.email),
        opt(&new.contact.email),
    );
    push(
        Item::OriginatingIps,
        list(
            old.originating_ips
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
        list(
            new.originating_ips
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    );
    push(
        Item::Bandwidth,
        num(old.bandwidth_bps),
        num(new.bandwidth_bps),
    );
    push(
        Item::RequestsPerSecond,
        num(old.requests_per_second),
        num(new.requests_per_second),
    );
    push(
        Item::Targets,
        list(old.targets.clone()),
        list(new.targets.clone()),
    );
    let win = |r: &Request| {
        list(
            r.windows
                .iter()
                .map(|w| {
                    format!(
                        "{} – {}",
                        w.start.format("%Y-%m-%d %H:%M UTC"),
                        w.end.format("%Y-%m-%d %H:%M UTC")
                    )
                })
                .collect(),
        )
    };
    push(Item::Window, win(old), win(new));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Window;
    use chrono::{TimeZone, Utc};

    fn req() -> Request {
        Request {
            scope: Some("web pen test".into()),
            originating_ips: vec!["203.0.114.1/32".parse().unwrap()],
            targets: vec!["shop.example-kunde.ch".into()],
            windows: vec![Window {
                start: Utc.with_ymd_and_hms(2027, 2, 1, 8, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2027, 2, 1, 16, 0, 0).unwrap(),
            }],
            bandwidth_bps: Some(1e7),
            ..Request::default()
        }
    }

    fn ex(r: Request) -> Extraction {
        Extraction {
            request: r,
            ..Extraction::default()
        }
    }

    #[test]
    fn stated_items_replace_unstated_stay_and_also_adds() {
        let old = req();
        let new = Request {
            originating_ips: vec!["198.18.0.9/32".parse().unwrap()],
            targets: vec!["api.example-kunde.ch".into()],
            scope: Some("a sentence about the test".into()),
            contact: crate::model::Contact {
                name: Some("Sender Fallback".into()),
                ..Default::default()
            },
            ..Request::default()
        };
        let m = merge(
            &old,
            &ex(new.clone()),
            "IPs: 198.18.0.9\nTarget: api.example-kunde.ch",
        );
        assert_eq!(m.originating_ips, new.originating_ips);
        assert_eq!(m.targets, new.targets);
        // Not labelled in the follow-up: the fallbacks do not replace what was given.
        assert_eq!(m.scope, old.scope);
        assert_eq!(m.contact, old.contact);
        assert_eq!(m.windows, old.windows);
        assert_eq!(m.bandwidth_bps, old.bandwidth_bps);

        let m = merge(
            &old,
            &ex(new.clone()),
            "Please also include api.example-kunde.ch",
        );
        assert_eq!(m.targets.len(), 2);
        assert_eq!(m.originating_ips.len(), 2);
        let d = changes(&old, &m);
        let items: Vec<Item> = d.iter().map(|c| c.item).collect();
        assert_eq!(items, vec![Item::OriginatingIps, Item::Targets]);
        assert!(
            d[1].line()
                .contains("shop.example-kunde.ch, api.example-kunde.ch")
        );
        assert!(changes(&old, &old).is_empty());
    }

    #[test]
    fn a_labelled_contact_replaces_the_contact() {
        let old = req();
        let new = Request {
            contact: crate::model::Contact {
                name: Some("Eva Muster".into()),
                email: Some("eva@example-kunde.ch".into()),
                phone: None,
            },
            ..Request::default()
        };
        let m = merge(&old, &ex(new), "Contact: Eva Muster, eva@example-kunde.ch");
        assert_eq!(m.contact.email.as_deref(), Some("eva@example-kunde.ch"));
        assert_eq!(changes(&old, &m).len(), 2);
    }

    #[test]
    fn postponement_words() {
        for t in [
            "The test is moved to 1 March",
            "wurde verschoben auf",
            "We need to reschedule",
        ] {
            assert!(postpones(t), "{t}");
        }
        assert!(!postpones("We have to cancel the test"));
    }
}
