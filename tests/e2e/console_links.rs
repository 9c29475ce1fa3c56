//! The console's pages behind mailed links, over plain HTTP from the real emails: accepting an
//! invitation (a new person, an existing user), closed and unknown invitation links, the
//! invitation id page, choosing a password from the reset email, confirming an email change.

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, Visitor, PASSWORD};
use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};

const INVITE: &str = "/v2/accounts/team/members/invite";

/// Invites `email` as `role`; returns (invitation id, the email's link path `/invite/<token>`).
async fn invite(app: &TestApp, email: &str, role: &str) -> (String, String) {
    let (status, doc) = call(
        app,
        Method::POST,
        INVITE,
        app.owner_key(),
        Some(json!({ "email": email, "role": role })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let id = doc["invitation"]["id"]
        .as_str()
        .expect("invitation id")
        .to_owned();
    let eml = app.wait_for_eml(email).await;
    let token = token_in(&eml, "tnt_inv_");
    let link = format!("{}/invite/{token}", app.base);
    assert!(
        eml.contains(&link),
        "the email links to the console page: {eml}"
    );
    (id, format!("/invite/{token}"))
}

on_both_backends!(
    a_new_person_accepts_from_the_email_link_and_lands_signed_in,
    an_existing_user_accepts_with_their_current_password_only,
    closed_unknown_and_id_invitation_links_get_their_own_pages,
    the_reset_email_link_sets_a_password_that_signs_in,
    the_email_change_link_confirms_on_a_button_not_on_opening,
);

async fn a_new_person_accepts_from_the_email_link_and_lands_signed_in(app: TestApp) {
    let (_, link) = invite(&app, "newcomer@example.com", "developer").await;
    let mut visitor = Visitor::new(&app);
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.body.contains("Default account"), "the account");
    assert!(page.body.contains("owner@localhost"), "the inviter");
    assert!(page.body.contains("developer"), "the role");
    let csrf = page.hidden("csrf");
    // Without its token: nothing happens.
    let forged = visitor
        .post(
            &link,
            &[("mode", "new"), ("name", "Ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403);
    // The API's password rules, on the server.
    let weak = visitor
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("mode", "new"),
                ("name", "Ada"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(
        weak.body
            .contains("Password must be at least 12 characters"),
        "{}",
        weak.body
    );
    assert!(visitor.session().is_none());
    let accepted = visitor
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("mode", "new"),
                ("name", "Ada Lovelace"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(accepted.location(), "/console");
    let home = visitor.get("/console").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("newcomer@example.com"));
    assert!(home.body.contains("Ada Lovelace"));
    assert!(home.body.contains("developer"));
    // Used now: the link says so, with the accept endpoint's status.
    let used = Visitor::new(&app).get(&link).await;
    assert_eq!(used.status, 409);
    assert!(used.body.contains("already been accepted"));
}

async fn an_existing_user_accepts_with_their_current_password_only(app: TestApp) {
    set_owner_password(&app).await;
    // The owner of "default" is invited into a second account.
    let created = app.create_account("second", "boss@example.com").await;
    let boss_key = created["owner_api_key"]
        .as_str()
        .expect("owner key")
        .to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        INVITE,
        &boss_key,
        Some(json!({ "email": "owner@localhost", "role": "admin" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_inv_")
        .await;
    let link = format!("/invite/{}", token_in(&eml, "tnt_inv_"));
    let mut visitor = Visitor::new(&app);
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200);
    let csrf = page.hidden("csrf");
    // A password set through the link is refused: the existing one must be given.
    let hijack = visitor
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("mode", "new"),
                ("name", "Mallory"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(hijack.status, 401, "{}", hijack.body);
    assert!(hijack.body.contains("already has a sign-in"));
    assert!(visitor.session().is_none());
    let accepted = visitor
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("mode", "existing"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let home = visitor.get("/console").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("second"),
        "signed in to the new account: {}",
        home.body
    );
    assert!(!home.body.contains("Mallory"));
    // The old password still signs in to the first account through the API.
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": PASSWORD, "account": "default" }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
}

async fn closed_unknown_and_id_invitation_links_get_their_own_pages(app: TestApp) {
    let (id, link) = invite(&app, "late@example.com", "viewer").await;
    let by_id = Visitor::new(&app).get(&format!("/invite/{id}")).await;
    assert_eq!(by_id.status, 200);
    assert!(by_id.body.contains("open the link in that email"));
    assert!(
        !by_id.body.contains("late@example.com"),
        "an id is no oracle"
    );
    app.db.execute("UPDATE invitations SET expires_at = 1");
    let expired = Visitor::new(&app).get(&link).await;
    assert_eq!(expired.status, 410);
    assert!(expired.body.contains("This invitation has expired"));

    let (id, link) = invite(&app, "withdrawn@example.com", "viewer").await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/v2/accounts/team/invitations/{id}"),
        app.owner_key(),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    let cancelled = Visitor::new(&app).get(&link).await;
    assert_eq!(cancelled.status, 410);
    assert!(cancelled.body.contains("was cancelled"));

    let unknown = Visitor::new(&app)
        .get("/invite/tnt_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("Invitation not found"));
}

async fn the_reset_email_link_sets_a_password_that_signs_in(app: TestApp) {
    let mut visitor = Visitor::new(&app);
    let page = visitor.get("/console/forgot-password").await;
    let csrf = page.hidden("csrf");
    let sent = visitor
        .post(
            "/console/forgot-password",
            &[("csrf", &csrf), ("email", "owner@localhost")],
        )
        .await;
    assert_eq!(sent.status, 200);
    assert!(sent.body.contains("If this address belongs to a user"));
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_pwr_")
        .await;
    let token = token_in(&eml, "tnt_pwr_");
    assert!(eml.contains(&format!("{}/reset-password/{token}", app.base)));
    let link = format!("/reset-password/{token}");
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<label>Password"));
    let csrf = page.hidden("csrf");
    let weak = visitor
        .post(&link, &[("csrf", &csrf), ("password", "password")])
        .await;
    assert_eq!(weak.status, 422);
    let set = visitor
        .post(&link, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert!(set.body.contains("Your password is set"));
    let again = visitor
        .post(&link, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    assert_eq!(again.status, 404, "the link works once");
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    assert_eq!(
        Visitor::new(&app)
            .get("/reset-password/nonsense")
            .await
            .status,
        404
    );
}

async fn the_email_change_link_confirms_on_a_button_not_on_opening(app: TestApp) {
    set_owner_password(&app).await;
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/email",
        app.owner_key(),
        Some(json!({ "email": "moved@example.com", "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    let eml = app.wait_for_eml("moved@example.com").await;
    let token = token_in(&eml, "tnt_emc_");
    assert!(
        eml.contains(&format!("{}/confirm-email/{token}", app.base)),
        "{eml}"
    );
    let link = format!("/confirm-email/{token}");
    let mut visitor = Visitor::new(&app);
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        profile_email(&app).await,
        "owner@localhost",
        "opening changes nothing"
    );
    assert_eq!(visitor.post(&link, &[]).await.status, 403);
    let done = visitor.post(&link, &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("moved@example.com"));
    assert_eq!(profile_email(&app).await, "moved@example.com");
    let again = visitor.post(&link, &[("csrf", &page.hidden("csrf"))]).await;
    assert_eq!(again.status, 404);
}

async fn profile_email(app: &TestApp) -> String {
    call(app, Method::GET, "/api/user/profile", app.owner_key(), None)
        .await
        .1["data"]["email"]
        .as_str()
        .expect("email")
        .to_owned()
}
