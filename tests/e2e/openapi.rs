//! The OpenAPI document: committed copy current, valid OpenAPI 3.1, in agreement with the router
//! in both directions, and its `/docs` page rendering every operation in headless Chromium.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::support::{served_operations, workspace, Backend, TestApp, TestDb, BIN};

/// A tool the suite drives: from `TENANTRY_TOOLS_BIN` (the virtualenv `cargo xtask test`
/// prepares), or the system. `None` skips the test, unless `TENANTRY_REQUIRE_TOOLS=1` (set by
/// `cargo xtask test`) makes a missing tool a failure.
fn tool(name: &str, system: &[&str]) -> Option<PathBuf> {
    let from_env = std::env::var_os("TENANTRY_TOOLS_BIN").map(|d| PathBuf::from(d).join(name));
    let found = from_env
        .into_iter()
        .chain(system.iter().map(PathBuf::from))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("TENANTRY_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is required (TENANTRY_REQUIRE_TOOLS=1) but was not found"
        );
        eprintln!("skipped: {name} not installed (cargo xtask test installs it)");
    }
    found
}

async fn app() -> TestApp {
    TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await
}

fn generated() -> String {
    let out = std::process::Command::new(BIN)
        .arg("openapi")
        .output()
        .expect("run tenantry openapi");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn committed_document_is_current_and_served() {
    let committed = std::fs::read_to_string(workspace().join("docs/api/openapi.json"))
        .expect("docs/api/openapi.json");
    assert!(
        committed == generated(),
        "docs/api/openapi.json is stale: run `cargo xtask openapi`"
    );
    let app = app().await;
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), 200, "public, like the seeds themselves");
    let served: Value = res.json().await.expect("json");
    let committed: Value = serde_json::from_str(&committed).expect("json");
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
    // Examples copied from the seeds ride along with the operations they document.
    let with_examples = served["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter(|op| op.to_string().contains("Example from API document"))
        .count();
    assert!(
        with_examples >= 40,
        "{with_examples} operations carry seed examples"
    );
}

#[tokio::test]
async fn document_validates_as_openapi_3_1() {
    let Some(validator) = tool("openapi-spec-validator", &[]) else {
        return;
    };
    let path = workspace().join("docs/api/openapi.json");
    let out = std::process::Command::new(validator)
        .arg(&path)
        .output()
        .expect("run openapi-spec-validator");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("openapi-spec-validator: {}", text.trim());
    assert!(out.status.success(), "invalid OpenAPI 3.1: {text}");
}

/// Every `resource("...")` and `.route("...", ...)` pattern registered in the HTTP crate.
fn router_patterns() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                // `resource(` and its path on separate lines (as rustfmt breaks long calls).
                let text = text
                    .split("(\n")
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("(");
                for marker in ["resource(\"", ".route(\""] {
                    for (at, _) in text.match_indices(marker) {
                        let rest = &text[at + marker.len()..];
                        let end = rest.find('"').expect("closing quote");
                        out.insert(rest[..end].to_owned());
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&workspace().join("crates/http/src"), &mut out);
    out
}

/// A concrete path for a template: ids that exist nowhere, the default account's name.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{account_name}" => "default",
            s if s.starts_with('{') => "x_no_such_thing_1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn router_and_document_list_the_same_routes() {
    let doc: Value = serde_json::from_str(&generated()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    let registered = router_patterns();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI table: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented paths no route serves: {unrouted:?}"
    );

    // Methods: every documented one reaches a handler (not the router's 404/405); every other
    // method on a documented path is the resource's 405.
    let app = app().await;
    let mut probed = 0;
    for (template, item) in paths {
        let path = concrete(template);
        for method in ["get", "post", "put", "patch", "delete"] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let res = app
                .client
                .request(m, app.url(&path))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            probed += 1;
            if item.get(method).is_some() {
                assert_ne!(
                    status, 405,
                    "{method} {template} is documented but not routed"
                );
                assert!(
                    !body.contains("No route for"),
                    "{method} {template} is documented but reached the router's 404"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {template} is routed but not documented: {body}"
                );
            }
        }
    }
    println!(
        "{probed} method x path probes against {} documented paths",
        paths.len()
    );
}

#[tokio::test]
async fn docs_page_renders_every_operation_in_chromium() {
    let Some(chromium) = tool(
        "chromium",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    ) else {
        return;
    };
    let app = app().await;
    let operations: Vec<String> = served_operations(&app)
        .await
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().expect("operationId").to_owned())
        .collect();

    let profile = app.db.dir.join("chromium-profile");
    let screenshot = app.db.dir.join("docs.png");
    let chrome = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(&chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(app.url("/docs"));
        cmd.output().expect("run chromium")
    };

    let dom = chrome(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(&format!("data-operations=\"{}\"", operations.len())),
        "the page did not render the document's {} operations:\n{}",
        operations.len(),
        &dom[..dom.len().min(2000)]
    );
    for id in &operations {
        assert!(
            dom.contains(&format!("data-operation=\"{id}\"")),
            "{id} missing from /docs"
        );
    }
    for tag in [
        "Account settings",
        "Team",
        "User and organization",
        "Settings catalog",
        "Tenant settings",
    ] {
        assert!(dom.contains(tag), "dialect {tag} missing from /docs");
    }

    let shot = chrome(&[&format!("--screenshot={}", screenshot.display())]);
    assert!(
        shot.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a blank page compresses to less: {} bytes",
        png.len()
    );
    if let Ok(dir) = std::env::var("TENANTRY_SCREENSHOT_DIR") {
        std::fs::copy(&screenshot, Path::new(&dir).join("docs.png")).expect("keep screenshot");
    }
    println!(
        "/docs rendered {} operations; screenshot {} bytes",
        operations.len(),
        png.len()
    );
}
