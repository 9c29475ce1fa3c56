//! Opening the store: configuration, pools and pragmas per backend, readiness and gauges.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};

use crate::change_feed::Changes;
use crate::connection::{Manager, ReadOnly, Target};
use crate::{migrations, Backend, DbConnection, StoreError};

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    target: Target,
    /// Connections kept by the pool.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// Open without creating or changing anything (see [`StoreConfig::read_only`]).
    read_only: bool,
}

/// Turns off libpq's GSSAPI encryption probe unless the URL chooses a mode itself. With it on,
/// libpq loads Kerberos, whose exit-time destructors race the pool's connection threads and
/// abort the process (diesel-rs/diesel#3226); deployments that use GSSAPI set `gssencmode`.
fn without_gssapi(url: &str) -> String {
    if url.contains("gssencmode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&gssencmode=disable")
    } else {
        format!("{url}?gssencmode=disable")
    }
}

/// Database-side figures for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct StoreGauges {
    pub outbox_depth: u64,
    pub delivery_attempts_ok: u64,
    pub delivery_attempts_failed: u64,
    pub pool_connections: u32,
    pub pool_idle: u32,
    /// Times a caller of this process found no idle connection and waited for one.
    pub pool_waits: u64,
    /// The time those callers waited, in total.
    pub pool_wait_time: Duration,
    /// How long ago the change feed's follower last confirmed the feed; `None` if it never
    /// did in this process (decision 0047).
    pub feed_age: Option<Duration>,
}

/// `url` with the password of its user part (and any `password=` parameter) replaced by
/// `********`, for messages and logs: a refused URL is echoed back, a credential never is.
///
/// ```
/// assert_eq!(
///     tenantry_store::redacted_url("mysql://app:hunter2@db/x?password=p2"),
///     "mysql://app:********@db/x?password=********"
/// );
/// ```
pub fn redacted_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    // The user part ends at the last `@` before the path: a password may itself hold `@` or `/`.
    let authority_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:********{host}"),
                None => rest.to_owned(),
            }
        }
        None => rest.to_owned(),
    };
    let masked: Vec<String> = rest
        .split('&')
        .map(|part| match part.find("password=") {
            Some(i) => format!("{}password=********", &part[..i]),
            None => part.to_owned(),
        })
        .collect();
    format!("{scheme}{}", masked.join("&"))
}

