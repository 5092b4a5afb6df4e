//! Domain names and addresses as trust decisions need them: organizational domains from the
//! Public Suffix List (the `psl` crate), never "the last two labels".

/// The organizational domain of `name` (RFC 7489 §3.2): one label below its public suffix,
/// lowercase. `mail.shop.example.co.uk` → `example.co.uk`. `None` when `name` is a public
/// suffix itself or not a domain name.
pub fn org_domain(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.starts_with('.') || name.contains("..") {
        return None;
    }
    // Tenant domains of mail platforms the Public Suffix List does not list: every tenant is
    // its own organization (`contoso.onmicrosoft.com` is not `fabrikam.onmicrosoft.com`).
    for suffix in TENANT_SUFFIXES {
        if name == *suffix {
            return None;
        }
        if let Some(below) = name.strip_suffix(suffix).and_then(|b| b.strip_suffix('.')) {
            let tenant = below.rsplit('.').next().unwrap_or(below);
            return (!tenant.is_empty()).then(|| format!("{tenant}.{suffix}"));
        }
    }
    let d = psl::domain(name.as_bytes())?;
    // psl answers for unknown suffixes with the default rule `*`; a domain needs a known
    // suffix to have an owner we can reason about.
    if !d.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
}

/// Mail platforms that give each customer a subdomain of their own and are missing from the
/// Public Suffix List. Longest first: `mail.onmicrosoft.com` before `onmicrosoft.com`.
const TENANT_SUFFIXES: &[&str] = &[
    "mail.onmicrosoft.com",
    "onmicrosoft.com",
    "onmicrosoft.de",
    "partner.onmschina.cn",
    "onmschina.cn",
];

