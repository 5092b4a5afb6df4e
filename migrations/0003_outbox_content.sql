-- 3: message bytes in a table of their own. SQLite rewrites a whole row on UPDATE, so
-- with the bytes in `outbox` every hand-over and every "sent" rewrote them too.
CREATE TABLE outbox_content (
    outbox INTEGER PRIMARY KEY REFERENCES outbox (id),
    raw BLOB NOT NULL
) STRICT;
INSERT INTO outbox_content (outbox, raw) SELECT id, raw FROM outbox;
ALTER TABLE outbox DROP COLUMN raw;
