//! The settings half of `tenantry check`: every stored document of an account read back through
//! the same parsers the API reads it with, so a document no endpoint could serve is reported
//! instead of being found by a user.

use tenantry_kernel::Actor;

use crate::{CatalogSetting, SettingsError, SettingsService};

impl SettingsService {
    /// One line per document of the account that does not read back; empty when all do.
    pub fn check_documents(&self, actor: &Actor) -> Vec<String> {
        let mut problems = Vec::new();
        let mut note = |what: &str, result: Result<(), SettingsError>| {
            if let Err(e) = result {
                problems.push(format!("{}: {what}: {e}", actor.account_id));
            }
        };
        note("account settings", self.account_settings(actor).map(|_| ()));
        note(
            "tenant settings",
            self.tenant_settings(actor, actor.account_id).map(|_| ()),
        );
        note(
            "allowlist entries",
            self.allowlist_entries(actor).map(|_| ()),
        );
        note("log retention", self.log_retention(actor).map(|_| ()));
        note("session timeout", self.session_timeout(actor).map(|_| ()));
        for setting in CatalogSetting::ALL {
            note(
                setting.name(),
                self.catalog_document(actor.account_id, setting).map(|_| ()),
            );
        }
        problems
    }
}
