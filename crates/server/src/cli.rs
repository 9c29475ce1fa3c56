//! The command line: `serve` and the operator's commands, with their flags and environment
//! variables.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `tenantry --version`: the release and the git commit it was built from (build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TENANTRY_GIT_COMMIT"),
    ")"
);

/// Tenantry: account settings and team management service.
#[derive(Debug, Parser)]
#[command(name = "tenantry", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// TOML configuration file; its keys are `serve`'s options (docs/configuration.md).
    /// Environment variables and flags override it.
    #[arg(long, global = true, env = "TENANTRY_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP service (applies migrations first).
    ///
    /// On an empty database this creates the `default` account and prints its owner API key
    /// and, unless TENANTRY_OPERATOR_KEY is set, a generated operator key; both are shown once.
    #[command(after_help = "Example:\n  tenantry serve --bind 127.0.0.1:8080 --data-dir ./data")]
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Operator break-glass for an account's IP allowlist.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
    /// Manage the master key that encrypts secrets at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Create an account with its owner and print the owner's API key once.
    #[command(
        after_help = "Example:\n  tenantry bootstrap --account acme --owner-email admin@acme.test"
    )]
    Bootstrap(BootstrapArgs),
    /// List or create accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Read an account's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write an account's settings export to stdout, in the format of
    /// `GET /v2/accounts/settings/export` (audited as the operator when secrets are included).
    /// Settings only: no members, keys, audit log or notifications; `tenantry backup` copies
    /// the whole database.
    #[command(
        after_help = "Examples:\n  tenantry export --account acme > acme-settings.json\n  tenantry export --account acme --format yaml --sections billing,security > acme.yaml"
    )]
    Export(ExportArgs),
    /// Import a settings export (from `tenantry export` or the HTTP export) into an account:
    /// every section validated first, then all applied in one transaction, or none.
    #[command(
        after_help = "Examples:\n  tenantry import --account acme acme-settings.json\n  tenantry import --account acme --strategy overwrite --validate-only acme.yaml"
    )]
    Import(ImportArgs),
    /// Check the database: referential integrity, settings versions against their history, and
    /// every account's stored settings read back through the API's parsers. Exits 1 on any
    /// problem, listing each.
    #[command(after_help = "Example:\n  tenantry check --data-dir ./data")]
    Check(DatabaseArgs),
    /// Write a consistent copy of the whole SQLite database to a new file, while servers run
    /// (PostgreSQL: use pg_dump; docs/operations.md).
    #[command(
        after_help = "Example:\n  tenantry backup --data-dir ./data /backups/tenantry-$(date +%F).db"
    )]
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup: the copy is migrated and checked as `tenantry
    /// check` does before it takes the database's place. A database holding accounts is
    /// replaced only with --force. Stop every server using the database first.
    #[command(
        after_help = "Example:\n  tenantry restore --data-dir ./data /backups/tenantry-2026-12-07.db"
    )]
    Restore(RestoreArgs),
    /// Print the OpenAPI 3.1 document of every dialect (the one served at `/openapi.json`).
    #[command(after_help = "Example:\n  tenantry openapi > openapi.json")]
    Openapi,
    /// Show or validate the effective configuration (file < environment < flags).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Help a member who lost their credentials (audited as the operator).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Issue API keys as the operator (audited as the operator).
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Named operator keys for `/admin` beside TENANTRY_OPERATOR_KEY: one per person or job,
    /// each rotated or revoked on its own (audited; `tenantry audit tail --operators`).
    #[command(subcommand)]
    Operators(OperatorsCommand),
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Create a named operator key and print its secret once (only its hash is kept).
    #[command(after_help = "Example:\n  tenantry operators create --name ci-deploy")]
    Create(OperatorCreateArgs),
    /// Every named operator key: id, name, created, last used, revoked. Never a secret; reads
    /// only.
    #[command(after_help = "Example:\n  tenantry operators list --data-dir ./data")]
    List(DatabaseArgs),
    /// Give a key a new secret, printed once; the old one stops working (on running servers
    /// within 2 seconds).
    #[command(after_help = "Example:\n  tenantry operators rotate opk_01j…")]
    Rotate(OperatorKeyArgs),
    /// Revoke a key for good (running servers refuse it within 2 seconds).
    #[command(after_help = "Example:\n  tenantry operators revoke opk_01j…")]
    Revoke(OperatorKeyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OperatorCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// What the key is for (`ci-deploy`, `alice`), 1 to 64 characters.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct OperatorKeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The key's id (`opk_…`, from `tenantry operators list`).
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Mail a member the password reset link of `POST /api/auth/password-reset` (never
    /// printed; it lives an hour). A running `tenantry serve` sends it.
    #[command(
        after_help = "Example:\n  tenantry users reset-password --account acme --email owner@acme.test"
    )]
    ResetPassword(ResetPasswordArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(long)]
    pub account: String,
    /// The member's email address.
    #[arg(long)]
    pub email: String,
    /// Base of the link in the email (the service's public address).
    #[arg(
        long,
        env = "TENANTRY_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create an API key for a member and print it once; its scopes are bounded by the
    /// member's role.
    #[command(
        after_help = "Example:\n  tenantry api-keys create --account acme --email owner@acme.test --scopes '*'"
    )]
    Create(ApiKeyCreateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ApiKeyCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(long)]
    pub account: String,
    /// The member who will hold the key.
    #[arg(long)]
    pub email: String,
    /// Comma-separated scopes (`settings:read`, `team:write`, ...); `*` = whatever the role
    /// allows.
    #[arg(long)]
    pub scopes: String,
    /// The key's name.
    #[arg(long, default_value = "issued by the operator")]
    pub name: String,
    /// Days until the key expires (1-3650); none = it does not expire.
    #[arg(long)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Yaml,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(long)]
    pub account: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// Include secrets in plain text (audited); otherwise they read `{"configured": true}`.
    #[arg(long)]
    pub include_secrets: bool,
    /// Comma-separated sections (notifications, billing, security, integrations, preferences);
    /// all when absent.
    #[arg(long)]
    pub sections: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportStrategy {
    /// Fields in the file replace those stored; others stay.
    Merge,
    /// Each imported section becomes exactly the file's (defaults for what it omits).
    Overwrite,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(long)]
    pub account: String,
    #[arg(long, value_enum, default_value_t = ImportStrategy::Merge)]
    pub strategy: ImportStrategy,
    /// Check the file and report the changes without applying them.
    #[arg(long)]
    pub validate_only: bool,
    /// The export file, JSON or YAML.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The backup file to write; it must not exist.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Replace a database that holds accounts (or that cannot be read to tell).
    #[arg(long)]
    pub force: bool,
    /// The backup file (from `tenantry backup`).
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration `serve` would run with, each value's origin beside it, secrets
    /// masked. Flags after `--` are applied as `serve` would take them.
    #[command(
        after_help = "Example:\n  tenantry config print --config /etc/tenantry.toml -- --bind 0.0.0.0:9000"
    )]
    Print {
        /// `serve` flags to apply on top of the file and the environment.
        #[arg(last = true)]
        serve_args: Vec<String>,
    },
    /// Validate the configuration `serve` would run with (the file, the environment and any
    /// flags after `--`): exits non-zero naming every bad value and where it came from.
    #[command(
        after_help = "Example:\n  tenantry config check --config /etc/tenantry.toml -- --bind localhost:9000"
    )]
    Check {
        /// `serve` flags to check on top of the file and the environment.
        #[arg(last = true)]
        serve_args: Vec<String>,
    },
    /// Print docs/configuration.md (generated from the option definitions).
    #[command(hide = true)]
    Docs,
}

