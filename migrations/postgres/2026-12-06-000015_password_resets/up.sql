-- Password set-up and reset links: a single-use token sent only to the user's mailbox (SHA-256
-- of the token stored). `purpose` is `reset` (asked for by the user) or `setup` (an owner the
-- operator created); both end in the same way: the password is set, every session ends.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'setup')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- Email addresses are canonical (trimmed, lowercase) from now on. Rows whose lowercase form is
-- not shared with another row are rewritten; a pair that differs only in case (two identities
-- made by the old code) is left for the operator, since merging identities is not a migration's
-- decision. `tenantry check` reports them.
UPDATE users SET email = lower(email)
WHERE email <> lower(email)
  AND NOT EXISTS (
    SELECT 1 FROM users AS other
    WHERE lower(other.email) = lower(users.email) AND other.id <> users.id
  );
UPDATE invitations SET email = lower(email)
WHERE email <> lower(email)
  AND NOT (status IN ('sent', 'resent') AND EXISTS (
    SELECT 1 FROM invitations AS other
    WHERE other.account_id = invitations.account_id
      AND lower(other.email) = lower(invitations.email)
      AND other.id <> invitations.id
      AND other.status IN ('sent', 'resent')
  ));
