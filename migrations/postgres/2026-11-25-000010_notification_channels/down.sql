DROP TABLE notification_delivery_attempts;
DROP TABLE notification_deliveries;
DROP TABLE notification_rules;
DROP TABLE notification_channels;
