//! Slack incoming-webhook URLs (`https://hooks.slack.com/services/T…/B…/<secret>`). The URL is
//! itself the credential: whoever holds it can post into the workspace. So it is sealed at rest,
//! shown back only as `{"configured": true}`, masked in every error text, and its shape is the
//! same rule wherever one is accepted (the account settings API's settings and test, the user and organization API's channels).
//!
//! ```
//! use tenantry_notifications::{OutboundPolicy, SlackWebhookUrl};
//!
//! assert!(SlackWebhookUrl::parse("https://hooks.slack.com/services/T0/B0/XyZ").is_ok());
//! // The operator's allowance opens an address (and plain http), never another shape.
//! let lab = OutboundPolicy::parse("127.0.0.0/8").expect("a valid network");
//! assert!(SlackWebhookUrl::parse_allowing("http://127.0.0.5/services/T0/B0/X", &lab).is_ok());
//! assert!(SlackWebhookUrl::parse_allowing("http://127.0.0.5/hooks.slack.com/services/x", &lab).is_err());
//! assert!(SlackWebhookUrl::parse_allowing("https://hooks.slack.com@127.0.0.5/services/T0/B0/X", &lab).is_err());
//! ```

use std::net::IpAddr;

use url::{Host, Url};

use crate::OutboundPolicy;

/// The only host a Slack URL may name unless the operator opened an address.
pub const SLACK_HOST: &str = "hooks.slack.com";
const MAX_LEN: usize = 2048;
const SHAPE: &str =
    "must be a Slack incoming-webhook URL: https://hooks.slack.com/services/T…/B…/<secret>";
/// What error texts show instead of a Slack URL.
pub const SLACK_URL_MASK: &str = "[Slack webhook URL]";

/// A Slack incoming-webhook URL that passed the shape rule, in its normalized form (the form
/// that is checked is the form that is sealed and sent).
#[derive(Clone, PartialEq, Eq)]
pub struct SlackWebhookUrl(String);

impl std::fmt::Debug for SlackWebhookUrl {
    // A credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackWebhookUrl([redacted])")
    }
}

/// Whether `url` carries a user name or password (`https://user:pw@host/`). Such URLs are
/// refused everywhere: the part before `@` is easily mistaken for the host by a reader
/// (`https://hooks.slack.com@127.0.0.5/`), and credentials would travel into logs.
pub fn carries_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// A Slack id: its letter (`T` for the workspace, `B` for the bot), then letters and digits.
fn slack_id(segment: &str, letter: char) -> bool {
    segment.starts_with(letter) && token(segment)
}

