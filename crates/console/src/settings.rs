//! `/console/settings` and `/console/settings/{section}`: the account settings API's sections
//! (notifications, billing, security, integrations, your preferences), each as one form.
//!
//! Reading is `SettingsService::section` and writing `update_section_if`, the calls of
//! `GET` and `PUT /v2/accounts/settings/{section}`, with the session's `Actor`: every member
//! reads every section, and a member below the section's write role sees its values without a
//! form (the service refuses the write anyway). The form posts the whole section with the ETag
//! of the version it was drawn from as `If-Match`, so an edit made meanwhile is never
//! overwritten: the page comes back showing, field by field, what the visitor opened, what is
//! saved now and what they sent (`settings_conflict`), with a form of the saved values and the
//! visitor's changes nobody else made. The security section's allowlist shows whether it
//! covers the visitor's address; the service's lockout guard refuses a list that does not (the
//! API's message). The notifications page sends a test over a saved channel
//! (`test_notification`, the call of `POST /v2/accounts/settings/notifications/test`) and shows
//! what the receiver answered.
//!
//! The fields come from the section's JSON Schema (`settings_form`); secrets are write-only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde_json::Value;
use tenantry_http::AppState;
use tenantry_settings::{
    Preconditions, Section as SettingsSection, SectionView, SettingsError, TestChannel, TestRequest,
};

use crate::form::{too_long, ID_MAX};
use crate::layout::{notice, Section};
use crate::session::SignedIn;
use crate::settings_conflict::{base_of, compare, posted_base, typed_secret, BASE_MAX};
use crate::settings_form::{collect, shown, value_at, Field, Form, Kind, Posted, TEXT_MAX};
use crate::settings_refusal::{page_refusal, refused, Refused};
use crate::visitor::{below, poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings").route(web::get().to(index)))
        // Before `{section}`, which would otherwise take this path.
        .service(web::resource("/settings/notifications/test").route(web::post().to(send_test)))
        .service(
            web::resource("/settings/{section}")
                // The form carries the values it was drawn from besides its inputs (at most
                // `BASE_MAX` characters, percent-encoded): room for both.
                .app_data(crate::form::config_with_limit(
                    crate::form::FORM_LIMIT + 2 * BASE_MAX,
                ))
                .route(web::get().to(show))
                .route(web::post().to(save)),
        );
}

const ADMITS: Admits = Admits::Unrestricted;
const PATH: &str = "/console/settings";
/// Longest line list a form may carry (the form body limit is lower still).
const LINES_MAX: usize = 64 * 1024;
/// Longest excerpt of a receiver's answer shown.
const EXCERPT_MAX: usize = 500;

fn title(section: SettingsSection) -> &'static str {
    match section {
        SettingsSection::Notifications => "Notification settings",
        SettingsSection::Billing => "Billing settings",
        SettingsSection::Security => "Security settings",
        SettingsSection::Integrations => "Integration settings",
        SettingsSection::Preferences => "Your preferences",
        SettingsSection::Organization => "Organization settings",
    }
}

/// The section of a path: one of the account settings API's five, or none.
fn section_of(name: &str) -> Option<SettingsSection> {
    SettingsSection::parse(name).filter(|s| SettingsSection::ALL.contains(s))
}

