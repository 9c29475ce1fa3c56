#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod bridges;
mod error;
pub mod master_key;
mod services;

pub use bridges::{
    AllowlistOfSettings, PreferencesOfSettings, RetentionOfSettings, SecurityPolicyOfSettings,
    TeamPolicyOfSettings,
};
pub use error::OpenError;
pub use services::{seal_clear_slack_urls, Options, Services};
