-- Sign-in sessions: bearer tokens `tnt_ses_<id>_<secret>` (SHA-256 of the secret stored),
-- bounded by the account's absolute lifetime and idle timeout.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, account_id);
