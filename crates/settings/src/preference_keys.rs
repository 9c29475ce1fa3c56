//! The user and organization API's per-user preferences: dotted keys with any JSON value.
//! The `display.*` keys are the account settings API's typed display preferences (validated as
//! such); `profile.*` keys belong to the profile and are not listed here; any other key is
//! free-form.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tenantry_kernel::{Actor, AuditId};

use crate::ports::{AuditRecord, PreferencesWrite, Writes};
use crate::preferences::storage;
use crate::{
    AwsRegion, DateFormat, FieldError, NumberFormat, SettingsError, SettingsService, Theme,
};

/// Largest serialized value of one free-form preference.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Most preferences one user may keep.
pub const MAX_KEYS: usize = 200;

/// One preference as the user and organization API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceItem {
    /// The preference's key.
    pub key: String,
    /// Its value, any JSON of at most [`MAX_VALUE_BYTES`] serialized.
    pub value: Value,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

fn invalid(field: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::Validation(vec![FieldError {
        field: field.into(),
        message: message.into(),
        allowed: None,
    }])
}

/// A key: 1–100 characters of `a-z 0-9 _ -` in dot-separated segments, outside `profile.*`.
fn check_key(key: &str) -> Result<(), SettingsError> {
    let ok = (1..=100).contains(&key.len())
        && key.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        });
    if !ok {
        return Err(invalid(
            "key",
            "must be 1-100 characters of a-z, 0-9, _ and - in dot-separated segments",
        ));
    }
    if key.starts_with("profile.") {
        return Err(invalid(
            "key",
            "profile.* values are set through /api/user/profile",
        ));
    }
    Ok(())
}

/// A closed set's spellings and its parser, as a yes/no check.
type ClosedSetCheck = (&'static [&'static str], fn(&str) -> bool);

/// `display.*` values must be what the account settings API's preferences accept.
fn check_value(key: &str, value: &Value) -> Result<(), SettingsError> {
    let typed: Option<ClosedSetCheck> = match key {
        storage::THEME => Some((Theme::ALLOWED, |s| Theme::parse(s).is_ok())),
        storage::DATE_FORMAT => Some((DateFormat::ALLOWED, |s| DateFormat::parse(s).is_ok())),
        storage::NUMBER_FORMAT => Some((NumberFormat::ALLOWED, |s| NumberFormat::parse(s).is_ok())),
        storage::DEFAULT_REGION => Some((AwsRegion::ALLOWED, |s| AwsRegion::parse(s).is_ok())),
        k if k.starts_with("display.") => return Err(invalid("key", "unknown display preference; known: display.theme, display.date_format, display.number_format, display.default_region")),
        _ => None,
    };
    match typed {
        Some((allowed, parses)) => match value.as_str() {
            Some(s) if parses(s) => Ok(()),
            _ => Err(SettingsError::Validation(vec![FieldError {
                field: "value".into(),
                message: format!("must be one of: {}", allowed.join(", ")),
                allowed: Some(json!(allowed)),
            }])),
        },
        None if value.to_string().len() > MAX_VALUE_BYTES => Err(invalid(
            "value",
            format!("must serialize to at most {MAX_VALUE_BYTES} bytes"),
        )),
        None => Ok(()),
    }
}

impl SettingsService {
    /// The caller's own preferences (not the profile's), each with when it was last written.
    pub fn list_preferences(&self, actor: &Actor) -> Result<Vec<PreferenceItem>, SettingsError> {
        Ok(self
            .store()
            .user_preference_rows(actor.user_id)?
            .into_iter()
            .filter(|(k, _, _)| !k.starts_with("profile."))
            .map(|(key, value, updated_at)| PreferenceItem {
                key,
                value,
                updated_at,
            })
            .collect())
    }

    /// One of the caller's own preferences; `Validation` for a malformed or `profile.*` key,
    /// `UnknownEntry` when unset.
    pub fn get_preference(
        &self,
        actor: &Actor,
        key: &str,
    ) -> Result<PreferenceItem, SettingsError> {
        check_key(key)?;
        self.list_preferences(actor)?
            .into_iter()
            .find(|p| p.key == key)
            .ok_or(SettingsError::UnknownEntry)
    }

    /// Sets (`value: Some`) or removes (`None`) one of the caller's own preferences, audited;
    /// every member may, for themselves only.
    pub fn set_preference(
        &self,
        actor: &Actor,
        key: &str,
        value: Option<&Value>,
    ) -> Result<Option<PreferenceItem>, SettingsError> {
        crate::service::check_preferences_writer(actor)?;
        check_key(key)?;
        if let Some(v) = value {
            check_value(key, v)?;
        }
        self.store().update(&self.write_context(actor), &[], true, &mut |snapshot| {
            let current = snapshot.preferences.unwrap_or_default();
            let exists = current.rows.iter().any(|(k, _)| k == key);
            if value.is_some() && !exists && current.rows.len() >= MAX_KEYS {
                return Err(invalid("key", format!("at most {MAX_KEYS} preferences per user")));
            }
            if value.is_none() && !exists {
                // Nothing to delete: abort, so no audit entry claims a change.
                return Err(SettingsError::UnknownEntry);
            }
            let before = current.rows.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            // Writing the stored value again is no write.
            if value.is_some() && before.as_ref() == value {
                return Ok(Writes::default());
            }
            Ok(Writes {
                preferences: Some(PreferencesWrite {
                    rows: value.map(|v| vec![(key.to_owned(), v.clone())]).unwrap_or_default(),
                    remove: if value.is_none() { vec![key.to_owned()] } else { Vec::new() },
                    audit: AuditRecord {
                        id: AuditId::generate(self.clock(), self.random()),
                        action: "preferences.updated".into(),
                        target: actor.user_id.to_string(),
                        diff: json!({ "section": "preferences", "changes": [{ "path": key, "before": before, "after": value }] }),
                    },
                }),
                ..Writes::default()
            })
        })?;
        match value {
            None => Ok(None),
            Some(_) => self.get_preference(actor, key).map(Some),
        }
    }
}
