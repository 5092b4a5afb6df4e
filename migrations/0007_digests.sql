-- 7: the security team's daily digests, one row per slot sent (or skipped on the first start).
-- A digest's outbox row hangs off a `messages` row of its own (folder `digest`, uid the slot
-- in seconds), so it is queued, sent and retried like every other message, exactly once.
CREATE TABLE digests (
    slot TEXT PRIMARY KEY,
    sent INTEGER NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
