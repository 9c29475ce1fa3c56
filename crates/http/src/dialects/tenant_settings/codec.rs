//! The tenant settings API's document: the domain [`TenantSettings`] in this API's camelCase,
//! and the reading of a merge-patched document back into them. What is this API's own lives
//! here: its names, its write ranges (checked only on the fields a write changes, see
//! [`Fields::over`]), and its allowlist without an enforcement flag.

use serde_json::{json, Map, Value};
use tenantry_billing::Limits;
use tenantry_kernel::Email;
use tenantry_security::{Cidr, PasswordExpiry, PolicyQuantity, RetentionDays, WriteRange};
use tenantry_settings::tenant::{
    rfc7396_merge, BrandingSettings, FeatureLimits, HexColor, TenantSettings,
};
use tenantry_settings::{
    in_stored_order, FieldError, Fields, HttpsUrl, SecurityPolicy, SettingsError,
};

/// The tenant settings API's document.
pub(super) fn render(settings: &TenantSettings) -> Value {
    json!({
        "security": {
            "mfaRequired": settings.security.mfa_required,
            "passwordExpiryDays": settings.security.password_expiry_days.map_or(0, PasswordExpiry::get),
            "maxConcurrentSessions": settings.security.concurrent_sessions,
            // The ranges in force: none while enforcement is off (docs/api/mapping.md).
            "allowedIpRanges": if settings.security.ip_allowlist_enforced {
                settings.allowlist.iter().map(ToString::to_string).collect::<Vec<_>>()
            } else {
                Vec::new()
            },
        },
        "features": {
            "auditLogRetentionDays": settings.security.audit_retention_days,
            "maxOrganizations": settings.features.max_organizations,
            "maxUsersPerOrganization": settings.features.max_users_per_organization,
        },
        "branding": {
            "primaryColor": settings.branding.primary_color.as_str(),
            "logoUrl": settings.branding.logo_url.as_ref().map(HttpsUrl::as_str),
            "supportEmail": settings.branding.support_email.as_ref().map(Email::as_str),
        },
    })
}

/// A body that is not a JSON object is no merge patch of this document.
pub(super) fn merge_patch(body: Value) -> Result<Value, SettingsError> {
    if body.is_object() {
        Ok(body)
    } else {
        Err(SettingsError::Validation(vec![FieldError {
            field: String::new(),
            message: "the body must be a JSON object".into(),
            allowed: None,
        }]))
    }
}

/// `patch` (RFC 7396) merged onto `current` as this API shows it, read back: every invalid
/// field is reported, in the API's names.
pub(super) fn apply(
    current: &TenantSettings,
    limits: Limits,
    patch: &Value,
) -> Result<TenantSettings, SettingsError> {
    let mut doc = render(current);
    let mut fields = Fields::over(doc.clone());
    rfc7396_merge(&mut doc, patch);
    let mut invalid = Vec::new();
    let next = read(current, &doc, limits, &mut fields, &mut invalid);
    fields.finish(invalid, next)
}

