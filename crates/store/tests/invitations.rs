//! Invitation expiry, resend and cancel with the clock moved, through the real team service and
//! store on both backends; and the outbox rows each step leaves for the delivery worker.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{Email, FixedClock, OsRandom, Role};
use tenantry_notifications::OutboxStore;
use tenantry_security::SecretBox;
use tenantry_store::Store;
use tenantry_team::{
    AcceptInput, InvitationLifetime, InvitationState, InviteLinks, InviteRequest, TeamDeps,
    TeamError, TeamService,
};

use crate::support::{create_account, owner, settings_at, stores, t0};

const PASSWORD: &str = "a long and unusual passphrase";

fn team_at(store: &Store, at: DateTime<Utc>) -> TeamService {
    let clock = Arc::new(FixedClock(at));
    TeamService::new(
        Arc::new(store.clone()),
        TeamDeps {
            // The binary's own bridge: the settings' limits, the enforced allowlist and the
            // sessions' sign-in throttle.
            policy: Arc::new(tenantry_services::TeamPolicyOfSettings {
                settings: settings_at(store, at),
                allowlist: crate::support::allowlist_at(store, at),
                sessions: Arc::new(crate::support::sessions_at(store, at)),
                mfa: crate::support::mfa_at(store, at),
            }),
            secrets: SecretBox::new(&[7u8; 32]),
            links: InviteLinks::new("https://console.example.test"),
            clock,
            random: Arc::new(OsRandom),
        },
    )
}

fn request(email: &str, lifetime: InvitationLifetime) -> InviteRequest {
    InviteRequest {
        email: Email::parse(email).expect("email"),
        role: Role::Developer,
        department: None,
        title: None,
        message: None,
        permissions: None,
        lifetime,
    }
}

/// The token of the newest invitation email to `to`: read the way the delivery worker reads it
/// (claimed, unsealed), then released, so the outbox is as the test left it. The service's own
/// answer (`inviteUrl`) never holds it.
fn mailed_token(store: &Store, to: &str) -> String {
    let far = t0() + Duration::days(3650);
    let claimed = store
        .claim_due(far, far + Duration::minutes(1), 500, "test")
        .expect("claim");
    store.release_claims(None).expect("release");
    let secrets = SecretBox::new(&[7u8; 32]);
    let mail = claimed
        .iter()
        .filter(|m| m.kind == "email")
        .filter_map(|m| {
            let json = secrets
                .open(&tenantry_security::Sealed::from_stored(m.payload.clone()))
                .ok()?;
            serde_json::from_str::<tenantry_notifications::Mail>(&json).ok()
        })
        .rfind(|mail| mail.to == to)
        .expect("an invitation email");
    let start = mail.text.find("tnt_inv_").expect("token in the email");
    mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn input() -> AcceptInput {
    AcceptInput {
        name: Some("Joiner".into()),
        password: Some(PASSWORD.into()),
        signed_in_as: None,
        ip: None,
    }
}

#[test]
fn invitations_expire_renew_and_cancel_on_the_clock() {
    for db in stores() {
        let store = &db.store;
        let account = create_account(store, "inviting", t0());
        let owner = owner(&account);

        // A one-day invitation: acceptable until the last second, not at the instant of expiry.
        let sent = team_at(store, t0())
            .invite(
                &owner,
                request("late@inviting.test", InvitationLifetime::OneDay),
            )
            .expect("invite");
        assert!(!sent.invite_url.contains("tnt_inv_"), "{}", sent.invite_url);
        let old = mailed_token(store, "late@inviting.test");
        let expiry = t0() + Duration::days(1);
        let preview = team_at(store, expiry - Duration::seconds(1))
            .preview(&old)
            .expect("preview");
        assert_eq!(preview.state, InvitationState::Pending);
        assert_eq!(preview.account_name, "inviting");
        let refused = team_at(store, expiry).accept(&old, input());
        assert!(
            matches!(
                refused,
                Err(TeamError::InvitationClosed(InvitationState::Expired))
            ),
            "{:?}",
            refused.err()
        );
        let listed = team_at(store, expiry)
            .list(&owner, &Default::default(), &Default::default())
            .expect("list");
        assert_eq!(listed.invitations.len(), 1);
        assert_eq!(listed.invitations[0].public_status(expiry), "expired");

        // Resending renews it for the same span from now, and kills the old link.
        let later = expiry + Duration::hours(5);
        let resent = team_at(store, later)
            .resend(&owner, sent.invitation.id)
            .expect("resend");
        assert_eq!(resent.invitation.expires_at, later + Duration::days(1));
        assert_eq!(resent.invitation.resent_at, Some(later));
        assert!(matches!(
            team_at(store, later).accept(&old, input()),
            Err(TeamError::InvitationNotFound)
        ));
        let accepted = team_at(store, later + Duration::hours(23))
            .accept(&mailed_token(store, "late@inviting.test"), input())
            .expect("accepted before the renewed expiry");
        assert_eq!(accepted.member.role, Role::Developer);
        assert_eq!(accepted.member.joined_at, later + Duration::hours(23));

        // A cancelled invitation cannot be accepted, resent or cancelled again.
        let other = team_at(store, later)
            .invite(
                &owner,
                request("never@inviting.test", InvitationLifetime::SevenDays),
            )
            .expect("invite");
        team_at(store, later)
            .cancel(&owner, other.invitation.id)
            .expect("cancel");
        for result in [
            team_at(store, later)
                .accept(&mailed_token(store, "never@inviting.test"), input())
                .map(|_| ()),
            team_at(store, later)
                .resend(&owner, other.invitation.id)
                .map(|_| ()),
            team_at(store, later)
                .cancel(&owner, other.invitation.id)
                .map(|_| ()),
        ] {
            assert!(
                matches!(
                    result,
                    Err(TeamError::InvitationClosed(InvitationState::Cancelled))
                ),
                "{result:?}"
            );
        }

        // Each email went into the outbox with its change (invite, resend, second invite),
        // beside the events the audited changes emit (invited twice; the acceptance's `joined`
        // event is due only at its own, later time).
        let due = store
            .claim_due(
                later + Duration::minutes(1),
                later + Duration::minutes(2),
                50,
                "test",
            )
            .expect("claim");
        let kinds = |kind: &str| due.iter().filter(|m| m.kind == kind).count();
        assert_eq!((kinds("email"), kinds("event")), (3, 2), "{due:?}");
        assert!(due.iter().all(|m| m.attempts == 0));
        let again = store
            .claim_due(
                later + Duration::minutes(1),
                later + Duration::minutes(2),
                50,
                "test",
            )
            .expect("claim");
        assert!(again.is_empty(), "leased messages are not handed out twice");
        let after_lease = store
            .claim_due(
                later + Duration::minutes(3),
                later + Duration::minutes(4),
                50,
                "test",
            )
            .expect("claim");
        assert_eq!(
            after_lease.len(),
            5,
            "an expired lease makes them due again"
        );
    }
}
