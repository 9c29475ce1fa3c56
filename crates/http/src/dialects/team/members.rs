//! The team API's `/v2/accounts/team/members`: who is on the team, and managing them (camelCase).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use tenantry_kernel::{InvitationId, Role, UserId};
use tenantry_security::MemberStatus;
use tenantry_team::{
    BulkOperation, Department, Invitation, Member, MemberChange, MemberFilter, Permission,
    TeamError, Title,
};

use super::errors::team_error;
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::pagination::PageQuery;
use crate::AppState;

const DIALECT: Dialect = Dialect::V2;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/v2/accounts/team/members")
            .route(web::get().to(list))
            .route(web::post().to(super::invitations::invite_flat)),
    )
    .service(resource("/v2/accounts/team/members/bulk").route(web::post().to(bulk)))
    .service(
        resource("/v2/accounts/team/transfer-ownership").route(web::post().to(transfer_ownership)),
    )
    .service(
        resource("/v2/accounts/team/members/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(remove)),
    );
}

pub(super) async fn run<T: Send + 'static>(
    user: Option<String>,
    f: impl FnOnce() -> Result<T, TeamError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| team_error(e, user.as_deref()))
}

/// `run` for a read-only call: on the read threads (`store_reads.rs`).
pub(super) async fn run_read<T: Send + 'static>(
    state: &AppState,
    user: Option<String>,
    f: impl FnOnce() -> Result<T, TeamError> + Send + 'static,
) -> Result<T, ApiError> {
    crate::store_reads::run(state, DIALECT, f)
        .await?
        .map_err(|e| team_error(e, user.as_deref()))
}

pub(super) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The team API's member object. `username` and `avatar` are the host platform's to fill in;
/// Tenantry keeps neither, so they are `null` rather than invented. Serialized straight from
/// this struct (fields in the API document's order): the member list renders fifty of them per request,
/// and building `Value` maps first cost a third of the list's time.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MemberDto<'a> {
    id: String,
    email: &'a str,
    name: Option<&'a str>,
    username: Option<()>,
    avatar: Option<()>,
    role: &'static str,
    permissions: Vec<&'static str>,
    status: &'static str,
    joined_at: String,
    last_active: Option<String>,
    invited_by: Option<String>,
    department: Option<&'a str>,
    title: Option<&'a str>,
}

impl<'a> From<&'a Member> for MemberDto<'a> {
    fn from(m: &'a Member) -> Self {
        Self {
            id: m.user_id.to_string(),
            email: &m.email,
            name: m.name.as_deref(),
            username: None,
            avatar: None,
            role: m.role.as_str(),
            permissions: m.permissions().iter().map(|p| p.as_str()).collect(),
            status: m.status.as_str(),
            joined_at: time(m.joined_at),
            last_active: m.last_active_at.map(time),
            invited_by: m.invited_by.map(|u| u.to_string()),
            department: m.department.as_ref().map(Department::as_str),
            title: m.title.as_ref().map(Title::as_str),
        }
    }
}

pub(super) fn member_json(m: &Member) -> Value {
    serde_json::to_value(MemberDto::from(m)).unwrap_or(Value::Null)
}

/// An open invitation as the team API lists it: a member entry with status `pending`. Its `id` is
/// the invitation's (the one resend and cancel take); `invitationStatus` tells whether it was
/// sent, resent or has expired.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingDto<'a> {
    id: String,
    email: &'a str,
    name: Option<()>,
    username: Option<()>,
    avatar: Option<()>,
    role: &'static str,
    permissions: Vec<&'static str>,
    status: &'static str,
    invited_at: String,
    invited_by: String,
    invitation_expires: String,
    invitation_status: &'static str,
    department: Option<&'a str>,
    title: Option<&'a str>,
}

