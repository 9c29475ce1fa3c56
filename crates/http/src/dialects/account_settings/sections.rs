//! `/v2/accounts/settings...`: the sections, their schema, history, export, import and the
//! notification test, in snake_case.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_settings::{
    MergeStrategy, Section, SectionView, SettingsError, TestChannel, TestRequest,
};

use super::errors::settings_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::PageQuery;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/accounts/settings")
            .route(web::get().to(get_settings))
            .default_service(web::to(method_not_allowed)),
    )
    // Registered before `{section}`, which would otherwise match these paths.
    .service(
        web::resource("/v2/accounts/settings/notifications/test")
            .route(web::post().to(post_notification_test))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/export")
            .route(web::get().to(get_export))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/import")
            .route(web::post().to(post_import))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/v2/accounts/settings/schema/{section}")
            .route(web::get().to(get_schema))
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

fn section_of(path: &web::Path<String>) -> Result<Section, ApiError> {
    Section::parse(path.as_str())
        .filter(|s| Section::ALL.contains(s))
        .ok_or_else(|| {
            ApiError::not_found(DIALECT, &format!("Settings section `{}`", path.as_str()))
        })
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
    // Rendered once and shared while nothing changes; the store only on a miss.
    let document = match state
        .settings
        .account_settings_document_in_memory(&caller.0)
    {
        Some(document) => document,
        None => {
            let settings = state.settings.clone();
            blocking(move || settings.account_settings_document(&caller.0)).await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, document.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type(header::ContentType::json())
        .body(document.body.clone()))
}

/// The JSON Schema of a section's document (what PUT and import accept).
async fn get_schema(
    _caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let section = section_of(&path)?;
    Ok(HttpResponse::Ok()
        .content_type("application/schema+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(tenantry_settings::schema::section_schema(section).to_string()))
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
    let preconditions = crate::preconditions::of(&req).map_err(settings_error)?;
    let settings = state.settings.clone();
    let view =
        blocking(move || settings.update_section_if(&caller.0, section, &patch, &preconditions))
            .await?;
    Ok(section_response(view))
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
    let page = query.parse(DIALECT)?;
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
    let preconditions = crate::preconditions::of(&req).map_err(settings_error)?;
    let settings = state.settings.clone();
    let view =
        blocking(move || settings.rollback(&caller.0, section, body.version, &preconditions))
            .await?;
    Ok(section_response(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: Option<String>,
    include_secrets: Option<String>,
    sections: Option<String>,
}

fn query_error(field: &str, message: &str) -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        format!("Invalid value for {field}"),
    )
    .with_details(json!({ "fields": [{ "field": field, "message": message }] }))
}

/// The settings of `sections=` (comma-separated); all of the account settings API's sections when absent.
fn sections_param(raw: Option<&str>) -> Result<Vec<Section>, ApiError> {
    Section::parse_export_list(raw).map_err(|_| {
        query_error("sections", "must be a comma-separated list of: notifications, billing, security, integrations, preferences")
    })
}

async fn get_export(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = match query.format.as_deref().unwrap_or("json") {
        "json" => "json",
        "yaml" => "yaml",
        _ => return Err(query_error("format", "must be one of: json, yaml")),
    };
    let include_secrets = match query.include_secrets.as_deref().unwrap_or("false") {
        "true" => true,
        "false" => false,
        _ => return Err(query_error("include_secrets", "must be true or false")),
    };
    let sections = sections_param(query.sections.as_deref())?;
    let settings = state.settings.clone();
    let envelope =
        blocking(move || settings.export_envelope(&caller.0, include_secrets, &sections, format))
            .await?;
    let mut res = HttpResponse::Ok();
    // An export with secrets must never sit in a shared cache.
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if format == "yaml" {
        let text = yaml_serde::to_string(&envelope).map_err(|e| ApiError::internal(DIALECT, &e))?;
        Ok(res.content_type("application/yaml").body(text))
    } else {
        Ok(res.json(envelope))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportRequest {
    /// The sections to import; or `export`, the export document as `GET .../export` gave it.
    #[serde(default)]
    settings: Option<Value>,
    #[serde(default)]
    export: Option<ExportDocument>,
    #[serde(default)]
    merge_strategy: Option<String>,
    #[serde(default)]
    validate_only: Option<bool>,
}

/// The export envelope, accepted back by import as it is: only its `settings` are imported;
/// the rest describes the export and is ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportDocument {
    settings: Value,
    #[serde(default, rename = "timestamp")]
    _timestamp: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "format")]
    _format: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "include_secrets")]
    _include_secrets: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "metadata")]
    _metadata: Option<serde::de::IgnoredAny>,
}

