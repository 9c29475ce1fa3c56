//! Reading the audit log: who changed what, when, from where. Entries are written by the
//! services that make the changes, in the same transaction; this module only reads them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tenantry_kernel::{AccountId, Actor, Page, PageRequest, PortError, Role};

use crate::SecurityError;

/// The audit entry a change writes in its own transaction (team and notification changes):
/// who did what, when, from where, with the details the log shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeAudit {
    pub id: tenantry_kernel::AuditId,
    /// Who acted, as the audit log names them ([`tenantry_kernel::Actor::audit_name`]; the
    /// user's id when a member acts through a mailed link of their own).
    pub actor: String,
    pub action: &'static str,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
    pub details: Value,
}

/// One authenticated API request, for the request audit (`audit.log_api_requests`): recorded as
/// an `api.request` entry whose target is `METHOD path` and whose details carry the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequestRecord {
    pub account: tenantry_kernel::AccountId,
    pub user: tenantry_kernel::UserId,
    pub method: String,
    /// The path without its query string (ids, never secrets: credentials travel in headers).
    pub path: String,
    pub status: u16,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    /// `usr_...` for members, `operator:env`, `operator:opk_...` or `operator:cli` for the operator,
    /// `external:<subject>` for a caller an embedding program vouched for.
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// Before/after differences (secrets masked) or other details of the action.
    pub details: Option<Value>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Which entries to list. Every condition is optional; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub trait AuditLogReader: Send + Sync {
    /// The account's entries matching `filter`, newest first, one keyset page. `None`: the
    /// instance's own entries (the operator's keys), which belong to no account; no member's
    /// request ever asks for those.
    fn list_audit(
        &self,
        account: Option<AccountId>,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, PortError>;
}

pub struct AuditService {
    reader: Arc<dyn AuditLogReader>,
}

impl AuditService {
    pub fn new(reader: Arc<dyn AuditLogReader>) -> Self {
        Self { reader }
    }

    /// An account's audit log for the operator (the command line; no account credential), or
    /// with `None` the instance's own (the operator's keys).
    pub fn list_for_operator(
        &self,
        account: Option<AccountId>,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, SecurityError> {
        Ok(self.reader.list_audit(account, filter, page)?)
    }

    /// The audit log of the actor's account; admins and the owner only.
    pub fn list(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, SecurityError> {
        actor.require(Role::Admin)?;
        Ok(self
            .reader
            .list_audit(Some(actor.account_id), filter, page)?)
    }
}
