-- 1: messages, outbox, mailbox position.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    message_id TEXT,
    content_hash TEXT NOT NULL,
    sender TEXT,
    arrival TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    verdict TEXT NOT NULL,
    tagged INTEGER NOT NULL DEFAULT 0,
    UNIQUE (folder, uidvalidity, uid)
) STRICT;
CREATE INDEX messages_identity ON messages (content_hash, message_id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages (id),
    role TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    out_message_id TEXT NOT NULL UNIQUE,
    raw BLOB NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    failed TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (sent_at, failed, next_attempt_at);
CREATE TABLE mailbox_state (
    source TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    answer_since TEXT NOT NULL
) STRICT;
