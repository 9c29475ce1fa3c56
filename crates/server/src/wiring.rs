//! Wiring: opens the store and builds every service on it, for the server and for each CLI command
//! (read-only commands open the database read-only).

use std::sync::Arc;

use anyhow::Context;
use tenantry_http::{AppState, HttpConfig};
use tenantry_kernel::{Clock, RandomSource};
use tenantry_security::{DataKeyStore, Kek, Keyring, SecretBox};
use tenantry_store::{Store, StoreConfig};

use crate::cli::{DatabaseArgs, DEFAULT_WEBHOOK_SECRET_OVERLAP_SECONDS};

/// Whether a command may change the database and the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Creates what is missing (directory, database, key file) and applies migrations.
    ReadWrite,
    /// Creates and changes nothing: for commands that only read (`accounts list`, `audit tail`,
    /// `export`, `check`), so that they work on a read-only copy and a mistyped data directory
    /// is an error instead of a new, empty database.
    ReadOnly,
}

/// Where the database is: `DATABASE_URL` (PostgreSQL or `sqlite://PATH`) or, unset, SQLite in
/// the data directory. Any other URL is refused, naming the variable and masking the password.
pub fn store_config(args: &DatabaseArgs) -> anyhow::Result<StoreConfig> {
    match &args.database_url {
        Some(url) if !url.is_empty() => StoreConfig::from_url(url)
            .map_err(|e| anyhow::anyhow!("DATABASE_URL (or --database-url, `database_url`): {e}")),
        _ => Ok(StoreConfig::sqlite(args.data_dir.join("tenantry.db"))),
    }
}

/// Opens the configured database (applying migrations).
pub fn open_store(args: &DatabaseArgs) -> anyhow::Result<Store> {
    open_store_with(args, Access::ReadWrite)
}

pub fn open_store_with(args: &DatabaseArgs, access: Access) -> anyhow::Result<Store> {
    open_store_reporting(args, access, &mut |_, _, _| {})
}

/// [`open_store_with`], calling `progress` after each migration applied.
pub fn open_store_reporting(
    args: &DatabaseArgs,
    access: Access,
    progress: tenantry_store::MigrationProgress<'_>,
) -> anyhow::Result<Store> {
    let config = store_config(args)?;
    let config = match access {
        Access::ReadWrite => config,
        Access::ReadOnly => config.read_only(),
    };
    let backend = config.backend().as_str();
    let store = Store::open_reporting(&config, progress)
        .with_context(|| format!("opening the {backend} database"))?;
    tracing::info!(backend, ?access, "database ready");
    Ok(store)
}

/// Where a key-encryption key came from, for messages ("TENANTRY_MASTER_KEY", a file path).
#[derive(Debug, Clone)]
pub struct KekSource {
    pub kek: Kek,
    pub from: String,
}

/// The key-encryption keys configured: the current one (`TENANTRY_MASTER_KEY` or
/// `<data dir>/master.key`), and the previous one during a change (`TENANTRY_MASTER_KEY_PREVIOUS`
/// or `<data dir>/master.key.previous`). `current` is `None` when neither is there.
#[derive(Debug, Clone)]
pub struct Keks {
    pub current: Option<KekSource>,
    pub previous: Option<KekSource>,
}

impl Keks {
    pub fn all(&self) -> Vec<Kek> {
        self.current
            .iter()
            .chain(self.previous.iter())
            .map(|k| k.kek.clone())
            .collect()
    }

    /// Whether the keys come from the environment rather than files in the data directory.
    pub fn from_env(args: &DatabaseArgs) -> bool {
        args.master_key.as_deref().is_some_and(|k| !k.is_empty())
    }
}

pub fn key_file(args: &DatabaseArgs) -> std::path::PathBuf {
    args.data_dir.join("master.key")
}

pub fn previous_key_file(args: &DatabaseArgs) -> std::path::PathBuf {
    args.data_dir.join("master.key.previous")
}

