-- The change feed (decision 0047): every write transaction that moves a read cache's epoch
-- records here, in the same transaction, what it moved (scope `global`, `account` or `user`,
-- with the id as target), so other processes on the same database apply the same bumps.
-- A sequence is not commit order here (a transaction holding 10 can commit after one holding
-- 11), so each row carries its writer's transaction id: a follower re-reads every row whose
-- transaction was still running at its previous poll (`xid` at or above that snapshot's xmin).
CREATE TABLE cache_changes (
    seq BIGSERIAL PRIMARY KEY,
    xid BIGINT DEFAULT (pg_current_xact_id()::text::bigint),
    scope TEXT NOT NULL,
    target TEXT,
    -- The writing process's random mark: its own follower skips its rows (its writes bumped
    -- its caches already). NULL for a row written by hand, which every process applies.
    origin BIGINT
);
CREATE INDEX cache_changes_by_xid ON cache_changes (xid);
