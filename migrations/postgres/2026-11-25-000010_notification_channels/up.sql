-- Seed 03 notification channels and rules (the account's own; seed 01's built-in channels live
-- in the `notifications` settings section), and the delivery log.
CREATE TABLE notification_channels (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'slack', 'webhook')),
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    config TEXT NOT NULL,
    secret_sealed TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notification_channels_account ON notification_channels (account_id, created_at);

CREATE TABLE notification_rules (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    event TEXT NOT NULL,
    channel_ids TEXT NOT NULL,
    filters TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_rules_account ON notification_rules (account_id, created_at);

-- One row per (event, channel); `job` is the sealed message (kept for redelivery).
CREATE TABLE notification_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'retrying', 'delivered', 'failed')),
    job TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notification_deliveries_account ON notification_deliveries (account_id, created_at, id);

CREATE TABLE notification_delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    response_code BIGINT,
    latency_ms BIGINT,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
