//! Keys: envelope encryption (decision 0027). `keys rotate` beside a running server loses no
//! secret and no delivery; values sealed before envelope encryption still open and move on
//! re-seal; a wrong or missing master key is refused, naming the key id, instead of creating a
//! key that opens nothing; the master key changes with the previous one accepted meanwhile.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, Backend, Received, Receiver, TestApp, TestDb};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ENV: [(&str, &str); 2] = [
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
];

/// Runs the binary to completion on `db` with `env`: (success, stdout, stderr).
async fn run(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = db.command(args);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("`tenantry {}` did not exit in time", args.join(" ")))
        .expect("run tenantry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `keys status` as (id, state, values) rows (data keys) and (id, values) rows (others).
async fn key_status(db: &TestDb, env: &[(&str, &str)]) -> Vec<(String, String, u64)> {
    let (ok, out, err) = run(db, &["keys", "status"], env).await;
    assert!(ok, "{err}");
    out.lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (
                cols[0].to_owned(),
                cols[2].to_owned(),
                cols[3].parse().expect("a count"),
            )
        })
        .collect()
}

async fn put_secrets(app: &TestApp, key: &str) {
    let res = app
        .put(
            "/v2/accounts/settings/integrations",
            key,
            &json!({
                "github": {"access_token": "ghp_ROTATEME"},
                "docker": {"registries": [{"url": "ghcr.io", "access_token": "dckr_ROTATE"}]}
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// The secrets an export with secrets shows (panics unless it answers 200).
async fn exported_tokens(app: &TestApp, key: &str) -> (Value, Value) {
    let res = app
        .get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(key),
        )
        .await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    let i = &doc["export"]["settings"]["integrations"];
    (
        i["github"]["access_token"].clone(),
        i["docker"]["registries"][0]["access_token"].clone(),
    )
}

fn signed_with(r: &Received, secret: &str) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let (Some(id), Some(ts), Some(sig)) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    ) else {
        return false;
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    sig.split(' ').any(|s| s == format!("v1,{expected}"))
}

async fn wait_requests(receiver: &Receiver, n: usize) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = receiver.received().await;
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} deliveries, got {}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post_event(app: &TestApp, key: &str, n: u32) {
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/notifications/events",
        key,
        Some(json!({ "event": "keys.test", "data": { "n": n } })),
    )
    .await;
    assert_eq!(status, 202, "{doc}");
}

/// Every sealed value stored, by the key id it names.
fn sealed_key_ids(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for text in app
        .query_texts("SELECT document AS t FROM settings_documents")
        .into_iter()
        .chain(app.query_texts("SELECT document AS t FROM settings_history"))
    {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("_sealed\":\"") {
            rest = &rest[at + 10..];
            ids.push(rest.split('.').take(2).collect::<Vec<_>>().join("."));
        }
    }
    for text in app.query_texts(
        "SELECT secret_sealed AS t FROM notification_channels WHERE secret_sealed IS NOT NULL",
    ) {
        ids.push(text.split('.').take(2).collect::<Vec<_>>().join("."));
    }
    ids
}

