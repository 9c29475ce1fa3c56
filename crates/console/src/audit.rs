//! `/console/audit`: the account's audit log, filtered by actor, action and time range, a page
//! at a time; `/console/audit.csv`: every entry the same filters select, as a CSV download.
//!
//! Both are `AuditService::list`, the call of `GET /v2/accounts/audit-logs`, with the
//! session's `Actor`: the account is the session's (another account's entries are never
//! listed; another account's actor id selects nothing), the role is the API's (admins and the
//! owner; `route_roles.rs`), so is its scope (`audit:read`: a session a portal link opened
//! carries its minter's scopes), and an entry shows what the API shows (details as written,
//! secrets masked when written). The filters are a GET form, so a filtered page is a link that
//! works without script, and nothing here changes anything (no form token to check).
//!
//! The download is streamed: the first page is read before answering (so a refusal or a store
//! failure is a page with its status, not a broken file), then each further page is read
//! through `web::block` only when the previous one has been handed to the connection. A store
//! failure after the first page ends the response with an error, so the browser reports a
//! failed download instead of saving a file that looks complete.

use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_kernel::{Cursor, KernelError, PageRequest};
use tenantry_security::{AuditEntry, AuditFilter, SecurityError};

use crate::admission::{Admins, PageOf};
use crate::audit_csv;
use crate::form::{too_long, ID_MAX, NAME_MAX};
use crate::layout::{time, Section};
use crate::session::SignedIn;
use crate::visitor::signed_in_page;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").route(web::get().to(show)))
        .service(web::resource("/audit.csv").route(web::get().to(download)));
}

const TITLE: &str = "Audit log";
const PATH: &str = "/console/audit";
/// Both addresses are for admins and the owner: the role of `GET /v2/accounts/audit-logs`
/// (`route_roles.rs`); the service checks it again.
type Page = PageOf<Admins>;
/// Entries per page of the download: few reads for a long log, little memory per read.
const CSV_PAGE: u32 = 500;
/// Longest accepted time and cursor values (a cursor is at most 256 characters).
const TIME_MAX: usize = 40;
const CURSOR_MAX: usize = 256;

/// The query of both addresses, as typed; empty fields filter nothing.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Query {
    actor: String,
    action: String,
    since: String,
    until: String,
    cursor: String,
}

/// Filters that could not be read, each beside its field.
#[derive(Default)]
struct Errors {
    since: Option<&'static str>,
    until: Option<&'static str>,
}

const TIME_HINT: &str = "Use a UTC date (2026-03-20) or date and time (2026-03-20 16:30).";

/// A time as typed in a filter, read as UTC: a date (its midnight), a date and time to the
/// minute or second (`T` or a space between them), or RFC 3339 with its offset.
fn parse_time(raw: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let spaced = raw.replacen('T', " ", 1);
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&spaced, format) {
            return Ok(Some(t.and_utc()));
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or(())
}

/// The filter the query asks for, or what is wrong with it.
fn filter(q: &Query) -> Result<AuditFilter, Errors> {
    let since = parse_time(&q.since);
    let until = parse_time(&q.until);
    let errors = Errors {
        since: since.is_err().then_some(TIME_HINT),
        until: until.is_err().then_some(TIME_HINT),
    };
    match (since, until) {
        (Ok(since), Ok(until)) => Ok(AuditFilter {
            actor: Some(q.actor.trim().to_owned()).filter(|a| !a.is_empty()),
            action: Some(q.action.trim().to_owned()).filter(|a| !a.is_empty()),
            since,
            until,
        }),
        _ => Err(errors),
    }
}

/// The query string of `q`'s filters (and `cursor`, when given), for links.
fn query_string(q: &Query, cursor: Option<&str>) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("since", &q.since),
        ("until", &q.until),
    ] {
        if !value.trim().is_empty() {
            out.append_pair(name, value.trim());
        }
    }
    if let Some(cursor) = cursor {
        out.append_pair("cursor", cursor);
    }
    out.finish()
}

/// The query of `req`, its length bounds checked; a refusal page when it cannot be read.
fn read_query(req: &HttpRequest) -> Result<Query, Box<HttpResponse>> {
    let q = web::Query::<Query>::from_query(req.query_string())
        .map_err(|_| {
            Box::new(crate::refusal::bad_form(
                "The filters could not be read. Go back and try again.",
            ))
        })?
        .into_inner();
    if let Some(res) = too_long(&[
        ("Actor", &q.actor, ID_MAX),
        ("Action", &q.action, NAME_MAX),
        ("From", &q.since, TIME_MAX),
        ("Before", &q.until, TIME_MAX),
        ("The page link", &q.cursor, CURSOR_MAX),
    ]) {
        return Err(Box::new(res));
    }
    Ok(q)
}

