//! Inviting, resending, cancelling and accepting: the `TeamService` half that deals with
//! invitations. The rules are checked here; the store then writes each change with its email
//! (an outbox row) and audit entry in one transaction, re-checking under its lock what a
//! concurrent request could have changed (membership, open invitation, member limit).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::json;
use tenantry_kernel::{
    AccountId, Actor, ApiKeyId, DisplayName, Email, InvitationId, PortError, Role, UserId,
};
use tenantry_notifications::OutboxEntry;
use tenantry_security::{
    hash_password, verify_password, ApiKeyEnv, ApiKeyInfo, InvitationToken, IssuedApiKey,
    NewPassword, SecretHash,
};

use crate::invitation_mail::{invitation_mail, MailContext};
use crate::{
    ensure_can_grant, expiry, AcceptOutcome, Acceptance, Department, Invitation,
    InvitationLifetime, InvitationState, InvitationStatus, InviteMessage, InviteOutcome, Joiner,
    Member, NewInvitation, Permission, Reissue, TeamError, TeamService, Title,
};

/// The team API's invite request, parsed.
#[derive(Debug, Clone)]
pub struct InviteRequest {
    /// The address invited.
    pub email: Email,
    /// The role the invitee gets; never the owner role, never above the inviter's own.
    pub role: Role,
    /// The department the invitee gets.
    pub department: Option<Department>,
    /// The title the invitee gets.
    pub title: Option<Title>,
    /// A personal message for the email.
    pub message: Option<InviteMessage>,
    /// Custom permissions instead of the role's defaults; refused if they exceed the inviter's.
    pub permissions: Option<Vec<Permission>>,
    /// How long the link stays acceptable.
    pub lifetime: InvitationLifetime,
}

/// An invitation just sent (or re-sent) and its public page. The page URL names the invitation
/// by id and carries no secret: the token travels only in the email to the invitee, so whoever
/// sent the invitation cannot accept it in the invitee's name.
#[derive(Debug, Clone)]
pub struct IssuedInvitation {
    /// The invitation as stored.
    pub invitation: Invitation,
    /// Its public page, by id.
    pub invite_url: String,
}

/// What someone holding an invitation link may see before accepting.
#[derive(Debug, Clone)]
pub struct InvitationPreview {
    /// The account that invites: its page wears the account's branding.
    pub account_id: AccountId,
    /// The invitation.
    pub invitation: Invitation,
    /// The account's display name, as the page and the email show it.
    pub account_name: String,
    /// Who sent it, as the email names them: `Name <address>`, the address, or "An
    /// administrator" when they are no longer a member.
    pub inviter: String,
    /// Its state when the page was asked for.
    pub state: InvitationState,
}

/// What the person accepting sends.
///
/// Knowing the link proves only that the caller read the invitee's mail. A new identity is
/// created with `password`; an existing identity joins only when the caller proves to be it:
/// signed in as that user (`signed_in_as`, from an unrestricted session or API key) or giving
/// that user's current password. An acceptance never writes anything of an existing identity.
#[derive(Clone)]
pub struct AcceptInput {
    /// The new user's name (ignored when an existing identity joins).
    pub name: Option<String>,
    /// The new user's password, or an existing user's current password as proof of being them.
    pub password: Option<String>,
    /// The user whose credential came with the request, if any.
    pub signed_in_as: Option<UserId>,
    /// The caller's address, for the allowlist and the audit entry.
    pub ip: Option<IpAddr>,
}

/// The new member and their first API key (shown once), if they may hold one.
pub struct Accepted {
    /// The account joined.
    pub account: AccountId,
    /// The new member.
    pub member: Member,
    /// The member's first API key as listed, and its secret (shown once and never again);
    /// `None` when the account requires a second factor the member has not enrolled: they sign
    /// in, enrol, and then create keys.
    pub key: Option<(ApiKeyInfo, IssuedApiKey)>,
}

/// A uniqueness conflict at write time means a concurrent request got there first (the same
/// address invited twice at once, the same user created twice): retryable, not a server fault.
fn concurrent(e: PortError) -> TeamError {
    match e {
        PortError::Conflict(_) => TeamError::Conflict,
        other => TeamError::Port(other),
    }
}

