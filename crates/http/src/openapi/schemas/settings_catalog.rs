//! The settings catalog API (`/accounts/{account_name}/settings/...`, camelCase).

use serde_json::{json, Map, Value};

use super::{array_of, closed, integer, nullable_string, object, put, string};

pub(super) fn components(s: &mut Map<String, Value>) {
    put(
        s,
        "CatalogSettingName",
        json!({ "type": "string", "enum": tenantry_settings::CATALOG.map(|(name, _)| name), "description": "A setting of the catalog" }),
    );
    put(
        s,
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
        s,
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
        s,
        "TokenError",
        object(
            json!({
                "error": { "type": "string", "enum": ["invalid_request", "invalid_grant", "unsupported_grant_type", "temporarily_unavailable"] },
                "error_description": string(), "errorCode": integer(), "errorMessage": string(),
            }),
            &["error", "error_description", "errorCode", "errorMessage"],
        ),
    );
    put(
        s,
        "CatalogAccounts",
        object(
            json!({
                "resultInfo": object(json!({ "totalCount": integer(), "offset": integer(), "returnedCount": integer() }), &["totalCount", "offset", "returnedCount"]),
                "accounts": array_of(object(json!({
                    "accountName": string(), "accountHolderUserName": nullable_string(),
                    "ownerUserName": nullable_string(), "numberOfUsers": integer(), "accountType": string(),
                }), &["accountName", "accountHolderUserName", "ownerUserName", "numberOfUsers", "accountType"])),
            }),
            &["resultInfo", "accounts"],
        ),
    );
    put(
        s,
        "Version",
        object(json!({ "version": string() }), &["version"]),
    );
    put(
        s,
        "Catalog",
        object(
            json!({ "accountSettingsCatalogItems": array_of(object(json!({ "displayName": string(), "uri": string() }), &["displayName", "uri"])) }),
            &["accountSettingsCatalogItems"],
        ),
    );
    put(
        s,
        "AvailableChannels",
        object(
            json!({ "availableChannels": array_of(object(json!({
                "id": string(), "name": string(), "parentId": nullable_string(), "displayOrder": integer(),
                "testEventPayload": { "type": "string", "description": "A sample event, as a JSON string" },
            }), &["id", "name", "parentId", "displayOrder"])) }),
            &["availableChannels"],
        ),
    );
    // Each named setting has its own document (`{"securityPreferences": {...}}`,
    // `{"emailNotification": {...}}`, ...): the setting's name decides, so the shape stays open
    // here and docs/api/settings-catalog.md lists each.
    put(
        s,
        "CatalogSetting",
        json!({
            "type": "object",
            "description": "The setting's document; its fields depend on the setting (e.g. SECURITY_PREFERENCES: `securityPreferences`; the notification settings: `emailNotification`, `threshold`, `zone`)",
            "additionalProperties": true,
        }),
    );
    put(
        s,
        "CatalogSettingWritten",
        object(
            json!({ "message": string(), "settingName": string(), "setting": { "type": "object", "additionalProperties": true } }),
            &["message", "settingName", "setting"],
        ),
    );
    put(
        s,
        "TelemetryTest",
        closed(
            json!({ "url": { "type": "string", "format": "uri", "description": "The webhook URL to send the test event to" }, "type": string() }),
            &["url"],
        ),
    );
    put(
        s,
        "TelemetryTestResult",
        json!({ "type": "object", "description": "The test event's id and outcome (`telemetryEventId`, and when verifying, whether it arrived)", "properties": { "telemetryEventId": string(), "url": string(), "verified": { "type": "boolean" }, "responseCode": { "type": "integer" } }, "additionalProperties": true }),
    );
}
