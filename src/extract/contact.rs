//! Finds the point of contact who can stop the test: name, e-mail and phone.

use std::sync::LazyLock;

use regex::Regex;

use super::fields::{Field, Fields};
use crate::model::Contact;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9][a-z0-9.\-]{0,253}\.[a-z]{2,24}")
        .expect("static regex")
});

/// International (`+41 79 555 12 34`, `0041 …`) or Swiss/German national (`044 555 12 34`)
/// numbers; dates and addresses do not match because of the required prefix and length.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00)[1-9][0-9 ()./\-]{6,20}[0-9]|\b0[1-9][0-9]{1,3}[ /\-]?[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{2}\b")
        .expect("static regex")
});

/// What we know of the sender, for when the mail names no separate contact.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sender<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Words on a line that say it is about reaching someone.
const CONTACT_WORDS: &[&str] = &[
    "contact",
    "reach",
    "call ",
    "kontakt",
    "erreichbar",
    "erreichen",
    "ansprech",
    "stop the test",
    "abbrechen",
    "anrufen",
];

/// Values that stand in for a contact not named yet: the contact is missing, and the
/// sender does not stand in for it.
const PLACEHOLDERS: &[&str] = &[
    "tbd",
    "tbc",
    "tba",
    "to be confirmed",
    "to be defined",
    "to be determined",
    "to be announced",
    "will follow",
    "will be provided",
    "to follow",
    "n/a",
    "na",
    "none",
    "-",
    "--",
    "?",
    "folgt",
    "folgen",
    "wird nachgereicht",
    "werden nachgereicht",
    "nachgereicht",
    "noch offen",
    "offen",
    "unbekannt",
    "unknown",
    "später",
];

/// Whether `value` (a contact field without its label) is only a placeholder, or says the
/// contact will be named later.
fn is_placeholder(value: &str) -> bool {
    let v = value
        .trim()
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '.' | '*' | '_' | '"' | '(' | ')'))
        .to_lowercase();
    if v.is_empty() {
        return false;
    }
    if PLACEHOLDERS.contains(&v.as_str()) {
        return true;
    }
    // "[Name], [E-Mail], [Telefon]", "<name>": a template's fields never filled in.
    if only_template_slots(&v) {
        return true;
    }
    // "pending (our SOC lead will be named)", "ausstehend": a contact not named yet.
    if !EMAIL.is_match(&v)
        && !PHONE.is_match(&v)
        && (v
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| ["pending", "ausstehend", "xxx", "tbn"].contains(&w))
            || [
                "will be named",
                "to be named",
                "will be nominated",
                "will be appointed",
                "not yet named",
                "not named yet",
                "wird noch benannt",
                "wird benannt",
                "wird bekannt gegeben",
                "wird noch bestimmt",
                "noch nicht bekannt",
                "noch nicht benannt",
            ]
            .iter()
            .any(|p| v.contains(p)))
    {
        return true;
    }
    // "TBD (will be sent next week)", "Ansprechpartner folgt": a placeholder word in a
    // value with no address or number in it.
    !EMAIL.is_match(&v)
        && !PHONE.is_match(&v)
        && v.split(|c: char| !(c.is_alphanumeric() || c == '/'))
            .any(|w| ["tbd", "tbc", "tba", "n/a", "folgt", "nachgereicht", "offen"].contains(&w))
        || [
            "to be confirmed",
            "will follow",
            "will be provided",
            "wird nachgereicht",
            "noch offen",
            "to be defined",
            "to be announced",
        ]
        .iter()
        .any(|p| v.contains(p))
            && !EMAIL.is_match(&v)
}

/// Whether `v` is made only of bracketed slots (`[Name]`, `<E-Mail>`, `{phone}`) and
/// separators: a form nobody filled in.
fn only_template_slots(v: &str) -> bool {
    let mut slots = 0;
    let mut depth_close: Option<char> = None;
    for c in v.chars() {
        match depth_close {
            Some(close) if c == close => {
                depth_close = None;
                slots += 1;
            }
            Some(_) => {}
            None => match c {
                '[' => depth_close = Some(']'),
                '<' => depth_close = Some('>'),
                '{' => depth_close = Some('}'),
                c if c.is_alphanumeric() => return false,
                _ => {}
            },
        }
    }
    slots > 0 && depth_close.is_none()
}

