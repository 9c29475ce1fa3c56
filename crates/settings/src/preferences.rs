use serde::{Deserialize, Serialize};

/// A user's display preferences (seed 01 `preferences`, seed 03 `/user-preferences/display.*`).
/// Stored per (user, key); a key never written reads as its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserPreferences {
    /// `None` = follow the account's default timezone.
    pub timezone: Option<String>,
    pub language: String,
    pub theme: String,
    pub date_format: String,
    pub number_format: String,
    pub default_region: String,
}

impl Default for UserPreferences {
    fn default() -> Self {
        Self {
            timezone: None,
            language: "en".into(),
            theme: "auto".into(),
            date_format: "MM/DD/YYYY".into(),
            number_format: "1,234.56".into(),
            default_region: "us-east-1".into(),
        }
    }
}

impl UserPreferences {
    /// Builds preferences from stored `(key, JSON value)` rows. Unknown keys are ignored (they
    /// belong to seed 03's free-form preferences) and a malformed value falls back to the default
    /// for that key rather than failing the whole read.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>) -> Self {
        let mut prefs = Self::default();
        for (key, value) in rows {
            let text = value.as_str().map(str::to_owned);
            match (key, text) {
                ("timezone", Some(v)) => prefs.timezone = Some(v),
                ("language", Some(v)) => prefs.language = v,
                ("theme", Some(v)) => prefs.theme = v,
                ("date_format", Some(v)) => prefs.date_format = v,
                ("number_format", Some(v)) => prefs.number_format = v,
                ("default_region", Some(v)) => prefs.default_region = v,
                _ => {}
            }
        }
        prefs
    }
}
