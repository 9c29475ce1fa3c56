//! Wiring: opens the store and builds every service on it, for the server and for each CLI command
//! (read-only commands open the database read-only).

use std::sync::Arc;

use anyhow::Context;
use tenantry_http::{AppState, HttpConfig};
use tenantry_kernel::{Clock, OsRandom, RandomSource, SystemClock};
use tenantry_notifications::{
    DeliveryHandler, EventHandler, HttpTransport, MailHandler, MailTransport, NotificationDeps,
    NotificationService, OutboundPolicy, OutboxKind, OutboxWorker,
};
use tenantry_security::{
    AccountProvisioning, ApiKeyService, AuditService, Authenticator, DataKeyStore, Kek, Keyring,
    MfaService, SecretBox, SessionService,
};
use tenantry_settings::SettingsService;
use tenantry_store::{Store, StoreConfig};
use tenantry_team::{InviteLinks, TeamDeps, TeamService};

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

/// Slack incoming-webhook URLs written before they were sealed (seed 01's settings, current and
/// history, and seed 03's Slack channels) are sealed here, before any command reads them: a
/// migration cannot, the master key is not in SQL. A cheap query skips it when none is left.
fn seal_clear_slack_urls(
    store: &Store,
    secrets: &SecretBox,
    random: &dyn RandomSource,
    notifications: &NotificationService,
) -> anyhow::Result<()> {
    if !store
        .holds_clear_slack_urls()
        .context("looking for Slack URLs stored in clear")?
    {
        return Ok(());
    }
    let documents = tenantry_settings::seal_clear_slack_urls(store, secrets, random)
        .context("sealing the Slack URLs of the notification settings")?;
    let channels = notifications
        .seal_clear_slack_urls()
        .context("sealing the Slack URLs of the notification channels")?;
    tracing::info!(
        documents,
        channels,
        "sealed Slack webhook URLs stored in clear"
    );
    Ok(())
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
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let pending = dir.join(format!("{name}.{}.new", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&pending)
        .with_context(|| format!("creating {}", pending.display()))?;
    writeln!(file, "{key_base64}")?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&pending, path);
    let _ = std::fs::remove_file(&pending);
    match linked {
        Ok(()) => {
            // The directory entry itself is made durable too.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
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

/// The domain services, wired to the store, the system clock and the OS random source.
pub struct Services {
    pub store: Store,
    pub random: Arc<dyn RandomSource>,
    pub authenticator: Arc<Authenticator>,
    pub settings: Arc<SettingsService>,
    pub provisioning: Arc<AccountProvisioning>,
    pub audit: Arc<AuditService>,
    pub api_keys: Arc<ApiKeyService>,
    pub mfa: Arc<MfaService>,
    pub sessions: Arc<SessionService>,
    pub token_grants: Arc<tenantry_security::TokenGrantService>,
    pub team: Arc<TeamService>,
    pub notifications: Arc<NotificationService>,
    pub metrics: Arc<tenantry_http::Metrics>,
    pub clock: Arc<dyn Clock>,
    pub secrets: SecretBox,
    /// Portal links, with the operator's configuration once `serve` read it
    /// ([`Services::configure_portal`]); commands get the defaults (no return origins).
    pub portal_links: Arc<tenantry_security::PortalLinkService>,
    /// The check of portal links' minters the sessions share with `portal_links`.
    pub portal_minters: Arc<tenantry_security::PortalMinters>,
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
        let outbound_policy = deliverers
            .as_ref()
            .map_or_else(OutboundPolicy::default, |d| d.policy.clone());
        // Commands that send nothing never change a channel's secret; the server's setting
        // applies where one is changed.
        let secret_overlap = deliverers.as_ref().map_or_else(
            || {
                chrono::Duration::seconds(
                    DEFAULT_WEBHOOK_SECRET_OVERLAP_SECONDS
                        .try_into()
                        .unwrap_or(86_400),
                )
            },
            |d| d.secret_overlap,
        );
        let store = open_store_with(args, access)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
        let secrets = secret_box_with(args, &store, clock.as_ref(), random.as_ref(), access)?;
        let shared = Arc::new(store.clone());
        // One sign-in throttle for every password proof (sign-in, invitation, password and email
        // change, MFA enrolment and removal).
        let throttle = Arc::new(tenantry_security::LoginThrottle::default());
        let settings = Arc::new({
            let service = SettingsService::new(
                shared.clone(),
                secrets.clone(),
                clock.clone(),
                random.clone(),
            )
            .with_password_throttle(throttle.clone());
            match deliverers {
                Some(d) => service.with_deliverers(d),
                None => service,
            }
        });
        let mfa = Arc::new(
            MfaService::new(
                shared.clone(),
                secrets.clone(),
                clock.clone(),
                random.clone(),
            )
            .with_throttle(throttle.clone()),
        );
        let notifications = Arc::new(NotificationService::new(NotificationDeps {
            store: shared.clone(),
            builtins: settings.clone(),
            secrets: secrets.clone(),
            policy: outbound_policy.clone(),
            secret_overlap,
            clock: clock.clone(),
            random: random.clone(),
        }));
        // Sealing is a write; a read-only command leaves it to the next `serve` or `migrate`.
        if access == Access::ReadWrite {
            seal_clear_slack_urls(&store, &secrets, random.as_ref(), &notifications)?;
        }
        let mfa_enrollments: Arc<dyn tenantry_security::MfaEnrollments> = mfa.clone();
        // One check of portal links' minters, for redeeming a link and for every request of
        // the session it opened (decision 0036).
        let portal_minters = Arc::new(tenantry_security::PortalMinters::new(
            tenantry_security::PortalMinterDeps {
                links: shared.clone(),
                credentials: shared.clone(),
                sessions: shared.clone(),
                policy: settings.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
        ));
        let sessions = Arc::new(
            SessionService::new(
                shared.clone(),
                settings.clone(),
                mfa.clone(),
                clock.clone(),
                random.clone(),
            )
            .with_throttle(throttle)
            .with_portal_minters(portal_minters.clone()),
        );
        let team_policy: Arc<dyn tenantry_team::TeamPolicy> =
            Arc::new(crate::bridges::TeamPolicyOfSettings {
                settings: settings.clone(),
                sessions: sessions.clone(),
            });
        let portal_links = Arc::new(tenantry_security::PortalLinkService::new(
            tenantry_security::PortalDeps {
                store: shared.clone(),
                policy: settings.clone(),
                origins: settings.clone(),
                mfa: mfa_enrollments,
                minters: portal_minters.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            tenantry_security::PortalConfig {
                public_url: public_url.to_owned(),
                return_origins: tenantry_security::ReturnOrigins::default(),
                lifetime: chrono::Duration::seconds(
                    tenantry_security::PortalConfig::DEFAULT_LIFETIME_SECONDS,
                ),
            },
        ));
        Ok(Self {
            portal_minters,
            mfa: mfa.clone(),
            token_grants: Arc::new(tenantry_security::TokenGrantService::new(
                tenantry_security::TokenGrantDeps {
                    sessions: sessions.clone(),
                    session_store: shared.clone(),
                    policy: settings.clone(),
                    store: shared.clone(),
                    clock: clock.clone(),
                    random: random.clone(),
                },
            )),
            sessions,
            authenticator: Arc::new(Authenticator::new(shared.clone(), clock.clone())),
            api_keys: Arc::new(ApiKeyService::new(
                shared.clone(),
                settings.clone(),
                mfa,
                clock.clone(),
                random.clone(),
            )),
            settings,
            team: Arc::new(TeamService::new(
                shared.clone(),
                TeamDeps {
                    policy: team_policy,
                    secrets: secrets.clone(),
                    links: InviteLinks::new(public_url),
                    clock: clock.clone(),
                    random: random.clone(),
                },
            )),
            audit: Arc::new(AuditService::new(shared.clone())),
            portal_links,
            provisioning: Arc::new(AccountProvisioning::new(
                shared,
                clock.clone(),
                random.clone(),
            )),
            store,
            random,
            clock,
            secrets,
            notifications,
            metrics: Arc::new(tenantry_http::Metrics::default()),
        })
    }

    /// Portal links as the operator configured them (`TENANTRY_PORTAL_RETURN_ORIGINS`,
    /// `TENANTRY_PORTAL_LINK_SECONDS`).
    pub fn configure_portal(&mut self, config: tenantry_security::PortalConfig) {
        let settings = self.settings.clone();
        let mfa: Arc<dyn tenantry_security::MfaEnrollments> = self.mfa.clone();
        self.portal_links = Arc::new(tenantry_security::PortalLinkService::new(
            tenantry_security::PortalDeps {
                store: Arc::new(self.store.clone()),
                policy: settings.clone(),
                origins: settings,
                mfa,
                minters: self.portal_minters.clone(),
                clock: self.clock.clone(),
                random: self.random.clone(),
            },
            config,
        ));
    }

    /// The outbox worker: invitation emails, event routing and deliveries.
    pub fn outbox_worker(
        &self,
        mail: Arc<dyn MailTransport>,
        http: Arc<dyn HttpTransport>,
    ) -> OutboxWorker {
        let store = Arc::new(self.store.clone());
        OutboxWorker::new(store.clone(), self.clock.clone(), self.random.clone())
            .with_handler(
                OutboxKind::Email,
                Arc::new(MailHandler::new(self.secrets.clone(), mail.clone())),
            )
            .with_handler(
                OutboxKind::Event,
                Arc::new(EventHandler::new(self.notifications.clone())),
            )
            .with_handler(
                OutboxKind::Delivery,
                Arc::new(DeliveryHandler::new(
                    store,
                    self.settings.clone(),
                    self.secrets.clone(),
                    http,
                    mail,
                    self.clock.clone(),
                )),
            )
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
            usage: Arc::new(self.store.clone()),
            authenticator: self.authenticator.clone(),
            settings: self.settings.clone(),
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
