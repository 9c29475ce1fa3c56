//! Custom permissions: what the team API document lists on a member (`["read", "write",
//! "execute", "manage_team"]`), enforced as a narrowing of the member's role (decision 0019).
//! A member without custom permissions has their role's full power; one with custom permissions
//! may do only what both the role and the permissions allow. Nothing here ever widens a role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Role;

/// One permission. Which routes each covers is the HTTP adapter's table
/// (`crates/http/src/route_permissions.rs`, listed in docs/security/permissions.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the account's data: settings, members, activity, audit logs, notifications.
    Read,
    /// Change the account's settings and notification configuration.
    Write,
    /// Make the account act: test deliveries, redeliveries, events and usage reports.
    Execute,
    /// Invite, change, suspend and remove members; read and manage invitations.
    ManageTeam,
    /// The owner's: billing ownership, and handing the account over.
    ManageBilling,
}

impl Permission {
    /// Every permission, in the order the APIs list them.
    pub const ALL: [Permission; 5] = [
        Permission::Read,
        Permission::Write,
        Permission::Execute,
        Permission::ManageTeam,
        Permission::ManageBilling,
    ];

    /// The snake_case name the APIs use (`manage_team`).
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
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// The permissions a role grants unless a member has custom ones (the document's examples: the
/// admin carries `manage_team`, the developer `read, write, execute`, the viewer `read`; the
/// owner additionally manages billing, "full access to all resources and billing").
pub fn default_permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::Owner => &[Read, Write, Execute, ManageTeam, ManageBilling],
        Role::Admin => &[Read, Write, Execute, ManageTeam],
        Role::Developer => &[Read, Write, Execute],
        Role::Viewer => &[Read],
    }
}

/// What a member holding `role` with `custom` permissions may do: the role's permissions, or
/// those of them the custom list names (in the role's order). A custom permission the role does
/// not grant is ignored, never added: custom permissions narrow, they do not widen.
///
/// ```
/// # use tenantry_kernel::*;
/// use Permission::*;
/// assert_eq!(effective_permissions(Role::Viewer, Some(&[Read, Write])), vec![Read]);
/// assert_eq!(effective_permissions(Role::Developer, None), vec![Read, Write, Execute]);
/// ```
pub fn effective_permissions(role: Role, custom: Option<&[Permission]>) -> Vec<Permission> {
    default_permissions(role)
        .iter()
        .copied()
        .filter(|p| custom.is_none_or(|c| c.contains(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
        }
        assert!("root".parse::<Permission>().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Law: whatever custom list a member carries, their effective permissions are a subset
        /// of their role's, and of the list itself.
        #[test]
        fn custom_permissions_only_narrow(
            role in prop::sample::select(Role::ALL.to_vec()),
            custom in prop::collection::vec(prop::sample::select(Permission::ALL.to_vec()), 0..8),
        ) {
            let got = effective_permissions(role, Some(&custom));
            for p in &got {
                prop_assert!(default_permissions(role).contains(p));
                prop_assert!(custom.contains(p));
            }
        }
    }
}