impl<'a> PendingDto<'a> {
    fn new(i: &'a Invitation, now: DateTime<Utc>) -> Self {
        Self {
            id: i.id.to_string(),
            email: i.email.as_str(),
            name: None,
            username: None,
            avatar: None,
            role: i.role.as_str(),
            permissions: i
                .permissions
                .as_deref()
                .unwrap_or_else(|| tenantry_team::default_permissions(i.role))
                .iter()
                .map(|p| p.as_str())
                .collect(),
            status: "pending",
            invited_at: time(i.resent_at.unwrap_or(i.created_at)),
            invited_by: i.invited_by.to_string(),
            invitation_expires: time(i.expires_at),
            invitation_status: i.public_status(now),
            department: i.department.as_ref().map(Department::as_str),
            title: i.title.as_ref().map(Title::as_str),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum ListEntry<'a> {
    Member(MemberDto<'a>),
    Pending(PendingDto<'a>),
}

#[derive(Serialize)]
struct RolesDto {
    owner: u64,
    admin: u64,
    developer: u64,
    viewer: u64,
    pending: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberListDto<'a> {
    members: Vec<ListEntry<'a>>,
    total: u64,
    roles: RolesDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn parse_user(raw: &str) -> Result<UserId, ApiError> {
    // An id that cannot exist is a member that does not exist.
    raw.parse::<UserId>()
        .map_err(|_| team_error(TeamError::MemberNotFound, Some(raw)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    role: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub(super) fn query_error(field: &str, message: String) -> ApiError {
    ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
        .with_details(json!({ "field": field }))
}

async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit.clone(),
        cursor: query.cursor.clone(),
    }
    .parse(DIALECT)?;
    let role = query
        .role
        .as_deref()
        .map(|r| {
            r.parse::<Role>()
                .map_err(|_| query_error("role", format!("unknown role `{r}`")))
        })
        .transpose()?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            MemberStatus::parse(s)
                .filter(|s| *s != MemberStatus::Removed)
                .ok_or_else(|| query_error("status", format!("unknown status `{s}`")))
        })
        .transpose()?;
    let filter = MemberFilter { role, status };
    let team = state.team.clone();
    let result = run_read(&state, None, move || team.list(&caller.0, &filter, &page)).await?;
    let c = result.counts;
    let now = state.clock.now();
    let members = result
        .page
        .items
        .iter()
        .map(|m| ListEntry::Member(m.into()))
        .chain(
            result
                .invitations
                .iter()
                .map(|i| ListEntry::Pending(PendingDto::new(i, now))),
        )
        .collect();
    let body = MemberListDto {
        members,
        total: c.total(),
        roles: RolesDto {
            owner: c.owner,
            admin: c.admin,
            developer: c.developer,
            viewer: c.viewer,
            pending: c.pending,
        },
        next_cursor: result.page.next.map(|next| next.encode()),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// The list shows open invitations as pending members under their invitation ids, so every
/// id it shows resolves here too: `inv_...` names the invitation, anything else a user.
fn invitation_id(raw: &str) -> Option<InvitationId> {
    raw.parse::<InvitationId>().ok()
}

async fn get(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    if let Some(id) = invitation_id(&raw) {
        let team = state.team.clone();
        let invitation = run_read(&state, Some(raw), move || {
            team.pending_member(&caller.0, id)
        })
        .await?;
        let body = PendingDto::new(&invitation, state.clock.now());
        return Ok(HttpResponse::Ok().json(json!({ "member": body })));
    }
    let user = parse_user(&raw)?;
    let team = state.team.clone();
    let (member, a) = run_read(&state, Some(raw), move || team.details(&caller.0, user)).await?;
    let mut body = member_json(&member);
    body["activity"] = json!({
        "endpointsCreated": a.endpoints_created,
        "clustersManaged": a.clusters_managed,
        "totalExecutions": a.total_executions,
        "lastLogin": a.last_login.map(time),
    });
    body["resources"] = json!({
        "ownedEndpoints": a.owned_endpoints,
        "ownedClusters": a.owned_clusters,
        "sharedEndpoints": a.shared_endpoints,
    });
    Ok(HttpResponse::Ok().json(json!({ "member": body })))
}

/// `null` (clear) and absent (leave) differ for the optional fields.
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberUpdate {
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    permissions: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    department: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    status: Option<String>,
    // Output-only fields a read shows, accepted back as read (Google AIP-203) so a client may
    // PUT the member it got, and refused when they differ from what a read shows now (a client
    // that sends another address or join date means a change it cannot make: silence would
    // tell it the change was made; decision 0048). `id` must be the one in the path.
    id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    username: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    avatar: Option<Option<Value>>,
    #[serde(default, rename = "joinedAt", deserialize_with = "present")]
    joined_at: Option<Option<Value>>,
    #[serde(default, rename = "invitedBy", deserialize_with = "present")]
    invited_by: Option<Option<Value>>,
    // These move by themselves (any request of the member, any execution), so what a client
    // read a moment ago may differ without the client meaning a change: accepted and ignored.
    #[serde(rename = "lastActive")]
    _last_active: Option<serde::de::IgnoredAny>,
    #[serde(rename = "activity")]
    _activity: Option<serde::de::IgnoredAny>,
    #[serde(rename = "resources")]
    _resources: Option<serde::de::IgnoredAny>,
}

/// The read-only fields a client sent back, as the member object names them (`null` as
/// `Value::Null`); fields not sent are not listed.
#[derive(Debug, Default)]
struct SentReadOnly(Vec<(&'static str, Value)>);

impl SentReadOnly {
    /// The first field whose value differs from what a read of `current` shows. A timestamp
    /// is compared as an instant, so a client that re-formats it (`+00:00` for `Z`) sends
    /// the same value.
    fn changed(&self, current: &Member) -> Option<&'static str> {
        let shown = member_json(current);
        self.0
            .iter()
            .find(|(field, sent)| {
                let now = &shown[*field];
                match (instant(sent), instant(now)) {
                    (Some(a), Some(b)) => a != b,
                    _ => sent != now,
                }
            })
            .map(|(field, _)| *field)
    }
}

fn instant(v: &Value) -> Option<DateTime<chrono::FixedOffset>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

impl MemberUpdate {
    fn parse(self) -> Result<(MemberChange, SentReadOnly), TeamError> {
        let sent = SentReadOnly(
            [
                ("email", self.email),
                ("name", self.name),
                ("username", self.username),
                ("avatar", self.avatar),
                ("joinedAt", self.joined_at),
                ("invitedBy", self.invited_by),
            ]
            .into_iter()
            .filter_map(|(field, v)| v.map(|v| (field, v.unwrap_or(Value::Null))))
            .collect(),
        );
        let invalid =
            |field: &'static str, reason: String| TeamError::InvalidField { field, reason };
        let role = self
            .role
            .map(|r| {
                r.parse::<Role>()
                    .map_err(|_| invalid("role", "must be admin, developer or viewer".into()))
            })
            .transpose()?;
        let permissions = self
            .permissions
            .map(|p| {
                p.map(|names| {
                    let mut parsed: Vec<Permission> = Vec::new();
                    for n in &names {
                        let p = n.parse::<Permission>().map_err(|n| {
                            invalid("permissions", format!("unknown permission `{n}`"))
                        })?;
                        if !parsed.contains(&p) {
                            parsed.push(p);
                        }
                    }
                    Ok::<_, TeamError>(parsed)
                })
                .transpose()
            })
            .transpose()?;
        let department = self
            .department
            .map(|d| d.map(|d| Department::parse(&d)).transpose())
            .transpose()?;
        let title = self
            .title
            .map(|t| t.map(|t| Title::parse(&t)).transpose())
            .transpose()?;
        let status = self
            .status
            .map(|s| match MemberStatus::parse(&s) {
                Some(s @ (MemberStatus::Active | MemberStatus::Suspended)) => Ok(s),
                _ => Err(invalid("status", "must be active or suspended".into())),
            })
            .transpose()?;
        Ok((
            MemberChange {
                role,
                permissions,
                department,
                title,
                status,
            },
            sent,
        ))
    }
}

async fn update(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<MemberUpdate>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let user = parse_user(&raw)?;
    if body.id.as_deref().is_some_and(|id| id != raw) {
        return Err(team_error(
            TeamError::InvalidField {
                field: "id",
                reason: "is read-only: it must be the id in the path".into(),
            },
            Some(&raw),
        ));
    }
    let (change, sent) = body.parse().map_err(|e| team_error(e, Some(&raw)))?;
    let team = state.team.clone();
    let member = run(Some(raw), move || {
        team.update_as_read(&caller.0, user, change, |current| sent.changed(current))
    })
    .await?;
    Ok(HttpResponse::Ok().json(member_json(&member)))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    if let Some(invitation) = invitation_id(&raw) {
        // Removing a pending member cancels its invitation, under the cancel route's rules.
        let team = state.team.clone();
        let id = raw.clone();
        let at = run(Some(raw), move || team.cancel(&caller.0, invitation)).await?;
        return Ok(HttpResponse::Ok().json(json!({
            "id": id,
            "status": "cancelled",
            "cancelledAt": time(at),
            "message": "Invitation cancelled successfully",
        })));
    }
    let user = parse_user(&raw)?;
    let team = state.team.clone();
    let id = raw.clone();
    let removed_at = run(Some(raw), move || team.remove(&caller.0, user)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "id": id,
        "status": "removed",
        "removedAt": time(removed_at),
        "message": "Team member removed successfully",
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    operation: String,
    members: Vec<String>,
    #[serde(default, deserialize_with = "object_only")]
    data: BulkData,
}

/// `data` must be a JSON object: serde would otherwise also fill a struct from an array.
fn object_only<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BulkData, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(BulkData::default()),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).map_err(D::Error::custom),
        _ => Err(D::Error::custom("data must be an object")),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkData {
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    department: Option<Option<String>>,
}

impl BulkRequest {
    fn operation(&self) -> Result<BulkOperation, TeamError> {
        let missing = |field: &'static str| TeamError::InvalidField {
            field,
            reason: format!("required by operation {}", self.operation),
        };
        match self.operation.as_str() {
            "update_role" => {
                let role = self
                    .data
                    .role
                    .as_deref()
                    .ok_or_else(|| missing("data.role"))?;
                role.parse::<Role>()
                    .map(BulkOperation::UpdateRole)
                    .map_err(|_| TeamError::InvalidField {
                        field: "data.role",
                        reason: "must be admin, developer or viewer".into(),
                    })
            }
            "update_department" => {
                let department = self
                    .data
                    .department
                    .as_ref()
                    .ok_or_else(|| missing("data.department"))?;
                Ok(BulkOperation::UpdateDepartment(
                    department.as_deref().map(Department::parse).transpose()?,
                ))
            }
            "suspend" => Ok(BulkOperation::Suspend),
            "reactivate" => Ok(BulkOperation::Reactivate),
            _ => Err(TeamError::InvalidField {
                field: "operation",
                reason: "must be update_role, update_department, suspend or reactivate".into(),
            }),
        }
    }
}

/// 200 with one result per member whatever their outcomes: the request itself succeeded, and
/// `summary` says how many members did.
async fn bulk(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<BulkRequest>,
) -> Result<HttpResponse, ApiError> {
    let operation = body.operation().map_err(|e| team_error(e, None))?;
    let team = state.team.clone();
    let op = operation.clone();
    let outcomes = run(None, move || team.bulk(&caller.0, &op, &body.members)).await?;
    let successful = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok(updated) => json!({ "userId": o.user, "status": "success", "updated": updated }),
            Err(e) => {
                let e = team_error(e, Some(&o.user));
                json!({
                    "userId": o.user,
                    "status": "failed",
                    "updated": false,
                    "error": { "code": e.code, "message": e.message },
                })
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "operation": operation.name(),
        "summary": {
            "total": results.len(),
            "successful": successful,
            "failed": results.len() - successful,
        },
        "results": results,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferOwnership {
    #[serde(rename = "userId")]
    user_id: String,
}

/// `POST /v2/accounts/team/transfer-ownership`: the owner hands the account to an active admin
/// and becomes an admin (decision 0019).
async fn transfer_ownership(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<TransferOwnership>,
) -> Result<HttpResponse, ApiError> {
    let user = parse_user(&body.user_id)?;
    let team = state.team.clone();
    let done = run(Some(body.user_id), move || {
        team.transfer_ownership(&caller.0, user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "previousOwner": { "id": done.previous_owner.to_string(), "role": "admin" },
        "newOwner": { "id": done.new_owner.to_string(), "role": "owner" },
        "transferredAt": time(done.at),
        "message": "Ownership transferred successfully",
    })))
}