impl StoreConfig {
    /// A SQLite database file (created with its parent directories if missing).
    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        Self::new(Target::Sqlite(path.as_ref().to_string_lossy().into_owned()))
    }

    /// `postgres://…` / `postgresql://…` selects PostgreSQL and `sqlite://PATH` a SQLite file.
    /// Anything else is refused: a mistyped scheme (`postgress://`, `mysql://`) once became the
    /// name of a new, empty SQLite file, and the service ran on it beside the real data. The
    /// error shows the URL with its password masked ([`redacted_url`]).
    ///
    /// ```
    /// use tenantry_store::{Backend, StoreConfig};
    /// assert_eq!(StoreConfig::from_url("postgres://db/app").unwrap().backend(), Backend::Postgres);
    /// assert_eq!(StoreConfig::from_url("sqlite://data/t.db").unwrap().backend(), Backend::Sqlite);
    /// assert!(StoreConfig::from_url("postgress://u:pw@db/app").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::new(Target::Postgres(without_gssapi(url))))
        } else if let Some(path) = url.strip_prefix("sqlite://").filter(|p| !p.is_empty()) {
            Ok(Self::sqlite(path))
        } else {
            Err(StoreError::UnsupportedUrl(redacted_url(url)))
        }
    }

    /// Opens without creating or changing anything: no file or directory is made, no migration
    /// runs (pending ones are an error naming `tenantry migrate`), SQLite is opened read-only
    /// and PostgreSQL transactions are read-only on the server's side. For commands that only
    /// read, so that they work on a read-only copy and never start a second, empty database.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        if let Target::Postgres(url) = &mut self.target {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push(sep);
            url.push_str("options=-c%20default_transaction_read_only%3Don");
        }
        self
    }

    fn new(target: Target) -> Self {
        let max_connections = match target {
            // SQLite serialises writers anyway; a handful of connections serve concurrent readers.
            Target::Sqlite(_) => 8,
            Target::Postgres(_) => 16,
        };
        Self {
            target,
            max_connections,
            acquire_timeout: Duration::from_secs(5),
            read_only: false,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.target {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite database file; `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite(path) => Some(Path::new(path)),
            Target::Postgres(_) => None,
        }
    }
}

/// The database: a connection pool plus what is needed to report readiness. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    sqlite_path: Option<PathBuf>,
    /// Bumped after every write transaction of this process that may change what a read
    /// cache holds: the touched account's epoch, a user's, or the process-wide one (see
    /// `tenantry_kernel::WriteEpochs`, decision 0044).
    epochs: std::sync::Arc<tenantry_kernel::WriteEpochs>,
    /// This store's mark on the change-feed rows it records: its follower skips them, since
    /// its own writes already bumped `epochs` after they ended (decision 0047).
    origin: i64,
    /// Waits for a pooled connection (see [`PoolWaits`]).
    pool_waits: std::sync::Arc<PoolWaits>,
    /// SQLite only: where this process's writers queue (see [`WriterQueue`]).
    writers: Option<std::sync::Arc<WriterQueue>>,
}

/// How often a store call found every pooled connection busy, and how long such calls waited:
/// the sign that the pool, not the database, is what requests queue for.
#[derive(Default)]
struct PoolWaits {
    waits: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
}

/// SQLite admits one writer at a time. Left to SQLite, a writer that finds the lock taken polls
/// it from its busy handler, sleeping 1, 2, 5, 10 … 100 ms between tries: under a steady write
/// load the lock was often free while every waiter slept, so writes ran at a fraction of what
/// the database can do and the slowest waited hundreds of milliseconds (decision 0015 §12).
/// Writers of this process therefore take this lock before `BEGIN IMMEDIATE` and are woken the
/// moment it is released. Other processes on the same file (an operator's CLI command) still
/// meet the busy timeout.
#[derive(Default)]
pub(crate) struct WriterQueue(std::sync::Mutex<()>);

thread_local! {
    /// Whether this thread holds a [`WriterQueue`]: a write begun inside another would wait on
    /// itself forever, so it skips the queue and meets SQLite's busy timeout as it always did.
    static HOLDS_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// This thread's place at the head of the writer queue, until dropped.
pub(crate) struct WriterTurn<'a> {
    _guard: std::sync::MutexGuard<'a, ()>,
}

impl WriterQueue {
    pub(crate) fn wait(&self) -> Option<WriterTurn<'_>> {
        if HOLDS_WRITER.with(std::cell::Cell::get) {
            return None;
        }
        // The lock guards no data, so a writer that panicked holding it left nothing to repair.
        let guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        HOLDS_WRITER.with(|h| h.set(true));
        Some(WriterTurn { _guard: guard })
    }
}

impl Drop for WriterTurn<'_> {
    fn drop(&mut self) {
        HOLDS_WRITER.with(|h| h.set(false));
    }
}

fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// The first connection. A read-only SQLite database read shared with its writers needs its
/// `-shm` file; in a read-only directory without one, nobody can be writing it, so it is then
/// read as an immutable file.
fn first_connection(
    manager: &mut Manager,
    config: &StoreConfig,
) -> Result<DbConnection, StoreError> {
    let shared = manager.open().and_then(|mut conn| {
        if config.read_only {
            diesel::sql_query("SELECT 1 FROM sqlite_master LIMIT 1")
                .execute(&mut conn)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(conn)
    });
    match shared {
        Ok(conn) => Ok(conn),
        Err(_) if manager.read_only == Some(ReadOnly::Shared) => {
            manager.read_only = Some(ReadOnly::Immutable);
            manager
                .open()
                .map_err(|e| StoreError::Open(open_failure(config, &e)))
        }
        Err(e) => Err(StoreError::Open(open_failure(config, &e))),
    }
}

/// Why the first connection failed, naming the SQLite file it was for.
fn open_failure(config: &StoreConfig, e: &diesel::r2d2::Error) -> String {
    match &config.target {
        Target::Sqlite(path) => format!("{path}: {e}"),
        Target::Postgres(_) => e.to_string(),
    }
}

impl Store {
    /// Opens the pool and applies pending migrations (or, [`StoreConfig::read_only`], checks
    /// that none is pending).
    pub fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        Self::open_reporting(config, &mut |_, _, _| {})
    }

    /// [`Store::open`], calling `progress` after each migration it applies (for `tenantry
    /// migrate`'s progress).
    pub fn open_reporting(
        config: &StoreConfig,
        progress: crate::MigrationProgress<'_>,
    ) -> Result<Self, StoreError> {
        let sqlite_path = match &config.target {
            Target::Sqlite(path) => {
                let path = PathBuf::from(path);
                if config.read_only {
                    // Named with the OS's reason, rather than SQLite's "unable to open".
                    std::fs::File::open(&path).map_err(|e| {
                        StoreError::Open(format!("cannot open {}: {e}", path.display()))
                    })?;
                } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Open(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                Some(path)
            }
            Target::Postgres(_) => None,
        };
        // Without a `-wal` file no process has the database open for writing and every commit
        // is in the main file: read it as immutable, which creates no `-wal`/`-shm` beside it.
        // With one, read it shared, seeing the running server's commits.
        let read_only = match (&sqlite_path, config.read_only) {
            (_, false) => None,
            (Some(path), true) if !wal_of(path).exists() => Some(ReadOnly::Immutable),
            (_, true) => Some(ReadOnly::Shared),
        };
        let mut manager = Manager {
            target: config.target.clone(),
            read_only,
        };
        // Open one connection first so a bad URL or unreadable file reports the backend's own
        // message instead of r2d2's "timed out waiting for connection".
        let mut first = first_connection(&mut manager, config)?;
        if config.read_only {
            let pending = migrations::pending(&mut first)?;
            if pending > 0 {
                return Err(StoreError::Migrate(format!(
                    "{pending} migration(s) pending; run `tenantry migrate` first (this command changes nothing)"
                )));
            }
        } else {
            migrations::run_pending(&mut first, progress)?;
        }
        drop(first);
        let pool = Pool::builder()
            .max_size(config.max_connections)
            .min_idle(Some(1))
            // r2d2 checks (`SELECT 1`, prepared anew) every connection it hands out, unless
            // it came back within `RECENTLY_USED` (`Manager::is_valid`). A SQLite connection
            // is a file handle in this process and cannot go stale, so the check only cost a
            // statement parse per store call; a PostgreSQL connection can (a server restart or
            // failover), and the check is what turns that into a fresh connection rather than
            // one failed request.
            .test_on_check_out(config.backend() == Backend::Postgres)
            .connection_timeout(config.acquire_timeout)
            .build(manager)
            .map_err(|e| StoreError::Open(e.to_string()))?;
        Ok(Self {
            pool,
            backend: config.backend(),
            sqlite_path,
            epochs: Default::default(),
            origin: {
                use tenantry_kernel::RandomSource;
                // 63 random bits: positive, and two processes never share one in practice.
                (tenantry_kernel::OsRandom.u128() >> 65) as i64
            },
            pool_waits: Default::default(),
            writers: (config.backend() == Backend::Sqlite).then(Default::default),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.pool.max_size()
    }

    pub(crate) fn conn(&self) -> Result<PooledConnection<Manager>, StoreError> {
        // An idle connection first, without waiting: only the calls that found none are
        // counted and timed (a wait that ends in a timeout included).
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        let start = std::time::Instant::now();
        let conn = self.pool.get();
        let waited = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        let order = std::sync::atomic::Ordering::Relaxed;
        self.pool_waits.waits.fetch_add(1, order);
        self.pool_waits.micros.fetch_add(waited, order);
        Ok(conn?)
    }

    /// Readiness: the database answers a query and, for SQLite, its file is still where the
    /// data directory says (a deleted file keeps answering through open handles, but everything
    /// written from then on would be lost at the next start).
    pub fn check_ready(&self) -> Result<(), StoreError> {
        if let Some(path) = &self.sqlite_path {
            if !path.exists() {
                return Err(StoreError::Open(format!(
                    "database file {} is missing",
                    path.display()
                )));
            }
        }
        let mut conn = self
            .pool
            .get_timeout(Duration::from_secs(2))
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .get_result::<i32>(&mut **conn)?;
        Ok(())
    }

    /// What `/metrics` reads from the database and the pool.
    pub fn metrics_gauges(&self) -> Result<StoreGauges, StoreError> {
        use diesel::dsl::count_star;
        use diesel::prelude::*;

        use crate::schema::{notification_delivery_attempts as a, outbox};
        let state = self.pool.state();
        let (depth, ok, failed) = self.read(|conn| {
            let depth: i64 = outbox::table
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::abandoned_at.is_null())
                .select(count_star())
                .first(conn)?;
            // An attempt in flight has no outcome yet; an interrupted one counts as failed.
            let total: i64 = a::table
                .filter(a::state.ne("in_flight"))
                .select(count_star())
                .first(conn)?;
            let ok: i64 = a::table
                .filter(a::state.eq("completed"))
                .filter(
                    a::response_code
                        .between(200, 299)
                        .or(a::response_code.is_null().and(a::error.is_null())),
                )
                .select(count_star())
                .first(conn)?;
            Ok((depth, ok, total - ok))
        })?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(StoreGauges {
            outbox_depth: n(depth),
            delivery_attempts_ok: n(ok),
            delivery_attempts_failed: n(failed),
            pool_connections: state.connections,
            pool_idle: state.idle_connections,
            pool_waits: self
                .pool_waits
                .waits
                .load(std::sync::atomic::Ordering::Relaxed),
            pool_wait_time: Duration::from_micros(
                self.pool_waits
                    .micros
                    .load(std::sync::atomic::Ordering::Relaxed),
            ),
            feed_age: self.epochs.feed_age(),
        })
    }

    /// Runs `f` with a pooled connection (for read-only queries).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `f` in a write transaction (see `transaction::write_transaction`) that may change
    /// what several accounts' caches hold, or what belongs to no account: it bumps the
    /// process-wide epoch, dropping every cached entry. Writes within one account use
    /// [`Self::write_account`].
    pub(crate) fn write<T, E: crate::transaction::TxError + From<StoreError>>(
        &self,
        f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.queued_transaction(Changes::global(), f)
    }

    /// A write transaction that changes only what belongs to `account` (its members, keys,
    /// invitations, settings, usage): it bumps that account's epoch alone, so other tenants'
    /// cached entries stay valid.
    pub(crate) fn write_account<T, E: crate::transaction::TxError + From<StoreError>>(
        &self,
        account: tenantry_kernel::AccountId,
        f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let changes = Changes {
            account: Some(account),
            ..Changes::default()
        };
        self.queued_transaction(changes, f)
    }

    /// A write transaction that bumps `account`'s epoch when given and `user`'s when given: a
    /// settings write bumps the account's when it changes the account's documents or
    /// allowlist, and the user's when it may change the user's preferences or record, so one
    /// member's preferences leave the others' cached documents.
    pub(crate) fn write_for<T, E: crate::transaction::TxError + From<StoreError>>(
        &self,
        account: Option<tenantry_kernel::AccountId>,
        user: Option<tenantry_kernel::UserId>,
        f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let changes = Changes {
            global: false,
            account,
            user,
        };
        self.queued_transaction(changes, f)
    }

    /// A write transaction that bumps no epoch: for rows no cache holds (the request audit, the
    /// outbox), so that writing them does not drop cached keys and snapshots.
    pub(crate) fn write_uncached<T>(
        &self,
        f: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.queued_transaction(Changes::default(), f)
    }

    /// The write transaction all those above share, after this process's earlier writers.
    /// What it moves is recorded in the change feed inside the transaction (so it commits with
    /// the write, and other processes apply it: decision 0047), and bumped here after it ends.
    fn queued_transaction<T, E: crate::transaction::TxError + From<StoreError>>(
        &self,
        changes: Changes,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let result = {
            // The turn comes before the connection: queued writers hold none of the few pooled
            // connections the readers need.
            let _turn = self.writers.as_deref().and_then(WriterQueue::wait);
            let mut conn = self.conn().map_err(E::from)?;
            crate::transaction::write_transaction(&mut conn, |c| {
                let value = f(c)?;
                changes.record(c, self.origin)?;
                Ok(value)
            })
        };
        // Bumped whatever the outcome: a failed commit may still have changed something.
        changes.bump(&self.epochs);
        result
    }

    /// The mark this store's change-feed rows carry (see the `origin` field).
    pub(crate) fn feed_origin(&self) -> i64 {
        self.origin
    }

    /// The epochs this process's writes bump (see `CredentialStore::write_epochs`).
    pub fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs {
        &self.epochs
    }
}

#[cfg(test)]
mod tests {
    use super::{redacted_url, without_gssapi, StoreConfig, WriterQueue};
    use crate::{Backend, StoreError};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    /// Laws: a URL's password never survives redaction (whatever it holds, `@`, `:` and `/`
    /// included), the rest of the URL does; and only PostgreSQL and `sqlite://` URLs are
    /// accepted, any other scheme is refused with the password masked.
    #[test]
    fn passwords_are_masked_and_only_known_schemes_accepted() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(&nanos.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 512,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let schemes = prop_oneof![
            Just("postgres".to_owned()),
            Just("postgresql".to_owned()),
            Just("postgress".to_owned()),
            Just("mysql".to_owned()),
            Just("sqlite".to_owned()),
            "[a-z]{1,10}",
        ];
        let result = runner.run(
            &(
                schemes,
                "[a-z][a-z0-9_]{0,8}",
                "[A-Za-z0-9@:/!$%^*_+=-]{1,24}",
                "[a-z0-9.-]{1,20}",
            ),
            |(scheme, user, password, host)| {
                let url = format!("{scheme}://{user}:{password}@{host}/db");
                let masked = format!("{scheme}://{user}:********@{host}/db");
                prop_assert_eq!(redacted_url(&url), masked.clone());
                match StoreConfig::from_url(&url) {
                    Ok(config) => {
                        let expected = match scheme.as_str() {
                            "postgres" | "postgresql" => Backend::Postgres,
                            "sqlite" => Backend::Sqlite,
                            other => panic!("{other}:// accepted"),
                        };
                        prop_assert_eq!(config.backend(), expected);
                    }
                    Err(StoreError::UnsupportedUrl(shown)) => {
                        prop_assert!(!matches!(
                            scheme.as_str(),
                            "postgres" | "postgresql" | "sqlite"
                        ));
                        prop_assert_eq!(shown, masked);
                    }
                    Err(other) => panic!("{other}"),
                }
                Ok(())
            },
        );
        if let Err(e) = result {
            panic!("{e}; seed {seed:?}");
        }
    }

    #[test]
    fn a_bare_path_or_an_empty_sqlite_path_is_refused() {
        for url in ["garbage", "./data/tenantry.db", "sqlite://", "postgres:/x"] {
            assert!(StoreConfig::from_url(url).is_err(), "{url} accepted");
        }
        assert_eq!(
            redacted_url("host=db user=app password=hunter2"),
            "host=db user=app password=********"
        );
    }

    #[test]
    fn a_write_begun_inside_another_skips_the_queue_instead_of_waiting_on_itself() {
        let queue = WriterQueue::default();
        let outer = queue.wait();
        assert!(outer.is_some());
        assert!(
            queue.wait().is_none(),
            "the nested write must not queue behind itself"
        );
        drop(outer);
        // Released: the next write queues again, on this thread and on any other.
        assert!(queue.wait().is_some());
        std::thread::scope(|s| {
            let turn = queue.wait();
            let other = s.spawn(|| queue.wait().is_some());
            drop(turn);
            assert!(other.join().unwrap_or(false));
        });
    }

    #[test]
    fn gssapi_is_disabled_unless_chosen() {
        assert_eq!(
            without_gssapi("postgres://u@h/db"),
            "postgres://u@h/db?gssencmode=disable"
        );
        assert_eq!(
            without_gssapi("postgres://u@h/db?sslmode=require"),
            "postgres://u@h/db?sslmode=require&gssencmode=disable"
        );
        assert_eq!(
            without_gssapi("postgres://u@h/db?gssencmode=require"),
            "postgres://u@h/db?gssencmode=require"
        );
    }
}
