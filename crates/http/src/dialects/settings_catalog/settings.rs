//! The settings catalog API, `/accounts/{accountName}/settings/{settingName}`: the catalog API's camelCase and its
//! `[{"errorCode", "errorMessage"}]` errors: the catalog, `SECURITY_PREFERENCES`, the
//! notification settings (channels and rules of the one engine) and the telemetry webhook test.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_settings::{
    merge_patch, CatalogDocument, CatalogSetting, CatalogWrite, SettingsError, UrlCheck,
};

use super::codec::parse_catalog;
use super::errors::catalog_error;
use super::security_preferences::{self, PreferencesWriteMode};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::{parse_json, JsonBody, RawBody};
use crate::AppState;

const DIALECT: Dialect = Dialect::Catalog;
const SECURITY_PREFERENCES: &str = "SECURITY_PREFERENCES";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    let setting = |resource: actix_web::Resource| {
        resource
            .route(web::get().to(get_setting))
            .route(web::post().to(create_setting))
            .route(web::put().to(replace_setting))
            .route(web::patch().to(patch_setting))
            .route(web::delete().to(delete_setting))
    };
    // The catalog's clients put the version in the path: every route is also served at `/v1`
    // (spelled out, so a search for a path finds where it is served).
    cfg.service(resource("/accounts/{account_name}/settings/").route(web::get().to(catalog)))
        .service(resource("/v1/accounts/{account_name}/settings/").route(web::get().to(catalog)))
        .service(resource("/accounts/{account_name}/settings").route(web::get().to(catalog)))
        .service(resource("/v1/accounts/{account_name}/settings").route(web::get().to(catalog)))
        .service(
            resource("/accounts/{account_name}/settings/PUSH_NOTIFICATIONS/availableChannels")
                .route(web::get().to(available_channels)),
        )
        .service(
            resource("/v1/accounts/{account_name}/settings/PUSH_NOTIFICATIONS/availableChannels")
                .route(web::get().to(available_channels)),
        )
        .service(
            resource("/accounts/{account_name}/telemetryWebhook/test")
                .route(web::post().to(telemetry_test)),
        )
        .service(
            resource("/v1/accounts/{account_name}/telemetryWebhook/test")
                .route(web::post().to(telemetry_test)),
        )
        .service(setting(resource(
            "/accounts/{account_name}/settings/{setting_name}",
        )))
        .service(setting(resource(
            "/v1/accounts/{account_name}/settings/{setting_name}",
        )));
}

/// What a setting name names: the security preferences, a notification setting, or nothing.
enum Named {
    SecurityPreferences,
    Notification(CatalogSetting),
}

fn setting(name: &str) -> Result<Named, ApiError> {
    if name == SECURITY_PREFERENCES {
        return Ok(Named::SecurityPreferences);
    }
    CatalogSetting::parse(name)
        .map(Named::Notification)
        .ok_or_else(|| {
            ApiError::new(
                DIALECT,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("The setting {name} does not exist"),
            )
        })
}

async fn respond(
    f: impl FnOnce() -> Result<Value, SettingsError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let doc = web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(catalog_error)?;
    Ok(HttpResponse::Ok().json(doc))
}

async fn catalog(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let settings = state.settings.clone();
    respond(move || {
        let items = settings.catalog_items(&caller.0, &account)?;
        Ok(json!({
            "accountSettingsCatalogItems": items.iter().map(|(name, display)| json!({
                "displayName": display,
                "uri": format!("/accounts/{account}/settings/{name}"),
            })).collect::<Vec<_>>()
        }))
    })
    .await
}

