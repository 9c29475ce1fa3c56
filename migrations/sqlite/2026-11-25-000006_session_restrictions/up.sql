-- A session may be restricted to one task: enrolling MFA (the account requires it) or changing
-- an expired password. Passwords remember when they were set, for expiry.
ALTER TABLE sessions ADD COLUMN restriction TEXT;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