/// The page of a refused listing: the role's refusal, a store failure, or a server fault. The
/// listing produces no other refusal (the filter and page were read here).
fn refusal(e: SecurityError) -> HttpResponse {
    match e {
        SecurityError::Kernel(KernelError::InsufficientRole { .. }) => crate::refusal::error_page(
            StatusCode::FORBIDDEN,
            "Not available to your role",
            "The audit log is for admins and the owner of this account.",
        ),
        SecurityError::Port(_) => crate::refusal::unavailable(),
        other => crate::refusal::internal(&other),
    }
}

/// One page of entries, read through the service.
async fn read_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<tenantry_kernel::Page<AuditEntry>, HttpResponse> {
    let audit = state.audit.clone();
    let actor = visitor.actor.clone();
    match web::block(move || audit.list(&actor, &filter, &page)).await {
        Ok(Ok(page)) => Ok(page),
        Ok(Err(e)) => Err(refusal(e)),
        Err(e) => Err(crate::refusal::internal(&e)),
    }
}

fn field_error(id: &str, message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { span.field-error id=(id) { (m) } } }
}

/// A filter's input, marked invalid with its error when it has one.
fn time_input(name: &str, value: &str, error_id: &str, error: Option<&str>) -> Markup {
    html! {
        @if error.is_some() {
            input type="text" name=(name) value=(value) aria-invalid="true" aria-describedby=(error_id);
        } @else {
            input type="text" name=(name) value=(value);
        }
        (field_error(error_id, error))
    }
}

fn filter_form(q: &Query, errors: &Errors) -> Markup {
    html! {
        form.stack.card method="get" action=(PATH) {
            h2 { "Filter" }
            label { "Actor"
                span.hint { "A member's id (usr_…), or operator." }
                input type="text" name="actor" value=(q.actor);
            }
            label { "Action"
                span.hint { "For example settings.updated or key.created." }
                input type="text" name="action" value=(q.action);
            }
            label { "From (UTC)"
                span.hint { "Entries at or after this time." }
                (time_input("since", &q.since, "since-error", errors.since))
            }
            label { "Before (UTC)"
                span.hint { "Entries before this time." }
                (time_input("until", &q.until, "until-error", errors.until))
            }
            button type="submit" { "Show entries" }
        }
    }
}