/// Reads a merged document onto `current`: absent fields (a patch's `null`) take the defaults.
/// Changed numbers are checked against this API's ranges and the tier's `limits`; every
/// invalid field is reported. `f` must be made [`Fields::over`] `render(current)`.
fn read(
    current: &TenantSettings,
    doc: &Value,
    limits: Limits,
    f: &mut Fields,
    invalid_ips: &mut Vec<String>,
) -> Option<TenantSettings> {
    let root = f.object(doc, "", &["security", "features", "branding"])?;
    let empty = Map::new();
    let section = |f: &mut Fields, key: &str, known: &[&str]| -> Map<String, Value> {
        match root.get(key) {
            None | Some(Value::Null) => empty.clone(),
            Some(v) => f.object(v, key, known).cloned().unwrap_or_default(),
        }
    };
    let sec = section(
        f,
        "security",
        &[
            "mfaRequired",
            "passwordExpiryDays",
            "maxConcurrentSessions",
            "allowedIpRanges",
        ],
    );
    let feat = section(
        f,
        "features",
        &[
            "auditLogRetentionDays",
            "maxOrganizations",
            "maxUsersPerOrganization",
        ],
    );
    let brand = section(f, "branding", &["primaryColor", "logoUrl", "supportEmail"]);
    let defaults = SecurityPolicy::default();

    let mut security = current.security.clone();
    let mfa = opt(&sec, "mfaRequired").map_or(Some(defaults.mfa_required), |_| {
        f.bool(&sec, "mfaRequired", "security")
    });
    let expiry =
        opt(&sec, "passwordExpiryDays").map_or(Some(defaults.password_expiry_days), |_| {
            // This API writes the whole domain range of the password expiry, 0 = never.
            never_or(
                f,
                &sec,
                "passwordExpiryDays",
                "security",
                WriteRange::<PasswordExpiry>::DOMAIN,
            )
        });
    // This API writes the whole domain range of the concurrent sessions.
    let sessions =
        opt(&sec, "maxConcurrentSessions").map_or(Some(defaults.concurrent_sessions), |_| {
            f.quantity(
                &sec,
                "maxConcurrentSessions",
                "security",
                WriteRange::DOMAIN,
            )
        });
    let ranges = sec.get("allowedIpRanges");
    let mut allowlist = Vec::new();
    match ranges {
        None => {}
        Some(Value::Array(items)) if items.len() <= 1000 => {
            for item in items {
                match item.as_str().map(Cidr::parse) {
                    Some(Ok(c)) if !allowlist.contains(&c) => allowlist.push(c),
                    Some(Ok(_)) => {}
                    _ => invalid_ips.push(
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned),
                    ),
                }
            }
        }
        Some(_) => f.error(
            "security.allowedIpRanges",
            "must be an array of at most 1000 CIDR blocks",
        ),
    }
    // This API shows the ranges in force and has no enforcement flag: the list sent back as
    // read (in any order) changes nothing; a changed list replaces the entries, and turns
    // enforcement on when it is non-empty, off when it is empty.
    let shown: Vec<Cidr> = if current.security.ip_allowlist_enforced {
        current.allowlist.clone()
    } else {
        Vec::new()
    };
    let same_set = allowlist.len() == shown.len() && allowlist.iter().all(|c| shown.contains(c));
    if same_set {
        allowlist = current.allowlist.clone();
    } else {
        security.ip_allowlist_enforced = !allowlist.is_empty();
        allowlist = in_stored_order(&current.allowlist, &allowlist);
    }
    // The whole domain range of the audit retention, up to the tier's cap.
    let retention =
        opt(&feat, "auditLogRetentionDays").map_or(Some(defaults.audit_retention_days), |_| {
            f.quantity(
                &feat,
                "auditLogRetentionDays",
                "features",
                WriteRange::<RetentionDays>::DOMAIN.capped_at(limits.max_audit_retention_days),
            )
        });
    let max_orgs = opt(&feat, "maxOrganizations").map_or(
        Some(
            FeatureLimits::default()
                .max_organizations
                .min(limits.max_organizations),
        ),
        |_| {
            f.integer(
                &feat,
                "maxOrganizations",
                "features",
                1,
                limits.max_organizations,
            )
        },
    );
    let max_users = opt(&feat, "maxUsersPerOrganization").map_or(
        Some(
            FeatureLimits::default()
                .max_users_per_organization
                .min(limits.max_members),
        ),
        |_| {
            f.integer(
                &feat,
                "maxUsersPerOrganization",
                "features",
                1,
                limits.max_members,
            )
        },
    );

    let defaults_b = BrandingSettings::default();
    let color = opt(&brand, "primaryColor").map_or(Some(defaults_b.primary_color.clone()), |_| {
        f.parse(&brand, "primaryColor", "branding", HexColor::parse, None)
    });
    let logo = f.parse_opt(&brand, "logoUrl", "branding", HttpsUrl::parse);
    let email = f.parse_opt(&brand, "supportEmail", "branding", |s| {
        Email::parse(s).map_err(|e| e.to_string())
    });
    // Every field was read (each error recorded) before any is given up on.
    security.mfa_required = mfa?;
    security.password_expiry_days = expiry?;
    security.concurrent_sessions = sessions?;
    security.audit_retention_days = retention?;
    Some(TenantSettings {
        security,
        allowlist,
        features: FeatureLimits {
            max_organizations: max_orgs?,
            max_users_per_organization: max_users?,
        },
        branding: BrandingSettings {
            primary_color: color?,
            logo_url: logo?,
            support_email: email?,
        },
    })
}

fn opt<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// `0` ("never") or an integer in this API's `write` range of `Q` (or unchanged: see
/// [`Fields::over`]; the stored value lies in `Q`'s domain range).
fn never_or<Q: PolicyQuantity>(
    f: &mut Fields,
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    write: WriteRange<Q>,
) -> Option<Option<Q>> {
    let max = write.max();
    let field = format!("{path}.{key}");
    let value = map.get(key);
    let number = value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok());
    let accepted = number
        .filter(|n| write.parse(*n).is_ok() || f.unchanged(&field, value))
        .and_then(|n| Q::try_new(n).ok());
    match (number, accepted) {
        (Some(0), _) => Some(None),
        (_, Some(q)) => Some(Some(q)),
        _ if !value.is_some_and(Value::is_number) => {
            f.type_error(field, value, "an integer", 0.0, f64::from(max));
            None
        }
        (Some(_), None) => {
            f.error(field, format!("{key} must be at most {max} (0 = never)"));
            None
        }
        (None, _) => {
            f.error(field, format!("{key} must be a non-negative number"));
            None
        }
    }
}

