//! `AccountStore`: creating accounts with their owner, first key and default settings.

use diesel::prelude::*;
use tenantry_kernel::{AccountId, Cursor, Page, PageRequest, PortError, UserId};
use tenantry_security::{AccountStore, AccountSummary, MemberStatus, NewAccount};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{accounts, api_keys, memberships, settings_documents, settings_history, users};
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};

impl AccountStore for Store {
    fn create_account(&self, new: NewAccount<'_>) -> Result<UserId, PortError> {
        let now = to_micros(new.created_at);
        let account_id = new.id.to_string();
        let owner = self.write(|conn| -> Result<_, StoreError> {
            diesel::insert_into(accounts::table)
                .values((
                    accounts::id.eq(&account_id),
                    accounts::name.eq(new.name.as_str()),
                    accounts::display_name.eq(new.display_name),
                    accounts::tier.eq("free"),
                    accounts::created_at.eq(now),
                ))
                .execute(conn)?;

            let existing = users::table
                .filter(users::email.eq(new.owner_email.as_str()))
                .select(users::id)
                .first::<String>(conn)
                .optional()?;
            let owner_id = match existing {
                Some(id) => id,
                None => {
                    let id = new.owner_id.to_string();
                    diesel::insert_into(users::table)
                        .values((
                            users::id.eq(&id),
                            users::email.eq(new.owner_email.as_str()),
                            users::created_at.eq(now),
                        ))
                        .execute(conn)?;
                    id
                }
            };

            diesel::insert_into(memberships::table)
                .values((
                    memberships::account_id.eq(&account_id),
                    memberships::user_id.eq(&owner_id),
                    memberships::role.eq("owner"),
                    memberships::status.eq(MemberStatus::Active.as_str()),
                    memberships::created_at.eq(now),
                ))
                .execute(conn)?;

            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::id.eq(new.owner_key.id.to_string()),
                    api_keys::account_id.eq(&account_id),
                    api_keys::user_id.eq(&owner_id),
                    api_keys::name.eq("bootstrap owner key"),
                    api_keys::display_prefix.eq(new.owner_key.display_prefix()),
                    api_keys::secret_hash.eq(new.owner_key.hash.to_hex()),
                    api_keys::created_at.eq(now),
                ))
                .execute(conn)?;

            for (section, document) in new.initial_documents {
                diesel::insert_into(settings_documents::table)
                    .values((
                        settings_documents::account_id.eq(&account_id),
                        settings_documents::section.eq(section),
                        settings_documents::document.eq(document),
                        settings_documents::version.eq(1_i64),
                        settings_documents::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                diesel::insert_into(settings_history::table)
                    .values((
                        settings_history::account_id.eq(&account_id),
                        settings_history::section.eq(section),
                        settings_history::version.eq(1_i64),
                        settings_history::document.eq(document),
                        settings_history::updated_at.eq(now),
                    ))
                    .execute(conn)?;
            }

            insert_entry(
                conn,
                NewEntry {
                    id: new.audit_id.to_string(),
                    account: &account_id,
                    actor: &new.by.actor(),
                    action: "account.created",
                    target: Some(&account_id),
                    diff: Some(
                        serde_json::json!({ "name": new.name.as_str(), "owner": &owner_id })
                            .to_string(),
                    ),
                    ip: new.by.address().as_deref(),
                    at: new.created_at,
                },
            )?;
            Ok(owner_id)
        })?;
        owner
            .parse()
            .map_err(|_| PortError::Corrupt(format!("user id `{owner}`")))
    }

