-- Foundation schema. Timestamps are microseconds since the Unix epoch (BIGINT) so that both
-- backends store, compare and sort them identically; ids are public ids (`acc_...`) as TEXT.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    tier TEXT NOT NULL DEFAULT 'free',
    created_at BIGINT NOT NULL
);
CREATE INDEX accounts_created ON accounts (created_at, id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'pending', 'removed')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '["*"]',
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_account_user ON api_keys (account_id, user_id);

CREATE TABLE settings_documents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    document TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (account_id, section)
);

CREATE TABLE settings_history (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (account_id, section, version)
);

CREATE TABLE user_preferences (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pref_key TEXT NOT NULL,
    value TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, pref_key)
);

CREATE TABLE ip_allowlist_entries (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    cidr TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    created_by TEXT,
    UNIQUE (account_id, cidr)
);

CREATE TABLE mfa_backup_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Append-only. account_id is NULL for operator actions that belong to no account.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    diff TEXT,
    ip TEXT,
    request_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_account_time ON audit_log (account_id, created_at);

-- Instance-wide values (the operator key hash).
CREATE TABLE instance_meta (
    meta_key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
