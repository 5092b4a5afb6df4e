//! The SQLite store: which messages were decided, their verdicts, the outbox of replies
//! they cause, the mailbox position, and per-sender reply counts.
//!
//! Exactly-once rests on two rules. A verdict and every message it causes are written in one
//! transaction, before anything is sent; a message already decided is never decided again.
//! And the moment a message's content starts going to the mail server is written down (the
//! hand-over) before it happens: after a crash, an unsent row without a hand-over is sent
//! again safely, while a customer reply with one may have been delivered, so it is given to
//! staff instead of being sent a second time.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::UserRole;
use crate::conversation::RequestRecord;
use crate::domain::{domain_of, normalize_address, org_domain};
use crate::render::compose::{Outgoing, Role};

/// Numbered migrations, one `.sql` file each in `migrations/`; `user_version` says how many
/// ran. A migration is never edited once shipped: a change is a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_messages_outbox_position.sql"),
    include_str!("../migrations/0002_hand_over_time.sql"),
    include_str!("../migrations/0003_outbox_content.sql"),
    include_str!("../migrations/0004_reply_index.sql"),
    include_str!("../migrations/0005_reply_log.sql"),
    include_str!("../migrations/0006_requests.sql"),
    include_str!("../migrations/0007_digests.sql"),
    include_str!("../migrations/0008_users.sql"),
    include_str!("../migrations/0009_sessions.sql"),
    include_str!("../migrations/0010_outbox_in_doubt.sql"),
    include_str!("../migrations/0011_tokens.sql"),
];

/// Replies queued to one normalized address (`?1`) since `?2`; see `reply_log_address`.
const REPLIES_TO_ADDRESS: &str =
    "SELECT count(*) FROM reply_log WHERE address = ?1 AND created_at >= ?2";
/// Replies queued to one organizational domain (`?1`) since `?2`; see `reply_log_org`.
const REPLIES_TO_ORG: &str =
    "SELECT count(*) FROM reply_log WHERE org_domain = ?1 AND created_at >= ?2";
/// All replies queued since `?1`; see `reply_log_time`.
const REPLIES_SINCE: &str = "SELECT count(*) FROM reply_log WHERE created_at >= ?1";
/// Outbox rows neither sent nor given up.
const UNSENT_COUNT: &str = "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed IS NULL";

/// A handle on the store file.
pub struct Store {
    conn: Connection,
    path: std::path::PathBuf,
    /// Held (with an exclusive lock) while the store is open: one intake per store.
    _lock: Option<std::fs::File>,
}

/// A second connection to the store, only for recording hand-overs. It can be shared between
/// the sends in flight (the main connection cannot: it is not `Sync`).
pub struct HandOverLog {
    conn: std::sync::Mutex<Connection>,
}

impl HandOverLog {
    /// Durably records that the content of outbox row `id` is about to go to the server.
    pub fn record(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("the hand-over log's lock is poisoned"))?;
        conn.execute(
            "UPDATE outbox SET handed_over_at = ?2 WHERE id = ?1",
            params![id, ts(now)],
        )
        .context("Recording a hand-over")?;
        Ok(())
    }
}

/// A message's identity in its mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Folder (IMAP) or Maildir path.
    pub folder: String,
    /// IMAP UIDVALIDITY; 0 for a Maildir.
    pub uidvalidity: u32,
    /// IMAP UID; for a Maildir, a number derived from the file name.
    pub uid: u64,
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes, hex.
    pub content_hash: String,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub identity: &'a Identity,
    pub sender: Option<&'a str>,
    pub arrival: DateTime<Utc>,
    pub decision: &'a str,
    pub rules_version: &'a str,
    pub verdict_json: &'a str,
    /// The message as received, kept so it can be shown and rendered again.
    pub raw: Option<&'a [u8]>,
    /// The request the message created or changed, as it is after it.
    pub request: Option<&'a RequestRecord>,
}

/// What the store says about a message before it is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    New,
    /// Decided before (same mailbox position, or same Message-ID and content after a
    /// UIDVALIDITY change): its decision.
    Decided(String),
}

/// An outbox row waiting to be sent.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub role: Role,
    pub sender: String,
    pub recipient: String,
    pub out_message_id: String,
    pub raw: Vec<u8>,
    pub attempts: u32,
    pub message: i64,
}

/// Where intake stands in a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub uidvalidity: u32,
    pub last_uid: u64,
    pub answer_since: DateTime<Utc>,
}