async fn keys_rotate_beside_a_running_server_loses_no_secret_and_no_delivery(app: TestApp) {
    let key = app.owner_key().to_owned();
    put_secrets(&app, &key).await;
    let receiver = Receiver::start(200, "ok").await;
    let (status, channel) = call(
        &app,
        Method::POST,
        "/api/notifications/channels",
        &key,
        Some(json!({ "type": "webhook", "name": "sink",
            "config": { "url": format!("{}/sink", receiver.url), "secret": SECRET } })),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let channel_id = channel["data"]["id"].as_str().expect("id").to_owned();
    let (status, rule) = call(
        &app,
        Method::POST,
        "/api/notifications/rules",
        &key,
        Some(json!({ "name": "all", "event": "keys.test", "channel_ids": [channel_id] })),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    post_event(&app, &key, 0).await;
    assert!(signed_with(&wait_requests(&receiver, 1).await[0], SECRET));

    let before = key_status(&app.db, &[]).await;
    assert_eq!(
        before.len(),
        1,
        "one data key from the first start: {before:?}"
    );
    let (old_id, state, _) = &before[0];
    assert_eq!(state, "sealing");
    let key_file = std::fs::read_to_string(app.db.dir.join("master.key")).expect("key file");

    // The CLI rotates beside the running server, re-sealing one row per batch; meanwhile the
    // server keeps opening secrets and signing deliveries.
    let mut rotate = app
        .db
        .command(&["keys", "rotate", "--batch", "1", "--settle-seconds", "3"]);
    rotate
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let rotation = tokio::spawn(async move { rotate.output().await.expect("run") });
    let mut n = 1;
    while !rotation.is_finished() {
        assert_eq!(
            exported_tokens(&app, &key).await,
            (json!("ghp_ROTATEME"), json!("dckr_ROTATE"))
        );
        post_event(&app, &key, n).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let out = rotation.await.expect("rotation");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("retired data key {old_id}")),
        "{stdout}"
    );

    // Every delivery arrived, each signed with the channel's secret.
    let got = wait_requests(&receiver, n as usize).await;
    assert!(got.iter().all(|r| signed_with(r, SECRET)));
    post_event(&app, &key, n).await;
    assert!(signed_with(
        &wait_requests(&receiver, n as usize + 1).await[n as usize],
        SECRET
    ));

    let after = key_status(&app.db, &[]).await;
    let new = after
        .iter()
        .find(|(_, state, _)| state == "sealing")
        .expect("a sealing key");
    assert_ne!(&new.0, old_id);
    assert!(new.2 >= 4, "the new key seals every value: {after:?}");
    assert!(
        after.contains(&(old_id.clone(), "retired".into(), 0)),
        "{after:?}"
    );
    let ids = sealed_key_ids(&app);
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| *id == format!("v2.{}", new.0)),
        "{ids:?}"
    );
    // The key-encryption key did not change: no key file was replaced.
    assert_eq!(
        std::fs::read_to_string(app.db.dir.join("master.key")).expect("key file"),
        key_file
    );
    let app = app.restart_with(&ENV).await;
    assert_eq!(
        exported_tokens(&app, &key).await,
        (json!("ghp_ROTATEME"), json!("dckr_ROTATE"))
    );
}

