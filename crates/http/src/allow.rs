//! The `Allow` field of a 405 (RFC 9110 §15.5.6, §10.2.1): the methods the matched route serves.
//!
//! One source of truth: the route table (openapi/operations.rs), which lists every served method
//! per path pattern and which tests/e2e/openapi.rs checks against the router in both directions.
//! The 405 handler looks the request's `match_pattern` up here, so a route added with its table
//! row is announced without further wiring. HEAD is added wherever GET is served (head.rs).
//! OPTIONS is not served (no CORS, no capability discovery to offer), so it is never listed.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Methods in the order `Allow` lists them.
const ORDER: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// `Allow` for a route pattern (`/v2/accounts/settings/{section}`), or `None` for a pattern the
/// table does not know.
pub(crate) fn allowed(pattern: &str) -> Option<&'static str> {
    static BY_PATTERN: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    BY_PATTERN
        .get_or_init(by_pattern)
        .get(pattern)
        .map(String::as_str)
}

fn by_pattern() -> HashMap<&'static str, String> {
    let mut methods: HashMap<&'static str, Vec<String>> = HashMap::new();
    for op in crate::openapi::operations() {
        let served = methods.entry(op.path).or_default();
        served.push(op.method.to_ascii_uppercase());
        if op.method.eq_ignore_ascii_case("get") {
            served.push("HEAD".to_owned());
        }
    }
    methods
        .into_iter()
        .map(|(pattern, mut served)| {
            served.sort_by_key(|m| {
                ORDER
                    .iter()
                    .position(|o| *o == m.as_str())
                    .unwrap_or(ORDER.len())
            });
            served.dedup();
            (pattern, served.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::{header, Method, StatusCode};
    use actix_web::{test as service_test, App};

    /// A concrete path for a pattern: ids that exist nowhere (the 405 comes before any lookup).
    fn concrete(pattern: &str) -> String {
        pattern
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "x_no_such_thing_1"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn get_brings_head_and_methods_keep_one_order() {
        assert_eq!(
            allowed("/v2/accounts/settings/{section}"),
            Some("GET, HEAD, PUT")
        );
        assert_eq!(
            allowed("/accounts/{account_name}/settings/{setting_name}"),
            Some("GET, HEAD, POST, PUT, PATCH, DELETE")
        );
        assert_eq!(allowed("/api/auth/login"), Some("POST"));
        assert_eq!(allowed("/nowhere"), None);
    }

    /// Every route the router registers answers a method it does not serve with 405 and the
    /// `Allow` of its own pattern; every method listed there is one the route serves (not 405).
    /// (tests/e2e/openapi.rs proves the table and the router list the same patterns.)
    #[actix_web::test]
    async fn every_registered_route_answers_405_with_its_allow_set() {
        let app = service_test::init_service(App::new().configure(crate::routes)).await;
        let mut checked = 0;
        for pattern in by_pattern().keys() {
            let path = concrete(pattern);
            let req = service_test::TestRequest::default()
                .method(Method::TRACE)
                .uri(&path)
                .to_request();
            let res = service_test::call_service(&app, req).await;
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "TRACE {path}");
            let allow = res
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("405 without Allow on {pattern}"));
            assert_eq!(res.request().match_pattern().as_deref(), Some(*pattern));
            assert_eq!(Some(allow), allowed(pattern), "{pattern}");
            // The handlers fail here for want of the state, but not with the router's 405.
            for listed in allow.split(", ").filter(|m| *m != "HEAD") {
                let method = Method::from_bytes(listed.as_bytes()).expect("method");
                let req = service_test::TestRequest::default()
                    .method(method)
                    .uri(&path)
                    .to_request();
                let res = service_test::call_service(&app, req).await;
                assert_ne!(
                    res.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{listed} {path}"
                );
            }
            checked += 1;
        }
        assert!(checked >= 70, "{checked} patterns");
    }
}
