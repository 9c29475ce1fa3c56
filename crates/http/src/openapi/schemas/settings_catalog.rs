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