/// The import's authorization comes before anything else about it is judged: it needs the
/// write role of each section it names (the service's rule, `Section::required_role`), so those
/// are checked first. A body that cannot be read names none: it is judged as an import of every
/// section, and only a caller who may write them all is told what is wrong with it (a viewer's
/// unreadable import is a 403 like its import of billing, never a 400 or 422).
async fn post_import(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: Result<crate::json_body::RawBody, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let request = match body.and_then(|body| import_request(&body)) {
        Ok(request) => request,
        Err(unreadable) => {
            let needed = Section::ALL
                .map(Section::required_role)
                .into_iter()
                .fold(tenantry_kernel::Role::Viewer, Ord::max);
            if caller.0.role < needed {
                let mut refusal = crate::route_roles::refusal(DIALECT, needed, caller.0.role);
                refusal.message = format!(
                    "An import needs the role of each section it names; one that cannot be read is judged as naming them all ({needed} role)"
                );
                return Err(refusal);
            }
            return Err(unreadable);
        }
    };
    if let Some(named) = request.settings.as_object() {
        for section in named.keys().map(String::as_str).filter_map(Section::parse) {
            if Section::ALL.contains(&section) && caller.0.role < section.required_role() {
                return Err(settings_error(SettingsError::Forbidden {
                    section: section.as_str(),
                    required: section.required_role(),
                    current: caller.0.role,
                }));
            }
        }
    }
    let strategy = match request.merge_strategy.as_deref().unwrap_or("merge") {
        "merge" => MergeStrategy::Merge,
        "overwrite" => MergeStrategy::Overwrite,
        _ => {
            return Err(query_error(
                "merge_strategy",
                "must be one of: merge, overwrite",
            ))
        }
    };
    let validate_only = request.validate_only.unwrap_or(false);
    let settings = state.settings.clone();
    let outcome =
        blocking(move || settings.import(&caller.0, &request.settings, strategy, validate_only))
            .await?;
    let mut sections = serde_json::Map::new();
    for s in &outcome.sections {
        let mut entry = json!({ "changes": s.changes });
        if let Some(v) = s.version {
            entry["version"] = json!(v);
        }
        sections.insert(s.section.as_str().to_owned(), entry);
    }
    Ok(HttpResponse::Ok().json(json!({
        "import": {
            "validate_only": outcome.validate_only,
            "merge_strategy": match strategy { MergeStrategy::Merge => "merge", MergeStrategy::Overwrite => "overwrite" },
            "applied": !outcome.validate_only,
            "sections": sections,
            "warnings": outcome.unset_secrets.iter().map(|path| json!({
                "field": path,
                "message": "The document shows this secret only as configured, and this account has none to keep: left unset, and what uses it switched off until it is set",
            })).collect::<Vec<_>>(),
        }
    })))
}

/// An import as the service takes it: the sections, whichever form the body sent them in.
struct Import {
    settings: Value,
    merge_strategy: Option<String>,
    validate_only: Option<bool>,
}

/// The import body as JSON or YAML: `settings`, or the `export` document as it was exported.
fn import_request(body: &crate::json_body::RawBody) -> Result<Import, ApiError> {
    let request = import_body(body)?;
    let settings = match (request.settings, request.export) {
        (Some(settings), None) => settings,
        (None, Some(export)) => export.settings,
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                DIALECT,
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "Send either `settings` or the `export` document, not both",
            ))
        }
        (None, None) => {
            return Err(settings_error(SettingsError::Validation(vec![
                tenantry_settings::FieldError {
                    field: "settings".into(),
                    message:
                        "is required: the sections to import, or the export document as `export`"
                            .into(),
                    allowed: None,
                },
            ])))
        }
    };
    Ok(Import {
        settings,
        merge_strategy: request.merge_strategy,
        validate_only: request.validate_only,
    })
}

fn import_body(body: &crate::json_body::RawBody) -> Result<ImportRequest, ApiError> {
    use crate::json_body::{is_json, is_yaml, parse_error, parse_json, reject_duplicate_yaml_keys};
    let request: ImportRequest = match body.media_type.as_deref() {
        None => parse_json(DIALECT, &body.bytes)?,
        Some(m) if is_json(m) => parse_json(DIALECT, &body.bytes)?,
        Some(m) if is_yaml(m) => {
            let text = std::str::from_utf8(&body.bytes).map_err(|_| {
                ApiError::new(
                    DIALECT,
                    StatusCode::BAD_REQUEST,
                    "INVALID_YAML",
                    "The body is not UTF-8",
                )
            })?;
            reject_duplicate_yaml_keys(DIALECT, text)?;
            // Through a JSON value so the same unknown-field and type rules apply to both forms.
            let value: Value = yaml_serde::from_str(text).map_err(|e| {
                ApiError::new(
                    DIALECT,
                    StatusCode::BAD_REQUEST,
                    "INVALID_YAML",
                    format!("Malformed YAML: {e}"),
                )
            })?;
            serde_json::from_value(value).map_err(|e| parse_error(DIALECT, &e, None))?
        }
        Some(_) => {
            return Err(ApiError::new(
                DIALECT,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Send the import as application/json or application/yaml",
            ))
        }
    };
    Ok(request)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationTest {
    #[serde(rename = "type")]
    kind: String,
    webhook_url: Option<String>,
    channel: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    email: Option<String>,
}

async fn post_notification_test(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<NotificationTest>,
) -> Result<HttpResponse, ApiError> {
    let channel = match body.kind.as_str() {
        "email" => TestChannel::Email,
        "slack" => TestChannel::Slack,
        "webhook" => TestChannel::Webhook,
        _ => return Err(query_error("type", "must be one of: email, slack, webhook")),
    };
    let request = TestRequest {
        webhook_url: body.webhook_url,
        channel: body.channel,
        url: body.url,
        secret: body.secret,
        email: body.email,
    };
    let settings = state.settings.clone();
    let outcome =
        blocking(move || settings.test_notification(&caller.0, channel, &request)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "test": {
            "type": outcome.channel.as_str(),
            "status": "success",
            "message": "Test notification sent successfully",
            "timestamp": state.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "response": outcome.response,
        }
    })))
}
