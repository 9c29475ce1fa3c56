//! Seed 01, `/v2/accounts/settings`: snake_case, flat `{"error", "message", "details"}` errors.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tenantry_settings::{AccountSettings, MfaMethod, SettingsError};

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

/// What a stored secret reads as: its presence is visible, its value never.
const REDACTED: &str = "********";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/accounts/settings")
            .route(web::get().to(get_settings))
            .default_service(web::to(method_not_allowed)),
    );
}

fn settings_error(e: SettingsError) -> ApiError {
    match e {
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        other => ApiError::internal(DIALECT, &other),
    }
}

async fn get_settings(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let view = web::block(move || settings.account_settings(&caller.0))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(settings_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, view.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(render(&view)))
}

/// A duration in seed 01's hours: an integer when whole, else the exact fraction (90 minutes
/// reads as 1.5).
fn hours(minutes: u32) -> Value {
    if minutes % 60 == 0 {
        json!(minutes / 60)
    } else {
        json!(f64::from(minutes) / 60.0)
    }
}

fn redacted(sealed: &Option<String>) -> Value {
    match sealed {
        Some(_) => json!(REDACTED),
        None => Value::Null,
    }
}

/// The seed 01 document. Written out field by field so the public shape is visible in one place
/// and cannot drift with the domain types' serde attributes.
pub(crate) fn render(v: &AccountSettings) -> Value {
    let n = &v.notifications;
    let b = &v.billing;
    let s = &v.security;
    let i = &v.integrations;
    let p = &v.preferences;
    json!({
        "notifications": {
            "email": {
                "enabled": n.email.enabled,
                "alerts": {
                    "cost_alerts": n.email.alerts.cost_alerts,
                    "usage_warnings": n.email.alerts.usage_warnings,
                    "security_notifications": n.email.alerts.security_notifications,
                    "system_updates": n.email.alerts.system_updates,
                    "marketing_emails": n.email.alerts.marketing_emails,
                },
                "frequency": n.email.frequency,
                "email": n.email.email,
            },
            "slack": {
                "enabled": n.slack.enabled,
                "webhook_url": n.slack.webhook_url,
                "channel": n.slack.channel,
                "alerts": {
                    "endpoint_failures": n.slack.alerts.endpoint_failures,
                    "cost_thresholds": n.slack.alerts.cost_thresholds,
                    "cluster_events": n.slack.alerts.cluster_events,
                },
            },
            "webhook": {
                "enabled": n.webhook.enabled,
                "url": n.webhook.url,
                "events": n.webhook.events,
                "secret": redacted(&n.webhook.secret_sealed),
            },
        },
        "billing": {
            "currency": b.currency,
            "timezone": b.timezone,
            "payment_method": b.payment_method.as_ref().map(|pm| json!({
                "type": pm.kind,
                "last_four": pm.last_four,
                "expires": pm.expires,
                "brand": pm.brand,
            })),
            "billing_address": {
                "name": b.billing_address.name,
                "company": b.billing_address.company,
                "address": b.billing_address.address,
                "city": b.billing_address.city,
                "state": b.billing_address.state,
                "zip": b.billing_address.zip,
                "country": b.billing_address.country,
            },
            "auto_recharge": {
                "enabled": b.auto_recharge.enabled,
                "threshold": b.auto_recharge.threshold,
                "amount": b.auto_recharge.amount,
            },
            "cost_alerts": b.cost_alerts.iter().map(|a| json!({
                "threshold": a.threshold,
                "period": a.period,
                "enabled": a.enabled,
            })).collect::<Vec<_>>(),
        },
        "security": {
            "two_factor": {
                "enabled": s.mfa_required,
                "method": match s.mfa_method { MfaMethod::Totp => "totp", MfaMethod::Sms => "sms" },
                "backup_codes": v.unused_backup_codes,
            },
            "api_access": {
                "ip_whitelist": v.allowlist,
                "require_ip_whitelist": s.ip_allowlist_enforced,
                "max_api_keys": s.max_api_keys,
            },
            "session": {
                "timeout": hours(s.absolute_session_minutes),
                "require_reauth_for_sensitive": s.reauth_for_sensitive,
                "concurrent_sessions": s.concurrent_sessions,
            },
            "audit": {
                "log_api_requests": s.log_api_requests,
                "log_resource_access": s.log_resource_access,
                "retention_days": s.audit_retention_days,
            },
        },
        "integrations": {
            "github": {
                "enabled": i.github.enabled,
                "username": i.github.username,
                "repositories": i.github.repositories,
            },
            "docker": {
                "enabled": i.docker.enabled,
                "registries": i.docker.registries.iter().map(|r| json!({
                    "url": r.url,
                    "username": r.username,
                })).collect::<Vec<_>>(),
            },
            "monitoring": {
                "datadog": {
                    "enabled": i.monitoring.datadog.enabled,
                    "api_key": redacted(&i.monitoring.datadog.api_key_sealed),
                },
                "grafana": {
                    "enabled": i.monitoring.grafana.enabled,
                    "url": i.monitoring.grafana.url,
                    "dashboard_id": i.monitoring.grafana.dashboard_id,
                },
            },
        },
        "preferences": {
            "timezone": p.timezone.clone().unwrap_or_else(|| v.organization.default_timezone.clone()),
            "language": p.language,
            "theme": p.theme,
            "date_format": p.date_format,
            "number_format": p.number_format,
            "default_region": p.default_region,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_timeout_reads_in_hours_exactly() {
        assert_eq!(hours(1440), json!(24));
        assert_eq!(hours(90), json!(1.5));
        assert_eq!(hours(60), json!(1));
    }

    #[test]
    fn secrets_render_redacted_or_null() {
        assert_eq!(redacted(&None), Value::Null);
        assert_eq!(redacted(&Some("sealed:abc".into())), json!(REDACTED));
    }
}
