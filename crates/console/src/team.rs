//! `/console/team`: the account's members (role and status filters, paging), their role,
//! suspension and removal one by one or selected together, inviting, and the pending
//! invitations (paging, resend, cancel). For admins and the owner.
//!
//! Every change is the call the team API makes (`TeamService::list`, `update`, `bulk`,
//! `remove`, `invite`, `resend`, `cancel`, `invitations`) with the session's `Actor`, so the
//! service's rules hold unchanged: nobody touches the owner, nobody grants or acts above their
//! own role, the member limit counts pending invitations. The route classes the JSON API puts
//! in front of those calls (`auth::authorize`: the `team:write` scope of a portal session's
//! ceiling, the `manage_team` custom permission) are asked here too, through [`manages_team`],
//! before anything is shown: a session that could not manage the team through the API cannot
//! through this page.
//!
//! Ids in a form are read as the API reads them: an id that names nobody in the visitor's
//! account (another account's member included) is "no such member", and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_kernel::{effective_permissions, Cursor, Email, InvitationId, PageRequest, Role};
use tenantry_security::{scopes_permit, Access, Area, MemberStatus};
use tenantry_team::{
    ensure_can_grant, ensure_can_manage, Invitation, InvitationState, InviteRequest, Member,
    MemberChange, MemberFilter, Permission, TeamError,
};

use crate::form::{too_long, EMAIL_MAX, ID_MAX};
use crate::layout::{notice, time, Section};
use crate::session::SignedIn;
pub(crate) use crate::team_refusal::explain;
use crate::visitor::{below, poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/team").route(web::get().to(show)))
        .service(web::resource("/team/invite").route(web::post().to(invite)))
        .service(web::resource("/team/bulk").route(web::post().to(crate::team_bulk::bulk)))
        .service(web::resource("/team/members/{id}/{action}").route(web::post().to(member_action)))
        .service(
            web::resource("/team/invitations/{id}/{action}")
                .route(web::post().to(invitation_action)),
        );
}

const TITLE: &str = "Team";
pub(crate) const ADMITS: Admits = Admits::Unrestricted;
const PATH: &str = "/console/team";
/// Members per page, and pending invitations per page.
const PAGE_SIZE: u32 = 25;
/// Longest cursor a paging link carries (the kernel refuses longer ones too).
const CURSOR_MAX: usize = 256;

/// Whether the visitor's credential reaches the team's management as the JSON API classes it:
/// a portal session's ceiling must hold `team:write` (scopes only narrow; a plain session has
/// none), and custom permissions must name `manage_team` (decision 0019). The role itself is
/// [`below`]'s, and the service's again.
fn manages_team(v: &SignedIn) -> bool {
    scopes_permit(&v.actor.scopes, Area::Team, Access::Write)
        && effective_permissions(v.actor.role, v.actor.permissions.as_deref())
            .contains(&Permission::ManageTeam)
}

/// The refusal for a visitor who may not manage the team, if they may not.
pub(crate) fn refused_visitor(v: &SignedIn) -> Option<HttpResponse> {
    below(v, Role::Admin).or_else(|| {
        (!manages_team(v)).then(|| {
            crate::refusal::error_page(
                StatusCode::FORBIDDEN,
                "Not available to this sign-in",
                "Managing the team needs the team permission, which this sign-in does not \
                 carry. Nothing was changed.",
            )
        })
    })
}

/// The list's filters and positions, as the query string carries them: `cursor` in the
/// members, `invitations` in the pending invitations. The two lists page on their own, and
/// each one's links keep the other's position.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ListQuery {
    role: String,
    status: String,
    cursor: String,
    invitations: String,
}

/// A page of `PAGE_SIZE` after `cursor`; `None` when the cursor cannot be read.
fn page_after(cursor: &str) -> Option<PageRequest> {
    if cursor.len() > CURSOR_MAX {
        return None;
    }
    let after = match cursor {
        "" => None,
        c => Some(Cursor::decode(c).ok()?),
    };
    Some(PageRequest {
        limit: PAGE_SIZE,
        after,
    })
}

