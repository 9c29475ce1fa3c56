//! Seed 02 `/v2/accounts/team/members`: listing, reading, changing and removing members.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

const MEMBERS: &str = "/v2/accounts/team/members";

/// The user id behind a key, as the member's own profile reports it.
pub(crate) async fn user_id(app: &TestApp, key: &str) -> String {
    let (status, doc) = call(app, Method::GET, "/api/user/profile", key, None).await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]["id"].as_str().expect("id").to_owned()
}

fn member<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed in {list}"))
}

async fn members_are_listed_with_counts_filters_and_pages(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let dev = app.add_member(&account, "developer");
    let viewer = app.add_member(&account, "viewer");
    let dev_id = user_id(&app, &dev).await;

    // Anyone on the team may see it, viewers included.
    let (status, list) = call(&app, Method::GET, MEMBERS, &viewer, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 4);
    assert_eq!(
        list["roles"],
        json!({"owner": 1, "admin": 1, "developer": 1, "viewer": 1, "pending": 0})
    );
    let d = member(&list, &dev_id);
    assert_eq!(d["role"], "developer");
    assert_eq!(d["permissions"], json!(["read", "write", "execute"]));
    assert_eq!(d["status"], "active");
    assert!(d["joinedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let owner_id = user_id(&app, &owner).await;
    assert_eq!(
        member(&list, &owner_id)["permissions"],
        json!(["read", "write", "execute", "manage_team", "manage_billing"])
    );

    // Filters.
    let (_, admins) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}?role=admin"),
        &admin,
        None,
    )
    .await;
    assert_eq!(admins["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(admins["members"][0]["role"], "admin");
    assert_eq!(admins["total"], 4, "counts are account-wide");
    let (status, err) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}?role=root"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "INVALID_REQUEST");
    assert_eq!(err["details"]["field"], "role");

    // Keyset pages of two walk every member exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{MEMBERS}?limit=2&cursor={c}"),
            None => format!("{MEMBERS}?limit=2"),
        };
        let (status, page) = call(&app, Method::GET, &path, &owner, None).await;
        assert_eq!(status, 200, "{page}");
        for m in page["members"].as_array().expect("members") {
            seen.push(m["id"].as_str().expect("id").to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (4, 4), "{seen:?}");

    // One member in detail.
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{dev_id}"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["member"]["id"], json!(dev_id));
    let (status, err) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/usr_nonexistent123"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        err,
        json!({"error": "MEMBER_NOT_FOUND", "message": "Team member not found", "details": {"userId": "usr_nonexistent123"}})
    );
    // Another account's member is not found either.
    let other = app.create_account("other-co", "boss@other.test").await;
    let other_key = other["owner_api_key"].as_str().expect("key");
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{dev_id}"),
        other_key,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn roles_are_managed_within_the_ladder(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let dev = app.add_member(&account, "developer");
    let dev_id = user_id(&app, &dev).await;
    let owner_id = user_id(&app, &owner).await;
    let admin_id = user_id(&app, &admin).await;
    let path = format!("{MEMBERS}/{dev_id}");

    // The seed's example.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(json!({"role": "admin", "department": "Engineering Leadership", "title": "Principal ML Engineer"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["role"], "admin");
    assert_eq!(doc["department"], "Engineering Leadership");
    assert_eq!(doc["title"], "Principal ML Engineer");
    assert_eq!(
        doc["permissions"],
        json!(["read", "write", "execute", "manage_team"])
    );
    // The new role is effective at once: the former developer may now read the audit log.
    let res = app.get("/v2/accounts/audit-logs", Some(&dev)).await;
    assert_eq!(res.status(), 200);

    // Custom permissions, then back to the role's defaults; clearing a title.
    let (_, doc) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"role": "developer", "permissions": ["read"], "title": null})),
    )
    .await;
    assert_eq!(doc["permissions"], json!(["read"]));
    assert_eq!(doc["title"], Value::Null);
    assert_eq!(doc["department"], "Engineering Leadership");
    let (_, doc) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"permissions": null})),
    )
    .await;
    assert_eq!(doc["permissions"], json!(["read", "write", "execute"]));

    // Developers do not manage the team (the seed's 403 body).
    let (status, err) = call(
        &app,
        Method::PUT,
        &format!("{MEMBERS}/{admin_id}"),
        &dev,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        err,
        json!({"error": "INSUFFICIENT_PERMISSIONS", "message": "Only admins can manage team members", "details": {"requiredRole": "admin", "currentRole": "developer"}})
    );

    // Nobody becomes or touches the owner.
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["details"]["fields"][0]["field"], "role");
    for (method, body) in [
        (Method::PUT, Some(json!({"role": "viewer"}))),
        (Method::DELETE, None),
    ] {
        let (status, err) =
            call(&app, method, &format!("{MEMBERS}/{owner_id}"), &admin, body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(
            err,
            json!({"error": "CANNOT_REMOVE_OWNER", "message": "Cannot remove the account owner", "details": {"userId": owner_id, "role": "owner"}})
        );
    }

    // Invalid values name their field; nothing is applied.
    for (body, field) in [
        (json!({"title": "t".repeat(101)}), "title"),
        (json!({"status": "removed"}), "status"),
        (json!({"permissions": ["read", "root"]}), "permissions"),
        (json!({"role": "superuser"}), "role"),
    ] {
        let (status, err) = call(&app, Method::PUT, &path, &owner, Some(body)).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["details"]["fields"][0]["field"], field);
    }
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"nickname": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let (_, doc) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(doc["member"]["role"], "developer");

    // Every change is audited with what it changed.
    let (_, log) = call(
        &app,
        Method::GET,
        "/v2/accounts/audit-logs?action=team.member_updated",
        &owner,
        None,
    )
    .await;
    let entries = log["audit_logs"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{log}");
    assert!(entries.iter().all(|e| e["target"] == json!(dev_id)));
}

