//! Staff accounts: users with a role and an argon2id password, for the staff console (which
//! comes later) and managed with `intake user`. The rules for names and passwords live here;
//! the rows (and the log of who changed what) in the store.
//!
//! Passwords are hashed with argon2id at the `argon2` crate's default parameters and kept as
//! PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); there is no default password. A login
//! for a name that does not exist is checked against a dummy hash, so the time it takes does
//! not tell which names exist.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::Store;

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters a password may have (bounds the work of hashing what is pasted).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Most characters a user name may have.
pub const MAX_NAME_CHARS: usize = 64;

/// The hash an unknown name's login is checked against: argon2id at the default parameters
/// (a unit test keeps them equal), of a password nobody knows. Checking it costs what
/// checking a real user's hash costs.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$L5rz0P5DFqhcgxqT6P9TxQ$ycaw9rWENxESPznI+LWlh2A2yGzTMW2VTAGKv9IpvLU";

/// What a user may do in the staff console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// The support desk: reads and handles requests.
    Staff,
    /// The security team: reads the approved windows.
    Security,
    /// Everything, including the accounts.
    Admin,
}

impl UserRole {
    pub const ALL: [UserRole; 3] = [UserRole::Staff, UserRole::Security, UserRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Staff => "staff",
            UserRole::Security => "security",
            UserRole::Admin => "admin",
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserRole {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UserRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AccountError::BadRole(s.to_string()))
    }
}

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("`{0}` is not a role: use staff, security or admin")]
    BadRole(String),
    #[error("`{name}` is not a valid user name: {why}")]
    BadName { name: String, why: &'static str },
    #[error("The password is empty")]
    EmptyPassword,
    #[error("The password is too short ({0} characters): it needs at least {MIN_PASSWORD_CHARS}")]
    ShortPassword(usize),
    #[error("The password is too long: at most {MAX_PASSWORD_CHARS} characters")]
    LongPassword,
    #[error("There is no user `{0}`")]
    UnknownUser(String),
    #[error("A user `{0}` exists already")]
    DuplicateUser(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A user name: 1–64 characters of `a-z`, `0-9`, `.`, `_` and `-` (lowercase only).
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let bad = |why| {
        Err(AccountError::BadName {
            name: name.chars().take(80).collect(),
            why,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return bad("it is longer than 64 characters");
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return bad("names are lowercase");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return bad("only a-z, 0-9, '.', '_' and '-' may be used");
    }
    Ok(())
}

/// A new password: not empty, 12 to 1024 characters.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    let n = password.chars().count();
    if n == 0 {
        Err(AccountError::EmptyPassword)
    } else if n < MIN_PASSWORD_CHARS {
        Err(AccountError::ShortPassword(n))
    } else if n > MAX_PASSWORD_CHARS {
        Err(AccountError::LongPassword)
    } else {
        Ok(())
    }
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("Hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `hash` (argon2's constant-time comparison; an
/// unreadable hash never matches).
fn matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The user's role when `password` is theirs; `None` for a wrong password or an unknown
/// name (which costs the same time: a dummy hash is checked).
pub fn verify_password(
    store: &Store,
    name: &str,
    password: &str,
) -> anyhow::Result<Option<UserRole>> {
    // An invalid name cannot exist, but still costs a hash: nothing to learn from timing.
    let found = if check_name(name).is_ok() {
        store.user_credentials(name)?
    } else {
        None
    };
    match found {
        Some((role, hash)) => Ok(matches(password, &hash).then_some(role)),
        None => {
            let _ = matches(password, DUMMY_HASH);
            Ok(None)
        }
    }
}

/// Adds user `name` with `role` and `password` (both checked), logged as done by `actor`.
pub fn add_user(
    store: &mut Store,
    name: &str,
    role: UserRole,
    password: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    check_name(name)?;
    check_password(password)?;
    if store.user_credentials(name)?.is_some() {
        return Err(AccountError::DuplicateUser(name.to_string()));
    }
    let hash = hash_password(password)?;
    if store.add_user(name, role, &hash, actor, now)? {
        Ok(())
    } else {
        Err(AccountError::DuplicateUser(name.to_string()))
    }
}

/// Gives user `name` a new `password` (checked), logged as done by `actor`.
pub fn set_password(
    store: &mut Store,
    name: &str,
    password: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    check_name(name)?;
    check_password(password)?;
    if store.user_credentials(name)?.is_none() {
        return Err(AccountError::UnknownUser(name.to_string()));
    }
    let hash = hash_password(password)?;
    if store.set_password_hash(name, &hash, actor, now)? {
        Ok(())
    } else {
        Err(AccountError::UnknownUser(name.to_string()))
    }
}

/// Removes user `name` and revokes their feed and API tokens, logged as done by `actor`.
pub fn remove_user(
    store: &mut Store,
    name: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    check_name(name)?;
    if store.remove_user_and_tokens(name, actor, now)? {
        Ok(())
    } else {
        Err(AccountError::UnknownUser(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    const PW: &str = "correct horse battery";

    #[test]
    fn a_hash_is_argon2id_at_the_default_parameters_and_round_trips() {
        let h = hash_password(PW).unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(!h.contains(PW));
        assert!(matches(PW, &h));
        assert!(!matches("correct horse battery!", &h));
        assert!(!matches("", &h));
        // A fresh salt each time.
        assert_ne!(h, hash_password(PW).unwrap());
        assert!(!matches(PW, "not a phc string"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_s = hash_password(PW).unwrap();
        let real = PasswordHash::new(&real_s).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params.to_string(), real.params.to_string());
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
    }

    #[test]
    fn verify_knows_the_right_password_only() {
        let mut s = Store::in_memory().unwrap();
        add_user(&mut s, "alice", UserRole::Security, PW, "cli:test", t0()).unwrap();
        assert_eq!(
            verify_password(&s, "alice", PW).unwrap(),
            Some(UserRole::Security)
        );
        assert_eq!(
            verify_password(&s, "alice", "wrong password!!").unwrap(),
            None
        );
        assert_eq!(
            verify_password(&s, "bob", PW).unwrap(),
            None,
            "unknown user"
        );
        assert_eq!(
            verify_password(&s, "Alice", PW).unwrap(),
            None,
            "names are exact"
        );
        assert_eq!(verify_password(&s, "", PW).unwrap(), None);
        set_password(&mut s, "alice", "another long secret", "cli:test", t0()).unwrap();
        assert_eq!(verify_password(&s, "alice", PW).unwrap(), None);
        assert_eq!(
            verify_password(&s, "alice", "another long secret").unwrap(),
            Some(UserRole::Security)
        );
        remove_user(&mut s, "alice", "cli:test", t0()).unwrap();
        assert_eq!(
            verify_password(&s, "alice", "another long secret").unwrap(),
            None
        );
    }

    #[test]
    fn add_passwd_remove_refuse_what_does_not_fit_and_log_what_they_do() {
        let mut s = Store::in_memory().unwrap();
        add_user(&mut s, "alice", UserRole::Staff, PW, "cli:root", t0()).unwrap();
        assert!(matches!(
            add_user(&mut s, "alice", UserRole::Admin, PW, "cli:root", t0()),
            Err(AccountError::DuplicateUser(n)) if n == "alice"
        ));
        assert!(matches!(
            set_password(&mut s, "bob", PW, "cli:root", t0()),
            Err(AccountError::UnknownUser(_))
        ));
        assert!(matches!(
            remove_user(&mut s, "bob", "cli:root", t0()),
            Err(AccountError::UnknownUser(_))
        ));
        assert!(matches!(
            add_user(&mut s, "bob", UserRole::Staff, "short", "cli:root", t0()),
            Err(AccountError::ShortPassword(5))
        ));
        assert!(matches!(
            set_password(&mut s, "alice", "", "cli:root", t0()),
            Err(AccountError::EmptyPassword)
        ));
        set_password(&mut s, "alice", "a new long password", "cli:root", t0()).unwrap();
        add_user(&mut s, "bob.b", UserRole::Admin, PW, "cli:root", t0()).unwrap();
        remove_user(&mut s, "alice", "cli:root", t0()).unwrap();
        let users = s.users().unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].name, "bob.b");
        assert_eq!(users[0].role, UserRole::Admin);
        let log: Vec<(String, String, String)> = s
            .actions(10)
            .unwrap()
            .into_iter()
            .rev()
            .map(|a| (a.kind, a.subject, a.detail))
            .collect();
        let want = [
            ("user_added", "alice", "staff"),
            ("user_password_changed", "alice", ""),
            ("user_added", "bob.b", "admin"),
            ("user_removed", "alice", "staff"),
        ];
        assert_eq!(
            log.len(),
            want.len(),
            "refused operations log nothing: {log:?}"
        );
        for ((k, sub, d), (wk, ws, wd)) in log.iter().zip(want) {
            assert_eq!((k.as_str(), sub.as_str(), d.as_str()), (wk, ws, wd));
        }
        assert!(s.actions(10).unwrap().iter().all(|a| a.actor == "cli:root"));
    }

    #[test]
    fn name_rules() {
        for ok in ["alice", "a", "bob.smith", "ops_1", "x-y", &"a".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            (&"a".repeat(65) as &str, "longer than 64"),
            ("Alice", "lowercase"),
            ("al ice", "only a-z"),
            ("alice@example.ch", "only a-z"),
            ("cli:root", "only a-z"),
            ("zoë", "only a-z"),
            ("al\nice", "only a-z"),
        ] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn password_rules() {
        assert!(matches!(
            check_password(""),
            Err(AccountError::EmptyPassword)
        ));
        assert!(matches!(
            check_password("elevenchars"),
            Err(AccountError::ShortPassword(11))
        ));
        // Characters, not bytes: 11 umlauts are 22 bytes but still too short.
        assert!(matches!(
            check_password(&"ü".repeat(11)),
            Err(AccountError::ShortPassword(11))
        ));
        assert!(check_password("twelve chars").is_ok());
        assert!(check_password(&"x".repeat(1024)).is_ok());
        assert!(matches!(
            check_password(&"x".repeat(1025)),
            Err(AccountError::LongPassword)
        ));
        let e = check_password("short").unwrap_err().to_string();
        assert!(e.contains("at least 12"), "{e}");
    }

    #[test]
    fn roles_parse_and_print() {
        for r in UserRole::ALL {
            assert_eq!(r.as_str().parse::<UserRole>().unwrap(), r);
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::from(r.as_str())
            );
        }
        let e = "root".parse::<UserRole>().unwrap_err().to_string();
        assert!(e.contains("staff, security or admin"), "{e}");
        assert!("Admin".parse::<UserRole>().is_err());
    }

    #[test]
    fn the_store_refuses_rows_that_break_the_rules() {
        let mut s = Store::in_memory().unwrap();
        // The table's CHECKs are a second line behind check_name and hash_password.
        assert!(
            s.add_user("Bad Name", UserRole::Staff, "$argon2id$x", "t", t0())
                .is_err()
        );
        assert!(
            s.add_user("ok", UserRole::Staff, "plaintext", "t", t0())
                .is_err()
        );
        assert!(s.users().unwrap().is_empty());
        assert!(s.actions(10).unwrap().is_empty());
    }
}
