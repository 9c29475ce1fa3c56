ALTER TABLE sessions DROP COLUMN restriction;
ALTER TABLE users DROP COLUMN password_changed_at;
