ALTER TABLE memberships DROP COLUMN removed_at;
ALTER TABLE memberships DROP COLUMN invited_by;
ALTER TABLE memberships DROP COLUMN permissions;
ALTER TABLE memberships DROP COLUMN title;
ALTER TABLE memberships DROP COLUMN department;
