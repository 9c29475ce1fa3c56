//! Spawning the real `tenantry` binary against a fresh database, and reading what it prints.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_tenantry");

/// A direct connection to a test's SQLite file that waits for the server's writes instead of
/// failing with "database is locked".
fn sqlite(path: &std::path::Path) -> diesel::SqliteConnection {
    use diesel::connection::SimpleConnection;
    let mut conn = diesel::SqliteConnection::establish(path.to_str().expect("utf-8 path"))
        .expect("open sqlite");
    conn.batch_execute("PRAGMA busy_timeout = 10000;")
        .expect("busy timeout");
    conn
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A throwaway database for one test: a data directory (SQLite file, key file) and, for
/// PostgreSQL, a database created on the cluster named by `TENANTRY_TEST_PG`.
pub struct TestDb {
    pub backend: Backend,
    pub dir: PathBuf,
    pub database_url: Option<String>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// `None` when PostgreSQL is asked for but `TENANTRY_TEST_PG` is unset (the test is then
    /// skipped, unless `TENANTRY_REQUIRE_PG=1`, which `cargo xtask test` sets, makes it fail).
    pub fn create(backend: Backend) -> Option<Self> {
        let admin = std::env::var("TENANTRY_TEST_PG")
            .ok()
            .filter(|url| !url.is_empty());
        if backend == Backend::Postgres && admin.is_none() {
            assert!(
                std::env::var("TENANTRY_REQUIRE_PG").as_deref() != Ok("1"),
                "TENANTRY_REQUIRE_PG=1 but TENANTRY_TEST_PG is not set"
            );
        }
        let unique = ulid::Ulid::new().to_string().to_ascii_lowercase();
        Self::create_named(backend, admin, &unique)
    }

    /// [`TestDb::create`] with the cluster and the directory's name given. The directory is
    /// made only once the database is known to be there: a skipped PostgreSQL variant used to
    /// leave an empty one behind in the system's temporary directory.
    fn create_named(backend: Backend, admin: Option<String>, unique: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("tenantry-e2e-{unique}"));
        let (database_url, pg) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let Some(admin) = admin else {
                    eprintln!("skipping PostgreSQL variant: TENANTRY_TEST_PG is not set");
                    return None;
                };
                let name = format!("tenantry_t_{unique}");
                let mut conn =
                    PgConnection::establish(&admin).expect("connect to TENANTRY_TEST_PG");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let (base, _) = admin
                    .rsplit_once('/')
                    .expect("TENANTRY_TEST_PG has a database path");
                (Some(format!("{base}/{name}")), Some((admin, name)))
            }
        };
        std::fs::create_dir_all(&dir).expect("create test dir");
        Some(Self {
            backend,
            dir,
            database_url,
            pg,
        })
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.join("tenantry.db")
    }

    /// Runs SQL directly against the test database (to set up states no endpoint creates yet,
    /// or to break the database on purpose).
    /// Several `;`-separated statements run on one connection (e.g. a PRAGMA, then a write).
    /// Then records a global change in the change feed, as docs/operations.md asks of anyone
    /// who edits rows by hand (decision 0047), so running servers drop what they cached within
    /// the 2 s bound; a database broken on purpose may refuse that, which is ignored.
    pub fn execute(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        const RECORD: &str = "INSERT INTO cache_changes (scope) VALUES ('global')";
        match &self.database_url {
            Some(url) => {
                let mut conn = PgConnection::establish(url).expect("connect");
                conn.batch_execute(sql).expect("execute");
                let _ = conn.batch_execute(RECORD);
            }
            None => {
                let mut conn = sqlite(&self.sqlite_path());
                conn.batch_execute(sql).expect("execute");
                let _ = conn.batch_execute(RECORD);
            }
        }
    }

    /// Drops the PostgreSQL database (terminating the server's connections).
    pub fn drop_pg_database(&self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }

    /// The same database and data directory (master key included) for a second server; dropping
    /// it leaves the PostgreSQL database to this one.
    pub fn sibling(&self) -> TestDb {
        TestDb {
            backend: self.backend,
            dir: self.dir.clone(),
            database_url: self.database_url.clone(),
            pg: None,
        }
    }

    /// Command for the binary pointed at this database.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TENANTRY_DATA_DIR", &self.dir)
            .env("RUST_LOG", "info")
            .kill_on_drop(true);
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_pg_database();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running server and what it printed at start.
pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub stdout: Vec<String>,
    pub owner_key: Option<String>,
    pub operator_key: Option<String>,
    pub client: reqwest::Client,
    child: Child,
}

