//! Portal link redemption through the real service and store, on both backends: single use
//! under concurrency, distinct refusals for unknown, used and expired links, and the session it
//! opens (capped, never re-authenticated).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{Actor, Credential, FixedClock, OsRandom, Role};
use tenantry_security::{
    MfaService, Minter, PortalConfig, PortalDeps, PortalIntent, PortalLinkService,
    PortalMinterDeps, PortalMinters, PortalTarget, ReturnOrigins, ReturnUrl, SecretBox,
    SecurityError, SessionService,
};
use tenantry_store::Store;

use crate::support::{create_account, owner, policy_at, settings_at, stores, t0};

/// The check of links' minters, as the binary wires it.
fn minters_at(store: &Store, at: DateTime<Utc>) -> Arc<PortalMinters> {
    Arc::new(PortalMinters::new(PortalMinterDeps {
        links: Arc::new(store.clone()),
        credentials: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        policy: policy_at(store, at),
        clock: Arc::new(FixedClock(at)),
        random: Arc::new(OsRandom),
    }))
}

fn portal_at(store: &Store, at: DateTime<Utc>) -> PortalLinkService {
    let clock = Arc::new(FixedClock(at));
    let policy = policy_at(store, at);
    PortalLinkService::new(
        PortalDeps {
            store: Arc::new(store.clone()),
            policy: policy.clone(),
            origins: policy,
            mfa: Arc::new(MfaService::new(
                Arc::new(store.clone()),
                SecretBox::new(&[7u8; 32]),
                clock.clone(),
                Arc::new(OsRandom),
            )),
            minters: minters_at(store, at),
            clock,
            random: Arc::new(OsRandom),
        },
        PortalConfig {
            public_url: "https://tenantry.example.test".into(),
            return_origins: ReturnOrigins::parse_list("https://app.example.test").expect("list"),
            lifetime: Duration::minutes(5),
        },
    )
}

fn sessions_at(store: &Store, at: DateTime<Utc>) -> SessionService {
    let clock = Arc::new(FixedClock(at));
    SessionService::new(
        Arc::new(store.clone()),
        policy_at(store, at),
        Arc::new(MfaService::new(
            Arc::new(store.clone()),
            SecretBox::new(&[7u8; 32]),
            clock.clone(),
            Arc::new(OsRandom),
        )),
        clock,
        Arc::new(OsRandom),
    )
    .with_portal_minters(minters_at(store, at))
}

fn token(url: &str) -> String {
    url.rsplit('/').next().expect("token").to_owned()
}

#[test]
fn a_link_is_redeemed_once_and_opens_a_capped_session() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "portal", t0());
        // The owner's key, scoped to the team, mints a link for the owner themself.
        let scoped = Actor {
            scopes: vec!["team:write".into()],
            ..owner(&account)
        };
        let back = ReturnUrl::parse("https://app.example.test/back").expect("url");
        let mint = |at: DateTime<Utc>| {
            portal_at(store, at)
                .mint(
                    account.account_id,
                    Minter::Member(&scoped),
                    &PortalTarget::User(account.owner_id),
                    PortalIntent::Team,
                    &back,
                )
                .expect("minted")
        };
        let link = mint(t0());
        assert_eq!(link.expires_at, t0() + Duration::minutes(5));

        // Redeemed once: a session of the member, with the link's ceiling.
        let at = t0() + Duration::minutes(1);
        let redeemed = portal_at(store, at)
            .redeem(&token(&link.url), Some([192, 0, 2, 7].into()))
            .expect("redeemed");
        assert_eq!(redeemed.intent, PortalIntent::Team);
        assert_eq!(redeemed.return_url, "https://app.example.test/back");
        let actor = sessions_at(store, at)
            .authenticate(&redeemed.session.token, None)
            .expect("a live session");
        assert_eq!(actor.user_id, account.owner_id);
        assert_eq!(actor.role, Role::Owner);
        assert_eq!(actor.scopes, vec!["team:write".to_owned()]);
        assert!(matches!(actor.credential, Credential::Session(_)));
        assert!(
            actor.needs_reauth(true, at),
            "never recently re-authenticated"
        );

        // Used, then: a distinct refusal, and so for unknown and expired links.
        assert_eq!(
            portal_at(store, at).redeem(&token(&link.url), None).err(),
            Some(SecurityError::PortalLinkUsed)
        );
        assert_eq!(
            portal_at(store, at)
                .redeem("tnt_ptl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None)
                .err(),
            Some(SecurityError::PortalLinkUnknown)
        );
        assert_eq!(
            portal_at(store, at).redeem("not a token", None).err(),
            Some(SecurityError::PortalLinkUnknown)
        );
        let late = mint(t0());
        assert_eq!(
            portal_at(store, t0() + Duration::minutes(5))
                .redeem(&token(&late.url), None)
                .err(),
            Some(SecurityError::PortalLinkExpired),
            "not at the instant of expiry"
        );
        let just_in_time = mint(t0());
        assert!(
            portal_at(store, t0() + Duration::minutes(5) - Duration::seconds(1))
                .redeem(&token(&just_in_time.url), None)
                .is_ok()
        );
    }
}

