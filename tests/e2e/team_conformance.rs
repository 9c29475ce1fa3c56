//! Team dialect conformance: every id the member list shows resolves and can be removed, the
//! list's pages bound members and pending invitations alike, and the owner may describe
//! themselves.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, TestApp};
use crate::team_members::user_id;

const MEMBERS: &str = "/v2/accounts/team/members";

fn ids(page: &Value) -> Vec<String> {
    page["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Walks the list `limit` at a time; every page holds at most `limit` entries.
async fn walk(app: &TestApp, key: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{MEMBERS}?limit={limit}&cursor={c}"),
            None => format!("{MEMBERS}?limit={limit}"),
        };
        let (status, page) = call(app, Method::GET, &path, key, None).await;
        assert_eq!(status, 200, "{page}");
        let got = ids(&page);
        assert!(
            got.len() <= limit,
            "{limit} asked, {} shown: {page}",
            got.len()
        );
        seen.extend(got);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(seen.len() < 100, "the walk does not end: {seen:?}");
    }
    seen
}

async fn pending_members_page_with_members_and_resolve_by_id(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    let dev = app.add_member(&account, "developer");
    let mut invitations = Vec::new();
    for n in 0..3 {
        let (status, doc) = call(
            &app,
            Method::POST,
            MEMBERS,
            &owner,
            Some(json!({ "email": format!("new{n}@example.com"), "role": "viewer", "title": "Analyst" })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
        invitations.push(doc["invitationId"].as_str().expect("id").to_owned());
    }
    let members = vec![
        user_id(&app, &owner).await,
        user_id(&app, &viewer).await,
        user_id(&app, &dev).await,
    ];

    // One sequence under one cursor: the members, then the invitations oldest first, whatever
    // the page size (3 ends a page exactly on the last member).
    for limit in [1, 2, 3, 4, 50] {
        let seen = walk(&app, &owner, limit).await;
        assert_eq!(seen.len(), 6, "limit {limit}: {seen:?}");
        let mut first: Vec<String> = seen[..3].to_vec();
        first.sort();
        let mut expected = members.clone();
        expected.sort();
        assert_eq!(first, expected, "limit {limit}: members first");
        assert_eq!(
            seen[3..],
            invitations[..],
            "limit {limit}: invitations in order"
        );
    }
    // Filters hold across the sequence: viewers are one member and three invitations.
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}?role=viewer&limit=2"),
        &owner,
        None,
    )
    .await;
    assert_eq!(ids(&page), vec![members[1].clone(), invitations[0].clone()]);
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}?status=active&limit=50"),
        &owner,
        None,
    )
    .await;
    assert_eq!(ids(&page).len(), 3, "{page}");

    // Every listed invitation id resolves to the pending member the list shows, for any member.
    let (_, full) = call(&app, Method::GET, MEMBERS, &viewer, None).await;
    let listed = full["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == json!(invitations[0]))
        .expect("listed")
        .clone();
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{}", invitations[0]),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["member"], listed);
    assert_eq!(doc["member"]["status"], "pending");
    assert_eq!(doc["member"]["email"], "new0@example.com");
    assert_eq!(doc["member"]["title"], "Analyst");

    // DELETE cancels, under the cancel route's rules: not for developers.
    let path = format!("{MEMBERS}/{}", invitations[0]);
    let (status, err) = call(&app, Method::DELETE, &path, &dev, None).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS");
    let (status, doc) = call(&app, Method::DELETE, &path, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["id"], json!(invitations[0]));
    assert_eq!(doc["status"], "cancelled");
    assert!(doc["cancelledAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let (status, err) = call(&app, Method::DELETE, &path, &owner, None).await;
    assert_eq!(status, 410, "{err}");
    assert_eq!(err["error"], "INVITATION_CANCELLED");
    // No longer a pending member: not found, not listed.
    let (status, err) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(
        err,
        json!({"error": "MEMBER_NOT_FOUND", "message": "Team member not found", "details": {"userId": invitations[0]}})
    );
    assert!(!walk(&app, &owner, 2).await.contains(&invitations[0]));

    // Another account's invitation is not found.
    let other = app.create_account("other-co", "boss@other.test").await;
    let other_key = other["owner_api_key"].as_str().expect("key");
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("{MEMBERS}/{}", invitations[1]),
        other_key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("{MEMBERS}/{}", invitations[1]),
        other_key,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn the_owner_describes_themselves_but_keeps_role_and_status(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let owner_id = user_id(&app, &owner).await;
    let path = format!("{MEMBERS}/{owner_id}");

    let (status, doc) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"title": "Founder", "department": "Leadership"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        (doc["title"].clone(), doc["department"].clone()),
        (json!("Founder"), json!("Leadership"))
    );
    assert_eq!(doc["role"], "owner");
    let (_, doc) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({"title": null})),
    )
    .await;
    assert_eq!(doc["title"], Value::Null);
    assert_eq!(doc["department"], "Leadership");

    // Role, status and permissions stay out of reach, alone or beside a title.
    for body in [
        json!({"role": "admin"}),
        json!({"status": "suspended"}),
        json!({"permissions": ["read"]}),
        json!({"title": "CEO", "status": "suspended"}),
    ] {
        let (status, err) = call(&app, Method::PUT, &path, &owner, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"], "CANNOT_REMOVE_OWNER", "{body}");
    }
    // Only the owner describes the owner.
    let (status, err) = call(
        &app,
        Method::PUT,
        &path,
        &admin,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"], "CANNOT_REMOVE_OWNER");
    let (_, doc) = call(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(doc["member"]["title"], Value::Null);
    assert_eq!(doc["member"]["status"], "active");
}

crate::on_both_backends!(
    pending_members_page_with_members_and_resolve_by_id,
    the_owner_describes_themselves_but_keeps_role_and_status,
);
