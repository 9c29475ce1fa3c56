//! The account settings API v2 (`/v2/accounts/settings...`, the audit log and host-reported
//! usage): snake_case bodies, flat `{"error", "message", "details"}` errors.

mod audit_logs;
mod errors;
pub(super) mod openapi;
mod sections;
mod usage;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    sections::routes(cfg);
    audit_logs::routes(cfg);
    usage::routes(cfg);
}
