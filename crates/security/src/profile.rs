//! The user's own profile (the user and organization API's `/api/user/profile`: name, avatar,
//! locale, time zone) and password change (`/api/user/password`). The profile's time zone and
//! locale are the account settings API's `preferences.timezone` and `preferences.language`
//! (API-MAP.md): the settings context keeps them and shows them ([`ProfilePreferences`]); this
//! module decides what a write changes and who may change the password.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Credential, DisplayName, Email, PortError, RandomSource,
    Role, Timezone, UserId,
};

use crate::ports::{ProfileChange, ProfilePreferences, ProfileRecord, ProfileStore};
use crate::{
    hash_password, verify_password, ChangeAudit, InvalidField, LoginThrottle, NewPassword,
    SecurityError,
};

/// The preference row of the full locale the profile shows (the account settings API keeps
/// only its language).
const LOCALE: &str = "profile.locale";
/// The preference row of the avatar's URL.
const AVATAR: &str = "profile.avatar_url";

/// A BCP 47 language tag in its common form: `ll[-Ssss][-RR|-999]` (language, optional script,
/// optional region), normalised to `en`, `zh-Hant-TW`, `pt-BR`.
///
/// ```
/// assert_eq!(tenantry_security::parse_locale("EN_us").as_deref(), Ok("en-US"));
/// assert!(tenantry_security::parse_locale("english").is_err());
/// ```
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

/// An avatar's address: the kernel's one rule for an https URL a user may store.
pub type AvatarUrl = tenantry_kernel::HttpsUrl;

/// The profile as the user and organization API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The user's id.
    pub id: UserId,
    /// The address the user signs in with.
    pub email: String,
    /// The name shown for the user, if set.
    pub display_name: Option<String>,
    /// The user's time zone (the organization's default where unset).
    pub timezone: String,
    /// The user's locale (a BCP 47 tag; from the account settings' language where unset).
    pub locale: String,
    /// The avatar's URL, if set.
    pub avatar_url: Option<String>,
    /// The account the caller acts in.
    pub organization_id: AccountId,
    /// The caller's role there.
    pub roles: Vec<Role>,
}

/// What the profile service needs.
pub struct ProfileDeps {
    /// The user's record and preference rows.
    pub store: Arc<dyn ProfileStore>,
    /// The account settings' time zone and language.
    pub preferences: Arc<dyn ProfilePreferences>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Salts and audit ids.
    pub random: Arc<dyn RandomSource>,
}

/// Reads and writes the caller's own profile and changes their password.
pub struct ProfileService {
    deps: ProfileDeps,
    /// The sign-in throttle, for the current password a password change proves.
    throttle: Arc<LoginThrottle>,
}

/// Reads a JSON object field by field, collecting every problem (one refusal names each).
#[derive(Default)]
struct Reader {
    invalid: Vec<InvalidField>,
    unknown: Vec<String>,
}

impl Reader {
    /// The body as an object, recording keys outside `known` as unknown fields.
    fn object(&mut self, body: &Value, known: &[&str]) -> Map<String, Value> {
        match body {
            Value::Object(map) => {
                self.unknown
                    .extend(map.keys().filter(|k| !known.contains(&k.as_str())).cloned());
                map.clone()
            }
            _ => {
                self.error("", "must be an object".into());
                Map::new()
            }
        }
    }

    fn error(&mut self, field: &str, message: String) {
        self.invalid.push(InvalidField {
            field: field.into(),
            message,
        });
    }

    /// A string field parsed by `parse`; `None` when absent or invalid (recorded).
    fn parse<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        match map.get(key)? {
            Value::String(s) => parse(s).map_err(|m| self.error(key, m)).ok(),
            _ => {
                self.error(key, "must be a string".into());
                None
            }
        }
    }

    /// A nullable string field: `Some(None)` for null, `None` when absent or invalid.
    fn parse_opt<T>(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match map.get(key)? {
            Value::Null => Some(None),
            _ => self.parse(map, key, parse).map(Some),
        }
    }

    /// Unknown fields first, then invalid values: the API's precedence.
    fn finish(self) -> Result<(), SecurityError> {
        if !self.unknown.is_empty() {
            return Err(SecurityError::UnknownFields(self.unknown));
        }
        if !self.invalid.is_empty() {
            return Err(SecurityError::InvalidFields(self.invalid));
        }
        Ok(())
    }
}

impl ProfileService {
    /// The service over `deps`, with a sign-in throttle of its own (see
    /// [`Self::with_throttle`]).
    pub fn new(deps: ProfileDeps) -> Self {
        Self {
            deps,
            throttle: Arc::default(),
        }
    }

