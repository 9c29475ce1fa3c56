//! Password set-up and reset: the one way a user without a password gets one, and the way a
//! user who forgot theirs gets a new one. A link with a single-use, short-lived token goes to
//! the user's mailbox and nowhere else (never in an API response, a log line or the CLI's
//! output), so whoever asks for it — or created the user — cannot use it.
//!
//! Asking always answers the same way whether or not the address belongs to a user, so the
//! endpoint is no oracle for identities in other accounts. Using the link sets the password,
//! ends every session of the user (whoever knew the old password, or stole a session, is out),
//! retires the user's other open links and is audited in each account the user belongs to.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use tenantry_kernel::{AccountId, Actor, AuditId, Credential, Email, PortError, UserId};
use tenantry_notifications::{Mail, OutboxEntry};
use tenantry_security::{hash_password, NewPassword, PasswordResetToken, SecretHash};

use crate::branded_mail::{Block, Layout};
use crate::{TeamError, TeamService};

/// Why a link is sent: both end the same way; they differ in lifetime and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPurpose {
    /// The user asked (`POST /api/auth/password-reset`).
    Reset,
    /// An owner the operator or the first start created, who has no password yet.
    Setup,
}

impl ResetPurpose {
    /// The word stored with the link and used in its audit entry (`reset`, `setup`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResetPurpose::Reset => "reset",
            ResetPurpose::Setup => "setup",
        }
    }

    /// A reset link lives an hour (the user is at their mailbox, waiting for it); a set-up link
    /// three days, since the owner learns of the account from it.
    pub fn lifetime(self) -> Duration {
        match self {
            ResetPurpose::Reset => Duration::hours(1),
            ResetPurpose::Setup => Duration::days(3),
        }
    }
}

/// A user may hold at most this many unused links at once: asking again and again neither
/// fills their mailbox nor the table.
pub const MAX_OPEN_RESETS_PER_USER: i64 = 3;

/// A link to write: the token's hash, its mail (sealed in the outbox) and its lifetime.
pub struct NewPasswordReset<'a> {
    /// The address the link is for; it goes to no other.
    pub email: &'a Email,
    /// The hash of the token (the token itself is only in the mail).
    pub token_hash: &'a SecretHash,
    /// Set-up or reset.
    pub purpose: ResetPurpose,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The mail with the link, sealed in the outbox.
    pub mail: &'a OutboxEntry,
    /// How many open links a user may hold; the store writes nothing when this many are open.
    pub max_open: i64,
    /// Set when the operator sent the link (`tenantry users reset-password`): the store then
    /// writes a `user.password_reset_sent` entry, actor `operator:cli`, in this account, in the
    /// same transaction.
    pub operator_audit: Option<OperatorResetAudit>,
}

/// Where an operator-sent link is audited.
#[derive(Debug, Clone, Copy)]
pub struct OperatorResetAudit {
    /// The account the operator acted in.
    pub account: AccountId,
    /// The id of the audit entry.
    pub id: AuditId,
}

/// Using a link: the new password's hash and the audit ids to write.
pub struct CompletedReset<'a> {
    /// The hash of the token in the link used.
    pub token_hash: &'a SecretHash,
    /// The hash of the new password.
    pub password_hash: &'a str,
    /// When the link was used; an expired link is refused.
    pub at: DateTime<Utc>,
    /// Makes the id of each audit entry written (one per account of the user).
    pub new_audit_id: &'a dyn Fn() -> AuditId,
    /// The client address, recorded in the audit entries.
    pub ip: Option<String>,
}

/// Where password set-up and reset links are kept. Every method returns `PortError` when the store
/// fails; an unusable link is `Ok(None)` or `Ok(false)`, not an error.
pub trait PasswordResetStore: Send + Sync {
    /// Writes the link and its mail in one transaction if `email` belongs to a user who holds
    /// fewer than `max_open` unused, unexpired links (and, for a set-up link, has no password);
    /// `Ok(None)` otherwise (nothing written).
    fn create_password_reset(
        &self,
        reset: &NewPasswordReset<'_>,
    ) -> Result<Option<UserId>, PortError>;

