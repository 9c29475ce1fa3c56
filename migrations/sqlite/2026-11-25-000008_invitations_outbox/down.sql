DROP TABLE outbox;
DROP TABLE invitations;
