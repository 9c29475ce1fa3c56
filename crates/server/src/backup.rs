//! `tenantry backup` and `tenantry restore` for SQLite (decision 0028). PostgreSQL has
//! `pg_dump`/`pg_restore`; both commands say so instead of half-doing it.
//!
//! Both write under a temporary name beside the destination and rename into place only once
//! the copy is complete and checked: a file at the backup's name, or a database at the
//! service's, is always whole.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use tenantry_store::sqlite_companions;

use crate::cli::{BackupArgs, DatabaseArgs, RestoreArgs};
use crate::progress::Progress;
use crate::wiring::{open_store_reporting, open_store_with, store_config, Access, Services};

const PG_BACKUP: &str = "the database is PostgreSQL: back it up with pg_dump, e.g.\n  \
    pg_dump --format=custom --file=tenantry.dump \"$DATABASE_URL\"\n\
    (docs/operations.md, \"Backup and restore\")";

const PG_RESTORE: &str = "the database is PostgreSQL: restore a pg_dump file with pg_restore \
    into an empty database, then run `tenantry migrate` and `tenantry check`, e.g.\n  \
    pg_restore --no-owner --dbname=\"$DATABASE_URL\" tenantry.dump && tenantry migrate && tenantry check\n\
    (docs/operations.md, \"Backup and restore\")";

/// `dest` with a suffix naming this process, in the same directory (so the rename stays on
/// one file system and is atomic).
fn pending_name(dest: &Path, what: &str) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(format!(".{what}-{}", std::process::id()));
    PathBuf::from(name)
}

/// Removes a pending file and SQLite's companions of it (left only if a step failed).
fn discard(pending: &Path) {
    let _ = std::fs::remove_file(pending);
    for companion in sqlite_companions(pending) {
        let _ = std::fs::remove_file(companion);
    }
}

/// The same database options with the database at `path` (a pending copy).
fn at(database: &DatabaseArgs, path: &Path) -> DatabaseArgs {
    DatabaseArgs {
        database_url: Some(format!("sqlite://{}", path.display())),
        ..database.clone()
    }
}

pub fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let config = store_config(&args.database)?;
    let Some(source) = config.sqlite_path() else {
        bail!("{PG_BACKUP}");
    };
    if args.file.exists() {
        bail!(
            "{} exists; a backup never replaces a file: name a new one",
            args.file.display()
        );
    }
    let progress = Progress::start("backup");
    let pending = pending_name(&args.file, "partial");
    discard(&pending);
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    progress.step(&format!(
        "1/3 copying {} ({} bytes)",
        source.display(),
        size(source)
    ));
    if let Err(e) = tenantry_store::backup_sqlite(source, &pending) {
        discard(&pending);
        return Err(e).with_context(|| format!("copying the database to {}", pending.display()));
    }
    // Readable by its owner only, like the master key: it holds members' addresses, password
    // hashes and sealed secrets.
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o600)) {
            discard(&pending);
            return Err(e).with_context(|| format!("restricting {}", pending.display()));
        }
    }
    // The copy is checked before it gets the backup's name: a backup is only useful if it
    // restores.
    progress.step(&format!("2/3 checking the copy ({} bytes)", size(&pending)));
    let report = Services::read_only(&at(&args.database, &pending))
        .and_then(|services| crate::database_check::run(&services));
    let report = match report {
        Ok(r) if r.problems.is_empty() => r,
        Ok(r) => {
            discard(&pending);
            bail!(
                "the copy has {} problem(s), no backup written:\n{}",
                r.problems.len(),
                r.problems.join("\n")
            );
        }
        Err(e) => {
            discard(&pending);
            return Err(e.context("checking the copy"));
        }
    };
    progress.step(&format!("3/3 naming it {}", args.file.display()));
    // A link never replaces a file: a backup written meanwhile at the same name is kept.
    let linked = std::fs::hard_link(&pending, &args.file);
    discard(&pending);
    linked.with_context(|| format!("naming the backup {}", args.file.display()))?;
    let bytes = size(&args.file);
    progress.finish(&format!(
        "{} accounts, {bytes} bytes, checked",
        report.accounts
    ));
    println!(
        "backup written: {} ({} accounts, {bytes} bytes, checked)",
        args.file.display(),
        report.accounts
    );
    println!("the master key is not in it: keep `master.key` (or TENANTRY_MASTER_KEY) apart from the backup");
    Ok(())
}

