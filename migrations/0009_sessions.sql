-- 9: sessions of the staff console. Only a SHA-256 of the session token is kept (hex), so
-- a copy of the store lets nobody in. `csrf` is the session's form token; the role is the
-- user's at login. Expired rows are refused and deleted when met, and at every login.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('staff', 'security', 'admin')),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions (expires_at);