    /// Whether the token names an unused, unexpired link (checked before hashing a password).
    fn password_reset_open(
        &self,
        token_hash: &SecretHash,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;

    /// In one transaction: marks the link used (only if still unused and unexpired), sets the
    /// user's password, retires the user's other links, revokes every session of the user and
    /// writes a `user.password_reset` audit entry in each of the user's accounts. `Ok(None)` when
    /// the link was not usable (nothing written).
    fn complete_password_reset(
        &self,
        completed: &CompletedReset<'_>,
    ) -> Result<Option<UserId>, PortError>;
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl TeamService {
    /// Sends a set-up or reset link to `email` if it belongs to a user (for a set-up link: one
    /// without a password), and says whether it did. Only the operator's paths may pass that
    /// on; the public endpoint answers the same either way.
    pub fn request_password_reset(
        &self,
        email: &Email,
        purpose: ResetPurpose,
    ) -> Result<bool, TeamError> {
        self.send_password_link(email, purpose, None)
    }

    /// The operator's way back in for a member who lost their credentials: the same reset link
    /// as `POST /api/auth/password-reset`, to the same mailbox only, audited in the account as
    /// sent by the operator. Unlike the public endpoint it says what happened, so only the
    /// operator's credential may use it; the address must be a member of the actor's account.
    /// `Ok(false)`: the member already holds the most open links allowed.
    pub fn operator_password_reset(&self, actor: &Actor, email: &Email) -> Result<bool, TeamError> {
        if !matches!(actor.credential, Credential::Operator(_)) {
            return Err(TeamError::InsufficientPermissions {
                required: tenantry_kernel::Role::Owner,
                current: actor.role,
            });
        }
        let user = self
            .store
            .user_by_email(email)?
            .ok_or(TeamError::MemberNotFound)?;
        self.store
            .find_member(actor.account_id, user.id)?
            .ok_or(TeamError::MemberNotFound)?;
        let audit = OperatorResetAudit {
            account: actor.account_id,
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
        };
        self.send_password_link(email, ResetPurpose::Reset, Some(audit))
    }

    fn send_password_link(
        &self,
        email: &Email,
        purpose: ResetPurpose,
        operator_audit: Option<OperatorResetAudit>,
    ) -> Result<bool, TeamError> {
        let now = self.clock.now();
        let token = PasswordResetToken::generate(self.random.as_ref());
        let expires_at = now + purpose.lifetime();
        let link = self.links.password_reset(token.secret());
        let (subject, intro) = match purpose {
            ResetPurpose::Reset => (
                "Reset your password",
                "Someone (we hope you) asked to reset the password you use to sign in.",
            ),
            ResetPurpose::Setup => (
                "Set up your password",
                "An account was created for you. Choose the password you will sign in with.",
            ),
        };
        let api = format!(
            "From an API client, send a POST to {}/api/auth/password-reset/{} with the body \
             {{\"password\": \"<your new password>\"}}.",
            self.links.base(),
            token.secret(),
        );
        let expiry = format!(
            "The link can be used once and expires at {}. Using it signs you out everywhere. If \
             you did not ask for it, ignore this email: your password stays as it is.",
            time(expires_at),
        );
        let mut text =
            format!("{intro}\n\nChoose your password here:\n\n    {link}\n\n{api}\n\n{expiry}\n");
        // Only the operator's reset is sent on behalf of one account, so only it wears the
        // account's branding and names its support; the public one is about a sign-in that may
        // belong to several, so it names none (decision 0037).
        let html = match &operator_audit {
            Some(audit) => {
                let branding = self.policy.mail_branding(audit.account)?;
                crate::invitation_mail::append_support_line(&mut text, branding.support.as_ref());
                let account_name = self
                    .store
                    .account_display_name(audit.account)?
                    .unwrap_or_default();
                let logo_url = branding.has_logo.then(|| self.links.logo(audit.account));
                Some(
                    Layout {
                        title: subject,
                        account_name: &account_name,
                        logo_url: logo_url.as_deref(),
                        branding: &branding,
                    }
                    .render(&[
                        Block::Text(intro),
                        Block::Button {
                            label: "Choose your password",
                            href: &link,
                        },
                        Block::Note(&api),
                        Block::Note(&expiry),
                    ]),
                )
            }
            None => None,
        };
        let mail = OutboxEntry::mail(
            None,
            &Mail {
                to: email.as_str().to_owned(),
                subject: subject.to_owned(),
                text,
                html,
            },
            &self.secrets,
            self.clock.as_ref(),
            self.random.as_ref(),
        );
        let sent = self.store.create_password_reset(&NewPasswordReset {
            email,
            token_hash: &token.hash,
            purpose,
            created_at: now,
            expires_at,
            mail: &mail,
            max_open: MAX_OPEN_RESETS_PER_USER,
            operator_audit,
        })?;
        Ok(sent.is_some())
    }

    /// Uses a link: sets the password and ends every session of its user. A malformed, unknown,
    /// used or expired token gets one and the same refusal ([`TeamError::ResetLinkInvalid`]).
    pub fn complete_password_reset(
        &self,
        token: &str,
        password: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<UserId, TeamError> {
        if !PasswordResetToken::is_well_formed(token) {
            return Err(TeamError::ResetLinkInvalid);
        }
        let hash = SecretHash::of(token);
        // Checked before Argon2 runs, so unknown tokens cost the server nothing.
        if !self.store.password_reset_open(&hash, self.clock.now())? {
            return Err(TeamError::ResetLinkInvalid);
        }
        let password = NewPassword::parse(password).map_err(|reason| TeamError::InvalidField {
            field: "password",
            reason,
        })?;
        let password_hash = hash_password(&password, self.random.as_ref()).map_err(|e| {
            TeamError::Port(PortError::Unavailable(format!(
                "password hashing failed: {e}"
            )))
        })?;
        let new_audit_id = || AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        self.store
            .complete_password_reset(&CompletedReset {
                token_hash: &hash,
                password_hash: &password_hash,
                at: self.clock.now(),
                new_audit_id: &new_audit_id,
                ip: ip.map(|ip| ip.to_string()),
            })?
            .ok_or(TeamError::ResetLinkInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_links_are_short_lived_and_set_up_links_outlive_a_weekend() {
        assert_eq!(ResetPurpose::Reset.lifetime(), Duration::hours(1));
        assert!(ResetPurpose::Setup.lifetime() >= Duration::days(3));
    }
}