/// A label for a field path: `api_access.max_api_keys` → "API access: max API keys".
pub(crate) fn label(path: &str) -> String {
    let words = |part: &str| {
        part.split('_')
            .map(|w| match w {
                "api" | "ip" | "url" | "id" | "mfa" => w.to_ascii_uppercase(),
                _ => w.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = path
        .split('.')
        .map(|part| {
            let (name, index) = part.split_once('[').unwrap_or((part, ""));
            let n = index.trim_end_matches(']').parse::<usize>().ok();
            match n {
                Some(i) => format!("{} {}", words(name), i + 1),
                None => words(name),
            }
        })
        .collect::<Vec<_>>()
        .join(": ");
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    out
}

fn dom_id(name: &str) -> String {
    let mut id = String::from("f-");
    id.extend(
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }),
    );
    id
}

/// Where the form's values come from: the section as read, or the form as posted.
enum Values<'a> {
    Doc(&'a Value),
    Posted(&'a Posted),
}

/// The paths of the section's stored secrets (the service's `configured_secrets`).
struct Secrets(Vec<String>);

impl Values<'_> {
    fn text(&self, name: &str) -> String {
        match self {
            Values::Doc(doc) => shown(value_at(doc, name)),
            Values::Posted(p) => p
                .get(name)
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn checked(&self, name: &str) -> bool {
        match self {
            Values::Doc(doc) => value_at(doc, name) == Some(&Value::Bool(true)),
            Values::Posted(p) => p.contains_key(name),
        }
    }

    fn picks(&self, name: &str) -> Vec<String> {
        match self {
            Values::Doc(doc) => value_at(doc, name)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            Values::Posted(p) => p.get(name).cloned().unwrap_or_default(),
        }
    }

    fn items(&self, name: &str, max: usize) -> usize {
        match self {
            Values::Doc(doc) => value_at(doc, name)
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            Values::Posted(p) => (0..=max)
                .rev()
                .find(|i| {
                    let prefix = format!("{name}[{i}].");
                    p.keys().any(|k| k.starts_with(&prefix))
                })
                .map_or(0, |i| i + 1),
        }
    }
}

/// What a page shows besides the form: refusals per field and for the whole form, the
/// differences of a conflicting edit, a test's answer, and the version the form carries when it
/// is not the section shown (a refused form keeps the one it was drawn from).
#[derive(Default)]
pub(crate) struct Extras {
    pub message: Option<Markup>,
    pub form_errors: Vec<String>,
    pub field_errors: std::collections::BTreeMap<String, String>,
    pub conflict: Option<Markup>,
    pub test: Option<Markup>,
    pub version: Option<Version>,
}

/// The version a form was drawn from: its ETag, and the values it showed (none when too long).
pub(crate) struct Version {
    pub etag: String,
    pub base: Option<String>,
}

fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(m) = message { span.field-error id=(id) { (m) } } }
}

fn input(
    field: &Field,
    name: &str,
    values: &Values<'_>,
    secrets: &Secrets,
    extras: &Extras,
) -> Markup {
    let id = dom_id(name);
    let error = extras.field_errors.get(name);
    let err_id = format!("{id}-error");
    let described = error.map(|_| err_id.as_str());
    let invalid = error.map(|_| "true");
    let text = values.text(name);
    html! {
        @match &field.kind {
            Kind::Bool => {
                label.check {
                    input type="checkbox" id=(id) name=(name) checked[values.checked(name)] aria-invalid=[invalid] aria-describedby=[described];
                    " " (label(name))
                }
                (field_error(&err_id, error))
            }
            Kind::Integer { min, max, .. } | Kind::Number { min, max, .. } => {
                label { (label(name))
                    @if let (Some(min), Some(max)) = (min, max) { span.hint { (min) " to " (max) } }
                    input type="number" id=(id) name=(name) value=(text)
                        step=(if matches!(field.kind, Kind::Integer { .. }) { "1" } else { "any" })
                        min=[min] max=[max] aria-invalid=[invalid] aria-describedby=[described];
                    (field_error(&err_id, error))
                }
            }
            Kind::Choice { options, nullable } => {
                label { (label(name))
                    select id=(id) name=(name) aria-invalid=[invalid] aria-describedby=[described] {
                        // Inside a list item the empty choice marks the spare item.
                        @if *nullable || name.contains('[') {
                            option value="" selected[text.is_empty()] { "(none)" }
                        }
                        @for o in options {
                            option value=(o) selected[*o == text] { (o) }
                        }
                    }
                    (field_error(&err_id, error))
                }
            }
            Kind::Text { max, .. } => {
                label { (label(name))
                    input type="text" id=(id) name=(name) value=(text) maxlength=(max)
                        aria-invalid=[invalid] aria-describedby=[described];
                    (field_error(&err_id, error))
                }
            }
            Kind::Secret => {
                label { (label(name))
                    span.hint { @if secrets.0.iter().any(|s| s == name) {
                        "set — leave empty to keep"
                    } @else { "not set" } }
                    input type="password" id=(id) name=(name) value="" autocomplete="new-password"
                        aria-invalid=[invalid] aria-describedby=[described];
                    (field_error(&err_id, error))
                }
            }
            Kind::Lines { .. } => {
                label { (label(name)) span.hint { "One per line." }
                    textarea id=(id) name=(name) rows="4" aria-invalid=[invalid] aria-describedby=[described] { (text) }
                    (field_error(&err_id, error))
                }
            }
            Kind::Picks { options } => {
                fieldset.scopes aria-describedby=[described] {
                    legend { (label(name)) }
                    // Ticked ones first, in their stored order, so a form sent back unchanged
                    // keeps the order.
                    @let ticked = values.picks(name);
                    @for o in ticked.iter().filter(|t| options.contains(t)).chain(options.iter().filter(|o| !ticked.contains(o))) {
                        label.check {
                            input type="checkbox" name=(name) value=(o) checked[ticked.contains(o)];
                            " " (o)
                        }
                    }
                    (field_error(&err_id, error))
                }
            }
            Kind::Items { max_items, fields } => {
                @let count = values.items(name, *max_items);
                fieldset.items aria-describedby=[described] {
                    legend { (label(name)) }
                    p.hint { "Empty an item's fields to remove it; fill in the last one to add one." }
                    @for i in 0..(count + 1).min(*max_items) {
                        @let prefix = format!("{name}[{i}]");
                        fieldset.item {
                            legend { (label(&prefix)) }
                            @for f in fields {
                                @let sub = format!("{prefix}.{}", f.path);
                                (input(f, &sub, values, secrets, extras))
                            }
                        }
                    }
                    (field_error(&err_id, error))
                }
            }
        }
    }
}

/// The values shown without a form, for a member who may not change them.
fn read_only(form: &Form, doc: &Value) -> Markup {
    html! {
        dl.facts {
            @for f in &form.fields {
                dt { (label(&f.path)) }
                dd { @match f.kind {
                    // As the API's read shows it: whether one is set, or nothing.
                    Kind::Secret => { (if value_at(doc, &f.path).is_some_and(Value::is_object) { "set" } else { "—" }) }
                    Kind::Items { .. } => {
                        @for item in value_at(doc, &f.path).and_then(Value::as_array).into_iter().flatten() {
                            // Secrets inside items read as `{"configured": true}`: not shown.
                            @let mut item = item.clone();
                            @let _ = item.as_object_mut().map(|m| m.retain(|_, v| !v.is_object()));
                            span.secret { (item) } " "
                        }
                    }
                    _ => { (shown(value_at(doc, &f.path)).replace('\n', ", ")) }
                } }
            }
        }
    }
}

/// "Your address: X — covered / NOT covered by this list", for the list on the page.
fn allowlist_status(visitor: &SignedIn, values: &Values<'_>) -> Markup {
    let ip = visitor.actor.ip;
    let list: Vec<tenantry_security::Cidr> = values
        .text("api_access.ip_whitelist")
        .lines()
        .filter_map(|l| tenantry_security::Cidr::parse(l.trim()).ok())
        .collect();
    let covered = tenantry_security::AllowlistPolicy::new(true, &list).allows(ip);
    let address = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    html! {
        p.notice #allowlist-status role="status" {
            "Your address: " strong { (address) } " — "
            @if covered { "covered by this list" } @else { strong { "NOT covered by this list" } }
            @if !covered { ". Requiring the allowlist with this list would lock you out; it is refused." }
        }
    }
}

