//! The store port for invitations, and what its writes report. Each write is one transaction:
//! the invitation change, the email it sends (an outbox row) and its audit entry land together
//! or not at all.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use tenantry_kernel::{AccountId, Email, InvitationId, Page, PageRequest, PortError, Role, UserId};
use tenantry_notifications::OutboxEntry;
use tenantry_security::{ApiKeyInfo, SecretHash};

use tenantry_security::ChangeAudit;

use crate::{ActivityStore, Invitation, InvitationState, MemberStore};

/// A new invitation to write.
pub struct NewInvitation<'a> {
    /// The invitation.
    pub invitation: &'a Invitation,
    /// The hash of the token mailed to the invitee.
    pub token_hash: &'a SecretHash,
    /// Members plus unexpired open invitations may not exceed this.
    pub max_members: u32,
    /// The invitation email, sealed, written to the outbox in the same transaction.
    pub mail: &'a OutboxEntry,
    /// The audit entry of the invitation.
    pub audit: &'a ChangeAudit,
}

/// What creating an invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteOutcome {
    /// Written, with its email and audit entry.
    Created,
    /// The address belongs to a current member (not removed).
    AlreadyMember {
        /// The member's current role.
        role: Role,
    },
    /// An unexpired open invitation for the address exists.
    AlreadyInvited {
        /// The open invitation, which may be resent instead.
        id: InvitationId,
    },
    /// The account's member limit is reached; nothing written.
    LimitReached,
}

/// A resend: a new token and expiry for an open invitation.
pub struct Reissue<'a> {
    /// The invitation.
    pub id: InvitationId,
    /// The hash of the new token; the old link stops working.
    pub token_hash: &'a SecretHash,
    /// The new expiry.
    pub expires_at: DateTime<Utc>,
    /// The new email, sealed.
    pub mail: &'a OutboxEntry,
    /// The audit entry of the resend.
    pub audit: &'a ChangeAudit,
}

/// A user already known by the invited address.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    /// The user.
    pub id: UserId,
    /// Their password hash; `None` for a user who never set one.
    pub password_hash: Option<String>,
}

/// Who joins through an accepted invitation.
#[derive(Debug, Clone)]
pub enum Joiner {
    /// A new user, created by the acceptance.
    New {
        /// The new user's id.
        id: UserId,
        /// Their name.
        name: Option<String>,
        /// The hash of the password they chose.
        password_hash: String,
    },
    /// A user of another account (or a former member) joins with their existing identity,
    /// which the acceptance never changes (no password, name or address is written).
    Existing {
        /// The existing user.
        id: UserId,
    },
}

impl Joiner {
    /// The user who joins, new or existing.
    pub fn user_id(&self) -> UserId {
        match self {
            Joiner::New { id, .. } | Joiner::Existing { id, .. } => *id,
        }
    }
}

/// Everything an acceptance writes in one transaction: the user (if new), the membership, the
/// member's first API key, the invitation's new status and the audit entry.
pub struct Acceptance<'a> {
    /// The account joined.
    pub account: AccountId,
    /// The invitation accepted.
    pub invitation: &'a Invitation,
    /// The token the caller presented: the invitation is accepted only if it still carries it.
    pub token_hash: &'a SecretHash,
    /// Who joins.
    pub joiner: &'a Joiner,
    /// The member's first API key and the hash of its secret; `None` when the member may not
    /// hold a key yet (see [`crate::TeamService::accept`]).
    pub key: Option<(&'a ApiKeyInfo, &'a SecretHash)>,
    /// Members may not exceed this after the acceptance.
    pub max_members: u32,
    /// The audit entry of the acceptance.
    pub audit: &'a ChangeAudit,
}

/// What accepting an invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// The joiner is now a member; the invitation is accepted.
    Accepted,
    /// Accepted, cancelled or re-issued by someone else in the meantime.
    NoLongerPending,
    /// The joiner is already a member of the account; nothing written.
    AlreadyMember {
        /// Their current role.
        role: Role,
    },
    /// The account's member limit is reached; nothing written.
    LimitReached,
}

