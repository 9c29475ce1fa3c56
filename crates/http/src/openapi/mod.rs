//! The OpenAPI 3.1 document of every dialect, built from the route table in `operations` and
//! the schemas in `schemas`, served at `/openapi.json`, with a self-contained reference page at
//! `/docs` (no CDN: the page and its script ship inside this crate). `cargo xtask openapi`
//! writes the same document to docs/api/openapi.json, and a test fails when they differ.

mod operations;
mod schemas;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::error::{method_not_allowed, Dialect};
pub(crate) use operations::{operations, Access, Operation};

/// Request and response examples copied from the seeds (`xtask/extract_seed_examples.py`).
const SEED_EXAMPLES: &str = include_str!("seed_examples.json");

/// The reference page: HTML, style and script in one file, rendered from `/openapi.json`.
const DOCS_PAGE: &str = include_str!("../../assets/docs.html");

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(resource("/docs").route(web::get().to(docs_page)));
}

async fn openapi_json() -> HttpResponse {
    // The document depends on the code only: built on the first request, then served as is.
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(TEXT.get_or_init(document_text).as_str())
}

async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_PAGE)
}

fn error_schema(path: &str) -> (&'static str, &'static str) {
    match Dialect::for_path(path) {
        Dialect::V2 => ("V2Error", "application/json"),
        Dialect::Api => ("ApiError", "application/json"),
        Dialect::Catalog => ("CatalogError", "application/json"),
        Dialect::Tenant => ("Problem", "application/problem+json"),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({
                "name": name, "in": "path", "required": true,
                "schema": { "type": "string", "minLength": 1 },
            })
        })
        .collect()
}

/// `{"seed": {summary, value}}` for a media type object, when the seed shows one.
fn seed_example(examples: &Value, op: &Operation, kind: &str) -> Option<Value> {
    let entry = examples.get(format!("{} {}", op.method.to_uppercase(), op.path))?;
    let value = entry.get(kind)?;
    let seed = entry.get("seed").and_then(Value::as_str).unwrap_or("?");
    Some(
        json!({ "seed": { "summary": format!("Example from API document {seed}"), "value": value } }),
    )
}

fn operation_object(op: &Operation, examples: &Value) -> Value {
    let (error, error_media) = error_schema(op.path);
    let error_content = json!({ error_media: { "schema": schema_ref(error) } });
    let success = |status: u16| {
        let mut response = json!({ "description": http_reason(status) });
        if let Some(media) = op.media {
            response["content"] = json!({ media: { "schema": { "type": "string" } } });
            if let Some(schema) = op.response {
                response["content"] = json!({ media: { "schema": schema_ref(schema) } });
            }
        } else if let Some(schema) = op.response {
            response["content"] = json!({ "application/json": { "schema": schema_ref(schema) } });
            if status == op.status {
                if let Some(example) = seed_example(examples, op, "response") {
                    response["content"]["application/json"]["examples"] = example;
                }
            }
        }
        response
    };
    let mut responses = Map::new();
    responses.insert(op.status.to_string(), success(op.status));
    if let Some(also) = op.also {
        responses.insert(also.to_string(), success(also));
    }
    if op.method == "get" && !op.no_store {
        // conditional.rs: every such answer carries an ETag, and If-None-Match naming it is a 304.
        responses.insert(
            "304".into(),
            json!({
                "description": "Not Modified: `If-None-Match` names the current ETag (weak comparison, or `*`); no body",
                "headers": { "ETag": { "description": "The current entity tag", "schema": { "type": "string" } } },
            }),
        );
    }
    if op.access != Access::Public {
        responses.insert(
            "401".into(),
            json!({ "description": "Missing, invalid, expired or revoked credentials", "content": error_content }),
        );
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "An error in this dialect's format; the codes are listed in docs/api/errors.md",
            "content": error_content,
        }),
    );

    let mut parameters = path_parameters(op.path);
    parameters.extend(op.query.iter().map(|(name, description)| {
        json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } })
    }));
    let mut object = json!({
        "operationId": op.id,
        "summary": op.summary,
        "tags": [operations::tag(op.path)],
        "responses": responses,
    });
    if !parameters.is_empty() {
        object["parameters"] = Value::Array(parameters);
    }
    if let Some(schema) = op.request {
        let media = op.request_media.unwrap_or("application/json");
        object["requestBody"] = json!({
            "required": true,
            "content": { media: { "schema": schema_ref(schema) } },
        });
        if let Some(example) = seed_example(examples, op, "request") {
            object["requestBody"]["content"]["application/json"]["examples"] = example;
        }
    }
    object["security"] = match op.access {
        Access::Public => json!([]),
        Access::Member => json!([{ "apiKey": [] }]),
        Access::Operator => json!([{ "operatorKey": [] }]),
    };
    object
}

fn http_reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        _ => "Success",
    }
}

/// The whole document. Deterministic (maps keep the table's insertion order), so the committed
/// copy can be compared byte for byte.
pub fn document() -> Value {
    // A malformed file would fail the committed-document test, not the server.
    let examples: Value = serde_json::from_str(SEED_EXAMPLES).unwrap_or(Value::Null);
    let mut paths = Map::new();
    for op in operations() {
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method] = operation_object(&op, &examples);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tenantry",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Account settings and team management: five API dialects over one domain.",
            "description": "Each tag is one API document (dialect) with its own paths, casing and error format. All of them read and write the same settings, members and policies: an IP allowlist set through one dialect is the one the others show and the one every request is checked against. Every GET operation also answers HEAD (the GET's status and headers, no body); GET and HEAD honour If-None-Match with 304; a 405 lists the path's methods in Allow.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "/" }],
        "tags": operations::TAGS.iter().map(|(name, description)| json!({ "name": name, "description": description })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": {
                "apiKey": {
                    "type": "http", "scheme": "bearer",
                    "description": "An API key (`tnt_live_...`) or a session token from `POST /api/auth/login`.",
                },
                "operatorKey": {
                    "type": "http", "scheme": "bearer",
                    "description": "The operator key (`tnt_op_...`), printed at first start or set with TENANTRY_OPERATOR_KEY.",
                },
            },
        },
    })
}

/// The document as committed in docs/api/openapi.json (pretty, trailing newline).
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}
