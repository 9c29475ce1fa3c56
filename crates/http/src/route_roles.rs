//! The least role each member route needs: below it the route refuses every request, whatever
//! its path parameters, query or body say. `input_errors::refusals_first` uses it to answer such
//! a caller with that refusal instead of with what is wrong with its request (a viewer's invalid
//! body to an admin route is 403, never the 400/422 that would show how the route validates).
//!
//! The services keep deciding: this table never lets a request through, it only chooses which
//! error a caller who cannot succeed sees first. Where the domain names the rule (a settings
//! section's write role, the team's manager role) the table asks the domain; the rest repeat the
//! services' `Role::Admin` checks. A row that disagrees with its service shows in the e2e test
//! `errors::refused_callers_get_their_refusal_whatever_the_body`, which checks every write
//! operation against the authorization matrix in both directions.
//!
//! Routes whose least role depends on the body (the settings import: each named section's role)
//! have no row; their handlers order the checks themselves.

use actix_web::http::Method;
use actix_web::HttpRequest;
use serde_json::json;
use tenantry_kernel::Role;
use tenantry_settings::Section;
use tenantry_team::MANAGER_ROLE;

use crate::error::{ApiError, Dialect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Role(Role),
    /// The write role of one settings section.
    Section(Section),
    /// The write role of the section the `{section}` segment names (none for a name that is no
    /// section: the route answers 404 to everyone).
    SectionInPath,
}

use Needs::SectionInPath;

const ADMIN: Needs = Needs::Role(Role::Admin);
const MANAGER: Needs = Needs::Role(MANAGER_ROLE);

/// (method, route pattern as the router and the OpenAPI document spell it, what it needs).
const ROUTES: &[(&str, &str, Needs)] = &[
    // The account settings API.
    ("PUT", "/v2/accounts/settings/{section}", SectionInPath),
    (
        "GET",
        "/v2/accounts/settings/{section}/history",
        SectionInPath,
    ),
    (
        "POST",
        "/v2/accounts/settings/{section}/rollback",
        SectionInPath,
    ),
    (
        "POST",
        "/v2/accounts/settings/notifications/test",
        Needs::Section(Section::Notifications),
    ),
    ("GET", "/v2/accounts/audit-logs", ADMIN),
    // A portal link signs a member in: admins only, never for anyone above them (decision 0030).
    ("POST", "/v2/accounts/portal-links", ADMIN),
    ("POST", "/v2/accounts/usage", ADMIN),
    // The team API.
    ("POST", "/v2/accounts/team/members", MANAGER),
    ("POST", "/v2/accounts/team/members/invite", MANAGER),
    ("POST", "/v2/accounts/team/members/bulk", MANAGER),
    (
        "POST",
        "/v2/accounts/team/transfer-ownership",
        Needs::Role(Role::Owner),
    ),
    ("PUT", "/v2/accounts/team/members/{id}", MANAGER),
    ("DELETE", "/v2/accounts/team/members/{id}", MANAGER),
    ("GET", "/v2/accounts/team/invitations", MANAGER),
    ("GET", "/v2/accounts/team/invitations/{id}", MANAGER),
    ("POST", "/v2/accounts/team/invitations/{id}/resend", MANAGER),
    ("DELETE", "/v2/accounts/team/invitations/{id}", MANAGER),
    ("POST", "/v2/accounts/team/activity/events", MANAGER),
    // The user and organization API.
    ("PUT", "/api/session-timeout", ADMIN),
    ("POST", "/api/settings", ADMIN),
    ("GET", "/api/settings/ip-whitelist", ADMIN),
    ("POST", "/api/settings/ip-whitelist", ADMIN),
    ("DELETE", "/api/settings/ip-whitelist/{id}", ADMIN),
    ("POST", "/api/settings/ip-whitelist/toggle", ADMIN),
    ("PUT", "/api/settings/log-retention", ADMIN),
    ("GET", "/api/notifications/channels", ADMIN),
    ("POST", "/api/notifications/channels", ADMIN),
    ("GET", "/api/notifications/channels/{id}", ADMIN),
    ("PUT", "/api/notifications/channels/{id}", ADMIN),
    ("DELETE", "/api/notifications/channels/{id}", ADMIN),
    ("POST", "/api/notifications/channels/{id}/test", ADMIN),
    ("GET", "/api/notifications/rules", ADMIN),
    ("POST", "/api/notifications/rules", ADMIN),
    ("GET", "/api/notifications/rules/{id}", ADMIN),
    ("PUT", "/api/notifications/rules/{id}", ADMIN),
    ("DELETE", "/api/notifications/rules/{id}", ADMIN),
    ("GET", "/api/notifications/deliveries", ADMIN),
    ("GET", "/api/notifications/deliveries/{id}", ADMIN),
    (
        "POST",
        "/api/notifications/deliveries/{id}/redeliver",
        ADMIN,
    ),
    ("POST", "/api/notifications/events", ADMIN),
    // The settings catalog API: every route is the account's owner's or an admin's.
    ("GET", "/accounts/{account_name}/settings", ADMIN),
    ("GET", "/accounts/{account_name}/settings/", ADMIN),
    (
        "GET",
        "/accounts/{account_name}/settings/PUSH_NOTIFICATIONS/availableChannels",
        ADMIN,
    ),
    (
        "GET",
        "/accounts/{account_name}/settings/{setting_name}",
        ADMIN,
    ),
    (
        "POST",
        "/accounts/{account_name}/settings/{setting_name}",
        ADMIN,
    ),
    (
        "PUT",
        "/accounts/{account_name}/settings/{setting_name}",
        ADMIN,
    ),
    (
        "PATCH",
        "/accounts/{account_name}/settings/{setting_name}",
        ADMIN,
    ),
    (
        "DELETE",
        "/accounts/{account_name}/settings/{setting_name}",
        ADMIN,
    ),
    (
        "POST",
        "/accounts/{account_name}/telemetryWebhook/test",
        ADMIN,
    ),
    // The tenant settings API.
    ("PATCH", "/tenants/{id}/settings", ADMIN),
];

