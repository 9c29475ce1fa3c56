//! Changing the address a user signs in with. The address is where set-up and reset links go,
//! so whoever changes it can take the identity: a change therefore needs the current password
//! AND the new mailbox. Asking (`POST /api/user/email`) mails a single-use, 24-hour link to the
//! new address and a notice to the current one; the address changes only when the link is used
//! (`POST /api/user/email/confirm/{token}`).
//!
//! Rules:
//! - Asking answers the same whether or not the new address belongs to another user: the
//!   request is no oracle for identities in other accounts. Only the new mailbox learns that
//!   its address is taken (by the mail it gets, and again if it uses a link): its holder
//!   controls that identity's mailbox, so this tells them nothing they could not find out.
//! - At confirmation the address must still be free; one address is one identity.
//! - A password change or reset after the request voids its link: the notice tells the current
//!   address to do exactly that if the request was not theirs.
//! - Confirming retires the user's other email change links and open password links (those went
//!   to the old address), and audits `user.email_changed` in each of the user's accounts. It
//!   ends no session: the password did not change, and whoever asked proved to know it.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::json;
use tenantry_kernel::{AccountId, Actor, AuditId, Email, PortError, UserId};
use tenantry_notifications::{Mail, OutboxEntry};
use tenantry_security::{verify_password, ChangeAudit, EmailChangeToken, SecretHash};

use crate::{TeamError, TeamService};

/// How long a confirmation link lives: long enough to reach a mailbox the user does not watch
/// all day, short enough that a forgotten link is not a standing credential.
pub fn email_change_lifetime() -> Duration {
    Duration::hours(24)
}

/// A user may hold at most this many unused confirmation links at once: asking again and
/// again fills neither mailbox nor table (nor the current address with notices).
pub const MAX_OPEN_EMAIL_CHANGES_PER_USER: i64 = 3;

/// Why an email change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeRefusal {
    /// Asking needs the current password; it was wrong or missing, or the user has none yet
    /// (they get one through a set-up link first).
    WrongPassword,
    /// A confirmation link that is malformed, unknown, used, expired, or void because the
    /// password changed after it was sent.
    LinkInvalid,
    /// At confirmation, the new address belongs to another user. Only the link's holder, who
    /// controls that mailbox, is told.
    AddressTaken,
}

impl std::fmt::Display for EmailChangeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EmailChangeRefusal::WrongPassword => "the current password is wrong or missing",
            EmailChangeRefusal::LinkInvalid => "the email change link is invalid or has expired",
            EmailChangeRefusal::AddressTaken => "another user signs in with this address",
        })
    }
}

/// The user as an email change needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChangeSubject {
    /// Their current sign-in address, which gets the notice.
    pub email: String,
    /// Their password hash; `None` for a user without a password, who cannot prove it and so cannot
    /// change the address.
    pub password_hash: Option<String>,
}

/// A confirmation link to write, with its two mails (sealed in the outbox) and the audit entry
/// of the request.
pub struct NewEmailChange<'a> {
    /// The user whose address changes.
    pub user: UserId,
    /// The account the request was made in (where the request is audited).
    pub account: AccountId,
    /// The address the link will set.
    pub new_email: &'a Email,
    /// The hash of the link's token (the token itself is only in the mail).
    pub token_hash: &'a SecretHash,
    /// When the change was asked.
    pub created_at: DateTime<Utc>,
    /// When the link stops working (24 hours later).
    pub expires_at: DateTime<Utc>,
    /// The mail to the new address and the notice to the current one.
    pub mails: [&'a OutboxEntry; 2],
    /// How many open links a user may hold; the store writes nothing when this many are open.
    pub max_open: i64,
    /// The audit entry of the request.
    pub audit: &'a ChangeAudit,
}

/// Using a link.
pub struct CompletedEmailChange<'a> {
    /// The hash of the token in the link used.
    pub token_hash: &'a SecretHash,
    /// When it was used; an expired link is refused.
    pub at: DateTime<Utc>,
    /// Makes the id of each audit entry written (one per account of the user).
    pub new_audit_id: &'a dyn Fn() -> AuditId,
    /// The client address, recorded in the audit entries.
    pub ip: Option<String>,
}

/// What using a link came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailChangeOutcome {
    /// The address changed.
    Changed {
        /// The user whose address changed.
        user: UserId,
        /// Their new address.
        email: String,
    },
    /// Nothing written.
    LinkInvalid,
    /// Another user has the address; nothing written (the link stays as it was).
    AddressTaken,
}

/// Where email change links are kept. Every method returns `PortError` when the store fails;
/// nothing else is an error.
pub trait EmailChangeStore: Send + Sync {
    /// The user's current address and password hash; `None` for an unknown user.
    fn email_change_subject(&self, user: UserId) -> Result<Option<EmailChangeSubject>, PortError>;

