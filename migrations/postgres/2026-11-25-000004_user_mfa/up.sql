-- TOTP enrollment per user: the sealed secret, whether it is active, and the last accepted time
-- step (a code is refused the second time: replay protection).
CREATE TABLE user_mfa (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enrollment_id TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    last_used_step BIGINT,
    updated_at BIGINT NOT NULL
);
