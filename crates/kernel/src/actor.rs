//! Who is calling: the account, the user, the role and the credential they proved themselves with.

use std::net::IpAddr;

use crate::{AccountId, ApiKeyId, KernelError, OperatorKeyId, Permission, Role, SessionId, UserId};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ApiKey(ApiKeyId),
    Session(SessionId),
    /// The operator at the command line (`tenantry export|import`: `OperatorCredential::Cli`),
    /// acting in an account with its owner's rights; audited as `operator:cli`. Never produced by
    /// the HTTP layer for a member route.
    Operator(OperatorCredential),
}

/// Which of the operator's credentials acted: the bootstrap key (`TENANTRY_OPERATOR_KEY`, or
/// the key generated at first start), a named key (`tenantry operators create`), or the command
/// line (whoever holds the database and its key file). Audit entries name it as
/// `operator:env`, `operator:opk_…` or `operator:cli`, so that one leaked key's actions can be
/// told from another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorCredential {
    Env,
    Key(OperatorKeyId),
    Cli,
}

/// `env`, the key's public id (`opk_…`), or `cli`; never a secret.
impl std::fmt::Display for OperatorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperatorCredential::Env => f.write_str("env"),
            OperatorCredential::Key(id) => std::fmt::Display::fmt(id, f),
            OperatorCredential::Cli => f.write_str("cli"),
        }
    }
}

/// An operator's action: which credential, from which client address (`None` at the command
/// line, which has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorCaller {
    pub credential: OperatorCredential,
    pub ip: Option<IpAddr>,
}

impl OperatorCaller {
    /// The command line.
    pub const CLI: OperatorCaller = OperatorCaller {
        credential: OperatorCredential::Cli,
        ip: None,
    };

    /// The audit actor: `operator:env`, `operator:opk_…`, `operator:cli`.
    pub fn actor(&self) -> String {
        self.credential.actor()
    }

    /// The audit entry's address: the request's client address, or `cli`.
    pub fn address(&self) -> Option<String> {
        match (self.credential, self.ip) {
            (OperatorCredential::Cli, _) => Some("cli".to_owned()),
            (_, ip) => ip.map(|i| i.to_string()),
        }
    }
}

impl OperatorCredential {
    /// The audit actor of an action by this credential: `operator:env`, `operator:opk_…`,
    /// `operator:cli`.
    pub fn actor(&self) -> String {
        format!("operator:{self}")
    }
}

/// The credential's public name, for audit entries, alerts and logs: the key's public id
/// (`key_…`), the session's id (`ses_…`), or `operator:env|opk_…|cli`. Never the `Debug` form.
impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ApiKey(id) => std::fmt::Display::fmt(id, f),
            Credential::Session(id) => std::fmt::Display::fmt(id, f),
            Credential::Operator(by) => f.write_str(&by.actor()),
        }
    }
}

/// The authenticated caller of a request: who, in which account, with which role, from where.
///
/// Every service method that touches account data takes an `Actor` and scopes its queries by
/// `actor.account_id`; the account never comes from a request body, which is what makes
/// cross-account access impossible by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub role: Role,
    pub credential: Credential,
    pub ip: Option<IpAddr>,
    /// The credential's scopes (public names); empty = whatever the role allows.
    pub scopes: Vec<String>,
    /// When the caller signed in, for session credentials (re-authentication for sensitive
    /// operations); `None` for API keys.
    pub authenticated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The member's custom permissions (decision 0019); `None` = the role's full power. They
    /// belong to the member, not the credential: every key and session of the member carries
    /// them, so no credential of theirs escapes them.
    pub permissions: Option<Vec<Permission>>,
}

/// How recent a sign-in must be for a sensitive operation through a session.
pub const REAUTH_WINDOW_MINUTES: i64 = 10;

impl Actor {
    /// Whether a sensitive operation must first re-authenticate: only sessions older than
    /// [`REAUTH_WINDOW_MINUTES`] do (API keys are credentials of their own), and only when the
    /// account's policy asks for it.
    pub fn needs_reauth(&self, policy_requires: bool, now: chrono::DateTime<chrono::Utc>) -> bool {
        policy_requires
            && matches!(self.credential, Credential::Session(_))
            && self
                .authenticated_at
                .is_none_or(|at| now - at > chrono::Duration::minutes(REAUTH_WINDOW_MINUTES))
    }

    /// Whether the member's custom permissions (if any) include `permission`. This only ever
    /// narrows: the role checks still decide everything the role does not allow.
    pub fn has_permission(&self, permission: Permission) -> bool {
        self.permissions
            .as_deref()
            .is_none_or(|custom| custom.contains(&permission))
    }

    /// Succeeds when the actor's role is at least `required`.
    ///
    /// ```
    /// # use tenantry_kernel::*;
    /// # let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).unwrap());
    /// let actor = Actor {
    ///     account_id: AccountId::generate(&clock, &OsRandom),
    ///     user_id: UserId::generate(&clock, &OsRandom),
    ///     role: Role::Developer,
    ///     credential: Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom)),
    ///     ip: None,
    ///     scopes: Vec::new(),
    ///     authenticated_at: None,
    ///     permissions: None,
    /// };
    /// assert!(actor.require(Role::Viewer).is_ok());
    /// assert!(actor.require(Role::Admin).is_err());
    /// ```
    pub fn require(&self, required: Role) -> Result<(), KernelError> {
        if self.role >= required {
            Ok(())
        } else {
            Err(KernelError::InsufficientRole {
                required,
                current: self.role,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedClock, OsRandom};

    #[test]
    fn credentials_display_as_their_public_ids() {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        let key = ApiKeyId::generate(&clock, &OsRandom);
        let session = SessionId::generate(&clock, &OsRandom);
        assert_eq!(Credential::ApiKey(key).to_string(), key.to_string());
        assert!(Credential::ApiKey(key).to_string().starts_with("key_"));
        assert!(Credential::Session(session).to_string().starts_with("ses_"));
        assert_eq!(
            Credential::Operator(OperatorCredential::Cli).to_string(),
            "operator:cli"
        );
        assert_eq!(
            Credential::Operator(OperatorCredential::Env).to_string(),
            "operator:env"
        );
        for c in [Credential::ApiKey(key), Credential::Session(session)] {
            let shown = c.to_string();
            assert!(!shown.contains('(') && !shown.contains("Ulid"), "{shown}");
        }
    }
}
