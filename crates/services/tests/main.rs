//! The services as an embedding program opens them (`Services::open` on a fresh database:
//! SQLite always, PostgreSQL too when `TENANTRY_TEST_PG` names one), driving the typed calls
//! through the same rules as the APIs. One test binary.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::PathBuf;

use diesel::{Connection, PgConnection, RunQueryDsl};
use proptest::prelude::*;
use tenantry_kernel::{
    AccountId, AccountName, Actor, Email, ExternalSubject, OperatorCaller, OsRandom, PageRequest,
    RandomSource, Role, UserId,
};
use tenantry_security::{
    ApiKeyLimit, AuditFilter, Cidr, Decision, IdleTimeout, Kek, RetentionDays, SessionLifetime,
    SessionLimit,
};
use tenantry_services::{master_key, OpenError, Options, Services};
use tenantry_settings::{Section, SecurityPolicy, SettingsError};
use tenantry_store::StoreConfig;

const OFFICE_IP: &str = "203.0.113.7";

struct Opened {
    services: Services,
    account: AccountId,
    owner: UserId,
    key: Kek,
    config: StoreConfig,
    /// Declared last, so it runs after `services` (and the store's pool) is dropped.
    _cleanup: Cleanup,
}

/// Removes a test's directory and PostgreSQL database once its services are gone: a pool
/// still open could create the SQLite file again behind a removal.
struct Cleanup {
    dir: PathBuf,
    /// PostgreSQL: the admin URL and the database to drop afterwards.
    pg: Option<(String, String)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // A connection the pool was opening in the background when the services were dropped
        // may still create the file; try again for a moment.
        for _ in 0..40 {
            let _ = std::fs::remove_dir_all(&self.dir);
            if !self.dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn scratch() -> PathBuf {
    let mut b = [0u8; 8];
    OsRandom.fill(&mut b);
    let name: String = b.iter().map(|x| format!("{x:02x}")).collect();
    std::env::temp_dir().join(format!("tenantry-services-{name}"))
}

/// A fresh SQLite database, and a fresh PostgreSQL one when configured (required when
/// `TENANTRY_REQUIRE_PG=1`).
fn backends() -> Vec<Opened> {
    backends_with(&|| Options::new("https://app.embedded.test"))
}

/// [`backends`] with services opened under `options` (a test clock, say).
fn backends_with(options: &dyn Fn() -> Options) -> Vec<Opened> {
    let dir = scratch();
    let mut out = vec![open(
        StoreConfig::sqlite(dir.join("tenantry.db")),
        dir,
        None,
        options(),
    )];
    match std::env::var("TENANTRY_TEST_PG") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!(
                "tenantry_svc_{}",
                scratch()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace('-', "_")
            );
            let mut conn = PgConnection::establish(&admin).expect("connect");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create db");
            let (base, _) = admin.rsplit_once('/').expect("database path");
            let config =
                StoreConfig::from_url(&format!("{base}/{name}")).expect("a PostgreSQL URL");
            out.push(open(config, scratch(), Some((admin, name)), options()));
        }
        _ => assert!(
            std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
            "TENANTRY_TEST_PG is required"
        ),
    }
    out
}

fn open(
    config: StoreConfig,
    dir: PathBuf,
    pg: Option<(String, String)>,
    options: Options,
) -> Opened {
    let key = master_key::load_or_create(&dir.join("master.key")).expect("key");
    let services = Services::open_with(&config, &key, options).expect("open");
    let account = services
        .provisioning
        .create_account(
            AccountName::parse("embedded").unwrap(),
            None,
            &Email::parse("owner@embedded.test").unwrap(),
            &tenantry_settings::defaults::initial_documents(),
            OperatorCaller::CLI,
        )
        .expect("account");
    Opened {
        account: account.account_id,
        owner: account.owner_id,
        services,
        key,
        config,
        _cleanup: Cleanup { dir, pg },
    }
}

