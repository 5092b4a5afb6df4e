-- 4: the loop breaker counts a sender's recent replies on every decision: indexed, or
-- that count scans the whole outbox, which only grows.
CREATE INDEX outbox_replies ON outbox (lower(recipient), created_at) WHERE role = 'reply';
