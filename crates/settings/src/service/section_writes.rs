//! Writes of one section: merge the patch into the current document, validate the result as a
//! whole, refuse what would lock the caller out or relax re-authentication from a stale session,
//! and store it as the next version with its history row and audit entry, atomically. Secrets
//! are sealed before they are stored; a secret sent back as read means "keep".

use super::*;

impl SettingsService {
    /// Changes one section: merges `patch` into the current section
    /// (absent fields keep their value, `null` clears), validates the result as a whole, and
    /// stores it as a new version, atomically. `if_match` guards against lost updates.
    pub fn update_section(
        &self,
        actor: &Actor,
        section: Section,
        patch: &Value,
        if_match: Option<&str>,
    ) -> Result<SectionView, SettingsError> {
        let preconditions = Preconditions::parse(if_match, None)?;
        self.update_section_if(actor, section, patch, &preconditions)
    }

    /// [`Self::update_section`] under `If-Match` and `If-None-Match`.
    pub fn update_section_if(
        &self,
        actor: &Actor,
        section: Section,
        patch: &Value,
        preconditions: &Preconditions,
    ) -> Result<SectionView, SettingsError> {
        Self::require(actor, section)?;
        if contains_sealed_marker(patch) {
            return Err(SettingsError::UnknownFields(vec![
                crate::fields::SEALED_MARKER.to_owned(),
            ]));
        }
        if !patch.is_object() {
            return Err(SettingsError::Validation(vec![crate::fields::FieldError {
                field: section.as_str().to_owned(),
                message: "the body must be a JSON object".into(),
                allowed: None,
            }]));
        }
        // `confirm_lockout` is an instruction, not a setting: taken out before the merge. It is
        // accepted for older clients and ignored: no confirmation overrides the lockout guard.
        let mut patch = patch.clone();
        if section == Section::Security {
            strip_read_only(&mut patch)?;
        }
        match patch
            .as_object_mut()
            .and_then(|m| m.remove("confirm_lockout"))
        {
            None => {}
            Some(Value::Bool(_)) if section == Section::Security => {}
            Some(_) => {
                return Err(SettingsError::Validation(vec![crate::fields::FieldError {
                    field: "confirm_lockout".into(),
                    message: "must be true or false, and only on the security section".into(),
                    allowed: None,
                }]))
            }
        };
        let guard = LockoutGuard { caller: actor.ip };
        self.write(
            actor,
            section,
            "settings.updated",
            preconditions,
            guard,
            &|current: &mut Value| {
                // A secret sent back as read (`{"configured": true}`) means "keep".
                let mut patch = patch.clone();
                keep_configured_secrets(&mut patch, current);
                merge_patch(current, &patch);
                Ok(())
            },
        )
    }

    pub(super) fn audit_id(&self) -> AuditId {
        AuditId::generate(self.clock.as_ref(), self.random.as_ref())
    }

