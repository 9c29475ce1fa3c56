//! The team API's invitations (`POST /v2/accounts/team/members[/invite]`, resend, cancel) and the
//! invitation link itself (`/v2/invitations/{token}`, not in the team API document: a team feature is useless
//! without a way to accept). Same dialect and error bodies as the member endpoints.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_kernel::{Email, InvitationId, Role};
use tenantry_team::{
    effective_permissions, AcceptInput, Department, Invitation, InvitationLifetime,
    InvitationState, InviteMessage, InviteRequest, IssuedInvitation, Permission, TeamError, Title,
};

use super::errors::team_error;
use super::members::{member_json, query_error, run, run_read, time};
use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::error::{method_not_allowed, ApiError};
use crate::json_body::JsonBody;
use crate::pagination::PageQuery;
use crate::AppState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/v2/accounts/team/members/invite").route(web::post().to(invite)))
        .service(
            resource("/v2/accounts/team/invitations/{id}/resend").route(web::post().to(resend)),
        )
        .service(resource("/v2/accounts/team/invitations").route(web::get().to(list)))
        .service(
            resource("/v2/accounts/team/invitations/{id}")
                .route(web::get().to(get_one))
                .route(web::delete().to(cancel)),
        )
        .service(resource("/v2/invitations/{token}").route(web::get().to(preview)))
        .service(resource("/v2/invitations/{token}/accept").route(web::post().to(accept)));
}

/// `POST /v2/accounts/team/members` shares its path with the member list (GET), so the member
/// module registers it and calls this.
pub(super) async fn invite_flat(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<Invite>,
) -> Result<HttpResponse, ApiError> {
    let issued = send(state, caller, body).await?;
    let i = &issued.invitation;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "invitationId": i.id.to_string(),
            "email": i.email.as_str(),
            "role": i.role.as_str(),
            "status": i.status.as_str(),
            "expiresAt": time(i.expires_at),
            "inviteUrl": issued.invite_url,
        })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Invite {
    email: String,
    role: String,
    department: Option<String>,
    title: Option<String>,
    message: Option<String>,
    permissions: Option<Vec<String>>,
    #[serde(rename = "expiresIn")]
    expires_in: Option<String>,
}

impl Invite {
    fn parse(self) -> Result<InviteRequest, TeamError> {
        let email = self
            .email
            .trim()
            .parse::<Email>()
            .map_err(|_| TeamError::InvalidEmail {
                value: self.email.chars().take(254).collect(),
            })?;
        let role = match self.role.parse::<Role>() {
            Ok(role) if role != Role::Owner => role,
            _ => {
                return Err(TeamError::InvalidField {
                    field: "role",
                    reason: "must be admin, developer or viewer".into(),
                })
            }
        };
        let permissions = self
            .permissions
            .map(|names| {
                let mut parsed: Vec<Permission> = Vec::new();
                for n in &names {
                    let p = n
                        .parse::<Permission>()
                        .map_err(|n| TeamError::InvalidField {
                            field: "permissions",
                            reason: format!("unknown permission `{n}`"),
                        })?;
                    if !parsed.contains(&p) {
                        parsed.push(p);
                    }
                }
                Ok::<_, TeamError>(parsed)
            })
            .transpose()?;
        Ok(InviteRequest {
            email,
            role,
            department: self
                .department
                .as_deref()
                .map(Department::parse)
                .transpose()?,
            title: self.title.as_deref().map(Title::parse).transpose()?,
            message: self
                .message
                .as_deref()
                .map(InviteMessage::parse)
                .transpose()?,
            permissions,
            lifetime: self
                .expires_in
                .as_deref()
                .map(str::parse::<InvitationLifetime>)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

async fn send(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Invite>,
) -> Result<IssuedInvitation, ApiError> {
    let request = body.parse().map_err(|e| team_error(e, None))?;
    let team = state.team.clone();
    run(None, move || team.invite(&caller.0, request)).await
}

/// `POST /v2/accounts/team/members/invite`: the team API's second form, wrapped in `invitation`.
async fn invite(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<Invite>,
) -> Result<HttpResponse, ApiError> {
    let issued = send(state, caller, body).await?;
    let i = &issued.invitation;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "invitation": {
                "id": i.id.to_string(),
                "email": i.email.as_str(),
                "role": i.role.as_str(),
                "status": i.status.as_str(),
                "expiresAt": time(i.expires_at),
                "inviteUrl": issued.invite_url,
                "department": i.department.as_ref().map(Department::as_str),
                "title": i.title.as_ref().map(Title::as_str),
            },
            "message": "Invitation sent successfully",
        })))
}

fn parse_invitation(raw: &str) -> Result<InvitationId, ApiError> {
    raw.parse::<InvitationId>()
        .map_err(|_| team_error(TeamError::InvitationNotFound, Some(raw)))
}

async fn resend(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let id = parse_invitation(&raw)?;
    let team = state.team.clone();
    let issued = run(Some(raw), move || team.resend(&caller.0, id)).await?;
    let i = &issued.invitation;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "invitation": {
                "id": i.id.to_string(),
                "email": i.email.as_str(),
                "status": i.status.as_str(),
                "expiresAt": time(i.expires_at),
                "resentAt": i.resent_at.map(time),
                "inviteUrl": issued.invite_url,
            },
            "message": "Invitation resent successfully",
        })))
}

async fn cancel(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let id = parse_invitation(&raw)?;
    let team = state.team.clone();
    let at = run(Some(raw.clone()), move || team.cancel(&caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "invitation": { "id": raw, "status": "cancelled", "cancelledAt": time(at) },
        "message": "Invitation cancelled successfully",
    })))
}

