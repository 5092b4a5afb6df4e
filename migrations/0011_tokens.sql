-- 11: tokens for what a browser session cannot carry: a calendar app polling the security
-- team's feed (`kind` `feed`: GET /feeds/TOKEN.ics) and a script asking the lookup API
-- (`api`: `Authorization: Bearer TOKEN` on /api/v1/lookup). Made on the console's /account
-- page or with `intake token add`. As for sessions, only a SHA-256 of the token is kept
-- (hex), so a copy of the store opens nothing. A revoked token keeps its row (when, by whom)
-- for the account page and `intake token list`, and never opens anything again. A token
-- opens something only while its user exists and was made after the user was (a later user
-- of the same name inherits nothing); removing a user revokes its tokens.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    user TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('feed', 'api')),
    label TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 64),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    revoked_by TEXT
) STRICT;
CREATE INDEX tokens_user ON tokens (user, id);
-- The console keeps the held requests in memory (calendar, feed, lookup API) and reads them
-- again only when this counter moved: every insert, update or delete of a request moves it.
CREATE TABLE requests_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO requests_version (id, version) VALUES (1, 0);
CREATE TRIGGER requests_version_insert AFTER INSERT ON requests
BEGIN UPDATE requests_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER requests_version_update AFTER UPDATE ON requests
BEGIN UPDATE requests_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER requests_version_delete AFTER DELETE ON requests
BEGIN UPDATE requests_version SET version = version + 1 WHERE id = 1; END;