impl Opened {
    fn external(&self, role: Role, ip: &str) -> Actor {
        Actor::external(
            self.account,
            self.owner,
            role,
            ExternalSubject::parse("sso|owner").unwrap(),
            Some(ip.parse().unwrap()),
            self.services.clock.now(),
        )
    }

    fn owner(&self) -> Actor {
        self.external(Role::Owner, OFFICE_IP)
    }

    fn audit(&self, action: &str) -> Vec<tenantry_security::AuditEntry> {
        self.services
            .audit
            .list(
                &self.owner(),
                &AuditFilter {
                    action: Some(action.into()),
                    ..AuditFilter::default()
                },
                &PageRequest::default(),
            )
            .expect("audit")
            .items
    }
}

#[test]
fn a_typed_update_is_validated_versioned_and_audited_as_the_external_caller() {
    for t in backends() {
        a_typed_update_is_validated_versioned_and_audited_as_the_external_caller_on(&t);
    }
}

fn a_typed_update_is_validated_versioned_and_audited_as_the_external_caller_on(t: &Opened) {
    let owner = t.owner();
    let before = t
        .services
        .settings
        .section(&owner, Section::Security)
        .unwrap();
    let refused = t
        .services
        .settings
        .update::<SecurityPolicy>(&owner, None, |s| {
            s.audit_retention_days = RetentionDays::new(5).unwrap();
        });
    assert!(
        matches!(&refused, Err(SettingsError::Validation(f)) if f.iter().any(|f| f.field == "audit.retention_days")),
        "{refused:?}"
    );
    let view = t
        .services
        .settings
        .update::<SecurityPolicy>(&owner, None, |s| {
            s.audit_retention_days = RetentionDays::new(180).unwrap();
            s.mfa_required = true;
        })
        .expect("update");
    assert_eq!(view.version, before.version + 1);
    let stored = t
        .services
        .settings
        .account_settings(&owner)
        .unwrap()
        .security;
    assert_eq!(stored.audit_retention_days.get(), 180);
    assert!(stored.mfa_required);
    let entries = t.audit("settings.updated");
    assert!(
        entries.iter().any(|e| e.actor == "external:sso|owner"),
        "{entries:?}"
    );
    let history = t
        .services
        .settings
        .history(&owner, Section::Security, &PageRequest::default())
        .expect("history");
    assert!(!history.items.is_empty());
}

#[test]
fn a_typed_update_never_drops_a_field_the_section_does_not_carry() {
    for t in backends() {
        a_typed_update_never_drops_a_field_the_section_does_not_carry_on(&t);
    }
}

fn a_typed_update_never_drops_a_field_the_section_does_not_carry_on(t: &Opened) {
    let owner = t.owner();
    let result = t
        .services
        .settings
        .update::<SecurityPolicy>(&owner, None, |s| {
            s.idle_timeout_minutes = IdleTimeout::new(5).ok();
        });
    assert!(
        matches!(&result, Err(SettingsError::Validation(f)) if f[0].field == "idle_timeout_minutes"),
        "{result:?}"
    );
    let stored = t
        .services
        .settings
        .account_settings(&owner)
        .unwrap()
        .security;
    assert_eq!(
        stored.idle_timeout_minutes,
        SecurityPolicy::default().idle_timeout_minutes
    );
}

#[test]
fn a_typed_update_on_a_stale_version_is_a_conflict_not_a_lost_update() {
    for t in backends() {
        a_typed_update_on_a_stale_version_is_a_conflict_not_a_lost_update_on(&t);
    }
}

fn a_typed_update_on_a_stale_version_is_a_conflict_not_a_lost_update_on(t: &Opened) {
    let owner = t.owner();
    let read = t
        .services
        .settings
        .section(&owner, Section::Security)
        .unwrap();
    t.services
        .settings
        .update::<SecurityPolicy>(&owner, None, |s| {
            s.concurrent_sessions = SessionLimit::new(3).unwrap();
        })
        .unwrap();
    let stale = t
        .services
        .settings
        .update::<SecurityPolicy>(&owner, Some(&read.etag), |s| {
            s.max_api_keys = ApiKeyLimit::new(7).unwrap();
        });
    assert!(
        matches!(stale, Err(SettingsError::VersionConflict { .. })),
        "{stale:?}"
    );
    let stored = t
        .services
        .settings
        .account_settings(&owner)
        .unwrap()
        .security;
    assert_eq!(
        (stored.concurrent_sessions.get(), stored.max_api_keys.get()),
        (3, 20)
    );
}

