//! HTTP semantics at the edge (decision 0017): HEAD on every GET route, conditional GET with
//! If-None-Match, and 405 answers that carry `Allow`, for every dialect.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::on_both_backends;
use crate::support::{served_operations, workspace, TestApp};

/// The fields a HEAD repeats from its GET.
const HEAD_FIELDS: [&str; 4] = ["content-type", "etag", "cache-control", "content-length"];

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut req = app.client.request(method, app.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("body").to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// The raw bytes a server sends for `HEAD path` on a fresh connection it then closes: the head
/// and, if the server wrongly sent one, a body (reqwest would hide it).
async fn raw_head(app: &TestApp, path: &str, key: &str) -> String {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "HEAD {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut out = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut out),
    )
    .await
    .expect("the server closes after the head")
    .expect("read");
    String::from_utf8(out).expect("ascii head")
}

/// A route of one dialect: where to read, how to change what is read, a method it refuses.
struct Sample {
    read: String,
    key: String,
    write: (Method, String, Value),
    refused: Method,
    allow: &'static str,
}

async fn tenant_id(app: &TestApp) -> String {
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    list["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "default"))
        .and_then(|a| a["tenant_id"].as_str())
        .expect("default account's tenant")
        .to_owned()
}

async fn samples(app: &TestApp) -> Vec<Sample> {
    let owner = app.owner_key().to_owned();
    let tenant = tenant_id(app).await;
    // The catalog sample reads a setting that exists only once created.
    let created = send(
        app,
        Method::POST,
        "/accounts/default/settings/USAGE_NOTIFICATION",
        Some(&owner),
        &[],
        Some(&json!({ "threshold": 100, "emailNotification": { "enable": true, "emails": ["ops@semantics.test"] } })),
    )
    .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    vec![
        Sample {
            read: "/v2/accounts/settings/billing".into(),
            key: owner.clone(),
            write: (
                Method::PUT,
                "/v2/accounts/settings/billing".into(),
                json!({ "currency": "EUR" }),
            ),
            refused: Method::DELETE,
            allow: "GET, HEAD, PUT",
        },
        Sample {
            read: "/api/user/profile".into(),
            key: owner.clone(),
            write: (
                Method::PUT,
                "/api/user/profile".into(),
                json!({ "display_name": "Semantics" }),
            ),
            refused: Method::DELETE,
            allow: "GET, HEAD, PUT",
        },
        Sample {
            read: "/accounts/default/settings/USAGE_NOTIFICATION".into(),
            key: owner.clone(),
            write: (
                Method::PATCH,
                "/accounts/default/settings/USAGE_NOTIFICATION".into(),
                json!({ "threshold": 77 }),
            ),
            refused: Method::TRACE,
            allow: "GET, HEAD, POST, PUT, PATCH, DELETE",
        },
        Sample {
            read: format!("/tenants/{tenant}/settings"),
            key: owner.clone(),
            write: (
                Method::PATCH,
                format!("/tenants/{tenant}/settings"),
                json!({ "branding": { "primaryColor": "#123456" } }),
            ),
            refused: Method::PUT,
            allow: "GET, HEAD, PATCH",
        },
        Sample {
            read: "/admin/accounts".into(),
            key: app.operator_key().to_owned(),
            write: (
                Method::POST,
                "/admin/accounts".into(),
                json!({ "name": "semantics", "owner_email": "owner@semantics.test" }),
            ),
            refused: Method::DELETE,
            allow: "GET, HEAD, POST",
        },
    ]
}

/// Per dialect: HEAD is the GET without its body; If-None-Match with the current tag is a 304
/// (GET and HEAD), and after a write the old tag gets a 200 with a new tag; an unserved method is
/// a 405 listing the served ones.
async fn every_dialect_answers_head_conditional_get_and_allow(app: TestApp) {
    for s in samples(&app).await {
        let key = Some(s.key.as_str());
        let get = send(&app, Method::GET, &s.read, key, &[], None).await;
        assert_eq!(get.status, 200, "GET {}", s.read);
        let etag = get
            .header("etag")
            .unwrap_or_else(|| panic!("GET {} has no ETag", s.read))
            .to_owned();

        let head = send(&app, Method::HEAD, &s.read, key, &[], None).await;
        assert_eq!(head.status, 200, "HEAD {}", s.read);
        assert!(head.body.is_empty(), "HEAD {} sent a body", s.read);
        for field in HEAD_FIELDS {
            assert_eq!(
                head.header(field),
                get.header(field),
                "{field} of HEAD {}",
                s.read
            );
        }
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "HEAD {} announces the GET's body length",
            s.read
        );

        for method in [Method::GET, Method::HEAD] {
            let cached = send(
                &app,
                method.clone(),
                &s.read,
                key,
                &[("if-none-match", etag.as_str())],
                None,
            )
            .await;
            assert_eq!(
                cached.status, 304,
                "{method} {} If-None-Match: {etag}",
                s.read
            );
            assert!(cached.body.is_empty());
            assert_eq!(cached.header("etag"), Some(etag.as_str()));
            assert_eq!(cached.header("cache-control"), get.header("cache-control"));
            assert_eq!(
                cached.header("content-type"),
                None,
                "a 304 carries no representation metadata"
            );
        }
        // Weak comparison, lists and `*`.
        let weak = format!("W/{}", etag.trim_start_matches("W/"));
        let listed = format!("\"other\", {etag}");
        for field in [weak.as_str(), listed.as_str(), "*"] {
            let cached = send(
                &app,
                Method::GET,
                &s.read,
                key,
                &[("if-none-match", field)],
                None,
            )
            .await;
            assert_eq!(cached.status, 304, "GET {} If-None-Match: {field}", s.read);
        }
        let other = send(
            &app,
            Method::GET,
            &s.read,
            key,
            &[("if-none-match", "\"other\"")],
            None,
        )
        .await;
        assert_eq!(other.status, 200);
        assert_eq!(other.body, get.body);

        let (method, path, body) = &s.write;
        let written = send(&app, method.clone(), path, key, &[], Some(body)).await;
        assert!(
            (200..300).contains(&written.status),
            "{method} {path}: {} {}",
            written.status,
            String::from_utf8_lossy(&written.body)
        );
        let fresh = send(
            &app,
            Method::GET,
            &s.read,
            key,
            &[("if-none-match", etag.as_str())],
            None,
        )
        .await;
        assert_eq!(fresh.status, 200, "GET {} after a write", s.read);
        assert!(!fresh.body.is_empty());
        let new_etag = fresh.header("etag").expect("new ETag");
        assert_ne!(new_etag, etag, "the write changed the ETag of {}", s.read);

        let refused = send(&app, s.refused.clone(), &s.read, key, &[], None).await;
        assert_eq!(refused.status, 405, "{} {}", s.refused, s.read);
        assert_eq!(
            refused.header("allow"),
            Some(s.allow),
            "Allow of {}",
            s.read
        );
    }

    // The transport really sends no body after a HEAD's head, and announces the GET's length.
    let get = send(
        &app,
        Method::GET,
        "/v2/accounts/settings",
        Some(app.owner_key()),
        &[],
        None,
    )
    .await;
    let raw = raw_head(&app, "/v2/accounts/settings", app.owner_key()).await;
    let (head, rest) = raw.split_once("\r\n\r\n").expect("a complete head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(rest, "", "HEAD sent a body");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-length: {}\r\n", get.body.len())),
        "{head}"
    );

    // HEAD on a path without GET is that path's 405, naming HEAD.
    let refused = send(
        &app,
        Method::HEAD,
        "/api/auth/logout",
        Some(app.owner_key()),
        &[],
        None,
    )
    .await;
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("POST"));
    let refused = send(
        &app,
        Method::OPTIONS,
        "/api/auth/logout",
        Some(app.owner_key()),
        &[],
        None,
    )
    .await;
    assert_eq!(refused.status, 405);
    let body: Value = serde_json::from_slice(&refused.body).expect("json");
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
}

