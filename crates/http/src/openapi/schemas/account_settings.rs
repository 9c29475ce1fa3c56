//! The account settings v2 API (`/v2/accounts/...`, snake_case): the five section documents from
//! the settings crate's own schema generator, their history, export and import, audit logs and
//! usage.

use serde_json::{json, Map, Value};
use tenantry_settings::Section;

use super::{
    any, array_of, boolean, closed, enumeration, integer, map, nullable_string, object, put,
    reference, string, timestamp,
};

/// The section names, as the `{section}` path parameter's enum.
const SECTION_NAMES: [&str; 5] = [
    "notifications",
    "billing",
    "security",
    "integrations",
    "preferences",
];

/// The section schemas come from the settings crate; their `$schema`/`$id` keywords are dropped
/// so that `$ref`s inside the OpenAPI document resolve against the document, and the time zone
/// list becomes a described string (see `time_zones_as_names`).
fn section(section: Section) -> Value {
    let mut schema = tenantry_settings::schema::section_schema(section);
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.remove("$id");
    }
    time_zones_as_names(&mut schema);
    schema
}

/// The settings crate lists every IANA name as an enum (it validates with it). In a client that
/// list is a 597-member enum whose members collide once turned into identifiers (`GMT+0`, `GMT-0`
/// and `GMT0` all become `GMT0`), and it is out of date the day the tz database changes; so here
/// a time zone is a string, described, and the server still refuses an unknown name (422).
fn time_zones_as_names(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let is_time_zones = map
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|values| values.iter().any(|v| v == "Europe/London"));
            if is_time_zones {
                *schema = json!({
                    "type": "string", "minLength": 1, "maxLength": 64,
                    "description": "An IANA time zone name, e.g. `Europe/London` or `UTC`; an unknown name is refused",
                    "examples": ["Europe/London"],
                });
                return;
            }
            map.values_mut().for_each(time_zones_as_names);
        }
        Value::Array(items) => items.iter_mut().for_each(time_zones_as_names),
        _ => {}
    }
}

/// A response's view of a section: the request schema opened up (responses carry read-only
/// fields, e.g. `two_factor.backup_codes`, that a write may not set).
///
/// Every field of a section is always in a read, so each is `required` there (clients then tell
/// the five sections apart by their fields); except the secrets and read-only extras a read
/// shows only sometimes (`OPTIONAL_IN_READS`).
fn open(mut schema: Value) -> Value {
    match &mut schema {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.insert("additionalProperties".into(), Value::Bool(true));
            }
            if let Some(Value::Object(properties)) = map.get("properties") {
                let required: Vec<&String> = properties
                    .keys()
                    .filter(|k| !OPTIONAL_IN_READS.contains(&k.as_str()))
                    .collect();
                let required = json!(required);
                map.insert("required".into(), required);
            }
            for value in map.values_mut() {
                *value = open(value.take());
            }
        }
        Value::Array(items) => {
            for value in items.iter_mut() {
                *value = open(value.take());
            }
        }
        _ => {}
    }
    schema
}

/// Fields a section's read may leave out: `backup_codes` is the caller's own count, absent from
/// exports and write replies; a secret is absent rather than `null` in some renderings.
const OPTIONAL_IN_READS: [&str; 2] = ["backup_codes", "access_token"];

pub(in crate::openapi) fn section_view_name(section: Section) -> String {
    section_schema_name(section).replace("Section", "SectionView")
}

pub(in crate::openapi) fn section_schema_name(section: Section) -> String {
    let name = section.as_str();
    let mut chars = name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
    format!("{first}{}Section", chars.as_str())
}

