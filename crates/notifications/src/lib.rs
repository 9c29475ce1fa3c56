#![doc = include_str!("../README.md")]

mod event_type;
mod outbound;
mod signing;

pub use event_type::EventType;
pub use outbound::{
    is_global, DeliveryError, HttpReply, HttpTransport, MailTransport, OutboundPolicy,
};
pub use signing::{sign, verify};