impl TeamService {
    /// Sends an invitation: written with its email and audit entry in one transaction.
    pub fn invite(
        &self,
        actor: &Actor,
        request: InviteRequest,
    ) -> Result<IssuedInvitation, TeamError> {
        ensure_can_grant(actor.role, request.role)?;
        if let Some(given) = &request.permissions {
            crate::ensure_fits_role(request.role, given)?;
        }
        crate::ensure_within_own(actor, request.role, request.permissions.as_deref())?;
        let max_members = self.policy.max_members(actor.account_id)?;
        let now = self.clock.now();
        let token = InvitationToken::generate(self.random.as_ref());
        let invitation = Invitation {
            id: InvitationId::generate(self.clock.as_ref(), self.random.as_ref()),
            email: request.email,
            role: request.role,
            department: request.department,
            title: request.title,
            message: request.message,
            permissions: request.permissions,
            invited_by: actor.user_id,
            lifetime: request.lifetime,
            status: InvitationStatus::Sent,
            created_at: now,
            expires_at: expiry(now, request.lifetime),
            resent_at: None,
        };
        let mail = self.mail_for(actor, &invitation, token.secret(), false)?;
        let audit = self.audit(
            actor,
            "team.member_invited",
            json!({
                "invitationId": invitation.id.to_string(),
                "email": invitation.email.as_str(),
                "role": invitation.role.as_str(),
                "expiresIn": invitation.lifetime.as_str(),
            }),
        );
        let outcome = self
            .store
            .create_invitation(
                actor.account_id,
                &NewInvitation {
                    invitation: &invitation,
                    token_hash: &token.hash,
                    max_members,
                    mail: &mail,
                    audit: &audit,
                },
            )
            .map_err(concurrent)?;
        match outcome {
            InviteOutcome::Created => Ok(IssuedInvitation {
                invite_url: self.links.page(&invitation.id.to_string()),
                invitation,
            }),
            InviteOutcome::AlreadyMember { role } => Err(TeamError::MemberAlreadyExists {
                email: invitation.email.as_str().to_owned(),
                current_role: role,
            }),
            InviteOutcome::AlreadyInvited { id } => Err(TeamError::InvitationAlreadyPending {
                email: invitation.email.as_str().to_owned(),
                invitation: id,
            }),
            InviteOutcome::LimitReached => Err(TeamError::MemberLimitReached { max: max_members }),
        }
    }

    /// Issues a new token and expiry (the same `expiresIn` span from now) and sends the email
    /// again; the previous link stops working. Renews expired invitations too.
    pub fn resend(&self, actor: &Actor, id: InvitationId) -> Result<IssuedInvitation, TeamError> {
        let current = self.open_invitation(actor, id)?;
        // Resending issues the grant again: like inviting, only within what the caller holds.
        crate::ensure_within_own(actor, current.role, current.permissions.as_deref())?;
        let now = self.clock.now();
        let token = InvitationToken::generate(self.random.as_ref());
        let invitation = Invitation {
            status: InvitationStatus::Resent,
            expires_at: expiry(now, current.lifetime),
            resent_at: Some(now),
            ..current
        };
        let mail = self.mail_for(actor, &invitation, token.secret(), true)?;
        let audit = self.audit(
            actor,
            "team.invitation_resent",
            json!({ "invitationId": id.to_string(), "email": invitation.email.as_str() }),
        );
        let reissued = self
            .store
            .reissue_invitation(
                actor.account_id,
                &Reissue {
                    id,
                    token_hash: &token.hash,
                    expires_at: invitation.expires_at,
                    mail: &mail,
                    audit: &audit,
                },
            )
            .map_err(concurrent)?;
        if !reissued {
            return Err(self.closed(actor.account_id, id));
        }
        Ok(IssuedInvitation {
            invite_url: self.links.page(&id.to_string()),
            invitation,
        })
    }

    /// Cancels an open invitation: its link stops working at once.
    pub fn cancel(&self, actor: &Actor, id: InvitationId) -> Result<DateTime<Utc>, TeamError> {
        let current = self.open_invitation(actor, id)?;
        let audit = self.audit(
            actor,
            "team.invitation_cancelled",
            json!({ "invitationId": id.to_string(), "email": current.email.as_str() }),
        );
        if !self.store.cancel_invitation(actor.account_id, id, &audit)? {
            return Err(self.closed(actor.account_id, id));
        }
        Ok(audit.at)
    }

    /// What an invitation link shows: the account, role and state; no secret.
    pub fn preview(&self, token: &str) -> Result<InvitationPreview, TeamError> {
        let (account, invitation) = self.by_token(token)?.1;
        let account_name = self
            .store
            .account_display_name(account)?
            .unwrap_or_default();
        let inviter = self.inviter(account, invitation.invited_by)?;
        Ok(InvitationPreview {
            account_id: account,
            inviter,
            state: invitation.state(self.clock.now()),
            invitation,
            account_name,
        })
    }

