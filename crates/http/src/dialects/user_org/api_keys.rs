//! The user and organization API's `/api/user/api-keys`: the caller's own API keys, in `{"data": ...}` envelopes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_kernel::ApiKeyId;
use tenantry_security::{ApiKeyInfo, SecurityError};

use super::errors::{security_error, SecurityRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::{page_in_memory, PageQuery};
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/user/api-keys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        resource("/api/user/api-keys/{id}")
            .route(web::get().to(get))
            .route(web::delete().to(delete)),
    )
    .service(resource("/api/user/api-keys/{id}/regenerate").route(web::post().to(regenerate)));
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn key_json(k: &ApiKeyInfo) -> Value {
    json!({
        "id": k.id.to_string(),
        "name": k.name,
        "prefix": k.prefix,
        "scopes": k.scopes,
        "created_at": time(k.created_at),
        "last_used_at": k.last_used_at.map(time),
        "expires_at": k.expires_at.map(time),
    })
}

fn key_id(path: &web::Path<String>) -> Result<ApiKeyId, ApiError> {
    path.parse().map_err(|_| {
        ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "API key not found",
        )
    })
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecurityError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| security_error(SecurityRoutes::ApiKeys, e))
}

async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let keys = state.api_keys.clone();
    let list = run(move || keys.list(&caller.0)).await?;
    let list = page_in_memory(
        list,
        |k| (k.created_at.timestamp_micros(), k.id.to_string()),
        &page,
    );
    let mut body = json!({ "data": list.items.iter().map(key_json).collect::<Vec<_>>() });
    if let Some(next) = list.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    expires_in_days: Option<u32>,
}

async fn create(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let keys = state.api_keys.clone();
    let (info, issued) =
        run(move || keys.create(&caller.0, &body.name, &body.scopes, body.expires_in_days)).await?;
    let mut doc = key_json(&info);
    doc["secret"] = json!(issued.token());
    if let Some(map) = doc.as_object_mut() {
        map.remove("last_used_at");
    }
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "data": doc })))
}

async fn get(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let keys = state.api_keys.clone();
    let info = run(move || keys.get(&caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": key_json(&info) })))
}

async fn delete(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let keys = state.api_keys.clone();
    run(move || keys.delete(&caller.0, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn regenerate(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = key_id(&path)?;
    let keys = state.api_keys.clone();
    let (info, issued) = run(move || keys.regenerate(&caller.0, id)).await?;
    let rotated_at = state.clock.now();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "data": {
                "id": info.id.to_string(),
                "secret": issued.token(),
                "prefix": info.prefix,
                "rotated_at": time(rotated_at),
            }
        })))
}
