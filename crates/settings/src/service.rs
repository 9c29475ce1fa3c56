//! `SettingsService`: reads and writes of the account settings sections, their history, rollback,
//! export and import (decisions 0002, 0011, 0018).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Page, PageRequest, PortError, RandomSource, Role, UserId,
};
use tenantry_security::{Cidr, Sealed, SecretBox};

use crate::fields::{
    contains_sealed_marker, keep_configured_secrets, merge_patch, FieldError, Fields, SecretView,
};
use crate::ports::{
    AuditRecord, CurrentSection, PreferencesWrite, SectionWrite, SettingsStore, StoredSettings,
    WriteContext, Writes,
};
use crate::{
    BillingSettings, FailedPrecondition, IntegrationSettings, NotificationSettings,
    OrganizationSettings, Preconditions, Section, SecurityPolicy, SettingsError, UserPreferences,
};

/// The account's settings as one reader (the calling user) sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSettings {
    pub notifications: NotificationSettings,
    pub billing: BillingSettings,
    pub security: SecurityPolicy,
    pub integrations: IntegrationSettings,
    pub organization: OrganizationSettings,
    pub preferences: UserPreferences,
    /// IP allowlist entries.
    pub allowlist: Vec<Cidr>,
    /// The caller's unused MFA backup codes.
    pub unused_backup_codes: u32,
    /// Version of each section (and of the caller's preferences).
    pub versions: Versions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions {
    pub notifications: i64,
    pub billing: i64,
    pub security: i64,
    pub integrations: i64,
    pub organization: i64,
    pub preferences: i64,
}

impl Versions {
    pub fn of(&self, section: Section) -> i64 {
        match section {
            Section::Notifications => self.notifications,
            Section::Billing => self.billing,
            Section::Security => self.security,
            Section::Integrations => self.integrations,
            Section::Organization => self.organization,
            Section::Preferences => self.preferences,
        }
    }

    /// A strong validator of the whole document: changes whenever any part the caller sees does.
    pub fn etag(&self) -> String {
        format!(
            "\"n{}.b{}.s{}.i{}.o{}.p{}\"",
            self.notifications,
            self.billing,
            self.security,
            self.integrations,
            self.organization,
            self.preferences
        )
    }
}

/// The ETag of one section: its letter and version, the same token the whole-document ETag
/// carries for it, so either can be sent back in `If-Match`.
pub fn section_etag(section: Section, version: i64) -> String {
    format!("\"{}{version}\"", section.letter())
}

/// Which version of `section` an entity tag's opaque text names: the section's own ETag
/// (`s3`) or the whole-document ETag (`n1.b1.s3.i1.o1.p0`). Any other text names none: it is a
/// tag this server never issued for the section, so a precondition on it fails (412) rather
/// than being malformed (precondition.rs).
fn names_version(section: Section, opaque: &str) -> Option<i64> {
    let version = |part: &str, letter: char| {
        part.strip_prefix(letter)
            // Only the spelling this server issues: no sign, no leading zero.
            .filter(|v| {
                !v.is_empty()
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (v.len() == 1 || !v.starts_with('0'))
            })
            .and_then(|v| v.parse::<i64>().ok())
    };
    if let Some(v) = version(opaque, section.letter()) {
        return Some(v);
    }
    let parts: Vec<&str> = opaque.split('.').collect();
    let letters = ['n', 'b', 's', 'i', 'o', 'p'];
    if parts.len() != letters.len() {
        return None;
    }
    let mut named = None;
    for (part, letter) in parts.into_iter().zip(letters) {
        let v = version(part, letter)?;
        if letter == section.letter() {
            named = Some(v);
        }
    }
    named
}

/// The precondition check of a write of `section`, whose current version is `current`.
fn check_section(
    preconditions: &Preconditions,
    section: Section,
    current: i64,
) -> Result<(), SettingsError> {
    preconditions
        .evaluate(|tag| names_version(section, tag) == Some(current))
        .map_err(|failed| match failed {
            FailedPrecondition::IfMatch => SettingsError::VersionConflict { current },
            FailedPrecondition::IfNoneMatch => SettingsError::PreconditionFailed {
                header: failed.header(),
                etag: section_etag(section, current),
            },
        })
}

/// A section as returned by reads and writes: seed 01's shape with secrets hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionView {
    pub section: Section,
    pub document: Value,
    pub version: i64,
    pub etag: String,
}

/// How an import combines with what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStrategy {
    /// Like `PUT`: fields in the document replace stored ones, absent fields keep their value.
    Merge,
    /// Each imported section replaces the stored one; absent fields take their defaults.
    Overwrite,
}

/// What an import did (or, with `validate_only`, would do) to each section.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub validate_only: bool,
    pub sections: Vec<SectionOutcome>,
    /// Secrets the document showed only as `{"configured": true}` that this account does not
    /// have: left unset (dotted paths, e.g. `notifications.webhook.secret`).
    pub unset_secrets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionOutcome {
    pub section: Section,
    pub changes: Vec<Value>,
    /// The new version; `None` for `validate_only`.
    pub version: Option<i64>,
}

/// One version of a section's history as shown to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub version: i64,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: Option<String>,
    pub changes: Vec<Value>,
}

pub struct SettingsService {
    store: Arc<dyn SettingsStore>,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    deliverers: Option<crate::Deliverers>,
    policies: crate::allowlist_enforcement::PolicyCache,
    /// Recent read snapshots per (account, user) for the read endpoints, valid while nothing
    /// was written on this node and for at most `SNAPSHOT_SECONDS`.
    snapshots: tenantry_kernel::EpochCache<(AccountId, UserId), StoredSettings>,
    /// `GET /v2/accounts/settings` as sent, per (account, user), under the same rules as
    /// `snapshots`: parsing five sections and rendering them is most of a read's cost.
    rendered: tenantry_kernel::EpochCache<(AccountId, UserId), Arc<RenderedSettings>>,
    /// `security.audit.log_api_requests` per account, for the request-audit writer.
    request_audit_policies: tenantry_kernel::EpochCache<AccountId, bool>,
}

/// Whether a loaded snapshot joins the snapshot cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Yes,
    No,
}

