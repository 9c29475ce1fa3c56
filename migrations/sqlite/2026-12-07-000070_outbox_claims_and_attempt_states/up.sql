-- Who holds an outbox lease (a token per claimed batch): a worker renews, and starts, only the
-- rows it still holds, so one whose lease ran out and was taken over never touches the
-- taker's claim (decision 0032).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
-- An attempt is written before it is sent ('in_flight') and completed after ('completed');
-- one whose process died before completing it is marked 'interrupted' when the next attempt
-- of its delivery starts. Attempts logged before this column were all completed.
ALTER TABLE notification_delivery_attempts ADD COLUMN state TEXT NOT NULL DEFAULT 'completed';
