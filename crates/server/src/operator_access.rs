//! The operator's way back in for a member who lost their credentials: `tenantry users
//! reset-password` mails the member the reset link of `POST /api/auth/password-reset`, and
//! `tenantry api-keys create` prints a new key of theirs once. Both are audited in the account
//! with the actor `operator:cli`, and neither gives the member more than their role allows.

use std::io::Write;

use anyhow::{anyhow, bail};
use tenantry_kernel::{AccountName, Actor, Email};
use tenantry_security::MemberStatus;
use tenantry_team::{InvitationStore, MemberStore, TeamError};

use crate::cli::{ApiKeyCreateArgs, ResetPasswordArgs};
use crate::wiring::Services;

/// The operator acting in `account`, as the owner (the export and import do the same).
fn operator_in(services: &Services, account: &str) -> anyhow::Result<Actor> {
    let name = AccountName::parse(account).map_err(|e| anyhow!("--account: {e}"))?;
    services
        .provisioning
        .operator_actor(&name)?
        .ok_or_else(|| anyhow!("no account named `{name}`"))
}

pub fn reset_password(services: &Services, args: &ResetPasswordArgs) -> anyhow::Result<()> {
    let actor = operator_in(services, &args.account)?;
    let email = Email::parse(&args.email).map_err(|e| anyhow!("--email: {e}"))?;
    let sent = services
        .team
        .operator_password_reset(&actor, &email)
        .map_err(|e| match e {
            TeamError::MemberNotFound => {
                anyhow!("{email} is not a member of `{}`", args.account)
            }
            other => anyhow!(other),
        })?;
    if !sent {
        bail!("{email} already holds the most unused reset links allowed; ask them to use the latest one (each lives an hour)");
    }
    println!(
        "a password reset link was sent to {email} (it is never shown here; it lives an hour)"
    );
    Ok(())
}

pub fn create_api_key(services: &Services, args: &ApiKeyCreateArgs) -> anyhow::Result<()> {
    let operator = operator_in(services, &args.account)?;
    let email = Email::parse(&args.email).map_err(|e| anyhow!("--email: {e}"))?;
    let not_member = || anyhow!("{email} is not a member of `{}`", args.account);
    let user = services
        .store
        .user_by_email(&email)?
        .ok_or_else(not_member)?;
    let member = services
        .store
        .find_member(operator.account_id, user.id)?
        .ok_or_else(not_member)?;
    if member.status != MemberStatus::Active {
        bail!(
            "{email} is {} in `{}`: only an active member gets a key",
            member.status.as_str(),
            args.account
        );
    }
    // The key is the member's, bounded by the member's role (a viewer gets no admin scope),
    // made by the operator: the audit entry's actor is `operator:cli`.
    let actor = Actor {
        user_id: member.user_id,
        role: member.role,
        ..operator
    };
    let scopes: Vec<String> = args
        .scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        bail!("--scopes: name at least one scope (`*` for whatever the role allows)");
    }
    let (info, issued) = services
        .api_keys
        .create(&actor, &args.name, &scopes, args.expires_in_days)
        .map_err(|e| anyhow!(e))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "key id:   {}", info.id)?;
    writeln!(
        out,
        "holder:   {email} ({}, {})",
        member.user_id, member.role
    )?;
    writeln!(out, "scopes:   {}", info.scopes.join(","))?;
    writeln!(out, "API key:  {}", issued.token())?;
    writeln!(
        out,
        "          (shown once: hand it over now; only its hash is kept)"
    )?;
    out.flush()?;
    Ok(())
}
