-- The change feed (decision 0047): every write transaction that moves a read cache's epoch
-- records here, in the same transaction, what it moved (scope `global`, `account` or `user`,
-- with the id as target), so other processes on the same database apply the same bumps.
-- AUTOINCREMENT: SQLite serialises writers, so `seq` order is commit order, and a number is
-- never reused after the newest rows were pruned. `xid` is PostgreSQL's alone (NULL here).
CREATE TABLE cache_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    xid BIGINT,
    scope TEXT NOT NULL,
    target TEXT,
    -- The writing process's random mark: its own follower skips its rows (its writes bumped
    -- its caches already). NULL for a row written by hand, which every process applies.
    origin BIGINT
);
