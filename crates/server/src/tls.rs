//! TLS of `serve`: `TENANTRY_TLS_CERT` and `TENANTRY_TLS_KEY` (flags `--tls-cert`, `--tls-key`,
//! config keys `tls_cert`, `tls_key`) name PEM files; with both, the service listens with TLS
//! (rustls, the `ring` provider already used by the outbound clients), without either it serves
//! plain HTTP as behind a reverse proxy. `config check` and `serve` load them the same way, so a
//! configuration that passes the check starts (decision 0024).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The server's TLS configuration from a certificate chain and its private key, or why not:
/// a file that cannot be read, a file without a PEM certificate or key, or a key that is not
/// the certificate's.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, String> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: holds no PEM certificate", cert.display()));
    }
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        // Checks that the key is the certificate's.
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            format!(
                "{} and {} do not make a certificate and its key: {e}",
                cert.display(),
                key.display()
            )
        })
}

/// Both files or neither: one alone is a mistake, never a silent fallback to plain HTTP.
pub fn from_options(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<Option<rustls::ServerConfig>, String> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => server_config(cert, key).map(Some),
        (Some(_), None) => Err("TENANTRY_TLS_CERT is set without TENANTRY_TLS_KEY".into()),
        (None, Some(_)) => Err("TENANTRY_TLS_KEY is set without TENANTRY_TLS_CERT".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_certificate_and_its_key_load_and_anything_else_is_named() {
        let dir = std::env::temp_dir().join(format!("tenantry-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let one = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let cert = write(&dir, "cert.pem", &one.cert.pem());
        let key = write(&dir, "key.pem", &one.key_pair.serialize_pem());
        let other_key = write(&dir, "other.pem", &other.key_pair.serialize_pem());
        let garbage = write(&dir, "garbage.pem", "not pem at all");
        assert!(server_config(&cert, &key).is_ok());
        let mismatch = server_config(&cert, &other_key).expect_err("foreign key");
        assert!(
            mismatch.contains("do not make a certificate and its key"),
            "{mismatch}"
        );
        let missing = server_config(&dir.join("absent.pem"), &key).expect_err("no file");
        assert!(missing.contains("cannot read"), "{missing}");
        assert!(server_config(&garbage, &key)
            .expect_err("garbage")
            .contains("no PEM certificate"));
        assert!(server_config(&cert, &garbage)
            .expect_err("garbage")
            .contains("not a PEM private key"));
        assert!(from_options(Some(&cert), None).is_err());
        assert!(from_options(None, Some(&key)).is_err());
        assert!(matches!(from_options(None, None), Ok(None)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
