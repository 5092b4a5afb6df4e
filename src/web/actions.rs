//! `POST /requests/{reference}/{action}`: staff act on a request (approve, reject, correct,
//! cancel, resend). The form carries the session's CSRF token and the request's revision as
//! the page showed it; [`crate::staff::act`] does the work in one store transaction on a
//! short-lived connection of the console's own, and the watch loop is woken to send what it
//! queued. Success redirects to the request's page (303, so a reload does not post again);
//! a refusal shows the page with the reason, having changed nothing: 409 when the request is
//! not where the form saw it, 422 when what the form asks cannot be done as given.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::{info, warn};

use super::AppState;
use super::pages::{page, request_page};
use super::session::{RequireUser, field, parse_form, text};
use crate::accounts::UserRole;
use crate::config::Config;
use crate::render::Templates;
use crate::staff::{Act, Item};
use crate::store::Store;

/// Bytes of an action form read at most (a reason and a value, URL-encoded).
pub const MAX_ACTION_FORM_BYTES: usize = 32 * 1024;

/// What the console needs to act: the configuration and templates intake decides with, and
/// the watch loop's wake-up.
#[derive(Clone)]
pub struct Actions {
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
    pub kick: Arc<tokio::sync::Notify>,
}

/// Reads the action `name` from the form, or says what is wrong with it.
fn parse_act(name: &str, fields: &[(String, String)]) -> Result<Act, &'static str> {
    let reason = field(fields, "reason").unwrap_or("").to_string();
    let confirm_sender = field(fields, "confirm_sender").is_some_and(|v| v == "yes");
    Ok(match name {
        "approve" => Act::Approve {
            reason,
            confirm_sender,
        },
        "reject" => Act::Reject {
            reason,
            confirm_sender,
        },
        "cancel" => Act::Cancel {
            reason,
            confirm_sender,
            quiet: field(fields, "quiet").is_some_and(|v| v == "yes"),
        },
        "correct" => Act::Correct {
            item: field(fields, "item")
                .and_then(Item::parse)
                .ok_or("400 Bad Request: no such item to correct\n")?,
            value: field(fields, "value").unwrap_or("").to_string(),
            reason,
            confirm_sender,
        },
        "resend" => Act::Resend {
            outbox: field(fields, "outbox")
                .and_then(|v| v.parse().ok())
                .ok_or("400 Bad Request: which message to send again?\n")?,
        },
        _ => return Err("404 Not Found: no such action\n"),
    })
}

/// `POST /requests/{reference}/{action}`.
pub async fn post(
    State(state): State<AppState>,
    user: RequireUser,
    Path((reference, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = user.allow(&[UserRole::Staff, UserRole::Admin]) {
        return r;
    }
    let fields = parse_form(&body);
    if !user.csrf_ok(field(&fields, "csrf")) {
        return text(
            StatusCode::FORBIDDEN,
            "403 Forbidden: the form's security token is missing or wrong; load the page again\n",
        );
    }
    let act = match parse_act(&action, &fields) {
        Ok(a) => a,
        Err(why) if why.starts_with("404") => return text(StatusCode::NOT_FOUND, why),
        Err(why) => return text(StatusCode::BAD_REQUEST, why),
    };
    let Some(revision) = field(&fields, "version").and_then(|v| v.parse::<u64>().ok()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: the form does not say which version of the request it acts on\n",
        );
    };
    let Some(actions) = state.0.actions.clone() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Unavailable: this console only reads\n",
        );
    };
    let path = state.0.store_path.clone();
    let now = state.0.clock.now();
    let (r, who, a) = (reference.clone(), user.name.clone(), act.clone());
    let cfg = actions.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_shared(&path)?;
        crate::staff::act(
            &mut store,
            &cfg.config,
            &cfg.templates,
            &r,
            revision,
            &who,
            &a,
            now,
        )
    })
    .await;
    match outcome {
        Ok(Ok(Ok(done))) => {
            info!(reference = %crate::render::clean::one_line(&reference, 100), actor = %user.name, action = act.kind(), state = done.state.as_str(), queued = done.queued.len(), "console action");
            actions.kick.notify_one();
            (
                StatusCode::SEE_OTHER,
                [(
                    header::LOCATION,
                    format!("/requests/{}?done={}", url_path(&reference), act.kind()),
                )],
                "303 See Other\n",
            )
                .into_response()
        }
        Ok(Ok(Err(refused))) => {
            let why = refused.why().to_string();
            info!(reference = %crate::render::clean::one_line(&reference, 100), actor = %user.name, action = act.kind(), why = %crate::render::clean::one_line(&why, 300), "console action refused");
            let status = match refused {
                crate::staff::Refused::Conflict(_) => StatusCode::CONFLICT,
                crate::staff::Refused::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut response =
                page(request_page(&state, &user, reference, Some(("refused", why))).await);
            if response.status() == StatusCode::OK {
                *response.status_mut() = status;
            }
            response
        }
        Ok(Err(e)) => {
            warn!(reference = %crate::render::clean::one_line(&reference, 100), error = %format!("{e:#}"), "console action failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error: nothing was done; see the log\n",
            )
        }
        Err(e) => {
            warn!(error = %e, "console action stopped");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error: nothing was done; see the log\n",
            )
        }
    }
}

/// A reference as a path segment (references are `INT-` and hex; anything else is
/// percent-encoded so a Location header can never carry it elsewhere).
fn url_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn forms_become_actions_and_nothing_else() {
        assert_eq!(
            parse_act("approve", &form(&[("confirm_sender", "yes")])),
            Ok(Act::Approve {
                reason: String::new(),
                confirm_sender: true
            })
        );
        assert_eq!(
            parse_act(
                "correct",
                &form(&[("item", "zone"), ("value", "Asia/Kolkata")])
            ),
            Ok(Act::Correct {
                item: Item::Zone,
                value: "Asia/Kolkata".into(),
                reason: String::new(),
                confirm_sender: false
            })
        );
        assert!(parse_act("correct", &form(&[("item", "password")])).is_err());
        assert!(parse_act("resend", &form(&[("outbox", "x")])).is_err());
        assert!(
            parse_act("delete", &form(&[]))
                .unwrap_err()
                .starts_with("404")
        );
        // Only the exact word confirms.
        assert_eq!(
            parse_act("cancel", &form(&[("confirm_sender", "on")])),
            Ok(Act::Cancel {
                reason: String::new(),
                confirm_sender: false,
                quiet: false
            })
        );
    }

    #[test]
    fn a_reference_cannot_leave_the_path() {
        assert_eq!(url_path("INT-1a2b"), "INT-1a2b");
        assert_eq!(url_path("../x//evil.com"), "..%2Fx%2F%2Fevil.com");
    }
}
