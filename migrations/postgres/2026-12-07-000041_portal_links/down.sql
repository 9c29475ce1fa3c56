ALTER TABLE sessions DROP COLUMN cap_scopes;
ALTER TABLE sessions DROP COLUMN cap_role;
DROP TABLE portal_links;
