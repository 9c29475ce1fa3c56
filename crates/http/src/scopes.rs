//! Which scope each route needs: one table for every dialect, so a route cannot be added
//! without falling into an area (the default is the broad `settings` area).

use actix_web::http::Method;
use tenantry_security::{Access, Area};

/// The scopes (area, access) a request needs. Reads need `:read`, everything else `:write`.
pub fn required(method: &Method, path: &str) -> Vec<(Area, Access)> {
    let access = if method == Method::GET || method == Method::HEAD {
        Access::Read
    } else {
        Access::Write
    };
    let path = crate::versioned_paths::unversioned(path);
    let areas: &[Area] = if path == "/v2/accounts/settings"
        || path.starts_with("/v2/accounts/settings/export")
        || path.starts_with("/v2/accounts/settings/import")
    {
        // The whole document (and its export/import) spans every settings area.
        &[Area::Settings, Area::Security, Area::Billing]
    } else if path.starts_with("/v2/accounts/audit-logs") {
        &[Area::Audit]
    } else if path.starts_with("/api/user/api-keys") {
        &[Area::Keys]
    } else if path.starts_with("/v2/accounts/team/") || path == "/v2/accounts/portal-links" {
        // A portal link signs a team member into the console: a team write (decision 0030).
        &[Area::Team]
    } else if path.starts_with("/v2/accounts/settings/billing")
        || path.starts_with("/v2/accounts/usage")
        || path.starts_with("/v2/accounts/settings/schema/billing")
    {
        &[Area::Billing]
    } else if path.starts_with("/v2/accounts/settings/security")
        || path.starts_with("/tenants/")
        // The catalog's routes and its account list, which its clients call first with the
        // same key.
        || path == "/accounts"
        || path.starts_with("/accounts/")
        || path.starts_with("/api/settings/ip-whitelist")
        || path.starts_with("/api/settings/log-retention")
        || path.starts_with("/api/session-timeout")
        || path.starts_with("/api/user/password")
        // The sign-in address is where password links go: changing it is a security write.
        || path.starts_with("/api/user/email")
        || path.starts_with("/api/user/mfa")
        || path.starts_with("/api/auth/")
    {
        &[Area::Security]
    } else {
        &[Area::Settings]
    };
    areas.iter().map(|a| (*a, access)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_areas() {
        assert_eq!(
            required(&Method::PUT, "/v2/accounts/settings/billing"),
            vec![(Area::Billing, Access::Write)]
        );
        assert_eq!(
            required(&Method::GET, "/tenants/x/settings"),
            vec![(Area::Security, Access::Read)]
        );
        assert_eq!(
            required(&Method::DELETE, "/api/settings/ip-whitelist/ipw_1"),
            vec![(Area::Security, Access::Write)]
        );
        assert_eq!(required(&Method::GET, "/v2/accounts/settings").len(), 3);
        for catalog in ["/accounts", "/v1/accounts", "/v1/accounts/a/settings"] {
            assert_eq!(
                required(&Method::GET, catalog),
                vec![(Area::Security, Access::Read)],
                "{catalog}"
            );
        }
        assert_eq!(
            required(&Method::POST, "/api/user/api-keys"),
            vec![(Area::Keys, Access::Write)]
        );
        assert_eq!(
            required(&Method::PUT, "/v2/accounts/settings/preferences"),
            vec![(Area::Settings, Access::Write)]
        );
    }
}
