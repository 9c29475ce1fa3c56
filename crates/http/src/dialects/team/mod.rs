//! The team API (`/v2/accounts/team/...` and the invitation link `/v2/invitations/{token}`):
//! camelCase bodies, errors in the account settings v2 format.

mod activity;
mod errors;
mod invitations;
mod members;
pub(super) mod openapi;
mod portal_links;

use actix_web::web;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    // Before the member routes: `/members/invite` must win over `/members/{id}`.
    invitations::routes(cfg);
    activity::routes(cfg);
    members::routes(cfg);
    portal_links::routes(cfg);
}
