//! The read caches under writes (decision 0011): a settings write must show at once to every
//! cached reader of what it changed, through the account's and the user's epochs, while the
//! caches of what it did not change stay in use.

use serde_json::{json, Value};
use tenantry_kernel::{OsRandom, SystemClock, UserId};

use crate::on_both_backends;
use crate::support::TestApp;

/// A new user who is a developer in each of `accounts`, with an API key in each: the user's id
/// and the keys.
fn member_of(app: &TestApp, accounts: &[&str]) -> (String, Vec<String>) {
    let user = UserId::generate(&SystemClock, &OsRandom).to_string();
    app.db.execute(&format!(
        "INSERT INTO users (id, email, created_at) VALUES ('{user}', 'both-{}@example.test', 1)",
        &user[4..]
    ));
    let keys = accounts
        .iter()
        .map(|account| app.add_membership(account, &user, "developer"))
        .collect();
    (user, keys)
}

async fn settings(app: &TestApp, key: &str) -> Value {
    let res = app.get("/v2/accounts/settings", Some(key)).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

async fn a_settings_write_shows_at_once_to_every_reader_of_what_it_changed(app: TestApp) {
    let a = app.default_account_id().await;
    let created = app.create_account("other", "owner@other.test").await;
    let b = created["id"].as_str().expect("account id").to_owned();
    let b_owner = created["owner_api_key"].as_str().expect("key").to_owned();
    let a_owner = app.owner_key().to_owned();
    let (user, keys) = member_of(&app, &[&a, &b]);
    let (in_a, in_b) = (&keys[0], &keys[1]);

    // Every reader's view is cached first.
    for key in [in_a, in_b, &a_owner, &b_owner] {
        let view = settings(&app, key).await;
        assert_eq!(view["preferences"]["theme"], "auto");
        assert_eq!(view["billing"]["currency"], "USD");
    }

    // The user's preferences, written through account A, are theirs in account B too.
    let res = app
        .put(
            "/v2/accounts/settings/preferences",
            in_a,
            &json!({"theme": "dark"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(settings(&app, in_b).await["preferences"]["theme"], "dark");
    assert_eq!(settings(&app, in_a).await["preferences"]["theme"], "dark");
    // Nobody else's.
    assert_eq!(
        settings(&app, &b_owner).await["preferences"]["theme"],
        "auto"
    );
    assert_eq!(
        settings(&app, &a_owner).await["preferences"]["theme"],
        "auto"
    );

    // An account's settings, written by its owner, show to its other members at once, and only
    // there.
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            &a_owner,
            &json!({"currency": "EUR"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(settings(&app, in_a).await["billing"]["currency"], "EUR");
    assert_eq!(settings(&app, in_b).await["billing"]["currency"], "USD");
    assert_eq!(settings(&app, &b_owner).await["billing"]["currency"], "USD");

    // The settings writes above left the key cache as it was; a change of membership still
    // reaches it at once: suspended in B, the user's key there is refused, the one in A is not.
    let res = app
        .put(
            &format!("/v2/accounts/team/members/{user}"),
            &b_owner,
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get("/v2/accounts/settings", Some(in_b)).await.status(),
        401
    );
    assert_eq!(settings(&app, in_a).await["billing"]["currency"], "EUR");
}

on_both_backends!(a_settings_write_shows_at_once_to_every_reader_of_what_it_changed);
