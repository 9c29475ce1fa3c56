#![doc = include_str!("../README.md")]

mod event_type;

pub use event_type::EventType;
