//! `TeamService`: reading and managing an account's members. Every rule is checked here, against
//! the member as stored; the store then applies the change only if the member's role is still the
//! one the rules were checked against, so two admins acting at once cannot slip past them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Page, PageRequest, RandomSource, Role, UserId,
};
use tenantry_security::MemberStatus;

use tenantry_security::{ChangeAudit, SecretBox};

use crate::bulk::distinct_members;
use crate::{
    ensure_can_grant, ensure_can_manage, BulkOperation, BulkOutcome, Invitation, InviteLinks,
    Member, MemberChange, MemberFilter, RoleCounts, TeamError, TeamPolicy, TeamStore,
};

/// One page of members with the account-wide counts seed 02 reports beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberList {
    pub page: Page<Member>,
    pub counts: RoleCounts,
    /// Open invitations, shown as pending members (first page only).
    pub invitations: Vec<Invitation>,
}

pub struct TeamService {
    pub(crate) store: Arc<dyn TeamStore>,
    pub(crate) policy: Arc<dyn TeamPolicy>,
    pub(crate) secrets: SecretBox,
    pub(crate) links: InviteLinks,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
    /// Role counts and open invitations per account: every list page shows them, and counting
    /// a 10,000-member account on each page was most of the list's cost (docs/benchmarks.md,
    /// scenario (d)). Same bound as the other read caches (decision 0011).
    summaries: tenantry_kernel::EpochCache<AccountId, (RoleCounts, Vec<Invitation>)>,
}

/// Accounts whose list summary is kept; each entry is a few counters and the open invitations.
const SUMMARY_CACHE_ENTRIES: usize = 1024;

/// What the team service is wired to besides its store.
pub struct TeamDeps {
    pub policy: Arc<dyn TeamPolicy>,
    /// Seals invitation emails in the outbox (their links are secrets).
    pub secrets: SecretBox,
    pub links: InviteLinks,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn RandomSource>,
}

impl TeamService {
    pub fn new(store: Arc<dyn TeamStore>, deps: TeamDeps) -> Self {
        Self {
            store,
            policy: deps.policy,
            secrets: deps.secrets,
            links: deps.links,
            clock: deps.clock,
            random: deps.random,
            summaries: tenantry_kernel::EpochCache::new(
                std::time::Duration::from_secs(2),
                SUMMARY_CACHE_ENTRIES,
            ),
        }
    }

    fn summary(&self, account: AccountId) -> Result<(RoleCounts, Vec<Invitation>), TeamError> {
        let epoch = self.store.write_epoch();
        if let Some(summary) = self.summaries.get(&account, epoch) {
            return Ok(summary);
        }
        let counts = self.store.count_members(account)?;
        let open = self.store.open_invitations(account)?;
        self.summaries.put(account, (counts, open.clone()), epoch);
        Ok((counts, open))
    }

