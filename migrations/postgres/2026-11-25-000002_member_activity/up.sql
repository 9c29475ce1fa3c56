-- When the member last used the API (updated at most hourly); drives seed 04's
-- inactivityUserLockThreshold.
ALTER TABLE memberships ADD COLUMN last_active_at BIGINT;
