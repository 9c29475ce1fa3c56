//! The sections of the account settings document.

/// The sections of the account settings API's account settings document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Where and when the account is alerted (email, Slack, webhooks).
    Notifications,
    /// Plan, payment and auto-recharge; its rules are the billing context's.
    Billing,
    /// The security policy: sessions, passwords, MFA, the IP allowlist, audit retention.
    Security,
    /// Connections to monitoring and registry services.
    Integrations,
    /// Per user, not per account (API-MAP.md): every member edits their own.
    Preferences,
    /// Organization-wide defaults of the user and organization API; not one of the account
    /// settings API's sections.
    Organization,
}

impl Section {
    /// The account settings API's five sections, in its order.
    pub const ALL: [Section; 5] = [
        Section::Notifications,
        Section::Billing,
        Section::Security,
        Section::Integrations,
        Section::Preferences,
    ];

    /// The sections stored once per account (as opposed to per user).
    pub const ACCOUNT: [Section; 5] = [
        Section::Notifications,
        Section::Billing,
        Section::Security,
        Section::Integrations,
        Section::Organization,
    ];

    /// The section's name in documents and error messages (`"security"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Notifications => "notifications",
            Section::Billing => "billing",
            Section::Security => "security",
            Section::Integrations => "integrations",
            Section::Preferences => "preferences",
            Section::Organization => "organization",
        }
    }

    /// The section named `s` (exactly as [`Section::as_str`] spells it), `None` for any other name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Section::Organization])
            .find(|section| section.as_str() == s)
    }

    /// An export's section list (`billing,security`): the account settings API's sections only; absent or blank
    /// means all of them. The error is the first name that is not one.
    pub fn parse_export_list(raw: Option<&str>) -> Result<Vec<Self>, String> {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(Self::ALL.to_vec());
        };
        raw.split(',')
            .map(|s| {
                Self::parse(s.trim())
                    .filter(|s| Self::ALL.contains(s))
                    .ok_or_else(|| s.trim().to_owned())
            })
            .collect()
    }
}