    /// Any member may see who is on their team; managing it is for admins and the owner.
    pub fn list(
        &self,
        actor: &Actor,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<MemberList, TeamError> {
        actor.require(Role::Viewer)?;
        let (mut counts, open) = self.summary(actor.account_id)?;
        counts.pending += u64::try_from(open.len()).unwrap_or(u64::MAX);
        // Invitations are few (bounded by the member limit) and listed once, on the first page,
        // when the filter admits pending entries.
        let invitations =
            if page.after.is_none() && filter.status.is_none_or(|s| s == MemberStatus::Pending) {
                open.into_iter()
                    .filter(|i| filter.role.is_none_or(|r| r == i.role))
                    .collect()
            } else {
                Vec::new()
            };
        Ok(MemberList {
            page: self.store.list_members(actor.account_id, filter, page)?,
            counts,
            invitations,
        })
    }

    pub fn get(&self, actor: &Actor, user: UserId) -> Result<Member, TeamError> {
        actor.require(Role::Viewer)?;
        self.store
            .find_member(actor.account_id, user)?
            .ok_or(TeamError::MemberNotFound)
    }

    /// Changes a member's role, permissions, department, title or status (active/suspended).
    pub fn update(
        &self,
        actor: &Actor,
        user: UserId,
        change: MemberChange,
    ) -> Result<Member, TeamError> {
        crate::ensure_manager(actor.role)?;
        let current = self.get(actor, user)?;
        authorize(actor, &current, &change)?;
        if change.is_empty() {
            return Ok(current);
        }
        self.apply(actor, &current, &change)?;
        self.get(actor, user)
    }

    /// Applies one operation to many members. Who may run it is checked once, up front (a
    /// developer gets one 403, not a list of refusals); then each member is checked and changed
    /// on their own, so the result reports per member and one refusal leaves the others done.
    pub fn bulk(
        &self,
        actor: &Actor,
        operation: &BulkOperation,
        members: &[String],
    ) -> Result<Vec<BulkOutcome>, TeamError> {
        crate::ensure_manager(actor.role)?;
        // A role nobody here may grant is a bad request, not a refusal per member.
        if let BulkOperation::UpdateRole(role) = operation {
            ensure_can_grant(actor.role, *role)?;
        }
        let members = distinct_members(members)?;
        Ok(members
            .into_iter()
            .map(|raw| {
                let result = raw
                    .parse::<UserId>()
                    .map_err(|_| TeamError::MemberNotFound)
                    .and_then(|user| {
                        let current = self.get(actor, user)?;
                        let change = operation.change();
                        // Checked even when nothing would change: the owner is refused, not
                        // skipped.
                        authorize(actor, &current, &change)?;
                        if !operation.changes(&current) {
                            return Ok(false);
                        }
                        self.apply(actor, &current, &change)?;
                        Ok(true)
                    });
                BulkOutcome { user: raw, result }
            })
            .collect())
    }

    /// Removes a member: they lose access at once (keys and sessions revoked).
    pub fn remove(&self, actor: &Actor, user: UserId) -> Result<DateTime<Utc>, TeamError> {
        crate::ensure_manager(actor.role)?;
        let current = self.get(actor, user)?;
        ensure_can_manage(actor.role, current.role)?;
        let audit = self.audit(
            actor,
            "team.member_removed",
            json!({ "userId": user.to_string(), "before": summary(&current) }),
        );
        if !self
            .store
            .remove_member(actor.account_id, user, current.role, &audit)?
        {
            return Err(TeamError::Conflict);
        }
        Ok(audit.at)
    }

    /// Writes `change`, already authorized against `current`, with its audit entry; refused as a
    /// conflict if the member's role changed since `current` was read.
    fn apply(
        &self,
        actor: &Actor,
        current: &Member,
        change: &MemberChange,
    ) -> Result<(), TeamError> {
        let user = current.user_id;
        let audit = self.audit(
            actor,
            "team.member_updated",
            json!({ "userId": user.to_string(), "before": summary(current), "change": change_json(change) }),
        );
        if self
            .store
            .update_member(actor.account_id, user, current.role, change, &audit)?
        {
            Ok(())
        } else {
            Err(TeamError::Conflict)
        }
    }

    pub(crate) fn audit(&self, actor: &Actor, action: &'static str, details: Value) -> ChangeAudit {
        self.audit_as(actor.user_id, actor.ip, action, details)
    }

    pub(crate) fn audit_as(
        &self,
        user: UserId,
        ip: Option<std::net::IpAddr>,
        action: &'static str,
        details: Value,
    ) -> ChangeAudit {
        ChangeAudit {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            actor: user,
            action,
            at: self.clock.now(),
            ip: ip.map(|ip| ip.to_string()),
            details,
        }
    }
}

/// The rules for `actor` (already known to be a manager) changing `current` by `change`.
fn authorize(actor: &Actor, current: &Member, change: &MemberChange) -> Result<(), TeamError> {
    ensure_can_manage(actor.role, current.role)?;
    if let Some(role) = change.role {
        ensure_can_grant(actor.role, role)?;
    }
    match change.status {
        None | Some(MemberStatus::Active | MemberStatus::Suspended) => Ok(()),
        Some(_) => Err(TeamError::InvalidField {
            field: "status",
            reason: "must be active or suspended".to_owned(),
        }),
    }
}

fn summary(m: &Member) -> Value {
    json!({
        "role": m.role.as_str(),
        "status": m.status.as_str(),
        "department": m.department.as_ref().map(|d| d.as_str()),
        "title": m.title.as_ref().map(|t| t.as_str()),
        "permissions": m.custom_permissions.as_ref().map(|p| p.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
    })
}

fn change_json(c: &MemberChange) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(role) = c.role {
        out.insert("role".into(), json!(role.as_str()));
    }
    if let Some(status) = c.status {
        out.insert("status".into(), json!(status.as_str()));
    }
    if let Some(d) = &c.department {
        out.insert("department".into(), json!(d.as_ref().map(|d| d.as_str())));
    }
    if let Some(t) = &c.title {
        out.insert("title".into(), json!(t.as_ref().map(|t| t.as_str())));
    }
    if let Some(p) = &c.permissions {
        out.insert(
            "permissions".into(),
            json!(p
                .as_ref()
                .map(|p| p.iter().map(|p| p.as_str()).collect::<Vec<_>>())),
        );
    }
    Value::Object(out)
}
