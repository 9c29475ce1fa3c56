//! The authorization matrix: every operation of the OpenAPI document × ten kinds of caller,
//! with the status each must get, kept as a readable table in `authorization_matrix.md` and
//! rendered into docs/security/authorization.md. A route missing from the table, a row naming
//! no route, or any cell that differs fails the test (every difference is listed at once).
//!
//! `TENANTRY_MATRIX_RECORD=1` rewrites the table's cells with what the server answered (SQLite
//! run only); the diff of the table is then what a reviewer reads.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::documented_responses::{DocumentedResponses, RecordedExamples};
use crate::on_both_backends;
use crate::support::{call, served_operations, workspace, TestApp};

const SOURCE: &str = "tests/e2e/authorization_matrix.md";
const RENDERED: &str = "docs/security/authorization.md";
/// The OpenAPI document's examples, recorded with the table (documented_responses.rs).
const EXAMPLES: &str = "crates/http/src/openapi/examples.json";

const COLUMNS: [&str; 10] = [
    "owner",
    "admin",
    "developer",
    "viewer",
    "scoped key",
    "expired key",
    "suspended member",
    "other account's owner",
    "no credentials",
    "disallowed IP",
];

/// Least privileged first, so that a write a lower role may not make cannot have been made (or
/// undone) by a higher one earlier in the same row.
const RUN_ORDER: [usize; 10] = [8, 9, 5, 6, 7, 4, 3, 2, 1, 0];

#[derive(Debug, Clone)]
struct Row {
    method: String,
    operation: String,
    path: String,
    body: String,
    cells: Vec<String>,
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

/// The table's rows, the text before the table, and the text after it (the credential
/// management section, kept as it is when the table is recorded).
fn parse(text: &str) -> (String, Vec<Row>, String) {
    let mut preamble = String::new();
    let mut epilogue = String::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        let fields = cells(line);
        let is_row =
            line.starts_with("| ") && fields.len() == 4 + COLUMNS.len() && fields[0] != "method";
        if !epilogue.is_empty() || (!rows.is_empty() && !line.starts_with('|')) {
            epilogue.push_str(line);
            epilogue.push('\n');
        } else if is_row {
            rows.push(Row {
                method: fields[0].clone(),
                operation: fields[1].clone(),
                path: fields[2].clone(),
                body: fields[3].clone(),
                cells: fields[4..].to_vec(),
            });
        } else if rows.is_empty() && !line.starts_with('|') {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    (preamble, rows, epilogue)
}

fn source_text(preamble: &str, rows: &[Row], epilogue: &str) -> String {
    let mut out = preamble.to_owned();
    out.push_str(&format!(
        "| method | operation | request path | body | {} |\n",
        COLUMNS.join(" | ")
    ));
    out.push_str(&format!("|{}\n", "---|".repeat(4 + COLUMNS.len())));
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.method,
            r.operation,
            r.path,
            r.body,
            r.cells.join(" | ")
        ));
    }
    out.push_str(epilogue);
    out
}

fn rendered(rows: &[Row]) -> String {
    let mut out = String::from(
        "# Authorization matrix\n\n\
         <!-- Rendered from tests/e2e/authorization_matrix.md by tests/e2e/authorization.rs; do not edit. -->\n\n\
         The status every kind of caller gets from every operation, as the test suite checks it on\n\
         SQLite and PostgreSQL (each request is in the source table). Callers:\n\n\
         - **owner, admin, developer, viewer**: members of the account with that role, using an API key\n  \
           without scopes (the role decides);\n\
         - **scoped key**: the owner's key limited to one scope that does not cover the route\n  \
           (`audit:read`, or `keys:read` for the audit log);\n\
         - **expired key**: an admin's key past its `expires_at`;\n\
         - **suspended member**: a developer whose membership is suspended;\n\
         - **other account's owner**: the owner of another account (routes without an account in\n  \
           the path act on the caller's own account; ids and names of this account are 403/404);\n\
         - **no credentials**: no `Authorization` header;\n\
         - **disallowed IP**: the owner of an account whose enforced IP allowlist excludes the caller.\n\n\
         Statuses other than 401/403 mean the caller passed authorization and the request was then\n\
         judged on its content (400/404/409/422 for the test's deliberately harmless requests).\n\
         Operator routes (`/admin`, `/metrics`) take the operator key only; public routes take none.\n\n",
    );
    out.push_str(&format!("| operation | {} |\n", COLUMNS.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(1 + COLUMNS.len())));
    for r in rows {
        out.push_str(&format!(
            "| `{} {}` | {} |\n",
            r.method,
            r.operation,
            r.cells.join(" | ")
        ));
    }
    out.push_str(&format!(
        "\n{} operations × {} callers = {} cells.\n",
        rows.len(),
        COLUMNS.len(),
        rows.len() * COLUMNS.len()
    ));
    out
}

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
    ("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.matrix.test"),
]; authorization_matrix_holds);

