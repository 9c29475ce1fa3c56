//! Seed 02 activity: the figures equal what was recorded — sign-ins by the service itself,
//! product events reported by the host through `POST /v2/accounts/team/activity/events`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};
use crate::team_members::user_id;

const EVENTS: &str = "/v2/accounts/team/activity/events";

on_both_backends!(activity_figures_are_the_recorded_ones);

async fn activity_figures_are_the_recorded_ones(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let dev = app.add_member(&account, "developer");
    let owner_id = user_id(&app, &owner).await;
    let dev_id = user_id(&app, &dev).await;

    // Two sign-ins of the owner.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({ "new_password": "the owner's long passphrase" })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": "owner@localhost", "password": "the owner's long passphrase" }))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), 200);
    }

    let forty_days_ago = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let batch = json!({ "events": [
        { "id": "h-1", "userId": dev_id, "type": "endpoint.created", "count": 3 },
        { "id": "h-2", "userId": dev_id, "type": "endpoint.executed", "count": 145 },
        { "id": "h-3", "userId": dev_id, "type": "collaboration" },
        { "id": "h-4", "userId": dev_id, "type": "collaboration" },
        { "id": "h-5", "userId": dev_id, "type": "endpoint.shared" },
        { "id": "h-6", "userId": owner_id, "type": "knowledge.shared", "count": 4 },
        { "id": "h-7", "userId": owner_id, "type": "cross_team_project" },
        { "id": "h-8", "userId": dev_id, "type": "endpoint.executed", "count": 10, "occurredAt": forty_days_ago },
    ]});
    let (status, doc) = call(&app, Method::POST, EVENTS, &owner, Some(batch.clone())).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        (doc["recorded"].clone(), doc["duplicates"].clone()),
        (json!(8), json!(0))
    );
    // A retried batch changes nothing.
    let (status, doc) = call(&app, Method::POST, EVENTS, &owner, Some(batch)).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        (doc["recorded"].clone(), doc["duplicates"].clone()),
        (json!(0), json!(8))
    );
    assert_eq!(
        doc["results"][0],
        json!({ "id": "h-1", "status": "duplicate" })
    );

    let (status, a) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/activity?period=30d",
        &dev,
        None,
    )
    .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["period"], "30d");
    assert_eq!(
        a["summary"],
        json!({
            "totalMembers": 2,
            "activeMembers": 2,
            "newMembers": 1,
            "totalActivity": 2 + 145 + 3 + 2,
            "collaborationScore": 5.0,
        })
    );
    assert_eq!(
        a["teamCollaboration"],
        json!({ "sharedEndpoints": 1, "crossTeamProjects": 1, "knowledgeSharing": 4 })
    );
    assert_eq!(
        a["trends"],
        json!({ "activityGrowth": "+1420.0%", "memberEngagement": 1.0, "retentionRate": 1.0 })
    );
    let row = |id: &str| -> Value {
        a["memberActivity"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["userId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    assert_eq!(
        row(&dev_id)["activity"],
        json!({ "logins": 0, "endpointExecutions": 145, "resourcesCreated": 3, "collaborations": 2 })
    );
    assert_eq!(row(&dev_id)["role"], "developer");
    assert_eq!(row(&owner_id)["activity"]["logins"], 2);

    // The member's own figures count all time, the 40-day-old executions included.
    let (status, m) = call(
        &app,
        Method::GET,
        &format!("/v2/accounts/team/members/{dev_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        m["member"]["activity"],
        json!({ "endpointsCreated": 3, "clustersManaged": 0, "totalExecutions": 155, "lastLogin": null })
    );
    assert_eq!(
        m["member"]["resources"],
        json!({ "ownedEndpoints": 3, "ownedClusters": 0, "sharedEndpoints": 1 })
    );
    let (_, m) = call(
        &app,
        Method::GET,
        &format!("/v2/accounts/team/members/{owner_id}"),
        &owner,
        None,
    )
    .await;
    assert!(m["member"]["activity"]["lastLogin"].is_string(), "{m}");

    // Bad input, refused whole.
    let one = |event: Value| json!({ "events": [event] });
    let (status, doc) = call(
        &app,
        Method::POST,
        EVENTS,
        &dev,
        Some(one(
            json!({ "id": "x", "userId": dev_id, "type": "collaboration" }),
        )),
    )
    .await;
    assert_eq!(status, 403, "only managers report activity: {doc}");
    for event in [
        json!({ "id": "x1", "userId": dev_id, "type": "teleported" }),
        json!({ "id": "x2", "userId": "usr_01hzzzzzzzzzzzzzzzzzzzzzzz", "type": "collaboration" }),
        json!({ "id": "x3", "userId": dev_id, "type": "collaboration", "count": 0 }),
        json!({ "id": "bad id", "userId": dev_id, "type": "collaboration" }),
        json!({ "id": "x4", "userId": dev_id, "type": "collaboration", "occurredAt": "2999-01-01T00:00:00Z" }),
        json!({ "id": "x5", "userId": dev_id, "type": "collaboration", "occurredAt": "yesterday" }),
    ] {
        let (status, doc) =
            call(&app, Method::POST, EVENTS, &owner, Some(one(event.clone()))).await;
        assert_eq!(status, 422, "{event} -> {doc}");
        assert_eq!(doc["error"], "VALIDATION_ERROR");
    }
    let (status, doc) = call(
        &app,
        Method::POST,
        EVENTS,
        &owner,
        Some(json!({ "events": [] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/activity?period=1y",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc["details"]["field"], "period");
    let stored = app.query_texts("SELECT event_id AS t FROM team_activity_events");
    assert_eq!(
        stored.len(),
        8,
        "nothing of the refused batches was written"
    );
}
