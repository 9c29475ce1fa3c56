-- Events held for an email digest (seed 01 `frequency`: daily_digest, weekly_digest): sent as
-- one email when their period ends, then marked flushed.
CREATE TABLE notification_digest_items (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    channel_id TEXT NOT NULL,
    event TEXT NOT NULL,
    period_end BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    flushed_at BIGINT
);
CREATE INDEX notification_digest_items_due ON notification_digest_items (period_end)
    WHERE flushed_at IS NULL;