#[test]
fn the_role_an_embedder_vouches_for_is_all_an_external_caller_may_do() {
    for t in backends() {
        the_role_an_embedder_vouches_for_is_all_an_external_caller_may_do_on(&t);
    }
}

fn the_role_an_embedder_vouches_for_is_all_an_external_caller_may_do_on(t: &Opened) {
    let viewer = t.external(Role::Viewer, OFFICE_IP);
    let result = t
        .services
        .settings
        .update::<SecurityPolicy>(&viewer, None, |s| s.mfa_required = true);
    assert!(
        matches!(result, Err(SettingsError::Forbidden { .. })),
        "{result:?}"
    );
    let block = Cidr::parse("203.0.113.0/24").unwrap();
    let added = t
        .services
        .settings
        .add_to_allowlist(&viewer, block, "office");
    assert!(
        matches!(added, Err(SettingsError::Forbidden { .. })),
        "{added:?}"
    );
}

#[test]
fn typed_allowlist_entries_are_added_listed_and_removed_with_their_description() {
    for t in backends() {
        typed_allowlist_entries_are_added_listed_and_removed_with_their_description_on(&t);
    }
}

fn typed_allowlist_entries_are_added_listed_and_removed_with_their_description_on(t: &Opened) {
    let owner = t.owner();
    let office = Cidr::parse("203.0.113.0/24").unwrap();
    let vpn = Cidr::parse("2001:db8::/32").unwrap();
    let added = t
        .services
        .settings
        .add_to_allowlist(&owner, office, "head office")
        .unwrap();
    assert_eq!(
        (added.block, added.description.as_str()),
        (office, "head office")
    );
    t.services
        .settings
        .add_to_allowlist(&owner, vpn, "vpn")
        .unwrap();
    let again = t
        .services
        .settings
        .add_to_allowlist(&owner, office, "again");
    assert!(
        matches!(again, Err(SettingsError::AllowlistEntryExists { .. })),
        "{again:?}"
    );
    let listed: Vec<(Cidr, String)> = t
        .services
        .settings
        .allowlist_blocks(&owner)
        .unwrap()
        .into_iter()
        .map(|e| (e.block, e.description))
        .collect();
    assert_eq!(
        listed,
        [(office, "head office".to_owned()), (vpn, "vpn".to_owned())]
    );
    t.services
        .settings
        .remove_from_allowlist(&owner, vpn)
        .unwrap();
    let gone = t.services.settings.remove_from_allowlist(&owner, vpn);
    assert!(matches!(gone, Err(SettingsError::UnknownEntry)), "{gone:?}");
    assert_eq!(
        t.services.settings.allowlist_blocks(&owner).unwrap().len(),
        1
    );
}

#[test]
fn a_new_allowlist_entry_id_comes_from_the_injected_clock() {
    // Far from the system's now: an id minted from the system clock cannot pass for it.
    let frozen = chrono::DateTime::parse_from_rfc3339("2001-02-03T04:05:06.789Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let options = || Options {
        clock: std::sync::Arc::new(tenantry_kernel::FixedClock(frozen)),
        ..Options::new("https://app.embedded.test")
    };
    for t in backends_with(&options) {
        let added = t
            .services
            .settings
            .add_to_allowlist(
                &t.owner(),
                Cidr::parse("198.51.100.0/24").unwrap(),
                "branch",
            )
            .unwrap();
        let id: tenantry_kernel::IpEntryId = added.id.parse().unwrap();
        assert_eq!(
            id.ulid().timestamp_ms(),
            u64::try_from(frozen.timestamp_millis()).unwrap(),
            "{added:?}"
        );
    }
}