/// The filters and the two pages, parsed; `None` when a value is unknown.
fn parse_query(q: &ListQuery) -> Option<(MemberFilter, PageRequest, PageRequest)> {
    let role = match q.role.as_str() {
        "" => None,
        r => Some(r.parse::<Role>().ok()?),
    };
    let status = match q.status.as_str() {
        "" => None,
        "active" => Some(MemberStatus::Active),
        "suspended" => Some(MemberStatus::Suspended),
        _ => return None,
    };
    Some((
        MemberFilter { role, status },
        page_after(&q.cursor)?,
        page_after(&q.invitations)?,
    ))
}

/// What the invite form held, to show it again beside its errors.
#[derive(Default)]
struct Draft {
    email: String,
    role: String,
}

/// A refusal: the page's message (above the list, or beside an invite field) and status.
#[derive(Default)]
pub(crate) struct Outcome {
    status: Option<StatusCode>,
    message: Option<Markup>,
    email_error: Option<String>,
    role_error: Option<String>,
    draft: Draft,
}

impl Outcome {
    fn done(message: &str) -> Self {
        Self {
            message: Some(notice(message)),
            ..Self::default()
        }
    }

    /// A page-wide message of the caller's own making (the bulk report).
    pub(crate) fn with_message(message: Markup) -> Self {
        Self {
            message: Some(message),
            ..Self::default()
        }
    }

    pub(crate) fn failed(status: StatusCode, message: &str) -> Self {
        Self {
            status: Some(status),
            message: Some(failure(message)),
            ..Self::default()
        }
    }
}

fn failure(message: &str) -> Markup {
    html! { div.error role="alert" { p { (message) } } }
}

/// The roles the visitor may grant, as the service decides ([`ensure_can_grant`]).
fn grantable(role: Role) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| ensure_can_grant(role, *r).is_ok())
        .collect()
}

fn role_options(roles: &[Role], selected: &str) -> Markup {
    html! {
        @for r in roles {
            @if r.as_str() == selected {
                option value=(r.as_str()) selected { (r.as_str()) }
            } @else {
                option value=(r.as_str()) { (r.as_str()) }
            }
        }
    }
}

/// What the page reads before drawing: one page of members and one of pending invitations.
struct Listing {
    members: Vec<Member>,
    counts: tenantry_team::RoleCounts,
    next: Option<Cursor>,
    invitations: Vec<Invitation>,
    invitations_next: Option<Cursor>,
    invitations_total: u64,
}

async fn read(
    state: &web::Data<AppState>,
    v: &SignedIn,
    filter: MemberFilter,
    page: PageRequest,
    invitations: PageRequest,
) -> Result<Listing, HttpResponse> {
    let team = state.team.clone();
    let actor = v.actor.clone();
    let outcome = web::block(move || {
        let list = team.list(&actor, &filter, &page)?;
        let open = team.invitations(&actor, Some(InvitationState::Pending), &invitations)?;
        Ok::<_, TeamError>((list, open))
    })
    .await;
    let (list, open) = match outcome {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => {
            return Err(match explain(e) {
                Ok((status, message)) => {
                    crate::refusal::error_page(status, "The team could not be read", &message)
                }
                Err(res) => *res,
            })
        }
        Err(e) => return Err(crate::refusal::internal(&e)),
    };
    // The list is one sequence, members then open invitations; this page shows the
    // invitations on their own, so a cursor into them means the members are done.
    let next = list
        .page
        .next
        .filter(|c| c.id.parse::<InvitationId>().is_err());
    Ok(Listing {
        members: list.page.items,
        counts: list.counts,
        next,
        invitations: open.page.items,
        invitations_next: open.page.next,
        invitations_total: open.total,
    })
}

