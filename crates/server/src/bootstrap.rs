//! Creating accounts from the command line and on first start, and printing their keys once.

use std::io::Write;

use anyhow::{anyhow, Context};
use tenantry_kernel::{AccountName, Email};
use tenantry_security::{CredentialStore, OperatorKey, ProvisionedAccount, SecurityError};

use crate::wiring::Services;

pub fn create_account(
    services: &Services,
    name: &str,
    owner_email: &str,
    display_name: Option<&str>,
) -> anyhow::Result<ProvisionedAccount> {
    let name = AccountName::parse(name).map_err(|e| anyhow!("--account: {e}"))?;
    let email = Email::parse(owner_email).map_err(|e| anyhow!("owner email: {e}"))?;
    let documents = tenantry_settings::defaults::initial_documents();
    services
        .provisioning
        .create_account(name, display_name, &email, &documents)
        .map_err(|e| match e {
            SecurityError::AccountNameTaken(n) => anyhow!("an account named `{n}` already exists"),
            other => anyhow!(other),
        })
}

pub fn print_account(out: &mut impl Write, account: &ProvisionedAccount) -> std::io::Result<()> {
    writeln!(
        out,
        "account:        {} ({})",
        account.name, account.account_id
    )?;
    writeln!(
        out,
        "tenant id:      {}",
        account.account_id.to_uuid_string()
    )?;
    writeln!(out, "owner:          {}", account.owner_id)?;
    writeln!(out, "owner API key:  {}", account.owner_key.token())?;
    writeln!(
        out,
        "                (shown once: store it now; only its hash is kept)"
    )?;
    out.flush()
}

/// First start of `serve`: on an empty database, create the `default` account; unless an
/// operator key is configured, make sure one exists. Both keys are printed once, here.
pub fn first_start(
    services: &Services,
    owner_email: &str,
    operator_key_configured: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if services.provisioning.is_empty()? {
        let account = create_account(services, "default", owner_email, Some("Default account"))
            .context("creating the default account")?;
        writeln!(out, "== Tenantry first start: bootstrap ==")?;
        print_account(&mut out, &account)?;
    }
    if !operator_key_configured && services.store.operator_key_hash()?.is_none() {
        let key = OperatorKey::generate(services.random.as_ref());
        if services.store.store_operator_key_hash(key.hash())? {
            writeln!(out, "operator key:   {}", key.token())?;
            writeln!(
                out,
                "                (guards /admin; shown once, or set TENANTRY_OPERATOR_KEY)"
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
