//! `/admin/accounts`: the operator creates, lists and updates accounts.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::{AccountName, DisplayName, Email};
use tenantry_security::{AccountSummary, SecurityError};
use tenantry_team::ResetPurpose;

use super::errors::{security_error, team_error, validation};
use crate::auth::Operator;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::PageQuery;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/accounts/{id}")
            .route(web::patch().to(update_account))
            .default_service(web::to(method_not_allowed)),
    );
    cfg.service(
        web::resource("/admin/accounts")
            .route(web::post().to(create_account))
            .route(web::get().to(list_accounts))
            .default_service(web::to(method_not_allowed)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAccount {
    name: String,
    display_name: Option<String>,
    owner_email: String,
}

fn summary(a: &AccountSummary) -> serde_json::Value {
    json!({
        "id": a.id.to_string(),
        "tenant_id": a.id.to_uuid_string(),
        "name": a.name.as_str(),
        "display_name": a.display_name,
        "tier": a.tier,
        "created_at": a.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

async fn create_account(
    state: web::Data<AppState>,
    Operator(by): Operator,
    JsonBody(body): JsonBody<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let mut invalid = Vec::new();
    let name = AccountName::parse(&body.name)
        .map_err(|e| invalid.push(json!({"field": "name", "message": e.to_string()})))
        .ok();
    let email = Email::parse(&body.owner_email)
        .map_err(|e| invalid.push(json!({"field": "owner_email", "message": e.to_string()})))
        .ok();
    // Blank means "the slug"; anything else follows the display-name rules.
    let display_name = body
        .display_name
        .filter(|d| !d.trim().is_empty())
        .and_then(|d| {
            DisplayName::parse_with_max(&d, DisplayName::MAX_ACCOUNT_CHARS)
                .map_err(|e| {
                    invalid.push(json!({"field": "display_name", "message": e.to_string()}))
                })
                .ok()
        })
        .map(DisplayName::into_string);
    let (Some(name), Some(email), true) = (name, email, invalid.is_empty()) else {
        return Err(validation(invalid));
    };

    let provisioning = state.provisioning.clone();
    let team = state.team.clone();
    let documents = tenantry_settings::defaults::initial_documents();
    let created = web::block(move || {
        let account =
            provisioning.create_account(name, display_name.as_deref(), &email, &documents, by)?;
        // The owner chooses their password through a link mailed to them; nobody else (the
        // operator included) ever holds it. An owner who already has a password gets none.
        let setup = team.request_password_reset(&email, ResetPurpose::Setup);
        Ok::<_, SecurityError>((account, email, setup))
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))?;
    let (account, email, setup) = created.map_err(security_error)?;
    let setup_sent = setup.map_err(team_error)?;
    tracing::info!(
        account = %account.account_id,
        name = %account.name,
        request_id = crate::request_id::current().as_deref().unwrap_or("-"),
        "account created"
    );
    Ok(HttpResponse::Created().json(json!({
        "id": account.account_id.to_string(),
        "tenant_id": account.account_id.to_uuid_string(),
        "name": account.name.as_str(),
        "owner": {
            "id": account.owner_id.to_string(),
            "email": email.as_str(),
            "password_setup_link_sent": setup_sent,
        },
        "owner_api_key": account.owner_key.token(),
    })))
}

async fn list_accounts(
    state: web::Data<AppState>,
    _operator: Operator,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse(DIALECT)?;
    let provisioning = state.provisioning.clone();
    let result = web::block(move || provisioning.list_accounts(&page))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(security_error)?;
    let mut body = json!({
        "accounts": result.items.iter().map(summary).collect::<Vec<_>>(),
    });
    if let Some(next) = result.next {
        body["next_cursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateAccount {
    tier: Option<String>,
    display_name: Option<String>,
}

/// `PATCH /admin/accounts/{id}`: the operator sets an account's tier (its entitlements: the
/// features and limits of the user and organization API and the tenant settings API) or display name.
async fn update_account(
    state: web::Data<AppState>,
    Operator(by): Operator,
    path: web::Path<String>,
    JsonBody(body): JsonBody<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let id: tenantry_kernel::AccountId = path
        .parse()
        .map_err(|_| ApiError::not_found(DIALECT, "Account"))?;
    let mut invalid = Vec::new();
    if let Some(t) = &body.tier {
        if t.parse::<tenantry_billing::Tier>().is_err() {
            invalid
                .push(json!({"field": "tier", "message": "must be one of: free, pro, enterprise"}));
        }
    }
    let display_name = match body
        .display_name
        .as_deref()
        .map(|d| DisplayName::parse_with_max(d, DisplayName::MAX_ACCOUNT_CHARS))
    {
        None => None,
        Some(Ok(d)) => Some(d.into_string()),
        Some(Err(e)) => {
            invalid.push(json!({"field": "display_name", "message": e.to_string()}));
            None
        }
    };
    if !invalid.is_empty() {
        return Err(validation(invalid));
    }
    let provisioning = state.provisioning.clone();
    let updated = web::block(move || {
        provisioning.update_account(id, body.tier.as_deref(), display_name.as_deref(), by)
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))?
    .map_err(security_error)?
    .ok_or_else(|| ApiError::not_found(DIALECT, "Account"))?;
    Ok(HttpResponse::Ok().json(summary(&updated)))
}