    /// Proves the current password of a password change behind `throttle`, the sign-in's
    /// (one budget per address for every password proof).
    pub fn with_throttle(mut self, throttle: Arc<LoginThrottle>) -> Self {
        self.throttle = throttle;
        self
    }

    /// The caller's own record. Its absence under an authenticated call is a broken store,
    /// not an answer.
    fn record(&self, actor: &Actor) -> Result<ProfileRecord, SecurityError> {
        self.deps
            .store
            .profile_record(actor.user_id)?
            .ok_or_else(|| {
                SecurityError::Port(PortError::Corrupt(format!(
                    "the user record of {} is missing",
                    actor.user_id
                )))
            })
    }

    fn build(
        &self,
        actor: &Actor,
        user: &ProfileRecord,
        rows: &[(String, Value)],
    ) -> Result<Profile, SecurityError> {
        let shown = self.deps.preferences.shown(actor)?;
        let text = |key: &str| {
            rows.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let language = shown.language.as_str();
        // The stored full locale counts while it agrees with the account settings API's
        // language (or names a language that API cannot express); otherwise that API changed
        // it and the language wins.
        let locale = match text(LOCALE) {
            Some(l)
                if l.split('-').next() == Some(language)
                    || self
                        .deps
                        .preferences
                        .language(l.split('-').next().unwrap_or(""))
                        .is_none() =>
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
            timezone: shown.timezone,
            locale,
            avatar_url: text(AVATAR),
            organization_id: actor.account_id,
            roles: vec![actor.role],
        })
    }

    /// `GET /api/user/profile`: the caller's own profile.
    pub fn profile(&self, actor: &Actor) -> Result<Profile, SecurityError> {
        let user = self.record(actor)?;
        let rows = self.deps.store.profile_rows(actor.user_id)?;
        self.build(actor, &user, &rows)
    }

