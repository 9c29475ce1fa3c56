use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Backend, TestApp, TestDb};

async fn first_start_prints_keys_once_and_restart_keeps_everything(app: TestApp) {
    let owner_key = app.owner_key().to_owned();
    let operator_key = app.operator_key().to_owned();
    assert!(
        app.stdout.iter().any(|l| l.contains("default")),
        "{:?}",
        app.stdout
    );
    app.create_account("acme", "jane@acme.test").await;

    let app = app.restart().await;
    // Nothing is printed again: no new account, no new operator key.
    assert_eq!(app.owner_key, None, "{:?}", app.stdout);
    assert_eq!(app.operator_key, None, "{:?}", app.stdout);
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&owner_key))
            .await
            .status(),
        200
    );
    let list: Value = app
        .get("/admin/accounts", Some(&operator_key))
        .await
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = list["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["default", "acme"]);
}

async fn readyz_reports_the_database(app: TestApp) {
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], json!("ready"));
    assert_eq!(app.get("/healthz", None).await.status(), 200);

    match app.db.backend {
        Backend::Sqlite => std::fs::remove_file(app.db.sqlite_path()).expect("remove db"),
        Backend::Postgres => app.db.drop_pg_database(),
    }
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], json!("unavailable"));
    // Liveness is unaffected.
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

async fn sigterm_stops_the_server_gracefully(mut app: TestApp) {
    let exit = app.terminate().await;
    assert!(exit.success(), "{exit:?}");
}

/// Log lines are buffered (log_buffer.rs): a line still reaches the log while the server runs,
/// and a graceful stop writes what is left, down to the last line.
async fn buffered_log_lines_are_written_while_running_and_at_stop(mut app: TestApp) {
    // `server_log` waits for its own request's line, which the flushing thread must write.
    let log = app.server_log().await;
    assert!(log.contains("listening"), "{log}");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "last-before-stop")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let exit = app.terminate().await;
    assert!(exit.success(), "{exit:?}");
    let log = std::fs::read_to_string(app.db.dir.join("server.log")).expect("log");
    assert!(log.contains("last-before-stop"), "{log}");
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains("shut down"),
        "the last line is written: {last}"
    );
}

