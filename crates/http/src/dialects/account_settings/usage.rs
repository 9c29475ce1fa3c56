//! `POST /v2/accounts/usage` (the account settings API, snake_case): host-reported usage and cost,
//! which feeds the billing section's `cost_alerts` and `auto_recharge` (decision 0008).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenantry_billing::{BillingError, CheckKind, Money, UsageOutcome, UsageRecord};

use super::errors::billing_error;
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

/// A record the handler cannot read answers as one the service refuses.
fn invalid(message: String) -> ApiError {
    billing_error(BillingError::InvalidRecords(message))
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
    let billing = state.billing.clone();
    let outcome = web::block(move || billing.record_usage(&caller.0, &records))
        .await
        .map_err(|e| ApiError::internal(Dialect::V2, &e))?
        .map_err(billing_error)?;
    Ok(HttpResponse::Ok().json(render(&outcome)))
}

/// The outcome in this API's shape: alerts by their event names, amounts as JSON numbers.
fn render(outcome: &UsageOutcome) -> serde_json::Value {
    json!({
        "recorded": outcome.recorded,
        "duplicates": outcome.duplicates,
        "alerts_fired": outcome.fired.iter().map(|fired| json!({
            "type": match fired.check.kind {
                CheckKind::Exceeded => "cost.threshold_exceeded",
                CheckKind::Warning => "cost.budget_warning",
            },
            "threshold": fired.check.threshold,
            "period": fired.check.period.as_str(),
            "period_start": fired.check.period_start.to_rfc3339(),
            "total": fired.total,
        })).collect::<Vec<_>>(),
        "auto_recharge_requested": outcome.recharge_requested.map(|amount| json!({ "amount": amount })),
    })
}
