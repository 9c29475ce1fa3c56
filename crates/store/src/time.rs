//! Timestamps as microseconds since the Unix epoch, on both backends.

use chrono::{DateTime, Utc};

/// Timestamps are stored as microseconds since the Unix epoch on both backends.
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
