//! Merging a follow-up's items into a request, and saying what changed.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::extract::{self, Extraction};
use crate::model::{Item, Request};
use crate::render::clean;

/// Near a list item: the follow-up adds it to the list rather than restating the list.
static ADDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:also|additional(?:ly)?|in\s+addition|as\s+well|add(?:ed|ing)?|plus|furthermore|zusätzlich|ausserdem|außerdem|ergänz\w*|weitere[nrs]?|auch|hinzu\w*)\b",
    )
    .expect("static regex")
});

/// Near a list item: the list holds these and nothing else (a restatement, even with "also").
static ONLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:only|exclusively|nur|ausschliesslich|ausschließlich|einzig)\b")
        .expect("static regex")
});

/// Near a list item: the follow-up takes items out. What remains is for a person to confirm:
/// "remove X" must never read as "X is now the list".
static REMOVES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:remov\w*|drop(?:ped|ping)?|delet\w*|exclud\w*|take\s+out|no\s+longer|not\s+any\s?more|without|instead\s+of|replac\w*|entfern\w*|streich\w*|gestrichen|nicht\s+mehr|ohne|anstatt|statt|ersetz\w*|weglass\w*|ausnehm\w*)\b",
    )
    .expect("static regex")
});

/// How a follow-up edits a list (originating IPs, targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEdit {
    /// The items given are the list now.
    Replace,
    /// The items given join the list.
    Add,
    /// Items are taken out, or the wording is mixed: a person decides.
    Unclear,
}

/// How `text` edits a list whose new items are `items` (as written), judged from the lines
/// that name an item and the line before each. Linear: one pass of one automaton over the
/// text for all the items.
pub fn list_edit(text: &str, items: &[String]) -> ListEdit {
    let items: Vec<String> = items
        .iter()
        .filter(|i| !i.is_empty())
        .take(512)
        .map(|i| regex::escape(i))
        .collect();
    if items.is_empty() {
        return ListEdit::Replace;
    }
    let Ok(re) = regex::RegexBuilder::new(&items.join("|"))
        .case_insensitive(true)
        .size_limit(1 << 22)
        .build()
    else {
        return ListEdit::Unclear;
    };
    let (mut add, mut only, mut remove) = (false, false, false);
    let mut last_line = usize::MAX;
    for m in re.find_iter(text) {
        let start = text
            .get(..m.start())
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |p| p + 1);
        if start == last_line {
            continue;
        }
        last_line = start;
        let end = text
            .get(m.end()..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |p| m.end() + p);
        // The two lines before count too ("please also add:", a blank line, the list).
        let mut before = start;
        for _ in 0..2 {
            before = text
                .get(..before.saturating_sub(1))
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |p| p + 1);
        }
        let around = text.get(before..end).unwrap_or("");
        add |= ADDS.is_match(around);
        only |= ONLY.is_match(around);
        remove |= REMOVES.is_match(around);
    }
    if remove {
        ListEdit::Unclear
    } else if add && !only {
        ListEdit::Add
    } else {
        ListEdit::Replace
    }
}

/// Words that move a test rather than call it off (with new dates, a change).
static POSTPONES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:postpone[ds]?|postponing|moved?|moving|reschedul\w*|push(?:ed)?\s+back|shift(?:ed)?|delay(?:ed)?|defer(?:red)?|verschoben|verschieben|verlegt|verlegen)\b",
    )
    .expect("static regex")
});

/// A plain thank-you or acknowledgement ("Thanks!", "Vielen Dank, erhalten."): short, thanks
/// or acknowledges, and asks nothing.
static THANKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:thanks?|thank\s+you|thx|many\s+thanks|cheers|great|perfect|noted|got\s+it|well\s+received|received|understood|sounds\s+good|see\s+you|danke\w*|vielen\s+dank|besten\s+dank|merci|grazie|gracias|erhalten|verstanden|perfekt|super|prima|alles\s+klar|bestens|top)\b",
    )
    .expect("static regex")
});

/// Whether `new_text` (a follow-up's new text, quotes and signature removed) is only a
/// thank-you or an acknowledgement, which needs no answer.
pub fn acknowledges(new_text: &str) -> bool {
    let t = new_text.trim();
    let words = t.split_whitespace().count();
    words <= 40 && !t.contains('?') && THANKS.is_match(t)
}

