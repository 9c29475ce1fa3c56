//! The user and organization API's organization half: organization settings, log retention and the IP allowlist as
//! entries with ids and labels. Every change goes through the same transactional write, history
//! and audit as the other dialects, and the allowlist's lockout guard applies. The service takes
//! partial updates as domain values; reading them from the API's bodies, with that API's write
//! ranges, is the dialect's (`user_org/codec.rs`, decision 0043).
//!
//! An update is passed as a `Result`: `Err` when the body could not be read. That answer is
//! given only after the caller is known to be an admin, so a lower role learns nothing of how
//! the body is validated.

use serde_json::{json, Value};
use tenantry_kernel::{Actor, AuditId, Role};
use tenantry_security::{Cidr, IdleTimeout, RetentionDays, SessionLifetime};

use crate::ports::{AllowlistEntry, AuditRecord, SectionWrite, Writes};
use crate::service::LockoutGuard;
use crate::{OrganizationSettings, SecurityPolicy, SettingsError, SettingsService};
use tenantry_kernel::Timezone;

/// Why `require_sso: true` is refused.
pub const SSO_UNAVAILABLE: &str = "cannot be true: this service offers no single sign-on yet, so \
    requiring it would not be enforced; members sign in with their password (and MFA)";

/// Where data may reside.
pub const DATA_RESIDENCIES: [&str; 6] = ["us", "eu", "uk", "ca", "au", "ap"];

/// A partial change of the organization settings: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationUpdate {
    /// A new default timezone for members who chose none.
    pub default_timezone: Option<Timezone>,
    /// `true` is refused while no single sign-on exists ([`SSO_UNAVAILABLE`]).
    pub require_sso: Option<bool>,
    /// One of [`DATA_RESIDENCIES`].
    pub data_residency: Option<String>,
}

/// A partial change of the log retention, in days: `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogRetentionUpdate {
    /// Days run logs are kept.
    pub run_logs_days: Option<u32>,
    /// Days the audit log is kept (the security policy's audit retention).
    pub audit_logs_days: Option<RetentionDays>,
    /// Days diagnostic artifacts are kept.
    pub diagnostic_artifacts_days: Option<u32>,
}

/// A partial change of the session policy: `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionTimeoutUpdate {
    /// `Some(None)`: no idle timeout.
    pub idle_timeout_minutes: Option<Option<IdleTimeout>>,
    /// Minutes after sign-in at which a session ends, active or not.
    pub absolute_timeout_minutes: Option<SessionLifetime>,
    /// Whether activity pushes the idle timeout back.
    pub extend_on_activity: Option<bool>,
}

