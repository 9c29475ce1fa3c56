//! Plan tiers and the limits each allows.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An account's plan tier, which fixes its entitlements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The default plan.
    Free,
    /// The paid plan for growing teams.
    Pro,
    /// The plan with the highest limits.
    Enterprise,
}

/// What a tier allows. Account policy may lower these, never raise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Members of the account, owners included.
    pub max_members: u32,
    /// Organizations the account may hold.
    pub max_organizations: u32,
    /// The longest the audit log may be kept, in days.
    pub max_audit_retention_days: u32,
}

impl Tier {
    /// The tier's public name: `free`, `pro` or `enterprise`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
            Tier::Enterprise => "enterprise",
        }
    }

    /// The tier's limits. The free tier allows 100 members and 10 organizations; every tier
    /// keeps the audit log at most 365 days, the longest retention an account may choose.
    pub fn limits(self) -> Limits {
        match self {
            Tier::Free => Limits {
                max_members: 100,
                max_organizations: 10,
                max_audit_retention_days: 365,
            },
            Tier::Pro => Limits {
                max_members: 1_000,
                max_organizations: 50,
                max_audit_retention_days: 365,
            },
            Tier::Enterprise => Limits {
                max_members: 100_000,
                max_organizations: 1_000,
                max_audit_retention_days: 365,
            },
        }
    }
}

impl Tier {
    /// The features the tier enables, by their public names.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Tier::Free => &["audit_log", "ip_allowlist", "webhooks", "api_keys"],
            Tier::Pro => &[
                "audit_log",
                "ip_allowlist",
                "webhooks",
                "api_keys",
                "mfa_enforcement",
                "slack",
                "export_import",
            ],
            Tier::Enterprise => &[
                "audit_log",
                "ip_allowlist",
                "webhooks",
                "api_keys",
                "mfa_enforcement",
                "slack",
                "export_import",
                "sso",
                "data_residency",
            ],
        }
    }

    /// Every feature any tier enables.
    pub fn all_features() -> &'static [&'static str] {
        Tier::Enterprise.features()
    }
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Tier::Free),
            "pro" => Ok(Tier::Pro),
            "enterprise" => Ok(Tier::Enterprise),
            other => Err(other.to_owned()),
        }
    }
}
