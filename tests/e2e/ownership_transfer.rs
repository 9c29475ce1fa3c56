//! `POST /v2/accounts/team/transfer-ownership` (decision 0019): only the owner, through a
//! credential as strong as they are, hands the account to an active admin; the old owner
//! becomes an admin in the same transaction; both are told by email; concurrent transfers
//! leave exactly one owner.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};
use crate::team_members::user_id;

const TRANSFER: &str = "/v2/accounts/team/transfer-ownership";
const PASSWORD: &str = "the owner's long passphrase";

fn owners(app: &TestApp, account: &str) -> Vec<String> {
    app.query_texts(&format!(
        "SELECT user_id AS t FROM memberships WHERE account_id = '{account}' AND role = 'owner'"
    ))
}

fn role_of(app: &TestApp, account: &str, user: &str) -> String {
    app.query_texts(&format!(
        "SELECT role AS t FROM memberships WHERE account_id = '{account}' AND user_id = '{user}'"
    ))
    .remove(0)
}

async fn transfer(app: &TestApp, credential: &str, to: &str) -> (u16, Value) {
    call(
        app,
        Method::POST,
        TRANSFER,
        credential,
        Some(json!({ "userId": to })),
    )
    .await
}

async fn owner_session(app: &TestApp) -> String {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    doc["data"]["token"].as_str().expect("token").to_owned()
}

on_both_backends!(
    the_owner_hands_the_account_to_an_active_admin_and_nobody_else_can,
    concurrent_transfers_leave_exactly_one_owner,
);

