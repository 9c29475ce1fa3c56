//! A section's version history and rollback: a rollback writes the old version's document as a
//! new version, through the same validation and lockout guard as any write.

use super::*;

impl SettingsService {
    /// A section's history, newest first, each version with its changes against the one before.
    pub fn history(
        &self,
        actor: &Actor,
        section: Section,
        page: &PageRequest,
    ) -> Result<Page<HistoryView>, SettingsError> {
        Self::require(actor, section)?;
        if section == Section::Preferences {
            return Err(SettingsError::UnknownVersion(0));
        }
        let entries = self
            .store
            .history(actor.account_id, section.as_str(), page)?;
        let mut items = Vec::with_capacity(entries.items.len());
        for entry in &entries.items {
            let previous = if entry.version > 1 {
                self.store
                    .history_version(actor.account_id, section.as_str(), entry.version - 1)?
                    .map(|e| e.document)
            } else {
                None
            };
            let changes =
                crate::diff::diff(previous.as_ref().unwrap_or(&json!({})), &entry.document);
            items.push(HistoryView {
                version: entry.version,
                updated_at: entry.updated_at,
                updated_by: entry.updated_by.clone(),
                changes,
            });
        }
        Ok(Page {
            items,
            next: entries.next,
        })
    }

    /// Restores version `version` of a section as a new version (history is never rewritten).
    pub fn rollback(
        &self,
        actor: &Actor,
        section: Section,
        version: i64,
        preconditions: &Preconditions,
    ) -> Result<SectionView, SettingsError> {
        Self::require(actor, section)?;
        if section == Section::Preferences {
            return Err(SettingsError::UnknownVersion(version));
        }
        let target = self
            .store
            .history_version(actor.account_id, section.as_str(), version)?
            .ok_or(SettingsError::UnknownVersion(version))?;
        let settings = assemble(StoredSettings {
            sections: vec![crate::ports::StoredSection {
                section: section.as_str().into(),
                document: target.document.clone(),
                version,
            }],
            allowlist: target
                .document
                .get("ip_allowlist")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            ..StoredSettings::default()
        })?;
        // The old version rendered for merging replaces the current document wholesale.
        let old = settings.render_section(section, &SecretView::Sealed, false);
        self.write(
            actor,
            section,
            "settings.rolled_back",
            preconditions,
            LockoutGuard { caller: actor.ip },
            &|current: &mut Value| {
                *current = old.clone();
                Ok(())
            },
        )
    }
}
