//! Posted forms: one size limit for the body, one page for a body that cannot be read, and
//! bounds on each field before any service sees it. Fields are read with serde defaults, so a
//! form missing its token reaches the token check (403) instead of failing to parse (400).

use actix_web::error::InternalError;
use actix_web::web;

/// The largest form body: far above any console form, far below anything that costs.
pub(crate) const FORM_LIMIT: usize = 16 * 1024;

pub(crate) fn config() -> web::FormConfig {
    config_with_limit(FORM_LIMIT)
}

/// The same, for a form that carries more than its inputs (a settings form carries the values it
/// was drawn from besides them).
pub(crate) fn config_with_limit(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|e, _req| {
            InternalError::from_response(
                e,
                crate::refusal::bad_form(
                    "The form was too large or malformed. Nothing was changed; go back and try \
                     again.",
                ),
            )
            .into()
        })
}

/// Longest accepted values, per kind of field.
pub(crate) const EMAIL_MAX: usize = 320;
pub(crate) const PASSWORD_MAX: usize = 1024;
pub(crate) const CODE_MAX: usize = 64;
pub(crate) const NAME_MAX: usize = 200;
/// A person's name (invitation, profile): the display name's own limit, so the page's
/// `maxlength`, this bound and the service's parse are one rule. The service counts after
/// trimming; a name typed in a form has no reason to carry 100 characters of spaces.
pub(crate) const PERSON_NAME_MAX: usize = tenantry_kernel::DisplayName::MAX_CHARS;
/// An API key's name: the key service's own limit, for the same reason.
pub(crate) const KEY_NAME_MAX: usize = tenantry_security::ApiKeyService::NAME_MAX_CHARS;
pub(crate) const ID_MAX: usize = 100;

/// The refusal page when any `(label, value, max)` is longer than its bound (characters).
pub(crate) fn too_long(fields: &[(&str, &str, usize)]) -> Option<actix_web::HttpResponse> {
    fields
        .iter()
        .find(|(_, value, max)| value.chars().count() > *max)
        .map(|(label, _, max)| {
            crate::refusal::bad_form(&format!(
                "{label} is longer than {max} characters. Nothing was changed."
            ))
        })
}
