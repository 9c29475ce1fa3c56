//! The user and organization settings API (`/api/...`): snake_case inside `{"data": ...}`
//! envelopes, errors as `{"error": {"code", "message", "details"}}`.

mod api_keys;
mod codec;
mod errors;
mod mfa;
mod notifications;
pub(super) mod openapi;
mod organization;
mod preferences;
mod profile;
mod sessions;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    notifications::routes(cfg);
    organization::routes(cfg);
    api_keys::routes(cfg);
    mfa::routes(cfg);
    preferences::routes(cfg);
    profile::routes(cfg);
    sessions::routes(cfg);
}
