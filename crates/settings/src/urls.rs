//! Outbound URLs: https URLs, Slack incoming-webhook URLs and webhook URLs, each parsed once with
//! its rule.

use serde::{Deserialize, Serialize};
use tenantry_notifications::{outbound_url, NotificationError, OutboundPolicy};
use url::Url;

pub use tenantry_kernel::HttpsUrl;

/// A webhook URL an account saved (the account settings API's `notifications.webhook.url`). When written it must
/// pass the notification engine's one outbound rule ([`tenantry_notifications::outbound_url`],
/// also applied by the test endpoint and the user and organization API's channels): https, or plain http to an
/// address the operator opened with `TENANTRY_OUTBOUND_ALLOW`, never with credentials. A stored
/// one is read back as written, whatever the allowance is today: the transport checks every
/// delivery's resolved address and scheme against the current allowance anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// The rule for a URL being written, under the operator's `policy`.
    pub fn parse_allowing(s: &str, policy: &OutboundPolicy) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        outbound_url(s, "url", policy)
            .map(Self)
            .map_err(|e| match e {
                NotificationError::Validation(problems) => problems
                    .into_iter()
                    .map(|(_, message)| message)
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            })
    }

    /// A URL as stored: written under some allowance, so only its shape is checked again.
    fn stored(s: &str) -> Result<Self, String> {
        let url = Url::parse(s).map_err(|e| format!("stored webhook URL: {e}"))?;
        let shaped = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.username().is_empty()
            && url.password().is_none();
        if shaped {
            Ok(Self(url.to_string()))
        } else {
            Err("stored webhook URL: not an http(s) URL without credentials".into())
        }
    }

    /// The URL as stored and called.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::stored(&s)
    }
}

impl From<WebhookUrl> for String {
    fn from(u: WebhookUrl) -> String {
        u.0
    }
}

/// Slack incoming-webhook URLs follow the notification engine's one shape rule, so the account settings API's
/// settings, its test and the user and organization API's channels cannot drift apart on what they accept.
pub use tenantry_notifications::SlackWebhookUrl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls() {
        assert!(HttpsUrl::parse("https://api.myapp.com/tensorone-webhook").is_ok());
        for bad in [
            "http://api.myapp.com/x",
            "ftp://x",
            "https://",
            "not a url",
            "https://user:pw@x.com/",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhook_urls_take_plain_http_only_where_the_operator_opened_it() {
        let lab = OutboundPolicy::parse("127.0.0.0/8").expect("valid");
        let none = OutboundPolicy::default();
        assert!(WebhookUrl::parse_allowing("http://127.0.0.1:9/hook", &lab).is_ok());
        assert!(WebhookUrl::parse_allowing("https://api.myapp.com/hook", &none).is_ok());
        for bad in [
            "http://127.0.0.1:9/hook",
            "http://api.myapp.com/hook",
            "https://10.0.0.1/hook",
            "https://user:pw@api.myapp.com/",
            "ftp://x",
        ] {
            assert!(WebhookUrl::parse_allowing(bad, &none).is_err(), "{bad}");
        }
        assert!(WebhookUrl::parse_allowing("http://api.myapp.com/hook", &lab).is_err());
        // Written under an allowance, read back without it.
        let stored: WebhookUrl =
            serde_json::from_value(serde_json::json!("http://127.0.0.1:9/hook")).expect("stored");
        assert_eq!(stored.as_str(), "http://127.0.0.1:9/hook");
    }

    #[test]
    fn slack_urls() {
        assert!(SlackWebhookUrl::parse(
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXX"
        )
        .is_ok());
        for bad in [
            "https://hooks.slack.com/services/",
            "https://hooks.slack.com/other/T0",
            "https://evil.com/services/T0",
            "http://hooks.slack.com/services/T0",
        ] {
            assert!(SlackWebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
