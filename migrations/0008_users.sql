-- 8: staff accounts (`intake user ...`, later the staff console) and a log of staff actions.
-- A user's password is kept only as an argon2id PHC string. `actions` records who did what
-- when (actor: a user name, or `cli:<login>` for the command line, which no user name can
-- be), for account changes now and for every staff action of the console later.
CREATE TABLE users (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^a-z0-9._-]*'),
    role TEXT NOT NULL CHECK (role IN ('staff', 'security', 'admin')),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2%'),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX actions_subject ON actions (subject, at);
