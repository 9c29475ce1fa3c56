//! The settings catalog API's catalog: the list of settings, and the notification settings'
//! create, replace, merge, read and delete, each a versioned, audited settings section. The
//! service takes and returns the domain [`CatalogDocument`]; reading the API's DTO is the
//! dialect's (decision 0043).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tenantry_kernel::{Actor, AuditId, PortError};
use tenantry_notifications::OutboundPolicy;

use crate::catalog_notifications::check_service_change;
use crate::ports::{AuditRecord, Writes};
use crate::{
    CatalogDocument, CatalogSetting, SettingsError, SettingsService, TelemetryTest,
    AVAILABLE_CHANNELS, CATALOG,
};

/// The outbound policy's check of a push webhook URL: the URL as it will be called, or why it
/// may not be.
pub type UrlCheck<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// The document a catalog write stores, worked out inside the write's transaction from the
/// stored document (given for a merge only), with every push webhook URL
/// passed through the [`UrlCheck`].
pub type CatalogChange<'a> =
    &'a dyn Fn(Option<&CatalogDocument>, UrlCheck<'_>) -> Result<CatalogDocument, SettingsError>;

/// A push notification channel: (id, name, parent id, display order among its siblings).
pub type PushChannel = (&'static str, &'static str, Option<&'static str>, u32);

/// A `TEST_TELEMETRY_WEBHOOK` event as sent to the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryEvent {
    /// A version 4 UUID, as the settings catalog API shows.
    pub id: String,
    /// When the event was sent.
    pub time: DateTime<Utc>,
    /// The account's name (slug), so that the receiver knows whose test it is.
    pub account_name: String,
}

impl TelemetryEvent {
    /// The event's JSON. It is what the webhook receives, and the settings catalog API answers
    /// the test with the very event it sent, so this one rendering serves both.
    pub fn payload(&self) -> Value {
        json!({
            "telemetryEventId": self.id,
            "telemetryEventType": "TEST_TELEMETRY_WEBHOOK",
            "telemetryEventTime": self.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            "environment": "tenantry",
            "accountName": self.account_name,
        })
    }
}

/// How a catalog write treats what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogWrite {
    /// The setting must not exist yet (`CatalogSettingExists` otherwise).
    Create,
    /// The setting must exist (`CatalogSettingMissing` otherwise); the new document replaces it.
    Replace,
    /// The setting must exist (`CatalogSettingMissing` otherwise); the change is worked out from
    /// the stored document. Not for the service notification.
    Patch,
}

impl SettingsService {
    fn catalog_guard(&self, actor: &Actor, account_name: &str) -> Result<(), SettingsError> {
        let stored = self.store().load(actor.account_id, actor.user_id)?;
        Self::require_catalog_admin(actor, account_name, &stored.account_name)
    }

    /// The stored DTO, if the setting exists.
    pub fn catalog_document(
        &self,
        account: tenantry_kernel::AccountId,
        setting: CatalogSetting,
    ) -> Result<Option<CatalogDocument>, SettingsError> {
        match self.store().section_document(account, setting.section())? {
            None | Some(Value::Null) => Ok(None),
            Some(doc) => serde_json::from_value(doc).map(Some).map_err(|e| {
                SettingsError::Port(PortError::Corrupt(format!("{}: {e}", setting.name())))
            }),
        }
    }

