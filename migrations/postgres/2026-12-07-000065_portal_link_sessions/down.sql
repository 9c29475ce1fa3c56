DROP INDEX portal_links_session;
