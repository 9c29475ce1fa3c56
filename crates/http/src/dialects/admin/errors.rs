//! The operator API's one error mapper: every variant of the security error its calls return,
//! matched one by one (no catch-all arm), so a variant added to the domain error is a compile
//! error here rather than a 500. Rendering the body is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::json;
use tenantry_security::SecurityError;
use tenantry_team::TeamError;

use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::V2;

/// Each invalid field of the request, all at once.
pub(super) fn validation(fields: Vec<serde_json::Value>) -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        "The request has invalid fields",
    )
    .with_details(json!({ "fields": fields }))
}

/// Every failure of creating, listing and updating accounts.
pub(super) fn security_error(e: SecurityError) -> ApiError {
    match e {
        SecurityError::AccountNameTaken(name) => ApiError::new(
            DIALECT,
            StatusCode::CONFLICT,
            "ACCOUNT_EXISTS",
            format!("An account named `{name}` already exists"),
        ),
        SecurityError::Port(p) => ApiError::from_port(DIALECT, &p),
        // The handlers parse names, addresses, tiers and pages before calling; provisioning
        // refuses only a taken name.
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
        | SecurityError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}

/// Every failure of mailing a new owner their password set-up link: the account exists by
/// then, so only the store can fail it (a full pool is a 503 to retry, not a 500).
pub(super) fn team_error(e: TeamError) -> ApiError {
    match e {
        TeamError::Port(p) => ApiError::from_port(DIALECT, &p),
        e @ (TeamError::InsufficientPermissions { .. }
        | TeamError::CannotRemoveOwner
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
