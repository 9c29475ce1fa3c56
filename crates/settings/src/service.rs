//! `SettingsService`: the account settings sections as one reader sees them, and the snapshot
//! and rendering caches that serve repeated reads while nothing was written on this node
//! (decision 0015 §2, §7). A section's writes are in `section_writes`, its history and rollback
//! in `history`, export and import in `export_import`, the entity tags preconditions compare in
//! `entity_tags`; all go through one validating write
//! (decisions 0002, 0011, 0018).

mod entity_tags;
mod export_import;
mod history;
mod section_writes;

use entity_tags::check_section;
pub use entity_tags::section_etag;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Page, PageRequest, PortError, RandomSource, Role, UserId,
};
use tenantry_security::{Cidr, Sealed, SecretBox};

use crate::billing_document;
use crate::fields::{
    contains_sealed_marker, keep_configured_secrets, merge_patch, FieldError, Fields, SecretView,
};
use crate::ports::{
    AuditRecord, CurrentSection, PreferencesWrite, SectionWrite, SettingsStore, StoredSettings,
    WriteContext, Writes,
};
use crate::{
    FailedPrecondition, IntegrationSettings, NotificationSettings, OrganizationSettings,
    Preconditions, Section, SecurityPolicy, SettingsError, UserPreferences,
};
use tenantry_billing::BillingSettings;

/// The account's settings as one reader (the calling user) sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSettings {
    /// Where and when the account is alerted.
    pub notifications: NotificationSettings,
    /// Plan, payment and auto-recharge.
    pub billing: BillingSettings,
    /// The security policy.
    pub security: SecurityPolicy,
    /// Connections to monitoring and registry services.
    pub integrations: IntegrationSettings,
    /// Organization-wide defaults.
    pub organization: OrganizationSettings,
    /// The reader's own display preferences.
    pub preferences: UserPreferences,
    /// IP allowlist entries.
    pub allowlist: Vec<Cidr>,
    /// The caller's unused MFA backup codes.
    pub unused_backup_codes: u32,
    /// Version of each section (and of the caller's preferences).
    pub versions: Versions,
}

/// The current version of each section (0 for one never written): what optimistic concurrency
/// compares a write's precondition against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions {
    /// The notifications section's version.
    pub notifications: i64,
    /// The billing section's version.
    pub billing: i64,
    /// The security section's version.
    pub security: i64,
    /// The integrations section's version.
    pub integrations: i64,
    /// The organization defaults' version.
    pub organization: i64,
    /// The highest version among the reader's preference rows.
    pub preferences: i64,
}

impl Versions {
    /// The version of `section`.
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

/// A section as returned by reads and writes: the account settings API's shape with secrets hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionView {
    /// Which section.
    pub section: Section,
    /// The section's document; secrets show as `{"configured": true}` or `null`, never in clear.
    pub document: Value,
    /// The section's version.
    pub version: i64,
    /// Its entity tag ([`section_etag`]), for the next write's precondition.
    pub etag: String,
}

/// How an import combines with what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStrategy {
    /// Like a section write: fields in the document replace stored ones, absent fields keep their value.
    Merge,
    /// Each imported section replaces the stored one; absent fields take their defaults.
    Overwrite,
}

/// What an import did (or, with `validate_only`, would do) to each section.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// Whether this was a dry run: nothing was written.
    pub validate_only: bool,
    /// Each imported section, in the order of [`Section::ALL`].
    pub sections: Vec<SectionOutcome>,
    /// Secrets the document showed only as `{"configured": true}` that this account does not
    /// have: left unset (dotted paths, e.g. `notifications.webhook.secret`).
    pub unset_secrets: Vec<String>,
}

/// What an import did (or would do) to one section.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionOutcome {
    /// Which section.
    pub section: Section,
    /// Each changed field as `{"path", "before", "after"}` ([`diff`](crate::diff)); secrets masked.
    pub changes: Vec<Value>,
    /// The new version; `None` for `validate_only`.
    pub version: Option<i64>,
}

/// One version of a section's history as shown to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    /// The version.
    pub version: i64,
    /// When it was written.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Who wrote it (a user id or `operator:…`); `None` when not recorded.
    pub updated_by: Option<String>,
    /// Each field it changed against the version before, as `{"path", "before", "after"}`
    /// ([`diff`](crate::diff)); secrets masked.
    pub changes: Vec<Value>,
}

