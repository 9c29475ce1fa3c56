#![doc = include_str!("../README.md")]

mod event_type;
mod outbound;
mod outbox;
mod signing;

pub use event_type::EventType;
pub use outbound::{
    is_global, DeliveryError, HttpReply, HttpTransport, MailTransport, OutboundPolicy,
};
pub use outbox::{
    next_attempt, ClaimedMessage, DispatchReport, Mail, OutboxEntry, OutboxKind, OutboxStore,
    OutboxWorker, LEASE_SECS, RETRY_SCHEDULE_SECS,
};
pub use signing::{sign, verify};
