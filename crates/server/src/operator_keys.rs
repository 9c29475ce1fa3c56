//! `tenantry operators create|list|rotate|revoke`: named operator keys. Whoever runs these
//! holds the database (and its key file), which is already more than any operator key opens;
//! each change is audited as `operator:cli`.

use std::io::Write;

use anyhow::anyhow;
use tenantry_kernel::{OperatorCredential, OperatorKeyId};
use tenantry_security::{OperatorKeyName, OperatorKeyService, SecurityError};

use crate::cli::{OperatorCreateArgs, OperatorKeyArgs};
use crate::wiring::Services;

fn service(services: &Services) -> OperatorKeyService<'_> {
    OperatorKeyService {
        store: &services.store,
        clock: services.clock.as_ref(),
        random: services.random.as_ref(),
    }
}

fn id(raw: &str) -> anyhow::Result<OperatorKeyId> {
    raw.trim()
        .parse()
        .map_err(|_| anyhow!("`{raw}` is no operator key id (they look like opk_01…)"))
}

fn not_found(id: OperatorKeyId) -> impl Fn(SecurityError) -> anyhow::Error {
    move |e| match e {
        SecurityError::KeyNotFound => {
            anyhow!("no operator key {id} that is not revoked (see `tenantry operators list`)")
        }
        other => anyhow!(other),
    }
}

fn print_secret(id: OperatorKeyId, name: &str, token: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "key id:        {id}")?;
    writeln!(out, "name:          {name}")?;
    writeln!(out, "operator key:  {token}")?;
    writeln!(
        out,
        "               (shown once: hand it over now; only its hash is kept)"
    )?;
    out.flush()?;
    Ok(())
}

pub fn create(services: &Services, args: &OperatorCreateArgs) -> anyhow::Result<()> {
    let name = OperatorKeyName::parse(&args.name).map_err(|e| anyhow!("--name: {e}"))?;
    let (record, issued) = service(services).create(OperatorCredential::Cli, &name)?;
    print_secret(record.id, &record.name, issued.token())
}

pub fn list(services: &Services) -> anyhow::Result<()> {
    let keys = service(services).list()?;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_owned(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "id\tname\tcreated\tlast used\trevoked")?;
    for k in &keys {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            k.id,
            k.name,
            time(Some(k.created_at)),
            time(k.last_used_at),
            time(k.revoked_at)
        )?;
    }
    out.flush()?;
    Ok(())
}

pub fn rotate(services: &Services, args: &OperatorKeyArgs) -> anyhow::Result<()> {
    let id = id(&args.id)?;
    let issued = service(services)
        .rotate(OperatorCredential::Cli, id)
        .map_err(not_found(id))?;
    let name = service(services)
        .list()?
        .into_iter()
        .find(|k| k.id == id)
        .map(|k| k.name)
        .unwrap_or_default();
    print_secret(id, &name, issued.token())
}

pub fn revoke(services: &Services, args: &OperatorKeyArgs) -> anyhow::Result<()> {
    let id = id(&args.id)?;
    service(services)
        .revoke(OperatorCredential::Cli, id)
        .map_err(not_found(id))?;
    println!("operator key {id} revoked (running servers refuse it within 2 seconds)");
    Ok(())
}
