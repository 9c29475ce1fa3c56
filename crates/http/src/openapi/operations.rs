//! Every route the server answers, as one table: the OpenAPI document is built from it, and the
//! route test (tests/e2e/openapi.rs) checks it against the router in both directions, so a route
//! added without a row (or a row without a route) fails CI. Each API's rows live in its dialect
//! folder (`dialects/<api>/openapi.rs`); this module assembles them in document order and adds
//! the service's own routes and the settings catalog's `/v1` twins.

use super::operation::{op, Access, Operation};
use crate::dialects::openapi_rows;

/// Routes the router keeps for old clients and the document leaves out, each with the documented
/// path it answers like: a path that differs only by a trailing slash is a duplicate to OpenAPI
/// tools (redocly's `no-ambiguous-paths`), and generators would emit the operation twice.
#[cfg(test)]
pub(crate) const ALIASES: [(&str, &str); 1] = [(
    "/accounts/{account_name}/settings/",
    "/accounts/{account_name}/settings",
)];

/// The settings catalog's clients put the version in the path: each catalog route is served at
/// `/v1` + its path too (decision 0024), with the same row but for path and operation id.
fn with_v1_aliases(mut ops: Vec<Operation>) -> Vec<Operation> {
    let aliases: Vec<Operation> = ops
        .iter()
        .filter(|o| V1_ALIASED.iter().any(|p| o.path.starts_with(p)))
        .map(|o| {
            let mut alias = o.clone();
            alias.path = leak(format!("/v1{}", o.path));
            alias.id = leak(format!(
                "v1{}{}",
                o.id[..1].to_ascii_uppercase(),
                &o.id[1..]
            ));
            alias
        })
        .collect();
    ops.extend(aliases);
    ops
}

/// Paths served under `/v1` as well (prefixes of the catalog's routes).
const V1_ALIASED: &[&str] = &["/accounts", "/version", "/authorization/token"];

/// The table is built once per process ([`operations`]), so these few strings live as long as
/// it does.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The whole API, grouped by API: account settings, team, user and organization, settings
/// catalog, tenant settings, operator, service.
pub(crate) fn operations() -> Vec<Operation> {
    static TABLE: std::sync::OnceLock<Vec<Operation>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| with_v1_aliases(all_operations()))
        .clone()
}

/// The APIs in document order (the order of `TAGS`), then the service's routes: the document's
/// paths keep this order.
fn all_operations() -> Vec<Operation> {
    [
        openapi_rows::account_settings(),
        openapi_rows::team(),
        openapi_rows::user_org(),
        openapi_rows::settings_catalog(),
        openapi_rows::tenant_settings(),
        openapi_rows::admin(),
        service(),
    ]
    .concat()
}

/// The service's own routes: health, readiness, metrics, this document and its page.
fn service() -> Vec<Operation> {
    use Access::{Operator, Public};
    vec![
        op("get", "/healthz", "healthz", "Liveness", Public, 200).res("Health"),
        op(
            "get",
            "/readyz",
            "readyz",
            "Readiness (the database answers)",
            Public,
            200,
        )
        .res("Health")
        .errors(&[503]),
        op(
            "get",
            "/metrics",
            "metrics",
            "Prometheus metrics (the metrics token or an operator key)",
            Operator,
            200,
        )
        .media("text/plain"),
        op(
            "get",
            "/openapi.json",
            "openapi",
            "This document",
            Public,
            200,
        )
        .res("OpenApiDocument"),
        op(
            "get",
            "/docs",
            "docs",
            "Interactive API reference",
            Public,
            200,
        )
        .media("text/html"),
    ]
}

/// The tag (API document) an operation belongs to.
pub(crate) fn tag(path: &str) -> &'static str {
    if path.starts_with("/v2/accounts/team") || path.starts_with("/v2/invitations") {
        TAGS[1].0
    } else if path.starts_with("/v2/") {
        TAGS[0].0
    } else if path.starts_with("/api/") {
        TAGS[2].0
    } else if path.starts_with("/accounts")
        || path.starts_with("/v1/")
        || path == "/version"
        || path == "/authorization/token"
    {
        TAGS[3].0
    } else if path.starts_with("/tenants/") {
        TAGS[4].0
    } else if path.starts_with("/admin/") {
        TAGS[5].0
    } else {
        TAGS[6].0
    }
}

/// Tags in document order, with their descriptions.
pub(crate) const TAGS: [(&str, &str); 7] = [
    ("Account settings", "The account settings API (v2): the account's five settings sections, their history, export and import, the audit log and usage, under `/v2/accounts/`. snake_case fields; errors are `{error, message, details}`."),
    ("Team", "The team API: members, invitations, bulk changes, ownership and activity, under `/v2/accounts/team/` and `/v2/invitations/`. camelCase fields; errors as in the account settings API."),
    ("User and organization", "The user and organization API: profile, sign-in, sessions, MFA, API keys, preferences, organization settings, the IP allowlist and notifications, under `/api/`. Bodies are wrapped in `{\"data\": ...}`; errors are `{\"error\": {code, message, details}}`."),
    ("Settings catalog", "The settings catalog API: the account's named settings (notification settings, security preferences) under `/accounts/{account_name}/settings/`. camelCase fields; errors are `[{errorCode, errorMessage}]`, a 401 one such object."),
    ("Tenant settings", "The tenant settings API: security, feature and branding settings of a tenant under `/tenants/{id}/settings`, changed with a JSON merge patch. camelCase fields; errors are `application/problem+json`."),
    ("Operator", "The operator API: accounts and their tiers, with the operator key (`/admin/`). Errors as in the account settings API."),
    ("Service", "Health, readiness, metrics, this document and its reference page."),
];
