//! The tenant settings API (`/tenants/{id}/settings`, camelCase, JSON merge-PATCH).

use serde_json::{json, Map, Value};
use tenantry_security::{PasswordExpiry, SessionLimit};

use super::{object, put};

/// The groups and their fields, with the bounds the domain's quantities and this API's codec
/// enforce;
/// `nullable` for the PATCH, where `null` resets a field to its default (RFC 7396).
fn groups(nullable: bool) -> Value {
    let t = |ty: &str| {
        if nullable {
            json!([ty, "null"])
        } else {
            json!(ty)
        }
    };
    json!({
        "security": { "type": t("object"), "properties": {
            "mfaRequired": { "type": t("boolean") },
            "passwordExpiryDays": { "type": t("integer"), "minimum": 0, "maximum": PasswordExpiry::MAX, "description": "0: passwords never expire" },
            "maxConcurrentSessions": { "type": t("integer"), "minimum": SessionLimit::MIN, "maximum": SessionLimit::MAX },
            "allowedIpRanges": { "type": t("array"), "maxItems": 1000, "items": { "type": "string", "description": "An IP address or CIDR block" }, "description": "Non-empty: only these addresses may call; empty: no restriction" },
        }, "additionalProperties": false },
        "features": { "type": t("object"), "properties": {
            "auditLogRetentionDays": { "type": t("integer"), "minimum": 1, "description": "At most the tier's retention limit" },
            "maxOrganizations": { "type": t("integer"), "minimum": 1, "description": "At most the tier's limit" },
            "maxUsersPerOrganization": { "type": t("integer"), "minimum": 1, "description": "At most the tier's limit" },
        }, "additionalProperties": false },
        "branding": { "type": t("object"), "properties": {
            "primaryColor": { "type": t("string"), "pattern": "^#[0-9A-Fa-f]{6}$" },
            "logoUrl": { "type": ["string", "null"], "format": "uri", "pattern": "^https://" },
            "supportEmail": { "type": ["string", "null"], "format": "email" },
        }, "additionalProperties": false },
    })
}

pub(super) fn components(s: &mut Map<String, Value>) {
    let mut read = groups(false);
    let required = |fields: &[&str]| json!(fields);
    read["security"]["required"] = required(&[
        "mfaRequired",
        "passwordExpiryDays",
        "maxConcurrentSessions",
        "allowedIpRanges",
    ]);
    read["features"]["required"] = required(&[
        "auditLogRetentionDays",
        "maxOrganizations",
        "maxUsersPerOrganization",
    ]);
    read["branding"]["required"] = required(&["primaryColor", "logoUrl", "supportEmail"]);
    for group in ["security", "features", "branding"] {
        read[group]["additionalProperties"] = json!(true);
    }
    put(
        s,
        "TenantSettings",
        object(read, &["security", "features", "branding"]),
    );
    put(
        s,
        "TenantSettingsPatch",
        json!({
            "type": "object",
            "description": "A JSON merge patch (RFC 7396): absent fields stay, `null` resets a field to its default",
            "properties": groups(true),
            "additionalProperties": false,
        }),
    );
}
