//! Data keys (decision 0027): the keys secrets are sealed with. Each is stored wrapped by the
//! key-encryption key (KEK), so the database alone opens nothing. Exactly one is `sealing`;
//! `tenantry keys rotate` adds a new sealing key (the previous one becomes `active`: it still
//! opens what it sealed), re-seals every value under it in bounded batches, and retires a key
//! only when no stored value uses it. A retired key stays stored (wrapped): nothing is ever
//! lost, and a value a lagging instance sealed with it just before it saw the new key still
//! opens, and is re-sealed by the next pass.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tenantry_kernel::{Clock, PortError, RandomSource};

use crate::secret_box::{DataKeyMaterial, Kek, KeySource, LoadedKeys};
use crate::{Sealed, SecretBox, SecretBoxError};

/// Where a data key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKeyState {
    /// New values are sealed with it (exactly one key).
    Sealing,
    /// Opens the values it sealed; no longer seals.
    Active,
    /// No stored value used it when it was retired; kept wrapped, never seals again.
    Retired,
}

impl DataKeyState {
    /// The stored word (`sealing`, `active`, `retired`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sealing => "sealing",
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }

    /// The state a stored word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sealing" => Some(Self::Sealing),
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

impl fmt::Display for DataKeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data key as stored: wrapped by the KEK named `kek_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyRecord {
    /// The key's id, which every value it seals names.
    pub id: String,
    /// The id of the KEK that wraps it.
    pub kek_id: String,
    /// The key, wrapped (encrypted) by that KEK: the database alone opens nothing.
    pub wrapped: String,
    /// Where it is in its life.
    pub state: DataKeyState,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// Where a re-seal pass is: which kind of stored row, and how many of its rows were visited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResealCursor {
    /// Which kind of stored row (an index into the places that hold sealed values).
    pub place: u32,
    /// How many rows of that kind were visited.
    pub offset: u64,
}

/// What one re-seal batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResealBatch {
    /// Sealed values written again.
    pub resealed: u64,
    /// Where the next batch starts; `None` when every row was visited.
    pub next: Option<ResealCursor>,
}

/// What data keys need from the database. Implemented by `tenantry-store`. Every method returns
/// `PortError` when the store fails, and `Conflict` where it says so.
pub trait DataKeyStore: Send + Sync {
    /// Every data key, oldest first.
    fn data_keys(&self) -> Result<Vec<DataKeyRecord>, PortError>;

    /// Stores `key` (state `Sealing`) and makes the current sealing key `Active`, in one
    /// transaction. MUST return `Conflict` when another sealing key was added meanwhile.
    fn add_sealing_key(&self, key: &DataKeyRecord) -> Result<(), PortError>;

    /// Replaces the wrapping of key `id` when it is still `previous_wrapped` (a KEK change).
    /// Returns whether it changed.
    fn rewrap(
        &self,
        id: &str,
        previous_wrapped: &str,
        kek_id: &str,
        wrapped: &str,
    ) -> Result<bool, PortError>;

    /// Marks key `id` retired, unless it is the sealing key. Returns whether it changed.
    fn retire(&self, id: &str, at: DateTime<Utc>) -> Result<bool, PortError>;

    /// How many stored sealed values name each key id (data keys and, for values sealed before
    /// envelope encryption, KEKs). Values that do not parse count under `"malformed"`.
    fn sealed_value_counts(&self) -> Result<BTreeMap<String, u64>, PortError>;

    /// Visits up to `limit` rows holding sealed values from `cursor`, replacing each value
    /// `reseal` returns a new one for; a row changed meanwhile by someone else is left for the
    /// next pass (compare-and-set). Each batch is its own transaction.
    fn reseal_batch(
        &self,
        cursor: ResealCursor,
        limit: u32,
        reseal: &mut dyn FnMut(&Sealed) -> Result<Option<Sealed>, SecretBoxError>,
    ) -> Result<ResealBatch, SecretBoxError>;
}

/// The data keys of a database, opened with the configured KEK(s): the [`KeySource`] of the
/// server's [`SecretBox`].
pub struct Keyring {
    store: Arc<dyn DataKeyStore>,
    keks: Vec<Kek>,
}

impl Keyring {
    /// `keks`: the current KEK first, then the previous one while it is being changed.
    pub fn new(store: Arc<dyn DataKeyStore>, keks: Vec<Kek>) -> Self {
        Self { store, keks }
    }

    fn kek(&self, id: &str) -> Option<&Kek> {
        self.keks.iter().find(|k| k.id() == id)
    }

    fn current(&self) -> Result<&Kek, SecretBoxError> {
        self.keks.first().ok_or(SecretBoxError::BadKey)
    }

    fn unwrap_record(&self, r: &DataKeyRecord) -> Result<DataKeyMaterial, SecretBoxError> {
        let cannot = || SecretBoxError::CannotUnwrap {
            id: r.id.clone(),
            kek_id: r.kek_id.clone(),
        };
        self.kek(&r.kek_id)
            .ok_or_else(cannot)?
            .unwrap_key(&r.id, &r.wrapped)
            .map_err(|_| cannot())
    }

    /// Adds a new sealing data key, wrapped by the current KEK; returns its id.
    pub fn add_sealing_key(
        &self,
        clock: &dyn Clock,
        random: &dyn RandomSource,
    ) -> Result<String, SecretBoxError> {
        let mut id_bytes = [0u8; 8];
        random.fill(&mut id_bytes);
        let id: String = std::iter::once("dk_".to_owned())
            .chain(id_bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        let key = DataKeyMaterial::generate(random);
        let kek = self.current()?;
        self.store.add_sealing_key(&DataKeyRecord {
            wrapped: kek.wrap(&id, &key, random),
            kek_id: kek.id().to_owned(),
            id: id.clone(),
            state: DataKeyState::Sealing,
            created_at: clock.now(),
        })?;
        Ok(id)
    }

    /// Makes sure a sealing key exists (first start): of instances starting together, one
    /// adds it and the others find it.
    pub fn ensure_sealing_key(
        &self,
        clock: &dyn Clock,
        random: &dyn RandomSource,
    ) -> Result<(), SecretBoxError> {
        let keys = self.store.data_keys()?;
        if keys.iter().any(|k| k.state == DataKeyState::Sealing) {
            return Ok(());
        }
        match self.add_sealing_key(clock, random) {
            Ok(_) | Err(SecretBoxError::Store(PortError::Conflict(_))) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Wraps every data key not under the current KEK again, unwrapping it with the previous
    /// one. Returns how many were re-wrapped; fails, naming the key, on one neither opens.
    pub fn rewrap_all(&self, random: &dyn RandomSource) -> Result<u64, SecretBoxError> {
        let kek = self.current()?;
        let mut count = 0;
        for r in self.store.data_keys()? {
            if r.kek_id == kek.id() {
                continue;
            }
            let key = self.unwrap_record(&r)?;
            if self
                .store
                .rewrap(&r.id, &r.wrapped, kek.id(), &kek.wrap(&r.id, &key, random))?
            {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Every data key with its state and how many stored values use it, and the other key ids
    /// stored values name (KEKs of values sealed before envelope encryption, unknown keys).
    pub fn status(&self) -> Result<KeyStatus, SecretBoxError> {
        let mut counts = self.store.sealed_value_counts()?;
        let keys = self
            .store
            .data_keys()?
            .into_iter()
            .map(|r| {
                let values = counts.remove(&r.id).unwrap_or(0);
                let opens = self.unwrap_record(&r).is_ok();
                DataKeyUse {
                    record: r,
                    values,
                    opens,
                }
            })
            .collect();
        let others = counts
            .into_iter()
            .map(|(id, values)| OtherKeyUse {
                opens: self.kek(&id).is_some(),
                id,
                values,
            })
            .collect();
        Ok(KeyStatus { keys, others })
    }

    /// The key ids stored values need that this configuration cannot open, with how many
    /// values need each: data keys the KEK(s) cannot unwrap, KEKs of old values that are not
    /// configured, ids of no key at all. Empty when every secret can be read.
    pub fn unreadable(&self) -> Result<Vec<(String, u64)>, SecretBoxError> {
        let status = self.status()?;
        let mut out: Vec<(String, u64)> = status
            .keys
            .into_iter()
            .filter(|k| !k.opens && k.values > 0)
            .map(|k| (k.record.id, k.values))
            .collect();
        out.extend(
            status
                .others
                .into_iter()
                .filter(|o| !o.opens)
                .map(|o| (o.id, o.values)),
        );
        Ok(out)
    }
}

impl KeySource for Keyring {
    fn load(&self) -> Result<LoadedKeys, SecretBoxError> {
        let records = self.store.data_keys().map_err(SecretBoxError::Store)?;
        let mut loaded = LoadedKeys::default();
        for r in records {
            match self.unwrap_record(&r) {
                Ok(key) => {
                    if r.state == DataKeyState::Sealing {
                        loaded.sealing = Some(r.id.clone());
                    }
                    loaded.keys.push((r.id, key));
                }
                Err(e) => loaded.unopenable.push(e),
            }
        }
        Ok(loaded)
    }
}

/// A data key and how many stored values use it.
#[derive(Debug, Clone)]
pub struct DataKeyUse {
    /// The key.
    pub record: DataKeyRecord,
    /// How many stored values it sealed.
    pub values: u64,
    /// Whether the configured KEK(s) unwrap it.
    pub opens: bool,
}

/// A key id stored values name that is not a data key.
#[derive(Debug, Clone)]
pub struct OtherKeyUse {
    /// The key id.
    pub id: String,
    /// How many stored values name it.
    pub values: u64,
    /// Whether it is a configured KEK (values sealed before envelope encryption).
    pub opens: bool,
}

/// `tenantry keys status`.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    /// Every data key with its use.
    pub keys: Vec<DataKeyUse>,
    /// Key ids stored values name that are not data keys.
    pub others: Vec<OtherKeyUse>,
}

/// What a re-seal pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Sealed values written again under the sealing key.
    pub resealed: u64,
    /// Batches it took.
    pub batches: u64,
    /// Keys retired because no stored value uses them any more.
    pub retired: Vec<String>,
}

/// Seals every stored value not under the sealing key again with it, `batch` rows per
/// transaction, calling `progress` after each batch; then retires every non-sealing data key
/// no stored value uses any more. Values of a key `secrets` cannot open stop the pass, naming
/// the key (nothing is lost: the batches done are committed, the rest untouched).
pub fn reseal_all(
    store: &dyn DataKeyStore,
    secrets: &SecretBox,
    clock: &dyn Clock,
    random: &dyn RandomSource,
    batch: u32,
    progress: &mut dyn FnMut(&ResealReport),
) -> Result<ResealReport, SecretBoxError> {
    secrets.refresh()?;
    let sealing = secrets.key_id();
    let mut report = ResealReport::default();
    let mut cursor = Some(ResealCursor::default());
    while let Some(at) = cursor {
        let done = store.reseal_batch(at, batch.max(1), &mut |sealed: &Sealed| {
            if sealed.key_id() == Some(sealing.as_str()) && !sealed.is_legacy() {
                return Ok(None);
            }
            let plain = secrets.open(sealed)?;
            Ok(Some(secrets.seal(&plain, random)))
        })?;
        report.resealed += done.resealed;
        report.batches += 1;
        progress(&report);
        cursor = done.next;
    }
    let counts = store.sealed_value_counts()?;
    for key in store.data_keys()? {
        if key.state == DataKeyState::Active
            && counts.get(&key.id).copied().unwrap_or(0) == 0
            && store.retire(&key.id, clock.now())?
        {
            report.retired.push(key.id);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use proptest::prelude::*;
    use tenantry_kernel::{OsRandom, SystemClock};

    use super::*;

    /// The database, in memory: the data keys and the sealed values stored elsewhere.
    #[derive(Default)]
    struct Db {
        keys: Mutex<Vec<DataKeyRecord>>,
        values: Mutex<Vec<Sealed>>,
    }

    impl DataKeyStore for Db {
        fn data_keys(&self) -> Result<Vec<DataKeyRecord>, PortError> {
            Ok(self.keys.lock().expect("lock").clone())
        }

        fn add_sealing_key(&self, key: &DataKeyRecord) -> Result<(), PortError> {
            let mut keys = self.keys.lock().expect("lock");
            for k in keys.iter_mut() {
                if k.state == DataKeyState::Sealing {
                    k.state = DataKeyState::Active;
                }
            }
            keys.push(key.clone());
            Ok(())
        }

        fn rewrap(
            &self,
            id: &str,
            previous_wrapped: &str,
            kek_id: &str,
            wrapped: &str,
        ) -> Result<bool, PortError> {
            let mut keys = self.keys.lock().expect("lock");
            let Some(k) = keys
                .iter_mut()
                .find(|k| k.id == id && k.wrapped == previous_wrapped)
            else {
                return Ok(false);
            };
            k.kek_id = kek_id.to_owned();
            k.wrapped = wrapped.to_owned();
            Ok(true)
        }

        fn retire(&self, id: &str, _at: DateTime<Utc>) -> Result<bool, PortError> {
            let mut keys = self.keys.lock().expect("lock");
            let Some(k) = keys
                .iter_mut()
                .find(|k| k.id == id && k.state == DataKeyState::Active)
            else {
                return Ok(false);
            };
            k.state = DataKeyState::Retired;
            Ok(true)
        }

        fn sealed_value_counts(&self) -> Result<BTreeMap<String, u64>, PortError> {
            let mut counts = BTreeMap::new();
            for v in self.values.lock().expect("lock").iter() {
                *counts
                    .entry(v.key_id().unwrap_or("malformed").to_owned())
                    .or_insert(0) += 1;
            }
            Ok(counts)
        }

        fn reseal_batch(
            &self,
            cursor: ResealCursor,
            limit: u32,
            reseal: &mut dyn FnMut(&Sealed) -> Result<Option<Sealed>, SecretBoxError>,
        ) -> Result<ResealBatch, SecretBoxError> {
            let mut values = self.values.lock().expect("lock");
            let start = usize::try_from(cursor.offset).unwrap_or(usize::MAX);
            let end = values.len().min(start.saturating_add(limit as usize));
            let mut resealed = 0;
            for v in values.iter_mut().take(end).skip(start) {
                if let Some(new) = reseal(v)? {
                    *v = new;
                    resealed += 1;
                }
            }
            Ok(ResealBatch {
                resealed,
                next: (end < values.len()).then_some(ResealCursor {
                    place: 0,
                    offset: end as u64,
                }),
            })
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Seal(String),
        Rotate,
        ChangeKek,
        Reseal(u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => "[ -~]{0,24}".prop_map(Step::Seal),
            1 => Just(Step::Rotate),
            1 => Just(Step::ChangeKek),
            1 => (1u32..5).prop_map(Step::Reseal),
        ]
    }

    fn kek(random: &dyn RandomSource) -> Kek {
        Kek::from_base64(&Kek::generate_base64(random)).expect("a valid key")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the order of sealing, rotations, re-seals and master-key changes, every
        /// secret opens to what was sealed, from a box started afresh on the stored keys with
        /// the current master key alone (once re-wrapped) — nothing is ever lost; and after a
        /// re-seal every value is under the sealing key and only unused keys are retired.
        #[test]
        fn no_sequence_of_key_operations_loses_a_secret(steps in prop::collection::vec(step(), 1..24)) {
            let (clock, random) = (SystemClock, OsRandom);
            let db = Arc::new(Db::default());
            let mut current = kek(&random);
            let keyring = |keks: Vec<Kek>| Keyring::new(db.clone(), keks);
            keyring(vec![current.clone()]).ensure_sealing_key(&clock, &random).expect("first key");
            let mut plain = Vec::new();
            for step in &steps {
                let (secrets, unopenable) =
                    SecretBox::envelope(&[current.clone()], Arc::new(keyring(vec![current.clone()])))
                        .expect("keys load");
                prop_assert!(unopenable.is_empty());
                match step {
                    Step::Seal(text) => {
                        db.values.lock().expect("lock").push(secrets.seal(text, &random));
                        plain.push(text.clone());
                    }
                    Step::Rotate => {
                        keyring(vec![current.clone()]).add_sealing_key(&clock, &random).expect("rotate");
                    }
                    Step::ChangeKek => {
                        let new = kek(&random);
                        keyring(vec![new.clone(), current.clone()]).rewrap_all(&random).expect("rewrap");
                        current = new;
                    }
                    Step::Reseal(batch) => {
                        let report = reseal_all(db.as_ref(), &secrets, &clock, &random, *batch, &mut |_| {})
                            .expect("reseal");
                        let sealing = secrets.key_id();
                        let counts = db.sealed_value_counts().expect("counts");
                        for k in db.data_keys().expect("keys") {
                            let used = counts.get(&k.id).copied().unwrap_or(0);
                            prop_assert!(k.state != DataKeyState::Retired || used == 0, "{k:?} retired while used");
                            prop_assert!(k.state != DataKeyState::Active || used > 0, "{k:?} unused yet active after {report:?}");
                        }
                        prop_assert!(db.values.lock().expect("lock").iter().all(|v| v.key_id() == Some(sealing.as_str())));
                    }
                }
            }
            let (fresh, _) =
                SecretBox::envelope(&[current.clone()], Arc::new(keyring(vec![current.clone()])))
                    .expect("keys load");
            let values = db.values.lock().expect("lock").clone();
            for (sealed, text) in values.iter().zip(&plain) {
                let opened = fresh.open(sealed);
                prop_assert_eq!(opened.as_deref(), Ok(text.as_str()));
            }
            prop_assert_eq!(
                db.data_keys().expect("keys").iter().filter(|k| k.state == DataKeyState::Sealing).count(),
                1
            );
        }
    }
}
