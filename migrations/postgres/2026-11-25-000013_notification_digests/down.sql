DROP TABLE notification_digest_items;
