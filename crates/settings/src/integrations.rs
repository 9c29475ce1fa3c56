use serde::{Deserialize, Serialize};

/// Seed 01's integrations section. Tokens are stored sealed (`*_sealed`), never in clear.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    pub github: GithubIntegration,
    pub docker: DockerIntegration,
    pub monitoring: MonitoringIntegrations,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GithubIntegration {
    pub enabled: bool,
    pub username: Option<String>,
    pub repositories: Vec<String>,
    pub access_token_sealed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerIntegration {
    pub enabled: bool,
    pub registries: Vec<DockerRegistry>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerRegistry {
    pub url: String,
    pub username: Option<String>,
    pub access_token_sealed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitoringIntegrations {
    pub datadog: DatadogIntegration,
    pub grafana: GrafanaIntegration,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatadogIntegration {
    pub enabled: bool,
    pub api_key_sealed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GrafanaIntegration {
    pub enabled: bool,
    pub url: Option<String>,
    pub dashboard_id: Option<String>,
}
