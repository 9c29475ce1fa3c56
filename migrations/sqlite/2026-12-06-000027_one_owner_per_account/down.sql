DROP INDEX memberships_one_owner;