/// The whole page for `q`, after `outcome`.
pub(crate) async fn draw(
    state: &web::Data<AppState>,
    v: &SignedIn,
    q: &ListQuery,
    outcome: Outcome,
) -> HttpResponse {
    let Some((filter, page, invitations)) = parse_query(q) else {
        return crate::refusal::error_page(
            StatusCode::BAD_REQUEST,
            "This address could not be read",
            "A filter or page in the address is not one this page offers. Open the team page \
             from the navigation.",
        );
    };
    // The positions as the links carry them, re-encoded from what was read: a link repeats
    // only a cursor this server wrote, never the visitor's text.
    let at = |p: &PageRequest| p.after.as_ref().map(Cursor::encode).unwrap_or_default();
    let (members_at, invitations_at) = (at(&page), at(&invitations));
    let listing = match read(state, v, filter, page, invitations).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let csrf = v.csrf();
    let grant = grantable(v.actor.role);
    let c = listing.counts;
    let content = html! {
        @if let Some(m) = &outcome.message { (m) }
        form.card.filters method="get" action=(PATH) {
            h2 { "Members" }
            p.hint { (c.owner + c.admin + c.developer + c.viewer) " members: "
                (c.owner) " owner, " (c.admin) " admin, " (c.developer) " developer, "
                (c.viewer) " viewer; " (c.pending) " pending." }
            div.actions {
                label { "Filter by role"
                    select name="role" {
                        option value="" { "Any role" }
                        (role_options(&Role::ALL, &q.role))
                    }
                }
                label { "Filter by status"
                    select name="status" {
                        option value="" { "Any status" }
                        @for s in ["active", "suspended"] {
                            @if q.status == s { option value=(s) selected { (s) } }
                            @else { option value=(s) { (s) } }
                        }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        section.card aria-label="Member list" {
            @if listing.members.is_empty() {
                p { "No members match." }
            } @else {
                ul.keys.members {
                    @for m in &listing.members { li { (member_row(&csrf, v, &grant, m)) } }
                }
            }
            nav.actions aria-label="Pages" {
                @if !members_at.is_empty() {
                    a href=(page_href(q, "", &invitations_at)) { "First page" }
                }
                @if let Some(next) = &listing.next {
                    a href=(page_href(q, &next.encode(), &invitations_at)) { "Next page" }
                }
            }
        }
        @if !listing.members.is_empty() {
            form.stack.card #bulk method="post" action={ (PATH) "/bulk" } {
                h2 { "Selected members" }
                p.hint { "Tick members in the list above, then apply one action to each of them. \
                          Each member is changed on their own: the result lists what happened \
                          to each." }
                input type="hidden" name="csrf" value=(csrf);
                label { "Action"
                    select name="action" {
                        option value="suspend" { "Suspend" }
                        option value="reactivate" { "Reactivate" }
                        option value="change_role" { "Change role" }
                        option value="remove" { "Remove" }
                    }
                }
                label { "New role (for Change role)"
                    select name="role" { (role_options(&grant, "")) }
                }
                button type="submit" { "Apply to selected" }
            }
        }
        (invite_form(&csrf, &grant, &outcome))
        section.card aria-label="Pending invitations" {
            h2 { "Pending invitations" }
            @if listing.invitations.is_empty() {
                p { "No invitations are pending." }
            } @else {
                p.hint { (listing.invitations_total) " pending, oldest first." }
                ul.keys.members {
                    @for i in &listing.invitations { li { (invitation_row(&csrf, i)) } }
                }
            }
            nav.actions aria-label="Pages of invitations" {
                @if !invitations_at.is_empty() {
                    a href=(page_href(q, &members_at, "")) { "First page of invitations" }
                }
                @if let Some(next) = &listing.invitations_next {
                    a href=(page_href(q, &members_at, &next.encode())) { "Next page of invitations" }
                }
            }
        }
    };
    let status = outcome.status.unwrap_or(StatusCode::OK);
    signed_in_page(state, v, TITLE, Section::Team, status, content).await
}

/// The page's address with the filters of `q`, the members at `cursor` and the invitations at
/// `invitations` (empty: the first page).
fn page_href(q: &ListQuery, cursor: &str, invitations: &str) -> String {
    // Role and status come from fixed word lists (an unknown one is refused before drawing)
    // and cursors are hex: nothing to escape.
    let mut href = format!("{PATH}?role={}&status={}", q.role, q.status);
    for (name, value) in [("cursor", cursor), ("invitations", invitations)] {
        if !value.is_empty() {
            href.push('&');
            href.push_str(name);
            href.push('=');
            href.push_str(value);
        }
    }
    href
}

fn member_row(csrf: &str, v: &SignedIn, grant: &[Role], m: &Member) -> Markup {
    let id = m.user_id.to_string();
    let who = m.name.as_deref().unwrap_or(&m.email);
    let manageable = ensure_can_manage(v.actor.role, m.role).is_ok();
    html! {
        label.check {
            input type="checkbox" name="members" value=(id) form="bulk";
            " Select " (m.email)
        }
        dl.facts {
            dt { "Name" } dd { (who) }
            dt { "Email" } dd { (m.email) }
            dt { "Role" } dd { (m.role.as_str()) }
            dt { "Status" } dd { (m.status.as_str()) }
            dt { "Joined" } dd { (time(m.joined_at)) }
            dt { "Last active" } dd { (m.last_active_at.map_or_else(|| "never".to_owned(), time)) }
        }
        @if manageable {
            div.actions {
                form.actions method="post" action={ (PATH) "/members/" (id) "/role" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Role for " (m.email)
                        select name="role" { (role_options(grant, m.role.as_str())) }
                    }
                    button type="submit" aria-label={ "Change role of " (m.email) } { "Change role" }
                }
                @let (action, label) = if m.status == MemberStatus::Suspended { ("reactivate", "Reactivate") } else { ("suspend", "Suspend") };
                form method="post" action={ (PATH) "/members/" (id) "/" (action) } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" aria-label={ (label) " " (m.email) } { (label) }
                }
                form method="post" action={ (PATH) "/members/" (id) "/remove" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button.danger type="submit" aria-label={ "Remove " (m.email) } { "Remove" }
                }
            }
        } @else {
            p.hint { "Your role cannot change this member." }
        }
    }
}

fn invitation_row(csrf: &str, i: &Invitation) -> Markup {
    let id = i.id.to_string();
    html! {
        dl.facts {
            dt { "Email" } dd { (i.email.as_str()) }
            dt { "Role" } dd { (i.role.as_str()) }
            dt { "Sent" } dd { (time(i.resent_at.unwrap_or(i.created_at))) }
            dt { "Expires" } dd { (time(i.expires_at)) }
        }
        div.actions {
            form method="post" action={ (PATH) "/invitations/" (id) "/resend" } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" aria-label={ "Resend the invitation to " (i.email.as_str()) } { "Resend" }
            }
            form method="post" action={ (PATH) "/invitations/" (id) "/cancel" } {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" aria-label={ "Cancel the invitation to " (i.email.as_str()) } { "Cancel invitation" }
            }
        }
    }
}

