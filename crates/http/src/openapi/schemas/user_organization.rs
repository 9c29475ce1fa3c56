//! The user and organization API (`/api/...`, snake_case, `{"data": ...}` bodies): profile,
//! sign-in and sessions, MFA, API keys, preferences, organization settings, the IP allowlist,
//! features and notifications.

use serde_json::{json, Map, Value};
use tenantry_security::{IdleTimeout, RetentionDays, Scope, SessionLifetime};

use super::{
    any, array_of, boolean, closed, data, data_page, email, enumeration, id, integer, map,
    nullable_integer, nullable_string, nullable_timestamp, object, put, readable_id, reference,
    string, timestamp,
};

const TIERS: [&str; 3] = ["free", "pro", "enterprise"];
const CHANNEL_TYPES: [&str; 3] = ["email", "slack", "webhook"];

/// A retention in days: every retention of this API lies in the audit retention's domain range.
fn days() -> Value {
    json!({ "type": "integer", "minimum": RetentionDays::MIN, "maximum": RetentionDays::MAX })
}

fn scopes() -> Value {
    array_of(enumeration(
        &Scope::all_names()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ))
}

fn message() -> Value {
    data(object(json!({ "message": string() }), &["message"]))
}

pub(super) fn components(s: &mut Map<String, Value>) {
    profile(s);
    sign_in(s);
    api_keys(s);
    organization(s);
    notifications(s);
}

fn profile(s: &mut Map<String, Value>) {
    let fields = json!({
        "id": id("usr"), "email": string(), "display_name": nullable_string(),
        "timezone": { "type": "string", "description": "An IANA time zone name" },
        "locale": { "type": "string", "examples": ["en-US"] }, "avatar_url": nullable_string(),
        "organization_id": id("acc"), "roles": array_of(enumeration(&["owner", "admin", "developer", "viewer"])),
        "updated_at": { "type": "string", "format": "date-time", "description": "In the reply to a write" },
    });
    put(
        s,
        "Profile",
        data(object(
            fields,
            &[
                "id",
                "email",
                "display_name",
                "timezone",
                "locale",
                "avatar_url",
                "organization_id",
                "roles",
            ],
        )),
    );
    put(
        s,
        "ProfileUpdate",
        json!({
            "type": "object",
            "description": "Writable: display_name, timezone, locale, avatar_url. The output-only fields of a read (id, email, organization_id, roles, updated_at) are accepted back unchanged",
            "properties": {
                "display_name": { "type": ["string", "null"], "maxLength": 100 },
                "timezone": { "type": "string", "description": "An IANA time zone name" },
                "locale": { "type": "string", "examples": ["en-US"] },
                "avatar_url": { "type": ["string", "null"], "format": "uri" },
                "id": id("usr"), "email": string(), "organization_id": id("acc"),
                "roles": array_of(string()), "updated_at": timestamp(),
            },
            "additionalProperties": false,
        }),
    );
    put(
        s,
        "PasswordChange",
        closed(
            json!({ "current_password": { "type": "string", "description": "Needed when the user has a password" }, "new_password": { "type": "string", "minLength": 8 } }),
            &["new_password"],
        ),
    );
    put(
        s,
        "EmailChangeRequest",
        closed(
            json!({ "email": email(), "current_password": string() }),
            &["email"],
        ),
    );
    put(s, "Message", message());
    put(
        s,
        "EmailChanged",
        data(object(json!({ "email": string() }), &["email"])),
    );
    put(
        s,
        "MfaStatus",
        data(object(
            json!({ "enabled": boolean(), "methods": array_of(enumeration(&["totp"])), "backup_codes_remaining": integer() }),
            &["enabled", "methods", "backup_codes_remaining"],
        )),
    );
    put(
        s,
        "MfaEnableRequest",
        closed(
            json!({ "method": enumeration(&["totp"]), "password": { "type": "string", "description": "The current password: needed unless the caller signed in within the last 10 minutes" } }),
            &[],
        ),
    );
    put(
        s,
        "MfaEnrollment",
        data(object(
            json!({ "method": enumeration(&["totp"]), "secret": { "type": "string", "description": "Base32 TOTP secret" }, "otpauth_uri": string(), "enrollment_id": string() }),
            &["method", "secret", "otpauth_uri", "enrollment_id"],
        )),
    );
    put(
        s,
        "MfaVerifyRequest",
        closed(
            json!({ "enrollment_id": string(), "code": { "type": "string", "pattern": "^[0-9]{6}$" } }),
            &["enrollment_id", "code"],
        ),
    );
    put(
        s,
        "MfaEnabled",
        data(object(
            json!({ "enabled": { "const": true }, "backup_codes": array_of(string()) }),
            &["enabled", "backup_codes"],
        )),
    );
    put(
        s,
        "MfaDisableRequest",
        closed(
            json!({ "password": string(), "code": { "type": "string", "description": "A TOTP or backup code" } }),
            &["code"],
        ),
    );
    put(
        s,
        "UserPreferences",
        data(
            json!({ "type": "object", "description": "Every preference the user set, by key", "additionalProperties": true }),
        ),
    );
    put(
        s,
        "UserPreference",
        data(object(
            json!({ "key": string(), "value": any(), "updated_at": nullable_timestamp() }),
            &["key", "value"],
        )),
    );
    put(
        s,
        "UserPreferenceValue",
        closed(
            json!({ "value": { "description": "Any JSON value up to 4096 bytes; `display.*` keys take the account preference's values" } }),
            &["value"],
        ),
    );
}

