//! The account settings API's one error mapper: every variant of each domain error its routes
//! receive, matched one by one (no catch-all arm), so a variant added to a domain error is a
//! compile error here rather than a 500. Rendering the body is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::json;
use tenantry_billing::BillingError;
use tenantry_kernel::KernelError;
use tenantry_security::SecurityError;
use tenantry_settings::{SettingsError, VALID_IP_FORMAT};

use crate::dialects::common;
use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::V2;

/// Every settings failure in this API's codes and statuses.
pub(super) fn settings_error(e: SettingsError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        SettingsError::Forbidden {
            section,
            required,
            current,
        } => {
            let mut name = section.to_owned();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            err(
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_PERMISSIONS",
                format!("{name} settings require {required} role"),
            )
            .with_details(
                json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() }),
            )
        }
        SettingsError::ForbiddenAction {
            action,
            required,
            current,
        } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("{action} requires {required} role"),
        )
        .with_details(
            json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() }),
        ),
        SettingsError::ReauthRequired => err(
            StatusCode::FORBIDDEN,
            "REAUTH_REQUIRED",
            "Sign in again (POST /api/auth/login) to export secrets from a session".into(),
        ),
        SettingsError::UnknownFields(fields) => err(
            StatusCode::BAD_REQUEST,
            "UNKNOWN_FIELD",
            format!("Unknown field(s): {}", fields.join(", ")),
        )
        .with_details(json!({ "fields": fields })),
        SettingsError::InvalidIpWhitelist(entries) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_IP_WHITELIST",
            "IP whitelist contains invalid CIDR blocks".into(),
        )
        .with_details(json!({ "invalidEntries": entries, "validFormat": VALID_IP_FORMAT })),
        SettingsError::Validation(fields) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            format!(
                "Invalid value for {}",
                fields
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_details(json!({
            "fields": fields.iter().map(|f| {
                let mut v = json!({ "field": f.field, "message": f.message });
                if let Some(allowed) = &f.allowed {
                    v["allowed"] = allowed.clone();
                }
                v
            }).collect::<Vec<_>>()
        })),
        // The account settings API's shape with the field named instead of the URL: a Slack URL is a credential.
        SettingsError::InvalidWebhookUrl(fields) => err(
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_URL",
            "Webhook URL is not valid or unreachable".into(),
        )
        .with_details(json!({
            "field": fields.first().map(|f| f.field.as_str()),
            "reason": fields.first().map(|f| f.message.as_str()),
            "fields": common::field_list(&fields),
        })),
        SettingsError::PaymentMethodRequired => err(
            StatusCode::PAYMENT_REQUIRED,
            "PAYMENT_METHOD_REQUIRED",
            "Valid payment method required for auto-recharge".into(),
        )
        .with_details(json!({ "feature": "auto_recharge", "action": "add_payment_method" })),
        SettingsError::VersionConflict { current } => err(
            StatusCode::PRECONDITION_FAILED,
            "VERSION_CONFLICT",
            "The settings changed since you read them; re-read and retry".into(),
        )
        .with_details(json!({ "currentVersion": current })),
        SettingsError::PreconditionFailed { header, etag } => err(
            StatusCode::PRECONDITION_FAILED,
            "VERSION_CONFLICT",
            format!("The {header} precondition failed; the current ETag is {etag}"),
        )
        .with_details(json!({ "header": header, "currentETag": etag })),
        // Only invalid syntax: a well-formed tag the server never issued fails the condition.
        SettingsError::BadPrecondition => err(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "If-Match and If-None-Match must be * or a list of quoted ETags".into(),
        )
        .with_details(json!({ "header": "If-Match" })),
        SettingsError::UnknownVersion(v) => err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Version {v} not found"),
        ),
        SettingsError::Kernel(KernelError::InvalidCursor | KernelError::InvalidLimit { .. }) => {
            err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", e.to_string())
        }
        SettingsError::WouldLockOut { address } => common::would_lock_out(DIALECT, address),
        SettingsError::DeliveryFailed { url, reason } => err(
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_URL",
            "Webhook URL is not valid or unreachable".into(),
        )
        .with_details(json!({ "url": url, "reason": reason })),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Infrastructure: no notification transport is configured for the test send, or a
        // stored secret cannot be opened with the server's key.
        e @ (SettingsError::NoDeliverers | SettingsError::Secret(_)) => {
            ApiError::internal(DIALECT, &e)
        }
        // Only history pages take a cursor; nothing here parses ids, roles or names.
        e @ SettingsError::Kernel(
            KernelError::InvalidId { .. }
            | KernelError::InvalidRole(_)
            | KernelError::InvalidAccountName(_)
            | KernelError::InvalidEmail(_)
            | KernelError::InvalidDisplayName(_)
            | KernelError::InvalidExternalSubject
            | KernelError::InsufficientRole { .. },
        ) => ApiError::not_produced_here(DIALECT, &e),
        // The profile, the allowlist entries, tenants, the catalog's settings and its webhook
        // test are other APIs' calls; the IP check answers in `auth.rs`.
        e @ (SettingsError::EmailTaken
        | SettingsError::UnknownEntry
        | SettingsError::AllowlistEntryExists { .. }
        | SettingsError::UnknownTenant
        | SettingsError::TelemetryTestFailed { .. }
        | SettingsError::UnknownTelemetryEvent
        | SettingsError::CatalogSettingMissing(_)
        | SettingsError::CatalogSettingExists(_)
        | SettingsError::CatalogOperationUnsupported { .. }) => {
            ApiError::not_produced_here(DIALECT, &e)
        }
    }
}

