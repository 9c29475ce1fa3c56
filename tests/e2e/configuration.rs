//! The TOML configuration file: its values reach the server, the environment overrides them,
//! `config check` names every bad key, `config print` masks secrets.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::support::{call, Backend, TestApp, TestDb, BIN};

#[tokio::test]
async fn file_values_apply_under_the_environment() {
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    let file = db.dir.join("tenantry.toml");
    // A body limit small enough to observe, and a per-key rate limit that the environment
    // overrides (the file's 1 a minute would refuse the second request).
    std::fs::write(&file, "body_limit = 300\nrate_limit_per_key = 1\n").expect("write config");
    let file = file.to_str().expect("utf-8").to_owned();
    let app = TestApp::start(
        db,
        &[
            ("TENANTRY_CONFIG", &file),
            ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
        ],
    )
    .await;
    let owner = app.owner_key().to_owned();
    let small = json!({ "theme": "dark" });
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/preferences",
        &owner,
        Some(small),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let large = json!({ "theme": "dark", "pad": "x".repeat(400) });
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/preferences",
        &owner,
        Some(large),
    )
    .await;
    assert_eq!(status, 413, "the file's body_limit applies: {body}");
    for _ in 0..3 {
        let (status, _) = call(&app, Method::GET, "/v2/accounts/settings", &owner, None).await;
        assert_eq!(
            status, 200,
            "the environment's rate limit (off) overrides the file's"
        );
    }
}

#[tokio::test]
async fn config_check_names_every_bad_key_and_print_masks_secrets() {
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    let dir = db.dir.clone();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "bind = \"nowhere\"\ncolour = \"blue\"\nlog = \"xml\"\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&bad)
        .env_remove("TENANTRY_CONFIG")
        .output()
        .expect("run config check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad file is refused");
    for key in ["key `bind`", "unknown key `colour`", "key `log`"] {
        assert!(stderr.contains(key), "{key} not named in:\n{stderr}");
    }

    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "bind = \"127.0.0.1:9000\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\n\
         database_url = \"postgres://svc:hunter2-secret@db.internal/tenantry\"\n\
         operator_key = \"tnt_op_file-secret-value-Zq81xK3mWp7\"\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&good)
        .output()
        .expect("run config check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(BIN)
        .args(["config", "print", "--config"])
        .arg(&good)
        .args(["--", "--workers", "3"])
        .env("TENANTRY_BODY_LIMIT", "1000")
        .env_remove("TENANTRY_WORKERS")
        .output()
        .expect("run config print");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "bind = \"127.0.0.1:9000\"  # file",
        "trusted_proxies = \"10.0.0.0/8,192.168.0.0/16\"  # file",
        "body_limit = \"1000\"  # environment",
        "workers = \"3\"  # flag",
        "database_url = \"postgres://svc:********@db.internal/tenantry\"  # file",
        "operator_key = \"********\"  # file",
    ] {
        assert!(printed.contains(line), "{line} missing from:\n{printed}");
    }
    assert!(
        !printed.contains("hunter2") && !printed.contains("file-secret"),
        "secrets shown:\n{printed}"
    );
}

#[tokio::test]
async fn an_outbound_ca_file_that_holds_no_certificate_stops_the_check_and_the_start() {
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    let not_pem = db.dir.join("not-a-ca.pem");
    std::fs::write(&not_pem, "this is no certificate\n").expect("write");
    let missing = db.dir.join("missing.pem");
    for (file, why) in [
        (&not_pem, "holds no PEM certificate"),
        (&missing, "cannot read"),
    ] {
        let out = Command::new(BIN)
            .args(["config", "check"])
            .env_remove("TENANTRY_CONFIG")
            .env("TENANTRY_OUTBOUND_CA_FILE", file)
            .output()
            .expect("run config check");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{why}: refused");
        assert!(
            stderr.contains("TENANTRY_OUTBOUND_CA_FILE") && stderr.contains(why),
            "{why} not named in:\n{stderr}"
        );
        let out = db
            .command(&["serve"])
            .env("TENANTRY_BIND", "127.0.0.1:0")
            .env("TENANTRY_OUTBOUND_CA_FILE", file)
            .output()
            .await
            .expect("run serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{why}: serve does not start");
        assert!(stderr.contains("TENANTRY_OUTBOUND_CA_FILE"), "{stderr}");
    }
    // The CA of the branding tests is a good bundle.
    let out = Command::new(BIN)
        .args(["config", "check"])
        .env_remove("TENANTRY_CONFIG")
        .env(
            "TENANTRY_OUTBOUND_CA_FILE",
            crate::console_branding::ca_file(),
        )
        .output()
        .expect("run config check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