/// `a` and `b` share an organizational domain (DMARC relaxed alignment).
pub fn same_org(a: &str, b: &str) -> bool {
    match (org_domain(a), org_domain(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `host` is `domain` or a name under it (label-wise, case-insensitive).
pub fn is_under(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    if host.eq_ignore_ascii_case(domain) {
        return true;
    }
    host.len() > domain.len()
        && host
            .get(host.len() - domain.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
        && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.')
}

/// Organizational domains whose mailboxes belong to many unrelated people: free-mail and
/// ISP mail. Two addresses there share nothing but the provider, so a Reply-To "in the same
/// organization" may be a stranger's (red-team 067), and a sender there owns none of the
/// provider's hosts (080). Names ending in `.*` stand for the provider under any suffix
/// (`yahoo.co.uk`, `hotmail.fr`, `gmx.net`). Small on purpose: the list only withholds
/// trust, so a provider missing here fails towards the old behaviour, never towards a
/// wrong acceptance for a listed one.
const SHARED_MAIL_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.*",
    "live.*",
    "msn.com",
    "yahoo.*",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.*",
    "web.de",
    "t-online.de",
    "freenet.de",
    "bluewin.ch",
    "hispeed.ch",
    "sunrise.ch",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "mail.com",
    "yandex.*",
    "zoho.com",
    "fastmail.com",
    "tutanota.com",
    "mail.ru",
    "qq.com",
    "163.com",
];

/// `domain` (or its organizational domain) is a shared mail provider (free-mail, ISP mail):
/// see [`SHARED_MAIL_PROVIDERS`].
pub fn is_shared_mail_provider(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let org = org_domain(&d).unwrap_or(d);
    SHARED_MAIL_PROVIDERS
        .iter()
        .any(|p| match p.strip_suffix(".*") {
            // The provider's name right above a public suffix: `yahoo.co.uk`, not `yahoo.example.ch`.
            Some(name) => org
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|suffix| {
                    !suffix.is_empty() && org_domain(&format!("x.{suffix}")).is_some()
                }),
            None => org == *p,
        })
}

/// The domain part of an address, lowercase.
pub fn domain_of(address: &str) -> Option<String> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

/// An address as the loop breaker counts it: lowercase, a quoted local part unquoted
/// (`"ops"@x` is the mailbox `ops@x`), `+tag` removed from the local part.
pub fn normalize_address(address: &str) -> String {
    let a = address.trim().to_lowercase();
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            let unquoted;
            let local = match local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
                Some(inner) => {
                    unquoted = inner.replace('\\', "");
                    unquoted.as_str()
                }
                None => local,
            };
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizational_domains_follow_the_public_suffix_list() {
        assert_eq!(
            org_domain("mail.shop.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(org_domain("Example.CH").as_deref(), Some("example.ch"));
        assert_eq!(org_domain("a.b.example.ch").as_deref(), Some("example.ch"));
        assert_eq!(org_domain("foo.lagoon.sh").as_deref(), Some("lagoon.sh"));
        assert_eq!(org_domain("co.uk"), None);
        assert_eq!(org_domain("ch"), None);
        assert_eq!(org_domain(""), None);
        assert_eq!(org_domain("example.invalidtld"), None);
        // Private suffixes of the list count as suffixes: each GitHub Pages site is its own.
        assert_eq!(
            org_domain("evil.github.io").as_deref(),
            Some("evil.github.io")
        );
        // Microsoft 365 tenants are organizations of their own (red team: a stranger's tenant
        // completed another tenant's request).
        assert_eq!(
            org_domain("Contoso.onmicrosoft.com").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(
            org_domain("x.contoso.mail.onmicrosoft.com").as_deref(),
            Some("contoso.mail.onmicrosoft.com")
        );
        assert!(!same_org(
            "contoso.onmicrosoft.com",
            "fabrikam.onmicrosoft.com"
        ));
        assert_eq!(org_domain("onmicrosoft.com"), None);
        assert_eq!(
            org_domain("xonmicrosoft.com").as_deref(),
            Some("xonmicrosoft.com")
        );
    }

    #[test]
    fn same_org_is_not_a_suffix_match() {
        assert!(same_org("mail.example.ch", "example.ch"));
        assert!(!same_org("example.ch", "notexample.ch"));
        assert!(!same_org("evil.github.io", "good.github.io"));
        assert!(!same_org("co.uk", "co.uk"));
    }

    #[test]
    fn under_is_label_wise() {
        assert!(is_under("api.lagoon.sh", "lagoon.sh"));
        assert!(is_under("LAGOON.SH", "lagoon.sh"));
        assert!(!is_under("notlagoon.sh", "lagoon.sh"));
        assert!(!is_under("sh", "lagoon.sh"));
    }

    #[test]
    fn shared_mail_providers_are_recognised_under_any_of_their_suffixes() {
        for d in [
            "gmail.com",
            "GoogleMail.com",
            "hotmail.com",
            "hotmail.fr",
            "live.co.uk",
            "yahoo.co.uk",
            "mail.yahoo.com",
            "gmx.net",
            "gmx.ch",
            "bluewin.ch",
            "pm.me",
            "yandex.ru",
        ] {
            assert!(is_shared_mail_provider(d), "{d}");
        }
        for d in [
            "example.ch",
            "bergbahnen-example.ch",
            "yahoo.example.ch",
            "notgmail.com",
            "gmail.com.evil.net",
            "hotmailer.com",
            "amazee.io",
        ] {
            assert!(!is_shared_mail_provider(d), "{d}");
        }
    }

    #[test]
    fn addresses_are_normalized_for_counting() {
        assert_eq!(
            normalize_address("Jane+Tests@Example.CH"),
            "jane@example.ch"
        );
        assert_eq!(normalize_address("jane@example.ch"), "jane@example.ch");
        // A quoted local part names the same mailbox (red-team 100).
        assert_eq!(normalize_address("\"ops\"@Example.CH"), "ops@example.ch");
        assert_eq!(
            normalize_address("\"o\\ps+x\"@example.ch"),
            "ops@example.ch"
        );
        assert_eq!(domain_of("Jane@Example.CH").as_deref(), Some("example.ch"));
    }
}
