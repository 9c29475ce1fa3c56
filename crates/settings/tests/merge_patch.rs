//! Merge-PATCH laws of seed 05's tenant settings (RFC 7396 over the typed document).

use proptest::prelude::*;
use serde_json::{json, Value};
use tenantry_billing::Tier;
use tenantry_settings::tenant::{rfc7396_merge, BrandingSettings, FeatureLimits, TenantSettings};
use tenantry_settings::{Fields, SecurityPolicy};

fn apply(current: &TenantSettings, patch: &Value) -> Option<TenantSettings> {
    let mut doc = current.render();
    rfc7396_merge(&mut doc, patch);
    let mut f = Fields::default();
    let mut invalid = Vec::new();
    let next = current.read(&doc, Tier::Free.limits(), &mut f, &mut invalid);
    (f.is_clean() && invalid.is_empty())
        .then_some(next)
        .flatten()
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
        let shown = next.render();
        let fresh = defaults().render();
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