#[test]
fn enforcing_an_allowlist_that_excludes_the_external_caller_is_refused() {
    for t in backends() {
        enforcing_an_allowlist_that_excludes_the_external_caller_is_refused_on(&t);
    }
}

fn enforcing_an_allowlist_that_excludes_the_external_caller_is_refused_on(t: &Opened) {
    let outside = t.external(Role::Owner, "198.51.100.1");
    t.services
        .settings
        .add_to_allowlist(&outside, Cidr::parse("203.0.113.0/24").unwrap(), "office")
        .unwrap();
    let result = t
        .services
        .settings
        .update::<SecurityPolicy>(&outside, None, |s| s.ip_allowlist_enforced = true);
    assert!(
        matches!(result, Err(SettingsError::WouldLockOut { .. })),
        "{result:?}"
    );
}

#[test]
fn check_address_refuses_outside_an_enforced_allowlist_and_audits_it() {
    for t in backends() {
        check_address_refuses_outside_an_enforced_allowlist_and_audits_it_on(&t);
    }
}

fn check_address_refuses_outside_an_enforced_allowlist_and_audits_it_on(t: &Opened) {
    let owner = t.owner();
    let outside: IpAddr = "198.51.100.1".parse().unwrap();
    let inside: IpAddr = OFFICE_IP.parse().unwrap();
    assert_eq!(
        t.services
            .allowlist
            .check_address(t.account, outside)
            .unwrap(),
        Decision::Allowed,
        "nothing is enforced yet"
    );
    t.services
        .settings
        .add_to_allowlist(&owner, Cidr::parse("203.0.113.0/24").unwrap(), "office")
        .unwrap();
    t.services
        .settings
        .update::<SecurityPolicy>(&owner, None, |s| s.ip_allowlist_enforced = true)
        .unwrap();
    assert_eq!(
        t.services
            .allowlist
            .check_address(t.account, inside)
            .unwrap(),
        Decision::Allowed
    );
    assert!(t.audit("security.ip_denied").is_empty());
    assert_eq!(
        t.services
            .allowlist
            .check_address(t.account, outside)
            .unwrap(),
        Decision::Refused
    );
    let denied = t.audit("security.ip_denied");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].ip.as_deref(), Some("198.51.100.1"));
}

#[test]
fn the_same_master_key_opens_the_secrets_again_and_another_is_refused() {
    for t in backends() {
        the_same_master_key_opens_the_secrets_again_and_another_is_refused_on(&t);
    }
}

fn the_same_master_key_opens_the_secrets_again_and_another_is_refused_on(t: &Opened) {
    t.services
        .settings
        .update_section(
            &t.owner(),
            Section::Integrations,
            &serde_json::json!({ "github": { "enabled": true, "username": "bot", "access_token": "ghp_kept0sealed0token0value" } }),
            None,
        )
        .expect("a secret");
    let again = Services::open(&t.config, &t.key, "https://app.embedded.test").expect("same key");
    let export = again
        .settings
        .export(&t.owner(), true, &[Section::Integrations])
        .expect("export");
    assert_eq!(
        export["integrations"]["github"]["access_token"],
        "ghp_kept0sealed0token0value"
    );
    let other = Kek::from_base64(&Kek::generate_base64(&OsRandom)).unwrap();
    let result = Services::open(&t.config, &other, "https://app.embedded.test");
    assert!(
        matches!(result, Err(OpenError::WrongMasterKey { .. })),
        "{:?}",
        result.err()
    );
}

/// Whatever carried values a typed update sets within the section's ranges, what is stored
/// is exactly what the change left (no unit conversion loses a minute, no field is dropped),
/// and writing the stored value back is no change at all (no new version).
#[test]
fn a_typed_update_stores_exactly_what_it_was_given() {
    for t in backends() {
        a_typed_update_stores_exactly_what_it_was_given_on(&t);
    }
}

