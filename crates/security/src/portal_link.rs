//! Portal links: a single-use link that signs one member into the console on one page, minted
//! for a platform that embeds Tenantry ("Manage your team" in its own product). The values a
//! link is made of, each parsed once, and the one rule of what a link may carry (decision 0030).
//!
//! The rule, in one sentence: a link's session is never stronger than the member it signs in
//! nor the credential that minted it. Its ceiling ([`SessionCap`]) is the lower of both roles
//! plus the minting credential's scopes, and a member credential may not mint a link for anyone
//! whose power it does not hold itself (a higher role, or custom permissions it lacks); only the
//! operator may.

use std::fmt;
use std::net::IpAddr;

use tenantry_kernel::{effective_permissions, Actor, Permission, Role};

use crate::scope::Scope;
use crate::SecurityError;

/// The console page a link lands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortalIntent {
    /// The team page.
    Team,
    /// The account settings page.
    Settings,
    /// The security settings page.
    Security,
    /// The audit log page.
    Audit,
    /// The member's API keys page.
    ApiKeys,
}

impl PortalIntent {
    /// Every page a link may land on.
    pub const ALL: [PortalIntent; 5] = [
        PortalIntent::Team,
        PortalIntent::Settings,
        PortalIntent::Security,
        PortalIntent::Audit,
        PortalIntent::ApiKeys,
    ];

    /// The name the APIs use (`api-keys`, not `api_keys`).
    pub fn as_str(self) -> &'static str {
        match self {
            PortalIntent::Team => "team",
            PortalIntent::Settings => "settings",
            PortalIntent::Security => "security",
            PortalIntent::Audit => "audit",
            PortalIntent::ApiKeys => "api-keys",
        }
    }

    /// The page a public name stands for; `None` for any other name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

impl fmt::Display for PortalIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the console's "back to …" link points: an absolute `https` URL, or `http` on a loopback
/// host (local development), without credentials, at most 2,048 characters. Whether its origin
/// is allowed is a separate question ([`ReturnOrigins`] and the account's own list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl {
    url: String,
    origin: String,
}

