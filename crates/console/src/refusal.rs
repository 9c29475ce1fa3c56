//! Error pages: what a visitor sees instead of the page they asked for. Each says what happened
//! and what to do, never why in a way that helps an attacker (a wrong form token is "the form
//! expired", not which check failed).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::html;

use crate::layout::{page, respond, Section};

/// A page with a title, a message and a way on.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    respond(
        status,
        page(
            title,
            Section::None,
            None,
            html! {
                div.error role="alert" { p { (message) } }
                p { a href="/console" { "Go to the console" } }
            },
        ),
    )
}

/// A form posted without its token, with a wrong one, or with another session's: nothing was
/// changed.
pub(crate) fn forged_form() -> HttpResponse {
    error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Nothing was changed. The form was sent without a valid security token: it may be \
         older than your sign-in, or it came from another site. Go back, reload the page and \
         try again.",
    )
}

/// A form whose fields cannot be read (malformed, too large, too long).
pub(crate) fn bad_form(message: &str) -> HttpResponse {
    error_page(
        StatusCode::BAD_REQUEST,
        "This form could not be read",
        message,
    )
}

pub(crate) async fn not_found() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address.",
    )
}

/// Too many attempts (the sign-in throttle or the request rate limit).
pub(crate) fn too_many(retry_after_secs: u64) -> HttpResponse {
    let mut res = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        &format!("Wait {retry_after_secs} seconds, then try again."),
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&retry_after_secs.to_string())
    {
        res.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, value);
    }
    res
}

/// The password-hashing pool is full, or the store failed: nothing to do but retry.
pub(crate) fn unavailable() -> HttpResponse {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again in a moment",
        "The service is busy or could not finish this request. Nothing was changed.",
    )
}

/// A failure of the server itself; the cause goes to the log, not to the page.
pub(crate) fn internal(cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %cause, "console request failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed. Nothing was changed, as far as the service knows; \
         try again.",
    )
}

/// An IP address outside the account's allowlist.
pub(crate) fn ip_not_allowed() -> HttpResponse {
    error_page(
        StatusCode::FORBIDDEN,
        "Not allowed from this network",
        "This account only allows access from its listed network addresses.",
    )
}
