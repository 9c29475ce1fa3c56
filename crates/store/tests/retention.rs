use chrono::Duration;
use serde_json::json;
use tenantry_kernel::PageRequest;
use tenantry_security::{AuditFilter, AuditLogReader, ProvisionedAccount};
use tenantry_settings::Section;
use tenantry_store::Store;

use crate::support::{create_account, owner, settings_at, stores, t0};

/// The retention each account's security settings set, as the binary bridges it.
struct RetentionOfSettings(std::sync::Arc<tenantry_settings::SettingsService>);

impl tenantry_security::AuditRetentionPolicy for RetentionOfSettings {
    fn audit_retention_days(
        &self,
    ) -> Result<
        Vec<(tenantry_kernel::AccountId, tenantry_security::RetentionDays)>,
        tenantry_kernel::PortError,
    > {
        self.0
            .audit_retention_days()
            .map_err(|e| tenantry_kernel::PortError::Corrupt(e.to_string()))
    }
}

/// The security context's purge over `store`, its clock at `at`.
fn purge_at(store: &Store, at: chrono::DateTime<chrono::Utc>) -> u64 {
    tenantry_security::AuditRetention::new(
        std::sync::Arc::new(RetentionOfSettings(settings_at(store, at))),
        std::sync::Arc::new(store.clone()),
        std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
    )
    .purge_expired_audit()
    .expect("purge")
}

fn actions(store: &Store, account: &ProvisionedAccount) -> Vec<String> {
    let page = store
        .list_audit(
            Some(account.account_id),
            &AuditFilter::default(),
            &PageRequest::default(),
        )
        .expect("list");
    page.items
        .into_iter()
        .map(|e| format!("{}@{}", e.action, (e.created_at - t0()).num_days()))
        .collect()
}

#[test]
fn purge_removes_exactly_the_entries_older_than_each_accounts_retention() {
    for db in stores() {
        let store = &db.store;
        let short = create_account(store, "short", t0());
        let long = create_account(store, "long", t0());

        // Day 50: `short` keeps 30 days of audit. Day 80: another change.
        settings_at(store, t0() + Duration::days(50))
            .update_section(
                &owner(&short),
                Section::Security,
                &json!({"audit": {"retention_days": 30}}),
                None,
            )
            .expect("update");
        settings_at(store, t0() + Duration::days(80))
            .update_section(
                &owner(&short),
                Section::Billing,
                &json!({"currency": "EUR"}),
                None,
            )
            .expect("update");
        settings_at(store, t0() + Duration::days(80))
            .update_section(
                &owner(&long),
                Section::Billing,
                &json!({"currency": "EUR"}),
                None,
            )
            .expect("update");
        assert_eq!(
            actions(store, &short),
            [
                "settings.updated@80",
                "settings.updated@50",
                "account.created@0"
            ]
        );

        // Day 100: the cutoff for `short` is day 70; `long` keeps the default 90 days (day 10).
        let deleted = purge_at(store, t0() + Duration::days(100));
        assert_eq!(deleted, 3, "two rows of short, one of long");
        assert_eq!(actions(store, &short), ["settings.updated@80"]);
        assert_eq!(actions(store, &long), ["settings.updated@80"]);

        // Running again (or on another instance) finds nothing more.
        assert_eq!(purge_at(store, t0() + Duration::days(100)), 0);
        // An entry exactly at the cutoff is kept: "older than" is strict.
        assert_eq!(purge_at(store, t0() + Duration::days(110)), 0);
        assert_eq!(purge_at(store, t0() + Duration::days(111)), 1);
    }
}
