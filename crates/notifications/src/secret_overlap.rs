//! A webhook channel's replaced signing secret keeps signing beside the new one for an
//! overlap (decision 0027), so that receivers can switch without rejecting a delivery.

use chrono::{DateTime, Utc};
use tenantry_security::{Sealed, SecretBox};

use crate::{ChannelKind, ChannelRecord, NotificationError, PreviousSecret};

/// The previous secret `changed` keeps: when its secret changed from `current`'s, that one, signing
/// until `until`; otherwise the one it had. Only the last one: a second change within the overlap
/// replaces it (the receiver followed the first change or did not; either way it knows the secret
/// just replaced). None when the channel is no webhook or signs no more.
pub(crate) fn after_change(
    current: &ChannelRecord,
    changed: &ChannelRecord,
    secret_changed: bool,
    until: DateTime<Utc>,
) -> Option<(Sealed, DateTime<Utc>)> {
    if !secret_changed {
        return changed.previous_secret.clone();
    }
    if current.kind != ChannelKind::Webhook || changed.secret.is_none() {
        return None;
    }
    current.secret.clone().map(|old| (old, until))
}

/// The channel's previous secret, opened, while it still signs.
pub(crate) fn still_signing(
    r: &ChannelRecord,
    secrets: &SecretBox,
    now: DateTime<Utc>,
) -> Result<Option<PreviousSecret>, NotificationError> {
    let Some((sealed, until)) = r.previous_secret.as_ref().filter(|(_, until)| *until > now) else {
        return Ok(None);
    };
    let secret = secrets.open(sealed).map_err(|e| {
        NotificationError::Port(tenantry_kernel::PortError::Corrupt(format!(
            "channel {} previous secret: {e}",
            r.id
        )))
    })?;
    Ok(Some(PreviousSecret {
        secret,
        until: until.timestamp(),
    }))
}
