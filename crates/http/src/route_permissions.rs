//! Which custom permission each member route needs (decision 0019, docs/security/permissions.md).
//!
//! Custom permissions narrow a member's role, never widen it: this check runs after
//! authentication for every session and API key of a member (`auth::authorize`), *in addition*
//! to the role checks of the services, so a request passes only if the role allows it and, when
//! the member has custom permissions, they name the route's permission. A member without custom
//! permissions is never refused here.
//!
//! The classification, in order:
//! - the caller's own identity (`/api/user/...`, `/api/auth/...`, `/api/user-preferences...`,
//!   the per-user `preferences` section, accepting an invitation): none, because these act on
//!   the member themself, not on the account;
//! - the team's writes, every invitation route and portal links: `manage_team`;
//! - routes that make the account act (test deliveries, redelivery, events, usage reports):
//!   `execute`;
//! - handing the account over: `manage_billing` (the owner's, whose permissions cannot be
//!   customised, so it never refuses anyone today; named so the table is complete);
//! - any other read: `read`; any other write: `write`.

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use tenantry_kernel::{Actor, Permission};

use crate::error::{ApiError, Dialect};

/// Routes that make the account do something rather than change its configuration.
const EXECUTE: &[(&str, &str)] = &[
    ("POST", "/v2/accounts/settings/notifications/test"),
    ("POST", "/v2/accounts/usage"),
    ("POST", "/api/notifications/channels/{id}/test"),
    ("POST", "/api/notifications/deliveries/{id}/redeliver"),
    ("POST", "/api/notifications/events"),
    ("POST", "/accounts/{account_name}/telemetryWebhook/test"),
];

/// Routes reserved to the owner's `manage_billing`.
const OWNER: &[(&str, &str)] = &[("POST", "/v2/accounts/team/transfer-ownership")];

fn is(list: &[(&str, &str)], method: &Method, pattern: &str) -> bool {
    list.iter()
        .any(|(m, p)| *p == pattern && method.as_str() == *m)
}

/// The permission a request to `pattern` (the router's pattern; `section` the value of its
/// `{section}` segment) needs, `None` when it needs none.
pub fn required(method: &Method, pattern: &str, section: Option<&str>) -> Option<Permission> {
    let pattern = crate::versioned_paths::unversioned(pattern);
    let read = method == Method::GET || method == Method::HEAD;
    let personal = pattern.starts_with("/api/user/")
        || pattern.starts_with("/api/auth/")
        || pattern.starts_with("/api/user-preferences")
        || pattern.starts_with("/v2/invitations/")
        || (pattern.starts_with("/v2/accounts/settings/{section}")
            && section == Some("preferences"));
    if personal {
        None
    } else if is(OWNER, method, pattern) {
        Some(Permission::ManageBilling)
    } else if pattern.starts_with("/v2/accounts/team/invitations")
        || (pattern.starts_with("/v2/accounts/team/") && !read)
        // Signing a team member into the console (decision 0030).
        || pattern == "/v2/accounts/portal-links"
    {
        Some(Permission::ManageTeam)
    } else if is(EXECUTE, method, pattern) {
        Some(Permission::Execute)
    } else if read {
        Some(Permission::Read)
    } else {
        Some(Permission::Write)
    }
}

/// The permission `actor` lacks for this route, if any.
pub(crate) fn missing(
    actor: &Actor,
    method: &Method,
    pattern: &str,
    section: Option<&str>,
) -> Option<Permission> {
    required(method, pattern, section).filter(|p| !actor.has_permission(*p))
}