fn token(segment: &str) -> bool {
    (1..=128).contains(&segment.len()) && segment.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl SlackWebhookUrl {
    /// The strict form: `https://hooks.slack.com/services/<T…>/<B…>/<secret>`, no port, no
    /// credentials, no query or fragment.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::parse_allowing(raw, &OutboundPolicy::default())
    }

    /// As [`Self::parse`], except that the host may also be an IP literal the operator opened
    /// (`TENANTRY_OUTBOUND_ALLOW`), over `http` or `https` and on any port: a Slack-compatible
    /// internal receiver, or a test's. The allowance relaxes the scheme and the address only;
    /// the path shape and the absence of credentials hold for every URL.
    pub fn parse_allowing(raw: &str, policy: &OutboundPolicy) -> Result<Self, String> {
        if raw.len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        let url = Url::parse(raw).map_err(|e| format!("{SHAPE} ({e})"))?;
        if carries_credentials(&url) {
            return Err("must not contain credentials (user:password@)".into());
        }
        let segments: Vec<&str> = url.path_segments().map_or_else(Vec::new, Iterator::collect);
        let shaped = matches!(
            segments.as_slice(),
            ["services", team, bot, secret]
                if slack_id(team, 'T') && slack_id(bot, 'B') && token(secret)
        );
        if !shaped || url.query().is_some() || url.fragment().is_some() {
            return Err(SHAPE.into());
        }
        let slack =
            url.scheme() == "https" && url.host_str() == Some(SLACK_HOST) && url.port().is_none();
        let opened = matches!(url.scheme(), "http" | "https")
            && literal_ip(&url).is_some_and(|ip| policy.operator_allows(ip));
        if !(slack || opened) {
            return Err(SHAPE.into());
        }
        Ok(Self(url.to_string()))
    }

    /// The URL, as checked.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL, as checked, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `text` (an error a transport built, which may quote the URL it was given) with the Slack URL
/// `url` and its secret path replaced by [`SLACK_URL_MASK`].
pub fn redact_slack_url(text: &str, url: &str) -> String {
    if url.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(url, SLACK_URL_MASK);
    if let Ok(parsed) = Url::parse(url) {
        out = out.replace(parsed.as_str(), SLACK_URL_MASK);
        let path = parsed.path();
        if path.len() > 1 {
            out = out.replace(path, SLACK_URL_MASK);
        }
        // The secret alone, as long as it is long enough not to be an everyday word.
        if let Some(secret) = parsed
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| s.len() >= 8)
        {
            out = out.replace(secret, SLACK_URL_MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lab() -> OutboundPolicy {
        OutboundPolicy::parse("127.0.0.0/8").expect("valid")
    }

    #[test]
    fn the_strict_form_is_hooks_slack_com_over_https_with_the_three_ids() {
        for ok in [
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/T0/B0/X",
            "HTTPS://HOOKS.SLACK.COM:443/services/T0/B0/X",
        ] {
            assert!(SlackWebhookUrl::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            SlackWebhookUrl::parse("HTTPS://HOOKS.SLACK.COM:443/services/T0/B0/X")
                .expect("valid")
                .as_str(),
            "https://hooks.slack.com/services/T0/B0/X",
            "normalized: what is checked is what is sent"
        );
        for bad in [
            "https://hooks.slack.com/services/",
            "https://hooks.slack.com/services/T0/B0",
            "https://hooks.slack.com/services/T0/B0/X/extra",
            "https://hooks.slack.com/services/X0/B0/X",
            "https://hooks.slack.com/services/T0/B0/X%2F",
            "https://hooks.slack.com/services/T0/B0/X?x=1",
            "https://hooks.slack.com/services/T0/B0/X#frag",
            "https://hooks.slack.com:8443/services/T0/B0/X",
            "https://hooks.slack.com/other/T0/B0/X",
            "https://hooks.slack.com./services/T0/B0/X",
            "https://evil.com/services/T0/B0/X",
            "http://hooks.slack.com/services/T0/B0/X",
            "https://user@hooks.slack.com/services/T0/B0/X",
            "https://hooks.slack.com@127.0.0.5/services/T0/B0/X",
            "http://127.0.0.5/services/T0/B0/X",
            "not a url",
        ] {
            assert!(SlackWebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_operator_allowance_opens_addresses_not_shapes() {
        let lab = lab();
        for ok in [
            "http://127.0.0.5/services/T0/B0/X",
            "http://127.0.0.1:8080/services/T0/B0/X",
            "https://127.0.0.1/services/T0/B0/X",
            "https://hooks.slack.com/services/T0/B0/X",
        ] {
            assert!(SlackWebhookUrl::parse_allowing(ok, &lab).is_ok(), "{ok}");
        }
        for bad in [
            "https://hooks.slack.com@127.0.0.5/services/T0/B0/X",
            "http://hooks.slack.com:x@127.0.0.5/services/T0/B0/X",
            "http://127.0.0.5/hooks.slack.com/services/x",
            "http://127.0.0.5/services/T0/B0",
            "http://127.0.0.5/anything",
            "http://10.0.0.1/services/T0/B0/X",
            "http://localhost/services/T0/B0/X",
            "ftp://127.0.0.5/services/T0/B0/X",
        ] {
            assert!(SlackWebhookUrl::parse_allowing(bad, &lab).is_err(), "{bad}");
        }
    }

    #[test]
    fn redaction_hides_the_url_and_its_secret() {
        let url = "http://127.0.0.1:9/services/T0/B0/SeCrEtVaLuE123";
        let text = format!("connection failed: error sending request for url ({url})");
        let clean = redact_slack_url(&text, url);
        assert!(!clean.contains("SeCrEtVaLuE123"), "{clean}");
        assert!(clean.contains(SLACK_URL_MASK), "{clean}");
        assert!(
            !redact_slack_url("path /services/T0/B0/SeCrEtVaLuE123", url)
                .contains("SeCrEtVaLuE123")
        );
        assert!(!format!(
            "{:?}",
            SlackWebhookUrl::parse_allowing(url, &lab()).expect("ok")
        )
        .contains("SeCrEt"));
    }

    fn segment() -> impl Strategy<Value = String> {
        "[A-Za-z0-9]{1,24}"
    }

    /// Any path that is not exactly `services/T…/B…/<secret>`.
    fn other_path() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec("[A-Za-z0-9._~%-]{0,12}", 0..6).prop_map(|s| s.join("/")),
            (segment(), segment()).prop_map(|(a, b)| format!("services/T{a}/B{b}")),
            (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("hooks.slack.com/services/T{a}/B{b}/{c}")),
            (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("services/T{a}/B{b}/{c}/x")),
            (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("services/{a}x/B{b}/{c}")),
        ]
        // Judged after normalization (`a/../b` is `b`), as the parser sees it.
        .prop_filter("not the Slack shape", |p| {
            let Ok(url) = Url::parse(&format!("http://h/{p}")) else {
                return true;
            };
            let s: Vec<&str> = url.path_segments().map_or_else(Vec::new, Iterator::collect);
            !matches!(s.as_slice(), ["services", t, b, x] if slack_id(t, 'T') && slack_id(b, 'B') && token(x))
        })
    }

    fn host() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(SLACK_HOST.to_owned()),
            Just("127.0.0.5".to_owned()),
            Just("127.0.0.1:8080".to_owned()),
            Just("[::1]".to_owned()),
            "[a-z]{1,10}\\.(com|net|slack\\.com)",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// A URL with a user name or password is refused, whatever its host, scheme or path.
        #[test]
        fn credentials_are_refused_everywhere(
            user in "[A-Za-z0-9.]{1,20}",
            password in proptest::option::of("[A-Za-z0-9]{0,12}"),
            scheme in prop_oneof![Just("http"), Just("https")],
            host in host(),
            (t, b, x) in (segment(), segment(), segment()),
        ) {
            let userinfo = password.map_or_else(|| user.clone(), |p| format!("{user}:{p}"));
            let raw = format!("{scheme}://{userinfo}@{host}/services/T{t}/B{b}/{x}");
            prop_assert!(SlackWebhookUrl::parse_allowing(&raw, &lab()).is_err(), "{}", raw);
            prop_assert!(SlackWebhookUrl::parse(&raw).is_err(), "{}", raw);
        }

        /// The operator's allowance never admits another path shape, on any host.
        #[test]
        fn the_allowance_never_relaxes_the_shape(
            scheme in prop_oneof![Just("http"), Just("https")],
            host in host(),
            path in other_path(),
        ) {
            let raw = format!("{scheme}://{host}/{path}");
            prop_assert!(SlackWebhookUrl::parse_allowing(&raw, &lab()).is_err(), "{}", raw);
        }

        /// A shaped URL on an opened address is accepted with the allowance, refused without it,
        /// and its normalized form parses to itself.
        #[test]
        fn shaped_urls_on_opened_addresses_round_trip(
            scheme in prop_oneof![Just("http"), Just("https")],
            last in 0u8..=255,
            port in proptest::option::of(1u16..),
            (t, b, x) in (segment(), segment(), segment()),
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let raw = format!("{scheme}://127.0.0.{last}{port}/services/T{t}/B{b}/{x}");
            let url = SlackWebhookUrl::parse_allowing(&raw, &lab());
            prop_assert!(url.is_ok(), "{}", raw);
            let url = url.expect("checked");
            let again = SlackWebhookUrl::parse_allowing(url.as_str(), &lab());
            prop_assert_eq!(again, Ok(url.clone()));
            prop_assert!(SlackWebhookUrl::parse(&raw).is_err(), "{}", raw);
        }
    }
}
