//! `/tenants/{id}/settings`: the one tenant document, read and merge-patched. The id is the
//! account's UUID form.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use tenantry_billing::Limits;
use tenantry_kernel::AccountId;
use tenantry_settings::tenant::{TenantChange, TenantSettings, TenantView};
use tenantry_settings::SettingsError;

use super::codec;
use super::errors::{not_found, tenant_error};
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

fn tenant_id(path: &web::Path<String>) -> Result<AccountId, ApiError> {
    AccountId::from_uuid_str(path.as_str()).map_err(|_| not_found())
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
        .json(codec::render(&view.settings)))
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
    blocking(move || {
        // A body that is no merge patch is refused by the service, after authorization.
        let patch = codec::merge_patch(patch);
        let change = |current: &TenantSettings, limits: Limits| match &patch {
            Ok(patch) => codec::apply(current, limits, patch),
            Err(e) => Err(e.clone()),
        };
        let change: TenantChange<'_> = &change;
        settings.patch_tenant_settings(
            &caller.0,
            tenant,
            patch.as_ref().map(|_| change).map_err(Clone::clone),
            &preconditions,
        )
    })
    .await
}
