#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod allowlist_entries;
mod allowlist_policy;
mod aws_region;
pub mod billing_document;
mod brand_contrast;
mod brand_logo;
mod builtin_channels;
mod catalog_notifications;
mod catalog_settings;
pub mod defaults;
mod diff;
mod display;
mod error;
mod fields;
mod integrations;
mod integrity;
mod maintenance_policy;
mod notification_test;
mod notifications;
pub mod org_settings;
mod organization;
mod ports;
mod precondition;
pub mod preference_keys;
pub mod preferences;
pub mod schema;
mod section;
mod security_policy;
pub mod security_preferences;
mod service;
pub mod tenant;
mod typed_update;
mod urls;

pub use allowlist_entries::AllowlistBlock;
pub use aws_region::AwsRegion;
pub use brand_contrast::{contrast_ratio, relative_luminance, TextOn};
pub use brand_logo::{LogoFormat, LogoImage, LOGO_MAX_BYTES};
pub use catalog_notifications::{
    push_channel_events, CatalogDocument, CatalogSetting, EmailNotification, PushWebhook,
    ZoneUsage, AVAILABLE_CHANNELS, CATALOG, MAX_OTHER_EMAILS, MAX_PUSH_WEBHOOKS, MAX_USAGE_EMAILS,
    MAX_ZONES, MAX_ZONE_EMAILS, ZONE_USAGE_THRESHOLDS,
};
pub use catalog_settings::{CatalogChange, CatalogWrite, TelemetryEvent, UrlCheck};
pub use diff::diff;
pub use display::{DateFormat, EmailFrequency, Language, NumberFormat, Theme};
pub use error::SettingsError;
pub use fields::{json_type, merge_patch, FieldError, Fields, SecretView};
pub use integrations::{
    DatadogIntegration, DockerIntegration, DockerRegistry, GithubIntegration, GrafanaIntegration,
    IntegrationSettings, MonitoringIntegrations,
};
pub use notification_test::{Deliverers, TestChannel, TestOutcome, TestRequest};
pub use notifications::{
    seal_clear_slack_urls, EmailAlerts, EmailChannel, NotificationSettings, SlackAlerts,
    SlackChannel, WebhookChannel,
};
pub use organization::OrganizationSettings;
pub use ports::{
    AllowlistEntry, Applied, AuditRecord, CurrentPreferences, CurrentSection, HistoryEntry,
    IdSource, PreferencesWrite, SectionWrite, SettingsChange, SettingsStore, Snapshot,
    StoredSection, StoredSettings, TelemetryTest, UserRecord, UserWrite, WriteContext, Writes,
};
pub use precondition::{FailedPrecondition, Preconditions};
pub use preferences::{UserPreferences, PREFERENCE_KEYS};
pub use section::Section;
pub use security_policy::{
    in_stored_order, MfaMethod, SecurityPolicy, ACCOUNT_SETTINGS_RETENTION,
    ACCOUNT_SETTINGS_SESSIONS, ACCOUNT_SETTINGS_TIMEOUT_HOURS, VALID_IP_FORMAT,
};
pub use service::{
    section_etag, AccountSettings, HistoryView, ImportOutcome, MergeStrategy, RenderedSettings,
    SectionOutcome, SectionView, SettingsService, Versions,
};
pub use typed_update::TypedSection;
pub use urls::{HttpsUrl, SlackWebhookUrl, WebhookUrl};
