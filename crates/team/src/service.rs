//! `TeamService`: reading and managing an account's members. Every rule is checked here, against
//! the member as stored; the store then applies the change only if the member's role is still the
//! one the rules were checked against, so two admins acting at once cannot slip past them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Cursor, InvitationId, Page, PageRequest, RandomSource, Role,
    UserId,
};
use tenantry_security::MemberStatus;

use tenantry_security::{ChangeAudit, SecretBox};

use crate::bulk::distinct_members;
use crate::{
    ensure_can_grant, ensure_can_manage, BulkOperation, BulkOutcome, Invitation, InviteLinks,
    Member, MemberChange, MemberFilter, RoleCounts, TeamError, TeamPolicy, TeamStore,
};

/// The size of a team and its owner ([`TeamService::overview`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamOverview {
    /// How many members the team has (removed ones excluded; pending ones not counted).
    pub members: u64,
    /// The owner, if the account has one.
    pub owner: Option<Member>,
}

/// One page of members with the account-wide counts the team API reports beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberList {
    /// Members of this page; `page.next` is the cursor of the whole list (members and
    /// invitations), not of the members alone.
    pub page: Page<Member>,
    /// Members per role and pending ones, for the whole team (not this page).
    pub counts: RoleCounts,
    /// Open invitations on this page, shown as pending members after the members.
    pub invitations: Vec<Invitation>,
}

/// The team's use cases: listing, reading, changing and removing members, bulk changes,
/// invitations, activity, ownership transfer, email change and password links. Every change is
/// checked against the caller's role and permissions (a manager acts only at or below their own
/// rank, never on the owner) and audited.
pub struct TeamService {
    pub(crate) store: Arc<dyn TeamStore>,
    pub(crate) policy: Arc<dyn TeamPolicy>,
    pub(crate) secrets: SecretBox,
    pub(crate) links: InviteLinks,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
    /// Role counts and open invitations per account: every list page shows them, and counting
    /// them anew for a large account costs more than the page itself. Bounded and invalidated
    /// like the other read caches (docs/decisions/0011-read-caches.md, item 5, has the
    /// measurement).
    summaries: tenantry_kernel::EpochCache<AccountId, (RoleCounts, Vec<Invitation>)>,
}

/// Accounts whose list summary is kept; each entry is a few counters and the open invitations.
const SUMMARY_CACHE_ENTRIES: usize = 1024;

/// What the team service is wired to besides its store.
pub struct TeamDeps {
    /// The account policy: member limit, allowlist, sign-in throttle, support address.
    pub policy: Arc<dyn TeamPolicy>,
    /// Seals invitation emails in the outbox (their links are secrets).
    pub secrets: SecretBox,
    /// Builds the public links mailed and answered.
    pub links: InviteLinks,
    /// The source of time (expiry, audit).
    pub clock: Arc<dyn Clock>,
    /// The source of randomness (tokens, ids).
    pub random: Arc<dyn RandomSource>,
}

