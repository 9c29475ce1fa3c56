//! A user's display preferences, stored per key.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::aws_region::AwsRegion;
use crate::display::{DateFormat, Language, NumberFormat, Theme};
use crate::fields::Fields;
use tenantry_kernel::Timezone;

/// A user's display preferences (the `preferences` section of the account settings API, the
/// `display.*` keys of the user and organization API): each member's own, never the account's.
/// Stored per (user, key); a key never written reads as its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserPreferences {
    /// `None` = follow the organization's default timezone.
    pub timezone: Option<Timezone>,
    /// Interface and email language (default `en`).
    pub language: Language,
    /// Colour scheme (default `auto`).
    pub theme: Theme,
    /// How dates are written (default `MM/DD/YYYY`).
    pub date_format: DateFormat,
    /// How numbers are written (default `1,234.56`).
    pub number_format: NumberFormat,
    /// The region new resources are placed in unless chosen otherwise (default `us-east-1`).
    pub default_region: AwsRegion,
}

impl Default for UserPreferences {
    fn default() -> Self {
        Self {
            timezone: None,
            language: Language::En,
            theme: Theme::Auto,
            date_format: DateFormat::MonthFirst,
            number_format: NumberFormat::CommaDot,
            default_region: AwsRegion::UsEast1,
        }
    }
}

/// The keys the typed preferences are stored under: the user and organization API's `display.*` preference keys, and
/// `profile.*` for the two values the user and organization API shows in the user's profile (timezone, locale).
pub mod storage {
    /// [`UserPreferences::timezone`](super::UserPreferences::timezone).
    pub const TIMEZONE: &str = "profile.timezone";
    /// [`UserPreferences::language`](super::UserPreferences::language).
    pub const LANGUAGE: &str = "profile.language";
    /// [`UserPreferences::theme`](super::UserPreferences::theme).
    pub const THEME: &str = "display.theme";
    /// [`UserPreferences::date_format`](super::UserPreferences::date_format).
    pub const DATE_FORMAT: &str = "display.date_format";
    /// [`UserPreferences::number_format`](super::UserPreferences::number_format).
    pub const NUMBER_FORMAT: &str = "display.number_format";
    /// [`UserPreferences::default_region`](super::UserPreferences::default_region).
    pub const DEFAULT_REGION: &str = "display.default_region";
}

/// The account settings API's field names, in its order.
pub const PREFERENCE_KEYS: [&str; 6] = [
    "timezone",
    "language",
    "theme",
    "date_format",
    "number_format",
    "default_region",
];

impl UserPreferences {
    /// Builds preferences from stored `(key, JSON value)` rows. Unknown keys are ignored (they
    /// belong to the user and organization API's free-form preferences) and a value that no longer parses falls back to
    /// the default for that key rather than failing the whole read.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Self {
        let mut prefs = Self::default();
        for (key, value) in rows {
            let Some(text) = value.as_str() else { continue };
            match key {
                storage::TIMEZONE => prefs.timezone = Timezone::parse(text).ok(),
                storage::LANGUAGE => {
                    prefs.language = Language::parse(text).unwrap_or(prefs.language)
                }
                storage::THEME => prefs.theme = Theme::parse(text).unwrap_or(prefs.theme),
                storage::DATE_FORMAT => {
                    prefs.date_format = DateFormat::parse(text).unwrap_or(prefs.date_format)
                }
                storage::NUMBER_FORMAT => {
                    prefs.number_format = NumberFormat::parse(text).unwrap_or(prefs.number_format)
                }
                storage::DEFAULT_REGION => {
                    prefs.default_region = AwsRegion::parse(text).unwrap_or(prefs.default_region)
                }
                _ => {}
            }
        }
        prefs
    }

    /// The rows to store: one per key, `null` for "follow the default" timezone.
    pub fn to_rows(&self) -> Vec<(&'static str, Value)> {
        vec![
            (
                storage::TIMEZONE,
                self.timezone.map_or(Value::Null, |t| json!(t.as_str())),
            ),
            (storage::LANGUAGE, json!(self.language.as_str())),
            (storage::THEME, json!(self.theme.as_str())),
            (storage::DATE_FORMAT, json!(self.date_format.as_str())),
            (storage::NUMBER_FORMAT, json!(self.number_format.as_str())),
            (storage::DEFAULT_REGION, json!(self.default_region.as_str())),
        ]
    }

    /// The account settings API's shape; an unset timezone reads as the organization default.
    pub fn render(&self, default_timezone: Option<Timezone>) -> Value {
        json!({
            "timezone": self.timezone.or(default_timezone).map(|t| t.as_str()),
            "language": self.language.as_str(),
            "theme": self.theme.as_str(),
            "date_format": self.date_format.as_str(),
            "number_format": self.number_format.as_str(),
            "default_region": self.default_region.as_str(),
        })
    }

    /// Parses a complete preferences document (the fields of [`PREFERENCE_KEYS`]), recording
    /// every problem in `f`; `None` if there was any.
    pub fn read(doc: &Value, f: &mut Fields) -> Option<Self> {
        let m = f.object(doc, "", &PREFERENCE_KEYS)?;
        let timezone = f.parse_opt(m, "timezone", "", Timezone::parse);
        let language = f.parse(m, "language", "", Language::parse, Some(Language::ALLOWED));
        let theme = f.parse(m, "theme", "", Theme::parse, Some(Theme::ALLOWED));
        let date_format = f.parse(
            m,
            "date_format",
            "",
            DateFormat::parse,
            Some(DateFormat::ALLOWED),
        );
        let number_format = f.parse(
            m,
            "number_format",
            "",
            NumberFormat::parse,
            Some(NumberFormat::ALLOWED),
        );
        let default_region = f.parse(
            m,
            "default_region",
            "",
            AwsRegion::parse,
            Some(AwsRegion::ALLOWED),
        );
        Some(Self {
            timezone: timezone?,
            language: language?,
            theme: theme?,
            date_format: date_format?,
            number_format: number_format?,
            default_region: default_region?,
        })
    }
}
