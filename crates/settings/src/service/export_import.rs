//! Export and import of the account's settings as one document: secrets leave only for a caller
//! allowed to read them (re-authenticated when from a session), and an import validates every
//! section and stores them in one transaction (all or nothing).

use super::*;

impl SettingsService {
    /// The `settings` of the account settings API's export: the chosen sections, importable as they are.
    /// Secrets are shown as `{"configured": true}` unless `include_secrets`, which only admins
    /// may ask for and which is audited.
    pub fn export(
        &self,
        actor: &Actor,
        include_secrets: bool,
        sections: &[Section],
    ) -> Result<Value, SettingsError> {
        if include_secrets && actor.role < Role::Admin {
            return Err(SettingsError::ForbiddenAction {
                action: "Exporting secrets",
                required: Role::Admin,
                current: actor.role,
            });
        }
        let settings = self.account_settings(actor)?;
        if include_secrets
            && actor.needs_reauth(settings.security.reauth_for_sensitive, self.clock.now())
        {
            return Err(SettingsError::ReauthRequired);
        }
        let failure = std::cell::RefCell::new(None);
        let open = |sealed: &Sealed| match self.secrets.open(sealed) {
            Ok(plain) => Value::String(plain),
            Err(e) => {
                *failure.borrow_mut() = Some(e.to_string());
                Value::Null
            }
        };
        let view = if include_secrets {
            SecretView::Plain(&open)
        } else {
            SecretView::Configured
        };
        let mut out = serde_json::Map::new();
        for section in Section::ALL.into_iter().filter(|s| sections.contains(s)) {
            let doc = match section {
                Section::Notifications => settings.notifications.render(&view),
                Section::Billing => billing_document::render(&settings.billing),
                Section::Security => settings.security.render(&settings.allowlist, None),
                Section::Integrations => settings.integrations.render(&view),
                // An unset timezone exports as null ("follow the organization"), so a re-import
                // does not pin today's default.
                Section::Preferences => settings.preferences.render(None),
                Section::Organization => continue,
            };
            out.insert(section.as_str().to_owned(), doc);
        }
        if let Some(e) = failure.into_inner() {
            return Err(SettingsError::Secret(e));
        }
        if include_secrets {
            let audit = AuditRecord {
                id: self.audit_id(),
                action: "settings.exported_with_secrets".into(),
                target: "settings".into(),
                diff: json!({ "sections": sections.iter().map(|s| s.as_str()).collect::<Vec<_>>() }),
            };
            self.store
                .update(&self.context(actor), &[], false, &mut |_| {
                    Ok(Writes {
                        audit: vec![audit.clone()],
                        ..Writes::default()
                    })
                })?;
        }
        Ok(Value::Object(out))
    }

    /// The account settings API's whole export envelope (`{"export": {timestamp, format,
    /// include_secrets, settings, metadata}}`), the one the API and `tenantry export` both
    /// produce and `import` reads back. `format` is only recorded; rendering is the caller's.
    pub fn export_envelope(
        &self,
        actor: &Actor,
        include_secrets: bool,
        sections: &[Section],
        format: &str,
    ) -> Result<Value, SettingsError> {
        let settings = self.export(actor, include_secrets, sections)?;
        Ok(json!({
            "export": {
                "timestamp": self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "format": format,
                "include_secrets": include_secrets,
                "settings": settings,
                "metadata": {
                    "version": "2.0",
                    "account_id": actor.account_id.to_string(),
                    "exported_by": actor.audit_name(),
                },
            }
        }))
    }

