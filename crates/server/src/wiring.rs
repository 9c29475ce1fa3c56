use std::sync::Arc;

use anyhow::Context;
use tenantry_http::{AppState, HttpConfig};
use tenantry_kernel::{Clock, OsRandom, RandomSource, SystemClock};
use tenantry_security::{AccountProvisioning, Authenticator};
use tenantry_settings::SettingsService;
use tenantry_store::{Store, StoreConfig};

use crate::cli::DatabaseArgs;

/// Opens the configured database (applying migrations).
pub fn open_store(args: &DatabaseArgs) -> anyhow::Result<Store> {
    let config = match &args.database_url {
        Some(url) if !url.is_empty() => StoreConfig::from_url(url),
        _ => StoreConfig::sqlite(args.data_dir.join("tenantry.db")),
    };
    let backend = config.backend().as_str();
    let store = Store::open(&config).with_context(|| format!("opening the {backend} database"))?;
    tracing::info!(backend, "database ready, migrations applied");
    Ok(store)
}

/// The domain services, wired to the store, the system clock and the OS random source.
pub struct Services {
    pub store: Store,
    pub random: Arc<dyn RandomSource>,
    pub authenticator: Arc<Authenticator>,
    pub settings: Arc<SettingsService>,
    pub provisioning: Arc<AccountProvisioning>,
}

impl Services {
    pub fn new(store: Store) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
        let shared = Arc::new(store.clone());
        Self {
            authenticator: Arc::new(Authenticator::new(shared.clone(), clock.clone())),
            settings: Arc::new(SettingsService::new(shared.clone())),
            provisioning: Arc::new(AccountProvisioning::new(
                shared,
                clock.clone(),
                random.clone(),
            )),
            store,
            random,
        }
    }

    pub fn app_state(&self, config: HttpConfig) -> AppState {
        AppState {
            store: self.store.clone(),
            authenticator: self.authenticator.clone(),
            settings: self.settings.clone(),
            provisioning: self.provisioning.clone(),
            config,
        }
    }
}
