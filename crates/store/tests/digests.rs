//! Email digests with the clock moved: events routed to a `daily_digest` email channel are held
//! and sent as one email when the day ends (UTC), exactly once, on both backends.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenantry_kernel::{EventId, FixedClock, OsRandom};
use tenantry_notifications::{
    DeliveryJob, Event, JobTarget, NotificationDeps, NotificationService, OutboundPolicy,
    OutboxStore,
};
use tenantry_security::{Sealed, SecretBox};
use tenantry_settings::Section;
use tenantry_store::Store;

use crate::support::{create_account, owner, settings_at, stores, t0};

fn service_at(store: &Store, at: DateTime<Utc>) -> NotificationService {
    NotificationService::new(NotificationDeps {
        store: Arc::new(store.clone()),
        builtins: settings_at(store, at),
        secrets: SecretBox::new(&[7u8; 32]),
        policy: OutboundPolicy::default(),
        secret_overlap: chrono::Duration::hours(24),
        clock: Arc::new(FixedClock(at)),
        random: Arc::new(OsRandom),
    })
}

fn login_failed(account: &str, at: DateTime<Utc>) -> Event {
    Event {
        id: EventId::generate(&FixedClock(at), &OsRandom).to_string(),
        event_type: "login.failed".into(),
        account_id: account.into(),
        occurred_at: at.to_rfc3339(),
        data: json!({ "severity": "high", "target": "someone@example.com" }),
    }
}

fn deliveries_due(store: &Store, at: DateTime<Utc>) -> Vec<DeliveryJob> {
    store
        .claim_due(at, at + Duration::seconds(30), 500, "test")
        .expect("claim")
        .into_iter()
        .filter(|m| m.kind == "delivery")
        .map(|m| {
            let json = SecretBox::new(&[7u8; 32])
                .open(&Sealed::from_stored(m.payload))
                .expect("sealed job");
            serde_json::from_str(&json).expect("job")
        })
        .collect()
}

#[test]
fn daily_digests_batch_a_days_events_into_one_email() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "digesting", t0());
        let owner = owner(&account);
        settings_at(store, t0())
            .update_section(
                &owner,
                Section::Notifications,
                &json!({ "email": { "frequency": "daily_digest", "email": "ops@example.com" } }),
                None,
            )
            .expect("daily digest");
        let acc = account.account_id.to_string();
        // 2026-01-01 is a Thursday; the day's digest goes out at 2026-01-02T00:00Z.
        for minutes in [60, 61, 600] {
            let at = t0() + Duration::minutes(minutes);
            assert_eq!(
                service_at(store, at)
                    .fan_out(&login_failed(&acc, at))
                    .expect("route"),
                1
            );
        }
        assert!(
            deliveries_due(store, t0() + Duration::hours(11)).is_empty(),
            "held, not sent"
        );
        assert_eq!(
            service_at(store, t0() + Duration::hours(23))
                .flush_digests()
                .expect("flush"),
            0
        );

        let midnight = t0() + Duration::days(1);
        assert_eq!(
            service_at(store, midnight).flush_digests().expect("flush"),
            1
        );
        assert_eq!(
            service_at(store, midnight).flush_digests().expect("flush"),
            0,
            "once"
        );
        let jobs = deliveries_due(store, midnight + Duration::seconds(1));
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        assert_eq!(job.event.event_type, "notification.digest");
        assert_eq!(job.event.data["count"], 3);
        match &job.target {
            JobTarget::Email { recipients } => assert_eq!(recipients, &["ops@example.com"]),
            _ => panic!("an email digest"),
        }

        // The next day's events make the next day's digest.
        let next = midnight + Duration::hours(5);
        service_at(store, next)
            .fan_out(&login_failed(&acc, next))
            .expect("route");
        assert_eq!(service_at(store, next).flush_digests().expect("flush"), 0);
        assert_eq!(
            service_at(store, midnight + Duration::days(1))
                .flush_digests()
                .expect("flush"),
            1
        );
    }
}
