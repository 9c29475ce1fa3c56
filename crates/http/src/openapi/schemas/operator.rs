//! The operator API (`/admin/...`, operator key) and the service's own documents.

use serde_json::{json, Map, Value};

use super::{
    array_of, boolean, closed, enumeration, id, nullable_string, object, put, reference, string,
    timestamp,
};

const TIERS: [&str; 3] = ["free", "pro", "enterprise"];

pub(super) fn components(s: &mut Map<String, Value>) {
    put(
        s,
        "AccountSummary",
        object(
            json!({
                "id": id("acc"), "tenant_id": { "type": "string", "format": "uuid", "description": "The id of the tenant settings API" },
                "name": string(), "display_name": nullable_string(), "tier": enumeration(&TIERS), "created_at": timestamp(),
            }),
            &[
                "id",
                "tenant_id",
                "name",
                "display_name",
                "tier",
                "created_at",
            ],
        ),
    );
    put(
        s,
        "AccountList",
        object(
            json!({ "accounts": array_of(reference("AccountSummary")), "next_cursor": { "type": "string", "description": "Present when more accounts follow" } }),
            &["accounts"],
        ),
    );
    put(
        s,
        "AccountCreate",
        closed(
            json!({
                "name": { "type": "string", "pattern": "^[a-z][a-z0-9-]{1,61}[a-z0-9]$", "description": "The account's slug: 3 to 63 lowercase letters, digits and hyphens; starts with a letter, does not end with a hyphen", "examples": ["acme"] },
                "display_name": { "type": "string", "description": "Shown to members (default: the name)" },
                "owner_email": { "type": "string", "format": "email", "description": "The owner; a password set-up link is mailed there" },
            }),
            &["name", "owner_email"],
        ),
    );
    put(
        s,
        "AccountCreated",
        object(
            json!({
                "id": id("acc"), "tenant_id": { "type": "string", "format": "uuid" }, "name": string(),
                "owner": object(json!({ "id": id("usr"), "email": string(), "password_setup_link_sent": boolean() }), &["id", "email", "password_setup_link_sent"]),
                "owner_api_key": { "type": "string", "description": "The owner's API key, shown this once" },
            }),
            &["id", "tenant_id", "name", "owner", "owner_api_key"],
        ),
    );
    put(
        s,
        "AccountUpdate",
        closed(
            json!({ "tier": { "type": ["string", "null"], "enum": [TIERS[0], TIERS[1], TIERS[2], null], "description": "The new tier; null or absent leaves it unchanged" }, "display_name": { "type": ["string", "null"], "description": "The new display name; null or absent leaves it unchanged" } }),
            &[],
        ),
    );
    put(
        s,
        "Health",
        object(
            json!({ "status": string(), "database": string() }),
            &["status"],
        ),
    );
    put(
        s,
        "OpenApiDocument",
        json!({ "type": "object", "description": "An OpenAPI 3.1 document", "additionalProperties": true }),
    );
}
