use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// An absolute `https` URL with a host, at most 2,048 characters, without credentials
/// (a password in a URL would end up in logs). Outbound deliveries only go to these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        let url = Url::parse(s).map_err(|e| format!("must be an absolute https URL ({e})"))?;
        if url.scheme() != "https" {
            return Err("must use https".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must have a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for HttpsUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<HttpsUrl> for String {
    fn from(u: HttpsUrl) -> String {
        u.0
    }
}

/// Slack incoming-webhook URLs follow the notification engine's one shape rule, so seed 01's
/// settings, its test and seed 03's channels cannot drift apart on what they accept.
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