impl Drop for TestApp {
    /// Kill the server and wait for it, so its data directory is deleted after it stopped
    /// writing (otherwise a last WAL write can recreate files and leave the directory behind).
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        for _ in 0..200 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn printed_value(lines: &[String], label: &str) -> Option<String> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}

impl TestApp {
    /// Starts `tenantry serve` on `db` with extra environment variables.
    pub async fn start(db: TestDb, env: &[(&str, &str)]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(db.dir.join("server.log"))
            .expect("open log");
        let mut cmd = db.command(&["serve"]);
        cmd.env("TENANTRY_BIND", "127.0.0.1:0")
            .env("TENANTRY_WORKERS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn tenantry");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut printed = Vec::new();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(addr) = line.strip_prefix("tenantry listening on ") {
                    return addr.trim().to_owned();
                }
                printed.push(line);
            }
            let log = std::fs::read_to_string(db.dir.join("server.log")).unwrap_or_default();
            panic!("server exited before listening; stdout: {printed:?}\nlog:\n{log}");
        })
        .await
        .expect("server did not start within 60 s");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let owner_key = printed_value(&printed, "owner API key:");
        let operator_key = printed_value(&printed, "operator key:");
        Self {
            db,
            base,
            stdout: printed,
            owner_key,
            operator_key,
            client: reqwest::Client::new(),
            child,
        }
    }

    /// Stops the server (SIGKILL) and returns its database.
    pub async fn stop(mut self) -> TestDb {
        self.child.kill().await.expect("kill");
        std::mem::replace(
            &mut self.db,
            TestDb {
                backend: Backend::Sqlite,
                dir: PathBuf::new(),
                database_url: None,
                pg: None,
            },
        )
    }

    /// Stops the server (SIGKILL) and starts it again on the same database.
    pub async fn restart(self) -> Self {
        self.restart_with(&[]).await
    }

    /// Stops the server (SIGKILL) and starts it again on the same database with `env`.
    pub async fn restart_with(self, env: &[(&str, &str)]) -> Self {
        let db = self.stop().await;
        Self::start(db, env).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn owner_key(&self) -> &str {
        self.owner_key
            .as_deref()
            .expect("owner key printed at first start")
    }

    pub fn operator_key(&self) -> &str {
        self.operator_key
            .as_deref()
            .expect("operator key printed at first start")
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        req.send().await.expect("request")
    }

    /// Creates an account through the operator API; returns its JSON (with `owner_api_key`).
    pub async fn create_account(&self, name: &str, email: &str) -> Value {
        let res = self
            .client
            .post(self.url("/admin/accounts"))
            .bearer_auth(self.operator_key())
            .json(&serde_json::json!({ "name": name, "owner_email": email }))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 201, "create account {name}");
        res.json().await.expect("json")
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Sends SIGTERM (a graceful stop) and waits up to 30 s for the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        self.wait_exit(Duration::from_secs(30)).await
    }

    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("server exits in time")
            .expect("wait")
    }
}