fn needs(method: &Method, pattern: &str) -> Option<Needs> {
    let pattern = crate::versioned_paths::unversioned(pattern);
    ROUTES
        .iter()
        .find(|(m, p, _)| *p == pattern && method.as_str() == *m)
        .map(|(_, _, needs)| *needs)
}

/// The least role the request's route needs, `None` when any member may reach it (or the
/// request matched no route).
pub(crate) fn required(req: &HttpRequest) -> Option<Role> {
    let pattern = req.match_pattern()?;
    least_role(req.method(), &pattern, req.match_info().get("section"))
}

/// [`required`] for a route pattern and the value of its `{section}` segment, if any.
pub(crate) fn least_role(method: &Method, pattern: &str, section: Option<&str>) -> Option<Role> {
    match needs(method, pattern)? {
        Needs::Role(role) => Some(role),
        Needs::Section(section) => Some(section.required_role()),
        Needs::SectionInPath => section
            .and_then(Section::parse)
            .filter(|s| Section::ALL.contains(s))
            .map(Section::required_role),
    }
}

/// 403 `INSUFFICIENT_PERMISSIONS` in the dialect, with the roles in its casing.
pub(crate) fn refusal(dialect: Dialect, required: Role, current: Role) -> ApiError {
    let details = match dialect {
        Dialect::Api => {
            json!({ "required_role": required.as_str(), "current_role": current.as_str() })
        }
        Dialect::V2 | Dialect::Catalog | Dialect::Tenant => {
            json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() })
        }
    };
    ApiError::new(
        dialect,
        actix_web::http::StatusCode::FORBIDDEN,
        "INSUFFICIENT_PERMISSIONS",
        format!("This operation requires the {required} role; you are {current}"),
    )
    .with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::{operations, Access, ALIASES};

    #[test]
    fn every_row_names_a_member_operation_once() {
        let ops = operations();
        for (i, (method, pattern, _)) in ROUTES.iter().enumerate() {
            // An undocumented alias stands for its documented path.
            let documented = ALIASES
                .iter()
                .find(|(alias, _)| alias == pattern)
                .map_or(*pattern, |(_, documented)| *documented);
            let op = ops
                .iter()
                .find(|op| op.path == documented && op.method.eq_ignore_ascii_case(method));
            assert!(
                op.is_some_and(|op| op.access == Access::Member),
                "{method} {pattern} is no member operation of the OpenAPI table"
            );
            assert!(
                !ROUTES[..i]
                    .iter()
                    .any(|(m, p, _)| m == method && p == pattern),
                "{method} {pattern} has two rows"
            );
        }
    }

    #[actix_web::test]
    async fn the_route_pattern_and_its_section_decide() {
        use actix_web::{test, web, App, HttpResponse};
        async fn echo(req: HttpRequest) -> HttpResponse {
            HttpResponse::Ok().body(format!("{:?}", required(&req)))
        }
        let app = test::init_service(
            App::new()
                .route("/v2/accounts/settings/{section}", web::put().to(echo))
                .route("/v2/accounts/settings/{section}", web::get().to(echo))
                .route(
                    "/v2/accounts/settings/notifications/test",
                    web::post().to(echo),
                )
                .route("/api/settings", web::post().to(echo)),
        )
        .await;
        for (method, path, expected) in [
            (Method::PUT, "/v2/accounts/settings/billing", "Some(Admin)"),
            (
                Method::PUT,
                "/v2/accounts/settings/notifications",
                "Some(Developer)",
            ),
            (
                Method::PUT,
                "/v2/accounts/settings/preferences",
                "Some(Viewer)",
            ),
            // Not a section: the handler's 404 is everyone's answer.
            (Method::PUT, "/v2/accounts/settings/organization", "None"),
            (Method::PUT, "/v2/accounts/settings/nope", "None"),
            // Reads of a section are any member's.
            (Method::GET, "/v2/accounts/settings/billing", "None"),
            (
                Method::POST,
                "/v2/accounts/settings/notifications/test",
                "Some(Developer)",
            ),
            (Method::POST, "/api/settings", "Some(Admin)"),
        ] {
            let req = test::TestRequest::default()
                .method(method.clone())
                .uri(path)
                .to_request();
            let body = test::call_and_read_body(&app, req).await;
            assert_eq!(body, expected.as_bytes(), "{method} {path}");
        }
    }

    #[test]
    fn the_refusal_speaks_each_dialects_casing() {
        let api = refusal(Dialect::Api, Role::Admin, Role::Viewer);
        assert_eq!(api.status, actix_web::http::StatusCode::FORBIDDEN);
        assert_eq!(
            api.details.as_deref(),
            Some(&json!({ "required_role": "admin", "current_role": "viewer" }))
        );
        let v2 = refusal(Dialect::V2, Role::Developer, Role::Viewer);
        assert_eq!(
            v2.details.as_deref(),
            Some(&json!({ "requiredRole": "developer", "currentRole": "viewer" }))
        );
    }
}