impl Store {
    /// Opens (creating if needed) the store and runs pending migrations. WAL journal,
    /// `synchronous=FULL`: a committed decision survives a crash or power loss.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("Creating the store folder {}", dir.display()))?;
        }
        // Two processes on one store would send the same rows, and each would take the
        // other's sends in flight for a crash's leftovers.
        let lock_path = std::path::PathBuf::from(format!("{}.lock", path.display()));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("Opening the lock file {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "Another intake is already using the store {} (it holds {}); stop it first",
                path.display(),
                lock_path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("Locking {}", lock_path.display()));
            }
        }
        let conn = connect(path)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            _lock: Some(lock),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens (creating if needed) the store without taking the one-intake lock, for the
    /// commands that neither decide nor send (`intake user`, `intake lookup`): they work
    /// beside a running `intake watch`. WAL lets them read while it writes; their own writes
    /// (accounts) wait for its transactions through the busy timeout.
    pub fn open_shared(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("Creating the store folder {}", dir.display()))?;
        }
        let conn = connect(path)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            _lock: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// A store in memory, gone when dropped: for `intake replay`, which runs a conversation
    /// through the whole lifecycle without touching the real store.
    pub fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().context("Opening an in-memory store")?;
        let mut store = Store {
            conn,
            path: std::path::PathBuf::new(),
            _lock: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// A second connection for recording hand-overs while sends are in flight.
    pub fn hand_over_log(&self) -> Result<HandOverLog> {
        let conn = connect(&self.path)?;
        // It writes on the runtime thread: better a quick failure (the send then waits and
        // is retried) than a long stall of everything else.
        conn.busy_timeout(std::time::Duration::from_secs(1))
            .context("Setting the busy timeout")?;
        Ok(HandOverLog {
            conn: std::sync::Mutex::new(conn),
        })
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .context("Reading the store's schema version")?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            bail!("The store has schema version {version}, newer than this intake knows ({known})");
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().context("Starting a migration")?;
            tx.execute_batch(sql)
                .with_context(|| format!("Running store migration {}", i + 1))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .context("Recording the schema version")?;
            tx.commit().context("Committing a migration")?;
        }
        Ok(())
    }

    /// The requests whose thread holds any of `ids` (the newest first), or, when none does,
    /// whose reference is among `references`. Several: the message names more than one.
    pub fn find_requests(
        &self,
        ids: &[String],
        references: &[String],
    ) -> Result<Vec<RequestRecord>> {
        let mut found: Vec<RequestRecord> = Vec::new();
        let mut by_id = self
            .conn
            .prepare_cached(
                "SELECT r.record FROM request_ids i JOIN requests r ON r.reference = i.reference
                 WHERE i.message_id = ?1",
            )
            .context("Preparing a thread lookup")?;
        let mut by_ref = self
            .conn
            .prepare_cached("SELECT record FROM requests WHERE reference = ?1")
            .context("Preparing a reference lookup")?;
        // Bounded: a hostile References header may name thousands of ids.
        for id in ids.iter().rev().take(64) {
            let json: Option<String> = by_id
                .query_row(params![id], |row| row.get(0))
                .optional()
                .context("Looking up a thread")?;
            if let Some(j) = json {
                let r = read_request(&j)?;
                if !found.iter().any(|f| f.reference == r.reference) {
                    found.push(r);
                }
            }
        }
        if found.is_empty() {
            for reference in references.iter().take(4) {
                let json: Option<String> = by_ref
                    .query_row(params![reference], |row| row.get(0))
                    .optional()
                    .context("Looking up a reference")?;
                if let Some(j) = json {
                    let r = read_request(&j)?;
                    if !found.iter().any(|f| f.reference == r.reference) {
                        found.push(r);
                    }
                }
            }
        }
        found.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
        Ok(found)
    }

    /// The slot of the last digest recorded (sent, or skipped on the first start).
    pub fn last_digest(&self) -> Result<Option<DateTime<Utc>>> {
        let slot: Option<String> = self
            .conn
            .query_row("SELECT max(slot) FROM digests", [], |r| r.get(0))
            .context("Reading the last digest")?;
        Ok(slot
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Records the digest of `slot` and queues its message (`None`: the slot is skipped, as
    /// on the first start), in one transaction: a slot is never sent twice.
    pub fn record_digest(
        &mut self,
        slot: DateTime<Utc>,
        message: Option<&Outgoing>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        tx.execute(
            "INSERT INTO digests (slot, sent, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (slot) DO NOTHING",
            params![ts(slot), message.is_some(), ts(now)],
        )
        .context("Recording a digest")?;
        if tx.changes() == 1
            && let Some(o) = message
        {
            let identity = Identity {
                folder: "digest".into(),
                uidvalidity: 0,
                uid: u64::try_from(slot.timestamp()).unwrap_or(0),
                message_id: Some(o.message_id.clone()),
                content_hash: format!("digest:{}", ts(slot)),
            };
            let id = insert_message(
                &tx,
                &Record {
                    identity: &identity,
                    sender: None,
                    arrival: slot,
                    decision: "digest",
                    rules_version: crate::decide::RULES_VERSION,
                    verdict_json: "{}",
                    raw: None,
                    request: None,
                },
                now,
            )?;
            insert_outbox(&tx, id, o, now)?;
        }
        tx.commit().context("Committing a digest")?;
        Ok(())
    }

    /// Every request with an accepted window (the digest's candidates), bounded.
    pub fn requests_with_windows(&self, limit: u32) -> Result<Vec<RequestRecord>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT record FROM requests WHERE state IN ('accepted', 'review', 'cancelled')
                 ORDER BY updated_at DESC LIMIT ?1",
            )
            .context("Preparing the digest query")?;
        let rows = st
            .query_map(params![limit], |row| row.get::<_, String>(0))
            .context("Listing requests for the digest")?;
        let mut out = Vec::new();
        for j in rows {
            out.push(read_request(&j.context("Reading a request row")?)?);
        }
        Ok(out)
    }

    /// The request with this reference.
    pub fn request(&self, reference: &str) -> Result<Option<RequestRecord>> {
        Ok(self
            .find_requests(&[], &[reference.to_string()])?
            .into_iter()
            .next())
    }

    /// The newest open requests (incomplete, rejected, accepted) of an organization, at most
    /// `limit`: where a resent notification is found.
    pub fn open_requests(&self, org: &str, limit: u32) -> Result<Vec<RequestRecord>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT record FROM requests WHERE org_domain = ?1
                 AND state IN ('incomplete', 'rejected', 'accepted')
                 ORDER BY updated_at DESC LIMIT ?2",
            )
            .context("Preparing the open requests query")?;
        let rows = st
            .query_map(params![org, limit], |row| row.get::<_, String>(0))
            .context("Listing open requests")?;
        let mut out = Vec::new();
        for j in rows {
            out.push(read_request(&j.context("Reading a request row")?)?);
        }
        Ok(out)
    }

    /// The messages recorded for a request, oldest first: (arrival, decision, verdict JSON).
    pub fn request_messages(&self, reference: &str) -> Result<Vec<(String, String, String)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT arrival, decision, verdict FROM messages WHERE request = ?1 ORDER BY id",
            )
            .context("Preparing the request's messages query")?;
        let rows = st
            .query_map(params![reference], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .context("Listing a request's messages")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("Reading a request's messages")
    }

    /// The bytes of a decided message, as received.
    pub fn message_raw(&self, message: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT raw FROM message_raw WHERE message = ?1",
                params![message],
                |r| r.get(0),
            )
            .optional()
            .context("Reading a message's bytes")
    }

    /// Whether `id` was decided before, by position or by Message-ID and content.
    pub fn seen(&self, id: &Identity) -> Result<Seen> {
        let by_position: Option<String> = self
            .conn
            .query_row(
                "SELECT decision FROM messages WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3",
                params![id.folder, id.uidvalidity, id.uid as i64],
                |r| r.get(0),
            )
            .optional()
            .context("Looking up a message by position")?;
        if let Some(d) = by_position {
            return Ok(Seen::Decided(d));
        }
        let by_content: Option<String> = self
            .conn
            .query_row(
                "SELECT decision FROM messages WHERE content_hash = ?1 AND message_id IS ?2 LIMIT 1",
                params![id.content_hash, id.message_id],
                |r| r.get(0),
            )
            .optional()
            .context("Looking up a message by content")?;
        Ok(by_content.map_or(Seen::New, Seen::Decided))
    }

    /// Starts a batch: what is recorded until [`Store::commit_batch`] is committed together,
    /// with one sync to disk instead of one per decision. Nothing may be sent before the
    /// commit. Dropping the store without it rolls the batch back.
    pub fn begin_batch(&self) -> Result<()> {
        if !self.conn.is_autocommit() {
            // A batch left open by an error: nothing of it was sent or tagged, so it is
            // dropped and its messages are decided again.
            self.conn
                .execute_batch("ROLLBACK")
                .context("Rolling back an unfinished batch")?;
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .context("Starting a batch")
    }

    /// Commits the batch started by [`Store::begin_batch`].
    pub fn commit_batch(&self) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .context("Committing a batch")
    }

    /// Records a decision and queues the messages it causes, in one transaction.
    /// Returns the message's row id.
    pub fn record(
        &mut self,
        rec: &Record<'_>,
        outgoing: &[Outgoing],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        // A savepoint: its own transaction, or part of the batch around it.
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let id = insert_message(&tx, rec, now)?;
        if let Some(raw) = rec.raw {
            tx.execute(
                "INSERT INTO message_raw (message, raw) VALUES (?1, ?2)",
                params![id, raw],
            )
            .context("Keeping a message's bytes")?;
        }
        if let Some(r) = rec.request {
            save_request(&tx, r)?;
            tx.execute(
                "UPDATE messages SET request = ?1 WHERE id = ?2",
                params![r.reference, id],
            )
            .context("Linking a message to its request")?;
        }
        for o in outgoing {
            insert_outbox(&tx, id, o, now)?;
        }
        tx.commit().context("Committing a decision")?;
        Ok(id)
    }

    /// Records a mailbox position holding a message decided before under another position
    /// (same Message-ID and content): same decision and verdict, nothing queued.
    pub fn record_duplicate(&self, id: &Identity) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO messages (folder, uidvalidity, uid, message_id, content_hash, sender, arrival, decided_at, decision, rules_version, verdict)
                 SELECT ?1, ?2, ?3, message_id, content_hash, sender, arrival, decided_at, decision, rules_version, verdict
                 FROM messages WHERE content_hash = ?4 AND message_id IS ?5 LIMIT 1
                 ON CONFLICT (folder, uidvalidity, uid) DO NOTHING",
                params![id.folder, id.uidvalidity, id.uid as i64, id.content_hash, id.message_id],
            )
            .context("Recording a known message at a new position")?;
        Ok(())
    }

    /// The decision recorded at a mailbox position (for tests: the service knows each
    /// decision when it makes or finds it).
    #[cfg(test)]
    pub fn decision_at(&self, folder: &str, uidvalidity: u32, uid: u64) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT decision FROM messages WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3",
                params![folder, uidvalidity, uid as i64],
                |r| r.get(0),
            )
            .optional()
            .context("Reading a decision")
    }

    /// Outbox rows due for sending at `now`, oldest first.
    pub fn pending(&self, now: DateTime<Utc>) -> Result<Vec<Pending>> {
        self.select_pending(
            "SELECT id, role, sender, recipient, out_message_id, c.raw, attempts, message
             FROM outbox JOIN outbox_content c ON c.outbox = outbox.id
             WHERE sent_at IS NULL AND failed IS NULL AND next_attempt_at <= ?1 ORDER BY id",
            params![ts(now)],
        )
    }

    fn select_pending(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Pending>> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .context("Preparing the outbox query")?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(Pending {
                    id: r.get(0)?,
                    role: {
                        let text: String = r.get(1)?;
                        Role::parse(&text).ok_or_else(|| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                format!("unknown outbox role `{text}`").into(),
                            )
                        })?
                    },
                    sender: r.get(2)?,
                    recipient: r.get(3)?,
                    out_message_id: r.get(4)?,
                    raw: r.get(5)?,
                    attempts: r.get::<_, i64>(6)?.try_into().unwrap_or(u32::MAX),
                    message: r.get(7)?,
                })
            })
            .context("Reading the outbox")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("Reading the outbox")
    }

    /// How many outbox rows are neither sent nor failed.
    pub fn unsent_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(UNSENT_COUNT, [], |r| r.get(0))
            .context("Counting the outbox")?;
        Ok(n.try_into().unwrap_or(0))
    }

    /// When the next unsent row is due, if any.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let t: Option<String> = self
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND failed IS NULL",
                [],
                |r| r.get(0),
            )
            .context("Reading the outbox")?;
        Ok(t.and_then(|s| {
            DateTime::parse_from_rfc3339(&s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }))
    }

    /// Marks the rows `ids` sent, in one transaction.
    pub fn mark_sent_all(&self, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .unchecked_transaction()
            .context("Starting a transaction")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                )
                .context("Preparing to mark messages sent")?;
            let now = ts(now);
            for id in ids {
                stmt.execute(params![id, now])
                    .context("Marking a message sent")?;
            }
        }
        tx.commit().context("Committing sent messages")?;
        Ok(())
    }

    /// A temporary failure, known not to have delivered the message: try again after
    /// `retry_in`. The hand-over is cleared, as nothing was delivered.
    pub fn mark_retry(&self, id: i64, now: DateTime<Utc>, retry_in: Duration) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, handed_over_at = NULL WHERE id = ?1",
                params![id, ts(now + retry_in)],
            )
            .context("Scheduling a retry")?;
        Ok(())
    }

    /// Stops sending row `id` for `reason` (a permanent failure, or a reply in doubt: never
    /// retried) and, in the same transaction, queues `notice`
    /// (to staff) for the row's decision: a crash cannot leave the one without the other.
    pub fn give_up(
        &self,
        id: i64,
        reason: &str,
        in_doubt: bool,
        notice: Option<&Outgoing>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self
            .conn
            .unchecked_transaction()
            .context("Starting a transaction")?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, failed = ?2, in_doubt = ?3 WHERE id = ?1",
            params![id, reason, in_doubt],
        )
        .context("Marking a message failed")?;
        if let Some(o) = notice {
            let message: i64 = tx
                .query_row("SELECT message FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .context("Reading a message's decision")?;
            insert_outbox(&tx, message, o, now)?;
        }
        tx.commit().context("Committing a failure")?;
        Ok(())
    }

    /// Customer replies handed to the mail server but never confirmed sent: a previous run
    /// stopped (crash, kill, power loss) while sending them, so they may have been delivered.
    pub fn replies_in_doubt(&self) -> Result<Vec<Pending>> {
        self.select_pending(
            "SELECT id, role, sender, recipient, out_message_id, c.raw, attempts, message
             FROM outbox JOIN outbox_content c ON c.outbox = outbox.id
             WHERE sent_at IS NULL AND failed IS NULL AND handed_over_at IS NOT NULL AND role = 'reply'
             ORDER BY id",
            [],
        )
    }

    /// Customer replies queued since `since` to `address` (any case, any `+tag`): the loop
    /// breaker's count per address.
    pub fn replies_to(&self, address: &str, since: DateTime<Utc>) -> Result<u32> {
        self.count(
            REPLIES_TO_ADDRESS,
            params![normalize_address(address), ts(since)],
        )
    }

    /// Customer replies queued since `since` to any address in the organizational domain
    /// of `address`.
    pub fn replies_to_org(&self, address: &str, since: DateTime<Utc>) -> Result<u32> {
        self.count(REPLIES_TO_ORG, params![org_of_address(address), ts(since)])
    }

    /// Customer replies queued since `since`, to anyone.
    pub fn replies_since(&self, since: DateTime<Utc>) -> Result<u32> {
        self.count(REPLIES_SINCE, params![ts(since)])
    }

    fn count(&self, sql: &str, args: impl rusqlite::Params) -> Result<u32> {
        let n: i64 = self
            .conn
            .prepare_cached(sql)
            .context("Preparing a reply count")?
            .query_row(args, |r| r.get(0))
            .context("Counting replies")?;
        Ok(n.try_into().unwrap_or(u32::MAX))
    }

    /// Whether another message with Message-ID `message_id` but other content was recorded:
    /// the new one is then its own request and must not share the first one's reference.
    pub fn message_id_taken(&self, message_id: &str, content_hash: &str) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT 1 FROM messages WHERE message_id = ?1 AND content_hash != ?2 LIMIT 1",
            )
            .context("Preparing the Message-ID lookup")?
            .query_row(params![message_id, content_hash], |_| Ok(()))
            .optional()
            .context("Looking up a Message-ID")
            .map(|x| x.is_some())
    }

    /// Messages decided but not yet tagged in the mailbox, with their decision.
    pub fn untagged(&self, folder: &str, uidvalidity: u32) -> Result<Vec<(u64, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT uid, decision FROM messages WHERE folder = ?1 AND uidvalidity = ?2 AND tagged = 0 ORDER BY uid",
            )
            .context("Preparing the tag query")?;
        let rows = stmt
            .query_map(params![folder, uidvalidity], |r| {
                Ok((r.get::<_, i64>(0)?.try_into().unwrap_or(0), r.get(1)?))
            })
            .context("Reading untagged messages")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("Reading untagged messages")
    }

    /// Marks `uids` tagged and, in the same transaction, saves the position `advance` to.
    pub fn mark_tagged_all(
        &self,
        folder: &str,
        uidvalidity: u32,
        uids: &[u64],
        advance: Option<(&str, Position)>,
    ) -> Result<()> {
        let tx = self
            .conn
            .unchecked_transaction()
            .context("Starting a transaction")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE messages SET tagged = 1 WHERE folder = ?1 AND uidvalidity = ?2 AND uid = ?3",
                )
                .context("Preparing to mark messages tagged")?;
            for &uid in uids {
                stmt.execute(params![folder, uidvalidity, uid as i64])
                    .context("Marking a message tagged")?;
            }
        }
        if let Some((source, p)) = advance {
            save_position(&tx, source, p)?;
        }
        tx.commit().context("Committing tags")?;
        Ok(())
    }

    /// The saved position in `source`, if intake ran on it before.
    pub fn position(&self, source: &str) -> Result<Option<Position>> {
        self.conn
            .query_row(
                "SELECT uidvalidity, last_uid, answer_since FROM mailbox_state WHERE source = ?1",
                params![source],
                |r| {
                    let since: String = r.get(2)?;
                    Ok(Position {
                        uidvalidity: r.get::<_, i64>(0)?.try_into().unwrap_or(0),
                        last_uid: r.get::<_, i64>(1)?.try_into().unwrap_or(0),
                        answer_since: DateTime::parse_from_rfc3339(&since)
                            .map(|t| t.with_timezone(&Utc))
                            .unwrap_or_default(),
                    })
                },
            )
            .optional()
            .context("Reading the mailbox position")
    }

    pub fn save_position(&self, source: &str, p: Position) -> Result<()> {
        save_position(&self.conn, source, p)
    }

    /// Every request whose accepted window the security team holds: state `accepted`, and
    /// `review` after an acceptance (the caller reads `accepted`). Not bounded: `intake
    /// lookup` must see every approved window, however old.
    pub fn held_requests(&self) -> Result<Vec<RequestRecord>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT record FROM requests WHERE state IN ('accepted', 'review')")
            .context("Preparing the held requests query")?;
        let rows = st
            .query_map([], |row| row.get::<_, String>(0))
            .context("Listing held requests")?;
        let mut out = Vec::new();
        for j in rows {
            out.push(read_request(&j.context("Reading a request row")?)?);
        }
        Ok(out)
    }

    /// Adds a user and logs it as `user_added` by `actor`, in one transaction; false (and
    /// nothing written) when the name is taken.
    pub fn add_user(
        &mut self,
        name: &str,
        role: UserRole,
        password_hash: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let added = tx
            .execute(
                "INSERT INTO users (name, role, password_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
                params![name, role.as_str(), password_hash, ts(now)],
            )
            .context("Adding a user")?
            == 1;
        if added {
            log_action(&tx, actor, "user_added", name, role.as_str(), now)?;
        }
        tx.commit().context("Committing a new user")?;
        Ok(added)
    }

    /// Replaces a user's password hash and logs `user_password_changed`; false when there is
    /// no such user.
    pub fn set_password_hash(
        &mut self,
        name: &str,
        password_hash: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let changed = tx
            .execute(
                "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, password_hash, ts(now)],
            )
            .context("Changing a password")?
            == 1;
        if changed {
            // A new password ends the sessions the old one opened.
            tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])
                .context("Ending sessions after a password change")?;
            log_action(&tx, actor, "user_password_changed", name, "", now)?;
        }
        tx.commit().context("Committing a password change")?;
        Ok(changed)
    }

    /// Removes a user and logs `user_removed` (with the role it had); false when there is no
    /// such user.
    pub fn remove_user(&mut self, name: &str, actor: &str, now: DateTime<Utc>) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let role: Option<String> = tx
            .query_row(
                "DELETE FROM users WHERE name = ?1 RETURNING role",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .context("Removing a user")?;
        if let Some(role) = &role {
            tx.execute("DELETE FROM sessions WHERE user = ?1", params![name])
                .context("Ending a removed user's sessions")?;
            log_action(&tx, actor, "user_removed", name, role, now)?;
        }
        tx.commit().context("Committing a removal")?;
        Ok(role.is_some())
    }

    /// Every user, by name (never the password hash).
    pub fn users(&self) -> Result<Vec<User>> {
        users_of(&self.conn)
    }

    /// A user's role and password hash (PHC string), for verifying a login.
    pub fn user_credentials(&self, name: &str) -> Result<Option<(UserRole, String)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT role, password_hash FROM users WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .context("Reading a user")?;
        row.map(|(role, hash)| Ok((role.parse()?, hash)))
            .transpose()
    }

    /// The newest `limit` staff actions, newest first.
    pub fn actions(&self, limit: u32) -> Result<Vec<ActionEntry>> {
        actions_of(&self.conn, limit)
    }
}

