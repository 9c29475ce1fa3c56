//! The user and organization API's `/api/user/profile` and `/api/user/password`: the caller's own profile and password;
//! and the email change, which that API's document does not define: `POST /api/user/email` asks (current
//! password; 202, one body whatever the address) and `POST /api/user/email/confirm/{token}`,
//! the mailed link's API form, applies it (decision 0016, addendum on email changes).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_security::{InvalidField, Profile, SecurityError};

use super::errors::{security_error, team_error, SecurityRoutes, TeamRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/user/profile")
            .route(web::get().to(get_profile))
            .route(web::put().to(put_profile)),
    )
    .service(resource("/api/user/password").route(web::post().to(change_password)))
    .service(resource("/api/user/email").route(web::post().to(request_email_change)))
    .service(
        resource("/api/user/email/confirm/{token}").route(web::post().to(confirm_email_change)),
    );
}

fn profile_json(p: &Profile) -> Value {
    json!({
        "id": p.id.to_string(),
        "email": p.email,
        "display_name": p.display_name,
        "timezone": p.timezone,
        "locale": p.locale,
        "avatar_url": p.avatar_url,
        "organization_id": p.organization_id.to_string(),
        "roles": p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// The profile's output-only fields (`id`, `organization_id`, `roles`; `updated_at` of a write's
/// reply) are ignored when sent back as read, so a client may PUT what it got (Google AIP-203);
/// a changed one is refused, naming it, rather than silently dropped.
fn without_read_only(caller: &tenantry_kernel::Actor, mut body: Value) -> Result<Value, ApiError> {
    let Some(map) = body.as_object_mut() else {
        return Ok(body);
    };
    let shown = [
        ("id", json!(caller.user_id.to_string())),
        ("organization_id", json!(caller.account_id.to_string())),
        ("roles", json!([caller.role.as_str()])),
    ];
    let mut changed = Vec::new();
    for (field, value) in shown {
        match map.remove(field) {
            Some(sent) if sent != value => changed.push(field),
            _ => {}
        }
    }
    if map.get("updated_at").is_some_and(Value::is_string) {
        map.remove("updated_at");
    }
    if changed.is_empty() {
        Ok(body)
    } else {
        Err(security_error(
            SecurityRoutes::Profile,
            SecurityError::InvalidFields(
                changed
                    .into_iter()
                    .map(|field| InvalidField {
                        field: field.into(),
                        message: "is read-only: send it as read, or leave it out".into(),
                    })
                    .collect(),
            ),
        ))
    }
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecurityError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| security_error(SecurityRoutes::Profile, e))
}

async fn get_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let profiles = state.profile.clone();
    let p = run(move || profiles.profile(&caller.0)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": profile_json(&p) })))
}

async fn put_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let body = without_read_only(&caller.0, body)?;
    let profiles = state.profile.clone();
    let p = run(move || profiles.update_profile(&caller.0, &body)).await?;
    let mut doc = profile_json(&p);
    doc["updated_at"] = json!(state
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Ok(HttpResponse::Ok().json(json!({ "data": doc })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: Option<String>,
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let profiles = state.profile.clone();
    crate::password_work::run(&state, DIALECT, move || {
        profiles.change_password(
            &caller.0,
            body.current_password.as_deref(),
            &body.new_password,
        )
    })
    .await?
    .map_err(|e| security_error(SecurityRoutes::Profile, e))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailChangeRequest {
    email: String,
    current_password: Option<String>,
}

/// `POST /api/user/email`: 202 with one body whether or not the new address belongs to
/// another user (and whether or not the per-user limit of open links swallowed the request).
async fn request_email_change(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<EmailChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let team = state.team.clone();
    crate::password_work::run(&state, DIALECT, move || {
        team.request_email_change(&caller.0, &body.email, body.current_password.as_deref())
    })
    .await?
    .map_err(|e| team_error(TeamRoutes::EmailChange, e))?;
    Ok(HttpResponse::Accepted()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "data": {
                "message": "A message is on its way to the new address: follow it within 24 hours to confirm the change. Your current address stays until then and has been sent a notice.",
            }
        })))
}

/// `POST /api/user/email/confirm/{token}`: the link is the credential (no bearer token
/// needed); 200 with the address the user now signs in with.
async fn confirm_email_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let ip = crate::client_ip::client_ip(&req, &state.config.trusted_proxies);
    let team = state.team.clone();
    let email = web::block(move || team.confirm_email_change(&token, ip))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| team_error(TeamRoutes::EmailChange, e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "data": { "email": email.as_str() } })))
}
