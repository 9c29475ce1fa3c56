//! Store integration tests: the real Diesel store on SQLite and, when `TENANTRY_TEST_PG` names a
//! cluster, PostgreSQL, driven through the domain services with a controlled clock.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod change_feed;
mod digests;
mod invitations;
mod outbox_claims;
mod pool_checks;
mod pool_waits;
mod portal_links;
mod retention;
mod round_trips;
mod sessions;
mod support;
mod write_epochs;
