-- Team invitations (seed 02). What is stored is what happened (sent, resent, accepted,
-- cancelled); "expired" is computed from expires_at. Only the SHA-256 of the token is kept.
-- At most one open invitation per (account, email): the partial unique index makes a second
-- concurrent invite of the same address fail instead of sending two links.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    department TEXT,
    title TEXT,
    message TEXT,
    permissions TEXT,
    invited_by TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'resent', 'accepted', 'cancelled')),
    token_hash TEXT NOT NULL UNIQUE,
    lifetime_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    resent_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX invitations_account ON invitations (account_id, created_at, id);
CREATE UNIQUE INDEX invitations_open_email ON invitations (account_id, email)
    WHERE status IN ('sent', 'resent');

-- The transactional outbox: messages written in the same transaction as the change that causes
-- them, delivered by a background worker (at least once). The payload is sealed with the master
-- key because it may carry a secret (an invitation link). A row is claimed by setting
-- claimed_until (a lease): a worker that dies mid-delivery loses its lease and the row is
-- delivered again by the next one.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    delivered_at BIGINT,
    abandoned_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