/// A console session as stored (the token itself is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user: String,
    pub role: UserRole,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Records a new console session (and logs the login as `login` by `user`), and drops the
    /// sessions that expired, in one transaction.
    pub fn create_session(
        &mut self,
        token_hash: &str,
        user: &str,
        role: UserRole,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        tx.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![ts(now)],
        )
        .context("Dropping expired sessions")?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user, role, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                token_hash,
                user,
                role.as_str(),
                csrf,
                ts(now),
                ts(expires_at)
            ],
        )
        .context("Recording a session")?;
        log_action(&tx, user, "login", user, "", now)?;
        tx.commit().context("Committing a session")?;
        Ok(())
    }

    /// The session with this token hash, if it has not expired at `now`; an expired one is
    /// deleted. A session whose user was removed meanwhile is gone too.
    pub fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>> {
        let row: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT s.user, u.role, s.csrf, s.expires_at FROM sessions s
                 JOIN users u ON u.name = s.user AND u.created_at <= s.created_at
                 WHERE s.token_hash = ?1",
                params![token_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .context("Reading a session")?;
        let Some((user, role, csrf, expires)) = row else {
            return Ok(None);
        };
        let expires_at = parse_ts(&expires)?;
        if expires_at <= now {
            self.delete_session(token_hash)?;
            return Ok(None);
        }
        Ok(Some(SessionRow {
            user,
            role: role.parse()?,
            csrf,
            expires_at,
        }))
    }

    /// Ends a session (logout); false when there was none.
    pub fn delete_session(&self, token_hash: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                params![token_hash],
            )
            .context("Ending a session")?
            == 1)
    }

    /// Rolls back what [`Store::begin_batch`] started (a console action that was refused).
    pub fn rollback_batch(&self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("ROLLBACK")
                .context("Rolling back a transaction")?;
        }
        Ok(())
    }

    /// The newest decided message of a request, with its bytes and verdict: what a console
    /// action answers.
    pub fn latest_message(&self, reference: &str) -> Result<Option<LatestMessage>> {
        let row = self
            .conn
            .query_row(
                "SELECT m.id, m.arrival, m.verdict, r.raw FROM messages m
                 LEFT JOIN message_raw r ON r.message = m.id
                 WHERE m.request = ?1 ORDER BY m.id DESC LIMIT 1",
                params![reference],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                },
            )
            .optional()
            .context("Reading a request's newest message")?;
        row.map(|(id, arrival, verdict, raw)| {
            Ok(LatestMessage {
                id,
                arrival: parse_ts(&arrival)?,
                verdict: serde_json::from_str(&verdict).context("Reading a stored verdict")?,
                raw: raw.unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// Records a step taken in the console: the request as it is now, the messages the step
    /// causes (queued under the request's newest message `message`), and the action log
    /// entry, in one savepoint (inside the caller's transaction).
    #[allow(clippy::too_many_arguments)]
    pub fn record_staff_step(
        &mut self,
        message: i64,
        request: &RequestRecord,
        outgoing: &[Outgoing],
        actor: &str,
        kind: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        save_request(&tx, request)?;
        for o in outgoing {
            insert_outbox(&tx, message, o, now)?;
        }
        log_action(&tx, actor, kind, &request.reference, detail, now)?;
        tx.commit().context("Committing a console action")
    }

    /// Queues again a customer reply of request `reference` that was given up on because
    /// its delivery was in doubt (same bytes, same Message-ID), and logs who did it. Only the
    /// request's newest reply: an older one (an acceptance before a cancellation) would tell
    /// the customer what no longer holds. False when row `outbox` is no such reply (sent,
    /// refused, already queued again, overtaken, another request's): nothing is done.
    pub fn resend_in_doubt(
        &mut self,
        reference: &str,
        outbox: i64,
        actor: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let changed = tx
            .execute(
                "UPDATE outbox SET failed = NULL, in_doubt = 0, handed_over_at = NULL, next_attempt_at = ?3
                 WHERE id = ?1 AND role = 'reply' AND in_doubt = 1 AND sent_at IS NULL
                   AND message IN (SELECT id FROM messages WHERE request = ?2)
                   AND NOT EXISTS (
                       SELECT 1 FROM outbox later JOIN messages m ON m.id = later.message
                       WHERE m.request = ?2 AND later.role = 'reply' AND later.id > ?1)",
                params![outbox, reference, ts(now)],
            )
            .context("Queueing a reply again")?;
        if changed == 1 {
            log_action(&tx, actor, "resend", reference, detail, now)?;
        }
        tx.commit().context("Committing a resend")?;
        Ok(changed == 1)
    }

    /// Logs a console action that changes nothing else (`login_failed`, `logout`).
    pub fn log_action(
        &self,
        actor: &str,
        kind: &str,
        subject: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        log_action(&self.conn, actor, kind, subject, detail, now)
    }
}

/// Tokens for the calendar feed and the lookup API (`crate::tokens`, migration 10): only
/// their hashes are kept; making and revoking one is logged in `actions`.
impl Store {
    /// Records a token of `kind` for `user` and logs `token_created` by `actor`, in one
    /// transaction; `None` (nothing written) when there is no such user.
    pub fn create_token(
        &mut self,
        token_hash: &str,
        user: &str,
        kind: crate::tokens::TokenKind,
        label: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM users WHERE name = ?1", params![user], |r| {
                r.get(0)
            })
            .optional()
            .context("Reading a user")?;
        if exists.is_none() {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO tokens (token_hash, user, kind, label, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token_hash, user, kind.as_str(), label, ts(now), actor],
        )
        .context("Recording a token")?;
        let id = tx.last_insert_rowid();
        log_action(
            &tx,
            actor,
            "token_created",
            user,
            &token_detail(kind.as_str(), id, label),
            now,
        )?;
        tx.commit().context("Committing a token")?;
        Ok(Some(id))
    }

    /// The tokens of `user` (every user's with `None`), revoked ones too, by id.
    pub fn tokens(&self, user: Option<&str>) -> Result<Vec<crate::tokens::TokenRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE ?1 IS NULL OR user = ?1 ORDER BY id"
            ))
            .context("Preparing the tokens query")?;
        let rows = st
            .query_map(params![user], token_row)
            .context("Listing tokens")?;
        rows.map(|r| r.context("Reading a token row")?)
            .collect::<Result<Vec<_>>>()
    }

    /// Token `id`, revoked or not.
    pub fn token(&self, id: i64) -> Result<Option<crate::tokens::TokenRow>> {
        self.conn
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"),
                params![id],
                token_row,
            )
            .optional()
            .context("Reading a token")?
            .transpose()
    }

    /// Revokes token `id` and logs `token_revoked` by `actor`, in one transaction; false
    /// when there is no such token or it was revoked already.
    pub fn revoke_token(&mut self, id: i64, actor: &str, now: DateTime<Utc>) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let revoked: Option<(String, String, String)> = tx
            .query_row(
                "UPDATE tokens SET revoked_at = ?2, revoked_by = ?3
                 WHERE id = ?1 AND revoked_at IS NULL RETURNING user, kind, label",
                params![id, ts(now), actor],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .context("Revoking a token")?;
        let Some((user, kind, label)) = revoked else {
            return Ok(false);
        };
        log_action(
            &tx,
            actor,
            "token_revoked",
            &user,
            &token_detail(&kind, id, &label),
            now,
        )?;
        tx.commit().context("Committing a revocation")?;
        Ok(true)
    }

    /// Removes user `name` and revokes every token of theirs (each revocation logged by
    /// `actor`), in one transaction; false (nothing changed) when there is no such user.
    pub fn remove_user_and_tokens(
        &mut self,
        name: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.conn.savepoint().context("Starting a transaction")?;
        let revoked: Vec<(i64, String, String)> = {
            let mut st = tx
                .prepare(
                    "UPDATE tokens SET revoked_at = ?2, revoked_by = ?3
                     WHERE user = ?1 AND revoked_at IS NULL RETURNING id, kind, label",
                )
                .context("Preparing the revocation of a user's tokens")?;
            let rows = st
                .query_map(params![name, ts(now), actor], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .context("Revoking a user's tokens")?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .context("Revoking a user's tokens")?
        };
        let role: Option<String> = tx
            .query_row(
                "DELETE FROM users WHERE name = ?1 RETURNING role",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .context("Removing a user")?;
        let Some(role) = role else {
            // Dropping the savepoint rolls the revocations back.
            return Ok(false);
        };
        for (id, kind, label) in &revoked {
            log_action(
                &tx,
                actor,
                "token_revoked",
                name,
                &format!("{} (user removed)", token_detail(kind, *id, label)),
                now,
            )?;
        }
        log_action(&tx, actor, "user_removed", name, &role, now)?;
        tx.commit().context("Committing a removal")?;
        Ok(true)
    }

    /// Whom the token with this hash opens `kind` for: not revoked, its user exists and is
    /// older than the token.
    pub fn token_owner(
        &self,
        token_hash: &str,
        kind: crate::tokens::TokenKind,
    ) -> Result<Option<crate::tokens::TokenOwner>> {
        token_owner(&self.conn, token_hash, kind)
    }

    /// Records that token `id` opened something at `now`.
    pub fn token_used(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )
            .context("Recording a token's use")?;
        Ok(())
    }

    /// Every token's id and stored hash (tests: only hashes are kept).
    #[cfg(test)]
    pub fn raw_token_hashes(&self) -> Result<Vec<(i64, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT id, token_hash FROM tokens ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Takes the revocation off a token (tests: a row revoked by nobody).
    #[cfg(test)]
    pub fn unrevoke_for_test(&self, token_hash: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE tokens SET revoked_at = NULL, revoked_by = NULL WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(())
    }
}

/// A staff account as listed (the password hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: UserRole,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request's newest decided message, as a console action needs it.
#[derive(Debug, Clone)]
pub struct LatestMessage {
    pub id: i64,
    pub arrival: DateTime<Utc>,
    pub verdict: crate::model::Verdict,
    /// Empty when the bytes were not kept (too large to fetch).
    pub raw: Vec<u8>,
}

/// One logged staff action: who (`actor`) did what (`kind`) to what (`subject`) when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    pub actor: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub subject: String,
    pub detail: String,
}