    /// Whether any user signs in with `email`.
    fn email_in_use(&self, email: &Email) -> Result<bool, PortError>;

    /// In one transaction, if the user holds fewer than `max_open` unused, unexpired links:
    /// writes the link, both mails and the audit entry, and answers `true`. Otherwise writes
    /// nothing and answers `false`.
    fn create_email_change(&self, change: &NewEmailChange<'_>) -> Result<bool, PortError>;

    /// Writes `audit` alone, in `account`'s log with `target` as its target: an attempt that
    /// changed nothing (a wrong current password) but that the account's admins must see.
    fn audit_refusal(
        &self,
        account: AccountId,
        target: UserId,
        audit: &ChangeAudit,
    ) -> Result<(), PortError>;

    /// In one transaction: finds the unused, unexpired link (void if the user's password changed
    /// after it was made, or if the user asked for another change since), checks that no other
    /// user has its address, marks it used, retires the
    /// user's other email change links and open password links, sets the address and writes a
    /// `user.email_changed` audit entry in each of the user's accounts. A unique violation on
    /// the address (another user took it meanwhile) MUST be returned as `PortError::Conflict`.
    fn complete_email_change(
        &self,
        completed: &CompletedEmailChange<'_>,
    ) -> Result<EmailChangeOutcome, PortError>;
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The mail to the new address. It names neither the user nor their current address: a typo
/// sends it to a stranger.
fn confirmation_mail(to: &Email, confirm_url: &str, expires_at: DateTime<Utc>) -> Mail {
    Mail {
        to: to.as_str().to_owned(),
        subject: "Confirm your new sign-in address".to_owned(),
        text: format!(
            "A Tenantry user asked to sign in with this address from now on.\n\n\
             To confirm, open this link and press the button:\n\n    {confirm_url}\n\n\
             The link can be used once and expires at {}. Until it is used, nothing changes. \
             If you did not ask for this, ignore this email.\n",
            time(expires_at),
        ),
        html: None,
    }
}

/// The mail to a new address that already signs in: no link (it could not work), and the
/// reason, which only that mailbox's holder reads.
fn address_taken_mail(to: &Email, base: &str) -> Mail {
    Mail {
        to: to.as_str().to_owned(),
        subject: "Someone asked to sign in with your address".to_owned(),
        text: format!(
            "A Tenantry user asked to sign in with this address from now on. This address \
             already signs in to Tenantry, and one address belongs to one user, so nothing \
             changes.\n\n\
             If it was you, sign in with this address instead (no password yet, or forgot it: \
             POST {base}/api/auth/password-reset with {{\"email\": \"<this address>\"}}). If \
             it was not, ignore this email: your sign-in stays as it is.\n",
        ),
        html: None,
    }
}

/// The notice to the current address: what was asked, until when, and how to stop it.
fn notice_mail(
    to: &str,
    new_email: &Email,
    base: &str,
    requested_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Your sign-in address is about to change".to_owned(),
        text: format!(
            "At {} someone signed in as you asked to change the address you sign in to \
             Tenantry with to {}. The change applies only if the link sent to that address is \
             used, before {}; until then this address stays yours.\n\n\
             If this was not you, change your password now (POST {base}/api/user/password, or \
             ask for a reset link with POST {base}/api/auth/password-reset): a new password \
             voids the pending change.\n",
            time(requested_at),
            new_email.as_str(),
            time(expires_at),
        ),
        html: None,
    }
}

impl TeamService {
    /// Asks to change the caller's sign-in address to `new_email`. Needs the current password.
    /// Answers `Ok(())` whether or not the address is free and whether or not a link was
    /// written (the per-user limit): the caller learns nothing about other identities.
    pub fn request_email_change(
        &self,
        actor: &Actor,
        new_email: &str,
        current_password: Option<&str>,
    ) -> Result<(), TeamError> {
        let new_email = Email::parse(new_email).map_err(|e| TeamError::InvalidField {
            field: "email",
            reason: e.to_string(),
        })?;
        let subject = self
            .store
            .email_change_subject(actor.user_id)?
            .ok_or(TeamError::MemberNotFound)?;
        if Email::parse(&subject.email).is_ok_and(|current| current == new_email) {
            return Err(TeamError::InvalidField {
                field: "email",
                reason: "is already your address".into(),
            });
        }
        // The current password is proven behind the sign-in's throttle (one budget per
        // address): a stolen session must not guess its way to moving the account's mail.
        let current = Email::parse(&subject.email).ok();
        if let Some(secs) = current
            .as_ref()
            .and_then(|email| self.policy.password_retry_after(email, actor.ip))
        {
            return Err(TeamError::RateLimited {
                retry_after_secs: secs,
            });
        }
        let proven = match (&subject.password_hash, current_password) {
            (Some(hash), Some(given)) => {
                let proven = verify_password(given, hash);
                if let Some(email) = &current {
                    self.policy.current_password_tried(email, actor.ip, proven);
                }
                proven
            }
            // A missing password, or a member without one, is a failed proof like a wrong
            // one: it counts against the same budget, so refusals cannot be had for free.
            _ => {
                if let Some(email) = &current {
                    self.policy.current_password_tried(email, actor.ip, false);
                }
                false
            }
        };
        if !proven {
            // The attempt is the signed-in member's: their account's log names them and what
            // they tried to do (never the password), not a sign-in by nobody.
            self.store.audit_refusal(
                actor.account_id,
                actor.user_id,
                &self.audit(
                    actor,
                    "email_change.failed",
                    json!({ "reason": "wrong or missing current password" }),
                ),
            )?;
            return Err(TeamError::EmailChangeRefused(
                EmailChangeRefusal::WrongPassword,
            ));
        }

        let now = self.clock.now();
        let expires_at = now + email_change_lifetime();
        let token = EmailChangeToken::generate(self.random.as_ref());
        let base = self.links.base();
        let to_new = if self.store.email_in_use(&new_email)? {
            address_taken_mail(&new_email, base)
        } else {
            // The console's page: opening it changes nothing, its button confirms (API
            // clients post the same token to /api/user/email/confirm/{token}).
            let url = format!("{base}/confirm-email/{}", token.secret());
            confirmation_mail(&new_email, &url, expires_at)
        };
        let to_old = notice_mail(&subject.email, &new_email, base, now, expires_at);
        let seal = |mail: &Mail| {
            OutboxEntry::mail(
                None,
                mail,
                &self.secrets,
                self.clock.as_ref(),
                self.random.as_ref(),
            )
        };
        let (to_new, to_old) = (seal(&to_new), seal(&to_old));
        let audit = ChangeAudit {
            id: AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
            actor: actor.audit_name(),
            action: "user.email_change_requested",
            at: now,
            ip: actor.audit_address(),
            details: json!({ "newEmail": new_email.as_str(), "expiresAt": time(expires_at) }),
        };
        // `false` (too many open links) is not reported: the answer must not differ.
        self.store.create_email_change(&NewEmailChange {
            user: actor.user_id,
            account: actor.account_id,
            new_email: &new_email,
            token_hash: &token.hash,
            created_at: now,
            expires_at,
            mails: [&to_new, &to_old],
            max_open: MAX_OPEN_EMAIL_CHANGES_PER_USER,
            audit: &audit,
        })?;
        Ok(())
    }

