//! What a refused team call tells a visitor of the team pages: every `TeamError` named, with
//! its status and the sentence the page shows (or a page of its own when the store failed or
//! the allowlist or the throttle refused).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tenantry_team::TeamError;

/// What a refused team call tells the visitor: status and message, or a page of its own (the
/// store failed; the allowlist or the throttle refused). Every variant is named: a new one is
/// a compile error here, not a 500.
pub(crate) fn explain(e: TeamError) -> Result<(StatusCode, String), Box<HttpResponse>> {
    let nothing = "Nothing was changed.";
    Ok(match e {
        TeamError::InsufficientPermissions { .. } => (
            StatusCode::FORBIDDEN,
            format!("Only admins and the owner manage the team. {nothing}"),
        ),
        TeamError::CannotRemoveOwner => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The account owner cannot be changed, suspended or removed. {nothing}"),
        ),
        TeamError::RoleAboveOwn { current, target } => (
            StatusCode::FORBIDDEN,
            format!("A {current} cannot act on a {target} or grant that role. {nothing}"),
        ),
        TeamError::PermissionsExceedOwn { exceeding } => (
            StatusCode::FORBIDDEN,
            format!(
                "You cannot give permissions you do not hold ({}). {nothing}",
                exceeding
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        TeamError::InvalidField { field, reason } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {reason}. {nothing}", field_label(field)),
        ),
        TeamError::MemberNotFound => (
            StatusCode::NOT_FOUND,
            format!("There is no such member in this account. {nothing}"),
        ),
        TeamError::Conflict => (
            StatusCode::CONFLICT,
            format!("Someone else changed this member meanwhile; reload and try again. {nothing}"),
        ),
        TeamError::InvalidEmail { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter an email address.".to_owned(),
        ),
        TeamError::MemberAlreadyExists {
            email,
            current_role,
        } => (
            StatusCode::CONFLICT,
            format!("{email} is already a member of this account ({current_role}). {nothing}"),
        ),
        TeamError::InvitationAlreadyPending { email, .. } => (
            StatusCode::CONFLICT,
            format!(
                "{email} already has a pending invitation: resend it from the list below. {nothing}"
            ),
        ),
        TeamError::MemberLimitReached { max } => (
            StatusCode::CONFLICT,
            format!(
                "This account allows {max} members, pending invitations included, and has \
                 reached that. {nothing}"
            ),
        ),
        TeamError::InvitationNotFound => (
            StatusCode::NOT_FOUND,
            format!("There is no such invitation in this account. {nothing}"),
        ),
        TeamError::InvitationClosed(state) => (
            StatusCode::CONFLICT,
            format!(
                "The invitation is no longer pending (it is {}). {nothing}",
                state.as_str()
            ),
        ),
        TeamError::Port(_) => return Err(Box::new(crate::refusal::unavailable())),
        TeamError::IpNotAllowed { .. } => return Err(Box::new(crate::refusal::ip_not_allowed())),
        TeamError::RateLimited { retry_after_secs } => {
            return Err(Box::new(crate::refusal::too_many(
                u64::try_from(retry_after_secs).unwrap_or(1),
            )))
        }
        // None of this page's calls produce these (ownership transfer, invitation links,
        // password links, email changes); one arriving is a server fault.
        e @ (TeamError::UnrestrictedCredentialRequired
        | TeamError::ReauthRequired
        | TeamError::TransferTargetNotActiveAdmin { .. }
        | TeamError::IdentityNotProven
        | TeamError::SecondFactorRequired
        | TeamError::ResetLinkInvalid
        | TeamError::EmailChangeRefused(_)
        | TeamError::SignedInAsAnotherUser) => return Err(Box::new(crate::refusal::internal(&e))),
    })
}

/// The words the page uses for a field the service names.
fn field_label(field: &str) -> &str {
    match field {
        "role" => "Role",
        "status" => "Status",
        "members" => "Selected members",
        "email" => "Email",
        other => other,
    }
}
