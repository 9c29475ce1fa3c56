//! Creating accounts from the command line and on first start, and printing their keys once.

use std::io::Write;

use anyhow::anyhow;
use tenantry_kernel::{AccountName, DisplayName, Email};
use tenantry_security::{CredentialStore, OperatorKey, ProvisionedAccount, SecurityError};
use tenantry_team::ResetPurpose;

use crate::wiring::Services;

/// A new account and whether its owner was sent a password set-up link.
pub struct CreatedAccount {
    pub account: ProvisionedAccount,
    pub owner_email: Email,
    pub setup_link_sent: bool,
}

/// Creates the account and mails its owner a password set-up link (unless the owner already
/// has a password). The link is never printed: only the owner's mailbox holds it.
pub fn create_account(
    services: &Services,
    name: &str,
    owner_email: &str,
    display_name: Option<&str>,
) -> anyhow::Result<CreatedAccount> {
    let name = AccountName::parse(name).map_err(|e| anyhow!("--account: {e}"))?;
    let email = Email::parse(owner_email).map_err(|e| anyhow!("owner email: {e}"))?;
    // Blank means "the slug"; anything else follows the display-name rules.
    let display_name = display_name
        .filter(|d| !d.trim().is_empty())
        .map(|d| DisplayName::parse_with_max(d, DisplayName::MAX_ACCOUNT_CHARS))
        .transpose()
        .map_err(|e| anyhow!("--display-name: {e}"))?;
    let documents = tenantry_settings::defaults::initial_documents();
    let account = services
        .provisioning
        .create_account(
            name,
            display_name.as_ref().map(DisplayName::as_str),
            &email,
            &documents,
            tenantry_kernel::OperatorCaller::CLI,
        )
        .map_err(|e| match e {
            SecurityError::AccountNameTaken(n) => anyhow!("an account named `{n}` already exists"),
            other => anyhow!(other),
        })?;
    let setup_link_sent = services
        .team
        .request_password_reset(&email, ResetPurpose::Setup)
        .map_err(|e| anyhow!("sending the owner's password set-up link: {e}"))?;
    Ok(CreatedAccount {
        account,
        owner_email: email,
        setup_link_sent,
    })
}

pub fn print_account(out: &mut impl Write, created: &CreatedAccount) -> std::io::Result<()> {
    let account = &created.account;
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
    if created.setup_link_sent {
        writeln!(
            out,
            "password:       a set-up link was sent to {} (it is never shown here)",
            created.owner_email
        )?;
    }
    out.flush()
}

fn default_account_exists(services: &Services) -> anyhow::Result<bool> {
    let name = AccountName::parse("default").map_err(|e| anyhow!("{e}"))?;
    Ok(services.provisioning.find(&name)?.is_some())
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
        match create_account(services, "default", owner_email, Some("Default account")) {
            Ok(account) => {
                writeln!(out, "== Tenantry first start: bootstrap ==")?;
                print_account(&mut out, &account)?;
            }
            // Instances started together on one empty database all find it empty; one creates
            // the account and the others fail on its name or its owner's email. Whoever lost
            // finds the account there and carries on as any later start would.
            Err(e) if default_account_exists(services)? => {
                tracing::info!(error = %e, "another instance created the default account");
            }
            Err(e) => return Err(e.context("creating the default account")),
        }
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
