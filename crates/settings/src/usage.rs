//! Host-reported usage and cost (`POST /v2/accounts/usage`), and what it sets off: seed 01's
//! `cost_alerts` (a threshold per daily, weekly or monthly period in the billing time zone, each
//! firing once per period, with a budget warning at 80 %) and `auto_recharge` (the reported
//! balance falling below the threshold requests a recharge of `amount`; charging is the host's
//! job). The events are emitted through the audit entries the store writes with the records.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use tenantry_billing::{AlertPeriod, Money};
use tenantry_kernel::{AccountId, Actor, AuditId, PortError, Role};

use crate::{BillingSettings, SettingsError, SettingsService, Timezone};

/// The share of a threshold at which `cost.budget_warning` fires: 4/5 (80 %), applied exactly.
pub const BUDGET_WARNING_SHARE: (i64, i64) = (4, 5);
pub const MAX_RECORDS_PER_REQUEST: usize = 1_000;

/// One usage or cost record reported by the host.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The host's id; a record already known is skipped.
    pub id: String,
    pub cost: Money,
    /// The account's balance after this record, when the host tracks one.
    pub balance: Option<Money>,
    pub occurred_at: DateTime<Utc>,
}

/// One threshold to evaluate for one period, in the store's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdCheck {
    /// Identifies the alert and kind: `cost:weekly:250` or `warning:weekly:250`.
    pub key: String,
    pub kind: CheckKind,
    pub threshold: Money,
    /// The sum must reach this to fire (the threshold, or 80 % of it for a warning).
    pub trigger: Money,
    pub period: AlertPeriod,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    Exceeded,
    Warning,
}

/// The auto-recharge rule, if on.
#[derive(Debug, Clone, PartialEq)]
pub struct RechargeRule {
    pub threshold: Money,
    pub amount: Money,
    pub currency: &'static str,
}

/// What recording a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageOutcome {
    pub recorded: usize,
    pub duplicates: usize,
    /// The checks that fired, with the period total that made them fire.
    pub fired: Vec<(ThresholdCheck, Money)>,
    pub recharge_requested: Option<Money>,
}

/// Everything the store writes and evaluates in one transaction.
pub struct UsageBatch<'a> {
    pub account: AccountId,
    pub actor: String,
    pub records: &'a [UsageRecord],
    pub checks: &'a [ThresholdCheck],
    pub recharge: Option<RechargeRule>,
    pub currency: &'static str,
    pub at: DateTime<Utc>,
    /// Fresh audit ids for the entries (one per firing, at most).
    pub new_audit_id: &'a (dyn Fn() -> AuditId + Sync),
}

pub fn period_name(p: AlertPeriod) -> &'static str {
    match p {
        AlertPeriod::Daily => "daily",
        AlertPeriod::Weekly => "weekly",
        AlertPeriod::Monthly => "monthly",
    }
}

fn local_midnight(tz: chrono_tz::Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight may not exist (or exist twice) on a DST change: take the first instant after.
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc)),
    }
}

/// The period containing `at`, in the billing time zone: a local day, an ISO week (Monday to
/// Monday) or a calendar month.
pub fn period_bounds(
    period: AlertPeriod,
    tz: Timezone,
    at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = tz.tz();
    let local = at.with_timezone(&tz).date_naive();
    let (start, end) = match period {
        AlertPeriod::Daily => (local, local + Duration::days(1)),
        AlertPeriod::Weekly => {
            let monday = local - Duration::days(i64::from(local.weekday().num_days_from_monday()));
            (monday, monday + Duration::days(7))
        }
        AlertPeriod::Monthly => {
            let first = local.with_day(1).unwrap_or(local);
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            }
            .unwrap_or(first + Duration::days(31));
            (first, next)
        }
    };
    (local_midnight(tz, start), local_midnight(tz, end))
}

/// The checks a batch calls for: every enabled alert, for each period a record falls in.
pub fn checks_for(billing: &BillingSettings, records: &[UsageRecord]) -> Vec<ThresholdCheck> {
    let mut checks: Vec<ThresholdCheck> = Vec::new();
    for alert in billing.cost_alerts.iter().filter(|a| a.enabled) {
        for r in records {
            let (start, end) = period_bounds(alert.period, billing.timezone, r.occurred_at);
            for (kind, trigger, prefix) in [
                (
                    CheckKind::Warning,
                    alert
                        .threshold
                        .share(BUDGET_WARNING_SHARE.0, BUDGET_WARNING_SHARE.1),
                    "warning",
                ),
                (CheckKind::Exceeded, alert.threshold, "cost"),
            ] {
                let key = format!("{prefix}:{}:{}", period_name(alert.period), alert.threshold);
                if !checks
                    .iter()
                    .any(|c| c.key == key && c.period_start == start)
                {
                    checks.push(ThresholdCheck {
                        key,
                        kind,
                        threshold: alert.threshold,
                        trigger,
                        period: alert.period,
                        period_start: start,
                        period_end: end,
                    });
                }
            }
        }
    }
    checks
}

