//! The console's password and profile pages over plain HTTP: a change, and every refusal (no
//! form token, a wrong current password, a mismatch, an oversized field, a restricted session)
//! checked to have changed nothing, through the API.

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, Visitor, PASSWORD};
use crate::console_account::signed_in_owner;
use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};

on_both_backends!(
    console_password_change_and_its_refusals,
    an_expired_password_reaches_only_the_password_page,
    console_profile_name_and_email_change_with_confirmation,
    console_profile_refusals_change_nothing,
);

const NEW_PASSWORD: &str = "a-fresh-console-passphrase-8";

async fn console_password_change_and_its_refusals(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let page = me.get("/console/account/password").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<label>Current password"));
    let csrf = page.hidden("csrf");
    let foreign = other.get("/console/account/password").await.hidden("csrf");
    let change = |current: &'static str, new: &'static str, repeat: &'static str| {
        vec![
            ("current_password", current),
            ("new_password", new),
            ("repeat_password", repeat),
        ]
    };
    let good = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    for token in ["", foreign.as_str()] {
        let form = [&[("csrf", token)][..], &good[..]].concat();
        let res = me.post("/console/account/password", &form).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.body.contains("This form has expired"));
    }
    let long = "p".repeat(1025);
    let res = me
        .post(
            "/console/account/password",
            &[
                ("csrf", csrf.as_str()),
                ("current_password", PASSWORD),
                ("new_password", &long),
                ("repeat_password", &long),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    for (form, status, field) in [
        (
            change("not-the-password-77", NEW_PASSWORD, NEW_PASSWORD),
            403,
            "current_password-error",
        ),
        (
            change("", NEW_PASSWORD, NEW_PASSWORD),
            403,
            "current_password-error",
        ),
        (
            change(PASSWORD, NEW_PASSWORD, "something-else-entirely-1"),
            422,
            "repeat_password-error",
        ),
        (
            change(PASSWORD, "short", "short"),
            422,
            "new_password-error",
        ),
    ] {
        let form = [&[("csrf", csrf.as_str())][..], &form[..]].concat();
        let res = me.post("/console/account/password", &form).await;
        assert_eq!(res.status, status, "{}", res.body);
        assert!(
            res.body.contains(&format!("id=\"{field}\"")),
            "{field}: {}",
            res.body
        );
        assert!(res.body.contains("Nothing was changed."));
    }
    // Nothing changed: the old password still signs in, the other session still works.
    assert_eq!(other.get("/console").await.status, 200);
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", PASSWORD)
            .await
            .status,
        303
    );

    let form = [&[("csrf", csrf.as_str())][..], &good[..]].concat();
    let done = me.post("/console/account/password", &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your password is changed."));
    assert_eq!(me.get("/console").await.status, 200, "this session stays");
    assert_eq!(other.get("/console").await.status, 303, "the others end");
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", NEW_PASSWORD)
            .await
            .status,
        303
    );
}

async fn an_expired_password_reaches_only_the_password_page(app: TestApp) {
    set_owner_password(&app).await;
    let res = app
        .client
        .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
        .bearer_auth(app.owner_key())
        .json(&json!({"securityPreferences": {"requireMFA": false, "passwordExpiration": 30}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let now_micros = i64::try_from(crate::console::now()).expect("time") * 1_000_000;
    let forty_days_ago = now_micros - 40 * 86_400 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE users SET password_changed_at = {forty_days_ago}"
    ));
    let mut me = Visitor::new(&app);
    let signed = me.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(signed.location(), "/console/account/password");
    for page in [
        "/console",
        "/console/account/api-keys",
        "/console/account/sessions",
        "/console/account/mfa",
    ] {
        let res = me.get(page).await;
        assert_eq!(res.status, 303, "{page}");
        assert_eq!(res.location(), "/console/account/password", "{page}");
    }
    let page = me.get("/console/account/password").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your password has expired"));
    assert!(
        !page.body.contains("aria-label=\"Console\""),
        "no navigation"
    );
    let csrf = page.hidden("csrf");
    let done = me
        .post(
            "/console/account/password",
            &[
                ("csrf", csrf.as_str()),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Sign in again"));
    // As the API's: the restriction stays with this session; a new sign-in is a full one.
    assert_eq!(
        me.get("/console").await.location(),
        "/console/account/password"
    );
    me.post("/console/logout", &[("csrf", &csrf)]).await;
    let again = me.sign_in("owner@localhost", NEW_PASSWORD).await;
    assert_eq!(again.location(), "/console");
    assert_eq!(me.get("/console").await.status, 200);
}

async fn owner_profile(app: &TestApp) -> serde_json::Value {
    let (status, doc) = call(app, Method::GET, "/api/user/profile", app.owner_key(), None).await;
    assert_eq!(status, 200, "{doc}");
    doc["data"].clone()
}

async fn console_profile_name_and_email_change_with_confirmation(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let page = me.get("/console/account/profile").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    let saved = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", "Ada <Owner>")],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(
        saved.body.contains("value=\"Ada &lt;Owner&gt;\""),
        "{}",
        saved.body
    );
    assert_eq!(owner_profile(&app).await["display_name"], "Ada <Owner>");

    let asked = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "moved@example.com"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("A message is on its way"));
    assert_eq!(
        owner_profile(&app).await["email"],
        "owner@localhost",
        "not before the link"
    );
    let eml = app.wait_for_eml("moved@example.com").await;
    let token = token_in(&eml, "tnt_emc_");
    let link = format!("/confirm-email/{token}");
    let confirm = me.get(&link).await;
    assert_eq!(confirm.status, 200);
    let done = me.post(&link, &[("csrf", &confirm.hidden("csrf"))]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(owner_profile(&app).await["email"], "moved@example.com");
}

async fn console_profile_refusals_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let csrf = me.get("/console/account/profile").await.hidden("csrf");
    let foreign = other.get("/console/account/profile").await.hidden("csrf");
    for token in ["", foreign.as_str()] {
        let res = me
            .post(
                "/console/account/profile",
                &[("csrf", token), ("display_name", "Forged")],
            )
            .await;
        assert_eq!(res.status, 403);
        let res = me
            .post(
                "/console/account/profile/email",
                &[
                    ("csrf", token),
                    ("email", "elsewhere@example.com"),
                    ("current_password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status, 403);
        assert!(res.body.contains("This form has expired"));
    }
    let long_name = "n".repeat(201);
    let res = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", &long_name)],
        )
        .await;
    assert_eq!(res.status, 400);
    let long_email = "e".repeat(400) + "@example.com";
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", &long_email),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "elsewhere@example.com"),
                ("current_password", "not-the-password-11"),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("id=\"password-error\""));
    assert!(res.body.contains("value=\"elsewhere@example.com\""));
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "not an address"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"email-error\""));
    let res = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", "bad\u{202e}name")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"name-error\""));
    let profile = owner_profile(&app).await;
    assert_eq!(profile["email"], "owner@localhost");
    assert_eq!(
        profile["display_name"],
        serde_json::Value::Null,
        "{profile}"
    );
    assert!(
        app.query_texts("SELECT new_email AS t FROM email_changes")
            .is_empty(),
        "no change was opened"
    );
}
