use diesel::{Connection, PgConnection, RunQueryDsl};
use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_store::{Store, StoreConfig};

/// A fresh database; dropped (PostgreSQL) or deleted (SQLite) with the value.
pub struct TestStore {
    pub store: Store,
    pub dir: Option<std::path::PathBuf>,
    pub pg: Option<(String, String)>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn unique() -> String {
    let mut b = [0u8; 8];
    OsRandom.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SQLite always; PostgreSQL too when configured (required under `cargo xtask test`).
pub fn stores() -> Vec<TestStore> {
    let dir = std::env::temp_dir().join(format!("tenantry-store-{}", unique()));
    let sqlite = TestStore {
        store: Store::open(&StoreConfig::sqlite(dir.join("t.db"))).expect("sqlite"),
        dir: Some(dir),
        pg: None,
    };
    let mut out = vec![sqlite];
    match std::env::var("TENANTRY_TEST_PG") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("tenantry_s_{}", unique());
            let mut conn = PgConnection::establish(&admin).expect("connect");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create db");
            let (base, _) = admin.rsplit_once('/').expect("database path");
            let url = format!("{base}/{name}");
            out.push(TestStore {
                store: Store::open(&StoreConfig::from_url(&url).expect("a PostgreSQL URL"))
                    .expect("pg"),
                dir: None,
                pg: Some((admin, name)),
            });
        }
        _ => assert!(
            std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
            "TENANTRY_TEST_PG is required"
        ),
    }
    out
}

/// A second store on the same database, as another process (a second instance, the CLI) has:
/// its own pool and its own write epochs.
pub fn second_store(db: &TestStore) -> Store {
    let config = match (&db.dir, &db.pg) {
        (Some(dir), _) => StoreConfig::sqlite(dir.join("t.db")),
        (None, Some((admin, name))) => {
            let (base, _) = admin.rsplit_once('/').expect("database path");
            StoreConfig::from_url(&format!("{base}/{name}")).expect("a PostgreSQL URL")
        }
        (None, None) => panic!("a test store without a database"),
    };
    Store::open(&config).expect("second store")
}

/// 2026-01-01T00:00:00Z, where the clocked tests start.
pub fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01")
}

/// A settings service over `store` whose clock stands at `at`.
pub fn settings_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> std::sync::Arc<tenantry_settings::SettingsService> {
    std::sync::Arc::new(tenantry_settings::SettingsService::new(
        std::sync::Arc::new(store.clone()),
        tenantry_security::SecretBox::new(&[7u8; 32]),
        std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
        std::sync::Arc::new(OsRandom),
    ))
}

/// The IP allowlist over `store` as the binary enforces it, its clock at `at`, reading the
/// policy from the settings through the binary's own bridge.
pub fn allowlist_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> std::sync::Arc<tenantry_security::AllowlistEnforcement> {
    std::sync::Arc::new(tenantry_security::AllowlistEnforcement::new(
        tenantry_security::AllowlistDeps {
            source: std::sync::Arc::new(tenantry_services::AllowlistOfSettings {
                settings: settings_at(store, at),
            }),
            audit: std::sync::Arc::new(store.clone()),
            cache: std::sync::Arc::default(),
            clock: std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
            random: std::sync::Arc::new(OsRandom),
        },
    ))
}

/// The security policy the settings keep, served to the security services by the binary's
/// own bridge, its clock at `at`.
pub fn policy_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> std::sync::Arc<tenantry_services::SecurityPolicyOfSettings> {
    std::sync::Arc::new(tenantry_services::SecurityPolicyOfSettings {
        settings: settings_at(store, at),
        allowlist: allowlist_at(store, at),
    })
}

/// Second factors over `store`, its clock at `at`.
pub fn mfa_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> std::sync::Arc<tenantry_security::MfaService> {
    std::sync::Arc::new(tenantry_security::MfaService::new(
        std::sync::Arc::new(store.clone()),
        tenantry_security::SecretBox::new(&[7u8; 32]),
        std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
        std::sync::Arc::new(OsRandom),
    ))
}

/// The sign-in sessions over `store`, their clock at `at`.
pub fn sessions_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> tenantry_security::SessionService {
    let clock = std::sync::Arc::new(tenantry_kernel::FixedClock(at));
    tenantry_security::SessionService::new(
        std::sync::Arc::new(store.clone()),
        policy_at(store, at),
        mfa_at(store, at),
        clock,
        std::sync::Arc::new(OsRandom),
    )
}

/// Creates the account `name` with its owner `o@<name>.test`, at `at`.
pub fn create_account(
    store: &Store,
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> tenantry_security::ProvisionedAccount {
    tenantry_security::AccountProvisioning::new(
        std::sync::Arc::new(store.clone()),
        std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
        std::sync::Arc::new(OsRandom),
    )
    .create_account(
        tenantry_kernel::AccountName::parse(name).expect("name"),
        None,
        &tenantry_kernel::Email::parse(&format!("o@{name}.test")).expect("email"),
        &tenantry_settings::defaults::initial_documents(),
        tenantry_kernel::OperatorCaller::CLI,
    )
    .expect("account")
}

/// The account's owner, acting with their first API key.
pub fn owner(account: &tenantry_security::ProvisionedAccount) -> tenantry_kernel::Actor {
    tenantry_kernel::Actor {
        account_id: account.account_id,
        user_id: account.owner_id,
        role: tenantry_kernel::Role::Owner,
        credential: tenantry_kernel::Credential::ApiKey(account.owner_key.id),
        ip: None,
        scopes: Vec::new(),
        authenticated_at: None,
        permissions: None,
        operator_link: None,
    }
}

/// The profile and password change over `store`, its clock at `at`.
pub fn profile_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> tenantry_security::ProfileService {
    tenantry_security::ProfileService::new(tenantry_security::ProfileDeps {
        store: std::sync::Arc::new(store.clone()),
        preferences: std::sync::Arc::new(tenantry_services::PreferencesOfSettings {
            settings: settings_at(store, at),
        }),
        clock: std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
        random: std::sync::Arc::new(OsRandom),
    })
}
