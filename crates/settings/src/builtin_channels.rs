//! Seed 01's notification settings as the engine's built-in channels and rules (API-MAP.md):
//! `notifications.email`, `.slack` and `.webhook` are the channels `nch_email`, `nch_slack` and
//! `nch_webhook`; each alert toggle is a rule for the events it names, and the webhook's
//! `events` list one rule per event. Changing either view changes the one document.

use serde_json::{json, Map};
use tenantry_kernel::{AccountId, Actor, AuditId, PortError};
use tenantry_notifications::{BuiltinRoutes, Channel, ChannelTarget, EventType, Rule};

use crate::ports::{AuditRecord, SectionWrite, WriteContext, Writes};
use crate::{NotificationSettings, SettingsError, SettingsService};

const SECTION: &str = "notifications";

/// The events each seed 01 alert toggle stands for.
fn toggles(n: &NotificationSettings) -> Vec<(&'static str, &'static str, bool, Vec<&'static str>)> {
    use EventType as E;
    let names = |events: &[E]| events.iter().map(|e| e.as_str()).collect::<Vec<_>>();
    let a = &n.email.alerts;
    let s = &n.slack.alerts;
    vec![
        (
            "nch_email",
            "cost_alerts",
            a.cost_alerts,
            names(&[
                E::CostThresholdExceeded,
                E::CostBudgetWarning,
                E::BillingAutoRechargeRequested,
            ]),
        ),
        (
            "nch_email",
            "usage_warnings",
            a.usage_warnings,
            vec!["usage.threshold_exceeded"],
        ),
        (
            "nch_email",
            "security_notifications",
            a.security_notifications,
            names(&[
                E::LoginFailed,
                E::SecurityIpDenied,
                E::ApiKeyCreated,
                E::MemberInvited,
                E::MemberJoined,
                E::MemberRemoved,
            ]),
        ),
        (
            "nch_email",
            "system_updates",
            a.system_updates,
            vec!["system.update"],
        ),
        (
            "nch_email",
            "marketing_emails",
            a.marketing_emails,
            vec!["marketing.announcement"],
        ),
        (
            "nch_slack",
            "endpoint_failures",
            s.endpoint_failures,
            names(&[E::EndpointFailed]),
        ),
        (
            "nch_slack",
            "cost_thresholds",
            s.cost_thresholds,
            names(&[E::CostThresholdExceeded, E::CostBudgetWarning]),
        ),
        (
            "nch_slack",
            "cluster_events",
            s.cluster_events,
            names(&[E::ClusterEvent]),
        ),
    ]
}

fn rule(id: String, name: String, event: &str, channel: &str, enabled: bool) -> Rule {
    Rule {
        id,
        name,
        event: event.to_owned(),
        channel_ids: vec![channel.to_owned()],
        filters: Map::new(),
        enabled,
        builtin: true,
        created_at: None,
    }
}

impl SettingsService {
    fn stored_notifications(
        &self,
        account: AccountId,
    ) -> Result<NotificationSettings, SettingsError> {
        Ok(match self.store().section_document(account, SECTION)? {
            Some(doc) => serde_json::from_value(doc).map_err(|e| {
                SettingsError::Port(PortError::Corrupt(format!("notifications: {e}")))
            })?,
            None => NotificationSettings::default(),
        })
    }
}