crate::on_both_backends!(
    env [("TENANTRY_OUTBOX_POLL_MS", "50"), ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")];
    keys_rotate_beside_a_running_server_loses_no_secret_and_no_delivery
);

/// A value sealed directly with the master key, as before envelope encryption.
fn legacy_sealed(key_file: &Path, plain: &str) -> String {
    use base64::Engine;
    let text = std::fs::read_to_string(key_file).expect("key file");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64");
    let key: [u8; 32] = bytes.try_into().expect("32 bytes");
    tenantry_security::SecretBox::new(&key)
        .seal(plain, &tenantry_kernel::OsRandom)
        .as_str()
        .to_owned()
}

async fn values_sealed_before_envelope_encryption_open_and_move_on_reseal(app: TestApp) {
    let key = app.owner_key().to_owned();
    put_secrets(&app, &key).await;
    let legacy = legacy_sealed(&app.db.dir.join("master.key"), "ghp_FROMBEFORE");
    assert!(legacy.starts_with("v1."));
    let kek_id = legacy.split('.').nth(1).expect("id").to_owned();
    let stored = app
        .query_texts("SELECT document AS t FROM settings_documents WHERE section = 'integrations'");
    let db = app.stop().await;
    // The stored value as an older version wrote it.
    let mut doc: Value = serde_json::from_str(&stored[0]).expect("json");
    doc["github"]["access_token_sealed"] = json!(legacy);
    db.execute(&format!(
        "UPDATE settings_documents SET document = '{}' WHERE section = 'integrations'",
        doc.to_string().replace('\'', "''")
    ));
    let app = TestApp::start(db, &ENV).await;
    let (github, _) = exported_tokens(&app, &key).await;
    assert_eq!(github, json!("ghp_FROMBEFORE"));
    let status = key_status(&app.db, &[]).await;
    assert!(
        status.iter().any(|(id, _, n)| *id == kek_id && *n >= 1),
        "{status:?}"
    );

    let (ok, out, err) = run(&app.db, &["keys", "reseal", "--batch", "2"], &[]).await;
    assert!(ok, "{out}\n{err}");
    let status = key_status(&app.db, &[]).await;
    assert!(!status.iter().any(|(id, _, _)| *id == kek_id), "{status:?}");
    assert!(sealed_key_ids(&app).iter().all(|id| id.starts_with("v2.")));
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_FROMBEFORE"));
}

crate::on_both_backends!(
    env [("TENANTRY_OUTBOX_POLL_MS", "50"), ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")];
    values_sealed_before_envelope_encryption_open_and_move_on_reseal
);

/// A key as `openssl rand -base64 32` prints one (not the test database's).
const OTHER_KEY: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=";

async fn a_wrong_or_missing_master_key_is_refused_naming_the_key(app: TestApp) {
    let key = app.owner_key().to_owned();
    put_secrets(&app, &key).await;
    let status = key_status(&app.db, &[]).await;
    let data_key = status[0].0.clone();
    let db = app.stop().await;

    // A wrong TENANTRY_MASTER_KEY: serve and check refuse, naming the data key.
    let env = [
        ("TENANTRY_MASTER_KEY", OTHER_KEY),
        ("TENANTRY_BIND", "127.0.0.1:0"),
    ];
    let (ok, _, err) = run(&db, &["serve"], &env).await;
    assert!(!ok);
    assert!(err.contains(&data_key), "{err}");
    assert!(err.contains("TENANTRY_MASTER_KEY_PREVIOUS"), "{err}");
    let (ok, out, err) = run(&db, &["check"], &env).await;
    assert!(!ok, "{out}");
    assert!(err.contains(&data_key), "{err}");

    // The database in a directory without its key file (a restore elsewhere): refused, and
    // no key file is created that would open nothing.
    let elsewhere = TestDb::create(db.backend).expect("backend available");
    if db.backend == Backend::Sqlite {
        for suffix in ["", "-wal"] {
            let from = db.dir.join(format!("tenantry.db{suffix}"));
            if from.exists() {
                std::fs::copy(&from, elsewhere.dir.join(format!("tenantry.db{suffix}")))
                    .expect("copy database");
            }
        }
    }
    let mut moved = elsewhere.sibling();
    moved.database_url = db.database_url.clone();
    let (ok, _, err) = run(&moved, &["serve"], &[("TENANTRY_BIND", "127.0.0.1:0")]).await;
    assert!(!ok);
    assert!(
        err.contains(&data_key) || err.contains("data keys"),
        "{err}"
    );
    assert!(err.contains("refusing to create a new master key"), "{err}");
    assert!(!moved.dir.join("master.key").exists());
    let (ok, _, err) = run(&moved, &["check"], &[]).await;
    assert!(!ok);
    assert!(err.contains(&data_key), "{err}");

    // With the right key it starts and opens everything.
    let app = TestApp::start(db, &ENV).await;
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_ROTATEME"));
    let (ok, out, err) = run(&app.db, &["check"], &[]).await;
    assert!(ok, "{out}\n{err}");
}

crate::on_both_backends!(
    env [("TENANTRY_OUTBOX_POLL_MS", "50"), ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")];
    a_wrong_or_missing_master_key_is_refused_naming_the_key
);

async fn the_master_key_changes_with_the_previous_one_accepted_meanwhile(app: TestApp) {
    let key = app.owner_key().to_owned();
    put_secrets(&app, &key).await;
    let old = std::fs::read_to_string(app.db.dir.join("master.key")).expect("key file");
    let old = old.trim().to_owned();
    let db = app.stop().await;

    // Environment: the new key as TENANTRY_MASTER_KEY, the old one as the previous.
    let during = [
        ("TENANTRY_MASTER_KEY", OTHER_KEY),
        ("TENANTRY_MASTER_KEY_PREVIOUS", old.as_str()),
    ];
    let app = TestApp::start(db, &[&ENV[..], &during[..]].concat()).await;
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_ROTATEME"));
    let (ok, out, err) = run(&app.db, &["keys", "rewrap"], &during).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("re-wrapped 1 data keys"), "{out}");
    let db = app.stop().await;
    // Afterwards the new key alone opens everything, and the old one alone nothing.
    let app = TestApp::start(db, &[&ENV[..], &during[..1]].concat()).await;
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_ROTATEME"));
    let db = app.stop().await;
    let (ok, _, err) = run(
        &db,
        &["serve"],
        &[
            ("TENANTRY_MASTER_KEY", &old),
            ("TENANTRY_BIND", "127.0.0.1:0"),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("dk_") && err.contains("TENANTRY_MASTER_KEY_PREVIOUS"),
        "{err}"
    );

    // Key file: the new key beside the old one, nothing overwritten. Back to the file first.
    let file = db.dir.join("master.key");
    std::fs::remove_file(&file).expect("remove");
    std::fs::write(&file, format!("{OTHER_KEY}\n")).expect("write");
    let (ok, out, err) = run(&db, &["keys", "rewrap"], &[]).await;
    assert!(ok, "{out}\n{err}");
    let previous = std::fs::read_to_string(db.dir.join("master.key.previous")).expect("kept");
    assert_eq!(previous.trim(), OTHER_KEY);
    let new = std::fs::read_to_string(&file).expect("key file");
    assert_ne!(new.trim(), OTHER_KEY);
    assert!(!db.dir.join("master.key.next").exists());
    // Run again while the previous key is kept: no new key, no file replaced.
    let (ok, out, err) = run(&db, &["keys", "rewrap"], &[]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("re-wrapped 0 data keys"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("key file"), new);
    assert_eq!(
        std::fs::read_to_string(db.dir.join("master.key.previous")).expect("kept"),
        previous
    );
    // Interrupted after re-wrapping, with the new key still in master.key.next: a second run
    // finishes the change with it, losing neither key.
    std::fs::remove_file(db.dir.join("master.key.previous")).expect("remove");
    std::fs::write(db.dir.join("master.key.next"), format!("{OTHER_KEY}\n")).expect("write");
    let (ok, out, err) = run(&db, &["keys", "rewrap"], &[]).await;
    assert!(ok, "{out}\n{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("key file").trim(),
        OTHER_KEY
    );
    assert_eq!(
        std::fs::read_to_string(db.dir.join("master.key.previous")).expect("kept"),
        new
    );
    let app = TestApp::start(db, &ENV).await;
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_ROTATEME"));
    let db = app.stop().await;
    // Once the previous key is removed, the new one alone is enough.
    std::fs::remove_file(db.dir.join("master.key.previous")).expect("remove");
    let app = TestApp::start(db, &ENV).await;
    assert_eq!(exported_tokens(&app, &key).await.0, json!("ghp_ROTATEME"));
}

crate::on_both_backends!(
    env [("TENANTRY_OUTBOX_POLL_MS", "50"), ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")];
    the_master_key_changes_with_the_previous_one_accepted_meanwhile
);

/// The signing secret a channel changes to (24 bytes, as `whsec_` secrets are).
const NEW_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";

/// A webhook channel's changed signing secret: for the overlap, deliveries carry both
/// signatures and a receiver verifies with either secret; afterwards only the new one signs.
async fn a_changed_webhook_secret_keeps_signing_for_the_overlap(app: TestApp) {
    let key = app.owner_key().to_owned();
    let receiver = Receiver::start(200, "ok").await;
    let url = format!("{}/sink", receiver.url);
    let (status, channel) = call(
        &app,
        Method::POST,
        "/api/notifications/channels",
        &key,
        Some(json!({ "type": "webhook", "name": "sink", "config": { "url": url, "secret": SECRET } })),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let id = channel["data"]["id"].as_str().expect("id").to_owned();
    let (status, rule) = call(
        &app,
        Method::POST,
        "/api/notifications/rules",
        &key,
        Some(json!({ "name": "all", "event": "keys.test", "channel_ids": [id] })),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    post_event(&app, &key, 0).await;
    let first = wait_requests(&receiver, 1).await;
    assert!(signed_with(&first[0], SECRET) && !signed_with(&first[0], NEW_SECRET));

    let (status, changed) = call(
        &app,
        Method::PUT,
        &format!("/api/notifications/channels/{id}"),
        &key,
        Some(json!({ "config": { "url": url, "secret": NEW_SECRET } })),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let changed_at = tokio::time::Instant::now();
    post_event(&app, &key, 1).await;
    let during = &wait_requests(&receiver, 2).await[1];
    assert!(signed_with(during, NEW_SECRET), "{during:?}");
    assert!(signed_with(during, SECRET), "{during:?}");
    assert_eq!(
        during
            .header("webhook-signature")
            .expect("signed")
            .split(' ')
            .count(),
        2
    );

    // After the overlap (4 s here), only the new secret signs.
    tokio::time::sleep_until(changed_at + Duration::from_secs(5)).await;
    post_event(&app, &key, 2).await;
    let after = &wait_requests(&receiver, 3).await[2];
    assert!(signed_with(after, NEW_SECRET), "{after:?}");
    assert!(!signed_with(after, SECRET), "{after:?}");
}

crate::on_both_backends!(
    env [
        ("TENANTRY_OUTBOX_POLL_MS", "50"),
        ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ("TENANTRY_WEBHOOK_SECRET_OVERLAP", "4")
    ];
    a_changed_webhook_secret_keeps_signing_for_the_overlap
);
