-- Named operator keys (decision 0031): `/admin` credentials beside the bootstrap key, each
-- listed, rotated and revoked on its own. Only the SHA-256 of the token is stored (the id is
-- the token's public part, so the lookup needs no secret); `revoked_at` set = refused.
CREATE TABLE operator_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