/// 403 `MISSING_PERMISSION` in the dialect's format and casing, naming the permission.
pub(crate) fn refusal(dialect: Dialect, missing: Permission, held: &[Permission]) -> ApiError {
    let held: Vec<&str> = held.iter().map(|p| p.as_str()).collect();
    let details = match dialect {
        Dialect::Api => {
            json!({ "required_permission": missing.as_str(), "member_permissions": held })
        }
        Dialect::V2 | Dialect::Catalog | Dialect::Tenant => {
            json!({ "requiredPermission": missing.as_str(), "memberPermissions": held })
        }
    };
    ApiError::new(
        dialect,
        StatusCode::FORBIDDEN,
        "MISSING_PERMISSION",
        format!(
            "This operation needs the `{missing}` permission, which your membership does not have"
        ),
    )
    .with_details(details)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tenantry_kernel::{
        default_permissions, AccountId, ApiKeyId, Credential, FixedClock, OsRandom, Role, UserId,
    };

    use super::*;
    use crate::openapi::{operations, Access};

    /// Every member operation with a sample `{section}` value for the routes that take one.
    fn member_routes() -> Vec<(Method, &'static str, Option<&'static str>)> {
        let mut out = Vec::new();
        for op in operations()
            .into_iter()
            .filter(|op| op.access == Access::Member)
        {
            let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).expect("method");
            if op.path.contains("{section}") {
                for s in ["billing", "security", "notifications", "preferences"] {
                    out.push((method.clone(), op.path, Some(s)));
                }
            } else {
                out.push((method, op.path, None));
            }
        }
        out
    }

    fn actor(role: Role, permissions: Option<Vec<Permission>>) -> Actor {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            role,
            credential: Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom)),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions,
            operator_link: None,
        }
    }

    /// What the role alone allows on a route, as far as the route table says (routes without
    /// a row are any member's; their services may refuse more, which only narrows further).
    fn role_allows(role: Role, method: &Method, pattern: &str, section: Option<&str>) -> bool {
        crate::route_roles::least_role(method, pattern, section).is_none_or(|least| role >= least)
    }

    #[test]
    fn the_documents_examples_are_classified() {
        let get = Method::GET;
        let put = Method::PUT;
        let post = Method::POST;
        let cases = [
            (
                &put,
                "/v2/accounts/settings/{section}",
                Some("billing"),
                Some(Permission::Write),
            ),
            (
                &put,
                "/v2/accounts/settings/{section}",
                Some("preferences"),
                None,
            ),
            (
                &get,
                "/v2/accounts/settings/{section}",
                Some("billing"),
                Some(Permission::Read),
            ),
            (
                &get,
                "/v2/accounts/team/members",
                None,
                Some(Permission::Read),
            ),
            (
                &post,
                "/v2/accounts/team/members/invite",
                None,
                Some(Permission::ManageTeam),
            ),
            (
                &get,
                "/v2/accounts/team/invitations",
                None,
                Some(Permission::ManageTeam),
            ),
            (
                &post,
                "/api/notifications/events",
                None,
                Some(Permission::Execute),
            ),
            (&post, "/api/user/api-keys", None, None),
            (&post, "/api/settings", None, Some(Permission::Write)),
            (
                &Method::PATCH,
                "/tenants/{id}/settings",
                None,
                Some(Permission::Write),
            ),
        ];
        for (method, pattern, section, expected) in cases {
            assert_eq!(
                required(method, pattern, section),
                expected,
                "{method} {pattern} {section:?}"
            );
        }
    }

    #[test]
    fn the_permission_table_in_the_docs_is_current() {
        let doc = include_str!("../../../docs/security/permissions.md");
        for (method, pattern, section) in member_routes() {
            let shown = match section {
                Some(s) => pattern.replace("{section}", s),
                None => pattern.to_owned(),
            };
            let needs = required(&method, pattern, section).map_or("—", Permission::as_str);
            let row = format!("| {method} | `{shown}` | {needs} |");
            assert!(
                doc.contains(&row),
                "docs/security/permissions.md lacks the row\n{row}"
            );
        }
    }

    /// Laws, for every role, custom permission set and member route:
    /// 1. custom permissions never add power: what passes with them passes without them, and
    ///    never reaches a route the role cannot;
    /// 2. a refusal names exactly the route's permission, which the set lacks;
    /// 3. spelling out the role's own defaults takes nothing away from the role.
    ///
    /// A fixed budget and seed (`TENANTRY_PROPTEST_SEED` overrides it); a failure prints both.
    #[test]
    fn effective_power_never_exceeds_the_role() {
        use proptest::test_runner::{Config, RngSeed, TestRunner};
        let seed = std::env::var("TENANTRY_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x0019_7e4a_u64);
        let mut runner = TestRunner::new(Config {
            cases: 4096,
            rng_seed: RngSeed::Fixed(seed),
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (
            prop::sample::select(Role::ALL.to_vec()),
            prop::option::of(prop::collection::vec(
                prop::sample::select(Permission::ALL.to_vec()),
                0..6,
            )),
            prop::sample::select(member_routes()),
        );
        let result = runner.run(&strategy, |(role, custom, (method, pattern, section))| {
            let with = actor(role, custom.clone());
            let without = actor(role, None);
            let passes = |a: &Actor| {
                role_allows(a.role, &method, pattern, section)
                    && missing(a, &method, pattern, section).is_none()
            };
            if passes(&with) {
                prop_assert!(passes(&without));
            }
            prop_assert!(missing(&without, &method, pattern, section).is_none());
            if let Some(p) = missing(&with, &method, pattern, section) {
                prop_assert_eq!(required(&method, pattern, section), Some(p));
                prop_assert!(custom.as_ref().is_some_and(|c| !c.contains(&p)));
            }
            // The import's least role depends on its body (no route-table row): its handler
            // checks each section's role, and `write` gates it as a whole.
            let body_dependent = pattern == "/v2/accounts/settings/import";
            if role_allows(role, &method, pattern, section) && !body_dependent {
                let explicit = actor(role, Some(default_permissions(role).to_vec()));
                prop_assert!(
                    missing(&explicit, &method, pattern, section).is_none(),
                    "{} with its defaults spelt out is refused {} {}",
                    role,
                    method,
                    pattern
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}\n(seed {seed}: rerun with TENANTRY_PROPTEST_SEED={seed})");
        }
    }
}
