//! Seed 03 `/api/notifications/*`: channels, rules, the delivery log and host events, in
//! `{"data": ...}` envelopes and snake_case. The built-in channels (`nch_email`, `nch_slack`,
//! `nch_webhook`) are seed 01's notification settings seen through this dialect.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tenantry_kernel::DeliveryId;
use tenantry_notifications::{
    Channel, ChannelKind, ChannelUpdate, Delivery, HostEvent, NewRule, NotificationError, Rule,
};

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::PageQuery;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/notifications/channels")
            .route(web::get().to(list_channels))
            .route(web::post().to(create_channel)),
    )
    .service(
        resource("/api/notifications/channels/{id}")
            .route(web::put().to(update_channel))
            .route(web::delete().to(delete_channel)),
    )
    .service(resource("/api/notifications/channels/{id}/test").route(web::post().to(test_channel)))
    .service(
        resource("/api/notifications/rules")
            .route(web::get().to(list_rules))
            .route(web::post().to(create_rule)),
    )
    .service(resource("/api/notifications/deliveries").route(web::get().to(list_deliveries)))
    .service(resource("/api/notifications/deliveries/{id}").route(web::get().to(get_delivery)))
    .service(
        resource("/api/notifications/deliveries/{id}/redeliver").route(web::post().to(redeliver)),
    )
    .service(resource("/api/notifications/events").route(web::post().to(report_event)));
}

fn notification_error(e: NotificationError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        NotificationError::InsufficientPermissions { required, current } => err(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("Managing notifications requires the {required} role"),
        )
        .with_details(json!({ "required_role": required.as_str(), "current_role": current.as_str() })),
        NotificationError::NotFound(what) => err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Notification {what} not found"),
        ),
        NotificationError::Validation(fields) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            "The request has invalid fields".into(),
        )
        .with_details(json!({ "fields": fields.iter().map(|(f, m)| json!({ "field": f, "message": m })).collect::<Vec<_>>() })),
        NotificationError::BuiltinChannel(message) => {
            err(StatusCode::CONFLICT, "BUILTIN_CHANNEL", message)
        }
        NotificationError::Port(p) => ApiError::from_port(DIALECT, &p),
    }
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NotificationError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(notification_error)
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn channel_json(c: &Channel, config: &Value) -> Value {
    json!({
        "id": c.id,
        "type": c.target.kind().as_str(),
        "name": c.name,
        "enabled": c.enabled,
        "config": config,
        "builtin": c.builtin,
        "created_at": c.created_at.map(time),
        "updated_at": c.updated_at.map(time),
    })
}

fn rule_json(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "event": r.event,
        "channel_ids": r.channel_ids,
        "filters": r.filters,
        "enabled": r.enabled,
        "builtin": r.builtin,
        "created_at": r.created_at.map(time),
    })
}

fn delivery_json(d: &Delivery) -> Value {
    let last = d.attempts.last();
    json!({
        "id": d.id.to_string(),
        "event_id": d.event_id,
        "event_type": d.event_type,
        "channel_id": d.channel_id,
        "status": d.status.as_str(),
        "response_code": last.and_then(|a| a.response_code),
        "latency_ms": last.and_then(|a| a.latency_ms),
        "attempts": d.attempts.iter().map(|a| json!({
            "attempt": a.number,
            "at": time(a.at),
            "response_code": a.response_code,
            "latency_ms": a.latency_ms,
            "error": a.error,
        })).collect::<Vec<_>>(),
        "created_at": time(d.created_at),
        "updated_at": time(d.updated_at),
    })
}

