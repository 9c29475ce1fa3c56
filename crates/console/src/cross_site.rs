//! Forms are answered only when the browser says they come from the console's own pages.
//!
//! The form token (csrf.rs) is the rule; this is the second wall. A state-changing request
//! (anything but GET, HEAD and OPTIONS) is refused when the browser marks it as made by another
//! site (`Sec-Fetch-Site` other than `same-origin` or `none`); a browser that does not send that
//! header is judged by `Origin`, which must name this host. `Origin: null` says nothing: the
//! console's own pages send it, since under `Referrer-Policy: no-referrer` a browser serializes
//! a form post's origin as `null`. A request carrying neither header (curl, scripts) is left to
//! the form token alone. On plain http a sibling subdomain can
//! plant the pre-session cookie and pass the double-submit check; it cannot make a browser send
//! a same-origin `Sec-Fetch-Site` or `Origin`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::Error;

/// Refuses a state-changing request another site made (see the module docs).
pub(crate) async fn same_site_forms(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if changes_state(req.method()) && from_another_site(req.request()) {
        let page = crate::refusal::error_page(
            StatusCode::FORBIDDEN,
            "This form came from another site",
            "The request did not come from a page of this console, so nothing was changed. \
             Open the console directly and try again.",
        );
        return Ok(req.into_response(page).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the browser says the request was made by another site.
pub(crate) fn from_another_site(req: &actix_web::HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    if origin.as_bytes() == b"null" {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority);
    match (authority, host) {
        (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
        // A malformed origin, or no host to compare with.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> actix_web::HttpRequest {
        let mut req = TestRequest::post().insert_header((header::HOST, "console.example:8080"));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn only_the_consoles_own_pages_post() {
        assert!(
            !from_another_site(&request(&[])),
            "no browser headers: the token decides"
        );
        assert!(!from_another_site(&request(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!from_another_site(&request(&[("sec-fetch-site", "none")])));
        assert!(!from_another_site(&request(&[(
            "origin",
            "http://console.example:8080"
        )])));
        assert!(!from_another_site(&request(&[(
            "origin",
            "https://Console.Example:8080"
        )])));
        assert!(from_another_site(&request(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(from_another_site(&request(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(from_another_site(&request(&[(
            "origin",
            "http://evil.example"
        )])));
        assert!(from_another_site(&request(&[(
            "origin",
            "http://console.example"
        )])));
        assert!(from_another_site(&request(&[("origin", "not an origin")])));
        // What the console's own forms send under `Referrer-Policy: no-referrer`.
        assert!(!from_another_site(&request(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ])));
        assert!(!from_another_site(&request(&[("origin", "null")])));
        assert!(from_another_site(&request(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "null")
        ])));
    }
}
