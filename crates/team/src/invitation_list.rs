//! Reading invitations as a history (`GET /v2/accounts/team/invitations[/{id}]`): every
//! invitation the account sent, in whatever state, for the people who manage them.
//!
//! Only managers read it, like resending and cancelling: the member list already shows every
//! member the open invitations, but this history also names addresses that were cancelled or
//! never joined, and who invited them. Nothing here carries the token (only its hash is stored,
//! and `Invitation` does not even hold that).

use chrono::{DateTime, Utc};
use tenantry_kernel::{Actor, InvitationId, Page, PageRequest};

use crate::{ensure_manager, Invitation, InvitationState, TeamError, TeamService};

/// One page of invitations, how many match the filter in all, and the instant their states
/// were computed at (so `status` in the answer agrees with the filter that chose them).
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationList {
    /// The invitations on this page, newest first.
    pub page: Page<Invitation>,
    /// How many invitations match the filter in all.
    pub total: u64,
    /// The instant the states were computed at.
    pub now: DateTime<Utc>,
}

impl TeamService {
    /// The account's invitations, oldest first, optionally only those in `state`.
    pub fn invitations(
        &self,
        actor: &Actor,
        state: Option<InvitationState>,
        page: &PageRequest,
    ) -> Result<InvitationList, TeamError> {
        ensure_manager(actor.role)?;
        let now = self.clock.now();
        let (page, total) = self
            .store
            .list_invitations(actor.account_id, state, now, page)?;
        Ok(InvitationList { page, total, now })
    }

    /// One invitation of the caller's account, and the instant its state is computed at. An
    /// id of another account's invitation is not found, exactly like an id never issued.
    pub fn invitation(
        &self,
        actor: &Actor,
        id: InvitationId,
    ) -> Result<(Invitation, DateTime<Utc>), TeamError> {
        ensure_manager(actor.role)?;
        let invitation = self
            .store
            .find_invitation(actor.account_id, id)?
            .ok_or(TeamError::InvitationNotFound)?;
        Ok((invitation, self.clock.now()))
    }
}
