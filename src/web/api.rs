//! The lookup API for scripts: `GET /api/v1/lookup?ip=IP|CIDR&at=TIME` with
//! `Authorization: Bearer TOKEN` (an `api` token from `/account` or `intake token add`)
//! answers what `intake lookup --json` prints: a JSON array of the approved windows holding
//! the address at the moment (empty when none does).
//!
//! A missing, malformed, unknown or revoked token, or a feed token, gets `401` with
//! `WWW-Authenticate: Bearer`; the question is read only after that. A bad `ip` or `at` gets
//! `400` with `{"error": "…"}`. Every answer is JSON.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tracing::warn;

use super::AppState;
use super::feeds::authenticate;
use super::security::query;
use super::session::{field, parse_form};
use crate::conversation::RequestRecord;
use crate::tokens::TokenKind;

const JSON: &str = "application/json";

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json(
        status,
        serde_json::json!({ "error": message }).to_string() + "\n",
    )
}

fn unauthorized(why: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, why);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"intake\""),
    );
    r
}

/// The token of an `Authorization: Bearer TOKEN` header (exactly one such header).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return None;
    };
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The answer to a lookup in `requests`: `intake lookup --json`'s array, as text.
pub fn lookup_json(
    requests: &[RequestRecord],
    q: super::security::Query,
    zone: chrono_tz::Tz,
) -> serde_json::Result<String> {
    let matches: Vec<_> = crate::lookup::lookup(requests, q.net, q.at)
        .iter()
        .map(|m| m.to_json(zone))
        .collect();
    let mut text = serde_json::to_string_pretty(&matches)?;
    text.push('\n');
    Ok(text)
}

/// `GET /api/v1/lookup?ip=…&at=…`.
pub async fn lookup(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(token) = bearer(&headers) else {
        return unauthorized("an API token is needed: Authorization: Bearer TOKEN");
    };
    match authenticate(&state, token, TokenKind::Api).await {
        Ok(Some(_)) => {}
        Ok(None) => return unauthorized("the token is not a valid API token"),
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: cannot check an API token");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    }
    let fields = parse_form(uri.query().unwrap_or("").as_bytes());
    let zone = state.0.zone;
    let q = match query(
        field(&fields, "ip"),
        field(&fields, "at"),
        zone,
        state.0.clock.now(),
    ) {
        Ok(Some(q)) => q,
        Ok(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ip is missing: an IP address or CIDR block, e.g. ?ip=192.0.2.7",
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let requests = match state.held_requests().await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %format!("{e:#}"), "web console: cannot read the held requests");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    match lookup_json(&requests, q, zone) {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => {
            warn!(error = %e, "web console: cannot write a lookup");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_bearer_token_is_read_from_one_authorization_header() {
        assert_eq!(bearer(&headers(&["Bearer abc"])), Some("abc"));
        assert_eq!(bearer(&headers(&["bearer  abc "])), Some("abc"));
        assert_eq!(bearer(&headers(&["Basic YTpi"])), None);
        assert_eq!(bearer(&headers(&["Bearer"])), None);
        assert_eq!(bearer(&headers(&[])), None);
        assert_eq!(bearer(&headers(&["Bearer a", "Bearer b"])), None);
    }

    #[test]
    fn the_answer_is_the_shape_of_intake_lookup_json() {
        use crate::conversation::State as RState;
        let rs = [crate::web::security::tests::window_request(
            1,
            RState::Accepted,
            -1,
            3,
        )];
        let z = chrono_tz::Europe::Zurich;
        let now = rs[0].created_at + chrono::Duration::hours(2);
        let q = query(Some("203.0.1.1"), None, z, now).unwrap().unwrap();
        let text = lookup_json(&rs, q, z).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let want: Vec<_> = crate::lookup::lookup(&rs, q.net, q.at)
            .iter()
            .map(|m| serde_json::to_value(m.to_json(z)).unwrap())
            .collect();
        assert_eq!(v, serde_json::Value::Array(want));
        assert_eq!(v[0]["reference"], "INT-0000000001");
        assert_eq!(v[0]["contact"]["name"], "Contact 1");
        let none = query(Some("192.0.2.1"), None, z, now).unwrap().unwrap();
        assert_eq!(lookup_json(&rs, none, z).unwrap(), "[]\n");
    }
}
