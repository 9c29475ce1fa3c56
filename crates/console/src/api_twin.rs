//! Each console page's twin in the API: the route a client would call to do what the page
//! does. A page needs the scopes its twin needs (`tenantry_http::scopes_required`, the one
//! table of the API), read for showing it and write for a form posted to it, so a credential
//! never reaches more through the console than through the API: a session opened through a
//! portal link carries the scopes of the credential that minted it, and the services check
//! roles, not scopes.
//!
//! A console path not named here has no twin, and a scoped session is refused it: a page added
//! without its row fails closed.

use actix_web::http::Method;
use tenantry_security::scopes_permit;

/// Console path prefix → its twin in the API. The longest matching prefix decides.
const TWINS: &[(&str, &str)] = &[
    ("/console/account/api-keys", "/api/user/api-keys"),
    ("/console/account/mfa", "/api/user/mfa"),
    ("/console/account/sessions", "/api/auth/sessions"),
    ("/console/account/password", "/api/user/password"),
    ("/console/account/profile/email", "/api/user/email"),
    ("/console/account/profile", "/api/user/profile"),
    ("/console/team", "/v2/accounts/team/members"),
    ("/console/audit", "/v2/accounts/audit-logs"),
    ("/console/notifications", "/api/notifications/channels"),
];

/// Console pages that show nothing a scope guards: the home page and the settings index (a
/// list of links to pages that check their own twins).
const OPEN: &[&str] = &["/console", "/console/settings"];

/// Where a console path leads in the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Twin {
    /// Nothing a scope guards.
    Open,
    /// The API route whose scopes the page needs.
    Route(String),
    /// No twin: refused to a scoped session.
    Unknown,
}

pub(crate) fn twin(path: &str) -> Twin {
    let path = path.trim_end_matches('/');
    if OPEN.contains(&path) {
        return Twin::Open;
    }
    // A settings section's page is that section's route.
    if let Some(section) = path.strip_prefix("/console/settings/") {
        return Twin::Route(format!("/v2/accounts/settings/{section}"));
    }
    TWINS
        .iter()
        .filter(|(prefix, _)| {
            path == *prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(['/', '.']))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(Twin::Unknown, |(_, api)| Twin::Route((*api).to_owned()))
}

/// Whether a credential with `scopes` (empty: unscoped) may make a `method` request to the
/// console's `path`: a page read as a read of its twin, a form post as a write.
pub(crate) fn permits(scopes: &[String], method: &Method, path: &str) -> bool {
    if scopes.is_empty() {
        return true;
    }
    match twin(path) {
        Twin::Open => true,
        Twin::Unknown => false,
        Twin::Route(api) => tenantry_http::scopes_required(method, &api)
            .into_iter()
            .all(|(area, access)| scopes_permit(scopes, area, access)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pages_lead_to_their_twins() {
        assert_eq!(twin("/console"), Twin::Open);
        assert_eq!(twin("/console/settings/"), Twin::Open);
        assert_eq!(
            twin("/console/account/profile/email"),
            Twin::Route("/api/user/email".into())
        );
        assert_eq!(
            twin("/console/audit.csv"),
            Twin::Route("/v2/accounts/audit-logs".into())
        );
        assert_eq!(
            twin("/console/team/usr_1/role"),
            Twin::Route("/v2/accounts/team/members".into())
        );
        assert_eq!(
            twin("/console/settings/security"),
            Twin::Route("/v2/accounts/settings/security".into())
        );
        assert_eq!(twin("/console/teamwork"), Twin::Unknown);
        assert_eq!(twin("/console/whatever"), Twin::Unknown);
    }

    #[test]
    fn a_scoped_credential_reaches_what_its_twin_allows() {
        let team = scopes(&["team:write"]);
        assert!(permits(&team, &Method::POST, "/console/team/invite"));
        assert!(permits(&team, &Method::GET, "/console"));
        assert!(!permits(&team, &Method::GET, "/console/audit"));
        assert!(!permits(
            &team,
            &Method::POST,
            "/console/account/sessions/others/revoke"
        ));
        assert!(!permits(&team, &Method::GET, "/console/unknown"));
        let audit = scopes(&["audit:read"]);
        assert!(permits(&audit, &Method::GET, "/console/audit.csv"));
        assert!(permits(&[], &Method::POST, "/console/anything"), "unscoped");
    }
}
