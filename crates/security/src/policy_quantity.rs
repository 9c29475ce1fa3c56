//! The numeric quantities of an account's security policy (session limits, timeouts, expiry,
//! retention), each a newtype that owns its domain range once. The domain range is the union of
//! what the APIs may write (API-MAP.md): every stored value lies in it, whichever API wrote it,
//! so a value outside it is not a policy but a corrupt document, and deserialization refuses it.
//!
//! An API whose own write range is narrower states it as a [`WriteRange`] of the quantity: the
//! range is checked (at compile time when it is a constant) to lie inside the domain range, and
//! the API checks it only on the fields a write changes (decision 0018). They live here because
//! this crate enforces them (sessions, keys, retention purge, password expiry); decision 0045.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

/// A number outside the range a quantity (or an API's write range of it) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeError {
    /// What the number was meant to be (`"concurrent sessions"`).
    pub quantity: &'static str,
    /// The number refused.
    pub value: u32,
    /// The smallest number allowed.
    pub min: u32,
    /// The largest number allowed.
    pub max: u32,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be between {} and {}, not {}",
            self.quantity, self.min, self.max, self.value
        )
    }
}

impl std::error::Error for RangeError {}

/// A policy quantity: a whole number in the domain range `MIN..=MAX` (inclusive).
pub trait PolicyQuantity: Copy + Sized {
    /// What the quantity is, as an error names it.
    const NAME: &'static str;
    /// The domain range, `(min, max)`, inclusive.
    const DOMAIN: (u32, u32);
    /// The number, or a [`RangeError`] naming the domain range when it lies outside.
    fn try_new(value: u32) -> Result<Self, RangeError>;
    /// The number.
    fn value(self) -> u32;
}

/// One API's range for *changing* a quantity `Q`, never wider than `Q`'s domain range. A value
/// another API stored outside it is still a valid `Q`: the API reads it and accepts it back
/// unchanged, and refuses only a change to a value outside its range.
#[derive(Debug)]
pub struct WriteRange<Q> {
    min: u32,
    max: u32,
    quantity: PhantomData<fn() -> Q>,
}

impl<Q> Clone for WriteRange<Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q> Copy for WriteRange<Q> {}

impl<Q: PolicyQuantity> WriteRange<Q> {
    /// The whole domain range: for an API that may write every value the domain allows.
    pub const DOMAIN: Self = Self {
        min: Q::DOMAIN.0,
        max: Q::DOMAIN.1,
        quantity: PhantomData,
    };

    /// `min..=max`, which must lie inside the domain range; used in a constant, a range that
    /// does not is a compile error.
    ///
    /// ```
    /// use tenantry_security::{SessionLimit, WriteRange};
    /// const ACCOUNT_SETTINGS: WriteRange<SessionLimit> = WriteRange::new(1, 10);
    /// assert!(ACCOUNT_SETTINGS.check(SessionLimit::new(11).unwrap()).is_err());
    /// ```
    pub const fn new(min: u32, max: u32) -> Self {
        assert!(
            Q::DOMAIN.0 <= min && min <= max && max <= Q::DOMAIN.1,
            "a write range lies inside the domain range"
        );
        Self {
            min,
            max,
            quantity: PhantomData,
        }
    }

    /// This range with its upper end lowered to `cap` where `cap` is lower (a tier's limit);
    /// never below the range's lower end.
    pub fn capped_at(self, cap: u32) -> Self {
        Self {
            max: self.max.min(cap).max(self.min),
            ..self
        }
    }

    /// The lowest value the API may write.
    pub const fn min(self) -> u32 {
        self.min
    }

    /// The highest value the API may write.
    pub const fn max(self) -> u32 {
        self.max
    }

    /// `value` when it lies in this write range, else a [`RangeError`] naming this range.
    pub fn check(self, value: Q) -> Result<Q, RangeError> {
        let n = value.value();
        if (self.min..=self.max).contains(&n) {
            Ok(value)
        } else {
            Err(RangeError {
                quantity: Q::NAME,
                value: n,
                min: self.min,
                max: self.max,
            })
        }
    }