    /// Uses a confirmation link: the user's address becomes the one the link was mailed to.
    /// Needs no credential besides the link (it proves control of the new mailbox; the request
    /// proved the password). A malformed, unknown, used, expired or voided token gets one and
    /// the same refusal.
    pub fn confirm_email_change(
        &self,
        token: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Email, TeamError> {
        let invalid = TeamError::EmailChangeRefused(EmailChangeRefusal::LinkInvalid);
        if !EmailChangeToken::is_well_formed(token) {
            return Err(invalid);
        }
        let new_audit_id = || AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        let outcome = self.store.complete_email_change(&CompletedEmailChange {
            token_hash: &SecretHash::of(token),
            at: self.clock.now(),
            new_audit_id: &new_audit_id,
            ip: ip.map(|ip| ip.to_string()),
        });
        match outcome {
            Ok(EmailChangeOutcome::Changed { email, .. }) => Email::parse(&email)
                .map_err(|e| TeamError::Port(PortError::Corrupt(format!("stored email: {e}")))),
            Ok(EmailChangeOutcome::LinkInvalid) => Err(invalid),
            Ok(EmailChangeOutcome::AddressTaken) | Err(PortError::Conflict(_)) => Err(
                TeamError::EmailChangeRefused(EmailChangeRefusal::AddressTaken),
            ),
            Err(other) => Err(TeamError::Port(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_live_a_day() {
        assert_eq!(email_change_lifetime(), Duration::hours(24));
    }

    fn email(s: &str) -> Email {
        Email::parse(s).expect("valid address")
    }

    #[test]
    fn the_new_mailbox_learns_nothing_of_the_user_and_the_old_one_gets_no_link() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).expect("time");
        let token = "tnt_emc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let url = format!("https://t.example/confirm-email/{token}");
        let confirm = confirmation_mail(&email("new@example.com"), &url, at);
        assert!(confirm.text.contains(&url));
        assert!(!confirm.text.contains("old@example.com"));
        let taken = address_taken_mail(&email("new@example.com"), "https://t.example");
        assert!(!taken.text.contains("tnt_emc_"));
        let notice = notice_mail(
            "old@example.com",
            &email("new@example.com"),
            "https://t.example",
            at,
            at,
        );
        assert_eq!(notice.to, "old@example.com");
        assert!(notice.text.contains("new@example.com"));
        assert!(!notice.text.contains("tnt_emc_"));
    }
}