pub(super) fn components(s: &mut Map<String, Value>) {
    for sec in Section::ALL {
        put(s, &section_schema_name(sec), section(sec));
        put(s, &section_view_name(sec), open(section(sec)));
    }
    put(
        s,
        "SectionName",
        json!({ "type": "string", "enum": SECTION_NAMES, "description": "One of the five sections of the account settings" }),
    );
    // One schema per section; the `{section}` parameter names which one a request carries.
    put(
        s,
        "SectionDocument",
        json!({
            "description": "The section named by `{section}`: notifications, billing, security, integrations or preferences",
            "anyOf": Section::ALL.iter().map(|s| reference(&section_schema_name(*s))).collect::<Vec<_>>(),
        }),
    );
    put(
        s,
        "SectionView",
        json!({
            "description": "The section named by `{section}`; each has its own required fields",
            "anyOf": Section::ALL.iter().map(|s| reference(&section_view_name(*s))).collect::<Vec<_>>(),
        }),
    );
    put(
        s,
        "AccountSettings",
        object(
            Value::Object(
                Section::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), reference(&section_view_name(*s))))
                    .collect(),
            ),
            &Section::ALL.map(|s| s.as_str()),
        ),
    );
    let change = object(
        json!({ "path": { "type": "string", "description": "Dotted path of the field" }, "before": any(), "after": any() }),
        &["path", "before", "after"],
    );
    put(s, "FieldChange", change);
    put(
        s,
        "SectionHistory",
        object(
            json!({ "section": reference("SectionName"), "history": array_of(reference("SectionVersion")) }),
            &["section", "history"],
        ),
    );
    put(
        s,
        "SectionVersion",
        object(
            json!({
                "version": { "type": "integer", "minimum": 1 }, "updated_at": timestamp(),
                "updated_by": { "type": ["string", "null"], "description": "The user id; null for a change the system made" },
                "changes": array_of(reference("FieldChange")),
            }),
            &["version", "updated_at", "updated_by", "changes"],
        ),
    );
    put(
        s,
        "SectionRollback",
        closed(
            json!({ "version": { "type": "integer", "minimum": 1, "description": "The version to restore, from the history" } }),
            &["version"],
        ),
    );
    put(
        s,
        "SectionJsonSchema",
        json!({ "type": "object", "description": "A JSON Schema (draft 2020-12) document", "additionalProperties": true }),
    );
    let sections_map = object(
        Value::Object(
            Section::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), reference(&section_view_name(*s))))
                .collect(),
        ),
        &[],
    );
    put(
        s,
        "SettingsExport",
        object(
            json!({ "export": object(json!({
                "timestamp": timestamp(), "format": enumeration(&["json", "yaml"]), "include_secrets": boolean(),
                "settings": sections_map.clone(),
                "metadata": object(json!({ "version": string(), "account_id": string(), "exported_by": string() }), &["version", "account_id", "exported_by"]),
            }), &["timestamp", "format", "include_secrets", "settings", "metadata"]) }),
            &["export"],
        ),
    );
    let import_sections = object(
        Value::Object(
            Section::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), reference(&section_schema_name(*s))))
                .collect(),
        ),
        &[],
    );
    put(
        s,
        "SettingsImport",
        closed(
            json!({
                "settings": import_sections,
                "export": { "type": ["object", "null"], "description": "Or the `export` object of an export, as it came (send one of the two)", "properties": { "settings": map() }, "required": ["settings"], "additionalProperties": true },
                "merge_strategy": enumeration(&["merge", "overwrite"]),
                "validate_only": boolean(),
            }),
            &[],
        ),
    );
    put(
        s,
        "SettingsImportResult",
        object(
            json!({ "import": object(json!({
                "validate_only": boolean(), "merge_strategy": enumeration(&["merge", "overwrite"]), "applied": boolean(),
                "sections": { "type": "object", "additionalProperties": object(json!({ "changes": array_of(reference("FieldChange")), "version": integer() }), &["changes", "version"]) },
                "warnings": array_of(object(json!({ "field": string(), "message": string() }), &["field", "message"])),
            }), &["validate_only", "merge_strategy", "applied", "sections", "warnings"]) }),
            &["import"],
        ),
    );
    put(
        s,
        "NotificationTest",
        closed(
            json!({
                "type": enumeration(&["email", "slack", "webhook"]),
                "email": { "type": ["string", "null"], "description": "email: the address (default: the saved one)" },
                "webhook_url": { "type": ["string", "null"], "description": "slack: the incoming-webhook URL (default: the saved one)" },
                "channel": { "type": ["string", "null"], "description": "slack: the channel" },
                "url": { "type": ["string", "null"], "description": "webhook: the URL (default: the saved one)" },
                "secret": { "type": ["string", "null"], "description": "webhook: the signing secret" },
            }),
            &["type"],
        ),
    );
    put(
        s,
        "NotificationTestResult",
        object(
            json!({ "test": object(json!({
                "type": enumeration(&["email", "slack", "webhook"]), "status": enumeration(&["success"]),
                "message": string(), "timestamp": timestamp(), "response": any(),
            }), &["type", "status", "message", "timestamp"]) }),
            &["test"],
        ),
    );
    put(
        s,
        "AuditLogs",
        object(
            json!({ "audit_logs": array_of(reference("AuditLogEntry")), "next_cursor": { "type": "string", "description": "Present when more entries follow" } }),
            &["audit_logs"],
        ),
    );
    put(
        s,
        "AuditLogEntry",
        object(
            json!({
                "id": string(), "actor": string(), "action": string(), "target": nullable_string(),
                "details": map(), "ip": nullable_string(), "created_at": timestamp(),
            }),
            &[
                "id",
                "actor",
                "action",
                "target",
                "details",
                "ip",
                "created_at",
            ],
        ),
    );
    put(
        s,
        "PortalLinkCreate",
        closed(
            json!({
                "email": { "type": "string", "description": "The member's sign-in address (or send userId)" },
                "userId": { "type": "string", "pattern": "^usr_[0-9a-z]{26}$", "description": "The member's id (or send email)" },
                "intent": enumeration(&["team", "settings", "security", "audit", "api-keys"]),
                "returnUrl": { "type": "string", "format": "uri", "maxLength": 2048, "description": "Where the console's back link points: https (http on loopback), on an allowed origin" },
            }),
            &["intent", "returnUrl"],
        ),
    );
    put(
        s,
        "PortalLink",
        object(
            json!({
                "url": { "type": "string", "format": "uri", "description": "The single-use link; a bearer sign-in, shown this once" },
                "expiresAt": timestamp(),
            }),
            &["url", "expiresAt"],
        ),
    );
    put(
        s,
        "UsageBatch",
        closed(
            json!({ "records": { "type": "array", "minItems": 1, "items": closed(json!({
                "id": { "type": "string", "minLength": 1, "description": "Idempotency key of the record" },
                "cost": { "type": "number", "minimum": 0 }, "balance": { "type": ["number", "null"] },
                "occurred_at": { "type": ["string", "null"], "format": "date-time", "description": "RFC 3339; absent or null: now" },
            }), &["id", "cost"]) } }),
            &["records"],
        ),
    );
    put(
        s,
        "UsageResult",
        object(
            json!({ "recorded": integer(), "duplicates": integer(), "alerts_fired": array_of(map()), "auto_recharge_requested": any() }),
            &[
                "recorded",
                "duplicates",
                "alerts_fired",
                "auto_recharge_requested",
            ],
        ),
    );
}
