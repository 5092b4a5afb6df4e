-- 2: when each message's content was last handed to the mail server.
ALTER TABLE outbox ADD COLUMN handed_over_at TEXT;
