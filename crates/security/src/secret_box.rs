//! Secrets at rest: XChaCha20-Poly1305 under envelope encryption (decision 0027).
//!
//! A sealed value reads `v2.<data key id>.<base64(nonce ‖ ciphertext)>`: it names the data key
//! that sealed it, and that id is authenticated with the ciphertext (associated data), so a
//! value cannot be made to open under another key's name. Data keys live in the database,
//! each wrapped by the key-encryption key (KEK: `TENANTRY_MASTER_KEY` or the key file), see
//! `data_keys`. Values written before envelope encryption read `v1.<KEK id>.<...>`: sealed
//! directly with the KEK; they still open (with the current or the previous KEK) and are
//! sealed again as `v2` by the next re-seal.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use tenantry_kernel::RandomSource;

/// A sealed (encrypted and authenticated) secret as stored. Opaque; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// The sealed value as stored (`v2.<data key id>.<base64>`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a stored value; `SecretBox::open` verifies it.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id of the key that sealed this value: a data key (`v2`) or, for a value sealed
    /// before envelope encryption (`v1`), the key-encryption key.
    pub fn key_id(&self) -> Option<&str> {
        self.header().map(|(_, id, _)| id)
    }

    /// Whether this value was sealed directly with a key-encryption key (the format before
    /// envelope encryption).
    pub fn is_legacy(&self) -> bool {
        matches!(self.header(), Some((Format::V1, _, _)))
    }

    fn header(&self) -> Option<(Format, &str, &str)> {
        let mut parts = self.0.splitn(3, '.');
        let format = match parts.next()? {
            "v1" => Format::V1,
            "v2" => Format::V2,
            _ => return None,
        };
        let id = parts.next().filter(|id| !id.is_empty())?;
        Some((format, id, parts.next()?))
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V1,
    V2,
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// The master key (KEK) given is not 32 bytes of base64.
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    /// The value does not have the shape of a sealed value.
    #[error("the sealed value is malformed")]
    Malformed,
    /// The value names a key this instance does not have (the id it names).
    #[error("the sealed value was sealed with another key ({0})")]
    WrongKey(String),
    /// The value failed authentication: it was changed after sealing, or this key did not seal
    /// it. It is not opened.
    #[error("the sealed value failed authentication")]
    Tampered,
    /// A wrapped data key that the configured key-encryption key(s) cannot unwrap.
    #[error("data key {id} cannot be unwrapped: it is wrapped by key-encryption key {kek_id}, which is not configured (or the stored key is damaged)")]
    CannotUnwrap {
        /// The data key.
        id: String,
        /// The KEK that wrapped it.
        kek_id: String,
    },
    /// The data keys could not be read.
    #[error("the data keys cannot be read: {0}")]
    Unavailable(String),
    /// The database failed while keys or sealed values were read or written.
    #[error(transparent)]
    Store(#[from] tenantry_kernel::PortError),
}

/// A 256-bit key with its id (first 8 hex digits of its SHA-256).
#[derive(Clone)]
struct Key {
    cipher: XChaCha20Poly1305,
    id: String,
}

impl Key {
    fn new(key: &[u8; 32], id: String) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
            id,
        }
    }

    fn encrypt(&self, aad: &[u8], plaintext: &[u8], random: &dyn RandomSource) -> String {
        let mut nonce = [0u8; 24];
        random.fill(&mut nonce);
        // Encryption with a valid key and a 24-byte nonce cannot fail for in-memory data.
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        STANDARD.encode(blob)
    }

    fn decrypt(&self, aad: &[u8], body: &str) -> Result<Vec<u8>, SecretBoxError> {
        let blob = STANDARD
            .decode(body)
            .map_err(|_| SecretBoxError::Malformed)?;
        if blob.len() < 24 + 16 {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, msg) = blob.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg, aad })
            .map_err(|_| SecretBoxError::Tampered)
    }
}

fn digest_id(key: &[u8; 32]) -> String {
    Sha256::digest(key)
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretBoxError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| SecretBoxError::BadKey)?;
    bytes.try_into().map_err(|_| SecretBoxError::BadKey)
}

/// The key-encryption key: wraps the data keys, and opens values sealed before envelope
/// encryption. It never leaves the process; the database holds only what it wrapped.
#[derive(Clone)]
pub struct Kek(Key);

