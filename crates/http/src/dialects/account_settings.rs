//! Seed 01, `/v2/accounts/settings...`: snake_case, flat `{"error", "message", "details"}` errors.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_kernel::{KernelError, PageRequest};
use tenantry_settings::{SecretView, Section, SectionView, SettingsError, VALID_IP_FORMAT};

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/accounts/settings")
            .route(web::get().to(get_settings))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/{section}")
            .route(web::get().to(get_section))
            .route(web::put().to(put_section))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/{section}/history")
            .route(web::get().to(get_history))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/{section}/rollback")
            .route(web::post().to(post_rollback))
            .default_service(web::to(method_not_allowed)),
    );
}

/// Maps every settings failure to seed 01's codes and statuses. The only place this happens.
pub(crate) fn settings_error(e: SettingsError) -> ApiError {
    let err = |status, code, message: String| ApiError::new(DIALECT, status, code, message);
    match e {
        SettingsError::Forbidden {
            section,
            required,
            current,
        } => {
            let mut name = section.to_owned();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            err(
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_PERMISSIONS",
                format!("{name} settings require {required} role"),
            )
            .with_details(
                json!({ "requiredRole": required.as_str(), "currentRole": current.as_str() }),
            )
        }
        SettingsError::UnknownFields(fields) => err(
            StatusCode::BAD_REQUEST,
            "UNKNOWN_FIELD",
            format!("Unknown field(s): {}", fields.join(", ")),
        )
        .with_details(json!({ "fields": fields })),
        SettingsError::InvalidIpWhitelist(entries) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_IP_WHITELIST",
            "IP whitelist contains invalid CIDR blocks".into(),
        )
        .with_details(json!({ "invalidEntries": entries, "validFormat": VALID_IP_FORMAT })),
        SettingsError::Validation(fields) => err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            format!(
                "Invalid value for {}",
                fields
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_details(json!({
            "fields": fields.iter().map(|f| {
                let mut v = json!({ "field": f.field, "message": f.message });
                if let Some(allowed) = &f.allowed {
                    v["allowed"] = allowed.clone();
                }
                v
            }).collect::<Vec<_>>()
        })),
        SettingsError::PaymentMethodRequired => err(
            StatusCode::PAYMENT_REQUIRED,
            "PAYMENT_METHOD_REQUIRED",
            "Valid payment method required for auto-recharge".into(),
        )
        .with_details(json!({ "feature": "auto_recharge", "action": "add_payment_method" })),
        SettingsError::VersionConflict { current } => err(
            StatusCode::PRECONDITION_FAILED,
            "VERSION_CONFLICT",
            "The settings changed since you read them; re-read and retry".into(),
        )
        .with_details(json!({ "currentVersion": current })),
        SettingsError::BadPrecondition => err(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "If-Match must be an ETag returned by a settings read, or *".into(),
        )
        .with_details(json!({ "header": "If-Match" })),
        SettingsError::UnknownVersion(v) => err(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Version {v} not found"),
        ),
        SettingsError::Kernel(KernelError::InvalidCursor | KernelError::InvalidLimit { .. }) => {
            err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", e.to_string())
        }
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        other => ApiError::internal(DIALECT, &other),
    }
}

fn section_of(path: &web::Path<String>) -> Result<Section, ApiError> {
    Section::parse(path.as_str())
        .filter(|s| Section::ALL.contains(s))
        .ok_or_else(|| {
            ApiError::not_found(DIALECT, &format!("Settings section `{}`", path.as_str()))
        })
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SettingsError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(settings_error)
}

fn section_response(view: SectionView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, view.etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(view.document)
}

async fn get_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let view = blocking(move || settings.account_settings(&caller.0)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, view.versions.etag()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(view.render(&SecretView::Configured, &Section::ALL)))
}

async fn get_section(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let section = section_of(&path)?;
    let settings = state.settings.clone();
    Ok(section_response(
        blocking(move || settings.section(&caller.0, section)).await?,
    ))
}

async fn put_section(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(patch): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let section = section_of(&path)?;
    let if_match = if_match(&req);
    let settings = state.settings.clone();
    let view =
        blocking(move || settings.update_section(&caller.0, section, &patch, if_match.as_deref()))
            .await?;
    Ok(section_response(view))
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

async fn get_history(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let section = section_of(&path)?;
    if section == Section::Preferences {
        return Err(ApiError::not_found(
            DIALECT,
            "History of per-user preferences",
        ));
    }
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())
        .map_err(|e| settings_error(e.into()))?;
    let settings = state.settings.clone();
    let history = blocking(move || settings.history(&caller.0, section, &page)).await?;
    let mut body = json!({
        "section": section.as_str(),
        "history": history.items.iter().map(|h| json!({
            "version": h.version,
            "updated_at": h.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "updated_by": h.updated_by,
            "changes": h.changes,
        })).collect::<Vec<_>>(),
    });
    if let Some(next) = history.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rollback {
    version: i64,
}

async fn post_rollback(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<Rollback>,
) -> Result<HttpResponse, ApiError> {
    let section = section_of(&path)?;
    if section == Section::Preferences {
        return Err(ApiError::not_found(
            DIALECT,
            "History of per-user preferences",
        ));
    }
    let if_match = if_match(&req);
    let settings = state.settings.clone();
    let view =
        blocking(move || settings.rollback(&caller.0, section, body.version, if_match.as_deref()))
            .await?;
    Ok(section_response(view))
}
