//! `POST /v2/accounts/usage` (seed 01's dialect, snake_case): host-reported usage and cost,
//! which feeds seed 01's `cost_alerts` and `auto_recharge` (decision 0008).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenantry_billing::Money;
use tenantry_settings::{period_name, CheckKind, SettingsError, UsageRecord};

use super::errors::settings_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v2/accounts/usage")
            .route(web::post().to(record))
            .default_service(web::to(method_not_allowed)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    records: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: String,
    cost: serde_json::Number,
    balance: Option<serde_json::Number>,
    occurred_at: Option<String>,
}

fn invalid(message: String) -> ApiError {
    settings_error(SettingsError::Validation(vec![
        tenantry_settings::FieldError {
            field: "records".into(),
            message,
            allowed: None,
        },
    ]))
}

async fn record(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Batch>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let records = body
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let occurred_at = match r.occurred_at.as_deref() {
                None => now,
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map_err(|e| {
                        invalid(format!("records[{i}].occurred_at must be RFC 3339: {e}"))
                    })?
                    .with_timezone(&Utc),
            };
            // Amounts are read from the number's own digits: exact, never through a float.
            let amount = |n: &serde_json::Number, field: &str| {
                Money::parse(&n.to_string())
                    .map_err(|e| invalid(format!("records[{i}].{field} {e}")))
            };
            Ok(UsageRecord {
                id: r.id,
                cost: amount(&r.cost, "cost")?,
                balance: r
                    .balance
                    .as_ref()
                    .map(|b| amount(b, "balance"))
                    .transpose()?,
                occurred_at,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let settings = state.settings.clone();
    let usage = state.usage.clone();
    let outcome = web::block(move || settings.record_usage(&caller.0, &records, usage.as_ref()))
        .await
        .map_err(|e| ApiError::internal(Dialect::V2, &e))?
        .map_err(settings_error)?;
    Ok(HttpResponse::Ok().json(json!({
        "recorded": outcome.recorded,
        "duplicates": outcome.duplicates,
        "alerts_fired": outcome.fired.iter().map(|(c, total)| json!({
            "type": match c.kind {
                CheckKind::Exceeded => "cost.threshold_exceeded",
                CheckKind::Warning => "cost.budget_warning",
            },
            "threshold": c.threshold,
            "period": period_name(c.period),
            "period_start": c.period_start.to_rfc3339(),
            "total": total,
        })).collect::<Vec<_>>(),
        "auto_recharge_requested": outcome.recharge_requested.map(|amount| json!({ "amount": amount })),
    })))
}
