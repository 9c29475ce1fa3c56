//! The tenant settings API's one error mapper: every variant of the settings error, matched one
//! by one (no catch-all arm), so a variant added to the domain error is a compile error here
//! rather than a 500. Rendering the problem document is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use tenantry_settings::SettingsError;

use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::Tenant;

/// An unknown tenant and an id that names none answer alike.
pub(super) fn not_found() -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Tenant not found",
    )
}

/// Every settings failure in this API's problem documents: validation problems are 400 with every failing field in `errors`.
pub(super) fn tenant_error(e: SettingsError) -> ApiError {
    let validation = |detail: String, errors: Value| {
        ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", detail)
            .with_details(json!({ "fields": errors }))
    };
    match e {
        SettingsError::UnknownTenant => not_found(),
        SettingsError::Validation(fields) => {
            let detail = fields.first().map_or_else(|| "Invalid settings".to_owned(), |f| f.message.clone());
            validation(detail, json!(fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>()))
        }
        SettingsError::UnknownFields(fields) => validation(
            format!("Unknown setting(s): {}", fields.join(", ")),
            json!(fields.iter().map(|f| json!({ "field": f, "message": "is not a tenant setting" })).collect::<Vec<_>>()),
        ),
        SettingsError::InvalidIpWhitelist(entries) => validation(
            "allowedIpRanges must contain IP addresses or CIDR blocks".into(),
            json!(entries.iter().map(|e| json!({ "field": "security.allowedIpRanges", "message": format!("`{e}` is not an IP address or CIDR block") })).collect::<Vec<_>>()),
        ),
        SettingsError::Forbidden { required, current, .. } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("Changing tenant settings requires the {required} role; you are {current}"),
        ),
        SettingsError::WouldLockOut { address } => ApiError::new(
            DIALECT,
            StatusCode::CONFLICT,
            "WOULD_LOCK_OUT",
            format!("allowedIpRanges would refuse your own address {address}"),
        )
        .with_details(json!({ "address": address })),
        SettingsError::PreconditionFailed { header, etag } => ApiError::new(
            DIALECT,
            StatusCode::PRECONDITION_FAILED,
            "VERSION_CONFLICT",
            format!("The {header} precondition failed: the settings are now {etag}; read them again"),
        )
        .with_details(json!({ "fields": [{ "field": header, "message": format!("the current ETag is {etag}") }] })),
        // Only invalid syntax: a well-formed tag the server never issued fails the condition.
        SettingsError::BadPrecondition => validation(
            "If-Match and If-None-Match must be * or a list of quoted ETags".into(),
            json!([{ "field": "If-Match", "message": "must be * or a list of quoted ETags" }]),
        ),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Infrastructure: a stored secret the server's key cannot open (no tenant setting sends
        // notifications, so `NoDeliverers` is here only because the variant is shared).
        e @ (SettingsError::Secret(_) | SettingsError::NoDeliverers) => {
            ApiError::internal(DIALECT, &e)
        }
        // Reading and merge-patching the document produce only the variants above; the rest
        // belong to the other APIs' calls (the IP check answers in `auth.rs`).
        e @ (SettingsError::ForbiddenAction { .. }
        | SettingsError::InvalidWebhookUrl(_)
        | SettingsError::PaymentMethodRequired
        | SettingsError::VersionConflict { .. }
        | SettingsError::UnknownVersion(_)
        | SettingsError::ReauthRequired
        | SettingsError::EmailTaken
        | SettingsError::UnknownEntry
        | SettingsError::AllowlistEntryExists { .. }
        | SettingsError::DeliveryFailed { .. }
        | SettingsError::TelemetryTestFailed { .. }
        | SettingsError::UnknownTelemetryEvent
        | SettingsError::CatalogSettingMissing(_)
        | SettingsError::CatalogSettingExists(_)
        | SettingsError::CatalogOperationUnsupported { .. }
        | SettingsError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}