/// Every user, by name (never the password hash).
fn users_of(conn: &Connection) -> Result<Vec<User>> {
    let mut st = conn
        .prepare_cached("SELECT name, role, created_at, updated_at FROM users ORDER BY name")
        .context("Preparing the users query")?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .context("Listing users")?;
    let mut out = Vec::new();
    for row in rows {
        let (name, role, created, updated) = row.context("Reading a user row")?;
        out.push(User {
            role: role.parse()?,
            name,
            created_at: parse_ts(&created)?,
            updated_at: parse_ts(&updated)?,
        });
    }
    Ok(out)
}

/// The newest `limit` staff actions, newest first.
fn actions_of(conn: &Connection, limit: u32) -> Result<Vec<ActionEntry>> {
    query_actions(
        conn,
        "SELECT actor, at, kind, subject, detail FROM actions ORDER BY id DESC LIMIT ?1",
        params![limit],
    )
}

/// The action log rows `sql` selects (actor, at, kind, subject, detail).
fn query_actions(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<ActionEntry>> {
    let mut st = conn
        .prepare_cached(sql)
        .context("Preparing the actions query")?;
    let rows = st
        .query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .context("Listing actions")?;
    let mut out = Vec::new();
    for row in rows {
        let (actor, at, kind, subject, detail) = row.context("Reading an action row")?;
        out.push(ActionEntry {
            actor,
            at: parse_ts(&at)?,
            kind,
            subject,
            detail,
        });
    }
    Ok(out)
}

/// Logs a staff action (inside the caller's transaction).
fn log_action(
    conn: &Connection,
    actor: &str,
    kind: &str,
    subject: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO actions (actor, at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![actor, ts(now), kind, subject, detail],
    )
    .context("Logging an action")?;
    Ok(())
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("Reading a stored time `{s}`"))
}