/// Finds the contact: labelled contact fields first, then a prose line about reaching
/// someone, then the sender (and the phone in their signature).
///
/// `own_domains` are ours (the support address's domain and the platform's): a contact
/// address there is none of the customer's, and a contact that is only that, or only a
/// placeholder ("TBD", "folgt"), is missing: the sender does not stand in for it.
pub fn find_contact(
    fields: &Fields,
    text: &str,
    signature: &str,
    sender: Sender<'_>,
    own_domains: &[&str],
) -> Contact {
    let mut block = String::new();
    let mut placeholder = false;
    for f in [
        Field::Contact,
        Field::ContactName,
        Field::ContactEmail,
        Field::ContactPhone,
    ] {
        if let Some(v) = fields.get(f) {
            placeholder |= fields.value(f).is_some_and(is_placeholder);
            block.push_str(&v);
            block.push('\n');
        }
    }
    if block.is_empty() {
        // "If anything goes wrong, contact Jane Doe at jane@example.ch or +41 79 555 12 34."
        for line in text.lines() {
            let lower = line.to_lowercase();
            if CONTACT_WORDS.iter().any(|w| lower.contains(w))
                && (EMAIL.is_match(line) || PHONE.is_match(line))
            {
                block.push_str(line);
                block.push('\n');
            }
        }
    }

    let ours = |e: &str| is_ours(e, own_domains);
    let named = EMAIL
        .find_iter(&block)
        .map(|m| m.as_str().to_ascii_lowercase())
        .collect::<Vec<_>>();
    let email = named.iter().find(|e| !ours(e)).cloned();
    // Only our own addresses named as the contact: the contact is missing.
    let only_ours = email.is_none() && !named.is_empty();
    let phone = PHONE.find(&block).map(|m| clean_phone(m.as_str()));
    let name = fields
        .value(Field::ContactName)
        .and_then(name_in)
        .or_else(|| fields.value(Field::Contact).and_then(name_in))
        .or_else(|| prose_name(&block))
        // "<E-Mail>", "[Name]": a template's slot, not a name.
        .filter(|n| {
            !["[]", "<>", "{}"].iter().any(|p| {
                let (open, close) = p.split_at(1);
                block.contains(&format!("{open}{n}{close}"))
            })
        });

    if (placeholder || only_ours) && email.is_none() {
        return Contact {
            name,
            email: None,
            phone,
        };
    }

    let explicit = email.is_some() || name.is_some();
    let sender_email = sender
        .email
        .map(str::to_ascii_lowercase)
        .filter(|e| !ours(e));
    let email_is_sender = email.is_none() || email == sender_email;
    let name = name
        .or_else(|| {
            if email_is_sender {
                sender.name.and_then(name_in)
            } else {
                None
            }
        })
        .or_else(|| {
            if email_is_sender {
                signature_name(signature)
            } else {
                None
            }
        });
    let phone = phone.or_else(|| {
        if !explicit || email_is_sender {
            phone_in_lines(text).or_else(|| PHONE.find(signature).map(|m| clean_phone(m.as_str())))
        } else {
            None
        }
    });
    Contact {
        name,
        email: email.or(sender_email),
        phone,
    }
}

/// Whether the address `e` (lowercase) is at one of our domains or under one.
fn is_ours(e: &str, own_domains: &[&str]) -> bool {
    crate::domain::domain_of(e).is_some_and(|d| {
        own_domains
            .iter()
            .any(|o| !o.is_empty() && crate::domain::is_under(&d, o))
    })
}

fn clean_phone(p: &str) -> String {
    p.trim()
        .trim_end_matches(['.', ',', ')'])
        .trim()
        .to_string()
}

/// A phone number on a line that says it is one ("Tel: …", "mobile …").
fn phone_in_lines(text: &str) -> Option<String> {
    text.lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            ["phone", "tel", "mobile", "mobil", "handy", "natel", "call"]
                .iter()
                .any(|w| lower.contains(w))
        })
        .find_map(|l| PHONE.find(l).map(|m| clean_phone(m.as_str())))
}

/// The name part of a contact value such as `Jane Doe (CISO), jane@example.ch, +41 …`.
fn name_in(value: &str) -> Option<String> {
    let without_email = EMAIL.replace_all(value, "\n");
    let without_phone = PHONE.replace_all(&without_email, "\n");
    without_phone
        .split(['\n', ',', ';', '|', '<', '(', '/', '\t'])
        .map(|s| {
            let s = s
                .trim()
                .trim_matches(['-', ':', '*', '"', '\'', '>', '.'])
                .trim();
            // Drop sub-labels left inside the value ("Name: Jane Doe").
            let s = match s.split_once(':') {
                Some((_, rest)) => rest.trim(),
                None => s,
            };
            s.trim()
        })
        .find(|s| looks_like_name(s))
        .map(str::to_string)
}