fn a_typed_update_stores_exactly_what_it_was_given_on(t: &Opened) {
    const SEED: u64 = 0x0040;
    let owner = t.owner();
    let strategy = (
        any::<bool>(),
        1u32..=50,
        60u32..=10_080,
        1u32..=10,
        30u32..=365,
        any::<(bool, bool, bool)>(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 40,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(SEED),
        ..ProptestConfig::default()
    });
    let outcome = runner.run(
        &strategy,
        |(mfa, keys, minutes, sessions, retention, (reauth, api_log, access_log))| {
            let edit = |s: &mut SecurityPolicy| {
                s.mfa_required = mfa;
                s.max_api_keys = ApiKeyLimit::new(keys).unwrap();
                s.absolute_session_minutes = SessionLifetime::new(minutes).unwrap();
                s.concurrent_sessions = SessionLimit::new(sessions).unwrap();
                s.audit_retention_days = RetentionDays::new(retention).unwrap();
                s.reauth_for_sensitive = reauth;
                s.log_api_requests = api_log;
                s.log_resource_access = access_log;
            };
            let mut expected = t
                .services
                .settings
                .account_settings(&owner)
                .unwrap()
                .security;
            edit(&mut expected);
            t.services
                .settings
                .update::<SecurityPolicy>(&owner, None, edit)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let stored = t.services.settings.account_settings(&owner).unwrap();
            prop_assert_eq!(&stored.security, &expected);
            let again = t
                .services
                .settings
                .update::<SecurityPolicy>(&owner, None, |_| {})
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again.version, stored.versions.of(Section::Security));
            Ok(())
        },
    );
    if let Err(e) = outcome {
        panic!("{e}; proptest seed {SEED:#x}");
    }
}

#[test]
fn every_context_audits_an_external_caller_by_its_subject() {
    for t in backends() {
        every_context_audits_an_external_caller_by_its_subject_on(&t);
    }
}

