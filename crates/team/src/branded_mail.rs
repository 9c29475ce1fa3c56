//! The HTML alternative of the emails sent on behalf of one account (invitations, their
//! reminders, the operator's password reset of a member): a header bar in the account's primary
//! colour with its logo, the body paragraphs, the action link as a button and the support line
//! (decision 0037). The plain text stays the first part and says everything the HTML says.
//!
//! Rules, for mail clients and for safety:
//! - every value put into the HTML is escaped ([`escape`]): names, messages, addresses and links
//!   come from people and must never become markup;
//! - styles are inline attributes (clients drop `<style>` and linked sheets), no script, no
//!   remote font, no image but the logo;
//! - the logo is the console's own copy (`<public url>/console/brand/<account>/logo`), never the
//!   URL an admin configured: the mail does not make its reader's client ask a host the
//!   service has not checked, and the customer's host does not learn who opens the mail.

use tenantry_kernel::Email;

/// What an account's emails wear: its branding as the settings keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailBranding {
    /// The header bar's and the button's colour, `#rrggbb` (the account's primary colour, or the
    /// default one of an account that set none).
    pub color: String,
    /// The text colour on `color`, `#000000` or `#ffffff`: the settings' contrast rule
    /// (`HexColor::text_on`), the same the console's pages use.
    pub text_color: String,
    /// Whether the account has a logo; the mail then shows the console's copy of it.
    pub has_logo: bool,
    /// The support address, for the contact line.
    pub support: Option<Email>,
}