/// A day: long enough for a receiver's deploy, short enough that a leaked old secret dies.
pub const DEFAULT_WEBHOOK_SECRET_OVERLAP_SECONDS: u64 = 86_400;

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the SQLite database, the key file and the mail outbox.
    #[arg(long, env = "TENANTRY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `postgres://user:pass@host:port/db` (or `postgresql://`) to use PostgreSQL,
    /// `sqlite://PATH` for a SQLite file elsewhere; unset = SQLite in the data dir. Any other
    /// URL is refused.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Base64 32-byte key-encryption key for secrets at rest (it wraps the data keys stored in
    /// the database); unset = `<data dir>/master.key` (created 0600 on a database without
    /// secrets, never replaced).
    #[arg(long, env = "TENANTRY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// The previous key-encryption key, accepted to unwrap data keys while the master key is
    /// changed (`tenantry keys rewrap`); unset = `<data dir>/master.key.previous` when that
    /// file exists and TENANTRY_MASTER_KEY is unset.
    #[arg(long, env = "TENANTRY_MASTER_KEY_PREVIOUS", hide_env_values = true)]
    pub master_key_previous: Option<String>,
    /// Log format.
    #[arg(long, env = "TENANTRY_LOG", value_enum, default_value_t = LogFormat::Pretty)]
    pub log: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Listen address, `HOST:PORT` with an IP address or a host name (`localhost:8080`);
    /// `127.0.0.1:0` picks a free port (the chosen address is printed).
    #[arg(long, env = "TENANTRY_BIND", default_value = "127.0.0.1:8080", value_parser = crate::bind_address::parse)]
    pub bind: String,
    /// Operator API key guarding `/admin` (at least 32 characters, 10 of them different, not
    /// a repeated pattern: `openssl rand -base64 32`); unset = generated at first start and
    /// printed once.
    #[arg(long, env = "TENANTRY_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,
    /// Read-only token for `GET /metrics` (`Authorization: Bearer <token>`), so that a scraper
    /// holds no operator key; it opens nothing else. Same strength rule as the operator key,
    /// and it must differ from it. Unset = `/metrics` takes an operator key only.
    #[arg(long, env = "TENANTRY_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "TENANTRY_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// HTTP worker threads; default = number of CPUs.
    #[arg(long, env = "TENANTRY_WORKERS")]
    pub workers: Option<usize>,
    /// Comma-separated CIDRs that outbound webhooks may reach despite the SSRF guard (plain
    /// `http` is then allowed for them too), e.g. `127.0.0.0/8` for local receivers.
    #[arg(long, env = "TENANTRY_OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,
    /// PEM file of extra CA certificates that outbound HTTPS calls (webhooks, account logos)
    /// trust besides the public roots, e.g. a private CA of internal receivers. It changes
    /// whom TLS believes, never which addresses may be reached.
    #[arg(long, env = "TENANTRY_OUTBOUND_CA_FILE")]
    pub outbound_ca_file: Option<std::path::PathBuf>,
    /// Seconds a webhook channel's replaced signing secret keeps signing deliveries beside
    /// the new one (both signatures in `webhook-signature`), so receivers roll over without
    /// missing an event; 0 = the new secret alone at once. At most ten years.
    #[arg(
        long,
        env = "TENANTRY_WEBHOOK_SECRET_OVERLAP",
        default_value_t = DEFAULT_WEBHOOK_SECRET_OVERLAP_SECONDS,
        value_parser = clap::value_parser!(u64).range(0..=315_360_000)
    )]
    pub webhook_secret_overlap: u64,
    /// Sender address of notification emails.
    #[arg(
        long,
        env = "TENANTRY_MAIL_FROM",
        default_value = "Tenantry <no-reply@tenantry.localhost>"
    )]
    pub mail_from: String,
    /// Base of the links in emails (`inviteUrl`); unset = `http://<bound address>`.
    #[arg(long, env = "TENANTRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated origins (`https://app.example.com`, or `http://localhost:3000` on a
    /// loopback host) that a portal link's `returnUrl` may point to, in every account; each
    /// account may add its own in its security settings. Empty = only the accounts' own.
    #[arg(long, env = "TENANTRY_PORTAL_RETURN_ORIGINS", default_value = "")]
    pub portal_return_origins: String,
    /// Seconds a portal link stays usable (single use), 30 to 3600.
    #[arg(long, env = "TENANTRY_PORTAL_LINK_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u32).range(30..=3600))]
    pub portal_link_seconds: u32,
    /// `smtp://[user:pass@]host:port` (add `?tls=required` for STARTTLS) or `smtps://...`;
    /// unset = emails are written as `.eml` files into `<data dir>/mail`.
    #[arg(long, env = "TENANTRY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Seconds between delivery attempts, comma-separated; after the last, a message is
    /// abandoned (and a notification channel that failed them all is disabled).
    #[arg(
        long,
        env = "TENANTRY_RETRY_SCHEDULE",
        default_value = "5,300,1800,7200,18000,36000"
    )]
    pub retry_schedule: String,
    /// Requests per minute one client address may make (0 = no limit); bursts of a sixth of it.
    #[arg(long, env = "TENANTRY_RATE_LIMIT_PER_IP", default_value_t = 6000)]
    pub rate_limit_per_ip: u32,
    /// Requests per minute one API key or session may make (0 = no limit); bursts of a sixth.
    #[arg(long, env = "TENANTRY_RATE_LIMIT_PER_KEY", default_value_t = 6000)]
    pub rate_limit_per_key: u32,
    /// Milliseconds a client may take to send a request's head before it is answered 408.
    #[arg(long, env = "TENANTRY_CLIENT_TIMEOUT_MS", default_value_t = 5000)]
    pub client_timeout_ms: u64,
    /// Threads that compute password hashes (Argon2id: sign-in, password change, invitation
    /// acceptance); up to 64 requests per thread wait, more get 503. Default: half the CPUs.
    #[arg(long, env = "TENANTRY_PASSWORD_WORKERS", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub password_workers: Option<u32>,
    /// Milliseconds the outbox worker waits when it found nothing to deliver.
    #[arg(long, env = "TENANTRY_OUTBOX_POLL_MS", default_value_t = 1000)]
    pub outbox_poll_ms: u64,
    /// PEM file of the certificate chain to serve HTTPS with (with `--tls-key`); unset = plain
    /// HTTP (behind a reverse proxy that terminates TLS).
    #[arg(long, env = "TENANTRY_TLS_CERT")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM file of the private key of `--tls-cert`.
    #[arg(long, env = "TENANTRY_TLS_KEY")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` is believed.
    #[arg(long, env = "TENANTRY_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Seconds between retention purges (audit entries older than each account's retention).
    #[arg(long, env = "TENANTRY_PURGE_INTERVAL", default_value_t = 3600)]
    pub purge_interval: u64,
    /// Owner email of the `default` account created at first start.
    #[arg(
        long,
        env = "TENANTRY_BOOTSTRAP_OWNER_EMAIL",
        default_value = "owner@localhost"
    )]
    pub bootstrap_owner_email: String,
}

