//! The user and organization API's `/api/notifications/*`: channels, rules, the delivery log and host events, in
//! `{"data": ...}` envelopes and snake_case. The built-in channels (`nch_email`, `nch_slack`,
//! `nch_webhook`) are the account settings API's notification settings seen through this dialect.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tenantry_kernel::DeliveryId;
use tenantry_notifications::{
    Channel, ChannelKind, ChannelUpdate, Delivery, HostEvent, NewRule, NotificationError, Rule,
};

use super::errors::notification_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::{page_in_memory, PageQuery};
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
            .route(web::get().to(get_channel))
            .route(web::put().to(update_channel))
            .route(web::delete().to(delete_channel)),
    )
    .service(resource("/api/notifications/channels/{id}/test").route(web::post().to(test_channel)))
    .service(
        resource("/api/notifications/rules")
            .route(web::get().to(list_rules))
            .route(web::post().to(create_rule)),
    )
    .service(
        resource("/api/notifications/rules/{id}")
            .route(web::get().to(get_rule))
            .route(web::put().to(replace_rule))
            .route(web::delete().to(delete_rule)),
    )
    .service(resource("/api/notifications/deliveries").route(web::get().to(list_deliveries)))
    .service(resource("/api/notifications/deliveries/{id}").route(web::get().to(get_delivery)))
    .service(
        resource("/api/notifications/deliveries/{id}/redeliver").route(web::post().to(redeliver)),
    )
    .service(resource("/api/notifications/events").route(web::post().to(report_event)));
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
            "state": a.state.as_str(),
            "response_code": a.response_code,
            "latency_ms": a.latency_ms,
            "error": a.error,
        })).collect::<Vec<_>>(),
        "created_at": time(d.created_at),
        "updated_at": time(d.updated_at),
    })
}

/// The sort key of the in-memory lists: built-ins (no creation time) first, by id.
fn list_key(created_at: Option<DateTime<Utc>>, id: &str) -> (i64, String) {
    (
        created_at.map_or(0, |t| t.timestamp_micros()),
        id.to_owned(),
    )
}

/// `{"data": [...]}`, with `next_cursor` unless it is the last page (as the delivery log).
fn list_page<T>(page: tenantry_kernel::Page<T>, to_json: impl Fn(&T) -> Value) -> HttpResponse {
    let mut body = json!({ "data": page.items.iter().map(to_json).collect::<Vec<_>>() });
    if let Some(next) = page.next {
        body["next_cursor"] = json!(next.encode());
    }
    HttpResponse::Ok().json(body)
}

async fn list_channels(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let service = state.notifications.clone();
    let channels = run(move || service.channels(&caller.0)).await?;
    let channels = page_in_memory(channels, |(c, _)| list_key(c.created_at, &c.id), &page);
    Ok(list_page(channels, |(c, config)| channel_json(c, config)))
}

async fn get_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    let (c, config) = run(move || service.channel(&caller.0, &id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": channel_json(&c, &config) })))
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
    // Output-only fields a read shows: accepted back as read (checked by the service or here),
    // so a client may PUT what it got.
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    builtin: Option<bool>,
    #[serde(rename = "created_at")]
    _created_at: Option<serde::de::IgnoredAny>,
    #[serde(rename = "updated_at")]
    _updated_at: Option<serde::de::IgnoredAny>,
}

/// An `id` sent in a body must be the one in the path (it is read-only).
fn same_id(sent: Option<&str>, path: &str) -> Result<(), ApiError> {
    match sent {
        Some(id) if id != path => Err(notification_error(NotificationError::invalid(
            "id",
            "is read-only: it must be the id in the path",
        ))),
        _ => Ok(()),
    }
}

async fn update_channel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateChannel>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    same_id(body.id.as_deref(), &id)?;
    let service = state.notifications.clone();
    let update = ChannelUpdate {
        name: body.name,
        enabled: body.enabled,
        config: body.config,
        kind: body.kind,
        builtin: body.builtin,
    };
    let (c, _) = run(move || service.update_channel(&caller.0, &id, update)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "data": {
            "id": c.id,
            "name": c.name,
            "enabled": c.enabled,
            "updated_at": c.updated_at.map_or_else(|| time(state.clock.now()), time),
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
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let service = state.notifications.clone();
    let rules = run(move || service.rules(&caller.0)).await?;
    let rules = page_in_memory(rules, |r| list_key(r.created_at, &r.id), &page);
    Ok(list_page(rules, rule_json))
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

/// A rule's replacement: what a create takes, plus the output-only fields a read shows
/// (accepted back as read).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceRule {
    name: String,
    event: String,
    channel_ids: Vec<String>,
    #[serde(default)]
    filters: Map<String, Value>,
    enabled: Option<bool>,
    id: Option<String>,
    builtin: Option<bool>,
    #[serde(rename = "created_at")]
    _created_at: Option<serde::de::IgnoredAny>,
}

impl CreateRule {
    fn into_new(self) -> NewRule {
        NewRule {
            name: self.name,
            event: self.event,
            channel_ids: self.channel_ids,
            filters: self.filters,
            enabled: self.enabled.unwrap_or(true),
        }
    }
}

/// "Create or replace": 201 with a new rule, 200 when the name was an existing rule's, which
/// now holds the request's fields under its id.
async fn create_rule(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<CreateRule>,
) -> Result<HttpResponse, ApiError> {
    let service = state.notifications.clone();
    let (rule, created) = run(move || service.create_rule(&caller.0, body.into_new())).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(json!({ "data": rule_json(&rule) })))
}

async fn get_rule(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    let rule = run(move || service.rule(&caller.0, &id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": rule_json(&rule) })))
}

/// A whole replacement with the body of a creation: absent `filters` clear them, absent
/// `enabled` enables.
async fn replace_rule(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<ReplaceRule>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    same_id(body.id.as_deref(), &id)?;
    if body.builtin == Some(true) {
        return Err(notification_error(NotificationError::invalid(
            "builtin",
            "is read-only",
        )));
    }
    let service = state.notifications.clone();
    let rule = CreateRule {
        name: body.name,
        event: body.event,
        channel_ids: body.channel_ids,
        filters: body.filters,
        enabled: body.enabled,
    };
    let rule = run(move || service.replace_rule(&caller.0, &id, rule.into_new())).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": rule_json(&rule) })))
}

async fn delete_rule(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let service = state.notifications.clone();
    run(move || service.delete_rule(&caller.0, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
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
