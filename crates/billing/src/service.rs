//! `BillingService`: the use cases of billing, over the ports it is given (time, randomness
//! and the usage store come from outside, so every answer is reproducible in tests).

use std::sync::Arc;

use tenantry_kernel::{Actor, AuditId, Clock, RandomSource, Role};

use crate::usage::{check_records, checks_for};
use crate::{BillingError, RechargeRule, UsageBatch, UsageOutcome, UsageRecord, UsageStore};

/// Billing's use cases.
pub struct BillingService {
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    usage: Arc<dyn UsageStore>,
}

impl BillingService {
    /// A service reading time from `clock`, audit ids from `random`, and keeping usage in
    /// `usage`.
    pub fn new(
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
        usage: Arc<dyn UsageStore>,
    ) -> Self {
        Self {
            clock,
            random,
            usage,
        }
    }

    /// Records host-reported usage and fires the cost alerts and auto-recharge it crosses.
    /// Admins and owners only (billing is theirs): a lower role is
    /// [`BillingError::Forbidden`]; a report breaking [`check_records`]'s rules is
    /// [`BillingError::InvalidRecords`] and writes nothing.
    pub fn record_usage(
        &self,
        actor: &Actor,
        records: &[UsageRecord],
    ) -> Result<UsageOutcome, BillingError> {
        actor
            .require(Role::Admin)
            .map_err(|_| BillingError::Forbidden {
                required: Role::Admin,
                current: actor.role,
            })?;
        let now = self.clock.now();
        check_records(records, now)?;
        let billing = self
            .usage
            .billing_settings(actor.account_id)?
            .unwrap_or_default();
        let checks = checks_for(&billing, records);
        let recharge = billing
            .auto_recharge
            .rule()
            .map(|(threshold, amount)| RechargeRule {
                threshold,
                amount,
                currency: billing.currency,
            });
        let (clock, random) = (self.clock.as_ref(), self.random.as_ref());
        let new_id = || AuditId::generate(clock, random);
        Ok(self.usage.record_usage(&UsageBatch {
            account: actor.account_id,
            actor: actor.audit_name(),
            records,
            checks: &checks,
            recharge,
            currency: billing.currency,
            at: now,
            new_audit_id: &new_id,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, Utc};
    use tenantry_kernel::{
        AccountId, ApiKeyId, Credential, FixedClock, OsRandom, PortError, UserId,
    };

    use super::*;
    use crate::{AlertPeriod, CostAlert, Money};
    use crate::{BillingSettings, CheckKind};

    /// What the service decided for one report: the checks (kind, trigger), the recharge
    /// amount if a rule applies, and the time it recorded at.
    type Decided = (Vec<(CheckKind, Money)>, Option<Money>, DateTime<Utc>);

    /// Keeps the batches it is asked to record (what the service decided), and answers the
    /// billing settings it was given: the service's rules, without a database.
    #[derive(Default)]
    struct Recorded {
        settings: Option<BillingSettings>,
        batches: Mutex<Vec<Decided>>,
    }

    impl UsageStore for Recorded {
        fn billing_settings(&self, _: AccountId) -> Result<Option<BillingSettings>, PortError> {
            Ok(self.settings.clone())
        }
        fn record_usage(&self, b: &UsageBatch<'_>) -> Result<UsageOutcome, PortError> {
            let checks = b.checks.iter().map(|c| (c.kind, c.trigger)).collect();
            let recharge = b.recharge.as_ref().map(|r| r.amount);
            self.batches
                .lock()
                .expect("lock")
                .push((checks, recharge, b.at));
            Ok(UsageOutcome {
                recorded: b.records.len(),
                ..UsageOutcome::default()
            })
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-18T12:00:00Z")
            .expect("time")
            .into()
    }

    fn service(store: Arc<Recorded>) -> BillingService {
        BillingService::new(Arc::new(FixedClock(now())), Arc::new(OsRandom), store)
    }

    fn actor(role: Role) -> Actor {
        Actor {
            account_id: AccountId::generate(&FixedClock(now()), &OsRandom),
            user_id: UserId::generate(&FixedClock(now()), &OsRandom),
            role,
            credential: Credential::ApiKey(ApiKeyId::generate(&FixedClock(now()), &OsRandom)),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        }
    }

    fn record(cost: i64) -> UsageRecord {
        UsageRecord {
            id: "r-1".into(),
            cost: Money::units(cost),
            balance: None,
            occurred_at: now(),
        }
    }

    #[test]
    fn below_admin_is_refused_before_anything_is_written() {
        let store = Arc::new(Recorded::default());
        for role in [Role::Viewer, Role::Developer] {
            let refused = service(store.clone()).record_usage(&actor(role), &[record(1)]);
            assert!(
                matches!(refused, Err(BillingError::Forbidden { required: Role::Admin, current }) if current == role),
                "{role:?}: {refused:?}"
            );
        }
        assert!(store.batches.lock().expect("lock").is_empty());
    }

    #[test]
    fn an_invalid_report_writes_nothing() {
        let store = Arc::new(Recorded::default());
        let refused = service(store.clone()).record_usage(&actor(Role::Admin), &[]);
        assert!(
            matches!(refused, Err(BillingError::InvalidRecords(m)) if m == "must hold 1-1000 records")
        );
        let mut late = record(1);
        late.occurred_at = now() + chrono::Duration::minutes(6);
        let refused = service(store.clone()).record_usage(&actor(Role::Owner), &[late]);
        assert!(
            matches!(refused, Err(BillingError::InvalidRecords(m)) if m.contains("in the future"))
        );
        assert!(store.batches.lock().expect("lock").is_empty());
    }

    #[test]
    fn a_report_is_checked_against_the_stored_alerts_and_recharge_at_the_clocks_time() {
        let mut settings = BillingSettings {
            cost_alerts: vec![CostAlert {
                threshold: Money::units(100),
                period: AlertPeriod::Daily,
                enabled: true,
            }],
            ..BillingSettings::default()
        };
        settings.auto_recharge.enabled = true;
        settings.auto_recharge.threshold = Some(Money::units(5));
        settings.auto_recharge.amount = Some(Money::units(50));
        let store = Arc::new(Recorded {
            settings: Some(settings),
            ..Recorded::default()
        });
        let outcome = service(store.clone())
            .record_usage(&actor(Role::Admin), &[record(1)])
            .expect("recorded");
        assert_eq!(outcome.recorded, 1);
        let batches = store.batches.lock().expect("lock");
        assert_eq!(
            *batches,
            vec![(
                vec![
                    (CheckKind::Warning, Money::units(80)),
                    (CheckKind::Exceeded, Money::units(100))
                ],
                Some(Money::units(50)),
                now()
            )]
        );
    }

    #[test]
    fn an_account_that_never_wrote_billing_settings_gets_the_defaults() {
        let store = Arc::new(Recorded::default());
        service(store.clone())
            .record_usage(&actor(Role::Owner), &[record(1)])
            .expect("recorded");
        let batches = store.batches.lock().expect("lock");
        assert_eq!(*batches, vec![(Vec::new(), None, now())]);
    }
}
