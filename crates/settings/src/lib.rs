#![doc = include_str!("../README.md")]

mod billing;
pub mod defaults;
mod error;
mod integrations;
mod notifications;
mod organization;
mod ports;
mod preferences;
mod section;
mod security_policy;
mod service;

pub use billing::{AutoRecharge, BillingAddress, BillingSettings, CostAlert, PaymentMethod};
pub use error::SettingsError;
pub use integrations::{
    DatadogIntegration, DockerIntegration, DockerRegistry, GithubIntegration, GrafanaIntegration,
    IntegrationSettings, MonitoringIntegrations,
};
pub use notifications::{
    EmailAlerts, EmailChannel, NotificationSettings, SlackAlerts, SlackChannel, WebhookChannel,
};
pub use organization::OrganizationSettings;
pub use ports::{SettingsStore, StoredSection, StoredSettings};
pub use preferences::UserPreferences;
pub use section::Section;
pub use security_policy::{MfaMethod, SecurityPolicy};
pub use service::{AccountSettings, SettingsService};
