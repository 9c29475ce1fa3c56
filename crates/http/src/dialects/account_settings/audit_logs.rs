//! `GET /v2/accounts/audit-logs` (01/02 dialect): the account's audit trail for admins.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenantry_security::AuditFilter;

use super::errors::audit_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::pagination::PageQuery;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/accounts/audit-logs")
            .route(web::get().to(list))
            .default_service(web::to(method_not_allowed)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    actor: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        format!("Invalid value for {field}"),
    )
    .with_details(json!({ "fields": [{ "field": field, "message": message }] }))
}

fn timestamp(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|r| {
        DateTime::parse_from_rfc3339(r)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                invalid(
                    field,
                    "must be an RFC 3339 timestamp, e.g. 2024-03-20T16:30:00Z",
                )
            })
    })
    .transpose()
}

async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit.clone(),
        cursor: query.cursor.clone(),
    }
    .parse(DIALECT)?;
    let filter = AuditFilter {
        actor: query.actor.clone().filter(|a| !a.is_empty()),
        action: query.action.clone().filter(|a| !a.is_empty()),
        since: timestamp("since", query.since.as_deref())?,
        until: timestamp("until", query.until.as_deref())?,
    };
    let audit = state.audit.clone();
    let result = web::block(move || audit.list(&caller.0, &filter, &page))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(audit_error)?;
    let mut body = json!({
        "audit_logs": result.items.iter().map(|e| json!({
            "id": e.id,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "details": e.details,
            "ip": e.ip,
            "created_at": e.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        })).collect::<Vec<_>>(),
    });
    if let Some(next) = result.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}
