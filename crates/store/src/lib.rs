#![doc = include_str!("../README.md")]

mod accounts;
mod activity;
mod api_keys;
mod audit;
mod backup;
mod change_feed;
mod connection;
mod credentials;
mod data_keys;
mod email_changes;
mod error;
mod integrity;
mod invitations;
mod members;
mod mfa;
mod migrations;
mod notification_attempts;
mod notifications;
mod operator_keys;
mod outbox;
mod password_resets;
mod portal_links;
mod refresh_tokens;
mod schema;
mod sessions;
mod settings;
mod store;
mod time;
mod transaction;
mod usage;

pub use backup::{backup_sqlite, sqlite_companions};
pub use change_feed::{ChangeFollower, FeedCursor, FeedPoll, FeedTiming, GAP_AGE, PRUNE_AGE};
pub use connection::{Backend, DbConnection, RECENTLY_USED};
pub use error::StoreError;
pub use migrations::MigrationProgress;
pub use store::{redacted_url, Store, StoreConfig, StoreGauges};