fn read_key_file(path: &std::path::Path) -> anyhow::Result<Option<KekSource>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(KekSource {
            kek: Kek::from_base64(&text)
                .with_context(|| format!("{} is not a valid master key", path.display()))?,
            from: path.display().to_string(),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Reads the configured key-encryption keys; creates nothing.
pub fn keks(args: &DatabaseArgs) -> anyhow::Result<Keks> {
    let env = |value: &Option<String>, name: &str| -> anyhow::Result<Option<KekSource>> {
        value
            .as_deref()
            .filter(|k| !k.is_empty())
            .map(|k| {
                Ok(KekSource {
                    kek: Kek::from_base64(k).with_context(|| name.to_owned())?,
                    from: name.to_owned(),
                })
            })
            .transpose()
    };
    let current = match env(&args.master_key, "TENANTRY_MASTER_KEY")? {
        Some(k) => Some(k),
        None => read_key_file(&key_file(args))?,
    };
    let previous = match env(&args.master_key_previous, "TENANTRY_MASTER_KEY_PREVIOUS")? {
        Some(k) => Some(k),
        None if !Keks::from_env(args) => read_key_file(&previous_key_file(args))?,
        None => None,
    };
    Ok(Keks { current, previous })
}

/// Writes a new random key file at `path`, never replacing one: written whole under a name of
/// this process's own, fsynced, then hard-linked into place (a link never replaces a file, so of
/// instances starting together on one data directory the first one's key wins, and no one
/// reads a key file still being written). Returns whether this call created it.
pub fn write_new_key_file(path: &std::path::Path, key_base64: &str) -> anyhow::Result<bool> {
    Ok(tenantry_services::master_key::write_new(path, key_base64)?)
}

/// The secrets of a database that no configured key opens, as one message naming each key
/// id, or `None` when every stored secret can be read. The function `check` (and `restore`)
/// call: a database whose secrets cannot be opened must be refused, not served.
pub fn unreadable_secrets(store: &Store, keks: &Keks) -> anyhow::Result<Option<String>> {
    let keyring = Keyring::new(Arc::new(store.clone()), keks.all());
    let unreadable = keyring
        .unreadable()
        .context("reading the data keys and sealed values")?;
    if unreadable.is_empty() {
        return Ok(None);
    }
    let configured = match (&keks.current, &keks.previous) {
        (Some(c), Some(p)) => format!(
            "the configured master keys ({} from {}, {} from {})",
            c.kek.id(),
            c.from,
            p.kek.id(),
            p.from
        ),
        (Some(c), None) => format!("the configured master key ({} from {})", c.kek.id(), c.from),
        (None, _) => "no master key (no TENANTRY_MASTER_KEY, no key file)".to_owned(),
    };
    let keys = unreadable
        .iter()
        .map(|(id, n)| format!("key {id} ({n} sealed values)"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(format!(
        "stored secrets cannot be opened with {configured}: {keys}. Configure the master key \
         these were sealed under (TENANTRY_MASTER_KEY, or the data directory's master.key; \
         during a change of master key the old one as TENANTRY_MASTER_KEY_PREVIOUS)"
    )))
}

/// The box that seals and opens secrets at rest, over the database's data keys (decision
/// 0027), wrapped by the configured key-encryption key. A read-write start on a database
/// without a key creates the key file and the first data key; it refuses, instead of creating
/// a key that opens nothing, when the database already holds secrets (a restored database in
/// a new directory, a wrong `TENANTRY_MASTER_KEY`), naming the key ids it cannot open.
fn secret_box_with(
    args: &DatabaseArgs,
    store: &Store,
    clock: &dyn Clock,
    random: &dyn RandomSource,
    access: Access,
) -> anyhow::Result<SecretBox> {
    let mut keks = keks(args)?;
    if keks.current.is_none() {
        let path = key_file(args);
        if access == Access::ReadOnly {
            anyhow::bail!(
                "reading {}: no such file (set TENANTRY_MASTER_KEY, or point --data-dir at the service's data)",
                path.display()
            );
        }
        let refusal = match unreadable_secrets(store, &keks)? {
            Some(problem) => Some(problem.to_string()),
            None if !DataKeyStore::data_keys(store)
                .context("reading the data keys")?
                .is_empty() =>
            {
                Some("the database holds data keys wrapped by another master key".to_owned())
            }
            None => None,
        };
        match refusal {
            // An instance starting beside this one on the same data directory writes the key
            // file before it creates the first data key: a data key seen now means its file,
            // if it made one, can be read now. Only then is a missing file a refusal.
            Some(problem) => {
                keks = self::keks(args)?;
                if keks.current.is_none() {
                    anyhow::bail!(
                        "refusing to create a new master key at {}: {problem}",
                        path.display()
                    );
                }
            }
            None => {
                if write_new_key_file(&path, &Kek::generate_base64(random))? {
                    tracing::info!(path = %path.display(), "generated the master key for secrets at rest");
                }
                keks = self::keks(args)?;
            }
        }
    }
    if access == Access::ReadWrite {
        if let Some(problem) = unreadable_secrets(store, &keks)? {
            anyhow::bail!("{problem}");
        }
    }
    let keyring = Arc::new(Keyring::new(Arc::new(store.clone()), keks.all()));
    if access == Access::ReadWrite {
        keyring
            .ensure_sealing_key(clock, random)
            .context("creating the first data key")?;
    }
    let (secrets, unopenable) =
        SecretBox::envelope(&keks.all(), keyring).context("reading the data keys")?;
    if access == Access::ReadWrite && !unopenable.is_empty() {
        let why = unopenable
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        anyhow::bail!(
            "the master key does not open the database's data keys: {why}. Configure the master \
             key they were wrapped with (during a change of master key, the old one as \
             TENANTRY_MASTER_KEY_PREVIOUS)"
        );
    }
    for e in unopenable {
        tracing::warn!(error = %e, "a data key cannot be unwrapped");
    }
    Ok(secrets)
}

/// The domain services (one wiring: `tenantry_services`, which embedding programs use too)
/// and what the HTTP server adds to them.
pub struct Services {
    core: tenantry_services::Services,
    pub metrics: Arc<tenantry_http::Metrics>,
}

impl std::ops::Deref for Services {
    type Target = tenantry_services::Services;

    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl std::ops::DerefMut for Services {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.core
    }
}

impl Services {
    /// `deliverers` enables notification tests; commands that send nothing pass `None`.
    pub fn new(
        args: &DatabaseArgs,
        deliverers: Option<tenantry_settings::Deliverers>,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        Self::open(args, deliverers, public_url, Access::ReadWrite)
    }

    /// The services of a command that only reads (see [`Access::ReadOnly`]).
    pub fn read_only(args: &DatabaseArgs) -> anyhow::Result<Self> {
        Self::open(args, None, crate::CLI_PUBLIC_URL, Access::ReadOnly)
    }

    fn open(
        args: &DatabaseArgs,
        deliverers: Option<tenantry_settings::Deliverers>,
        public_url: &str,
        access: Access,
    ) -> anyhow::Result<Self> {
        let store = open_store_with(args, access)?;
        let mut options = tenantry_services::Options::new(public_url);
        // Commands that send nothing never change a channel's secret; the server's setting
        // applies where one is changed.
        options.secret_overlap = chrono::Duration::seconds(
            DEFAULT_WEBHOOK_SECRET_OVERLAP_SECONDS
                .try_into()
                .unwrap_or(86_400),
        );
        options.deliverers = deliverers;
        options.writable = access == Access::ReadWrite;
        let secrets = secret_box_with(
            args,
            &store,
            options.clock.as_ref(),
            options.random.as_ref(),
            access,
        )?;
        Ok(Self {
            core: tenantry_services::Services::assemble(store, secrets, options)?,
            metrics: Arc::new(tenantry_http::Metrics::default()),
        })
    }

    pub fn app_state(
        &self,
        config: HttpConfig,
        rate_limits: tenantry_http::RateLimits,
        request_audit: Arc<tenantry_http::RequestAuditQueue>,
    ) -> std::io::Result<AppState> {
        let password_pool = tenantry_http::PasswordPool::start(config.password_workers)?;
        let read_pool = tenantry_http::ReadPool::start(config.read_threads)?;
        Ok(AppState {
            clock: self.clock.clone(),
            readiness: Arc::new(crate::bridges::StoreReadiness(self.store.clone())),
            billing: self.billing.clone(),
            authenticator: self.authenticator.clone(),
            allowlist: self.allowlist.clone(),
            settings: self.settings.clone(),
            profile: self.profile.clone(),
            provisioning: self.provisioning.clone(),
            audit: self.audit.clone(),
            api_keys: self.api_keys.clone(),
            mfa: self.mfa.clone(),
            sessions: self.sessions.clone(),
            portal_links: self.portal_links.clone(),
            token_grants: self.token_grants.clone(),
            team: self.team.clone(),
            notifications: self.notifications.clone(),
            metrics: self.metrics.clone(),
            rate_limits: Arc::new(rate_limits),
            password_pool,
            read_pool,
            request_audit,
            config,
        })
    }
}
