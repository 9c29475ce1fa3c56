-- Email change confirmation links: a single-use token mailed to the NEW address only (SHA-256
-- of the token stored). The user's address changes when the link is used; `new_email` is the
-- canonical address the link was sent to. A link made before the user's last password change
-- is void (the store compares `created_at` with `users.password_changed_at`).
CREATE TABLE email_changes (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_changes_user ON email_changes (user_id, created_at);
