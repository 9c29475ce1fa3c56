//! Custom permissions enforced (decision 0019): the "Custom permissions" section of
//! authorization_matrix.md, each row run against the real server with a fresh member, plus the
//! paths the table cannot show (permissions carried through an invitation, a permission change
//! taking effect on live credentials, the member display).

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, token_in, workspace, TestApp};
use crate::team_members::user_id;

const SECTION: &str = "## Custom permissions";
const PASSWORD: &str = "a long enough passphrase for permissions";

#[derive(Debug)]
struct Row {
    role: String,
    permissions: Vec<String>,
    credential: String,
    method: String,
    path: String,
    body: String,
    status: u16,
    code: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(workspace().join("tests/e2e/authorization_matrix.md"))
        .expect("matrix source");
    let (_, section) = text
        .split_once(SECTION)
        .expect("custom permissions section");
    let rows: Vec<Row> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| role "))
        .map(|l| {
            let f: Vec<String> = l
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect();
            assert_eq!(f.len(), 8, "{l}");
            Row {
                role: f[0].clone(),
                permissions: if f[1] == "none" {
                    Vec::new()
                } else {
                    f[1].split(',').map(str::to_owned).collect()
                },
                credential: f[2].clone(),
                method: f[3].clone(),
                path: f[4].clone(),
                body: f[5].clone(),
                status: f[6].parse().expect("status"),
                code: f[7].clone(),
            }
        })
        .collect();
    assert!(rows.len() >= 10, "the section lost its rows");
    rows
}

/// The error code wherever the dialect puts it.
fn code_of(doc: &Value) -> Option<String> {
    doc["error"]
        .as_str()
        .or_else(|| doc["error"]["code"].as_str())
        .or_else(|| doc["code"].as_str())
        .map(str::to_owned)
        .or_else(|| doc[0]["errorCode"].as_u64().map(|c| c.to_string()))
}

/// A new member with `role` and these custom permissions (set by the owner through the API):
/// (their key, their user id).
async fn member(
    app: &TestApp,
    account: &str,
    role: &str,
    permissions: &[String],
) -> (String, String) {
    let key = app.add_member(account, role);
    let id = user_id(app, &key).await;
    let (status, doc) = call(
        app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{id}"),
        app.owner_key(),
        Some(json!({ "permissions": permissions })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    (key, id)
}

/// A session of the member whose key this is: their password is set with the key (a member
/// always manages their own sign-in), then they sign in.
async fn session(app: &TestApp, key: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/user/password",
        key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (_, profile) = call(app, Method::GET, "/api/user/profile", key, None).await;
    let email = profile["data"]["email"].as_str().expect("email").to_owned();
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    doc["data"]["token"].as_str().expect("token").to_owned()
}

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
]; custom_permissions_narrow_the_role_for_every_credential);

on_both_backends!(permissions_travel_with_the_invitation_and_apply_to_live_credentials,);

