//! `tenantry backup` and `tenantry restore` (SQLite): a copy made while a server is being
//! written to through HTTP restores into a fresh directory, passes `tenantry check`, and every
//! account reads the same as in the database it was copied from.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{Backend, TestApp, TestDb};

/// Runs the binary on `db`; (success, stdout, stderr).
async fn run(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = db.command(args).output().await.expect("run tenantry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh data directory holding only the service's master key (which a backup leaves out,
/// on purpose: docs/operations.md).
fn fresh_directory_with_key_of(db: &TestDb) -> TestDb {
    let fresh = TestDb::create(Backend::Sqlite).expect("sqlite");
    std::fs::copy(db.dir.join("master.key"), fresh.dir.join("master.key")).expect("copy key");
    fresh
}

/// What an operator reads of every account: the list, each account's settings and audit log
/// (without the request audit's entries, which the server writes in the background).
async fn every_account(db: &TestDb) -> Vec<(String, Value, String)> {
    let (ok, list, stderr) = run(db, &["accounts", "list"]).await;
    assert!(ok, "{stderr}");
    let mut out = Vec::new();
    for line in list.lines() {
        let name = line.split('\t').nth(1).expect("name column").to_owned();
        let (ok, export, stderr) = run(db, &["export", "--account", &name]).await;
        assert!(ok, "export {name}: {stderr}");
        let export: Value = serde_json::from_str(&export).expect("export json");
        let (ok, audit, stderr) = run(
            db,
            &[
                "audit",
                "tail",
                "--account",
                &name,
                "--lines",
                "1000",
                "--without-requests",
            ],
        )
        .await;
        assert!(ok, "audit {name}: {stderr}");
        out.push((line.to_owned(), export["export"]["settings"].clone(), audit));
    }
    out
}

fn backup_path(app: &TestApp, name: &str) -> String {
    app.db.dir.join(name).to_str().expect("utf-8").to_owned()
}

#[tokio::test]
async fn a_backup_under_writes_restores_into_a_fresh_directory_and_reads_the_same() {
    let app = TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await;
    let app = Arc::new(app);
    for i in 0..3 {
        app.create_account(&format!("before{i}"), &format!("before{i}@example.com"))
            .await;
    }

    // Two writers through HTTP: settings changes and new accounts, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let settings_writer = {
        let (app, stop, writes) = (app.clone(), stop.clone(), writes.clone());
        tokio::spawn(async move {
            let zones = ["Europe/London", "America/New_York", "Asia/Tokyo"];
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let res = app
                    .put(
                        "/v2/accounts/settings/billing",
                        app.owner_key(),
                        &json!({ "timezone": zones[n % zones.len()] }),
                    )
                    .await;
                assert_eq!(res.status(), 200);
                writes.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    let account_writer = {
        let (app, stop, writes) = (app.clone(), stop.clone(), writes.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                app.create_account(&format!("during{n}"), &format!("during{n}@example.com"))
                    .await;
                writes.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = writes.load(Ordering::Relaxed);
    let under_writes = backup_path(&app, "under-writes.db");
    let (ok, stdout, stderr) = run(&app.db, &["backup", &under_writes]).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("backup written"), "{stdout}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&under_writes)
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the backup is its owner's only");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    settings_writer.await.expect("settings writer");
    account_writer.await.expect("account writer");
    assert!(
        writes.load(Ordering::Relaxed) > before,
        "the server was written to while the backup ran"
    );
    // A backup never replaces a file.
    let (ok, _, stderr) = run(&app.db, &["backup", &under_writes]).await;
    assert!(!ok);
    assert!(stderr.contains("exists"), "{stderr}");

    // The copy made under writes restores and checks in a fresh directory.
    let fresh = fresh_directory_with_key_of(&app.db);
    let (ok, stdout, stderr) = run(&fresh, &["restore", &under_writes]).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("no problems"), "{stdout}");
    let (ok, stdout, stderr) = run(&fresh, &["check"]).await;
    assert!(ok, "{stdout}\n{stderr}");
    let restored = every_account(&fresh).await;
    assert!(restored.len() >= 4, "{} accounts", restored.len());

    // Once the writes stopped, a second backup restores to exactly what the server holds.
    let quiet = backup_path(&app, "quiet.db");
    let (ok, _, stderr) = run(&app.db, &["backup", &quiet]).await;
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&fresh, &["restore", &quiet]).await;
    assert!(
        !ok,
        "a database with accounts is replaced only with --force"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    let (ok, stdout, stderr) = run(&fresh, &["restore", "--force", &quiet]).await;
    assert!(ok, "{stdout}\n{stderr}");
    let (ok, _, stderr) = run(&fresh, &["check"]).await;
    assert!(ok, "{stderr}");
    let live = every_account(&app.db).await;
    assert_eq!(every_account(&fresh).await, live);
    assert!(
        live.len() > restored.len(),
        "writes after the first backup are in the second"
    );
}

#[tokio::test]
async fn a_restore_without_the_master_key_replaces_nothing() {
    let app = TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await;
    let file = backup_path(&app, "backup.db");
    let (ok, _, stderr) = run(&app.db, &["backup", &file]).await;
    assert!(ok, "{stderr}");
    let fresh = TestDb::create(Backend::Sqlite).expect("sqlite");
    let (ok, _, stderr) = run(&fresh, &["restore", &file]).await;
    assert!(!ok);
    assert!(stderr.contains("master.key"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&fresh.dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "nothing created: {left:?}");
    assert!(!Path::new(&fresh.sqlite_path()).exists());
}

#[tokio::test]
async fn backup_and_restore_of_postgresql_name_pg_dump() {
    // Pointed at a PostgreSQL URL, nothing is attempted (no connection is made either).
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    for args in [
        &["backup", "/nonexistent/x.db"][..],
        &["restore", "/nonexistent/x.db"][..],
    ] {
        let out = db
            .command(args)
            .env("DATABASE_URL", "postgres://u:pw@127.0.0.1:1/none")
            .output()
            .await
            .expect("run");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("pg_dump"), "{stderr}");
        assert!(!stderr.contains("pw@"), "{stderr}");
    }
}
