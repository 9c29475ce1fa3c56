//! The services on one store: built once here for the server, each command and every
//! embedding program, so that all of them run the same rules with the same ports.

use std::sync::Arc;

use tenantry_kernel::{Clock, OsRandom, RandomSource, SystemClock};
use tenantry_notifications::{
    DeliveryHandler, EventHandler, HttpTransport, MailHandler, MailTransport, NotificationDeps,
    NotificationService, OutboundPolicy, OutboxKind, OutboxWorker,
};
use tenantry_security::{
    AccountProvisioning, AllowlistCache, AllowlistDeps, AllowlistEnforcement, ApiKeyService,
    AuditService, Authenticator, Kek, Keyring, MfaService, SecretBox, SessionService,
};
use tenantry_settings::{Deliverers, SettingsService};
use tenantry_store::{Store, StoreConfig};
use tenantry_team::{InviteLinks, TeamDeps, TeamService};

use crate::OpenError;

/// How long a webhook channel's replaced signing secret keeps signing, unless set: a day.
const DEFAULT_SECRET_OVERLAP_SECONDS: i64 = 86_400;

/// What the services are opened with besides the store and the secrets.
pub struct Options {
    /// The public address of the program: invitation, password and portal links point here.
    pub public_url: String,
    /// The transports and outbound rules of notification tests and deliveries; `None`: tests
    /// of a channel answer `NoDeliverers` (the outbox worker takes its own transports).
    pub deliverers: Option<Deliverers>,
    /// How long a webhook channel's replaced signing secret keeps signing deliveries (when
    /// `deliverers` is `None`; otherwise theirs applies).
    pub secret_overlap: chrono::Duration,
    /// Whether opening may write (seal Slack URLs stored in clear). Read-only commands pass
    /// `false`.
    pub writable: bool,
    /// The clock of every service.
    pub clock: Arc<dyn Clock>,
    /// The randomness of every service (ids, tokens, nonces).
    pub random: Arc<dyn RandomSource>,
}

impl Options {
    /// Links to `public_url`; no deliverers, a day of secret overlap, writable, the system
    /// clock and the OS random source.
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.to_owned(),
            deliverers: None,
            secret_overlap: chrono::Duration::seconds(DEFAULT_SECRET_OVERLAP_SECONDS),
            writable: true,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

/// Every domain service, on one store, with one clock and one random source. Services are
/// synchronous and thread-safe: share them (`Arc`) and call them from blocking code.
pub struct Services {
    /// The database every port is served by.
    pub store: Store,
    /// The clock of every service.
    pub clock: Arc<dyn Clock>,
    /// The randomness of every service.
    pub random: Arc<dyn RandomSource>,
    /// Seals and opens secrets at rest.
    pub secrets: SecretBox,
    /// Account settings: sections (JSON or typed), the IP allowlist, history, export.
    pub settings: Arc<SettingsService>,
    /// The IP allowlist applied to requests (and to sign-in, portal links and invitations).
    pub allowlist: Arc<AllowlistEnforcement>,
    /// The caller's own profile (name, avatar, locale, time zone) and password change.
    pub profile: Arc<tenantry_security::ProfileService>,
    /// Verifies API keys and sessions into an `Actor`.
    pub authenticator: Arc<Authenticator>,
    /// Creates accounts with their owner and first API key.
    pub provisioning: Arc<AccountProvisioning>,
    /// Reads the audit log.
    pub audit: Arc<AuditService>,
    /// Deletes audit entries past their account's retention (the maintenance job).
    pub audit_retention: Arc<tenantry_security::AuditRetention>,
    /// Issues, lists, rotates and revokes API keys.
    pub api_keys: Arc<ApiKeyService>,
    /// Multi-factor enrolment and verification.
    pub mfa: Arc<MfaService>,
    /// Sign-in and sessions.
    pub sessions: Arc<SessionService>,
    /// Access and refresh tokens for sessions.
    pub token_grants: Arc<tenantry_security::TokenGrantService>,
    /// Members, invitations, ownership transfer, activity.
    pub team: Arc<TeamService>,
    /// Notification channels, rules, events and deliveries.
    pub notifications: Arc<NotificationService>,
    /// Usage reports with the cost alerts and auto-recharge they set off.
    pub billing: Arc<tenantry_billing::BillingService>,
    /// Portal links (see [`Services::configure_portal`]; default: no return origins).
    pub portal_links: Arc<tenantry_security::PortalLinkService>,
    /// The check of portal links' minters the sessions share with `portal_links`.
    pub portal_minters: Arc<tenantry_security::PortalMinters>,
    mfa_enrollments: Arc<dyn tenantry_security::MfaEnrollments>,
    security_policy: Arc<crate::SecurityPolicyOfSettings>,
}

impl Services {
    /// Opens the database at `config` (applying migrations), its secrets under `master_key`
    /// (creating the first data key of a new database), and every service, with invitation
    /// links pointing at `public_url`. What an embedding program calls.
    ///
    /// Errors: [`OpenError::Store`] for a database that cannot be opened or migrated,
    /// [`OpenError::WrongMasterKey`] when the database holds secrets this key cannot open
    /// (refused: going on would leave them unreadable), `Secrets` when the data keys cannot be
    /// read or created.
    pub fn open(
        config: &StoreConfig,
        master_key: &Kek,
        public_url: &str,
    ) -> Result<Self, OpenError> {
        Self::open_with(config, master_key, Options::new(public_url))
    }

