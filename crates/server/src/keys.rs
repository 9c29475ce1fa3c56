//! `tenantry keys ...`: data keys (rotate, reseal, status) and the key-encryption key (rewrap).
//! See decision 0027 and docs/operations.md, "Keys".

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use tenantry_security::{reseal_all, Kek, Keyring, ResealReport, SecretBox};

use crate::cli::{DatabaseArgs, ResealArgs, RotateArgs};
use crate::progress::Progress;
use crate::wiring::{self, open_store, Access, KekSource, Keks, Services};

/// How often a server reads the data keys again: the bound within which every instance seals
/// with a key `keys rotate` added (it opens values sealed with it at once, reading the keys
/// when it meets an unknown id).
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Reads the data keys every [`REFRESH_EVERY`] for as long as the server runs.
pub fn spawn_refresh(secrets: SecretBox) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("data-keys".into())
        .spawn(move || loop {
            std::thread::sleep(REFRESH_EVERY);
            match secrets.refresh() {
                Ok(unopenable) => {
                    for e in unopenable {
                        tracing::warn!(error = %e, "a data key cannot be unwrapped");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the data keys failed; retrying"),
            }
        })
        .map(|_| ())
}

pub fn rotate(args: &RotateArgs) -> anyhow::Result<()> {
    let services = Services::new(&args.reseal.database, None, crate::CLI_PUBLIC_URL)?;
    let keks = wiring::keks(&args.reseal.database)?;
    let keyring = Keyring::new(Arc::new(services.store.clone()), keks.all());
    let id = keyring
        .add_sealing_key(services.clock.as_ref(), services.random.as_ref())
        .map_err(|e| anyhow!("adding a data key failed, nothing changed: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "added data key {id}: it seals from now on (running servers use it within {} s)",
        REFRESH_EVERY.as_secs()
    )?;
    drop(out);
    let progress = Progress::start("keys rotate");
    if args.settle_seconds > 0 {
        progress.step(&format!(
            "waiting {} s for running servers to seal with {id}",
            args.settle_seconds
        ));
        std::thread::sleep(Duration::from_secs(args.settle_seconds));
    }
    reseal_with(&services, args.reseal.batch, progress, &keyring)
}

pub fn reseal(args: &ResealArgs) -> anyhow::Result<()> {
    let services = Services::new(&args.database, None, crate::CLI_PUBLIC_URL)?;
    let keyring = Keyring::new(
        Arc::new(services.store.clone()),
        wiring::keks(&args.database)?.all(),
    );
    reseal_with(
        &services,
        args.batch,
        Progress::start("keys reseal"),
        &keyring,
    )
}

fn reseal_with(
    services: &Services,
    batch: u32,
    progress: Progress,
    keyring: &Keyring,
) -> anyhow::Result<()> {
    // The values to re-seal: every stored value under another key than the sealing one (read
    // after the keys, so a key just added is the sealing one).
    services
        .secrets
        .refresh()
        .context("reading the data keys")?;
    let sealing = services.secrets.key_id();
    let total = keyring
        .status()
        .map(|status| {
            let data = status.keys.iter().filter(|k| k.record.id != sealing);
            data.map(|k| k.values).sum::<u64>()
                + status.others.iter().map(|o| o.values).sum::<u64>()
        })
        .context("counting the values to re-seal")?;
    progress.count(0, total, "values re-sealed");
    let mut last = 0;
    let report = reseal_all(
        &services.store,
        &services.secrets,
        services.clock.as_ref(),
        services.random.as_ref(),
        batch,
        &mut |r: &ResealReport| {
            if r.resealed != last {
                last = r.resealed;
                progress.count(
                    r.resealed,
                    total.max(r.resealed),
                    &format!("values re-sealed ({} batches)", r.batches),
                );
            }
        },
    )
    .map_err(|e| {
        anyhow!(
            "re-sealing stopped: {e}; the batches done are kept, run `tenantry keys reseal` again"
        )
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "re-sealed {} values under data key {} in {} batches",
        report.resealed,
        services.secrets.key_id(),
        report.batches
    )?;
    for id in &report.retired {
        writeln!(out, "retired data key {id}: no stored value uses it")?;
    }
    progress.finish(&format!(
        "{} of {total} value(s) re-sealed in {} batch(es), {} key(s) retired",
        report.resealed,
        report.batches,
        report.retired.len()
    ));
    Ok(())
}

pub fn status(args: &DatabaseArgs) -> anyhow::Result<()> {
    let store = wiring::open_store_with(args, Access::ReadOnly)?;
    let keks = wiring::keks(args)?;
    let status = Keyring::new(Arc::new(store), keks.all())
        .status()
        .context("reading the data keys")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "id\tcreated\tstate\tvalues\twrapped by")?;
    for k in &status.keys {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}{}",
            k.record.id,
            k.record
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            k.record.state,
            k.values,
            k.record.kek_id,
            if k.opens {
                ""
            } else {
                " (not configured: cannot open)"
            }
        )?;
    }
    for o in &status.others {
        let what = if o.id == "malformed" {
            "not a sealed value"
        } else if o.opens {
            "sealed by the master key itself (before envelope encryption); `keys reseal` moves them"
        } else {
            "sealed by a key that is not configured: cannot open"
        };
        writeln!(out, "{}\t-\t-\t{}\t{what}", o.id, o.values)?;
    }
    Ok(())
}

