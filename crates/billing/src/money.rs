//! Money: an exact amount in the account's currency, kept as whole micro-units (10^-6 of the
//! unit) in an `i64`. Never a float: sums, comparisons and shares are integer arithmetic, so a
//! threshold of 0.3 is reached by 0.1 + 0.2.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units per unit of the currency.
const SCALE: i64 = 1_000_000;
/// Digits after the decimal point an amount may have.
const DECIMALS: usize = 6;

/// An exact amount of money (the currency is the account's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number.
    #[error("must be a decimal number")]
    NotANumber,
    /// More than six digits after the decimal point.
    #[error("must have at most {DECIMALS} digits after the decimal point")]
    TooPrecise,
    /// Beyond what an `i64` of micro-units holds.
    #[error("is too large")]
    TooLarge,
}

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// The amount of `micros` millionths of the unit.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// The amount in millionths of the unit.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Whole units.
    pub fn units(units: i64) -> Self {
        Self(units.saturating_mul(SCALE))
    }

    /// Parses a JSON number's text (`12`, `-0.5`, `12.345`, `1e3`, `2.5E-2`) exactly.
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (
                &text[..i],
                text[i + 1..]
                    .parse::<i32>()
                    .map_err(|_| MoneyError::NotANumber)?,
            ),
            None => (text, 0),
        };
        let (negative, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && fraction.is_empty())
        {
            return Err(MoneyError::NotANumber);
        }
        // All digits as one integer, and where the point sits once the exponent is applied.
        let all = format!("{whole}{fraction}");
        let point =
            i64::try_from(fraction.len()).map_err(|_| MoneyError::TooLarge)? - i64::from(exponent);
        let significant = all.trim_start_matches('0');
        let trailing_zeros = significant.len() - significant.trim_end_matches('0').len();
        let needed = point - i64::try_from(trailing_zeros).map_err(|_| MoneyError::TooLarge)?;
        if needed > DECIMALS as i64 && !significant.is_empty() {
            return Err(MoneyError::TooPrecise);
        }
        let mut value: i128 = 0;
        for b in significant.bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(b - b'0')))
                .ok_or(MoneyError::TooLarge)?;
        }
        // Scale to micro-units: multiply by 10^(DECIMALS - point), which is >= -trailing_zeros.
        let shift = DECIMALS as i64 - point;
        if shift >= 0 {
            for _ in 0..shift {
                value = value.checked_mul(10).ok_or(MoneyError::TooLarge)?;
            }
        } else {
            for _ in 0..-shift {
                value /= 10; // only trailing zeros are divided away (checked above)
            }
        }
        let value = if negative { -value } else { value };
        i64::try_from(value)
            .map(Self)
            .map_err(|_| MoneyError::TooLarge)
    }

    /// The sum, or `None` when it overflows.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self * numerator / denominator`, rounded toward zero (e.g. 80 % of a threshold).
    pub fn share(self, numerator: i64, denominator: i64) -> Money {
        Money(
            i64::try_from(i128::from(self.0) * i128::from(numerator) / i128::from(denominator))
                .unwrap_or(i64::MAX),
        )
    }

    /// The amount as a JSON number would show it: `12`, `12.5`, `-0.000001`.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, fraction) = (abs / SCALE as u64, abs % SCALE as u64);
        if fraction == 0 {
            format!("{sign}{whole}")
        } else {
            let fraction = format!("{fraction:06}");
            format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// Serialized as a JSON number: the nearest double, which prints back as the amount's own
/// digits (`12.5`, `300.0`; at most 15 significant digits, which every amount up to 10^9 with six
/// decimals has).
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.to_decimal_string();
        s.serialize_f64(text.parse::<f64>().map_err(serde::ser::Error::custom)?)
    }
}

/// Read from a JSON number. A double (documents stored before amounts were exact) is taken by
/// its shortest decimal form, the digits that were written.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of money as a number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                v.checked_mul(SCALE)
                    .map(Money)
                    .ok_or_else(|| E::custom(MoneyError::TooLarge))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(MoneyError::TooLarge))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                if !v.is_finite() {
                    return Err(E::custom(MoneyError::NotANumber));
                }
                // The shortest text that reads back as `v` is what was written; more than six
                // decimals (never accepted) round to the nearest micro-unit.
                Money::parse(&format!("{v}"))
                    .or_else(|_| Ok(Money((v * SCALE as f64).round() as i64)))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimal_text_exactly() {
        for (text, micros) in [
            ("0", 0),
            ("12", 12_000_000),
            ("12.5", 12_500_000),
            ("-0.5", -500_000),
            ("0.000001", 1),
            ("1e3", 1_000_000_000),
            ("2.5E-2", 25_000),
            ("1.10", 1_100_000),
            ("100.000000", 100_000_000),
            ("0.1e-5", 1),
        ] {
            assert_eq!(Money::parse(text), Ok(Money(micros)), "{text}");
        }
        for bad in ["", "-", ".5", "5.", "1.2.3", "abc", "1e", "0x10", "+1"] {
            assert_eq!(Money::parse(bad), Err(MoneyError::NotANumber), "{bad}");
        }
        assert_eq!(Money::parse("0.0000001"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("1e-7"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("1e30"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn sums_are_exact() {
        let tenth = Money::parse("0.1").expect("0.1");
        let fifth = Money::parse("0.2").expect("0.2");
        assert_eq!(tenth.checked_add(fifth), Money::parse("0.3").ok());
        assert_eq!(Money::units(250).share(4, 5), Money::units(200));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Every amount up to 10^9 with up to six decimals survives text, JSON and back.
        #[test]
        fn round_trips_through_text_and_json(micros in -1_000_000_000_000_000i64..=1_000_000_000_000_000) {
            let m = Money(micros);
            prop_assert_eq!(Money::parse(&m.to_decimal_string()), Ok(m));
            let json = serde_json::to_string(&m).expect("serialize");
            prop_assert_eq!(serde_json::from_str::<Money>(&json).expect("deserialize"), m, "{}", json);
            prop_assert_eq!(Money::parse(&json), Ok(m), "{}", json);
        }
    }
}
