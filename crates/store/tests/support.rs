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
/// policy from the settings (the binary's `AllowlistOfSettings` bridge, in tenantry-services).
pub fn allowlist_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> std::sync::Arc<tenantry_security::AllowlistEnforcement> {
    struct Source(std::sync::Arc<tenantry_settings::SettingsService>);
    impl tenantry_security::AllowlistSource for Source {
        fn allowlist_policy(
            &self,
            account: tenantry_kernel::AccountId,
        ) -> Result<tenantry_security::AllowlistPolicy, tenantry_kernel::PortError> {
            self.0
                .stored_allowlist_policy(account)
                .map_err(|e| tenantry_kernel::PortError::Corrupt(e.to_string()))
        }
    }
    std::sync::Arc::new(tenantry_security::AllowlistEnforcement::new(
        tenantry_security::AllowlistDeps {
            source: std::sync::Arc::new(Source(settings_at(store, at))),
            audit: std::sync::Arc::new(store.clone()),
            cache: std::sync::Arc::default(),
            clock: std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
            random: std::sync::Arc::new(OsRandom),
        },
    ))
}

/// The security policy the settings keep, served to the security services as the binary's
/// `SecurityPolicyOfSettings` bridge (tenantry-services) serves it, its clock at `at`.
pub struct PolicyOf {
    settings: std::sync::Arc<tenantry_settings::SettingsService>,
    allowlist: std::sync::Arc<tenantry_security::AllowlistEnforcement>,
}

/// [`PolicyOf`] over `store` at `at`.
pub fn policy_at(store: &Store, at: chrono::DateTime<chrono::Utc>) -> std::sync::Arc<PolicyOf> {
    std::sync::Arc::new(PolicyOf {
        settings: settings_at(store, at),
        allowlist: allowlist_at(store, at),
    })
}

impl tenantry_security::KeyPolicy for PolicyOf {
    fn max_api_keys(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<u32, tenantry_kernel::PortError> {
        Ok(self.settings.stored_security_policy(account)?.max_api_keys)
    }

    fn reauth_for_sensitive(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<bool, tenantry_kernel::PortError> {
        Ok(self
            .settings
            .stored_security_policy(account)?
            .reauth_for_sensitive)
    }

    fn mfa_required(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<bool, tenantry_kernel::PortError> {
        Ok(self.settings.stored_security_policy(account)?.mfa_required)
    }
}

impl tenantry_security::SessionPolicySource for PolicyOf {
    fn session_policy(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<tenantry_security::SessionPolicy, tenantry_kernel::PortError> {
        let p = self.settings.stored_security_policy(account)?;
        Ok(tenantry_security::SessionPolicy {
            mfa_required: p.mfa_required,
            password_expiry_days: p.password_expiry_days,
            absolute_minutes: p.absolute_session_minutes,
            idle_minutes: p.idle_timeout_minutes,
            extend_on_activity: p.extend_on_activity,
            concurrent_sessions: p.concurrent_sessions,
        })
    }

    fn ip_allowed(
        &self,
        account: tenantry_kernel::AccountId,
        ip: Option<std::net::IpAddr>,
    ) -> Result<bool, tenantry_kernel::PortError> {
        self.allowlist.admits(account, ip)
    }
}

impl tenantry_security::AccountReturnOrigins for PolicyOf {
    fn return_origins(
        &self,
        account: tenantry_kernel::AccountId,
    ) -> Result<Vec<String>, tenantry_kernel::PortError> {
        Ok(self
            .settings
            .stored_security_policy(account)?
            .portal_return_origins)
    }
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
    }
}

/// The account settings' time zone and language, served to the security context's profile as
/// the binary's `PreferencesOfSettings` bridge (tenantry-services) serves them.
pub struct PreferencesOf(std::sync::Arc<tenantry_settings::SettingsService>);

impl tenantry_security::ProfilePreferences for PreferencesOf {
    fn shown(
        &self,
        actor: &tenantry_kernel::Actor,
    ) -> Result<tenantry_security::ShownPreferences, tenantry_kernel::PortError> {
        let settings = self.0.account_settings(actor).map_err(|e| match e {
            tenantry_settings::SettingsError::Port(p) => p,
            other => tenantry_kernel::PortError::Corrupt(other.to_string()),
        })?;
        Ok(tenantry_security::ShownPreferences {
            timezone: settings
                .preferences
                .timezone
                .unwrap_or(settings.organization.default_timezone)
                .as_str()
                .to_owned(),
            language: settings.preferences.language.as_str().to_owned(),
        })
    }

    fn language(&self, subtag: &str) -> Option<&'static str> {
        tenantry_settings::Language::parse(subtag)
            .ok()
            .map(tenantry_settings::Language::as_str)
    }

    fn timezone_row(
        &self,
        timezone: Option<&tenantry_kernel::Timezone>,
    ) -> (String, serde_json::Value) {
        (
            tenantry_settings::preferences::storage::TIMEZONE.into(),
            timezone.map_or(serde_json::Value::Null, |t| serde_json::json!(t.as_str())),
        )
    }

    fn language_row(&self, language: &str) -> (String, serde_json::Value) {
        (
            tenantry_settings::preferences::storage::LANGUAGE.into(),
            serde_json::json!(language),
        )
    }
}

/// The profile and password change over `store`, its clock at `at`.
pub fn profile_at(
    store: &Store,
    at: chrono::DateTime<chrono::Utc>,
) -> tenantry_security::ProfileService {
    tenantry_security::ProfileService::new(tenantry_security::ProfileDeps {
        store: std::sync::Arc::new(store.clone()),
        preferences: std::sync::Arc::new(PreferencesOf(settings_at(store, at))),
        clock: std::sync::Arc::new(tenantry_kernel::FixedClock(at)),
        random: std::sync::Arc::new(OsRandom),
    })
}