/// Whether `host` (as `url` prints it) is a loopback host.
fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl ReturnUrl {
    /// The longest return URL accepted, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// Accepts an absolute `https` URL (or `http` on a loopback host) without credentials, at
    /// most `MAX_LEN` long; the error says which rule it breaks.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let url = url::Url::parse(s).map_err(|e| format!("must be an absolute URL ({e})"))?;
        let host = url.host().ok_or("must have a host")?;
        // A host name is dot-separated labels of letters, digits and hyphens (international
        // names arrive as `xn--`): `*` or `_` would be kept literally and match nothing, so a
        // pattern someone meant as a wildcard is refused rather than silently useless.
        if let url::Host::Domain(name) = &host {
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            };
            if !name.trim_end_matches('.').split('.').all(label_ok) {
                return Err(format!(
                    "must name a host (letters, digits, hyphens and dots; no wildcard), not `{name}`"
                ));
            }
        }
        match url.scheme() {
            "https" => {}
            "http" if loopback(&host) => {}
            "http" => return Err("must use https (http only on a loopback host)".into()),
            _ => return Err("must be an https URL".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        Ok(Self {
            origin: url.origin().ascii_serialization(),
            url: url.to_string(),
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The host (and port, when not the scheme's default) of the origin: what "Back to …"
    /// names.
    pub fn host(&self) -> &str {
        self.origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, host)| host)
    }
}

/// A list of allowed return origins: `TENANTRY_PORTAL_RETURN_ORIGINS` (comma-separated) for the
/// operator's. Each entry must be an origin and nothing more (no path, query or fragment), with
/// the scheme rule of [`ReturnUrl`]; entries are kept in their canonical form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnOrigins(Vec<String>);

impl ReturnOrigins {
    /// Parses one origin (`https://app.example.com`, `http://localhost:3000`).
    pub fn parse_origin(s: &str) -> Result<String, String> {
        let trimmed = s.trim();
        let parsed = ReturnUrl::parse(trimmed).map_err(|e| format!("`{trimmed}` {e}"))?;
        let bare = parsed.as_str().trim_end_matches('/');
        if bare != parsed.origin() {
            return Err(format!(
                "`{trimmed}` is not an origin (scheme://host[:port], nothing after it)"
            ));
        }
        Ok(parsed.origin().to_owned())
    }

    /// A comma-separated list; empty entries (a trailing comma) are ignored.
    pub fn parse_list(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for entry in s.split(',').filter(|e| !e.trim().is_empty()) {
            let origin = Self::parse_origin(entry)?;
            if !out.contains(&origin) {
                out.push(origin);
            }
        }
        Ok(Self(out))
    }

    /// Whether `url`'s origin is on the list.
    pub fn admits(&self, url: &ReturnUrl) -> bool {
        self.0.iter().any(|o| o == url.origin())
    }

    /// The origins, in their canonical form.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// The ceiling a session opened through a portal link carries for its whole life: every request
/// is authorized as the member at `min(current role, role)`, within `scopes` (empty: whatever
/// the role allows). It never raises anything: a member whose role dropped keeps the lower one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCap {
    /// The highest role the session acts with (the lower of the member's and the minter's).
    pub role: Role,
    /// Scope names (`team:write`); never `*` and never a restriction marker.
    pub scopes: Vec<String>,
}

impl SessionCap {
    /// The role a request of the session is authorized with.
    pub fn role_for(&self, member_role: Role) -> Role {
        member_role.min(self.role)
    }
}

/// The member a link is for, as the rule needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalMember {
    /// The member's user.
    pub user_id: tenantry_kernel::UserId,
    /// Their role now.
    pub role: Role,
    /// Their status; only an active member can be signed in by a link.
    pub status: crate::MemberStatus,
    /// Their custom permissions; `None` means the role's defaults.
    pub permissions: Option<Vec<Permission>>,
}

/// Who mints a link: the operator (any member of any account, with the member's own power), or
/// a member's credential (the link never exceeds it).
#[derive(Debug, Clone, Copy)]
pub enum Minter<'a> {
    /// Which operator credential, from where (for the audit).
    Operator(tenantry_kernel::OperatorCaller),
    /// A member's credential (API key or session): the link is capped by that credential's member
    /// role and scopes.
    Member(&'a Actor),
}

/// The scopes of a credential that narrow anything: without `*`, without restriction markers.
fn narrowing_scopes(scopes: &[String]) -> Vec<String> {
    if scopes.iter().any(|s| s == "*") {
        return Vec::new();
    }
    scopes
        .iter()
        .filter(|s| Scope::parse(s).is_ok())
        .cloned()
        .collect()
}

/// The ceiling of a link `minter` asks for `target`, or why it may not mint one.
///
/// - The operator: the member's own role, no scopes.
/// - A member credential: refused when the target's role is above the credential's, or when the
///   target's effective permissions include one the credential's member lacks (a link would
///   hand over that power); a restricted session (`restricted:…`) mints nothing. Otherwise the
///   lower of both roles and the credential's scopes.
///
/// ```
/// # use tenantry_kernel::*;
/// # use tenantry_security::*;
/// # let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).unwrap());
/// let admin_key = Actor {
///     account_id: AccountId::generate(&clock, &OsRandom),
///     user_id: UserId::generate(&clock, &OsRandom),
///     role: Role::Admin,
///     credential: Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom)),
///     ip: None,
///     scopes: vec!["team:write".into()],
///     authenticated_at: None,
///     permissions: None,
///     operator_link: None,
/// };
/// let developer = PortalMember {
///     user_id: UserId::generate(&clock, &OsRandom),
///     role: Role::Developer,
///     status: MemberStatus::Active,
///     permissions: None,
/// };
/// let cap = portal_cap(Minter::Member(&admin_key), &developer).unwrap();
/// assert_eq!(cap.role, Role::Developer);
/// assert_eq!(cap.scopes, vec!["team:write".to_owned()]);
/// let owner = PortalMember { role: Role::Owner, ..developer };
/// assert!(portal_cap(Minter::Member(&admin_key), &owner).is_err());
/// assert!(portal_cap(Minter::Operator(tenantry_kernel::OperatorCaller::CLI), &owner).is_ok());
/// ```
pub fn portal_cap(minter: Minter<'_>, target: &PortalMember) -> Result<SessionCap, SecurityError> {
    let actor = match minter {
        Minter::Operator(_) => {
            return Ok(SessionCap {
                role: target.role,
                scopes: Vec::new(),
            })
        }
        Minter::Member(actor) => actor,
    };
    if actor.scopes.iter().any(|s| s.starts_with("restricted:")) {
        return Err(SecurityError::Unauthenticated);
    }
    if target.role > actor.role {
        return Err(SecurityError::PortalTargetAboveMinter {
            target: target.role,
            minter: actor.role,
        });
    }
    let held = effective_permissions(actor.role, actor.permissions.as_deref());
    let wanted = effective_permissions(target.role, target.permissions.as_deref());
    let lacking: Vec<String> = wanted
        .iter()
        .filter(|p| !held.contains(p))
        .map(|p| p.as_str().to_owned())
        .collect();
    if !lacking.is_empty() {
        return Err(SecurityError::PortalTargetPermissions { lacking });
    }
    Ok(SessionCap {
        role: target.role.min(actor.role),
        scopes: narrowing_scopes(&actor.scopes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{scopes_permit, Access, Area};
    use proptest::prelude::*;
    use tenantry_kernel::{AccountId, ApiKeyId, Credential, FixedClock, OsRandom, UserId};

    #[test]
    fn return_urls_are_https_or_loopback_http() {
        let ok = ReturnUrl::parse("https://app.example.com/settings?tab=1").unwrap();
        assert_eq!(ok.origin(), "https://app.example.com");
        let port = ReturnUrl::parse("https://app.example.com:8443/x").unwrap();
        assert_eq!(port.origin(), "https://app.example.com:8443");
        for local in [
            "http://localhost:3000/back",
            "http://127.0.0.1/",
            "http://[::1]:8080/",
        ] {
            assert!(ReturnUrl::parse(local).is_ok(), "{local}");
        }
        for bad in [
            "http://app.example.com/",
            "javascript:alert(1)",
            "//app.example.com/x",
            "/relative",
            "https://user:pw@app.example.com/",
            "ftp://app.example.com/",
            "data:text/html,hi",
            "",
            "https://*.example.com/",
            "https://app_1.example.com/",
            "https://-app.example.com/",
        ] {
            assert!(ReturnUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(ReturnUrl::parse("https://xn--bcher-kva.example/").is_ok());
        assert!(
            ReturnUrl::parse("https://bücher.example/").is_ok(),
            "an international name"
        );
        let long = format!("https://a.example/{}", "x".repeat(2048));
        assert!(ReturnUrl::parse(&long).is_err());
    }

    #[test]
    fn origins_are_exact_and_canonical() {
        let list =
            ReturnOrigins::parse_list(" https://App.Example.com, http://localhost:3000,").unwrap();
        assert_eq!(
            list.as_slice(),
            ["https://app.example.com", "http://localhost:3000"]
        );
        let admits = |u: &str| list.admits(&ReturnUrl::parse(u).unwrap());
        assert!(admits("https://app.example.com/anything?x=1"));
        assert!(admits("https://app.example.com:443/"));
        assert!(!admits("https://app.example.com.evil.test/"));
        assert!(!admits("https://evil.test/?https://app.example.com"));
        assert!(!admits("https://app.example.com:444/"));
        assert!(!admits("http://localhost:3001/"));
        for bad in [
            "https://app.example.com/path",
            "http://app.example.com",
            "app.example.com",
            "https://app.example.com/?q",
        ] {
            assert!(ReturnOrigins::parse_list(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ReturnOrigins::parse_list("").unwrap(),
            ReturnOrigins::default()
        );
    }

    #[test]
    fn intents_round_trip_through_their_names() {
        for i in PortalIntent::ALL {
            assert_eq!(PortalIntent::parse(i.as_str()), Some(i));
        }
        assert_eq!(PortalIntent::parse("api_keys"), None);
        assert_eq!(PortalIntent::parse("billing"), None);
    }

    fn actor(role: Role, scopes: Vec<String>, permissions: Option<Vec<Permission>>) -> Actor {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        Actor {
            account_id: AccountId::generate(&clock, &OsRandom),
            user_id: UserId::generate(&clock, &OsRandom),
            role,
            credential: Credential::ApiKey(ApiKeyId::generate(&clock, &OsRandom)),
            ip: None,
            scopes,
            authenticated_at: None,
            permissions,
            operator_link: None,
        }
    }

    fn member(role: Role, permissions: Option<Vec<Permission>>) -> PortalMember {
        let clock = FixedClock(chrono::DateTime::from_timestamp(0, 0).expect("epoch"));
        PortalMember {
            user_id: UserId::generate(&clock, &OsRandom),
            role,
            status: crate::MemberStatus::Active,
            permissions,
        }
    }

    #[test]
    fn a_restricted_session_mints_nothing() {
        let restricted = actor(Role::Owner, vec!["restricted:mfa_enrollment".into()], None);
        assert!(portal_cap(Minter::Member(&restricted), &member(Role::Viewer, None)).is_err());
    }

    #[test]
    fn an_admin_with_fewer_permissions_cannot_mint_for_a_fuller_admin() {
        let narrow = actor(
            Role::Admin,
            Vec::new(),
            Some(vec![Permission::Read, Permission::ManageTeam]),
        );
        assert_eq!(
            portal_cap(Minter::Member(&narrow), &member(Role::Admin, None)),
            Err(SecurityError::PortalTargetPermissions {
                lacking: vec!["write".into(), "execute".into()]
            })
        );
        assert!(portal_cap(Minter::Member(&narrow), &member(Role::Viewer, None)).is_ok());
    }

    fn role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    fn scopes() -> impl Strategy<Value = Vec<String>> {
        prop::sample::subsequence(Scope::all_names(), 0..4)
    }

    fn permissions() -> impl Strategy<Value = Option<Vec<Permission>>> {
        prop::option::of(prop::sample::subsequence(Permission::ALL.to_vec(), 0..5))
    }

    /// Whether holding `narrow` scopes permits nothing that `wide` does not.
    fn within(narrow: &[String], wide: &[String]) -> bool {
        Area::ALL.into_iter().all(|area| {
            [Access::Read, Access::Write].into_iter().all(|access| {
                !scopes_permit(narrow, area, access) || scopes_permit(wide, area, access)
            })
        })
    }

    proptest! {
        // Fixed budget, no persistence file: proptest prints the failing input and its seed.
        #![proptest_config(ProptestConfig {
            cases: 1024,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// For every requester role, scopes and permissions and every target: a link is refused
        /// exactly when the target ranks above the requester or holds a permission it lacks;
        /// otherwise its ceiling is at most both roles and its scopes permit nothing the
        /// requester's do not. The operator is never refused and gets the member's own role.
        #[test]
        fn a_link_never_exceeds_its_minter_nor_its_member(
            minter_role in role(),
            minter_scopes in scopes(),
            minter_permissions in permissions(),
            target_role in role(),
            target_permissions in permissions(),
        ) {
            let requester = actor(minter_role, minter_scopes.clone(), minter_permissions.clone());
            let target = member(target_role, target_permissions.clone());
            let held = effective_permissions(minter_role, minter_permissions.as_deref());
            let wanted = effective_permissions(target_role, target_permissions.as_deref());
            let refused = target_role > minter_role || wanted.iter().any(|p| !held.contains(p));
            match portal_cap(Minter::Member(&requester), &target) {
                Ok(cap) => {
                    prop_assert!(!refused, "minted where the rule refuses");
                    prop_assert!(cap.role <= minter_role && cap.role <= target_role);
                    prop_assert!(within(&cap.scopes, &minter_scopes), "{:?} wider than {:?}", cap.scopes, minter_scopes);
                    prop_assert!(!cap.scopes.iter().any(|s| s == "*"));
                    // Whatever the member's role becomes, the session is never above the cap.
                    for later in Role::ALL {
                        prop_assert!(cap.role_for(later) <= later && cap.role_for(later) <= cap.role);
                    }
                }
                Err(_) => prop_assert!(refused, "refused where the rule mints"),
            }
            let by_operator = portal_cap(Minter::Operator(tenantry_kernel::OperatorCaller::CLI), &target).expect("the operator mints");
            prop_assert_eq!(by_operator.role, target_role);
            prop_assert!(by_operator.scopes.is_empty());
        }
    }
}
