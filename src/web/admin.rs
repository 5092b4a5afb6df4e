//! `/admin` (admins only): the accounts (add, new password, remove) and the newest entries
//! of the action log. Each change is one POST with the session's CSRF token, checked as
//! `intake user` checks it (names, password length, argon2id), and logged with the admin
//! as the actor. An admin cannot remove their own account (nobody could then sign in to
//! undo it).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::warn;

use super::AppState;
use super::pages::{Viewer, minute, page, render};
use super::session::{RequireUser, field, parse_form, text};
use crate::accounts::{self, AccountError, UserRole};
use crate::store::{Store, StoreReader};

/// The answer when the store failed under a change.
const NOTHING_CHANGED: &str = "500 Internal Server Error: nothing was changed; see the log\n";

/// Action log entries shown.
const MAX_LOG: u32 = 200;

#[derive(Serialize)]
struct UserView {
    name: String,
    role: &'static str,
    created: String,
    updated: String,
}

#[derive(Serialize)]
struct LogView {
    at: String,
    actor: String,
    kind: String,
    subject: String,
    detail: String,
}

/// Renders the admin page for `user`, with `notice` (`done`/`refused`, text) on top.
async fn admin_page(
    state: &AppState,
    user: &RequireUser,
    notice: Option<(&'static str, String)>,
) -> anyhow::Result<Option<String>> {
    let viewer = Viewer::from(user);
    state
        .read(move |reader: &StoreReader| {
            let users: Vec<UserView> = reader
                .users()?
                .into_iter()
                .map(|u| UserView {
                    name: u.name,
                    role: u.role.as_str(),
                    created: minute(u.created_at),
                    updated: minute(u.updated_at),
                })
                .collect();
            let log: Vec<LogView> = reader
                .actions(MAX_LOG)?
                .into_iter()
                .map(|a| LogView {
                    at: minute(a.at),
                    actor: a.actor,
                    kind: a.kind,
                    subject: a.subject,
                    detail: a.detail.chars().take(300).collect(),
                })
                .collect();
            Ok(Some(render(
                "admin.html",
                minijinja::context! {
                    viewer => viewer,
                    users => users,
                    log => log,
                    roles => UserRole::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    min_password => accounts::MIN_PASSWORD_CHARS,
                    notice => notice.map(|(kind, text)| minijinja::context! { kind => kind, text => text }),
                },
            )?))
        })
        .await
}

/// `GET /admin` (`?done=added|password|removed&name=NAME` after a change).
pub async fn get(
    State(state): State<AppState>,
    user: RequireUser,
    uri: axum::http::Uri,
) -> Response {
    if let Err(r) = user.allow(&[UserRole::Admin]) {
        return r;
    }
    let fields = parse_form(uri.query().unwrap_or("").as_bytes());
    let name = field(&fields, "name").filter(|n| accounts::check_name(n).is_ok());
    let notice = match (field(&fields, "done"), name) {
        (Some("added"), Some(n)) => Some(format!("Added {n}.")),
        (Some("password"), Some(n)) => {
            Some(format!("Set a new password for {n}; their sessions ended."))
        }
        (Some("removed"), Some(n)) => Some(format!("Removed {n}; their sessions ended.")),
        _ => None,
    };
    page(admin_page(&state, &user, notice.map(|t| ("done", t))).await)
}

/// What an admin asks for.
enum Change {
    Add {
        name: String,
        role: String,
        password: String,
    },
    Password {
        name: String,
        password: String,
    },
    Remove {
        name: String,
    },
}

/// `POST /admin/users` (add) and `POST /admin/users/{name}/{password|remove}`.
pub async fn post_add(
    State(state): State<AppState>,
    user: RequireUser,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    let change = Change::Add {
        name: field(&fields, "name").unwrap_or("").trim().to_string(),
        role: field(&fields, "role").unwrap_or("").to_string(),
        password: field(&fields, "password").unwrap_or("").to_string(),
    };
    apply(state, user, &fields, change).await
}

/// `POST /admin/users/{name}/{what}`.
pub async fn post_user(
    State(state): State<AppState>,
    user: RequireUser,
    Path((name, what)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields = parse_form(&body);
    let change = match what.as_str() {
        "password" => Change::Password {
            name,
            password: field(&fields, "password").unwrap_or("").to_string(),
        },
        "remove" => Change::Remove { name },
        _ => {
            return text(StatusCode::NOT_FOUND, "404 Not Found: no such action\n");
        }
    };
    apply(state, user, &fields, change).await
}

async fn apply(
    state: AppState,
    user: RequireUser,
    fields: &[(String, String)],
    change: Change,
) -> Response {
    if let Err(r) = user.allow(&[UserRole::Admin]) {
        return r;
    }
    if !user.csrf_ok(field(fields, "csrf")) {
        return text(
            StatusCode::FORBIDDEN,
            "403 Forbidden: the form's security token is missing or wrong; load the page again\n",
        );
    }
    if let Change::Remove { name } = &change
        && *name == user.name
    {
        return refused(
            &state,
            &user,
            "You cannot remove your own account: another admin must.".into(),
        )
        .await;
    }
    let path = state.0.store_path.clone();
    let now = state.0.clock.now();
    let actor = user.name.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_shared(&path).map_err(AccountError::Other)?;
        match change {
            Change::Add {
                name,
                role,
                password,
            } => {
                let role: UserRole = role.parse()?;
                accounts::add_user(&mut store, &name, role, &password, &actor, now)?;
                Ok(("added", name))
            }
            Change::Password { name, password } => {
                accounts::set_password(&mut store, &name, &password, &actor, now)?;
                Ok(("password", name))
            }
            Change::Remove { name } => {
                accounts::remove_user(&mut store, &name, &actor, now)?;
                Ok(("removed", name))
            }
        }
    })
    .await;
    match done {
        // Post, redirect, get: a reload does not send the form again. The name passed the
        // account checks (a-z, 0-9, `.`, `_`, `-`), so it goes into the query as it is.
        Ok(Ok((what, name))) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/admin?done={what}&name={name}"))],
            "303 See Other\n",
        )
            .into_response(),
        Ok(Err(AccountError::Other(e))) => {
            warn!(error = %format!("{e:#}"), "admin: a change failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, NOTHING_CHANGED)
        }
        Ok(Err(e)) => refused(&state, &user, e.to_string()).await,
        Err(e) => {
            warn!(error = %e, "admin: a change stopped");
            text(StatusCode::INTERNAL_SERVER_ERROR, NOTHING_CHANGED)
        }
    }
}

async fn refused(state: &AppState, user: &RequireUser, why: String) -> Response {
    let mut r = page(admin_page(state, user, Some(("refused", why))).await);
    if r.status() == StatusCode::OK {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}
