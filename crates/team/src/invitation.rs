//! An invitation's lifecycle (the team API plus acceptance). What is stored is what happened (sent,
//! resent, accepted, cancelled); whether it has expired is computed against the clock, so an
//! invitation expires on time without a job flipping rows.

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{Email, InvitationId, Role, UserId};

use crate::{Department, InvitationLifetime, InviteMessage, Permission, Title};

/// What happened to an invitation, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Sent and not acted on since.
    Sent,
    /// Sent again (with a new link and a fresh lifetime).
    Resent,
    /// Accepted: the invitee became a member; final.
    Accepted,
    /// Cancelled by a manager; final.
    Cancelled,
}

impl InvitationStatus {
    /// The stored word (`sent`, `resent`, `accepted`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Sent => "sent",
            InvitationStatus::Resent => "resent",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Cancelled => "cancelled",
        }
    }

    /// The status a stored word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        [
            InvitationStatus::Sent,
            InvitationStatus::Resent,
            InvitationStatus::Accepted,
            InvitationStatus::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Where an invitation stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Can still be accepted.
    Pending,
    /// Not accepted before `expires_at`; it may still be resent.
    Expired,
    /// Accepted; final.
    Accepted,
    /// Cancelled; final.
    Cancelled,
}

impl InvitationState {
    /// Every state, in the order the team API lists them.
    pub const ALL: [InvitationState; 4] = [
        InvitationState::Pending,
        InvitationState::Expired,
        InvitationState::Accepted,
        InvitationState::Cancelled,
    ];

    /// The state's public word, also the invitation list's `status` filter.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Expired => "expired",
            InvitationState::Accepted => "accepted",
            InvitationState::Cancelled => "cancelled",
        }
    }

    /// The `status` filter of the invitation list; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// An invitation to join an account, as stored. Its token is never here: only its hash is stored,
/// and only by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    /// The invitation's public id (it carries no secret).
    pub id: InvitationId,
    /// The invited address.
    pub email: Email,
    /// The role the invitee gets on acceptance (never the owner role, never above the inviter's).
    pub role: Role,
    /// The department the invitee gets.
    pub department: Option<Department>,
    /// The title the invitee gets.
    pub title: Option<Title>,
    /// The inviter's personal message, shown in the email.
    pub message: Option<InviteMessage>,
    /// Custom permissions the invitee gets instead of the role's defaults; never more than the
    /// inviter holds.
    pub permissions: Option<Vec<Permission>>,
    /// Who invited (the audit and the email name them).
    pub invited_by: UserId,
    /// The `expiresIn` it was sent with; a resend grants the same span again.
    pub lifetime: InvitationLifetime,
    /// What happened to it, as stored; [`Invitation::state`] adds expiry.
    pub status: InvitationStatus,
    /// When it was first sent.
    pub created_at: DateTime<Utc>,
    /// When it stops being acceptable (the instant itself is already too late).
    pub expires_at: DateTime<Utc>,
    /// When it was last resent, if ever.
    pub resent_at: Option<DateTime<Utc>>,
}

/// When an invitation issued (or re-issued) at `at` stops being acceptable.
pub fn expiry(at: DateTime<Utc>, lifetime: InvitationLifetime) -> DateTime<Utc> {
    at + Duration::days(lifetime.days())
}

