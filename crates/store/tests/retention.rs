use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenantry_kernel::{
    AccountName, Actor, Credential, Email, FixedClock, OsRandom, PageRequest, Role,
};
use tenantry_security::{
    AccountProvisioning, AuditFilter, AuditLogReader, ProvisionedAccount, SecretBox,
};
use tenantry_settings::{Section, SettingsService};
use tenantry_store::Store;

use crate::support::stores;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01")
}

fn settings_at(store: &Store, at: DateTime<Utc>) -> SettingsService {
    SettingsService::new(
        Arc::new(store.clone()),
        SecretBox::new(&[7u8; 32]),
        Arc::new(FixedClock(at)),
        Arc::new(OsRandom),
    )
}

fn owner(account: &ProvisionedAccount) -> Actor {
    Actor {
        account_id: account.account_id,
        user_id: account.owner_id,
        role: Role::Owner,
        credential: Credential::ApiKey(account.owner_key.id),
        ip: None,
        scopes: Vec::new(),
        authenticated_at: None,
    }
}

fn actions(store: &Store, account: &ProvisionedAccount) -> Vec<String> {
    let page = store
        .list_audit(
            account.account_id,
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
        let provisioning = AccountProvisioning::new(
            Arc::new(store.clone()),
            Arc::new(FixedClock(t0())),
            Arc::new(OsRandom),
        );
        let docs = tenantry_settings::defaults::initial_documents();
        let short = provisioning
            .create_account(
                AccountName::parse("short").expect("name"),
                None,
                &Email::parse("a@short.test").expect("email"),
                &docs,
            )
            .expect("account");
        let long = provisioning
            .create_account(
                AccountName::parse("long").expect("name"),
                None,
                &Email::parse("a@long.test").expect("email"),
                &docs,
            )
            .expect("account");

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
