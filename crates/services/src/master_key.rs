//! The master key in a file: the key-encryption key that wraps the database's data keys
//! (decision 0027). Losing it loses every stored secret, so a program keeps one file across
//! runs: created once (mode 0600, never replacing a file), then read.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use tenantry_kernel::OsRandom;
use tenantry_security::Kek;

use crate::OpenError;

/// The key in `path`, creating the file with a new random key (mode 0600) when there is none.
///
/// Refused with [`OpenError::KeyFile`]: a file other users may read or write (any
/// permission for "others": a key readable by every account on the machine is no secret), a
/// file that does not hold a base64-encoded 32-byte key, and a file that cannot be read.
/// Of two programs creating the file at once, both end up with the first one's key.
pub fn load_or_create(path: &Path) -> Result<Kek, OpenError> {
    if let Some(kek) = load(path)? {
        return Ok(kek);
    }
    write_new(path, &Kek::generate_base64(&OsRandom))?;
    load(path)?.ok_or_else(|| key_file(path, "vanished right after it was created"))
}

/// The key in `path`, or `None` when there is no such file (see [`load_or_create`] for what
/// is refused).
pub fn load(path: &Path) -> Result<Option<Kek>, OpenError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(key_file(path, e)),
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(key_file(
            path,
            format!(
                "other users may access it (mode {mode:04o}); restrict it with `chmod 600 {}`",
                path.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| key_file(path, e))?;
    Kek::from_base64(&text).map(Some).map_err(|_| {
        key_file(
            path,
            "does not hold a master key (32 bytes, base64-encoded, on one line)",
        )
    })
}

/// Writes a new key file at `path` holding `key_base64`, never replacing one: written whole
/// under a name of this process's own (mode 0600), fsynced, then hard-linked into place (a
/// link never replaces a file, so of programs starting together the first one's key wins, and
/// no one reads a key file still being written). Returns whether this call created it.
pub fn write_new(path: &Path, key_base64: &str) -> Result<bool, OpenError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| key_file(path, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let pending = dir.join(format!("{name}.{}.new", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pending)?;
        writeln!(file, "{key_base64}")?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&pending);
        return Err(key_file(&pending, e));
    }
    let linked = std::fs::hard_link(&pending, path);
    let _ = std::fs::remove_file(&pending);
    match linked {
        Ok(()) => {
            // The directory entry itself is made durable too.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(key_file(path, e)),
    }
}

fn key_file(path: &Path, reason: impl std::fmt::Display) -> OpenError {
    OpenError::KeyFile {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::RandomSource;

    fn scratch() -> std::path::PathBuf {
        let mut b = [0u8; 8];
        OsRandom.fill(&mut b);
        let name: String = b.iter().map(|x| format!("{x:02x}")).collect();
        std::env::temp_dir().join(format!("tenantry-key-{name}"))
    }

    #[test]
    fn a_missing_key_is_created_private_and_read_back_the_same() {
        let dir = scratch();
        let path = dir.join("master.key");
        let first = load_or_create(&path).expect("created");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_create(&path).expect("read");
        assert_eq!(first.id(), second.id());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_key_other_users_can_read_is_refused() {
        let dir = scratch();
        let path = dir.join("master.key");
        load_or_create(&path).expect("created");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = load_or_create(&path).expect_err("world-readable");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_malformed_key_is_refused_and_kept() {
        let dir = scratch();
        let path = dir.join("master.key");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(&path, "not a key\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let err = load_or_create(&path).expect_err("malformed");
        assert!(
            err.to_string().contains("does not hold a master key"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("kept"), "not a key\n");
        let _ = std::fs::remove_dir_all(dir);
    }
}