fn sign_in(s: &mut Map<String, Value>) {
    put(
        s,
        "Login",
        closed(
            json!({ "email": email(), "password": string(), "code": { "type": "string", "description": "TOTP or backup code when MFA is on" }, "account": { "type": "string", "description": "Account id or slug when the identity belongs to several" } }),
            &["email", "password"],
        ),
    );
    put(
        s,
        "SessionIssued",
        data(object(
            json!({
                "token": { "type": "string", "description": "The bearer token of the session" },
                "session_id": string(), "account_id": id("acc"), "expires_at": timestamp(),
                "restricted": { "type": ["string", "null"], "description": "Set when the session may only finish a required step (e.g. MFA enrollment)" },
            }),
            &["token", "session_id", "account_id", "expires_at"],
        )),
    );
    put(
        s,
        "SessionList",
        data_page(object(
            json!({ "id": string(), "created_at": timestamp(), "last_seen_at": timestamp(), "expires_at": timestamp(), "ip": nullable_string(), "current": boolean() }),
            &[
                "id",
                "created_at",
                "last_seen_at",
                "expires_at",
                "ip",
                "current",
            ],
        )),
    );
    put(
        s,
        "PasswordResetRequest",
        closed(json!({ "email": email() }), &["email"]),
    );
    put(
        s,
        "PasswordResetCompletion",
        closed(
            json!({ "password": { "type": "string", "minLength": 8 } }),
            &["password"],
        ),
    );
}

fn api_keys(s: &mut Map<String, Value>) {
    let key = |with_secret: bool| {
        let mut fields = json!({
            "id": id("key"), "name": string(), "prefix": string(), "scopes": scopes(),
            "created_at": timestamp(), "last_used_at": nullable_timestamp(), "expires_at": nullable_timestamp(),
        });
        let mut required = vec!["id", "name", "prefix", "scopes", "created_at", "expires_at"];
        if with_secret {
            fields["secret"] =
                json!({ "type": "string", "description": "The key itself, shown this once" });
            required.push("secret");
        } else {
            required.push("last_used_at");
        }
        object(fields, &required)
    };
    put(s, "ApiKeyInfo", key(false));
    put(s, "ApiKey", data(reference("ApiKeyInfo")));
    put(s, "ApiKeyList", data_page(reference("ApiKeyInfo")));
    put(s, "ApiKeyCreated", data(key(true)));
    put(
        s,
        "ApiKeyRegenerated",
        data(object(
            json!({ "id": id("key"), "secret": string(), "prefix": string(), "rotated_at": timestamp() }),
            &["id", "secret", "prefix", "rotated_at"],
        )),
    );
    put(
        s,
        "ApiKeyRequest",
        closed(
            json!({ "name": { "type": "string", "minLength": 1 }, "scopes": scopes(), "expires_in_days": { "type": ["integer", "null"], "minimum": 1 } }),
            &["name"],
        ),
    );
}

