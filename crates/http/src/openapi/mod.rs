//! The OpenAPI 3.1 document of every dialect, built from the route table in `operations` (each
//! API's rows written in its dialect folder with the builder in `operation`) and
//! the schemas in `schemas`, served at `/openapi.json`, with a self-contained reference page at
//! `/docs` (no CDN: the page and its script ship inside this crate). `cargo xtask openapi`
//! writes the same document to docs/api/openapi.json, and a test fails when they differ.

mod operation;
mod operations;
mod schemas;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::error::{method_not_allowed, Dialect};
pub(crate) use operation::{op, Access, Operation, PAGE};
pub(crate) use operations::operations;
#[cfg(test)]
pub(crate) use operations::ALIASES;

/// Real requests and answers, recorded from the authorization matrix's run
/// (`TENANTRY_MATRIX_RECORD=1`, tests/e2e/authorization.rs): keyed "METHOD /path/template",
/// `{"request": ..., "responses": {"200": ..., "404": ...}}`.
const EXAMPLES: &str = include_str!("examples.json");

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
            json!({ "name": name, "in": "path", "required": true, "schema": path_parameter(path, name) })
        })
        .collect()
}

/// A path parameter's schema: the id format of what the path names (`usr_` and a ULID for a
/// member, say), so that a client can tell a malformed id before the server does.
fn path_parameter(path: &str, name: &str) -> Value {
    let ulid =
        |prefix: &str| json!({ "type": "string", "pattern": format!("^{prefix}_[0-9a-z]{{26}}$") });
    let readable =
        |prefix: &str| json!({ "type": "string", "pattern": format!("^{prefix}_[0-9a-z_]+$") });
    match name {
        "section" => schema_ref("SectionName"),
        "account_name" => {
            json!({ "type": "string", "pattern": "^[a-z][a-z0-9-]{1,61}[a-z0-9]$", "description": "The account's slug (`GET /api/organization` shows it)" })
        }
        "setting_name" => schema_ref("CatalogSettingName"),
        "key" => json!({ "type": "string", "minLength": 1, "maxLength": 128 }),
        "id" if path.starts_with("/v2/accounts/team/members") => ulid("usr"),
        "id" if path.starts_with("/v2/accounts/team/invitations") => ulid("inv"),
        "id" if path.starts_with("/api/user/api-keys") => ulid("key"),
        "id" if path.starts_with("/api/settings/ip-whitelist") => ulid("ipw"),
        "id" if path.starts_with("/api/notifications/channels") => readable("nch"),
        "id" if path.starts_with("/api/notifications/rules") => readable("nrl"),
        "id" if path.starts_with("/api/notifications/deliveries") => ulid("ndl"),
        "id" if path.starts_with("/admin/accounts") => ulid("acc"),
        "id" if path.starts_with("/tenants/") => {
            json!({ "type": "string", "format": "uuid", "description": "The tenant id (`tenant_id` of the operator API's accounts)" })
        }
        _ => json!({ "type": "string", "minLength": 1 }),
    }
}

/// A query parameter's schema, by name and the operation's path.
fn query_parameter(path: &str, name: &str) -> Value {
    match name {
        "limit" => json!({
            "type": "integer", "minimum": 1, "maximum": tenantry_kernel::MAX_PAGE_LIMIT,
            "default": tenantry_kernel::DEFAULT_PAGE_LIMIT,
        }),
        "since" | "until" => json!({ "type": "string", "format": "date-time" }),
        "include_secrets" => json!({ "type": "boolean", "default": false }),
        "format" => json!({ "type": "string", "enum": ["json", "yaml"], "default": "json" }),
        "period" => json!({ "type": "string", "enum": ["7d", "30d", "90d"], "default": "30d" }),
        "role" => json!({ "type": "string", "enum": ["owner", "admin", "developer", "viewer"] }),
        "status" if path.ends_with("/members") => {
            json!({ "type": "string", "enum": ["active", "pending", "suspended"] })
        }
        "status" => {
            json!({ "type": "string", "enum": ["pending", "accepted", "expired", "cancelled"] })
        }
        _ => json!({ "type": "string" }),
    }
}

