//! The settings catalog's clients put the API version in the path: `/v1/accounts/...` is
//! `/accounts/...`. Every table keyed by path or route pattern (scopes, least roles, custom
//! permissions) looks the unversioned form up, so an alias can never need less than its route
//! (a key without `security:write` cannot write `SECURITY_PREFERENCES` through `/v1`).

/// `path` without a leading `/v1` segment.
pub(crate) fn unversioned(path: &str) -> &str {
    match path.strip_prefix("/v1") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::*;
    use crate::openapi::operations;

    #[test]
    fn only_a_whole_v1_segment_is_stripped() {
        assert_eq!(
            unversioned("/v1/accounts/a/settings"),
            "/accounts/a/settings"
        );
        assert_eq!(unversioned("/v1"), "/v1");
        assert_eq!(unversioned("/v10/accounts"), "/v10/accounts");
        assert_eq!(unversioned("/accounts"), "/accounts");
    }

    /// Every `/v1` alias in the route table needs exactly what its route needs: the same
    /// scopes, least role and custom permission, for every section value.
    #[test]
    fn an_alias_needs_what_its_route_needs() {
        let ops = operations();
        let aliases: Vec<_> = ops.iter().filter(|o| o.path.starts_with("/v1/")).collect();
        assert!(!aliases.is_empty(), "the table has /v1 aliases");
        for alias in aliases {
            let route = unversioned(alias.path);
            assert!(
                ops.iter()
                    .any(|o| o.path == route && o.method == alias.method),
                "{} {} aliases no route",
                alias.method,
                alias.path
            );
            let method =
                Method::from_bytes(alias.method.to_uppercase().as_bytes()).expect("method");
            assert_eq!(
                crate::scopes::required(&method, alias.path),
                crate::scopes::required(&method, route),
                "scopes of {}",
                alias.path
            );
            for section in [None, Some("security"), Some("preferences")] {
                assert_eq!(
                    crate::route_roles::least_role(&method, alias.path, section),
                    crate::route_roles::least_role(&method, route, section),
                    "least role of {}",
                    alias.path
                );
                assert_eq!(
                    crate::route_permissions::required(&method, alias.path, section),
                    crate::route_permissions::required(&method, route, section),
                    "permission of {}",
                    alias.path
                );
            }
        }
    }
}
