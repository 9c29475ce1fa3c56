//! `tenantry check`: the database's own integrity and every account's stored settings read back
//! through the API's parsers. `restore` runs the same check on a copy before it takes its place.

use crate::wiring::Services;

/// What the check found: how many accounts it read and one line per problem.
pub struct CheckReport {
    pub accounts: usize,
    pub problems: Vec<String>,
}

pub fn run(services: &Services) -> anyhow::Result<CheckReport> {
    let mut problems = services.store.integrity_problems()?;
    let mut page = tenantry_kernel::PageRequest::default();
    let mut accounts = 0;
    loop {
        let listed = services.provisioning.list_accounts(&page)?;
        for account in &listed.items {
            accounts += 1;
            match services.provisioning.operator_actor(&account.name) {
                Ok(Some(actor)) => problems.extend(services.settings.check_documents(&actor)),
                Ok(None) => problems.push(format!("{}: listed but not found by name", account.id)),
                Err(e) => problems.push(format!("{}: {e}", account.id)),
            }
        }
        match listed.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    Ok(CheckReport { accounts, problems })
}
