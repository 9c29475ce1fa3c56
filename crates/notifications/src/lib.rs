#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod channel_config;
mod channels;
mod deliveries;
mod error;
mod event_type;
mod events;
mod handlers;
mod outbound;
mod outbox;
mod ports;
mod rule_service;
mod secret_overlap;
mod service;
mod signing;
mod slack_url;

pub use channel_config::{generate_secret, outbound_url, MAX_RECIPIENTS, SEVERITIES};
pub use channels::{
    filters_match, route, Channel, ChannelKind, ChannelTarget, DigestPeriod, PreviousSecret, Rule,
};
pub use deliveries::{
    email_message, headline, slack_body, webhook_body, Attempt, AttemptState, Delivery,
    DeliveryJob, DeliveryStatus, JobTarget,
};
pub use error::NotificationError;
pub use event_type::EventType;
pub use events::{
    default_severity, event_for_audit_action, parse_host_event_name, parse_rule_event, Event,
    MAX_EVENT_NAME,
};
pub use handlers::{DeliveryHandler, EventHandler};
pub use outbound::{
    is_global, DeliveryError, FetchedBody, HttpGet, HttpReply, HttpTransport, MailTransport,
    OutboundPolicy,
};
pub use outbox::{
    next_attempt, ClaimedMessage, DispatchReport, Handled, Mail, MailHandler, OutboxEntry,
    OutboxHandler, OutboxKind, OutboxStore, OutboxWorker, RetrySchedule, BATCH_WINDOW_SECS,
    CLAIM_BATCH, LEASE_SECS, RENEW_EVERY_SECS, RETRY_SCHEDULE_SECS,
};
pub use ports::{
    BuiltinRoutes, ChannelRecord, DigestItem, DueDigest, NewDelivery, NotificationStore,
};
pub use rule_service::NewRule;
pub use service::{
    is_builtin, ChannelUpdate, CreatedChannel, HostEvent, NotificationDeps, NotificationService,
    BUILTIN_CHANNELS,
};
pub use signing::{sign, verify};
pub use slack_url::{
    carries_credentials, redact_slack_url, SlackWebhookUrl, SLACK_HOST, SLACK_URL_MASK,
};
