#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod activity;
mod activity_service;
mod authority;
mod branded_mail;
mod bulk;
mod email_change;
mod error;
mod invitation;
mod invitation_list;
mod invitation_mail;
mod invitation_service;
mod invitation_store;
mod member_fields;
mod members;
mod ownership;
mod password_reset;
mod service;

pub use activity::{
    ActivityEvent, ActivityKind, ActivityPeriod, ActivityStore, ActivityTotals, HostEventId,
    MemberActivity, MemberPeriodActivity, MembershipSpan, TeamActivity, MAX_EVENTS_PER_REQUEST,
    MAX_EVENT_COUNT,
};
pub use authority::{
    ensure_can_grant, ensure_can_manage, ensure_fits_role, ensure_manager, ensure_within_own,
    MANAGER_ROLE,
};
pub use branded_mail::MailBranding;
pub use bulk::{BulkOperation, BulkOutcome, MAX_BULK_MEMBERS};
pub use email_change::{
    email_change_lifetime, CompletedEmailChange, EmailChangeOutcome, EmailChangeRefusal,
    EmailChangeStore, EmailChangeSubject, NewEmailChange, MAX_OPEN_EMAIL_CHANGES_PER_USER,
};
pub use error::TeamError;
pub use invitation::{expiry, Invitation, InvitationState, InvitationStatus};
pub use invitation_list::InvitationList;
pub use invitation_mail::InviteLinks;
pub use invitation_service::{
    AcceptInput, Accepted, InvitationPreview, InviteRequest, IssuedInvitation,
};
pub use invitation_store::{
    AcceptOutcome, Acceptance, ExistingUser, InvitationStore, InviteOutcome, Joiner, NewInvitation,
    Reissue, TeamPolicy, TeamStore,
};
pub use member_fields::{Department, InvitationLifetime, InviteMessage, Title};
pub use members::{Member, MemberChange, MemberFilter, MemberStore, RoleCounts};
pub use ownership::{
    ensure_can_receive, ensure_can_transfer, OwnershipTransfer, TransferOutcome, Transferred,
};
pub use password_reset::{
    CompletedReset, NewPasswordReset, OperatorResetAudit, PasswordResetStore, ResetPurpose,
    MAX_OPEN_RESETS_PER_USER,
};
pub use service::{MemberList, TeamDeps, TeamOverview, TeamService};
pub use tenantry_kernel::{default_permissions, effective_permissions, Permission};
