//! The team context's one error enum.

use thiserror::Error;

use tenantry_kernel::{InvitationId, KernelError, Permission, PortError, Role};

use crate::{EmailChangeRefusal, InvitationState};

/// Everything a team operation can refuse. The HTTP adapter maps each variant onto the team API's
/// error bodies (`INSUFFICIENT_PERMISSIONS`, `CANNOT_REMOVE_OWNER`, `VALIDATION_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TeamError {
    /// Managing the team needs at least `required`; the caller holds `current`.
    #[error("only {required}s can manage team members")]
    InsufficientPermissions {
        /// The least role that may manage the team.
        required: Role,
        /// The caller's role.
        current: Role,
    },
    /// The owner is never assigned, changed, suspended or removed through team management.
    #[error("cannot change or remove the account owner")]
    CannotRemoveOwner,
    /// A manager cannot grant a role above their own, nor act on someone who outranks them.
    #[error("a {current} cannot act on or grant the role {target}")]
    RoleAboveOwn {
        /// The caller's role.
        current: Role,
        /// The role granted, or the role of the member acted on.
        target: Role,
    },
    /// The member would end up with permissions the caller does not hold (by a custom list, a
    /// return to the role's defaults, or a role change): a credential never yields a stronger
    /// one, and nobody widens their own permissions.
    #[error("you cannot give permissions you do not hold: {}", list(exceeding))]
    PermissionsExceedOwn {
        /// The permissions the member would get that the caller does not hold.
        exceeding: Vec<Permission>,
    },
    /// Only an active admin can be handed the account.
    #[error(
        "the account can only be handed to an active admin (this member is {status:?} {role})"
    )]
    TransferTargetNotActiveAdmin {
        /// The chosen member's role.
        role: Role,
        /// The chosen member's status.
        status: tenantry_security::MemberStatus,
    },
    /// The action needs a credential as strong as the member: an API key without scopes (or a
    /// session).
    #[error("this action needs a session or an API key without scopes")]
    UnrestrictedCredentialRequired,
    /// The session signed in too long ago for this action: sign in again.
    #[error("sign in again to do this")]
    ReauthRequired,
    /// A field failed its contract; `field` is the API's camelCase name.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field's name in the team API (camelCase).
        field: &'static str,
        /// What is wrong with the value, for the person who sent it.
        reason: String,
    },
    /// No member with that id in the caller's account (a member of another account is not
    /// found either: accounts never see one another).
    #[error("team member not found")]
    MemberNotFound,
    /// The member changed between our read and our write (another admin acted at the same
    /// time); nothing was applied.
    #[error("the member was changed concurrently; reload and retry")]
    Conflict,
    /// The team API `INVALID_EMAIL`: the invited address is not an email address.
    #[error("invalid email address `{value}`")]
    InvalidEmail {
        /// The value sent.
        value: String,
    },
    /// The team API `MEMBER_ALREADY_EXISTS`: the address already belongs to a member.
    #[error("{email} is already a team member")]
    MemberAlreadyExists {
        /// The address.
        email: String,
        /// The role the member holds now.
        current_role: Role,
    },
    /// An open invitation for the address exists; resend it instead.
    #[error("{email} already has a pending invitation")]
    InvitationAlreadyPending {
        /// The address.
        email: String,
        /// The open invitation, which may be resent.
        invitation: InvitationId,
    },
    /// The account's `maxUsersPerOrganization` (members plus pending invitations) is reached.
    #[error("the account's member limit of {max} is reached")]
    MemberLimitReached {
        /// The account's limit.
        max: u32,
    },
    /// No invitation with that id (or token) in the caller's account.
    #[error("invitation not found")]
    InvitationNotFound,
    /// The invitation was accepted, cancelled or has expired, so the operation no longer applies.
    #[error("the invitation is no longer pending")]
    InvitationClosed(InvitationState),
    /// The invitation's address belongs to an identity, and the caller did not prove to be it
    /// (signed in as that user, or their current password).
    #[error("sign in as the invited user to accept")]
    IdentityNotProven,
    /// The invited address belongs to a user with a second factor, and the caller gave only
    /// their password: that is half a sign-in. They accept signed in (with their code), as a
    /// session or key of theirs.
    #[error("this user signs in with a second factor: sign in to accept")]
    SecondFactorRequired,
    /// Too many wrong passwords for the invited address or from the client's address (the
    /// sign-in throttle, shared with sign-in).
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt may be made.
        retry_after_secs: i64,
    },
    /// A password set-up or reset link that is malformed, unknown, used or expired.
    #[error("the password link is invalid or has expired")]
    ResetLinkInvalid,
    /// An email change was refused (asking, or using its confirmation link).
    #[error("{0}")]
    EmailChangeRefused(EmailChangeRefusal),
    /// The caller is signed in as a user other than the one invited.
    #[error("signed in as a different user than the one invited")]
    SignedInAsAnotherUser,
    /// The account's IP allowlist does not admit the caller.
    #[error("requests from {address} are not allowed for this account")]
    IpNotAllowed {
        /// The caller's address, as the allowlist saw it.
        address: String,
    },
    /// The store or another port failed; the change was not made.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl From<KernelError> for TeamError {
    fn from(e: KernelError) -> Self {
        match e {
            KernelError::InsufficientRole { required, current } => {
                TeamError::InsufficientPermissions { required, current }
            }
            other => TeamError::Port(PortError::Corrupt(other.to_string())),
        }
    }
}

fn list(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
