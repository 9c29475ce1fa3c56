-- Seed 04 `telemetryWebhook/test`: what each test delivery's receiver answered, so the verify
-- call (with the returned telemetryEventId) can confirm it.
CREATE TABLE telemetry_webhook_tests (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    response_code BIGINT,
    error TEXT,
    tested_at BIGINT NOT NULL
);
CREATE INDEX telemetry_webhook_tests_account ON telemetry_webhook_tests (account_id, tested_at);
