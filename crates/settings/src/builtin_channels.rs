//! The account settings API's notification settings as the engine's built-in channels and rules (API-MAP.md):
//! `notifications.email`, `.slack` and `.webhook` are the channels `nch_email`, `nch_slack` and
//! `nch_webhook`; each alert toggle is a rule for the events it names, and the webhook's
//! `events` list one rule per event. Changing either view changes the one document.

use serde_json::{json, Map};
use tenantry_kernel::{AccountId, Actor, AuditId, PortError};
use tenantry_notifications::{
    BuiltinRoutes, Channel, ChannelTarget, DigestPeriod, EventType, NotificationError, Rule,
};

use crate::EmailFrequency;

use crate::ports::{AuditRecord, WriteContext, Writes};
use crate::{
    CatalogDocument, CatalogSetting, NotificationSettings, SettingsError, SettingsService,
};

const SECTION: &str = "notifications";

/// The events each account settings API alert toggle stands for.
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
        let slack_url = n
            .slack
            .webhook_url_sealed
            .as_ref()
            .map(|s| self.secrets().open(s))
            .transpose()
            .map_err(|e| PortError::Corrupt(format!("slack webhook url: {e}")))?;
        let webhook_url = n.webhook.url.as_ref().map(|u| u.as_str().to_owned());
        let mut channels = vec![
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
                digest: match n.email.frequency {
                    EmailFrequency::Immediate => None,
                    EmailFrequency::DailyDigest => Some(DigestPeriod::Daily),
                    EmailFrequency::WeeklyDigest => Some(DigestPeriod::Weekly),
                },
                created_at: None,
                updated_at: None,
                previous_secret: None,
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
                digest: None,
                created_at: None,
                updated_at: None,
                previous_secret: None,
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
                digest: None,
                created_at: None,
                updated_at: None,
                previous_secret: None,
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
        self.catalog_routes(account, &mut channels, &mut rules)
            .map_err(into_port)?;
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
    ) -> Result<bool, NotificationError> {
        if let Some(index) = channel_id
            .strip_prefix("nch_catalog_push_")
            .and_then(|i| i.parse::<usize>().ok())
        {
            return Ok(self
                .set_push_webhook_enabled(account, actor, index, enabled)
                .map_err(into_port)?);
        }
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
            ids: self.ids(),
        };
        let mut changed = false;
        // Set when the channel would be turned on without a URL: refused, as the account settings API's own
        // write refuses `enabled: true` without one (decision 0021).
        let mut missing_url: Option<&'static str> = None;
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
                missing_url = match key {
                    "slack" if enabled && n.slack.webhook_url_sealed.is_none() => {
                        Some("slack.webhook_url")
                    }
                    "webhook" if enabled && n.webhook.url.is_none() => Some("webhook.url"),
                    _ => None,
                };
                if missing_url.is_some() {
                    return Ok(Writes::default());
                }
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
                Ok(Writes::one_section(
                    SECTION,
                    document,
                    AuditRecord {
                                id: AuditId::generate(self.clock(), self.random()),
                                action: "settings.updated".into(),
                                target: SECTION.into(),
                                diff: json!({ "section": SECTION, "changes": [{ "path": format!("{key}.enabled"), "before": before, "after": enabled }] }),
                            },
                ))
            })
            .map_err(into_port)?;
        if let Some(field) = missing_url {
            return Err(NotificationError::invalid(
                "enabled",
                format!(
                    "{channel_id} has no URL to deliver to: set {field} through \
                     PUT /v2/accounts/settings/notifications (with enabled: true) first"
                ),
            ));
        }
        Ok(changed)
    }
}

fn into_port(e: SettingsError) -> PortError {
    match e {
        SettingsError::Port(p) => p,
        other => PortError::Corrupt(other.to_string()),
    }
}

/// The events each catalog notification setting is about (reported by the host platform).
fn catalog_events(setting: CatalogSetting) -> &'static [&'static str] {
    match setting {
        CatalogSetting::ZoneTransfer => &["zone.transfer.failed", "zone.transfer.updated"],
        CatalogSetting::Service => &["service.incident"],
        CatalogSetting::Usage => &["usage.threshold_exceeded"],
        CatalogSetting::ZoneUsage => &["zone.usage.changed"],
        CatalogSetting::Push => &[],
    }
}

fn email_channel(id: String, name: String, enabled: bool, recipients: Vec<String>) -> Channel {
    Channel {
        id,
        name,
        enabled,
        target: ChannelTarget::Email {
            recipients,
            severity_filter: Vec::new(),
        },
        builtin: true,
        digest: None,
        created_at: None,
        updated_at: None,
        previous_secret: None,
    }
}

