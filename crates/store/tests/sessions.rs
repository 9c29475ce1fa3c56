//! Session rules with the clock moved: idle timeout, absolute lifetime, concurrency cap,
//! re-authentication window — through the real services and store, on both backends.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenantry_security::SecurityError;
use tenantry_settings::Section;

use crate::support::{create_account, owner, profile_at, sessions_at, settings_at, stores, t0};

const PASSWORD: &str = "clock-test-passphrase-1";

#[test]
fn session_rules_follow_the_clock() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "clocked", t0());
        let owner = owner(&account);
        profile_at(store, t0())
            .change_password(&owner, None, PASSWORD)
            .expect("first password");
        let login = |at: DateTime<Utc>| {
            sessions_at(store, at)
                .login("o@clocked.test", PASSWORD, None, None, None)
                .expect("login")
        };

        // Idle timeout (60 minutes by default), extended by activity.
        let s = login(t0());
        let auth =
            |at: DateTime<Utc>, token: &str| sessions_at(store, at).authenticate(token, None);
        assert!(
            auth(t0() + Duration::minutes(50), &s.token).is_ok(),
            "activity at 50 min"
        );
        assert!(
            auth(t0() + Duration::minutes(100), &s.token).is_ok(),
            "50 min after the last activity"
        );
        assert_eq!(
            auth(t0() + Duration::minutes(161), &s.token).err(),
            Some(SecurityError::Unauthenticated),
            "61 idle minutes"
        );
        assert_eq!(
            auth(t0() + Duration::minutes(162), &s.token).err(),
            Some(SecurityError::Unauthenticated),
            "and it stays ended"
        );

        // Absolute lifetime (1440 minutes by default), whatever the activity.
        let s = login(t0());
        for minutes in (50..1440).step_by(50) {
            assert!(
                auth(t0() + Duration::minutes(minutes), &s.token).is_ok(),
                "{minutes}"
            );
        }
        assert!(
            auth(t0() + Duration::minutes(1440), &s.token).is_err(),
            "24 hours"
        );

        // Re-authentication window: a sign-in older than 10 minutes may not create keys.
        let s = login(t0());
        let actor = auth(t0() + Duration::minutes(11), &s.token).expect("alive");
        assert!(actor.needs_reauth(true, t0() + Duration::minutes(11)));
        assert!(!actor.needs_reauth(true, t0() + Duration::minutes(9)));

        // Concurrency cap: the oldest session is signed out.
        settings_at(store, t0())
            .update_section(
                &owner,
                Section::Security,
                &json!({"session": {"concurrent_sessions": 2}}),
                None,
            )
            .expect("cap");
        let later = t0() + Duration::days(2);
        let a = login(later);
        let b = login(later + Duration::seconds(1));
        let c = login(later + Duration::seconds(2));
        let at = later + Duration::seconds(3);
        assert!(auth(at, &a.token).is_err());
        assert!(auth(at, &b.token).is_ok());
        assert!(auth(at, &c.token).is_ok());
    }
}
