//! The delivery log's attempts: which attempt of a delivery has a row, marking the ones a
//! crash interrupted, and reading deliveries with their attempts (decision 0032).

use diesel::prelude::*;
use tenantry_kernel::PortError;
use tenantry_notifications::{Attempt, AttemptState, Delivery, DeliveryStatus};

use crate::notifications::{corrupt, DeliveryRow};
use crate::schema::notification_delivery_attempts;
use crate::time::from_micros;
use crate::{DbConnection, Store, StoreError};

/// Whether attempt `number` of the delivery `id` has a log row.
pub(crate) fn attempt_logged(
    conn: &mut DbConnection,
    id: &str,
    number: u32,
) -> Result<bool, StoreError> {
    Ok(notification_delivery_attempts::table
        .filter(notification_delivery_attempts::delivery_id.eq(id))
        .filter(notification_delivery_attempts::attempt.eq(i64::from(number)))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Marks the delivery's attempts still in flight as interrupted: they will never complete.
pub(crate) fn interrupt_in_flight(conn: &mut DbConnection, id: &str) -> Result<usize, StoreError> {
    Ok(diesel::update(
        notification_delivery_attempts::table
            .filter(notification_delivery_attempts::delivery_id.eq(id))
            .filter(notification_delivery_attempts::state.eq(AttemptState::InFlight.as_str())),
    )
    .set(notification_delivery_attempts::state.eq(AttemptState::Interrupted.as_str()))
    .execute(conn)?)
}

impl Store {
    pub(crate) fn attempts_of(&self, ids: &[String]) -> Result<Vec<(String, Attempt)>, StoreError> {
        let rows = self.read(|conn| {
            Ok(notification_delivery_attempts::table
                .filter(notification_delivery_attempts::delivery_id.eq_any(ids))
                .order((
                    notification_delivery_attempts::delivery_id.asc(),
                    notification_delivery_attempts::attempt.asc(),
                ))
                .select((
                    notification_delivery_attempts::delivery_id,
                    notification_delivery_attempts::attempt,
                    notification_delivery_attempts::attempted_at,
                    notification_delivery_attempts::response_code,
                    notification_delivery_attempts::latency_ms,
                    notification_delivery_attempts::error,
                    notification_delivery_attempts::state,
                ))
                .load::<(
                    String,
                    i64,
                    i64,
                    Option<i64>,
                    Option<i64>,
                    Option<String>,
                    String,
                )>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, n, at, code, latency, error, state)| {
                Ok((
                    id,
                    Attempt {
                        number: u32::try_from(n).unwrap_or(0),
                        at: from_micros(at),
                        state: AttemptState::parse(&state).ok_or_else(|| {
                            StoreError::Corrupt(format!("delivery attempt state `{state}`"))
                        })?,
                        response_code: code.and_then(|c| u16::try_from(c).ok()),
                        latency_ms: latency.and_then(|l| u64::try_from(l).ok()),
                        error,
                    },
                ))
            })
            .collect()
    }

    pub(crate) fn with_attempts(&self, rows: Vec<DeliveryRow>) -> Result<Vec<Delivery>, PortError> {
        let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let mut attempts = self.attempts_of(&ids)?;
        rows.into_iter()
            .map(
                |(id, event_id, event_type, channel_id, status, created, updated, cancelled)| {
                    let mine: Vec<Attempt> = attempts
                        .iter()
                        .filter(|(d, _)| *d == id)
                        .map(|(_, a)| a.clone())
                        .collect();
                    attempts.retain(|(d, _)| *d != id);
                    Ok(Delivery {
                        id: id.parse().map_err(|_| corrupt("delivery id", &id))?,
                        event_id,
                        event_type,
                        channel_id,
                        // A delivery cancelled while pending shows so; an attempt that was
                        // already under way when it was cancelled still reports its outcome.
                        status: match DeliveryStatus::parse(&status)
                            .ok_or_else(|| corrupt("delivery status", &status))?
                        {
                            DeliveryStatus::Queued | DeliveryStatus::Retrying
                                if cancelled.is_some() =>
                            {
                                DeliveryStatus::Cancelled
                            }
                            other => other,
                        },
                        created_at: from_micros(created),
                        updated_at: from_micros(updated),
                        attempts: mine,
                    })
                },
            )
            .collect()
    }
}
