//! `components.schemas` of the OpenAPI document: each dialect's error body exactly as
//! `error.rs` renders it, the seed 01 section documents from the settings crate's own schema
//! generator, and the resource shapes the handlers render. Resource schemas list the fields a
//! client can rely on; they stay open (`additionalProperties` unset) where the seeds allow a
//! dialect to grow, and closed where the seeds pin the shape.

use serde_json::{json, Map, Value};
use tenantry_settings::Section;

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

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

fn array_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// Seed 03 wraps every success body in `{"data": ...}`.
fn data(inner: Value) -> Value {
    object(json!({ "data": inner }), &["data"])
}

/// The section schemas come from the settings crate; their `$schema`/`$id` keywords are dropped
/// so that `$ref`s inside the OpenAPI document resolve against the document.
fn section(section: Section) -> Value {
    let mut schema = tenantry_settings::schema::section_schema(section);
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.remove("$id");
    }
    schema
}

/// A response's view of a section: the request schema opened up (responses carry read-only
/// fields, e.g. `two_factor.backup_codes`, that a write may not set).
fn open(mut schema: Value) -> Value {
    match &mut schema {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
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

fn section_view_name(section: Section) -> String {
    section_schema_name(section).replace("Section", "SectionView")
}

pub(super) fn section_schema_name(section: Section) -> String {
    let name = section.as_str();
    let mut chars = name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
    format!("{first}{}Section", chars.as_str())
}

pub(super) fn components() -> Map<String, Value> {
    let mut s = Map::new();
    let mut put = |name: &str, schema: Value| {
        s.insert(name.to_owned(), schema);
    };

    // Error bodies, one per dialect (docs/api/errors.md lists the codes).
    put(
        "V2Error",
        object(
            json!({ "error": { "type": "string", "description": "Stable machine-readable code" }, "message": string(), "details": { "type": "object" } }),
            &["error", "message", "details"],
        ),
    );
    put(
        "ApiError",
        object(
            json!({ "error": object(json!({ "code": string(), "message": string(), "details": { "type": "object" } }), &["code", "message", "details"]) }),
            &["error"],
        ),
    );
    put(
        "CatalogError",
        json!({ "oneOf": [
            array_of(object(json!({ "errorCode": integer(), "errorMessage": string() }), &["errorCode", "errorMessage"])),
            object(json!({ "errorCode": { "const": 60001 }, "errorMessage": string() }), &["errorCode", "errorMessage"]),
            object(json!({ "error": { "type": "string", "enum": ["invalid_request", "invalid_grant", "unsupported_grant_type", "temporarily_unavailable"] }, "error_description": string(), "errorCode": integer(), "errorMessage": string() }), &["error", "error_description", "errorCode", "errorMessage"]),
        ] }),
    );
    put(
        "Problem",
        object(
            json!({
                "type": { "type": "string", "format": "uri" }, "title": string(), "status": integer(),
                "detail": string(), "code": string(),
                "errors": array_of(object(json!({ "field": string(), "message": string() }), &[])),
            }),
            &["type", "title", "status", "detail", "code", "errors"],
        ),
    );

    // Seed 01: account settings.
    for sec in Section::ALL {
        put(&section_schema_name(sec), section(sec));
        put(&section_view_name(sec), open(section(sec)));
    }
    put(
        "SectionDocument",
        json!({ "anyOf": Section::ALL.iter().map(|s| reference(&section_schema_name(*s))).collect::<Vec<_>>() }),
    );
    put(
        "SectionView",
        json!({ "anyOf": Section::ALL.iter().map(|s| reference(&section_view_name(*s))).collect::<Vec<_>>() }),
    );
    put(
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
    put(
        "SectionHistory",
        object(
            json!({ "section": string(), "history": array_of(object(json!({
                "version": integer(), "updated_at": timestamp(), "updated_by": nullable_string(),
                "changes": array_of(object(json!({ "path": string(), "before": {}, "after": {} }), &["path"])),
            }), &["version", "updated_at", "changes"])) }),
            &["section", "history"],
        ),
    );
    put(
        "SettingsExport",
        object(
            json!({ "export": object(json!({
                "timestamp": timestamp(), "format": { "enum": ["json", "yaml"] }, "include_secrets": boolean(),
                "settings": { "type": "object" },
            }), &["timestamp", "format", "settings"]) }),
            &["export"],
        ),
    );
    put(
        "SettingsImport",
        object(
            json!({
                "settings": { "type": "object", "description": "Sections to import, as in an export" },
                "merge_strategy": { "enum": ["merge", "overwrite"] },
                "validate_only": boolean(),
            }),
            &["settings"],
        ),
    );
    put(
        "NotificationTest",
        object(
            json!({ "channel": { "enum": ["email", "slack", "webhook"] }, "message": string() }),
            &["channel"],
        ),
    );
    put("Object", json!({ "type": "object" }));
    put(
        "AuditLogs",
        object(
            json!({ "audit_logs": array_of(object(json!({
                "id": string(), "actor": string(), "action": string(), "target": nullable_string(),
                "details": {}, "ip": nullable_string(), "created_at": timestamp(),
            }), &["id", "actor", "action", "created_at"])), "next_cursor": nullable_string() }),
            &["audit_logs"],
        ),
    );
    put(
        "UsageBatch",
        object(
            json!({ "records": array_of(object(json!({ "id": string(), "cost": { "type": "number" }, "balance": { "type": ["number", "null"] }, "occurred_at": timestamp() }), &["id", "cost"])) }),
            &["records"],
        ),
    );

    // Seed 02: team.
    let member = object(
        json!({
            "id": string(), "email": string(), "name": nullable_string(), "username": nullable_string(),
            "avatar": nullable_string(), "role": { "enum": ["owner", "admin", "developer", "viewer"] },
            "permissions": array_of(string()), "status": string(), "joinedAt": nullable_timestamp(),
            "lastActive": nullable_timestamp(), "invitedBy": nullable_string(),
            "department": nullable_string(), "title": nullable_string(),
        }),
        &["id", "email", "role", "status"],
    );
    put("Member", member);
    put(
        "MemberList",
        object(
            json!({ "members": array_of(reference("Member")), "total": integer(), "roles": { "type": "object", "additionalProperties": integer() }, "nextCursor": nullable_string() }),
            &["members", "total", "roles"],
        ),
    );
    put(
        "Invitation",
        object(
            json!({ "invitation": object(json!({
                "id": string(), "email": string(), "role": string(), "status": string(),
                "expiresAt": timestamp(), "inviteUrl": string(), "department": nullable_string(), "title": nullable_string(),
            }), &["id", "email", "status", "expiresAt"]), "message": string() }),
            &["invitation"],
        ),
    );
    let invitation_view = object(
        json!({
            "id": string(), "email": string(), "role": { "enum": ["admin", "developer", "viewer"] },
            "permissions": array_of(string()),
            "status": { "enum": ["pending", "expired", "accepted", "cancelled"] },
            "invitedBy": string(), "createdAt": timestamp(), "expiresAt": timestamp(),
            "resentAt": nullable_timestamp(), "department": nullable_string(),
            "title": nullable_string(), "message": nullable_string(),
        }),
        &[
            "id",
            "email",
            "role",
            "permissions",
            "status",
            "invitedBy",
            "createdAt",
            "expiresAt",
        ],
    );
    put("InvitationView", invitation_view);
    put(
        "InvitationList",
        object(
            json!({ "invitations": array_of(reference("InvitationView")), "total": integer(), "nextCursor": nullable_string() }),
            &["invitations", "total"],
        ),
    );
    put(
        "InvitationRecord",
        object(
            json!({ "invitation": reference("InvitationView") }),
            &["invitation"],
        ),
    );
    put(
        "OwnershipTransferRequest",
        object(json!({ "userId": string() }), &["userId"]),
    );
    let party = |role: &str| {
        object(
            json!({ "id": string(), "role": { "enum": [role] } }),
            &["id", "role"],
        )
    };
    put(
        "OwnershipTransfer",
        object(
            json!({ "previousOwner": party("admin"), "newOwner": party("owner"), "transferredAt": timestamp(), "message": string() }),
            &["previousOwner", "newOwner", "transferredAt"],
        ),
    );
    put(
        "InvitationFlat",
        object(
            json!({
                "invitationId": string(), "email": string(), "role": string(), "status": string(),
                "expiresAt": timestamp(), "inviteUrl": string(),
            }),
            &["invitationId", "email", "role", "status", "expiresAt"],
        ),
    );
    put(
        "InvitationRequest",
        object(
            json!({ "email": { "type": "string", "format": "email" }, "role": { "enum": ["admin", "developer", "viewer"] }, "message": string(), "department": string(), "title": string(), "permissions": array_of(string()), "expiresIn": { "type": "string", "examples": ["7d"] } }),
            &["email", "role"],
        ),
    );
    put(
        "InvitationAccept",
        object(json!({ "password": string(), "name": string() }), &[]),
    );
    put(
        "BulkOperation",
        object(
            json!({ "operation": { "enum": ["update_role", "update_department", "suspend", "reactivate"] }, "members": array_of(string()), "data": { "type": "object" } }),
            &["operation", "members"],
        ),
    );
    put(
        "TeamActivity",
        object(
            json!({ "period": string(), "summary": { "type": "object" }, "memberActivity": array_of(json!({ "type": "object" })), "teamCollaboration": { "type": "object" }, "trends": { "type": "object" } }),
            &["period", "summary", "memberActivity"],
        ),
    );

    // Seed 03: user and organization.
    put("Data", data(json!({})));
    put("DataList", data(array_of(json!({ "type": "object" }))));
    put(
        "ApiKey",
        data(object(
            json!({ "id": string(), "name": string(), "prefix": string(), "scopes": array_of(string()), "created_at": timestamp(), "last_used_at": nullable_timestamp(), "expires_at": nullable_timestamp(), "secret": { "type": "string", "description": "Only in the create and regenerate responses" } }),
            &["id", "name", "prefix", "scopes", "created_at"],
        )),
    );
    put(
        "ApiKeyRegenerated",
        data(object(
            json!({ "id": string(), "secret": string(), "prefix": string(), "rotated_at": timestamp() }),
            &["id", "secret", "prefix"],
        )),
    );
    put(
        "ApiKeyRequest",
        object(
            json!({ "name": string(), "scopes": array_of(string()), "expires_in_days": { "type": ["integer", "null"], "minimum": 1 } }),
            &["name"],
        ),
    );
    put(
        "PasswordResetRequest",
        object(
            json!({ "email": { "type": "string", "format": "email" } }),
            &["email"],
        ),
    );
    put(
        "EmailChangeRequest",
        object(
            json!({
                "email": { "type": "string", "format": "email" },
                "current_password": string(),
            }),
            &["email", "current_password"],
        ),
    );
    put(
        "PasswordResetCompletion",
        object(json!({ "password": string() }), &["password"]),
    );
    put(
        "Login",
        object(
            json!({ "email": { "type": "string", "format": "email" }, "password": string(), "code": { "type": "string", "description": "TOTP or backup code when MFA is on" }, "account": { "type": "string", "description": "Account id or slug when the identity belongs to several" } }),
            &["email", "password"],
        ),
    );
    put(
        "IpWhitelistEntry",
        object(
            json!({ "cidr": string(), "label": { "type": ["string", "null"], "description": "null or absent: no label" } }),
            &["cidr"],
        ),
    );

    // Seed 04: catalog.
    put(
        "TokenRequest",
        object(
            json!({
                "grant_type": { "type": "string", "enum": ["password", "refresh_token"] },
                "username": { "type": "string", "description": "password grant: the user's email address" },
                "password": { "type": "string", "maxLength": 1024 },
                "otp": { "type": "string", "description": "password grant: the current TOTP or a backup code, for a user with MFA" },
                "account": { "type": "string", "description": "password grant: account name or id (default: the user's only or first-joined account)" },
                "refresh_token": { "type": "string", "description": "refresh_token grant: the refresh token of the last grant (used once)" },
            }),
            &["grant_type"],
        ),
    );
    put(
        "CatalogAccounts",
        object(
            json!({
                "resultInfo": object(json!({ "totalCount": integer(), "offset": integer(), "returnedCount": integer() }), &["totalCount", "offset", "returnedCount"]),
                "accounts": array_of(object(json!({
                    "accountName": string(), "accountHolderUserName": { "type": ["string", "null"] },
                    "ownerUserName": { "type": ["string", "null"] }, "numberOfUsers": integer(), "accountType": string(),
                }), &["accountName", "accountHolderUserName", "ownerUserName", "numberOfUsers", "accountType"])),
            }),
            &["resultInfo", "accounts"],
        ),
    );
    put(
        "Version",
        object(json!({ "version": string() }), &["version"]),
    );
    put(
        "TokenResponse",
        object(
            json!({
                "tokenType": { "const": "Bearer" }, "accessToken": string(), "refreshToken": string(), "expiresIn": integer(),
                "token_type": { "const": "Bearer" }, "access_token": string(), "refresh_token": string(), "expires_in": integer(),
            }),
            &[
                "tokenType",
                "accessToken",
                "refreshToken",
                "expiresIn",
                "token_type",
                "access_token",
                "refresh_token",
                "expires_in",
            ],
        ),
    );
    put(
        "Catalog",
        object(
            json!({ "accountSettingsCatalogItems": array_of(object(json!({ "displayName": string(), "uri": string() }), &["displayName", "uri"])) }),
            &["accountSettingsCatalogItems"],
        ),
    );
    put(
        "AvailableChannels",
        object(
            json!({ "availableChannels": array_of(object(json!({ "id": string(), "name": string(), "parentId": nullable_string(), "displayOrder": integer() }), &["id", "name"])) }),
            &["availableChannels"],
        ),
    );

    // Seed 05: tenant settings (every group optional in a PATCH; merge semantics of RFC 7396).
    put(
        "TenantSettings",
        object(
            json!({
                "security": { "type": "object", "properties": {
                    "mfaRequired": boolean(), "passwordExpiryDays": integer(), "maxConcurrentSessions": integer(),
                    "allowedIpRanges": array_of(string()),
                } },
                "features": { "type": "object", "properties": {
                    "auditLogRetentionDays": integer(), "maxOrganizations": integer(), "maxUsersPerOrganization": integer(),
                } },
                "branding": { "type": "object", "properties": {
                    "primaryColor": nullable_string(), "logoUrl": nullable_string(), "supportEmail": nullable_string(),
                } },
            }),
            &[],
        ),
    );

    // Service.
    put(
        "Health",
        object(
            json!({ "status": string(), "database": string() }),
            &["status"],
        ),
    );
    s
}
