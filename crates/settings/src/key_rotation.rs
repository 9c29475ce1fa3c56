//! Re-encrypting every stored secret under a new master key.

use serde_json::Value;
use tenantry_kernel::RandomSource;
use tenantry_security::{Sealed, SecretBox};

use crate::{SettingsError, SettingsStore};

/// Opens every sealed value in every settings document (current and history) with `old` and
/// seals it again with `new`, in one transaction: either every secret is under the new key, or
/// (on any failure) nothing changed. Returns how many secrets were re-sealed.
///
/// Values already sealed by `new` are left alone, so a rotation interrupted before the new key
/// was saved can simply be run again.
pub fn rotate_master_key(
    store: &dyn SettingsStore,
    old: &SecretBox,
    new: &SecretBox,
    random: &dyn RandomSource,
) -> Result<u64, SettingsError> {
    let mut count = 0u64;
    store.rewrite_all_documents(&mut |doc: &mut Value| {
        let mut changed = false;
        reseal(doc, old, new, random, &mut count, &mut changed)?;
        Ok(changed)
    })?;
    Ok(count)
}

fn reseal(
    v: &mut Value,
    old: &SecretBox,
    new: &SecretBox,
    random: &dyn RandomSource,
    count: &mut u64,
    changed: &mut bool,
) -> Result<(), SettingsError> {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if key.ends_with("_sealed") => {
                        let sealed = Sealed::from_stored(text.clone());
                        if sealed.key_id() == Some(new.key_id()) {
                            continue;
                        }
                        let plain = old
                            .open(&sealed)
                            .map_err(|e| SettingsError::Secret(format!("{key}: {e}")))?;
                        *text = new.seal(&plain, random).as_str().to_owned();
                        *count += 1;
                        *changed = true;
                    }
                    other => reseal(other, old, new, random, count, changed)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                reseal(item, old, new, random, count, changed)?;
            }
        }
        _ => {}
    }
    Ok(())
}
