//! Each console page's twin in the API: the route a client would call to do what the page
//! does. A page needs what its twin needs beyond the role: the scopes
//! (`tenantry_http::scopes_required`) and the member's custom permission
//! (`tenantry_http::route_permission`), the API's own tables, read for showing the page and
//! write for a form posted to it. So a credential never reaches more through the console than
//! through the API: a session opened through a portal link carries the scopes of the credential
//! that minted it, a member's custom permissions bind all their sessions, and the services
//! check roles, not these.
//!
//! A console path not named here has no twin, and a scoped session is refused it: a page added
//! without its row fails closed.

use actix_web::http::Method;
use tenantry_kernel::Actor;
use tenantry_security::scopes_permit;

/// Console forms whose twin is a route of its own (not their family's): the calls the API
/// classes apart, such as the `execute` permission's tests and redeliveries. `{id}` matches
/// one segment. These are asked before the prefixes below.
const ROUTES: &[(&str, &str)] = &[
    (
        "/console/settings/notifications/test",
        "/v2/accounts/settings/notifications/test",
    ),
    (
        "/console/notifications/channels/{id}/test",
        "/api/notifications/channels/{id}/test",
    ),
    (
        "/console/notifications/deliveries/{id}/redeliver",
        "/api/notifications/deliveries/{id}/redeliver",
    ),
];

/// Whether `path` has `pattern`'s shape (`{...}` segments match any one segment).
fn shaped(path: &str, pattern: &str) -> bool {
    let (mut p, mut q) = (path.split('/'), pattern.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b || (b.starts_with('{') && !a.is_empty()) => {}
            _ => return false,
        }
    }
}

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
    /// The API route whose scopes and permission the page needs: its path, its router
    /// pattern, and the pattern's `{section}` when it has one.
    Route {
        path: String,
        pattern: &'static str,
        section: Option<String>,
    },
    /// No twin: refused to a scoped session.
    Unknown,
}

