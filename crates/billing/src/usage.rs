//! Host-reported usage and cost, and the rules it is checked against: each enabled cost alert
//! is evaluated once per period a record falls in (a local day, ISO week or calendar month in
//! the billing time zone), with a budget warning at 80 % of its threshold; a reported balance
//! falling below the auto-recharge threshold requests a recharge (charging is the host's job).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use tenantry_kernel::{AccountId, AuditId, Timezone};

use crate::{AlertPeriod, BillingError, BillingSettings, Currency, Money};

/// The share of a threshold at which a budget warning fires: 4/5 (80 %), applied exactly.
pub const BUDGET_WARNING_SHARE: (i64, i64) = (4, 5);
/// The most records one report may hold.
pub const MAX_RECORDS_PER_REQUEST: usize = 1_000;

/// One usage or cost record reported by the host.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The host's id; a record already known is skipped.
    pub id: String,
    /// What the usage cost, from 0 to 10^9.
    pub cost: Money,
    /// The account's balance after this record, when the host tracks one.
    pub balance: Option<Money>,
    /// When the usage happened; decides the periods it counts in.
    pub occurred_at: DateTime<Utc>,
}

/// One threshold to evaluate for one period, in the store's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdCheck {
    /// Identifies the alert and kind: `cost:weekly:250` or `warning:weekly:250`.
    pub key: String,
    /// Whether reaching the trigger means the threshold is exceeded or only approached.
    pub kind: CheckKind,
    /// The alert's threshold.
    pub threshold: Money,
    /// The sum must reach this to fire (the threshold, or 80 % of it for a warning).
    pub trigger: Money,
    /// The alert's period.
    pub period: AlertPeriod,
    /// The period's first instant.
    pub period_start: DateTime<Utc>,
    /// The first instant after the period.
    pub period_end: DateTime<Utc>,
}

/// What a fired check announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The period's total reached the threshold.
    Exceeded,
    /// The period's total reached 80 % of the threshold.
    Warning,
}

/// The auto-recharge rule, if on.
#[derive(Debug, Clone, PartialEq)]
pub struct RechargeRule {
    /// A balance below this requests a recharge (once per crossing from above).
    pub threshold: Money,
    /// The recharge requested.
    pub amount: Money,
    /// The billing currency.
    pub currency: Currency,
}

/// A check that fired, with the period's total that made it fire.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredAlert {
    /// The alert, kind and period that fired.
    pub check: ThresholdCheck,
    /// The period's total, this report's records included.
    pub total: Money,
}

/// What recording a report did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageOutcome {
    /// Records kept.
    pub recorded: usize,
    /// Records skipped because their id was already known.
    pub duplicates: usize,
    /// The checks that fired for the first time in their period.
    pub fired: Vec<FiredAlert>,
    /// The recharge requested, when the newest balance fell below the threshold.
    pub recharge_requested: Option<Money>,
}

/// Everything the store writes and evaluates in one transaction.
pub struct UsageBatch<'a> {
    /// The account reporting.
    pub account: AccountId,
    /// Who reported, as the audit entries name them.
    pub actor: String,
    /// The records, checked already.
    pub records: &'a [UsageRecord],
    /// The checks the records call for.
    pub checks: &'a [ThresholdCheck],
    /// The auto-recharge rule, if on.
    pub recharge: Option<RechargeRule>,
    /// The billing currency, named in the audit entries.
    pub currency: Currency,
    /// When the report is recorded.
    pub at: DateTime<Utc>,
    /// Fresh audit ids for the entries (one per firing, at most).
    pub new_audit_id: &'a (dyn Fn() -> AuditId + Sync),
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
/// Monday) or a calendar month, as `(first instant, first instant after)`.
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

/// The checks a report calls for: every enabled alert, for each period a record falls in.
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
                let key = format!("{prefix}:{}:{}", alert.period.as_str(), alert.threshold);
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

/// Checks a report before anything is written: 1 to [`MAX_RECORDS_PER_REQUEST`] records, each
/// with a printable id, a cost from 0 to 10^9, a balance within ±10^9 and a time no more than
/// five minutes ahead of `now`. The error names the first record refused.
pub fn check_records(records: &[UsageRecord], now: DateTime<Utc>) -> Result<(), BillingError> {
    let invalid = BillingError::InvalidRecords;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CostAlert;

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
        let billing = BillingSettings {
            cost_alerts: vec![
                CostAlert {
                    threshold: Money::units(250),
                    period: AlertPeriod::Weekly,
                    enabled: true,
                },
                CostAlert {
                    threshold: Money::units(1000),
                    period: AlertPeriod::Monthly,
                    enabled: false,
                },
            ],
            ..BillingSettings::default()
        };
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
