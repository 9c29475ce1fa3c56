//! The settings catalog API (`/accounts/{accountName}/settings/...`, the account list, the
//! version and the token grant, all also under `/v1`): camelCase, `[{"errorCode",
//! "errorMessage"}]` errors.

mod accounts;
mod codec;
mod errors;
pub(super) mod openapi;
mod security_preferences;
mod settings;
mod token_grant;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    settings::routes(cfg);
    token_grant::routes(cfg);
    accounts::routes(cfg);
}
