use thiserror::Error;

use tenantry_kernel::{KernelError, PortError};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Port(#[from] PortError),
}
