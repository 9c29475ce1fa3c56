-- Seed 02 member details: department and title (max 100 characters, checked in the domain),
-- custom permissions (JSON array; NULL = the role's defaults), who invited the member, and when a
-- member was removed (removed members stay for the audit trail but are no longer listed).
ALTER TABLE memberships ADD COLUMN department TEXT;
ALTER TABLE memberships ADD COLUMN title TEXT;
ALTER TABLE memberships ADD COLUMN permissions TEXT;
ALTER TABLE memberships ADD COLUMN invited_by TEXT;
ALTER TABLE memberships ADD COLUMN removed_at BIGINT;
