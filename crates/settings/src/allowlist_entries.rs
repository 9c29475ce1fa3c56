//! The IP allowlist as typed entries, for programs that link the crates: blocks are [`Cidr`]s,
//! each with a description. Every call is the same write as the user and organization
//! settings API's allowlist (admins only, at most 1000 entries, the lockout guard, history and
//! an audit entry naming the actor).

use chrono::{DateTime, Utc};
use tenantry_kernel::{Actor, PortError};
use tenantry_security::Cidr;

use crate::{SettingsError, SettingsService};

/// One allowlist entry, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowlistBlock {
    /// The entry's id (what the APIs name it by).
    pub id: String,
    /// The addresses it admits.
    pub block: Cidr,
    /// What the block is (an office, a VPN egress); may be empty.
    pub description: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Who added it, as the audit log names them (absent for entries from an import).
    pub created_by: Option<String>,
}

impl SettingsService {
    /// The account's allowlist in the order the entries were added (admins: the list reveals
    /// the network layout). `Forbidden` below admin; `Port(Corrupt)` for a stored block that
    /// does not parse.
    pub fn allowlist_blocks(&self, actor: &Actor) -> Result<Vec<AllowlistBlock>, SettingsError> {
        self.allowlist_entries(actor)?
            .into_iter()
            .map(|e| {
                let block = Cidr::parse(&e.cidr).map_err(|err| {
                    SettingsError::Port(PortError::Corrupt(format!(
                        "allowlist entry {}: {err}",
                        e.cidr
                    )))
                })?;
                Ok(AllowlistBlock {
                    id: e.id,
                    block,
                    description: e.label,
                    created_at: e.created_at,
                    created_by: e.created_by,
                })
            })
            .collect()
    }

    /// Adds `block` with `description` (at most 200 printable characters). Errors:
    /// `Forbidden` below admin, `AllowlistEntryExists` when the list already holds the block
    /// (the existing entry keeps its description), `Validation` for a bad description or a
    /// full list, `WouldLockOut` when enforcement is on and the list would refuse the
    /// caller's own address.
    pub fn add_to_allowlist(
        &self,
        actor: &Actor,
        block: Cidr,
        description: &str,
    ) -> Result<AllowlistBlock, SettingsError> {
        let entry = self.add_allowlist_block(actor, block, description)?;
        Ok(AllowlistBlock {
            id: entry.id,
            block,
            description: entry.label,
            created_at: entry.created_at,
            created_by: entry.created_by,
        })
    }

    /// Removes the entry for `block`. Errors: `Forbidden` below admin, `UnknownEntry` when
    /// the list does not hold it, `WouldLockOut` when enforcement is on and the rest of the
    /// list would refuse the caller's own address.
    pub fn remove_from_allowlist(&self, actor: &Actor, block: Cidr) -> Result<(), SettingsError> {
        let id = self
            .allowlist_blocks(actor)?
            .into_iter()
            .find(|e| e.block == block)
            .map(|e| e.id)
            .ok_or(SettingsError::UnknownEntry)?;
        self.remove_allowlist_entry(actor, &id)
    }
}
