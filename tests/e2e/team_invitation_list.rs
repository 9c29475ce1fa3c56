//! `GET /v2/accounts/team/invitations[/{id}]`: the account's invitations as a history, for the
//! people who manage them (decision 0019). Every state through the real routes (accepting
//! through the mailed link, cancelling through the API); only expiry is made by moving
//! `expires_at` into the past, because the server's clock cannot be advanced from outside.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};
use crate::team_members::user_id;

const INVITATIONS: &str = "/v2/accounts/team/invitations";

async fn invite(app: &TestApp, key: &str, email: &str, role: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        "/v2/accounts/team/members",
        key,
        Some(json!({ "email": email, "role": role, "department": "Ops" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    doc["invitationId"].as_str().expect("id").to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list["invitations"]
        .as_array()
        .unwrap_or_else(|| panic!("no invitations in {list}"))
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

on_both_backends!(
    invitations_are_listed_by_state_paged_and_read_without_secrets,
    invitations_are_for_managers_and_other_accounts_ids_are_unknown,
);

async fn invitations_are_listed_by_state_paged_and_read_without_secrets(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let owner_id = user_id(&app, &owner).await;
    let accepted = invite(&app, &owner, "accepted@list.test", "developer").await;
    let cancelled = invite(&app, &owner, "cancelled@list.test", "viewer").await;
    let expired = invite(&app, &owner, "expired@list.test", "viewer").await;
    let pending = invite(&app, &owner, "pending@list.test", "admin").await;
    let created = [&accepted, &cancelled, &expired, &pending];

    // Accepted through the mailed link, cancelled through the API.
    let mail = app.wait_for_eml("accepted@list.test").await;
    let token = token_in(&mail, "tnt_inv_");
    let res = app
        .client
        .post(app.url(&format!("/v2/invitations/{token}/accept")))
        .json(&json!({ "password": "a long enough passphrase" }))
        .send()
        .await
        .expect("accept");
    assert_eq!(res.status(), 201);
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("{INVITATIONS}/{cancelled}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    app.db.execute(&format!(
        "UPDATE invitations SET expires_at = 1 WHERE id = '{expired}'"
    ));

    // All of them, oldest first, in the member list's envelope.
    let res = app.get(INVITATIONS, Some(&owner)).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let list: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(ids(&list), created.map(|s| s.to_owned()).to_vec());
    assert_eq!(list["total"], 4);
    assert!(list.get("nextCursor").is_none(), "{list}");
    // No secret: no token, no stored hash, no link of any kind.
    assert!(
        !text.contains("tnt_inv_") && !text.contains(&token),
        "{text}"
    );
    for hash in app.query_texts("SELECT token_hash AS t FROM invitations") {
        assert!(!text.contains(&hash), "{text}");
    }
    for i in list["invitations"].as_array().expect("array") {
        assert!(
            i.get("inviteUrl").is_none() && i.get("token").is_none(),
            "{i}"
        );
    }
    let first = &list["invitations"][0];
    assert_eq!(first["email"], "accepted@list.test");
    assert_eq!(first["role"], "developer");
    assert_eq!(first["invitedBy"], owner_id.as_str());
    assert_eq!(first["department"], "Ops");
    assert_eq!(first["permissions"], json!(["read", "write", "execute"]));
    for field in ["createdAt", "expiresAt"] {
        let t = first[field].as_str().expect(field);
        chrono::DateTime::parse_from_rfc3339(t).expect("rfc3339");
    }
    let statuses: Vec<&str> = list["invitations"]
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["accepted", "cancelled", "expired", "pending"]);

    // Each filter picks exactly its state; `total` counts the matches.
    for (state, id) in [
        ("pending", &pending),
        ("accepted", &accepted),
        ("expired", &expired),
        ("cancelled", &cancelled),
    ] {
        let (status, list) = call(
            &app,
            Method::GET,
            &format!("{INVITATIONS}?status={state}"),
            &owner,
            None,
        )
        .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(ids(&list), vec![id.to_owned()], "{state}");
        assert_eq!(list["total"], 1, "{state}");
        assert_eq!(list["invitations"][0]["status"], state);
    }
    // Stored words and anything else are not states: 400 in the team API's format.
    for bad in ["sent", "resent", "PENDING", ""] {
        let (status, err) = call(
            &app,
            Method::GET,
            &format!("{INVITATIONS}?status={bad}"),
            &owner,
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {err}");
        assert_eq!(err["error"], "INVALID_REQUEST");
        assert_eq!(err["details"]["field"], "status");
    }

    // Pages of one walk all four exactly once, like the member list's cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{INVITATIONS}?limit=1&cursor={c}"),
            None => format!("{INVITATIONS}?limit=1"),
        };
        let (status, page) = call(&app, Method::GET, &path, &owner, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(ids(&page).len() <= 1);
        assert_eq!(page["total"], 4, "the total describes the whole list");
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created.map(|s| s.to_owned()).to_vec());
    for bad in ["limit=0", "limit=abc", "cursor=nonsense"] {
        let (status, err) = call(
            &app,
            Method::GET,
            &format!("{INVITATIONS}?{bad}"),
            &owner,
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {err}");
    }

    // One invitation by id, in every state.
    for (id, state) in [(&pending, "pending"), (&accepted, "accepted")] {
        let res = app.get(&format!("{INVITATIONS}/{id}"), Some(&owner)).await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.expect("body");
        assert!(!text.contains("tnt_inv_"), "{text}");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["invitation"]["id"], id.as_str());
        assert_eq!(doc["invitation"]["status"], state);
        assert_eq!(doc["invitation"]["invitedBy"], owner_id.as_str());
    }
}

async fn invitations_are_for_managers_and_other_accounts_ids_are_unknown(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let ours = invite(&app, &owner, "ours@list.test", "viewer").await;
    let other = app.create_account("other-co", "boss@other.test").await;
    let other_owner = other["owner_api_key"].as_str().expect("key").to_owned();
    let theirs = invite(&app, &other_owner, "theirs@list.test", "viewer").await;

    // Managers read; developers and viewers get the team's 403 on both routes.
    let admin = app.add_member(&account, "admin");
    let (status, list) = call(&app, Method::GET, INVITATIONS, &admin, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), vec![ours.clone()]);
    for role in ["developer", "viewer"] {
        let key = app.add_member(&account, role);
        for path in [INVITATIONS.to_owned(), format!("{INVITATIONS}/{ours}")] {
            let (status, err) = call(&app, Method::GET, &path, &key, None).await;
            assert_eq!(status, 403, "{role} {path}: {err}");
            assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS");
            assert_eq!(err["details"]["currentRole"], role);
        }
        // A bad filter does not tell them how the route validates.
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("{INVITATIONS}?status=bogus"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, 403, "{role}");
    }

    // Each account sees only its own; another account's id answers exactly like a made-up one.
    let (_, list) = call(&app, Method::GET, INVITATIONS, &other_owner, None).await;
    assert_eq!(ids(&list), vec![theirs.clone()]);
    assert_eq!(list["total"], 1);
    let (status, foreign) = call(
        &app,
        Method::GET,
        &format!("{INVITATIONS}/{theirs}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{foreign}");
    assert_eq!(foreign["error"], "INVITATION_NOT_FOUND");
    let never = "inv_01m88nk9z6rwpp8ad9jnks7pbn";
    let (status, unknown) = call(
        &app,
        Method::GET,
        &format!("{INVITATIONS}/{never}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{unknown}");
    let strip = |mut v: Value| {
        v["details"]["invitationId"] = Value::Null;
        v.as_object_mut().map(|o| o.remove("requestId"));
        v
    };
    assert_eq!(strip(foreign), strip(unknown));
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("{INVITATIONS}/nonsense"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
}
