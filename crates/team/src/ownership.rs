//! Handing an account over: the owner makes an active admin the owner and becomes an admin
//! themself, in one transaction, so the account has exactly one owner at every instant
//! (decision 0019).
//!
//! Who can do it, and what stops everyone else:
//! - only the owner (a lower role is 403, whatever it holds);
//! - through a credential as strong as the owner: an API key without scopes, or a session
//!   signed in within the re-authentication window (a stolen, idle session cannot give the
//!   account away); a scoped key is refused even when its scopes cover the team;
//! - to an active admin of the same account only: someone who already manages it. An unknown
//!   id or another account's member is not found; anyone else here is a 422 naming their role
//!   and status.
//!
//! The store re-checks both memberships inside the transaction (under the account lock on
//! PostgreSQL), so of two concurrent transfers the second finds its caller no longer the owner.

use chrono::{DateTime, Utc};
use serde_json::json;
use tenantry_kernel::{Actor, Credential, Role, UserId};
use tenantry_notifications::{Mail, OutboxEntry};
use tenantry_security::{ChangeAudit, MemberStatus};

use crate::{Member, TeamError, TeamService};

/// What a transfer writes in one transaction.
pub struct OwnershipTransfer<'a> {
    /// The owner handing over, who becomes an admin.
    pub from: UserId,
    /// The active admin who becomes the owner.
    pub to: UserId,
    /// One email to each of them.
    pub mails: &'a [OutboxEntry],
    /// The audit entry of the transfer.
    pub audit: &'a ChangeAudit,
}

/// What the store found when it came to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The new owner holds the account; the old one is an admin.
    Transferred,
    /// `from` is no longer the owner (a concurrent transfer won).
    NotOwner,
    /// `to` is no longer an active admin of the account.
    TargetChanged,
}

/// A completed transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    /// The owner who handed over, now an admin.
    pub previous_owner: UserId,
    /// The new owner.
    pub new_owner: UserId,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Whether `actor` may hand the account over at `now`: the owner, through an unscoped key or a
/// session that passes the re-authentication rule. Always required here, whatever the account's
/// `require_reauth_for_sensitive` says: this is the one action that takes the account from the
/// person doing it, so it never rests on an old session (as enabling MFA never does).
pub fn ensure_can_transfer(actor: &Actor, now: DateTime<Utc>) -> Result<(), TeamError> {
    if actor.role != Role::Owner {
        return Err(TeamError::InsufficientPermissions {
            required: Role::Owner,
            current: actor.role,
        });
    }
    match actor.credential {
        Credential::ApiKey(_) if !actor.scopes.is_empty() => {
            Err(TeamError::UnrestrictedCredentialRequired)
        }
        Credential::Session(_) | Credential::External(_) if actor.needs_reauth(true, now) => {
            Err(TeamError::ReauthRequired)
        }
        Credential::ApiKey(_)
        | Credential::Session(_)
        | Credential::Operator(_)
        | Credential::External(_) => Ok(()),
    }
}

/// Whether `target` may receive the account: an active admin.
pub fn ensure_can_receive(target: &Member) -> Result<(), TeamError> {
    if target.role == Role::Admin && target.status == MemberStatus::Active {
        Ok(())
    } else {
        Err(TeamError::TransferTargetNotActiveAdmin {
            role: target.role,
            status: target.status,
        })
    }
}

fn who(m: &Member) -> String {
    match &m.name {
        Some(name) => format!("{name} <{}>", m.email),
        None => m.email.clone(),
    }
}