fn save_position(conn: &Connection, source: &str, p: Position) -> Result<()> {
    conn.execute(
        "INSERT INTO mailbox_state (source, uidvalidity, last_uid, answer_since) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source) DO UPDATE SET uidvalidity = ?2, last_uid = ?3",
        params![source, p.uidvalidity, p.last_uid as i64, ts(p.answer_since)],
    )
    .context("Saving the mailbox position")?;
    Ok(())
}

/// Opens one connection with the store's settings.
/// A read-only view of the store for the web console, on its own connection: it counts and
/// never writes (the connection is opened read-only and `query_only`), so the watch loop
/// stays the store's one writer.
pub struct StoreReader {
    conn: Connection,
}

impl StoreReader {
    /// Opens the store at `path`, which must exist (it is never created here).
    pub fn open(path: &Path) -> Result<StoreReader> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("Opening the store {} to read", path.display()))?;
        conn.pragma_update(None, "query_only", "ON")
            .context("Setting query_only")?;
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .context("Setting the busy timeout")?;
        Ok(StoreReader { conn })
    }

    /// How many outbox rows are neither sent nor failed.
    pub fn unsent_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(UNSENT_COUNT, [], |r| r.get(0))
            .context("Counting the outbox")?;
        Ok(n.try_into().unwrap_or(0))
    }

    /// The newest `limit` requests (by last change), for the console's list.
    pub fn requests(&self, limit: u32) -> Result<Vec<RequestRecord>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT record FROM requests ORDER BY updated_at DESC LIMIT ?1")
            .context("Preparing the requests query")?;
        let rows = st
            .query_map(params![limit], |row| row.get::<_, String>(0))
            .context("Listing requests")?;
        let mut out = Vec::new();
        for j in rows {
            out.push(read_request(&j.context("Reading a request row")?)?);
        }
        Ok(out)
    }

    /// The request with this reference.
    pub fn request(&self, reference: &str) -> Result<Option<RequestRecord>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT record FROM requests WHERE reference = ?1",
                params![reference],
                |r| r.get(0),
            )
            .optional()
            .context("Reading a request")?;
        json.as_deref().map(read_request).transpose()
    }

    /// The messages sent (or to be sent) for a request, oldest first, at most `limit`.
    pub fn request_outbox(&self, reference: &str, limit: u32) -> Result<Vec<OutboxEntry>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT o.role, o.recipient, o.created_at, o.sent_at, o.failed, o.handed_over_at,
                        o.attempts, c.raw, o.id, o.in_doubt
                 FROM outbox o JOIN messages m ON m.id = o.message
                 LEFT JOIN outbox_content c ON c.outbox = o.id
                 WHERE m.request = ?1 ORDER BY o.id LIMIT ?2",
            )
            .context("Preparing the request's outbox query")?;
        let rows = st
            .query_map(params![reference, limit], |r| {
                let raw: Option<Vec<u8>> = r.get(7)?;
                let sent_at: Option<String> = r.get(3)?;
                let failed: Option<String> = r.get(4)?;
                let handed: Option<String> = r.get(5)?;
                let delivery = if sent_at.is_some() {
                    Delivery::Sent
                } else if let Some(why) = failed {
                    Delivery::Failed(why)
                } else if handed.is_some() {
                    Delivery::InDoubt
                } else {
                    Delivery::Pending
                };
                Ok(OutboxEntry {
                    id: r.get(8)?,
                    resendable: r.get::<_, bool>(9)? && sent_at.is_none(),
                    role: r.get(0)?,
                    recipient: r.get(1)?,
                    created_at: r.get(2)?,
                    sent_at,
                    attempts: r.get(6)?,
                    delivery,
                    subject: raw.as_deref().map(header_subject).unwrap_or_default(),
                })
            })
            .context("Listing the request's outbox")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("Reading the request's outbox")
    }

    /// The customer messages of a request with their bytes, oldest first, at most `limit`.
    pub fn request_mails(&self, reference: &str, limit: u32) -> Result<Vec<StoredMail>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT m.id, m.arrival, m.decision, m.sender, r.raw FROM messages m
                 LEFT JOIN message_raw r ON r.message = m.id
                 WHERE m.request = ?1 ORDER BY m.id LIMIT ?2",
            )
            .context("Preparing the request's mails query")?;
        let rows = st
            .query_map(params![reference, limit], |r| {
                Ok(StoredMail {
                    id: r.get(0)?,
                    arrival: r.get(1)?,
                    decision: r.get(2)?,
                    sender: r.get(3)?,
                    raw: r.get(4)?,
                })
            })
            .context("Listing the request's mails")?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("Reading the request's mails")
    }

    /// Every user, by name (never the password hash).
    pub fn users(&self) -> Result<Vec<User>> {
        users_of(&self.conn)
    }

    /// The newest `limit` staff actions, newest first.
    pub fn actions(&self, limit: u32) -> Result<Vec<ActionEntry>> {
        actions_of(&self.conn, limit)
    }

    /// Whether the newest message of request `reference` came from a verified sender.
    pub fn latest_sender_verified(&self, reference: &str) -> Result<bool> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT json_extract(verdict, '$.sender_verified') FROM messages
                 WHERE request = ?1 ORDER BY id DESC LIMIT 1",
                params![reference],
                |r| r.get(0),
            )
            .optional()
            .context("Reading whether a sender was verified")?
            .flatten();
        Ok(v == Some(1))
    }

    /// The console actions taken on request `reference`, oldest first, at most `limit`.
    pub fn request_actions(&self, reference: &str, limit: u32) -> Result<Vec<ActionEntry>> {
        query_actions(
            &self.conn,
            "SELECT actor, at, kind, subject, detail FROM actions
             WHERE subject = ?1 ORDER BY id LIMIT ?2",
            params![reference, limit],
        )
    }

    /// How many requests are in each state, for the states that have any.
    pub fn requests_by_state(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM requests GROUP BY state ORDER BY state")
            .context("Counting requests")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .context("Counting requests")?;
        rows.map(|r| r.map(|(s, n)| (s, n.try_into().unwrap_or(0))))
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("Counting requests")
    }
}