/// Why the database at `target` must not be replaced without `--force`, if it must not.
fn holds_data(database: &DatabaseArgs, target: &Path) -> Option<String> {
    let len = std::fs::metadata(target).map_or(0, |m| m.len());
    if len == 0 {
        return None;
    }
    let opened = open_store_with(&at(database, target), Access::ReadOnly).and_then(|store| {
        tenantry_security::AccountStore::account_count(&store).map_err(anyhow::Error::from)
    });
    match opened {
        Ok(0) => None,
        Ok(n) => Some(format!("it holds {n} account(s)")),
        Err(e) => Some(format!(
            "it cannot be read to tell whether it holds data ({e:#})"
        )),
    }
}

pub fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let config = store_config(&args.database)?;
    let Some(target) = config.sqlite_path().map(Path::to_path_buf) else {
        bail!("{PG_RESTORE}");
    };
    std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open the backup {}", args.file.display()))?;
    if !args.force {
        if let Some(reason) = holds_data(&args.database, &target) {
            bail!(
                "{} is not empty: {reason}. Stop every server using it, then add --force to \
                 replace it with the backup",
                target.display()
            );
        }
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let progress = Progress::start("restore");
    let pending = pending_name(&target, "restoring");
    discard(&pending);
    let checked = (|| -> anyhow::Result<crate::database_check::CheckReport> {
        progress.step(&format!(
            "1/4 copying {} ({} bytes)",
            args.file.display(),
            std::fs::metadata(&args.file).map_or(0, |m| m.len())
        ));
        std::fs::copy(&args.file, &pending)
            .with_context(|| format!("copying {} to {}", args.file.display(), pending.display()))?;
        // Migrated first: a backup made by an older release comes up to this one's schema.
        progress.step("2/4 migrating the copy");
        let mut migrated = 0;
        drop(open_store_reporting(
            &at(&args.database, &pending),
            Access::ReadWrite,
            &mut |done, _, _| migrated = done,
        )?);
        progress.step(&format!(
            "3/4 checking the copy ({migrated} migration(s) applied)"
        ));
        // Read-only from here: the master key must already be there (never a new one, which
        // would leave every stored secret unreadable).
        let services = Services::read_only(&at(&args.database, &pending))?;
        crate::database_check::run(&services)
    })();
    let report = match checked {
        Ok(r) if r.problems.is_empty() => r,
        Ok(r) => {
            discard(&pending);
            bail!(
                "the backup has {} problem(s); the database was not replaced:\n{}",
                r.problems.len(),
                r.problems.join("\n")
            );
        }
        Err(e) => {
            discard(&pending);
            return Err(e.context("the database was not replaced"));
        }
    };
    // The replaced database's `-wal` would otherwise be replayed onto the restored file by
    // the next open: it holds the old database's last commits.
    for companion in sqlite_companions(&target) {
        match std::fs::remove_file(&companion) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                discard(&pending);
                return Err(e).with_context(|| format!("removing {}", companion.display()));
            }
        }
    }
    progress.step(&format!("4/4 moving it into place as {}", target.display()));
    std::fs::rename(&pending, &target).with_context(|| {
        format!(
            "moving {} into place as {}",
            pending.display(),
            target.display()
        )
    })?;
    progress.finish(&format!(
        "{} accounts checked, no problems",
        report.accounts
    ));
    println!(
        "restored {} into {}: {} accounts checked, no problems",
        args.file.display(),
        target.display(),
        report.accounts
    );
    Ok(())
}
