DROP TABLE billing_balances;
DROP TABLE cost_alert_firings;
DROP TABLE usage_records;
