#![doc = include_str!("../README.md")]

mod currency;
mod money;
mod tier;

pub use currency::{AlertPeriod, Currency};
pub use money::{Money, MoneyError};
pub use tier::{Limits, Tier};
