use serde::{Deserialize, Serialize};

/// Seed 01's billing section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettings {
    pub currency: String,
    pub timezone: String,
    /// Metadata of the card on file (never the card number); `None` until one is added.
    pub payment_method: Option<PaymentMethod>,
    pub billing_address: BillingAddress,
    pub auto_recharge: AutoRecharge,
    pub cost_alerts: Vec<CostAlert>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            currency: "USD".into(),
            timezone: "UTC".into(),
            payment_method: None,
            billing_address: BillingAddress::default(),
            auto_recharge: AutoRecharge::default(),
            cost_alerts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: String,
    pub last_four: String,
    pub expires: String,
    pub brand: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingAddress {
    pub name: Option<String>,
    pub company: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoRecharge {
    pub enabled: bool,
    /// Balance below which a recharge is requested.
    pub threshold: Option<f64>,
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostAlert {
    pub threshold: f64,
    pub period: String,
    pub enabled: bool,
}
