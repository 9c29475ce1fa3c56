ALTER TABLE memberships DROP COLUMN removed_at, DROP COLUMN invited_by, DROP COLUMN permissions,
    DROP COLUMN title, DROP COLUMN department;
