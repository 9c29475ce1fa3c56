//! The operator API (`/admin/...`): guarded by the operator key, errors in the account settings
//! v2 format.

mod accounts;
mod errors;
pub(super) mod openapi;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    accounts::routes(cfg);
}