impl TeamService {
    /// The service over `store`, wired to `deps`.
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
        let epoch = self.store.write_epochs().account(account);
        if let Some(summary) = self.summaries.get(&account, epoch) {
            return Ok(summary);
        }
        let counts = self.store.count_members(account)?;
        let open = self.store.open_invitations(account)?;
        self.summaries.put(account, (counts, open.clone()), epoch);
        Ok((counts, open))
    }

    /// Any member may see who is on their team; managing it is for admins and the owner.
    ///
    /// The list is one sequence under one cursor: the members (by join time, then id), then the
    /// open invitations (by creation time, then id), so `limit` bounds both and every entry
    /// comes exactly once. A cursor whose id is an invitation's (`inv_`) is past every member.
    pub fn list(
        &self,
        actor: &Actor,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<MemberList, TeamError> {
        actor.require(Role::Viewer)?;
        let (mut counts, open) = self.summary(actor.account_id)?;
        counts.pending += u64::try_from(open.len()).unwrap_or(u64::MAX);
        let mut open: Vec<Invitation> = if filter.status.is_none_or(|s| s == MemberStatus::Pending)
        {
            open.into_iter()
                .filter(|i| filter.role.is_none_or(|r| r == i.role))
                .collect()
        } else {
            Vec::new()
        };
        open.sort_by_key(invitation_key);
        let after_invitation = page
            .after
            .as_ref()
            .filter(|c| c.id.starts_with(INVITATION_ID_PREFIX));
        let members = if after_invitation.is_some() {
            Page {
                items: Vec::new(),
                next: None,
            }
        } else {
            self.store.list_members(actor.account_id, filter, page)?
        };
        if members.next.is_some() {
            return Ok(MemberList {
                page: members,
                counts,
                invitations: Vec::new(),
            });
        }
        let room = (page.limit as usize).saturating_sub(members.items.len());
        let rest: Vec<Invitation> = open
            .into_iter()
            .filter(|i| {
                after_invitation
                    .is_none_or(|c| invitation_key(i) > (c.created_at_micros, c.id.clone()))
            })
            .collect();
        let more = rest.len() > room;
        let invitations: Vec<Invitation> = rest.into_iter().take(room).collect();
        // The next page starts after the last entry shown, member or invitation.
        let next = if !more {
            None
        } else if let Some(last) = invitations.last() {
            let (created_at_micros, id) = invitation_key(last);
            Some(Cursor {
                created_at_micros,
                id,
            })
        } else {
            members.items.last().map(|m| Cursor {
                created_at_micros: m.joined_at.timestamp_micros(),
                id: m.user_id.to_string(),
            })
        };
        Ok(MemberList {
            page: Page {
                items: members.items,
                next,
            },
            counts,
            invitations,
        })
    }

    /// An open invitation (expired or not) seen as the pending member it will become: readable
    /// by every member, like the list that shows it.
    pub fn pending_member(&self, actor: &Actor, id: InvitationId) -> Result<Invitation, TeamError> {
        actor.require(Role::Viewer)?;
        self.store
            .find_invitation(actor.account_id, id)?
            .filter(|i| i.still_open().is_ok())
            .ok_or(TeamError::MemberNotFound)
    }

    /// The team at a glance, for any member: how many members it has (active and suspended,
    /// as the list's role counts; not pending invitations) and its owner.
    pub fn overview(&self, actor: &Actor) -> Result<TeamOverview, TeamError> {
        actor.require(Role::Viewer)?;
        let (counts, _) = self.summary(actor.account_id)?;
        let owners = MemberFilter {
            role: Some(Role::Owner),
            status: None,
        };
        let first = PageRequest {
            limit: 1,
            after: None,
        };
        let owner = self
            .store
            .list_members(actor.account_id, &owners, &first)?
            .items
            .into_iter()
            .next();
        Ok(TeamOverview {
            members: counts.owner + counts.admin + counts.developer + counts.viewer,
            owner,
        })
    }

    /// The member `user` of the caller's account; any member may read it.
    /// `TeamError::MemberNotFound` when there is no such member here (another account's member is
    /// not found).
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
        self.update_as_read(actor, user, change, |_| None)
    }

    /// [`Self::update`] for a client that also sent read-only fields back: `changed_read_only`
    /// names the first one whose value differs from what a read of the member (as it is now)
    /// shows, and the whole update is then refused naming it (decision 0048). A value sent
    /// back as read is no change: clients send back what they read.
    pub fn update_as_read(
        &self,
        actor: &Actor,
        user: UserId,
        change: MemberChange,
        changed_read_only: impl FnOnce(&Member) -> Option<&'static str>,
    ) -> Result<Member, TeamError> {
        crate::ensure_manager(actor.role)?;
        let current = self.get(actor, user)?;
        if let Some(field) = changed_read_only(&current) {
            return Err(TeamError::InvalidField {
                field,
                reason: "is read-only: send it as a read shows it, or leave it out".into(),
            });
        }
        // A member sent back as read changes nothing and is answered as it is.
        let change = change.against(&current);
        if change.is_empty() {
            return Ok(current);
        }
        authorize(actor, &current, &change)?;
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

    /// Suspends the account's members inactive for `days` days (the account's
    /// `inactivityUserLockThreshold`), never the owner; each loses their keys and sessions like
    /// every suspended member. Run by the maintenance job, as `system`. Returns how many.
    pub fn suspend_inactive_members(
        &self,
        account: AccountId,
        days: u32,
    ) -> Result<u64, TeamError> {
        let now = self.clock.now();
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let mut suspended = 0;
        for user in self.store.inactive_members(account, cutoff)? {
            let audit_id = AuditId::generate(self.clock.as_ref(), self.random.as_ref());
            if self
                .store
                .suspend_inactive(account, user, cutoff, audit_id, now)?
            {
                suspended += 1;
            }
        }
        Ok(suspended)
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
        if self.store.update_member(
            actor.account_id,
            user,
            current.role,
            current.custom_permissions.as_deref(),
            change,
            &audit,
        )? {
            Ok(())
        } else {
            Err(TeamError::Conflict)
        }
    }

    pub(crate) fn audit(&self, actor: &Actor, action: &'static str, details: Value) -> ChangeAudit {
        self.audit_as(actor.audit_name(), actor.audit_address(), action, details)
    }

    pub(crate) fn audit_as(
        &self,
        actor: String,
        ip: Option<String>,
        action: &'static str,
        details: Value,
    ) -> ChangeAudit {
        ChangeAudit {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            actor,
            action,
            at: self.clock.now(),
            ip,
            details,
        }
    }
}