impl TeamService {
    /// Makes `target` the owner and the caller an admin; both get an email; audited as
    /// `team.ownership_transferred`.
    pub fn transfer_ownership(
        &self,
        actor: &Actor,
        target: UserId,
    ) -> Result<Transferred, TeamError> {
        let now = self.clock.now();
        ensure_can_transfer(actor, now)?;
        let new_owner = self
            .store
            .find_member(actor.account_id, target)?
            .ok_or(TeamError::MemberNotFound)?;
        ensure_can_receive(&new_owner)?;
        let owner = self
            .store
            .find_member(actor.account_id, actor.user_id)?
            .ok_or(TeamError::MemberNotFound)?;
        let account = self
            .store
            .account_display_name(actor.account_id)?
            .unwrap_or_default();
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mails = [
            Mail {
                to: owner.email.clone(),
                subject: format!(
                    "You handed the account {account} over to {}",
                    who(&new_owner)
                ),
                text: format!(
                    "At {at} you made {} the owner of the account \"{account}\" on Tenantry. \
                     You are now an admin of it.\n\nIf this was not you, contact the new owner \
                     at once: only the owner can change it back.\n",
                    who(&new_owner)
                ),
                html: None,
            },
            Mail {
                to: new_owner.email.clone(),
                subject: format!("You are now the owner of the account {account}"),
                text: format!(
                    "At {at} {} made you the owner of the account \"{account}\" on Tenantry. \
                     They are now an admin of it.\n\nAs the owner you have full access, \
                     including billing, and you are the only one who can hand the account over \
                     again.\n",
                    who(&owner)
                ),
                html: None,
            },
        ]
        .map(|mail| {
            OutboxEntry::mail(
                Some(actor.account_id),
                &mail,
                &self.secrets,
                self.clock.as_ref(),
                self.random.as_ref(),
            )
        });
        let audit = self.audit(
            actor,
            "team.ownership_transferred",
            json!({ "from": actor.user_id.to_string(), "to": target.to_string() }),
        );
        let outcome = self.store.transfer_ownership(
            actor.account_id,
            &OwnershipTransfer {
                from: actor.user_id,
                to: target,
                mails: &mails,
                audit: &audit,
            },
        )?;
        match outcome {
            TransferOutcome::Transferred => Ok(Transferred {
                previous_owner: actor.user_id,
                new_owner: target,
                at: audit.at,
            }),
            // The caller's role as their credential saw it is stale: say what it is now.
            TransferOutcome::NotOwner => Err(TeamError::InsufficientPermissions {
                required: Role::Owner,
                current: Role::Admin,
            }),
            TransferOutcome::TargetChanged => {
                let now_stored = self
                    .store
                    .find_member(actor.account_id, target)?
                    .ok_or(TeamError::MemberNotFound)?;
                ensure_can_receive(&now_stored)?;
                Err(TeamError::Conflict)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use tenantry_kernel::{AccountId, ApiKeyId, FixedClock, OsRandom, SessionId};

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("time")
    }

    fn actor(role: Role, credential: Credential, scopes: &[&str]) -> Actor {
        Actor {
            account_id: AccountId::generate(&FixedClock(t0()), &OsRandom),
            user_id: UserId::generate(&FixedClock(t0()), &OsRandom),
            role,
            credential,
            ip: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            authenticated_at: Some(t0()),
            permissions: None,
            operator_link: None,
        }
    }

    #[test]
    fn only_the_owner_with_a_full_fresh_credential_transfers() {
        let clock = FixedClock(t0());
        let key = Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom));
        let session = Credential::Session(SessionId::generate(&clock, &OsRandom));
        assert_eq!(
            ensure_can_transfer(&actor(Role::Owner, key, &[]), t0()),
            Ok(())
        );
        assert_eq!(
            ensure_can_transfer(
                &actor(Role::Owner, session, &[]),
                t0() + Duration::minutes(9)
            ),
            Ok(())
        );
        assert_eq!(
            ensure_can_transfer(
                &actor(Role::Owner, session, &[]),
                t0() + Duration::minutes(11)
            ),
            Err(TeamError::ReauthRequired)
        );
        assert_eq!(
            ensure_can_transfer(&actor(Role::Owner, key, &["team:write"]), t0()),
            Err(TeamError::UnrestrictedCredentialRequired)
        );
        for role in [Role::Admin, Role::Developer, Role::Viewer] {
            assert_eq!(
                ensure_can_transfer(&actor(role, key, &[]), t0()),
                Err(TeamError::InsufficientPermissions {
                    required: Role::Owner,
                    current: role
                })
            );
        }
    }

    #[test]
    fn only_an_active_admin_receives() {
        for role in Role::ALL {
            for status in [
                MemberStatus::Active,
                MemberStatus::Suspended,
                MemberStatus::Pending,
            ] {
                let m = Member {
                    user_id: UserId::generate(&FixedClock(t0()), &OsRandom),
                    email: "a@example.com".into(),
                    name: None,
                    role,
                    custom_permissions: None,
                    status,
                    joined_at: t0(),
                    last_active_at: None,
                    invited_by: None,
                    department: None,
                    title: None,
                };
                assert_eq!(
                    ensure_can_receive(&m).is_ok(),
                    role == Role::Admin && status == MemberStatus::Active,
                    "{role} {status:?}"
                );
            }
        }
    }
}
