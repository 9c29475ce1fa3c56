//! One folder per API document, each registering its own routes in its own casing, with its DTO
//! conversions beside the handlers and ONE error mapper (`errors.rs`) that matches every variant
//! of the domain errors the folder receives: a variant added to a domain error is a compile error
//! here, not a 500 (decision 0029).
//!
//! **Architecture invariant:** a dialect folder never imports another (xtask's tidy test checks
//! it); what two dialects share lives in [`common`] or in the crate-level modules (`auth`,
//! `error`, `json_body`, ...).

mod account_settings;
mod admin;
mod common;
mod settings_catalog;
mod team;
mod tenant_settings;
mod user_org;

use actix_web::web;

/// Every dialect's routes. Paths of different folders never overlap (each API owns its prefix),
/// so the order between folders is free; inside a folder it is the folder's business.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    account_settings::routes(cfg);
    admin::routes(cfg);
    user_org::routes(cfg);
    team::routes(cfg);
    tenant_settings::routes(cfg);
    settings_catalog::routes(cfg);
}

/// Each API's rows of the OpenAPI route table, for openapi/operations.rs to assemble in document
/// order (decision 0042).
pub(crate) mod openapi_rows {
    pub(crate) use super::account_settings::openapi::operations as account_settings;
    pub(crate) use super::admin::openapi::operations as admin;
    pub(crate) use super::settings_catalog::openapi::operations as settings_catalog;
    pub(crate) use super::team::openapi::operations as team;
    pub(crate) use super::tenant_settings::openapi::operations as tenant_settings;
    pub(crate) use super::user_org::openapi::operations as user_org;
}
