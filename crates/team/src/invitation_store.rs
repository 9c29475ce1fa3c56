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
    pub invitation: &'a Invitation,
    pub token_hash: &'a SecretHash,
    /// Members plus unexpired open invitations may not exceed this.
    pub max_members: u32,
    pub mail: &'a OutboxEntry,
    pub audit: &'a ChangeAudit,
}

/// What creating an invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteOutcome {
    Created,
    /// The address belongs to a current member (not removed).
    AlreadyMember {
        role: Role,
    },
    /// An unexpired open invitation for the address exists.
    AlreadyInvited {
        id: InvitationId,
    },
    LimitReached,
}

/// A resend: a new token and expiry for an open invitation.
pub struct Reissue<'a> {
    pub id: InvitationId,
    pub token_hash: &'a SecretHash,
    pub expires_at: DateTime<Utc>,
    pub mail: &'a OutboxEntry,
    pub audit: &'a ChangeAudit,
}

/// A user already known by the invited address.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    pub id: UserId,
    pub password_hash: Option<String>,
}

/// Who joins through an accepted invitation.
#[derive(Debug, Clone)]
pub enum Joiner {
    New {
        id: UserId,
        name: Option<String>,
        password_hash: String,
    },
    /// A user of another account (or a former member) joins with their existing identity,
    /// which the acceptance never changes (no password, name or address is written).
    Existing { id: UserId },
}

impl Joiner {
    pub fn user_id(&self) -> UserId {
        match self {
            Joiner::New { id, .. } | Joiner::Existing { id, .. } => *id,
        }
    }
}

/// Everything an acceptance writes in one transaction: the user (if new), the membership, the
/// member's first API key, the invitation's new status and the audit entry.
pub struct Acceptance<'a> {
    pub account: AccountId,
    pub invitation: &'a Invitation,
    /// The token the caller presented: the invitation is accepted only if it still carries it.
    pub token_hash: &'a SecretHash,
    pub joiner: &'a Joiner,
    pub key: &'a ApiKeyInfo,
    pub key_hash: &'a SecretHash,
    pub max_members: u32,
    pub audit: &'a ChangeAudit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    Accepted,
    /// Accepted, cancelled or re-issued by someone else in the meantime.
    NoLongerPending,
    AlreadyMember {
        role: Role,
    },
    LimitReached,
}

/// Where invitations live.
pub trait InvitationStore: Send + Sync {
    fn create_invitation(
        &self,
        account: AccountId,
        new: &NewInvitation<'_>,
    ) -> Result<InviteOutcome, PortError>;

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

    fn user_by_email(&self, email: &Email) -> Result<Option<ExistingUser>, PortError>;

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
    /// The account's support address (its branding's `supportEmail`), the contact line of the
    /// emails sent on its behalf; `None` when it has none.
    fn support_email(&self, account: AccountId) -> Result<Option<Email>, PortError>;
}
