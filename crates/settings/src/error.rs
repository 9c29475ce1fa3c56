//! The settings context's one error enum.

use thiserror::Error;

use tenantry_kernel::{KernelError, PortError, Role};

use crate::fields::FieldError;

/// Why a settings read or write was refused or failed. Every service method of this crate
/// returns it; the variant says what the caller can do about it (change the input, sign in
/// again, retry against the current version) and carries what it needs to say so.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SettingsError {
    /// The actor's role is below the one the section requires for this read or write.
    #[error("{section} settings require the {required} role")]
    Forbidden {
        /// What was refused: the section's name, or "tenant" for the whole tenant document.
        section: &'static str,
        /// The least role that may do it.
        required: Role,
        /// The actor's role.
        current: Role,
    },
    /// The actor's role is below the one an action that is not a section write requires
    /// (exporting secrets, for example).
    #[error("{action} requires the {required} role")]
    ForbiddenAction {
        /// What was refused, as a sentence start ("Exporting secrets").
        action: &'static str,
        /// The least role that may do it.
        required: Role,
        /// The actor's role.
        current: Role,
    },
    /// The document names fields (or sections) this version does not know; each is listed so
    /// that a typo is not silently dropped.
    #[error("unknown fields: {}", .0.join(", "))]
    UnknownFields(Vec<String>),
    /// Allowlist entries that are neither an IP address nor a CIDR block, quoted as given.
    #[error("invalid IP whitelist entries: {}", .0.join(", "))]
    InvalidIpWhitelist(Vec<String>),
    /// Values outside their field's type, range or format; one [`FieldError`] per field, all
    /// of them at once so that a form can mark every wrong field.
    #[error("invalid fields: {}", .0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", "))]
    Validation(Vec<FieldError>),
    /// A Slack or webhook URL that may not be saved (shape, scheme, address); each field
    /// with what is wrong (a Slack URL is a credential and is never quoted).
    #[error("invalid webhook URL: {}", .0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(", "))]
    InvalidWebhookUrl(Vec<FieldError>),
    /// Auto-recharge was switched on for an account without a valid payment method: it could
    /// never charge.
    #[error("a valid payment method is required for auto-recharge")]
    PaymentMethodRequired,
    /// The write was based on a version that is no longer current; re-read and apply the
    /// change again rather than overwrite someone else's.
    #[error("the section changed: current version is {current}")]
    VersionConflict {
        /// The section's current version.
        current: i64,
    },
    /// A precondition that is not valid entity-tag syntax: the client's error, not a conflict.
    #[error("the If-Match or If-None-Match header is malformed")]
    BadPrecondition,
    /// A well-formed `If-Match` named no current tag, or `If-None-Match` named the current one.
    #[error("the {header} precondition failed; the current ETag is {etag}")]
    PreconditionFailed {
        /// Which precondition failed: `If-Match` or `If-None-Match`.
        header: &'static str,
        /// The current entity tag, so that the client can re-read or retry.
        etag: String,
    },
    /// The account's history holds no such version (0 when there is no history at all).
    #[error("version {0} does not exist")]
    UnknownVersion(i64),
    /// The security policy asks for a recent sign-in before sensitive changes and the
    /// actor's session is older than that.
    #[error("sign in again to do this")]
    ReauthRequired,
    /// The email address belongs to another user; addresses are unique across users.
    #[error("another user has this email address")]
    EmailTaken,
    /// No entry with this id or block, or no stored value under this key.
    #[error("no such allowlist entry")]
    UnknownEntry,
    /// Adding an allowlist entry for a block the list already holds: the existing entry keeps
    /// its id and label (`id` is `None` only if it vanished between the refusal and the lookup).
    #[error("the allowlist already holds {cidr}")]
    AllowlistEntryExists {
        /// The block, in its canonical form.
        cidr: String,
        /// The existing entry's id.
        id: Option<String>,
    },
    /// The tenant (account) does not exist.
    #[error("no such tenant")]
    UnknownTenant,
    /// The allowlist change would refuse the address the actor is connecting from: an admin
    /// may not lock themselves out.
    #[error("this change would refuse the caller's own address {address}")]
    WouldLockOut {
        /// The actor's address that the new allowlist would refuse.
        address: String,
    },
    /// A test delivery to a notification channel did not succeed.
    #[error("{url} is not valid or unreachable: {reason}")]
    DeliveryFailed {
        /// Where it was sent (a Slack URL is redacted by the caller that builds this).
        url: String,
        /// What the transport or the receiver said.
        reason: String,
    },
    /// The settings catalog's webhook test reached no 2xx; it is recorded under
    /// `telemetry_event_id`, which the verify call takes (and answers 400 for, like this).
    #[error("the test delivery {telemetry_event_id} to {url} failed: {reason}")]
    TelemetryTestFailed {
        /// The id the test is recorded under.
        telemetry_event_id: String,
        /// Where it was sent.
        url: String,
        /// What the transport or the receiver said.
        reason: String,
    },
    /// The verify call named no test of this account.
    #[error("no webhook test has this telemetryEventId")]
    UnknownTelemetryEvent,
    /// The service was opened without the transports a test delivery needs.
    #[error("notification deliveries are not configured")]
    NoDeliverers,
    /// A sealed secret could not be opened (wrong or missing data key, corrupt ciphertext).
    #[error("a stored secret cannot be opened: {0}")]
    Secret(String),
    /// The catalog setting has not been created, so it cannot be read, replaced, merged or
    /// deleted.
    #[error("the setting {0} does not exist for this account")]
    CatalogSettingMissing(&'static str),
    /// Creating a catalog setting that already exists.
    #[error("the setting {0} already exists for this account")]
    CatalogSettingExists(&'static str),
    /// The operation does not apply to this catalog setting: the service notification can be
    /// neither merged nor deleted.
    #[error("{operation} is not supported for the {setting} setting")]
    CatalogOperationUnsupported {
        /// The refused operation.
        operation: &'static str,
        /// The catalog setting's name.
        setting: &'static str,
    },
    /// A shared-kernel rule refused the input.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The store or another port failed; not the caller's fault.
    #[error(transparent)]
    Port(#[from] PortError),
}
