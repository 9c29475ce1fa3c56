//! Seed 05, `/tenants/{id}/settings`: camelCase, RFC 7396 merge-PATCH, RFC 9457 problem+json
//! errors. The id is the account's UUID form.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use tenantry_kernel::AccountId;
use tenantry_settings::tenant::TenantView;
use tenantry_settings::SettingsError;

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Tenant;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tenants/{id}/settings")
            .route(web::get().to(get_settings))
            .route(web::patch().to(patch_settings))
            .default_service(web::to(method_not_allowed)),
    );
}

fn not_found() -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Tenant not found",
    )
}

fn tenant_id(path: &web::Path<String>) -> Result<AccountId, ApiError> {
    AccountId::from_uuid_str(path.as_str()).map_err(|_| not_found())
}

/// Seed 05's errors: validation problems are 400 with every failing field in `errors`.
fn tenant_error(e: SettingsError) -> ApiError {
    let validation = |detail: String, errors: Value| {
        ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", detail)
            .with_details(json!({ "fields": errors }))
    };
    match e {
        SettingsError::UnknownTenant => not_found(),
        SettingsError::Validation(fields) => {
            let detail = fields.first().map_or_else(|| "Invalid settings".to_owned(), |f| f.message.clone());
            validation(detail, json!(fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>()))
        }
        SettingsError::UnknownFields(fields) => validation(
            format!("Unknown setting(s): {}", fields.join(", ")),
            json!(fields.iter().map(|f| json!({ "field": f, "message": "is not a tenant setting" })).collect::<Vec<_>>()),
        ),
        SettingsError::InvalidIpWhitelist(entries) => validation(
            "allowedIpRanges must contain IP addresses or CIDR blocks".into(),
            json!(entries.iter().map(|e| json!({ "field": "security.allowedIpRanges", "message": format!("`{e}` is not an IP address or CIDR block") })).collect::<Vec<_>>()),
        ),
        SettingsError::Forbidden { required, current, .. } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("Changing tenant settings requires the {required} role; you are {current}"),
        ),
        SettingsError::WouldLockOut { address } => ApiError::new(
            DIALECT,
            StatusCode::CONFLICT,
            "WOULD_LOCK_OUT",
            format!("allowedIpRanges would refuse your own address {address}"),
        )
        .with_details(json!({ "address": address })),
        SettingsError::PreconditionFailed { header, etag } => ApiError::new(
            DIALECT,
            StatusCode::PRECONDITION_FAILED,
            "VERSION_CONFLICT",
            format!("The {header} precondition failed: the settings are now {etag}; read them again"),
        )
        .with_details(json!({ "fields": [{ "field": header, "message": format!("the current ETag is {etag}") }] })),
        // Only invalid syntax: a well-formed tag the server never issued fails the condition.
        SettingsError::BadPrecondition => validation(
            "If-Match and If-None-Match must be * or a list of quoted ETags".into(),
            json!([{ "field": "If-Match", "message": "must be * or a list of quoted ETags" }]),
        ),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        other => ApiError::internal(DIALECT, &other),
    }
}

/// The document with the ETag a later `PATCH` sends back in `If-Match`.
async fn blocking(
    f: impl FnOnce() -> Result<TenantView, SettingsError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let view = web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(tenant_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, view.etag))
        .json(view.document))
}

async fn get_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tenant = tenant_id(&path)?;
    let settings = state.settings.clone();
    blocking(move || settings.tenant_settings_view(&caller.0, tenant)).await
}

async fn patch_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(patch): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let tenant = tenant_id(&path)?;
    let preconditions = crate::preconditions::of(&req).map_err(tenant_error)?;
    let settings = state.settings.clone();
    blocking(move || settings.patch_tenant_settings(&caller.0, tenant, &patch, &preconditions))
        .await
}