async fn configured_operator_key_is_used_and_not_generated(app: TestApp) {
    let db = TestDb::create(app.db.backend).expect("same backend as the running test");
    drop(app);
    let app = TestApp::start(
        db,
        &[(
            "TENANTRY_OPERATOR_KEY",
            "q8N0c7w1Vb5Xr2Lk9Yz3Tp6Hj4Ms0Ae1Gd7Uf2Wi5Ro=",
        )],
    )
    .await;
    assert_eq!(app.operator_key, None, "{:?}", app.stdout);
    assert_eq!(
        app.get(
            "/admin/accounts",
            Some("q8N0c7w1Vb5Xr2Lk9Yz3Tp6Hj4Ms0Ae1Gd7Uf2Wi5Ro=")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.get("/admin/accounts", Some("op-secret-wrong"))
            .await
            .status(),
        401
    );
}

async fn bootstrap_command_creates_an_account_once(app: TestApp) {
    let run = |args: &'static [&'static str]| {
        let mut cmd = app.db.command(args);
        async move { cmd.output().await.expect("run tenantry") }
    };
    let out = run(&[
        "bootstrap",
        "--account",
        "acme",
        "--owner-email",
        "jane@acme.test",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("owner API key:"))
        .map(|k| k.trim().to_owned())
        .expect("key printed");
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&key)).await.status(),
        200
    );

    let again = run(&[
        "bootstrap",
        "--account",
        "acme",
        "--owner-email",
        "x@acme.test",
    ])
    .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let bad = run(&[
        "bootstrap",
        "--account",
        "Not A Slug",
        "--owner-email",
        "x@acme.test",
    ])
    .await;
    assert!(!bad.status.success());

    // `accounts create` is the same command; `accounts list` shows every account.
    let out = run(&[
        "accounts",
        "create",
        "--account",
        "beta",
        "--owner-email",
        "b@beta.test",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["accounts", "list"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(names, ["default", "acme", "beta"], "{listed}");

    // `audit tail`: the newest entries, oldest first, one JSON object a line.
    let res = app
        .put(
            "/v2/accounts/settings/preferences",
            &key,
            &serde_json::json!({"theme": "dark"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let out = run(&["audit", "tail", "--account", "acme", "--lines", "5"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines.first().map(|e| e["action"].clone()),
        Some(serde_json::json!("account.created"))
    );
    assert!(
        lines.iter().any(|e| e["action"] == "preferences.updated"),
        "{lines:?}"
    );
    let out = run(&["audit", "tail", "--account", "nope"]).await;
    assert!(!out.status.success());
}

on_both_backends!(
    first_start_prints_keys_once_and_restart_keeps_everything,
    readyz_reports_the_database,
    sigterm_stops_the_server_gracefully,
    buffered_log_lines_are_written_while_running_and_at_stop,
    configured_operator_key_is_used_and_not_generated,
    bootstrap_command_creates_an_account_once,
);

async fn key_rotation_reencrypts_every_secret(app: TestApp) {
    let key = app.owner_key().to_owned();
    let res = app
        .put(
            "/v2/accounts/settings/integrations",
            &key,
            &serde_json::json!({
                "github": {"access_token": "ghp_ROTATEME"},
                "docker": {"registries": [{"url": "ghcr.io", "access_token": "dckr_ROTATE"}]}
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let old_key = std::fs::read_to_string(app.db.dir.join("master.key")).expect("key file");
    let old_id_docs = app
        .query_texts("SELECT document AS t FROM settings_documents WHERE section = 'integrations'");
    let db = app.stop().await;

    let out = db
        .command(&["keys", "rotate", "--settle-seconds", "0"])
        .output()
        .await
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("re-sealed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A new data key, not a new key file: the key-encryption key is changed by `keys rewrap`.
    let new_key = std::fs::read_to_string(db.dir.join("master.key")).expect("key file");
    assert_eq!(old_key, new_key);

    let app = TestApp::start(db, &[]).await;
    let docs = app
        .query_texts("SELECT document AS t FROM settings_documents WHERE section = 'integrations'");
    assert_ne!(docs, old_id_docs, "ciphertexts changed");
    let exported: Value = app
        .get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    let integrations = &exported["export"]["settings"]["integrations"];
    assert_eq!(integrations["github"]["access_token"], "ghp_ROTATEME");
    assert_eq!(
        integrations["docker"]["registries"][0]["access_token"],
        "dckr_ROTATE"
    );
    // History rows were re-sealed too: a rollback to the version with the secret still opens.
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/integrations/rollback"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"version": 2}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let exported: Value = app
        .get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        exported["export"]["settings"]["integrations"]["github"]["access_token"],
        "ghp_ROTATEME"
    );
}

on_both_backends!(key_rotation_reencrypts_every_secret);

/// `audit tail` filters by action, actor and time, leaves out the request audit on request, and
/// follows new entries as they are written.
async fn audit_tail_filters_and_follows(app: TestApp) {
    use tokio::io::AsyncBufReadExt;
    let key = app.owner_key().to_owned();
    let prefs = |theme: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let res = app
                .put(
                    "/v2/accounts/settings/preferences",
                    &key,
                    &json!({ "theme": theme }),
                )
                .await;
            assert_eq!(res.status(), 200);
        }
    };
    prefs("dark").await;
    let run = |args: Vec<&str>| {
        let mut cmd = app.db.command(&args);
        async move { cmd.output().await.expect("run tenantry") }
    };
    let lines = |out: &std::process::Output| -> Vec<Value> {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    let base = ["audit", "tail", "--account", "default", "--lines", "100"];
    let only = lines(&run([&base[..], &["--action", "preferences.updated"]].concat()).await);
    assert!(!only.is_empty());
    assert!(
        only.iter().all(|e| e["action"] == "preferences.updated"),
        "{only:?}"
    );
    let without = lines(&run([&base[..], &["--without-requests"]].concat()).await);
    assert!(
        without.iter().all(|e| e["action"] != "api.request"),
        "{without:?}"
    );
    assert!(without.iter().any(|e| e["action"] == "preferences.updated"));
    let actor = only[0]["actor"].as_str().expect("actor").to_owned();
    let by = lines(&run([&base[..], &["--actor", actor.as_str()]].concat()).await);
    assert!(
        !by.is_empty() && by.iter().all(|e| e["actor"] == actor),
        "{by:?}"
    );
    let future = lines(&run([&base[..], &["--since", "2999-01-01T00:00:00Z"]].concat()).await);
    assert!(future.is_empty(), "{future:?}");
    let bad = run([&base[..], &["--since", "yesterday"]].concat()).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));

    // --follow: the newest matching entry, then each new one as it is written.
    let mut follow = app.db.command(&[
        "audit",
        "tail",
        "--account",
        "default",
        "--lines",
        "1",
        "--action",
        "preferences.updated",
        "--follow",
    ]);
    let mut child = follow
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let wait = std::time::Duration::from_secs(20);
    let first = tokio::time::timeout(wait, out.next_line())
        .await
        .expect("a line within 20 s")
        .expect("read")
        .expect("not at end");
    let first: Value = serde_json::from_str(&first).expect("json");
    assert_eq!(first["action"], "preferences.updated");
    prefs("light").await;
    let second = tokio::time::timeout(wait, out.next_line())
        .await
        .expect("a line within 20 s")
        .expect("read")
        .expect("not at end");
    let second: Value = serde_json::from_str(&second).expect("json");
    assert_eq!(second["action"], "preferences.updated");
    assert_ne!(second["id"], first["id"]);
    child.kill().await.expect("stop following");
}

on_both_backends!(audit_tail_filters_and_follows);
