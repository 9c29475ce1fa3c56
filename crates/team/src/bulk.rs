//! The team API's bulk operations: one change applied to many members, each member's change atomic on
//! its own, so one refusal (an unknown id, the owner) never blocks or undoes the others.

use tenantry_kernel::Role;
use tenantry_security::MemberStatus;

use crate::{Department, Member, MemberChange, TeamError};

/// The most members one bulk request may name; more is a validation error, not a partial run.
pub const MAX_BULK_MEMBERS: usize = 100;

/// One change a manager applies to many members at once; each member's change is checked by the
/// same rules as a single change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOperation {
    /// Give every named member this role (never the owner role, never above the manager's own).
    UpdateRole(Role),
    /// `None` clears the department.
    UpdateDepartment(Option<Department>),
    /// Suspend every named member: they keep their membership but can no longer act in the account.
    Suspend,
    /// Reactivate every named suspended member.
    Reactivate,
}

impl BulkOperation {
    /// The operation's name as the team API spells it (`update_role`, ...), for results and audit.
    pub fn name(&self) -> &'static str {
        match self {
            BulkOperation::UpdateRole(_) => "update_role",
            BulkOperation::UpdateDepartment(_) => "update_department",
            BulkOperation::Suspend => "suspend",
            BulkOperation::Reactivate => "reactivate",
        }
    }

    pub(crate) fn change(&self) -> MemberChange {
        match self {
            BulkOperation::UpdateRole(role) => MemberChange {
                role: Some(*role),
                ..MemberChange::default()
            },
            BulkOperation::UpdateDepartment(d) => MemberChange {
                department: Some(d.clone()),
                ..MemberChange::default()
            },
            BulkOperation::Suspend => MemberChange {
                status: Some(MemberStatus::Suspended),
                ..MemberChange::default()
            },
            BulkOperation::Reactivate => MemberChange {
                status: Some(MemberStatus::Active),
                ..MemberChange::default()
            },
        }
    }

    /// Whether applying the operation to `m` would change anything (the team API's `updated`).
    pub(crate) fn changes(&self, m: &Member) -> bool {
        match self {
            BulkOperation::UpdateRole(role) => m.role != *role,
            BulkOperation::UpdateDepartment(d) => m.department != *d,
            BulkOperation::Suspend => m.status != MemberStatus::Suspended,
            BulkOperation::Reactivate => m.status != MemberStatus::Active,
        }
    }
}

/// What happened to one named member.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOutcome {
    /// The id as the client sent it.
    pub user: String,
    /// `Ok(updated)`: whether anything changed; `Err`: why this member was refused.
    pub result: Result<bool, TeamError>,
}

/// The ids to act on, in the order given, each once; an empty or oversized list is refused
/// before anything is touched.
pub(crate) fn distinct_members(ids: &[String]) -> Result<Vec<String>, TeamError> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    if out.is_empty() || out.len() > MAX_BULK_MEMBERS {
        return Err(TeamError::InvalidField {
            field: "members",
            reason: format!("name between 1 and {MAX_BULK_MEMBERS} members"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_deduplicated_in_order_and_bounded() {
        let ids: Vec<String> = ["b", "a", "b"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            distinct_members(&ids),
            Ok(vec!["b".to_owned(), "a".to_owned()])
        );
        assert!(distinct_members(&[]).is_err());
        let many: Vec<String> = (0..=MAX_BULK_MEMBERS).map(|i| i.to_string()).collect();
        assert!(distinct_members(&many).is_err());
        assert!(distinct_members(&many[..MAX_BULK_MEMBERS]).is_ok());
    }
}
