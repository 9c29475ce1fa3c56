//! The OpenAPI document: committed copy current, valid OpenAPI 3.1, in agreement with the router
//! in both directions, and its `/docs` page rendering every operation in headless Chromium.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

use crate::support::{served_operations, workspace, Backend, TestApp, TestDb, BIN};

/// A tool the suite drives: from `TENANTRY_TOOLS_BIN` (the virtualenv `cargo xtask test`
/// prepares) or `TENANTRY_NODE_TOOLS_BIN` (its npm tools), or the system. `None` skips the
/// test, unless `TENANTRY_REQUIRE_TOOLS=1` (set by `cargo xtask test`) makes a missing tool a
/// failure.
fn tool(name: &str, system: &[&str]) -> Option<PathBuf> {
    let from_env = ["TENANTRY_TOOLS_BIN", "TENANTRY_NODE_TOOLS_BIN"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|d| PathBuf::from(d).join(name));
    let found = from_env
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
    // Real exchanges recorded from the authorization matrix ride along with the operations.
    let with_examples = served["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter(|op| op.to_string().contains("A real exchange with the server"))
        .count();
    assert!(
        with_examples >= 80,
        "{with_examples} operations carry examples"
    );
}

/// Every example in the document (request bodies, answers of every status) validates against
/// the schema it illustrates, formats included: an example is a value a client may copy.
#[tokio::test]
async fn every_example_validates_against_its_schema() {
    let doc: Value = serde_json::from_str(&generated()).expect("json");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let mut media_types: Vec<(String, &Value)> = Vec::new();
            if let Some(content) = op["requestBody"]["content"].as_object() {
                media_types.extend(content.values().map(|m| ("request".to_owned(), m)));
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                if let Some(content) = response["content"].as_object() {
                    media_types.extend(content.values().map(|m| (status.clone(), m)));
                }
            }
            for (what, media) in media_types {
                let Some(examples) = media["examples"].as_object() else {
                    continue;
                };
                let mut root = serde_json::json!({ "components": doc["components"].clone() });
                for (k, v) in media["schema"].as_object().expect("schema") {
                    root[k] = v.clone();
                }
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&root)
                    .expect("schema compiles");
                for (name, example) in examples {
                    checked += 1;
                    for e in validator.iter_errors(&example["value"]) {
                        failures.push(format!(
                            "{method} {path} {what} example {name}: {e} at {}",
                            e.instance_path()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 200, "only {checked} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{checked} examples validate against their schemas");
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

/// (alias, documented path) pairs: routed, not documented.
const ALIASES: [(&str, &str); 2] = [
    (
        "/accounts/{account_name}/settings/",
        "/accounts/{account_name}/settings",
    ),
    (
        "/v1/accounts/{account_name}/settings/",
        "/v1/accounts/{account_name}/settings",
    ),
];

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
    // Aliases the router keeps for old clients and the document leaves out (a path differing
    // only by a trailing slash is a duplicate to OpenAPI tools); each must answer like its
    // documented form (checked below).
    let registered: BTreeSet<String> = router_patterns()
        .into_iter()
        .filter(|p| !ALIASES.iter().any(|(alias, _)| alias == p))
        .collect();
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
    let owner = app.owner_key().to_owned();
    for (alias, documented) in ALIASES {
        assert!(paths.contains_key(documented), "{documented} is documented");
        let via_alias = app.get(&concrete(alias), Some(&owner)).await;
        let status = via_alias.status();
        let alias_body = via_alias.text().await.expect("body");
        let direct = app.get(&concrete(documented), Some(&owner)).await;
        assert_eq!(status, direct.status(), "{alias} answers like {documented}");
        assert_eq!(alias_body, direct.text().await.expect("body"));
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
    // Read before Chromium runs: a pooled connection idle through its run may be closed.
    let schemas = served_schema_names(&app).await;
    let served = served_operations(&app).await;
    let operations: Vec<String> = served
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

    // Findable and followable: a search box and a sidebar of the groups; every schema has an
    // anchor, and a body's `$ref` is a link to it.
    assert!(dom.contains("id=\"search\""), "no search box");
    assert!(dom.contains("id=\"sidebar\""), "no sidebar");
    for name in &schemas {
        assert!(
            dom.contains(&format!("id=\"schema-{name}\"")),
            "schema {name} has no anchor"
        );
    }
    assert!(
        dom.contains("href=\"#schema-AccountCreate\""),
        "no link to AccountCreate"
    );
    assert!(
        dom.contains("class=\"ref\" href=\"#schema-"),
        "no `$ref` inside a schema is a link"
    );
    // The operator's account creation shows its request fields, and every operation lists
    // each status the document gives it.
    let create = section_of(&dom, "data-operation=\"createAccount\"");
    assert!(
        create.contains("owner_email"),
        "POST /admin/accounts shows no fields"
    );
    for (_, _, op) in &served {
        let id = op["operationId"].as_str().expect("id");
        let documented: BTreeSet<&str> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(String::as_str)
            .collect();
        let marker = format!("data-operation=\"{id}\" data-statuses=\"");
        let at = dom
            .find(&marker)
            .unwrap_or_else(|| panic!("{id}: no statuses on the page"))
            + marker.len();
        let listed: BTreeSet<&str> = dom[at..at + dom[at..].find('"').expect("quote")]
            .split(' ')
            .collect();
        assert_eq!(listed, documented, "{id}: the page lists other statuses");
    }
    assert!(
        !dom.to_lowercase().contains("seed 0"),
        "the page speaks of seeds"
    );

    // The search narrows the operations (initial words from the address).
    let searched = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{}#search=transfer%20ownership", app.url("/docs")))
        .output()
        .expect("run chromium");
    let searched = String::from_utf8_lossy(&searched.stdout);
    assert!(
        searched.contains("data-visible-operations=\"1\""),
        "searching `transfer ownership` should leave one operation: {}",
        &searched[..searched.len().min(600)]
    );

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

/// Every schema reachable from the document, with the JSON pointer it sits at.
fn walk_schemas<'a>(at: String, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            out.push((at.clone(), value));
            for (k, v) in map {
                walk_schemas(format!("{at}/{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_schemas(format!("{at}/{i}"), v, out);
            }
        }
        _ => {}
    }
}

/// What client generators need to produce usable types: no catch-all object (TypeScript makes
/// it `Record<string, never>`), unique titles (Python generators drop a model that shares one),
/// no enum whose members collide as identifiers (the 597 time zones), and the shapes clients
/// rely on spelled out.
#[tokio::test]
async fn document_gives_client_generators_concrete_types() {
    let text = generated();
    // It speaks to users: each API by what it is, never by the internal numbering of the
    // documents it was built from.
    assert!(
        !text.to_lowercase().contains("seed"),
        "the document mentions seeds"
    );
    let doc: Value = serde_json::from_str(&text).expect("json");
    let mut nodes = Vec::new();
    walk_schemas(String::new(), &doc, &mut nodes);
    for (at, node) in &nodes {
        let Some(map) = node.as_object() else {
            continue;
        };
        // An object schema either lists its properties or says what else it admits.
        if map.get("type") == Some(&Value::String("object".into())) && !at.contains("/examples/") {
            assert!(
                map.contains_key("properties") || map.contains_key("additionalProperties"),
                "{at}: a bare object schema becomes Record<string, never>: {node}"
            );
        }
        if let Some(values) = map.get("enum").and_then(Value::as_array) {
            // As openapi-python-client names members: a value starting with a letter loses its
            // other characters (`GMT+0`, `GMT-0` and `GMT0` all become `GMT0`); any other value
            // is numbered.
            let identifiers: BTreeSet<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| match v.as_str() {
                    Some(v) if v.starts_with(|c: char| c.is_ascii_alphabetic()) => v
                        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
                        .to_uppercase(),
                    _ => format!("VALUE_{i}"),
                })
                .collect();
            assert_eq!(
                identifiers.len(),
                values.len(),
                "{at}: enum members collide as identifiers"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let titles: BTreeSet<&str> = schemas
        .values()
        .filter_map(|s| s["title"].as_str())
        .collect();
    assert_eq!(
        titles.len(),
        schemas.len(),
        "every schema has its own title"
    );

    // Request bodies and success responses name a schema of their own.
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            // JSON, or the form body of the token grant.
            let content = &op["requestBody"]["content"];
            let request = ["application/json", "application/x-www-form-urlencoded"]
                .iter()
                .map(|media| &content[*media]["schema"]["$ref"])
                .find(|r| r.is_string())
                .unwrap_or(&serde_json::Value::Null);
            if !op["requestBody"].is_null() {
                assert!(
                    request.is_string(),
                    "{method} {path}: request body without a named schema"
                );
                bodies += 1;
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                if let Some(schema) = response["content"]["application/json"]["schema"].as_object()
                {
                    assert!(
                        schema.contains_key("$ref"),
                        "{method} {path} {status}: inline schema"
                    );
                }
            }
        }
    }
    assert!(bodies >= 35, "{bodies} request bodies");

    // The preferences time zone is a described string; the API key's secret is promised;
    // `limit` is an integer with the server's bounds; ids say their format.
    let tz = &schemas["PreferencesSection"]["properties"]["timezone"]["anyOf"][0];
    assert_eq!(tz["type"], "string", "{tz}");
    assert!(tz["description"]
        .as_str()
        .expect("described")
        .contains("IANA"));
    let created = &schemas["ApiKeyCreated"]["properties"]["data"];
    assert!(created["required"]
        .as_array()
        .expect("required")
        .contains(&"secret".into()));
    let list = &doc["paths"]["/api/user/api-keys"]["get"]["parameters"];
    let limit = list
        .as_array()
        .expect("params")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit");
    assert_eq!(limit["schema"]["type"], "integer");
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 200);
    let member = &doc["paths"]["/v2/accounts/team/members/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(member["pattern"], "^usr_[0-9a-z]{26}$");
    let section =
        &doc["paths"]["/v2/accounts/settings/{section}"]["get"]["parameters"][0]["schema"];
    assert_eq!(section["$ref"], "#/components/schemas/SectionName");
    assert_eq!(
        schemas["SectionName"]["enum"]
            .as_array()
            .expect("enum")
            .len(),
        5
    );
    assert!(!doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .any(|p| p.ends_with('/')));
}

/// Each operation lists its error statuses with its API's error schema; conditional writes
/// declare `If-Match`/`If-None-Match`, 412 and the `ETag` they answer; cacheable reads declare
/// `If-None-Match`, 304 and `ETag`. (The authorization matrix checks that every status the
/// server answers is listed; this checks the declarations themselves.)
#[tokio::test]
async fn errors_and_preconditions_are_declared_per_operation() {
    let doc: Value = serde_json::from_str(&generated()).expect("json");
    let error_schema = |path: &str| match path {
        p if p.starts_with("/api/") => "ApiError",
        p if p.starts_with("/accounts/") => "CatalogError",
        p if p.starts_with("/tenants/") => "Problem",
        _ => "V2Error",
    };
    let mut conditional = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            let names = |p: &str| -> Vec<String> {
                op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|x| x["in"] == p)
                            .map(|x| x["name"].as_str().expect("name").to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let api = ["/v2/", "/api/", "/accounts/", "/tenants/", "/admin/"]
                .iter()
                .any(|p| path.starts_with(p));
            if api {
                for (status, response) in responses {
                    if status.starts_with('4') && status != "401" {
                        let media = response["content"].as_object().expect("content");
                        let schema = media.values().next().expect("media")["schema"]["$ref"]
                            .as_str()
                            .expect("ref");
                        assert!(
                            schema.ends_with(&format!("/{}", error_schema(path))),
                            "{method} {path} {status}: {schema}"
                        );
                    }
                }
                assert!(responses.contains_key("400") && responses.contains_key("429"));
                if op["security"] != serde_json::json!([]) {
                    assert!(responses.contains_key("401"), "{method} {path}: no 401");
                }
                if op.get("requestBody").is_some() {
                    for status in ["413", "415"] {
                        assert!(responses.contains_key(status), "{method} {path}: {status}");
                    }
                }
            }
            if responses.contains_key("304") {
                assert!(names("header").contains(&"If-None-Match".to_owned()));
                assert!(responses["200"]["headers"]["ETag"].is_object());
                assert!(responses["304"]["headers"]["ETag"].is_object());
            }
            if names("header").contains(&"If-Match".to_owned()) {
                assert!(responses.contains_key("412"), "{method} {path}: no 412");
                assert!(responses["200"]["headers"]["ETag"].is_object());
                conditional.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert_eq!(
        conditional,
        [
            "PUT /v2/accounts/settings/{section}",
            "POST /v2/accounts/settings/{section}/rollback",
            "PATCH /tenants/{id}/settings",
        ]
    );
    // The tenant settings API answers invalid values with 400, and says so in the error list.
    let patch = &doc["paths"]["/tenants/{id}/settings"]["patch"]["responses"];
    assert!(patch["400"].is_object() && patch["422"].is_null());
    let errors =
        std::fs::read_to_string(workspace().join("docs/api/errors.md")).expect("errors.md");
    let row = errors
        .lines()
        .find(|l| l.starts_with("| `VALIDATION_ERROR`"))
        .expect("VALIDATION_ERROR row");
    assert!(row.contains("tenant settings API: 400"), "{row}");
}

/// The document as a client developer feeds it to a generator: written to a file of its own.
fn document_file(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("client dir");
    let path = dir.join("openapi.json");
    std::fs::write(&path, generated()).expect("write document");
    path
}

fn run(cmd: &mut std::process::Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// openapi-python-client generates a client from the document without a warning, and that
/// client, driven by tests/e2e/clients/drive_python_client.py, runs the main flows against the
/// real server: settings read and conditional write, team list and invite, API key creation,
/// tenant settings PATCH, the operator's account list, and an error of each API parsed as that
/// API's error model.
#[tokio::test]
async fn generated_python_client_drives_the_main_flows() {
    let Some(generator) = tool("openapi-python-client", &[]) else {
        return;
    };
    let Some(python) = tool("python", &[]) else {
        return;
    };
    let app = app().await;
    let dir = app.db.dir.join("python-client");
    let document = document_file(&dir);
    // No post-processing hooks: they would need ruff, and their absence is reported as a warning.
    let config = dir.join("config.yaml");
    std::fs::write(&config, "post_hooks: []\n").expect("config");
    let (ok, text) = run(std::process::Command::new(&generator)
        .arg("generate")
        .arg("--path")
        .arg(&document)
        .args(["--meta", "none", "--config"])
        .arg(&config)
        .arg("--output-path")
        .arg(dir.join("tenantry_client")));
    assert!(ok, "openapi-python-client failed:\n{text}");
    assert!(
        !text.to_lowercase().contains("warning") && !text.contains("Unable to"),
        "openapi-python-client warned:\n{text}"
    );

    let tenant = app
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tenant id:"))
        .expect("tenant id printed")
        .trim()
        .to_owned();
    let (ok, text) = run(std::process::Command::new(&python)
        .arg(workspace().join("tests/e2e/clients/drive_python_client.py"))
        .env("PYTHONPATH", &dir)
        .env("TENANTRY_URL", &app.base)
        .env("TENANTRY_KEY", app.owner_key())
        .env("TENANTRY_OPERATOR_KEY", app.operator_key())
        .env("TENANTRY_TENANT", &tenant));
    assert!(ok, "the generated Python client failed a flow:\n{text}");
    println!("{}", text.trim());
}

/// openapi-typescript generates types from the document; a TypeScript file using them for the
/// main calls compiles under `tsc --strict`, and a file of deliberately wrong uses fails on
/// each of its marked lines (so the types constrain something: a `Record<string, never>` body
/// would fail the first file, and types that admit anything would pass the second).
#[tokio::test]
async fn generated_typescript_types_compile_the_main_calls() {
    let Some(generator) = tool("openapi-typescript", &[]) else {
        return;
    };
    let Some(tsc) = tool("tsc", &[]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tenantry-ts-{}", ulid::Ulid::new()));
    let document = document_file(&dir);
    let (ok, text) = run(std::process::Command::new(&generator)
        .arg(&document)
        .arg("-o")
        .arg(dir.join("api.d.ts")));
    assert!(ok, "openapi-typescript failed:\n{text}");
    for file in ["api_types.ts", "usage.ts", "wrong_usage.ts"] {
        std::fs::copy(
            workspace().join("tests/e2e/clients").join(file),
            dir.join(file),
        )
        .expect("copy TypeScript file");
    }
    let compile = |file: &str| {
        run(std::process::Command::new(&tsc)
            .current_dir(&dir)
            .args([
                "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
            ])
            .args(["--moduleResolution", "bundler", file]))
    };
    let (ok, text) = compile("usage.ts");
    assert!(ok, "the main calls do not type-check:\n{text}");

    let (ok, text) = compile("wrong_usage.ts");
    assert!(!ok, "deliberately wrong uses compiled");
    let wrong = std::fs::read_to_string(dir.join("wrong_usage.ts")).expect("read");
    let marked: BTreeSet<usize> = wrong
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("// WRONG"))
        .map(|(i, _)| i + 1)
        .collect();
    let refused: BTreeSet<usize> = text
        .lines()
        .filter_map(|l| l.strip_prefix("wrong_usage.ts("))
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    assert_eq!(
        refused, marked,
        "tsc refused other lines than the marked ones:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "tsc --strict: the main calls type-check; {} wrong uses refused",
        marked.len()
    );
}

async fn served_schema_names(app: &TestApp) -> Vec<String> {
    let doc: Value = app
        .get("/openapi.json", None)
        .await
        .json()
        .await
        .expect("json");
    doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .cloned()
        .collect()
}

/// The element opened by `marker` up to the next operation's.
fn section_of<'a>(dom: &'a str, marker: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in the page"));
    let rest = &dom[start + marker.len()..];
    let end = rest.find("data-operation=").unwrap_or(rest.len());
    &rest[..end]
}
