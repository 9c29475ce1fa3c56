//! The `tenantry` binary.

mod audit_tail;
mod backup;
mod batches;
mod bind_address;
mod bootstrap;
mod bridges;
mod cli;
mod config;
mod config_check;
mod database_check;
mod key_activity;
mod keys;
mod log_buffer;
mod operator_access;
mod operator_key;
mod operator_keys;
mod outbound;
mod outbox;
mod progress;
mod request_audit;
mod telemetry;
mod tls;
mod transfer;
mod wiring;

use std::io::Write;
use std::net::TcpListener;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};
use tenantry_http::HttpConfig;

use crate::cli::{
    AccountsCommand, AllowlistCommand, ApiKeysCommand, AuditCommand, Cli, Command, ConfigCommand,
    KeysCommand, OperatorsCommand, ServeArgs, UsersCommand,
};
use crate::wiring::Services;

/// Parses the command line over the configuration file's values (config.rs), exiting with
/// clap's usage error, or with every problem of the file (but for `config check`, which reports
/// them beside the environment's).
fn parse_command_line() -> (Cli, clap::Command, clap::ArgMatches, config::ConfigFile) {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let file = match config::path_from(&args) {
        Some(path) => config::load(&path, &Cli::command()),
        None => config::ConfigFile::default(),
    };
    let command = config::apply(Cli::command(), &file);
    let matches = command.clone().get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if !file.problems.is_empty()
        && !matches!(cli.command, Command::Config(ConfigCommand::Check { .. }))
    {
        for e in &file.problems {
            eprintln!("error: {e}");
        }
        std::process::exit(2)
    }
    (cli, command, matches, file)
}

