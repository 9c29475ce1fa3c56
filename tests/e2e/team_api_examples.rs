//! Every curl example of the team API's document replayed against the server, in the
//! document's order: the documented status and the documented keys of each response.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, TestApp};
use crate::team_invitations::{INVITE, MEMBERS};

crate::on_both_backends!(seed_02_curl_examples_replay);

/// Every curl example of seed 02, in the seed's order, with the seed's bodies (ids replaced by
/// real ones): the documented status and the documented keys of each response.
async fn seed_02_curl_examples_replay(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let keys = |doc: &Value| -> Vec<String> {
        let mut k: Vec<String> = doc.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    let has = |doc: &Value, expected: &[&str]| {
        for key in expected {
            assert!(doc.get(key).is_some(), "`{key}` missing from {doc}");
        }
    };

    // Invite Team Member (the first form).
    let (status, doc) = call(
        &app,
        Method::POST,
        MEMBERS,
        &owner,
        Some(json!({
            "email": "jsmith@example.com", "role": "admin", "department": "<string>",
            "title": "<string>", "message": "<string>", "expiresIn": "7d"
        })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(
        keys(&doc),
        [
            "email",
            "expiresAt",
            "invitationId",
            "inviteUrl",
            "role",
            "status"
        ]
    );

    // List Team Members.
    let alice = app.add_member(&account, "admin");
    let alice_id = crate::team_members::user_id(&app, &alice).await;
    let bob = app.add_member(&account, "developer");
    let bob_id = crate::team_members::user_id(&app, &bob).await;
    let (status, doc) = call(&app, Method::GET, MEMBERS, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    has(&doc, &["members", "total", "roles"]);
    assert_eq!(
        keys(&doc["roles"]),
        ["admin", "developer", "owner", "pending", "viewer"]
    );
    for m in doc["members"].as_array().expect("members") {
        has(
            m,
            &[
                "id",
                "email",
                "name",
                "username",
                "avatar",
                "role",
                "permissions",
                "status",
                "invitedBy",
            ],
        );
        if m["status"] == "pending" {
            has(m, &["invitedAt", "invitationExpires"]);
        } else {
            has(m, &["joinedAt", "lastActive", "department", "title"]);
        }
    }

    // Invite Team Member (the second form).
    let (status, doc) = call(&app, Method::POST, INVITE, &owner, Some(json!({
        "email": "newmember@example.com", "role": "developer", "department": "Engineering",
        "title": "AI Engineer", "message": "Welcome to our TensorOne team! Excited to have you aboard."
    }))).await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(keys(&doc), ["invitation", "message"]);
    assert_eq!(
        keys(&doc["invitation"]),
        [
            "department",
            "email",
            "expiresAt",
            "id",
            "inviteUrl",
            "role",
            "status",
            "title"
        ]
    );
    let invitation = doc["invitation"]["id"].as_str().expect("id").to_owned();

    // Update Team Member.
    let (status, doc) = call(&app, Method::PUT, &format!("{MEMBERS}/{bob_id}"), &owner, Some(json!({
        "role": "admin", "department": "Engineering Leadership", "title": "Principal ML Engineer"
    }))).await;
    assert_eq!(status, 200, "{doc}");
    has(
        &doc,
        &[
            "id",
            "email",
            "role",
            "permissions",
            "status",
            "joinedAt",
            "department",
            "title",
        ],
    );
    assert_eq!(doc["title"], "Principal ML Engineer");

    // Resend Invitation, then Cancel Invitation.
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("/v2/accounts/team/invitations/{invitation}/resend"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    has(
        &doc["invitation"],
        &["id", "email", "status", "expiresAt", "resentAt"],
    );
    assert_eq!(doc["message"], "Invitation resent successfully");
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("/v2/accounts/team/invitations/{invitation}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(keys(&doc["invitation"]), ["cancelledAt", "id", "status"]);

    // Get Team Member Details.
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{alice_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        keys(&doc["member"]["activity"]),
        [
            "clustersManaged",
            "endpointsCreated",
            "lastLogin",
            "totalExecutions"
        ]
    );
    assert_eq!(
        keys(&doc["member"]["resources"]),
        ["ownedClusters", "ownedEndpoints", "sharedEndpoints"]
    );

    // Get Team Activity.
    let (status, doc) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/activity?period=30d",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        keys(&doc),
        [
            "memberActivity",
            "period",
            "summary",
            "teamCollaboration",
            "trends"
        ]
    );
    assert_eq!(
        keys(&doc["summary"]),
        [
            "activeMembers",
            "collaborationScore",
            "newMembers",
            "totalActivity",
            "totalMembers"
        ]
    );

    // Bulk Operations.
    let (status, doc) = call(&app, Method::POST, &format!("{MEMBERS}/bulk"), &owner, Some(json!({
        "operation": "update_role", "members": [alice_id, bob_id], "data": { "role": "developer" }
    }))).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["summary"],
        json!({ "total": 2, "successful": 2, "failed": 0 })
    );
    assert_eq!(
        doc["results"][0],
        json!({ "userId": alice_id, "status": "success", "updated": true })
    );

    // Remove Team Member.
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("{MEMBERS}/{alice_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(keys(&doc), ["id", "message", "removedAt", "status"]);

    // The error examples.
    let (status, doc) = call(
        &app,
        Method::POST,
        INVITE,
        &owner,
        Some(json!({ "email": "invalid-email", "role": "viewer" })),
    )
    .await;
    assert_eq!(
        (status, doc["details"].clone()),
        (400, json!({ "field": "email", "value": "invalid-email" }))
    );
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{MEMBERS}/{alice_id}"),
        &bob,
        Some(json!({ "title": "x" })),
    )
    .await;
    assert_eq!(
        (status, doc["error"].clone()),
        (403, json!("INSUFFICIENT_PERMISSIONS"))
    );
    assert_eq!(
        doc["details"],
        json!({ "requiredRole": "admin", "currentRole": "developer" })
    );
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/usr_nonexistent123"),
        &owner,
        None,
    )
    .await;
    assert_eq!(
        (status, doc["details"].clone()),
        (404, json!({ "userId": "usr_nonexistent123" }))
    );
    let (status, doc) = call(
        &app,
        Method::POST,
        INVITE,
        &owner,
        Some(json!({ "email": "owner@localhost", "role": "developer" })),
    )
    .await;
    assert_eq!(
        (status, doc["details"].clone()),
        (
            409,
            json!({ "email": "owner@localhost", "currentRole": "owner" })
        )
    );
    let owner_id = crate::team_members::user_id(&app, &owner).await;
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("{MEMBERS}/{owner_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(
        (status, doc["error"].clone()),
        (422, json!("CANNOT_REMOVE_OWNER"))
    );
    assert_eq!(
        doc["details"],
        json!({ "userId": owner_id, "role": "owner" })
    );
}
