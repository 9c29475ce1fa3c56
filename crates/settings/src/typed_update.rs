//! Typed section updates, for programs that link the crates: the change is made on the
//! section's domain value instead of a JSON patch, and written through the very same section
//! write as the account settings API (the same validation and ranges, lockout guard, history
//! row, audit entry and version), so there is one rule path, not two.

use serde_json::Value;
use tenantry_kernel::Actor;

use crate::{
    AccountSettings, FieldError, Section, SectionView, SecurityPolicy, SettingsError,
    SettingsService,
};

/// A section whose domain value an embedder may edit with [`SettingsService::update`].
pub trait TypedSection: Clone + PartialEq + Sized {
    /// The section the value is stored as.
    const SECTION: Section;

    /// The section's current value among the account's settings.
    fn current(settings: &AccountSettings) -> Self;

    /// The section document that carries `after`, as a patch for the section write. A change
    /// to a field the section's document does not carry is refused
    /// ([`SettingsError::Validation`], naming the field and the call that changes it), never
    /// dropped in silence.
    fn into_patch(before: &Self, after: &Self) -> Result<Value, SettingsError>;
}

impl TypedSection for SecurityPolicy {
    const SECTION: Section = Section::Security;

    fn current(settings: &AccountSettings) -> Self {
        settings.security.clone()
    }

    fn into_patch(before: &Self, after: &Self) -> Result<Value, SettingsError> {
        let session =
            "is set with SettingsService::update_session_timeout, not in the security section";
        let elsewhere = "is not part of the security section's document";
        let uncarried = [
            (
                "idle_timeout_minutes",
                before.idle_timeout_minutes != after.idle_timeout_minutes,
                session,
            ),
            (
                "extend_on_activity",
                before.extend_on_activity != after.extend_on_activity,
                session,
            ),
            (
                "password_expiry_days",
                before.password_expiry_days != after.password_expiry_days,
                elsewhere,
            ),
            (
                "inactivity_lock_days",
                before.inactivity_lock_days != after.inactivity_lock_days,
                elsewhere,
            ),
        ];
        let refused: Vec<FieldError> = uncarried
            .into_iter()
            .filter(|(_, changed, _)| *changed)
            .map(|(field, _, why)| FieldError {
                field: field.to_owned(),
                message: why.to_owned(),
                allowed: None,
            })
            .collect();
        if !refused.is_empty() {
            return Err(SettingsError::Validation(refused));
        }
        let mut doc = after.render(&[], None);
        // The allowlist's entries have identity of their own (description, creator): they
        // change through the allowlist calls, and an absent list keeps them.
        if let Some(access) = doc.get_mut("api_access").and_then(Value::as_object_mut) {
            access.remove("ip_whitelist");
        }
        Ok(doc)
    }
}

impl SettingsService {
    /// Changes one section by editing its domain value: `change` gets the current value, and
    /// what it leaves is written as the account settings API writes a section (merged,
    /// validated as a whole, lockout guard, history, audit entry naming the actor, next
    /// version). `if_match` is the ETag the caller last read (as [`SectionView::etag`]);
    /// without one, the version read here guards the write, so a change made in between is
    /// [`SettingsError::VersionConflict`] rather than lost.
    ///
    /// Errors: [`SettingsError::Forbidden`] below the section's role, `Validation` or
    /// `InvalidIpWhitelist` for values outside the section's rules, `WouldLockOut` for an
    /// allowlist that would exclude the caller, `VersionConflict` on a stale version.
    ///
    /// ```
    /// # use tenantry_kernel::Actor;
    /// # use tenantry_security::RetentionDays;
    /// # use tenantry_settings::{SecurityPolicy, SettingsError, SettingsService};
    /// /// Requires MFA and keeps 180 days of audit log.
    /// fn harden(settings: &SettingsService, admin: &Actor) -> Result<(), SettingsError> {
    ///     const HALF_YEAR: RetentionDays = match RetentionDays::new(180) {
    ///         Ok(days) => days,
    ///         Err(_) => panic!("180 days lie in the retention range"),
    ///     };
    ///     settings.update::<SecurityPolicy>(admin, None, |s| {
    ///         s.mfa_required = true;
    ///         s.audit_retention_days = HALF_YEAR;
    ///     })?;
    ///     Ok(())
    /// }
    /// ```
    pub fn update<S: TypedSection>(
        &self,
        actor: &Actor,
        if_match: Option<&str>,
        change: impl FnOnce(&mut S),
    ) -> Result<SectionView, SettingsError> {
        let settings = self.account_settings(actor)?;
        let before = S::current(&settings);
        let mut after = before.clone();
        change(&mut after);
        let patch = S::into_patch(&before, &after)?;
        let read = crate::section_etag(S::SECTION, settings.versions.of(S::SECTION));
        self.update_section(actor, S::SECTION, &patch, Some(if_match.unwrap_or(&read)))
    }
}
