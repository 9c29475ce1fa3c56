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
    /// The entry's id.
    pub id: tenantry_kernel::AuditId,
    /// Who acted, as the audit log names them ([`tenantry_kernel::Actor::audit_name`]; the
    /// user's id when a member acts through a mailed link of their own).
    pub actor: String,
    /// What was done (`member.role_changed`, ...).
    pub action: &'static str,
    /// When.
    pub at: DateTime<Utc>,
    /// The client address, if known.
    pub ip: Option<String>,
    /// What changed (before and after, secrets masked).
    pub details: Value,
}

/// One authenticated API request, for the request audit (`audit.log_api_requests`): recorded as
/// an `api.request` entry whose target is `METHOD path` and whose details carry the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequestRecord {
    /// The account called.
    pub account: tenantry_kernel::AccountId,
    /// The member whose credential made the request.
    pub user: tenantry_kernel::UserId,
    /// The HTTP method.
    pub method: String,
    /// The path without its query string (ids, never secrets: credentials travel in headers).
    pub path: String,
    /// The response status.
    pub status: u16,
    /// The client address, if known.
    pub ip: Option<String>,
    /// The request id, which ties the entry to the server's log line.
    pub request_id: Option<String>,
    /// When the request was answered.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The entry's id.
    pub id: String,
    /// `usr_...` for members, `operator:env`, `operator:opk_...` or `operator:cli` for the
    /// operator, `external:<subject>` for a caller an embedding program vouched for.
    pub actor: String,
    /// What was done (`member.role_changed`, ...).
    pub action: String,
    /// What it was done to (a member, key, channel id), if anything.
    pub target: Option<String>,
    /// Before/after differences (secrets masked) or other details of the action.
    pub details: Option<Value>,
    /// The client address, if known.
    pub ip: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// Which entries to list. Every condition is optional; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Only entries by this actor (as the entry names it).
    pub actor: Option<String>,
    /// Only entries of this action.
    pub action: Option<String>,
    /// Only entries made at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only entries made before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Reads the audit log. Every method returns `PortError` when the store fails.
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

/// Reading the audit log: admins and the owner read their account's, the operator any account's and
/// the instance's own.
pub struct AuditService {
    reader: Arc<dyn AuditLogReader>,
}

impl AuditService {
    /// The service over `reader`.
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