async fn the_owner_hands_the_account_to_an_active_admin_and_nobody_else_can(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let owner_id = user_id(&app, &owner).await;
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let admin_id = user_id(&app, &admin).await;
    let developer = app.add_member(&account, "developer");
    let developer_id = user_id(&app, &developer).await;
    let suspended = app.add_member(&account, "admin");
    let suspended_id = user_id(&app, &suspended).await;
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{suspended_id}"),
        &owner,
        Some(json!({ "status": "suspended" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let other = app.create_account("other-co", "boss@other.test").await;
    let foreign_admin = app.add_member(other["id"].as_str().expect("id"), "admin");
    let foreign_admin_id = user_id(&app, &foreign_admin).await;

    // An admin, a developer: the role is not the owner's.
    for (key, role) in [(&admin, "admin"), (&developer, "developer")] {
        let (status, err) = transfer(&app, key, &admin_id).await;
        assert_eq!(status, 403, "{role}: {err}");
        assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS");
        assert_eq!(err["details"]["requiredRole"], "owner");
    }
    // The owner's scoped key, even one whose scopes cover the team.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({ "name": "team only", "scopes": ["team:read", "team:write"] })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let scoped = doc["data"]["secret"].as_str().expect("secret").to_owned();
    let (status, err) = transfer(&app, &scoped, &admin_id).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_SCOPE");
    // The owner's session signed in 20 minutes ago: sign in again first.
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204);
    let stale = owner_session(&app).await;
    let twenty_minutes_ago = chrono::Utc::now().timestamp_micros() - 20 * 60 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {twenty_minutes_ago}"
    ));
    let (status, err) = transfer(&app, &stale, &admin_id).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "REAUTH_REQUIRED");

    // Targets that are not an active admin of this account.
    for (target, role, state) in [
        (&developer_id, "developer", "active"),
        (&suspended_id, "admin", "suspended"),
        (&owner_id, "owner", "active"),
    ] {
        let (status, err) = transfer(&app, &owner, target).await;
        assert_eq!(status, 422, "{role} {state}: {err}");
        assert_eq!(err["error"], "TRANSFER_TARGET_NOT_ACTIVE_ADMIN");
        assert_eq!(err["details"]["role"], role);
        assert_eq!(err["details"]["status"], state);
    }
    for target in [
        foreign_admin_id.as_str(),
        "usr_01m88nk9z6rwpp8ad9jnks7pbn",
        "not-an-id",
    ] {
        let (status, err) = transfer(&app, &owner, target).await;
        assert_eq!(status, 404, "{target}: {err}");
        assert_eq!(err["error"], "MEMBER_NOT_FOUND");
    }
    assert_eq!(
        owners(&app, &account),
        vec![owner_id.clone()],
        "nothing moved"
    );

    // A fresh session of the owner hands over to the active admin.
    let fresh = owner_session(&app).await;
    let (status, doc) = transfer(&app, &fresh, &admin_id).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["previousOwner"],
        json!({ "id": owner_id, "role": "admin" })
    );
    assert_eq!(doc["newOwner"], json!({ "id": admin_id, "role": "owner" }));
    assert_eq!(owners(&app, &account), vec![admin_id.clone()]);
    assert_eq!(role_of(&app, &account, &owner_id), "admin");
    let (_, list) = call(&app, Method::GET, "/v2/accounts/team/members", &owner, None).await;
    assert_eq!(list["roles"]["owner"], 1);

    // Both were told, and it is audited.
    let (_, profile) = call(&app, Method::GET, "/api/user/profile", &admin, None).await;
    let admin_email = profile["data"]["email"].as_str().expect("email").to_owned();
    // Other mail may reach them too (notifications, the owner's set-up link at first start).
    app.wait_for_eml_containing(&admin_email, "now the owner")
        .await;
    app.wait_for_eml_containing("owner@localhost", "You are now an admin")
        .await;
    let (status, log) = call(
        &app,
        Method::GET,
        "/v2/accounts/audit-logs?action=team.ownership_transferred",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    assert!(log.to_string().contains(&admin_id), "{log}");

    // The old owner is an admin now: they can neither remove nor demote the new owner, nor
    // transfer again (their key is the same key, its power is the membership's).
    let member_path = format!("/v2/accounts/team/members/{admin_id}");
    let (status, err) = call(&app, Method::DELETE, &member_path, &owner, None).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"], "CANNOT_REMOVE_OWNER");
    let (status, err) = call(
        &app,
        Method::PUT,
        &member_path,
        &owner,
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let (status, err) = transfer(&app, &fresh, &owner_id).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(owners(&app, &account), vec![admin_id.clone()]);

    // The new owner's unscoped key hands it back.
    let (status, doc) = transfer(&app, &admin, &owner_id).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(owners(&app, &account), vec![owner_id]);
}

/// Rounds of simultaneous transfers: the owner asks for every admin but one at once, and that
/// one (whom nobody makes the owner this round) tries too. Each round exactly one request wins,
/// every other is refused, and the account has exactly one owner — the winner's target —
/// afterwards. (A member made owner mid-round could rightly transfer again, so only a bystander
/// competes with the owner.)
async fn concurrent_transfers_leave_exactly_one_owner(app: TestApp) {
    let account = app.default_account_id().await;
    let mut keys = vec![app.owner_key().to_owned()];
    for _ in 0..4 {
        keys.push(app.add_member(&account, "admin"));
    }
    let mut ids = Vec::new();
    for key in &keys {
        ids.push(user_id(&app, key).await);
    }
    let mut owner = 0usize;
    for round in 0..8 {
        let bystander = (owner + 1 + round % (ids.len() - 1)) % ids.len();
        let mut tasks = tokio::task::JoinSet::new();
        let mut attempts = Vec::new();
        for (to, id) in ids.iter().enumerate() {
            if to != owner && to != bystander {
                attempts.push((owner, to, id.clone()));
            }
        }
        let aim = (bystander + 1) % ids.len();
        attempts.push((bystander, aim, ids[aim].clone()));
        for (from, to, id) in attempts {
            let client = app.client.clone();
            let url = app.url(TRANSFER);
            let key = keys[from].clone();
            tasks.spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({ "userId": id }))
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (from, to, status, body)
            });
        }
        let mut winners = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (from, to, status, body) = done.expect("task");
            match status {
                200 => winners.push((from, to)),
                403 => assert_eq!(body["error"], "INSUFFICIENT_PERMISSIONS", "{body}"),
                422 => assert_eq!(body["error"], "TRANSFER_TARGET_NOT_ACTIVE_ADMIN", "{body}"),
                other => panic!("round {round}: {from}->{to} got {other} {body}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let (from, to) = winners[0];
        assert_eq!(
            from, owner,
            "round {round}: only the owner of the round can win"
        );
        assert_eq!(
            owners(&app, &account),
            vec![ids[to].clone()],
            "round {round}"
        );
        for (i, id) in ids.iter().enumerate() {
            let expected = if i == to { "owner" } else { "admin" };
            assert_eq!(
                role_of(&app, &account, id),
                expected,
                "round {round}, member {i}"
            );
        }
        owner = to;
    }
}
