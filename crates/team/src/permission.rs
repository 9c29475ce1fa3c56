use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tenantry_kernel::Role;

/// A permission as seed 02 lists it on a member (`["read", "write", "execute", "manage_team"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Read,
    Write,
    Execute,
    ManageTeam,
    ManageBilling,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Execute => "execute",
            Permission::ManageTeam => "manage_team",
            Permission::ManageBilling => "manage_billing",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Permission::Read,
            Permission::Write,
            Permission::Execute,
            Permission::ManageTeam,
            Permission::ManageBilling,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| s.to_owned())
    }
}

/// The permissions a role grants unless a member has custom ones (seed 02: the admin example
/// carries `manage_team`, the developer `read, write, execute`, the viewer `read`; the owner
/// additionally manages billing, "full access to all resources and billing").
pub fn default_permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::Owner => &[Read, Write, Execute, ManageTeam, ManageBilling],
        Role::Admin => &[Read, Write, Execute, ManageTeam],
        Role::Developer => &[Read, Write, Execute],
        Role::Viewer => &[Read],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_roles_grant_a_superset() {
        let ordered = [Role::Viewer, Role::Developer, Role::Admin, Role::Owner];
        for pair in ordered.windows(2) {
            let lower = default_permissions(pair[0]);
            let higher = default_permissions(pair[1]);
            assert!(lower.iter().all(|p| higher.contains(p)), "{:?}", pair);
        }
    }

    #[test]
    fn permission_names_round_trip() {
        for p in default_permissions(Role::Owner) {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
        }
        assert!("root".parse::<Permission>().is_err());
    }
}
