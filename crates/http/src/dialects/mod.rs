//! One module per API document. Each registers its own routes with its own casing.

mod account_settings;
mod admin;
mod audit_logs;
mod catalog_accounts;
mod catalog_token_grant;
mod notifications;
mod organization;
mod portal_links;
mod settings_catalog;
mod team_activity;
mod team_invitations;
mod team_members;
mod tenant_settings;
mod usage;
mod user_api_keys;
mod user_mfa;
mod user_preferences;
mod user_profile;
mod user_sessions;

use actix_web::web;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    account_settings::routes(cfg);
    admin::routes(cfg);
    portal_links::routes(cfg);
    notifications::routes(cfg);
    audit_logs::routes(cfg);
    // Before the member routes: `/members/invite` must win over `/members/{id}`.
    team_invitations::routes(cfg);
    team_activity::routes(cfg);
    team_members::routes(cfg);
    tenant_settings::routes(cfg);
    settings_catalog::routes(cfg);
    catalog_token_grant::routes(cfg);
    catalog_accounts::routes(cfg);
    organization::routes(cfg);
    user_api_keys::routes(cfg);
    user_mfa::routes(cfg);
    user_preferences::routes(cfg);
    user_profile::routes(cfg);
    user_sessions::routes(cfg);
    usage::routes(cfg);
}
