//! Who is calling: the account, the user, the role and the credential they proved themselves with.

use std::net::IpAddr;

use crate::{AccountId, ApiKeyId, KernelError, OperatorKeyId, Permission, Role, SessionId, UserId};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API key: its public id (`key_…`).
    ApiKey(ApiKeyId),
    /// A sign-in session: its id (`ses_…`).
    Session(SessionId),
    /// The operator at the command line (`tenantry export|import`: `OperatorCredential::Cli`),
    /// acting in an account with its owner's rights; audited as `operator:cli`. Never produced by
    /// the HTTP layer for a member route.
    Operator(OperatorCredential),
    /// A caller authenticated by an embedding program's own system (its single sign-on, its
    /// service mesh), which vouches for the member and role on the [`Actor`]; audited as
    /// `external:<subject>`. Only code linking the crates can make one ([`Actor::external`]):
    /// no HTTP request produces it, so it never stands for a caller of Tenantry's own APIs.
    /// Checks treat it like a session signed in at `authenticated_at` (re-authentication
    /// windows, a fresh proof for enabling MFA), and like an unscoped credential otherwise.
    External(ExternalSubject),
}

/// Who an embedding program's own system authenticated: its user name, service account or
/// token subject, as the audit log shows it (`external:<subject>`). 1 to 64 printable ASCII
/// characters without spaces, so an entry can neither be forged by a line break nor pass for
/// another credential's name. A copyable value (the credential it names is copied freely).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternalSubject {
    bytes: [u8; ExternalSubject::MAX_LEN],
    len: u8,
}

impl ExternalSubject {
    /// The longest subject, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses a subject; `KernelError::InvalidExternalSubject` when it is empty, longer than
    /// [`Self::MAX_LEN`], or holds anything but printable ASCII other than a space.
    ///
    /// ```
    /// # use tenantry_kernel::ExternalSubject;
    /// assert_eq!(ExternalSubject::parse("sso|alice").unwrap().as_str(), "sso|alice");
    /// assert!(ExternalSubject::parse("alice\nforged").is_err());
    /// assert!(ExternalSubject::parse("").is_err());
    /// ```
    pub fn parse(subject: &str) -> Result<Self, KernelError> {
        let raw = subject.as_bytes();
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.iter().all(|b| b.is_ascii_graphic())
        {
            return Err(KernelError::InvalidExternalSubject);
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..raw.len()].copy_from_slice(raw);
        Ok(Self {
            bytes,
            // At most MAX_LEN (64), checked above.
            len: raw.len() as u8,
        })
    }

    /// The subject as parsed.
    pub fn as_str(&self) -> &str {
        // Only ASCII was ever stored (see `parse`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for ExternalSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExternalSubject({:?})", self.as_str())
    }
}

impl std::fmt::Display for ExternalSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the operator's credentials acted: the bootstrap key (`TENANTRY_OPERATOR_KEY`, or
/// the key generated at first start), a named key (`tenantry operators create`), or the command
/// line (whoever holds the database and its key file). Audit entries name it as
/// `operator:env`, `operator:opk_…` or `operator:cli`, so that one leaked key's actions can be
/// told from another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorCredential {
    /// The bootstrap key (`TENANTRY_OPERATOR_KEY` or the generated one).
    Env,
    /// A named operator key.
    Key(OperatorKeyId),
    /// The command line.
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
    /// Which operator credential acted.
    pub credential: OperatorCredential,
    /// The client address of the request, if any.
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

    /// The credential an audit actor names ([`Self::actor`]'s inverse); `None` for anything
    /// else (a member's key or session, an unknown name).
    ///
    /// ```
    /// # use tenantry_kernel::OperatorCredential;
    /// assert_eq!(OperatorCredential::from_actor("operator:env"), Some(OperatorCredential::Env));
    /// assert_eq!(OperatorCredential::from_actor("key_01"), None);
    /// ```
    pub fn from_actor(actor: &str) -> Option<Self> {
        match actor.strip_prefix("operator:")? {
            "env" => Some(Self::Env),
            "cli" => Some(Self::Cli),
            key => key.parse().ok().map(Self::Key),
        }
    }
}

