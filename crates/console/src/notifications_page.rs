//! What `/console/notifications` shows: the channels, rules and deliveries of one listing,
//! and the two create forms with what they held and their errors beside the fields. Values
//! are rendered through maud (escaped); a secret never is: a channel's signing secret or Slack
//! URL shows as "set", and password fields are never filled in.

use maud::{html, Markup};
use serde_json::Value;
use tenantry_notifications::{is_builtin, Channel, ChannelKind, Delivery, Rule};

use crate::layout::time;

pub(crate) const PATH: &str = "/console/notifications";

/// What the create forms held (never a secret), to show them again beside their errors.
#[derive(Default)]
pub(crate) struct Draft {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) recipients: String,
    pub(crate) url: String,
    pub(crate) slack_channel: String,
    pub(crate) rule_name: String,
    pub(crate) event: String,
    pub(crate) channel_ids: Vec<String>,
}

/// Refusals, each beside its field; `channel_form`/`rule_form` above a form, `list` above all.
#[derive(Default)]
pub(crate) struct Errors {
    pub(crate) list: Option<String>,
    pub(crate) channel_form: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) recipients: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) secret: Option<String>,
    pub(crate) slack_url: Option<String>,
    pub(crate) slack_channel: Option<String>,
    pub(crate) rule_form: Option<String>,
    pub(crate) rule_name: Option<String>,
    pub(crate) event: Option<String>,
    pub(crate) channel_ids: Option<String>,
}

/// Everything the page lists.
pub(crate) struct Listing {
    pub(crate) channels: Vec<(Channel, Value)>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) deliveries: tenantry_kernel::Page<Delivery>,
}

fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(m) = message { span.field-error id=(id) { (m) } } }
}

/// A labelled input (`kind` text or password; a password field is never filled in).
fn input(
    label: &str,
    hint: &str,
    name: &str,
    kind: &str,
    value: &str,
    error: Option<&String>,
) -> Markup {
    let error_id = format!("{name}-error");
    let value = if kind == "password" { "" } else { value };
    html! {
        label { (label)
            @if !hint.is_empty() { span.hint { (hint) } }
            @if error.is_some() {
                input type=(kind) name=(name) value=(value) autocomplete="off" aria-invalid="true" aria-describedby=(error_id);
            } @else {
                input type=(kind) name=(name) value=(value) autocomplete="off";
            }
            (field_error(&error_id, error))
        }
    }
}

/// Where a channel sends, from its public configuration (never its secret).
fn destination(kind: ChannelKind, config: &Value) -> String {
    let text = |k: &str| {
        config
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match kind {
        ChannelKind::Email => config
            .get("recipients")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        ChannelKind::Webhook => text("url"),
        ChannelKind::Slack => text("channel"),
    }
}

/// "set" or "not set" for a channel's secret: what the public configuration says of it.
fn secret_state(kind: ChannelKind, config: &Value) -> Option<&'static str> {
    let key = match kind {
        ChannelKind::Email => return None,
        ChannelKind::Webhook => "secret",
        ChannelKind::Slack => "webhook_url",
    };
    let set = config.get(key).is_some_and(|v| !v.is_null());
    Some(if set { "set" } else { "not set" })
}