fn invite_form(csrf: &str, grant: &[Role], o: &Outcome) -> Markup {
    let role = if o.draft.role.is_empty() {
        Role::Viewer.as_str()
    } else {
        o.draft.role.as_str()
    };
    html! {
        form.stack.card method="post" action={ (PATH) "/invite" } novalidate {
            h2 { "Invite someone" }
            input type="hidden" name="csrf" value=(csrf);
            label { "Email"
                @if o.email_error.is_some() {
                    input type="email" name="email" value=(o.draft.email) required aria-invalid="true" aria-describedby="email-error";
                } @else {
                    input type="email" name="email" value=(o.draft.email) required;
                }
                @if let Some(e) = &o.email_error { span.field-error id="email-error" { (e) } }
            }
            label { "Role"
                @if o.role_error.is_some() {
                    select name="role" aria-invalid="true" aria-describedby="role-error" { (role_options(grant, role)) }
                } @else {
                    select name="role" { (role_options(grant, role)) }
                }
                @if let Some(e) = &o.role_error { span.field-error id="role-error" { (e) } }
            }
            p.hint { "The invitation is emailed with a link that expires in 7 days." }
            button type="submit" { "Send invitation" }
        }
    }
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    query: Result<web::Query<ListQuery>, actix_web::Error>,
) -> HttpResponse {
    let v = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = refused_visitor(&v) {
        return res;
    }
    // A query that cannot be read at all (a repeated field) is drawn as an unknown filter.
    let q = query.map(web::Query::into_inner).unwrap_or(ListQuery {
        role: "?".into(),
        ..ListQuery::default()
    });
    draw(&state, &v, &q, Outcome::default()).await
}