/// Runs one test body against SQLite and, when configured, PostgreSQL; optionally with extra
/// server environment: `on_both_backends!(env [("K", "V")]; test_a, test_b)`.
#[macro_export]
macro_rules! on_both_backends {
    (env $env:tt; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::support::{Backend, TestApp, TestDb};

                #[tokio::test]
                async fn sqlite() {
                    let db = TestDb::create(Backend::Sqlite).expect("sqlite always runs");
                    super::$name(TestApp::start(db, &$env).await).await;
                }

                #[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
                #[tokio::test]
                async fn postgres() {
                    if let Some(db) = TestDb::create(Backend::Postgres) {
                        super::$name(TestApp::start(db, &$env).await).await;
                    }
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(env []; $($name),*);
    };
}

impl TestApp {
    /// The id of the `default` account created at first start.
    pub async fn default_account_id(&self) -> String {
        let list: Value = self
            .get("/admin/accounts", Some(self.operator_key()))
            .await
            .json()
            .await
            .expect("json");
        list["accounts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["name"] == "default"))
            .and_then(|a| a["id"].as_str())
            .expect("default account")
            .to_owned()
    }

    /// Adds a member with `role` to `account` directly in the database (the team endpoints come
    /// later) and returns an API key for them.
    pub fn add_member(&self, account: &str, role: &str) -> String {
        use tenantry_kernel::{OsRandom, SystemClock, UserId};
        let user = UserId::generate(&SystemClock, &OsRandom).to_string();
        self.db.execute(&format!(
            "INSERT INTO users (id, email, created_at) VALUES ('{user}', '{role}-{}@example.test', 1)",
            &user[4..]
        ));
        self.add_membership(account, &user, role)
    }

    /// Makes an existing `user` a member of `account` with `role`, directly in the database, and
    /// returns an API key for them there.
    pub fn add_membership(&self, account: &str, user: &str, role: &str) -> String {
        use tenantry_kernel::{ApiKeyId, OsRandom, SystemClock};
        use tenantry_security::{ApiKeyEnv, IssuedApiKey};
        let key = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(&SystemClock, &OsRandom),
            &OsRandom,
        );
        self.db.execute(&format!(
            "INSERT INTO memberships (account_id, user_id, role, status, created_at) VALUES ('{account}', '{user}', '{role}', 'active', 1)"
        ));
        self.db.execute(&format!(
            "INSERT INTO api_keys (id, account_id, user_id, name, display_prefix, secret_hash, created_at) \
             VALUES ('{}', '{account}', '{user}', 'test', 'x', '{}', 1)",
            key.id,
            key.hash.to_hex()
        ));
        key.token().to_owned()
    }

    pub async fn put(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// The text of the first mail to `to` written as an `.eml` file (no SMTP configured),
    /// waiting for the outbox to write it.
    pub async fn wait_for_eml(&self, to: &str) -> String {
        self.wait_for_emls(to, 1).await.remove(0)
    }

    /// The texts of at least `count` mails to `to` written as `.eml` files, oldest first.
    /// The first mail to `to` that contains `needle`, waiting for it: other mail to the same
    /// address (notifications, set-up links) may arrive before or after it.
    pub async fn wait_for_eml_containing(&self, to: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut count = 1;
        loop {
            let mails = self.wait_for_emls(to, count).await;
            if let Some(found) = mails.iter().find(|m| m.contains(needle)) {
                return found.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no mail to {to} contains {needle:?}: {mails:?}"
            );
            count = mails.len() + 1;
        }
    }

    pub async fn wait_for_emls(&self, to: &str, count: usize) -> Vec<String> {
        let mail_dir = self.db.dir.join("mail");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let found = std::fs::read_dir(&mail_dir)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.path())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let mut found: Vec<(std::time::SystemTime, String)> = found
                .iter()
                .filter_map(|p| {
                    let modified = std::fs::metadata(p).and_then(|m| m.modified()).ok()?;
                    Some((modified, std::fs::read_to_string(p).ok()?))
                })
                .filter(|(_, eml)| eml.contains(&format!("To: {to}")))
                .collect();
            if found.len() >= count {
                found.sort();
                return found.into_iter().map(|(_, eml)| eml).collect();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no mail to {to} in {}",
                mail_dir.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Rows of a query's single text column, for checking what is stored.
    pub fn query_texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let sql = sql.to_owned();
        match &self.db.database_url {
            Some(url) => {
                let mut conn = PgConnection::establish(url).expect("connect");
                diesel::sql_query(sql)
                    .load::<Row>(&mut conn)
                    .expect("query")
                    .into_iter()
                    .map(|r| r.t)
                    .collect()
            }
            None => {
                let mut conn = sqlite(&self.db.sqlite_path());
                diesel::sql_query(sql)
                    .load::<Row>(&mut conn)
                    .expect("query")
                    .into_iter()
                    .map(|r| r.t)
                    .collect()
            }
        }
    }

    /// The server's log so far. The server writes its lines in batches (log_buffer.rs), so this
    /// first sends a request with a fresh id and waits for that request's line: every line
    /// logged before it has then been written too.
    pub async fn server_log(&self) -> String {
        static MARKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mark = format!(
            "logmark-{}-{}",
            std::process::id(),
            MARKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let res = self
            .client
            .get(self.url("/healthz"))
            .header("x-request-id", &mark)
            .send()
            .await
            .expect("request");
        assert!(res.status().is_success(), "{}", res.status());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(self.db.dir.join("server.log")).unwrap_or_default();
            if log.contains(&mark) {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "request {mark} did not reach the server's log within 10 s:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A real HTTP receiver on loopback for outbound deliveries: records each request and answers
/// with a fixed status and body.
pub struct Receiver {
    pub url: String,
    requests: std::sync::Arc<tokio::sync::Mutex<Vec<Received>>>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Receiver {
    pub async fn start(status: u16, reply: &'static str) -> Self {
        Self::scripted(vec![status], reply).await
    }

    /// Answers the n-th request with `statuses[n]` (the last one for every request after).
    pub async fn scripted(statuses: Vec<u16>, reply: &'static str) -> Self {
        Self::paced(statuses, Vec::new(), reply).await
    }

    /// Answers `200 ok`, but the first request only after `hold` (recorded on arrival): a
    /// sender is then mid-delivery for that long.
    pub async fn holding_first(hold: Duration) -> Self {
        Self::paced(vec![200], vec![hold, Duration::ZERO], "ok").await
    }

    /// As `scripted`, the n-th request answered after `delays[n]` (the last one for every
    /// request after; none when empty).
    async fn paced(statuses: Vec<u16>, delays: Vec<Duration>, reply: &'static str) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let status = statuses[n.min(statuses.len() - 1)];
                let delay = delays
                    .get(n.min(delays.len().saturating_sub(1)))
                    .copied()
                    .unwrap_or(Duration::ZERO);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read the head, then as much body as Content-Length says.
                    let (head_end, length) = loop {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            break (pos + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("")
                        .to_owned();
                    let headers = lines
                        .filter_map(|l| {
                            l.split_once(':')
                                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        })
                        .collect();
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    log.lock().await.push(Received {
                        path,
                        headers,
                        body,
                    });
                    tokio::time::sleep(delay).await;
                    let response = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}", reply.len());
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { url, requests }
    }

    pub async fn received(&self) -> Vec<Received> {
        self.requests.lock().await.clone()
    }
}

/// One request with a bearer key and an optional JSON body; the status and the JSON answer
/// (`null` when the body is empty or not JSON).
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A TOTP second factor enrolled through the API: its seed and the backup codes the
/// confirmation returned.
pub struct TotpEnrolment {
    pub secret: String,
    pub backup_codes: Vec<String>,
}

/// Enrols a TOTP second factor for `key`'s user: `POST /api/user/mfa/enable` (with the user's
/// `password` when the credential must prove it; a sign-in confined to enrolling need not),
/// then `/verify` with the previous 30-second step's code, so the current step's code is still
/// unused for a sign-in that follows.
pub async fn enrol_totp(app: &TestApp, key: &str, password: Option<&str>) -> TotpEnrolment {
    let mut body = serde_json::json!({ "method": "totp" });
    if let Some(password) = password {
        body["password"] = password.into();
    }
    let (status, doc) = call(
        app,
        reqwest::Method::POST,
        "/api/user/mfa/enable",
        key,
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "enabling TOTP: {doc}");
    let secret = doc["data"]["secret"].as_str().expect("secret").to_owned();
    let enrollment = doc["data"]["enrollment_id"]
        .as_str()
        .expect("enrollment id")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let previous = tenantry_security::code_for(&secret, now - 30).expect("code");
    let (status, doc) = call(
        app,
        reqwest::Method::POST,
        "/api/user/mfa/verify",
        key,
        Some(serde_json::json!({ "enrollment_id": enrollment, "code": previous })),
    )
    .await;
    assert_eq!(status, 200, "confirming TOTP: {doc}");
    let backup_codes = doc["data"]["backup_codes"]
        .as_array()
        .expect("backup codes")
        .iter()
        .map(|c| c.as_str().expect("a backup code").to_owned())
        .collect();
    TotpEnrolment {
        secret,
        backup_codes,
    }
}

/// The repository root (this test binary belongs to crates/server).
pub fn workspace() -> PathBuf {
    // The package directory at run time: the checkout under test, even when this binary was
    // built, unchanged, from another checkout sharing the target directory.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// Every operation `/openapi.json` lists: (METHOD, path template, operation object).
pub async fn served_operations(app: &TestApp) -> Vec<(String, String, Value)> {
    let doc: Value = app
        .get("/openapi.json", None)
        .await
        .json()
        .await
        .expect("json");
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .iter()
                .map(move |(method, op)| (method.to_uppercase(), path.clone(), op.clone()))
        })
        .collect()
}

/// A webhook channel to `receiver` and a rule sending `event` to it; the channel's id.
pub async fn webhook_sink(app: &TestApp, key: &str, receiver: &Receiver, event: &str) -> String {
    let (status, channel) = call(
        app,
        reqwest::Method::POST,
        "/api/notifications/channels",
        key,
        Some(serde_json::json!({
            "type": "webhook", "name": "sink", "config": { "url": format!("{}/sink", receiver.url) }
        })),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let id = channel["data"]["id"]
        .as_str()
        .expect("channel id")
        .to_owned();
    let (status, rule) = call(
        app,
        reqwest::Method::POST,
        "/api/notifications/rules",
        key,
        Some(serde_json::json!({ "name": event, "event": event, "channel_ids": [id] })),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    id
}

/// The first link token with `prefix` (`tnt_inv_`, `tnt_pwr_`) in a mail's text.
pub fn token_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} token in:\n{text}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A test run leaves nothing in the system's temporary directory: a PostgreSQL variant skipped
/// for want of a cluster makes no directory, and a database's directory goes with it.
#[tokio::test]
async fn test_databases_leave_no_directory_behind() {
    let unique = format!("leftover-check-{}", ulid::Ulid::new()).to_ascii_lowercase();
    let dir = std::env::temp_dir().join(format!("tenantry-e2e-{unique}"));
    assert!(TestDb::create_named(Backend::Postgres, None, &unique).is_none());
    assert!(!dir.exists(), "a skipped variant left {}", dir.display());
    let db = TestDb::create_named(Backend::Sqlite, None, &unique).expect("sqlite");
    assert!(dir.is_dir());
    let app = TestApp::start(db, &[]).await;
    drop(app);
    assert!(!dir.exists(), "a finished test left {}", dir.display());
}

impl TestApp {
    /// Redeems a portal link the way the console's "Continue" does: one call of the portal
    /// service, built on this server's database and master key, in this process (for tests of
    /// the session itself; console_portal.rs redeems through the page). The session it opens
    /// is then used over HTTP like any other.
    pub fn redeem_portal_link(
        &self,
        url: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<tenantry_security::RedeemedPortalLink, tenantry_security::SecurityError> {
        use std::sync::Arc;
        use tenantry_kernel::{OsRandom, SystemClock};
        let token = url
            .rsplit('/')
            .next()
            .expect("a token at the end of the url");
        let config = match &self.db.database_url {
            Some(url) => tenantry_store::StoreConfig::from_url(url).expect("database url"),
            None => tenantry_store::StoreConfig::sqlite(self.db.sqlite_path()),
        };
        let store = Arc::new(tenantry_store::Store::open(&config).expect("open the database"));
        let key = std::fs::read_to_string(self.db.dir.join("master.key")).expect("master key");
        let secrets = tenantry_security::SecretBox::from_base64(key.trim()).expect("key");
        let settings = Arc::new(tenantry_settings::SettingsService::new(
            store.clone(),
            secrets.clone(),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
        ));
        // The security policy and the allowlist as tenantry-services bridges them.
        let policy = Arc::new(tenantry_services::SecurityPolicyOfSettings {
            settings: settings.clone(),
            allowlist: Arc::new(tenantry_security::AllowlistEnforcement::new(
                tenantry_security::AllowlistDeps {
                    source: Arc::new(tenantry_services::AllowlistOfSettings { settings }),
                    audit: store.clone(),
                    cache: Arc::default(),
                    clock: Arc::new(SystemClock),
                    random: Arc::new(OsRandom),
                },
            )),
        });
        let mfa = Arc::new(tenantry_security::MfaService::new(
            store.clone(),
            secrets,
            Arc::new(SystemClock),
            Arc::new(OsRandom),
        ));
        let minters = Arc::new(tenantry_security::PortalMinters::new(
            tenantry_security::PortalMinterDeps {
                links: store.clone(),
                credentials: store.clone(),
                sessions: store.clone(),
                policy: policy.clone(),
                clock: Arc::new(SystemClock),
                random: Arc::new(OsRandom),
            },
        ));
        tenantry_security::PortalLinkService::new(
            tenantry_security::PortalDeps {
                store,
                policy: policy.clone(),
                origins: policy,
                mfa,
                minters,
                clock: Arc::new(SystemClock),
                random: Arc::new(OsRandom),
            },
            tenantry_security::PortalConfig {
                public_url: self.base.clone(),
                return_origins: tenantry_security::ReturnOrigins::default(),
                lifetime: chrono::Duration::minutes(5),
            },
        )
        .redeem(token, ip)
    }
}
