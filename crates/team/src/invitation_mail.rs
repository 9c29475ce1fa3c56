//! The invitation email: who invites whom, to which account, with which role, the personal
//! message and the link to accept. Plain text first, so every client can show it; an HTML
//! alternative wears the account's branding (`branded_mail.rs`).

use chrono::{DateTime, SecondsFormat, Utc};
use tenantry_kernel::AccountId;
use tenantry_notifications::Mail;

use crate::branded_mail::{Block, Layout, MailBranding};
use crate::Invitation;

/// The public links Tenantry hands out, all under `TENANTRY_PUBLIC_URL` (a host platform with
/// its own console can put that console behind the same URL):
/// - `<public url>/invite/<invitation id>`: what the inviter's API response names. It carries no
///   secret: the page tells a visitor to use the link in their email.
/// - `<public url>/invite/<token>`: the link in the invitation email, which alone carries the
///   secret; `<public url>/v2/invitations/<token>` is its API form (GET shows the invitation,
///   POST `.../accept` accepts it).
/// - `<public url>/reset-password/<token>`: the password set-up or reset link, mailed only.
/// - `<public url>/confirm-email/<token>`: the email-change confirmation (`email_change.rs`).
///
/// The console serves these pages (`crates/console`).
#[derive(Debug, Clone)]
pub struct InviteLinks {
    base: String,
}

impl InviteLinks {
    /// The links under the public URL `public_url` (a trailing `/` is ignored).
    pub fn new(public_url: &str) -> Self {
        Self {
            base: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The page of an invitation, by its public id or (in the email only) by its token.
    pub fn page(&self, id_or_token: &str) -> String {
        format!("{}/invite/{id_or_token}", self.base)
    }

    /// The API form of an invitation link: secret, for the email only.
    pub fn api(&self, token: &str) -> String {
        format!("{}/v2/invitations/{token}", self.base)
    }

    /// A password set-up or reset link: secret, for the email only.
    pub fn password_reset(&self, token: &str) -> String {
        format!("{}/reset-password/{token}", self.base)
    }

    /// The console's copy of an account's logo (`crates/console/src/brand.rs`), what its
    /// emails show: never the URL the admins configured.
    pub fn logo(&self, account: AccountId) -> String {
        format!("{}/console/brand/{account}/logo", self.base)
    }

    /// The public URL itself (for the API calls an email spells out).
    pub fn base(&self) -> &str {
        &self.base
    }
}

pub(crate) struct MailContext<'a> {
    pub account_name: &'a str,
    /// "Ada Lovelace <ada@example.com>", or just the address.
    pub inviter: &'a str,
    /// The secret page link (`/invite/<token>`).
    pub link: &'a str,
    /// The secret API link (`/v2/invitations/<token>`).
    pub api_link: &'a str,
    pub resent: bool,
    /// The account's branding: the HTML part's colours and the contact line.
    pub branding: &'a MailBranding,
    /// The console's copy of the account's logo, when it has one.
    pub logo_url: Option<&'a str>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The contact line of an email sent on behalf of an account that has a support address: the
/// last paragraph, so the person who got the email knows whom to ask (the account, not the
/// service that sends for it). Plain text like the rest; the address was parsed as one, so it
/// cannot carry a line break into the message.
pub(crate) fn append_support_line(text: &mut String, support: Option<&tenantry_kernel::Email>) {
    if let Some(address) = support {
        text.push_str(&format!("\nQuestions? Write to {}.\n", address.as_str()));
    }
}

pub(crate) fn invitation_mail(inv: &Invitation, ctx: &MailContext<'_>) -> Mail {
    let subject = format!(
        "{}{} invited you to join {} on Tenantry",
        if ctx.resent { "Reminder: " } else { "" },
        ctx.inviter,
        ctx.account_name
    );
    // One set of sentences for both parts, so they cannot say different things.
    let intro = format!(
        "{} invited you to join the account \"{}\" as {}.",
        ctx.inviter,
        ctx.account_name,
        inv.role.as_str()
    );
    let api = format!(
        "From an API client, send a POST to {}/accept: with your name and a new password if you \
         are new to this service; otherwise while signed in (your session or API key as the \
         bearer token) or with your current password.",
        ctx.api_link
    );
    let expiry = format!(
        "The link is personal: do not forward it. The invitation expires at {} and can be used \
         once. If you did not expect it, ignore this email.",
        time(inv.expires_at)
    );
    let mut text = format!("{intro}\n\n");
    let mut blocks = vec![Block::Text(&intro)];
    if let Some(message) = &inv.message {
        text.push_str("Their message:\n\n");
        for line in message.as_str().lines() {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        blocks.push(Block::Text("Their message:"));
        blocks.push(Block::Quote(message.as_str()));
    }
    text.push_str(&format!(
        "Accept the invitation here:\n\n    {}\n\n{api}\n\n{expiry}\n",
        ctx.link
    ));
    append_support_line(&mut text, ctx.branding.support.as_ref());
    blocks.extend([
        Block::Button {
            label: "Accept the invitation",
            href: ctx.link,
        },
        Block::Note(&api),
        Block::Note(&expiry),
    ]);
    let html = Layout {
        title: &subject,
        account_name: ctx.account_name,
        logo_url: ctx.logo_url,
        branding: ctx.branding,
    }
    .render(&blocks);
    Mail {
        to: inv.email.as_str().to_owned(),
        subject,
        text,
        html: Some(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_support_line_closes_the_mail_only_when_the_account_has_an_address() {
        let mut text = String::from("Body.\n");
        append_support_line(&mut text, None);
        assert_eq!(text, "Body.\n");
        let support = tenantry_kernel::Email::parse("help@brand.example").expect("email");
        append_support_line(&mut text, Some(&support));
        assert_eq!(text, "Body.\n\nQuestions? Write to help@brand.example.\n");
    }
}