pub fn rewrap(args: &DatabaseArgs) -> anyhow::Result<()> {
    let store = open_store(args)?;
    let random = tenantry_kernel::OsRandom;
    let keks = wiring::keks(args)?;
    let current = keks
        .current
        .clone()
        .ok_or_else(|| anyhow!("no master key: set TENANTRY_MASTER_KEY or create the key file"))?;
    let next = args.data_dir.join("master.key.next");
    let from_file_change = !Keks::from_env(args) && next.exists();
    if Keks::from_env(args) || (keks.previous.is_some() && !from_file_change) {
        // The new key is already configured (environment, or a key file change made by hand
        // with the old key as master.key.previous): re-wrap what the previous key wrapped.
        let count = Keyring::new(Arc::new(store), keks.all())
            .rewrap_all(&random)
            .map_err(|e| anyhow!("re-wrapping stopped: {e}"))?;
        let previous = keks
            .previous
            .as_ref()
            .map_or_else(|| "the previous master key".to_owned(), |p| p.from.clone());
        println!(
            "re-wrapped {count} data keys under master key {} ({}); once every instance runs \
             with it, remove {previous}",
            current.kek.id(),
            current.from
        );
        return Ok(());
    }
    // Key file: a new key beside the current one, never replacing a file. An interrupted run
    // left the new key in master.key.next, and is resumed with it.
    let file = wiring::key_file(args);
    let previous = wiring::previous_key_file(args);
    if !next.exists() {
        wiring::write_new_key_file(&next, &Kek::generate_base64(&random))?;
    }
    let new = KekSource {
        kek: Kek::from_base64(&std::fs::read_to_string(&next)?)
            .with_context(|| format!("{} is not a valid master key", next.display()))?,
        from: next.display().to_string(),
    };
    let count = Keyring::new(
        Arc::new(store),
        std::iter::once(new.kek.clone()).chain(keks.all()).collect(),
    )
    .rewrap_all(&random)
    .map_err(|e| anyhow!("re-wrapping stopped: {e}; run `tenantry keys rewrap` again"))?;
    // The old key is linked as master.key.previous (a link never replaces a file), and only
    // then is the new key renamed over master.key: the old key is never lost. A previous key
    // file that is already this key (a run interrupted between the two steps) is kept.
    let same = |a: &std::path::Path, b: &std::path::Path| matches!((std::fs::read_to_string(a), std::fs::read_to_string(b)), (Ok(x), Ok(y)) if x.trim() == y.trim());
    if !(previous.exists() && same(&previous, &file)) {
        std::fs::hard_link(&file, &previous).with_context(|| {
            format!(
                "keeping the old key as {} (the new one is in {}; move the existing file away first)",
                previous.display(),
                next.display()
            )
        })?;
    }
    std::fs::rename(&next, &file)
        .with_context(|| format!("moving {} to {}", next.display(), file.display()))?;
    if let Ok(d) = std::fs::File::open(&args.data_dir) {
        let _ = d.sync_all();
    }
    println!(
        "re-wrapped {count} data keys under the new master key {} (now {}); the old key {} is \
         kept as {}: restart every instance, then remove it",
        new.kek.id(),
        file.display(),
        current.kek.id(),
        previous.display()
    );
    Ok(())
}