async fn created(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let (status, doc) = call(app, Method::POST, path, key, Some(body)).await;
    assert!((200..300).contains(&status), "setup {path}: {status} {doc}");
    doc
}

fn key_id(token: &str) -> String {
    let ulid = token
        .strip_prefix("tnt_live_")
        .and_then(|rest| rest.split('_').next())
        .expect("API key format");
    format!("key_{ulid}")
}

async fn authorization_matrix_holds(app: TestApp) {
    let text = std::fs::read_to_string(workspace().join(SOURCE)).expect("matrix source");
    let (preamble, mut rows, epilogue) = parse(&text);

    // Coverage: the rows are exactly the OpenAPI document's operations.
    let documented: BTreeSet<String> = served_operations(&app)
        .await
        .into_iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    let tabled: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.method, r.operation))
        .collect();
    assert_eq!(tabled.len(), rows.len(), "an operation has two rows");
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let unknown: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "operations missing from {SOURCE}: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows of {SOURCE} naming no operation: {unknown:?}"
    );

    // The callers.
    let account_id = app.default_account_id().await;
    let tenant = app
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tenant id:"))
        .expect("tenant id printed")
        .trim()
        .to_owned();
    let owner = app.owner_key().to_owned();
    let admin = app.add_member(&account_id, "admin");
    let developer = app.add_member(&account_id, "developer");
    let viewer = app.add_member(&account_id, "viewer");
    let victim = app.add_member(&account_id, "developer");
    let member = app.query_texts(&format!(
        "SELECT user_id AS t FROM api_keys WHERE id = '{}'",
        key_id(&victim)
    ))[0]
        .clone();
    let suspended = app.add_member(&account_id, "developer");
    app.db.execute(&format!(
        "UPDATE memberships SET status = 'suspended' WHERE user_id = (SELECT user_id FROM api_keys WHERE id = '{}')",
        key_id(&suspended)
    ));
    let expired = app.add_member(&account_id, "admin");
    app.db.execute(&format!(
        "UPDATE api_keys SET expires_at = 1 WHERE id = '{}'",
        key_id(&expired)
    ));
    let owner_user = app.query_texts(&format!(
        "SELECT user_id AS t FROM api_keys WHERE id = '{}'",
        key_id(&owner)
    ))[0]
        .clone();
    let audit_only = created(
        &app,
        &owner,
        "/api/user/api-keys",
        json!({ "name": "audit only", "scopes": ["audit:read"] }),
    )
    .await["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let keys_only = created(
        &app,
        &owner,
        "/api/user/api-keys",
        json!({ "name": "keys only", "scopes": ["keys:read"] }),
    )
    .await["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let operator = app.operator_key().to_owned();
    let other = created(
        &app,
        &operator,
        "/admin/accounts",
        json!({ "name": "other", "owner_email": "owner@other.test" }),
    )
    .await["owner_api_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let fenced = created(
        &app,
        &operator,
        "/admin/accounts",
        json!({ "name": "fenced", "owner_email": "owner@fenced.test" }),
    )
    .await["owner_api_key"]
        .as_str()
        .expect("key")
        .to_owned();
    created(
        &app,
        &fenced,
        "/api/settings/ip-whitelist",
        json!({ "cidr": "10.0.0.0/8" }),
    )
    .await;
    // Enforcement is switched on from the one address the list admits (the lockout guard has
    // no override), so every principal calling from 127.0.0.1 is outside it.
    created(
        &app,
        &fenced,
        "/api/settings/ip-whitelist",
        json!({ "cidr": "127.0.0.2/32" }),
    )
    .await;
    let from_admitted = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let res = from_admitted
        .post(app.url("/api/settings/ip-whitelist/toggle"))
        .bearer_auth(&fenced)
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "enforcement on");

    // Objects of the account the rows act on.
    let invitation = created(
        &app,
        &owner,
        "/v2/accounts/team/members/invite",
        json!({ "email": "pending@matrix.test", "role": "viewer" }),
    )
    .await["invitation"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let channel = created(&app, &owner, "/api/notifications/channels", json!({ "type": "webhook", "name": "target", "config": { "url": "https://hooks.example.com/target" } })).await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let entry = created(
        &app,
        &owner,
        "/api/settings/ip-whitelist",
        json!({ "cidr": "192.0.2.0/24" }),
    )
    .await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let key = created(
        &app,
        &owner,
        "/api/user/api-keys",
        json!({ "name": "target" }),
    )
    .await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let fill = |s: &str| {
        s.replace("{account}", "default")
            .replace("{account_id}", &account_id)
            .replace("{tenant}", &tenant)
            .replace("{member}", &member)
            .replace("{invitation}", &invitation)
            .replace("{channel}", &channel)
            .replace("{entry}", &entry)
            .replace("{key}", &key)
            .replace("{owner_user}", &owner_user)
    };

    let mut differences = Vec::new();
    let mut observed_rows = rows.clone();
    let mut sent = 0;
    // Every answer is also checked against the OpenAPI document: a listed status, a body of
    // the documented schema.
    let doc: Value = app
        .get("/openapi.json", None)
        .await
        .json()
        .await
        .expect("json");
    let mut documented = DocumentedResponses::new(doc);
    let mut examples = RecordedExamples::default();
    for (row, observed) in rows.iter().zip(observed_rows.iter_mut()) {
        let path = fill(&row.path);
        let body = (!row.body.is_empty())
            .then(|| serde_json::from_str::<Value>(&fill(&row.body)).expect("row body is JSON"));
        for column in RUN_ORDER {
            let credential: Option<&str> = match column {
                0 => Some(&owner),
                1 => Some(&admin),
                2 => Some(&developer),
                3 => Some(&viewer),
                4 if row.operation.starts_with("/v2/accounts/audit-logs") => Some(&keys_only),
                4 => Some(&audit_only),
                5 => Some(&expired),
                6 => Some(&suspended),
                7 => Some(&other),
                8 => None,
                _ => Some(&fenced),
            };
            let method = Method::from_bytes(row.method.as_bytes()).expect("method");
            let mut req = app.client.request(method, app.url(&path));
            if let Some(credential) = credential {
                req = req.bearer_auth(credential);
            }
            if let Some(body) = &body {
                req = req.json(body);
            }
            let before = written_state(&app);
            let res = req.send().await.expect("request");
            sent += 1;
            let status = res.status().as_u16().to_string();
            // A refusal writes nothing: a handler that commits and then answers 403 fails here.
            if !status.starts_with('2') {
                let after = written_state(&app);
                if after != before {
                    differences.push(format!(
                        "{} {} as {}: refused with {status} but wrote: {before:?} -> {after:?}",
                        row.method, row.operation, COLUMNS[column],
                    ));
                }
            }
            let content_type = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let answer = res.text().await.unwrap_or_default();
            if let Err(e) = documented.check(
                &row.method,
                &row.operation,
                status.parse().expect("status"),
                &content_type,
                &answer,
            ) {
                differences.push(format!("as {}: {e}", COLUMNS[column]));
            }
            examples.record(
                &format!("{} {}", row.method, row.operation),
                body.as_ref(),
                status.parse().expect("status"),
                &answer,
            );
            if status != row.cells[column] {
                differences.push(format!(
                    "{} {} as {}: expected {}, got {status} {}",
                    row.method,
                    row.operation,
                    COLUMNS[column],
                    row.cells[column],
                    &answer[..answer.len().min(200)]
                ));
            }
            observed.cells[column] = status;
        }
    }
    println!(
        "authorization matrix: {} operations x {} callers = {sent} requests; {} (operation, status) answers matched the document",
        rows.len(),
        COLUMNS.len(),
        documented.checked.len()
    );

    let record = std::env::var("TENANTRY_MATRIX_RECORD").as_deref() == Ok("1")
        && app.db.database_url.is_none();
    if record {
        rows = observed_rows;
        std::fs::write(
            workspace().join(SOURCE),
            source_text(&preamble, &rows, &epilogue),
        )
        .expect("write source");
        std::fs::write(workspace().join(RENDERED), rendered(&rows)).expect("write rendering");
        examples.write(&workspace().join(EXAMPLES));
        return;
    }
    assert!(
        differences.is_empty(),
        "{} cells differ from {SOURCE}:\n{}",
        differences.len(),
        differences.join("\n")
    );
    let committed = std::fs::read_to_string(workspace().join(RENDERED)).unwrap_or_default();
    assert!(
        committed == rendered(&rows),
        "{RENDERED} is stale: run the test with TENANTRY_MATRIX_RECORD=1"
    );
}

