//! The console's team page over plain HTTP: the member list with its filters and pages, role
//! changes, suspension, removal, selected members together, invitations (send, resend, cancel,
//! the pending ones paged apart from the members), and every refusal: the service's rules,
//! lower roles, another account's ids, a credential narrowed by custom permissions, and forms
//! without their token, with another session's, or with oversized or malformed fields. What
//! changed (or did not) is checked through the JSON API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::console::{set_owner_password, signed_in_as, Answer, Member, Visitor};
use crate::console_account::signed_in_owner;
use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};

const TEAM: &str = "/console/team";

/// The member `email` as the JSON API reads it (`Value::Null` when not listed).
pub(crate) async fn api_member(app: &TestApp, email: &str) -> Value {
    let (status, doc) = call(
        app,
        Method::GET,
        "/v2/accounts/team/members?limit=200",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == email)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn user_id(app: &TestApp, email: &str) -> String {
    api_member(app, email).await["id"]
        .as_str()
        .expect("member id")
        .to_owned()
}

/// The team page, asserted to be served, and its form token.
async fn team_page(v: &mut Visitor<'_>) -> (Answer, String) {
    let page = v.get(TEAM).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    (page, csrf)
}

/// The pending invitations of the account as the JSON API lists them: (id, email).
async fn pending(app: &TestApp) -> Vec<(String, String)> {
    let (status, doc) = call(
        app,
        Method::GET,
        "/v2/accounts/team/invitations?status=pending",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["invitations"]
        .as_array()
        .expect("invitations")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().expect("id").to_owned(),
                i["email"].as_str().expect("email").to_owned(),
            )
        })
        .collect()
}

on_both_backends!(
    console_team_lists_filters_and_pages_members,
    console_team_changes_roles_suspends_reactivates_and_removes,
    console_team_refusals_are_clear_and_change_nothing,
    console_team_invites_resends_and_cancels,
    console_team_selected_members_report_each_outcome,
    console_team_forms_without_their_token_or_with_bad_fields_change_nothing,
    console_team_pages_pending_invitations_apart_from_members,
);

