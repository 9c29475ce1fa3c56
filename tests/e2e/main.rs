//! End-to-end tests: each starts the real `tenantry` binary on `127.0.0.1:0` with a fresh
//! database (SQLite always; PostgreSQL too when `TENANTRY_TEST_PG` names a cluster) and talks
//! HTTP to it. One test binary on purpose: every extra binary costs a link step.

// Test code: a failed expectation should panic with its message, that is the test failing.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod browser;
mod smtp;
mod support;

mod abuse_limits;
mod account_settings_conformance;

mod admin;
mod allowlist;
mod api_keys;
mod attack_regressions;
mod audit;
mod auth;
mod authorization;
mod backup_restore;
mod catalog_notifications;
mod catalog_token_grant;
mod cli_progress;
mod cli_transfer;
mod configuration;
mod conformance_user_org_catalog_tenant;
mod console;
mod console_account;
mod console_audit;
mod console_browser;
mod console_links;
mod console_notifications;
mod console_password_profile;
mod console_portal;
mod console_screenshots;
mod console_settings;
mod console_team;
mod console_team_browser;
mod cost_alerts;
mod crash_writers;
mod custom_permissions;
mod documented_responses;
mod email_change;
mod errors;
mod export_import;
mod http_semantics;
mod identity_links;
mod import_identities;
mod integrity_check;
mod key_activity;
mod key_rotation;
mod lifecycle;
mod metrics;
mod notification_test;
mod notifications;
mod one_domain_laws;
mod openapi;
mod operating_safely;
mod operator_access;
mod operator_keys;
mod organization;
mod outbox_crash;
mod outbox_takeover;
mod ownership_transfer;
mod portal_links;
mod preconditions;
mod protocol;
mod read_as_enforced;
mod read_caches;
mod request_audit;
mod secret_hygiene;
mod sessions;
mod settings;
mod settings_catalog;
mod settings_write;
mod team_activity;
mod team_conformance;
mod team_invitation_list;
mod team_invitations;
mod team_members;
mod tenant_settings;
mod two_instances;
mod user_mfa;
mod user_preferences;
mod user_profile;
