//! Sender verification from the trusted `Authentication-Results` header (RFC 8601).

/// What the trusted header says about the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderCheck {
    /// No trusted header: we cannot tell, which is not the same as failing.
    Unknown,
    /// DMARC passed, or DKIM passed for the From domain, or SPF passed.
    Verified,
    /// DMARC failed, or neither DKIM (for the From domain) nor SPF passed and SPF failed.
    Failed(String),
    /// A header exists but says nothing conclusive.
    Inconclusive,
}

/// Checks `from_domain` against the trusted header among `headers` (topmost first). With
/// `authserv_id` set, the trusted header is the first one from that server; otherwise the
/// topmost, which our own MX adds last.
pub fn check_sender(
    headers: &[String],
    authserv_id: Option<&str>,
    from_domain: &str,
) -> SenderCheck {
    let trusted = match authserv_id {
        Some(id) => headers
            .iter()
            .find(|h| authserv_of(h).eq_ignore_ascii_case(id)),
        None => headers.first(),
    };
    let Some(header) = trusted else {
        return SenderCheck::Unknown;
    };
    let from_domain = from_domain.to_ascii_lowercase();
    let mut dmarc = None;
    let mut spf = None;
    let mut dkim_pass_aligned = false;
    let mut dkim_fail = false;
    for result in strip_comments(header).split(';').skip(1) {
        let mut words = result.split_whitespace();
        let Some(first) = words.next() else { continue };
        let Some((method, value)) = first.split_once('=') else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        let value = value.to_ascii_lowercase();
        match method.as_str() {
            "dmarc" if dmarc.is_none() => dmarc = Some(value),
            "spf" if spf.is_none() => spf = Some(value),
            "dkim" => {
                // Only DKIM results need their properties.
                let signer = words
                    .filter_map(|w| w.split_once('='))
                    .find(|(k, _)| {
                        k.eq_ignore_ascii_case("header.d") || k.eq_ignore_ascii_case("header.i")
                    })
                    .map(|(_, v)| {
                        v.trim_matches('"')
                            .to_ascii_lowercase()
                            .trim_start_matches('@')
                            .to_string()
                    });
                let aligned = signer
                    .as_deref()
                    .is_some_and(|d| aligned_domains(d, &from_domain));
                if value == "pass" && aligned {
                    dkim_pass_aligned = true;
                } else if value == "fail" || value == "permerror" {
                    dkim_fail = true;
                }
            }
            _ => {}
        }
    }
    match dmarc.as_deref() {
        Some("fail") => return SenderCheck::Failed("DMARC failed for the sender's domain".into()),
        Some("pass") => return SenderCheck::Verified,
        _ => {}
    }
    let spf_failed = matches!(spf.as_deref(), Some("fail" | "softfail"));
    if dkim_pass_aligned || spf.as_deref() == Some("pass") {
        SenderCheck::Verified
    } else if spf_failed {
        let dkim = if dkim_fail { "failed" } else { "did not pass" };
        SenderCheck::Failed(format!(
            "SPF failed and DKIM {dkim} for the sender's domain {from_domain}"
        ))
    } else {
        SenderCheck::Inconclusive
    }
}

/// The authserv-id: the first token of the header value.
fn authserv_of(header: &str) -> &str {
    header
        .split(';')
        .next()
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("")
}

/// Same domain, or one is a subdomain of the other (relaxed alignment).
fn aligned_domains(a: &str, b: &str) -> bool {
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// Removes RFC 5322 comments `( … )`, which may hold `;` and `=`.
fn strip_comments(s: &str) -> std::borrow::Cow<'_, str> {
    // Most headers have no comment at all.
    if !s.contains('(') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' => depth = depth.saturating_add(1),
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    #[test]
    fn no_header_is_unknown_not_failed() {
        assert_eq!(check_sender(&[], None, "example.com"), SenderCheck::Unknown);
    }

    #[test]
    fn dmarc_fail_is_failed() {
        let r = check_sender(
            &h(
                "mx.amazee.io; dkim=none; spf=softfail smtp.mailfrom=evil.test; dmarc=fail (p=reject) header.from=example.com",
            ),
            None,
            "example.com",
        );
        assert!(matches!(r, SenderCheck::Failed(_)), "{r:?}");
    }

    #[test]
    fn dkim_pass_for_from_domain_is_verified() {
        let r = check_sender(
            &h(
                "mx.amazee.io; dkim=pass header.d=mail.example.com; spf=fail smtp.mailfrom=bounce.other.test",
            ),
            None,
            "example.com",
        );
        assert_eq!(r, SenderCheck::Verified);
    }

    #[test]
    fn dkim_pass_for_other_domain_with_spf_fail_is_failed() {
        let r = check_sender(
            &h("mx.amazee.io; dkim=pass header.d=other.test; spf=fail smtp.mailfrom=example.com"),
            None,
            "example.com",
        );
        assert!(matches!(r, SenderCheck::Failed(_)));
    }

    #[test]
    fn only_the_trusted_header_counts() {
        let headers = vec![
            "mx.amazee.io; dmarc=fail header.from=example.com".to_string(),
            "relay.example.com; dmarc=pass header.from=example.com".to_string(),
        ];
        assert!(matches!(
            check_sender(&headers, None, "example.com"),
            SenderCheck::Failed(_)
        ));
        assert_eq!(
            check_sender(&headers, Some("relay.example.com"), "example.com"),
            SenderCheck::Verified
        );
        assert_eq!(
            check_sender(&headers, Some("mx.unknown.test"), "example.com"),
            SenderCheck::Unknown
        );
    }

    #[test]
    fn comments_do_not_confuse() {
        let r = check_sender(
            &h(
                "mx.amazee.io (postfix; v=1); dmarc=pass (p=none; dis=none) header.from=example.com",
            ),
            None,
            "example.com",
        );
        assert_eq!(r, SenderCheck::Verified);
    }
}
