-- At most one owner per account, whatever the code does: ownership moves only by demoting the
-- owner and promoting an admin in one transaction (decision 0019), and this index makes any
-- path that would leave two owners fail instead. Every account has had exactly one owner since
-- the foundation, so existing rows satisfy it.
CREATE UNIQUE INDEX memberships_one_owner ON memberships (account_id) WHERE role = 'owner';
