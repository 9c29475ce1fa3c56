-- A webhook channel's signing secret, replaced, stays valid until `previous_secret_until`
-- (microseconds): deliveries are signed with both, so receivers roll over without missing an
-- event (decision 0027).
ALTER TABLE notification_channels ADD COLUMN previous_secret_sealed TEXT;
ALTER TABLE notification_channels ADD COLUMN previous_secret_until BIGINT;