/// "contact Jane Doe at …": the capitalised words after a contact word.
fn prose_name(block: &str) -> Option<String> {
    for line in block.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let lw = w.to_lowercase();
            if ["contact", "call", "reach", "kontaktieren", "anrufen"].contains(&lw.as_str()) {
                let name: Vec<&str> = words
                    .iter()
                    .skip(i + 1)
                    .take_while(|w| {
                        w.chars().next().is_some_and(char::is_uppercase)
                            && w.chars().all(|c| c.is_alphabetic() || c == '-' || c == '.')
                    })
                    .copied()
                    .collect();
                if (2..=4).contains(&name.len()) {
                    return Some(name.join(" "));
                }
            }
        }
    }
    None
}

/// The first name-like line of a signature, after its closing phrase.
fn signature_name(signature: &str) -> Option<String> {
    signature
        .lines()
        .map(|l| l.trim().trim_start_matches("--").trim())
        .filter(|l| !l.is_empty())
        .take(4)
        .find(|l| looks_like_name(l) && !is_closing(l))
        .map(str::to_string)
}

fn is_closing(l: &str) -> bool {
    let lower = l.to_lowercase();
    [
        "regards",
        "grüss",
        "gruss",
        "grüß",
        "cheers",
        "thanks",
        "thank you",
        "best",
        "mfg",
        "sincerely",
        "danke",
        "merci",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Two to five words of letters, at least one capitalised, nothing that looks like data.
fn looks_like_name(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    if !(1..=5).contains(&words.len()) || s.chars().count() > 60 {
        return false;
    }
    if words.len() == 1 && words.first().is_none_or(|w| w.chars().count() < 3) {
        return false;
    }
    let letters_only = s
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '.' | '\''));
    let capitalised = words
        .iter()
        .any(|w| w.chars().next().is_some_and(char::is_uppercase));
    let lower = s.to_lowercase();
    let not_words = [
        "n/a",
        "tbd",
        "none",
        "see below",
        "siehe unten",
        "team",
        "support",
        "the",
        "our",
        "please",
        "bitte",
    ];
    // A template's slot word ("<Name>", "[Vorname Nachname]") is no one's name.
    let slot = matches!(
        lower.as_str(),
        "name"
            | "vorname"
            | "nachname"
            | "vorname nachname"
            | "first name"
            | "last name"
            | "full name"
            | "your name"
            | "ihr name"
            | "first last"
            | "firstname lastname"
    );
    !slot
        && letters_only
        && capitalised
        && !is_placeholder(s)
        && !not_words
            .iter()
            .any(|w| lower.split_whitespace().any(|x| x == *w))
}

#[cfg(test)]
mod tests {
    use super::super::fields::find_fields;
    use super::*;

    fn contact(text: &str, sig: &str, name: Option<&str>, email: Option<&str>) -> Contact {
        find_contact(
            &find_fields(text),
            text,
            sig,
            Sender { name, email },
            &["amazee.io", "amazeeio.cloud", "lagoon.sh"],
        )
    }

    #[test]
    fn labelled_contact_line() {
        let c = contact(
            "Point of contact: Jane Doe (CISO), Jane.Doe@Example.ch, +41 79 555 12 34\n",
            "",
            Some("Bob Sender"),
            Some("bob@example.ch"),
        );
        assert_eq!(c.name.as_deref(), Some("Jane Doe"));
        assert_eq!(c.email.as_deref(), Some("jane.doe@example.ch"));
        assert_eq!(c.phone.as_deref(), Some("+41 79 555 12 34"));
    }

    #[test]
    fn german_sub_labels() {
        let c = contact(
            "Ansprechpartner: Hans Muster\nE-Mail: hans.muster@beispiel.ch\nTelefon: 044 555 12 34\n",
            "",
            None,
            Some("info@beispiel.ch"),
        );
        assert_eq!(c.name.as_deref(), Some("Hans Muster"));
        assert_eq!(c.email.as_deref(), Some("hans.muster@beispiel.ch"));
        assert_eq!(c.phone.as_deref(), Some("044 555 12 34"));
    }

    #[test]
    fn sender_is_the_fallback_with_signature_phone() {
        let c = contact(
            "We plan a pen test of shop.example.ch.\n",
            "Best regards\nAnna Keller\nSecurity Engineer\nPhone +41 44 123 45 67\n",
            None,
            Some("anna@example.ch"),
        );
        assert_eq!(c.name.as_deref(), Some("Anna Keller"));
        assert_eq!(c.email.as_deref(), Some("anna@example.ch"));
        assert_eq!(c.phone.as_deref(), Some("+41 44 123 45 67"));
    }