/// What docs/api/account-settings.md shows ("Concurrency"): read the ETag with `curl -sI`, then
/// write with If-Match; the same tag again is stale.
async fn head_etag_makes_a_conditional_put(app: TestApp) {
    const SECURITY: &str = "/v2/accounts/settings/security";
    // `awk '/^etag/ {print $2}'`: the field goes out lower-case, alone on its line.
    let raw = raw_head(&app, SECURITY, app.owner_key()).await;
    let etag = raw
        .lines()
        .find_map(|line| line.strip_prefix("etag: "))
        .unwrap_or_else(|| panic!("no `etag:` line in {raw}"))
        .trim()
        .to_owned();
    let put = |tag: String| {
        let app = &app;
        async move {
            send(
                app,
                Method::PUT,
                SECURITY,
                Some(app.owner_key()),
                &[("if-match", tag.as_str())],
                Some(&json!({ "session": { "timeout": 4 } })),
            )
            .await
        }
    };
    let first = put(etag.clone()).await;
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let stale = put(etag).await;
    assert_eq!(
        stale.status,
        412,
        "{}",
        String::from_utf8_lossy(&stale.body)
    );
    let body: Value = serde_json::from_slice(&stale.body).expect("json");
    assert_eq!(body["error"], "VERSION_CONFLICT");
}