/// An invitation as its managers read it: who was invited, to which role, by whom, when, and
/// where it stands (`status` in the list filter's words). Never the token or the link: the
/// link's secret exists only in the email to the invitee.
fn invitation_json(i: &Invitation, now: DateTime<Utc>) -> Value {
    let permissions: Vec<&str> = effective_permissions(i.role, i.permissions.as_deref())
        .into_iter()
        .map(Permission::as_str)
        .collect();
    json!({
        "id": i.id.to_string(),
        "email": i.email.as_str(),
        "role": i.role.as_str(),
        "permissions": permissions,
        "status": i.state(now).as_str(),
        "invitedBy": i.invited_by.to_string(),
        "createdAt": time(i.created_at),
        "expiresAt": time(i.expires_at),
        "resentAt": i.resent_at.map(time),
        "department": i.department.as_ref().map(Department::as_str),
        "title": i.title.as_ref().map(Title::as_str),
        "message": i.message.as_ref().map(InviteMessage::as_str),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /v2/accounts/team/invitations`: every invitation of the account, oldest first, in the
/// member list's envelope (`total` counts every match, `nextCursor` when more follow).
async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit.clone(),
        cursor: query.cursor.clone(),
    }
    .parse(crate::error::Dialect::V2)?;
    let wanted = query
        .status
        .as_deref()
        .map(|s| {
            InvitationState::parse(s).ok_or_else(|| {
                query_error(
                    "status",
                    format!("unknown status `{s}`: pending, accepted, expired or cancelled"),
                )
            })
        })
        .transpose()?;
    let team = state.team.clone();
    let result = run_read(&state, None, move || {
        team.invitations(&caller.0, wanted, &page)
    })
    .await?;
    let invitations: Vec<Value> = result
        .page
        .items
        .iter()
        .map(|i| invitation_json(i, result.now))
        .collect();
    let mut body = json!({ "invitations": invitations, "total": result.total });
    if let Some(next) = result.page.next {
        body["nextCursor"] = json!(next.encode());
    }
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /v2/accounts/team/invitations/{id}`: one invitation of the caller's account; another
/// account's id is 404 like an id never issued.
async fn get_one(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let id = parse_invitation(&raw)?;
    let team = state.team.clone();
    let (invitation, now) =
        run_read(&state, Some(raw), move || team.invitation(&caller.0, id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "invitation": invitation_json(&invitation, now) })))
}

/// What the link shows before accepting: whom it is for, the account, the role and whether it
/// can still be accepted. Unauthenticated: the token is the credential.
async fn preview(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let team = state.team.clone();
    let p = run(None, move || team.preview(&token)).await?;
    let i = &p.invitation;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "invitation": {
                "id": i.id.to_string(),
                "email": i.email.as_str(),
                "role": i.role.as_str(),
                "account": { "name": p.account_name },
                "department": i.department.as_ref().map(Department::as_str),
                "title": i.title.as_ref().map(Title::as_str),
                "message": i.message.as_ref().map(InviteMessage::as_str),
                "status": p.state.as_str(),
                "expiresAt": time(i.expires_at),
            }
        })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    name: Option<String>,
    password: Option<String>,
}

/// Accepts the invitation: 201 with the new member and their first API key, shown this once.
async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeAuthenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<Accept>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let ip = crate::client_ip::client_ip(&req, &state.config.trusted_proxies);
    // A credential proves identity only when it is unrestricted: accepting issues a full key in
    // the new account, which a narrower credential must not be able to obtain.
    if let Some(actor) = &caller.0 {
        if !actor.scopes.is_empty() && !actor.scopes.iter().any(|s| s == "*") {
            return Err(ApiError::new(
                crate::error::Dialect::V2,
                StatusCode::FORBIDDEN,
                "INSUFFICIENT_SCOPE",
                "Accepting an invitation while signed in needs a session or an unrestricted API key",
            )
            .with_details(json!({ "requiredScopes": ["*"], "keyScopes": actor.scopes })));
        }
        // Nor does a session nobody signed in to lately: a portal session (someone else's link)
        // or an old one would otherwise yield a full key in another account.
        if actor.needs_reauth(true, state.clock.now()) {
            return Err(ApiError::new(
                crate::error::Dialect::V2,
                StatusCode::FORBIDDEN,
                "REAUTH_REQUIRED",
                "Accepting an invitation with a session needs a sign-in within the last 10 minutes; a portal session cannot accept one",
            ));
        }
    }
    let team = state.team.clone();
    let input = AcceptInput {
        name: body.name,
        password: body.password,
        signed_in_as: caller.0.map(|actor| actor.user_id),
        ip,
    };
    // Argon2 runs on the blocking pool, bounded like sign-in.
    let accepted = crate::password_work::run(&state, crate::error::Dialect::V2, move || {
        team.accept(&token, input)
    })
    .await?
    .map_err(|e| team_error(e, None))?;
    let (key, message) = match &accepted.key {
        Some((info, issued)) => (
            json!({
                "id": info.id.to_string(),
                "name": info.name,
                "key": issued.token(),
                "prefix": info.prefix,
                "scopes": info.scopes,
                "createdAt": time(info.created_at),
            }),
            "Invitation accepted",
        ),
        // The account requires a second factor the member has not enrolled (decision 0051).
        None => (
            Value::Null,
            "Invitation accepted. The account requires two-factor authentication: sign in, set \
             it up, then create API keys",
        ),
    };
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "accountId": accepted.account.to_string(),
            "member": member_json(&accepted.member),
            "apiKey": key,
            "mfaEnrollmentRequired": accepted.key.is_none(),
            "message": message,
        })))
}
