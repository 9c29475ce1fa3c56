//! The user and organization API's organization half (`/api/settings*`, `/api/organization`, `/api/features*`,
//! `/api/tier`): snake_case inside a `{"data": ...}` envelope, errors as
//! `{"error": {"code", "message", "details"}}`.

use actix_web::{web, HttpResponse};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_billing::Tier;
use tenantry_settings::{AllowlistEntry, OrganizationSettings, SettingsError};

use super::codec;
use super::errors::{security_error, settings_error, SecurityRoutes, SettingsRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::{page_in_memory, PageQuery};
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/settings")
            .route(web::get().to(get_settings))
            .route(web::post().to(post_settings)),
    )
    .service(resource("/api/settings/all").route(web::get().to(get_all_settings)))
    .service(
        resource("/api/settings/ip-whitelist")
            .route(web::get().to(list_entries))
            .route(web::post().to(add_entry)),
    )
    .service(resource("/api/settings/ip-whitelist/status").route(web::get().to(allowlist_status)))
    .service(resource("/api/settings/ip-whitelist/toggle").route(web::post().to(toggle_allowlist)))
    .service(resource("/api/settings/ip-whitelist/{id}").route(web::delete().to(remove_entry)))
    .service(
        resource("/api/settings/log-retention")
            .route(web::get().to(get_retention))
            .route(web::put().to(put_retention)),
    )
    .service(
        resource("/api/session-timeout")
            .route(web::get().to(get_session_timeout))
            .route(web::put().to(put_session_timeout)),
    )
    .service(resource("/api/organization").route(web::get().to(get_organization)))
    .service(resource("/api/features").route(web::get().to(get_features)))
    .service(resource("/api/features/limits").route(web::get().to(get_limits)))
    .service(resource("/api/tier").route(web::get().to(get_tier)));
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SettingsError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| settings_error(SettingsRoutes::Organization, e))
}

fn data(v: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "data": v }))
}

fn now(state: &AppState) -> String {
    state.clock.now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn org_json(org: &OrganizationSettings) -> Value {
    json!({
        "default_timezone": org.default_timezone.as_str(),
        "require_sso": org.sso_required,
        "data_residency": org.data_residency,
    })
}

fn entry_json(e: &AllowlistEntry) -> Value {
    json!({ "id": e.id, "cidr": e.cidr, "label": e.label, "created_at": e.created_at.to_rfc3339_opts(SecondsFormat::Secs, true) })
}

async fn tier_of(
    state: &web::Data<AppState>,
    caller: &Authenticated,
) -> Result<(Tier, tenantry_security::AccountSummary), ApiError> {
    let provisioning = state.provisioning.clone();
    let account = caller.0.account_id;
    let summary = web::block(move || provisioning.account(account))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| security_error(SecurityRoutes::Organization, e))?
        .ok_or_else(|| ApiError::not_found(DIALECT, "Organization"))?;
    Ok((summary.tier.parse().unwrap_or(Tier::Free), summary))
}

async fn get_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let org = run(move || settings.organization_settings(&caller.0)).await?;
    Ok(data(org_json(&org)))
}

async fn post_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let org = run(move || {
        settings.update_organization_settings(&caller.0, codec::organization_update(&body))
    })
    .await?;
    let mut doc = org_json(&org);
    doc["updated_at"] = json!(now(&state));
    Ok(data(doc))
}

async fn get_all_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (tier, _) = tier_of(&state, &caller).await?;
    let settings = state.settings.clone();
    let org = run(move || settings.organization_settings(&caller.0)).await?;
    let mut doc = org_json(&org);
    let enabled = tier.features();
    doc["feature_flags"] = Value::Object(
        Tier::all_features()
            .iter()
            .map(|f| ((*f).to_owned(), json!(enabled.contains(f))))
            .collect(),
    );
    Ok(data(doc))
}