impl Kek {
    /// A KEK from 32 key bytes; its id is derived from them.
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Key::new(key, digest_id(key)))
    }

    /// From the base64 form used by `TENANTRY_MASTER_KEY` and the key file.
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        Ok(Self::new(&decode_key(text)?))
    }

    /// A new random key in base64, for a key file or `TENANTRY_MASTER_KEY`.
    pub fn generate_base64(random: &dyn RandomSource) -> String {
        let mut key = [0u8; 32];
        random.fill(&mut key);
        STANDARD.encode(key)
    }

    /// The first 8 hex digits of the key's SHA-256: names it without revealing it.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Wraps data key `id`; the id is authenticated with it, so a wrapped key cannot be
    /// passed off as another data key.
    pub fn wrap(&self, id: &str, key: &DataKeyMaterial, random: &dyn RandomSource) -> String {
        self.0.encrypt(id.as_bytes(), &key.0, random)
    }

    /// Unwraps data key `id`; `SecretBoxError::Tampered` (or `Malformed`) when the wrapping was
    /// not made by this KEK for that id.
    pub fn unwrap_key(&self, id: &str, wrapped: &str) -> Result<DataKeyMaterial, SecretBoxError> {
        let bytes = self.0.decrypt(id.as_bytes(), wrapped)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretBoxError::Malformed)?;
        Ok(DataKeyMaterial(key))
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kek({})", self.0.id)
    }
}

/// A data key in clear (32 random bytes). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyMaterial([u8; 32]);

impl DataKeyMaterial {
    /// 32 fresh random bytes.
    pub fn generate(random: &dyn RandomSource) -> Self {
        let mut key = [0u8; 32];
        random.fill(&mut key);
        Self(key)
    }
}

impl fmt::Debug for DataKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKeyMaterial(..)")
    }
}

/// The data keys a [`KeySource`] found: every one it could unwrap, which of them seals, and
/// the ids of those it could not unwrap.
#[derive(Debug, Default)]
pub struct LoadedKeys {
    /// Every data key unwrapped, with its id.
    pub keys: Vec<(String, DataKeyMaterial)>,
    /// The id of the key new values are sealed with, if any.
    pub sealing: Option<String>,
    /// One error per key that could not be unwrapped.
    pub unopenable: Vec<SecretBoxError>,
}

/// Where a [`SecretBox`] gets its data keys (the database, through `data_keys::Keyring`).
pub trait KeySource: Send + Sync {
    /// Reads and unwraps the data keys; `SecretBoxError::Unavailable` or `Store` when they cannot
    /// be read.
    fn load(&self) -> Result<LoadedKeys, SecretBoxError>;
}

#[derive(Default)]
struct Ring {
    data: HashMap<String, Key>,
    sealing: Option<String>,
}

/// Seals and opens secrets. Cheap to clone; clones share the keys, so a refresh (a new sealing
/// key added by `tenantry keys rotate` in another process) reaches every service at once.
#[derive(Clone)]
pub struct SecretBox {
    /// Key-encryption keys (current first): they open `v1` values, and seal when no data key
    /// is configured (an embedder's [`SecretBox::new`]).
    keks: Arc<Vec<Key>>,
    ring: Arc<RwLock<Ring>>,
    source: Option<Arc<dyn KeySource>>,
}

