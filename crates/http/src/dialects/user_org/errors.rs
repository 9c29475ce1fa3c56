//! The user and organization settings API's one error mapper: every variant of each domain
//! error its routes receive (settings, security, team, notifications), matched one by one (no
//! catch-all arm), so a variant added to a domain error is a compile error here rather than a
//! 500. Where two groups of routes word one variant differently (what was not found, what a
//! refused request was about), the mapper takes the group; every other variant answers alike
//! wherever it comes from. Rendering the body is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::json;
use tenantry_notifications::NotificationError;
use tenantry_security::{Scope, SecurityError};
use tenantry_settings::{SettingsError, VALID_IP_FORMAT};
use tenantry_team::{EmailChangeRefusal, TeamError};

use crate::dialects::common;
use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::Api;

/// Which routes a settings failure comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum SettingsRoutes {
    /// `/api/user-preferences`.
    Preferences,
    /// `/api/settings*`, `/api/organization`, `/api/features*`, `/api/tier`, the allowlist.
    Organization,
}

/// Every settings failure of the user's preferences and the organization's settings.
pub(super) fn settings_error(routes: SettingsRoutes, e: SettingsError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        SettingsError::EmailTaken => err(StatusCode::CONFLICT, "EMAIL_TAKEN", "Another user has this email address".into()),
        SettingsError::Validation(fields) => match routes {
            // A preference is one value: the message names it and what it allows.
            SettingsRoutes::Preferences => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", fields.first().map_or_else(String::new, |f| format!("{}: {}", f.field, f.message)))
                .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f.field, "message": f.message, "allowed": f.allowed })).collect::<Vec<_>>() })),
            SettingsRoutes::Organization => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "The request has invalid fields".into())
                .with_details(json!({ "fields": common::field_list(&fields) })),
        },
        SettingsError::UnknownFields(fields) => err(StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", format!("Unknown field(s): {}", fields.join(", "))).with_details(json!({ "fields": fields })),
        SettingsError::Forbidden { section, required, current } => err(StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS", format!("Changing {section} settings requires the {required} role"))
            .with_details(json!({ "required_role": required.as_str(), "current_role": current.as_str() })),
        SettingsError::InvalidIpWhitelist(entries) => err(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_IP_WHITELIST", "Not an IP address or CIDR block".into())
            .with_details(json!({ "invalid_entries": entries, "valid_format": VALID_IP_FORMAT })),
        SettingsError::WouldLockOut { address } => common::would_lock_out(DIALECT, address),
        SettingsError::AllowlistEntryExists { cidr, id } => err(StatusCode::CONFLICT, "IP_WHITELIST_ENTRY_EXISTS", format!("The IP whitelist already holds {cidr}; delete that entry first to relabel it"))
            .with_details(json!({ "cidr": cidr, "existing_id": id })),
        SettingsError::UnknownEntry => match routes {
            SettingsRoutes::Preferences => err(StatusCode::NOT_FOUND, "NOT_FOUND", "Preference not set".into()),
            SettingsRoutes::Organization => err(StatusCode::NOT_FOUND, "NOT_FOUND", "IP whitelist entry not found".into()),
        },
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Infrastructure: a password that cannot be hashed or a stored secret the server's key
        // cannot open; no transport configured (never needed by these routes).
        // Preferences are the member's in every account: a portal session cannot change them.
        SettingsError::ReauthRequired => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "REAUTH_REQUIRED",
            "Your preferences are yours in every account: change them signed in (POST /api/auth/login), not from a portal session",
        ),
        e @ (SettingsError::Secret(_) | SettingsError::NoDeliverers) => ApiError::internal(DIALECT, &e),
        // Sections (and their versions), history, tenants and the catalog belong to the other
        // APIs' calls; the profile and password are the security context's.
        e @ (SettingsError::ForbiddenAction { .. }
        | SettingsError::VersionConflict { .. }
        | SettingsError::InvalidWebhookUrl(_)
        | SettingsError::PaymentMethodRequired
        | SettingsError::BadPrecondition
        | SettingsError::PreconditionFailed { .. }
        | SettingsError::UnknownVersion(_)
        | SettingsError::UnknownTenant
        | SettingsError::DeliveryFailed { .. }
        | SettingsError::TelemetryTestFailed { .. }
        | SettingsError::UnknownTelemetryEvent
        | SettingsError::CatalogSettingMissing(_)
        | SettingsError::CatalogSettingExists(_)
        | SettingsError::CatalogOperationUnsupported { .. }
        | SettingsError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// Which routes a security failure comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum SecurityRoutes {
    /// `/api/auth/login`, `/logout`, `/sessions`.
    Sessions,
    /// `/api/user/mfa*`.
    Mfa,
    /// `/api/user/api-keys*`.
    ApiKeys,
    /// `/api/organization*`: the account's summary (its tier).
    Organization,
    /// `/api/user/profile`, `/api/user/password`.
    Profile,
}

/// Every security failure of signing in, sessions, MFA, API keys, the profile and the password.
pub(super) fn security_error(routes: SecurityRoutes, e: SecurityError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        // One answer for every refused sign-in: it tells nobody which users exist.
        SecurityError::Unauthenticated | SecurityError::MalformedCredential => err(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Wrong email, password or code".into(),
        ),
        SecurityError::RateLimited { retry_after_secs } => {
            let mut e = err(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("Too many failed attempts; retry in {retry_after_secs} s"),
            );
            e.retry_after_secs = Some(u64::try_from(retry_after_secs).unwrap_or(1));
            e
        }
        SecurityError::MfaCodeRequired => {
            err(StatusCode::UNAUTHORIZED, "MFA_REQUIRED", e.to_string())
                .with_details(json!({ "field": "code" }))
        }
        SecurityError::AccountRequired(names) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ACCOUNT_REQUIRED",
            "This user belongs to several accounts: send `account`".into(),
        )
        .with_details(json!({ "accounts": names })),
        SecurityError::KeyNotFound => match routes {
            SecurityRoutes::Sessions => err(StatusCode::NOT_FOUND, "NOT_FOUND", "Session not found".into()),
            SecurityRoutes::ApiKeys => err(StatusCode::NOT_FOUND, "NOT_FOUND", "API key not found".into()),
            SecurityRoutes::Mfa | SecurityRoutes::Organization | SecurityRoutes::Profile => ApiError::not_produced_here(DIALECT, &e),
        },
        SecurityError::InvalidKeyRequest(message) => match routes {
            SecurityRoutes::Sessions => err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message),
            SecurityRoutes::Organization | SecurityRoutes::Profile => ApiError::not_produced_here(DIALECT, &SecurityError::InvalidKeyRequest(message)),
            SecurityRoutes::Mfa => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", message.clone())
                .with_details(json!({ "fields": [{ "field": "method", "message": message }] })),
            SecurityRoutes::ApiKeys => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", message.clone())
                .with_details(
                    json!({ "fields": [{ "field": key_request_field(&message), "message": message }], "allowed_scopes": Scope::all_names() }),
                ),
        },
        SecurityError::ReauthRequired => match routes {
            SecurityRoutes::Mfa => err(
                StatusCode::FORBIDDEN,
                "REAUTH_REQUIRED",
                "Enabling MFA needs your current password (`password`) or a sign-in within the last 10 minutes; without a password yet, set one first (POST /api/auth/password-reset)".into(),
            ),
            SecurityRoutes::ApiKeys => err(
                StatusCode::FORBIDDEN,
                "REAUTH_REQUIRED",
                "Sign in again (POST /api/auth/login) to create or regenerate API keys from a session"
                    .into(),
            ),
            SecurityRoutes::Profile => err(
                StatusCode::FORBIDDEN,
                "REAUTH_REQUIRED",
                "Your profile and password are yours in every account: change them signed in \
                 (POST /api/auth/login) or with an API key, not from a portal session; a first \
                 password may also come from the set-up link (POST /api/auth/password-reset)"
                    .into(),
            ),
            SecurityRoutes::Sessions | SecurityRoutes::Organization => {
                ApiError::not_produced_here(DIALECT, &e)
            }
        },
        SecurityError::MfaEnrollmentRequired => err(
            StatusCode::FORBIDDEN,
            "MFA_ENROLLMENT_REQUIRED",
            "This account requires MFA: enrol (POST /api/user/mfa/enable, /verify) to create or \
             regenerate API keys; the keys you hold keep working"
                .into(),
        ),
        SecurityError::MfaAlreadyEnabled => {
            err(StatusCode::CONFLICT, "MFA_ALREADY_ENABLED", e.to_string())
        }
        SecurityError::MfaNotEnabled => err(StatusCode::CONFLICT, "MFA_NOT_ENABLED", e.to_string()),
        SecurityError::UnknownEnrollment => err(StatusCode::NOT_FOUND, "NOT_FOUND", e.to_string()),
        SecurityError::InvalidCode => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_CODE",
            e.to_string(),
        ),
        SecurityError::WrongPassword => match routes {
            // The password change asks for the current one.
            SecurityRoutes::Profile => err(
                StatusCode::FORBIDDEN,
                "INVALID_CURRENT_PASSWORD",
                "The current password is wrong or missing".into(),
            ),
            SecurityRoutes::Sessions | SecurityRoutes::Mfa | SecurityRoutes::ApiKeys | SecurityRoutes::Organization => err(
                StatusCode::FORBIDDEN,
                "INVALID_CURRENT_PASSWORD",
                e.to_string(),
            ),
        },
        SecurityError::InvalidFields(fields) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            "The request has invalid fields".into(),
        )
        .with_details(json!({ "fields": common::invalid_field_list(&fields) })),
        SecurityError::UnknownFields(fields) => {
            err(StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", "Unknown fields".into())
                .with_details(json!({ "fields": fields }))
        }
        // Only a password change compares and swaps (the hash it verified against).
        SecurityError::PasswordChangedMeanwhile => err(
            StatusCode::CONFLICT,
            "CONFLICT",
            "The password changed meanwhile; retry".into(),
        ),
        SecurityError::TooManyKeys { max } => err(
            StatusCode::CONFLICT,
            "API_KEY_LIMIT",
            format!("You already have the {max} API keys this account allows"),
        )
        .with_details(json!({ "max_api_keys": max })),
        SecurityError::ScopeAboveRole { scope, role } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("A {role} cannot hold a key with scope {scope}"),
        )
        .with_details(json!({ "scope": scope, "current_role": role.as_str() })),
        SecurityError::ScopeExceedsCredential { exceeding, held } => err(
            StatusCode::FORBIDDEN,
            "SCOPE_EXCEEDS_CREDENTIAL",
            format!(
                "This credential cannot create, regenerate or delete a key with scope(s) {}: \
                 a key can only manage keys within its own scopes (no scopes means *)",
                exceeding.join(", ")
            ),
        )
        .with_details(json!({ "exceeding_scopes": exceeding, "credential_scopes": held })),
        SecurityError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Accounts are the operator's; ids and pages are parsed by the handlers.
        e @ (SecurityError::AccountNameTaken(_)
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
        | SecurityError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// The request field an `InvalidKeyRequest` is about, so the validation error names it like
/// every other: key_management.rs words its refusals of `name` and `expires_in_days` after the
/// field, and every other one is about a scope.
fn key_request_field(message: &str) -> &'static str {
    if message.starts_with("name ") {
        "name"
    } else if message.starts_with("expires_in_days ") {
        "expires_in_days"
    } else {
        "scopes"
    }
}

