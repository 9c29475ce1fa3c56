-- Host-reported team activity (seed 02 activity figures), idempotent by the host's event id:
-- a retried batch finds its events already here and skips them.
CREATE TABLE team_activity_events (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, event_id)
);
CREATE INDEX team_activity_time ON team_activity_events (account_id, occurred_at);
CREATE INDEX team_activity_user ON team_activity_events (account_id, user_id, occurred_at);
-- Sign-ins per member and period are counted from sessions.
CREATE INDEX sessions_account_created ON sessions (account_id, created_at);
