-- Host-reported usage and cost, idempotent by the host's record id; the first firing of each
-- cost alert per period (so it fires once); the last reported balance (auto-recharge fires when
-- the balance falls below its threshold, not on every record while it stays there).
CREATE TABLE usage_records (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    record_id TEXT NOT NULL,
    cost DOUBLE PRECISION NOT NULL,
    balance DOUBLE PRECISION,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, record_id)
);
CREATE INDEX usage_records_time ON usage_records (account_id, occurred_at);

CREATE TABLE cost_alert_firings (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    alert_key TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    fired_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, alert_key, period_start)
);

CREATE TABLE billing_balances (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    balance DOUBLE PRECISION NOT NULL,
    occurred_at BIGINT NOT NULL
);