    #[test]
    fn prose_contact_differs_from_sender() {
        let c = contact(
            "During the test please contact Marco Rossi at marco@pentest-firm.example.com or +49 170 1234567 if you need us to stop.\n",
            "Regards\nBob\n+41 44 000 00 00",
            Some("Bob Sender"),
            Some("bob@example.ch"),
        );
        assert_eq!(c.name.as_deref(), Some("Marco Rossi"));
        assert_eq!(c.email.as_deref(), Some("marco@pentest-firm.example.com"));
        assert_eq!(c.phone.as_deref(), Some("+49 170 1234567"));
    }

    #[test]
    fn no_name_anywhere_stays_none() {
        let c = contact("test next week\n", "", None, Some("ops@example.ch"));
        assert_eq!(c.name, None);
        assert_eq!(c.email.as_deref(), Some("ops@example.ch"));
        assert_eq!(c.phone, None);
    }

    #[test]
    fn placeholder_contacts_are_missing() {
        for text in [
            "Contact: TBD\n",
            "Point of contact: TBC\n",
            "Contact: to be confirmed\n",
            "Contact person: will follow\n",
            "Contact: n/a\n",
            "Contact: N/A\n",
            "Contact: -\n",
            "Ansprechpartner: folgt\n",
            "Ansprechpartner: wird nachgereicht\n",
            "Kontakt: noch offen\n",
            "Contact: TBD (we will send it next week)\n",
        ] {
            let c = contact(
                text,
                "Regards\nBob Sender\n+41 44 000 00 00",
                Some("Bob Sender"),
                Some("bob@example.ch"),
            );
            assert_eq!(c.email, None, "{text}");
            assert_eq!(c.name, None, "{text}");
        }
        // A name with a placeholder for the rest keeps the name.
        let c = contact(
            "Contact: Jane Doe, e-mail TBD\n",
            "",
            Some("Bob Sender"),
            Some("bob@example.ch"),
        );
        assert_eq!(c.name.as_deref(), Some("Jane Doe"));
        assert_eq!(c.email, None);
    }

    /// Red-team 069/070: a contact not named yet, or a template never filled in, was taken
    /// from the sender.
    #[test]
    fn pending_and_bracket_placeholder_contacts_are_missing() {
        for text in [
            "Contact during the test: pending (our SOC lead will be named)\n",
            "Contact during the test: [Name], [E-Mail], [Telefon]\n",
            "Kontakt während des Tests: ausstehend\n",
            "Ansprechpartner: <Name> / <E-Mail> / <Telefon>\n",
            "Notfallkontakt: wird noch benannt\n",
        ] {
            let c = contact(
                text,
                "",
                Some("Lukas Meier"),
                Some("lukas.meier@bergbahnen-example.ch"),
            );
            assert_eq!(c.email, None, "{text}");
            assert_eq!(c.name, None, "{text}");
        }
        // A filled-in contact with a bracketed remark stays a contact.
        let c = contact(
            "Contact during the test: Lukas Meier [SOC], lukas.meier@bergbahnen-example.ch\n",
            "",
            None,
            None,
        );
        assert_eq!(
            c.email.as_deref(),
            Some("lukas.meier@bergbahnen-example.ch")
        );
    }

    #[test]
    fn our_own_addresses_are_no_contact() {
        // The customer names our support desk (or a platform address) as the contact.
        for text in [
            "Contact: support@amazee.io\n",
            "Kontakt: ops@lagoon.sh\n",
            "If anything goes wrong, contact support@amazee.io.\n",
        ] {
            let c = contact(text, "", Some("Bob Sender"), Some("bob@example.ch"));
            assert_eq!(c.email, None, "{text}");
        }
        // A customer address next to ours is the contact.
        let c = contact(
            "Contact: Jane Doe, jane@example.ch (cc support@amazee.io)\n",
            "",
            None,
            Some("bob@example.ch"),
        );
        assert_eq!(c.email.as_deref(), Some("jane@example.ch"));
        // A sender at one of our domains does not stand in for the contact.
        let c = contact(
            "Pentest next week\n",
            "",
            Some("Eve"),
            Some("eve@amazee.io"),
        );
        assert_eq!(c.email, None);
    }

    #[test]
    fn dates_and_ips_are_not_phones() {
        let c = contact(
            "Contact: Jane Doe\nWindow 14.12.2026 09:00\nIP 185.199.110.17\n",
            "",
            None,
            None,
        );
        assert_eq!(c.phone, None);
    }
}