fn entries_table(entries: &[AuditEntry]) -> Markup {
    html! {
        div.scroll role="region" aria-label="Audit entries" tabindex="0" {
            table.entries {
                thead { tr {
                    th scope="col" { "Time" }
                    th scope="col" { "Actor" }
                    th scope="col" { "Action" }
                    th scope="col" { "Target" }
                    th scope="col" { "Address" }
                    th scope="col" { "Details" }
                } }
                tbody {
                    @for e in entries {
                        tr {
                            td { (time(e.created_at)) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.target.as_deref().unwrap_or("")) }
                            td { (e.ip.as_deref().unwrap_or("")) }
                            td { @if let Some(d) = &e.details { code { (d.to_string()) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The query both addresses take and the filter it asks for, or the page that says why not
/// (an unreadable address, or the filter form with each field's error).
async fn asked(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    visitor: &SignedIn,
) -> Result<(Query, AuditFilter), HttpResponse> {
    let q = read_query(req).map_err(|res| *res)?;
    match filter(&q) {
        Ok(f) => Ok((q, f)),
        Err(errors) => {
            let content = filter_form(&q, &errors);
            Err(signed_in_page(
                state,
                visitor,
                TITLE,
                Section::Audit,
                StatusCode::UNPROCESSABLE_ENTITY,
                content,
            )
            .await)
        }
    }
}

async fn show(req: HttpRequest, state: web::Data<AppState>, page: Page) -> HttpResponse {
    let visitor = page.visitor;
    let (q, filter) = match asked(&req, &state, &visitor).await {
        Ok(asked) => asked,
        Err(res) => return res,
    };
    let cursor = q.cursor.trim();
    let Ok(page) = PageRequest::parse(None, Some(cursor).filter(|c| !c.is_empty())) else {
        return crate::refusal::error_page(
            StatusCode::BAD_REQUEST,
            "This page link is not valid",
            "Go back to the first page of the audit log and page on from there.",
        );
    };
    let result = match read_page(&state, &visitor, filter, page).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let download = format!("{PATH}.csv?{}", query_string(&q, None));
    let content = html! {
        (filter_form(&q, &Errors::default()))
        section.card {
            h2 { "Entries" }
            p { "Newest first. " a href=(download) download { "Download these entries (CSV)" } }
            @if result.items.is_empty() {
                p { "No entries match these filters." }
            } @else {
                (entries_table(&result.items))
            }
            nav.actions aria-label="Pages" {
                @if !cursor.is_empty() {
                    a href={ (PATH) "?" (query_string(&q, None)) } { "First page" }
                }
                @if let Some(next) = &result.next {
                    a href={ (PATH) "?" (query_string(&q, Some(&next.encode()))) } { "Next page" }
                }
            }
        }
    };
    signed_in_page(
        &state,
        &visitor,
        TITLE,
        Section::Audit,
        StatusCode::OK,
        content,
    )
    .await
}

/// What the download still has to send: the first page's rows are sent with the header; each
/// later step reads the page after `next`.
struct Remaining {
    audit: std::sync::Arc<tenantry_security::AuditService>,
    actor: tenantry_kernel::Actor,
    filter: AuditFilter,
    next: Option<Cursor>,
}

/// The rows of `entries` as one chunk.
fn rows(entries: &[AuditEntry]) -> Bytes {
    Bytes::from(entries.iter().map(audit_csv::row).collect::<String>())
}

async fn download(req: HttpRequest, state: web::Data<AppState>, page: Page) -> HttpResponse {
    let visitor = page.visitor;
    let (_, filter) = match asked(&req, &state, &visitor).await {
        Ok(asked) => asked,
        Err(res) => return res,
    };
    let first_page = PageRequest {
        limit: CSV_PAGE,
        after: None,
    };
    let first = match read_page(&state, &visitor, filter.clone(), first_page).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let mut head = String::from(audit_csv::HEADER);
    head.extend(first.items.iter().map(audit_csv::row));
    let remaining = Remaining {
        audit: state.audit.clone(),
        actor: visitor.actor.clone(),
        filter,
        next: first.next,
    };
    let later = futures_util::stream::unfold(Some(remaining), |state| async move {
        let mut state = state?;
        let after = state.next.take()?;
        let (audit, actor, filter) = (
            state.audit.clone(),
            state.actor.clone(),
            state.filter.clone(),
        );
        let page = PageRequest {
            limit: CSV_PAGE,
            after: Some(after),
        };
        match web::block(move || audit.list(&actor, &filter, &page)).await {
            Ok(Ok(page)) => {
                state.next = page.next;
                Some((Ok(rows(&page.items)), Some(state)))
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "audit download ended early");
                Some((
                    Err(std::io::Error::other("the audit log could not be read")),
                    None,
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "audit download ended early");
                Some((
                    Err(std::io::Error::other("the audit log could not be read")),
                    None,
                ))
            }
        }
    });
    let body = futures_util::stream::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) }),
        later,
    );
    let date = state.clock.now().format("%Y-%m-%d");
    let filename = format!("audit-{}-{date}.csv", visitor.actor.account_id);
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_read_as_utc() {
        let t = |s: &str| parse_time(s).map(|t| t.map(|t| t.to_rfc3339()));
        assert_eq!(t(""), Ok(None));
        assert_eq!(
            t("2026-03-20"),
            Ok(Some("2026-03-20T00:00:00+00:00".into()))
        );
        assert_eq!(
            t("2026-03-20T16:30"),
            Ok(Some("2026-03-20T16:30:00+00:00".into()))
        );
        assert_eq!(
            t(" 2026-03-20 16:30:05 "),
            Ok(Some("2026-03-20T16:30:05+00:00".into()))
        );
        assert_eq!(
            t("2026-03-20T16:30:00+02:00"),
            Ok(Some("2026-03-20T14:30:00+00:00".into()))
        );
        assert!(t("yesterday").is_err());
        assert!(t("2026-13-01").is_err());
    }

    #[test]
    fn links_keep_the_filters_encoded() {
        let q = Query {
            actor: " usr_1 ".into(),
            action: "a&b=c".into(),
            ..Query::default()
        };
        assert_eq!(query_string(&q, None), "actor=usr_1&action=a%26b%3Dc");
        assert_eq!(
            query_string(&q, Some("ab")),
            "actor=usr_1&action=a%26b%3Dc&cursor=ab"
        );
    }
}
