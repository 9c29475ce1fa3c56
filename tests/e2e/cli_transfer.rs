//! `tenantry export` / `tenantry import`: the HTTP export's format from the command line, the
//! operator acting with the owner's rights and audited as `operator:cli`; all or nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(export_and_import_from_the_command_line);

async fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    app.db.command(args).output().await.expect("run tenantry")
}

async fn export_and_import_from_the_command_line(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let secret = "whsec-cli-transfer-secret-5b1f";
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/billing",
        &owner,
        Some(json!({ "currency": "EUR" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/notifications",
        &owner,
        Some(json!({ "webhook": { "enabled": true, "url": "https://hooks.example.com/t", "secret": secret } })),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Export: the HTTP envelope, secrets masked unless asked for.
    let out = run(&app, &["export", "--account", "default"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported: Value = serde_json::from_slice(&out.stdout).expect("export is JSON");
    assert_eq!(exported["export"]["settings"]["billing"]["currency"], "EUR");
    assert_eq!(
        exported["export"]["settings"]["notifications"]["webhook"]["secret"],
        json!({ "configured": true })
    );
    assert_eq!(
        exported["export"]["metadata"]["exported_by"],
        "operator:cli"
    );
    let (_, http) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/export",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        exported["export"]["settings"], http["export"]["settings"],
        "same document as the HTTP export"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));

    let out = run(
        &app,
        &[
            "export",
            "--account",
            "default",
            "--include-secrets",
            "--format",
            "yaml",
            "--sections",
            "notifications",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains(secret) && !yaml.contains("billing:"),
        "{yaml}"
    );

    // Import the edited export: applied, audited as the operator.
    let mut edited = exported.clone();
    edited["export"]["settings"]["billing"]["currency"] = json!("GBP");
    let file = app.db.dir.join("export.json");
    std::fs::write(&file, serde_json::to_vec(&edited).expect("json")).expect("write");
    let path = file.to_str().expect("utf-8");
    let out = run(
        &app,
        &["import", "--account", "default", "--validate-only", path],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, billing) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/billing",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        billing["currency"], "EUR",
        "--validate-only changes nothing"
    );
    let out = run(&app, &["import", "--account", "default", path]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert!(
        summary["sections"]["billing"]["version"].is_number(),
        "{summary}"
    );
    let mut billing = Value::Null;
    for _ in 0..50 {
        // Another process wrote the database: the server's read cache shows it within 2 s.
        billing = call(
            &app,
            Method::GET,
            "/v2/accounts/settings/billing",
            &owner,
            None,
        )
        .await
        .1;
        if billing["currency"] == "GBP" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(billing["currency"], "GBP");
    let (_, secret_state) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/notifications",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        secret_state["webhook"]["secret"],
        json!({ "configured": true }),
        "a masked secret is kept, not cleared"
    );
    let actors = app.query_texts("SELECT actor AS t FROM audit_log WHERE action IN ('settings.imported', 'billing.updated', 'settings.exported_with_secrets')");
    assert!(
        !actors.is_empty() && actors.iter().all(|a| a == "operator:cli"),
        "{actors:?}"
    );

    // A bad file changes nothing and names the field.
    edited["export"]["settings"]["billing"]["currency"] = json!("XXX");
    edited["export"]["settings"]["preferences"]["theme"] = json!("light");
    std::fs::write(&file, serde_json::to_vec(&edited).expect("json")).expect("write");
    let out = run(&app, &["import", "--account", "default", path]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("currency"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, prefs) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/preferences",
        &owner,
        None,
    )
    .await;
    assert_ne!(
        prefs["theme"], "light",
        "nothing of a refused import is applied"
    );
    // Garbage in: an unknown section, a file that is no export, a missing file, a bad strategy.
    let out = run(
        &app,
        &[
            "export",
            "--account",
            "default",
            "--sections",
            "billing,bogus",
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`bogus`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let junk = app.db.dir.join("junk.txt");
    std::fs::write(&junk, "\u{0}\u{1} not an export: [").expect("write");
    let junk = junk.to_str().expect("utf-8");
    for args in [
        vec!["import", "--account", "default", junk],
        vec!["import", "--account", "default", "/nonexistent/export.json"],
        vec![
            "import",
            "--account",
            "default",
            "--strategy",
            "replace-all",
            path,
        ],
    ] {
        let out = run(&app, &args).await;
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    let (_, prefs_after) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/preferences",
        &owner,
        None,
    )
    .await;
    assert_eq!(prefs_after, prefs, "refused imports change nothing");
    let out = run(&app, &["export", "--account", "nobody-here"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account named"));
}