/// The notification test form, and the last test's answer.
fn test_form(csrf: &str, extras: &Extras) -> Markup {
    html! {
        form.stack.card method="post" action={ (PATH) "/notifications/test" } {
            h2 { "Send a test notification" }
            p.hint { "Sends a real message over a saved channel and shows what the receiver answered." }
            input type="hidden" name="csrf" value=(csrf);
            label { "Channel"
                select name="type" {
                    option value="email" { "email" }
                    option value="slack" { "slack" }
                    option value="webhook" { "webhook" }
                }
            }
            label { "Send to instead"
                span.hint { "Optional: an address (email), a Slack webhook URL or a URL (webhook) \
                            to test instead of the saved one; nothing is saved." }
                input type="text" name="target" value="";
            }
            button type="submit" { "Send test" }
        }
        @if let Some(test) = &extras.test { (test) }
    }
}

#[allow(clippy::too_many_arguments)]
async fn section_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    section: SettingsSection,
    view: &SectionView,
    values: &Values<'_>,
    extras: &Extras,
    status: StatusCode,
) -> HttpResponse {
    let form = Form::of_schema(&tenantry_settings::schema::section_schema(section));
    let csrf = visitor.csrf();
    let writer = visitor.actor.role >= section.required_role();
    let secrets = if writer {
        let settings = state.settings.clone();
        let actor = visitor.actor.clone();
        match web::block(move || settings.configured_secrets(&actor, section)).await {
            Ok(Ok(paths)) => Secrets(paths),
            Ok(Err(e)) => return page_refusal(e),
            Err(e) => return crate::refusal::internal(&e),
        }
    } else {
        Secrets(Vec::new())
    };
    let path = format!("{PATH}/{}", section.as_str());
    let drawn;
    let version = match &extras.version {
        Some(v) => v,
        None => {
            drawn = Version {
                etag: view.etag.clone(),
                base: base_of(&form, &view.document),
            };
            &drawn
        }
    };
    let content = html! {
        p { a href=(PATH) { "All settings" } }
        @if let Some(m) = &extras.message { (m) }
        @if let Some(conflict) = &extras.conflict { (conflict) }
        @if !extras.form_errors.is_empty() {
            div.error role="alert" { @for e in &extras.form_errors { p { (e) } } }
        }
        @if section == SettingsSection::Security { (allowlist_status(visitor, values)) }
        @if writer {
            form.stack.card method="post" action=(path) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="etag" value=(version.etag);
                @if let Some(base) = &version.base { input type="hidden" name="base" value=(base); }
                @for f in &form.fields { (input(f, &f.path, values, &secrets, extras)) }
                button type="submit" { "Save" }
            }
        } @else {
            section.card {
                p { "Your role can read these settings; changing them needs the "
                    (section.required_role().as_str()) " role." }
                (read_only(&form, &view.document))
            }
        }
        @if section == SettingsSection::Notifications && writer { (test_form(&csrf, extras)) }
    };
    signed_in_page(
        state,
        visitor,
        title(section),
        Section::Settings,
        status,
        content,
    )
    .await
}

