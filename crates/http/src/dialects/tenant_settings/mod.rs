//! The tenant settings API (`/tenants/{id}/settings`): camelCase, RFC 7396 merge-PATCH, RFC 9457
//! problem+json errors.

mod codec;
mod errors;
pub(super) mod openapi;
mod settings;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    settings::routes(cfg);
}