impl BuiltinRoutes for SettingsService {
    fn builtin_routes(&self, account: AccountId) -> Result<(Vec<Channel>, Vec<Rule>), PortError> {
        let n = self.stored_notifications(account).map_err(into_port)?;
        let secret = n
            .webhook
            .secret_sealed
            .as_ref()
            .map(|s| self.secrets().open(s))
            .transpose()
            .map_err(|e| PortError::Corrupt(format!("webhook secret: {e}")))?;
        let slack_url = n.slack.webhook_url.as_ref().map(|u| u.as_str().to_owned());
        let webhook_url = n.webhook.url.as_ref().map(|u| u.as_str().to_owned());
        let channels = vec![
            Channel {
                id: "nch_email".into(),
                name: "Email (account settings)".into(),
                enabled: n.email.enabled,
                target: ChannelTarget::Email {
                    recipients: n
                        .email
                        .email
                        .iter()
                        .map(|e| e.as_str().to_owned())
                        .collect(),
                    severity_filter: Vec::new(),
                },
                builtin: true,
                created_at: None,
                updated_at: None,
            },
            Channel {
                id: "nch_slack".into(),
                name: n
                    .slack
                    .channel
                    .clone()
                    .unwrap_or_else(|| "Slack (account settings)".into()),
                // A channel without its URL cannot deliver, whatever its toggle says.
                enabled: n.slack.enabled && slack_url.is_some(),
                target: ChannelTarget::Slack {
                    webhook_url: slack_url.unwrap_or_default(),
                    channel: n.slack.channel.clone(),
                    workspace: None,
                },
                builtin: true,
                created_at: None,
                updated_at: None,
            },
            Channel {
                id: "nch_webhook".into(),
                name: "Webhook (account settings)".into(),
                enabled: n.webhook.enabled && webhook_url.is_some(),
                target: ChannelTarget::Webhook {
                    url: webhook_url.unwrap_or_default(),
                    secret,
                },
                builtin: true,
                created_at: None,
                updated_at: None,
            },
        ];
        let mut rules = Vec::new();
        for (channel, toggle, on, events) in toggles(&n) {
            let short = channel.trim_start_matches("nch_");
            for (i, event) in events.iter().enumerate() {
                rules.push(rule(
                    format!("nrl_{short}_{toggle}_{}", i + 1),
                    format!("{short} alerts: {toggle} ({event})"),
                    event,
                    channel,
                    on,
                ));
            }
        }
        for (i, event) in n.webhook.events.iter().enumerate() {
            rules.push(rule(
                format!("nrl_webhook_events_{}", i + 1),
                format!("webhook events: {event}"),
                event,
                "nch_webhook",
                true,
            ));
        }
        Ok((channels, rules))
    }

    fn set_builtin_enabled(
        &self,
        account: AccountId,
        actor: Option<&Actor>,
        channel_id: &str,
        enabled: bool,
    ) -> Result<bool, PortError> {
        let key = match channel_id {
            "nch_email" => "email",
            "nch_slack" => "slack",
            "nch_webhook" => "webhook",
            _ => return Ok(false),
        };
        let ctx = WriteContext {
            account,
            user: actor.map(|a| a.user_id),
            actor: actor.map_or_else(|| "system".to_owned(), |a| a.user_id.to_string()),
            ip: actor.and_then(|a| a.ip).map(|ip| ip.to_string()),
            at: self.clock().now(),
        };
        let mut changed = false;
        self.store()
            .update(&ctx, &[SECTION], false, &mut |snapshot| {
                let (_, current) = snapshot
                    .sections
                    .into_iter()
                    .next()
                    .ok_or(SettingsError::UnknownVersion(0))?;
                let mut n: NotificationSettings = match &current.document {
                    Some(doc) => serde_json::from_value(doc.clone())
                        .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?,
                    None => NotificationSettings::default(),
                };
                let flag = match key {
                    "email" => &mut n.email.enabled,
                    "slack" => &mut n.slack.enabled,
                    _ => &mut n.webhook.enabled,
                };
                let before = *flag;
                *flag = enabled;
                changed = before != enabled;
                if !changed {
                    return Ok(Writes::default());
                }
                let document = serde_json::to_value(&n)
                    .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?;
                Ok(Writes {
                    sections: vec![(
                        SECTION.into(),
                        SectionWrite {
                            history_document: document.clone(),
                            document,
                            allowlist: None,
                            audit: AuditRecord {
                                id: AuditId::generate(self.clock(), self.random()),
                                action: "settings.updated".into(),
                                target: SECTION.into(),
                                diff: json!({ "section": SECTION, "changes": [{ "path": format!("{key}.enabled"), "before": before, "after": enabled }] }),
                            },
                        },
                    )],
                    ..Writes::default()
                })
            })
            .map_err(into_port)?;
        Ok(changed)
    }
}

fn into_port(e: SettingsError) -> PortError {
    match e {
        SettingsError::Port(p) => p,
        other => PortError::Corrupt(other.to_string()),
    }
}
