//! Typed public identifiers: `<prefix>_<ULID in lowercase Crockford base32>` (API-MAP.md).
//!
//! Each entity kind has its own newtype so an `ApiKeyId` can never be passed where a `UserId` is
//! expected, and parsing checks the prefix so `usr_…` is refused where `acc_…` is required.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

use crate::{Clock, KernelError, RandomSource};

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nThe public id of a ", $kind, ": `", $prefix, "_` and a lowercase ULID, which sorts by creation time.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Ulid);

        impl $name {
            /// What the public form starts with, before the `_`.
            pub const PREFIX: &'static str = $prefix;

            /// A new id whose time component is `clock`'s now, so ids sort by creation time.
            pub fn generate(clock: &dyn Clock, random: &dyn RandomSource) -> Self {
                Self(new_ulid(clock.now(), random))
            }

            /// The id of this ULID (as stored).
            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            /// The ULID behind the id (as stored).
            pub fn ulid(&self) -> Ulid {
                self.0
            }

            /// The lowercase ULID without the prefix (used inside API key tokens).
            pub fn ulid_lowercase(&self) -> String {
                self.0.to_string().to_ascii_lowercase()
            }

            /// Parses the bare ULID (either case), without prefix.
            pub fn parse_ulid(s: &str) -> Result<Self, KernelError> {
                Ulid::from_string(s).map(Self).map_err(|_| self::invalid($kind, $prefix, s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.ulid_lowercase())
            }
        }

        impl FromStr for $name {
            type Err = KernelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let rest = s
                    .strip_prefix($prefix)
                    .and_then(|r| r.strip_prefix('_'))
                    .ok_or_else(|| invalid($kind, $prefix, s))?;
                // ULIDs are case-insensitive but our canonical form is lowercase; accept both so a
                // client that upper-cases ids still finds its object.
                Self::parse_ulid(rest).map_err(|_| invalid($kind, $prefix, s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

fn invalid(kind: &'static str, prefix: &'static str, value: &str) -> KernelError {
    KernelError::InvalidId {
        kind,
        prefix,
        value: value.chars().take(64).collect(),
    }
}

fn new_ulid(now: DateTime<Utc>, random: &dyn RandomSource) -> Ulid {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    Ulid::from_parts(millis, random.u128())
}

public_id!(
    /// An account (tenant). The tenant settings API names it by the same 128 bits written as a UUID.
    AccountId, "acc", "account"
);
public_id!(UserId, "usr", "user");
public_id!(InvitationId, "inv", "invitation");
public_id!(ApiKeyId, "key", "API key");
public_id!(SessionId, "ses", "session");
public_id!(
    /// A named operator key (`tenantry operators create`): the public part of its token.
    OperatorKeyId, "opk", "operator key"
);
public_id!(
    /// A refresh token of the token grant (its family shares the id of the first one).
    RefreshTokenId, "rft", "refresh token"
);
public_id!(
    /// A portal link: a single-use sign-in into the console, minted for a member (decision 0030).
    PortalLinkId, "ptl", "portal link"
);
public_id!(IpEntryId, "ipw", "IP allowlist entry");
public_id!(ChannelId, "nch", "notification channel");
public_id!(RuleId, "nrl", "notification rule");
public_id!(DeliveryId, "ndl", "delivery");
public_id!(MfaEnrollmentId, "mfaenr", "MFA enrollment");
public_id!(EventId, "evt", "event");
public_id!(AuditId, "aud", "audit entry");

impl AccountId {
    /// The account's id in the tenant settings API's form: the same 128 bits as a hyphenated lowercase UUID.
    pub fn to_uuid_string(&self) -> String {
        let hex = format!("{:032x}", self.0 .0);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// Parses the tenant settings API's UUID form (hyphenated, either case).
    pub fn from_uuid_str(s: &str) -> Result<Self, KernelError> {
        let err = || invalid("tenant", "uuid", s);
        let groups: Vec<&str> = s.split('-').collect();
        let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if lens != [8, 4, 4, 4, 12] {
            return Err(err());
        }
        let hex: String = groups.concat();
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        u128::from_str_radix(&hex, 16)
            .map(|n| Self(Ulid(n)))
            .map_err(|_| err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedClock, OsRandom};

    fn clock() -> FixedClock {
        FixedClock(DateTime::from_timestamp(1_700_000_000, 0).expect("valid timestamp"))
    }

    #[test]
    fn id_round_trips_through_its_public_form() {
        let id = AccountId::generate(&clock(), &OsRandom);
        let text = id.to_string();
        assert!(text.starts_with("acc_"));
        assert_eq!(text.len(), 4 + 26);
        assert_eq!(text, text.to_ascii_lowercase());
        assert_eq!(text.parse::<AccountId>(), Ok(id));
    }

    #[test]
    fn wrong_prefix_is_refused() {
        let id = UserId::generate(&clock(), &OsRandom);
        assert!(id.to_string().parse::<AccountId>().is_err());
        assert!("acc".parse::<AccountId>().is_err());
        assert!("acc_".parse::<AccountId>().is_err());
        assert!("acc_not-a-ulid".parse::<AccountId>().is_err());
    }

    #[test]
    fn uppercase_ulid_is_accepted() {
        let id = ApiKeyId::generate(&clock(), &OsRandom);
        let upper = format!("key_{}", id.ulid());
        assert_eq!(upper.parse::<ApiKeyId>(), Ok(id));
    }

    #[test]
    fn account_uuid_form_names_the_same_account() {
        let id = AccountId::generate(&clock(), &OsRandom);
        let uuid = id.to_uuid_string();
        assert_eq!(uuid.len(), 36);
        assert_eq!(AccountId::from_uuid_str(&uuid), Ok(id));
        assert_eq!(AccountId::from_uuid_str(&uuid.to_ascii_uppercase()), Ok(id));
        assert!(AccountId::from_uuid_str("not-a-uuid").is_err());
        assert!(AccountId::from_uuid_str("0000000g-0000-0000-0000-000000000000").is_err());
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let early = UserId::generate(&clock(), &OsRandom);
        let later = UserId::generate(
            &FixedClock(DateTime::from_timestamp(1_700_000_001, 0).expect("valid timestamp")),
            &OsRandom,
        );
        assert!(early < later);
    }
}
