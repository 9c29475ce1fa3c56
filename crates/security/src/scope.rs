//! API key scopes: what a key may do, by area and access. A key without scopes (`*`) may do
//! whatever its owner's role allows; scopes only ever narrow that.

use std::fmt;

/// The areas of the API a scope names. Every route belongs to exactly one (see the HTTP
/// adapter's route table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Notifications, integrations, preferences, organization defaults, branding.
    Settings,
    /// Security policy, IP allowlist, security preferences, tenant security, log retention.
    Security,
    Billing,
    Audit,
    /// The caller's own API keys.
    Keys,
    /// Team members, invitations and activity (seed 02).
    Team,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

/// One scope: `area:read` or `area:write` (write implies read), or `*` for everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Grant(Area, Access),
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Settings,
        Area::Security,
        Area::Billing,
        Area::Audit,
        Area::Keys,
        Area::Team,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Settings => "settings",
            Area::Security => "security",
            Area::Billing => "billing",
            Area::Audit => "audit",
            Area::Keys => "keys",
            Area::Team => "team",
        }
    }
}

impl Scope {
    /// Every scope a key may be given, in documentation order.
    pub fn all_names() -> Vec<String> {
        let mut names = vec!["*".to_owned()];
        for area in Area::ALL {
            names.push(format!("{}:read", area.as_str()));
            if area != Area::Audit {
                names.push(format!("{}:write", area.as_str()));
            }
        }
        names
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "*" {
            return Ok(Scope::All);
        }
        let (area, access) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not a scope"))?;
        let area = Area::ALL
            .into_iter()
            .find(|a| a.as_str() == area)
            .ok_or_else(|| format!("`{s}` is not a scope"))?;
        let access = match access {
            "read" => Access::Read,
            "write" if area != Area::Audit => Access::Write,
            _ => return Err(format!("`{s}` is not a scope")),
        };
        Ok(Scope::Grant(area, access))
    }

    /// Whether this scope permits `access` to `area`.
    pub fn permits(self, area: Area, access: Access) -> bool {
        match self {
            Scope::All => true,
            Scope::Grant(a, granted) => {
                a == area && (granted == Access::Write || access == Access::Read)
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Grant(area, Access::Read) => write!(f, "{}:read", area.as_str()),
            Scope::Grant(area, Access::Write) => write!(f, "{}:write", area.as_str()),
        }
    }
}

/// Whether a key with `scopes` (their public names; empty or `*` = unrestricted) may perform
/// `access` on `area`.
pub fn scopes_permit(scopes: &[String], area: Area, access: Access) -> bool {
    scopes.is_empty()
        || scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .any(|s| s.permits(area, access))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for name in Scope::all_names() {
            assert_eq!(Scope::parse(&name).map(|s| s.to_string()), Ok(name));
        }
        for bad in [
            "",
            "settings",
            "settings:delete",
            "audit:write",
            "root:read",
            "*:*",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn write_implies_read_within_its_area_only() {
        let s = vec!["billing:write".to_owned()];
        assert!(scopes_permit(&s, Area::Billing, Access::Read));
        assert!(scopes_permit(&s, Area::Billing, Access::Write));
        assert!(!scopes_permit(&s, Area::Security, Access::Read));
        let r = vec!["security:read".to_owned()];
        assert!(!scopes_permit(&r, Area::Security, Access::Write));
        assert!(scopes_permit(&["*".to_owned()], Area::Audit, Access::Read));
        assert!(scopes_permit(&[], Area::Keys, Access::Write));
    }
}