/// Invitation ids in their public form start so; member ids never do.
const INVITATION_ID_PREFIX: &str = "inv_";

/// Where an invitation sits in the member list: after every member, by creation time then id
/// (the order the store lists open invitations in).
fn invitation_key(i: &Invitation) -> (i64, String) {
    (i.created_at.timestamp_micros(), i.id.to_string())
}

/// The rules for `actor` (already known to be a manager) changing `current` by `change`.
fn authorize(actor: &Actor, current: &Member, change: &MemberChange) -> Result<(), TeamError> {
    // The owner may describe themselves (title, department); their role, permissions and status
    // stay out of reach, their own included, so an account never loses its owner.
    let describes_self = actor.user_id == current.user_id
        && change.role.is_none()
        && change.permissions.is_none()
        && change.status.is_none();
    if current.role == Role::Owner && actor.role == Role::Owner && describes_self {
        return Ok(());
    }
    ensure_can_manage(actor.role, current.role)?;
    if let Some(role) = change.role {
        ensure_can_grant(actor.role, role)?;
    }
    // What the member holds afterwards must be within what the actor holds (decision 0019).
    if change.role.is_some() || change.permissions.is_some() {
        let role = change.role.unwrap_or(current.role);
        let custom = match &change.permissions {
            Some(given) => given.as_deref(),
            None => current.custom_permissions.as_deref(),
        };
        if let Some(Some(given)) = &change.permissions {
            crate::ensure_fits_role(role, given)?;
        }
        crate::ensure_within_own(actor, role, custom)?;
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

#[cfg(test)]
mod tests {
    use tenantry_kernel::{Credential, OsRandom, SystemClock};

    use super::*;
    use crate::{Department, Permission, Title};

    fn actor(user: UserId, role: Role) -> Actor {
        Actor {
            account_id: AccountId::generate(&SystemClock, &OsRandom),
            user_id: user,
            role,
            credential: Credential::Operator(tenantry_kernel::OperatorCredential::Cli),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        }
    }

    fn owner(user: UserId) -> Member {
        Member {
            user_id: user,
            email: "owner@example.com".into(),
            name: None,
            role: Role::Owner,
            custom_permissions: None,
            status: MemberStatus::Active,
            joined_at: SystemClock.now(),
            last_active_at: None,
            invited_by: None,
            department: None,
            title: None,
        }
    }

    /// Every combination of fields a change may touch: the owner may change their own title
    /// and department and nothing else, and nobody else may change the owner at all.
    #[test]
    fn the_owner_describes_only_themselves() {
        let me = UserId::generate(&SystemClock, &OsRandom);
        let other = UserId::generate(&SystemClock, &OsRandom);
        for bits in 0u8..32 {
            let on = |i: u8| bits & (1 << i) != 0;
            let change = MemberChange {
                role: on(0).then_some(Role::Admin),
                permissions: on(1).then(|| Some(vec![Permission::Read])),
                department: on(2).then(|| Department::parse("Ops").ok()),
                title: on(3).then(|| Title::parse("CEO").ok()),
                status: on(4).then_some(MemberStatus::Suspended),
            };
            let descriptive = !on(0) && !on(1) && !on(4);
            assert_eq!(
                authorize(&actor(me, Role::Owner), &owner(me), &change).is_ok(),
                descriptive,
                "{change:?}"
            );
            assert_eq!(
                authorize(&actor(other, Role::Admin), &owner(me), &change),
                Err(TeamError::CannotRemoveOwner),
                "{change:?}"
            );
        }
    }
}
