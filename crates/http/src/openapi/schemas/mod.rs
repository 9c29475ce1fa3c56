//! `components.schemas` of the OpenAPI document, one module per API. Each schema is the shape the
//! handlers render or accept, written so that client generators produce usable types:
//!
//! - every schema has a unique `title` (its component name): generators name models by title, and
//!   two schemas sharing one lose a model;
//! - a field the server always sends is `required` (nullable when it may be `null`);
//! - a request body the handler parses with `deny_unknown_fields` is closed
//!   (`additionalProperties: false`); a map whose keys are data says `additionalProperties: true`
//!   or names the values' schema;
//! - no catch-all `{"type": "object"}`: TypeScript generators turn it into `Record<string, never>`,
//!   which accepts no field at all.

mod account_settings;
mod operator;
mod settings_catalog;
mod team;
mod tenant_settings;
mod user_organization;

use serde_json::{json, Map, Value};

fn string() -> Value {
    json!({ "type": "string" })
}

fn nullable_string() -> Value {
    json!({ "type": ["string", "null"] })
}

fn timestamp() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn nullable_timestamp() -> Value {
    json!({ "type": ["string", "null"], "format": "date-time" })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn integer() -> Value {
    json!({ "type": "integer" })
}

fn nullable_integer() -> Value {
    json!({ "type": ["integer", "null"] })
}

fn email() -> Value {
    json!({ "type": "string", "format": "email" })
}

fn enumeration(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// Any JSON value (a setting's or an event's free-form payload).
fn any() -> Value {
    json!({})
}

/// An object whose keys are data (preferences, filters): any key, any value.
fn map() -> Value {
    json!({ "type": "object", "additionalProperties": true })
}

/// An id with its prefix: `usr_` and a lowercase ULID, say.
fn id(prefix: &str) -> Value {
    json!({ "type": "string", "pattern": format!("^{prefix}_[0-9a-z]{{26}}$"), "examples": [format!("{prefix}_01hqxyz0000000000000000000")] })
}

/// Built-in channels and rules have readable ids (`nch_email`); custom ones a ULID.
fn readable_id(prefix: &str) -> Value {
    json!({ "type": "string", "pattern": format!("^{prefix}_[0-9a-z_]+$") })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A response object: the listed fields, open to new ones.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

/// A request body the handler parses with `deny_unknown_fields`.
fn closed(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn array_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// The user and organization API wraps every success body in `{"data": ...}`.
fn data(inner: Value) -> Value {
    object(json!({ "data": inner }), &["data"])
}

/// A list page of that API: `{"data": [...], "next_cursor": ...}` (the cursor when more follow).
fn data_page(item: Value) -> Value {
    object(
        json!({ "data": array_of(item), "next_cursor": { "type": "string", "description": "Present when more items follow: pass it as `cursor`" } }),
        &["data"],
    )
}

/// `[{field, message}]`: the invalid fields of a validation error.
/// `details.fields`: `{field, message}` objects for invalid values; an unknown field is named by
/// its dotted path alone.
fn field_errors() -> Value {
    json!({ "type": "array", "items": { "anyOf": [
        object(json!({ "field": string(), "message": string() }), &["message"]),
        { "type": "string", "description": "An unknown field's dotted path" },
    ] } })
}

pub(super) fn components() -> Map<String, Value> {
    let mut s = Map::new();
    errors(&mut s);
    account_settings::components(&mut s);
    team::components(&mut s);
    user_organization::components(&mut s);
    settings_catalog::components(&mut s);
    tenant_settings::components(&mut s);
    operator::components(&mut s);
    for (name, schema) in s.iter_mut() {
        if let Some(map) = schema.as_object_mut() {
            map.insert("title".into(), json!(name));
        }
    }
    s
}

fn put(s: &mut Map<String, Value>, name: &str, schema: Value) {
    let previous = s.insert(name.to_owned(), schema);
    debug_assert!(previous.is_none(), "schema {name} defined twice");
}

/// Error bodies, one per API (docs/api/errors.md lists the codes). `details` holds what the
/// code names: `fields` for a validation error, roles for a permission error, and so on.
fn errors(s: &mut Map<String, Value>) {
    let details = json!({
        "type": "object",
        "description": "What the error code names: `fields` ([{field, message}]) for validation errors, `requiredRole`/`currentRole` for permission errors, and so on",
        "properties": {
            "fields": field_errors(),
            "field": { "type": "string", "description": "The one field, parameter or header at fault" },
            "parameter": string(), "header": string(),
            "line": integer(), "column": integer(),
            "duplicateKey": string(), "object": { "type": "string", "description": "JSON Pointer of the object holding the repeated key" },
            "requiredRole": string(), "currentRole": string(), "required_role": string(), "current_role": string(),
            "requiredScopes": array_of(string()), "keyScopes": array_of(string()),
            "requiredPermission": string(), "memberPermissions": array_of(string()),
            "address": { "type": "string", "description": "The caller's address, refused by the IP allowlist or locked out by the write" },
            "currentVersion": integer(), "currentETag": string(),
            "limitBytes": integer(), "limit": integer(),
            "invitationId": nullable_string(), "userId": string(), "email": string(),
            "requestId": string(),
        },
        "additionalProperties": true,
    });
    put(
        s,
        "V2Error",
        object(
            json!({ "error": { "type": "string", "description": "Stable machine-readable code" }, "message": string(), "details": details }),
            &["error", "message", "details"],
        ),
    );
    put(
        s,
        "ApiErrorBody",
        object(
            json!({ "code": { "type": "string", "description": "Stable machine-readable code" }, "message": string(), "details": details }),
            &["code", "message", "details"],
        ),
    );
    put(
        s,
        "ApiError",
        object(json!({ "error": reference("ApiErrorBody") }), &["error"]),
    );
    put(
        s,
        "CatalogErrorItem",
        object(
            json!({ "errorCode": { "type": "integer", "description": "Five digits: the HTTP status and a number" }, "errorMessage": string() }),
            &["errorCode", "errorMessage"],
        ),
    );
    put(
        s,
        "CatalogError",
        json!({ "type": "array", "items": reference("CatalogErrorItem"), "minItems": 1, "description": "Every error of the request, one item each" }),
    );
    put(
        s,
        "Problem",
        object(
            json!({
                "type": { "type": "string", "format": "uri" }, "title": string(), "status": integer(),
                "detail": string(), "code": string(),
                "errors": array_of(object(json!({ "field": string(), "message": string() }), &["message"])),
            }),
            &["type", "title", "status", "detail", "code", "errors"],
        ),
    );
}