async fn available_channels(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let settings = state.settings.clone();
    respond(move || {
        let channels = settings.available_push_channels(&caller.0, &account)?;
        Ok(json!({
            "availableChannels": channels.iter().map(|(id, name, parent, order)| {
                let mut c = json!({ "id": id, "name": name, "parentId": parent, "displayOrder": order });
                if *id == "DOMAIN_CHANGES" {
                    c["testEventPayload"] = json!(json!({
                        "objectType": "ZONE", "changeType": "DELETE",
                        "object": "udns-telemetry-test.invalid.", "user": "test-user",
                        "account": account, "changeComment": "Test telemetry event",
                    }).to_string());
                }
                c
            }).collect::<Vec<_>>()
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TelemetryQuery {
    telemetry_event_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TelemetryTestBody {
    url: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The test call (body with `url`), or, with `?telemetryEventId=`, the verify call.
async fn telemetry_test(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    query: web::Query<TelemetryQuery>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let settings = state.settings.clone();
    if let Some(id) = query.into_inner().telemetry_event_id {
        return respond(move || {
            let test = settings.telemetry_verify(&caller.0, &account, &id)?;
            Ok(json!({
                "telemetryEventId": test.id,
                "url": test.url,
                "verified": true,
                "responseCode": test.response_code,
            }))
        })
        .await;
    }
    // Like every body: broken JSON 40001, a field the DTO lacks 40002, a missing `url` 42201.
    let body: TelemetryTestBody = parse_json(DIALECT, &body.bytes)?;
    if body
        .kind
        .as_deref()
        .is_some_and(|k| k != "TEST_TELEMETRY_WEBHOOK")
    {
        return Err(catalog_error(SettingsError::Validation(vec![
            tenantry_settings::FieldError {
                field: "type".into(),
                message: "must be TEST_TELEMETRY_WEBHOOK".into(),
                allowed: None,
            },
        ])));
    }
    respond(move || {
        settings
            .telemetry_test(&caller.0, &account, &body.url)
            .map(|event| event.payload())
    })
    .await
}

async fn get_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    let settings = state.settings.clone();
    match setting(&name)? {
        Named::SecurityPreferences => {
            respond(move || {
                settings
                    .security_preferences(&caller.0, &account)
                    .map(|policy| security_preferences::render(&policy))
            })
            .await
        }
        Named::Notification(s) => {
            respond(move || {
                settings
                    .catalog_setting(&caller.0, &account, s)
                    .map(|doc| doc.render(s))
            })
            .await
        }
    }
}

async fn write(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    body: Value,
    mode: CatalogWrite,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    let settings = state.settings.clone();
    let s = match setting(&name)? {
        Named::SecurityPreferences => {
            let mode = if mode == CatalogWrite::Patch {
                PreferencesWriteMode::Partial
            } else {
                PreferencesWriteMode::Replace
            };
            return respond(move || {
                settings
                    .set_security_preferences(&caller.0, &account, &|current| {
                        security_preferences::apply(&body, current, mode)
                    })
                    .map(|policy| security_preferences::render(&policy))
            })
            .await;
        }
        Named::Notification(s) => s,
    };
    // POST and PUT read the body as the whole DTO (POST: SERVICE_NOTIFICATION then needs
    // exactly one address); PATCH merges it onto the stored DTO as this API shows it first.
    let change = move |stored: Option<&CatalogDocument>, check_url: UrlCheck<'_>| match stored {
        Some(stored) => {
            let mut merged = stored.render(s);
            merge_patch(&mut merged, &body);
            parse_catalog(s, &merged, false, check_url)
        }
        None => parse_catalog(s, &body, mode == CatalogWrite::Create, check_url),
    };
    let doc = web::block(move || {
        settings
            .write_catalog_setting(&caller.0, &account, s, mode, &change)
            .map(|doc| doc.render(s))
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))?
    .map_err(catalog_error)?;
    let (status, verb) = match mode {
        // The settings catalog API answers 200 to the creation of push notifications, 201 to the others.
        CatalogWrite::Create if s != CatalogSetting::Push => (StatusCode::CREATED, "created"),
        CatalogWrite::Create => (StatusCode::OK, "created"),
        _ => (StatusCode::OK, "updated"),
    };
    Ok(HttpResponse::build(status).json(json!({
        "message": format!("{} {verb}", s.name()),
        "settingName": s.name(),
        "setting": doc,
    })))
}

async fn create_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    write(state, caller, path, body, CatalogWrite::Create).await
}

async fn replace_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    write(state, caller, path, body, CatalogWrite::Replace).await
}

async fn patch_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    write(state, caller, path, body, CatalogWrite::Patch).await
}

async fn delete_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    let settings = state.settings.clone();
    match setting(&name)? {
        Named::Notification(s) => {
            web::block(move || settings.delete_catalog_setting(&caller.0, &account, s))
                .await
                .map_err(|e| ApiError::internal(DIALECT, &e))?
                .map_err(catalog_error)?;
            Ok(HttpResponse::NoContent().finish())
        }
        Named::SecurityPreferences => {
            // Check the account and role first, so a foreign account still reads as not found.
            web::block(move || settings.security_preferences(&caller.0, &account))
                .await
                .map_err(|e| ApiError::internal(DIALECT, &e))?
                .map_err(catalog_error)?;
            Err(ApiError::new(
                DIALECT,
                StatusCode::BAD_REQUEST,
                "SETTING_NOT_DELETABLE",
                "Account-Level Security Preferences cannot be deleted; set all the values to 0 to disable them",
            ))
        }
    }
}
