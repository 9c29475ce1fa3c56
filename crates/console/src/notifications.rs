//! `/console/notifications`: the account's notification channels (list, create, delete, send a
//! test), rules (list, create, delete) and deliveries (paged, each with its status and
//! attempts, and "Redeliver").
//!
//! Every read and change is the call `/api/notifications/...` makes, `NotificationService`,
//! with the session's `Actor`: admins and the owner only (`route_roles.rs`; a lower role gets
//! the 403 page), with the API's scope (the `settings` area: read to see, write to change), in
//! the session's account only (another account's ids read as unknown and change nothing).
//!
//! Secrets are write-only: a webhook's signing secret and a Slack incoming-webhook URL are
//! typed into password fields, never put back into a form (a refused form asks for them
//! again) and shown only as "set". The one exception is the secret the service generates
//! for a webhook created without one: like the API's answer, the page answering the post shows
//! it once, since the receiver needs it to check signatures.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tenantry_http::AppState;
use tenantry_kernel::{DeliveryId, PageRequest, Role};
use tenantry_notifications::{ChannelKind, NewRule, NotificationError};

use crate::form::{too_long, EMAIL_MAX, ID_MAX, NAME_MAX};
use crate::layout::{notice, Section};
use crate::notifications_page::{
    channels_section, deliveries_section, rules_section, Draft, Errors, Listing,
};
use crate::session::SignedIn;
use crate::visitor::{below, poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/notifications").route(web::get().to(show)))
        .service(web::resource("/notifications/channels").route(web::post().to(create_channel)))
        .service(
            web::resource("/notifications/channels/{id}/delete")
                .route(web::post().to(delete_channel)),
        )
        .service(
            web::resource("/notifications/channels/{id}/test").route(web::post().to(test_channel)),
        )
        .service(web::resource("/notifications/rules").route(web::post().to(create_rule)))
        .service(
            web::resource("/notifications/rules/{id}/delete").route(web::post().to(delete_rule)),
        )
        .service(
            web::resource("/notifications/deliveries/{id}/redeliver")
                .route(web::post().to(redeliver)),
        );
}

const TITLE: &str = "Notifications";
/// The role of every `/api/notifications` route (`route_roles.rs`); the service checks it too.
const ROLE: Role = Role::Admin;
/// Deliveries per page.
const DELIVERIES_PAGE: u32 = 20;
/// Longest URL, secret and recipient list accepted from the form.
const URL_MAX: usize = 2048;
const SECRET_MAX: usize = 256;
const RECIPIENTS_MAX: usize = 20 * EMAIL_MAX;
const CURSOR_MAX: usize = 256;

/// The visitor of a page (or of a post whose token is `csrf`), with the role the API asks.
async fn admitted(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    csrf: Option<&str>,
) -> Result<SignedIn, HttpResponse> {
    let v = match csrf {
        Some(csrf) => poster(req, state, config, Admits::Unrestricted, csrf).await?,
        None => visitor(req, state, config, Admits::Unrestricted).await?,
    };
    match below(&v, ROLE) {
        Some(res) => Err(res),
        None => Ok(v),
    }
}

/// A refusal the page shows, or a page of its own.
enum Refused {
    Shown(StatusCode, Errors),
    Page(HttpResponse),
}

/// Where each service field's error goes on the channel form.
fn channel_field(errors: &mut Errors, field: &str, message: String) {
    let slot = match field {
        "name" => &mut errors.name,
        "type" => &mut errors.kind,
        "recipients" | "severity_filter" => &mut errors.recipients,
        "url" => &mut errors.url,
        "secret" => &mut errors.secret,
        "webhook_url" => &mut errors.slack_url,
        "channel" | "workspace" => &mut errors.slack_channel,
        _ => &mut errors.channel_form,
    };
    slot.get_or_insert(message);
}

fn rule_field(errors: &mut Errors, field: &str, message: String) {
    let slot = match field {
        "name" => &mut errors.rule_name,
        "event" => &mut errors.event,
        "channel_ids" => &mut errors.channel_ids,
        _ => &mut errors.rule_form,
    };
    slot.get_or_insert(message);
}

/// Which form a refusal belongs to.
#[derive(Clone, Copy)]
enum Form {
    Channel,
    Rule,
    List,
}