/// The visitor of a team form: signed in, the form's token, a manager.
async fn manager(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    csrf: &str,
) -> Result<SignedIn, HttpResponse> {
    let v = poster(req, state, config, ADMITS, csrf).await?;
    match refused_visitor(&v) {
        Some(res) => Err(res),
        None => Ok(v),
    }
}

/// The page after a team call: `done` on success, the explained refusal otherwise.
async fn after<T>(
    state: &web::Data<AppState>,
    v: &SignedIn,
    result: Result<Result<T, TeamError>, actix_web::error::BlockingError>,
    done: impl FnOnce(T) -> String,
) -> HttpResponse {
    let outcome = match result {
        Ok(Ok(value)) => Outcome::done(&done(value)),
        Ok(Err(e)) => match explain(e) {
            Ok((status, message)) => Outcome::failed(status, &message),
            Err(res) => return *res,
        },
        Err(e) => return crate::refusal::internal(&e),
    };
    draw(state, v, &ListQuery::default(), outcome).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<InviteForm>,
) -> HttpResponse {
    let v = match manager(&req, &state, &config, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[("Email", &f.email, EMAIL_MAX), ("Role", &f.role, ID_MAX)]) {
        return res;
    }
    let draft = Draft {
        email: f.email.clone(),
        role: f.role.clone(),
    };
    let beside = |email_error: Option<String>, role_error: Option<String>, status| Outcome {
        status: Some(status),
        email_error,
        role_error,
        draft: Draft {
            email: f.email.clone(),
            role: f.role.clone(),
        },
        ..Outcome::default()
    };
    let Ok(email) = f.email.trim().parse::<Email>() else {
        let o = beside(
            Some("Enter an email address.".into()),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        return draw(&state, &v, &ListQuery::default(), o).await;
    };
    let Ok(role) = f.role.parse::<Role>() else {
        let o = beside(
            None,
            Some("Choose one of the listed roles.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        return draw(&state, &v, &ListQuery::default(), o).await;
    };
    let request = InviteRequest {
        email,
        role,
        department: None,
        title: None,
        message: None,
        permissions: None,
        lifetime: Default::default(),
    };
    let team = state.team.clone();
    let actor = v.actor.clone();
    match web::block(move || team.invite(&actor, request)).await {
        Ok(Ok(issued)) => {
            let message = format!(
                "An invitation was sent to {} as {}.",
                issued.invitation.email.as_str(),
                issued.invitation.role.as_str()
            );
            draw(&state, &v, &ListQuery::default(), Outcome::done(&message)).await
        }
        Ok(Err(e)) => match explain(e.clone()) {
            Ok((status, message)) => {
                let o = match e {
                    TeamError::InvalidEmail { .. } => beside(Some(message), None, status),
                    TeamError::InvalidField { field: "role", .. }
                    | TeamError::RoleAboveOwn { .. } => beside(None, Some(message), status),
                    _ => Outcome {
                        draft,
                        ..Outcome::failed(status, &message)
                    },
                };
                draw(&state, &v, &ListQuery::default(), o).await
            }
            Err(res) => *res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ActionForm {
    csrf: String,
    role: String,
}

async fn member_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<(String, String)>,
    web::Form(f): web::Form<ActionForm>,
) -> HttpResponse {
    let v = match manager(&req, &state, &config, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (raw, action) = path.into_inner();
    if let Some(res) = too_long(&[("The member", &raw, ID_MAX), ("Role", &f.role, ID_MAX)]) {
        return res;
    }
    let change = match action.as_str() {
        "suspend" => Some(MemberStatus::Suspended),
        "reactivate" => Some(MemberStatus::Active),
        "role" | "remove" => None,
        _ => return crate::refusal::not_found().await,
    };
    let team = state.team.clone();
    let actor = v.actor.clone();
    // An id that cannot exist names no member, as in the API.
    let user = raw.parse::<tenantry_kernel::UserId>();
    if action == "remove" {
        let result = web::block(move || {
            let user = user.map_err(|_| TeamError::MemberNotFound)?;
            let email = team.get(&actor, user)?.email;
            team.remove(&actor, user).map(|_| email)
        })
        .await;
        return after(&state, &v, result, |email| {
            format!("{email} was removed; their keys and sessions no longer work.")
        })
        .await;
    }
    let role = if action == "role" {
        match f.role.parse::<Role>() {
            Ok(r) => Some(r),
            Err(_) => {
                let o = Outcome::failed(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Role: choose one of the listed roles. Nothing was changed.",
                );
                return draw(&state, &v, &ListQuery::default(), o).await;
            }
        }
    } else {
        None
    };
    let result = web::block(move || {
        let user = user.map_err(|_| TeamError::MemberNotFound)?;
        let change = MemberChange {
            role,
            status: change,
            ..MemberChange::default()
        };
        team.update(&actor, user, change)
    })
    .await;
    after(&state, &v, result, |m| {
        format!(
            "{} is now {} ({}).",
            m.email,
            m.role.as_str(),
            m.status.as_str()
        )
    })
    .await
}

async fn invitation_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<(String, String)>,
    web::Form(f): web::Form<ActionForm>,
) -> HttpResponse {
    let v = match manager(&req, &state, &config, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (raw, action) = path.into_inner();
    if let Some(res) = too_long(&[("The invitation", &raw, ID_MAX)]) {
        return res;
    }
    let team = state.team.clone();
    let actor = v.actor.clone();
    let id = raw
        .parse::<InvitationId>()
        .map_err(|_| TeamError::InvitationNotFound);
    match action.as_str() {
        "resend" => {
            let result = web::block(move || team.resend(&actor, id?)).await;
            after(&state, &v, result, |issued| {
                format!(
                    "The invitation to {} was sent again.",
                    issued.invitation.email.as_str()
                )
            })
            .await
        }
        "cancel" => {
            let result = web::block(move || team.cancel(&actor, id?)).await;
            after(&state, &v, result, |_| {
                "The invitation was cancelled.".into()
            })
            .await
        }
        _ => crate::refusal::not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_filters_are_read() {
        let q = |role: &str, status: &str, cursor: &str| ListQuery {
            role: role.into(),
            status: status.into(),
            cursor: cursor.into(),
            invitations: String::new(),
        };
        assert!(parse_query(&q("", "", "")).is_some());
        assert!(parse_query(&q("admin", "suspended", "")).is_some());
        assert!(parse_query(&q("root", "", "")).is_none());
        assert!(parse_query(&q("", "pending", "")).is_none());
        assert!(parse_query(&q("", "", "zz")).is_none());
        assert!(parse_query(&q("", "", &"a".repeat(300))).is_none());
        let invitations = |at: &str| ListQuery {
            invitations: at.into(),
            ..ListQuery::default()
        };
        let written = Cursor {
            created_at_micros: 7,
            id: "inv_x".into(),
        }
        .encode();
        let (_, members, open) = parse_query(&invitations(&written)).expect("a written cursor");
        assert!(
            members.after.is_none(),
            "the members stay on their first page"
        );
        assert_eq!(open.after.map(|c| c.encode()), Some(written));
        assert!(parse_query(&invitations("zz")).is_none());
        assert!(parse_query(&invitations(&"a".repeat(300))).is_none());
    }

    #[test]
    fn each_lists_page_link_keeps_the_filters_and_the_other_lists_position() {
        let q = ListQuery {
            role: "admin".into(),
            status: "active".into(),
            ..ListQuery::default()
        };
        assert_eq!(
            page_href(&q, "", ""),
            "/console/team?role=admin&status=active"
        );
        assert_eq!(
            page_href(&q, "6d", "6e"),
            "/console/team?role=admin&status=active&cursor=6d&invitations=6e"
        );
        assert_eq!(
            page_href(&q, "", "6e"),
            "/console/team?role=admin&status=active&invitations=6e"
        );
    }

    #[test]
    fn an_admin_grants_up_to_admin_and_never_owner() {
        assert_eq!(
            grantable(Role::Admin),
            [Role::Admin, Role::Developer, Role::Viewer]
        );
        assert_eq!(
            grantable(Role::Owner),
            [Role::Admin, Role::Developer, Role::Viewer]
        );
        assert!(grantable(Role::Developer).is_empty());
    }
}
