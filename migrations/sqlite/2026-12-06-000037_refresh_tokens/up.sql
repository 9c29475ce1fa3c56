-- Refresh tokens of the token grant (`/authorization/token`): `tnt_rft_<id>_<secret>`, only the
-- SHA-256 of the secret stored. Each sign-in starts a family; every refresh marks its token used
-- and adds the next one to the family, so a token presented twice is recognised as stolen and
-- the whole family (with the sessions it issued) is revoked (decision 0024).
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    family_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
