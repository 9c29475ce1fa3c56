//! An https URL a user may store (an avatar, a logo, an outbound address): one rule, used by
//! every context that keeps one, so the same input is accepted or refused in the same words
//! wherever it is written.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// An absolute `https` URL with a host, at most 2,048 characters, without credentials
/// (a password in a URL would end up in logs). Outbound deliveries only go to these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpsUrl(String);

impl HttpsUrl {
    /// The URL in its normalised form, or what is wrong with it (in words a caller can show).
    ///
    /// ```
    /// # use tenantry_kernel::HttpsUrl;
    /// assert!(HttpsUrl::parse("https://example.com/a.png").is_ok());
    /// assert!(HttpsUrl::parse("http://example.com/").is_err());
    /// assert!(HttpsUrl::parse("https://user:secret@example.com/").is_err());
    /// ```
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

    /// The normalised URL.
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