fn main() -> anyhow::Result<()> {
    let (cli, command, matches, file) = parse_command_line();
    match cli.command {
        Command::Config(ConfigCommand::Docs) => {
            print!("{}", config::reference(&command));
            Ok(())
        }
        Command::Config(ConfigCommand::Check { serve_args }) => {
            config_check::run(&command, &file, &serve_args)
        }
        Command::Config(ConfigCommand::Print { serve_args }) => {
            let matches = command
                .clone()
                .try_get_matches_from(
                    ["tenantry", "serve"]
                        .into_iter()
                        .map(String::from)
                        .chain(serve_args),
                )
                .map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))?;
            let serve = matches
                .subcommand_matches("serve")
                .context("serve options")?;
            print!("{}", config::print(&command, serve, &file));
            Ok(())
        }
        Command::Serve(args) => {
            if let Some(serve) = matches.subcommand_matches("serve") {
                let problems = config_check::value_problems(&command, serve, &file);
                if !problems.is_empty() {
                    for p in &problems {
                        eprintln!("error: {p}");
                    }
                    std::process::exit(2)
                }
            }
            // Dropped at the end of this arm: the last lines are written before main returns
            // (and before an error it returns is printed).
            let _logs = telemetry::init_buffered(args.database.log)?;
            serve(*args)
        }
        Command::Export(args) => {
            telemetry::init(args.database.log);
            // Revealing secrets is audited, which is a write; an export without them reads only.
            let services = if args.include_secrets {
                Services::new(&args.database, None, CLI_PUBLIC_URL)?
            } else {
                Services::read_only(&args.database)?
            };
            let text = transfer::export(&services, &args)?;
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(())
        }
        Command::Import(args) => {
            telemetry::init(args.database.log);
            let progress = progress::Progress::start("import");
            progress.step("opening the database");
            let services = Services::new(&args.database, None, CLI_PUBLIC_URL)?;
            let summary = transfer::import(&services, &args, &progress)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::Check(args) => {
            telemetry::init(args.log);
            // Secrets first: a database whose secrets no configured key opens is refused,
            // naming each key id, before anything else is looked at.
            let store = wiring::open_store_with(&args, wiring::Access::ReadOnly)?;
            if let Some(problem) = wiring::unreadable_secrets(&store, &wiring::keks(&args)?)? {
                anyhow::bail!("{problem}");
            }
            let services = Services::read_only(&args)?;
            let report = database_check::run(&services)?;
            if report.problems.is_empty() {
                println!("ok: {} accounts checked, no problems", report.accounts);
                Ok(())
            } else {
                for p in &report.problems {
                    println!("{p}");
                }
                anyhow::bail!(
                    "{} problem(s) in {} accounts",
                    report.problems.len(),
                    report.accounts
                )
            }
        }
        Command::Backup(args) => {
            telemetry::init(args.database.log);
            backup::backup(&args)
        }
        Command::Restore(args) => {
            telemetry::init(args.database.log);
            backup::restore(&args)
        }
        Command::Openapi => {
            print!("{}", tenantry_http::openapi_document_text());
            Ok(())
        }
        Command::Migrate(args) => {
            telemetry::init(args.log);
            let progress = progress::Progress::start("migrate");
            let mut applied = 0;
            wiring::open_store_reporting(
                &args,
                wiring::Access::ReadWrite,
                &mut |done, pending, name| {
                    applied = done;
                    progress.count(done as u64, pending as u64, name);
                },
            )?;
            progress.finish(&format!("{applied} migration(s) applied"));
            println!("migrations applied");
            Ok(())
        }
        Command::Allowlist(AllowlistCommand::Disable(args)) => {
            telemetry::init(args.database.log);
            let services = Services::new(&args.database, None, CLI_PUBLIC_URL)?;
            let name = tenantry_kernel::AccountName::parse(&args.account)
                .map_err(|e| anyhow::anyhow!("--account: {e}"))?;
            let account = services
                .provisioning
                .find(&name)?
                .ok_or_else(|| anyhow::anyhow!("no account named `{name}`"))?;
            let was_on = services
                .settings
                .break_glass_disable_allowlist(account)
                .map_err(|e| anyhow::anyhow!(e))?;
            if was_on {
                println!("IP allowlist enforcement disabled for {name} ({account}); the entries are kept");
            } else {
                println!("IP allowlist enforcement was already off for {name} ({account})");
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            telemetry::init(args.reseal.database.log);
            keys::rotate(&args)
        }
        Command::Keys(KeysCommand::Reseal(args)) => {
            telemetry::init(args.database.log);
            keys::reseal(&args)
        }
        Command::Keys(KeysCommand::Status(args)) => {
            telemetry::init(args.log);
            keys::status(&args)
        }
        Command::Keys(KeysCommand::Rewrap(args)) => {
            telemetry::init(args.log);
            keys::rewrap(&args)
        }
        Command::Accounts(AccountsCommand::List(args)) => {
            telemetry::init(args.log);
            let services = Services::read_only(&args)?;
            let mut out = std::io::stdout().lock();
            let mut page = tenantry_kernel::PageRequest::default();
            loop {
                let accounts = services.provisioning.list_accounts(&page)?;
                for a in &accounts.items {
                    writeln!(out, "{}\t{}\t{}\t{}", a.id, a.name, a.tier, a.display_name)?;
                }
                match accounts.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Tail(args)) => {
            telemetry::init(args.database.log);
            let services = Services::read_only(&args.database)?;
            // `--operators` (the instance's own entries) or `--account`: clap requires one.
            let account = match &args.account {
                Some(account) => {
                    let name = tenantry_kernel::AccountName::parse(account)
                        .map_err(|e| anyhow::anyhow!("--account: {e}"))?;
                    Some(
                        services
                            .provisioning
                            .find(&name)?
                            .ok_or_else(|| anyhow::anyhow!("no account named `{name}`"))?,
                    )
                }
                None => None,
            };
            audit_tail::run(&services.audit, account, &args)
        }
        Command::Users(UsersCommand::ResetPassword(args)) => {
            telemetry::init(args.database.log);
            let services = Services::new(&args.database, None, &args.public_url)?;
            operator_access::reset_password(&services, &args)
        }
        Command::ApiKeys(ApiKeysCommand::Create(args)) => {
            telemetry::init(args.database.log);
            let services = Services::new(&args.database, None, CLI_PUBLIC_URL)?;
            operator_access::create_api_key(&services, &args)
        }
        Command::Operators(OperatorsCommand::Create(args)) => {
            telemetry::init(args.database.log);
            operator_keys::create(&Services::new(&args.database, None, CLI_PUBLIC_URL)?, &args)
        }
        Command::Operators(OperatorsCommand::List(args)) => {
            telemetry::init(args.log);
            operator_keys::list(&Services::read_only(&args)?)
        }
        Command::Operators(OperatorsCommand::Rotate(args)) => {
            telemetry::init(args.database.log);
            operator_keys::rotate(&Services::new(&args.database, None, CLI_PUBLIC_URL)?, &args)
        }
        Command::Operators(OperatorsCommand::Revoke(args)) => {
            telemetry::init(args.database.log);
            operator_keys::revoke(&Services::new(&args.database, None, CLI_PUBLIC_URL)?, &args)
        }
        Command::Accounts(AccountsCommand::Create(args)) | Command::Bootstrap(args) => {
            telemetry::init(args.database.log);
            let services = Services::new(&args.database, None, &args.public_url)?;
            let account = bootstrap::create_account(
                &services,
                &args.account,
                &args.owner_email,
                args.display_name.as_deref(),
            )?;
            bootstrap::print_account(&mut std::io::stdout().lock(), &account)?;
            Ok(())
        }
    }
}

/// Commands other than `serve` and account creation make no links that leave the process.
pub(crate) const CLI_PUBLIC_URL: &str = "http://127.0.0.1:8080";

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let policy = tenantry_notifications::OutboundPolicy::parse(&args.outbound_allow)
        .map_err(|e| anyhow::anyhow!("TENANTRY_OUTBOUND_ALLOW: {e}"))?;
    let guarded = std::sync::Arc::new(outbound::GuardedHttp::new(
        policy.clone(),
        outbound::extra_roots(args.outbound_ca_file.as_deref())
            .map_err(|e| anyhow::anyhow!("TENANTRY_OUTBOUND_CA_FILE: {e}"))?,
    ));
    let http: std::sync::Arc<dyn tenantry_notifications::HttpTransport> = guarded.clone();
    let mail: std::sync::Arc<dyn tenantry_notifications::MailTransport> =
        match args.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => std::sync::Arc::new(outbound::SmtpMail::from_url(url, &args.mail_from)?),
            None => std::sync::Arc::new(outbound::EmlFiles::new(
                args.database.data_dir.join("mail"),
                args.mail_from.clone(),
            )),
        };
    let deliverers = tenantry_settings::Deliverers {
        http: http.clone(),
        mail: mail.clone(),
        policy,
        secret_overlap: chrono::Duration::seconds(
            i64::try_from(args.webhook_secret_overlap).unwrap_or(i64::MAX / 1_000_000),
        ),
    };
    // Before binding: a TLS configuration that does not load stops the start, named.
    let tls = tls::from_options(args.tls_cert.as_deref(), args.tls_key.as_deref())
        .map_err(|e| anyhow::anyhow!(e))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Bound first: the default public URL is the address actually bound (port 0 included).
    let listener =
        TcpListener::bind(args.bind.as_str()).with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    // Checked before the database is opened: a bad origin stops the start, named.
    let portal_return_origins =
        tenantry_security::ReturnOrigins::parse_list(&args.portal_return_origins)
            .map_err(|e| anyhow::anyhow!("TENANTRY_PORTAL_RETURN_ORIGINS: {e}"))?;
    let mut services = Services::new(&args.database, Some(deliverers), &public_url)?;
    services.configure_portal(tenantry_security::PortalConfig {
        public_url: public_url.clone(),
        return_origins: portal_return_origins,
        lifetime: chrono::Duration::seconds(i64::from(args.portal_link_seconds)),
    });
    keys::spawn_refresh(services.secrets.clone())?;
    let operator_key = args
        .operator_key
        .filter(|k| !k.is_empty())
        .map(|k| {
            operator_key::StrongOperatorKey::parse(&k).map_err(|reason| {
                anyhow::anyhow!(
                    "TENANTRY_OPERATOR_KEY is too weak: {reason}; {}",
                    operator_key::HOW_TO_MAKE_ONE
                )
            })
        })
        .transpose()?
        .map(operator_key::StrongOperatorKey::into_inner);
    // Checked again here (as `config check` does) for embedders of `serve` that skip it.
    let metrics_token = args
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            let strong = operator_key::StrongOperatorKey::parse(t).map_err(|reason| {
                anyhow::anyhow!(
                    "TENANTRY_METRICS_TOKEN is too weak: {reason}; {}",
                    operator_key::HOW_TO_MAKE_ONE
                )
            })?;
            if operator_key.as_deref() == Some(t) {
                anyhow::bail!("TENANTRY_METRICS_TOKEN is the operator key; give the scraper a token of its own");
            }
            Ok(tenantry_security::SecretHash::of(&strong.into_inner()))
        })
        .transpose()?;
    bootstrap::first_start(
        &services,
        &args.bootstrap_owner_email,
        operator_key.is_some(),
    )?;
    // A SQLite database has one server: leases left by a previous process (killed mid-batch)
    // belong to nobody now, so its messages are due at once rather than when the leases end.
    if services.store.backend() == tenantry_store::Backend::Sqlite {
        tenantry_notifications::OutboxStore::release_claims(&services.store, None)?;
    }
    let digests = services.notifications.clone();
    let outbox = outbox::OutboxRunner::start(
        services.outbox_worker(mail, http).with_schedule(
            tenantry_notifications::RetrySchedule::parse(&args.retry_schedule)
                .map_err(|e| anyhow::anyhow!("TENANTRY_RETRY_SCHEDULE: {e}"))?,
        ),
        std::time::Duration::from_millis(args.outbox_poll_ms.max(10)),
        Box::new(move || match digests.flush_digests() {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "queued email digests"),
            Err(e) => tracing::warn!(error = %e, "flushing email digests failed; retrying"),
        }),
    );
    // Other processes' writes (a second instance, the CLI) reach this one's caches through the
    // change feed; while it is followed, cached entries live until what they hold changes.
    let change_feed = services.store.follow_changes()?;
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let trusted = args
        .trusted_proxies
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            tenantry_security::Cidr::parse(s)
                .map_err(|e| anyhow::anyhow!("TENANTRY_TRUSTED_PROXIES: `{s}`: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = HttpConfig {
        body_limit: args.body_limit,
        operator_key,
        metrics_token,
        workers,
        trusted_proxies: tenantry_security::IpMatcher::new(&trusted),
        tls: tls.map(std::sync::Arc::new),
        client_timeout: std::time::Duration::from_millis(args.client_timeout_ms.max(100)),
        // Half the CPUs by default: the other half stays for everything else under a sign-in
        // burst (docs/benchmarks.md, scenario (e)).
        password_workers: args
            .password_workers
            .map(|n| n as usize)
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
            }),
        // At least two per worker, so one slow call does not hold up a worker's others.
        blocking_threads_per_worker: (services.store.max_connections() as usize)
            .div_ceil(workers.max(1))
            .max(2),
        read_threads: match services.store.backend() {
            tenantry_store::Backend::Sqlite => {
                std::thread::available_parallelism().map_or(1, usize::from)
            }
            tenantry_store::Backend::Postgres => services.store.max_connections() as usize,
        },
        build: tenantry_http::BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: env!("TENANTRY_GIT_COMMIT").to_owned(),
        },
    };
    let limit = |per_minute: u32| tenantry_http::RateLimit {
        per_minute,
        burst: (per_minute / 6).max(1),
    };
    let (audit_queue, audit_records) =
        tenantry_http::RequestAuditQueue::new(tenantry_http::REQUEST_AUDIT_QUEUE);
    let state = services.app_state(
        config,
        tenantry_http::RateLimits::new(
            limit(args.rate_limit_per_ip),
            limit(args.rate_limit_per_key),
        ),
        std::sync::Arc::new(audit_queue),
    )?;
    let audit_writer = request_audit::Writer {
        store: services.store.clone(),
        settings: services.settings.clone(),
        clock: services.clock.clone(),
        random: services.random.clone(),
    }
    .spawn(audit_records)?;
    let (activity, key_uses) = tenantry_security::KeyActivity::new(key_activity::QUEUE_CAPACITY);
    let activity = std::sync::Arc::new(activity);
    let activity_writer =
        key_activity::spawn(std::sync::Arc::new(services.store.clone()), key_uses)?;
    if services
        .authenticator
        .queue_activity(activity.clone())
        .is_err()
    {
        anyhow::bail!("the key-activity queue was set twice");
    }
    let console =
        tenantry_console::ConsoleConfig::for_public_url(&public_url, services.random.clone())
            .with_logos(guarded);
    let settings = services.settings.clone();
    let team = services.team.clone();
    let portal_links = services.portal_links.clone();
    let audit_retention = services.audit_retention.clone();
    let metrics = services.metrics.clone();
    let purge_interval = args.purge_interval;

    actix_web::rt::System::new().block_on(async move {
        let server = tenantry_http::serve_with(listener, state, tenantry_console::routes(console))?;
        stop_on_signal(server.handle())?;
        spawn_retention_purge(
            settings,
            audit_retention,
            team,
            portal_links,
            metrics,
            std::time::Duration::from_secs(purge_interval.max(1)),
        );
        // Scripts and tests wait for this line to learn the (possibly OS-chosen) port.
        let mut out = std::io::stdout().lock();
        writeln!(out, "tenantry listening on {scheme}://{addr}")?;
        out.flush()?;
        drop(out);
        tracing::info!(%addr, "listening");
        server.await?;
        anyhow::Ok(())
    })?;
    // Whatever is mid-delivery finishes; what is left stays in the outbox for the next start.
    outbox.stop();
    change_feed.stop();
    // The server (and with it every sender) is gone: the writer drains the queue and ends.
    if audit_writer.join().is_err() {
        tracing::warn!("the request-audit writer panicked");
    }
    // No request is left to queue a key use: the writer stores what is queued and ends.
    activity.close();
    if activity_writer.join().is_err() {
        tracing::warn!("the key-activity writer panicked");
    }
    tracing::info!("shut down");
    Ok(())
}

