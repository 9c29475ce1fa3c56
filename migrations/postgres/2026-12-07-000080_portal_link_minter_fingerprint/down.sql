ALTER TABLE portal_links DROP COLUMN minter_fingerprint;
