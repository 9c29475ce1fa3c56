//! One user's second-factor enrollment in memory, for the unit tests of the services that
//! consult it (sign-in sessions, the token grant, the code check). Used steps are recorded as
//! the store records them, so a replayed code is refused here too.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tenantry_kernel::{Actor, AuditId, PortError, UserId};

use crate::{MfaRecord, MfaStore, Sealed, SecretHash};

/// The enrollment: its sealed secret, whether it is enabled (switchable), its last used step.
pub(crate) struct OneEnrollment {
    pub(crate) sealed: Sealed,
    pub(crate) enabled: Mutex<bool>,
    pub(crate) last_step: Mutex<Option<i64>>,
}

impl OneEnrollment {
    /// An enabled enrollment of `sealed`.
    pub(crate) fn enabled(sealed: Sealed) -> Self {
        Self {
            sealed,
            enabled: Mutex::new(true),
            last_step: Mutex::new(None),
        }
    }
}

/// Not enabled, without a secret: for tests that only ask whether the user is enrolled.
impl Default for OneEnrollment {
    fn default() -> Self {
        Self {
            sealed: Sealed::from_stored(String::new()),
            enabled: Mutex::new(false),
            last_step: Mutex::new(None),
        }
    }
}

impl MfaStore for OneEnrollment {
    fn mfa(&self, _: UserId) -> Result<Option<MfaRecord>, PortError> {
        Ok(Some(MfaRecord {
            enrollment_id: "mfaenr_test".into(),
            secret_sealed: self.sealed.clone(),
            enabled: *self.enabled.lock().expect("lock"),
            last_used_step: *self.last_step.lock().expect("lock"),
        }))
    }
    fn unused_backup_codes(&self, _: UserId) -> Result<u32, PortError> {
        Ok(0)
    }
    fn put_pending(
        &self,
        _: UserId,
        _: &str,
        _: &Sealed,
        _: DateTime<Utc>,
    ) -> Result<(), PortError> {
        Ok(())
    }
    fn activate(
        &self,
        _: &Actor,
        _: &str,
        _: i64,
        _: &[SecretHash],
        _: AuditId,
        _: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        Ok(false)
    }
    fn use_step(&self, _: UserId, step: i64) -> Result<bool, PortError> {
        let mut last = self.last_step.lock().expect("lock");
        if last.is_some_and(|l| l >= step) {
            return Ok(false);
        }
        *last = Some(step);
        Ok(true)
    }
    fn consume_backup_code(
        &self,
        _: UserId,
        _: &SecretHash,
        _: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        Ok(false)
    }
    fn remove_mfa(&self, _: &Actor, _: AuditId, _: DateTime<Utc>) -> Result<(), PortError> {
        Ok(())
    }
    fn credentials(&self, _: UserId) -> Result<Option<(String, Option<String>)>, PortError> {
        Ok(None)
    }
}
