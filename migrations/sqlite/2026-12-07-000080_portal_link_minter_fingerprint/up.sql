-- Which secret the credential that minted a portal link had when it minted it (a SHA-256 of
-- its stored hash; NULL for a session, whose secret never changes, and for the operator's
-- configured key): a link and the sessions it opened live only while their minter is that same
-- live credential, so regenerating an API key or rotating a named operator key ends them
-- (decision 0036).
ALTER TABLE portal_links ADD COLUMN minter_fingerprint TEXT;