async fn list_entries(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let settings = state.settings.clone();
    let entries = run(move || settings.allowlist_entries(&caller.0)).await?;
    let entries = page_in_memory(
        entries,
        |e| (e.created_at.timestamp_micros(), e.id.clone()),
        &page,
    );
    let mut body = json!({ "data": entries.items.iter().map(entry_json).collect::<Vec<_>>() });
    if let Some(next) = entries.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEntry {
    cidr: String,
    label: Option<String>,
}

async fn add_entry(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let entry =
        run(move || settings.add_allowlist_entry(&caller.0, &body.cidr, body.label.as_deref()))
            .await?;
    Ok(HttpResponse::Created().json(json!({ "data": entry_json(&entry) })))
}

async fn remove_entry(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let id = path.into_inner();
    run(move || settings.remove_allowlist_entry(&caller.0, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn allowlist_status(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let last = state.allowlist.last_evaluated(caller.0.account_id);
    let view = run(move || settings.account_settings(&caller.0)).await?;
    Ok(data(json!({
        "enabled": view.security.ip_allowlist_enforced,
        // Enforced on the API; Tenantry serves no UI of its own.
        "applies_to": ["api"],
        "entry_count": view.allowlist.len(),
        "last_evaluated_at": last.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Toggle {
    enabled: bool,
    /// Accepted for older clients and ignored: nothing overrides the lockout guard.
    #[serde(default, rename = "confirm_lockout")]
    _confirm_lockout: bool,
}

async fn toggle_allowlist(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Toggle>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let enabled = run(move || settings.toggle_allowlist(&caller.0, body.enabled)).await?;
    Ok(data(
        json!({ "enabled": enabled, "updated_at": now(&state) }),
    ))
}

async fn get_retention(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let r = run(move || settings.log_retention(&caller.0)).await?;
    Ok(data(
        json!({ "run_logs_days": r.run_logs_days, "audit_logs_days": r.audit_logs_days, "diagnostic_artifacts_days": r.diagnostic_artifacts_days }),
    ))
}

async fn put_retention(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let r =
        run(move || settings.update_log_retention(&caller.0, codec::log_retention_update(&body)))
            .await?;
    Ok(data(
        json!({ "run_logs_days": r.run_logs_days, "audit_logs_days": r.audit_logs_days, "diagnostic_artifacts_days": r.diagnostic_artifacts_days, "updated_at": now(&state) }),
    ))
}

async fn get_organization(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (tier, account) = tier_of(&state, &caller).await?;
    Ok(data(json!({
        "id": account.id.to_string(),
        "name": account.display_name,
        "slug": account.name.as_str(),
        "plan": tier.as_str(),
        "created_at": account.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    })))
}

async fn get_features(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (tier, _) = tier_of(&state, &caller).await?;
    Ok(data(json!({ "features": tier.features() })))
}

async fn get_limits(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (tier, _) = tier_of(&state, &caller).await?;
    let settings = state.settings.clone();
    let account = caller.0.account_id;
    let (tenant, max_api_keys) = run(move || {
        let tenant = settings.tenant_settings(&caller.0, account)?;
        let max_api_keys = settings.account_settings(&caller.0)?.security.max_api_keys;
        Ok((tenant, max_api_keys))
    })
    .await?;
    Ok(data(json!({
        "max_users_per_organization": tenant.features.max_users_per_organization,
        "max_organizations": tenant.features.max_organizations,
        "max_api_keys_per_user": max_api_keys,
        "max_audit_retention_days": tier.limits().max_audit_retention_days,
    })))
}

async fn get_tier(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (tier, _) = tier_of(&state, &caller).await?;
    // Billing period and renewal belong to the billing system, which Tenantry does not track.
    Ok(data(
        json!({ "tier": tier.as_str(), "billing_period": null, "renewal_date": null }),
    ))
}

fn session_json(t: &tenantry_settings::org_settings::SessionTimeout) -> Value {
    json!({
        "idle_timeout_minutes": t.idle_timeout_minutes.map_or(0, |m| m.get()),
        "absolute_timeout_minutes": t.absolute_timeout_minutes,
        "extend_on_activity": t.extend_on_activity,
    })
}

async fn get_session_timeout(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let t = run(move || settings.session_timeout(&caller.0)).await?;
    Ok(data(session_json(&t)))
}

async fn put_session_timeout(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let t = run(move || {
        settings.update_session_timeout(&caller.0, codec::session_timeout_update(&body))
    })
    .await?;
    let mut doc = session_json(&t);
    doc["updated_at"] = json!(now(&state));
    Ok(data(doc))
}
