ALTER TABLE memberships DROP COLUMN last_active_at;