    /// [`Services::open`] with every option.
    pub fn open_with(
        config: &StoreConfig,
        master_key: &Kek,
        options: Options,
    ) -> Result<Self, OpenError> {
        let store = Store::open(config)?;
        let secrets = envelope(
            &store,
            master_key,
            options.clock.as_ref(),
            options.random.as_ref(),
        )?;
        Self::assemble(store, secrets, options)
    }

    /// Every service on an open `store` and its `secrets` (the server opens both itself, with
    /// its key files, previous keys and read-only commands).
    pub fn assemble(store: Store, secrets: SecretBox, options: Options) -> Result<Self, OpenError> {
        let Options {
            public_url,
            deliverers,
            secret_overlap,
            writable,
            clock,
            random,
        } = options;
        let outbound_policy = deliverers
            .as_ref()
            .map_or_else(OutboundPolicy::default, |d| d.policy.clone());
        let secret_overlap = deliverers
            .as_ref()
            .map_or(secret_overlap, |d| d.secret_overlap);
        let shared = Arc::new(store.clone());
        // One sign-in throttle for every password proof (sign-in, invitation, password and email
        // change, MFA enrolment and removal).
        let throttle = Arc::new(tenantry_security::LoginThrottle::default());
        let allowlist_cache = Arc::new(AllowlistCache::default());
        let settings = Arc::new({
            let service = SettingsService::new(
                shared.clone(),
                secrets.clone(),
                clock.clone(),
                random.clone(),
            )
            .with_allowlist_cache(allowlist_cache.clone());
            match deliverers {
                Some(d) => service.with_deliverers(d),
                None => service,
            }
        });
        // One enforcement of the allowlist for requests, sign-in, portal links and invitations,
        // on the cache the settings writes invalidate.
        let allowlist = Arc::new(AllowlistEnforcement::new(AllowlistDeps {
            source: Arc::new(crate::AllowlistOfSettings {
                settings: settings.clone(),
            }),
            audit: shared.clone(),
            cache: allowlist_cache,
            clock: clock.clone(),
            random: random.clone(),
        }));
        let security_policy = Arc::new(crate::SecurityPolicyOfSettings {
            settings: settings.clone(),
            allowlist: allowlist.clone(),
        });
        let profile = Arc::new(
            tenantry_security::ProfileService::new(tenantry_security::ProfileDeps {
                store: shared.clone(),
                preferences: Arc::new(crate::PreferencesOfSettings {
                    settings: settings.clone(),
                }),
                clock: clock.clone(),
                random: random.clone(),
            })
            .with_throttle(throttle.clone()),
        );
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
            policy: outbound_policy,
            secret_overlap,
            clock: clock.clone(),
            random: random.clone(),
        }));
        // Sealing is a write; a read-only command leaves it to the next writable start.
        if writable {
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
                policy: security_policy.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
        ));
        let sessions = Arc::new(
            SessionService::new(
                shared.clone(),
                security_policy.clone(),
                mfa.clone(),
                clock.clone(),
                random.clone(),
            )
            .with_throttle(throttle)
            .with_portal_minters(portal_minters.clone()),
        );
        let team_policy: Arc<dyn tenantry_team::TeamPolicy> =
            Arc::new(crate::TeamPolicyOfSettings {
                settings: settings.clone(),
                allowlist: allowlist.clone(),
                sessions: sessions.clone(),
                mfa: mfa_enrollments.clone(),
            });
        let portal_config = tenantry_security::PortalConfig {
            public_url: public_url.clone(),
            return_origins: tenantry_security::ReturnOrigins::default(),
            lifetime: chrono::Duration::seconds(
                tenantry_security::PortalConfig::DEFAULT_LIFETIME_SECONDS,
            ),
        };
        let portal_links = Arc::new(tenantry_security::PortalLinkService::new(
            tenantry_security::PortalDeps {
                store: shared.clone(),
                policy: security_policy.clone(),
                origins: security_policy.clone(),
                mfa: mfa_enrollments.clone(),
                minters: portal_minters.clone(),
                clock: clock.clone(),
                random: random.clone(),
            },
            portal_config,
        ));
        let billing = Arc::new(tenantry_billing::BillingService::new(
            clock.clone(),
            random.clone(),
            shared.clone(),
        ));
        let audit_retention = Arc::new(tenantry_security::AuditRetention::new(
            Arc::new(crate::RetentionOfSettings {
                settings: settings.clone(),
            }),
            shared.clone(),
            clock.clone(),
        ));
        Ok(Self {
            portal_minters,
            billing,
            mfa: mfa.clone(),
            token_grants: Arc::new(tenantry_security::TokenGrantService::new(
                tenantry_security::TokenGrantDeps {
                    sessions: sessions.clone(),
                    session_store: shared.clone(),
                    policy: security_policy.clone(),
                    store: shared.clone(),
                    clock: clock.clone(),
                    random: random.clone(),
                },
            )),
            sessions,
            authenticator: Arc::new(Authenticator::new(shared.clone(), clock.clone())),
            api_keys: Arc::new(ApiKeyService::new(
                shared.clone(),
                security_policy.clone(),
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
                    links: InviteLinks::new(&public_url),
                    clock: clock.clone(),
                    random: random.clone(),
                },
            )),
            audit: Arc::new(AuditService::new(shared.clone())),
            audit_retention,
            portal_links,
            provisioning: Arc::new(AccountProvisioning::new(
                shared,
                clock.clone(),
                random.clone(),
            )),
            mfa_enrollments,
            security_policy,
            allowlist,
            profile,
            store,
            random,
            clock,
            secrets,
            notifications,
        })
    }

    /// Portal links with the given configuration (return origins, lifetime).
    pub fn configure_portal(&mut self, config: tenantry_security::PortalConfig) {
        let policy = self.security_policy.clone();
        self.portal_links = Arc::new(tenantry_security::PortalLinkService::new(
            tenantry_security::PortalDeps {
                store: Arc::new(self.store.clone()),
                policy: policy.clone(),
                origins: policy,
                mfa: self.mfa_enrollments.clone(),
                minters: self.portal_minters.clone(),
                clock: self.clock.clone(),
                random: self.random.clone(),
            },
            config,
        ));
    }

    /// The outbox worker over the program's own transports: invitation and account emails
    /// through `mail`, event routing, and webhook and Slack deliveries through `http`. Call
    /// its `run_once(batch)` from a thread of its own, in a loop with a pause when it finds
    /// nothing (the server's `outbox.rs`); instances sharing a database share the work.
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
}