#[test]
fn of_concurrent_redemptions_exactly_one_wins() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "racing", t0());
        let owner = owner(&account);
        let back = ReturnUrl::parse("https://app.example.test/").expect("url");
        for round in 0..5 {
            let link = portal_at(store, t0())
                .mint(
                    account.account_id,
                    Minter::Operator(tenantry_kernel::OperatorCaller::CLI),
                    &PortalTarget::User(owner.user_id),
                    PortalIntent::Settings,
                    &back,
                )
                .expect("minted");
            let token = token(&link.url);
            let at = t0() + Duration::seconds(10);
            let outcomes: Vec<Result<String, SecurityError>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        let token = token.clone();
                        s.spawn(move || {
                            portal_at(store, at)
                                .redeem(&token, None)
                                .map(|r| r.session.token)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("no panic"))
                    .collect()
            });
            let winners: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
            assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
            for o in &outcomes {
                if let Err(e) = o {
                    assert_eq!(e, &SecurityError::PortalLinkUsed, "round {round}");
                }
            }
            // The winner's session works; the operator's link carries the owner's own role.
            let actor = sessions_at(store, at)
                .authenticate(winners[0], None)
                .expect("live");
            assert_eq!(actor.role, Role::Owner);
            assert!(actor.scopes.is_empty());
        }
    }
}

#[test]
fn a_link_never_enrols_a_second_factor() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "guarded", t0());
        let owner = owner(&account);
        let back = ReturnUrl::parse("https://app.example.test/").expect("url");
        let mint = || {
            portal_at(store, t0())
                .mint(
                    account.account_id,
                    Minter::Operator(tenantry_kernel::OperatorCaller::CLI),
                    &PortalTarget::User(owner.user_id),
                    PortalIntent::Security,
                    &back,
                )
                .expect("minted")
        };
        let early = mint();
        let late = mint();
        let at = t0() + Duration::minutes(1);
        let session = portal_at(store, at)
            .redeem(&token(&early.url), None)
            .expect("no MFA required yet")
            .session
            .token;
        assert!(sessions_at(store, at).authenticate(&session, None).is_ok());

        // The account starts requiring MFA; the member has not enrolled.
        settings_at(store, at)
            .update_section(
                &owner,
                tenantry_settings::Section::Security,
                &serde_json::json!({"two_factor": {"enabled": true}}),
                None,
            )
            .expect("require MFA");
        // The live portal session ends instead of becoming an enrolment session (a sign-in's
        // session would be restricted to enrolling), and a new link opens none.
        assert_eq!(
            sessions_at(store, at).authenticate(&session, None).err(),
            Some(SecurityError::Unauthenticated)
        );
        assert_eq!(
            portal_at(store, at).redeem(&token(&late.url), None).err(),
            Some(SecurityError::MfaEnrollmentRequired)
        );
        // The refusal is audited with its reason.
        let log = tenantry_security::AuditService::new(Arc::new(store.clone()))
            .list(
                &owner,
                &tenantry_security::AuditFilter {
                    action: Some("portal_link.redemption_failed".into()),
                    ..Default::default()
                },
                &tenantry_kernel::PageRequest::default(),
            )
            .expect("audit");
        assert_eq!(log.items.len(), 1);
        assert_eq!(
            log.items[0].details.as_ref().map(|d| d["reason"].clone()),
            Some(serde_json::json!("mfa_not_enrolled"))
        );
    }
}

/// Links that are done are purged: expired and without a live session opened through them.
/// A link whose session lives stays (the session came from it), an unexpired one stays (it may
/// still be used), and a purged link reads as unknown.
#[test]
fn done_links_are_purged_and_only_those() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "purging", t0());
        let owner = owner(&account);
        let back = ReturnUrl::parse("https://app.example.test/").expect("url");
        let mint = |at: DateTime<Utc>| {
            portal_at(store, at)
                .mint(
                    account.account_id,
                    Minter::Operator(tenantry_kernel::OperatorCaller::CLI),
                    &PortalTarget::User(owner.user_id),
                    PortalIntent::Settings,
                    &back,
                )
                .expect("minted")
        };
        let used = mint(t0());
        let unused = mint(t0());
        let fresh = mint(t0() + Duration::minutes(4));
        let at = t0() + Duration::minutes(1);
        let session = portal_at(store, at)
            .redeem(&token(&used.url), None)
            .expect("redeemed")
            .session;

        let later = t0() + Duration::minutes(6);
        assert_eq!(portal_at(store, later).purge_done().expect("purge"), 1);
        assert_eq!(
            portal_at(store, later)
                .redeem(&token(&unused.url), None)
                .err(),
            Some(SecurityError::PortalLinkUnknown),
            "the expired, unused link is gone"
        );
        assert_eq!(
            portal_at(store, later)
                .redeem(&token(&used.url), None)
                .err(),
            Some(SecurityError::PortalLinkUsed),
            "the link of a live session stays"
        );

        // Its session ends: the link is done too.
        let sessions = sessions_at(store, later);
        let actor = sessions
            .authenticate(&session.token, None)
            .expect("a live session");
        sessions.revoke(&actor, session.id).expect("revoked");
        assert_eq!(portal_at(store, later).purge_done().expect("purge"), 1);
        assert_eq!(
            portal_at(store, later)
                .redeem(&token(&used.url), None)
                .err(),
            Some(SecurityError::PortalLinkUnknown)
        );
        // The unexpired link was kept and still works.
        assert!(portal_at(store, later)
            .redeem(&token(&fresh.url), None)
            .is_ok());
        assert_eq!(portal_at(store, later).purge_done().expect("purge"), 0);
    }
}
