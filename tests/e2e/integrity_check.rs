//! `tenantry check`: a database the API wrote is consistent; corruption of each kind it looks
//! for is reported, naming what is wrong, with a failing exit status.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{call, Backend, TestApp};

on_both_backends!(check_finds_what_is_wrong);

async fn check(app: &TestApp) -> (bool, String) {
    let out = app
        .db
        .command(&["check"])
        .output()
        .await
        .expect("run check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn check_finds_what_is_wrong(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for (path, body) in [
        (
            "/v2/accounts/settings/billing",
            json!({ "currency": "EUR" }),
        ),
        (
            "/v2/accounts/settings/billing",
            json!({ "currency": "GBP" }),
        ),
        (
            "/v2/accounts/settings/preferences",
            json!({ "theme": "dark" }),
        ),
    ] {
        let (status, doc) = call(&app, Method::PUT, path, &owner, Some(body)).await;
        assert_eq!(status, 200, "{doc}");
    }
    let (status, doc) = call(&app, Method::POST, "/accounts/default/settings/USAGE_NOTIFICATION", &owner, Some(json!({ "threshold": 100, "emailNotification": { "enable": true, "emails": ["ops@check.test"] } }))).await;
    assert_eq!(status, 201, "{doc}");
    let (ok, out) = check(&app).await;
    assert!(ok, "a database written by the API is consistent:\n{out}");
    assert!(out.contains("ok: 1 accounts checked"), "{out}");

    // A version that its history does not explain.
    app.db
        .execute("UPDATE settings_documents SET version = version + 1 WHERE section = 'billing'");
    // A stored document no endpoint could read.
    app.db.execute("UPDATE settings_documents SET document = '{\"email\": {\"enabled\": \"yes\"}}' WHERE section = 'notifications'");
    let (ok, out) = check(&app).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("billing: version 4 but 3 history entries"),
        "{out}"
    );
    assert!(out.contains("account settings"), "{out}");
    if app.db.backend == Backend::Sqlite {
        // SQLite enforces foreign keys per connection; a writer without them can orphan rows.
        app.db.execute("PRAGMA foreign_keys = OFF; INSERT INTO memberships (account_id, user_id, role, status, created_at) SELECT id, 'usr_00000000000000000000000000', 'viewer', 'active', 1 FROM accounts");
        let (ok, out) = check(&app).await;
        assert!(!ok);
        assert!(out.contains("foreign key: memberships"), "{out}");
    }
}