/// One block of a mail's body.
#[derive(Debug, Clone)]
pub(crate) enum Block<'a> {
    /// A paragraph of text.
    Text(&'a str),
    /// A quoted message from a person, kept line by line.
    Quote(&'a str),
    /// The action link as a button.
    Button { label: &'a str, href: &'a str },
    /// Secondary text (API alternatives, expiry), in grey.
    Note(&'a str),
}

/// The HTML of a mail on behalf of `account_name`; `logo_url` is the console's copy of the
/// logo when the account has one.
pub(crate) struct Layout<'a> {
    pub title: &'a str,
    pub account_name: &'a str,
    pub logo_url: Option<&'a str>,
    pub branding: &'a MailBranding,
}

/// `text` with the five characters that can open markup or end an attribute escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const FONT: &str = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

impl Layout<'_> {
    /// The whole document.
    pub(crate) fn render(&self, blocks: &[Block<'_>]) -> String {
        let color = escape(&self.branding.color);
        let on = escape(&self.branding.text_color);
        let name = escape(self.account_name);
        let header = match self.logo_url {
            Some(url) => format!(
                "<img src=\"{}\" alt=\"{name}\" height=\"32\" style=\"display:block;height:32px;max-width:160px;border:0\">",
                escape(url)
            ),
            None => name.clone(),
        };
        let mut body = String::new();
        for block in blocks {
            match block {
                Block::Text(text) => body.push_str(&format!(
                    "<p style=\"margin:0 0 16px\">{}</p>\n",
                    escape(text)
                )),
                Block::Quote(text) => {
                    let lines: Vec<String> = text.lines().map(escape).collect();
                    body.push_str(&format!(
                        "<blockquote style=\"margin:0 0 16px;padding:8px 12px;border-left:4px solid {color};background:#f4f4f5\">{}</blockquote>\n",
                        lines.join("<br>")
                    ));
                }
                Block::Button { label, href } => body.push_str(&format!(
                    "<p style=\"margin:24px 0\"><a href=\"{}\" style=\"display:inline-block;padding:12px 20px;border-radius:6px;background:{color};color:{on};font-weight:600;text-decoration:none\">{}</a></p>\n",
                    escape(href),
                    escape(label)
                )),
                Block::Note(text) => body.push_str(&format!(
                    "<p style=\"margin:0 0 16px;font-size:13px;color:#52525b\">{}</p>\n",
                    escape(text)
                )),
            }
        }
        if let Some(support) = &self.branding.support {
            let address = escape(support.as_str());
            body.push_str(&format!(
                "<p style=\"margin:24px 0 0;color:#52525b\">Questions? Write to <a href=\"mailto:{address}\" style=\"color:#0b57d0\">{address}</a>.</p>\n"
            ));
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\n\
             <body style=\"margin:0;padding:0;background:#f4f4f5;color:#1a1a1a;font-family:{FONT}\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f4f5\"><tr><td align=\"center\" style=\"padding:24px 12px\">\n\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:560px;background:#ffffff;border-radius:6px\">\n\
             <tr><td style=\"padding:16px 24px;border-radius:6px 6px 0 0;background:{color};color:{on};font-size:18px;font-weight:700\">{header}</td></tr>\n\
             <tr><td style=\"padding:24px;font-size:15px;line-height:1.5\">\n{body}</td></tr>\n\
             </table>\n</td></tr></table>\n</body></html>\n",
            title = escape(self.title),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn branding(support: Option<&str>) -> MailBranding {
        MailBranding {
            color: "#ffcc00".into(),
            text_color: "#000000".into(),
            has_logo: true,
            support: support.map(|s| Email::parse(s).expect("email")),
        }
    }

    /// Undoes [`escape`] (the test's own reading of the five entities).
    fn unescape(html: &str) -> String {
        html.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn render(name: &str, text: &str, quote: &str, href: &str) -> String {
        let b = branding(Some("help@brand.example"));
        Layout {
            title: text,
            account_name: name,
            logo_url: Some(href),
            branding: &b,
        }
        .render(&[
            Block::Text(text),
            Block::Quote(quote),
            Block::Button { label: name, href },
            Block::Note(text),
        ])
    }

    #[test]
    fn the_header_wears_the_colour_and_the_logo_and_the_button_the_link() {
        let html = render("Acme", "Hello.", "Hi\nthere", "https://t.example/x?a=1&b=2");
        assert!(html.contains("background:#ffcc00;color:#000000"), "{html}");
        assert!(html
            .contains("<img src=\"https://t.example/x?a=1&amp;b=2\" alt=\"Acme\" height=\"32\""));
        assert!(html.contains("<a href=\"https://t.example/x?a=1&amp;b=2\" style="));
        assert!(html.contains("Hi<br>there</blockquote>"));
        assert!(html.contains(
            "Questions? Write to <a href=\"mailto:help@brand.example\" style=\"color:#0b57d0\">help@brand.example</a>."
        ));
        for banned in [
            "<script",
            "<style",
            "<link",
            "@import",
            "url(",
            "fonts.googleapis",
        ] {
            assert!(!html.contains(banned), "{banned}");
        }
    }

    #[test]
    fn without_a_logo_or_support_address_the_name_heads_the_mail_and_no_contact_line() {
        let b = MailBranding {
            support: None,
            ..branding(None)
        };
        let html = Layout {
            title: "t",
            account_name: "<b>Acme</b>",
            logo_url: None,
            branding: &b,
        }
        .render(&[Block::Text("x")]);
        assert!(
            html.contains("font-weight:700\">&lt;b&gt;Acme&lt;/b&gt;</td>"),
            "{html}"
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("Questions?"));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x0037_0002),
            ..ProptestConfig::default()
        })]

        /// Whatever people type (an account name, an inviter's name, a message, a link), it
        /// appears escaped and reads back unchanged, and no '<', '>', '"' or '\'' of it reaches
        /// the markup: the document has as many of each as with inputs that have none
        /// (each replaced by a letter).
        #[test]
        fn input_never_becomes_markup(
            name in any::<String>(),
            text in any::<String>(),
            quote in "[^\r]*",
            href in any::<String>(),
        ) {
            let html = render(&name, &text, &quote, &href);
            let clean = |s: &str| s.replace(['<', '>', '"', '\'', '&'], "x");
            let baseline = render(&clean(&name), &clean(&text), &clean(&quote), &clean(&href));
            for c in ['<', '>', '"', '\''] {
                prop_assert_eq!(html.matches(c).count(), baseline.matches(c).count(),
                    "{:?} from the input reached the HTML (seed 0x00370002)", c);
            }
            for input in [&name, &text, &href] {
                prop_assert!(html.contains(&escape(input)));
                prop_assert_eq!(&unescape(&escape(input)), input);
            }
            for line in quote.lines() {
                prop_assert!(html.contains(&escape(line)));
            }
        }
    }
}
