//! What every handler shares: the services, the ports the adapter needs, and the adapter's own
//! configuration.

use std::sync::Arc;

use tenantry_billing::BillingService;
use tenantry_security::{
    AccountProvisioning, ApiKeyService, AuditService, Authenticator, MfaService, SessionService,
};
use tenantry_settings::SettingsService;

/// Settings of the HTTP adapter itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes (413 above).
    pub body_limit: usize,
    /// Operator key given by configuration; when `None` the stored hash of the generated key is
    /// used.
    pub operator_key: Option<String>,
    /// Hash of the read-only token that opens `GET /metrics` and nothing else
    /// (`TENANTRY_METRICS_TOKEN`); `None`: `/metrics` takes an operator key only.
    pub metrics_token: Option<tenantry_security::SecretHash>,
    pub workers: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`TENANTRY_TRUSTED_PROXIES`).
    pub trusted_proxies: tenantry_security::IpMatcher,
    /// Serve HTTPS with this configuration; `None`: plain HTTP (`TENANTRY_TLS_CERT`/`_KEY`).
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// How long a client may take to send a request's head (slow clients are cut off: 408).
    pub client_timeout: std::time::Duration,
    /// Password hashes computed at once (Argon2id); the rest wait their turn.
    pub password_workers: usize,
    /// Threads of each worker's blocking pool, where store calls run: together, as many as the
    /// database pool has connections (more would only queue for one).
    pub blocking_threads_per_worker: usize,
    /// Threads that run the request path's store reads (`store_reads.rs`): one per core on
    /// SQLite, as many as the database pool has connections on PostgreSQL.
    pub read_threads: usize,
    /// The version and commit `/metrics` reports (`tenantry_build_info`).
    pub build: crate::BuildInfo,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            operator_key: None,
            metrics_token: None,
            workers: 2,
            trusted_proxies: tenantry_security::IpMatcher::default(),
            tls: None,
            client_timeout: std::time::Duration::from_secs(5),
            password_workers: 1,
            blocking_threads_per_worker: 8,
            read_threads: 2,
            build: crate::BuildInfo::default(),
        }
    }
}

/// Everything handlers need, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    /// Where "now" comes from: handlers never read the wall clock themselves.
    pub clock: Arc<dyn tenantry_kernel::Clock>,
    /// The database's health, for `/readyz` and `/metrics`.
    pub readiness: Arc<dyn crate::Readiness>,
    /// Host-reported usage and what it sets off (cost alerts, auto-recharge).
    pub billing: Arc<BillingService>,
    pub authenticator: Arc<Authenticator>,
    /// The IP allowlist, applied to every authenticated request (`auth.rs`).
    pub allowlist: Arc<tenantry_security::AllowlistEnforcement>,
    pub settings: Arc<SettingsService>,
    /// The caller's own profile and password change (`/api/user/profile`, `/api/user/password`).
    pub profile: Arc<tenantry_security::ProfileService>,
    pub provisioning: Arc<AccountProvisioning>,
    pub audit: Arc<AuditService>,
    pub api_keys: Arc<ApiKeyService>,
    pub mfa: Arc<MfaService>,
    pub sessions: Arc<SessionService>,
    /// Portal links (`/v2/accounts/portal-links`, `/admin/accounts/{id}/portal-links`).
    pub portal_links: Arc<tenantry_security::PortalLinkService>,
    /// The token grant of the catalog's clients (`/authorization/token`).
    pub token_grants: Arc<tenantry_security::TokenGrantService>,
    pub team: Arc<tenantry_team::TeamService>,
    pub notifications: Arc<tenantry_notifications::NotificationService>,
    pub metrics: Arc<crate::Metrics>,
    pub rate_limits: Arc<crate::RateLimits>,
    /// Where authenticated requests are queued for the request audit (`request_audit.rs`).
    pub request_audit: Arc<crate::RequestAuditQueue>,
    /// The threads password hashing runs on (`password_work.rs`).
    pub password_pool: Arc<crate::PasswordPool>,
    /// The threads store reads run on (`store_reads.rs`).
    pub read_pool: Arc<crate::ReadPool>,
    pub config: HttpConfig,
}