pub(crate) fn channels_section(
    csrf: &str,
    channels: &[(Channel, Value)],
    d: &Draft,
    e: &Errors,
) -> Markup {
    html! {
        section.card {
            h2 { "Channels" }
            ul.keys {
                @for (c, config) in channels {
                    @let kind = c.target.kind();
                    li {
                        dl.facts {
                            dt { "Name" } dd { (c.name) @if c.builtin { " (built in)" } }
                            dt { "Type" } dd { (kind.as_str()) }
                            dt { "Sends to" } dd { (destination(kind, config)) }
                            @if let Some(state) = secret_state(kind, config) {
                                dt { @if kind == ChannelKind::Slack { "Webhook URL" } @else { "Signing secret" } }
                                dd { (state) }
                            }
                            dt { "Enabled" } dd { @if c.enabled { "yes" } @else { "no" } }
                        }
                        div.actions {
                            form method="post" action={ (PATH) "/channels/" (c.id) "/test" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" aria-label={ "Send a test notification to " (c.name) } { "Send a test notification" }
                            }
                            @if !is_builtin(&c.id) {
                                form method="post" action={ (PATH) "/channels/" (c.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.danger type="submit" aria-label={ "Delete channel " (c.name) } { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.stack.card method="post" action={ (PATH) "/channels" } novalidate {
            h2 { "Add a channel" }
            @if let Some(m) = &e.channel_form { div.error role="alert" { p { (m) } } }
            input type="hidden" name="csrf" value=(csrf);
            (input("Name", "", "name", "text", &d.name, e.name.as_ref()))
            label { "Type"
                span.hint { "Fill in the fields of this type below; the others are ignored." }
                select name="kind" {
                    @for (value, text) in [("email", "Email"), ("webhook", "Webhook"), ("slack", "Slack")] {
                        @if d.kind == value {
                            option value=(value) selected { (text) }
                        } @else {
                            option value=(value) { (text) }
                        }
                    }
                }
                (field_error("kind-error", e.kind.as_ref()))
            }
            (input("Recipients", "Email: addresses separated by commas.", "recipients", "text", &d.recipients, e.recipients.as_ref()))
            (input("Webhook URL", "Webhook: where to post (https).", "url", "text", &d.url, e.url.as_ref()))
            (input("Signing secret", "Webhook: 16 to 256 characters; empty to have one made for you. Never shown again.", "secret", "password", "", e.secret.as_ref()))
            (input("Slack incoming-webhook URL", "Slack: https://hooks.slack.com/services/…; kept secret, never shown again.", "slack_url", "password", "", e.slack_url.as_ref()))
            (input("Slack channel", "Slack: optional, such as #alerts.", "slack_channel", "text", &d.slack_channel, e.slack_channel.as_ref()))
            button type="submit" { "Add channel" }
        }
    }
}

pub(crate) fn rules_section(csrf: &str, listing: &Listing, d: &Draft, e: &Errors) -> Markup {
    let name_of = |id: &str| {
        listing
            .channels
            .iter()
            .find(|(c, _)| c.id == id)
            .map_or_else(|| id.to_owned(), |(c, _)| c.name.clone())
    };
    html! {
        section.card {
            h2 { "Rules" }
            ul.keys {
                @for r in &listing.rules {
                    li {
                        dl.facts {
                            dt { "Name" } dd { (r.name) @if r.builtin { " (built in)" } }
                            dt { "Event" } dd { (r.event) }
                            dt { "Channels" } dd { (r.channel_ids.iter().map(|c| name_of(c)).collect::<Vec<_>>().join(", ")) }
                            dt { "Enabled" } dd { @if r.enabled { "yes" } @else { "no" } }
                        }
                        @if !r.builtin {
                            form method="post" action={ (PATH) "/rules/" (r.id) "/delete" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.danger type="submit" aria-label={ "Delete rule " (r.name) } { "Delete" }
                            }
                        }
                    }
                }
            }
        }
        form.stack.card method="post" action={ (PATH) "/rules" } novalidate {
            h2 { "Add a rule" }
            @if let Some(m) = &e.rule_form { div.error role="alert" { p { (m) } } }
            input type="hidden" name="csrf" value=(csrf);
            (input("Rule name", "A rule with the name of one of yours replaces it.", "rule_name", "text", &d.rule_name, e.rule_name.as_ref()))
            (input("Event", "An event type such as member.invited, * for every event, or a reported event such as pipeline.run.failed.", "event", "text", &d.event, e.event.as_ref()))
            fieldset.scopes aria-describedby=[e.channel_ids.as_ref().map(|_| "channel_ids-error")] {
                legend { "Channels" }
                @for (c, _) in &listing.channels {
                    label.check {
                        @if d.channel_ids.contains(&c.id) {
                            input type="checkbox" name="channel_ids" value=(c.id) checked;
                        } @else {
                            input type="checkbox" name="channel_ids" value=(c.id);
                        }
                        " " (c.name)
                    }
                }
                (field_error("channel_ids-error", e.channel_ids.as_ref()))
            }
            button type="submit" { "Add rule" }
        }
    }
}

pub(crate) fn deliveries_section(csrf: &str, listing: &Listing, paged: bool) -> Markup {
    let name_of = |id: &str| {
        listing
            .channels
            .iter()
            .find(|(c, _)| c.id == id)
            .map_or_else(|| id.to_owned(), |(c, _)| c.name.clone())
    };
    html! {
        section.card {
            h2 { "Deliveries" }
            @if listing.deliveries.items.is_empty() {
                p { "No deliveries yet." }
            }
            ul.keys {
                @for d in &listing.deliveries.items {
                    li {
                        dl.facts {
                            dt { "Event" } dd { (d.event_type) }
                            dt { "Channel" } dd { (name_of(&d.channel_id)) }
                            dt { "Status" } dd { (d.status.as_str()) }
                            dt { "Created" } dd { (time(d.created_at)) }
                            dt { "Attempts" } dd {
                                @if d.attempts.is_empty() { "none yet" }
                                ol {
                                    @for a in &d.attempts {
                                        li {
                                            (time(a.at))
                                            @if let Some(code) = a.response_code { ": the receiver answered " (code) }
                                            @if let Some(ms) = a.latency_ms { " in " (ms) " ms" }
                                            @if let Some(err) = &a.error { " (" (err) ")" }
                                        }
                                    }
                                }
                            }
                        }
                        form method="post" action={ (PATH) "/deliveries/" (d.id) "/redeliver" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" aria-label={ "Redeliver " (d.event_type) " to " (name_of(&d.channel_id)) " of " (time(d.created_at)) } { "Redeliver" }
                        }
                    }
                }
            }
            nav.actions aria-label="Delivery pages" {
                @if paged { a href=(PATH) { "Newest deliveries" } }
                @if let Some(next) = &listing.deliveries.next {
                    a href={ (PATH) "?deliveries=" (next.encode()) } { "Older deliveries" }
                }
            }
        }
    }
}