    /// `PUT /api/user/profile`: `display_name`, `timezone`, `locale`, `avatar_url`. `email` is
    /// accepted only as the current address (a client may PUT back what it read): a new
    /// address goes through `POST /api/user/email`, which mails a confirmation link to it
    /// (the team context's email change). `current_password`, which that used to need here,
    /// is accepted and unused.
    pub fn update_profile(&self, actor: &Actor, body: &Value) -> Result<Profile, SecurityError> {
        let mut r = Reader::default();
        let map = r.object(
            body,
            &[
                "display_name",
                "timezone",
                "locale",
                "avatar_url",
                "email",
                "current_password",
            ],
        );
        // Null or an empty (all-whitespace) string clears the name; anything else must be a
        // valid display name (no bidi controls, not only invisible characters).
        let display_name = r
            .parse_opt(&map, "display_name", |s| {
                if s.trim().is_empty() {
                    Ok(None)
                } else {
                    DisplayName::parse(s)
                        .map(|n| Some(n.into_string()))
                        .map_err(|e| e.to_string())
                }
            })
            .map(Option::flatten);
        let timezone = r.parse_opt(&map, "timezone", Timezone::parse);
        let locale = r.parse(&map, "locale", parse_locale);
        let avatar = r.parse_opt(&map, "avatar_url", AvatarUrl::parse);
        let email = r.parse(&map, "email", |s| {
            Email::parse(s).map_err(|e| e.to_string())
        });
        r.finish()?;
        if actor.is_portal_session() {
            return Err(SecurityError::ReauthRequired);
        }

        let user = self.record(actor)?;
        // The sign-in address changes only by a link mailed to the new address (decision
        // 0016): setting it here would let whoever holds a session move the identity to any
        // mailbox. Compared in canonical form, so a stored address of the old code's spelling
        // is "the same".
        if let Some(email) = &email {
            if Email::parse(&user.email).ok().as_ref() != Some(email) {
                return Err(SecurityError::InvalidFields(vec![InvalidField {
                    field: "email".into(),
                    message: "changes through POST /api/user/email, which mails a confirmation \
                              link to the new address"
                        .into(),
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
            avatar.filter(|a| a.as_ref().map(AvatarUrl::as_str) != shown.avatar_url.as_deref());
        if display_name.is_none() && timezone.is_none() && locale.is_none() && avatar.is_none() {
            return Ok(shown);
        }
        let preferences = &self.deps.preferences;
        let mut rows: Vec<(String, Value)> = Vec::new();
        if let Some(tz) = timezone {
            rows.push(preferences.timezone_row(tz.as_ref()));
        }
        if let Some(locale) = &locale {
            rows.push((LOCALE.into(), json!(locale)));
            if let Some(lang) = preferences.language(locale.split('-').next().unwrap_or("")) {
                rows.push(preferences.language_row(lang));
            }
        }
        if let Some(avatar) = avatar {
            rows.push((
                AVATAR.into(),
                avatar.map_or(Value::Null, |a| json!(a.as_str())),
            ));
        }
        let diff = json!({ "changes": {
            "display_name": display_name.is_some(),
            "preferences": rows.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        } });
        self.deps.store.write_profile(
            actor,
            self.deps.clock.now(),
            &ProfileChange {
                display_name,
                password_hash: None,
                expected_hash: None,
                preference_rows: rows,
                audit_id: AuditId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref()),
                action: "user.profile_updated",
                diff,
            },
        )?;
        self.profile(actor)
    }

    /// `POST /api/user/password`. A user without a password yet (the bootstrap owner) sets the
    /// first one without `current`; afterwards `current` must match. Argon2 runs outside the
    /// write transaction; the transaction only stores the result if the hash did not change
    /// meanwhile. Every other session of the user ends.
    pub fn change_password(
        &self,
        actor: &Actor,
        current: Option<&str>,
        new: &str,
    ) -> Result<(), SecurityError> {
        let new = NewPassword::parse(new).map_err(|message| {
            SecurityError::InvalidFields(vec![InvalidField {
                field: "new_password".into(),
                message,
            }])
        })?;
        let user = self.record(actor)?;
        let now = self.deps.clock.now();
        // A first password turns whatever credential sets it into a full sign-in, so it takes
        // a credential that proved itself: an API key or a recent sign-in, never a portal
        // session (nobody showed a password for it: its holder would escape the link's
        // ceiling and its audit tag by signing in).
        if user.password_hash.is_none() && actor.needs_reauth(true, now) {
            return Err(SecurityError::ReauthRequired);
        }
        // The current password is proven behind the sign-in's throttle: a stolen session
        // must not guess its way to a password of its own choosing.
        if let Some(hash) = &user.password_hash {
            let proven = self
                .throttle
                .prove(&user.email, actor.ip, now, || {
                    current.is_some_and(|c| verify_password(c, hash))
                })
                .map_err(|retry_after_secs| SecurityError::RateLimited { retry_after_secs })?;
            if !proven {
                // The attempt is the member's, so their account's log names them (not a
                // sign-in by nobody); the password tried is never written.
                self.deps.store.audit_refusal(
                    actor.account_id,
                    actor.user_id,
                    &ChangeAudit {
                        id: AuditId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref()),
                        actor: actor.audit_name(),
                        action: "password_change.failed",
                        at: now,
                        ip: actor.audit_address(),
                        details: json!({ "reason": "wrong current password" }),
                    },
                )?;
                return Err(SecurityError::WrongPassword);
            }
        }
        let hash = hash_password(&new, self.deps.random.as_ref()).map_err(|e| {
            SecurityError::Port(PortError::Unavailable(format!(
                "password hashing failed: {e}"
            )))
        })?;
        let stored = self.deps.store.write_profile(
            actor,
            self.deps.clock.now(),
            &ProfileChange {
                display_name: None,
                password_hash: Some(hash),
                expected_hash: Some(user.password_hash.clone()),
                preference_rows: Vec::new(),
                audit_id: AuditId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref()),
                action: "user.password_changed",
                diff: json!({ "first_password": user.password_hash.is_none() }),
            },
        )?;
        if !stored {
            return Err(SecurityError::PasswordChangedMeanwhile);
        }
        // Whoever knew the old password is out.
        let keep = match actor.credential {
            Credential::Session(id) => Some(id),
            Credential::ApiKey(_) | Credential::Operator(_) | Credential::External(_) => None,
        };
        self.deps
            .store
            .end_other_sessions(actor.user_id, keep, self.deps.clock.now())?;
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

    #[test]
    fn avatar_urls_are_https_with_a_host_and_no_credentials() {
        assert_eq!(
            AvatarUrl::parse("https://cdn.example.com/a.png").map(String::from),
            Ok("https://cdn.example.com/a.png".to_owned())
        );
        assert_eq!(
            AvatarUrl::parse("http://cdn.example.com/a.png"),
            Err("must use https".to_owned())
        );
        assert_eq!(
            AvatarUrl::parse("https://me:pw@cdn.example.com/a.png"),
            Err("must not contain credentials".to_owned())
        );
        assert!(AvatarUrl::parse(&format!("https://x.example/{}", "a".repeat(2048))).is_err());
    }
}