impl SecretBox {
    /// A box without data keys: seals and opens directly with `key` (the `v1` format). For
    /// embedders and tests; the server uses [`SecretBox::envelope`].
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            keks: Arc::new(vec![Kek::new(key).0]),
            ring: Arc::default(),
            source: None,
        }
    }

    /// From the base64 form used by `TENANTRY_MASTER_KEY` and the key file (see
    /// [`SecretBox::new`]).
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        Ok(Self::new(&decode_key(text)?))
    }

    /// A new random key in base64.
    pub fn generate_key_base64(random: &dyn RandomSource) -> String {
        Kek::generate_base64(random)
    }

    /// A box sealing with the data keys of `source`, loaded now; `keks` (the current one first,
    /// then the previous one during a KEK change) open values sealed before envelope encryption.
    /// Also returns the stored data keys the KEKs cannot unwrap: a server refuses to start with
    /// any (it would leave secrets unreadable), a reading command reports them.
    pub fn envelope(
        keks: &[Kek],
        source: Arc<dyn KeySource>,
    ) -> Result<(Self, Vec<SecretBoxError>), SecretBoxError> {
        let this = Self {
            keks: Arc::new(keks.iter().map(|k| k.0.clone()).collect()),
            ring: Arc::default(),
            source: Some(source),
        };
        let unopenable = this.refresh()?;
        Ok((this, unopenable))
    }

    /// Reads the data keys again (a key added by another process becomes known, a new sealing
    /// key is used from now on). Keys already known are kept. Returns the keys it could not
    /// unwrap, which a running server logs and a starting one refuses.
    pub fn refresh(&self) -> Result<Vec<SecretBoxError>, SecretBoxError> {
        let Some(source) = &self.source else {
            return Ok(Vec::new());
        };
        let loaded = source.load()?;
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        for (id, key) in loaded.keys {
            ring.data
                .entry(id.clone())
                .or_insert_with(|| Key::new(&key.0, id));
        }
        if loaded.sealing.is_some() {
            ring.sealing = loaded.sealing;
        }
        Ok(loaded.unopenable)
    }

    /// The id of the key new values are sealed with: a data key, or the KEK without one.
    pub fn key_id(&self) -> String {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        match &ring.sealing {
            Some(id) => id.clone(),
            None => self.keks.first().map(|k| k.id.clone()).unwrap_or_default(),
        }
    }

    /// The ids of the keys this box can open values of: data keys and KEKs.
    pub fn opens(&self, key_id: &str) -> bool {
        self.keks.iter().any(|k| k.id == key_id)
            || self
                .ring
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .data
                .contains_key(key_id)
    }

    /// Seals `plaintext` under the current sealing key (the KEK when no data key exists yet).
    pub fn seal(&self, plaintext: &str, random: &dyn RandomSource) -> Sealed {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = ring.sealing.as_ref().and_then(|id| ring.data.get(id)) {
            let header = format!("v2.{}", key.id);
            let body = key.encrypt(header.as_bytes(), plaintext.as_bytes(), random);
            return Sealed(format!("{header}.{body}"));
        }
        drop(ring);
        match self.keks.first() {
            Some(kek) => {
                let body = kek.encrypt(&[], plaintext.as_bytes(), random);
                Sealed(format!("v1.{}.{body}", kek.id))
            }
            // Unreachable: every constructor gives at least one KEK.
            None => Sealed(String::new()),
        }
    }

    /// Opens a sealed value; `Malformed`, `WrongKey` or `Tampered` when it cannot be opened, never
    /// a wrong plaintext.
    pub fn open(&self, sealed: &Sealed) -> Result<String, SecretBoxError> {
        let (format, key_id, body) = sealed.header().ok_or(SecretBoxError::Malformed)?;
        let plain = match format {
            Format::V1 => {
                let kek = self
                    .keks
                    .iter()
                    .find(|k| k.id == key_id)
                    .ok_or_else(|| SecretBoxError::WrongKey(key_id.to_owned()))?;
                kek.decrypt(&[], body)?
            }
            Format::V2 => {
                let header = format!("v2.{key_id}");
                let key = self.data_key(key_id)?;
                key.decrypt(header.as_bytes(), body)?
            }
        };
        String::from_utf8(plain).map_err(|_| SecretBoxError::Malformed)
    }

    /// Data key `id`, reading the keys again when it is not known yet: another instance may
    /// have sealed with a key added after this one last looked.
    fn data_key(&self, id: &str) -> Result<Key, SecretBoxError> {
        if let Some(key) = self.known(id) {
            return Ok(key);
        }
        self.refresh()?;
        self.known(id)
            .ok_or_else(|| SecretBoxError::WrongKey(id.to_owned()))
    }

    fn known(&self, id: &str) -> Option<Key> {
        self.ring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .data
            .get(id)
            .cloned()
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBox(key {})", self.key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tenantry_kernel::OsRandom;

    fn secret_box() -> SecretBox {
        SecretBox::from_base64(&SecretBox::generate_key_base64(&OsRandom)).expect("valid key")
    }

    /// Data keys held in memory, as the database would hold them.
    #[derive(Default)]
    struct Keys(Mutex<LoadedKeys>);

    impl Keys {
        fn add(&self, id: &str) {
            let mut k = self.0.lock().expect("lock");
            k.keys
                .push((id.to_owned(), DataKeyMaterial::generate(&OsRandom)));
            k.sealing = Some(id.to_owned());
        }
    }

    impl KeySource for Keys {
        fn load(&self) -> Result<LoadedKeys, SecretBoxError> {
            let k = self.0.lock().expect("lock");
            Ok(LoadedKeys {
                keys: k.keys.clone(),
                sealing: k.sealing.clone(),
                unopenable: Vec::new(),
            })
        }
    }

    fn kek() -> Kek {
        Kek::from_base64(&Kek::generate_base64(&OsRandom)).expect("valid key")
    }

    #[test]
    fn sealed_secret_opens_and_hides_the_plaintext() {
        let b = secret_box();
        let sealed = b.seal("ghp_supersecret", &OsRandom);
        assert!(!sealed.as_str().contains("supersecret"));
        assert!(!format!("{sealed:?}").contains("supersecret"));
        assert_eq!(b.open(&sealed).as_deref(), Ok("ghp_supersecret"));
        assert_eq!(sealed.key_id(), Some(b.key_id().as_str()));
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

    #[test]
    fn envelope_seals_with_the_sealing_data_key_and_opens_legacy_values() {
        let kek = kek();
        let legacy = SecretBox::new(&[9u8; 32]);
        let old = legacy.seal("from before", &OsRandom);
        let keys = Arc::new(Keys::default());
        keys.add("dk1");
        let b = SecretBox::envelope(&[kek, Kek::new(&[9u8; 32])], keys.clone())
            .expect("loads")
            .0;
        let sealed = b.seal("now", &OsRandom);
        assert!(
            sealed.as_str().starts_with("v2.dk1."),
            "{}",
            sealed.as_str()
        );
        assert_eq!(b.open(&sealed).as_deref(), Ok("now"));
        assert_eq!(b.open(&old).as_deref(), Ok("from before"));
        assert!(old.is_legacy() && !sealed.is_legacy());
    }

    #[test]
    fn a_key_added_elsewhere_opens_at_once_and_seals_after_a_refresh() {
        let keys = Arc::new(Keys::default());
        keys.add("dk1");
        let here = SecretBox::envelope(&[kek()], keys.clone())
            .expect("loads")
            .0;
        let there = SecretBox::envelope(&[kek()], keys.clone())
            .expect("loads")
            .0;
        keys.add("dk2");
        there.refresh().expect("refresh");
        let sealed = there.seal("new", &OsRandom);
        assert_eq!(sealed.key_id(), Some("dk2"));
        // Not refreshed yet: still seals with dk1, but opens dk2's values by reading the keys.
        assert_eq!(here.key_id(), "dk1");
        assert_eq!(here.open(&sealed).as_deref(), Ok("new"));
        assert_eq!(here.key_id(), "dk2");
    }

    #[test]
    fn a_value_cannot_be_relabelled_as_another_data_keys() {
        let keys = Arc::new(Keys::default());
        keys.add("dk1");
        let b = SecretBox::envelope(&[kek()], keys.clone())
            .expect("loads")
            .0;
        let sealed = b.seal("x", &OsRandom);
        keys.add("dk2");
        b.refresh().expect("refresh");
        let relabelled = sealed.as_str().replacen("v2.dk1.", "v2.dk2.", 1);
        assert!(b.open(&Sealed::from_stored(relabelled)).is_err());
    }

    #[test]
    fn a_wrapped_key_opens_only_under_its_kek_and_its_id() {
        let (a, b) = (kek(), kek());
        let key = DataKeyMaterial::generate(&OsRandom);
        let wrapped = a.wrap("dk1", &key, &OsRandom);
        assert_eq!(a.unwrap_key("dk1", &wrapped), Ok(key));
        assert!(a.unwrap_key("dk2", &wrapped).is_err());
        assert!(b.unwrap_key("dk1", &wrapped).is_err());
        assert!(!wrapped.contains('.'));
    }
}