async fn custom_permissions_narrow_the_role_for_every_credential(app: TestApp) {
    let account = app.default_account_id().await;
    let tenant = app
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tenant id:"))
        .expect("tenant id printed")
        .trim()
        .to_owned();
    let mut failures = Vec::new();
    for row in rows() {
        let (key, id) = member(&app, &account, &row.role, &row.permissions).await;
        let credential = match row.credential.as_str() {
            "key" => key,
            "session" => session(&app, &key).await,
            "own new key" => {
                let (status, doc) = call(
                    &app,
                    Method::POST,
                    "/api/user/api-keys",
                    &key,
                    Some(json!({ "name": "mine" })),
                )
                .await;
                assert_eq!(status, 201, "{doc}");
                doc["data"]["secret"].as_str().expect("secret").to_owned()
            }
            other => panic!("unknown credential {other}"),
        };
        let path = row
            .path
            .replace("{account}", "default")
            .replace("{tenant}", &tenant)
            .replace("{self}", &id);
        let method = Method::from_bytes(row.method.as_bytes()).expect("method");
        let body = (!row.body.is_empty())
            .then(|| serde_json::from_str::<Value>(&row.body).expect("row body is JSON"));
        let (status, doc) = call(&app, method, &path, &credential, body).await;
        let (code, permission) = row
            .code
            .split_once(':')
            .map_or((row.code.as_str(), None), |(c, p)| (c, Some(p)));
        let code_ok = code == "—" || code_of(&doc).as_deref() == Some(code);
        // The refusal names the permission: in the message in every dialect, and in the
        // details where the dialect has them.
        let text = doc.to_string();
        let names_it = permission.is_none_or(|p| {
            text.contains(&format!("`{p}`"))
                || doc["details"]["exceedingPermissions"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == p))
        });
        let details_ok = match (code, permission) {
            ("MISSING_PERMISSION", Some(p)) => {
                doc["details"]["requiredPermission"] == p
                    || doc["error"]["details"]["required_permission"] == p
                    || doc["code"] == "MISSING_PERMISSION"
            }
            _ => true,
        };
        if status != row.status || !code_ok || !names_it || !details_ok {
            failures.push(format!("{row:?}\n  got {status} {doc}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn permissions_travel_with_the_invitation_and_apply_to_live_credentials(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;

    // Invited as an admin limited to reading and managing the team.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members",
        &owner,
        Some(json!({ "email": "narrow@perm.test", "role": "admin", "permissions": ["read", "manage_team"] })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let mail = app.wait_for_eml("narrow@perm.test").await;
    let token = token_in(&mail, "tnt_inv_");
    let res = app
        .client
        .post(app.url(&format!("/v2/invitations/{token}/accept")))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .expect("accept");
    assert_eq!(res.status(), 201);
    let accepted: Value = res.json().await.expect("json");
    assert_eq!(
        accepted["member"]["permissions"],
        json!(["read", "manage_team"])
    );
    let key = accepted["apiKey"]["key"].as_str().expect("key").to_owned();
    let id = user_id(&app, &key).await;
    let billing = json!({ "currency": "EUR" });
    let res = app
        .put("/v2/accounts/settings/billing", &key, &billing)
        .await;
    assert_eq!(
        res.status(),
        403,
        "the first key is as narrow as the member"
    );

    // Widening by the owner applies to the live key at once; narrowing again too.
    let path = format!("/v2/accounts/team/members/{id}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({ "permissions": null })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["permissions"],
        json!(["read", "write", "execute", "manage_team"])
    );
    let res = app
        .put("/v2/accounts/settings/billing", &key, &billing)
        .await;
    assert_eq!(res.status(), 200);
    let (status, _) = call(
        &app,
        Method::PUT,
        &path,
        &owner,
        Some(json!({ "permissions": ["read"] })),
    )
    .await;
    assert_eq!(status, 200);
    let res = app
        .put("/v2/accounts/settings/billing", &key, &billing)
        .await;
    assert_eq!(res.status(), 403);

    // A permission the role does not grant is refused, not stored: they only narrow.
    let viewer = app.add_member(&account, "viewer");
    let viewer_id = user_id(&app, &viewer).await;
    let (status, err) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{viewer_id}"),
        &owner,
        Some(json!({ "permissions": ["read", "write"] })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["details"]["fields"][0]["field"], "permissions");
    let res = app
        .put(
            "/v2/accounts/settings/preferences",
            &viewer,
            &json!({"theme": "light"}),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "a viewer still has their own preferences"
    );

    // A narrowed admin cannot promote someone into what they lack (the role change alone).
    let (manager, _) = member(
        &app,
        &account,
        "admin",
        &["read".into(), "manage_team".into()],
    )
    .await;
    let (status, err) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{viewer_id}"),
        &manager,
        Some(json!({ "role": "developer" })),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "PERMISSIONS_EXCEED_OWN");
    assert_eq!(
        err["details"]["exceedingPermissions"],
        json!(["write", "execute"])
    );
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/bulk",
        &manager,
        Some(json!({ "operation": "update_role", "members": [viewer_id], "data": { "role": "developer" } })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["results"][0]["status"], "failed");
    assert_eq!(doc["results"][0]["error"]["code"], "PERMISSIONS_EXCEED_OWN");
}
