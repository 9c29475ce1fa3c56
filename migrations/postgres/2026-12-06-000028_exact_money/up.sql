-- Amounts become exact: whole micro-units (10^-6 of the currency unit) as integers, never
-- floating point (decision 0025). Existing values are rounded to the nearest micro-unit.
ALTER TABLE usage_records ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN balance_micros BIGINT;
UPDATE usage_records SET
    cost_micros = CAST(ROUND(cost * 1000000) AS BIGINT),
    balance_micros = CAST(ROUND(balance * 1000000) AS BIGINT);
ALTER TABLE usage_records DROP COLUMN cost;
ALTER TABLE usage_records DROP COLUMN balance;

ALTER TABLE cost_alert_firings ADD COLUMN total_micros BIGINT NOT NULL DEFAULT 0;
UPDATE cost_alert_firings SET total_micros = CAST(ROUND(total * 1000000) AS BIGINT);
ALTER TABLE cost_alert_firings DROP COLUMN total;

ALTER TABLE billing_balances ADD COLUMN balance_micros BIGINT NOT NULL DEFAULT 0;
UPDATE billing_balances SET balance_micros = CAST(ROUND(balance * 1000000) AS BIGINT);
ALTER TABLE billing_balances DROP COLUMN balance;
