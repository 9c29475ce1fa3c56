ALTER TABLE notification_deliveries DROP COLUMN cancelled_at;