    /// `n` as a `Q` when it lies in this write range (and so in the domain range).
    pub fn parse(self, n: u32) -> Result<Q, RangeError> {
        Q::try_new(n).and_then(|q| self.check(q))
    }
}

/// Defines one quantity newtype with its domain range.
macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:literal ..= $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "u32", into = "u32")]
        pub struct $name(u32);

        impl $name {
            /// The smallest value the domain allows.
            pub const MIN: u32 = $min;
            /// The largest value the domain allows.
            pub const MAX: u32 = $max;

            /// `value`, or a [`RangeError`] naming the domain range `MIN..=MAX` when it lies
            /// outside.
            pub const fn new(value: u32) -> Result<Self, RangeError> {
                if value >= Self::MIN && value <= Self::MAX {
                    Ok(Self(value))
                } else {
                    Err(RangeError { quantity: $what, value, min: Self::MIN, max: Self::MAX })
                }
            }

            /// The number.
            pub const fn get(self) -> u32 {
                self.0
            }
        }

        impl PolicyQuantity for $name {
            const NAME: &'static str = $what;
            const DOMAIN: (u32, u32) = ($min, $max);
            fn try_new(value: u32) -> Result<Self, RangeError> {
                Self::new(value)
            }
            fn value(self) -> u32 {
                self.0
            }
        }

        impl TryFrom<u32> for $name {
            type Error = RangeError;
            fn try_from(value: u32) -> Result<Self, RangeError> {
                Self::new(value)
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

quantity!(
    /// The most live API keys one member may hold in an account: 1-50 (the account settings
    /// API's `max_api_keys`, the only API that writes it). Enforced when a key is created.
    ApiKeyLimit, "max API keys", 1..=50
);

quantity!(
    /// The absolute lifetime of a session from sign-in, in whole minutes: 60-10080 (1 hour to
    /// 1 week; the account settings API writes it in hours 1-168, the user and organization
    /// API in minutes).
    SessionLifetime, "absolute session minutes", 60..=10080
);

quantity!(
    /// The idle timeout of a session, in minutes: 1-1440 (up to a day; the user and
    /// organization API writes 1-1440, the settings catalog API 10-120). No idle timeout is
    /// `Option::None`, not a number.
    IdleTimeout, "idle timeout minutes", 1..=1440
);

quantity!(
    /// The most live sessions one member may hold in an account: 1-100 (the tenant settings
    /// API writes 1-100, the account settings API 1-10). The oldest is signed out to make room.
    SessionLimit, "concurrent sessions", 1..=100
);

quantity!(
    /// Days after which a password expires: 1-3650 (the tenant settings API writes up to 3650,
    /// the settings catalog API 14-365). Passwords that never expire are `Option::None`.
    PasswordExpiry, "password expiry days", 1..=3650
);

quantity!(
    /// Days of inactivity after which a member is suspended: 60-365 (the settings catalog API,
    /// the only API that writes it). Never suspending is `Option::None`.
    InactivityLock, "inactivity lock days", 60..=365
);

quantity!(
    /// Days the audit log is kept: 1-365 (the user and organization and tenant settings APIs
    /// write 1-365, the account settings API 30-365; a tier may cap it lower). Older entries
    /// are purged.
    RetentionDays, "audit retention days", 1..=365
);

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};

    /// The fixed seed of the laws below; a failure prints it with the failing number.
    const SEED: u64 = 0x0045;

    /// Every `u32` either is a `Q` that serializes as the bare number and deserializes back
    /// to itself, or is refused, and it is refused exactly when it lies outside `MIN..=MAX`;
    /// the same holds through JSON deserialization.
    fn law<Q>(min: u32, max: u32)
    where
        Q: PolicyQuantity
            + TryFrom<u32, Error = RangeError>
            + Serialize
            + serde::de::DeserializeOwned
            + PartialEq
            + fmt::Debug,
    {
        assert_eq!(Q::DOMAIN, (min, max), "{}", Q::NAME);
        let mut runner = TestRunner::new(Config {
            cases: 2048,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(SEED),
            ..Config::default()
        });
        // Edges and their neighbours, then anything.
        let edges = proptest::sample::select(vec![
            0,
            min.saturating_sub(1),
            min,
            min + 1,
            max - 1,
            max,
            max + 1,
            u32::MAX,
        ]);
        let numbers = prop_oneof![edges, any::<u32>(), 0..=max.saturating_mul(2)];
        let result = runner.run(&numbers, |n| {
            let inside = (min..=max).contains(&n);
            let parsed = Q::try_from(n);
            let read = serde_json::from_value::<Q>(serde_json::json!(n));
            prop_assert_eq!(parsed.is_ok(), inside, "{} {}", Q::NAME, n);
            prop_assert_eq!(read.is_ok(), inside, "{} {} from JSON", Q::NAME, n);
            match parsed {
                Ok(q) => {
                    prop_assert_eq!(q.value(), n);
                    let json = serde_json::to_value(q).expect("serializes");
                    prop_assert_eq!(&json, &serde_json::json!(n));
                    prop_assert_eq!(serde_json::from_value::<Q>(json).expect("reads"), q);
                }
                Err(e) => {
                    prop_assert_eq!((e.value, e.min, e.max), (n, min, max));
                    let message = read.expect_err("refused").to_string();
                    let range = format!("between {min} and {max}");
                    prop_assert!(message.contains(&range), "{}", message);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{} (proptest seed {SEED:#x}): {e}", Q::NAME);
        }
    }

    /// The ranges are API-MAP.md's domain ranges (the union of the APIs' write ranges).
    #[test]
    fn every_number_is_a_quantity_exactly_inside_its_domain_range() {
        law::<ApiKeyLimit>(1, 50);
        law::<SessionLifetime>(60, 10_080);
        law::<IdleTimeout>(1, 1440);
        law::<SessionLimit>(1, 100);
        law::<PasswordExpiry>(1, 3650);
        law::<InactivityLock>(60, 365);
        law::<RetentionDays>(1, 365);
    }

    #[test]
    fn a_non_number_or_a_fraction_is_no_quantity() {
        for bad in [
            serde_json::json!(-1),
            serde_json::json!(2.5),
            serde_json::json!("5"),
        ] {
            assert!(serde_json::from_value::<SessionLimit>(bad).is_err());
        }
    }

    #[test]
    fn a_write_range_refuses_only_what_lies_outside_it() {
        const ACCOUNT: WriteRange<SessionLimit> = WriteRange::new(1, 10);
        assert_eq!(ACCOUNT.parse(10).map(SessionLimit::get), Ok(10));
        let refused = ACCOUNT.parse(11).expect_err("outside the write range");
        assert_eq!((refused.min, refused.max), (1, 10));
        // Outside the domain is refused naming the domain range.
        assert_eq!(
            ACCOUNT.parse(101).expect_err("outside").max,
            SessionLimit::MAX
        );
        let whole = WriteRange::<SessionLimit>::DOMAIN;
        assert_eq!((whole.min(), whole.max()), (1, 100));
        let tier = WriteRange::<RetentionDays>::DOMAIN.capped_at(90);
        assert_eq!(tier.parse(91).expect_err("over the cap").max, 90);
        assert_eq!(
            WriteRange::<RetentionDays>::DOMAIN.capped_at(1000).max(),
            365
        );
    }

    #[test]
    #[should_panic(expected = "inside the domain range")]
    fn a_write_range_wider_than_the_domain_is_refused() {
        let _ = WriteRange::<InactivityLock>::new(1, 365);
    }
}
