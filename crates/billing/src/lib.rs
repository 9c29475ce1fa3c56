#![doc = include_str!("../README.md")]

mod currency;
mod tier;

pub use currency::{AlertPeriod, Currency};
pub use tier::{Limits, Tier};
