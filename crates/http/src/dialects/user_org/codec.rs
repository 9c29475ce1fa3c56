//! The user and organization API's organization bodies read into the domain's partial updates,
//! with this API's field names and its write ranges. Every failing field is reported at once.
//! The closed sets and parsers are the domain's (`Timezone::parse`, `DATA_RESIDENCIES`); the
//! ranges below are this API's own.

use serde_json::Value;
use tenantry_kernel::Timezone;
use tenantry_security::{IdleTimeout, RetentionDays, SessionLifetime, WriteRange};
use tenantry_settings::org_settings::{
    LogRetentionUpdate, OrganizationUpdate, SessionTimeoutUpdate, DATA_RESIDENCIES,
};
use tenantry_settings::{Fields, SettingsError};

/// Run-log and diagnostic retention in days, which the API leaves open: at least a day, at
/// most what the audit log may be kept (the domain's [`RetentionDays`] range), which every tier
/// retains.
const RETENTION_MAX: u32 = RetentionDays::MAX;

/// `POST /api/settings`: `default_timezone`, `require_sso`, `data_residency`, each optional.
pub(super) fn organization_update(body: &Value) -> Result<OrganizationUpdate, SettingsError> {
    let mut f = Fields::default();
    let map = f
        .object(
            body,
            "",
            &["default_timezone", "require_sso", "data_residency"],
        )
        .cloned()
        .unwrap_or_default();
    let default_timezone = map
        .contains_key("default_timezone")
        .then(|| f.parse(&map, "default_timezone", "", Timezone::parse, None))
        .flatten();
    let require_sso = map
        .contains_key("require_sso")
        .then(|| f.bool(&map, "require_sso", ""))
        .flatten();
    let data_residency = map
        .contains_key("data_residency")
        .then(|| {
            f.parse(
                &map,
                "data_residency",
                "",
                |s| {
                    DATA_RESIDENCIES
                        .contains(&s)
                        .then(|| s.to_owned())
                        .ok_or_else(|| format!("must be one of: {}", DATA_RESIDENCIES.join(", ")))
                },
                Some(&DATA_RESIDENCIES),
            )
        })
        .flatten();
    f.finish(
        Vec::new(),
        Some(OrganizationUpdate {
            default_timezone,
            require_sso,
            data_residency,
        }),
    )
}

/// `PUT /api/settings/log-retention`: the given fields, 1–365 days each.
pub(super) fn log_retention_update(body: &Value) -> Result<LogRetentionUpdate, SettingsError> {
    let mut f = Fields::default();
    let map = f
        .object(
            body,
            "",
            &[
                "run_logs_days",
                "audit_logs_days",
                "diagnostic_artifacts_days",
            ],
        )
        .cloned()
        .unwrap_or_default();
    let days = |f: &mut Fields, key: &str| {
        map.contains_key(key)
            .then(|| f.integer(&map, key, "", 1, RETENTION_MAX))
            .flatten()
    };
    let run_logs_days = days(&mut f, "run_logs_days");
    // The audit log's retention is the security policy's: this API writes its whole range.
    let audit_logs_days = map
        .contains_key("audit_logs_days")
        .then(|| f.quantity(&map, "audit_logs_days", "", WriteRange::DOMAIN))
        .flatten();
    let update = LogRetentionUpdate {
        run_logs_days,
        audit_logs_days,
        diagnostic_artifacts_days: days(&mut f, "diagnostic_artifacts_days"),
    };
    f.finish(Vec::new(), Some(update))
}

/// `PUT /api/session-timeout`: the given fields. Idle 0 or `null` = no idle timeout, else
/// 1–1440 minutes; absolute 60–10080 minutes (the account settings API's 1–168 hours). Both are
/// the domain ranges of [`IdleTimeout`] and [`SessionLifetime`]: this API writes them whole.
pub(super) fn session_timeout_update(body: &Value) -> Result<SessionTimeoutUpdate, SettingsError> {
    let mut f = Fields::default();
    let map = f
        .object(
            body,
            "",
            &[
                "idle_timeout_minutes",
                "absolute_timeout_minutes",
                "extend_on_activity",
            ],
        )
        .cloned()
        .unwrap_or_default();
    let idle_timeout_minutes = match map.get("idle_timeout_minutes") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Some(None),
        Some(_) => f
            .quantity::<IdleTimeout>(&map, "idle_timeout_minutes", "", WriteRange::DOMAIN)
            .map(Some),
    };
    let absolute_timeout_minutes = map
        .contains_key("absolute_timeout_minutes")
        .then(|| {
            f.quantity::<SessionLifetime>(&map, "absolute_timeout_minutes", "", WriteRange::DOMAIN)
        })
        .flatten();
    let extend_on_activity = map
        .contains_key("extend_on_activity")
        .then(|| f.bool(&map, "extend_on_activity", ""))
        .flatten();
    f.finish(
        Vec::new(),
        Some(SessionTimeoutUpdate {
            idle_timeout_minutes,
            absolute_timeout_minutes,
            extend_on_activity,
        }),
    )
}