    fn account_count(&self) -> Result<u64, PortError> {
        let n = self.read(|conn| Ok(accounts::table.count().get_result::<i64>(conn)?))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn update_account(
        &self,
        id: AccountId,
        tier: Option<&str>,
        display_name: Option<&str>,
        audit_id: tenantry_kernel::AuditId,
        at: chrono::DateTime<chrono::Utc>,
        by: tenantry_kernel::OperatorCaller,
    ) -> Result<bool, PortError> {
        let epoch_account = id;
        let account = id.to_string();
        Ok(self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
            let before = accounts::table
                .filter(accounts::id.eq(&account))
                .select((accounts::tier, accounts::display_name))
                .first::<(String, String)>(conn)
                .optional()?;
            let Some((old_tier, old_name)) = before else { return Ok(false) };
            let new_tier = tier.unwrap_or(&old_tier);
            let new_name = display_name.unwrap_or(&old_name);
            diesel::update(accounts::table.filter(accounts::id.eq(&account)))
                .set((accounts::tier.eq(new_tier), accounts::display_name.eq(new_name)))
                .execute(conn)?;
            insert_entry(
                conn,
                NewEntry {
                    id: audit_id.to_string(),
                    account: &account,
                    actor: &by.actor(),
                    action: "account.updated",
                    target: Some(&account),
                    diff: Some(
                        serde_json::json!({ "tier": [old_tier, new_tier], "display_name": [old_name, new_name] })
                            .to_string(),
                    ),
                    ip: by.address().as_deref(),
                    at,
                },
            )?;
            Ok(true)
        })?)
    }

    fn account(&self, id: AccountId) -> Result<Option<AccountSummary>, PortError> {
        let row = self.read(|conn| {
            Ok(accounts::table
                .filter(accounts::id.eq(id.to_string()))
                .select((
                    accounts::name,
                    accounts::display_name,
                    accounts::tier,
                    accounts::created_at,
                ))
                .first::<(String, String, String, i64)>(conn)
                .optional()?)
        })?;
        row.map(|(name, display_name, tier, created_at)| {
            Ok(AccountSummary {
                id,
                name: name
                    .parse()
                    .map_err(|_| PortError::Corrupt(format!("account name `{name}`")))?,
                display_name,
                tier,
                created_at: from_micros(created_at),
            })
        })
        .transpose()
    }

    fn account_owner(&self, id: AccountId) -> Result<Option<UserId>, PortError> {
        let user = self.read(|conn| {
            Ok(memberships::table
                .filter(memberships::account_id.eq(id.to_string()))
                .filter(memberships::role.eq(tenantry_kernel::Role::Owner.as_str()))
                .filter(memberships::status.eq(MemberStatus::Active.as_str()))
                .order((memberships::created_at.asc(), memberships::user_id.asc()))
                .select(memberships::user_id)
                .first::<String>(conn)
                .optional()?)
        })?;
        user.map(|u| {
            u.parse()
                .map_err(|_| PortError::Corrupt(format!("user id `{u}`")))
        })
        .transpose()
    }

    fn account_by_name(
        &self,
        name: &tenantry_kernel::AccountName,
    ) -> Result<Option<AccountId>, PortError> {
        let id = self.read(|conn| {
            Ok(accounts::table
                .filter(accounts::name.eq(name.as_str()))
                .select(accounts::id)
                .first::<String>(conn)
                .optional()?)
        })?;
        id.map(|id| {
            id.parse()
                .map_err(|_| PortError::Corrupt(format!("account id `{id}`")))
        })
        .transpose()
    }

    fn list_accounts(&self, page: &PageRequest) -> Result<Page<AccountSummary>, PortError> {
        let limit = i64::from(page.limit);
        let rows = self.read(|conn| {
            let mut query = accounts::table
                .select((
                    accounts::id,
                    accounts::name,
                    accounts::display_name,
                    accounts::tier,
                    accounts::created_at,
                ))
                .order((accounts::created_at.asc(), accounts::id.asc()))
                .limit(limit + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(
                    accounts::created_at
                        .gt(after.created_at_micros)
                        .or(accounts::created_at
                            .eq(after.created_at_micros)
                            .and(accounts::id.gt(after.id.clone()))),
                );
            }
            Ok(query.load::<(String, String, String, String, i64)>(conn)?)
        })?;
        let has_more = rows.len() > page.limit as usize;
        let mut items = Vec::with_capacity(rows.len());
        for (id, name, display_name, tier, created_at) in rows.into_iter().take(page.limit as usize)
        {
            items.push(AccountSummary {
                id: id
                    .parse::<AccountId>()
                    .map_err(|_| PortError::Corrupt(format!("account id `{id}`")))?,
                name: name
                    .parse()
                    .map_err(|_| PortError::Corrupt(format!("account name `{name}`")))?,
                display_name,
                tier,
                created_at: from_micros(created_at),
            });
        }
        let next = if has_more {
            items.last().map(|a| Cursor {
                created_at_micros: to_micros(a.created_at),
                id: a.id.to_string(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }
}