async fn console_team_lists_filters_and_pages_members(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    for _ in 0..27 {
        app.add_member(&account, "viewer");
    }
    let admin = Member::new(&app, &account, "admin").await.email;
    let mut owner = signed_in_owner(&app).await;
    let (first, _) = team_page(&mut owner).await;
    assert!(
        first.body.contains("aria-current=\"page\">Team<"),
        "navigation"
    );
    assert_eq!(first.body.matches("<dt>Email</dt>").count(), 25, "one page");
    let next = first
        .body
        .split("href=\"")
        .find_map(|rest| {
            let href = &rest[..rest.find('"').expect("quote")];
            href.contains("cursor=").then(|| href.replace("&amp;", "&"))
        })
        .expect("a next page link");
    let second = owner.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.body);
    // 1 owner + 27 viewers + 1 admin = 29: four on the second page, none twice.
    assert_eq!(second.body.matches("<dt>Email</dt>").count(), 4);
    assert!(second.body.contains("First page"));
    assert!(!second.body.contains("Next page"));

    let admins = owner.get(&format!("{TEAM}?role=admin&status=")).await;
    assert_eq!(admins.status, 200);
    assert_eq!(admins.body.matches("<dt>Email</dt>").count(), 1);
    assert!(admins.body.contains(&admin));
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{}", user_id(&app, &admin).await),
        app.owner_key(),
        Some(json!({ "status": "suspended" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let suspended = owner.get(&format!("{TEAM}?role=&status=suspended")).await;
    assert_eq!(suspended.body.matches("<dt>Email</dt>").count(), 1);
    assert!(suspended.body.contains(&admin));
    assert!(suspended.body.contains("Reactivate"));

    for bad in [
        "?role=root",
        "?status=removed",
        "?cursor=zz",
        "?role=a&role=b",
    ] {
        let res = owner.get(&format!("{TEAM}{bad}")).await;
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
        assert!(res.body.contains("not one this page offers"), "{bad}");
    }
}

async fn console_team_changes_roles_suspends_reactivates_and_removes(app: TestApp) {
    let account = app.default_account_id().await;
    let admin = Member::new(&app, &account, "admin").await.email;
    let Member {
        key: dev_key,
        id: dev_id,
        email: dev,
    } = Member::new(&app, &account, "developer").await;
    let mut v = signed_in_as(&app, &admin).await;
    let (page, csrf) = team_page(&mut v).await;
    assert!(page.body.contains(&format!("Role for {dev}")));
    assert!(
        !page.body.contains("Role for owner@localhost")
            && page.body.contains("Your role cannot change this member"),
        "the owner's row has no actions"
    );

    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/role"),
            &[("csrf", &csrf), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains(&format!("{dev} is now viewer (active).")));
    assert_eq!(api_member(&app, &dev).await["role"], "viewer");

    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/suspend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(res.body.contains("(suspended)"), "{}", res.body);
    assert_eq!(api_member(&app, &dev).await["status"], "suspended");
    assert_ne!(
        app.get("/api/user/profile", Some(&dev_key)).await.status(),
        200
    );

    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/reactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(res.body.contains("(active)"), "{}", res.body);
    assert_eq!(api_member(&app, &dev).await["status"], "active");

    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains(&format!("{dev} was removed")));
    assert_eq!(api_member(&app, &dev).await, Value::Null);
    assert_ne!(
        app.get("/api/user/profile", Some(&dev_key)).await.status(),
        200
    );
}

async fn console_team_refusals_are_clear_and_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let Member {
        id: admin_id,
        email: admin,
        ..
    } = Member::new(&app, &account, "admin").await;
    let Member {
        id: dev_id,
        email: dev,
        ..
    } = Member::new(&app, &account, "developer").await;
    let viewer = Member::new(&app, &account, "viewer").await.email;
    let owner_id = user_id(&app, "owner@localhost").await;

    // Lower roles: no page, no navigation row, no change.
    for email in [&dev, &viewer] {
        let mut low = signed_in_as(&app, email).await;
        let home = low.get("/console").await;
        assert!(!home.body.contains("href=\"/console/team\""), "no row");
        let res = low.get(TEAM).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.body.contains("Not available to your role"));
        let csrf = home.hidden("csrf");
        let res = low
            .post(
                &format!("{TEAM}/members/{admin_id}/suspend"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(res.status, 403);
        let res = low
            .post(
                &format!("{TEAM}/invite"),
                &[
                    ("csrf", &csrf),
                    ("email", "x@example.com"),
                    ("role", "viewer"),
                ],
            )
            .await;
        assert_eq!(res.status, 403);
    }
    assert_eq!(api_member(&app, &admin).await["status"], "active");
    assert!(pending(&app).await.is_empty());

    // The service's rules, as an admin: the owner is out of reach, no role above one's own.
    let mut v = signed_in_as(&app, &admin).await;
    let (_, csrf) = team_page(&mut v).await;
    for action in ["suspend", "remove"] {
        let res = v
            .post(
                &format!("{TEAM}/members/{owner_id}/{action}"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(res.status, 422, "{action}: {}", res.body);
        assert!(res
            .body
            .contains("The account owner cannot be changed, suspended or removed."));
    }
    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/role"),
            &[("csrf", &csrf), ("role", "owner")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("Role: the owner role cannot be assigned"));
    let res = v
        .post(
            &format!("{TEAM}/members/{dev_id}/role"),
            &[("csrf", &csrf), ("role", "superuser")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("choose one of the listed roles"));
    assert_eq!(
        api_member(&app, "owner@localhost").await["status"],
        "active"
    );
    assert_eq!(api_member(&app, &dev).await["role"], "developer");

    // Another account's member reads as unknown here, and is left alone.
    let other = app.create_account("other", "other-owner@example.com").await;
    let other_key = other["owner_api_key"].as_str().expect("key").to_owned();
    let (status, theirs) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/members",
        &other_key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{theirs}");
    let foreign_id = theirs["members"][0]["id"].as_str().expect("id").to_owned();
    for (path, form) in [
        (format!("{TEAM}/members/{foreign_id}/suspend"), vec![]),
        (format!("{TEAM}/members/{foreign_id}/remove"), vec![]),
        (
            format!("{TEAM}/members/{foreign_id}/role"),
            vec![("role", "viewer")],
        ),
        (format!("{TEAM}/members/not-an-id/remove"), vec![]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let res = v.post(&path, &fields).await;
        assert_eq!(res.status, 404, "{path}: {}", res.body);
        assert!(res
            .body
            .contains("There is no such member in this account."));
    }
    let (status, me) = call(&app, Method::GET, "/api/user/profile", &other_key, None).await;
    assert_eq!(status, 200, "the foreign owner still works: {me}");

    // An admin whose custom permissions leave out managing the team: refused like the API.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{admin_id}"),
        app.owner_key(),
        Some(json!({ "permissions": ["read", "write"] })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let mut narrowed = signed_in_as(&app, &admin).await;
    let res = narrowed.get(TEAM).await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("Not available to this sign-in"));
    let csrf = narrowed.get("/console").await.hidden("csrf");
    let res = narrowed
        .post(
            &format!("{TEAM}/members/{dev_id}/suspend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(api_member(&app, &dev).await["status"], "active");

    // The member limit counts pending invitations.
    let (status, doc) = call(
        &app,
        Method::PATCH,
        &crate::tenant_settings::tenant_path(&app).await,
        app.owner_key(),
        Some(json!({ "features": { "maxUsersPerOrganization": 4 } })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let mut owner = signed_in_owner(&app).await;
    let (_, csrf) = team_page(&mut owner).await;
    let res = owner
        .post(
            &format!("{TEAM}/invite"),
            &[
                ("csrf", &csrf),
                ("email", "fifth@example.com"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("This account allows 4 members"));
    assert!(pending(&app).await.is_empty());
}

async fn console_team_invites_resends_and_cancels(app: TestApp) {
    set_owner_password(&app).await;
    let mut v = signed_in_owner(&app).await;
    let (page, csrf) = team_page(&mut v).await;
    assert!(page.body.contains("No invitations are pending."));
    let invite_form = &page.body[page.body.find("Invite someone").expect("invite form")..];
    let invite_form = &invite_form[..invite_form.find("</form>").expect("form end")];
    assert!(invite_form.contains("value=\"admin\""), "{invite_form}");
    assert!(
        !invite_form.contains("value=\"owner\""),
        "the owner role is not offered"
    );
    let res = v
        .post(
            &format!("{TEAM}/invite"),
            &[
                ("csrf", &csrf),
                ("email", "newcomer@example.com"),
                ("role", "developer"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res
        .body
        .contains("An invitation was sent to newcomer@example.com as developer."));
    assert!(res
        .body
        .contains("Cancel the invitation to newcomer@example.com"));
    let eml = app.wait_for_eml("newcomer@example.com").await;
    let first = token_in(&eml, "tnt_inv_");
    let listed = pending(&app).await;
    assert_eq!(listed.len(), 1);
    let (id, _) = &listed[0];

    let again = v
        .post(
            &format!("{TEAM}/invite"),
            &[
                ("csrf", &csrf),
                ("email", "newcomer@example.com"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already has a pending invitation"));
    let bad = v
        .post(
            &format!("{TEAM}/invite"),
            &[
                ("csrf", &csrf),
                ("email", "not an address"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"email-error\""));
    assert!(
        bad.body.contains("value=\"not an address\""),
        "kept for correcting"
    );
    let bad = v
        .post(
            &format!("{TEAM}/invite"),
            &[
                ("csrf", &csrf),
                ("email", "other@example.com"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"role-error\""));
    assert_eq!(pending(&app).await.len(), 1);

    let res = v
        .post(
            &format!("{TEAM}/invitations/{id}/resend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res
        .body
        .contains("The invitation to newcomer@example.com was sent again."));
    let mails = app.wait_for_emls("newcomer@example.com", 2).await;
    let second = token_in(&mails[1], "tnt_inv_");
    assert_ne!(first, second, "a resend carries a new link");

    let res = v
        .post(
            &format!("{TEAM}/invitations/{id}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("The invitation was cancelled."));
    assert!(pending(&app).await.is_empty());
    let res = v
        .post(
            &format!("{TEAM}/invitations/{id}/cancel"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains("no longer pending (it is cancelled)"));
    let res = v
        .post(
            &format!("{TEAM}/invitations/inv_nothing/resend"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 404);
    assert!(res
        .body
        .contains("There is no such invitation in this account."));
}

async fn console_team_selected_members_report_each_outcome(app: TestApp) {
    let account = app.default_account_id().await;
    let admin = Member::new(&app, &account, "admin").await.email;
    let Member {
        id: d1,
        email: dev1,
        ..
    } = Member::new(&app, &account, "developer").await;
    let Member {
        id: d2,
        email: dev2,
        ..
    } = Member::new(&app, &account, "developer").await;
    let owner_id = user_id(&app, "owner@localhost").await;
    let mut v = signed_in_as(&app, &admin).await;
    let (page, csrf) = team_page(&mut v).await;
    assert!(page.body.contains("form=\"bulk\""));
    assert!(page.body.contains(&format!("Select {dev1}")));

    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[
                ("csrf", &csrf),
                ("action", "suspend"),
                ("role", "viewer"),
                ("members", &owner_id),
                ("members", &d1),
                ("members", &d2),
                ("members", "usr_nobody"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body
            .contains("2 of 4 selected members done; 2 refused."),
        "{}",
        res.body
    );
    assert!(res.body.contains(&format!("{dev1}: suspended")));
    assert!(res
        .body
        .contains("owner@localhost: refused: The account owner"));
    assert!(res
        .body
        .contains("usr_nobody: refused: There is no such member"));
    assert_eq!(api_member(&app, &dev1).await["status"], "suspended");
    assert_eq!(api_member(&app, &dev2).await["status"], "suspended");
    assert_eq!(
        api_member(&app, "owner@localhost").await["status"],
        "active"
    );

    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[
                ("csrf", &csrf),
                ("action", "reactivate"),
                ("role", "viewer"),
                ("members", &d1),
            ],
        )
        .await;
    assert!(
        res.body
            .contains("1 of 1 selected members done; 0 refused."),
        "{}",
        res.body
    );
    assert_eq!(api_member(&app, &dev1).await["status"], "active");

    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[
                ("csrf", &csrf),
                ("action", "change_role"),
                ("role", "viewer"),
                ("members", &d1),
                ("members", &d2),
            ],
        )
        .await;
    assert!(
        res.body.contains("2 of 2 selected members done"),
        "{}",
        res.body
    );
    assert_eq!(api_member(&app, &dev2).await["role"], "viewer");
    // A role the admin may not grant refuses the whole action before any member.
    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[
                ("csrf", &csrf),
                ("action", "change_role"),
                ("role", "owner"),
                ("members", &d1),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(api_member(&app, &dev1).await["role"], "viewer");

    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[
                ("csrf", &csrf),
                ("action", "remove"),
                ("role", "viewer"),
                ("members", &d1),
                ("members", &owner_id),
            ],
        )
        .await;
    assert!(
        res.body
            .contains("1 of 2 selected members done; 1 refused."),
        "{}",
        res.body
    );
    assert!(res.body.contains(&format!("{dev1}: removed")));
    assert_eq!(api_member(&app, &dev1).await, Value::Null);
    assert_eq!(api_member(&app, &dev2).await["status"], "suspended");

    let res = v
        .post(
            &format!("{TEAM}/bulk"),
            &[("csrf", &csrf), ("action", "suspend")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("Select at least one member."));
}

async fn console_team_forms_without_their_token_or_with_bad_fields_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let Member {
        id: dev_id,
        email: dev,
        ..
    } = Member::new(&app, &account, "developer").await;
    let mut v = signed_in_owner(&app).await;
    let (_, csrf) = team_page(&mut v).await;
    let mut other = signed_in_owner(&app).await;
    let (_, foreign) = team_page(&mut other).await;
    assert_ne!(csrf, foreign);
    let invite = format!("{TEAM}/invite");
    let suspend = format!("{TEAM}/members/{dev_id}/suspend");
    let bulk = format!("{TEAM}/bulk");
    for token in ["", foreign.as_str()] {
        let fields = |extra: &[(&'static str, &'static str)]| {
            let mut f: Vec<(&str, &str)> = Vec::new();
            if !token.is_empty() {
                f.push(("csrf", token));
            }
            f.extend_from_slice(extra);
            f
        };
        for (path, extra) in [
            (
                &invite,
                vec![("email", "x@example.com"), ("role", "viewer")],
            ),
            (&suspend, vec![]),
            (&bulk, vec![("action", "suspend")]),
        ] {
            let mut f = fields(&extra);
            if path == &bulk {
                f.push(("members", &dev_id));
            }
            let res = v.post(path, &f).await;
            assert_eq!(res.status, 403, "{path} with {token:?}: {}", res.body);
            assert!(res.body.contains("This form has expired"));
        }
    }
    let long = format!("{}@example.com", "a".repeat(400));
    let res = v
        .post(
            &invite,
            &[("csrf", &csrf), ("email", &long), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body.contains("Email is longer than"));
    let res = v
        .post(
            &format!("{TEAM}/members/{}/suspend", "x".repeat(300)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = v
        .post(
            &bulk,
            &[
                ("csrf", &csrf),
                ("action", "suspend"),
                ("action", "remove"),
                ("members", &dev_id),
            ],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body.contains("A field was sent twice"));
    let res = v
        .post(
            &bulk,
            &[("csrf", &csrf), ("action", "explode"), ("members", &dev_id)],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    let many: Vec<String> = (0..101).map(|i| format!("usr_{i}")).collect();
    let mut f: Vec<(&str, &str)> = vec![("csrf", &csrf), ("action", "suspend")];
    f.extend(many.iter().map(|m| ("members", m.as_str())));
    let res = v.post(&bulk, &f).await;
    assert_eq!(res.status, 400, "{}", res.body);
    let huge = "a".repeat(20_000);
    let res = v.post(&invite, &[("csrf", &csrf), ("email", &huge)]).await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body.contains("too large or malformed"));

    assert_eq!(api_member(&app, &dev).await["status"], "active");
    assert!(pending(&app).await.is_empty());
}

/// The `href` of the link named `text` on `page`, unescaped.
fn link_named(page: &Answer, text: &str) -> Option<String> {
    let end = page.body.find(&format!("\">{text}</a>"))?;
    let start = page.body[..end].rfind("href=\"")? + "href=\"".len();
    Some(page.body[start..end].replace("&amp;", "&"))
}

/// The addresses of the pending invitations a team page lists, and how many members it lists.
fn listed(page: &Answer) -> (Vec<String>, usize) {
    let marker = "Cancel the invitation to ";
    let invited = page
        .body
        .split(marker)
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("quote")].to_owned())
        .collect();
    (invited, page.body.matches("<dt>Joined</dt>").count())
}

async fn console_team_pages_pending_invitations_apart_from_members(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    // Two pages of each: 27 members with the owner, 27 pending invitations.
    for _ in 0..26 {
        app.add_member(&account, "viewer");
    }
    let invited: Vec<String> = (0..27)
        .map(|i| format!("invitee{i:02}@example.com"))
        .collect();
    for email in &invited {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/v2/accounts/team/members/invite",
            app.owner_key(),
            Some(json!({ "email": email, "role": "viewer" })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    let mut owner = signed_in_owner(&app).await;
    let (first, _) = team_page(&mut owner).await;
    let (first_invited, members) = listed(&first);
    assert_eq!((first_invited.len(), members), (25, 25), "one page of each");
    assert_eq!(first_invited, invited[..25], "oldest first");
    assert!(first.body.contains("27 pending, oldest first."));
    assert!(link_named(&first, "First page of invitations").is_none());

    // The members' next page keeps the invitations where they were.
    let next_members = link_named(&first, "Next page").expect("members' next page");
    assert!(!next_members.contains("invitations="), "{next_members}");
    let second_members = owner.get(&next_members).await;
    assert_eq!(second_members.status, 200, "{}", second_members.body);
    let (still_first, members) = listed(&second_members);
    assert_eq!((still_first, members), (first_invited.clone(), 2));

    // The invitations' next page keeps the members where they were.
    let next_invited =
        link_named(&second_members, "Next page of invitations").expect("invitations' next page");
    assert!(
        next_invited.contains("cursor=") && next_invited.contains("invitations="),
        "{next_invited}"
    );
    let second = owner.get(&next_invited).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let (second_invited, members) = listed(&second);
    assert_eq!(members, 2, "still the members' second page");
    assert_eq!(second_invited, invited[25..], "the rest, none twice");
    assert!(link_named(&second, "Next page of invitations").is_none());
    let back = link_named(&second, "First page of invitations").expect("back to the first");
    let (again, members) = listed(&owner.get(&back).await);
    assert_eq!((again, members), (first_invited, 2));

    // A position this page did not write is refused like an unknown filter.
    let too_long = format!("?invitations={}", "0".repeat(300));
    for bad in ["?invitations=zz", too_long.as_str()] {
        let res = owner.get(&format!("{TEAM}{bad}")).await;
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
        assert!(res.body.contains("not one this page offers"), "{bad}");
    }
}