/// What the security team's views (calendar, feed, lookup) and the token checks read.
impl StoreReader {
    /// A counter that moves whenever a request is written (triggers of migration 10), so
    /// a cache of the requests can tell when to read them again.
    pub fn requests_version(&self) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT version FROM requests_version WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .context("Reading the requests' version")
    }

    /// Every request whose accepted window the security team holds (as
    /// [`Store::held_requests`]).
    pub fn held_requests(&self) -> Result<Vec<RequestRecord>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT record FROM requests WHERE state IN ('accepted', 'review')")
            .context("Preparing the held requests query")?;
        let rows = st
            .query_map([], |row| row.get::<_, String>(0))
            .context("Listing held requests")?;
        let mut out = Vec::new();
        for j in rows {
            out.push(read_request(&j.context("Reading a request row")?)?);
        }
        Ok(out)
    }

    /// The tokens of `user`, revoked ones too, by id.
    pub fn tokens(&self, user: &str) -> Result<Vec<crate::tokens::TokenRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user = ?1 ORDER BY id"
            ))
            .context("Preparing the tokens query")?;
        let rows = st
            .query_map(params![user], token_row)
            .context("Listing tokens")?;
        rows.map(|r| r.context("Reading a token row")?)
            .collect::<Result<Vec<_>>>()
    }

    /// A user's role (the console's single sign-on: a proxy names the user).
    pub fn user_role(&self, name: &str) -> Result<Option<UserRole>> {
        let role: Option<String> = self
            .conn
            .query_row(
                "SELECT role FROM users WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .context("Reading a user")?;
        role.map(|r| Ok(r.parse()?)).transpose()
    }

    /// As [`Store::token_owner`].
    pub fn token_owner(
        &self,
        token_hash: &str,
        kind: crate::tokens::TokenKind,
    ) -> Result<Option<crate::tokens::TokenOwner>> {
        token_owner(&self.conn, token_hash, kind)
    }
}

const TOKEN_COLUMNS: &str =
    "id, user, kind, label, created_at, created_by, last_used_at, revoked_at, revoked_by";

/// A `tokens` row of [`TOKEN_COLUMNS`]; the outer error is SQLite's, the inner one a value
/// that does not read.
fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<crate::tokens::TokenRow>> {
    let kind: String = r.get(2)?;
    let created: String = r.get(4)?;
    let used: Option<String> = r.get(6)?;
    let revoked: Option<String> = r.get(7)?;
    let (id, user, label, created_by, revoked_by) =
        (r.get(0)?, r.get(1)?, r.get(3)?, r.get(5)?, r.get(8)?);
    Ok((|| {
        Ok(crate::tokens::TokenRow {
            id,
            user,
            kind: kind.parse()?,
            label,
            created_at: parse_ts(&created)?,
            created_by,
            last_used_at: used.as_deref().map(parse_ts).transpose()?,
            revoked_at: revoked.as_deref().map(parse_ts).transpose()?,
            revoked_by,
        })
    })())
}

fn token_owner(
    conn: &Connection,
    token_hash: &str,
    kind: crate::tokens::TokenKind,
) -> Result<Option<crate::tokens::TokenOwner>> {
    let row: Option<(i64, String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT t.id, t.user, u.role, t.last_used_at FROM tokens t
             JOIN users u ON u.name = t.user
             WHERE t.token_hash = ?1 AND t.kind = ?2 AND t.revoked_at IS NULL
               AND t.created_at >= u.created_at",
        )
        .context("Preparing the token query")?
        .query_row(params![token_hash, kind.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .context("Reading a token")?;
    let Some((id, user, role, used)) = row else {
        return Ok(None);
    };
    Ok(Some(crate::tokens::TokenOwner {
        id,
        user,
        role: role.parse()?,
        last_used_at: used.as_deref().map(parse_ts).transpose()?,
    }))
}

/// How the action log names a token: `feed token 3 (laptop)`.
fn token_detail(kind: &str, id: i64, label: &str) -> String {
    if label.is_empty() {
        format!("{kind} token {id}")
    } else {
        format!("{kind} token {id} ({label})")
    }
}

/// Where an outgoing message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Given up, with the reason.
    Failed(String),
    /// Handed to the server, no answer recorded: it may or may not have arrived.
    InDoubt,
    Pending,
}

impl Delivery {
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Failed(_) => "failed",
            Delivery::InDoubt => "in doubt",
            Delivery::Pending => "pending",
        }
    }
}

/// One outbox row of a request, for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    /// A customer reply given up on because its delivery is in doubt: staff may queue it
    /// again.
    pub resendable: bool,
    pub role: String,
    pub recipient: String,
    pub subject: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub attempts: i64,
    pub delivery: Delivery,
}

/// A decided message of a request, with its bytes as received (when kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMail {
    pub id: i64,
    pub arrival: String,
    pub decision: String,
    pub sender: Option<String>,
    pub raw: Option<Vec<u8>>,
}

/// The decoded `Subject:` of a message we composed (empty when it has none).
fn header_subject(raw: &[u8]) -> String {
    mail_parser::MessageParser::new()
        .parse_headers(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

/// The readiness probe: takes the store's write lock on a connection of its own and lets it
/// go at once (`BEGIN IMMEDIATE; ROLLBACK`), writing nothing. Fails when the file is gone,
/// read-only, or locked for longer than `wait`.
pub fn probe_writable(path: &Path, wait: std::time::Duration) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("Opening the store {}", path.display()))?;
    conn.busy_timeout(wait)
        .context("Setting the busy timeout")?;
    if conn
        .is_readonly(rusqlite::DatabaseName::Main)
        .context("Asking whether the store is read-only")?
    {
        bail!("The store {} can only be read", path.display());
    }
    conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")
        .with_context(|| format!("Taking the write lock of {}", path.display()))
}

