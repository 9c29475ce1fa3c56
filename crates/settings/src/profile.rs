//! The user's profile (the user and organization API `/api/user/profile`) and password (`/api/user/password`). The
//! profile's timezone and locale are the same values as the account settings API's `preferences.timezone` and
//! `preferences.language` (API-MAP.md), so they live with the other per-user preferences.

use serde_json::{json, Value};
use tenantry_kernel::{AccountId, Actor, AuditId, DisplayName, Email, Role, UserId};
use tenantry_security::{hash_password, verify_password, NewPassword};

use crate::fields::Fields;
use crate::ports::{AuditRecord, PreferencesWrite, UserWrite, Writes};
use crate::preferences::storage;
use crate::{HttpsUrl, Language, SettingsError, SettingsService};
use tenantry_kernel::Timezone;

const LOCALE: &str = "profile.locale";
const AVATAR: &str = "profile.avatar_url";

/// A BCP 47 language tag in its common form: `ll[-Ssss][-RR|-999]` (language, optional script,
/// optional region), normalised to `en`, `zh-Hant-TW`, `pt-BR`.
pub fn parse_locale(s: &str) -> Result<String, String> {
    let bad = || "must be a BCP 47 language tag such as en-US".to_owned();
    let mut parts = s.split(['-', '_']);
    let lang = parts
        .next()
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or_else(bad)?;
    let mut out = lang.to_ascii_lowercase();
    let mut seen_region = false;
    for part in parts {
        if !seen_region
            && part.len() == 4
            && part.bytes().all(|b| b.is_ascii_alphabetic())
            && out.len() <= 3
        {
            out.push('-');
            out.push_str(&part[..1].to_ascii_uppercase());
            out.push_str(&part[1..].to_ascii_lowercase());
        } else if !seen_region
            && ((part.len() == 2 && part.bytes().all(|b| b.is_ascii_alphabetic()))
                || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())))
        {
            out.push('-');
            out.push_str(&part.to_ascii_uppercase());
            seen_region = true;
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// The profile as the user and organization API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: UserId,
    pub email: String,
    pub display_name: Option<String>,
    pub timezone: String,
    pub locale: String,
    pub avatar_url: Option<String>,
    pub organization_id: AccountId,
    pub roles: Vec<Role>,
}

