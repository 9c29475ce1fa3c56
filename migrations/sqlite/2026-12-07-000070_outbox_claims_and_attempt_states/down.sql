ALTER TABLE notification_delivery_attempts DROP COLUMN state;
ALTER TABLE outbox DROP COLUMN claimed_by;
