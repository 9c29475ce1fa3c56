//! The one error of opening the services.

use std::path::PathBuf;

/// Why the services could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database could not be opened or migrated.
    #[error("opening the database: {0}")]
    Store(#[from] tenantry_store::StoreError),
    /// The data keys could not be read, created or opened with the master key.
    #[error("secrets at rest: {0}")]
    Secrets(#[from] tenantry_security::SecretBoxError),
    /// The database holds secrets the master key cannot open (another key sealed them): opening
    /// with this key would leave them unreadable, so it is refused. Names each key id.
    #[error("stored secrets cannot be opened with master key {kek_id}: {keys}")]
    WrongMasterKey {
        /// The id of the key given (never the key).
        kek_id: String,
        /// The data keys it cannot open, with how many values each sealed.
        keys: String,
    },
    /// A stored Slack URL could not be sealed at start.
    #[error("sealing stored Slack URLs: {0}")]
    Sealing(String),
    /// The master key file is unusable: unreadable, malformed, or readable by every user.
    #[error("master key file {}: {reason}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        reason: String,
    },
}