impl SettingsService {
    fn build_profile(
        &self,
        actor: &Actor,
        user: &crate::UserRecord,
        rows: &[(String, Value)],
    ) -> Result<Profile, SettingsError> {
        let settings = self.account_settings(actor)?;
        let text = |key: &str| {
            rows.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let language = settings.preferences.language.as_str();
        // The stored full locale counts while it agrees with the account settings API's language (or names a
        // language the account settings API cannot express); otherwise the account settings API changed it and the language wins.
        let locale = match text(LOCALE) {
            Some(l)
                if l.split('-').next() == Some(language)
                    || Language::parse(l.split('-').next().unwrap_or("")).is_err() =>
            {
                l
            }
            _ if language == "en" => "en-US".to_owned(),
            _ => language.to_owned(),
        };
        Ok(Profile {
            id: actor.user_id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            timezone: settings
                .preferences
                .timezone
                .unwrap_or(settings.organization.default_timezone)
                .as_str()
                .to_owned(),
            locale,
            avatar_url: text(AVATAR),
            organization_id: actor.account_id,
            roles: vec![actor.role],
        })
    }

    /// `GET /api/user/profile`.
    pub fn profile(&self, actor: &Actor) -> Result<Profile, SettingsError> {
        let user = self
            .store()
            .user_record(actor.user_id)?
            .ok_or(SettingsError::UnknownEntry)?;
        let rows: Vec<(String, Value)> = self
            .store()
            .user_preference_rows(actor.user_id)?
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect();
        self.build_profile(actor, &user, &rows)
    }

    /// `PUT /api/user/profile`: `display_name`, `timezone`, `locale`, `avatar_url`. `email` is
    /// accepted only as the current address (a client may PUT back what it read): a new
    /// address goes through `POST /api/user/email`, which mails a confirmation link to it
    /// (the team context's email change). `current_password`, which that
    /// used to need here, is accepted and unused.
    pub fn update_profile(&self, actor: &Actor, body: &Value) -> Result<Profile, SettingsError> {
        let mut f = Fields::default();
        let map = f
            .object(
                body,
                "",
                &[
                    "display_name",
                    "timezone",
                    "locale",
                    "avatar_url",
                    "email",
                    "current_password",
                ],
            )
            .cloned()
            .unwrap_or_default();
        let has = |k: &str| map.contains_key(k);
        // Null or an empty (all-whitespace) string clears the name; anything else must be a
        // valid display name (no bidi controls, not only invisible characters).
        let display_name = has("display_name")
            .then(|| {
                f.parse_opt(&map, "display_name", "", |s| {
                    if s.trim().is_empty() {
                        Ok(None)
                    } else {
                        DisplayName::parse(s)
                            .map(|n| Some(n.into_string()))
                            .map_err(|e| e.to_string())
                    }
                })
            })
            .flatten()
            .map(Option::flatten);
        let timezone = has("timezone")
            .then(|| f.parse_opt(&map, "timezone", "", Timezone::parse))
            .flatten();
        let locale = has("locale")
            .then(|| f.parse(&map, "locale", "", parse_locale, None))
            .flatten();
        let avatar = has("avatar_url")
            .then(|| f.parse_opt(&map, "avatar_url", "", HttpsUrl::parse))
            .flatten();
        let email = has("email")
            .then(|| {
                f.parse(
                    &map,
                    "email",
                    "",
                    |s| Email::parse(s).map_err(|e| e.to_string()),
                    None,
                )
            })
            .flatten();
        crate::service::check(f, Vec::new(), Some(()))?;

        let user = self
            .store()
            .user_record(actor.user_id)?
            .ok_or(SettingsError::UnknownEntry)?;
        // The sign-in address changes only by a link mailed to the new address (decision 0016):
        // setting it here would let whoever holds a session move the identity to any mailbox.
        // Compared in canonical form, so a stored address of the old code's spelling is "the same".
        if let Some(email) = &email {
            if Email::parse(&user.email).ok().as_ref() != Some(email) {
                return Err(SettingsError::Validation(vec![crate::FieldError {
                    field: "email".into(),
                    message: "changes through POST /api/user/email, which mails a confirmation \
                              link to the new address"
                        .into(),
                    allowed: None,
                }]));
            }
        }
        // A field sent as the profile shows it is unchanged (an unset timezone or locale shows
        // its default and stays unset): a profile sent back as read writes nothing.
        let shown = self.profile(actor)?;
        let display_name = display_name.filter(|n| *n != shown.display_name);
        let timezone = timezone.filter(|t| t.map(|t| t.as_str()) != Some(shown.timezone.as_str()));
        let locale = locale.filter(|l| *l != shown.locale);
        let avatar =
            avatar.filter(|a| a.as_ref().map(HttpsUrl::as_str) != shown.avatar_url.as_deref());
        if display_name.is_none() && timezone.is_none() && locale.is_none() && avatar.is_none() {
            return Ok(shown);
        }
        let mut rows: Vec<(String, Value)> = Vec::new();
        if let Some(tz) = timezone {
            rows.push((
                storage::TIMEZONE.into(),
                tz.map_or(Value::Null, |t| json!(t.as_str())),
            ));
        }
        if let Some(locale) = &locale {
            rows.push((LOCALE.into(), json!(locale)));
            if let Ok(lang) = Language::parse(locale.split('-').next().unwrap_or("")) {
                rows.push((storage::LANGUAGE.into(), json!(lang.as_str())));
            }
        }
        if let Some(avatar) = avatar {
            rows.push((
                AVATAR.into(),
                avatar.map_or(Value::Null, |a| json!(a.as_str())),
            ));
        }
        let user_write = UserWrite {
            email: None,
            display_name,
            password_hash: None,
        };
        self.store().update(&self.write_context(actor), &[], true, &mut |_| {
            Ok(Writes {
                preferences: Some(PreferencesWrite {
                    rows: rows.clone(),
                    remove: Vec::new(),
                    audit: AuditRecord {
                        id: AuditId::generate(self.clock(), self.random()),
                        action: "user.profile_updated".into(),
                        target: actor.user_id.to_string(),
                        diff: json!({ "changes": { "display_name": user_write.display_name.is_some(), "preferences": rows.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>() } }),
                    },
                }),
                user: Some(user_write.clone()),
                ..Writes::default()
            })
        })?;
        self.profile(actor)
    }

    /// `POST /api/user/password`. A user without a password yet (the bootstrap owner) sets the
    /// first one without `current`; afterwards `current` must match. Argon2 runs outside the
    /// write transaction; the transaction only stores the result if the hash did not change
    /// meanwhile.
    pub fn change_password(
        &self,
        actor: &Actor,
        current: Option<&str>,
        new: &str,
    ) -> Result<(), SettingsError> {
        let new = NewPassword::parse(new).map_err(|m| {
            SettingsError::Validation(vec![crate::FieldError {
                field: "new_password".into(),
                message: m,
                allowed: None,
            }])
        })?;
        let user = self
            .store()
            .user_record(actor.user_id)?
            .ok_or(SettingsError::UnknownEntry)?;
        // The current password is proven behind the sign-in's throttle: a stolen session
        // must not guess its way to a password of its own choosing.
        if let Some(hash) = &user.password_hash {
            let proven = self
                .password_throttle
                .prove(&user.email, actor.ip, self.clock().now(), || {
                    current.is_some_and(|c| verify_password(c, hash))
                })
                .map_err(|retry_after_secs| SettingsError::RateLimited { retry_after_secs })?;
            if !proven {
                return Err(SettingsError::WrongPassword);
            }
        }
        let hash = hash_password(&new, self.random()).map_err(SettingsError::Secret)?;
        let expected = user.password_hash.clone();
        self.store()
            .update(&self.write_context(actor), &[], true, &mut |snapshot| {
                if snapshot.user.as_ref().map(|u| &u.password_hash) != Some(&expected) {
                    return Err(SettingsError::VersionConflict { current: 0 });
                }
                Ok(Writes {
                    preferences: Some(PreferencesWrite {
                        rows: Vec::new(),
                        remove: Vec::new(),
                        audit: AuditRecord {
                            id: AuditId::generate(self.clock(), self.random()),
                            action: "user.password_changed".into(),
                            target: actor.user_id.to_string(),
                            diff: json!({ "first_password": expected.is_none() }),
                        },
                    }),
                    user: Some(UserWrite {
                        password_hash: Some(hash.clone()),
                        ..UserWrite::default()
                    }),
                    ..Writes::default()
                })
            })?;
        // Every other session of the user ends: whoever knew the old password is out.
        let keep = match actor.credential {
            tenantry_kernel::Credential::Session(id) => Some(id),
            tenantry_kernel::Credential::ApiKey(_)
            | tenantry_kernel::Credential::Operator(_)
            | tenantry_kernel::Credential::External(_) => None,
        };
        self.store()
            .revoke_other_sessions(actor.user_id, keep, self.clock().now())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_parse_and_normalise() {
        for (input, out) in [
            ("en-US", "en-US"),
            ("EN_us", "en-US"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("ja", "ja"),
        ] {
            assert_eq!(parse_locale(input).as_deref(), Ok(out), "{input}");
        }
        for bad in ["", "e", "english", "en-", "en-USA-x", "en-US-CA", "12-US"] {
            assert!(parse_locale(bad).is_err(), "{bad}");
        }
    }
}
