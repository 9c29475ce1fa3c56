//! Portal links (decision 0030): `POST /v2/accounts/portal-links` with an admin's credential
//! (session or key) and `POST /admin/accounts/{id}/portal-links` with the operator key. Both
//! answer `201 {"url", "expiresAt"}` in the account settings API's format; the link itself is
//! redeemed by the console, never through a JSON route.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::{AccountId, Email, UserId};
use tenantry_security::{
    MintedPortalLink, Minter, PortalIntent, PortalTarget, ReturnUrl, SecurityError,
};

use crate::auth::{Authenticated, Operator};
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/v2/accounts/portal-links").route(web::post().to(mint)))
        .service(
            resource("/admin/accounts/{id}/portal-links").route(web::post().to(mint_as_operator)),
        );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MintBody {
    email: Option<String>,
    #[serde(rename = "userId")]
    user_id: Option<String>,
    intent: String,
    #[serde(rename = "returnUrl")]
    return_url: String,
}

/// A mint request, parsed.
struct MintRequest {
    target: PortalTarget,
    intent: PortalIntent,
    return_url: ReturnUrl,
}

fn validation(fields: Vec<serde_json::Value>) -> ApiError {
    ApiError::new(
        DIALECT,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_ERROR",
        "The request has invalid fields",
    )
    .with_details(json!({ "fields": fields }))
}

fn field(name: &str, message: impl Into<String>) -> serde_json::Value {
    json!({ "field": name, "message": message.into() })
}

impl MintBody {
    /// Every invalid field at once. An id or address that parses but names nobody is the
    /// service's 404, never a validation error (which would tell a well-formed id apart).
    fn parse(self) -> Result<MintRequest, ApiError> {
        let mut invalid = Vec::new();
        let target = match (self.email.as_deref(), self.user_id.as_deref()) {
            (Some(email), None) => Email::parse(email.trim())
                .map(PortalTarget::Email)
                .map_err(|e| invalid.push(field("email", e.to_string())))
                .ok(),
            (None, Some(id)) => Some(
                id.parse::<UserId>()
                    .map(PortalTarget::User)
                    .map_err(|_| ApiError::not_found(DIALECT, "Member"))?,
            ),
            (Some(_), Some(_)) => {
                invalid.push(field("email", "send either email or userId, not both"));
                None
            }
            (None, None) => {
                invalid.push(field("email", "send email or userId"));
                None
            }
        };
        let intent = PortalIntent::parse(&self.intent)
            .ok_or_else(|| {
                invalid.push(field(
                    "intent",
                    "must be one of: team, settings, security, audit, api-keys",
                ))
            })
            .ok();
        let return_url = ReturnUrl::parse(&self.return_url)
            .map_err(|e| invalid.push(field("returnUrl", e)))
            .ok();
        match (target, intent, return_url) {
            (Some(target), Some(intent), Some(return_url)) if invalid.is_empty() => {
                Ok(MintRequest {
                    target,
                    intent,
                    return_url,
                })
            }
            _ => Err(validation(invalid)),
        }
    }
}