/// Merge-PATCH laws of the tenant settings document (RFC 7396 over the typed settings). A
/// failure prints the minimal failing input; the seed is fixed (0x0043) and the budget 256 cases.
#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod laws {
    use proptest::prelude::*;
    use serde_json::{json, Value};
    use tenantry_billing::Tier;
    use tenantry_settings::tenant::{BrandingSettings, FeatureLimits, TenantSettings};
    use tenantry_settings::SecurityPolicy;

    use super::render;

    fn apply(current: &TenantSettings, patch: &Value) -> Option<TenantSettings> {
        super::apply(current, Tier::Free.limits(), patch).ok()
    }

    fn defaults() -> TenantSettings {
        TenantSettings {
            security: SecurityPolicy::default(),
            allowlist: Vec::new(),
            features: FeatureLimits::default(),
            branding: BrandingSettings::default(),
        }
    }

    /// A field value, or `null` (which resets the field to its default).
    fn maybe_null(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        prop_oneof![3 => v, 1 => Just(Value::Null)]
    }

    fn patch() -> impl Strategy<Value = Value> {
        (
            proptest::option::of(maybe_null(any::<bool>().prop_map(Value::from))),
            proptest::option::of(maybe_null((0u32..=3650).prop_map(Value::from))),
            proptest::option::of(maybe_null((1u32..=100).prop_map(Value::from))),
            proptest::option::of(maybe_null(proptest::sample::select(vec![
                json!([]),
                json!(["10.0.0.0/8"]),
                json!(["192.0.2.0/24", "2001:db8::/32"]),
            ]))),
            proptest::option::of(maybe_null((1u32..=365).prop_map(Value::from))),
            proptest::option::of(maybe_null((1u32..=10).prop_map(Value::from))),
            proptest::option::of(maybe_null(proptest::sample::select(vec![
                json!("#000000"),
                json!("#abc"),
                json!("#6366F1"),
            ]))),
            proptest::option::of(maybe_null(proptest::sample::select(vec![
                json!("help@example.com"),
                json!("a@b.co"),
            ]))),
        )
            .prop_map(
                |(mfa, expiry, sessions, ranges, retention, orgs, color, email)| {
                    let mut p = json!({});
                    let mut put = |section: &str, key: &str, v: Option<Value>| {
                        if let Some(v) = v {
                            p[section][key] = v;
                        }
                    };
                    put("security", "mfaRequired", mfa);
                    put("security", "passwordExpiryDays", expiry);
                    put("security", "maxConcurrentSessions", sessions);
                    put("security", "allowedIpRanges", ranges);
                    put("features", "auditLogRetentionDays", retention);
                    put("features", "maxOrganizations", orgs);
                    put("branding", "primaryColor", color);
                    put("branding", "supportEmail", email);
                    p
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0x0043), ..ProptestConfig::default() })]

        #[test]
        fn an_empty_patch_changes_nothing(p in patch()) {
            let state = apply(&defaults(), &p).expect("generated patches are valid");
            prop_assert_eq!(apply(&state, &json!({})), Some(state));
        }

        #[test]
        fn patching_twice_equals_patching_once(base in patch(), p in patch()) {
            let state = apply(&defaults(), &base).expect("valid");
            let once = apply(&state, &p).expect("valid");
            prop_assert_eq!(apply(&once, &p), Some(once));
        }

        #[test]
        fn null_resets_a_field_to_its_default(base in patch()) {
            let state = apply(&defaults(), &base).expect("valid");
            let reset = apply(&state, &json!({"security": {"passwordExpiryDays": null}, "branding": {"primaryColor": null}})).expect("valid");
            let defaults = defaults();
            prop_assert_eq!(reset.security.password_expiry_days, defaults.security.password_expiry_days);
            prop_assert_eq!(reset.branding.primary_color, defaults.branding.primary_color);
            // Everything else is untouched.
            prop_assert_eq!(reset.security.mfa_required, state.security.mfa_required);
            prop_assert_eq!(reset.allowlist, state.allowlist);
        }

        /// The patched value reads back: every field the patch sets is what the document then
        /// shows (a merge that did nothing would pass the laws above), and every field it nulls
        /// shows its default.
        #[test]
        fn the_patched_value_reads_back(base in patch(), p in patch()) {
            let state = apply(&defaults(), &base).expect("valid");
            let next = apply(&state, &p).expect("valid");
            let shown = render(&next);
            let fresh = render(&defaults());
            for (section, fields) in p.as_object().expect("object") {
                for (key, value) in fields.as_object().expect("object") {
                    let expected = if value.is_null() { &fresh[section][key] } else { value };
                    prop_assert_eq!(
                        normalized(&shown[section][key]),
                        normalized(expected),
                        "{}.{} after {}", section, key, p
                    );
                }
            }
        }
    }

    /// Values as the document renders them: colours as six lowercase hex digits (`#abc` is
    /// `#aabbcc`).
    fn normalized(v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with('#') => {
                let hex = s[1..].to_ascii_lowercase();
                let full = if hex.len() == 3 {
                    hex.chars().flat_map(|c| [c, c]).collect()
                } else {
                    hex
                };
                Value::String(format!("#{full}"))
            }
            other => other.clone(),
        }
    }
}