fn organization(s: &mut Map<String, Value>) {
    let org = json!({
        "default_timezone": { "type": "string", "description": "An IANA time zone name" },
        "require_sso": boolean(), "data_residency": enumeration(&tenantry_settings::org_settings::DATA_RESIDENCIES),
    });
    let mut with_update = org.clone();
    with_update["updated_at"] = json!({ "type": "string", "format": "date-time", "description": "In the reply to a write" });
    put(
        s,
        "OrganizationSettings",
        data(object(
            with_update,
            &["default_timezone", "require_sso", "data_residency"],
        )),
    );
    put(s, "OrganizationSettingsUpdate", closed(org.clone(), &[]));
    let mut all = org;
    all["feature_flags"] = json!({ "type": "object", "additionalProperties": boolean() });
    put(
        s,
        "OrganizationSettingsAll",
        data(object(
            all,
            &[
                "default_timezone",
                "require_sso",
                "data_residency",
                "feature_flags",
            ],
        )),
    );
    let timeout = json!({
        "idle_timeout_minutes": { "type": ["integer", "null"], "minimum": 0, "maximum": IdleTimeout::MAX, "description": format!("0 or null: no idle timeout; otherwise {}-{} minutes", IdleTimeout::MIN, IdleTimeout::MAX) },
        "absolute_timeout_minutes": { "type": "integer", "minimum": SessionLifetime::MIN, "maximum": SessionLifetime::MAX }, "extend_on_activity": boolean(),
    });
    let mut timeout_read = timeout.clone();
    timeout_read["updated_at"] = json!({ "type": "string", "format": "date-time" });
    put(
        s,
        "SessionTimeout",
        data(object(
            timeout_read,
            &[
                "idle_timeout_minutes",
                "absolute_timeout_minutes",
                "extend_on_activity",
            ],
        )),
    );
    put(s, "SessionTimeoutUpdate", closed(timeout, &[]));
    let retention = json!({ "run_logs_days": days(), "audit_logs_days": days(), "diagnostic_artifacts_days": days() });
    let mut retention_read = retention.clone();
    retention_read["updated_at"] = json!({ "type": "string", "format": "date-time" });
    put(
        s,
        "LogRetention",
        data(object(
            retention_read,
            &[
                "run_logs_days",
                "audit_logs_days",
                "diagnostic_artifacts_days",
            ],
        )),
    );
    put(s, "LogRetentionUpdate", closed(retention, &[]));
    let entry = object(
        json!({ "id": id("ipw"), "cidr": string(), "label": nullable_string(), "created_at": timestamp() }),
        &["id", "cidr", "label", "created_at"],
    );
    put(s, "IpWhitelistEntryView", entry);
    put(
        s,
        "IpWhitelist",
        data_page(reference("IpWhitelistEntryView")),
    );
    put(
        s,
        "IpWhitelistEntryCreated",
        data(reference("IpWhitelistEntryView")),
    );
    put(
        s,
        "IpWhitelistEntry",
        closed(
            json!({ "cidr": { "type": "string", "description": "An IPv4 or IPv6 address or CIDR block", "examples": ["203.0.113.0/24"] }, "label": { "type": ["string", "null"], "description": "null or absent: no label" } }),
            &["cidr"],
        ),
    );
    put(
        s,
        "IpWhitelistStatus",
        data(object(
            json!({ "enabled": boolean(), "applies_to": array_of(string()), "entry_count": integer(), "last_evaluated_at": nullable_timestamp() }),
            &["enabled", "applies_to", "entry_count", "last_evaluated_at"],
        )),
    );
    put(
        s,
        "IpWhitelistToggle",
        closed(
            json!({ "enabled": boolean(), "confirm_lockout": { "type": "boolean", "description": "Accepted and ignored: nothing overrides the lockout guard" } }),
            &["enabled"],
        ),
    );
    put(
        s,
        "IpWhitelistToggled",
        data(object(
            json!({ "enabled": boolean(), "updated_at": timestamp() }),
            &["enabled", "updated_at"],
        )),
    );
    put(
        s,
        "Organization",
        data(object(
            json!({ "id": id("acc"), "name": string(), "slug": string(), "plan": enumeration(&TIERS), "created_at": timestamp() }),
            &["id", "name", "slug", "plan", "created_at"],
        )),
    );
    put(
        s,
        "Features",
        data(object(
            json!({ "features": array_of(string()) }),
            &["features"],
        )),
    );
    put(
        s,
        "Limits",
        data(
            json!({ "type": "object", "description": "Each limit of the tier by name", "additionalProperties": integer() }),
        ),
    );
    put(
        s,
        "Tier",
        data(object(
            json!({ "tier": enumeration(&TIERS), "billing_period": nullable_string(), "renewal_date": nullable_string() }),
            &["tier", "billing_period", "renewal_date"],
        )),
    );
}