    /// Accepts an invitation with its link's token: creates the user (or joins the existing user
    /// with that address, who must prove to be them: see [`AcceptInput`]), makes them a member
    /// with the invited role and details, and issues their first API key.
    ///
    /// Two rules keep the link from being a way around a second factor: an existing user who has
    /// one proves to be them only signed in (a password alone is `SecondFactorRequired`), and
    /// in an account that requires one, a member without it gets no key (the rule every key
    /// issue obeys): they sign in, which confines them to enrolling, and create keys after.
    pub fn accept(&self, token: &str, input: AcceptInput) -> Result<Accepted, TeamError> {
        let (hash, (account, invitation)) = self.by_token(token)?;
        if !self.policy.ip_allowed(account, input.ip)? {
            return Err(TeamError::IpNotAllowed {
                address: input
                    .ip
                    .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
            });
        }
        invitation
            .acceptance(self.clock.now())
            .map_err(TeamError::InvitationClosed)?;
        let ip = input.ip;
        let joiner = self.joiner(&invitation, input)?;
        let user = joiner.user_id();
        let now = self.clock.now();
        let enrolled = match &joiner {
            Joiner::Existing { id } => self.policy.mfa_enrolled(*id)?,
            Joiner::New { .. } => false,
        };
        let key = (enrolled || !self.policy.mfa_required(account)?).then(|| {
            let issued = IssuedApiKey::generate(
                ApiKeyEnv::Live,
                ApiKeyId::generate(self.clock.as_ref(), self.random.as_ref()),
                self.random.as_ref(),
            );
            let info = ApiKeyInfo {
                id: issued.id,
                name: "Created on accepting the invitation".to_owned(),
                prefix: issued.display_prefix(),
                scopes: vec!["*".to_owned()],
                created_at: now,
                last_used_at: None,
                expires_at: None,
            };
            (info, issued)
        });
        let max_members = self.policy.max_members(account)?;
        let audit = self.audit_as(
            user.to_string(),
            ip.map(|ip| ip.to_string()),
            "team.invitation_accepted",
            json!({
                "invitationId": invitation.id.to_string(),
                "userId": user.to_string(),
                "role": invitation.role.as_str(),
                "newUser": matches!(joiner, Joiner::New { .. }),
                "apiKeyIssued": key.is_some(),
            }),
        );
        let outcome = self
            .store
            .accept_invitation(&Acceptance {
                account,
                invitation: &invitation,
                token_hash: &hash,
                joiner: &joiner,
                key: key.as_ref().map(|(info, issued)| (info, &issued.hash)),
                max_members,
                audit: &audit,
            })
            .map_err(concurrent)?;
        match outcome {
            AcceptOutcome::Accepted => {}
            AcceptOutcome::NoLongerPending => {
                // Re-read to say why: accepted or cancelled meanwhile, or the token was replaced.
                return Err(match self.store.invitation_by_token(&hash)? {
                    Some((_, now_stored)) => {
                        TeamError::InvitationClosed(now_stored.state(self.clock.now()))
                    }
                    None => TeamError::InvitationNotFound,
                });
            }
            AcceptOutcome::AlreadyMember { role } => {
                return Err(TeamError::MemberAlreadyExists {
                    email: invitation.email.as_str().to_owned(),
                    current_role: role,
                })
            }
            AcceptOutcome::LimitReached => {
                return Err(TeamError::MemberLimitReached { max: max_members })
            }
        }
        let member = self
            .store
            .find_member(account, user)?
            .ok_or(TeamError::MemberNotFound)?;
        Ok(Accepted {
            account,
            member,
            key,
        })
    }

    /// The invitation, provided the caller may manage it and it is still open.
    fn open_invitation(&self, actor: &Actor, id: InvitationId) -> Result<Invitation, TeamError> {
        crate::ensure_manager(actor.role)?;
        let invitation = self
            .store
            .find_invitation(actor.account_id, id)?
            .ok_or(TeamError::InvitationNotFound)?;
        // An admin may act on the invitations of roles they could grant themselves.
        ensure_can_grant(actor.role, invitation.role)?;
        invitation
            .still_open()
            .map_err(TeamError::InvitationClosed)?;
        Ok(invitation)
    }

    /// Why a write found the invitation no longer open.
    fn closed(&self, account: AccountId, id: InvitationId) -> TeamError {
        match self.store.find_invitation(account, id) {
            Ok(Some(inv)) => TeamError::InvitationClosed(inv.state(self.clock.now())),
            Ok(None) => TeamError::InvitationNotFound,
            Err(e) => e.into(),
        }
    }

