//! Team activity (the team API `activity`, `resources`, `GET /team/activity`): every figure is
//! computed from recorded facts, never invented. Sign-ins come from the service's own sessions;
//! product activity (endpoint executions, resources created, collaborations, sharing) is
//! reported by the host platform as events, idempotent by the host's event id. The formulas are
//! documented in docs/team-activity.md and implemented once, here.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{AccountId, PortError, Role, UserId};

use crate::TeamError;

/// What a host-reported event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// The host created an endpoint (`endpoint.created`).
    EndpointCreated,
    /// The host deleted an endpoint (`endpoint.deleted`); subtracted from the endpoints a member
    /// owns.
    EndpointDeleted,
    /// An endpoint ran (`endpoint.executed`); `count` may carry a batch of runs.
    EndpointExecuted,
    /// The member shared an endpoint (`endpoint.shared`).
    EndpointShared,
    /// The member stopped sharing an endpoint (`endpoint.unshared`); subtracted from the shared
    /// ones.
    EndpointUnshared,
    /// The host created a cluster (`cluster.created`).
    ClusterCreated,
    /// The host deleted a cluster (`cluster.deleted`); subtracted from the clusters a member
    /// manages.
    ClusterDeleted,
    /// The member worked with someone else (`collaboration`); feeds the collaboration score.
    Collaboration,
    /// The member took part in a project across teams (`cross_team_project`).
    CrossTeamProject,
    /// The member shared knowledge (`knowledge.shared`).
    KnowledgeShared,
}

impl ActivityKind {
    /// Every kind, in the order the team API documents them.
    pub const ALL: [ActivityKind; 10] = [
        ActivityKind::EndpointCreated,
        ActivityKind::EndpointDeleted,
        ActivityKind::EndpointExecuted,
        ActivityKind::EndpointShared,
        ActivityKind::EndpointUnshared,
        ActivityKind::ClusterCreated,
        ActivityKind::ClusterDeleted,
        ActivityKind::Collaboration,
        ActivityKind::CrossTeamProject,
        ActivityKind::KnowledgeShared,
    ];

    /// The event name the host sends and the team API shows (`endpoint.created`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::EndpointCreated => "endpoint.created",
            ActivityKind::EndpointDeleted => "endpoint.deleted",
            ActivityKind::EndpointExecuted => "endpoint.executed",
            ActivityKind::EndpointShared => "endpoint.shared",
            ActivityKind::EndpointUnshared => "endpoint.unshared",
            ActivityKind::ClusterCreated => "cluster.created",
            ActivityKind::ClusterDeleted => "cluster.deleted",
            ActivityKind::Collaboration => "collaboration",
            ActivityKind::CrossTeamProject => "cross_team_project",
            ActivityKind::KnowledgeShared => "knowledge.shared",
        }
    }

    /// The kind a host's event name stands for; `None` for a name this service does not count.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The longest host event id accepted.
pub const MAX_EVENT_ID_LEN: usize = 128;
/// Events per request.
pub const MAX_EVENTS_PER_REQUEST: usize = 1_000;
/// The largest `count` one event may carry (a batch of executions, say).
pub const MAX_EVENT_COUNT: u64 = 1_000_000;

/// A host's event id: 1-128 characters of `A-Z a-z 0-9 . _ : -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostEventId(String);

impl HostEventId {
    /// Parses a host's event id; the error message says what is wrong, for the field error.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_EVENT_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "must be 1-{MAX_EVENT_ID_LEN} characters of letters, digits, `.`, `_`, `:` or `-`"
            ))
        }
    }

    /// The id as the host sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One host-reported fact about a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEvent {
    /// The host's id of the event: an id already recorded for the account is skipped, so a host may
    /// retry a batch.
    pub id: HostEventId,
    /// The member the event is about.
    pub user: UserId,
    /// What happened.
    pub kind: ActivityKind,
    /// How many times it happened (1 to [`MAX_EVENT_COUNT`]).
    pub count: u64,
    /// When it happened, by the host's clock; it decides which period the event counts in.
    pub occurred_at: DateTime<Utc>,
}

/// The team API's `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivityPeriod {
    /// The last 7 days (`7d`).
    SevenDays,
    /// The last 30 days (`30d`), the default.
    #[default]
    ThirtyDays,
    /// The last 90 days (`90d`).
    NinetyDays,
}

impl ActivityPeriod {
    /// The period named `7d`, `30d` or `90d`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "7d" => Some(Self::SevenDays),
            "30d" => Some(Self::ThirtyDays),
            "90d" => Some(Self::NinetyDays),
            _ => None,
        }
    }

    /// The period's public name (`7d`, `30d`, `90d`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SevenDays => "7d",
            Self::ThirtyDays => "30d",
            Self::NinetyDays => "90d",
        }
    }

    /// How far back the period reaches from now.
    pub fn length(self) -> Duration {
        Duration::days(match self {
            Self::SevenDays => 7,
            Self::ThirtyDays => 30,
            Self::NinetyDays => 90,
        })
    }
}