/// The envelope box over the database's data keys under `kek`: refused when stored secrets
/// need a key `kek` cannot open; a new database gets its first data key.
fn envelope(
    store: &Store,
    kek: &Kek,
    clock: &dyn Clock,
    random: &dyn RandomSource,
) -> Result<SecretBox, OpenError> {
    let keyring = Arc::new(Keyring::new(Arc::new(store.clone()), vec![kek.clone()]));
    let unreadable = keyring.unreadable()?;
    if !unreadable.is_empty() {
        return Err(OpenError::WrongMasterKey {
            kek_id: kek.id().to_owned(),
            keys: unreadable
                .iter()
                .map(|(id, n)| format!("key {id} ({n} sealed values)"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    keyring.ensure_sealing_key(clock, random)?;
    let (secrets, unopenable) = SecretBox::envelope(std::slice::from_ref(kek), keyring)?;
    match unopenable.into_iter().next() {
        Some(e) => Err(e.into()),
        None => Ok(secrets),
    }
}

/// Slack incoming-webhook URLs written before they were sealed (the account settings'
/// notification section, current and history, and Slack notification channels) are sealed
/// here, before anything reads them: a migration cannot, the master key is not in SQL. A
/// cheap query skips it when none is left.
pub fn seal_clear_slack_urls(
    store: &Store,
    secrets: &SecretBox,
    random: &dyn RandomSource,
    notifications: &NotificationService,
) -> Result<(), OpenError> {
    let sealing = |e: &dyn std::fmt::Display| OpenError::Sealing(e.to_string());
    if !store.holds_clear_slack_urls().map_err(|e| sealing(&e))? {
        return Ok(());
    }
    let documents = tenantry_settings::seal_clear_slack_urls(store, secrets, random)
        .map_err(|e| sealing(&e))?;
    let channels = notifications
        .seal_clear_slack_urls()
        .map_err(|e| sealing(&e))?;
    tracing::info!(
        documents,
        channels,
        "sealed Slack webhook URLs stored in clear"
    );
    Ok(())
}
