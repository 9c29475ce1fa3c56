//! The team API's `GET /v2/accounts/team/activity`, and `POST /v2/accounts/team/activity/events`
//! through which the host platform reports the product activity the figures are computed from.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::UserId;
use tenantry_team::{
    ActivityEvent, ActivityKind, ActivityPeriod, HostEventId, TeamError, MAX_EVENT_COUNT,
};

use super::errors::team_error;
use super::members::run;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/v2/accounts/team/activity").route(web::get().to(activity)))
        .service(resource("/v2/accounts/team/activity/events").route(web::post().to(record)));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    period: Option<String>,
}

async fn activity(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = match query.period.as_deref() {
        None => ActivityPeriod::default(),
        Some(p) => ActivityPeriod::parse(p).ok_or_else(|| {
            ApiError::new(
                Dialect::V2,
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                format!("period must be 7d, 30d or 90d (got `{p}`)"),
            )
            .with_details(json!({ "field": "period" }))
        })?,
    };
    let team = state.team.clone();
    let t = run(None, move || team.activity(&caller.0, period)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": t.period.as_str(),
        "summary": {
            "totalMembers": t.total_members,
            "activeMembers": t.active_members,
            "newMembers": t.new_members,
            "totalActivity": t.total_activity,
            "collaborationScore": t.collaboration_score,
        },
        "memberActivity": t.members.iter().map(|m| json!({
            "userId": m.user.to_string(),
            "name": m.name,
            "role": m.role.as_str(),
            "activity": {
                "logins": m.logins,
                "endpointExecutions": m.endpoint_executions,
                "resourcesCreated": m.resources_created,
                "collaborations": m.collaborations,
            },
        })).collect::<Vec<_>>(),
        "teamCollaboration": {
            "sharedEndpoints": t.shared_endpoints,
            "crossTeamProjects": t.cross_team_projects,
            "knowledgeSharing": t.knowledge_sharing,
        },
        "trends": {
            "activityGrowth": t.activity_growth.map(|g| format!("{g:+.1}%")),
            "memberEngagement": t.member_engagement,
            "retentionRate": t.retention_rate,
        },
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBatch {
    events: Vec<HostEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HostEvent {
    id: String,
    user_id: String,
    #[serde(rename = "type")]
    kind: String,
    count: Option<u64>,
    occurred_at: Option<String>,
}

impl HostEvent {
    fn parse(self, index: usize, now: DateTime<Utc>) -> Result<ActivityEvent, TeamError> {
        let invalid = |reason: String| TeamError::InvalidField {
            field: "events",
            reason: format!("events[{index}]: {reason}"),
        };
        let count = self.count.unwrap_or(1);
        if !(1..=MAX_EVENT_COUNT).contains(&count) {
            return Err(invalid(format!("count must be 1-{MAX_EVENT_COUNT}")));
        }
        Ok(ActivityEvent {
            id: HostEventId::parse(&self.id).map_err(|e| invalid(format!("id {e}")))?,
            user: self
                .user_id
                .parse::<UserId>()
                .map_err(|_| invalid(format!("userId `{}` is not a user id", self.user_id)))?,
            kind: ActivityKind::parse(&self.kind).ok_or_else(|| {
                invalid(format!(
                    "type must be one of {}",
                    ActivityKind::ALL.map(ActivityKind::as_str).join(", ")
                ))
            })?,
            count,
            occurred_at: match self.occurred_at.as_deref() {
                None => now,
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map_err(|e| invalid(format!("occurredAt must be RFC 3339: {e}")))?
                    .with_timezone(&Utc),
            },
        })
    }
}

/// 200 with one result per event: `recorded`, or `duplicate` when its id was already known.
async fn record(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<EventBatch>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let events = body
        .events
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.parse(i, now))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| team_error(e, None))?;
    let team = state.team.clone();
    let ids: Vec<String> = events.iter().map(|e| e.id.as_str().to_owned()).collect();
    let fresh = run(None, move || team.record_activity(&caller.0, &events)).await?;
    let recorded = fresh.iter().filter(|f| **f).count();
    Ok(HttpResponse::Ok().json(json!({
        "recorded": recorded,
        "duplicates": fresh.len() - recorded,
        "results": ids.iter().zip(&fresh).map(|(id, new)| json!({
            "id": id,
            "status": if *new { "recorded" } else { "duplicate" },
        })).collect::<Vec<_>>(),
    })))
}
