DROP TABLE telemetry_webhook_tests;
