//! What the security team holds, kept in memory for the calendar, the feed and the lookup:
//! reading 10,000 held requests from the store takes tens of milliseconds (one JSON record
//! each), the scan over them a tenth of one. The requests are read again only when one of
//! them was written since (a counter the store's triggers move, migration 10), on a
//! read-only connection of its own. The same connection answers the token checks of the
//! feed and the API, so a valid token costs one indexed read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};

use crate::conversation::RequestRecord;
use crate::store::StoreReader;
use crate::tokens::{TokenKind, TokenOwner};

/// The held requests and the read-only connection they come from.
#[derive(Default)]
pub struct Held {
    slot: Mutex<Option<Slot>>,
}

struct Slot {
    path: PathBuf,
    reader: StoreReader,
    /// The requests' version when `requests` was read.
    version: i64,
    requests: Option<Arc<Vec<RequestRecord>>>,
}

impl Held {
    /// Runs `f` on the connection to the store at `path` (opened on first use, and again
    /// after an error). Blocking: call it on a blocking thread.
    fn with<T>(&self, path: &Path, f: impl FnOnce(&mut Slot) -> Result<T>) -> Result<T> {
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_ref().is_none_or(|s| s.path != path) {
            *slot = Some(Slot {
                path: path.to_path_buf(),
                reader: StoreReader::open(path)?,
                version: 0,
                requests: None,
            });
        }
        let s = slot.as_mut().context("the held requests' connection")?;
        let out = f(s);
        if out.is_err() {
            *slot = None;
        }
        out
    }

    /// Every request the security team holds (state `accepted`, or `review` after an
    /// acceptance), read again when the store changed.
    pub fn requests(&self, path: &Path) -> Result<Arc<Vec<RequestRecord>>> {
        self.with(path, |s| {
            let version = s.reader.requests_version()?;
            if let Some(r) = &s.requests
                && version == s.version
            {
                return Ok(r.clone());
            }
            // The version is read before the rows: a commit in between is read again next
            // time.
            let fresh = Arc::new(s.reader.held_requests()?);
            s.version = version;
            s.requests = Some(fresh.clone());
            Ok(fresh)
        })
    }

    /// Whom the token with this hash opens `kind` for (see [`StoreReader::token_owner`]).
    pub fn token_owner(
        &self,
        path: &Path,
        token_hash: &str,
        kind: TokenKind,
    ) -> Result<Option<TokenOwner>> {
        self.with(path, |s| s.reader.token_owner(token_hash, kind))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;
    use crate::conversation::State;
    use crate::store::{Identity, Record, Store};

    fn save(store: &mut Store, r: &RequestRecord, uid: u64) {
        let id = Identity {
            folder: "INBOX".into(),
            uidvalidity: 1,
            uid,
            message_id: None,
            content_hash: format!("{uid:064x}"),
        };
        store
            .record(
                &Record {
                    identity: &id,
                    sender: Some(&r.sender),
                    arrival: r.created_at,
                    decision: "accept",
                    rules_version: "t",
                    verdict_json: "{}",
                    raw: None,
                    request: Some(r),
                },
                &[],
                r.created_at,
            )
            .unwrap();
    }

    #[test]
    fn the_requests_are_read_again_only_when_the_store_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        let held = Held::default();
        assert!(held.requests(&path).unwrap().is_empty());
        let first = crate::web::pages::tests::record(1, State::Accepted, 1, 3);
        save(&mut store, &first, 1);
        let a = held.requests(&path).unwrap();
        assert_eq!(a.len(), 1);
        // Nothing changed: the very same list.
        let b = held.requests(&path).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // Another request, and one that is not held (rejected), change it.
        save(
            &mut store,
            &crate::web::pages::tests::record(2, State::Accepted, 1, 3),
            2,
        );
        save(
            &mut store,
            &crate::web::pages::tests::record(3, State::Rejected, 1, 3),
            3,
        );
        let c = held.requests(&path).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        let mut refs: Vec<&str> = c.iter().map(|r| r.reference.as_str()).collect();
        refs.sort();
        assert_eq!(refs, ["INT-0000000001", "INT-0000000002"]);
        // Other writes (a user, sessions, the outbox) leave the list as it is.
        store
            .add_user(
                "alice",
                crate::accounts::UserRole::Security,
                "$argon2id$x",
                "t",
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            )
            .unwrap();
        assert!(Arc::ptr_eq(&c, &held.requests(&path).unwrap()));
        // A change of a held request is read.
        let mut changed = crate::web::pages::tests::record(2, State::Accepted, 1, 3);
        changed.state = State::Cancelled;
        save(&mut store, &changed, 4);
        let d = held.requests(&path).unwrap();
        assert_eq!(d.len(), 1, "the cancelled one is no longer held");
    }
}
