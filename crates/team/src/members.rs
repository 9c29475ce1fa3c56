//! Members as the team API shows them, and the store port that keeps them.

use chrono::{DateTime, Utc};
use tenantry_kernel::{AccountId, AuditId, Page, PageRequest, PortError, Role, UserId};
use tenantry_security::{ChangeAudit, MemberStatus};

use crate::{effective_permissions, Department, Permission, Title};

/// One member of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The member's user.
    pub user_id: UserId,
    /// The address they sign in with.
    pub email: String,
    /// Their display name, if they set one.
    pub name: Option<String>,
    /// Their role in this account.
    pub role: Role,
    /// Custom permissions; `None` means the role's defaults.
    pub custom_permissions: Option<Vec<Permission>>,
    /// Active, suspended or removed.
    pub status: MemberStatus,
    /// When they joined the account.
    pub joined_at: DateTime<Utc>,
    /// Their last API key or session use in this account.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Who invited them; `None` for the owner and members added by an operator.
    pub invited_by: Option<UserId>,
    /// Their department in this account.
    pub department: Option<Department>,
    /// Their title in this account.
    pub title: Option<Title>,
}

impl Member {
    /// What the member may do: their role's permissions, narrowed to their custom ones if they
    /// have any (a custom permission the role does not grant is never shown as held).
    pub fn permissions(&self) -> Vec<Permission> {
        effective_permissions(self.role, self.custom_permissions.as_deref())
    }
}

/// Which members to list; every given condition must hold. Removed members are never listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Only members with this role.
    pub role: Option<Role>,
    /// Only members with this status.
    pub status: Option<MemberStatus>,
}

/// Members per role (active and suspended alike) and pending ones, as the team API's `roles`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleCounts {
    /// The owner (always 1 in a live account).
    pub owner: u64,
    /// Admins.
    pub admin: u64,
    /// Developers.
    pub developer: u64,
    /// Viewers.
    pub viewer: u64,
    /// Pending members: memberships not yet active, plus the open invitations (which the
    /// service adds to what the store counts).
    pub pending: u64,
}

impl RoleCounts {
    /// Every entry the unfiltered list shows: members who are not removed, and pending ones
    /// (open invitations).
    pub fn total(&self) -> u64 {
        self.owner + self.admin + self.developer + self.viewer + self.pending
    }
}

/// A validated change to one member; `None` leaves a field as it is. `Some(None)` clears an
/// optional text field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChange {
    /// The new role; `None` keeps it.
    pub role: Option<Role>,
    /// `Some(None)` returns to the role's defaults.
    pub permissions: Option<Option<Vec<Permission>>>,
    /// The new department; `Some(None)` clears it, `None` keeps it.
    pub department: Option<Option<Department>>,
    /// The new title; `Some(None)` clears it, `None` keeps it.
    pub title: Option<Option<Title>>,
    /// Only `Active` or `Suspended` (the service refuses anything else).
    pub status: Option<MemberStatus>,
}

impl MemberChange {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == MemberChange::default()
    }

    /// The change without the fields that equal what `current` shows: a member sent back as
    /// read is no change (no write, no audit entry). Permissions equal to the ones shown (the
    /// role's defaults when none are custom) are unchanged while the role stays.
    pub fn against(mut self, current: &Member) -> Self {
        if self.role == Some(current.role) {
            self.role = None;
        }
        if self.role.is_none()
            && self.permissions.as_ref().is_some_and(|p| {
                p.clone().unwrap_or_else(|| current.permissions()) == current.permissions()
            })
            && !matches!(&self.permissions, Some(None) if current.custom_permissions.is_some())
        {
            self.permissions = None;
        }
        if self.department.as_ref() == Some(&current.department) {
            self.department = None;
        }
        if self.title.as_ref() == Some(&current.title) {
            self.title = None;
        }
        if self.status == Some(current.status) {
            self.status = None;
        }
        self
    }
}

/// Where members live. Every method returns `PortError` when the store fails; a refusal the domain
/// cares about is an outcome, not an error.
pub trait MemberStore: Send + Sync {
    /// One keyset page of the account's members (by joining time), removed ones excluded.
    fn list_members(
        &self,
        account: AccountId,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<Page<Member>, PortError>;

    /// How many members of each role the account has, and how many are pending (removed ones
    /// are not counted).
    fn count_members(&self, account: AccountId) -> Result<RoleCounts, PortError>;

    /// The epochs this store instance's writes bump (see `tenantry_kernel::WriteEpochs`): a
    /// write of an account's members or invitations moves that account's epoch, so cached
    /// counts are dropped by the next such write of this instance and live at most 2 s
    /// otherwise.
    fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs;

    /// The member, unless unknown or removed.
    fn find_member(&self, account: AccountId, user: UserId) -> Result<Option<Member>, PortError>;

    /// Applies `change` in one transaction with `audit`, provided the member still holds
    /// `expected_role` and `expected_permissions` (their custom list, `None` for the role's) and
    /// is not removed; otherwise applies nothing and returns `false`, so two changes each allowed
    /// alone cannot combine into one that was not (a role raised while the narrowing list is
    /// reset). MUST hold the member row against concurrent writers while it checks. A
    /// change to a status other than active revokes the member's API keys and sessions in the
    /// same transaction.
    fn update_member(
        &self,
        account: AccountId,
        user: UserId,
        expected_role: Role,
        expected_permissions: Option<&[Permission]>,
        change: &MemberChange,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;

    /// Hands the account over in one transaction: `transfer.from` (if still the active owner)
    /// becomes an admin and `transfer.to` (if still an active admin) the owner, with both emails
    /// (outbox rows) and the audit entry. MUST serialize transfers of one account (the account
    /// row lock on PostgreSQL) and MUST leave exactly one owner whatever runs concurrently;
    /// writes nothing unless it returns `Transferred`.
    fn transfer_ownership(
        &self,
        account: AccountId,
        transfer: &crate::OwnershipTransfer<'_>,
    ) -> Result<crate::TransferOutcome, PortError>;

    /// Active members other than the owner whose last activity (never active: their joining)
    /// is before `cutoff`.
    fn inactive_members(
        &self,
        account: AccountId,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<UserId>, PortError>;

    /// Suspends `user` for inactivity, provided they are still an active non-owner member
    /// inactive since `cutoff`: in one transaction, the status, the revocation of their API keys
    /// and sessions (as every suspension) and the audit entry `member.suspended_inactive` by
    /// `system` with `audit_id` at `at`. `false`, writing nothing, when that no longer holds.
    fn suspend_inactive(
        &self,
        account: AccountId,
        user: UserId,
        cutoff: DateTime<Utc>,
        audit_id: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;

    /// Marks the member removed and revokes their API keys and sessions, in one transaction
    /// with `audit`, provided they still hold `expected_role`; `false` otherwise.
    fn remove_member(
        &self,
        account: AccountId,
        user: UserId,
        expected_role: Role,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;
}