/// Seed 01's whole settings document as it goes on the wire, with its ETag: rendered once and
/// shared by the reads that follow while nothing changes.
#[derive(Debug, PartialEq, Eq)]
pub struct RenderedSettings {
    pub etag: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// How long a read snapshot is served when nothing was written on this node: the bound after
/// which another instance's change shows here (the same as the allowlist policy cache's).
pub const SNAPSHOT_SECONDS: u64 = 2;
const SNAPSHOT_ENTRIES: usize = 2_000;

/// A read cache under the snapshot rules: the write epoch and at most `SNAPSHOT_SECONDS`.
fn read_cache<K: std::hash::Hash + Eq, V: Clone>() -> tenantry_kernel::EpochCache<K, V> {
    tenantry_kernel::EpochCache::new(
        std::time::Duration::from_secs(SNAPSHOT_SECONDS),
        SNAPSHOT_ENTRIES,
    )
}

fn parse_section<T: DeserializeOwned + Default>(
    stored: &StoredSettings,
    section: Section,
) -> Result<(T, i64), SettingsError> {
    match stored
        .sections
        .iter()
        .find(|s| s.section == section.as_str())
    {
        None => Ok((T::default(), 0)),
        Some(s) => serde_json::from_value(s.document.clone())
            .map(|value| (value, s.version))
            .map_err(|e| {
                SettingsError::Port(PortError::Corrupt(format!(
                    "settings section {}: {e}",
                    section.as_str()
                )))
            }),
    }
}

fn corrupt(what: impl std::fmt::Display) -> SettingsError {
    SettingsError::Port(PortError::Corrupt(what.to_string()))
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, SettingsError> {
    serde_json::to_value(v).map_err(corrupt)
}

fn allowlist_from(texts: &[String]) -> Result<Vec<Cidr>, SettingsError> {
    texts
        .iter()
        .map(|t| Cidr::parse(t).map_err(|e| corrupt(format!("allowlist entry {t}: {e}"))))
        .collect()
}

pub(crate) fn assemble(stored: StoredSettings) -> Result<AccountSettings, SettingsError> {
    let (notifications, n) =
        parse_section::<NotificationSettings>(&stored, Section::Notifications)?;
    let (billing, b) = parse_section::<BillingSettings>(&stored, Section::Billing)?;
    let (security, s) = parse_section::<SecurityPolicy>(&stored, Section::Security)?;
    let (integrations, i) = parse_section::<IntegrationSettings>(&stored, Section::Integrations)?;
    let (organization, o) = parse_section::<OrganizationSettings>(&stored, Section::Organization)?;
    let preferences =
        UserPreferences::from_rows(stored.preferences.iter().map(|(k, v)| (k.as_str(), v)));
    Ok(AccountSettings {
        notifications,
        billing,
        security,
        integrations,
        organization,
        preferences,
        allowlist: allowlist_from(&stored.allowlist)?,
        unused_backup_codes: stored.unused_backup_codes,
        versions: Versions {
            notifications: n,
            billing: b,
            security: s,
            integrations: i,
            organization: o,
            preferences: stored.preferences_version,
        },
    })
}

/// Integrations as public reads show them: seed 01 shows no token fields for GitHub and Docker
/// (kept exact), and `{"configured": true}` or `null` for the Datadog key.
fn integrations_public(integrations: &IntegrationSettings) -> Value {
    let mut v = integrations.render(&SecretView::Configured);
    if let Some(gh) = v.get_mut("github").and_then(Value::as_object_mut) {
        gh.remove("access_token");
    }
    if let Some(regs) = v
        .pointer_mut("/docker/registries")
        .and_then(Value::as_array_mut)
    {
        for r in regs.iter_mut().filter_map(Value::as_object_mut) {
            r.remove("access_token");
        }
    }
    v
}

impl AccountSettings {
    /// One section in seed 01's shape. `backup_codes` appears only in reads.
    pub fn render_section(
        &self,
        section: Section,
        secrets: &SecretView<'_>,
        for_read: bool,
    ) -> Value {
        match section {
            Section::Notifications => self.notifications.render(secrets),
            Section::Billing => self.billing.render(),
            Section::Security => self.security.render(
                &self.allowlist,
                for_read.then_some(self.unused_backup_codes),
            ),
            Section::Integrations if matches!(secrets, SecretView::Configured) => {
                integrations_public(&self.integrations)
            }
            Section::Integrations => self.integrations.render(secrets),
            Section::Preferences => self
                .preferences
                .render(Some(self.organization.default_timezone)),
            Section::Organization => to_value(&self.organization).unwrap_or(Value::Null),
        }
    }

    /// Seed 01's whole document (`sections` limits it, as export's `sections=` does).
    pub fn render(&self, secrets: &SecretView<'_>, sections: &[Section]) -> Value {
        let mut doc = serde_json::Map::new();
        for section in Section::ALL.into_iter().filter(|s| sections.contains(s)) {
            doc.insert(
                section.as_str().to_owned(),
                self.render_section(section, secrets, true),
            );
        }
        Value::Object(doc)
    }
}

impl SettingsService {
    pub fn new(
        store: Arc<dyn SettingsStore>,
        secrets: SecretBox,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            secrets,
            clock,
            random,
            deliverers: None,
            policies: crate::allowlist_enforcement::PolicyCache::default(),
            snapshots: read_cache(),
            rendered: read_cache(),
            request_audit_policies: read_cache(),
        }
    }

    /// Enables notification tests with these transports.
    pub fn with_deliverers(mut self, deliverers: crate::Deliverers) -> Self {
        self.deliverers = Some(deliverers);
        self
    }

    /// Seed 01's notification test: sends a real message over `channel` (developer role, as for
    /// changing notifications) and reports the receiver's answer.
    pub fn test_notification(
        &self,
        actor: &Actor,
        channel: crate::TestChannel,
        request: &crate::TestRequest,
    ) -> Result<crate::TestOutcome, SettingsError> {
        Self::require(actor, Section::Notifications)?;
        let deliverers = self
            .deliverers
            .as_ref()
            .ok_or(SettingsError::NoDeliverers)?;
        let saved = self.account_settings(actor)?.notifications;
        let open = |sealed: &Sealed| {
            self.secrets
                .open(sealed)
                .map_err(|e| SettingsError::Secret(e.to_string()))
        };
        crate::notification_test::run(
            deliverers,
            self.clock.as_ref(),
            self.random.as_ref(),
            actor,
            channel,
            request,
            &saved,
            &open,
        )
    }

    /// Seed 01's `GET /v2/accounts/settings`: the actor's account sections plus the actor's own
    /// preferences. Every member may read it.
    pub fn account_settings(&self, actor: &Actor) -> Result<AccountSettings, SettingsError> {
        assemble(self.snapshot(actor.account_id, actor.user_id)?)
    }

    /// [`Self::account_settings`] rendered for the wire (secrets shown as configured or not),
    /// from memory while nothing was written on this node and for at most `SNAPSHOT_SECONDS`.
    pub fn account_settings_document(
        &self,
        actor: &Actor,
    ) -> Result<Arc<RenderedSettings>, SettingsError> {
        // Read before the snapshot, so a write landing in between leaves the entry stale.
        let epoch = self
            .store
            .settings_epoch(actor.account_id, Some(actor.user_id));
        if let Some(rendered) = self.rendered.get(&(actor.account_id, actor.user_id), epoch) {
            return Ok(rendered);
        }
        let settings = assemble(self.snapshot_kept(actor.account_id, actor.user_id, Keep::No)?)?;
        let body = serde_json::to_vec(&settings.render(&SecretView::Configured, &Section::ALL))
            .map_err(corrupt)?;
        let rendered = Arc::new(RenderedSettings {
            etag: settings.versions.etag(),
            body,
        });
        self.rendered
            .put((actor.account_id, actor.user_id), rendered.clone(), epoch);
        Ok(rendered)
    }

    /// [`Self::account_settings_document`] if it is in memory (`None`: it needs the store).
    pub fn account_settings_document_in_memory(
        &self,
        actor: &Actor,
    ) -> Option<Arc<RenderedSettings>> {
        self.rendered.get(
            &(actor.account_id, actor.user_id),
            self.store
                .settings_epoch(actor.account_id, Some(actor.user_id)),
        )
    }

    pub fn section(&self, actor: &Actor, section: Section) -> Result<SectionView, SettingsError> {
        let settings = self.account_settings(actor)?;
        let version = settings.versions.of(section);
        Ok(SectionView {
            section,
            document: settings.render_section(section, &SecretView::Configured, true),
            version,
            etag: section_etag(section, version),
        })
    }

    fn require(actor: &Actor, section: Section) -> Result<(), SettingsError> {
        let required = section.required_role();
        if actor.role >= required {
            Ok(())
        } else {
            Err(SettingsError::Forbidden {
                section: section.as_str(),
                required,
                current: actor.role,
            })
        }
    }

    /// The settings as stored, for reads: from memory while fresh (no write on this node since,
    /// younger than `SNAPSHOT_SECONDS`), else loaded in one read transaction.
    pub(crate) fn snapshot(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<StoredSettings, SettingsError> {
        self.snapshot_kept(account, user, Keep::Yes)
    }

    /// [`Self::snapshot`], keeping what it loads only when asked: callers that cache a smaller
    /// result of their own (the rendered document, one policy flag) would otherwise also hold
    /// the parsed documents — tens of KiB per (account, user), most of the resident memory
    /// under a load spread over many accounts.
    fn snapshot_kept(
        &self,
        account: AccountId,
        user: UserId,
        keep: Keep,
    ) -> Result<StoredSettings, SettingsError> {
        let epoch = self.store.settings_epoch(account, Some(user));
        if let Some(snapshot) = self.snapshots.get(&(account, user), epoch) {
            return Ok(snapshot);
        }
        let loaded = self.store.load(account, user)?;
        if keep == Keep::Yes {
            self.snapshots.put((account, user), loaded.clone(), epoch);
        }
        Ok(loaded)
    }

    /// Whether the account records every API request (`security.audit.log_api_requests`), from
    /// the same cached snapshot the reads use: the request-audit writer asks for each batch.
    pub fn logs_api_requests(
        &self,
        account: AccountId,
        user: UserId,
    ) -> Result<bool, SettingsError> {
        // The flag is the account's alone: the account's epoch, whoever's snapshot it came from.
        let epoch = self.store.settings_epoch(account, None);
        if let Some(on) = self.request_audit_policies.get(&account, epoch) {
            return Ok(on);
        }
        let stored = self.snapshot_kept(account, user, Keep::No)?;
        let (policy, _): (SecurityPolicy, i64) = parse_section(&stored, Section::Security)?;
        self.request_audit_policies
            .put(account, policy.log_api_requests, epoch);
        Ok(policy.log_api_requests)
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn random(&self) -> &dyn RandomSource {
        self.random.as_ref()
    }

    pub(crate) fn deliverers(&self) -> Option<&crate::Deliverers> {
        self.deliverers.as_ref()
    }

    pub(crate) fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    pub(crate) fn store(&self) -> &dyn SettingsStore {
        self.store.as_ref()
    }

    pub(crate) fn policies(&self) -> &crate::allowlist_enforcement::PolicyCache {
        &self.policies
    }

    pub(crate) fn write_context(&self, actor: &Actor) -> WriteContext {
        self.context(actor)
    }

    fn context(&self, actor: &Actor) -> WriteContext {
        WriteContext {
            account: actor.account_id,
            user: Some(actor.user_id),
            // The operator acts with the owner's rights, but the audit trail says who it was.
            actor: match actor.credential {
                tenantry_kernel::Credential::Operator => "operator".to_owned(),
                _ => actor.user_id.to_string(),
            },
            ip: actor.ip.map(|ip| ip.to_string()),
            at: self.clock.now(),
        }
    }

    /// Every sealed value in a stored document with its plaintext (those that open).
    fn open_all(&self, stored: &Value) -> Vec<(String, Sealed)> {
        fn walk(v: &Value, out: &mut Vec<Sealed>) {
            match v {
                Value::Object(map) => {
                    for (k, v) in map {
                        match v {
                            Value::String(s) if k.ends_with("_sealed") => {
                                out.push(Sealed::from_stored(s.clone()))
                            }
                            _ => walk(v, out),
                        }
                    }
                }
                Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
        let mut sealed = Vec::new();
        walk(stored, &mut sealed);
        sealed
            .into_iter()
            .filter_map(|s| self.secrets.open(&s).ok().map(|plain| (plain, s)))
            .collect()
    }

    fn seal(&self, plaintext: &str) -> Sealed {
        self.secrets.seal(plaintext, self.random.as_ref())
    }

    /// Seed 01's `PUT /v2/accounts/settings/{section}`: merges `patch` into the current section
    /// (absent fields keep their value, `null` clears), validates the result as a whole, and
    /// stores it as a new version, atomically. `if_match` guards against lost updates.
    pub fn update_section(
        &self,
        actor: &Actor,
        section: Section,
        patch: &Value,
        if_match: Option<&str>,
    ) -> Result<SectionView, SettingsError> {
        let preconditions = Preconditions::parse(if_match, None)?;
        self.update_section_if(actor, section, patch, &preconditions)
    }

    /// [`Self::update_section`] under `If-Match` and `If-None-Match`.
    pub fn update_section_if(
        &self,
        actor: &Actor,
        section: Section,
        patch: &Value,
        preconditions: &Preconditions,
    ) -> Result<SectionView, SettingsError> {
        Self::require(actor, section)?;
        if contains_sealed_marker(patch) {
            return Err(SettingsError::UnknownFields(vec![
                crate::fields::SEALED_MARKER.to_owned(),
            ]));
        }
        if !patch.is_object() {
            return Err(SettingsError::Validation(vec![crate::fields::FieldError {
                field: section.as_str().to_owned(),
                message: "the body must be a JSON object".into(),
                allowed: None,
            }]));
        }
        // `confirm_lockout` is an instruction, not a setting: taken out before the merge. It is
        // accepted for older clients and ignored: no confirmation overrides the lockout guard.
        let mut patch = patch.clone();
        if section == Section::Security {
            strip_read_only(&mut patch)?;
        }
        match patch
            .as_object_mut()
            .and_then(|m| m.remove("confirm_lockout"))
        {
            None => {}
            Some(Value::Bool(_)) if section == Section::Security => {}
            Some(_) => {
                return Err(SettingsError::Validation(vec![crate::fields::FieldError {
                    field: "confirm_lockout".into(),
                    message: "must be true or false, and only on the security section".into(),
                    allowed: None,
                }]))
            }
        };
        let guard = LockoutGuard { caller: actor.ip };
        self.write(
            actor,
            section,
            "settings.updated",
            preconditions,
            guard,
            &|current: &mut Value| {
                // A secret sent back as read (`{"configured": true}`) means "keep".
                let mut patch = patch.clone();
                keep_configured_secrets(&mut patch, current);
                merge_patch(current, &patch);
                Ok(())
            },
        )
    }

    fn audit_id(&self) -> AuditId {
        AuditId::generate(self.clock.as_ref(), self.random.as_ref())
    }

    /// Applies `edit` to the current section rendered for merging, then validates and stores.
    fn write(
        &self,
        actor: &Actor,
        section: Section,
        action: &str,
        preconditions: &Preconditions,
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<SectionView, SettingsError> {
        let ctx = self.context(actor);
        let mut rendered = None;
        let check_version = |current: i64| check_section(preconditions, section, current);
        let version = if section == Section::Preferences {
            // Not kept: the write below makes the snapshot stale at once, and under a write
            // load over many users the kept copies were most of the process's memory.
            let default_tz =
                assemble(self.snapshot_kept(actor.account_id, actor.user_id, Keep::No)?)?
                    .organization
                    .default_timezone;
            let mut kept = 0;
            let applied = self.store.update(&ctx, &[], true, &mut |snapshot| {
                let prefs = snapshot.preferences.unwrap_or_default();
                check_version(prefs.version)?;
                let (write, public) =
                    self.preferences_write(actor, &prefs.rows, default_tz, edit)?;
                rendered = Some(public);
                kept = prefs.version;
                // A write that changes nothing is no write: no version, audit entry or event.
                if no_changes(&write.audit) {
                    return Ok(Writes::default());
                }
                Ok(Writes {
                    preferences: Some(write),
                    ..Writes::default()
                })
            })?;
            applied.preferences.unwrap_or(kept)
        } else {
            let mut kept = 0;
            let applied = self
                .store
                .update(&ctx, &[section.as_str()], false, &mut |snapshot| {
                    let (_, current) = snapshot
                        .sections
                        .into_iter()
                        .next()
                        .ok_or_else(|| corrupt("store did not read the section"))?;
                    check_version(current.version)?;
                    let (write, public) =
                        self.section_write(actor, section, action, &current, guard, edit)?;
                    rendered = Some(public);
                    kept = current.version;
                    if no_changes(&write.audit) {
                        return Ok(Writes::default());
                    }
                    Ok(Writes {
                        sections: vec![(section.as_str().to_owned(), write)],
                        ..Writes::default()
                    })
                })?;
            if section == Section::Security {
                self.policies.invalidate(actor.account_id);
            }
            applied.sections.first().map_or(kept, |(_, v)| *v)
        };
        let document = rendered.ok_or_else(|| corrupt("store did not run the change"))?;
        Ok(SectionView {
            section,
            document,
            version,
            etag: section_etag(section, version),
        })
    }

    /// The write of one account section (document, history snapshot, allowlist, audit entry)
    /// and its public rendering.
    fn section_write(
        &self,
        actor: &Actor,
        section: Section,
        action: &str,
        current: &CurrentSection,
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(SectionWrite, Value), SettingsError> {
        // A section never stored holds its defaults: only a change of them is a change.
        let before = match &current.document {
            Some(doc) => doc.clone(),
            None => stored_default(section)?,
        };
        let allowlist = allowlist_from(&current.allowlist)?;
        let (write, public) = self.next_document(section, &before, &allowlist, guard, edit)?;
        if section == Section::Security {
            self.reauth_to_relax_reauth(actor, &before, &write.document)?;
        }
        let diff = crate::diff::diff(
            &with_allowlist(section, &before, &current.allowlist),
            &write.history_document,
        );
        let audit = AuditRecord {
            id: self.audit_id(),
            action: action.to_owned(),
            target: section.as_str().to_owned(),
            diff: json!({ "section": section.as_str(), "changes": diff }),
        };
        Ok((SectionWrite { audit, ..write }, public))
    }

    /// The write of a user's preferences and their public rendering.
    fn preferences_write(
        &self,
        actor: &Actor,
        rows: &[(String, Value)],
        default_tz: crate::Timezone,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(PreferencesWrite, Value), SettingsError> {
        let current = UserPreferences::from_rows(rows.iter().map(|(k, v)| (k.as_str(), v)));
        // Merge onto the stored value: an unset timezone stays unset unless the patch sets it.
        let mut doc = current.render(None);
        edit(&mut doc)?;
        // An unset timezone reads as the organization's; sent back as read, it stays unset
        // (following the organization), so a round trip pins nothing.
        let shown = current.render(Some(default_tz));
        if current.timezone.is_none() && doc.get("timezone") == shown.get("timezone") {
            doc["timezone"] = Value::Null;
        }
        let mut fields = Fields::default();
        let next = UserPreferences::read(&doc, &mut fields);
        let next = check(fields, Vec::new(), next)?;
        let (before, after) = (current.render(None), next.render(None));
        let write = PreferencesWrite {
            remove: Vec::new(),
            rows: next
                .to_rows()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            audit: AuditRecord {
                id: self.audit_id(),
                action: "preferences.updated".into(),
                target: actor.user_id.to_string(),
                diff: json!({ "section": "preferences", "changes": crate::diff::diff(&before, &after) }),
            },
        };
        Ok((write, next.render(Some(default_tz))))
    }

    /// Validates the edited section; returns what to store and the public rendering.
    fn next_document(
        &self,
        section: Section,
        stored: &Value,
        allowlist: &[Cidr],
        guard: LockoutGuard,
        edit: &dyn Fn(&mut Value) -> Result<(), SettingsError>,
    ) -> Result<(SectionWrite, Value), SettingsError> {
        // A secret written again with the value it already has keeps its sealed form, so
        // re-importing an export with secrets is not a change.
        let existing = self.open_all(stored);
        let seal = |s: &str| {
            existing
                .iter()
                .find(|(plain, _)| plain == s)
                .map(|(_, sealed)| sealed.clone())
                .unwrap_or_else(|| self.seal(s))
        };
        // Completed by `section_write`, which knows the action.
        let empty_audit = AuditRecord {
            id: self.audit_id(),
            action: String::new(),
            target: String::new(),
            diff: Value::Null,
        };
        macro_rules! finish {
            ($value:expr, $public:expr, $allowlist:expr, $history:expr) => {{
                let document = to_value(&$value)?;
                let history_document = $history.unwrap_or_else(|| document.clone());
                Ok((
                    SectionWrite {
                        document,
                        history_document,
                        allowlist: $allowlist,
                        audit: empty_audit,
                    },
                    $public,
                ))
            }};
        }
        let parse_err =
            |e: serde_json::Error| corrupt(format!("settings section {}: {e}", section.as_str()));
        match section {
            Section::Notifications => {
                let current: NotificationSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = current.render(&SecretView::Sealed);
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let policy = self
                    .deliverers
                    .as_ref()
                    .map_or_else(tenantry_notifications::OutboundPolicy::default, |d| {
                        d.policy.clone()
                    });
                let next = NotificationSettings::read(&doc, &mut fields, &seal, &policy);
                let next =
                    check(fields, Vec::new(), next).map_err(crate::notifications::refused_urls)?;
                let public = next.render(&SecretView::Configured);
                finish!(next, public, None, None)
            }
            Section::Billing => {
                let current: BillingSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = current.render();
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let next = BillingSettings::read(&doc, &mut fields);
                let next = check(fields, Vec::new(), next)?;
                if !next.auto_recharge_chargeable(self.clock.now()) {
                    return Err(SettingsError::PaymentMethodRequired);
                }
                let public = next.render();
                finish!(next, public, None, None)
            }
            Section::Security => {
                let current: SecurityPolicy =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let mut doc = current.render(allowlist, None);
                let mut fields = Fields::over(doc.clone());
                edit(&mut doc)?;
                let mut invalid = Vec::new();
                let read = current.read(&doc, &mut fields, &mut invalid);
                let (next, list) = check(fields, invalid, read)?;
                let list = crate::security_policy::in_stored_order(allowlist, &list);
                guard.check(next.ip_allowlist_enforced, &list)?;
                let public = next.render(&list, None);
                let mut history = to_value(&next)?;
                history["ip_allowlist"] =
                    json!(list.iter().map(ToString::to_string).collect::<Vec<_>>());
                finish!(next, public, Some(list), Some(history))
            }
            Section::Integrations => {
                let current: IntegrationSettings =
                    serde_json::from_value(stored.clone()).map_err(parse_err)?;
                let before = current.render(&SecretView::Sealed);
                let mut doc = before.clone();
                let mut fields = Fields::over(before.clone());
                edit(&mut doc)?;
                crate::integrations::keep_registry_tokens(&mut doc, &before);
                let next = IntegrationSettings::read(&doc, &mut fields, &seal);
                let next = check(fields, Vec::new(), next)?;
                let public = integrations_public(&next);
                finish!(next, public, None, None)
            }
            Section::Organization | Section::Preferences => {
                Err(corrupt("not a section of the account settings API"))
            }
        }
    }

    /// A section's history, newest first, each version with its changes against the one before.
    pub fn history(
        &self,
        actor: &Actor,
        section: Section,
        page: &PageRequest,
    ) -> Result<Page<HistoryView>, SettingsError> {
        Self::require(actor, section)?;
        if section == Section::Preferences {
            return Err(SettingsError::UnknownVersion(0));
        }
        let entries = self
            .store
            .history(actor.account_id, section.as_str(), page)?;
        let mut items = Vec::with_capacity(entries.items.len());
        for entry in &entries.items {
            let previous = if entry.version > 1 {
                self.store
                    .history_version(actor.account_id, section.as_str(), entry.version - 1)?
                    .map(|e| e.document)
            } else {
                None
            };
            let changes =
                crate::diff::diff(previous.as_ref().unwrap_or(&json!({})), &entry.document);
            items.push(HistoryView {
                version: entry.version,
                updated_at: entry.updated_at,
                updated_by: entry.updated_by.clone(),
                changes,
            });
        }
        Ok(Page {
            items,
            next: entries.next,
        })
    }

    /// Restores version `version` of a section as a new version (history is never rewritten).
    pub fn rollback(
        &self,
        actor: &Actor,
        section: Section,
        version: i64,
        preconditions: &Preconditions,
    ) -> Result<SectionView, SettingsError> {
        Self::require(actor, section)?;
        if section == Section::Preferences {
            return Err(SettingsError::UnknownVersion(version));
        }
        let target = self
            .store
            .history_version(actor.account_id, section.as_str(), version)?
            .ok_or(SettingsError::UnknownVersion(version))?;
        let settings = assemble(StoredSettings {
            sections: vec![crate::ports::StoredSection {
                section: section.as_str().into(),
                document: target.document.clone(),
                version,
            }],
            allowlist: target
                .document
                .get("ip_allowlist")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            ..StoredSettings::default()
        })?;
        // The old version rendered for merging replaces the current document wholesale.
        let old = settings.render_section(section, &SecretView::Sealed, false);
        self.write(
            actor,
            section,
            "settings.rolled_back",
            preconditions,
            LockoutGuard { caller: actor.ip },
            &|current: &mut Value| {
                *current = old.clone();
                Ok(())
            },
        )
    }

    /// The `settings` of seed 01's export: the chosen sections, importable as they are.
    /// Secrets are shown as `{"configured": true}` unless `include_secrets`, which only admins
    /// may ask for and which is audited.
    pub fn export(
        &self,
        actor: &Actor,
        include_secrets: bool,
        sections: &[Section],
    ) -> Result<Value, SettingsError> {
        if include_secrets && actor.role < Role::Admin {
            return Err(SettingsError::ForbiddenAction {
                action: "Exporting secrets",
                required: Role::Admin,
                current: actor.role,
            });
        }
        let settings = self.account_settings(actor)?;
        if include_secrets
            && actor.needs_reauth(settings.security.reauth_for_sensitive, self.clock.now())
        {
            return Err(SettingsError::ReauthRequired);
        }
        let failure = std::cell::RefCell::new(None);
        let open = |sealed: &Sealed| match self.secrets.open(sealed) {
            Ok(plain) => Value::String(plain),
            Err(e) => {
                *failure.borrow_mut() = Some(e.to_string());
                Value::Null
            }
        };
        let view = if include_secrets {
            SecretView::Plain(&open)
        } else {
            SecretView::Configured
        };
        let mut out = serde_json::Map::new();
        for section in Section::ALL.into_iter().filter(|s| sections.contains(s)) {
            let doc = match section {
                Section::Notifications => settings.notifications.render(&view),
                Section::Billing => settings.billing.render(),
                Section::Security => settings.security.render(&settings.allowlist, None),
                Section::Integrations => settings.integrations.render(&view),
                // An unset timezone exports as null ("follow the organization"), so a re-import
                // does not pin today's default.
                Section::Preferences => settings.preferences.render(None),
                Section::Organization => continue,
            };
            out.insert(section.as_str().to_owned(), doc);
        }
        if let Some(e) = failure.into_inner() {
            return Err(SettingsError::Secret(e));
        }
        if include_secrets {
            let audit = AuditRecord {
                id: self.audit_id(),
                action: "settings.exported_with_secrets".into(),
                target: "settings".into(),
                diff: json!({ "sections": sections.iter().map(|s| s.as_str()).collect::<Vec<_>>() }),
            };
            self.store
                .update(&self.context(actor), &[], false, &mut |_| {
                    Ok(Writes {
                        audit: vec![audit.clone()],
                        ..Writes::default()
                    })
                })?;
        }
        Ok(Value::Object(out))
    }

    /// Seed 01's whole export envelope (`{"export": {timestamp, format, include_secrets,
    /// settings, metadata}}`), the one `GET /v2/accounts/settings/export` and `tenantry export`
    /// both produce and `import` reads back. `format` is only recorded; rendering is the caller's.
    pub fn export_envelope(
        &self,
        actor: &Actor,
        include_secrets: bool,
        sections: &[Section],
        format: &str,
    ) -> Result<Value, SettingsError> {
        let settings = self.export(actor, include_secrets, sections)?;
        Ok(json!({
            "export": {
                "timestamp": self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "format": format,
                "include_secrets": include_secrets,
                "settings": settings,
                "metadata": {
                    "version": "2.0",
                    "account_id": actor.account_id.to_string(),
                    "exported_by": match actor.credential {
                        tenantry_kernel::Credential::Operator => "operator".to_owned(),
                        _ => actor.user_id.to_string(),
                    },
                },
            }
        }))
    }

    /// Seed 01's import: every named section validated as a whole and written in ONE
    /// transaction (all or nothing); `validate_only` reports the changes and writes nothing.
    pub fn import(
        &self,
        actor: &Actor,
        settings: &Value,
        strategy: MergeStrategy,
        validate_only: bool,
    ) -> Result<ImportOutcome, SettingsError> {
        let map = settings.as_object().ok_or_else(|| {
            SettingsError::Validation(vec![FieldError {
                field: "settings".into(),
                message: "must be an object of sections".into(),
                allowed: None,
            }])
        })?;
        let mut unknown = Vec::new();
        let mut sections = Vec::new();
        for key in map.keys() {
            match Section::parse(key).filter(|s| Section::ALL.contains(s)) {
                Some(s) => sections.push(s),
                None => unknown.push(format!("settings.{key}")),
            }
        }
        if !unknown.is_empty() {
            return Err(SettingsError::UnknownFields(unknown));
        }
        if sections.is_empty() {
            return Err(SettingsError::Validation(vec![FieldError {
                field: "settings".into(),
                message: "must contain at least one section".into(),
                allowed: Some(json!(Section::ALL.map(Section::as_str))),
            }]));
        }
        if contains_sealed_marker(settings) {
            return Err(SettingsError::UnknownFields(vec![
                crate::fields::SEALED_MARKER.to_owned(),
            ]));
        }
        for s in &sections {
            Self::require(actor, *s)?;
        }
        // The published schema first (it names every violation by path), then the typed
        // validation, which also checks what a schema cannot say (cross-field rules).
        let mut schema_errors = Vec::new();
        for s in &sections {
            if let Err(SettingsError::Validation(fields)) =
                crate::schema::validate(*s, &map[s.as_str()])
            {
                schema_errors.extend(fields.into_iter().map(|f| FieldError {
                    field: if f.field.is_empty() {
                        s.as_str().to_owned()
                    } else {
                        format!("{}.{}", s.as_str(), f.field)
                    },
                    ..f
                }));
            }
        }
        if !schema_errors.is_empty() {
            return Err(SettingsError::Validation(schema_errors));
        }
        let account_sections: Vec<Section> = sections
            .iter()
            .copied()
            .filter(|s| *s != Section::Preferences)
            .collect();
        let names: Vec<&str> = account_sections.iter().map(|s| s.as_str()).collect();
        let with_prefs = sections.contains(&Section::Preferences);
        let stored = self.store.load(actor.account_id, actor.user_id)?;
        let default_tz = assemble(stored.clone())?.organization.default_timezone;

        // The edit of one section: secrets an export could only mark as configured are kept,
        // then the document is merged onto the current (or default) section.
        let unset_secrets = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let edit_for = |section: Section| {
            let incoming = map.get(section.as_str()).cloned().unwrap_or(Value::Null);
            let unset_secrets = &unset_secrets;
            move |current: &mut Value| -> Result<(), SettingsError> {
                let mut incoming = incoming.clone();
                keep_configured_secrets(&mut incoming, current);
                // An export without secrets imported where there is no secret to keep: unset,
                // and said so in the response.
                for path in crate::fields::unset_configured_secrets(&mut incoming, "") {
                    unset_secrets
                        .borrow_mut()
                        .insert(format!("{}.{path}", section.as_str()));
                }
                if strategy == MergeStrategy::Overwrite {
                    *current = default_rendering(section);
                }
                merge_patch(current, &incoming);
                Ok(())
            }
        };
        let prefix = |section: Section, e: SettingsError| match e {
            SettingsError::Validation(fields) => SettingsError::Validation(
                fields
                    .into_iter()
                    .map(|f| FieldError {
                        field: format!("{}.{}", section.as_str(), f.field),
                        ..f
                    })
                    .collect(),
            ),
            SettingsError::UnknownFields(fields) => SettingsError::UnknownFields(
                fields
                    .into_iter()
                    .map(|f| format!("{}.{f}", section.as_str()))
                    .collect(),
            ),
            other => other,
        };
        let changes_of = |audit: &AuditRecord| -> Vec<Value> {
            audit
                .diff
                .get("changes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };

        let plan = |snapshot: crate::ports::Snapshot| -> Result<(Writes, Vec<SectionOutcome>), SettingsError> {
            let mut writes = Writes::default();
            let mut outcomes = Vec::new();
            for (name, current) in snapshot.sections {
                let section = Section::parse(&name).ok_or_else(|| corrupt("unknown section read"))?;
                let edit = edit_for(section);
                let (write, _) = self.section_write(actor, section, "settings.imported", &current, LockoutGuard { caller: actor.ip }, &edit).map_err(|e| prefix(section, e))?;
                outcomes.push(SectionOutcome { section, changes: changes_of(&write.audit), version: Some(current.version) });
                // Importing what is already there is no write (law 4).
                if !no_changes(&write.audit) {
                    writes.sections.push((name, write));
                }
            }
            if let Some(prefs) = snapshot.preferences {
                let edit = edit_for(Section::Preferences);
                let (write, _) = self.preferences_write(actor, &prefs.rows, default_tz, &edit).map_err(|e| prefix(Section::Preferences, e))?;
                outcomes.push(SectionOutcome { section: Section::Preferences, changes: changes_of(&write.audit), version: Some(prefs.version) });
                if !no_changes(&write.audit) {
                    writes.preferences = Some(write);
                }
            }
            Ok((writes, outcomes))
        };

        if validate_only {
            let snapshot = crate::ports::Snapshot {
                user: None,
                tier: stored.tier.clone(),
                sections: account_sections
                    .iter()
                    .map(|s| {
                        let found = stored.sections.iter().find(|d| d.section == s.as_str());
                        (
                            s.as_str().to_owned(),
                            CurrentSection {
                                document: found.map(|d| d.document.clone()),
                                version: found.map_or(0, |d| d.version),
                                allowlist: if *s == Section::Security {
                                    stored.allowlist.clone()
                                } else {
                                    Vec::new()
                                },
                            },
                        )
                    })
                    .collect(),
                preferences: with_prefs.then(|| crate::ports::CurrentPreferences {
                    rows: stored.preferences.clone(),
                    version: stored.preferences_version,
                }),
            };
            let (_, outcomes) = plan(snapshot)?;
            return Ok(ImportOutcome {
                validate_only: true,
                sections: outcomes,
                unset_secrets: unset_secrets.into_inner().into_iter().collect(),
            });
        }

        let mut outcomes = Vec::new();
        let applied =
            self.store
                .update(&self.context(actor), &names, with_prefs, &mut |snapshot| {
                    let (writes, planned) = plan(snapshot)?;
                    outcomes = planned;
                    Ok(writes)
                })?;
        if sections.contains(&Section::Security) {
            self.policies.invalidate(actor.account_id);
        }
        for outcome in &mut outcomes {
            let written = if outcome.section == Section::Preferences {
                applied.preferences
            } else {
                applied
                    .sections
                    .iter()
                    .find(|(n, _)| n == outcome.section.as_str())
                    .map(|(_, v)| *v)
            };
            // An unchanged section keeps the version it had.
            outcome.version = written.or(outcome.version);
        }
        Ok(ImportOutcome {
            validate_only: false,
            sections: outcomes,
            unset_secrets: unset_secrets.into_inner().into_iter().collect(),
        })
    }
}

/// A section's defaults in their stored form.
fn stored_default(section: Section) -> Result<Value, SettingsError> {
    match section {
        Section::Notifications => to_value(&NotificationSettings::default()),
        Section::Billing => to_value(&BillingSettings::default()),
        Section::Security => to_value(&SecurityPolicy::default()),
        Section::Integrations => to_value(&IntegrationSettings::default()),
        Section::Preferences => Ok(json!({})),
        Section::Organization => to_value(&OrganizationSettings::default()),
    }
}

/// A section's defaults rendered for merging (what `overwrite` starts from).
fn default_rendering(section: Section) -> Value {
    match section {
        Section::Notifications => NotificationSettings::default().render(&SecretView::Sealed),
        Section::Billing => BillingSettings::default().render(),
        Section::Security => SecurityPolicy::default().render(&[], None),
        Section::Integrations => IntegrationSettings::default().render(&SecretView::Sealed),
        Section::Preferences => UserPreferences::default().render(None),
        Section::Organization => to_value(&OrganizationSettings::default()).unwrap_or(Value::Null),
    }
}

/// The lockout guard of every write that can change enforcement (toggle, entry delete, list
/// replacement through any dialect, import, rollback): a policy that would refuse the caller's
/// own address — or admit no address at all, or a caller whose address is unknown — is refused.
/// There is no confirmation override (as GitHub refuses an allow list that excludes the
/// caller); the operator's CLI (`tenantry allowlist disable`) is the way around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockoutGuard {
    pub caller: Option<std::net::IpAddr>,
}

impl LockoutGuard {
    pub(crate) fn check(self, enforced: bool, list: &[Cidr]) -> Result<(), SettingsError> {
        if tenantry_security::AllowlistPolicy::new(enforced, list).allows(self.caller) {
            return Ok(());
        }
        Err(SettingsError::WouldLockOut {
            address: self
                .caller
                .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        })
    }
}

impl SettingsService {
    /// Switching off re-authentication for sensitive actions is itself one: a session older
    /// than the re-authentication window cannot do it while the policy asks for it, or a stale
    /// (or stolen) session would lift the rule and then do what the rule guards.
    fn reauth_to_relax_reauth(
        &self,
        actor: &Actor,
        before: &Value,
        after: &Value,
    ) -> Result<(), SettingsError> {
        let parse = |doc: &Value| -> Result<SecurityPolicy, SettingsError> {
            serde_json::from_value(doc.clone())
                .map_err(|e| corrupt(format!("security settings: {e}")))
        };
        let (before, after) = (parse(before)?, parse(after)?);
        if before.reauth_for_sensitive
            && !after.reauth_for_sensitive
            && actor.needs_reauth(true, self.clock.now())
        {
            return Err(SettingsError::ReauthRequired);
        }
        Ok(())
    }
}

/// True when a write's audit record lists no changes: nothing to store.
fn no_changes(audit: &AuditRecord) -> bool {
    audit
        .diff
        .get("changes")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
}

/// Takes the security section's read-only field out of a write: `two_factor.backup_codes` is
/// the caller's count of unused codes, shown by reads and ignored when sent back (output-only
/// fields, as Google AIP-203 treats them); anything but a count there is an error.
fn strip_read_only(patch: &mut Value) -> Result<(), SettingsError> {
    let Some(two_factor) = patch.get_mut("two_factor").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    match two_factor.remove("backup_codes") {
        None | Some(Value::Null) => Ok(()),
        Some(v) if v.as_u64().is_some() => Ok(()),
        Some(_) => Err(SettingsError::Validation(vec![FieldError {
            field: "two_factor.backup_codes".into(),
            message: "is read-only: the count of your unused backup codes".into(),
            allowed: None,
        }])),
    }
}

/// The stored document as history snapshots it: the security section carries the allowlist.
fn with_allowlist(section: Section, document: &Value, allowlist: &[String]) -> Value {
    let mut doc = document.clone();
    if section == Section::Security {
        doc["ip_allowlist"] = json!(allowlist);
    }
    doc
}

/// Turns what a reader collected into the error the seed prescribes, in its precedence:
/// unknown fields, then invalid allowlist entries, then other invalid values.
pub(crate) fn check<T>(
    fields: Fields,
    invalid_ips: Vec<String>,
    value: Option<T>,
) -> Result<T, SettingsError> {
    if !fields.unknown.is_empty() {
        return Err(SettingsError::UnknownFields(fields.unknown));
    }
    if !invalid_ips.is_empty() {
        return Err(SettingsError::InvalidIpWhitelist(invalid_ips));
    }
    if !fields.errors.is_empty() {
        return Err(SettingsError::Validation(fields.errors));
    }
    value.ok_or_else(|| corrupt("reader failed without reporting a field"))
}

impl Section {
    /// The role needed to change this section (API-MAP.md, issue 3): preferences are each
    /// member's own.
    pub fn required_role(self) -> Role {
        match self {
            Section::Notifications => Role::Developer,
            Section::Billing
            | Section::Security
            | Section::Integrations
            | Section::Organization => Role::Admin,
            Section::Preferences => Role::Viewer,
        }
    }

    pub(crate) fn letter(self) -> char {
        match self {
            Section::Notifications => 'n',
            Section::Billing => 'b',
            Section::Security => 's',
            Section::Integrations => 'i',
            Section::Organization => 'o',
            Section::Preferences => 'p',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_a_version_of_their_own_section_only() {
        assert_eq!(names_version(Section::Security, "s3"), Some(3));
        assert_eq!(
            names_version(Section::Security, "n1.b1.s7.i1.o1.p0"),
            Some(7)
        );
        for other in [
            "s2",
            "zzz",
            "b",
            "b-1",
            "b+2",
            "b02",
            "n1.b1.s7",
            "x1.b2.s1.i1.o1.p0",
            "",
        ] {
            assert_eq!(names_version(Section::Billing, other), None, "{other}");
        }
        let p = |h: &str| Preconditions::parse(Some(h), None).expect("valid syntax");
        assert_eq!(
            check_section(&p("\"b2\", \"b4\""), Section::Billing, 4),
            Ok(())
        );
        assert_eq!(check_section(&p("*"), Section::Billing, 9), Ok(()));
        // Never issued (another section's tag, unknown text, weak): the condition fails.
        for unknown in ["\"s2\"", "\"zzz\"", "W/\"b2\""] {
            assert_eq!(
                check_section(&p(unknown), Section::Billing, 2),
                Err(SettingsError::VersionConflict { current: 2 }),
                "{unknown}"
            );
        }
        assert!(Preconditions::parse(Some("b2"), None).is_err());
    }

    #[test]
    fn missing_sections_read_as_defaults() {
        let view = assemble(StoredSettings::default()).expect("assembles");
        assert_eq!(view.security, SecurityPolicy::default());
        assert_eq!(view.versions.etag(), "\"n0.b0.s0.i0.o0.p0\"");
    }

    #[test]
    fn corrupt_document_is_reported_not_defaulted() {
        let stored = StoredSettings {
            sections: vec![crate::ports::StoredSection {
                section: "billing".into(),
                document: json!({"currency": 5}),
                version: 1,
            }],
            ..Default::default()
        };
        assert!(matches!(
            assemble(stored),
            Err(SettingsError::Port(PortError::Corrupt(_)))
        ));
    }
}