/// Usage reports' refusals, worded as the settings refusals of the billing section they were
/// before billing had its own service (one body shape for one API).
pub(super) fn billing_error(e: BillingError) -> ApiError {
    match e {
        BillingError::Forbidden { required, current } => settings_error(SettingsError::Forbidden {
            section: "billing",
            required,
            current,
        }),
        BillingError::InvalidRecords(message) => settings_error(SettingsError::Validation(vec![
            tenantry_settings::FieldError {
                field: "records".into(),
                message,
                allowed: None,
            },
        ])),
        BillingError::Port(p) => ApiError::from_port(DIALECT, &p),
    }
}

/// The audit log's refusals: only admins read it.
pub(super) fn audit_error(e: SecurityError) -> ApiError {
    match e {
        SecurityError::Kernel(KernelError::InsufficientRole { required, current }) => {
            ApiError::new(
                DIALECT,
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_PERMISSIONS",
                format!("Audit logs require {required} role"),
            )
            .with_details(
                json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() }),
            )
        }
        SecurityError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Listing checks the role and reads; the page was parsed by the handler.
        e @ SecurityError::Kernel(
            KernelError::InvalidId { .. }
            | KernelError::InvalidRole(_)
            | KernelError::InvalidAccountName(_)
            | KernelError::InvalidEmail(_)
            | KernelError::InvalidDisplayName(_)
            | KernelError::InvalidExternalSubject
            | KernelError::InvalidCursor
            | KernelError::InvalidLimit { .. },
        ) => ApiError::not_produced_here(DIALECT, &e),
        e @ (SecurityError::Unauthenticated
        | SecurityError::MalformedCredential
        | SecurityError::ReauthRequired
        | SecurityError::MfaEnrollmentRequired
        | SecurityError::RateLimited { .. }
        | SecurityError::MfaCodeRequired
        | SecurityError::AccountRequired(_)
        | SecurityError::MfaAlreadyEnabled
        | SecurityError::MfaNotEnabled
        | SecurityError::UnknownEnrollment
        | SecurityError::InvalidCode
        | SecurityError::WrongPassword
        | SecurityError::KeyNotFound
        | SecurityError::TooManyKeys { .. }
        | SecurityError::InvalidKeyRequest(_)
        | SecurityError::ScopeAboveRole { .. }
        | SecurityError::ScopeExceedsCredential { .. }
        | SecurityError::PortalTargetNotFound
        | SecurityError::PortalTargetAboveMinter { .. }
        | SecurityError::PortalTargetPermissions { .. }
        | SecurityError::PortalReturnUrlNotAllowed { .. }
        | SecurityError::PortalLinkUnknown
        | SecurityError::PortalLinkUsed
        | SecurityError::PortalLinkExpired
        // The allowlist is applied by the authentication middleware (auth.rs), before any
        // handler runs.
        | SecurityError::IpNotAllowed { .. }
        // The profile and the password change are the user and organization API's.
        | SecurityError::InvalidFields(_)
        | SecurityError::UnknownFields(_)
        | SecurityError::PasswordChangedMeanwhile
        | SecurityError::AccountNameTaken(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}
