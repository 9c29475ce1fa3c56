//! What the settings catalog's clients call before anything else: the account list
//! (`GET /accounts`, `/v1/accounts`) and the server version (`GET /version`, `/v1/version`), in
//! the catalog's camelCase and error format (decision 0024).
//!
//! The list holds the accounts the credential can act on, which is the one account it belongs
//! to: a session or an API key is bound to one account (that account's allowlist, MFA and
//! policy were checked for it), and listing the user's other accounts would tell a holder of
//! this credential about accounts whose own rules it never passed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::errors::overview_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::AppState;

const DIALECT: Dialect = Dialect::Catalog;
const DEFAULT_LIMIT: u64 = 20;
const MAX_LIMIT: u64 = 100;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/accounts").route(web::get().to(accounts)))
        .service(resource("/v1/accounts").route(web::get().to(accounts)))
        .service(resource("/version").route(web::get().to(version)))
        .service(resource("/v1/version").route(web::get().to(version)));
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "version": env!("CARGO_PKG_VERSION") }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    offset: Option<String>,
    limit: Option<String>,
}

fn invalid(parameter: &str, message: &str) -> ApiError {
    ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
        .with_details(json!({ "parameter": parameter }))
}

/// `offset` ≥ 0 and `limit` in 1..=100 (default 20).
fn paging(query: &Paging) -> Result<(u64, u64), ApiError> {
    let offset = match query.offset.as_deref() {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| invalid("offset", "offset must be a whole number, 0 or more"))?,
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| invalid("limit", "limit must be a whole number from 1 to 100"))?,
    };
    Ok((offset, limit))
}

async fn accounts(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let (offset, limit) = paging(&query)?;
    let provisioning = state.provisioning.clone();
    let team = state.team.clone();
    let actor = caller.0;
    let (account, overview) = web::block(move || {
        let account = provisioning
            .account(actor.account_id)
            .map_err(|e| ApiError::internal(DIALECT, &e))?
            .ok_or_else(|| ApiError::not_found(DIALECT, "Account"))?;
        let overview = team.overview(&actor).map_err(overview_error)?;
        Ok::<_, ApiError>((account, overview))
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))??;
    let owner = overview.owner.map(|m| m.email);
    let all = [json!({
        "accountName": account.name.as_str(),
        "accountHolderUserName": owner,
        "ownerUserName": owner,
        "numberOfUsers": overview.members,
        "accountType": account.tier.to_ascii_uppercase(),
    })];
    let page: Vec<_> = all
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .cloned()
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "resultInfo": {
            "totalCount": all.len(),
            "offset": offset,
            "returnedCount": page.len(),
        },
        "accounts": page,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(offset: Option<&str>, limit: Option<&str>) -> Paging {
        Paging {
            offset: offset.map(str::to_owned),
            limit: limit.map(str::to_owned),
        }
    }

    #[test]
    fn paging_is_bounded() {
        assert_eq!(paging(&query(None, None)).ok(), Some((0, DEFAULT_LIMIT)));
        assert_eq!(paging(&query(Some("3"), Some("100"))).ok(), Some((3, 100)));
        for (offset, limit) in [
            (Some("-1"), None),
            (None, Some("0")),
            (None, Some("101")),
            (Some("x"), None),
        ] {
            let e = paging(&query(offset, limit)).expect_err("refused");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
    }
}
