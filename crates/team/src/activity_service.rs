//! The `TeamService` half that reads and records team activity.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{Actor, Role, UserId};

use crate::activity::check_batch;
use crate::{
    ActivityEvent, ActivityPeriod, Member, MemberActivity, TeamActivity, TeamError, TeamService,
};

/// How far in the future a host's clock may be and its events still accepted.
const CLOCK_SKEW: i64 = 300;

impl TeamService {
    /// The team API's member details: the member with their `activity` and `resources`.
    pub fn details(
        &self,
        actor: &Actor,
        user: UserId,
    ) -> Result<(Member, MemberActivity), TeamError> {
        let member = self.get(actor, user)?;
        let all = self.store.activity_totals(
            actor.account_id,
            Some(user),
            DateTime::<Utc>::UNIX_EPOCH,
            self.clock.now() + Duration::seconds(CLOCK_SKEW),
        )?;
        let last_login = self.store.last_login(actor.account_id, user)?;
        Ok((member, MemberActivity::from_totals(user, &all, last_login)))
    }

    /// `GET /v2/accounts/team/activity`: any member may see it, like the member list.
    pub fn activity(
        &self,
        actor: &Actor,
        period: ActivityPeriod,
    ) -> Result<TeamActivity, TeamError> {
        actor.require(Role::Viewer)?;
        let now = self.clock.now();
        let start = now - period.length();
        let spans = self.store.membership_spans(actor.account_id)?;
        let current = self
            .store
            .activity_totals(actor.account_id, None, start, now)?;
        let previous =
            self.store
                .activity_totals(actor.account_id, None, start - period.length(), start)?;
        Ok(TeamActivity::compute(
            period, now, &spans, &current, &previous,
        ))
    }

    /// Records host-reported events. The whole batch is checked before anything is written
    /// (known members only, no future timestamps); events already recorded (same id) are
    /// skipped, so a host may retry a batch safely. Returns, per event, whether it was new.
    pub fn record_activity(
        &self,
        actor: &Actor,
        events: &[ActivityEvent],
    ) -> Result<Vec<bool>, TeamError> {
        crate::ensure_manager(actor.role)?;
        check_batch(events)?;
        let now = self.clock.now();
        if let Some(e) = events
            .iter()
            .find(|e| e.occurred_at > now + Duration::seconds(CLOCK_SKEW))
        {
            return Err(TeamError::InvalidField {
                field: "events",
                reason: format!("event `{}` occurred in the future", e.id.as_str()),
            });
        }
        let members: HashSet<UserId> = self
            .store
            .membership_spans(actor.account_id)?
            .into_iter()
            .map(|s| s.user)
            .collect();
        if let Some(e) = events.iter().find(|e| !members.contains(&e.user)) {
            return Err(TeamError::InvalidField {
                field: "events",
                reason: format!(
                    "event `{}`: {} is not a member of this account",
                    e.id.as_str(),
                    e.user
                ),
            });
        }
        Ok(self.store.record_activity(actor.account_id, events, now)?)
    }
}