/// A member's time on the team (removed members included, for the retention rate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipSpan {
    /// The member.
    pub user: UserId,
    /// Their display name, if they set one.
    pub name: Option<String>,
    /// Their role now (or when they were removed).
    pub role: Role,
    /// When they joined the team.
    pub joined_at: DateTime<Utc>,
    /// When they were removed; `None` while they are a member.
    pub removed_at: Option<DateTime<Utc>>,
    /// Their last key or session use, which makes them active in a period without any host event.
    pub last_active_at: Option<DateTime<Utc>>,
}

/// Per-user sums of host events and sign-ins in a window `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityTotals {
    /// Sums of each member's host events by kind.
    pub events: HashMap<(UserId, ActivityKind), u64>,
    /// Sign-ins per member.
    pub logins: HashMap<UserId, u64>,
}

impl ActivityTotals {
    /// The sum of `user`'s events of `kind`; 0 when there were none.
    pub fn event(&self, user: UserId, kind: ActivityKind) -> u64 {
        self.events.get(&(user, kind)).copied().unwrap_or(0)
    }

    fn logins_of(&self, user: UserId) -> u64 {
        self.logins.get(&user).copied().unwrap_or(0)
    }

    /// Everything counted for one member: sign-ins, executions, resources created and
    /// collaborations (the team API's four `activity` figures).
    fn member_total(&self, user: UserId) -> u64 {
        self.logins_of(user)
            + self.event(user, ActivityKind::EndpointExecuted)
            + self.resources_created(user)
            + self.event(user, ActivityKind::Collaboration)
    }

    fn resources_created(&self, user: UserId) -> u64 {
        self.event(user, ActivityKind::EndpointCreated)
            + self.event(user, ActivityKind::ClusterCreated)
    }