fn corrupt(e: impl std::fmt::Display) -> SettingsError {
    SettingsError::Port(tenantry_kernel::PortError::Corrupt(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned + Default>(
    doc: Option<&Value>,
) -> Result<T, SettingsError> {
    doc.map_or_else(
        || Ok(T::default()),
        |d| serde_json::from_value(d.clone()).map_err(corrupt),
    )
}

/// An edit of the organization and security sections and the allowlist; returns the
/// `(cidr, label)` pairs to label.
type OrgEdit<'a> = &'a mut dyn FnMut(
    &mut OrganizationSettings,
    &mut SecurityPolicy,
    &mut Vec<Cidr>,
) -> Result<Vec<(String, String)>, SettingsError>;

/// How long the account keeps its logs, in days: run logs and diagnostic artifacts from the
/// organization settings, the audit log from the security policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRetention {
    /// Days run logs are kept.
    pub run_logs_days: u32,
    /// Days the audit log is kept (the security policy's audit retention).
    pub audit_logs_days: RetentionDays,
    /// Days diagnostic artifacts are kept.
    pub diagnostic_artifacts_days: u32,
}

impl SettingsService {
    fn require_admin(actor: &Actor, what: &'static str) -> Result<(), SettingsError> {
        if actor.role >= Role::Admin {
            Ok(())
        } else {
            Err(SettingsError::Forbidden {
                section: what,
                required: Role::Admin,
                current: actor.role,
            })
        }
    }

    /// Edits the organization and/or security sections in one transaction. `edit` gets both
    /// current values and the allowlist and returns labels to set; the lockout guard applies.
    fn edit_org(
        &self,
        actor: &Actor,
        action: &str,
        edit: OrgEdit<'_>,
    ) -> Result<(OrganizationSettings, SecurityPolicy, Vec<Cidr>), SettingsError> {
        let mut result = None;
        self.store().update(
            &self.write_context(actor),
            &["organization", "security"],
            false,
            &mut |snapshot| {
                let mut org_doc = None;
                let mut sec_doc = None;
                let mut list_text = Vec::new();
                for (name, current) in &snapshot.sections {
                    match name.as_str() {
                        "organization" => org_doc = current.document.clone(),
                        _ => {
                            sec_doc = current.document.clone();
                            list_text = current.allowlist.clone();
                        }
                    }
                }
                let org_before: OrganizationSettings = parse(org_doc.as_ref())?;
                let sec_before: SecurityPolicy = parse(sec_doc.as_ref())?;
                let list_before: Vec<Cidr> = list_text
                    .iter()
                    .map(|c| Cidr::parse(c).map_err(corrupt))
                    .collect::<Result<_, _>>()?;
                let (mut org, mut sec, mut list) =
                    (org_before.clone(), sec_before.clone(), list_before.clone());
                let labels = edit(&mut org, &mut sec, &mut list)?;
                LockoutGuard { caller: actor.ip }.check(sec.ip_allowlist_enforced, &list)?;

                let mut writes = Writes {
                    allowlist_labels: labels,
                    ..Writes::default()
                };
                let org_after = serde_json::to_value(&org).map_err(corrupt)?;
                let org_changes = crate::diff::diff(
                    &serde_json::to_value(&org_before).map_err(corrupt)?,
                    &org_after,
                );
                if !org_changes.is_empty() {
                    writes.sections.push((
                        "organization".into(),
                        SectionWrite {
                            document: org_after.clone(),
                            history_document: org_after,
                            allowlist: None,
                            audit: AuditRecord {
                                id: AuditId::generate(self.clock(), self.random()),
                                action: action.into(),
                                target: "organization".into(),
                                diff: json!({ "section": "organization", "changes": org_changes }),
                            },
                        },
                    ));
                }
                let sec_after = serde_json::to_value(&sec).map_err(corrupt)?;
                let mut sec_history = sec_after.clone();
                sec_history["ip_allowlist"] =
                    json!(list.iter().map(ToString::to_string).collect::<Vec<_>>());
                let mut sec_before_history = serde_json::to_value(&sec_before).map_err(corrupt)?;
                sec_before_history["ip_allowlist"] = json!(list_text);
                let sec_changes = crate::diff::diff(&sec_before_history, &sec_history);
                if !sec_changes.is_empty() || !writes.allowlist_labels.is_empty() {
                    writes.sections.push((
                        "security".into(),
                        SectionWrite {
                            document: sec_after,
                            history_document: sec_history,
                            allowlist: (list != list_before).then(|| list.clone()),
                            audit: AuditRecord {
                                id: AuditId::generate(self.clock(), self.random()),
                                action: action.into(),
                                target: "security".into(),
                                diff: json!({ "section": "security", "changes": sec_changes }),
                            },
                        },
                    ));
                }
                result = Some((org, sec, list));
                Ok(writes)
            },
        )?;
        self.policies().invalidate(actor.account_id);
        result.ok_or_else(|| corrupt("store did not run the change"))
    }

    fn org_state(
        &self,
        actor: &Actor,
    ) -> Result<(OrganizationSettings, SecurityPolicy), SettingsError> {
        let settings = self.account_settings(actor)?;
        Ok((settings.organization, settings.security))
    }

    /// The organization settings; every member may read them.
    pub fn organization_settings(
        &self,
        actor: &Actor,
    ) -> Result<OrganizationSettings, SettingsError> {
        Ok(self.org_state(actor)?.0)
    }

    /// Changes the given fields of the organization settings (admins; `Forbidden` below).
    /// `update` is `Err` when the request could not be read; that error is returned only after
    /// the role check. `Validation` for a data residency outside [`DATA_RESIDENCIES`] or for
    /// turning on `require_sso`.
    pub fn update_organization_settings(
        &self,
        actor: &Actor,
        update: Result<OrganizationUpdate, SettingsError>,
    ) -> Result<OrganizationSettings, SettingsError> {
        Self::require_admin(actor, "organization")?;
        let update = update?;
        if let Some(r) = &update.data_residency {
            if !DATA_RESIDENCIES.contains(&r.as_str()) {
                return Err(SettingsError::Validation(vec![crate::FieldError {
                    field: "data_residency".into(),
                    message: format!("must be one of: {}", DATA_RESIDENCIES.join(", ")),
                    allowed: Some(json!(DATA_RESIDENCIES)),
                }]));
            }
        }
        let (org, _, _) = self.edit_org(actor, "organization.updated", &mut |org, _, _| {
            if let Some(tz) = update.default_timezone {
                org.default_timezone = tz;
            }
            if let Some(sso) = update.require_sso {
                // Tenantry has no single sign-on: storing "required" would promise members a
                // sign-in rule nothing enforces. Turning it on is refused; off, and the value
                // already stored (a `true` from before this rule, sent back as read), pass.
                if sso && !org.sso_required {
                    return Err(SettingsError::Validation(vec![crate::FieldError {
                        field: "require_sso".into(),
                        message: SSO_UNAVAILABLE.into(),
                        allowed: None,
                    }]));
                }
                org.sso_required = sso;
            }
            if let Some(r) = &update.data_residency {
                org.data_residency = r.clone();
            }
            Ok(Vec::new())
        })?;
        Ok(org)
    }

    /// How long the account keeps its logs; every member may read it.
    pub fn log_retention(&self, actor: &Actor) -> Result<LogRetention, SettingsError> {
        let (org, sec) = self.org_state(actor)?;
        Ok(LogRetention {
            run_logs_days: org.run_logs_days,
            audit_logs_days: sec.audit_retention_days,
            diagnostic_artifacts_days: org.diagnostic_artifacts_days,
        })
    }

    /// Changes the given retention periods (admins; `Forbidden` below), organization and
    /// security sections in one transaction. The values are stored as given: the caller checks
    /// their range.
    pub fn update_log_retention(
        &self,
        actor: &Actor,
        update: Result<LogRetentionUpdate, SettingsError>,
    ) -> Result<LogRetention, SettingsError> {
        Self::require_admin(actor, "log retention")?;
        let update = update?;
        let (org, sec, _) = self.edit_org(actor, "settings.updated", &mut |org, sec, _| {
            if let Some(v) = update.run_logs_days {
                org.run_logs_days = v;
            }
            if let Some(v) = update.audit_logs_days {
                sec.audit_retention_days = v;
            }
            if let Some(v) = update.diagnostic_artifacts_days {
                org.diagnostic_artifacts_days = v;
            }
            Ok(Vec::new())
        })?;
        Ok(LogRetention {
            run_logs_days: org.run_logs_days,
            audit_logs_days: sec.audit_retention_days,
            diagnostic_artifacts_days: org.diagnostic_artifacts_days,
        })
    }

    /// The account's IP allowlist entries with their ids and labels, in the order they were
    /// added (admins: the list reveals the network layout; `Forbidden` below). The user and
    /// organization API serves it; [`SettingsService::allowlist_blocks`] is the typed form.
    pub fn allowlist_entries(&self, actor: &Actor) -> Result<Vec<AllowlistEntry>, SettingsError> {
        Self::require_admin(actor, "IP whitelist")?;
        Ok(self.store().allowlist_entries(actor.account_id)?)
    }

    /// Adds one allowlist entry from its text form (an address or CIDR block) with an optional
    /// label: `InvalidIpWhitelist` when the text is neither, else as
    /// [`SettingsService::add_to_allowlist`], the typed form.
    pub fn add_allowlist_entry(
        &self,
        actor: &Actor,
        cidr: &str,
        label: Option<&str>,
    ) -> Result<AllowlistEntry, SettingsError> {
        Self::require_admin(actor, "IP whitelist")?;
        let cidr = Cidr::parse(cidr)
            .map_err(|_| SettingsError::InvalidIpWhitelist(vec![cidr.to_owned()]))?;
        self.add_allowlist_block(actor, cidr, label.unwrap_or(""))
    }

    /// Adds `cidr` with `label` (trimmed; at most 200 printable characters) as the admin
    /// `actor`; `AllowlistEntryExists` when the list holds the block, `Validation` for a bad
    /// label or a full list (1000 entries), `WouldLockOut` when enforcement would refuse the
    /// caller's own address.
    pub(crate) fn add_allowlist_block(
        &self,
        actor: &Actor,
        cidr: Cidr,
        label: &str,
    ) -> Result<AllowlistEntry, SettingsError> {
        Self::require_admin(actor, "IP whitelist")?;
        let label = label.trim().to_owned();
        if label.chars().count() > 200 || label.chars().any(char::is_control) {
            return Err(SettingsError::Validation(vec![crate::FieldError {
                field: "label".into(),
                message: "must be at most 200 printable characters".into(),
                allowed: None,
            }]));
        }
        let text = cidr.to_string();
        let added = self.edit_org(
            actor,
            "security.allowlist_entry_added",
            &mut |_, _, list| {
                // Checked inside the write transaction, so two concurrent adds of one block
                // cannot both succeed; an add never relabels an entry (that would be an edit
                // through a create, invisible in the answer's status).
                if list.contains(&cidr) {
                    return Err(SettingsError::AllowlistEntryExists {
                        cidr: text.clone(),
                        id: None,
                    });
                }
                if list.len() >= 1000 {
                    return Err(SettingsError::Validation(vec![crate::FieldError {
                        field: "cidr".into(),
                        message: "the allowlist holds at most 1000 entries".into(),
                        allowed: None,
                    }]));
                }
                list.push(cidr);
                Ok(vec![(text.clone(), label.clone())])
            },
        );
        if let Err(SettingsError::AllowlistEntryExists { cidr, .. }) = added {
            let id = self
                .store()
                .allowlist_entries(actor.account_id)?
                .into_iter()
                .find(|e| e.cidr == cidr)
                .map(|e| e.id);
            return Err(SettingsError::AllowlistEntryExists { cidr, id });
        }
        added?;
        self.store()
            .allowlist_entries(actor.account_id)?
            .into_iter()
            .find(|e| e.cidr == text)
            .ok_or_else(|| corrupt("added entry not found"))
    }

    /// Removes the allowlist entry with this id (admins); `UnknownEntry` for an id the account
    /// does not hold, `WouldLockOut` when the rest of an enforced list would refuse the caller.
    pub fn remove_allowlist_entry(&self, actor: &Actor, id: &str) -> Result<(), SettingsError> {
        Self::require_admin(actor, "IP whitelist")?;
        let entry = self
            .store()
            .allowlist_entries(actor.account_id)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(SettingsError::UnknownEntry)?;
        let cidr = Cidr::parse(&entry.cidr).map_err(corrupt)?;
        self.edit_org(
            actor,
            "security.allowlist_entry_removed",
            &mut |_, _, list| {
                list.retain(|c| *c != cidr);
                Ok(Vec::new())
            },
        )?;
        Ok(())
    }

    /// Turns allowlist enforcement on or off (admins; the lockout guard applies, with no
    /// override: see `LockoutGuard`).
    pub fn toggle_allowlist(&self, actor: &Actor, enabled: bool) -> Result<bool, SettingsError> {
        Self::require_admin(actor, "IP whitelist")?;
        let (_, sec, _) = self.edit_org(actor, "settings.updated", &mut |_, sec, _| {
            sec.ip_allowlist_enforced = enabled;
            Ok(Vec::new())
        })?;
        Ok(sec.ip_allowlist_enforced)
    }
}

/// The session part of the security policy, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeout {
    /// Minutes without activity after which a session ends; `None`: no idle timeout.
    pub idle_timeout_minutes: Option<IdleTimeout>,
    /// Minutes after sign-in at which a session ends, active or not.
    pub absolute_timeout_minutes: SessionLifetime,
    /// Whether activity pushes the idle timeout back.
    pub extend_on_activity: bool,
}

impl From<&SecurityPolicy> for SessionTimeout {
    fn from(p: &SecurityPolicy) -> Self {
        Self {
            idle_timeout_minutes: p.idle_timeout_minutes,
            absolute_timeout_minutes: p.absolute_session_minutes,
            extend_on_activity: p.extend_on_activity,
        }
    }
}

impl SettingsService {
    /// The session policy; every member may read it.
    pub fn session_timeout(&self, actor: &Actor) -> Result<SessionTimeout, SettingsError> {
        Ok(SessionTimeout::from(&self.org_state(actor)?.1))
    }

    /// Changes the given fields of the session policy (admins; `Forbidden` below). The values
    /// are stored as given: the caller checks their range.
    pub fn update_session_timeout(
        &self,
        actor: &Actor,
        update: Result<SessionTimeoutUpdate, SettingsError>,
    ) -> Result<SessionTimeout, SettingsError> {
        Self::require_admin(actor, "session")?;
        let update = update?;
        let (_, sec, _) = self.edit_org(actor, "settings.updated", &mut |_, sec, _| {
            if let Some(v) = update.idle_timeout_minutes {
                sec.idle_timeout_minutes = v;
            }
            if let Some(v) = update.absolute_timeout_minutes {
                sec.absolute_session_minutes = v;
            }
            if let Some(v) = update.extend_on_activity {
                sec.extend_on_activity = v;
            }
            Ok(Vec::new())
        })?;
        Ok(SessionTimeout::from(&sec))
    }
}