/// What any accepted write leaves behind, in one query: audit entries (except the records of
/// refusals themselves), settings versions and history, credentials, members, invitations,
/// channels, allowlist entries, sessions, users, usage and mails queued. Equal before and
/// after a request means the request wrote nothing a client could observe.
pub(crate) fn written_state(app: &TestApp) -> Vec<String> {
    const PARTS: [&str; 16] = [
        "SELECT COUNT(*) FROM audit_log WHERE action NOT IN ('security.ip_denied', 'login.failed', 'password_change.failed', 'email_change.failed', 'api.request')",
        "SELECT COUNT(*) FROM settings_history",
        "SELECT COALESCE(SUM(version), 0) FROM settings_documents",
        "SELECT COALESCE(SUM(version), 0) + COUNT(*) FROM user_preferences",
        "SELECT COUNT(*) * 1000 + COUNT(revoked_at) FROM api_keys",
        "SELECT COUNT(*) * 1000 + COUNT(removed_at) FROM memberships",
        "SELECT COUNT(*) * 1000 + COUNT(closed_at) FROM invitations",
        "SELECT COALESCE(MAX(expires_at), 0) FROM invitations",
        "SELECT COUNT(*) * 1000 + COUNT(DISTINCT updated_at) FROM notification_channels",
        "SELECT COUNT(*) FROM notification_rules",
        "SELECT COUNT(*) FROM ip_allowlist_entries",
        "SELECT COUNT(*) * 1000 + COUNT(revoked_at) FROM sessions",
        "SELECT COUNT(password_hash) * 1000 + COUNT(DISTINCT password_changed_at) FROM users",
        "SELECT COUNT(*) FROM usage_records",
        "SELECT COUNT(*) FROM outbox WHERE kind = 'email'",
        "SELECT COUNT(*) FROM user_mfa",
    ];
    let sql = PARTS
        .iter()
        .map(|part| format!("CAST(({part}) AS TEXT)"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    app.query_texts(&format!("SELECT {sql} AS t"))
}

/// One row of the credential management table: who asks for what, and the answer.
#[derive(Debug)]
struct CredentialRow {
    caller: String,
    method: String,
    operation: String,
    scopes: Vec<String>,
    status: String,
    code: String,
}

const CREDENTIAL_HEADING: &str = "## Credential management";

fn credential_rows(text: &str) -> Vec<CredentialRow> {
    let (_, section) = text
        .split_once(CREDENTIAL_HEADING)
        .expect("credential management section");
    section
        .lines()
        .filter(|line| line.starts_with("| "))
        .map(cells)
        .filter(|fields| fields.len() == 6 && fields[0] != "caller")
        .map(|f| CredentialRow {
            caller: f[0].clone(),
            method: f[1].clone(),
            operation: f[2].clone(),
            scopes: if f[3] == "none" {
                Vec::new()
            } else {
                f[3].split(',').map(|s| s.trim().to_owned()).collect()
            },
            status: f[4].clone(),
            code: f[5].clone(),
        })
        .collect()
}

/// A key of `key`'s member with `scopes` (none: `*`): (id, secret).
async fn new_key(app: &TestApp, key: &str, scopes: &[String]) -> (String, String) {
    let mut body = json!({ "name": "matrix" });
    if !scopes.is_empty() {
        body["scopes"] = json!(scopes);
    }
    let doc = created(app, key, "/api/user/api-keys", body).await;
    (
        doc["data"]["id"].as_str().expect("id").to_owned(),
        doc["data"]["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn sign_in(app: &TestApp, password: &str) -> Value {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": password }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
]; credential_management_holds);

/// The credential management rows of the matrix: a credential creates, regenerates and
/// deletes only keys its own power covers.
async fn credential_management_holds(app: TestApp) {
    let text = std::fs::read_to_string(workspace().join(SOURCE)).expect("matrix source");
    let rows = credential_rows(&text);
    assert!(rows.len() >= 10, "credential management rows: {rows:?}");

    // The callers.
    let owner = app.owner_key().to_owned();
    let account_id = app.default_account_id().await;
    let viewer = app.add_member(&account_id, "viewer");
    let password = "matrix-passphrase-for-sessions";
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({ "new_password": password })),
    )
    .await;
    assert_eq!(status, 204);
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &owner,
            &json!({ "session": { "require_reauth_for_sensitive": true } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let stale = sign_in(&app, password).await["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let twenty_minutes_ago = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_micros()
        - 20 * 60 * 1_000_000) as i64;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {twenty_minutes_ago}"
    ));
    let fresh = sign_in(&app, password).await["data"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mfa = |required: bool| json!({ "securityPreferences": { "requireMFA": required } });
    let mut restricted_token = String::new();
    for required in [true, false] {
        let res = app
            .client
            .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
            .bearer_auth(&owner)
            .json(&mfa(required))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        if required {
            let doc = sign_in(&app, password).await;
            assert_eq!(doc["data"]["restricted"], "mfa_enrollment");
            restricted_token = doc["data"]["token"].as_str().expect("token").to_owned();
        }
    }
    let mut scoped = std::collections::BTreeMap::new();

    let mut differences = Vec::new();
    for row in &rows {
        let caller = match row.caller.as_str() {
            "owner's key" => owner.clone(),
            "viewer's key" => viewer.clone(),
            "fresh session" => fresh.clone(),
            "stale session" => stale.clone(),
            "restricted session" => restricted_token.clone(),
            other => {
                let scopes = other
                    .strip_suffix(" key")
                    .unwrap_or_else(|| panic!("unknown caller {other}"));
                let scopes: Vec<String> = scopes.split(',').map(str::to_owned).collect();
                if !scoped.contains_key(other) {
                    scoped.insert(other.to_owned(), new_key(&app, &owner, &scopes).await.1);
                }
                scoped[other].clone()
            }
        };
        let on_key = row.operation.contains("{id}");
        let target = if on_key {
            Some(new_key(&app, &owner, &row.scopes).await.0)
        } else {
            None
        };
        let path = row
            .operation
            .replace("{id}", target.as_deref().unwrap_or_default());
        let body = (!on_key).then(|| {
            let mut body = json!({ "name": "matrix" });
            if !row.scopes.is_empty() {
                body["scopes"] = json!(row.scopes);
            }
            body
        });
        let before = match &target {
            Some(id) => Some(
                call(
                    &app,
                    Method::GET,
                    &format!("/api/user/api-keys/{id}"),
                    &owner,
                    None,
                )
                .await
                .1,
            ),
            None => None,
        };
        let method = Method::from_bytes(row.method.as_bytes()).expect("method");
        let (status, answer) = call(&app, method, &path, &caller, body).await;
        let code = answer["error"]["code"].as_str().unwrap_or_default();
        let what = format!(
            "{} {} {} [{}]",
            row.caller,
            row.method,
            row.operation,
            row.scopes.join(",")
        );
        if status.to_string() != row.status || code != row.code {
            differences.push(format!(
                "{what}: expected {} {}, got {status} {answer}",
                row.status, row.code
            ));
        }
        if let (Some(id), Some(before)) = (&target, before) {
            if !(200..300).contains(&status) {
                let (_, after) = call(
                    &app,
                    Method::GET,
                    &format!("/api/user/api-keys/{id}"),
                    &owner,
                    None,
                )
                .await;
                if after != before {
                    differences.push(format!("{what} changed the key: {before} -> {after}"));
                }
            }
        }
        // Clean up (the account's `max_api_keys`): the target and any key made.
        let made = answer["data"]["id"].as_str().filter(|_| !on_key);
        for id in target.iter().map(String::as_str).chain(made) {
            let key = if row.caller == "viewer's key" && made == Some(id) {
                &viewer
            } else {
                &owner
            };
            call(
                &app,
                Method::DELETE,
                &format!("/api/user/api-keys/{id}"),
                key,
                None,
            )
            .await;
        }
    }
    assert!(
        differences.is_empty(),
        "{} credential management rows differ from {SOURCE}:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