impl Invitation {
    /// The state at `now`: stored `accepted` and `cancelled` are final; anything else is expired
    /// from `expires_at` on, and pending before.
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        match self.status {
            InvitationStatus::Accepted => InvitationState::Accepted,
            InvitationStatus::Cancelled => InvitationState::Cancelled,
            // The instant of expiry is already too late: "valid for 7 days" means strictly less.
            _ if now >= self.expires_at => InvitationState::Expired,
            _ => InvitationState::Pending,
        }
    }

    /// The team API's `status`: `sent`, `resent`, `accepted`, `cancelled`, or `expired` once past
    /// `expiresAt`.
    pub fn public_status(&self, now: DateTime<Utc>) -> &'static str {
        match self.state(now) {
            InvitationState::Expired => "expired",
            _ => self.status.as_str(),
        }
    }

    /// Accepting needs a pending invitation; otherwise the state that forbids it.
    pub fn acceptance(&self, now: DateTime<Utc>) -> Result<(), InvitationState> {
        match self.state(now) {
            InvitationState::Pending => Ok(()),
            other => Err(other),
        }
    }

    /// Resending and cancelling work on any invitation not yet accepted or cancelled; resending
    /// an expired one is how it is renewed.
    pub fn still_open(&self) -> Result<(), InvitationState> {
        match self.status {
            InvitationStatus::Accepted => Err(InvitationState::Accepted),
            InvitationStatus::Cancelled => Err(InvitationState::Cancelled),
            InvitationStatus::Sent | InvitationStatus::Resent => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tenantry_kernel::{OsRandom, SystemClock};

    use super::*;

    fn invitation(status: InvitationStatus, lifetime: InvitationLifetime) -> Invitation {
        let created = Utc
            .with_ymd_and_hms(2024, 3, 20, 14, 30, 0)
            .single()
            .expect("time");
        Invitation {
            id: InvitationId::generate(&SystemClock, &OsRandom),
            email: "newmember@example.com".parse().expect("email"),
            role: Role::Developer,
            department: None,
            title: None,
            message: None,
            permissions: None,
            invited_by: UserId::generate(&SystemClock, &OsRandom),
            lifetime,
            status,
            created_at: created,
            expires_at: expiry(created, lifetime),
            resent_at: None,
        }
    }

    #[test]
    fn expiry_follows_the_lifetime_to_the_second() {
        let inv = invitation(InvitationStatus::Sent, InvitationLifetime::SevenDays);
        let just_before = inv.expires_at - Duration::seconds(1);
        assert_eq!(inv.state(just_before), InvitationState::Pending);
        assert_eq!(inv.public_status(just_before), "sent");
        assert_eq!(inv.state(inv.expires_at), InvitationState::Expired);
        assert_eq!(inv.public_status(inv.expires_at), "expired");
        assert_eq!(
            inv.acceptance(inv.expires_at),
            Err(InvitationState::Expired)
        );
        assert_eq!(
            inv.expires_at - inv.created_at,
            Duration::days(7),
            "the team API's default"
        );
        let day = invitation(InvitationStatus::Sent, InvitationLifetime::OneDay);
        assert_eq!(day.expires_at - day.created_at, Duration::days(1));
    }

    #[test]
    fn closed_invitations_cannot_be_accepted_resent_or_cancelled() {
        for (status, state) in [
            (InvitationStatus::Accepted, InvitationState::Accepted),
            (InvitationStatus::Cancelled, InvitationState::Cancelled),
        ] {
            let inv = invitation(status, InvitationLifetime::ThirtyDays);
            assert_eq!(inv.acceptance(inv.created_at), Err(state));
            assert_eq!(inv.still_open(), Err(state));
            assert_eq!(inv.public_status(inv.created_at), status.as_str());
        }
    }

    #[test]
    fn expired_invitations_may_be_renewed() {
        let inv = invitation(InvitationStatus::Resent, InvitationLifetime::OneDay);
        assert_eq!(inv.state(inv.expires_at), InvitationState::Expired);
        assert_eq!(inv.still_open(), Ok(()));
    }

    #[test]
    fn states_round_trip_and_nothing_else_parses() {
        for state in InvitationState::ALL {
            assert_eq!(InvitationState::parse(state.as_str()), Some(state));
        }
        for other in ["sent", "resent", "Pending", "", "all"] {
            assert_eq!(InvitationState::parse(other), None, "{other}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["sent", "resent", "accepted", "cancelled"] {
            assert_eq!(
                InvitationStatus::parse(s).map(InvitationStatus::as_str),
                Some(s)
            );
        }
        assert_eq!(
            InvitationStatus::parse("expired"),
            None,
            "computed, never stored"
        );
    }
}
