//! The settings catalog API's one error mapper: every variant of each domain error its routes
//! receive (settings, team, security), matched one by one (no catch-all arm), so a variant added
//! to a domain error is a compile error here rather than a 500. The token grant's failures also
//! carry RFC 6749's names. Rendering the body is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::json;
use tenantry_security::SecurityError;
use tenantry_settings::SettingsError;
use tenantry_team::TeamError;

use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::Catalog;

/// Every settings failure in this API's codes and statuses.
pub(super) fn catalog_error(e: SettingsError) -> ApiError {
    match e {
        SettingsError::UnknownTenant => ApiError::new(DIALECT, StatusCode::NOT_FOUND, "NOT_FOUND", "Account not found"),
        SettingsError::Forbidden { required, current, .. } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("You are not the Owner or an Administrative user of this account (required {required}, you are {current})"),
        ),
        SettingsError::Validation(fields) => ApiError::new(DIALECT, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "Invalid data was submitted")
            .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>() })),
        SettingsError::UnknownFields(fields) => ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", format!("Unknown field(s): {}", fields.join(", ")))
            .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f, "message": "is not a field of this setting" })).collect::<Vec<_>>() })),
        SettingsError::CatalogSettingMissing(name) => ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("The setting {name} does not exist for this account"),
        ),
        SettingsError::CatalogSettingExists(name) => ApiError::new(
            DIALECT,
            StatusCode::CONFLICT,
            "SETTING_ALREADY_EXISTS",
            format!("The setting {name} already exists for this account; use PUT or PATCH"),
        ),
        SettingsError::CatalogOperationUnsupported { operation, setting } => ApiError::new(
            DIALECT,
            StatusCode::BAD_REQUEST,
            "OPERATION_NOT_SUPPORTED",
            format!("{operation} is not supported for the {setting} setting"),
        ),
        SettingsError::DeliveryFailed { url, reason } => ApiError::new(
            DIALECT,
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_URL",
            format!("The Endpoint URL could not be reached: {reason}"),
        )
        .with_details(json!({ "url": url, "reason": reason })),
        SettingsError::TelemetryTestFailed { telemetry_event_id, url, reason } => ApiError::new(
            DIALECT,
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_URL",
            format!("The Endpoint URL could not be reached: {reason} (telemetryEventId {telemetry_event_id})"),
        )
        .with_details(json!({ "url": url, "reason": reason, "telemetryEventId": telemetry_event_id })),
        SettingsError::UnknownTelemetryEvent => ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "No webhook test of this account has this telemetryEventId; run the test call first",
        ),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Infrastructure: no notification transport is configured for the webhook test, or a
        // stored secret cannot be opened with the server's key.
        e @ (SettingsError::NoDeliverers | SettingsError::Secret(_)) => {
            ApiError::internal(DIALECT, &e)
        }
        // The catalog's calls report a refused URL as `Validation` and the allowlist is not
        // one of its settings; the rest belong to the other APIs' calls.
        e @ (SettingsError::ForbiddenAction { .. }
        | SettingsError::InvalidIpWhitelist(_)
        | SettingsError::InvalidWebhookUrl(_)
        | SettingsError::PaymentMethodRequired
        | SettingsError::VersionConflict { .. }
        | SettingsError::BadPrecondition
        | SettingsError::PreconditionFailed { .. }
        | SettingsError::UnknownVersion(_)
        | SettingsError::ReauthRequired
        | SettingsError::EmailTaken
        | SettingsError::UnknownEntry
        | SettingsError::AllowlistEntryExists { .. }
        | SettingsError::WouldLockOut { .. }
        | SettingsError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// The account list's refusal: the team overview it is read from is for admins.
pub(super) fn overview_error(e: TeamError) -> ApiError {
    match e {
        TeamError::InsufficientPermissions { required, current } => {
            crate::route_roles::refusal(DIALECT, required, current)
        }
        TeamError::Port(p) => ApiError::from_port(DIALECT, &p),
        // The overview only checks the caller's role and reads.
        e @ (TeamError::CannotRemoveOwner
        | TeamError::RoleAboveOwn { .. }
        | TeamError::PermissionsExceedOwn { .. }
        | TeamError::TransferTargetNotActiveAdmin { .. }
        | TeamError::UnrestrictedCredentialRequired
        | TeamError::ReauthRequired
        | TeamError::InvalidField { .. }
        | TeamError::MemberNotFound
        | TeamError::Conflict
        | TeamError::InvalidEmail { .. }
        | TeamError::MemberAlreadyExists { .. }
        | TeamError::InvitationAlreadyPending { .. }
        | TeamError::MemberLimitReached { .. }
        | TeamError::InvitationNotFound
        | TeamError::InvitationClosed(_)
        | TeamError::IdentityNotProven
        | TeamError::SecondFactorRequired
        | TeamError::RateLimited { .. }
        | TeamError::ResetLinkInvalid
        | TeamError::EmailChangeRefused(_)
        | TeamError::SignedInAsAnotherUser
        | TeamError::IpNotAllowed { .. }) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// A malformed grant request (RFC 6749 §5.2 `invalid_request`).
pub(super) fn invalid_request(message: impl Into<String>) -> ApiError {
    ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
        .oauth("invalid_request")
}

/// Credentials that do not sign in (RFC 6749 §5.2 `invalid_grant`).
pub(super) fn invalid_grant(message: &str) -> ApiError {
    ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "INVALID_GRANT", message).oauth("invalid_grant")
}

/// The grant's failures. An unknown user, a wrong password, an account the user is not a member
/// of and an address outside the allowlist are one answer (`Unauthenticated`), so the grant
/// tells nobody which users exist or where.
pub(super) fn grant_error(e: SecurityError, refresh: bool) -> ApiError {
    match e {
        SecurityError::Unauthenticated
        | SecurityError::MalformedCredential
        | SecurityError::AccountRequired(_) => invalid_grant(if refresh {
            "the refresh token is invalid, expired, revoked or already used"
        } else {
            "wrong username or password"
        }),
        SecurityError::MfaCodeRequired => {
            invalid_grant("this user signs in with a second factor: send the current code as `otp`")
        }
        SecurityError::RateLimited { retry_after_secs } => {
            let mut e = ApiError::new(
                DIALECT,
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many failed attempts; retry in {retry_after_secs} s"),
            )
            .oauth("temporarily_unavailable");
            e.retry_after_secs = Some(u64::try_from(retry_after_secs).unwrap_or(1));
            e
        }
        SecurityError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Signing in and refreshing produce only the variants above.
        e @ (SecurityError::ReauthRequired
        | SecurityError::MfaEnrollmentRequired
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
        | SecurityError::AccountNameTaken(_)
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
        | SecurityError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}