/// The use cases of account settings: reading the sections as a member sees them, writing one
/// section (whole, as a merge patch or typed) with validation, optimistic concurrency, the
/// allowlist lockout guard, history and audit, rollback, export and import, notification tests
/// and the IP allowlist. Each method checks the actor's role for the section itself
/// ([`Section::required_role`]); callers pass the authenticated [`Actor`] and nothing more.
pub struct SettingsService {
    store: Arc<dyn SettingsStore>,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    deliverers: Option<crate::Deliverers>,
    /// This node's cache of enforced allowlists (the security context's), forgotten for an
    /// account whenever its security section or allowlist is written here.
    policies: Arc<tenantry_security::AllowlistCache>,
    /// Recent read snapshots per (account, user) for the read endpoints, valid while nothing
    /// was written on this node and for at most `SNAPSHOT_SECONDS`.
    snapshots: tenantry_kernel::EpochCache<(AccountId, UserId), StoredSettings>,
    /// The whole account settings document as sent, per (account, user), under the same rules as
    /// `snapshots`: parsing five sections and rendering them is most of a read's cost.
    rendered: tenantry_kernel::EpochCache<(AccountId, UserId), Arc<RenderedSettings>>,
    /// `security.audit.log_api_requests` per account, for the request-audit writer.
    request_audit_policies: tenantry_kernel::EpochCache<AccountId, bool>,
    /// The organization's default time zone per account, which a preferences write renders
    /// with: one small value instead of the whole snapshot on every write (decision 0050).
    default_timezones: tenantry_kernel::EpochCache<AccountId, tenantry_kernel::Timezone>,
}

/// Whether a loaded snapshot joins the snapshot cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Yes,
    No,
}