    fn sum(&self, kind: ActivityKind) -> u64 {
        self.events
            .iter()
            .filter(|((_, k), _)| *k == kind)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// Where activity is recorded and summed.
pub trait ActivityStore: Send + Sync {
    /// Records the events not yet known (by account and host event id) in one transaction;
    /// returns, per event, whether it was new.
    fn record_activity(
        &self,
        account: AccountId,
        events: &[ActivityEvent],
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<bool>, PortError>;

    /// Sums in `[from, to)`, for every member or only `user`.
    fn activity_totals(
        &self,
        account: AccountId,
        user: Option<UserId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ActivityTotals, PortError>;

    /// Every membership the account has had, removed ones included.
    fn membership_spans(&self, account: AccountId) -> Result<Vec<MembershipSpan>, PortError>;

    /// When `user` last signed in (their newest session's creation time); `None` if never.
    fn last_login(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<DateTime<Utc>>, PortError>;
}

/// The team API's `activity` and `resources` of one member, from all their recorded events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemberActivity {
    /// Endpoints the member created, all time.
    pub endpoints_created: u64,
    /// Clusters the member manages: created minus deleted, never below 0.
    pub clusters_managed: u64,
    /// Endpoint runs the member made, all time.
    pub total_executions: u64,
    /// When the member last signed in, if ever.
    pub last_login: Option<DateTime<Utc>>,
    /// Endpoints the member owns: created minus deleted, never below 0.
    pub owned_endpoints: u64,
    /// Clusters the member owns: created minus deleted, never below 0.
    pub owned_clusters: u64,
    /// Endpoints the member shares: shared minus unshared, never below 0.
    pub shared_endpoints: u64,
}

impl MemberActivity {
    /// Computes a member's figures from the account's all-time totals (the formulas of
    /// docs/team-activity.md).
    pub fn from_totals(
        user: UserId,
        all: &ActivityTotals,
        last_login: Option<DateTime<Utc>>,
    ) -> Self {
        let net = |plus: ActivityKind, minus: ActivityKind| {
            all.event(user, plus).saturating_sub(all.event(user, minus))
        };
        let owned_clusters = net(ActivityKind::ClusterCreated, ActivityKind::ClusterDeleted);
        Self {
            endpoints_created: all.event(user, ActivityKind::EndpointCreated),
            clusters_managed: owned_clusters,
            total_executions: all.event(user, ActivityKind::EndpointExecuted),
            last_login,
            owned_endpoints: net(ActivityKind::EndpointCreated, ActivityKind::EndpointDeleted),
            owned_clusters,
            shared_endpoints: net(ActivityKind::EndpointShared, ActivityKind::EndpointUnshared),
        }
    }
}

/// One row of `memberActivity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPeriodActivity {
    /// The member.
    pub user: UserId,
    /// Their display name, if they set one.
    pub name: Option<String>,
    /// Their role.
    pub role: Role,
    /// Sign-ins in the period.
    pub logins: u64,
    /// Endpoint runs in the period.
    pub endpoint_executions: u64,
    /// Endpoints and clusters created in the period.
    pub resources_created: u64,
    /// Collaborations in the period.
    pub collaborations: u64,
}

/// `GET /v2/accounts/team/activity`.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamActivity {
    /// The period the figures cover.
    pub period: ActivityPeriod,
    /// Current members, active and suspended (removed ones are not counted).
    pub total_members: u64,
    /// Current members with any activity or API use in the period.
    pub active_members: u64,
    /// Current members who joined in the period.
    pub new_members: u64,
    /// Sign-ins, endpoint runs, resources created and collaborations of everyone in the period.
    pub total_activity: u64,
    /// 10 × the share of active members with at least one collaboration, one decimal; 0 without
    /// active members.
    pub collaboration_score: f64,
    /// One row per current member.
    pub members: Vec<MemberPeriodActivity>,
    /// Endpoints shared in the period.
    pub shared_endpoints: u64,
    /// Cross-team projects in the period.
    pub cross_team_projects: u64,
    /// Knowledge shared in the period.
    pub knowledge_sharing: u64,
    /// Percent change of `total_activity` against the previous period of the same length;
    /// `None` when the previous period had no activity (growth from nothing is undefined).
    pub activity_growth: Option<f64>,
    /// Active members ÷ total members, two decimals.
    pub member_engagement: f64,
    /// Of those who were members when the period began, the share still members now; 1.0 when
    /// nobody was.
    pub retention_rate: f64,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        #[allow(clippy::cast_precision_loss)]
        let r = part as f64 / whole as f64;
        r
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (value * f).round() / f
}

impl TeamActivity {
    /// The figures for the period ending at `now`, from the memberships and the sums of this
    /// period and the one before it.
    pub fn compute(
        period: ActivityPeriod,
        now: DateTime<Utc>,
        spans: &[MembershipSpan],
        current: &ActivityTotals,
        previous: &ActivityTotals,
    ) -> Self {
        let start = now - period.length();
        let current_members: Vec<&MembershipSpan> =
            spans.iter().filter(|s| s.removed_at.is_none()).collect();
        let members: Vec<MemberPeriodActivity> = current_members
            .iter()
            .map(|s| MemberPeriodActivity {
                user: s.user,
                name: s.name.clone(),
                role: s.role,
                logins: current.logins_of(s.user),
                endpoint_executions: current.event(s.user, ActivityKind::EndpointExecuted),
                resources_created: current.resources_created(s.user),
                collaborations: current.event(s.user, ActivityKind::Collaboration),
            })
            .collect();
        // Active: did anything counted in the period, or used the API in it.
        let active = current_members
            .iter()
            .filter(|s| {
                current.member_total(s.user) > 0 || s.last_active_at.is_some_and(|t| t >= start)
            })
            .count() as u64;
        let collaborating = current_members
            .iter()
            .filter(|s| current.event(s.user, ActivityKind::Collaboration) > 0)
            .count() as u64;
        let total_members = current_members.len() as u64;
        let new_members = current_members
            .iter()
            .filter(|s| s.joined_at >= start)
            .count() as u64;
        let sum_all = |t: &ActivityTotals| -> u64 {
            let users: std::collections::HashSet<UserId> = t
                .events
                .keys()
                .map(|(u, _)| *u)
                .chain(t.logins.keys().copied())
                .collect();
            users.into_iter().map(|u| t.member_total(u)).sum()
        };
        let total_activity = sum_all(current);
        let before = sum_all(previous);
        // Retention: of those who were members when the period began, the share still members.
        let at_start: Vec<&MembershipSpan> = spans
            .iter()
            .filter(|s| s.joined_at < start && s.removed_at.is_none_or(|r| r >= start))
            .collect();
        let retained = at_start.iter().filter(|s| s.removed_at.is_none()).count() as u64;
        Self {
            period,
            total_members,
            active_members: active,
            new_members,
            total_activity,
            collaboration_score: round(10.0 * ratio(collaborating, active), 1),
            members,
            shared_endpoints: current.sum(ActivityKind::EndpointShared),
            cross_team_projects: current.sum(ActivityKind::CrossTeamProject),
            knowledge_sharing: current.sum(ActivityKind::KnowledgeShared),
            activity_growth: (before > 0).then(|| {
                #[allow(clippy::cast_precision_loss)]
                let change = (total_activity as f64 - before as f64) / before as f64 * 100.0;
                round(change, 1)
            }),
            member_engagement: round(ratio(active, total_members), 2),
            retention_rate: if at_start.is_empty() {
                1.0
            } else {
                round(ratio(retained, at_start.len() as u64), 2)
            },
        }
    }
}

/// Checks a batch before anything is written: size, and no id twice with different content.
pub fn check_batch(events: &[ActivityEvent]) -> Result<(), TeamError> {
    if events.is_empty() || events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(TeamError::InvalidField {
            field: "events",
            reason: format!("must hold 1-{MAX_EVENTS_PER_REQUEST} events"),
        });
    }
    let mut seen: HashMap<&HostEventId, &ActivityEvent> = HashMap::new();
    for e in events {
        if let Some(first) = seen.insert(&e.id, e) {
            if first != e {
                return Err(TeamError::InvalidField {
                    field: "events",
                    reason: format!(
                        "event id `{}` appears twice with different content",
                        e.id.as_str()
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tenantry_kernel::{OsRandom, SystemClock};

    use super::*;

    fn user() -> UserId {
        UserId::generate(&SystemClock, &OsRandom)
    }

    fn span(user: UserId, joined: DateTime<Utc>, removed: Option<DateTime<Utc>>) -> MembershipSpan {
        MembershipSpan {
            user,
            name: None,
            role: Role::Developer,
            joined_at: joined,
            removed_at: removed,
            last_active_at: None,
        }
    }

    #[test]
    fn figures_follow_the_documented_formulas() {
        let now = DateTime::from_timestamp(1_767_225_600, 0).expect("ts");
        let (a, b, c, d) = (user(), user(), user(), user());
        let long_ago = now - Duration::days(100);
        let spans = vec![
            span(a, long_ago, None),
            span(b, long_ago, None),
            span(c, now - Duration::days(3), None),
            // Left during the period: counts against retention.
            span(d, long_ago, Some(now - Duration::days(2))),
        ];
        let mut current = ActivityTotals::default();
        current.logins.insert(a, 4);
        current
            .events
            .insert((a, ActivityKind::EndpointExecuted), 10);
        current.events.insert((a, ActivityKind::Collaboration), 2);
        current.events.insert((c, ActivityKind::EndpointCreated), 1);
        current.events.insert((c, ActivityKind::EndpointShared), 3);
        let mut previous = ActivityTotals::default();
        previous.logins.insert(a, 10);

        let t = TeamActivity::compute(ActivityPeriod::SevenDays, now, &spans, &current, &previous);
        assert_eq!(t.total_members, 3);
        assert_eq!(t.new_members, 1);
        assert_eq!(t.active_members, 2, "a and c did something; b did not");
        assert_eq!(t.total_activity, 4 + 10 + 2 + 1);
        assert_eq!(
            t.collaboration_score, 5.0,
            "1 of 2 active members collaborated"
        );
        assert_eq!(t.activity_growth, Some(70.0), "17 against 10");
        assert_eq!(t.member_engagement, 0.67);
        assert_eq!(t.retention_rate, 0.67, "a and b stayed, d left");
        assert_eq!(t.shared_endpoints, 3);
        let row = t.members.iter().find(|m| m.user == a).expect("a");
        assert_eq!(
            (row.logins, row.endpoint_executions, row.collaborations),
            (4, 10, 2)
        );

        let quiet = TeamActivity::compute(
            ActivityPeriod::SevenDays,
            now,
            &spans,
            &current,
            &ActivityTotals::default(),
        );
        assert_eq!(quiet.activity_growth, None, "no growth from nothing");
    }

    #[test]
    fn member_resources_are_net_of_deletions() {
        let u = user();
        let mut all = ActivityTotals::default();
        all.events.insert((u, ActivityKind::EndpointCreated), 5);
        all.events.insert((u, ActivityKind::EndpointDeleted), 2);
        all.events.insert((u, ActivityKind::ClusterCreated), 1);
        all.events.insert((u, ActivityKind::ClusterDeleted), 3);
        let m = MemberActivity::from_totals(u, &all, None);
        assert_eq!(m.endpoints_created, 5);
        assert_eq!(m.owned_endpoints, 3);
        assert_eq!(m.owned_clusters, 0, "never negative");
    }

    #[test]
    fn event_ids_and_batches_are_checked() {
        assert!(HostEventId::parse("evt_123:abc-9.x").is_ok());
        assert!(HostEventId::parse("").is_err());
        assert!(HostEventId::parse("with space").is_err());
        assert!(HostEventId::parse(&"x".repeat(129)).is_err());
        assert!(check_batch(&[]).is_err());
        let e = ActivityEvent {
            id: HostEventId::parse("e1").expect("id"),
            user: user(),
            kind: ActivityKind::Collaboration,
            count: 1,
            occurred_at: Utc::now(),
        };
        assert!(
            check_batch(&[e.clone(), e.clone()]).is_ok(),
            "a retried duplicate"
        );
        let other = ActivityEvent {
            count: 2,
            ..e.clone()
        };
        assert!(check_batch(&[e, other]).is_err());
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k));
        }
    }
}