    /// The account settings API's import: every named section validated as a whole and written in ONE
    /// transaction (all or nothing); `validate_only` reports the changes and writes nothing.
    pub fn import(
        &self,
        actor: &Actor,
        settings: &Value,
        strategy: MergeStrategy,
        validate_only: bool,
    ) -> Result<ImportOutcome, SettingsError> {
        let map = settings.as_object().ok_or_else(|| {
            SettingsError::Validation(vec![FieldError {
                field: "settings".into(),
                message: "must be an object of sections".into(),
                allowed: None,
            }])
        })?;
        let mut unknown = Vec::new();
        let mut sections = Vec::new();
        for key in map.keys() {
            match Section::parse(key).filter(|s| Section::ALL.contains(s)) {
                Some(s) => sections.push(s),
                None => unknown.push(format!("settings.{key}")),
            }
        }
        if !unknown.is_empty() {
            return Err(SettingsError::UnknownFields(unknown));
        }
        if sections.is_empty() {
            return Err(SettingsError::Validation(vec![FieldError {
                field: "settings".into(),
                message: "must contain at least one section".into(),
                allowed: Some(json!(Section::ALL.map(Section::as_str))),
            }]));
        }
        if contains_sealed_marker(settings) {
            return Err(SettingsError::UnknownFields(vec![
                crate::fields::SEALED_MARKER.to_owned(),
            ]));
        }
        for s in &sections {
            Self::require(actor, *s)?;
        }
        // The published schema first (it names every violation by path), then the typed
        // validation, which also checks what a schema cannot say (cross-field rules).
        let mut schema_errors = Vec::new();
        for s in &sections {
            if let Err(SettingsError::Validation(fields)) =
                crate::schema::validate(*s, &map[s.as_str()])
            {
                schema_errors.extend(fields.into_iter().map(|f| FieldError {
                    field: if f.field.is_empty() {
                        s.as_str().to_owned()
                    } else {
                        format!("{}.{}", s.as_str(), f.field)
                    },
                    ..f
                }));
            }
        }
        if !schema_errors.is_empty() {
            return Err(SettingsError::Validation(schema_errors));
        }
        let account_sections: Vec<Section> = sections
            .iter()
            .copied()
            .filter(|s| *s != Section::Preferences)
            .collect();
        let names: Vec<&str> = account_sections.iter().map(|s| s.as_str()).collect();
        let with_prefs = sections.contains(&Section::Preferences);
        if with_prefs {
            super::check_preferences_writer(actor)?;
        }
        let stored = self.store.load(actor.account_id, actor.user_id)?;
        let default_tz = assemble(stored.clone())?.organization.default_timezone;

        // The edit of one section: secrets an export could only mark as configured are kept,
        // then the document is merged onto the current (or default) section.
        let unset_secrets = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let edit_for = |section: Section| {
            let incoming = map.get(section.as_str()).cloned().unwrap_or(Value::Null);
            let unset_secrets = &unset_secrets;
            move |current: &mut Value| -> Result<(), SettingsError> {
                let mut incoming = incoming.clone();
                keep_configured_secrets(&mut incoming, current);
                // An export without secrets imported where there is no secret to keep: unset,
                // and said so in the response.
                for path in crate::fields::unset_configured_secrets(&mut incoming, "") {
                    unset_secrets
                        .borrow_mut()
                        .insert(format!("{}.{path}", section.as_str()));
                }
                if strategy == MergeStrategy::Overwrite {
                    *current = default_rendering(section);
                }
                merge_patch(current, &incoming);
                Ok(())
            }
        };
        let prefix = |section: Section, e: SettingsError| match e {
            SettingsError::Validation(fields) => SettingsError::Validation(
                fields
                    .into_iter()
                    .map(|f| FieldError {
                        field: format!("{}.{}", section.as_str(), f.field),
                        ..f
                    })
                    .collect(),
            ),
            SettingsError::UnknownFields(fields) => SettingsError::UnknownFields(
                fields
                    .into_iter()
                    .map(|f| format!("{}.{f}", section.as_str()))
                    .collect(),
            ),
            other => other,
        };
        let changes_of = |audit: &AuditRecord| -> Vec<Value> {
            audit
                .diff
                .get("changes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };

        let plan = |snapshot: crate::ports::Snapshot| -> Result<(Writes, Vec<SectionOutcome>), SettingsError> {
            let mut writes = Writes::default();
            let mut outcomes = Vec::new();
            for (name, current) in snapshot.sections {
                let section = Section::parse(&name).ok_or_else(|| corrupt("unknown section read"))?;
                let edit = edit_for(section);
                let (write, _) = self.section_write(actor, section, "settings.imported", &current, LockoutGuard { caller: actor.ip }, &edit).map_err(|e| prefix(section, e))?;
                outcomes.push(SectionOutcome { section, changes: changes_of(&write.audit), version: Some(current.version) });
                // Importing what is already there is no write (law 4).
                if !no_changes(&write.audit) {
                    writes.sections.push((name, write));
                }
            }
            if let Some(prefs) = snapshot.preferences {
                let edit = edit_for(Section::Preferences);
                let (write, _) = self.preferences_write(actor, &prefs.rows, default_tz, &edit).map_err(|e| prefix(Section::Preferences, e))?;
                outcomes.push(SectionOutcome { section: Section::Preferences, changes: changes_of(&write.audit), version: Some(prefs.version) });
                if !no_changes(&write.audit) {
                    writes.preferences = Some(write);
                }
            }
            Ok((writes, outcomes))
        };

        if validate_only {
            let snapshot = crate::ports::Snapshot {
                user: None,
                tier: stored.tier.clone(),
                sections: account_sections
                    .iter()
                    .map(|s| {
                        let found = stored.sections.iter().find(|d| d.section == s.as_str());
                        (
                            s.as_str().to_owned(),
                            CurrentSection {
                                document: found.map(|d| d.document.clone()),
                                version: found.map_or(0, |d| d.version),
                                allowlist: if *s == Section::Security {
                                    stored.allowlist.clone()
                                } else {
                                    Vec::new()
                                },
                            },
                        )
                    })
                    .collect(),
                preferences: with_prefs.then(|| crate::ports::CurrentPreferences {
                    rows: stored.preferences.clone(),
                    version: stored.preferences_version,
                }),
            };
            let (_, outcomes) = plan(snapshot)?;
            return Ok(ImportOutcome {
                validate_only: true,
                sections: outcomes,
                unset_secrets: unset_secrets.into_inner().into_iter().collect(),
            });
        }

        let mut outcomes = Vec::new();
        let applied =
            self.store
                .update(&self.context(actor), &names, with_prefs, &mut |snapshot| {
                    let (writes, planned) = plan(snapshot)?;
                    outcomes = planned;
                    Ok(writes)
                })?;
        if sections.contains(&Section::Security) {
            self.policies.invalidate(actor.account_id);
        }
        for outcome in &mut outcomes {
            let written = if outcome.section == Section::Preferences {
                applied.preferences
            } else {
                applied
                    .sections
                    .iter()
                    .find(|(n, _)| n == outcome.section.as_str())
                    .map(|(_, v)| *v)
            };
            // An unchanged section keeps the version it had.
            outcome.version = written.or(outcome.version);
        }
        Ok(ImportOutcome {
            validate_only: false,
            sections: outcomes,
            unset_secrets: unset_secrets.into_inner().into_iter().collect(),
        })
    }
}
