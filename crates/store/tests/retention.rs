use chrono::Duration;
use serde_json::json;
use tenantry_kernel::PageRequest;
use tenantry_security::{AuditFilter, AuditLogReader, ProvisionedAccount};
use tenantry_settings::Section;
use tenantry_store::Store;

use crate::support::{create_account, owner, settings_at, stores, t0};

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
        let deleted = settings_at(store, t0() + Duration::days(100))
            .purge_expired_audit()
            .expect("purge");
        assert_eq!(deleted, 3, "two rows of short, one of long");
        assert_eq!(actions(store, &short), ["settings.updated@80"]);
        assert_eq!(actions(store, &long), ["settings.updated@80"]);

        // Running again (or on another instance) finds nothing more.
        assert_eq!(
            settings_at(store, t0() + Duration::days(100))
                .purge_expired_audit()
                .expect("purge"),
            0
        );
        // An entry exactly at the cutoff is kept: "older than" is strict.
        assert_eq!(
            settings_at(store, t0() + Duration::days(110))
                .purge_expired_audit()
                .expect("purge"),
            0
        );
        assert_eq!(
            settings_at(store, t0() + Duration::days(111))
                .purge_expired_audit()
                .expect("purge"),
            1
        );
    }
}