/// Every variant the service can return, mapped (no catch-all: a new one must be placed here).
fn refusal(e: NotificationError, form: Form) -> Refused {
    let mut errors = Errors::default();
    match e {
        NotificationError::InsufficientPermissions { .. } => {
            Refused::Page(crate::refusal::error_page(
                StatusCode::FORBIDDEN,
                "Not available to your role",
                "Notifications are managed by admins and the owner of this account.",
            ))
        }
        NotificationError::NotFound(what) => {
            errors.list = Some(format!(
                "That {what} does not exist in this account (it may have been deleted). \
                 Nothing was changed."
            ));
            Refused::Shown(StatusCode::NOT_FOUND, errors)
        }
        NotificationError::Validation(fields) => {
            for (field, message) in fields {
                // Channel settings are named `config.<setting>` by the service.
                let field = field.strip_prefix("config.").unwrap_or(&field).to_owned();
                let text = format!("{}: {message}.", field.replace('_', " "));
                match form {
                    Form::Channel => channel_field(&mut errors, &field, text),
                    Form::Rule => rule_field(&mut errors, &field, text),
                    Form::List => {
                        errors.list.get_or_insert(text);
                    }
                }
            }
            Refused::Shown(StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        NotificationError::BuiltinChannel(message) => {
            errors.list = Some(format!("{message}. Nothing was changed."));
            Refused::Shown(StatusCode::CONFLICT, errors)
        }
        NotificationError::Port(_) => Refused::Page(crate::refusal::unavailable()),
    }
}

/// Channels, rules and one page of deliveries, read through the service.
async fn read_listing(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    page: PageRequest,
) -> Result<Listing, HttpResponse> {
    let service = state.notifications.clone();
    let actor = visitor.actor.clone();
    let read = web::block(move || {
        Ok::<_, NotificationError>(Listing {
            channels: service.channels(&actor)?,
            rules: service.rules(&actor)?,
            deliveries: service.deliveries(&actor, &page)?,
        })
    })
    .await;
    match read {
        Ok(Ok(listing)) => Ok(listing),
        Ok(Err(e)) => Err(match refusal(e, Form::List) {
            Refused::Page(res) => res,
            Refused::Shown(..) => crate::refusal::unavailable(),
        }),
        Err(e) => Err(crate::refusal::internal(&e)),
    }
}

fn first_page() -> PageRequest {
    PageRequest {
        limit: DELIVERIES_PAGE,
        after: None,
    }
}

/// The whole page at `status`, after `message`, with `draft` and `errors` in the forms.
async fn render(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    page: PageRequest,
    status: StatusCode,
    draft: &Draft,
    errors: &Errors,
    message: Option<Markup>,
) -> HttpResponse {
    let listing = match read_listing(state, visitor, page.clone()).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let csrf = visitor.csrf();
    let content = html! {
        @if let Some(m) = message { (m) }
        @if let Some(e) = &errors.list { div.error role="alert" { p { (e) } } }
        (channels_section(&csrf, &listing.channels, draft, errors))
        (rules_section(&csrf, &listing, draft, errors))
        (deliveries_section(&csrf, &listing, page.after.is_some()))
    };
    signed_in_page(
        state,
        visitor,
        TITLE,
        Section::Notifications,
        status,
        content,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShowQuery {
    deliveries: String,
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    let visitor = match admitted(&req, &state, &config, None).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Ok(q) = web::Query::<ShowQuery>::from_query(req.query_string()) else {
        return crate::refusal::bad_form("The address could not be read. Nothing was changed.");
    };
    if let Some(res) = too_long(&[("The page link", &q.deliveries, CURSOR_MAX)]) {
        return res;
    }
    let cursor = Some(q.deliveries.as_str()).filter(|c| !c.is_empty());
    let Ok(mut page) = PageRequest::parse(None, cursor) else {
        return crate::refusal::error_page(
            StatusCode::BAD_REQUEST,
            "This page link is not valid",
            "Go back to the newest deliveries and page on from there.",
        );
    };
    page.limit = DELIVERIES_PAGE;
    let draft = Draft {
        kind: "email".into(),
        ..Draft::default()
    };
    render(
        &state,
        &visitor,
        page,
        StatusCode::OK,
        &draft,
        &Errors::default(),
        None,
    )
    .await
}

/// The fields read once, and the repeated `channel_ids`.
type Fields = (Map<String, Value>, Vec<String>);

/// A posted form's fields: `channel_ids` may repeat (one per ticked box); every other field
/// counts once (a second one is a malformed form, not a choice).
fn fields(pairs: Vec<(String, String)>) -> Result<Fields, Box<HttpResponse>> {
    let mut once = Map::new();
    let mut repeated = Vec::new();
    for (field, value) in pairs {
        if field == "channel_ids" {
            if repeated.len() >= 20 || repeated.contains(&value) {
                return Err(Box::new(crate::refusal::bad_form(
                    "A field was sent twice. Nothing was changed.",
                )));
            }
            repeated.push(value);
        } else if once.insert(field, Value::String(value)).is_some() {
            return Err(Box::new(crate::refusal::bad_form(
                "A field was sent twice. Nothing was changed.",
            )));
        }
    }
    Ok((once, repeated))
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

async fn create_channel(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    // The token first: a forged post is refused before its fields are looked at.
    let csrf = pairs
        .iter()
        .find(|(field, _)| field == "csrf")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let visitor = match admitted(&req, &state, &config, Some(&csrf)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (f, _) = match fields(pairs) {
        Ok(f) => f,
        Err(res) => return *res,
    };
    let draft = Draft {
        name: text(&f, "name"),
        kind: text(&f, "kind"),
        recipients: text(&f, "recipients"),
        url: text(&f, "url"),
        slack_channel: text(&f, "slack_channel"),
        ..Draft::default()
    };
    let (secret, slack_url) = (text(&f, "secret"), text(&f, "slack_url"));
    if let Some(res) = too_long(&[
        ("Name", &draft.name, NAME_MAX),
        ("Type", &draft.kind, ID_MAX),
        ("Recipients", &draft.recipients, RECIPIENTS_MAX),
        ("Webhook URL", &draft.url, URL_MAX),
        ("Signing secret", &secret, SECRET_MAX),
        ("Slack incoming-webhook URL", &slack_url, URL_MAX),
        ("Slack channel", &draft.slack_channel, NAME_MAX),
    ]) {
        return res;
    }
    let Some(kind) = ChannelKind::parse(&draft.kind) else {
        let errors = Errors {
            kind: Some("Choose email, webhook or Slack.".into()),
            ..Errors::default()
        };
        return render(
            &state,
            &visitor,
            first_page(),
            StatusCode::UNPROCESSABLE_ENTITY,
            &draft,
            &errors,
            None,
        )
        .await;
    };
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let channel_config = match kind {
        ChannelKind::Email => json!({
            "recipients": draft.recipients.split(',').filter_map(nonempty).collect::<Vec<_>>()
        }),
        ChannelKind::Webhook => {
            let mut c = json!({ "url": draft.url.trim() });
            if !secret.is_empty() {
                c["secret"] = json!(secret);
            }
            c
        }
        ChannelKind::Slack => {
            let mut c = json!({});
            if let Some(url) = nonempty(&slack_url) {
                c["webhook_url"] = json!(url);
            }
            if let Some(channel) = nonempty(&draft.slack_channel) {
                c["channel"] = json!(channel);
            }
            c
        }
    };
    let service = state.notifications.clone();
    let actor = visitor.actor.clone();
    let name = draft.name.clone();
    let created =
        web::block(move || service.create_channel(&actor, kind, &name, true, &channel_config))
            .await;
    match created {
        Ok(Ok(created)) => {
            let message = match &created.generated_secret {
                Some(secret) => html! {
                    (notice("The channel was added."))
                    section.card {
                        p { "Its signing secret was made for you. Copy it now: it is shown only \
                             once. The receiver checks each delivery's signature with it." }
                        p { code.secret id="new-secret" data-copy="new-secret" { (secret) } }
                    }
                },
                None => notice("The channel was added."),
            };
            let draft = Draft {
                kind: "email".into(),
                ..Draft::default()
            };
            render(
                &state,
                &visitor,
                first_page(),
                StatusCode::CREATED,
                &draft,
                &Errors::default(),
                Some(message),
            )
            .await
        }
        Ok(Err(e)) => match refusal(e, Form::Channel) {
            Refused::Shown(status, mut errors) => {
                // A refused form never shows a typed secret again: say to type it again.
                if !secret.is_empty() || !slack_url.is_empty() {
                    errors.channel_form.get_or_insert_with(|| {
                        "Secrets are never shown back: type them again.".to_owned()
                    });
                }
                render(
                    &state,
                    &visitor,
                    first_page(),
                    status,
                    &draft,
                    &errors,
                    None,
                )
                .await
            }
            Refused::Page(res) => res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

async fn create_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    // The token first: a forged post is refused before its fields are looked at.
    let csrf = pairs
        .iter()
        .find(|(field, _)| field == "csrf")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let visitor = match admitted(&req, &state, &config, Some(&csrf)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (f, channel_ids) = match fields(pairs) {
        Ok(f) => f,
        Err(res) => return *res,
    };
    let draft = Draft {
        kind: "email".into(),
        rule_name: text(&f, "rule_name"),
        event: text(&f, "event"),
        channel_ids,
        ..Draft::default()
    };
    let mut checks = vec![
        ("Rule name", draft.rule_name.as_str(), NAME_MAX),
        ("Event", draft.event.as_str(), NAME_MAX),
    ];
    checks.extend(
        draft
            .channel_ids
            .iter()
            .map(|c| ("A channel", c.as_str(), ID_MAX)),
    );
    if let Some(res) = too_long(&checks) {
        return res;
    }
    let new = NewRule {
        name: draft.rule_name.clone(),
        event: draft.event.trim().to_owned(),
        channel_ids: draft.channel_ids.clone(),
        filters: Map::new(),
        enabled: true,
    };
    let service = state.notifications.clone();
    let actor = visitor.actor.clone();
    match web::block(move || service.create_rule(&actor, new)).await {
        Ok(Ok((rule, created))) => {
            let message = if created {
                format!("The rule {} was added.", rule.name)
            } else {
                format!("The rule {} was replaced.", rule.name)
            };
            let draft = Draft {
                kind: "email".into(),
                ..Draft::default()
            };
            render(
                &state,
                &visitor,
                first_page(),
                StatusCode::OK,
                &draft,
                &Errors::default(),
                Some(notice(&message)),
            )
            .await
        }
        Ok(Err(e)) => match refusal(e, Form::Rule) {
            Refused::Shown(status, errors) => {
                render(
                    &state,
                    &visitor,
                    first_page(),
                    status,
                    &draft,
                    &errors,
                    None,
                )
                .await
            }
            Refused::Page(res) => res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ButtonForm {
    csrf: String,
}

/// The outcome of a button's service call: the page with `done`, or with the refusal.
async fn after_button<T>(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    outcome: Result<Result<T, NotificationError>, actix_web::error::BlockingError>,
    done: impl FnOnce(T) -> String,
) -> HttpResponse {
    let draft = Draft {
        kind: "email".into(),
        ..Draft::default()
    };
    match outcome {
        Ok(Ok(value)) => {
            let message = notice(&done(value));
            render(
                state,
                visitor,
                first_page(),
                StatusCode::OK,
                &draft,
                &Errors::default(),
                Some(message),
            )
            .await
        }
        Ok(Err(e)) => match refusal(e, Form::List) {
            Refused::Shown(status, errors) => {
                render(state, visitor, first_page(), status, &draft, &errors, None).await
            }
            Refused::Page(res) => res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

/// A button's post: its visitor and the `{id}` of its path, bounded.
async fn button(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    csrf: &str,
    id: &str,
) -> Result<SignedIn, HttpResponse> {
    let visitor = admitted(req, state, config, Some(csrf)).await?;
    if let Some(res) = too_long(&[("The id", id, ID_MAX)]) {
        return Err(res);
    }
    Ok(visitor)
}

async fn delete_channel(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ButtonForm>,
) -> HttpResponse {
    let visitor = match button(&req, &state, &config, &f.csrf, &path).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (service, actor, id) = (
        state.notifications.clone(),
        visitor.actor.clone(),
        path.into_inner(),
    );
    let outcome = web::block(move || service.delete_channel(&actor, &id)).await;
    after_button(&state, &visitor, outcome, |()| {
        "The channel was deleted.".to_owned()
    })
    .await
}

async fn test_channel(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ButtonForm>,
) -> HttpResponse {
    let visitor = match button(&req, &state, &config, &f.csrf, &path).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (service, actor, id) = (
        state.notifications.clone(),
        visitor.actor.clone(),
        path.into_inner(),
    );
    let outcome = web::block(move || service.test_channel(&actor, &id)).await;
    after_button(&state, &visitor, outcome, |_| {
        "A test notification is on its way. Its delivery is listed below: reload this page to \
         see what the receiver answered."
            .to_owned()
    })
    .await
}

async fn delete_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ButtonForm>,
) -> HttpResponse {
    let visitor = match button(&req, &state, &config, &f.csrf, &path).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (service, actor, id) = (
        state.notifications.clone(),
        visitor.actor.clone(),
        path.into_inner(),
    );
    let outcome = web::block(move || service.delete_rule(&actor, &id)).await;
    after_button(&state, &visitor, outcome, |()| {
        "The rule was deleted.".to_owned()
    })
    .await
}

async fn redeliver(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ButtonForm>,
) -> HttpResponse {
    let visitor = match button(&req, &state, &config, &f.csrf, &path).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    // An id that is no delivery id names no delivery: the service's "not found".
    let outcome = match path.parse::<DeliveryId>() {
        Ok(id) => {
            let (service, actor) = (state.notifications.clone(), visitor.actor.clone());
            web::block(move || service.redeliver(&actor, id)).await
        }
        Err(_) => Ok(Err(NotificationError::NotFound("delivery"))),
    };
    after_button(&state, &visitor, outcome, |_| {
        "The message is being sent again, as a new delivery listed below.".to_owned()
    })
    .await
}
