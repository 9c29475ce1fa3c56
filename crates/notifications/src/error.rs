//! The notification context's one error enum.

use thiserror::Error;

use tenantry_kernel::{KernelError, PortError, Role};

/// Everything a notification operation can refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotificationError {
    /// The operation needs a role the caller does not hold.
    #[error("this needs the {required} role (the caller is {current})")]
    InsufficientPermissions {
        /// The least role that may do it.
        required: Role,
        /// The caller's role.
        current: Role,
    },
    /// The named thing does not exist in the caller's account (another account's is not found
    /// either).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Fields that failed their contract: (field, message).
    #[error("invalid fields")]
    Validation(Vec<(String, String)>),
    /// Built-in channels are the account settings API's settings: changed there, never deleted.
    #[error("{0}")]
    BuiltinChannel(String),
    /// The store or another port failed; nothing was changed.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl NotificationError {
    /// A validation refusal of one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        NotificationError::Validation(vec![(field.to_owned(), message.into())])
    }
}

impl From<KernelError> for NotificationError {
    fn from(e: KernelError) -> Self {
        match e {
            KernelError::InsufficientRole { required, current } => {
                NotificationError::InsufficientPermissions { required, current }
            }
            other => NotificationError::Port(PortError::Corrupt(other.to_string())),
        }
    }
}
