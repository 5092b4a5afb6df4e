-- 5: the loop breaker counts per normalized address (lowercase, no +tag), per
-- organizational domain, and all replies of the last hour; each count has its index.
-- Old replies are carried over with the address lowercased and the domain as written
-- (the Public Suffix List is not in SQL); they leave the 24-hour window within a day.
-- Also Message-IDs alone are indexed: a new message reusing a known Message-ID with
-- other content is found without a scan, and gets its own reference.
CREATE TABLE reply_log (
    outbox INTEGER PRIMARY KEY REFERENCES outbox (id),
    address TEXT NOT NULL,
    org_domain TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX reply_log_address ON reply_log (address, created_at);
CREATE INDEX reply_log_org ON reply_log (org_domain, created_at);
CREATE INDEX reply_log_time ON reply_log (created_at);
INSERT INTO reply_log (outbox, address, org_domain, created_at)
    SELECT id, lower(recipient), lower(substr(recipient, instr(recipient, '@') + 1)), created_at
    FROM outbox WHERE role = 'reply';
CREATE INDEX messages_message_id ON messages (message_id);
