//! Who may change whom. Seed 02: only admins and the owner manage the team, the owner "cannot be
//! assigned" and cannot be removed. We add the rule every role ladder needs: a manager never grants a
//! role above their own and never acts on someone who outranks them, so an admin cannot mint a second
//! owner or demote the owner's peers above them.

use tenantry_kernel::Role;

use crate::TeamError;

/// The least role that manages the team.
pub const MANAGER_ROLE: Role = Role::Admin;

/// Whether `actor` may manage the team at all.
pub fn ensure_manager(actor: Role) -> Result<(), TeamError> {
    if actor >= MANAGER_ROLE {
        Ok(())
    } else {
        Err(TeamError::InsufficientPermissions {
            required: MANAGER_ROLE,
            current: actor,
        })
    }
}

/// Whether `actor` may give someone the role `granted` (on invitation or on a role change).
pub fn ensure_can_grant(actor: Role, granted: Role) -> Result<(), TeamError> {
    ensure_manager(actor)?;
    if granted == Role::Owner {
        return Err(TeamError::InvalidField {
            field: "role",
            reason: "the owner role cannot be assigned".to_owned(),
        });
    }
    if granted > actor {
        return Err(TeamError::RoleAboveOwn {
            current: actor,
            target: granted,
        });
    }
    Ok(())
}

/// Whether `actor` may change, suspend or remove a member who currently holds `target`.
pub fn ensure_can_manage(actor: Role, target: Role) -> Result<(), TeamError> {
    ensure_manager(actor)?;
    if target == Role::Owner {
        return Err(TeamError::CannotRemoveOwner);
    }
    if target > actor {
        return Err(TeamError::RoleAboveOwn {
            current: actor,
            target,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developers_and_viewers_cannot_manage() {
        for role in [Role::Developer, Role::Viewer] {
            assert_eq!(
                ensure_manager(role),
                Err(TeamError::InsufficientPermissions {
                    required: Role::Admin,
                    current: role
                })
            );
            assert!(ensure_can_grant(role, Role::Viewer).is_err());
            assert!(ensure_can_manage(role, Role::Viewer).is_err());
        }
    }

    #[test]
    fn nobody_grants_or_touches_the_owner_role() {
        for actor in [Role::Owner, Role::Admin] {
            assert!(matches!(
                ensure_can_grant(actor, Role::Owner),
                Err(TeamError::InvalidField { field: "role", .. })
            ));
            assert_eq!(
                ensure_can_manage(actor, Role::Owner),
                Err(TeamError::CannotRemoveOwner)
            );
        }
    }

    #[test]
    fn managers_stay_within_their_own_rank() {
        // Every (actor, role) pair, checked against the rule written out by hand.
        for actor in Role::ALL {
            for role in Role::ALL {
                let allowed = actor >= Role::Admin && role != Role::Owner && role <= actor;
                assert_eq!(
                    ensure_can_grant(actor, role).is_ok(),
                    allowed,
                    "{actor} grants {role}"
                );
                assert_eq!(
                    ensure_can_manage(actor, role).is_ok(),
                    allowed,
                    "{actor} manages {role}"
                );
            }
        }
    }
}