/// The audit log names whoever acted (`Actor::audit_name`) in every context, not the member's
/// user id the embedder vouched for: an external caller's changes read `external:<subject>`.
fn every_context_audits_an_external_caller_by_its_subject_on(t: &Opened) {
    let owner = t.owner();
    t.services
        .team
        .invite(
            &owner,
            tenantry_team::InviteRequest {
                email: Email::parse("new.hire@example.com").unwrap(),
                role: Role::Developer,
                department: None,
                title: None,
                message: None,
                permissions: None,
                lifetime: tenantry_team::InvitationLifetime::default(),
            },
        )
        .expect("invite");
    t.services
        .api_keys
        .create(&owner, "deploy", &["settings:read".to_owned()], None)
        .expect("key");
    t.services
        .notifications
        .create_channel(
            &owner,
            tenantry_notifications::ChannelKind::Email,
            "ops",
            true,
            &serde_json::json!({ "recipients": ["ops@example.com"] }),
        )
        .expect("channel");
    let entries = t
        .services
        .audit
        .list(&owner, &AuditFilter::default(), &PageRequest::default())
        .expect("audit")
        .items;
    for action in [
        "team.member_invited",
        "api_key.created",
        "notifications.channel_created",
    ] {
        let found: Vec<_> = entries.iter().filter(|e| e.action == action).collect();
        assert!(
            !found.is_empty() && found.iter().all(|e| e.actor == "external:sso|owner"),
            "{action}: {found:?}\nall: {:?}",
            entries
                .iter()
                .map(|e| (&e.action, &e.actor))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn an_organization_update_stores_only_a_listed_data_residency() {
    for t in backends() {
        an_organization_update_stores_only_a_listed_data_residency_on(&t);
    }
}

/// The closed set of residencies is the domain's: an embedder's typed update outside it is
/// refused by the service itself, not only by the HTTP reader.
fn an_organization_update_stores_only_a_listed_data_residency_on(t: &Opened) {
    use tenantry_settings::org_settings::OrganizationUpdate;
    let owner = t.owner();
    let update = |residency: &str| OrganizationUpdate {
        data_residency: Some(residency.to_owned()),
        ..OrganizationUpdate::default()
    };
    let refused = t
        .services
        .settings
        .update_organization_settings(&owner, Ok(update("mars")));
    assert!(
        matches!(&refused, Err(SettingsError::Validation(f)) if f.iter().any(|f| f.field == "data_residency")),
        "{refused:?}"
    );
    let stored = t
        .services
        .settings
        .update_organization_settings(&owner, Ok(update("eu")))
        .expect("a listed residency");
    assert_eq!(stored.data_residency, "eu");
}

#[test]
fn an_unreadable_update_from_a_lower_role_is_refused_for_the_role() {
    for t in backends() {
        an_unreadable_update_from_a_lower_role_is_refused_for_the_role_on(&t);
    }
}

/// A body that could not be read is reported only to a caller who may make the change: a
/// lower role learns nothing of how the body is validated.
fn an_unreadable_update_from_a_lower_role_is_refused_for_the_role_on(t: &Opened) {
    let unreadable = || {
        Err(SettingsError::Validation(vec![
            tenantry_settings::FieldError {
                field: "run_logs_days".into(),
                message: "must be an integer".into(),
                allowed: None,
            },
        ]))
    };
    let developer = t.external(Role::Developer, OFFICE_IP);
    let refused = t
        .services
        .settings
        .update_log_retention(&developer, unreadable());
    assert!(
        matches!(refused, Err(SettingsError::Forbidden { .. })),
        "{refused:?}"
    );
    let owner = t.owner();
    let reported = t
        .services
        .settings
        .update_log_retention(&owner, unreadable());
    assert!(
        matches!(reported, Err(SettingsError::Validation(_))),
        "{reported:?}"
    );
}

/// The profile and password as an embedder calls them (`services.profile`): the first password
/// needs no current one, the next needs it, and a write stored over a hash that changed after
/// the proof stores nothing.
#[test]
fn a_password_change_needs_the_current_password_and_never_overwrites_a_newer_one() {
    for t in backends() {
        a_password_change_needs_the_current_password_and_never_overwrites_a_newer_one_on(&t);
    }
}

fn a_password_change_needs_the_current_password_and_never_overwrites_a_newer_one_on(t: &Opened) {
    use tenantry_security::{ProfileChange, ProfileStore, SecurityError};
    let owner = t.owner();
    let profile = &t.services.profile;
    profile
        .change_password(&owner, None, "first-passphrase-41")
        .expect("the first password needs no current one");
    assert_eq!(
        profile.change_password(&owner, None, "second-passphrase-41"),
        Err(SecurityError::WrongPassword)
    );
    assert_eq!(
        profile.change_password(&owner, Some("not-it-at-all"), "second-passphrase-41"),
        Err(SecurityError::WrongPassword)
    );
    let proven = t.services.store.profile_record(t.owner).unwrap().unwrap();

    // Another change landed after this one proved the password: its hash is kept.
    let change = |expected: Option<String>| ProfileChange {
        display_name: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into()),
        expected_hash: Some(expected),
        preference_rows: Vec::new(),
        audit_id: tenantry_kernel::AuditId::generate(
            t.services.clock.as_ref(),
            t.services.random.as_ref(),
        ),
        action: "user.password_changed",
        diff: serde_json::json!({ "first_password": false }),
    };
    let stale = change(Some("$argon2id$an-older-hash".into()));
    assert!(!t
        .services
        .store
        .write_profile(&owner, t.services.clock.now(), &stale)
        .unwrap());
    assert_eq!(
        t.services.store.profile_record(t.owner).unwrap().unwrap(),
        proven,
        "nothing stored over a hash that changed"
    );
    assert_eq!(t.audit("user.password_changed").len(), 1, "nor audited");

    let current = change(proven.password_hash.clone());
    assert!(t
        .services
        .store
        .write_profile(&owner, t.services.clock.now(), &current)
        .unwrap());
    assert_eq!(
        t.services
            .store
            .profile_record(t.owner)
            .unwrap()
            .unwrap()
            .password_hash,
        current.password_hash
    );
    assert_eq!(t.audit("user.password_changed").len(), 2);
}