async fn list_channels(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let service = state.notifications.clone();
    let channels = run(move || service.channels(&caller.0)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "data": channels.iter().map(|(c, config)| channel_json(c, config)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewChannel {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    enabled: Option<bool>,
    #[serde(default)]
    config: Value,
}

async fn create_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<NewChannel>,
) -> Result<HttpResponse, ApiError> {
    let kind = ChannelKind::parse(&body.kind).ok_or_else(|| {
        notification_error(NotificationError::invalid(
            "type",
            "must be email, slack or webhook",
        ))
    })?;
    let service = state.notifications.clone();
    let created = run(move || {
        service.create_channel(
            &caller.0,
            kind,
            &body.name,
            body.enabled.unwrap_or(true),
            &body.config,
        )
    })
    .await?;
    let c = &created.channel;
    let mut data = json!({
        "id": c.id,
        "type": kind.as_str(),
        "name": c.name,
        "enabled": c.enabled,
        "config": created.public_config,
        "created_at": c.created_at.map(time),
    });
    if let Some(secret) = created.generated_secret {
        // Shown this once: only its sealed form is kept.
        data["secret"] = json!(secret);
    }
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "data": data })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateChannel {
    name: Option<String>,
    enabled: Option<bool>,
    config: Option<Value>,
}

async fn update_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateChannel>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    let update = ChannelUpdate {
        name: body.name,
        enabled: body.enabled,
        config: body.config,
    };
    let (c, _) = run(move || service.update_channel(&caller.0, &id, update)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "data": {
            "id": c.id,
            "name": c.name,
            "enabled": c.enabled,
            "updated_at": c.updated_at.map_or_else(|| time(Utc::now()), time),
        }
    })))
}

async fn delete_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    run(move || service.delete_channel(&caller.0, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn test_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    let delivery = run(move || service.test_channel(&caller.0, &id)).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "data": { "delivery_id": delivery.to_string(), "status": "queued" }
    })))
}

async fn list_rules(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let service = state.notifications.clone();
    let rules = run(move || service.rules(&caller.0)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": rules.iter().map(rule_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRule {
    name: String,
    event: String,
    channel_ids: Vec<String>,
    #[serde(default)]
    filters: Map<String, Value>,
    enabled: Option<bool>,
}

async fn create_rule(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<CreateRule>,
) -> Result<HttpResponse, ApiError> {
    let service = state.notifications.clone();
    let rule = run(move || {
        service.create_rule(
            &caller.0,
            NewRule {
                name: body.name,
                event: body.event,
                channel_ids: body.channel_ids,
                filters: body.filters,
                enabled: body.enabled.unwrap_or(true),
            },
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "data": {
            "id": rule.id,
            "name": rule.name,
            "event": rule.event,
            "channel_ids": rule.channel_ids,
            "filters": rule.filters,
            "enabled": rule.enabled,
            "created_at": rule.created_at.map(time),
        }
    })))
}

async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let service = state.notifications.clone();
    let deliveries = run(move || service.deliveries(&caller.0, &page)).await?;
    let mut body = json!({
        "data": deliveries.items.iter().map(delivery_json).collect::<Vec<_>>(),
    });
    if let Some(next) = deliveries.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

fn delivery_id(raw: &str) -> Result<DeliveryId, ApiError> {
    raw.parse()
        .map_err(|_| notification_error(NotificationError::NotFound("delivery")))
}

async fn get_delivery(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = delivery_id(&path.into_inner())?;
    let service = state.notifications.clone();
    let d = run(move || service.delivery(&caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": delivery_json(&d) })))
}

async fn redeliver(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = delivery_id(&path.into_inner())?;
    let service = state.notifications.clone();
    let new_id = run(move || service.redeliver(&caller.0, id)).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "data": { "delivery_id": new_id.to_string(), "status": "queued" }
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportedEvent {
    event: String,
    #[serde(default)]
    data: Value,
}

/// A host platform reports an event (`endpoint.failed`, `cluster.event`, its own names); it is
/// routed by the rules like Tenantry's own events.
async fn report_event(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<ReportedEvent>,
) -> Result<HttpResponse, ApiError> {
    let service = state.notifications.clone();
    let event = run(move || {
        service.report_event(
            &caller.0,
            HostEvent {
                event: body.event,
                data: body.data,
            },
        )
    })
    .await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(json!({
        "data": { "event_id": event.id, "type": event.event_type, "occurred_at": event.occurred_at }
    })))
}
