use thiserror::Error;

use tenantry_kernel::{KernelError, PortError, Role};

/// Everything a team operation can refuse. The HTTP adapter maps each variant onto seed 02's
/// error bodies (`INSUFFICIENT_PERMISSIONS`, `CANNOT_REMOVE_OWNER`, `VALIDATION_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TeamError {
    /// Managing the team needs at least `required`; the caller holds `current`.
    #[error("only {required}s can manage team members")]
    InsufficientPermissions { required: Role, current: Role },
    /// The owner is never assigned, changed, suspended or removed through team management.
    #[error("cannot change or remove the account owner")]
    CannotRemoveOwner,
    /// A manager cannot grant a role above their own, nor act on someone who outranks them.
    #[error("a {current} cannot act on or grant the role {target}")]
    RoleAboveOwn { current: Role, target: Role },
    /// A field failed its contract; `field` is the seed's camelCase name.
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("team member not found")]
    MemberNotFound,
    /// The member changed between our read and our write (another admin acted at the same
    /// time); nothing was applied.
    #[error("the member was changed concurrently; reload and retry")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

impl From<KernelError> for TeamError {
    fn from(e: KernelError) -> Self {
        match e {
            KernelError::InsufficientRole { required, current } => {
                TeamError::InsufficientPermissions { required, current }
            }
            other => TeamError::Port(PortError::Corrupt(other.to_string())),
        }
    }
}
