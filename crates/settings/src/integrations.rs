//! The integrations section: GitHub, Docker registries and monitoring, their tokens sealed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tenantry_security::Sealed;

use crate::fields::{Fields, Sealer, SecretView};
use crate::urls::HttpsUrl;

const MAX_REPOSITORIES: usize = 100;
const MAX_REGISTRIES: usize = 20;

/// The account settings API's integrations section. Tokens are stored sealed (`*_sealed`), never in clear.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    /// The GitHub connection.
    pub github: GithubIntegration,
    /// The Docker registries.
    pub docker: DockerIntegration,
    /// The monitoring services.
    pub monitoring: MonitoringIntegrations,
}

/// The GitHub connection: which account and repositories, and the token to reach them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GithubIntegration {
    /// Whether the integration is used.
    pub enabled: bool,
    /// The GitHub user or organization (1–39 alphanumerics or single inner hyphens).
    pub username: Option<String>,
    /// Repositories as `owner/name`, at most 100.
    pub repositories: Vec<String>,
    /// The access token, sealed; never shown by public reads.
    pub access_token_sealed: Option<Sealed>,
}

/// The Docker registries the account pulls from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerIntegration {
    /// Whether the integration is used.
    pub enabled: bool,
    /// The registries, at most 20; each is identified by its `url` and `username`.
    pub registries: Vec<DockerRegistry>,
}

/// One Docker registry and its credentials.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerRegistry {
    /// The registry host with optional port and path, no scheme, lower-cased
    /// (`registry.example.com:5000/team`).
    pub url: String,
    /// The registry user (1–200 printable characters, no spaces).
    pub username: Option<String>,
    /// The access token, sealed; never shown by public reads.
    pub access_token_sealed: Option<Sealed>,
}

/// The monitoring services the account reports to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitoringIntegrations {
    /// Datadog.
    pub datadog: DatadogIntegration,
    /// Grafana.
    pub grafana: GrafanaIntegration,
}

/// The Datadog connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatadogIntegration {
    /// Whether the integration is used.
    pub enabled: bool,
    /// The API key, sealed; public reads show only whether it is set.
    pub api_key_sealed: Option<Sealed>,
}

/// The Grafana dashboard the account links to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GrafanaIntegration {
    /// Whether the integration is used.
    pub enabled: bool,
    /// The Grafana instance (https only).
    pub url: Option<HttpsUrl>,
    /// The dashboard (1–200 printable characters, no spaces).
    pub dashboard_id: Option<String>,
}

/// GitHub user/organization names: 1–39 alphanumerics or single hyphens, not at either end.
fn github_name(s: &str) -> bool {
    (1..=39).contains(&s.len())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn github_username(s: &str) -> Result<String, String> {
    if github_name(s) {
        Ok(s.to_owned())
    } else {
        Err("must be a GitHub username".into())
    }
}

/// `owner/name`, the repository name being 1–100 of alphanumerics, `-`, `_`, `.`.
fn repository(s: &str) -> Result<String, String> {
    let ok = s.split_once('/').is_some_and(|(owner, name)| {
        github_name(owner)
            && (1..=100).contains(&name.len())
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be a repository as owner/name".into())
    }
}

/// A registry host with optional port and path (`registry.hub.docker.com`, `ghcr.io`,
/// `registry.example.com:5000/team`), no scheme.
fn registry(s: &str) -> Result<String, String> {
    let host_port = s.split('/').next().unwrap_or("");
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host_port, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok
        && port_ok
        && s.len() <= 512
        && !s.contains("://")
        && !s.contains(char::is_whitespace)
    {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("must be a registry host like registry.hub.docker.com (no scheme)".into())
    }
}

fn identifier(s: &str) -> Result<String, String> {
    if (1..=200).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s.to_owned())
    } else {
        Err("must be 1-200 printable characters without spaces".into())
    }
}

/// A registry sent back without its token (reads never show it) or with the token shown as
/// `{"configured": true}` keeps the token of the stored registry with the same `url` and
/// `username`: a list item is identified by what it is, not by its position. An explicit
/// `null` clears the token. `before` is the stored section rendered with sealed secrets.
pub(crate) fn keep_registry_tokens(doc: &mut Value, before: &Value) {
    let stored = before
        .pointer("/docker/registries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(items) = doc
        .pointer_mut("/docker/registries")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        let shown_as_kept = match item.get("access_token") {
            None => true,
            Some(Value::Object(o)) => {
                o.len() == 1 && o.get("configured") == Some(&Value::Bool(true))
            }
            Some(_) => false,
        };
        if !shown_as_kept {
            continue;
        }
        let same = stored.iter().find(|s| {
            s.get("url") == item.get("url")
                && s.get("username").unwrap_or(&Value::Null)
                    == item.get("username").unwrap_or(&Value::Null)
        });
        if let Some(token) = same.and_then(|s| s.get("access_token")) {
            item.insert("access_token".into(), token.clone());
        }
    }
}