fn connect(path: &Path) -> Result<Connection> {
    let conn =
        Connection::open(path).with_context(|| format!("Opening the store {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .context("Setting WAL journal mode")?;
    conn.pragma_update(None, "synchronous", "FULL")
        .context("Setting synchronous=FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .context("Enabling foreign keys")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .context("Setting the busy timeout")?;
    Ok(conn)
}

/// Writes request `r` (insert or update) and indexes every Message-ID of its thread.
fn save_request(conn: &Connection, r: &RequestRecord) -> Result<()> {
    let json = serde_json::to_string(r).context("Serialising a request")?;
    conn.execute(
        "INSERT INTO requests (reference, state, org_domain, record, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (reference) DO UPDATE SET state = ?2, org_domain = ?3, record = ?4, updated_at = ?6",
        params![
            r.reference,
            r.state.as_str(),
            r.org,
            json,
            ts(r.created_at),
            ts(r.updated_at)
        ],
    )
    .context("Saving a request")?;
    let mut ins = conn
        .prepare_cached(
            "INSERT INTO request_ids (message_id, reference) VALUES (?1, ?2)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .context("Preparing the thread index")?;
    for id in &r.message_ids {
        ins.execute(params![id, r.reference])
            .context("Indexing a thread's Message-ID")?;
    }
    Ok(())
}

fn read_request(json: &str) -> Result<RequestRecord> {
    serde_json::from_str(json).context("Reading a stored request")
}

/// Queues `o` for the decision `message`; a Message-ID already queued is kept as it is.
fn insert_outbox(conn: &Connection, message: i64, o: &Outgoing, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "INSERT INTO outbox (message, role, recipient, sender, out_message_id, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (out_message_id) DO NOTHING",
        params![message, o.role.as_str(), o.to, o.from, o.message_id, ts(now)],
    )
    .context("Queueing a message")?;
    if conn.changes() == 1 {
        let row = conn.last_insert_rowid();
        conn.execute(
            "INSERT INTO outbox_content (outbox, raw) VALUES (?1, ?2)",
            params![row, o.raw],
        )
        .context("Queueing a message's content")?;
        if o.role == Role::Reply {
            conn.execute(
                "INSERT INTO reply_log (outbox, address, org_domain, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![row, normalize_address(&o.to), org_of_address(&o.to), ts(now)],
            )
            .context("Counting a reply")?;
        }
    }
    Ok(())
}

/// The organizational domain the loop breaker counts an address under (its domain as
/// written when the Public Suffix List knows no owner for it).
fn org_of_address(address: &str) -> String {
    let domain = domain_of(address).unwrap_or_default();
    org_domain(&domain).unwrap_or(domain)
}

fn insert_message(tx: &Connection, rec: &Record<'_>, now: DateTime<Utc>) -> Result<i64> {
    let id = rec.identity;
    tx.execute(
        "INSERT INTO messages (folder, uidvalidity, uid, message_id, content_hash, sender, arrival, decided_at, decision, rules_version, verdict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id.folder,
            id.uidvalidity,
            id.uid as i64,
            id.message_id,
            id.content_hash,
            rec.sender,
            ts(rec.arrival),
            ts(now),
            rec.decision,
            rec.rules_version,
            rec.verdict_json
        ],
    )
    .context("Recording a decision")?;
    Ok(tx.last_insert_rowid())
}

/// Timestamps are stored as RFC 3339 UTC with fixed width, so they sort as text.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
    }

    fn ident(uid: u64, hash: &str) -> Identity {
        Identity {
            folder: "INBOX".into(),
            uidvalidity: 7,
            uid,
            message_id: Some(format!("m{hash}@example.ch")),
            content_hash: hash.into(),
        }
    }

    fn out(id: &str, role: Role) -> Outgoing {
        Outgoing {
            role,
            from: "support@amazee.io".into(),
            to: "jane@example.ch".into(),
            message_id: id.into(),
            raw: b"Subject: x\r\n\r\nbody".to_vec(),
        }
    }

    fn record(store: &mut Store, id: &Identity, outs: &[Outgoing]) -> i64 {
        store
            .record(
                &Record {
                    identity: id,
                    sender: Some("jane@example.ch"),
                    arrival: t0(),
                    decision: "accept",
                    rules_version: "test",
                    verdict_json: "{}",
                    raw: None,
                    request: None,
                },
                outs,
                t0(),
            )
            .unwrap()
    }

    #[test]
    fn decision_and_outbox_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/intake.sqlite3");
        {
            let mut s = Store::open(&path).unwrap();
            record(
                &mut s,
                &ident(1, "a"),
                &[
                    out("r1@amazee.io", Role::Reply),
                    out("s1@amazee.io", Role::Staff),
                ],
            );
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.seen(&ident(1, "a")).unwrap(),
            Seen::Decided("accept".into())
        );
        let p = s.pending(t0()).unwrap();
        assert_eq!(p.len(), 2);
        s.mark_sent_all(&[p[0].id], t0()).unwrap();
        assert_eq!(s.unsent_count().unwrap(), 1);
        let mode: String = s
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn same_content_under_a_new_uidvalidity_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        record(&mut s, &ident(5, "h"), &[]);
        let mut moved = ident(1, "h");
        moved.uidvalidity = 8;
        assert_eq!(s.seen(&moved).unwrap(), Seen::Decided("accept".into()));
        assert_eq!(s.seen(&ident(6, "other")).unwrap(), Seen::New);
    }

    #[test]
    fn deciding_the_same_position_twice_fails_and_queues_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        record(&mut s, &ident(1, "a"), &[out("r1@amazee.io", Role::Reply)]);
        let again = s.record(
            &Record {
                identity: &ident(1, "a"),
                sender: None,
                arrival: t0(),
                decision: "reject",
                rules_version: "test",
                verdict_json: "{}",
                raw: None,
                request: None,
            },
            &[out("r2@amazee.io", Role::Reply)],
            t0(),
        );
        assert!(again.is_err());
        assert_eq!(
            s.unsent_count().unwrap(),
            1,
            "the failed transaction left nothing behind"
        );
    }

    #[test]
    fn retries_wait_and_permanent_failures_stop() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        record(
            &mut s,
            &ident(1, "a"),
            &[
                out("r1@amazee.io", Role::Reply),
                out("x@amazee.io", Role::Staff),
            ],
        );
        let p = s.pending(t0()).unwrap();
        s.mark_retry(p[0].id, t0(), Duration::minutes(5)).unwrap();
        s.give_up(p[1].id, "550 no such user", false, None, t0())
            .unwrap();
        assert!(s.pending(t0()).unwrap().is_empty());
        let later = s.pending(t0() + Duration::minutes(6)).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].attempts, 1);
        assert_eq!(s.next_due().unwrap(), Some(t0() + Duration::minutes(5)));
    }

    #[test]
    fn replies_are_counted_per_normalized_address_per_organization_and_in_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        for (i, to) in [
            "Jane+one@Example.CH",
            "jane@mail.example.ch",
            "bob@example.ch",
            "eve@other.co.uk",
        ]
        .iter()
        .enumerate()
        {
            let mut o = out(&format!("r{i}@amazee.io"), Role::Reply);
            o.to = (*to).into();
            record(&mut s, &ident(i as u64, &format!("h{i}")), &[o]);
        }
        // Staff mail is not counted.
        record(&mut s, &ident(9, "h9"), &[out("s9@amazee.io", Role::Staff)]);
        let since = t0() - Duration::hours(1);
        assert_eq!(s.replies_to("jane+other@example.ch", since).unwrap(), 1);
        assert_eq!(s.replies_to("JANE@EXAMPLE.CH", since).unwrap(), 1);
        assert_eq!(s.replies_to("bob@example.ch", since).unwrap(), 1);
        assert_eq!(s.replies_to_org("carol@shop.example.ch", since).unwrap(), 3);
        assert_eq!(s.replies_to_org("x@other.co.uk", since).unwrap(), 1);
        assert_eq!(s.replies_to_org("x@co.uk", since).unwrap(), 0);
        assert_eq!(s.replies_since(since).unwrap(), 4);
        assert_eq!(s.replies_since(t0() + Duration::seconds(1)).unwrap(), 0);
    }

    #[test]
    fn a_message_id_reused_with_other_content_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        record(&mut s, &ident(1, "a"), &[]);
        assert!(!s.message_id_taken("ma@example.ch", "a").unwrap());
        assert!(s.message_id_taken("ma@example.ch", "b").unwrap());
        assert!(!s.message_id_taken("mb@example.ch", "b").unwrap());
    }

    #[test]
    fn replies_per_sender_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        for i in 0..3u64 {
            record(
                &mut s,
                &ident(i, &format!("h{i}")),
                &[out(&format!("r{i}@amazee.io"), Role::Reply)],
            );
        }
        assert_eq!(
            s.replies_to("JANE@example.ch", t0() - Duration::days(1))
                .unwrap(),
            3
        );
        assert_eq!(
            s.replies_to("other@example.ch", t0() - Duration::days(1))
                .unwrap(),
            0
        );
    }

    #[test]
    fn position_keeps_the_first_answer_since() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(s.position("imap:INBOX").unwrap(), None);
        let p = Position {
            uidvalidity: 7,
            last_uid: 10,
            answer_since: t0(),
        };
        s.save_position("imap:INBOX", p).unwrap();
        s.save_position(
            "imap:INBOX",
            Position {
                last_uid: 12,
                answer_since: t0() + Duration::days(3),
                ..p
            },
        )
        .unwrap();
        let got = s.position("imap:INBOX").unwrap().unwrap();
        assert_eq!(got.last_uid, 12);
        assert_eq!(got.answer_since, t0());
    }

    #[test]
    fn a_known_message_at_a_new_position_keeps_its_decision_and_queues_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        record(&mut s, &ident(5, "h"), &[out("r@amazee.io", Role::Reply)]);
        let mut moved = ident(1, "h");
        moved.uidvalidity = 8;
        s.record_duplicate(&moved).unwrap();
        s.record_duplicate(&moved).unwrap();
        assert_eq!(
            s.decision_at("INBOX", 8, 1).unwrap().as_deref(),
            Some("accept")
        );
        assert_eq!(s.unsent_count().unwrap(), 1);
        assert_eq!(
            s.untagged("INBOX", 8).unwrap(),
            vec![(1, "accept".to_string())]
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("newer"), "{err}");
    }

    #[test]
    fn a_handed_over_reply_is_in_doubt_after_reopening_but_not_internal_mail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).unwrap();
            record(
                &mut s,
                &ident(1, "a"),
                &[
                    out("r1@amazee.io", Role::Reply),
                    out("f1@amazee.io", Role::Security),
                ],
            );
            record(&mut s, &ident(2, "b"), &[out("r2@amazee.io", Role::Reply)]);
            record(&mut s, &ident(3, "c"), &[out("r3@amazee.io", Role::Reply)]);
            let rows = s.pending(t0()).unwrap();
            let id = |m: &str| rows.iter().find(|p| p.out_message_id == m).unwrap().id;
            let log = s.hand_over_log().unwrap();
            // r1 and f1 handed over, then the process dies; r2 handed over and confirmed;
            // r3 handed over but refused with a 4xx (known not delivered).
            for m in [
                "r1@amazee.io",
                "f1@amazee.io",
                "r2@amazee.io",
                "r3@amazee.io",
            ] {
                log.record(id(m), t0()).unwrap();
            }
            s.mark_sent_all(&[id("r2@amazee.io")], t0()).unwrap();
            s.mark_retry(id("r3@amazee.io"), t0(), Duration::seconds(30))
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let doubt: Vec<String> = s
            .replies_in_doubt()
            .unwrap()
            .into_iter()
            .map(|p| p.out_message_id)
            .collect();
        assert_eq!(doubt, ["r1@amazee.io"]);
        // The forward is still pending: internal mail is sent again rather than lost.
        let pending: Vec<String> = s
            .pending(t0() + Duration::minutes(1))
            .unwrap()
            .into_iter()
            .map(|p| p.out_message_id)
            .collect();
        assert_eq!(pending, ["r1@amazee.io", "f1@amazee.io", "r3@amazee.io"]);
        let notice = out("doubt.r1@amazee.io", Role::Staff);
        s.give_up(
            s.replies_in_doubt().unwrap()[0].id,
            "in doubt",
            true,
            Some(&notice),
            t0(),
        )
        .unwrap();
        assert!(s.replies_in_doubt().unwrap().is_empty());
        // The notice is queued for the same decision, the reply is not sent again.
        let pending: Vec<String> = s
            .pending(t0() + Duration::minutes(1))
            .unwrap()
            .into_iter()
            .map(|p| p.out_message_id)
            .collect();
        assert_eq!(
            pending,
            ["f1@amazee.io", "r3@amazee.io", "doubt.r1@amazee.io"]
        );
    }

    #[test]
    fn a_store_of_schema_1_is_migrated_keeping_its_rows_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute(
                "INSERT INTO messages (folder, uidvalidity, uid, content_hash, arrival, decided_at, decision, rules_version, verdict)
                 VALUES ('INBOX', 7, 1, 'a', 'x', 'x', 'accept', 'v', '{}')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO outbox (message, role, recipient, sender, out_message_id, raw, created_at, next_attempt_at)
                 VALUES (1, 'reply', 'jane@example.ch', 'support@amazee.io', 'old@amazee.io', x'00', 'x', '2000-01-01T00:00:00.000Z')",
                [],
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let pending = s.pending(t0()).unwrap();
        assert_eq!(pending.len(), 1);
        // The bytes moved to their own table (migration 3) unchanged.
        assert_eq!(pending[0].raw, [0]);
        assert!(s.replies_in_doubt().unwrap().is_empty());
        assert_eq!(
            s.decision_at("INBOX", 7, 1).unwrap().as_deref(),
            Some("accept")
        );
        // The old reply is counted by the loop breaker (migration 5).
        let logged: (String, String) = s
            .conn
            .query_row("SELECT address, org_domain FROM reply_log", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(logged, ("jane@example.ch".into(), "example.ch".into()));
    }

    #[test]
    fn a_batch_is_committed_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).unwrap();
            s.begin_batch().unwrap();
            record(&mut s, &ident(1, "a"), &[out("r1@amazee.io", Role::Reply)]);
            record(&mut s, &ident(2, "b"), &[out("r2@amazee.io", Role::Reply)]);
            // Inside the batch the decisions are already visible to the same connection.
            assert_eq!(
                s.seen(&ident(2, "b")).unwrap(),
                Seen::Decided("accept".into())
            );
            // The process dies before the commit.
        }
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.seen(&ident(1, "a")).unwrap(), Seen::New);
        assert!(s.pending(t0()).unwrap().is_empty());
        s.begin_batch().unwrap();
        record(&mut s, &ident(1, "a"), &[out("r1@amazee.io", Role::Reply)]);
        record(&mut s, &ident(2, "b"), &[out("r2@amazee.io", Role::Reply)]);
        s.commit_batch().unwrap();
        // A batch an error left open is dropped by the next one.
        s.begin_batch().unwrap();
        record(&mut s, &ident(3, "c"), &[out("r3@amazee.io", Role::Reply)]);
        s.begin_batch().unwrap();
        s.commit_batch().unwrap();
        assert_eq!(s.seen(&ident(3, "c")).unwrap(), Seen::New);
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.pending(t0()).unwrap().len(), 2);
        assert_eq!(
            s.seen(&ident(1, "a")).unwrap(),
            Seen::Decided("accept".into())
        );
    }

    #[test]
    fn the_reader_counts_and_the_probe_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut s = Store::open(&path).unwrap();
        record(
            &mut s,
            &ident(1, "a"),
            &[
                out("r1@amazee.io", Role::Reply),
                out("s1@amazee.io", Role::Staff),
            ],
        );
        let reader = StoreReader::open(&path).unwrap();
        assert_eq!(reader.unsent_count().unwrap(), 2);
        assert!(reader.requests_by_state().unwrap().is_empty());
        // The reader cannot write, even by accident.
        assert!(reader.conn.execute("DELETE FROM outbox", []).is_err());
        // The probe takes the write lock beside the open store and leaves nothing behind.
        probe_writable(&path, std::time::Duration::from_millis(100)).unwrap();
        assert_eq!(s.unsent_count().unwrap(), 2);
        // While the store holds a write transaction (a batch), the probe waits, then fails.
        s.begin_batch().unwrap();
        record(&mut s, &ident(2, "b"), &[]);
        let err = probe_writable(&path, std::time::Duration::from_millis(50)).unwrap_err();
        assert!(format!("{err:#}").contains("write lock"), "{err:#}");
        s.commit_batch().unwrap();
        probe_writable(&path, std::time::Duration::from_millis(50)).unwrap();
        // A store that is not there is not created.
        let missing = dir.path().join("missing.db");
        assert!(probe_writable(&missing, std::time::Duration::from_millis(50)).is_err());
        assert!(StoreReader::open(&missing).is_err());
        assert!(!missing.exists());
    }

    #[test]
    fn one_store_one_intake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = Store::open(&path).unwrap();
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("Another intake"), "{err}");
        drop(first);
        Store::open(&path).unwrap();
    }

    #[test]
    fn accounts_and_lookups_work_beside_a_running_intake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let watch = Store::open(&path).unwrap();
        let mut tool = Store::open_shared(&path).unwrap();
        assert!(
            tool.add_user("alice", UserRole::Staff, "$argon2id$x", "cli:t", t0())
                .unwrap()
        );
        assert!(tool.held_requests().unwrap().is_empty());
        drop(tool);
        // The running intake's lock is untouched.
        assert!(Store::open(&path).is_err());
        drop(watch);
    }

    #[test]
    fn every_reply_count_uses_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db")).unwrap();
        let plan = |sql: &str, index: &str, n: usize| {
            let args: Vec<String> = ["jane@example.ch".to_string(), ts(t0())]
                .into_iter()
                .skip(2 - n)
                .collect();
            let plan: Vec<String> = s
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|step| step.contains(index)),
                "{sql}: {plan:?}"
            );
        };
        plan(REPLIES_TO_ADDRESS, "reply_log_address", 2);
        plan(REPLIES_TO_ORG, "reply_log_org", 2);
        plan(REPLIES_SINCE, "reply_log_time", 1);
        plan(
            "SELECT 1 FROM messages WHERE message_id = ?1 AND content_hash != ?2 LIMIT 1",
            "messages_message_id",
            2,
        );
    }

    #[test]
    fn a_store_made_before_the_tokens_gets_them_and_keeps_the_outbox_column() {
        // A store at version 10 (the outbox in-doubt column last) takes the tokens on opening.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..10] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 10).unwrap();
        }
        assert!(MIGRATIONS[9].contains("in_doubt"));
        assert!(MIGRATIONS[10].contains("CREATE TABLE tokens"));
        let mut s = Store::open(&path).unwrap();
        let version: i64 = s
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert!(
            s.add_user("alice", UserRole::Staff, "$argon2id$x", "t", t0())
                .unwrap()
        );
        let id = s
            .create_token(
                &"a".repeat(64),
                "alice",
                crate::tokens::TokenKind::Feed,
                "",
                "t",
                t0(),
            )
            .unwrap();
        assert!(id.is_some());
        let in_doubt: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'in_doubt'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_doubt, 1);
    }

    #[test]
    fn a_removed_or_repassworded_user_loses_every_session_and_a_new_namesake_gets_none() {
        let mut s = Store::in_memory().unwrap();
        let later = t0() + Duration::hours(8);
        assert!(
            s.add_user("bob", UserRole::Admin, "$argon2id$x", "t", t0())
                .unwrap()
        );
        s.create_session("h1", "bob", UserRole::Admin, "c", t0(), later)
            .unwrap();
        assert_eq!(
            s.session("h1", t0()).unwrap().unwrap().role,
            UserRole::Admin
        );
        // A new password ends it.
        assert!(
            s.set_password_hash("bob", "$argon2id$y", "root", t0())
                .unwrap()
        );
        assert!(s.session("h1", t0()).unwrap().is_none());
        // Removed, then a namesake with another role: the old session opens nothing.
        s.create_session("h2", "bob", UserRole::Admin, "c", t0(), later)
            .unwrap();
        assert!(s.remove_user("bob", "root", t0()).unwrap());
        assert!(
            s.add_user("bob", UserRole::Security, "$argon2id$z", "root", t0())
                .unwrap()
        );
        assert!(s.session("h2", t0()).unwrap().is_none());
        // The role a session acts with is the user's now, not at login.
        s.create_session("h3", "bob", UserRole::Admin, "c", t0(), later)
            .unwrap();
        assert_eq!(
            s.session("h3", t0()).unwrap().unwrap().role,
            UserRole::Security
        );
    }
}