/// Where invitations live. Every method returns `PortError` when the store fails; a refusal the
/// domain cares about is an outcome, not an error.
pub trait InvitationStore: Send + Sync {
    /// Writes the invitation with its email and audit entry in one transaction, unless the address
    /// is a current member, an unexpired open invitation for it exists or the member limit is
    /// reached (then nothing is written and the outcome says which). Errors only as `PortError`.
    fn create_invitation(
        &self,
        account: AccountId,
        new: &NewInvitation<'_>,
    ) -> Result<InviteOutcome, PortError>;

    /// The invitation `id` of `account`; `None` when it does not exist or belongs to another
    /// account.
    fn find_invitation(
        &self,
        account: AccountId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, PortError>;

    /// One keyset page (by creation time, then id) of the account's invitations, every state
    /// or only those in `state` at `now` (pending and expired are open invitations on either
    /// side of `expires_at`), and how many invitations match in all.
    fn list_invitations(
        &self,
        account: AccountId,
        state: Option<InvitationState>,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<(Page<Invitation>, u64), PortError>;

    /// The invitation whose current token has this hash, with its account; `None` for an unknown or
    /// replaced token.
    fn invitation_by_token(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(AccountId, Invitation)>, PortError>;

    /// Invitations sent or resent and not yet accepted or cancelled (expired ones included),
    /// oldest first.
    fn open_invitations(&self, account: AccountId) -> Result<Vec<Invitation>, PortError>;

    /// `false` when the invitation is no longer open.
    fn reissue_invitation(
        &self,
        account: AccountId,
        reissue: &Reissue<'_>,
    ) -> Result<bool, PortError>;

    /// `false` when the invitation is no longer open.
    fn cancel_invitation(
        &self,
        account: AccountId,
        id: InvitationId,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;

    /// The user who signs in with `email`, in any account; `None` if nobody does.
    fn user_by_email(&self, email: &Email) -> Result<Option<ExistingUser>, PortError>;

    /// Writes everything of [`Acceptance`] in one transaction, only if the invitation is still open
    /// with the same token, the joiner is not already a member and the limit allows; otherwise
    /// writes nothing and says why. Errors only as `PortError`.
    fn accept_invitation(&self, acceptance: &Acceptance<'_>) -> Result<AcceptOutcome, PortError>;

    /// The account's display name, for the invitation email.
    fn account_display_name(&self, account: AccountId) -> Result<Option<String>, PortError>;
}

/// Everything the team service needs from a store.
pub trait TeamStore:
    MemberStore + InvitationStore + ActivityStore + crate::PasswordResetStore + crate::EmailChangeStore
{
}

impl<
        T: MemberStore
            + InvitationStore
            + ActivityStore
            + crate::PasswordResetStore
            + crate::EmailChangeStore,
    > TeamStore for T
{
}

/// The account policy the team obeys, kept by the settings.
pub trait TeamPolicy: Send + Sync {
    /// `maxUsersPerOrganization`: members plus pending invitations.
    fn max_members(&self, account: AccountId) -> Result<u32, PortError>;
    /// Whether the account's IP allowlist admits `ip` (accepting an invitation issues a key, so
    /// it is held to the same allowlist as every authenticated request).
    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError>;
    /// Seconds until a password may be tried again for `email` from `ip`, when the sign-in
    /// throttle blocks it. A password proven through an invitation link draws on the same budget
    /// as a sign-in: a leaked link is no way around the throttle.
    fn password_retry_after(&self, email: &Email, ip: Option<IpAddr>) -> Option<i64>;
    /// Counts a password tried for `email` from `ip` (a failure as a failed sign-in).
    fn password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool);
    /// Counts a current password a signed-in member tried for a change of their own against
    /// the same budget, auditing nothing: the attempt is the member's, not a sign-in by
    /// nobody, so the caller audits it naming them.
    fn current_password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool);
    /// What the emails sent on the account's behalf wear: its branding's colour (the default
    /// one when it set none) with the text colour the settings' contrast rule picks on it,
    /// whether it has a logo, and its support address for the contact line.
    fn mail_branding(&self, account: AccountId) -> Result<crate::MailBranding, PortError>;
    /// Whether the account requires its members to use a second factor (its security policy).
    fn mfa_required(&self, account: AccountId) -> Result<bool, PortError>;
    /// Whether `user` has a second factor enrolled.
    fn mfa_enrolled(&self, user: UserId) -> Result<bool, PortError>;
}