async fn suspension_and_removal_cut_access_at_once(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let dev = app.add_member(&account, "developer");
    let dev_id = user_id(&app, &dev).await;
    let path = format!("{MEMBERS}/{dev_id}");

    let (status, doc) = call(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(json!({"status": "suspended"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["status"], "suspended");
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&dev)).await.status(),
        401
    );
    let (_, list) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}?status=suspended"),
        &owner,
        None,
    )
    .await;
    assert_eq!(list["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["total"], 3, "suspended members still count");

    // Reactivated: a member again, but the revoked key stays revoked.
    let (_, doc) = call(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(doc["status"], "active");
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&dev)).await.status(),
        401
    );

    // An admin cannot remove the other admin's superior, but can remove the developer.
    let (status, doc) = call(&app, Method::DELETE, &path, &admin, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["id"], json!(dev_id));
    assert_eq!(doc["status"], "removed");
    assert_eq!(doc["message"], "Team member removed successfully");
    assert!(doc["removedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let (status, _) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(status, 404, "removed members are gone from the team");
    let (status, _) = call(&app, Method::DELETE, &path, &owner, None).await;
    assert_eq!(status, 404, "removing twice");
    let (_, list) = call(&app, Method::GET, MEMBERS, &owner, None).await;
    assert_eq!(list["total"], 2);
    let revoked = app.query_texts(&format!(
        "SELECT id AS t FROM api_keys WHERE user_id = '{dev_id}' AND revoked_at IS NULL"
    ));
    assert!(revoked.is_empty(), "live keys left: {revoked:?}");
}

async fn bulk_operations_report_each_member(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let a = app.add_member(&account, "viewer");
    let b = app.add_member(&account, "admin");
    let (a_id, b_id) = (user_id(&app, &a).await, user_id(&app, &b).await);
    let owner_id = user_id(&app, &owner).await;
    let bulk = format!("{MEMBERS}/bulk");

    // The seed's example, with one unknown id and the owner added: the others succeed.
    let (status, doc) = call(
        &app,
        Method::POST,
        &bulk,
        &admin,
        Some(json!({"operation": "update_role", "members": [a_id, b_id, "usr_nonexistent123", owner_id], "data": {"role": "developer"}})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["operation"], "update_role");
    assert_eq!(
        doc["summary"],
        json!({"total": 4, "successful": 2, "failed": 2})
    );
    assert_eq!(
        doc["results"][0],
        json!({"userId": a_id, "status": "success", "updated": true})
    );
    assert_eq!(
        doc["results"][1],
        json!({"userId": b_id, "status": "success", "updated": true})
    );
    assert_eq!(doc["results"][2]["status"], "failed");
    assert_eq!(doc["results"][2]["error"]["code"], "MEMBER_NOT_FOUND");
    assert_eq!(doc["results"][3]["error"]["code"], "CANNOT_REMOVE_OWNER");
    for id in [&a_id, &b_id] {
        let (_, m) = call(&app, Method::GET, &format!("{MEMBERS}/{id}"), &owner, None).await;
        assert_eq!(m["member"]["role"], "developer");
    }

    // Departments, suspension and reactivation; a member already as asked is not "updated".
    let (_, doc) = call(&app, Method::POST, &bulk, &owner, Some(json!({"operation": "update_department", "members": [a_id, b_id], "data": {"department": "AI Research"}}))).await;
    assert_eq!(doc["summary"]["successful"], 2, "{doc}");
    let (_, m) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{b_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(m["member"]["department"], "AI Research");
    let (_, doc) = call(
        &app,
        Method::POST,
        &bulk,
        &owner,
        Some(json!({"operation": "suspend", "members": [a_id]})),
    )
    .await;
    assert_eq!(doc["results"][0]["updated"], true, "{doc}");
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&a)).await.status(),
        401
    );
    let (_, doc) = call(
        &app,
        Method::POST,
        &bulk,
        &owner,
        Some(json!({"operation": "reactivate", "members": [a_id, b_id]})),
    )
    .await;
    assert_eq!(doc["results"][0]["updated"], true, "{doc}");
    assert_eq!(doc["results"][1]["updated"], false, "{doc}");

    // Refusals of the whole request: touch nobody.
    let (status, err) = call(
        &app,
        Method::POST,
        &bulk,
        &b,
        Some(json!({"operation": "suspend", "members": [a_id]})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["details"]["currentRole"], "developer");
    for (body, field) in [
        (
            json!({"operation": "promote", "members": [a_id]}),
            "operation",
        ),
        (
            json!({"operation": "update_role", "members": [a_id]}),
            "data.role",
        ),
        (
            json!({"operation": "update_role", "members": [a_id], "data": {"role": "owner"}}),
            "role",
        ),
        (json!({"operation": "suspend", "members": []}), "members"),
    ] {
        let (status, err) = call(&app, Method::POST, &bulk, &owner, Some(body)).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["details"]["fields"][0]["field"], field, "{err}");
    }
    let (_, m) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{a_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(m["member"]["status"], "active");
}

/// Every member endpoint against every kind of caller. Each write targets a fresh viewer, so
/// one caller's success does not change what the next one sees.
async fn authorization_matrix(app: TestApp) {
    let account = app.default_account_id().await;
    let other = app.create_account("other-co", "boss@other.test").await;
    let other_admin = app.add_member(other["id"].as_str().expect("id"), "admin");
    let callers = [
        ("owner", app.owner_key().to_owned()),
        ("admin", app.add_member(&account, "admin")),
        ("developer", app.add_member(&account, "developer")),
        ("viewer", app.add_member(&account, "viewer")),
        ("other account's admin", other_admin),
    ];
    for (who, key) in &callers {
        let target = user_id(&app, &app.add_member(&account, "viewer")).await;
        let manager = matches!(*who, "owner" | "admin");
        let foreign = who.starts_with("other");
        let one = format!("{MEMBERS}/{target}");
        let slug = who.replace([' ', '\''], "-");
        let (status, invited) = call(
            &app,
            Method::POST,
            &format!("{MEMBERS}/invite"),
            app.owner_key(),
            Some(json!({"email": format!("for-{slug}@example.com"), "role": "viewer"})),
        )
        .await;
        assert_eq!(status, 201, "{invited}");
        let invitation = format!(
            "/v2/accounts/team/invitations/{}",
            invited["invitation"]["id"].as_str().expect("id")
        );
        let manage_invitation = if manager {
            200
        } else if foreign {
            404
        } else {
            403
        };
        let invite_status = if manager || foreign { 201 } else { 403 };
        let extra: [(Method, String, Option<Value>, u16); 6] = [
            (
                Method::POST,
                format!("{MEMBERS}/invite"),
                Some(json!({"email": format!("by-{slug}@example.com"), "role": "viewer"})),
                invite_status,
            ),
            (
                Method::POST,
                MEMBERS.to_owned(),
                Some(json!({"email": format!("flat-by-{slug}@example.com"), "role": "viewer"})),
                invite_status,
            ),
            (
                Method::POST,
                format!("{invitation}/resend"),
                None,
                manage_invitation,
            ),
            (Method::DELETE, invitation.clone(), None, manage_invitation),
            (
                Method::GET,
                "/v2/accounts/team/activity".to_owned(),
                None,
                200,
            ),
            (
                Method::POST,
                "/v2/accounts/team/activity/events".to_owned(),
                Some(
                    json!({"events": [{"id": format!("m-{slug}"), "userId": target, "type": "collaboration"}]}),
                ),
                if manager {
                    200
                } else if foreign {
                    422
                } else {
                    403
                },
            ),
        ];
        for (method, path, body, expected) in extra {
            let before = crate::authorization::written_state(&app);
            let (status, doc) = call(&app, method.clone(), &path, key, body).await;
            assert_eq!(status, expected, "{who}: {method} {path}: {doc}");
            if status >= 400 {
                assert_eq!(
                    crate::authorization::written_state(&app),
                    before,
                    "{who}: {method} {path} was refused but wrote"
                );
            }
        }
        let cases: [(Method, String, Option<Value>, u16); 5] = [
            (Method::GET, MEMBERS.to_owned(), None, 200),
            (
                Method::GET,
                one.clone(),
                None,
                if foreign { 404 } else { 200 },
            ),
            (
                Method::PUT,
                one.clone(),
                Some(json!({"title": "Analyst"})),
                if manager {
                    200
                } else if foreign {
                    404
                } else {
                    403
                },
            ),
            (
                Method::POST,
                format!("{MEMBERS}/bulk"),
                Some(
                    json!({"operation": "update_department", "members": [target], "data": {"department": "Ops"}}),
                ),
                if manager || foreign { 200 } else { 403 },
            ),
            (
                Method::DELETE,
                one.clone(),
                None,
                if manager {
                    200
                } else if foreign {
                    404
                } else {
                    403
                },
            ),
        ];
        for (method, path, body, expected) in cases {
            let before = crate::authorization::written_state(&app);
            let (status, doc) = call(&app, method.clone(), &path, key, body).await;
            assert_eq!(status, expected, "{who}: {method} {path}: {doc}");
            let refused_item = foreign && path.ends_with("/bulk");
            if refused_item {
                assert_eq!(doc["results"][0]["error"]["code"], "MEMBER_NOT_FOUND");
            }
            if status >= 400 || refused_item {
                assert_eq!(
                    crate::authorization::written_state(&app),
                    before,
                    "{who}: {method} {path} was refused but wrote"
                );
            }
        }
    }
}

/// A read-only field sent with another value than a read shows is refused naming it, and
/// nothing changes; sent as read (or re-formatted, for a timestamp) it is accepted.
async fn changed_read_only_fields_are_refused_and_unchanged_ones_accepted(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let dev = app.add_member(&account, "developer");
    let dev_id = user_id(&app, &dev).await;
    let path = format!("{MEMBERS}/{dev_id}");
    let (status, read) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(status, 200, "{read}");
    let read = read["member"].clone();

    let joined = read["joinedAt"].as_str().expect("joinedAt").to_owned();
    let mut as_read = read.clone();
    as_read["title"] = json!("Engineer");
    as_read["joinedAt"] = json!(joined.replace('Z', "+00:00"));
    let (status, doc) = call(&app, Method::PUT, &path, &owner, Some(as_read)).await;
    assert_eq!(status, 200, "sent back as read: {doc}");
    assert_eq!(doc["title"], "Engineer");

    for (field, value) in [
        ("email", json!("someone-else@example.com")),
        ("joinedAt", json!("2020-01-01T00:00:00Z")),
        ("name", json!("A new name")),
        ("invitedBy", json!(dev_id)),
        ("username", json!("dev")),
        ("avatar", json!("https://cdn.example.com/a.png")),
    ] {
        let mut body = read.clone();
        body["title"] = json!("Changed alongside");
        body[field] = value;
        let (status, err) = call(&app, Method::PUT, &path, &owner, Some(body)).await;
        assert_eq!(status, 422, "{field}: {err}");
        assert_eq!(err["error"], "VALIDATION_ERROR", "{err}");
        assert_eq!(err["details"]["fields"][0]["field"], field, "{err}");
    }
    let (_, after) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(after["member"]["title"], "Engineer", "nothing changed");
    assert_eq!(after["member"]["email"], read["email"]);
}

on_both_backends!(
    authorization_matrix,
    changed_read_only_fields_are_refused_and_unchanged_ones_accepted,
    members_are_listed_with_counts_filters_and_pages,
    roles_are_managed_within_the_ladder,
    suspension_and_removal_cut_access_at_once,
    bulk_operations_report_each_member
);