/// The section as read, or the page to show instead.
async fn read_section(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    section: SettingsSection,
) -> Result<SectionView, HttpResponse> {
    let settings = state.settings.clone();
    let actor = visitor.actor.clone();
    match web::block(move || settings.section(&actor, section)).await {
        Ok(Ok(view)) => Ok(view),
        Ok(Err(e)) => Err(page_refusal(e)),
        Err(e) => Err(crate::refusal::internal(&e)),
    }
}

async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    let visitor = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let content = html! {
        section.card {
            p { "The account's settings, one page per section. Sections your role cannot change \
                 show their values only." }
            ul.keys {
                @for s in SettingsSection::ALL {
                    li {
                        a href={ (PATH) "/" (s.as_str()) } { (title(s)) }
                        " "
                        span.hint { @if visitor.actor.role >= s.required_role() { "you can change these" } @else { "read only for your role" } }
                    }
                }
            }
        }
    };
    signed_in_page(
        &state,
        &visitor,
        "Settings",
        Section::Settings,
        StatusCode::OK,
        content,
    )
    .await
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
) -> HttpResponse {
    let visitor = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(section) = section_of(&path) else {
        return crate::refusal::not_found().await;
    };
    match read_section(&state, &visitor, section).await {
        Ok(view) => {
            let values = Values::Doc(&view.document);
            section_page(
                &state,
                &visitor,
                section,
                &view,
                &values,
                &Extras::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(res) => res,
    }
}

/// The form's token, the first posted (a second one is judged with the rest of the form).
fn csrf_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &csrf_of(&pairs)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(section) = section_of(&path) else {
        return crate::refusal::not_found().await;
    };
    if let Some(res) = below(&visitor, section.required_role()) {
        return res;
    }
    let form = Form::of_schema(&tenantry_settings::schema::section_schema(section));
    let posted = match collect(pairs, form.max_pairs()) {
        Ok(p) => p,
        Err(m) => return crate::refusal::bad_form(&m),
    };
    let lines: Vec<&str> = form
        .fields
        .iter()
        .filter(|f| matches!(f.kind, Kind::Lines { .. }))
        .map(|f| f.path.as_str())
        .collect();
    for (name, values) in &posted {
        let max = if lines.contains(&name.as_str()) {
            LINES_MAX
        } else if name == "base" {
            // Judged by `posted_base`, with its own message.
            usize::MAX
        } else if name == "etag" {
            ID_MAX
        } else {
            TEXT_MAX
        };
        for v in values {
            if let Some(res) = too_long(&[(&label(name), v, max)]) {
                return res;
            }
        }
    }
    let etag = posted
        .get("etag")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    // A form without the version it was drawn from could overwrite an edit it never saw; so
    // could `*` ("any version"), which the page never draws: only one real version counts.
    let one_version = etag.starts_with('"') && !etag.contains(',');
    let preconditions = match Preconditions::parse(Some(&etag), None) {
        Ok(p) if one_version => p,
        _ => {
            return crate::refusal::bad_form(
                "The form does not say which version of the settings it was drawn from. \
                 Nothing was changed; reload the page and try again.",
            )
        }
    };
    // Only what the conflict page shows: the write is the posted form with `If-Match`.
    let base = match posted_base(&form, &posted) {
        Ok(base) => base,
        Err(m) => return crate::refusal::bad_form(&m),
    };
    // A refused form is shown again with the version it was drawn from, so that an edit made
    // meanwhile still makes its next submit a conflict rather than being overwritten.
    let carried = || Version {
        etag: etag.clone(),
        base: base.as_ref().map(|b| Value::Object(b.clone()).to_string()),
    };
    let current = match read_section(&state, &visitor, section).await {
        Ok(view) => view,
        Err(res) => return res,
    };
    let document = match form.document(&posted) {
        Ok(doc) => doc,
        Err(unreadable) => {
            if let Some(m) = unreadable.form {
                return crate::refusal::bad_form(&m);
            }
            let extras = Extras {
                field_errors: unreadable.fields,
                form_errors: vec!["Nothing was saved: correct the fields marked below.".into()],
                version: Some(carried()),
                ..Extras::default()
            };
            let values = Values::Posted(&posted);
            return section_page(
                &state,
                &visitor,
                section,
                &current,
                &values,
                &extras,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let settings = state.settings.clone();
    let actor = visitor.actor.clone();
    let patch = document.clone();
    let outcome =
        web::block(move || settings.update_section_if(&actor, section, &patch, &preconditions))
            .await;
    let error = match outcome {
        Ok(Ok(view)) => {
            let extras = Extras {
                message: Some(notice("Saved.")),
                ..Extras::default()
            };
            let values = Values::Doc(&view.document);
            return section_page(
                &state,
                &visitor,
                section,
                &view,
                &values,
                &extras,
                StatusCode::OK,
            )
            .await;
        }
        Ok(Err(e)) => e,
        Err(e) => return crate::refusal::internal(&e),
    };
    let (status, extras) = match refused(error) {
        Refused::Conflict => {
            let latest = match read_section(&state, &visitor, section).await {
                Ok(view) => view,
                Err(res) => return res,
            };
            let (differences, next) = compare(&form, base.as_ref(), &document, &latest.document);
            let extras = Extras {
                conflict: Some(crate::settings_conflict::notice(
                    &differences,
                    typed_secret(&form, &posted),
                )),
                ..Extras::default()
            };
            // The saved section with the visitor's changes nobody else made, under the saved
            // version (and its values as the base): one more submit applies them.
            let values = Values::Doc(&next);
            return section_page(
                &state,
                &visitor,
                section,
                &latest,
                &values,
                &extras,
                StatusCode::PRECONDITION_FAILED,
            )
            .await;
        }
        Refused::Page(res) => return *res,
        Refused::Form(status, extras) => (
            status,
            Extras {
                version: Some(carried()),
                ..extras
            },
        ),
    };
    let values = Values::Posted(&posted);
    section_page(
        &state, &visitor, section, &current, &values, &extras, status,
    )
    .await
}

/// A value of the receiver's answer as shown: text cut to an excerpt.
fn excerpt(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > EXCERPT_MAX {
        let cut: String = text.chars().take(EXCERPT_MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The answer's leaves as `path: value` (`webhook_response.status_code: 200`).
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&p, v, out);
            }
        }
        other => out.push((prefix.to_owned(), excerpt(other))),
    }
}

async fn send_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &csrf_of(&pairs)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let section = SettingsSection::Notifications;
    if let Some(res) = below(&visitor, section.required_role()) {
        return res;
    }
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let (kind, target) = (field("type"), field("target"));
    if let Some(res) = too_long(&[
        ("Channel", kind, ID_MAX),
        ("Send to instead", target, TEXT_MAX),
    ]) {
        return res;
    }
    let target = (!target.trim().is_empty()).then(|| target.trim().to_owned());
    let channel = match kind {
        "email" => TestChannel::Email,
        "slack" => TestChannel::Slack,
        "webhook" => TestChannel::Webhook,
        _ => {
            return crate::refusal::bad_form(
                "Choose a channel: email, slack or webhook. Nothing was sent.",
            )
        }
    };
    let settings = state.settings.clone();
    let actor = visitor.actor.clone();
    // Fields left out come from the saved channel, as in the API's test call.
    let request = match channel {
        TestChannel::Email => TestRequest {
            email: target,
            ..TestRequest::default()
        },
        TestChannel::Slack => TestRequest {
            webhook_url: target,
            ..TestRequest::default()
        },
        TestChannel::Webhook => TestRequest {
            url: target,
            ..TestRequest::default()
        },
    };
    let outcome = web::block(move || settings.test_notification(&actor, channel, &request)).await;
    let (status, test) = match outcome {
        Ok(Ok(outcome)) => {
            let mut rows = Vec::new();
            leaves("", &outcome.response, &mut rows);
            (
                StatusCode::OK,
                html! {
                    section.card #test-result role="status" {
                        h2 { "Test sent over " (outcome.channel.as_str()) }
                        p { "The receiver answered:" }
                        dl.facts { @for (k, v) in &rows { dt { (k) } dd { (v) } } }
                    }
                },
            )
        }
        Ok(Err(SettingsError::DeliveryFailed { reason, .. })) => (
            StatusCode::BAD_REQUEST,
            html! {
                div.error #test-result role="alert" {
                    p { "The receiver did not accept the test: " (excerpt(&Value::String(reason))) }
                }
            },
        ),
        Ok(Err(SettingsError::Validation(fields) | SettingsError::InvalidWebhookUrl(fields))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                div.error #test-result role="alert" {
                    p { "Nothing was sent:" }
                    ul { @for f in &fields { li { (label(&f.field)) ": " (f.message) } } }
                }
            },
        ),
        Ok(Err(e)) => match refused(e) {
            Refused::Page(res) => return *res,
            Refused::Form(status, extras) => (
                status,
                html! {
                    div.error #test-result role="alert" { @for e in &extras.form_errors { p { (e) } } }
                },
            ),
            Refused::Conflict => return crate::refusal::unavailable(),
        },
        Err(e) => return crate::refusal::internal(&e),
    };
    let view = match read_section(&state, &visitor, section).await {
        Ok(view) => view,
        Err(res) => return res,
    };
    let extras = Extras {
        test: Some(test),
        ..Extras::default()
    };
    let values = Values::Doc(&view.document);
    section_page(&state, &visitor, section, &view, &values, &extras, status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_whole_path() {
        assert_eq!(label("api_access.max_api_keys"), "API access: max API keys");
        assert_eq!(label("cost_alerts[0].period"), "Cost alerts 1: period");
        assert_eq!(dom_id("cost_alerts[0].period"), "f-cost-alerts-0--period");
    }
}
