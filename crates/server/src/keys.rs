//! `tenantry keys rotate`: re-encrypting every secret under a new master key.

use std::io::Write;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_security::SecretBox;

use crate::cli::RotateArgs;
use crate::wiring::{open_store, secret_box};

pub fn rotate(args: &RotateArgs) -> anyhow::Result<()> {
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let store = open_store(&args.database)?;
    let old = secret_box(&args.database, random.as_ref())?;
    let new_text = match args.new_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => key.trim().to_owned(),
        None => SecretBox::generate_key_base64(random.as_ref()),
    };
    let new = SecretBox::from_base64(&new_text).context("the new master key")?;
    if new.key_id() == old.key_id() {
        return Err(anyhow!("the new master key is the current one"));
    }
    let uses_env = args
        .database
        .master_key
        .as_deref()
        .is_some_and(|k| !k.is_empty());
    let key_file = args.database.data_dir.join("master.key");
    // Written before the database changes, so the new key exists somewhere durable whatever
    // happens next; renamed over the old key file only after the transaction committed.
    let pending = args.database.data_dir.join("master.key.next");
    if !uses_env {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&pending)
            .with_context(|| format!("writing {}", pending.display()))?;
        writeln!(file, "{new_text}")?;
        file.sync_all()?;
    }
    let count = tenantry_settings::rotate_master_key(&store, &old, &new, random.as_ref())
        .map_err(|e| anyhow!("rotation failed, nothing changed: {e}"))?;
    let mut out = std::io::stdout().lock();
    if uses_env {
        writeln!(
            out,
            "re-encrypted {count} secrets from key {} to key {}",
            old.key_id(),
            new.key_id()
        )?;
        writeln!(out, "new master key: {new_text}")?;
        writeln!(
            out,
            "set TENANTRY_MASTER_KEY to it before starting tenantry again"
        )?;
    } else {
        std::fs::rename(&pending, &key_file).with_context(|| {
            format!(
                "replacing {} (the new key is in {})",
                key_file.display(),
                pending.display()
            )
        })?;
        writeln!(
            out,
            "re-encrypted {count} secrets from key {} to key {}; {} updated",
            old.key_id(),
            new.key_id(),
            key_file.display()
        )?;
    }
    Ok(())
}
