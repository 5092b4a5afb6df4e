//! Tokens for what a browser session cannot carry: the calendar feed a calendar app polls
//! (`feed`) and the lookup API a script asks (`api`). Made on the console's `/account` page
//! or with `intake token add`, revoked there or with `intake token revoke`; the rules for
//! them live here, the rows (and the log of who made or revoked which) in the store.
//!
//! A token is 256 random bits as 64 lowercase hex digits, shown once; the store keeps only
//! its SHA-256 (as for console sessions), so a copy of the store opens nothing. Each token
//! has one kind and opens only what its kind opens: a feed token is no API key and the other
//! way round. It opens something only while its user exists with a role that may use it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::accounts::UserRole;
use crate::store::Store;

/// Tokens a user may hold that are not revoked, per kind (bounds what the account page can
/// make).
pub const MAX_ACTIVE_PER_KIND: usize = 20;
/// Most characters of a token's label.
pub const MAX_LABEL_CHARS: usize = 64;
/// Roles whose feed tokens open the calendar feed.
pub const FEED_ROLES: [UserRole; 3] = [UserRole::Security, UserRole::Staff, UserRole::Admin];
/// Roles whose API tokens open the lookup API.
pub const API_ROLES: [UserRole; 3] = [UserRole::Security, UserRole::Staff, UserRole::Admin];

/// What a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The calendar feed, `GET /feeds/TOKEN.ics`.
    Feed,
    /// The lookup API, `Authorization: Bearer TOKEN`.
    Api,
}

impl TokenKind {
    pub const ALL: [TokenKind; 2] = [TokenKind::Feed, TokenKind::Api];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Feed => "feed",
            TokenKind::Api => "api",
        }
    }

    /// The roles whose tokens of this kind open something.
    pub fn roles(self) -> &'static [UserRole] {
        match self {
            TokenKind::Feed => &FEED_ROLES,
            TokenKind::Api => &API_ROLES,
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenKind {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| TokenError::BadKind(s.chars().take(40).collect()))
    }
}

/// A token as stored and listed (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub user: String,
    pub kind: TokenKind,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// Who made it: the user (console) or `cli:LOGIN`.
    pub created_by: String,
    /// When it last opened something (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it, or why (`user removed`).
    pub revoked_by: Option<String>,
}

impl TokenRow {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// Whom a presented token belongs to (found by its hash; not revoked, its user exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub id: i64,
    pub user: String,
    /// The user's role now (not when the token was made).
    pub role: UserRole,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TokenOwner {
    /// Whether the owner's role may use a token of `kind`.
    pub fn may_use(&self, kind: TokenKind) -> bool {
        kind.roles().contains(&self.role)
    }
}

/// Why a token operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("`{0}` is not a token kind: use feed or api")]
    BadKind(String),
    #[error("The label is too long: at most {MAX_LABEL_CHARS} characters")]
    LongLabel,
    #[error("There is no user `{0}`")]
    UnknownUser(String),
    #[error("There is no token {0}")]
    UnknownToken(i64),
    #[error("Token {0} is revoked already")]
    AlreadyRevoked(i64),
    #[error("{user} holds {MAX_ACTIVE_PER_KIND} {kind} tokens already: revoke one first")]
    TooMany { user: String, kind: TokenKind },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A fresh token: 32 random bytes as 64 lowercase hex digits.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex(&b)
}