pub(crate) fn twin(path: &str) -> Twin {
    let path = path.trim_end_matches('/');
    if OPEN.contains(&path) {
        return Twin::Open;
    }
    if let Some((_, api)) = ROUTES.iter().find(|(console, _)| shaped(path, console)) {
        return Twin::Route {
            path: (*api).to_owned(),
            pattern: api,
            section: None,
        };
    }
    // A settings section's page is that section's route.
    if let Some(section) = path.strip_prefix("/console/settings/") {
        return Twin::Route {
            path: format!("/v2/accounts/settings/{section}"),
            pattern: "/v2/accounts/settings/{section}",
            section: Some(section.to_owned()),
        };
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
        .map_or(Twin::Unknown, |(_, api)| Twin::Route {
            path: (*api).to_owned(),
            pattern: api,
            section: None,
        })
}

/// Whether `actor` may make a `method` request to the console's `path`: a page read as a read
/// of its twin, a form post as a write. An unscoped credential without custom permissions
/// passes at once (the role is the pages' and the services' to check).
pub(crate) fn permits(actor: &Actor, method: &Method, path: &str) -> bool {
    if actor.scopes.is_empty() && actor.permissions.is_none() {
        return true;
    }
    match twin(path) {
        Twin::Open => true,
        Twin::Unknown => false,
        Twin::Route {
            path,
            pattern,
            section,
        } => {
            tenantry_http::scopes_required(method, &path)
                .into_iter()
                .all(|(area, access)| scopes_permit(&actor.scopes, area, access))
                && tenantry_http::route_permission(method, pattern, section.as_deref())
                    .is_none_or(|p| actor.has_permission(p))
        }
    }
}

#[cfg(test)]
mod tests {
    use tenantry_kernel::{
        AccountId, Credential, FixedClock, OsRandom, Permission, Role, SessionId, UserId,
    };

    use super::*;

    fn actor(scopes: &[&str], permissions: Option<Vec<Permission>>) -> Actor {
        let clock = FixedClock(chrono::Utc::now());
        Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            role: Role::Admin,
            credential: Credential::Session(SessionId::generate(&clock, &OsRandom)),
            ip: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            authenticated_at: None,
            permissions,
            operator_link: None,
        }
    }

    fn pattern(path: &str) -> Option<(&'static str, Option<String>)> {
        match twin(path) {
            Twin::Route {
                pattern, section, ..
            } => Some((pattern, section)),
            Twin::Open | Twin::Unknown => None,
        }
    }

    #[test]
    fn pages_lead_to_their_twins() {
        assert_eq!(twin("/console"), Twin::Open);
        assert_eq!(twin("/console/settings/"), Twin::Open);
        assert_eq!(
            pattern("/console/account/profile/email"),
            Some(("/api/user/email", None))
        );
        assert_eq!(
            pattern("/console/audit.csv"),
            Some(("/v2/accounts/audit-logs", None))
        );
        assert_eq!(
            pattern("/console/team/usr_1/role"),
            Some(("/v2/accounts/team/members", None))
        );
        assert_eq!(
            pattern("/console/settings/security"),
            Some(("/v2/accounts/settings/{section}", Some("security".into())))
        );
        assert_eq!(twin("/console/teamwork"), Twin::Unknown);
        assert_eq!(twin("/console/whatever"), Twin::Unknown);
    }

    #[test]
    fn a_scoped_credential_reaches_what_its_twin_allows() {
        let team = actor(&["team:write"], None);
        assert!(permits(&team, &Method::POST, "/console/team/invite"));
        assert!(permits(&team, &Method::GET, "/console"));
        assert!(!permits(&team, &Method::GET, "/console/audit"));
        assert!(!permits(
            &team,
            &Method::POST,
            "/console/account/sessions/others/revoke"
        ));
        assert!(!permits(&team, &Method::GET, "/console/unknown"));
        let audit = actor(&["audit:read"], None);
        assert!(permits(&audit, &Method::GET, "/console/audit.csv"));
        assert!(permits(
            &actor(&[], None),
            &Method::POST,
            "/console/anything"
        ));
    }

    #[test]
    fn calls_the_api_classes_apart_have_their_own_twins() {
        assert_eq!(
            pattern("/console/notifications/channels/nch_1/test"),
            Some(("/api/notifications/channels/{id}/test", None))
        );
        assert_eq!(
            pattern("/console/notifications/deliveries/dlv_1/redeliver"),
            Some(("/api/notifications/deliveries/{id}/redeliver", None))
        );
        assert_eq!(
            pattern("/console/settings/notifications/test"),
            Some(("/v2/accounts/settings/notifications/test", None))
        );
        assert_eq!(
            pattern("/console/notifications/channels/nch_1/delete"),
            Some(("/api/notifications/channels", None))
        );
        let no_execute = actor(
            &[],
            Some(vec![
                Permission::Read,
                Permission::Write,
                Permission::ManageTeam,
            ]),
        );
        for path in [
            "/console/settings/notifications/test",
            "/console/notifications/channels/nch_1/test",
            "/console/notifications/deliveries/dlv_1/redeliver",
        ] {
            assert!(!permits(&no_execute, &Method::POST, path), "{path}");
            let executes = actor(&[], Some(vec![Permission::Execute]));
            assert!(permits(&executes, &Method::POST, path), "{path}");
        }
    }

    #[test]
    fn custom_permissions_bind_the_pages_as_they_bind_the_api() {
        let reader = actor(&[], Some(vec![Permission::Read]));
        assert!(permits(&reader, &Method::GET, "/console/team"));
        assert!(!permits(&reader, &Method::POST, "/console/team/invite"));
        assert!(!permits(
            &reader,
            &Method::POST,
            "/console/settings/security"
        ));
        assert!(
            permits(&reader, &Method::POST, "/console/account/password"),
            "one's own account needs no permission"
        );
    }
}
