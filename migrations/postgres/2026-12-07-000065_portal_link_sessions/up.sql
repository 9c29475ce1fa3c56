-- The console looks up the portal link that opened a session (its "Back to …" link, decision
-- 0033) on every page of a portal session: by the session's id.
CREATE INDEX portal_links_session ON portal_links (session_id);
