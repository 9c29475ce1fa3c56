-- Portal links (decision 0030): a single-use sign-in into the console for one member, minted by
-- an admin's credential or the operator. Only the SHA-256 of the token is stored. `cap_role` and
-- `cap_scopes` (a JSON array; NULL = no scopes) are the ceiling the session it opens carries:
-- the lower of the member's and the minting credential's power. `used_at` is set once, by a
-- compare-and-set, which is what makes the link single-use.
CREATE TABLE portal_links (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    intent TEXT NOT NULL,
    return_url TEXT NOT NULL,
    cap_role TEXT NOT NULL,
    cap_scopes TEXT,
    minted_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    session_id TEXT
);
CREATE INDEX portal_links_account ON portal_links (account_id, created_at);

-- A session opened through a portal link carries the link's ceiling; NULL for every other session.
ALTER TABLE sessions ADD COLUMN cap_role TEXT;
ALTER TABLE sessions ADD COLUMN cap_scopes TEXT;
