-- A delivery whose channel was deleted or disabled while it waited is cancelled: never (or no
-- more) sent, shown as `cancelled` in the delivery log. A nullable column, so code running
-- before this migration (which never reads it) keeps working.
ALTER TABLE notification_deliveries ADD COLUMN cancelled_at BIGINT;
