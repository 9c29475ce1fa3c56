//! The team API's one error mapper: every variant of the team error, matched one by one (no
//! catch-all arm), so a variant added to the domain error is a compile error here rather than a
//! 500. Rendering the body is `crate::error`'s.

use actix_web::http::StatusCode;
use serde_json::json;
use tenantry_team::{InvitationState, TeamError};

use crate::error::{ApiError, Dialect};

const DIALECT: Dialect = Dialect::V2;

pub(super) fn validation(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        "The request has invalid fields",
    )
    .with_details(json!({ "fields": [{ "field": field, "message": message.into() }] }))
}

/// Every team failure in this API's codes and statuses; `user` is the member or invitation id
/// the request named, echoed in the details.
pub(super) fn team_error(e: TeamError, user: Option<&str>) -> ApiError {
    let err = |status, code, message: &str| ApiError::new(DIALECT, status, code, message);
    match e {
        TeamError::InsufficientPermissions { required, current } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            "Only admins can manage team members",
        )
        .with_details(
            json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() }),
        ),
        TeamError::RoleAboveOwn { current, target } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            "You cannot grant or manage a role above your own",
        )
        .with_details(json!({ "requiredRole": target.as_str(), "currentRole": current.as_str() })),
        TeamError::CannotRemoveOwner => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "CANNOT_REMOVE_OWNER",
            "Cannot remove the account owner",
        )
        .with_details(json!({ "userId": user, "role": "owner" })),
        TeamError::MemberNotFound => err(
            StatusCode::NOT_FOUND,
            "MEMBER_NOT_FOUND",
            "Team member not found",
        )
        .with_details(json!({ "userId": user })),
        TeamError::InvalidField { field, reason } => validation(field, reason),
        TeamError::Conflict => err(
            StatusCode::CONFLICT,
            "CONFLICT",
            "The member was changed by someone else meanwhile; reload and retry",
        ),
        TeamError::InvalidEmail { value } => err(
            StatusCode::BAD_REQUEST,
            "INVALID_EMAIL",
            "Invalid email address format",
        )
        .with_details(json!({ "field": "email", "value": value })),
        TeamError::MemberAlreadyExists {
            email,
            current_role,
        } => err(
            StatusCode::CONFLICT,
            "MEMBER_ALREADY_EXISTS",
            "User is already a team member",
        )
        .with_details(json!({ "email": email, "currentRole": current_role.as_str() })),
        TeamError::InvitationAlreadyPending { email, invitation } => err(
            StatusCode::CONFLICT,
            "INVITATION_ALREADY_PENDING",
            "This address already has a pending invitation; resend it instead",
        )
        .with_details(json!({ "email": email, "invitationId": invitation.to_string() })),
        TeamError::MemberLimitReached { max } => err(
            StatusCode::CONFLICT,
            "MEMBER_LIMIT_REACHED",
            "The account has reached its member limit (maxUsersPerOrganization)",
        )
        .with_details(json!({ "limit": max })),
        TeamError::ResetLinkInvalid => err(
            StatusCode::NOT_FOUND,
            "RESET_LINK_INVALID",
            "This password link is invalid, used or expired",
        ),
        TeamError::InvitationNotFound => err(
            StatusCode::NOT_FOUND,
            "INVITATION_NOT_FOUND",
            "Invitation not found",
        )
        .with_details(json!({ "invitationId": user })),
        TeamError::InvitationClosed(state) => {
            let (status, code, message) = match state {
                InvitationState::Expired => (
                    StatusCode::GONE,
                    "INVITATION_EXPIRED",
                    "The invitation has expired; ask for it to be resent",
                ),
                InvitationState::Cancelled => (
                    StatusCode::GONE,
                    "INVITATION_CANCELLED",
                    "The invitation was cancelled",
                ),
                InvitationState::Accepted | InvitationState::Pending => (
                    StatusCode::CONFLICT,
                    "INVITATION_ALREADY_ACCEPTED",
                    "The invitation has already been accepted",
                ),
            };
            err(status, code, message).with_details(json!({ "invitationId": user }))
        }
        // Worded so that it states what proves identity, not whether an identity exists.
        TeamError::RateLimited { retry_after_secs } => {
            let mut e = err(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                &format!("Too many failed attempts; retry in {retry_after_secs} s"),
            );
            e.retry_after_secs = Some(u64::try_from(retry_after_secs).unwrap_or(1));
            e
        }
        TeamError::IdentityNotProven => err(
            StatusCode::UNAUTHORIZED,
            "SIGN_IN_REQUIRED",
            "To accept, sign in as the invited user (send your session or API key as the bearer \
             token) or give your current password. No password yet: ask for a set-up link with \
             POST /api/auth/password-reset",
        )
        .with_details(json!({ "field": "password" })),
        TeamError::SecondFactorRequired => err(
            StatusCode::UNAUTHORIZED,
            "SIGN_IN_REQUIRED",
            "This user signs in with a second factor, so a password alone does not prove them: \
             sign in (with your code) and accept with that session or an unrestricted API key of \
             yours as the bearer token",
        )
        .with_details(json!({ "field": "password", "reason": "second_factor" })),
        TeamError::SignedInAsAnotherUser => err(
            StatusCode::FORBIDDEN,
            "WRONG_USER",
            "You are signed in as a different user than the one this invitation was sent to",
        ),
        TeamError::IpNotAllowed { address } => err(
            StatusCode::FORBIDDEN,
            "IP_NOT_ALLOWED",
            &format!("Requests from {address} are not allowed for this account"),
        )
        .with_details(json!({ "address": address })),
        TeamError::PermissionsExceedOwn { exceeding } => err(
            StatusCode::FORBIDDEN,
            "PERMISSIONS_EXCEED_OWN",
            "You cannot give permissions you do not hold yourself",
        )
        .with_details(json!({
            "exceedingPermissions": exceeding.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        })),
        TeamError::TransferTargetNotActiveAdmin { role, status } => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "TRANSFER_TARGET_NOT_ACTIVE_ADMIN",
            "Ownership can only be transferred to an active admin of this account",
        )
        .with_details(json!({ "userId": user, "role": role.as_str(), "status": status.as_str() })),
        TeamError::UnrestrictedCredentialRequired => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_SCOPE",
            "This action needs a session or an API key without scopes",
        )
        .with_details(json!({ "requiredScopes": ["*"] })),
        TeamError::ReauthRequired => err(
            StatusCode::FORBIDDEN,
            "REAUTH_REQUIRED",
            "Sign in again (within the last 10 minutes) to transfer ownership",
        ),
        // Email changes are the user API's (`user_org/profile.rs`); no team call makes one.
        e @ TeamError::EmailChangeRefused(_) => ApiError::not_produced_here(DIALECT, &e),
        TeamError::Port(p) => ApiError::from_port(DIALECT, &p),
    }
}