    /// The catalog: (setting name, display name), in its order. Admins of the account named
    /// `account_name` only: another account's name answers `UnknownTenant`, a lower role
    /// `Forbidden`.
    pub fn catalog_items(
        &self,
        actor: &Actor,
        account_name: &str,
    ) -> Result<&'static [(&'static str, &'static str)], SettingsError> {
        self.catalog_guard(actor, account_name)?;
        Ok(&CATALOG)
    }

    /// A notification setting of the account, `CatalogSettingMissing` if it was never created;
    /// the same guard as [`Self::catalog_items`].
    pub fn catalog_setting(
        &self,
        actor: &Actor,
        account_name: &str,
        setting: CatalogSetting,
    ) -> Result<CatalogDocument, SettingsError> {
        self.catalog_guard(actor, account_name)?;
        self.catalog_document(actor.account_id, setting)?
            .ok_or(SettingsError::CatalogSettingMissing(setting.name()))
    }

    /// The channels a push webhook may include ([`AVAILABLE_CHANNELS`]); the same guard as
    /// [`Self::catalog_items`].
    pub fn available_push_channels(
        &self,
        actor: &Actor,
        account_name: &str,
    ) -> Result<&'static [PushChannel], SettingsError> {
        self.catalog_guard(actor, account_name)?;
        Ok(&AVAILABLE_CHANNELS)
    }

    /// Creates, replaces or merges a notification setting: `mode` says whether it must exist,
    /// `change` works out the new document. Writing what is stored is no write.
    pub fn write_catalog_setting(
        &self,
        actor: &Actor,
        account_name: &str,
        setting: CatalogSetting,
        mode: CatalogWrite,
        change: CatalogChange<'_>,
    ) -> Result<CatalogDocument, SettingsError> {
        self.catalog_guard(actor, account_name)?;
        if mode == CatalogWrite::Patch && setting == CatalogSetting::Service {
            return Err(SettingsError::CatalogOperationUnsupported {
                operation: "PATCH",
                setting: setting.name(),
            });
        }
        let policy = self
            .deliverers()
            .map_or_else(OutboundPolicy::default, |d| d.policy.clone());
        let check_url = |u: &str| {
            tenantry_notifications::outbound_url(u, "url", &policy).map_err(|e| match e {
                tenantry_notifications::NotificationError::Validation(f) => {
                    f.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; ")
                }
                other => other.to_string(),
            })
        };
        let section = setting.section();
        let mut written = None;
        self.store().update(
            &self.write_context(actor),
            &[section],
            false,
            &mut |snapshot| {
                let (_, current) = snapshot
                    .sections
                    .into_iter()
                    .next()
                    .ok_or(SettingsError::CatalogSettingMissing(setting.name()))?;
                let before: Option<CatalogDocument> = match &current.document {
                    None | Some(Value::Null) => None,
                    Some(doc) => Some(serde_json::from_value(doc.clone()).map_err(|e| {
                        SettingsError::Port(PortError::Corrupt(format!("{}: {e}", setting.name())))
                    })?),
                };
                let doc = match (mode, &before) {
                    (CatalogWrite::Create, Some(_)) => {
                        return Err(SettingsError::CatalogSettingExists(setting.name()))
                    }
                    (CatalogWrite::Replace | CatalogWrite::Patch, None) => {
                        return Err(SettingsError::CatalogSettingMissing(setting.name()))
                    }
                    (CatalogWrite::Patch, Some(stored)) => change(Some(stored), &check_url)?,
                    (CatalogWrite::Replace, Some(_)) | (CatalogWrite::Create, None) => {
                        change(None, &check_url)?
                    }
                };
                if let (
                    Some(CatalogDocument::Notification {
                        email_notification: old,
                        ..
                    }),
                    CatalogDocument::Notification {
                        email_notification: new,
                        ..
                    },
                ) = (&before, &doc)
                {
                    if setting == CatalogSetting::Service {
                        check_service_change(&old.emails, &new.emails)?;
                    }
                }
                let rendered = doc.render(setting);
                written = Some(doc.clone());
                // Writing what is stored (a document sent back as read) is no write.
                if before
                    .as_ref()
                    .is_some_and(|b| b.render(setting) == rendered)
                {
                    return Ok(Writes::default());
                }
                let document = serde_json::to_value(&doc)
                    .map_err(|e| SettingsError::Port(PortError::Corrupt(e.to_string())))?;
                Ok(Writes::one_section(
                    section,
                    document,
                    AuditRecord {
                        id: AuditId::generate(self.clock(), self.random()),
                        action: "settings.updated".into(),
                        target: section.into(),
                        diff: json!({
                            "section": setting.name(),
                            "before": before.as_ref().map(|b| b.render(setting)),
                            "after": rendered,
                        }),
                    },
                ))
            },
        )?;
        written.ok_or_else(|| {
            SettingsError::Port(PortError::Corrupt("store did not run the change".into()))
        })
    }

    /// Deletes a notification setting (not the service notification): it stops existing; its channels stop
    /// receiving.
    pub fn delete_catalog_setting(
        &self,
        actor: &Actor,
        account_name: &str,
        setting: CatalogSetting,
    ) -> Result<(), SettingsError> {
        self.catalog_guard(actor, account_name)?;
        if setting == CatalogSetting::Service {
            return Err(SettingsError::CatalogOperationUnsupported {
                operation: "DELETE",
                setting: setting.name(),
            });
        }
        let section = setting.section();
        self.store().update(
            &self.write_context(actor),
            &[section],
            false,
            &mut |snapshot| {
                let (_, current) = snapshot
                    .sections
                    .into_iter()
                    .next()
                    .ok_or(SettingsError::CatalogSettingMissing(setting.name()))?;
                if matches!(current.document, None | Some(Value::Null)) {
                    return Err(SettingsError::CatalogSettingMissing(setting.name()));
                }
                Ok(Writes::one_section(
                    section,
                    Value::Null,
                    AuditRecord {
                        id: AuditId::generate(self.clock(), self.random()),
                        action: "settings.updated".into(),
                        target: section.into(),
                        diff: json!({ "section": setting.name(), "deleted": true }),
                    },
                ))
            },
        )?;
        Ok(())
    }
}

