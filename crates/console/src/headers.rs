//! The headers every console response carries, pages and assets alike.
//!
//! - `Content-Security-Policy`: nothing from another origin, no inline script or style, forms
//!   post only here, never framed (platforms link to the console, they do not frame it: a
//!   framed sign-in form is a clickjacking target), no `<base>` to re-point relative links.
//! - `Referrer-Policy: no-referrer`: invitation, reset and confirmation tokens live in paths;
//!   a link followed from such a page must not carry them to another site.
//! - `X-Content-Type-Options: nosniff`: the style sheet and script are only what they say.
//! - `Cache-Control: no-store` unless the response set its own (only the content-hashed
//!   assets do): a page holds personal data and must not come back from the browser's cache
//!   through the back button after signing out.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Adds the headers to every response of the wrapped routes that does not set them itself.
pub(crate) fn secure() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CACHE_CONTROL, "no-store"))
}
