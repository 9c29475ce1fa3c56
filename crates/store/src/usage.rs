//! `UsageStore`: host-reported usage, cost-alert firings and the auto-recharge balance, and
//! the billing settings they are checked against (the account settings document's billing
//! section).

use diesel::prelude::*;
use serde_json::json;
use tenantry_billing::{
    BillingSettings, CheckKind, FiredAlert, Money, UsageBatch, UsageOutcome, UsageStore,
};
use tenantry_kernel::{AccountId, PortError};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{billing_balances, cost_alert_firings, settings_documents, usage_records};
use crate::time::to_micros;
use crate::{DbConnection, Store, StoreError};

/// PostgreSQL: one usage batch per account at a time, so two batches cannot both see a
/// threshold uncrossed. SQLite's write transactions are serialized already.
fn lock_account(conn: &mut DbConnection, account: &str) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(account)
            .execute(pg)?;
    }
    Ok(())
}

impl UsageStore for Store {
    fn billing_settings(&self, account: AccountId) -> Result<Option<BillingSettings>, PortError> {
        let doc = self.read(|conn| {
            Ok(settings_documents::table
                .filter(settings_documents::account_id.eq(account.to_string()))
                .filter(settings_documents::section.eq("billing"))
                .select(settings_documents::document)
                .first::<String>(conn)
                .optional()?)
        })?;
        doc.map(|d| {
            serde_json::from_str(&d).map_err(|e| PortError::Corrupt(format!("billing: {e}")))
        })
        .transpose()
    }

    fn record_usage(&self, b: &UsageBatch<'_>) -> Result<UsageOutcome, PortError> {
        let epoch_account = b.account;
        let account = b.account.to_string();
        let at = to_micros(b.at);
        Ok(
            self.write_account(epoch_account, |conn| -> Result<UsageOutcome, StoreError> {
                lock_account(conn, &account)?;
                let mut out = UsageOutcome::default();
                let mut newest_balance: Option<(i64, Money)> = None;
                for r in b.records {
                    let known = usage_records::table
                        .filter(usage_records::account_id.eq(&account))
                        .filter(usage_records::record_id.eq(&r.id))
                        .count()
                        .get_result::<i64>(conn)?
                        > 0;
                    if known {
                        out.duplicates += 1;
                        continue;
                    }
                    let occurred = to_micros(r.occurred_at);
                    diesel::insert_into(usage_records::table)
                        .values((
                            usage_records::account_id.eq(&account),
                            usage_records::record_id.eq(&r.id),
                            usage_records::cost_micros.eq(r.cost.micros()),
                            usage_records::balance_micros.eq(r.balance.map(Money::micros)),
                            usage_records::occurred_at.eq(occurred),
                            usage_records::recorded_at.eq(at),
                        ))
                        .execute(conn)?;
                    out.recorded += 1;
                    if let Some(balance) = r.balance {
                        if newest_balance.is_none_or(|(t, _)| occurred >= t) {
                            newest_balance = Some((occurred, balance));
                        }
                    }
                }

                for check in b.checks {
                    let (start, end) = (to_micros(check.period_start), to_micros(check.period_end));
                    // Summed here, exactly, rather than by SUM (whose type differs per backend).
                    let costs: Vec<i64> = usage_records::table
                        .filter(usage_records::account_id.eq(&account))
                        .filter(usage_records::occurred_at.ge(start))
                        .filter(usage_records::occurred_at.lt(end))
                        .select(usage_records::cost_micros)
                        .load(conn)?;
                    let total =
                        Money::from_micros(costs.iter().fold(0i64, |a, c| a.saturating_add(*c)));
                    if total < check.trigger {
                        continue;
                    }
                    let fired = cost_alert_firings::table
                        .filter(cost_alert_firings::account_id.eq(&account))
                        .filter(cost_alert_firings::alert_key.eq(&check.key))
                        .filter(cost_alert_firings::period_start.eq(start))
                        .count()
                        .get_result::<i64>(conn)?
                        > 0;
                    if fired {
                        continue;
                    }
                    diesel::insert_into(cost_alert_firings::table)
                        .values((
                            cost_alert_firings::account_id.eq(&account),
                            cost_alert_firings::alert_key.eq(&check.key),
                            cost_alert_firings::period_start.eq(start),
                            cost_alert_firings::total_micros.eq(total.micros()),
                            cost_alert_firings::fired_at.eq(at),
                        ))
                        .execute(conn)?;
                    let action = match check.kind {
                        CheckKind::Exceeded => "billing.cost_threshold_exceeded",
                        CheckKind::Warning => "billing.cost_budget_warning",
                    };
                    let period_start = check.period_start.to_rfc3339();
                    insert_entry(
                        conn,
                        NewEntry {
                            id: (b.new_audit_id)().to_string(),
                            account: &account,
                            actor: &b.actor,
                            action,
                            target: Some(&check.key),
                            diff: Some(
                                json!({
                                    "threshold": check.threshold,
                                    "period": check.period.as_str(),
                                    "period_start": period_start,
                                    "period_end": check.period_end.to_rfc3339(),
                                    "total": total,
                                    "value": total,
                                    "currency": b.currency.as_str(),
                                })
                                .to_string(),
                            ),
                            ip: None,
                            at: b.at,
                        },
                    )?;
                    out.fired.push(FiredAlert {
                        check: check.clone(),
                        total,
                    });
                }

                if let Some((occurred, balance)) = newest_balance {
                    let previous: Option<(Money, i64)> = billing_balances::table
                        .find(&account)
                        .select((
                            billing_balances::balance_micros,
                            billing_balances::occurred_at,
                        ))
                        .first::<(i64, i64)>(conn)
                        .optional()?
                        .map(|(b, t)| (Money::from_micros(b), t));
                    // An older record than the one already known does not move the balance.
                    if previous.is_none_or(|(_, t)| occurred >= t) {
                        if let Some(rule) = &b.recharge {
                            let was_above = previous.is_none_or(|(p, _)| p >= rule.threshold);
                            if balance < rule.threshold && was_above {
                                insert_entry(
                                    conn,
                                    NewEntry {
                                        id: (b.new_audit_id)().to_string(),
                                        account: &account,
                                        actor: &b.actor,
                                        action: "billing.auto_recharge_requested",
                                        target: Some("auto_recharge"),
                                        diff: Some(
                                            json!({
                                                "amount": rule.amount,
                                                "balance": balance,
                                                "threshold": rule.threshold,
                                                "currency": rule.currency.as_str(),
                                                "value": balance,
                                            })
                                            .to_string(),
                                        ),
                                        ip: None,
                                        at: b.at,
                                    },
                                )?;
                                out.recharge_requested = Some(rule.amount);
                            }
                        }
                        if previous.is_some() {
                            diesel::update(billing_balances::table.find(&account))
                                .set((
                                    billing_balances::balance_micros.eq(balance.micros()),
                                    billing_balances::occurred_at.eq(occurred),
                                ))
                                .execute(conn)?;
                        } else {
                            diesel::insert_into(billing_balances::table)
                                .values((
                                    billing_balances::account_id.eq(&account),
                                    billing_balances::balance_micros.eq(balance.micros()),
                                    billing_balances::occurred_at.eq(occurred),
                                ))
                                .execute(conn)?;
                        }
                    }
                }
                Ok(out)
            })?,
        )
    }
}
