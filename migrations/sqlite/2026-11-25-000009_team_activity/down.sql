DROP INDEX sessions_account_created;
DROP TABLE team_activity_events;
