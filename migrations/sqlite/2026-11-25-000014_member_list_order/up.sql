-- The member list pages by (created_at, user_id) within an account (keyset cursor), and counts
-- members by role and status on every list: both read from an index instead of sorting or
-- scanning the account's rows.
CREATE INDEX memberships_account_order ON memberships (account_id, created_at, user_id);
CREATE INDEX memberships_account_counts ON memberships (account_id, status, role);