/// Which routes a team failure comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum TeamRoutes {
    /// `/api/user/email`, `/api/user/email/confirm/{token}`.
    EmailChange,
    /// `/api/auth/password-reset`, `/api/auth/password-reset/{token}`.
    PasswordReset,
}

/// Every team failure of the email change and the password reset (both are the team context's:
/// they mail links to members).
pub(super) fn team_error(routes: TeamRoutes, e: TeamError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        TeamError::InvalidField { field, reason } => match routes {
            TeamRoutes::EmailChange => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "The request has invalid fields".into())
                .with_details(json!({ "fields": [{ "field": field, "message": reason }] })),
            TeamRoutes::PasswordReset => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", format!("{field} {reason}"))
                .with_details(json!({ "field": field, "fields": [{ "field": field, "message": reason }] })),
        },
        // The email change's current password is proven behind the sign-in's throttle.
        TeamError::RateLimited { retry_after_secs } => {
            let mut e = err(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("Too many failed attempts; retry in {retry_after_secs} s"),
            );
            e.retry_after_secs = Some(u64::try_from(retry_after_secs).unwrap_or(1));
            e
        }
        TeamError::EmailChangeRefused(EmailChangeRefusal::WrongPassword) => err(StatusCode::FORBIDDEN, "INVALID_CURRENT_PASSWORD", "The current password is wrong or missing".into()),
        TeamError::EmailChangeRefused(EmailChangeRefusal::LinkInvalid) => err(StatusCode::NOT_FOUND, "EMAIL_LINK_INVALID", "This email change link is invalid, used or expired: ask for the change again".into()),
        // Only the holder of the link, who controls that mailbox, gets here.
        TeamError::EmailChangeRefused(EmailChangeRefusal::AddressTaken) => err(StatusCode::CONFLICT, "EMAIL_TAKEN", "This address already signs in to Tenantry, so it cannot become another user's; nothing changed".into()),
        TeamError::ResetLinkInvalid => err(
            StatusCode::NOT_FOUND,
            "RESET_LINK_INVALID",
            "This password link is invalid, used or expired: ask for a new one".into(),
        ),
        TeamError::Port(p) => ApiError::from_port(DIALECT, &p),
        // The caller's own user vanished under the request (`MemberNotFound`), or variants of
        // managing the team these routes never produce: all of them are bugs, not answers.
        e @ (TeamError::InsufficientPermissions { .. }
        | TeamError::CannotRemoveOwner
        | TeamError::RoleAboveOwn { .. }
        | TeamError::PermissionsExceedOwn { .. }
        | TeamError::TransferTargetNotActiveAdmin { .. }
        | TeamError::UnrestrictedCredentialRequired
        | TeamError::ReauthRequired
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
        | TeamError::SignedInAsAnotherUser
        | TeamError::IpNotAllowed { .. }) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// Every notification failure (channels, rules, deliveries, host events).
pub(super) fn notification_error(e: NotificationError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        NotificationError::InsufficientPermissions { required, current } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("Managing notifications requires the {required} role"),
        )
        .with_details(json!({ "required_role": required.as_str(), "current_role": current.as_str() })),
        NotificationError::NotFound(what) => err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Notification {what} not found"),
        ),
        NotificationError::Validation(fields) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            "The request has invalid fields".into(),
        )
        .with_details(json!({ "fields": fields.iter().map(|(f, m)| json!({ "field": f, "message": m })).collect::<Vec<_>>() })),
        NotificationError::BuiltinChannel(message) => {
            err(StatusCode::CONFLICT, "BUILTIN_CHANNEL", message)
        }
        NotificationError::Port(p) => ApiError::from_port(DIALECT, &p),
    }
}
