//! `If-Match` and `If-None-Match` as the settings crate parses them (precondition.rs there), for
//! every dialect whose write routes compare ETags.

use actix_web::http::header::{HeaderName, IF_MATCH, IF_NONE_MATCH};
use actix_web::HttpRequest;
use tenantry_settings::{Preconditions, SettingsError};

/// All lines of a header joined as one list (RFC 9110 §5.3). Bytes that are not UTF-8 are
/// kept as non-ASCII replacement characters rather than dropped: a header that cannot be read
/// must not turn a conditional write into an unconditional one. Non-ASCII is `obs-text`, valid
/// inside a tag and matching no tag this server issues.
fn joined(req: &HttpRequest, name: &HeaderName) -> Option<String> {
    let lines: Vec<String> = req
        .headers()
        .get_all(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

/// The request's preconditions; `BadPrecondition` when either header is not valid syntax.
pub(crate) fn of(req: &HttpRequest) -> Result<Preconditions, SettingsError> {
    Preconditions::parse(
        joined(req, &IF_MATCH).as_deref(),
        joined(req, &IF_NONE_MATCH).as_deref(),
    )
}