/// The account settings API's whole settings document as it goes on the wire, with its ETag: rendered once and
/// shared by the reads that follow while nothing changes.
#[derive(Debug, PartialEq, Eq)]
pub struct RenderedSettings {
    /// The whole document's entity tag ([`Versions::etag`]).
    pub etag: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// How long a read snapshot is served when nothing was written on this node and the change feed
/// is not followed: the bound after which another instance's change shows here (the same as the
/// allowlist policy cache's). While the feed is followed, an entry lives until a write to what
/// it holds is applied, at most `tenantry_kernel::FEED_MAX_LIFETIME` (decision 0047).
pub const SNAPSHOT_SECONDS: u64 = 2;
/// Entries per read cache: room for 10,000 active accounts' documents within one lifetime
/// (decision 0044 lists every cache's bound).
const SNAPSHOT_ENTRIES: usize = 16_384;

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

/// The member's preferences are theirs in every account, so only a credential of their own may
/// change them: a portal session (someone else's link, decision 0051) is `ReauthRequired`.
/// Every preferences write asks this: the section write, an import and the per-key routes.
pub(crate) fn check_preferences_writer(
    actor: &tenantry_kernel::Actor,
) -> Result<(), SettingsError> {
    if actor.is_portal_session() {
        return Err(SettingsError::ReauthRequired);
    }
    Ok(())
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

/// Integrations as public reads show them: the account settings API shows no token fields for GitHub and Docker
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
    /// One section in the account settings API's shape. `backup_codes` appears only in reads.
    pub fn render_section(
        &self,
        section: Section,
        secrets: &SecretView<'_>,
        for_read: bool,
    ) -> Value {
        match section {
            Section::Notifications => self.notifications.render(secrets),
            Section::Billing => billing_document::render(&self.billing),
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

    /// The account settings API's whole document (`sections` limits it, as export's `sections=` does).
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
    /// A service over `store`, opening and sealing secrets with `secrets`, taking time from
    /// `clock` and ids from `random`. Notification tests need [`Self::with_deliverers`].
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
            policies: Arc::default(),
            snapshots: read_cache(),
            rendered: read_cache(),
            request_audit_policies: read_cache(),
            default_timezones: read_cache(),
        }
    }

    /// Forgets an account's policy in `cache` whenever this service writes its security
    /// section or allowlist: pass the cache of the `AllowlistEnforcement` that serves this
    /// node's requests, or a change applies to them only after its time to live. Without it
    /// the service invalidates a cache of its own, which nothing reads.
    pub fn with_allowlist_cache(mut self, cache: Arc<tenantry_security::AllowlistCache>) -> Self {
        self.policies = cache;
        self
    }

    /// Enables notification tests with these transports.
    pub fn with_deliverers(mut self, deliverers: crate::Deliverers) -> Self {
        self.deliverers = Some(deliverers);
        self
    }

    /// The account settings API's notification test: sends a real message over `channel` (developer role, as for
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

    /// The actor's account sections plus the actor's own preferences. Every member may read
    /// them.
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

    /// One section as the actor sees it, with its version and entity tag; secrets show only as
    /// configured or not. Every member may read every section.
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

    /// The dotted paths of the secrets stored in `section` (`webhook.secret`,
    /// `docker.registries[0].access_token`): what a form shows as set, without showing it.
    /// Only for those who may change the section: the API's reads leave some of them out
    /// entirely (an integration's access token), so a reader learns nothing more here. An
    /// integrations section with a GitHub token stored answers `["github.access_token"]`.
    pub fn configured_secrets(
        &self,
        actor: &Actor,
        section: Section,
    ) -> Result<Vec<String>, SettingsError> {
        fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
            match v {
                Value::Object(map) if map.contains_key(crate::fields::SEALED_MARKER) => {
                    out.push(path.to_owned())
                }
                Value::Object(map) => {
                    for (k, v) in map {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        walk(v, &p, out);
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(v, &format!("{path}[{i}]"), out);
                    }
                }
                _ => {}
            }
        }
        Self::require(actor, section)?;
        let settings = self.account_settings(actor)?;
        let mut out = Vec::new();
        walk(
            &settings.render_section(section, &SecretView::Sealed, false),
            "",
            &mut out,
        );
        Ok(out)
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

    /// Whether the account records every API request (`security.audit.log_api_requests`): the
    /// request-audit writer asks for each batch. A miss reads the security section alone.
    pub fn logs_api_requests(&self, account: AccountId) -> Result<bool, SettingsError> {
        // Read before the section, so a write landing in between leaves the entry stale.
        let epoch = self.store.settings_epoch(account, None);
        if let Some(on) = self.request_audit_policies.get(&account, epoch) {
            return Ok(on);
        }
        let policy: SecurityPolicy = self.stored_section(account, Section::Security)?;
        self.request_audit_policies
            .put(account, policy.log_api_requests, epoch);
        Ok(policy.log_api_requests)
    }

    /// The organization's default time zone, which renders a preferences write's answer for a
    /// member who chose none. A miss reads the organization section alone.
    pub(crate) fn default_timezone(
        &self,
        account: AccountId,
    ) -> Result<tenantry_kernel::Timezone, SettingsError> {
        let epoch = self.store.settings_epoch(account, None);
        if let Some(tz) = self.default_timezones.get(&account, epoch) {
            return Ok(tz);
        }
        let org: OrganizationSettings = self.stored_section(account, Section::Organization)?;
        self.default_timezones
            .put(account, org.default_timezone, epoch);
        Ok(org.default_timezone)
    }

    /// The write epoch of what belongs to `account` alone (its sections and allowlist): what a
    /// cache of an account-wide policy answers to.
    pub fn account_epoch(&self, account: AccountId) -> tenantry_kernel::Epoch {
        self.store.settings_epoch(account, None)
    }

    /// One stored section parsed as [`assemble`] parses it (its defaults when never written),
    /// in one statement: for a single policy value, where loading the whole snapshot (every
    /// section, the preferences, the allowlist) would be most of the work.
    fn stored_section<T: DeserializeOwned + Default>(
        &self,
        account: AccountId,
        section: Section,
    ) -> Result<T, SettingsError> {
        match self.store.section_document(account, section.as_str())? {
            None => Ok(T::default()),
            Some(doc) => serde_json::from_value(doc)
                .map_err(|e| corrupt(format!("settings section {}: {e}", section.as_str()))),
        }
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

    pub(crate) fn policies(&self) -> &tenantry_security::AllowlistCache {
        &self.policies
    }

    pub(crate) fn write_context(&self, actor: &Actor) -> WriteContext {
        self.context(actor)
    }

    fn context(&self, actor: &Actor) -> WriteContext {
        WriteContext {
            account: actor.account_id,
            user: Some(actor.user_id),
            // The operator (or an embedder's external caller) acts with a member's rights, but
            // the audit trail says who it was.
            actor: actor.audit_name(),
            ip: actor.ip.map(|ip| ip.to_string()),
            at: self.clock.now(),
            ids: self.ids(),
        }
    }

    /// The service's clock and randomness, for ids the store mints in a write.
    pub(crate) fn ids(&self) -> crate::ports::IdSource {
        crate::ports::IdSource::new(self.clock.clone(), self.random.clone())
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
        Section::Billing => billing_document::render(&BillingSettings::default()),
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

/// Turns what a reader collected into the error the API document prescribes, in its precedence:
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
