//! Notification rules: which events go to which channels. An account's own rules are created,
//! replaced and deleted here; the built-in channels' rules follow the account settings and are
//! only read. Only admins (and the owner) read or change rules.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tenantry_kernel::{AccountId, Actor, Role, RuleId};

use crate::service::check_name;
use crate::{parse_rule_event, NotificationError, NotificationService, Rule};

/// A rule to create: which events go to which channels.
#[derive(Debug, Clone)]
pub struct NewRule {
    /// The rule's name.
    pub name: String,
    /// An event name, or `*` for all.
    pub event: String,
    /// The channels it sends to; each must be a channel of the account.
    pub channel_ids: Vec<String>,
    /// Conditions on the event's data (see [`crate::filters_match`]).
    pub filters: Map<String, Value>,
    /// Whether it routes events.
    pub enabled: bool,
}

impl NotificationService {
    /// Every rule of the account (admins only): the built-in channels' rules first, then its own.
    pub fn rules(&self, actor: &Actor) -> Result<Vec<Rule>, NotificationError> {
        actor.require(Role::Admin)?;
        let (_, mut rules) = self.d.builtins.builtin_routes(actor.account_id)?;
        rules.extend(self.d.store.rules(actor.account_id)?);
        Ok(rules)
    }

    /// One rule, built-in or the account's own.
    pub fn rule(&self, actor: &Actor, id: &str) -> Result<Rule, NotificationError> {
        self.rules(actor)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(NotificationError::NotFound("rule"))
    }

    /// Checks a rule as the API document states it (name, event, 1-20 known channels) and
    /// returns the fields to store, under `id` and `created_at`.
    fn checked_rule(
        &self,
        account: AccountId,
        new: NewRule,
        id: String,
        created_at: DateTime<Utc>,
    ) -> Result<Rule, NotificationError> {
        let name = check_name(&new.name)?;
        let event =
            parse_rule_event(&new.event).map_err(|m| NotificationError::invalid("event", m))?;
        if new.channel_ids.is_empty() || new.channel_ids.len() > 20 {
            return Err(NotificationError::invalid(
                "channel_ids",
                "must list 1-20 channel ids",
            ));
        }
        let known: Vec<String> = self
            .all_channels(account)?
            .into_iter()
            .map(|(c, _)| c.id)
            .collect();
        if let Some(unknown) = new.channel_ids.iter().find(|c| !known.contains(c)) {
            return Err(NotificationError::invalid(
                "channel_ids",
                format!("`{unknown}` is not a channel of this account"),
            ));
        }
        let mut channel_ids = new.channel_ids;
        channel_ids.dedup();
        Ok(Rule {
            id,
            name,
            event,
            channel_ids,
            filters: new.filters,
            enabled: new.enabled,
            builtin: false,
            created_at: Some(created_at),
        })
    }

    /// "Create or replace" (the user and organization API): the name keys a rule, so creating a
    /// rule under the name of one of the account's own rules replaces that rule (same id and
    /// creation time) and returns `false`; a new name creates a rule and returns `true`. Built-in
    /// rules follow another dialect's settings: their names cannot be taken.
    pub fn create_rule(
        &self,
        actor: &Actor,
        new: NewRule,
    ) -> Result<(Rule, bool), NotificationError> {
        actor.require(Role::Admin)?;
        let name = check_name(&new.name)?;
        let (_, builtins) = self.d.builtins.builtin_routes(actor.account_id)?;
        if builtins.iter().any(|r| r.name == name) {
            return Err(NotificationError::invalid(
                "name",
                "is the name of a built-in rule",
            ));
        }
        let existing = self
            .d
            .store
            .rules(actor.account_id)?
            .into_iter()
            .find(|r| r.name == name);
        if let Some(existing) = existing {
            let rule = self.replace_checked(actor, &existing, new)?;
            return Ok((rule, false));
        }
        let id = RuleId::generate(self.d.clock.as_ref(), self.d.random.as_ref()).to_string();
        let rule = self.checked_rule(actor.account_id, new, id, self.d.clock.now())?;
        let audit = self.audit(
            actor,
            "notifications.rule_created",
            json!({ "ruleId": rule.id, "event": rule.event, "channel_ids": rule.channel_ids }),
        );
        self.d.store.insert_rule(actor.account_id, &rule, &audit)?;
        Ok((rule, true))
    }

    /// Replaces every field of one of the account's own rules (PUT is a whole replacement: an
    /// absent `filters` clears them). Its name must not be another rule's, since names key
    /// "create or replace".
    pub fn replace_rule(
        &self,
        actor: &Actor,
        id: &str,
        new: NewRule,
    ) -> Result<Rule, NotificationError> {
        actor.require(Role::Admin)?;
        let existing = self.own_rule(actor.account_id, id)?;
        let name = check_name(&new.name)?;
        let (_, builtins) = self.d.builtins.builtin_routes(actor.account_id)?;
        let taken = builtins.iter().any(|r| r.name == name)
            || self
                .d
                .store
                .rules(actor.account_id)?
                .iter()
                .any(|r| r.name == name && r.id != existing.id);
        if taken {
            return Err(NotificationError::invalid(
                "name",
                "is the name of another rule",
            ));
        }
        self.replace_checked(actor, &existing, new)
    }

    fn replace_checked(
        &self,
        actor: &Actor,
        existing: &Rule,
        new: NewRule,
    ) -> Result<Rule, NotificationError> {
        let rule = self.checked_rule(
            actor.account_id,
            new,
            existing.id.clone(),
            existing.created_at.unwrap_or_else(|| self.d.clock.now()),
        )?;
        let unchanged = rule.name == existing.name
            && rule.event == existing.event
            && rule.channel_ids == existing.channel_ids
            && rule.filters == existing.filters
            && rule.enabled == existing.enabled;
        if unchanged {
            return Ok(existing.clone());
        }
        let audit = self.audit(
            actor,
            "notifications.rule_updated",
            json!({ "ruleId": rule.id, "name": rule.name, "event": rule.event, "channel_ids": rule.channel_ids, "enabled": rule.enabled }),
        );
        if !self.d.store.update_rule(actor.account_id, &rule, &audit)? {
            return Err(NotificationError::NotFound("rule"));
        }
        Ok(rule)
    }

    /// Deletes one of the account's own rules (admins only); `NotFound` for any other id.
    pub fn delete_rule(&self, actor: &Actor, id: &str) -> Result<(), NotificationError> {
        actor.require(Role::Admin)?;
        self.own_rule(actor.account_id, id)?;
        let audit = self.audit(actor, "notifications.rule_deleted", json!({ "ruleId": id }));
        if self.d.store.delete_rule(actor.account_id, id, &audit)? {
            Ok(())
        } else {
            Err(NotificationError::NotFound("rule"))
        }
    }

    /// One of the account's own rules; a built-in one is refused (it is another dialect's
    /// notification settings, changed there).
    fn own_rule(&self, account: AccountId, id: &str) -> Result<Rule, NotificationError> {
        let (_, builtins) = self.d.builtins.builtin_routes(account)?;
        if builtins.iter().any(|r| r.id == id) {
            return Err(NotificationError::BuiltinChannel(format!(
                "{id} is a built-in rule and follows the notification settings; change them instead"
            )));
        }
        self.d
            .store
            .rules(account)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(NotificationError::NotFound("rule"))
    }
}
