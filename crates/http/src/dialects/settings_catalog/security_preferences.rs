//! The settings catalog API's `SECURITY_PREFERENCES` setting: four fields of the one security
//! policy, in this API's camelCase, with its "0 = not set" convention and its write ranges
//! (decision 0043). The service takes a change of the domain `SecurityPolicy`.

use serde_json::{json, Map, Value};
use tenantry_security::{IdleTimeout, InactivityLock, PasswordExpiry, PolicyQuantity, WriteRange};
use tenantry_settings::{json_type, Fields, SecurityPolicy, SettingsError};

const KEYS: [&str; 4] = [
    "requireMFA",
    "inactivityTimeout",
    "passwordExpiration",
    "inactivityUserLockThreshold",
];

/// This API's write range of `inactivityTimeout` (10-120 of the domain's idle timeout minutes).
const INACTIVITY_TIMEOUT: WriteRange<IdleTimeout> = WriteRange::new(10, 120);

/// This API's write range of `passwordExpiration` (14-365 of the domain's expiry days).
const PASSWORD_EXPIRATION: WriteRange<PasswordExpiry> = WriteRange::new(14, 365);

/// This API's write range of `inactivityUserLockThreshold`: the whole domain range (it is the
/// only API that writes it).
const LOCK_THRESHOLD: WriteRange<InactivityLock> = WriteRange::DOMAIN;

/// How a write combines with the stored preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PreferencesWriteMode {
    /// POST / PUT: the numeric fields are required; `requireMFA` absent keeps its value.
    Replace,
    /// PATCH: fields left out keep their value; `null` returns one to its default.
    Partial,
}

/// The settings catalog API's document.
pub(super) fn render(policy: &SecurityPolicy) -> Value {
    json!({
        "securityPreferences": {
            "requireMFA": policy.mfa_required,
            "inactivityTimeout": policy.idle_timeout_minutes.map_or(0, IdleTimeout::get),
            "passwordExpiration": policy.password_expiry_days.map_or(0, PasswordExpiry::get),
            "inactivityUserLockThreshold": policy.inactivity_lock_days.map_or(0, InactivityLock::get),
        }
    })
}

/// `0` (not set) or a value in this API's `write` range of `Q`, or the value the stored policy shows (unchanged:
/// another dialect may have stored a value outside this one's range, see [`Fields::over`]).
fn zero_or_range<Q: PolicyQuantity>(
    f: &mut Fields,
    map: &Map<String, Value>,
    key: &str,
    write: WriteRange<Q>,
) -> Option<Option<Q>> {
    let (min, max) = (write.min(), write.max());
    let field = format!("securityPreferences.{key}");
    let value = map.get(key);
    let number = value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    // An unchanged value is the stored one, so it lies in the domain range.
    let accepted = number
        .filter(|n| write.parse(*n).is_ok() || f.unchanged(&field, value))
        .and_then(|n| Q::try_new(n).ok());
    match (number, accepted) {
        (Some(0), _) => Some(None),
        (_, Some(q)) => Some(Some(q)),
        _ if !value.is_some_and(Value::is_number) => {
            f.error_allowed(
                field,
                format!(
                    "{key} must be an integer (a JSON number), not a {}",
                    json_type(value)
                ),
                json!({ "type": "integer", "oneOf": [0, { "minimum": min, "maximum": max }] }),
            );
            None
        }
        _ => {
            f.error_allowed(
                field,
                format!("{key} must be 0 or between {min} and {max}"),
                json!({ "oneOf": [0, { "minimum": min, "maximum": max }] }),
            );
            None
        }
    }
}

/// Reads a request body onto `current`. A replacing write (POST, PUT) must name the three
/// numeric fields: each missing one is reported (the catalog's rule for documents it creates);
/// `requireMFA` left out keeps its value, as the catalog's create example leaves it out. A partial write
/// (PATCH) follows RFC 7396, so `null` returns a field to the policy's default.
pub(super) fn read(
    body: &Value,
    current: &SecurityPolicy,
    mode: PreferencesWriteMode,
    f: &mut Fields,
) -> Option<SecurityPolicy> {
    let root = f.object(body, "", &["securityPreferences"])?;
    let Some(prefs) = root.get("securityPreferences") else {
        f.error("securityPreferences", "is required");
        return None;
    };
    let prefs = f.object(prefs, "securityPreferences", &KEYS)?.clone();
    let mut next = current.clone();
    let defaults = SecurityPolicy::default();
    let mut ok = true;
    for key in KEYS {
        match prefs.get(key) {
            Some(Value::Null) if mode == PreferencesWriteMode::Partial => match key {
                "requireMFA" => next.mfa_required = defaults.mfa_required,
                "inactivityTimeout" => next.idle_timeout_minutes = defaults.idle_timeout_minutes,
                "passwordExpiration" => next.password_expiry_days = defaults.password_expiry_days,
                _ => next.inactivity_lock_days = defaults.inactivity_lock_days,
            },
            None if mode == PreferencesWriteMode::Partial => {}
            // The catalog's own create example leaves `requireMFA` out: absent, it keeps the
            // stored value (never silently switches mandatory MFA off).
            None if key == "requireMFA" => {}
            None | Some(Value::Null) => {
                f.error(format!("securityPreferences.{key}"), "is required");
                ok = false;
            }
            Some(_) if key == "requireMFA" => {
                match f.bool(&prefs, "requireMFA", "securityPreferences") {
                    Some(b) => next.mfa_required = b,
                    None => ok = false,
                }
            }
            Some(_) => {
                let read = match key {
                    "inactivityTimeout" => zero_or_range(f, &prefs, key, INACTIVITY_TIMEOUT)
                        .map(|v| next.idle_timeout_minutes = v),
                    "passwordExpiration" => zero_or_range(f, &prefs, key, PASSWORD_EXPIRATION)
                        .map(|v| next.password_expiry_days = v),
                    _ => zero_or_range(f, &prefs, key, LOCK_THRESHOLD)
                        .map(|v| next.inactivity_lock_days = v),
                };
                ok &= read.is_some();
            }
        }
    }
    ok.then_some(next)
}

/// A PATCH, PUT or POST body read onto the stored policy, every failing field reported.
pub(super) fn apply(
    body: &Value,
    current: &SecurityPolicy,
    mode: PreferencesWriteMode,
) -> Result<SecurityPolicy, SettingsError> {
    let mut fields = Fields::over(render(current));
    let next = read(body, current, mode, &mut fields);
    fields.finish(Vec::new(), next)
}
