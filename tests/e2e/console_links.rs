//! The console's pages behind mailed links, over plain HTTP from the real emails: accepting an
//! invitation (a new person, an existing user), closed and unknown invitation links, the
//! invitation id page, choosing a password from the reset email, confirming an email change.
//! Each of their forms refuses a post without its token, with another browser's, and with
//! oversized or malformed fields, and changes nothing when it does: the link still works.

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
    a_signed_in_user_accepts_with_the_sessions_form_token,
    an_existing_user_accepts_with_their_current_password_only,
    closed_unknown_and_id_invitation_links_get_their_own_pages,
    the_reset_email_link_sets_a_password_that_signs_in,
    the_email_change_link_confirms_on_a_button_not_on_opening,
    reset_forms_refuse_forged_oversized_and_malformed_posts_and_change_nothing,
    the_invitation_form_refuses_forged_and_oversized_posts_and_stays_pending,
    the_email_change_form_refuses_another_browsers_token_and_changes_nothing,
);

/// A password that is not the current one, for links that would set it.
const NEW_PASSWORD: &str = "another-console-passphrase-9";

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

/// Rows in `table`, read from the database.
fn rows(app: &TestApp, table: &str) -> String {
    app.query_texts(&format!("SELECT CAST(COUNT(*) AS TEXT) AS t FROM {table}"))
        .remove(0)
}

/// Whether `password` signs the owner in, through a browser of its own.
async fn owner_signs_in_with(app: &TestApp, password: &str) -> bool {
    Visitor::new(app)
        .sign_in("owner@localhost", password)
        .await
        .status
        == 303
}

/// Asserts `answer` is the page of a form without a valid token.
fn assert_forged(answer: &crate::console::Answer, case: &str) {
    assert_eq!(answer.status, 403, "{case}: {}", answer.body);
    assert!(
        answer.body.contains("This form has expired"),
        "{case}: {}",
        answer.body
    );
}

/// Asserts `answer` is the page of a form that could not be read, saying `why`.
fn assert_unreadable(answer: &crate::console::Answer, why: &str, case: &str) {
    assert_eq!(answer.status, 400, "{case}: {}", answer.body);
    assert!(
        answer.body.contains("This form could not be read") && answer.body.contains(why),
        "{case}: {}",
        answer.body
    );
}

async fn reset_forms_refuse_forged_oversized_and_malformed_posts_and_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    let csrf = visitor.get("/console/forgot-password").await.hidden("csrf");
    // Asking for a link without the form's token issues none.
    let issued = rows(&app, "password_resets");
    let forged = visitor
        .post("/console/forgot-password", &[("email", "owner@localhost")])
        .await;
    assert_forged(&forged, "forgot-password without its token");
    assert_eq!(rows(&app, "password_resets"), issued, "no link was issued");
    let sent = visitor
        .post(
            "/console/forgot-password",
            &[("csrf", &csrf), ("email", "owner@localhost")],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_pwr_")
        .await;
    let link = format!("/reset-password/{}", token_in(&eml, "tnt_pwr_"));

    let csrf = visitor.get(&link).await.hidden("csrf");
    let mut other = Visitor::new(&app);
    let theirs = other.get(&link).await.hidden("csrf");
    assert_ne!(csrf, theirs, "each browser has its own token");
    let without = visitor.post(&link, &[("password", NEW_PASSWORD)]).await;
    assert_forged(&without, "no token");
    let crossed = visitor
        .post(&link, &[("csrf", &theirs), ("password", NEW_PASSWORD)])
        .await;
    assert_forged(&crossed, "another browser's token");
    // Past the field's bound, past the body's, and a field sent twice.
    let long = "p".repeat(1025);
    let res = visitor
        .post(&link, &[("csrf", &csrf), ("password", &long)])
        .await;
    assert_unreadable(&res, "Password is longer than 1024 characters", "long");
    let huge = "p".repeat(100 * 1024);
    let res = visitor
        .post(&link, &[("csrf", &csrf), ("password", &huge)])
        .await;
    assert_unreadable(&res, "too large or malformed", "100 KB");
    let twice = visitor.client.post(app.url(&link)).header(
        reqwest::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    );
    let res = visitor
        .answer(twice.body(format!(
            "csrf={csrf}&password={NEW_PASSWORD}&password={NEW_PASSWORD}"
        )))
        .await;
    assert_unreadable(&res, "too large or malformed", "a field twice");

    // Nothing changed: the old password signs in, and the link still sets a new one once.
    assert!(owner_signs_in_with(&app, PASSWORD).await);
    let set = visitor
        .post(&link, &[("csrf", &csrf), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(set.status, 200, "the link was not spent: {}", set.body);
    assert!(owner_signs_in_with(&app, NEW_PASSWORD).await);
}

async fn the_invitation_form_refuses_forged_and_oversized_posts_and_stays_pending(app: TestApp) {
    let (id, link) = invite(&app, "careful@example.com", "developer").await;
    let mut visitor = Visitor::new(&app);
    let page = visitor.get(&link).await;
    let csrf = page.hidden("csrf");
    // The page asks for no longer a name than the server takes (a person's display name).
    assert!(
        page.body
            .contains("name=\"name\" autocomplete=\"name\" maxlength=\"100\""),
        "{}",
        page.body
    );
    let theirs = Visitor::new(&app).get(&link).await.hidden("csrf");
    let name_101 = "n".repeat(101);
    let long_password = "p".repeat(1025);
    let huge_name = "n".repeat(100 * 1024);
    for (case, form, status, says) in [
        (
            "no token",
            vec![("mode", "new"), ("name", "Ada"), ("password", PASSWORD)],
            403,
            "This form has expired",
        ),
        (
            "another browser's token",
            vec![
                ("csrf", theirs.as_str()),
                ("mode", "new"),
                ("name", "Ada"),
                ("password", PASSWORD),
            ],
            403,
            "This form has expired",
        ),
        (
            "a name over 100 characters",
            vec![
                ("csrf", csrf.as_str()),
                ("mode", "new"),
                ("name", name_101.as_str()),
                ("password", PASSWORD),
            ],
            400,
            "Name is longer than 100 characters",
        ),
        (
            "a password over 1024 characters",
            vec![
                ("csrf", csrf.as_str()),
                ("mode", "new"),
                ("name", "Ada"),
                ("password", long_password.as_str()),
            ],
            400,
            "Password is longer than 1024 characters",
        ),
        (
            "an existing user's password over 1024 characters",
            vec![
                ("csrf", csrf.as_str()),
                ("mode", "existing"),
                ("password", long_password.as_str()),
            ],
            400,
            "Password is longer than 1024 characters",
        ),
        (
            "a 100 KB name",
            vec![
                ("csrf", csrf.as_str()),
                ("mode", "new"),
                ("name", huge_name.as_str()),
                ("password", PASSWORD),
            ],
            400,
            "too large or malformed",
        ),
    ] {
        let res = visitor.post(&link, &form).await;
        assert_eq!(res.status, status, "{case}: {}", res.body);
        assert!(res.body.contains(says), "{case}: {}", res.body);
        assert!(visitor.session().is_none(), "{case}: no session");
        let (_, doc) = call(
            &app,
            Method::GET,
            &format!("/v2/accounts/team/invitations/{id}"),
            app.owner_key(),
            None,
        )
        .await;
        assert_eq!(doc["invitation"]["status"], "pending", "{case}: {doc}");
    }
    let (_, members) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/members?limit=200",
        app.owner_key(),
        None,
    )
    .await;
    // The member list shows the invitation, pending, and nobody who joined with its address.
    let careful: Vec<&serde_json::Value> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| m["email"] == "careful@example.com")
        .collect();
    assert!(
        careful.len() == 1 && careful[0]["status"] == "pending",
        "nobody joined: {members}"
    );
    // Still pending: the link accepts a name of exactly the longest length.
    let name_100 = "n".repeat(100);
    let accepted = visitor
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("mode", "new"),
                ("name", &name_100),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert!(visitor.get("/console").await.body.contains(&name_100));
}