/// Graceful shutdown on SIGTERM or SIGINT: stop accepting, finish in-flight requests, exit 0.
fn stop_on_signal(handle: actix_web::dev::ServerHandle) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered here, before the listening line is printed, so no early signal is lost.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    actix_web::rt::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received; shutting down gracefully"),
            _ = int.recv() => tracing::info!("SIGINT received; shutting down gracefully"),
        }
        handle.stop(true).await;
    });
    Ok(())
}

/// The inactivity threshold is account settings; suspending is the team's: each account that
/// sets a threshold has its inactive members suspended through the team service.
fn suspend_inactive_members(
    settings: &tenantry_settings::SettingsService,
    team: &tenantry_team::TeamService,
) -> anyhow::Result<u64> {
    let mut total = 0;
    for (account, days) in settings.inactivity_thresholds()? {
        total += team.suspend_inactive_members(account, days.get())?;
    }
    Ok(total)
}

/// Maintenance, every `interval` (the first run right after start): the retention purge, the
/// suspension of inactive members and the purge of portal links that are done. Runs on the
/// blocking pool; a failure is logged and retried at the next tick.
fn spawn_retention_purge(
    settings: std::sync::Arc<tenantry_settings::SettingsService>,
    audit_retention: std::sync::Arc<tenantry_security::AuditRetention>,
    team: std::sync::Arc<tenantry_team::TeamService>,
    portal_links: std::sync::Arc<tenantry_security::PortalLinkService>,
    metrics: std::sync::Arc<tenantry_http::Metrics>,
    interval: std::time::Duration,
) {
    use std::sync::atomic::Ordering;
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let (settings, retention, team, links) = (
                settings.clone(),
                audit_retention.clone(),
                team.clone(),
                portal_links.clone(),
            );
            let job = tokio::task::spawn_blocking(move || {
                (
                    retention.purge_expired_audit(),
                    suspend_inactive_members(&settings, &team),
                    links.purge_done(),
                )
            });
            match job.await {
                Ok((purged, suspended, links)) => {
                    match links {
                        Ok(0) => {}
                        Ok(deleted) => {
                            tracing::info!(deleted, "deleted portal links that are done")
                        }
                        Err(e) => tracing::warn!(error = %e, "portal link purge failed"),
                    }
                    match purged {
                        Ok(0) => tracing::debug!("retention purge: nothing to delete"),
                        Ok(deleted) => {
                            metrics
                                .retention_purged
                                .fetch_add(deleted, Ordering::Relaxed);
                            tracing::info!(deleted, "retention purge deleted expired audit entries")
                        }
                        Err(e) => tracing::warn!(error = %e, "retention purge failed"),
                    }
                    match suspended {
                        Ok(0) => {}
                        Ok(count) => {
                            metrics
                                .members_suspended
                                .fetch_add(count, Ordering::Relaxed);
                            tracing::info!(
                                count,
                                "suspended members inactive past their account's threshold"
                            )
                        }
                        Err(e) => tracing::warn!(error = %e, "inactivity suspension failed"),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "maintenance task failed"),
            }
        }
    });
}