impl IntegrationSettings {
    /// The section as a document, its secrets shown as `secrets` says (configured or not, sealed
    /// for a merge, or in clear for an admin's export).
    pub fn render(&self, secrets: &SecretView<'_>) -> Value {
        json!({
            "github": {
                "enabled": self.github.enabled,
                "username": self.github.username,
                "repositories": self.github.repositories,
                "access_token": secrets.show(&self.github.access_token_sealed),
            },
            "docker": {
                "enabled": self.docker.enabled,
                "registries": self.docker.registries.iter().map(|r| json!({
                    "url": r.url,
                    "username": r.username,
                    "access_token": secrets.show(&r.access_token_sealed),
                })).collect::<Vec<_>>(),
            },
            "monitoring": {
                "datadog": {
                    "enabled": self.monitoring.datadog.enabled,
                    "api_key": secrets.show(&self.monitoring.datadog.api_key_sealed),
                },
                "grafana": {
                    "enabled": self.monitoring.grafana.enabled,
                    "url": self.monitoring.grafana.url.as_ref().map(HttpsUrl::as_str),
                    "dashboard_id": self.monitoring.grafana.dashboard_id,
                },
            },
        })
    }

    /// Parses a whole section document, sealing new tokens with `seal`. Every problem is
    /// recorded in `f` (unknown fields, values out of range) and the result is `None` if there
    /// was any, so that all of them are reported at once.
    pub fn read(doc: &Value, f: &mut Fields, seal: Sealer<'_>) -> Option<Self> {
        let root = f.object(doc, "", &["github", "docker", "monitoring"])?;
        let github = f
            .child(
                root,
                "github",
                "",
                &["enabled", "username", "repositories", "access_token"],
            )
            .and_then(|m| {
                let p = "github";
                let enabled = f.bool(m, "enabled", p);
                let username = f.parse_opt(m, "username", p, github_username);
                let repos = f.array(m, "repositories", p, MAX_REPOSITORIES, |f, v, path| match v
                    .as_str()
                    .map(repository)
                {
                    Some(Ok(r)) => Some(r),
                    _ => {
                        f.error(path, "must be a repository as owner/name");
                        None
                    }
                });
                let token = f.secret(m, "access_token", p, seal);
                Some(GithubIntegration {
                    enabled: enabled?,
                    username: username?,
                    repositories: repos?,
                    access_token_sealed: token?,
                })
            });
        let docker = f
            .child(root, "docker", "", &["enabled", "registries"])
            .and_then(|m| {
                let enabled = f.bool(m, "enabled", "docker");
                let registries =
                    f.array(m, "registries", "docker", MAX_REGISTRIES, |f, v, path| {
                        let r = f.object(v, path, &["url", "username", "access_token"])?;
                        let url = f.parse(r, "url", path, registry, None);
                        let username = f.parse_opt(r, "username", path, identifier);
                        let token = f.secret(r, "access_token", path, seal);
                        Some(DockerRegistry {
                            url: url?,
                            username: username?,
                            access_token_sealed: token?,
                        })
                    });
                Some(DockerIntegration {
                    enabled: enabled?,
                    registries: registries?,
                })
            });
        let monitoring = f
            .child(root, "monitoring", "", &["datadog", "grafana"])
            .and_then(|m| {
                let datadog = f
                    .child(m, "datadog", "monitoring", &["enabled", "api_key"])
                    .and_then(|d| {
                        let p = "monitoring.datadog";
                        let enabled = f.bool(d, "enabled", p);
                        let key = f.secret(d, "api_key", p, seal);
                        if enabled == Some(true) && matches!(key, Some(None)) {
                            f.error(
                                "monitoring.datadog.api_key",
                                "is required when datadog is enabled",
                            );
                        }
                        Some(DatadogIntegration {
                            enabled: enabled?,
                            api_key_sealed: key?,
                        })
                    });
                let grafana = f
                    .child(
                        m,
                        "grafana",
                        "monitoring",
                        &["enabled", "url", "dashboard_id"],
                    )
                    .and_then(|g| {
                        let p = "monitoring.grafana";
                        let enabled = f.bool(g, "enabled", p);
                        let url = f.parse_opt(g, "url", p, HttpsUrl::parse);
                        let dashboard = f.parse_opt(g, "dashboard_id", p, identifier);
                        Some(GrafanaIntegration {
                            enabled: enabled?,
                            url: url?,
                            dashboard_id: dashboard?,
                        })
                    });
                Some(MonitoringIntegrations {
                    datadog: datadog?,
                    grafana: grafana?,
                })
            });
        Some(Self {
            github: github?,
            docker: docker?,
            monitoring: monitoring?,
        })
    }
}
