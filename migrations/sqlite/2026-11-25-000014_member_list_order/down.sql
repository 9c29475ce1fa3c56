DROP INDEX memberships_account_counts;
DROP INDEX memberships_account_order;