fn notifications(s: &mut Map<String, Value>) {
    let channel = object(
        json!({
            "id": readable_id("nch"), "type": enumeration(&CHANNEL_TYPES), "name": string(), "enabled": boolean(),
            "config": { "type": "object", "description": "email: recipients, severity_filter; slack: webhook_url, channel, workspace; webhook: url, secret (`{\"configured\": true}` when set)", "additionalProperties": true },
            "builtin": boolean(), "created_at": nullable_timestamp(), "updated_at": nullable_timestamp(),
            "secret": { "type": "string", "description": "A new webhook channel's signing secret, in the create reply only" },
        }),
        &["id", "type", "name", "enabled", "config"],
    );
    put(s, "NotificationChannelView", channel);
    put(
        s,
        "NotificationChannel",
        data(reference("NotificationChannelView")),
    );
    put(
        s,
        "NotificationChannelList",
        data_page(reference("NotificationChannelView")),
    );
    put(
        s,
        "NotificationChannelRequest",
        closed(
            json!({ "type": enumeration(&CHANNEL_TYPES), "name": { "type": "string", "minLength": 1 }, "enabled": { "type": ["boolean", "null"], "description": "Default: true" }, "config": map() }),
            &["type", "name"],
        ),
    );
    put(
        s,
        "NotificationChannelUpdate",
        closed(
            json!({
                "name": string(), "enabled": { "type": ["boolean", "null"] }, "config": map(),
                "id": readable_id("nch"), "type": enumeration(&CHANNEL_TYPES), "builtin": boolean(),
                "created_at": nullable_timestamp(), "updated_at": nullable_timestamp(),
            }),
            &[],
        ),
    );
    put(
        s,
        "NotificationChannelUpdated",
        data(object(
            json!({ "id": readable_id("nch"), "name": string(), "enabled": boolean(), "updated_at": timestamp() }),
            &["id", "name", "enabled", "updated_at"],
        )),
    );
    put(
        s,
        "DeliveryQueued",
        data(object(
            json!({ "delivery_id": id("ndl"), "status": enumeration(&["queued"]) }),
            &["delivery_id", "status"],
        )),
    );
    let rule = object(
        json!({
            "id": readable_id("nrl"), "name": string(), "event": string(), "channel_ids": array_of(readable_id("nch")),
            "filters": map(), "enabled": boolean(), "builtin": boolean(), "created_at": nullable_timestamp(),
        }),
        &[
            "id",
            "name",
            "event",
            "channel_ids",
            "filters",
            "enabled",
            "builtin",
            "created_at",
        ],
    );
    put(s, "NotificationRuleView", rule);
    put(
        s,
        "NotificationRule",
        data(reference("NotificationRuleView")),
    );
    put(
        s,
        "NotificationRuleList",
        data_page(reference("NotificationRuleView")),
    );
    let rule_request = json!({
        "name": { "type": "string", "minLength": 1 }, "event": string(), "channel_ids": array_of(readable_id("nch")),
        "filters": map(), "enabled": boolean(),
    });
    put(
        s,
        "NotificationRuleRequest",
        closed(rule_request.clone(), &["name", "event", "channel_ids"]),
    );
    let mut replace = rule_request;
    replace["id"] = readable_id("nrl");
    replace["builtin"] = boolean();
    replace["created_at"] = nullable_timestamp();
    put(
        s,
        "NotificationRuleReplace",
        closed(replace, &["name", "event", "channel_ids"]),
    );
    let delivery = object(
        json!({
            "id": id("ndl"), "event_id": string(), "event_type": string(), "channel_id": readable_id("nch"),
            "status": enumeration(&["queued", "retrying", "delivered", "failed", "cancelled"]),
            "response_code": nullable_integer(), "latency_ms": nullable_integer(),
            "attempts": array_of(object(json!({ "attempt": integer(), "at": timestamp(), "state": enumeration(&["in_flight", "completed", "interrupted"]), "response_code": nullable_integer(), "latency_ms": nullable_integer(), "error": nullable_string() }), &["attempt", "at", "state", "response_code", "latency_ms", "error"])),
            "created_at": timestamp(), "updated_at": timestamp(),
        }),
        &[
            "id",
            "event_id",
            "event_type",
            "channel_id",
            "status",
            "response_code",
            "latency_ms",
            "attempts",
            "created_at",
            "updated_at",
        ],
    );
    put(s, "DeliveryView", delivery);
    put(s, "Delivery", data(reference("DeliveryView")));
    put(s, "DeliveryList", data_page(reference("DeliveryView")));
    put(
        s,
        "ReportedEvent",
        closed(
            json!({ "event": { "type": "string", "minLength": 1, "examples": ["pipeline.run.failed"] }, "data": any() }),
            &["event"],
        ),
    );
    put(
        s,
        "EventAccepted",
        data(object(
            json!({ "event_id": id("evt"), "type": string(), "occurred_at": timestamp() }),
            &["event_id", "type", "occurred_at"],
        )),
    );
}
