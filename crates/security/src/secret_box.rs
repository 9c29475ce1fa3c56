//! Secrets at rest: XChaCha20-Poly1305 with a 256-bit master key. A sealed value reads
//! `v1.<key id>.<base64(nonce ‖ ciphertext)>`; the key id (first 8 hex digits of the key's
//! SHA-256) tells which key sealed it, so rotation can find values still under the old key.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use tenantry_kernel::RandomSource;

/// A sealed (encrypted and authenticated) secret as stored. Opaque; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a stored value; `SecretBox::open` verifies it.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id of the key that sealed this value.
    pub fn key_id(&self) -> Option<&str> {
        let mut parts = self.0.splitn(3, '.');
        (parts.next() == Some("v1")).then(|| parts.next()).flatten()
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(..)")
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value was sealed with another key ({0})")]
    WrongKey(String),
    #[error("the sealed value failed authentication")]
    Tampered,
}

/// Seals and opens secrets with one master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        let key_id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            key_id,
        }
    }

    /// From the base64 form used by `TENANTRY_MASTER_KEY` and the key file.
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self::new(&key))
    }

    /// A new random key in base64, for the key file written at first start.
    pub fn generate_key_base64(random: &dyn RandomSource) -> String {
        let mut key = [0u8; 32];
        random.fill(&mut key);
        STANDARD.encode(key)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn seal(&self, plaintext: &str, random: &dyn RandomSource) -> Sealed {
        let mut nonce = [0u8; 24];
        random.fill(&mut nonce);
        // Encryption with a valid key and a 24-byte nonce cannot fail for in-memory data.
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Sealed(format!("v1.{}.{}", self.key_id, STANDARD.encode(blob)))
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, SecretBoxError> {
        let mut parts = sealed.0.splitn(3, '.');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretBoxError::Malformed);
        };
        if key_id != self.key_id {
            return Err(SecretBoxError::WrongKey(key_id.to_owned()));
        }
        let blob = STANDARD
            .decode(body)
            .map_err(|_| SecretBoxError::Malformed)?;
        if blob.len() < 24 + 16 {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretBoxError::Tampered)?;
        String::from_utf8(plain).map_err(|_| SecretBoxError::Malformed)
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBox(key {})", self.key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::OsRandom;

    fn secret_box() -> SecretBox {
        SecretBox::from_base64(&SecretBox::generate_key_base64(&OsRandom)).expect("valid key")
    }

    #[test]
    fn sealed_secret_opens_and_hides_the_plaintext() {
        let b = secret_box();
        let sealed = b.seal("ghp_supersecret", &OsRandom);
        assert!(!sealed.as_str().contains("supersecret"));
        assert!(!format!("{sealed:?}").contains("supersecret"));
        assert_eq!(b.open(&sealed).as_deref(), Ok("ghp_supersecret"));
        assert_eq!(sealed.key_id(), Some(b.key_id()));
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let b = secret_box();
        assert_ne!(b.seal("x", &OsRandom), b.seal("x", &OsRandom));
    }

    #[test]
    fn other_keys_and_tampering_are_detected() {
        let a = secret_box();
        let b = secret_box();
        let sealed = a.seal("token", &OsRandom);
        assert!(matches!(b.open(&sealed), Err(SecretBoxError::WrongKey(_))));
        let mut text = sealed.as_str().to_owned();
        let last = text.pop().expect("non-empty");
        text.push(if last == 'A' { 'B' } else { 'A' });
        assert!(a.open(&Sealed::from_stored(text)).is_err());
        assert_eq!(
            a.open(&Sealed::from_stored("garbage".into())),
            Err(SecretBoxError::Malformed)
        );
        assert_eq!(
            SecretBox::from_base64("c2hvcnQ=").err(),
            Some(SecretBoxError::BadKey)
        );
    }
}
