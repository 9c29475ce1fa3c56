//! The closed sets of display preferences: language, theme, date and number formats, email
//! frequency.

use tenantry_kernel::closed_set;

closed_set!(
    /// The language the interface and emails speak to a user.
    Language { En => "en", Es => "es", Fr => "fr", De => "de", Ja => "ja", Zh => "zh" }
);

closed_set!(
    /// The interface's colour scheme; `auto` follows the user's system.
    Theme { Light => "light", Dark => "dark", Auto => "auto" }
);

closed_set!(
    /// How dates are written: month, day or year first.
    DateFormat { MonthFirst => "MM/DD/YYYY", DayFirst => "DD/MM/YYYY", YearFirst => "YYYY/MM/DD" }
);

closed_set!(
    /// How numbers are written, named by how 1234.56 looks (thousands and decimal separators).
    NumberFormat { CommaDot => "1,234.56", DotComma => "1.234,56", SpaceComma => "1 234,56" }
);

closed_set!(
    /// How often notification emails go out.
    EmailFrequency { Immediate => "immediate", DailyDigest => "daily_digest", WeeklyDigest => "weekly_digest" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sets_accept_exactly_their_spellings() {
        for s in Language::ALLOWED {
            assert_eq!(Language::parse(s).map(Language::as_str), Ok(*s));
        }
        assert!(Language::parse("EN").is_err());
        assert!(Language::parse("pt").is_err());
        assert_eq!(Theme::parse("dark"), Ok(Theme::Dark));
        assert!(DateFormat::parse("YYYY-MM-DD").is_err());
        assert_eq!(
            NumberFormat::parse("1 234,56"),
            Ok(NumberFormat::SpaceComma)
        );
        let err = EmailFrequency::parse("hourly").expect_err("not allowed");
        assert!(err.contains("daily_digest"));
    }
}
