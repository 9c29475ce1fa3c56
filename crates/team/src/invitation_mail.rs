//! The invitation email: who invites whom, to which account, with which role, the personal
//! message and the link to accept. Plain text, so every client shows it the same way.

use chrono::{DateTime, SecondsFormat, Utc};
use tenantry_notifications::Mail;

use crate::Invitation;

/// Where invitation links point: `<public url>/v2/invitations/<token>`. A GET on the link shows
/// the invitation, a POST to `<link>/accept` accepts it; a host platform with its own console
/// can put that console behind the same public URL.
#[derive(Debug, Clone)]
pub struct InviteLinks {
    base: String,
}

impl InviteLinks {
    pub fn new(public_url: &str) -> Self {
        Self {
            base: public_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn link(&self, token: &str) -> String {
        format!("{}/v2/invitations/{token}", self.base)
    }
}

pub(crate) struct MailContext<'a> {
    pub account_name: &'a str,
    /// "Ada Lovelace <ada@example.com>", or just the address.
    pub inviter: &'a str,
    pub link: &'a str,
    pub resent: bool,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn invitation_mail(inv: &Invitation, ctx: &MailContext<'_>) -> Mail {
    let subject = format!(
        "{}{} invited you to join {} on Tenantry",
        if ctx.resent { "Reminder: " } else { "" },
        ctx.inviter,
        ctx.account_name
    );
    let mut text = format!(
        "{} invited you to join the account \"{}\" as {}.\n\n",
        ctx.inviter,
        ctx.account_name,
        inv.role.as_str()
    );
    if let Some(message) = &inv.message {
        text.push_str("Their message:\n\n");
        for line in message.as_str().lines() {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Accept the invitation here:\n\n    {}\n\n\
         (Send a POST to {}/accept with your name and a password, or open the link in your \
         account console.)\n\n\
         The invitation expires at {} and can be used once. If you did not expect it, ignore \
         this email.\n",
        ctx.link,
        ctx.link,
        time(inv.expires_at)
    ));
    Mail {
        to: inv.email.as_str().to_owned(),
        subject,
        text,
    }
}