/// What the store keeps of a token: its SHA-256, hex.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` has the shape of a token (64 lowercase hex digits); anything else is refused
/// before the store is asked.
pub fn well_formed(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A label as kept: control and bidi characters dropped, trimmed, at most
/// [`MAX_LABEL_CHARS`] characters (more is refused, not cut).
pub fn clean_label(label: &str) -> Result<String, TokenError> {
    let cleaned: String = label
        .chars()
        .filter(|c| !crate::render::clean::is_unsafe(*c))
        .collect::<String>()
        .trim()
        .to_string();
    if cleaned.chars().count() > MAX_LABEL_CHARS {
        return Err(TokenError::LongLabel);
    }
    Ok(cleaned)
}

/// Makes a token of `kind` for `user` (who must exist and hold fewer than
/// [`MAX_ACTIVE_PER_KIND`] of that kind), logged as `token_created` by `actor`. Returns its
/// id and the token, which is shown once and never kept.
pub fn create(
    store: &mut Store,
    user: &str,
    kind: TokenKind,
    label: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(i64, String), TokenError> {
    let label = clean_label(label)?;
    crate::accounts::check_name(user).map_err(|_| TokenError::UnknownUser(user.to_string()))?;
    if store.user_credentials(user)?.is_none() {
        return Err(TokenError::UnknownUser(user.to_string()));
    }
    let active = store
        .tokens(Some(user))?
        .iter()
        .filter(|t| t.kind == kind && t.is_active())
        .count();
    if active >= MAX_ACTIVE_PER_KIND {
        return Err(TokenError::TooMany {
            user: user.to_string(),
            kind,
        });
    }
    let token = new_token();
    match store.create_token(&hash(&token), user, kind, &label, actor, now)? {
        Some(id) => Ok((id, token)),
        None => Err(TokenError::UnknownUser(user.to_string())),
    }
}

/// Revokes token `id`, logged as `token_revoked` by `actor`. With `owner`, only a token of
/// that user is found (the account page: nobody revokes another user's token there).
pub fn revoke(
    store: &mut Store,
    id: i64,
    owner: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<TokenRow, TokenError> {
    let row = store
        .token(id)?
        .filter(|t| owner.is_none_or(|o| o == t.user))
        .ok_or(TokenError::UnknownToken(id))?;
    if !row.is_active() {
        return Err(TokenError::AlreadyRevoked(id));
    }
    if store.revoke_token(id, actor, now)? {
        Ok(store.token(id)?.unwrap_or(row))
    } else {
        Err(TokenError::AlreadyRevoked(id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{Duration, TimeZone as _};

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    fn store_with(users: &[(&str, UserRole)]) -> Store {
        let mut s = Store::in_memory().unwrap();
        for (name, role) in users {
            // A real hash costs a second: the table only wants its shape.
            assert!(
                s.add_user(name, *role, "$argon2id$test", "cli:test", t0())
                    .unwrap()
            );
        }
        s
    }

    #[test]
    fn tokens_are_random_256_bit_and_only_their_hash_is_stored() {
        let mut s = store_with(&[("alice", UserRole::Security)]);
        let (id, token) = create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()).unwrap();
        assert!(well_formed(&token), "{token}");
        assert_ne!(token, new_token());
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // The store holds the hash, never the token.
        let stored: Vec<String> = s
            .raw_token_hashes()
            .unwrap()
            .into_iter()
            .map(|(i, h)| {
                assert_eq!(i, id);
                h
            })
            .collect();
        assert_eq!(stored, [hash(&token)]);
        assert!(!stored.contains(&token));
        let owner = s
            .token_owner(&hash(&token), TokenKind::Feed)
            .unwrap()
            .unwrap();
        assert_eq!(
            (owner.id, owner.user.as_str(), owner.role),
            (id, "alice", UserRole::Security)
        );
        assert!(owner.may_use(TokenKind::Feed));
        // The token itself, or a hash of something else, opens nothing.
        assert_eq!(s.token_owner(&token, TokenKind::Feed).unwrap(), None);
        assert_eq!(
            s.token_owner(&hash(&new_token()), TokenKind::Feed).unwrap(),
            None
        );
    }

    #[test]
    fn a_token_opens_only_what_its_kind_opens() {
        let mut s = store_with(&[("alice", UserRole::Staff)]);
        let (_, feed) = create(&mut s, "alice", TokenKind::Feed, "cal", "alice", t0()).unwrap();
        let (_, api) = create(&mut s, "alice", TokenKind::Api, "script", "alice", t0()).unwrap();
        assert!(
            s.token_owner(&hash(&feed), TokenKind::Feed)
                .unwrap()
                .is_some()
        );
        assert!(
            s.token_owner(&hash(&feed), TokenKind::Api)
                .unwrap()
                .is_none()
        );
        assert!(
            s.token_owner(&hash(&api), TokenKind::Api)
                .unwrap()
                .is_some()
        );
        assert!(
            s.token_owner(&hash(&api), TokenKind::Feed)
                .unwrap()
                .is_none()
        );
        assert_eq!("feed".parse::<TokenKind>().unwrap(), TokenKind::Feed);
        assert_eq!("api".parse::<TokenKind>().unwrap(), TokenKind::Api);
        let e = "session".parse::<TokenKind>().unwrap_err().to_string();
        assert!(e.contains("feed or api"), "{e}");
        assert!("API".parse::<TokenKind>().is_err());
    }

    #[test]
    fn a_revoked_token_opens_nothing_and_is_logged() {
        let mut s = store_with(&[("alice", UserRole::Security), ("bob", UserRole::Staff)]);
        let (id, token) = create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()).unwrap();
        // Bob cannot revoke Alice's token from his account page: it is not found for him.
        assert!(matches!(
            revoke(&mut s, id, Some("bob"), "bob", t0()),
            Err(TokenError::UnknownToken(i)) if i == id
        ));
        assert!(
            s.token_owner(&hash(&token), TokenKind::Feed)
                .unwrap()
                .is_some()
        );
        let later = t0() + Duration::minutes(5);
        let row = revoke(&mut s, id, Some("alice"), "alice", later).unwrap();
        assert_eq!(row.revoked_at, Some(later));
        assert_eq!(row.revoked_by.as_deref(), Some("alice"));
        assert!(!row.is_active());
        assert_eq!(s.token_owner(&hash(&token), TokenKind::Feed).unwrap(), None);
        assert!(matches!(
            revoke(&mut s, id, None, "cli:root", later),
            Err(TokenError::AlreadyRevoked(_))
        ));
        assert!(matches!(
            revoke(&mut s, 999, None, "cli:root", later),
            Err(TokenError::UnknownToken(999))
        ));
        // Still listed, as revoked.
        let listed = s.tokens(Some("alice")).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].is_active());
        let log: Vec<(String, String, String, String)> = s
            .actions(10)
            .unwrap()
            .into_iter()
            .rev()
            .filter(|a| a.kind.starts_with("token_"))
            .map(|a| (a.actor, a.kind, a.subject, a.detail))
            .collect();
        assert_eq!(
            log,
            [
                (
                    "alice".to_string(),
                    "token_created".to_string(),
                    "alice".to_string(),
                    format!("feed token {id}")
                ),
                (
                    "alice".to_string(),
                    "token_revoked".to_string(),
                    "alice".to_string(),
                    format!("feed token {id}")
                ),
            ]
        );
    }

    #[test]
    fn removing_a_user_revokes_their_tokens_and_a_new_user_of_that_name_inherits_none() {
        let mut s = store_with(&[("alice", UserRole::Security)]);
        let (_, a) = create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()).unwrap();
        let (_, b) = create(&mut s, "alice", TokenKind::Api, "", "cli:root", t0()).unwrap();
        crate::accounts::remove_user(&mut s, "alice", "cli:root", t0() + Duration::hours(1))
            .unwrap();
        assert!(s.tokens(Some("alice")).unwrap().iter().all(|t| {
            t.revoked_by.as_deref() == Some("cli:root")
                && t.revoked_at == Some(t0() + Duration::hours(1))
        }));
        let revoked = s
            .actions(20)
            .unwrap()
            .into_iter()
            .filter(|a| a.kind == "token_revoked" && a.actor == "cli:root")
            .count();
        assert_eq!(revoked, 2);
        assert!(
            s.add_user(
                "alice",
                UserRole::Admin,
                "$argon2id$x",
                "cli:root",
                t0() + Duration::hours(2)
            )
            .unwrap()
        );
        for (t, k) in [(&a, TokenKind::Feed), (&b, TokenKind::Api)] {
            assert_eq!(s.token_owner(&hash(t), k).unwrap(), None);
        }
        // A token the store still had unrevoked from before the new user (an old copy of the
        // row, or a removal from outside intake) opens nothing either.
        s.unrevoke_for_test(&hash(&a)).unwrap();
        assert_eq!(s.token_owner(&hash(&a), TokenKind::Feed).unwrap(), None);
        assert!(create(&mut s, "nobody", TokenKind::Feed, "", "cli:root", t0()).is_err());
    }

    #[test]
    fn the_owner_role_is_read_now_and_labels_are_bounded() {
        let mut s = store_with(&[("alice", UserRole::Security)]);
        let (_, t) = create(
            &mut s,
            "alice",
            TokenKind::Api,
            " my\u{202e} laptop ",
            "alice",
            t0(),
        )
        .unwrap();
        assert_eq!(s.tokens(None).unwrap()[0].label, "my laptop");
        let o = s.token_owner(&hash(&t), TokenKind::Api).unwrap().unwrap();
        assert_eq!(o.role, UserRole::Security);
        assert!(matches!(
            create(
                &mut s,
                "alice",
                TokenKind::Api,
                &"x".repeat(65),
                "alice",
                t0()
            ),
            Err(TokenError::LongLabel)
        ));
        assert!(clean_label(&"ü".repeat(64)).is_ok());
    }

    #[test]
    fn a_user_holds_a_bounded_number_per_kind_and_use_is_recorded() {
        let mut s = store_with(&[("alice", UserRole::Staff)]);
        let mut last = None;
        for _ in 0..MAX_ACTIVE_PER_KIND {
            last = Some(create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()).unwrap());
        }
        assert!(matches!(
            create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()),
            Err(TokenError::TooMany { .. })
        ));
        // Another kind is counted apart, and a revoked token frees its place.
        create(&mut s, "alice", TokenKind::Api, "", "alice", t0()).unwrap();
        let (id, token) = last.unwrap();
        revoke(&mut s, id, None, "alice", t0()).unwrap();
        create(&mut s, "alice", TokenKind::Feed, "", "alice", t0()).unwrap();
        // Use.
        let (id, token2) = create(&mut s, "alice", TokenKind::Api, "", "alice", t0()).unwrap();
        assert!(
            s.token_owner(&hash(&token), TokenKind::Feed)
                .unwrap()
                .is_none()
        );
        let used = t0() + Duration::minutes(3);
        s.token_used(id, used).unwrap();
        let o = s
            .token_owner(&hash(&token2), TokenKind::Api)
            .unwrap()
            .unwrap();
        assert_eq!(o.last_used_at, Some(used));
        assert_eq!(s.token(id).unwrap().unwrap().last_used_at, Some(used));
    }

    #[test]
    fn well_formed_is_64_lowercase_hex() {
        assert!(well_formed(&"a".repeat(64)));
        assert!(!well_formed(&"A".repeat(64)));
        assert!(!well_formed(&"a".repeat(63)));
        assert!(!well_formed(&"g".repeat(64)));
        assert!(!well_formed(""));
    }
}