impl SettingsService {
    /// Really sends a `TEST_TELEMETRY_WEBHOOK` event to `url` and records the answer: the
    /// event when the receiver answered 2xx, `DeliveryFailed` otherwise.
    pub fn telemetry_test(
        &self,
        actor: &Actor,
        account_name: &str,
        url: &str,
    ) -> Result<TelemetryEvent, SettingsError> {
        self.catalog_guard(actor, account_name)?;
        let deliverers = self.deliverers().ok_or(SettingsError::NoDeliverers)?;
        let url =
            tenantry_notifications::outbound_url(url, "url", &deliverers.policy).map_err(|_| {
                SettingsError::DeliveryFailed {
                    url: url.to_owned(),
                    reason: "must be an https URL to a public address".into(),
                }
            })?;
        let mut id = [0u8; 16];
        self.random().fill(&mut id);
        // A version 4 UUID, as the settings catalog API shows.
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let event_id = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        let now = self.clock().now();
        let event = TelemetryEvent {
            id: event_id.clone(),
            time: now,
            account_name: account_name.to_owned(),
        };
        let body = event.payload().to_string();
        let headers = vec![
            ("webhook-id".to_owned(), event_id.clone()),
            ("webhook-timestamp".to_owned(), now.timestamp().to_string()),
        ];
        let answer = deliverers.http.post_json(&url, &headers, body.as_bytes());
        let (code, error) = match &answer {
            Ok(reply) => (Some(reply.status), None),
            Err(e) => (None, Some(e.to_string())),
        };
        self.store().record_telemetry_test(
            actor.account_id,
            &crate::TelemetryTest {
                id: event_id.clone(),
                url: url.clone(),
                response_code: code,
                error: error.clone(),
                tested_at: now,
            },
        )?;
        match (code, error) {
            (Some(c), _) if (200..300).contains(&c) => Ok(event),
            // The failed test is recorded too, and its id returned: the verify call the
            // catalog document describes answers 400 for it, as it does here.
            (Some(c), _) => Err(SettingsError::TelemetryTestFailed {
                telemetry_event_id: event_id,
                url,
                reason: format!("the endpoint answered {c}"),
            }),
            (None, reason) => Err(SettingsError::TelemetryTestFailed {
                telemetry_event_id: event_id,
                url,
                reason: reason.unwrap_or_default(),
            }),
        }
    }

    /// The verify call: the test `telemetry_event_id` reached its endpoint with a 2xx answer
    /// (then the recorded test is returned; its `response_code` is that answer).
    pub fn telemetry_verify(
        &self,
        actor: &Actor,
        account_name: &str,
        telemetry_event_id: &str,
    ) -> Result<TelemetryTest, SettingsError> {
        self.catalog_guard(actor, account_name)?;
        let test = self
            .store()
            .telemetry_test(actor.account_id, telemetry_event_id)?
            .ok_or(SettingsError::UnknownTelemetryEvent)?;
        match test.response_code {
            Some(c) if (200..300).contains(&c) => Ok(test),
            other => Err(SettingsError::TelemetryTestFailed {
                telemetry_event_id: test.id,
                url: test.url,
                reason: other.map_or_else(
                    || test.error.unwrap_or_else(|| "no answer".into()),
                    |c| format!("the endpoint answered {c}"),
                ),
            }),
        }
    }
}