/// The one error mapper of these routes: every variant the portal service returns.
fn portal_error(e: SecurityError) -> ApiError {
    match e {
        SecurityError::PortalTargetNotFound => ApiError::not_found(DIALECT, "Member"),
        SecurityError::PortalTargetAboveMinter { target, minter } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!(
                "A link for a {target} can only be minted by a {target} or above (this \
                 credential is a {minter}'s) or by the operator"
            ),
        )
        .with_details(json!({
            "requiredRole": target.as_str(),
            "currentRole": minter.as_str(),
        })),
        SecurityError::PortalTargetPermissions { lacking } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!(
                "The member holds permissions this credential lacks ({}): a link never hands over \
                 more than its minter holds",
                lacking.join(", ")
            ),
        )
        .with_details(json!({ "missingPermissions": lacking })),
        SecurityError::PortalReturnUrlNotAllowed { origin } => validation(vec![field(
            "returnUrl",
            format!(
                "the origin {origin} is not allowed: add it to TENANTRY_PORTAL_RETURN_ORIGINS or \
                 the account's security settings (portalReturnOrigins)"
            ),
        )]),
        SecurityError::Kernel(tenantry_kernel::KernelError::InsufficientRole {
            required,
            current,
        }) => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("Portal links require {required} role"),
        )
        .with_details(json!({
            "requiredRole": required.as_str(),
            "currentRole": current.as_str(),
        })),
        SecurityError::ReauthRequired => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "REAUTH_REQUIRED",
            "Sign in again (within the last 10 minutes) to mint a portal link from a session; a portal session cannot mint one",
        ),
        SecurityError::Unauthenticated => ApiError::unauthorized(DIALECT),
        SecurityError::Port(p) => ApiError::from_port(DIALECT, &p),
        // Minting parses its body before calling and is not a sign-in, a key operation or a
        // redemption (the console redeems links).
        e @ (SecurityError::MalformedCredential
        | SecurityError::MfaEnrollmentRequired
        | SecurityError::RateLimited { .. }
        | SecurityError::MfaCodeRequired
        | SecurityError::AccountRequired(_)
        | SecurityError::MfaAlreadyEnabled
        | SecurityError::MfaNotEnabled
        | SecurityError::UnknownEnrollment
        | SecurityError::InvalidCode
        | SecurityError::WrongPassword
        | SecurityError::KeyNotFound
        | SecurityError::TooManyKeys { .. }
        | SecurityError::InvalidKeyRequest(_)
        | SecurityError::ScopeAboveRole { .. }
        | SecurityError::ScopeExceedsCredential { .. }
        | SecurityError::AccountNameTaken(_)
        | SecurityError::PortalLinkUnknown
        | SecurityError::PortalLinkUsed
        | SecurityError::PortalLinkExpired
        // The allowlist is applied by the authentication middleware (auth.rs), before any
        // handler runs.
        | SecurityError::IpNotAllowed { .. }
        // The profile and the password change are the user and organization API's.
        | SecurityError::InvalidFields(_)
        | SecurityError::UnknownFields(_)
        | SecurityError::PasswordChangedMeanwhile
        | SecurityError::Kernel(_)) => ApiError::not_produced_here(DIALECT, &e),
    }
}

fn created(link: &MintedPortalLink) -> HttpResponse {
    HttpResponse::Created()
        // The URL is a bearer sign-in: no cache may keep it.
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "url": link.url,
            "expiresAt": link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }))
}

/// `POST /v2/accounts/portal-links`: a link into the caller's own account.
async fn mint(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<MintBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(DIALECT, tenantry_kernel::Role::Admin, "Portal links")?;
    let request = body.parse()?;
    let portal = state.portal_links.clone();
    let actor = caller.0;
    let link = web::block(move || {
        portal.mint(
            actor.account_id,
            Minter::Member(&actor),
            &request.target,
            request.intent,
            &request.return_url,
        )
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))?
    .map_err(portal_error)?;
    Ok(created(&link))
}

/// `POST /admin/accounts/{id}/portal-links`: the operator's, for any member of any account.
async fn mint_as_operator(
    state: web::Data<AppState>,
    Operator(by): Operator,
    path: web::Path<String>,
    JsonBody(body): JsonBody<MintBody>,
) -> Result<HttpResponse, ApiError> {
    let account: AccountId = path
        .parse()
        .map_err(|_| ApiError::not_found(DIALECT, "Account"))?;
    let request = body.parse()?;
    let portal = state.portal_links.clone();
    let link = web::block(move || {
        portal.mint(
            account,
            Minter::Operator(by),
            &request.target,
            request.intent,
            &request.return_url,
        )
    })
    .await
    .map_err(|e| ApiError::internal(DIALECT, &e))?
    .map_err(portal_error)?;
    Ok(created(&link))
}