/// The request path the authorization matrix sends for each GET operation, with the
/// placeholders it can fill here; other ids name nothing (the answer is then a 404 for both).
fn matrix_get_paths(tenant: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("tests/e2e/authorization_matrix.md"))
        .expect("authorization matrix");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 4 && cells[1] == "GET")
                .then(|| (cells[2].to_owned(), cells[3].to_owned()))
        })
        .map(|(template, path)| {
            let path = path
                .replace("{account}", "default")
                .replace("{tenant}", tenant)
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "x_no_such_thing_1"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            (template, path)
        })
        .collect()
}

/// Every GET operation of the document: HEAD answers the GET's status with no body; a 200 has a
/// validator exactly where the document promises a 304, and that validator gives one.
async fn head_answers_like_get_on_every_get_operation(app: TestApp) {
    let tenant = tenant_id(&app).await;
    let paths = matrix_get_paths(&tenant);
    let operations = served_operations(&app).await;
    let mut checked = 0;
    let mut conditional = 0;
    for (method, template, op) in operations.iter().filter(|(m, _, _)| m == "GET") {
        let path = paths
            .iter()
            .find(|(t, _)| t == template)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("{method} {template} has no authorization matrix row"));
        let key = if path.starts_with("/admin") || path == "/metrics" {
            app.operator_key()
        } else {
            app.owner_key()
        };
        let get = send(&app, Method::GET, &path, Some(key), &[], None).await;
        let head = send(&app, Method::HEAD, &path, Some(key), &[], None).await;
        assert_eq!(head.status, get.status, "HEAD vs GET {path}");
        assert!(head.body.is_empty(), "HEAD {path} sent a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
        assert_eq!(
            head.header("cache-control"),
            get.header("cache-control"),
            "HEAD {path}"
        );
        checked += 1;
        if get.status != 200 {
            continue;
        }
        let documented = op["responses"].get("304").is_some();
        assert_eq!(
            get.header("etag").is_some(),
            documented,
            "GET {template}: ETag sent vs 304 documented"
        );
        let Some(etag) = get.header("etag") else {
            continue;
        };
        // A representation that changes by itself (metrics) cannot be asked to stay the same.
        let again = send(&app, Method::GET, &path, Some(key), &[], None).await;
        if again.header("etag") != Some(etag) {
            continue;
        }
        assert_eq!(head.header("etag"), Some(etag), "HEAD {path}");
        let cached = send(
            &app,
            Method::GET,
            &path,
            Some(key),
            &[("if-none-match", etag)],
            None,
        )
        .await;
        assert_eq!(cached.status, 304, "GET {path} If-None-Match: {etag}");
        conditional += 1;
    }
    println!("{checked} GET operations answered HEAD alike; {conditional} answered 304");
    assert!(
        checked >= 40 && conditional >= 20,
        "{checked} / {conditional}"
    );
}

on_both_backends!(
    every_dialect_answers_head_conditional_get_and_allow,
    head_etag_makes_a_conditional_put,
    head_answers_like_get_on_every_get_operation,
);