/// Where usage is kept. `record_usage` inserts the new records, evaluates every check against
/// the period's total (records of earlier batches included), records each first firing per
/// (check, period) and its audit entry — which emits the event — and applies the recharge rule
/// to the newest reported balance, all in one transaction.
pub trait UsageStore: Send + Sync {
    fn record_usage(&self, batch: &UsageBatch<'_>) -> Result<UsageOutcome, PortError>;
}

fn invalid(message: String) -> SettingsError {
    SettingsError::Validation(vec![crate::FieldError {
        field: "records".into(),
        message,
        allowed: None,
    }])
}

/// Checks a batch before anything is written.
pub fn check_records(records: &[UsageRecord], now: DateTime<Utc>) -> Result<(), SettingsError> {
    if records.is_empty() || records.len() > MAX_RECORDS_PER_REQUEST {
        return Err(invalid(format!(
            "must hold 1-{MAX_RECORDS_PER_REQUEST} records"
        )));
    }
    for (i, r) in records.iter().enumerate() {
        let id_ok = !r.id.is_empty()
            && r.id.len() <= 128
            && r.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if !id_ok {
            return Err(invalid(format!(
                "records[{i}].id must be 1-128 characters of letters, digits, `.`, `_`, `:` or `-`"
            )));
        }
        if !(Money::ZERO..=Money::units(1_000_000_000)).contains(&r.cost) {
            return Err(invalid(format!("records[{i}].cost must be 0-1000000000")));
        }
        if r.balance.is_some_and(|b| {
            !(Money::units(-1_000_000_000)..=Money::units(1_000_000_000)).contains(&b)
        }) {
            return Err(invalid(format!(
                "records[{i}].balance must be a finite amount"
            )));
        }
        if r.occurred_at > now + Duration::minutes(5) {
            return Err(invalid(format!(
                "records[{i}].occurred_at is in the future"
            )));
        }
    }
    Ok(())
}

impl SettingsService {
    /// Records host-reported usage and fires the cost alerts and auto-recharge it crosses.
    /// Admins and owners only (billing is theirs).
    pub fn record_usage(
        &self,
        actor: &Actor,
        records: &[UsageRecord],
        usage: &dyn UsageStore,
    ) -> Result<UsageOutcome, SettingsError> {
        actor
            .require(Role::Admin)
            .map_err(|_| SettingsError::Forbidden {
                section: "billing",
                required: Role::Admin,
                current: actor.role,
            })?;
        let now = self.clock().now();
        check_records(records, now)?;
        let doc: Option<Value> = self.store().section_document(actor.account_id, "billing")?;
        let billing: BillingSettings = match doc {
            Some(d) => serde_json::from_value(d)
                .map_err(|e| SettingsError::Port(PortError::Corrupt(format!("billing: {e}"))))?,
            None => BillingSettings::default(),
        };
        let checks = checks_for(&billing, records);
        let recharge = match (
            &billing.auto_recharge.enabled,
            billing.auto_recharge.threshold,
            billing.auto_recharge.amount,
        ) {
            (true, Some(threshold), Some(amount)) => Some(RechargeRule {
                threshold,
                amount,
                currency: billing.currency.as_str(),
            }),
            _ => None,
        };
        let clock = self.clock();
        let random = self.random();
        let new_id = || AuditId::generate(clock, random);
        Ok(usage.record_usage(&UsageBatch {
            account: actor.account_id,
            actor: actor.user_id.to_string(),
            records,
            checks: &checks,
            recharge,
            currency: billing.currency.as_str(),
            at: now,
            new_audit_id: &new_id,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn periods_follow_the_billing_time_zone() {
        let berlin = Timezone::parse("Europe/Berlin").expect("tz");
        // Wednesday 2026-11-18, 23:30 UTC is already Thursday in Berlin.
        let t = at("2026-11-18T23:30:00Z");
        let (s, e) = period_bounds(AlertPeriod::Daily, berlin, t);
        assert_eq!(
            (s, e),
            (at("2026-11-18T23:00:00Z"), at("2026-11-19T23:00:00Z"))
        );
        let (s, e) = period_bounds(AlertPeriod::Weekly, Timezone::UTC, t);
        assert_eq!(
            (s, e),
            (at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"))
        );
        let (s, e) = period_bounds(
            AlertPeriod::Monthly,
            Timezone::UTC,
            at("2026-12-31T12:00:00Z"),
        );
        assert_eq!(
            (s, e),
            (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn each_enabled_alert_is_checked_once_per_period_touched() {
        let mut billing = BillingSettings::default();
        billing.cost_alerts = vec![
            crate::billing::CostAlert {
                threshold: Money::units(250),
                period: AlertPeriod::Weekly,
                enabled: true,
            },
            crate::billing::CostAlert {
                threshold: Money::units(1000),
                period: AlertPeriod::Monthly,
                enabled: false,
            },
        ];
        let record = |id: &str, t: &str| UsageRecord {
            id: id.into(),
            cost: Money::units(1),
            balance: None,
            occurred_at: at(t),
        };
        let checks = checks_for(
            &billing,
            &[
                record("a", "2026-11-17T10:00:00Z"),
                record("b", "2026-11-18T10:00:00Z"),
                record("c", "2026-11-24T10:00:00Z"),
            ],
        );
        // Two weeks × (warning, exceeded); the disabled monthly alert is not checked.
        assert_eq!(checks.len(), 4);
        assert!(checks
            .iter()
            .any(|c| c.kind == CheckKind::Warning && c.trigger == Money::units(200)));
    }
}
