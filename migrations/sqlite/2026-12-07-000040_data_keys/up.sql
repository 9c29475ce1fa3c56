-- Envelope encryption (decision 0027): the data keys secrets are sealed with, each wrapped
-- (encrypted) by the key-encryption key, which never reaches the database. Exactly one key is
-- `sealing`; `active` keys still open what they sealed; `retired` keys sealed nothing that is
-- still stored and are kept (wrapped) so that nothing is ever lost.
CREATE TABLE data_keys (
    id TEXT PRIMARY KEY NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sealing', 'active', 'retired')),
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
-- Two instances adding a sealing key at once: the second insert fails and it uses the first.
CREATE UNIQUE INDEX data_keys_one_sealing ON data_keys (state) WHERE state = 'sealing';
