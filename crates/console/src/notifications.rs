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
use tenantry_kernel::{Actor, DeliveryId, PageRequest};
use tenantry_notifications::{ChannelKind, NewRule, NotificationError, NotificationService};

use crate::admission::{Admins, ButtonForm, PageOf, PostOf};
use crate::form::{too_long, EMAIL_MAX, ID_MAX, NAME_MAX};
use crate::layout::{notice, Section};
use crate::notifications_page::{
    channels_section, deliveries_section, rules_section, Draft, Errors, Listing,
};
use crate::session::SignedIn;
use crate::visitor::signed_in_page;

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
/// Deliveries per page.
const DELIVERIES_PAGE: u32 = 20;
/// Longest URL, secret and recipient list accepted from the form.
const URL_MAX: usize = 2048;
const SECRET_MAX: usize = 256;
const RECIPIENTS_MAX: usize = 20 * EMAIL_MAX;
const CURSOR_MAX: usize = 256;

/// Every page and form here is for admins and the owner: the role of every
/// `/api/notifications` route (`route_roles.rs`); the service checks it too.
type Page = PageOf<Admins>;
/// A posted form here, read field by field (`channel_ids` repeats).
type Post = PostOf<Admins, Vec<(String, String)>>;
/// A button's post here.
type Button = PostOf<Admins, ButtonForm>;
/// What every handler here reads through.
type State = web::Data<AppState>;

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

/// The forms as they first show: the email channel chosen, nothing typed.
fn fresh_draft() -> Draft {
    Draft {
        kind: "email".into(),
        ..Draft::default()
    }
}

/// The page after a change went through: `message`, above the forms as they first show.
async fn changed(
    state: &State,
    visitor: &SignedIn,
    status: StatusCode,
    message: Markup,
) -> HttpResponse {
    let draft = fresh_draft();
    let errors = Errors::default();
    render(
        state,
        visitor,
        first_page(),
        status,
        &draft,
        &errors,
        Some(message),
    )
    .await
}

/// The page after a refused change: each error beside its field of `form`, with what was typed
/// (`draft`) kept and `amend` adding to the errors, or the refusal's own page.
async fn refused(
    state: &State,
    visitor: &SignedIn,
    e: NotificationError,
    form: Form,
    draft: &Draft,
    amend: impl FnOnce(&mut Errors),
) -> HttpResponse {
    match refusal(e, form) {
        Refused::Shown(status, mut errors) => {
            amend(&mut errors);
            render(state, visitor, first_page(), status, draft, &errors, None).await
        }
        Refused::Page(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShowQuery {
    deliveries: String,
}

async fn show(req: HttpRequest, state: State, page: Page) -> HttpResponse {
    let visitor = page.visitor;
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
    render(
        &state,
        &visitor,
        page,
        StatusCode::OK,
        &fresh_draft(),
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

async fn create_channel(state: State, post: Post) -> HttpResponse {
    let visitor = post.visitor;
    let (f, _) = match fields(post.form) {
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
            changed(&state, &visitor, StatusCode::CREATED, message).await
        }
        Ok(Err(e)) => {
            refused(&state, &visitor, e, Form::Channel, &draft, |errors| {
                // A refused form never shows a typed secret again: say to type it again.
                if !secret.is_empty() || !slack_url.is_empty() {
                    errors.channel_form.get_or_insert_with(|| {
                        "Secrets are never shown back: type them again.".to_owned()
                    });
                }
            })
            .await
        }
        Err(e) => crate::refusal::internal(&e),
    }
}

async fn create_rule(state: State, post: Post) -> HttpResponse {
    let visitor = post.visitor;
    let (f, channel_ids) = match fields(post.form) {
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
            changed(&state, &visitor, StatusCode::OK, notice(&message)).await
        }
        Ok(Err(e)) => refused(&state, &visitor, e, Form::Rule, &draft, |_| ()).await,
        Err(e) => crate::refusal::internal(&e),
    }
}

/// What a button does to the `{id}` of its path.
#[derive(Clone, Copy)]
enum Act {
    DeleteChannel,
    TestChannel,
    DeleteRule,
    Redeliver,
}

impl Act {
    /// The service call, as `/api/notifications` makes it, and what the page says after it.
    fn run(
        self,
        service: &NotificationService,
        actor: &Actor,
        id: &str,
    ) -> Result<&'static str, NotificationError> {
        match self {
            Self::DeleteChannel => service
                .delete_channel(actor, id)
                .map(|()| "The channel was deleted."),
            Self::TestChannel => service.test_channel(actor, id).map(|_| {
                "A test notification is on its way. Its delivery is listed below: reload this \
                 page to see what the receiver answered."
            }),
            Self::DeleteRule => service
                .delete_rule(actor, id)
                .map(|()| "The rule was deleted."),
            Self::Redeliver => {
                // An id that is no delivery id names no delivery: the service's "not found".
                let id = id
                    .parse::<DeliveryId>()
                    .map_err(|_| NotificationError::NotFound("delivery"))?;
                service
                    .redeliver(actor, id)
                    .map(|_| "The message is being sent again, as a new delivery listed below.")
            }
        }
    }
}

/// A button's post: `act` on the `{id}` of its path (bounded), then the page with what it did,
/// or with the refusal.
async fn on_button(state: State, path: web::Path<String>, post: Button, act: Act) -> HttpResponse {
    let visitor = post.visitor;
    if let Some(res) = too_long(&[("The id", &path, ID_MAX)]) {
        return res;
    }
    let (service, actor, id) = (
        state.notifications.clone(),
        visitor.actor.clone(),
        path.into_inner(),
    );
    match web::block(move || act.run(&service, &actor, &id)).await {
        Ok(Ok(done)) => changed(&state, &visitor, StatusCode::OK, notice(done)).await,
        Ok(Err(e)) => refused(&state, &visitor, e, Form::List, &fresh_draft(), |_| ()).await,
        Err(e) => crate::refusal::internal(&e),
    }
}

async fn delete_channel(state: State, path: web::Path<String>, post: Button) -> HttpResponse {
    on_button(state, path, post, Act::DeleteChannel).await
}

async fn test_channel(state: State, path: web::Path<String>, post: Button) -> HttpResponse {
    on_button(state, path, post, Act::TestChannel).await
}

async fn delete_rule(state: State, path: web::Path<String>, post: Button) -> HttpResponse {
    on_button(state, path, post, Act::DeleteRule).await
}

async fn redeliver(state: State, path: web::Path<String>, post: Button) -> HttpResponse {
    on_button(state, path, post, Act::Redeliver).await
}
