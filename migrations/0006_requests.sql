-- 6: requests as conversations. A request's record (merged items, state, history) is one
-- JSON document (`conversation::RequestRecord`, serde); its state and organization are
-- columns for the queries that need them. `request_ids` finds a request from any Message-ID
-- of its thread (the customer's and ours). The original bytes of every decided message are
-- kept, so a verdict can be rendered again and shown to staff.
CREATE TABLE requests (
    reference TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('incomplete', 'rejected', 'accepted', 'review', 'cancelled')),
    org_domain TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX requests_org ON requests (org_domain, state);
CREATE TABLE request_ids (
    message_id TEXT PRIMARY KEY,
    reference TEXT NOT NULL REFERENCES requests (reference)
) STRICT;
CREATE TABLE message_raw (
    message INTEGER PRIMARY KEY REFERENCES messages (id),
    raw BLOB NOT NULL
) STRICT;
ALTER TABLE messages ADD COLUMN request TEXT;
