-- 10: a customer reply given up on because its delivery is in doubt (handed to the server,
-- no answer) is marked, so staff can send it again from the console; a refused one is not.
ALTER TABLE outbox ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0;