async fn the_email_change_form_refuses_another_browsers_token_and_changes_nothing(app: TestApp) {
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
    let link = format!("/confirm-email/{}", token_in(&eml, "tnt_emc_"));
    let mut visitor = Visitor::new(&app);
    let csrf = visitor.get(&link).await.hidden("csrf");
    let theirs = Visitor::new(&app).get(&link).await.hidden("csrf");
    assert_ne!(csrf, theirs);
    let crossed = visitor.post(&link, &[("csrf", &theirs)]).await;
    assert_forged(&crossed, "another browser's token");
    assert_eq!(profile_email(&app).await, "owner@localhost");
    let done = visitor.post(&link, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200, "the link was not spent: {}", done.body);
    assert_eq!(profile_email(&app).await, "moved@example.com");
}

/// Someone already signed in to the console accepts as themselves, with their session's own
/// form token: the pre-session token (which a sibling site can plant) does not do for this form.
async fn a_signed_in_user_accepts_with_the_sessions_form_token(app: TestApp) {
    set_owner_password(&app).await;
    let created = app.create_account("second", "boss@example.com").await;
    let boss_key = created["owner_api_key"].as_str().expect("key").to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        INVITE,
        &boss_key,
        Some(json!({ "email": "owner@localhost", "role": "developer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_inv_")
        .await;
    let link = format!("/invite/{}", token_in(&eml, "tnt_inv_"));
    let mut visitor = crate::console::signed_in_as(&app, "owner@localhost").await;
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Accept as the signed-in user"),
        "{}",
        page.body
    );
    let tokens: Vec<&str> = page
        .body
        .split(r#"name="csrf" value=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let (pre_session, session) = (tokens[0], *tokens.last().expect("tokens"));
    assert_ne!(pre_session, session);

    let forged = visitor
        .post(&link, &[("csrf", pre_session), ("mode", "session")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let (_, preview) = crate::team_invitations::anon(
        &app,
        Method::GET,
        &link.replace("/invite/", "/v2/invitations/"),
        None,
    )
    .await;
    assert_eq!(preview["invitation"]["status"], "pending", "{preview}");

    let accepted = visitor
        .post(&link, &[("csrf", session), ("mode", "session")])
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(
        accepted.body.contains("You joined the account"),
        "{}",
        accepted.body
    );
}