#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Turn allowlist enforcement off for an account (the entries stay), audited as the
    /// operator. Works whatever the list says: this is how a locked-out account gets back in.
    #[command(after_help = "Example:\n  tenantry allowlist disable --account acme")]
    Disable(AllowlistDisableArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AllowlistDisableArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(long)]
    pub account: String,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new data key that seals from now on, then re-seal every stored secret under it.
    ///
    /// Servers keep running: each sees the new key through the database within 2 seconds
    /// (and opens values sealed with it at once). After `--settle-seconds` the command re-seals
    /// every sealed value in batches of `--batch` (one transaction each), and retires every old
    /// data key no stored value uses any more. Interrupted, run `tenantry keys reseal`.
    #[command(after_help = "Example:\n  tenantry keys rotate --data-dir ./data")]
    Rotate(RotateArgs),
    /// Re-seal every stored secret under the current sealing key (after an interrupted
    /// rotation, or to move values sealed before envelope encryption), then retire unused keys.
    #[command(after_help = "Example:\n  tenantry keys reseal --data-dir ./data")]
    Reseal(ResealArgs),
    /// Every data key: id, created, state (sealing/active/retired) and how many stored secrets
    /// use it; and values sealed directly by a master key (before envelope encryption).
    #[command(after_help = "Example:\n  tenantry keys status --data-dir ./data")]
    Status(DatabaseArgs),
    /// Wrap every data key with the current master key (key-encryption key).
    ///
    /// With TENANTRY_MASTER_KEY: set it to the new key and TENANTRY_MASTER_KEY_PREVIOUS to the
    /// old one (on every instance), then run this; drop the previous key afterwards. With the
    /// key file: generates a new key as `master.key.next`, re-wraps, then keeps the old key as
    /// `master.key.previous` and moves the new one to `master.key` (no key file is ever
    /// overwritten; an existing `master.key.previous` must be removed first).
    #[command(after_help = "Example:\n  tenantry keys rewrap --data-dir ./data")]
    Rewrap(DatabaseArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ResealArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Rows re-sealed per transaction.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub reseal: ResealArgs,
    /// Seconds to wait after adding the key before re-sealing, so that every running server
    /// seals with the new key first (they look every 2 seconds); 0 when none runs.
    #[arg(long, default_value_t = 5)]
    pub settle_seconds: u64,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Every account, oldest first: id, name, tier, display name.
    #[command(after_help = "Example:\n  tenantry accounts list --data-dir ./data")]
    List(DatabaseArgs),
    /// Create an account with its owner and print the owner's API key once (as `bootstrap`).
    #[command(
        after_help = "Example:\n  tenantry accounts create --account acme --owner-email admin@acme.test"
    )]
    Create(BootstrapArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The newest entries of an account's audit log, oldest of them first (one JSON object a
    /// line).
    #[command(
        after_help = "Examples:\n  tenantry audit tail --account acme --lines 50\n  tenantry audit tail --account acme --action settings.updated --since 2026-12-01T00:00:00Z\n  tenantry audit tail --account acme --without-requests --follow"
    )]
    Tail(AuditTailArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AuditTailArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug).
    #[arg(
        long,
        required_unless_present = "operators",
        conflicts_with = "operators"
    )]
    pub account: Option<String>,
    /// The instance's own entries instead of an account's: the operator's keys created,
    /// rotated and revoked (`tenantry operators`).
    #[arg(long)]
    pub operators: bool,
    /// How many entries (1-1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub lines: u32,
    /// Only entries of this action (e.g. `settings.updated`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only entries by this actor (a user id, `operator:env`, `operator:opk_…`, `operator:cli`
    /// or `system`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Leave out the request audit's `api.request` entries.
    #[arg(long)]
    pub without_requests: bool,
    /// Keep printing new entries as they are written, until interrupted.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Account name (slug: 3-63 of a-z, 0-9 and -).
    #[arg(long)]
    pub account: String,
    /// Email of the account's owner.
    #[arg(long)]
    pub owner_email: String,
    /// Human-readable account name; defaults to the slug.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Base of the owner's password set-up link (mailed by the server, never printed).
    #[arg(
        long,
        env = "TENANTRY_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn configuration_reference_is_current() {
        // The package directory at run time: the checkout under test (see xtask's tidy test).
        let path = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(
                || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                std::path::PathBuf::from,
            )
            .join("../../docs/configuration.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == crate::config::reference(&Cli::command()),
            "docs/configuration.md is stale: run `tenantry config docs > docs/configuration.md`"
        );
    }
}
