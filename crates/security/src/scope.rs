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
    /// Billing settings, usage and cost alerts.
    Billing,
    /// The audit log (read only).
    Audit,
    /// The caller's own API keys.
    Keys,
    /// Team members, invitations and activity (the team API).
    Team,
}

/// What a scope allows in its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reading.
    Read,
    /// Reading and writing.
    Write,
}

/// One scope: `area:read` or `area:write` (write implies read), or `*` for everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Everything the key's owner's role allows (`*`).
    All,
    /// One area, read or read and write.
    Grant(Area, Access),
}

impl Area {
    /// Every area, in documentation order.
    pub const ALL: [Area; 6] = [
        Area::Settings,
        Area::Security,
        Area::Billing,
        Area::Audit,
        Area::Keys,
        Area::Team,
    ];

    /// The area's name in a scope (`settings`, `team`, ...).
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

    /// Parses `*`, `area:read` or `area:write`; the error names the scope that is not one.
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

/// The marker a restricted session carries as its only "scope" (`restricted:<task>`).
const RESTRICTION_PREFIX: &str = "restricted:";

/// Whether a credential holding `holder` may create, regenerate or delete a credential with
/// `requested` (empty = `*`): a credential never produces one stronger than itself.
///
/// - An unrestricted holder (no scopes, or `*`) covers any request; its role still bounds what
///   it may ask for (the key service checks that separately).
/// - A restricted holder covers a request only if the request is restricted too (non-empty,
///   without `*`) and every requested grant is permitted by the holder's scopes (write implies
///   read in the same area, as in [`scopes_permit`]).
/// - A restricted session (`restricted:<task>`) covers nothing.
pub fn covers(holder: &[String], requested: &[Scope]) -> bool {
    exceeding(holder, requested).is_empty()
}

/// The requested scopes `holder` does not cover (see [`covers`]), by public name, in request
/// order; `["*"]` for a request without scopes. Empty exactly when [`covers`] holds.
pub fn exceeding(holder: &[String], requested: &[Scope]) -> Vec<String> {
    let restricted_session = holder.iter().any(|s| s.starts_with(RESTRICTION_PREFIX));
    let unrestricted = holder.is_empty() || holder.iter().any(|s| s == "*");
    if unrestricted && !restricted_session {
        return Vec::new();
    }
    if requested.is_empty() {
        return vec![Scope::All.to_string()];
    }
    let mut out: Vec<String> = Vec::new();
    for scope in requested {
        let covered = !restricted_session
            && match *scope {
                Scope::All => false,
                Scope::Grant(area, access) => scopes_permit(holder, area, access),
            };
        let name = scope.to_string();
        if !covered && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn parsed(v: &[&str]) -> Vec<Scope> {
        v.iter().map(|s| Scope::parse(s).unwrap()).collect()
    }

    #[test]
    fn an_unrestricted_holder_covers_everything() {
        for holder in [names(&[]), names(&["*"])] {
            assert!(covers(&holder, &[]));
            assert!(covers(&holder, &parsed(&["*"])));
            assert!(covers(&holder, &parsed(&["security:write", "audit:read"])));
        }
    }

    #[test]
    fn a_restricted_holder_covers_only_what_its_scopes_permit() {
        let holder = names(&["keys:write", "settings:read"]);
        assert!(!covers(&holder, &[]), "no scopes means *");
        assert_eq!(exceeding(&holder, &[]), ["*"]);
        assert_eq!(exceeding(&holder, &parsed(&["*"])), ["*"]);
        assert!(covers(&holder, &parsed(&["settings:read"])));
        assert!(covers(&holder, &parsed(&["keys:read", "keys:write"])));
        assert_eq!(
            exceeding(
                &holder,
                &parsed(&["settings:read", "security:write", "settings:write"])
            ),
            ["security:write", "settings:write"]
        );
        assert!(!covers(&names(&["keys:read"]), &parsed(&["keys:write"])));
    }

    #[test]
    fn a_restricted_session_covers_nothing() {
        let holder = names(&["restricted:password_change"]);
        assert!(!covers(&holder, &[]));
        assert!(!covers(&holder, &parsed(&["settings:read"])));
        let odd = names(&["*", "restricted:mfa_enrollment"]);
        assert!(!covers(&odd, &parsed(&["settings:read"])));
    }

    fn holder_strategy() -> impl Strategy<Value = Vec<String>> {
        let mut pool = Scope::all_names();
        pool.push("restricted:password_change".into());
        pool.push("not-a-scope".into());
        prop::collection::vec(prop::sample::select(pool), 0..5)
    }

    fn requested_strategy() -> impl Strategy<Value = Vec<Scope>> {
        let pool: Vec<Scope> = Scope::all_names()
            .iter()
            .map(|n| Scope::parse(n).unwrap())
            .collect();
        prop::collection::vec(prop::sample::select(pool), 0..5)
    }

    /// Everything a set of requested scopes permits (empty = `*`).
    fn request_permits(requested: &[Scope], area: Area, access: Access) -> bool {
        requested.is_empty() || requested.iter().any(|s| s.permits(area, access))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Soundness: a credential never produces one stronger than itself.
        #[test]
        fn covers_never_grants_more_than_the_holder_has(
            holder in holder_strategy(),
            requested in requested_strategy(),
        ) {
            if covers(&holder, &requested) {
                for area in Area::ALL {
                    for access in [Access::Read, Access::Write] {
                        prop_assert!(
                            !request_permits(&requested, area, access)
                                || scopes_permit(&holder, area, access),
                            "{holder:?} covered {requested:?}, which permits {area:?} {access:?}"
                        );
                    }
                }
            }
        }

        /// Completeness: a subset of the holder's own grants is always covered.
        #[test]
        fn covers_accepts_a_subset_of_the_holders_grants(
            holder in prop::collection::vec(prop::sample::select(Scope::all_names()), 1..5),
            pick in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        ) {
            let grants: Vec<Scope> = holder
                .iter()
                .map(|n| Scope::parse(n).unwrap())
                .filter(|s| *s != Scope::All)
                .collect();
            prop_assume!(!grants.is_empty());
            let requested: Vec<Scope> = pick.iter().map(|i| *i.get(&grants)).collect();
            prop_assert!(covers(&holder, &requested), "{holder:?} {requested:?}");
            prop_assert!(exceeding(&holder, &requested).is_empty());
        }
    }
}
