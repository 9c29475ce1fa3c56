//! Who may change whom. The team API: only admins and the owner manage the team, the owner "cannot be
//! assigned" and cannot be removed. We add the rule every role ladder needs: a manager never grants a
//! role above their own and never acts on someone who outranks them, so an admin cannot mint a second
//! owner or demote the owner's peers above them.

use tenantry_kernel::{default_permissions, effective_permissions, Actor, Permission, Role};

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

/// Whether a custom permission list fits `role`: custom permissions narrow a role, so naming one
/// the role does not grant is a mistake to report (422 on `permissions`), not a grant.
pub fn ensure_fits_role(role: Role, custom: &[Permission]) -> Result<(), TeamError> {
    match custom
        .iter()
        .find(|p| !default_permissions(role).contains(p))
    {
        None => Ok(()),
        Some(p) => Err(TeamError::InvalidField {
            field: "permissions",
            reason: format!(
                "`{p}` is not part of the {role} role (custom permissions only narrow a role)"
            ),
        }),
    }
}

/// Whether `actor` may leave someone holding `role` with `custom` permissions (by inviting them,
/// or changing their role or permissions): what they end up with must be within what the actor
/// holds. An actor without custom permissions who may grant the role passes (every role they
/// may grant holds a subset of theirs); an actor with narrowed permissions cannot hand out the
/// rest, nor widen their own (their own change is checked against what they hold now).
pub fn ensure_within_own(
    actor: &Actor,
    role: Role,
    custom: Option<&[Permission]>,
) -> Result<(), TeamError> {
    let own = effective_permissions(actor.role, actor.permissions.as_deref());
    let exceeding: Vec<Permission> = effective_permissions(role, custom)
        .into_iter()
        .filter(|p| !own.contains(p))
        .collect();
    if exceeding.is_empty() {
        Ok(())
    } else {
        Err(TeamError::PermissionsExceedOwn { exceeding })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tenantry_kernel::{AccountId, Credential, FixedClock, OsRandom, UserId};

    use super::*;

    fn actor(role: Role, permissions: Option<Vec<Permission>>) -> Actor {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            role,
            credential: Credential::Operator(tenantry_kernel::OperatorCredential::Cli),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions,
            operator_link: None,
        }
    }

    #[test]
    fn a_full_manager_grants_every_role_they_may_grant() {
        for manager in [Role::Owner, Role::Admin] {
            for role in Role::ALL {
                if ensure_can_grant(manager, role).is_ok() {
                    assert_eq!(ensure_within_own(&actor(manager, None), role, None), Ok(()));
                }
            }
        }
    }

    #[test]
    fn a_narrowed_admin_cannot_hand_out_or_take_back_what_they_lack() {
        use Permission::*;
        let narrowed = actor(Role::Admin, Some(vec![Read, ManageTeam]));
        assert_eq!(
            ensure_within_own(&narrowed, Role::Developer, None),
            Err(TeamError::PermissionsExceedOwn {
                exceeding: vec![Write, Execute]
            })
        );
        assert_eq!(
            ensure_within_own(&narrowed, Role::Developer, Some(&[Read])),
            Ok(())
        );
        // Their own defaults (`permissions: null` on themselves) are wider than what they hold.
        assert!(ensure_within_own(&narrowed, Role::Admin, None).is_err());
        assert_eq!(
            ensure_within_own(&narrowed, Role::Admin, Some(&[Read, ManageTeam])),
            Ok(())
        );
    }

    #[test]
    fn a_custom_list_must_fit_the_role() {
        use Permission::*;
        assert!(ensure_fits_role(Role::Viewer, &[Read]).is_ok());
        assert!(matches!(
            ensure_fits_role(Role::Viewer, &[Read, Write]),
            Err(TeamError::InvalidField {
                field: "permissions",
                ..
            })
        ));
        assert!(ensure_fits_role(Role::Admin, &[ManageBilling]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(0x0019), ..ProptestConfig::default() })]

        /// Law: whoever grants whatever, a grant that passes leaves the member with nothing the
        /// granting actor does not hold.
        #[test]
        fn a_grant_never_exceeds_the_grantor(
            actor_role in prop::sample::select(Role::ALL.to_vec()),
            actor_custom in prop::option::of(prop::collection::vec(prop::sample::select(Permission::ALL.to_vec()), 0..6)),
            role in prop::sample::select(Role::ALL.to_vec()),
            custom in prop::option::of(prop::collection::vec(prop::sample::select(Permission::ALL.to_vec()), 0..6)),
        ) {
            let grantor = actor(actor_role, actor_custom.clone());
            if ensure_within_own(&grantor, role, custom.as_deref()).is_ok() {
                let own = effective_permissions(actor_role, actor_custom.as_deref());
                for p in effective_permissions(role, custom.as_deref()) {
                    prop_assert!(own.contains(&p), "seed 0x0019: {:?} grants {:?}", grantor.permissions, p);
                }
            }
        }
    }

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
