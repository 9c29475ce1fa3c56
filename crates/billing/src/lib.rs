#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod currency;
mod error;
mod money;
mod ports;
mod section;
mod service;
mod tier;
mod usage;

pub use currency::{AlertPeriod, Currency};
pub use error::BillingError;
pub use money::{Money, MoneyError};
pub use ports::UsageStore;
pub use section::{
    AutoRecharge, BillingAddress, BillingSettings, CardBrand, CostAlert, PaymentMethod,
    PaymentMethodType, MAX_AMOUNT, MAX_COST_ALERTS,
};
pub use service::BillingService;
pub use tier::{Limits, Tier};
pub use usage::{
    check_records, checks_for, period_bounds, CheckKind, FiredAlert, RechargeRule, ThresholdCheck,
    UsageBatch, UsageOutcome, UsageRecord, BUDGET_WARNING_SHARE, MAX_RECORDS_PER_REQUEST,
};
