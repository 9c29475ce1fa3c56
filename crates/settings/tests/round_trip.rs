//! Round-trip laws of the seed 01 section codecs: for any valid section, reading back its own
//! rendering gives the same value (so export then import changes nothing), and merging an empty
//! patch is the identity (so an empty PUT changes nothing).

use proptest::prelude::*;
use serde_json::json;
use tenantry_billing::BillingSettings;
use tenantry_kernel::Timezone;
use tenantry_security::{ApiKeyLimit, Cidr, RetentionDays, SessionLifetime, SessionLimit};
use tenantry_settings::{
    billing_document, merge_patch, AwsRegion, DateFormat, Fields, Language, NumberFormat,
    SecurityPolicy, Theme, UserPreferences,
};

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(items)
}

fn parse_all<T: Copy>(names: &[&str], parse: fn(&str) -> Result<T, String>) -> Vec<T> {
    names
        .iter()
        .map(|n| parse(n).expect("listed values parse"))
        .collect()
}

fn preferences() -> impl Strategy<Value = UserPreferences> {
    let zones: Vec<Timezone> = [
        "UTC",
        "Asia/Tokyo",
        "Europe/Berlin",
        "America/Los_Angeles",
        "Pacific/Auckland",
    ]
    .iter()
    .map(|z| Timezone::parse(z).expect("zone"))
    .collect();
    (
        proptest::option::of(proptest::sample::select(zones)),
        proptest::sample::select(parse_all(Language::ALLOWED, Language::parse)),
        proptest::sample::select(parse_all(Theme::ALLOWED, Theme::parse)),
        proptest::sample::select(parse_all(DateFormat::ALLOWED, DateFormat::parse)),
        proptest::sample::select(parse_all(NumberFormat::ALLOWED, NumberFormat::parse)),
        proptest::sample::select(parse_all(AwsRegion::ALLOWED, AwsRegion::parse)),
    )
        .prop_map(
            |(timezone, language, theme, date_format, number_format, default_region)| {
                UserPreferences {
                    timezone,
                    language,
                    theme,
                    date_format,
                    number_format,
                    default_region,
                }
            },
        )
}

fn security() -> impl Strategy<Value = (SecurityPolicy, Vec<Cidr>)> {
    (
        (any::<bool>(), any::<bool>(), 1u32..=50, 60u32..=168 * 60),
        (1u32..=10, any::<bool>(), 30u32..=365),
        proptest::collection::vec((any::<[u8; 4]>(), 8u8..=32), 0..6),
    )
        .prop_map(
            |((mfa, enforced, keys, minutes), (sessions, reauth, retention), nets)| {
                let policy = SecurityPolicy {
                    mfa_required: mfa,
                    ip_allowlist_enforced: enforced,
                    max_api_keys: ApiKeyLimit::new(keys).expect("generated in range"),
                    absolute_session_minutes: SessionLifetime::new(minutes)
                        .expect("generated in range"),
                    concurrent_sessions: SessionLimit::new(sessions).expect("generated in range"),
                    reauth_for_sensitive: reauth,
                    audit_retention_days: RetentionDays::new(retention)
                        .expect("generated in range"),
                    ..SecurityPolicy::default()
                };
                let mut list: Vec<Cidr> = Vec::new();
                for (octets, prefix) in nets {
                    let net =
                        ipnetwork::Ipv4Network::new(octets.into(), prefix).expect("valid prefix");
                    let cidr =
                        Cidr::parse(&format!("{}/{}", net.network(), prefix)).expect("network");
                    if !list.contains(&cidr) {
                        list.push(cidr);
                    }
                }
                (policy, list)
            },
        )
}

fn billing() -> impl Strategy<Value = serde_json::Value> {
    (
        pick(&["USD", "EUR", "GBP", "JPY"]),
        proptest::option::of(pick(&["US", "DE", "JP", "GB", "FR"])),
        proptest::collection::vec((1u32..1_000_000, pick(&["daily", "weekly", "monthly"]), any::<bool>()), 0..4),
        proptest::option::of("[A-Za-z]{1,30}"),
    )
        .prop_map(|(currency, country, alerts, name)| {
            json!({
                "currency": currency,
                "billing_address": {"country": country, "name": name},
                "cost_alerts": alerts.iter().map(|(t, p, e)| json!({"threshold": f64::from(*t) / 100.0, "period": p, "enabled": e})).collect::<Vec<_>>(),
            })
        })
}

proptest! {
    #[test]
    fn preferences_read_back_their_rendering(prefs in preferences()) {
        let mut f = Fields::default();
        let doc = prefs.render(None);
        prop_assert_eq!(UserPreferences::read(&doc, &mut f), Some(prefs.clone()));
        prop_assert!(f.is_clean());
        let mut merged = doc.clone();
        merge_patch(&mut merged, &json!({}));
        prop_assert_eq!(merged, doc);
    }

    #[test]
    fn security_reads_back_its_rendering((policy, list) in security()) {
        let mut f = Fields::default();
        let mut invalid = Vec::new();
        let doc = policy.render(&list, None);
        let read = SecurityPolicy::default().read(&doc, &mut f, &mut invalid);
        prop_assert!(invalid.is_empty());
        prop_assert!(f.is_clean(), "{:?}", f.errors);
        let (read_policy, read_list) = read.expect("reads");
        // Minutes that are not whole hours render as exact fractional hours and read back.
        prop_assert_eq!(read_policy, policy);
        prop_assert_eq!(read_list, list);
    }

    #[test]
    fn billing_patch_then_read_is_stable(patch in billing()) {
        let mut doc = billing_document::render(&BillingSettings::default());
        merge_patch(&mut doc, &patch);
        let mut f = Fields::default();
        let once = billing_document::read(&doc, &mut f).expect("valid patch");
        prop_assert!(f.is_clean(), "{:?}", f.errors);
        let mut f2 = Fields::default();
        let twice = billing_document::read(&billing_document::render(&once), &mut f2).expect("re-reads");
        prop_assert_eq!(once, twice);
    }
}