/// The credential's public name, for audit entries, alerts and logs: the key's public id
/// (`key_…`), the session's id (`ses_…`), `operator:env|opk_…|cli`, or `external:<subject>`.
/// Never the `Debug` form.
impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ApiKey(id) => std::fmt::Display::fmt(id, f),
            Credential::Session(id) => std::fmt::Display::fmt(id, f),
            Credential::Operator(by) => f.write_str(&by.actor()),
            Credential::External(subject) => write!(f, "external:{subject}"),
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
    /// The account every query of the call is scoped to.
    pub account_id: AccountId,
    /// The member acting.
    pub user_id: UserId,
    /// The member's role in the account (what the credential may do, at most).
    pub role: Role,
    /// How the caller proved who they are.
    pub credential: Credential,
    /// The caller's address (the allowlist judges it; audit entries record it).
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
    /// The operator credential whose portal link opened this session (decision 0030), if one
    /// did. It lends no power (the session's ceiling does that); it only makes the audit log
    /// say that the member's changes came through the operator's link ([`Actor::audit_name`]).
    pub operator_link: Option<OperatorCredential>,
}

/// How recent a sign-in must be for a sensitive operation through a session.
pub const REAUTH_WINDOW_MINUTES: i64 = 10;

impl Actor {
    /// A caller authenticated by the embedding program's own system, acting as member `user`
    /// of `account` with the `role` that system vouches for, signed in there at
    /// `authenticated_at` (sensitive operations ask for a sign-in within
    /// [`REAUTH_WINDOW_MINUTES`], as for a session). Unscoped: the role is all it may do, and
    /// the services still check the role for every operation.
    ///
    /// ```
    /// # use tenantry_kernel::*;
    /// # let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).unwrap());
    /// # let (account, user) = (AccountId::generate(&clock, &OsRandom), UserId::generate(&clock, &OsRandom));
    /// let subject = ExternalSubject::parse("sso|alice").unwrap();
    /// let actor = Actor::external(account, user, Role::Admin, subject, None, clock.now());
    /// assert_eq!(actor.audit_name(), "external:sso|alice");
    /// assert!(!actor.needs_reauth(true, clock.now()));
    /// ```
    pub fn external(
        account: AccountId,
        user: UserId,
        role: Role,
        subject: ExternalSubject,
        ip: Option<IpAddr>,
        authenticated_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            account_id: account,
            user_id: user,
            role,
            credential: Credential::External(subject),
            ip,
            scopes: Vec::new(),
            authenticated_at: Some(authenticated_at),
            permissions: None,
            operator_link: None,
        }
    }

    /// Who the audit log names for this caller's changes: the operator credential
    /// (`operator:…`) or the external subject (`external:…`) when one acted, the member's user
    /// id otherwise, followed by `via operator portal link operator:…` when the member acts in
    /// a session an operator's portal link opened: the operator chose to act as the member, and
    /// the log must not pass that off as the member's own doing.
    pub fn audit_name(&self) -> String {
        match (self.credential, self.operator_link) {
            (Credential::Operator(by), _) => by.actor(),
            (Credential::External(_), _) => self.credential.to_string(),
            (Credential::ApiKey(_) | Credential::Session(_), None) => self.user_id.to_string(),
            (Credential::ApiKey(_) | Credential::Session(_), Some(by)) => {
                format!("{} via operator portal link {}", self.user_id, by.actor())
            }
        }
    }

    /// The address the audit log records for this caller's changes: the operator command
    /// line's `cli`, the request's client address otherwise (none for an external caller whose
    /// embedder gave none).
    pub fn audit_address(&self) -> Option<String> {
        match self.credential {
            Credential::Operator(by) => OperatorCaller {
                credential: by,
                ip: self.ip,
            }
            .address(),
            Credential::ApiKey(_) | Credential::Session(_) | Credential::External(_) => {
                self.ip.map(|ip| ip.to_string())
            }
        }
    }

    /// Whether a sensitive operation must first re-authenticate: only sessions (and external
    /// callers, whose sign-in time the embedder states) older than [`REAUTH_WINDOW_MINUTES`] do
    /// (API keys are credentials of their own), and only when the account's policy asks for it.
    pub fn needs_reauth(&self, policy_requires: bool, now: chrono::DateTime<chrono::Utc>) -> bool {
        policy_requires
            && matches!(
                self.credential,
                Credential::Session(_) | Credential::External(_)
            )
            && self
                .authenticated_at
                .is_none_or(|at| now - at > chrono::Duration::minutes(REAUTH_WINDOW_MINUTES))
    }

    /// Whether this caller came through a portal link: a session nobody signed in to, opened
    /// by a link someone else may have minted. It acts within its account only: what the
    /// member holds in every account (their profile, their preferences) and credentials that
    /// would outlive the link (API keys) are theirs to change signed in, never the link's
    /// (decision 0051).
    pub fn is_portal_session(&self) -> bool {
        matches!(self.credential, Credential::Session(_)) && self.authenticated_at.is_none()
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
    ///     operator_link: None,
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
        let subject = ExternalSubject::parse("sso|alice").expect("subject");
        assert_eq!(
            Credential::External(subject).to_string(),
            "external:sso|alice"
        );
        for c in [Credential::ApiKey(key), Credential::Session(session)] {
            let shown = c.to_string();
            assert!(!shown.contains('(') && !shown.contains("Ulid"), "{shown}");
        }
    }

    #[test]
    fn operator_actors_parse_back_to_their_credential() {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        let key = OperatorKeyId::generate(&clock, &OsRandom);
        for by in [
            OperatorCredential::Env,
            OperatorCredential::Cli,
            OperatorCredential::Key(key),
        ] {
            assert_eq!(OperatorCredential::from_actor(&by.actor()), Some(by));
        }
        for other in ["operator:", "operator:nonsense", "env", "usr_01", ""] {
            assert_eq!(OperatorCredential::from_actor(other), None, "{other}");
        }
    }

    #[test]
    fn a_member_in_an_operator_link_session_is_named_with_the_link() {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        let user = UserId::generate(&clock, &OsRandom);
        let key = OperatorKeyId::generate(&clock, &OsRandom);
        let mut actor = Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: user,
            role: Role::Admin,
            credential: Credential::Session(SessionId::generate(&clock, &OsRandom)),
            ip: None,
            scopes: Vec::new(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        };
        assert_eq!(actor.audit_name(), user.to_string());
        actor.operator_link = Some(OperatorCredential::Key(key));
        assert_eq!(
            actor.audit_name(),
            format!("{user} via operator portal link operator:{key}")
        );
    }
}

#[cfg(test)]
mod external_subject_laws {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever an embedder passes, a parsed subject is 1-64 printable ASCII characters
        /// without spaces, reads back as given, and its audit name cannot hold a line break or
        /// pass for another credential's name.
        #[test]
        fn a_parsed_subject_is_what_was_given_and_nothing_else(raw in "\\PC{0,80}") {
            match ExternalSubject::parse(&raw) {
                Ok(subject) => {
                    prop_assert_eq!(subject.as_str(), raw.as_str());
                    prop_assert!((1..=ExternalSubject::MAX_LEN).contains(&raw.len()));
                    prop_assert!(raw.bytes().all(|b| b.is_ascii_graphic()));
                    let shown = Credential::External(subject).to_string();
                    prop_assert!(shown.starts_with("external:"));
                    prop_assert!(!shown.contains(['\n', '\r', ' ']));
                }
                Err(_) => prop_assert!(
                    raw.is_empty()
                        || raw.len() > ExternalSubject::MAX_LEN
                        || !raw.bytes().all(|b| b.is_ascii_graphic())
                ),
            }
        }
    }
}
