#![doc = include_str!("../README.md")]

mod api_key;
mod authenticator;
mod error;
mod operator_key;
mod ports;
mod provisioning;
mod secret;

pub use api_key::{ApiKeyEnv, ApiKeyToken, IssuedApiKey};
pub use authenticator::Authenticator;
pub use error::SecurityError;
pub use operator_key::OperatorKey;
pub use ports::{
    AccountStore, AccountSummary, CredentialStore, KeyRecord, MemberStatus, NewAccount,
};
pub use provisioning::{AccountProvisioning, ProvisionedAccount};
pub use secret::SecretHash;