/// `{"example": {summary, value}}` for a media type object, when the recorded examples hold
/// one: `kind` is `request`, or the response's status.
fn example(examples: &Value, op: &Operation, kind: &str) -> Option<Value> {
    let entry = examples.get(format!("{} {}", op.method.to_uppercase(), op.path))?;
    let value = if kind == "request" {
        entry.get("request")?
    } else {
        entry.get("responses")?.get(kind)?
    };
    Some(json!({ "example": { "summary": "A real exchange with the server", "value": value } }))
}

/// Is the path one of the five APIs or the operator API (not a page or the service's own)?
fn in_an_api(path: &str) -> bool {
    [
        "/v2/",
        "/api/",
        "/accounts/",
        "/tenants/",
        "/admin/",
        "/v1/",
        "/authorization/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// Every error status the operation can answer: the ones any operation of its kind can, and
/// its own (`Operation::errors`). docs/api/errors.md lists the codes behind each.
fn error_statuses(op: &Operation) -> Vec<u16> {
    let mut statuses: Vec<u16> = op.errors.to_vec();
    let has_body = op.request.is_some();
    if in_an_api(op.path) {
        // A query string that does not parse, an unknown parameter, a malformed header.
        statuses.push(400);
        // The per-address and per-key request limits.
        statuses.push(429);
    }
    if op.access != Access::Public {
        statuses.push(401);
    }
    if op.access == Access::Member {
        // Role, scope, permission, IP allowlist, restricted session.
        statuses.push(403);
    }
    if op.path.contains('{') && in_an_api(op.path) {
        statuses.push(404);
    }
    if has_body {
        statuses.extend([413, 415]);
        // The tenant settings API answers invalid values with 400, as its API document shows.
        if Dialect::for_path(op.path) != Dialect::Tenant {
            statuses.push(422);
        }
    }
    if op.conditional {
        statuses.push(412);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn error_description(status: u16, dialect: Dialect) -> &'static str {
    match (status, dialect) {
        (400, Dialect::Tenant) => "Invalid JSON, an unknown or invalid setting (`VALIDATION_ERROR`, every failing field in `errors`), or a malformed `If-Match`",
        (400, _) => "Malformed request: invalid JSON (`INVALID_JSON`), an unknown field (`UNKNOWN_FIELD`), a bad query parameter or header (`INVALID_REQUEST`), or a rule of this operation",
        (401, _) => "Missing, invalid, expired or revoked credentials (`UNAUTHORIZED`)",
        (402, _) => "A payment method is needed first (`PAYMENT_METHOD_REQUIRED`)",
        (403, _) => "Refused: role, scope, permission, IP allowlist or session restriction (`INSUFFICIENT_PERMISSIONS`, `INSUFFICIENT_SCOPE`, `IP_NOT_ALLOWED`, ...)",
        (404, _) => "No such object in the caller's account, or a malformed id (`NOT_FOUND`, ...)",
        (409, _) => "Conflicts with the current state (already exists, a limit reached, would lock the caller out, ...)",
        (410, _) => "The invitation expired or was cancelled",
        (412, _) => "`If-Match` names no current ETag, or `If-None-Match` names the current one (`VERSION_CONFLICT`)",
        (413, _) => "Body above the size limit (`PAYLOAD_TOO_LARGE`)",
        (415, _) => "Body sent with a non-JSON `Content-Type` (`UNSUPPORTED_MEDIA_TYPE`)",
        (422, _) => "Well-formed request with invalid values (`VALIDATION_ERROR`, each field in `details.fields`)",
        (429, _) => "Too many requests (`RATE_LIMITED`); `Retry-After` says when to retry",
        (503, _) => "Not ready: the database does not answer",
        _ => "Error",
    }
}

fn etag_header() -> Value {
    json!({ "ETag": { "description": "The entity tag of this representation; send it back in `If-None-Match` (reads) or `If-Match` (conditional writes)", "schema": { "type": "string" } } })
}

fn operation_object(op: &Operation, examples: &Value) -> Value {
    let dialect = Dialect::for_path(op.path);
    let (error, error_media) = error_schema(op.path);
    let cacheable = op.method == "get" && !op.no_store;
    let success = |status: u16| {
        let mut response = json!({ "description": http_reason(status) });
        if let Some(media) = op.media {
            response["content"] = json!({ media: { "schema": { "type": "string" } } });
            if let Some(schema) = op.response {
                response["content"] = json!({ media: { "schema": schema_ref(schema) } });
            }
        } else if let Some(schema) = op.response {
            response["content"] = json!({ "application/json": { "schema": schema_ref(schema) } });
            if let Some(example) = example(examples, op, &status.to_string()) {
                response["content"]["application/json"]["examples"] = example;
            }
        }
        if op.yaml {
            // The same document as YAML: the same schema describes it.
            let schema = response["content"]["application/json"]["schema"].clone();
            response["content"]["application/yaml"] = json!({ "schema": schema });
        }
        if status == 200 && (cacheable || op.conditional) {
            response["headers"] = etag_header();
        }
        response
    };
    let mut responses = Map::new();
    responses.insert(op.status.to_string(), success(op.status));
    if let Some(also) = op.also {
        responses.insert(also.to_string(), success(also));
    }
    if cacheable {
        // conditional.rs: every such answer carries an ETag, and If-None-Match naming it is a 304.
        responses.insert(
            "304".into(),
            json!({
                "description": "Not Modified: `If-None-Match` names the current ETag (weak comparison, or `*`); no body",
                "headers": etag_header(),
            }),
        );
    }
    for status in error_statuses(op) {
        // The catalog API answers a 401 with one object, not the usual array (error.rs).
        // The token grant's refusals are OAuth 2.0 errors (RFC 6749 §5.2) carrying the catalog's
        // `errorCode`/`errorMessage` too.
        let token_grant = op.path.ends_with("/authorization/token");
        let schema = if token_grant && (status == 400 || status == 429) {
            "TokenError"
        } else if status == 401 && dialect == Dialect::Catalog {
            "CatalogErrorItem"
        } else {
            error
        };
        let mut content = json!({ error_media: { "schema": schema_ref(schema) } });
        if let Some(example) = example(examples, op, &status.to_string()) {
            content[error_media]["examples"] = example;
        }
        responses.insert(
            status.to_string(),
            json!({ "description": error_description(status, dialect), "content": content }),
        );
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "Any other error in this API's format (431 headers too large, 500 `INTERNAL`, 503 `SERVICE_BUSY`); docs/api/errors.md lists every code",
            "content": { error_media: { "schema": schema_ref(error) } },
        }),
    );

    let mut parameters = path_parameters(op.path);
    parameters.extend(op.query.iter().map(|(name, description)| {
        json!({ "name": name, "in": "query", "required": false, "description": description, "schema": query_parameter(op.path, name) })
    }));
    let tags = json!({ "type": "string", "description": "`*`, or a list of quoted entity tags" });
    if cacheable {
        parameters.push(json!({
            "name": "If-None-Match", "in": "header", "required": false, "schema": tags,
            "description": "Answer 304 without a body when the current ETag is one of these",
        }));
    }
    if op.conditional {
        parameters.push(json!({
            "name": "If-Match", "in": "header", "required": false, "schema": tags,
            "description": "Write only if the current ETag (from a read or the last write) is one of these; otherwise 412",
        }));
        parameters.push(json!({
            "name": "If-None-Match", "in": "header", "required": false, "schema": tags,
            "description": "Write only if the current ETag is none of these (`*`: never, as the settings always exist); otherwise 412",
        }));
    }
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
        if let Some(example) = example(examples, op, "request") {
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
    let examples: Value = serde_json::from_str(EXAMPLES).unwrap_or(Value::Null);
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
            "summary": "Account settings and team management: five APIs over one domain.",
            "description": "Five APIs over one account: account settings (v2), team, user and organization, settings catalog and tenant settings, each with its own paths, field casing and error format, plus the operator API. All of them read and write the same settings, members and policies: an IP allowlist set through one API is the one the others show and the one every request is checked against. Every GET operation also answers HEAD (the GET's status and headers, no body); GET and HEAD honour If-None-Match with 304; a 405 lists the path's methods in Allow.",
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
