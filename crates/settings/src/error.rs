//! The settings context's one error enum.

use thiserror::Error;

use tenantry_kernel::{KernelError, PortError, Role};

use crate::fields::FieldError;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SettingsError {
    #[error("{section} settings require the {required} role")]
    Forbidden {
        section: &'static str,
        required: Role,
        current: Role,
    },
    #[error("{action} requires the {required} role")]
    ForbiddenAction {
        action: &'static str,
        required: Role,
        current: Role,
    },
    #[error("unknown fields: {}", .0.join(", "))]
    UnknownFields(Vec<String>),
    #[error("invalid IP whitelist entries: {}", .0.join(", "))]
    InvalidIpWhitelist(Vec<String>),
    #[error("invalid fields: {}", .0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", "))]
    Validation(Vec<FieldError>),
    /// A Slack or webhook URL that may not be saved (shape, scheme, address); each field
    /// with what is wrong (a Slack URL is a credential and is never quoted).
    #[error("invalid webhook URL: {}", .0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", "))]
    InvalidWebhookUrl(Vec<FieldError>),
    #[error("a valid payment method is required for auto-recharge")]
    PaymentMethodRequired,
    #[error("the section changed: current version is {current}")]
    VersionConflict { current: i64 },
    #[error("the If-Match or If-None-Match header is malformed")]
    BadPrecondition,
    /// A well-formed `If-Match` named no current tag, or `If-None-Match` named the current one.
    #[error("the {header} precondition failed; the current ETag is {etag}")]
    PreconditionFailed { header: &'static str, etag: String },
    #[error("version {0} does not exist")]
    UnknownVersion(i64),
    #[error("sign in again to do this")]
    ReauthRequired,
    #[error("another user has this email address")]
    EmailTaken,
    #[error("no such allowlist entry")]
    UnknownEntry,
    /// Adding an allowlist entry for a block the list already holds: the existing entry keeps
    /// its id and label (`id` is `None` only if it vanished between the refusal and the lookup).
    #[error("the allowlist already holds {cidr}")]
    AllowlistEntryExists { cidr: String, id: Option<String> },
    #[error("no such tenant")]
    UnknownTenant,
    #[error("this change would refuse the caller's own address {address}")]
    WouldLockOut { address: String },
    #[error("{url} is not valid or unreachable: {reason}")]
    DeliveryFailed { url: String, reason: String },
    /// The settings catalog's webhook test reached no 2xx; it is recorded under
    /// `telemetry_event_id`, which the verify call takes (and answers 400 for, like this).
    #[error("the test delivery {telemetry_event_id} to {url} failed: {reason}")]
    TelemetryTestFailed {
        telemetry_event_id: String,
        url: String,
        reason: String,
    },
    /// The verify call named no test of this account.
    #[error("no webhook test has this telemetryEventId")]
    UnknownTelemetryEvent,
    #[error("notification deliveries are not configured")]
    NoDeliverers,
    #[error("a stored secret cannot be opened: {0}")]
    Secret(String),
    /// The settings catalog API: the catalog setting has not been created (GET, PUT, PATCH, DELETE).
    #[error("the setting {0} does not exist for this account")]
    CatalogSettingMissing(&'static str),
    /// The settings catalog API: POST of a setting that already exists.
    #[error("the setting {0} already exists for this account")]
    CatalogSettingExists(&'static str),
    /// The settings catalog API: PATCH and DELETE are not supported for SERVICE_NOTIFICATION.
    #[error("{operation} is not supported for the {setting} setting")]
    CatalogOperationUnsupported {
        operation: &'static str,
        setting: &'static str,
    },
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Port(#[from] PortError),
}