/// Whether `text` moves the test (used only when it also gives a new window).
pub fn postpones(text: &str) -> bool {
    POSTPONES.is_match(text)
}

/// The request after a follow-up, and the lists whose edit a person must confirm: what the
/// follow-up states replaces what it restates, lists grow where the lines naming the items
/// say "also" (and not "only"), lists with items taken out are left for a person; everything
/// the follow-up does not state stays.
pub fn merge(old: &Request, ex: &Extraction, text: &str) -> (Request, Vec<&'static str>) {
    let new = &ex.request;
    let said = extract::labelled(text);
    let mut unclear = Vec::new();
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
        let written: Vec<String> = new
            .originating_ips
            .iter()
            .map(|n| {
                if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                }
            })
            .collect();
        match list_edit(text, &written) {
            ListEdit::Replace => m.originating_ips = new.originating_ips.clone(),
            ListEdit::Add => m.originating_ips = union(&old.originating_ips, &new.originating_ips),
            ListEdit::Unclear => unclear.push("originating IPs"),
        }
    }
    if !new.targets.is_empty() {
        match list_edit(text, &new.targets) {
            ListEdit::Replace => m.targets = new.targets.clone(),
            ListEdit::Add => m.targets = union(&old.targets, &new.targets),
            ListEdit::Unclear => unclear.push("targets"),
        }
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
    (m, unclear)
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
        let (m, unclear) = merge(
            &old,
            &ex(new.clone()),
            "IPs: 198.18.0.9\nTarget: api.example-kunde.ch",
        );
        assert!(unclear.is_empty());
        assert_eq!(m.originating_ips, new.originating_ips);
        assert_eq!(m.targets, new.targets);
        // Not labelled in the follow-up: the fallbacks do not replace what was given.
        assert_eq!(m.scope, old.scope);
        assert_eq!(m.contact, old.contact);
        assert_eq!(m.windows, old.windows);
        assert_eq!(m.bandwidth_bps, old.bandwidth_bps);

        let (m, _) = merge(
            &old,
            &ex(new.clone()),
            "Please also include api.example-kunde.ch\nand also test from 198.18.0.9",
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
        let (m, _) = merge(&old, &ex(new), "Contact: Eva Muster, eva@example-kunde.ch");
        assert_eq!(m.contact.email.as_deref(), Some("eva@example-kunde.ch"));
        assert_eq!(changes(&old, &m).len(), 2);
    }

    #[test]
    fn list_edits_are_read_where_the_items_stand() {
        let items = vec!["31.10.145.89".to_string()];
        // Red team 01: "remove X" is no new list X.
        assert_eq!(
            list_edit(
                "Please remove 31.10.145.89 from the originating IPs.",
                &items
            ),
            ListEdit::Unclear
        );
        assert_eq!(
            list_edit("Bitte entfernen Sie\n31.10.145.89", &items),
            ListEdit::Unclear
        );
        // Red team 06: an "also" elsewhere (a signature, another sentence) does not add.
        assert_eq!(
            list_edit(
                "From now on the test runs only from 31.10.145.89.\n\nWe also love your platform.\nPlus: best regards",
                &items
            ),
            ListEdit::Replace
        );
        assert_eq!(
            list_edit("We will also test from 31.10.145.89", &items),
            ListEdit::Add
        );
        assert_eq!(
            list_edit("Additionally:\n31.10.145.89", &items),
            ListEdit::Add
        );
        assert_eq!(
            list_edit("IPs: also only 31.10.145.89", &items),
            ListEdit::Replace
        );
        assert_eq!(list_edit("nothing here", &items), ListEdit::Replace);
        // Bounded on large input.
        let big = "31.10.145.89 also\n".repeat(50_000);
        assert_eq!(list_edit(&big, &items), ListEdit::Add);
    }

    #[test]
    fn a_thank_you_is_told_from_a_message_that_needs_reading() {
        for t in [
            "Thanks!",
            "Hello,\n\nthank you, see you then.\n",
            "Vielen Dank, erhalten.",
            "Merci beaucoup",
            "Perfect, noted.",
        ] {
            assert!(acknowledges(t), "{t}");
        }
        for t in [
            "Thanks. Could you also send the calendar entry?",
            "We will not need the window after all.",
            "",
            &"thanks ".repeat(60),
        ] {
            assert!(!acknowledges(t), "{t}");
        }
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