    #[allow(clippy::type_complexity)]
    fn by_token(&self, token: &str) -> Result<(SecretHash, (AccountId, Invitation)), TeamError> {
        // A malformed token is an unknown one; it never reaches the store.
        if !InvitationToken::is_well_formed(token) {
            return Err(TeamError::InvitationNotFound);
        }
        let hash = SecretHash::of(token);
        let found = self
            .store
            .invitation_by_token(&hash)?
            .ok_or(TeamError::InvitationNotFound)?;
        Ok((hash, found))
    }

    fn joiner(&self, invitation: &Invitation, input: AcceptInput) -> Result<Joiner, TeamError> {
        match self.store.user_by_email(&invitation.email)? {
            Some(user) => {
                let proven = match (input.signed_in_as, &input.password, &user.password_hash) {
                    (Some(caller), _, _) => {
                        if caller != user.id {
                            return Err(TeamError::SignedInAsAnotherUser);
                        }
                        true
                    }
                    (None, Some(given), Some(stored)) => {
                        if let Some(secs) = self
                            .policy
                            .password_retry_after(&invitation.email, input.ip)
                        {
                            return Err(TeamError::RateLimited {
                                retry_after_secs: secs,
                            });
                        }
                        let proven = verify_password(given, stored);
                        self.policy
                            .password_tried(&invitation.email, input.ip, proven);
                        proven
                    }
                    // No password yet: only a session or key of that user proves identity; the
                    // password itself comes through a set-up link sent to the mailbox.
                    (None, _, None) | (None, None, Some(_)) => false,
                };
                if !proven {
                    return Err(TeamError::IdentityNotProven);
                }
                // A password proves half of a user with a second factor; only their session
                // or key (which took both) proves all of them. Asked after the password
                // check, so only the password's holder learns that the user has one.
                if input.signed_in_as.is_none() && self.policy.mfa_enrolled(user.id)? {
                    return Err(TeamError::SecondFactorRequired);
                }
                Ok(Joiner::Existing { id: user.id })
            }
            None => {
                if input.signed_in_as.is_some() {
                    // The caller is someone, and not the address this invitation was sent to.
                    return Err(TeamError::SignedInAsAnotherUser);
                }
                // Empty or blank means "no name"; anything else must be a real display name.
                let name = input
                    .name
                    .as_deref()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| {
                        DisplayName::parse(n)
                            .map(DisplayName::into_string)
                            .map_err(|e| TeamError::InvalidField {
                                field: "name",
                                reason: e.to_string(),
                            })
                    })
                    .transpose()?;
                let password = input.password.as_deref().ok_or(TeamError::InvalidField {
                    field: "password",
                    reason: "is required to create your sign-in".into(),
                })?;
                let password =
                    NewPassword::parse(password).map_err(|reason| TeamError::InvalidField {
                        field: "password",
                        reason,
                    })?;
                let password_hash =
                    hash_password(&password, self.random.as_ref()).map_err(|e| {
                        TeamError::Port(PortError::Unavailable(format!(
                            "password hashing failed: {e}"
                        )))
                    })?;
                Ok(Joiner::New {
                    id: UserId::generate(self.clock.as_ref(), self.random.as_ref()),
                    name,
                    password_hash,
                })
            }
        }
    }

    /// How the invitation names its sender (the email and the invitation page alike).
    fn inviter(&self, account: AccountId, user: UserId) -> Result<String, TeamError> {
        Ok(match self.store.find_member(account, user)? {
            Some(m) => match m.name {
                Some(name) => format!("{name} <{}>", m.email),
                None => m.email,
            },
            None => "An administrator".to_owned(),
        })
    }

    /// The invitation email; `token` is the secret, which appears nowhere else.
    fn mail_for(
        &self,
        actor: &Actor,
        invitation: &Invitation,
        token: &str,
        resent: bool,
    ) -> Result<OutboxEntry, TeamError> {
        let inviter = self.inviter(actor.account_id, actor.user_id)?;
        let account_name = self
            .store
            .account_display_name(actor.account_id)?
            .unwrap_or_default();
        let branding = self.policy.mail_branding(actor.account_id)?;
        let logo_url = branding.has_logo.then(|| self.links.logo(actor.account_id));
        let mail = invitation_mail(
            invitation,
            &MailContext {
                account_name: &account_name,
                inviter: &inviter,
                link: &self.links.page(token),
                api_link: &self.links.api(token),
                resent,
                branding: &branding,
                logo_url: logo_url.as_deref(),
            },
        );
        Ok(OutboxEntry::mail(
            Some(actor.account_id),
            &mail,
            &self.secrets,
            self.clock.as_ref(),
            self.random.as_ref(),
        ))
    }
}
