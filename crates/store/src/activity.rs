//! `ActivityStore`: host-reported team activity, and sign-ins counted from sessions.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use tenantry_kernel::{AccountId, PortError, UserId};
use tenantry_team::{ActivityEvent, ActivityKind, ActivityStore, ActivityTotals, MembershipSpan};

use crate::schema::{memberships, sessions, team_activity_events, users};
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

fn user_id(raw: &str) -> Result<UserId, PortError> {
    raw.parse()
        .map_err(|_| PortError::Corrupt(format!("user id `{raw}`")))
}

impl ActivityStore for Store {
    fn record_activity(
        &self,
        account: AccountId,
        events: &[ActivityEvent],
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<bool>, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        let at = to_micros(recorded_at);
        Ok(
            self.write_account(epoch_account, |conn| -> Result<Vec<bool>, StoreError> {
                let mut fresh = Vec::with_capacity(events.len());
                for e in events {
                    // Checked under the write lock (SQLite) or skipped on conflict (PostgreSQL,
                    // where another instance may insert the same id concurrently).
                    let known = team_activity_events::table
                        .filter(team_activity_events::account_id.eq(&account))
                        .filter(team_activity_events::event_id.eq(e.id.as_str()))
                        .select(count_star())
                        .first::<i64>(conn)?
                        > 0;
                    if known {
                        fresh.push(false);
                        continue;
                    }
                    let row = (
                        team_activity_events::account_id.eq(&account),
                        team_activity_events::event_id.eq(e.id.as_str()),
                        team_activity_events::user_id.eq(e.user.to_string()),
                        team_activity_events::kind.eq(e.kind.as_str()),
                        team_activity_events::quantity
                            .eq(i64::try_from(e.count).unwrap_or(i64::MAX)),
                        team_activity_events::occurred_at.eq(to_micros(e.occurred_at)),
                        team_activity_events::recorded_at.eq(at),
                    );
                    let inserted = match conn {
                        DbConnection::Postgresql(pg) => {
                            diesel::insert_into(team_activity_events::table)
                                .values(row)
                                .on_conflict_do_nothing()
                                .execute(pg)?
                        }
                        DbConnection::Sqlite(lite) => {
                            diesel::insert_into(team_activity_events::table)
                                .values(row)
                                .execute(lite)?
                        }
                    };
                    fresh.push(inserted == 1);
                }
                Ok(fresh)
            })?,
        )
    }

    fn activity_totals(
        &self,
        account: AccountId,
        user: Option<UserId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<ActivityTotals, PortError> {
        let account = account.to_string();
        let user = user.map(|u| u.to_string());
        let (from, to) = (to_micros(from), to_micros(to));
        let (events, logins) = self.read(|conn| {
            let mut events = team_activity_events::table
                .filter(team_activity_events::account_id.eq(&account))
                .filter(team_activity_events::occurred_at.ge(from))
                .filter(team_activity_events::occurred_at.lt(to))
                .group_by((team_activity_events::user_id, team_activity_events::kind))
                .select((
                    team_activity_events::user_id,
                    team_activity_events::kind,
                    // SUM of a BIGINT is NUMERIC on PostgreSQL; cast so both backends agree.
                    diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(quantity) AS BIGINT)"),
                ))
                .into_boxed();
            let mut logins = sessions::table
                .filter(sessions::account_id.eq(&account))
                .filter(sessions::created_at.ge(from))
                .filter(sessions::created_at.lt(to))
                .group_by(sessions::user_id)
                .select((sessions::user_id, count_star()))
                .into_boxed();
            if let Some(u) = &user {
                events = events.filter(team_activity_events::user_id.eq(u));
                logins = logins.filter(sessions::user_id.eq(u));
            }
            Ok((
                events.load::<(String, String, i64)>(conn)?,
                logins.load::<(String, i64)>(conn)?,
            ))
        })?;
        let mut totals = ActivityTotals::default();
        for (u, kind, n) in events {
            // Kinds are written from `ActivityKind` only; an unknown one is a newer version's.
            if let Some(kind) = ActivityKind::parse(&kind) {
                totals
                    .events
                    .insert((user_id(&u)?, kind), u64::try_from(n).unwrap_or(0));
            }
        }
        for (u, n) in logins {
            totals
                .logins
                .insert(user_id(&u)?, u64::try_from(n).unwrap_or(0));
        }
        Ok(totals)
    }

    fn membership_spans(&self, account: AccountId) -> Result<Vec<MembershipSpan>, PortError> {
        let rows = self.read(|conn| {
            Ok(memberships::table
                .inner_join(users::table)
                .filter(memberships::account_id.eq(account.to_string()))
                .select((
                    memberships::user_id,
                    users::display_name,
                    memberships::role,
                    memberships::created_at,
                    memberships::removed_at,
                    memberships::last_active_at,
                ))
                .load::<(
                    String,
                    Option<String>,
                    String,
                    i64,
                    Option<i64>,
                    Option<i64>,
                )>(conn)?)
        })?;
        rows.into_iter()
            .map(|(user, name, role, joined, removed, active)| {
                Ok(MembershipSpan {
                    user: user_id(&user)?,
                    name,
                    role: role
                        .parse()
                        .map_err(|_| PortError::Corrupt(format!("membership role `{role}`")))?,
                    joined_at: from_micros(joined),
                    removed_at: removed.map(from_micros),
                    last_active_at: active.map(from_micros),
                })
            })
            .collect()
    }

    fn last_login(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<Option<DateTime<Utc>>, PortError> {
        let at = self.read(|conn| {
            Ok(sessions::table
                .filter(sessions::account_id.eq(account.to_string()))
                .filter(sessions::user_id.eq(user.to_string()))
                .select(max(sessions::created_at))
                .first::<Option<i64>>(conn)?)
        })?;
        Ok(at.map(from_micros))
    }
}