    /// Applies `edit` to the current section rendered for merging, then validates and stores.
    pub(super) fn write(
        &self,
        actor: &Actor,
        section: Section,
        action: &str,
        preconditions: &Preconditions,
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<SectionView, SettingsError> {
        let ctx = self.context(actor);
        let mut rendered = None;
        let check_version = |current: i64| check_section(preconditions, section, current);
        let version = if section == Section::Preferences {
            super::check_preferences_writer(actor)?;
            let default_tz = self.default_timezone(actor.account_id)?;
            let mut kept = 0;
            let applied = self.store.update(&ctx, &[], true, &mut |snapshot| {
                let prefs = snapshot.preferences.unwrap_or_default();
                check_version(prefs.version)?;
                let (write, public) =
                    self.preferences_write(actor, &prefs.rows, default_tz, edit)?;
                rendered = Some(public);
                kept = prefs.version;
                // A write that changes nothing is no write: no version, audit entry or event.
                if no_changes(&write.audit) {
                    return Ok(Writes::default());
                }
                Ok(Writes {
                    preferences: Some(write),
                    ..Writes::default()
                })
            })?;
            applied.preferences.unwrap_or(kept)
        } else {
            let mut kept = 0;
            let applied = self
                .store
                .update(&ctx, &[section.as_str()], false, &mut |snapshot| {
                    let (_, current) = snapshot
                        .sections
                        .into_iter()
                        .next()
                        .ok_or_else(|| corrupt("store did not read the section"))?;
                    check_version(current.version)?;
                    let (write, public) =
                        self.section_write(actor, section, action, &current, guard, edit)?;
                    rendered = Some(public);
                    kept = current.version;
                    if no_changes(&write.audit) {
                        return Ok(Writes::default());
                    }
                    Ok(Writes {
                        sections: vec![(section.as_str().to_owned(), write)],
                        ..Writes::default()
                    })
                })?;
            if section == Section::Security {
                self.policies.invalidate(actor.account_id);
            }
            applied.sections.first().map_or(kept, |(_, v)| *v)
        };
        let document = rendered.ok_or_else(|| corrupt("store did not run the change"))?;
        Ok(SectionView {
            section,
            document,
            version,
            etag: section_etag(section, version),
        })
    }

    /// The write of one account section (document, history snapshot, allowlist, audit entry)
    /// and its public rendering.
    pub(super) fn section_write(
        &self,
        actor: &Actor,
        section: Section,
        action: &str,
        current: &CurrentSection,
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(SectionWrite, Value), SettingsError> {
        // A section never stored holds its defaults: only a change of them is a change.
        let before = match &current.document {
            Some(doc) => doc.clone(),
            None => stored_default(section)?,
        };
        let allowlist = allowlist_from(&current.allowlist)?;
        let (write, public) = self.next_document(section, &before, &allowlist, guard, edit)?;
        if section == Section::Security {
            self.reauth_to_relax_reauth(actor, &before, &write.document)?;
        }
        let diff = crate::diff::diff(
            &with_allowlist(section, &before, &current.allowlist),
            &write.history_document,
        );
        let audit = AuditRecord {
            id: self.audit_id(),
            action: action.to_owned(),
            target: section.as_str().to_owned(),
            diff: json!({ "section": section.as_str(), "changes": diff }),
        };
        Ok((SectionWrite { audit, ..write }, public))
    }

    /// The write of a user's preferences and their public rendering.
    pub(super) fn preferences_write(
        &self,
        actor: &Actor,
        rows: &[(String, Value)],
        default_tz: tenantry_kernel::Timezone,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(PreferencesWrite, Value), SettingsError> {
        let current = UserPreferences::from_rows(rows.iter().map(|(k, v)| (k.as_str(), v)));
        // Merge onto the stored value: an unset timezone stays unset unless the patch sets it.
        let mut doc = current.render(None);
        edit(&mut doc)?;
        // An unset timezone reads as the organization's; sent back as read, it stays unset
        // (following the organization), so a round trip pins nothing.
        let shown = current.render(Some(default_tz));
        if current.timezone.is_none() && doc.get("timezone") == shown.get("timezone") {
            doc["timezone"] = Value::Null;
        }
        let mut fields = Fields::default();
        let next = UserPreferences::read(&doc, &mut fields);
        let next = check(fields, Vec::new(), next)?;
        let (before, after) = (current.render(None), next.render(None));
        let write = PreferencesWrite {
            remove: Vec::new(),
            rows: next
                .to_rows()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            audit: AuditRecord {
                id: self.audit_id(),
                action: "preferences.updated".into(),
                target: actor.user_id.to_string(),
                diff: json!({ "section": "preferences", "changes": crate::diff::diff(&before, &after) }),
            },
        };
        Ok((write, next.render(Some(default_tz))))
    }

    /// Validates the edited section; returns what to store and the public rendering.
    pub(super) fn next_document(
        &self,
        section: Section,
        stored: &Value,
        allowlist: &[Cidr],
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(SectionWrite, Value), SettingsError> {
        // A secret written again with the value it already has keeps its sealed form, so
        // re-importing an export with secrets is not a change.
        let existing = self.open_all(stored);
        let seal = |s: &str| {
            existing
                .iter()
                .find(|(plain, _)| plain == s)
                .map(|(_, sealed)| sealed.clone())
                .unwrap_or_else(|| self.seal(s))
        };
        // Completed by `section_write`, which knows the action.
        let empty_audit = AuditRecord {
            id: self.audit_id(),
            action: String::new(),
            target: String::new(),
            diff: Value::Null,
        };
        macro_rules! finish {
            ($value:expr, $public:expr, $allowlist:expr, $history:expr) => {{
                let document = to_value(&$value)?;
                let history_document = $history.unwrap_or_else(|| document.clone());
                Ok((
                    SectionWrite {
                        document,
                        history_document,
                        allowlist: $allowlist,
                        audit: empty_audit,
                    },
                    $public,
                ))
            }};
        }
        let parse_err =
            |e: serde_json::Error| corrupt(format!("settings section {}: {e}", section.as_str()));
        match section {
            Section::Notifications => {
                let current: NotificationSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = current.render(&SecretView::Sealed);
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let policy = self
                    .deliverers
                    .as_ref()
                    .map_or_else(tenantry_notifications::OutboundPolicy::default, |d| {
                        d.policy.clone()
                    });
                let next = NotificationSettings::read(&doc, &mut fields, &seal, &policy);
                let next =
                    check(fields, Vec::new(), next).map_err(crate::notifications::refused_urls)?;
                let public = next.render(&SecretView::Configured);
                finish!(next, public, None, None)
            }
            Section::Billing => {
                let current: BillingSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = billing_document::render(&current);
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let next = billing_document::read(&doc, &mut fields);
                let next = check(fields, Vec::new(), next)?;
                if !next.auto_recharge_chargeable(self.clock.now()) {
                    return Err(SettingsError::PaymentMethodRequired);
                }
                let public = billing_document::render(&next);
                finish!(next, public, None, None)
            }
            Section::Security => {
                let current: SecurityPolicy =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = current.render(allowlist, None);
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let mut invalid = Vec::new();
                let read = current.read(&doc, &mut fields, &mut invalid);
                let (next, list) = check(fields, invalid, read)?;
                let list = crate::security_policy::in_stored_order(allowlist, &list);
                guard.check(next.ip_allowlist_enforced, &list)?;
                let public = next.render(&list, None);
                let mut history = to_value(&next)?;
                history["ip_allowlist"] =
                    json!(list.iter().map(ToString::to_string).collect::<Vec<_>>());
                finish!(next, public, Some(list), Some(history))
            }
            Section::Integrations => {
                let current: IntegrationSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let before = current.render(&SecretView::Sealed);
                let mut doc = before.clone();
                let mut fields = Fields::over(before.clone());
                edit(&mut doc)?;
                crate::integrations::keep_registry_tokens(&mut doc, &before);
                let next = IntegrationSettings::read(&doc, &mut fields, &seal);
                let next = check(fields, Vec::new(), next)?;
                let public = integrations_public(&next);
                finish!(next, public, None, None)
            }
            Section::Organization | Section::Preferences => {
                Err(corrupt("not a section of the account settings API"))
            }
        }
    }
}
