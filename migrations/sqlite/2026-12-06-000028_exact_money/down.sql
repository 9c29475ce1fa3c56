ALTER TABLE usage_records ADD COLUMN cost DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN balance DOUBLE PRECISION;
UPDATE usage_records SET cost = cost_micros / 1000000.0, balance = balance_micros / 1000000.0;
ALTER TABLE usage_records DROP COLUMN cost_micros;
ALTER TABLE usage_records DROP COLUMN balance_micros;

ALTER TABLE cost_alert_firings ADD COLUMN total DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE cost_alert_firings SET total = total_micros / 1000000.0;
ALTER TABLE cost_alert_firings DROP COLUMN total_micros;

ALTER TABLE billing_balances ADD COLUMN balance DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE billing_balances SET balance = balance_micros / 1000000.0;
ALTER TABLE billing_balances DROP COLUMN balance_micros;