impl SettingsService {
    /// The settings catalog API's notification settings as channels and rules: each email setting is one channel
    /// with a rule per event it covers (its `threshold` as the rule's threshold filter); each
    /// zone of ZONE_USAGE_NOTIFICATION and each PUSH_NOTIFICATIONS webhook is a channel of its own.
    fn catalog_routes(
        &self,
        account: AccountId,
        channels: &mut Vec<Channel>,
        rules: &mut Vec<Rule>,
    ) -> Result<(), SettingsError> {
        for setting in CatalogSetting::ALL {
            let Some(doc) = self.catalog_document(account, setting)? else {
                continue;
            };
            let short = setting
                .section()
                .trim_start_matches("catalog.")
                .trim_end_matches("_notification")
                .trim_end_matches("_notifications");
            match doc {
                CatalogDocument::Notification {
                    threshold,
                    email_notification,
                } => {
                    let id = format!("nch_catalog_{short}");
                    channels.push(email_channel(
                        id.clone(),
                        format!("{} (catalog)", setting.name()),
                        email_notification.enable,
                        email_notification.emails,
                    ));
                    for (i, event) in catalog_events(setting).iter().enumerate() {
                        let mut r = rule(
                            format!("nrl_catalog_{short}_{}", i + 1),
                            format!("{}: {event}", setting.name()),
                            event,
                            &id,
                            true,
                        );
                        if let Some(t) = threshold {
                            r.filters.insert("threshold".into(), json!(t));
                        }
                        rules.push(r);
                    }
                }
                CatalogDocument::ZoneUsage { zones } => {
                    for (i, z) in zones.into_iter().enumerate() {
                        let id = format!("nch_catalog_zone_usage_{}", i + 1);
                        let mut r = rule(
                            format!("nrl_catalog_zone_usage_{}", i + 1),
                            format!("ZONE_USAGE_NOTIFICATION: {}", z.zone),
                            "zone.usage.changed",
                            &id,
                            true,
                        );
                        r.filters.insert("zone".into(), json!(z.zone));
                        r.filters.insert("threshold".into(), json!(z.threshold));
                        rules.push(r);
                        channels.push(email_channel(
                            id,
                            format!("ZONE_USAGE_NOTIFICATION {}", z.zone),
                            z.email_notification.enable,
                            z.email_notification.emails,
                        ));
                    }
                }
                CatalogDocument::Push { webhooks } => {
                    for (i, w) in webhooks.into_iter().enumerate() {
                        let id = format!("nch_catalog_push_{}", i + 1);
                        let mut events: Vec<&str> = Vec::new();
                        for (channel, on) in &w.include {
                            if *on {
                                for e in crate::push_channel_events(channel).unwrap_or_default() {
                                    if !events.contains(&e) {
                                        events.push(e);
                                    }
                                }
                            }
                        }
                        for (j, event) in events.iter().enumerate() {
                            rules.push(rule(
                                format!("nrl_catalog_push_{}_{}", i + 1, j + 1),
                                format!("PUSH_NOTIFICATIONS {}: {event}", i + 1),
                                event,
                                &id,
                                true,
                            ));
                        }
                        channels.push(Channel {
                            id,
                            name: format!("PUSH_NOTIFICATIONS webhook {}", i + 1),
                            enabled: w.enable,
                            target: ChannelTarget::Webhook {
                                url: w.url,
                                secret: None,
                            },
                            builtin: true,
                            digest: None,
                            created_at: None,
                            updated_at: None,
                            previous_secret: None,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Turns one PUSH_NOTIFICATIONS webhook (1-based) on or off, as a change of that setting.
    fn set_push_webhook_enabled(
        &self,
        account: AccountId,
        actor: Option<&Actor>,
        index: usize,
        enabled: bool,
    ) -> Result<bool, SettingsError> {
        let section = CatalogSetting::Push.section();
        let ctx = WriteContext {
            account,
            user: actor.map(|a| a.user_id),
            actor: actor.map_or_else(|| "system".to_owned(), |a| a.user_id.to_string()),
            ip: actor.and_then(|a| a.ip).map(|ip| ip.to_string()),
            at: self.clock().now(),
            ids: self.ids(),
        };
        let mut changed = false;
        self.store().update(&ctx, &[section], false, &mut |snapshot| {
            let Some((_, current)) = snapshot.sections.into_iter().next() else {
                return Ok(Writes::default());
            };
            let Some(Ok(CatalogDocument::Push { mut webhooks })) = current
                .document
                .map(serde_json::from_value::<CatalogDocument>)
            else {
                return Ok(Writes::default());
            };
            let Some(w) = index.checked_sub(1).and_then(|i| webhooks.get_mut(i)) else {
                return Ok(Writes::default());
            };
            if w.enable == enabled {
                return Ok(Writes::default());
            }
            w.enable = enabled;
            changed = true;
            let document = serde_json::to_value(CatalogDocument::Push { webhooks })
                .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?;
            Ok(Writes::one_section(
                    section,
                    document,
                    AuditRecord {
                            id: AuditId::generate(self.clock(), self.random()),
                            action: "settings.updated".into(),
                            target: section.into(),
                            diff: json!({ "section": "PUSH_NOTIFICATIONS", "changes": [{ "path": format!("webhooks[{}].enable", index - 1), "after": enabled }] }),
                        },
                ))
        })?;
        Ok(changed)
    }
}
