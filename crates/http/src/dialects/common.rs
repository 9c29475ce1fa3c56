//! What the dialect folders share, so that no folder imports another: answers whose words are
//! the same in every dialect that gives them (each dialect's casing and envelope are applied
//! when `crate::error` renders them).

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use tenantry_settings::FieldError;

use crate::error::{ApiError, Dialect};

/// A change to the allowlist that would refuse the caller's own address. No flag overrides it:
/// a client locked out cannot undo the change, so only the operator's command lifts it.
pub(super) fn would_lock_out(dialect: Dialect, address: String) -> ApiError {
    ApiError::new(
        dialect,
        StatusCode::CONFLICT,
        "WOULD_LOCK_OUT",
        format!("This change would refuse your own address {address} (or every address); it is refused, and `confirm_lockout` does not override it. The operator can disable enforcement with `tenantry allowlist disable`"),
    )
    .with_details(json!({ "address": address }))
}

/// Each failing field with what is wrong with it, the `fields` of a validation error's details.
pub(super) fn field_list(fields: &[FieldError]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| json!({ "field": f.field, "message": f.message }))
        .collect()
}

/// The security context's invalid fields in the same shape as [`field_list`]'s: a profile
/// refusal reads like a settings one.
pub(super) fn invalid_field_list(fields: &[tenantry_security::InvalidField]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| json!({ "field": f.field, "message": f.message }))
        .collect()
}
