//! API-key verification cost: parse the token, then hash and compare the secret in constant
//! time (the store lookup is measured separately by the HTTP load benchmarks).
//! Run: `cargo bench -p tenantry-security --bench api_key`.

#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tenantry_kernel::{AccountId, ApiKeyId, FixedClock, OsRandom, PortError, Role, UserId};
use tenantry_security::{
    ApiKeyEnv, ApiKeyToken, Authenticator, CredentialStore, IssuedApiKey, KeyRecord, KeyUse,
    MemberStatus, SecretHash,
};

struct MapStore(HashMap<ApiKeyId, KeyRecord>);

/// Nothing is written while the benchmark runs.
static EPOCHS: std::sync::LazyLock<tenantry_kernel::WriteEpochs> =
    std::sync::LazyLock::new(tenantry_kernel::WriteEpochs::new);

impl CredentialStore for MapStore {
    fn api_key(&self, id: ApiKeyId) -> Result<Option<KeyRecord>, PortError> {
        Ok(self.0.get(&id).cloned())
    }
    fn operator_key_hash(&self) -> Result<Option<SecretHash>, PortError> {
        Ok(None)
    }
    fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs {
        &EPOCHS
    }
    fn record_key_uses(&self, _: &[KeyUse]) -> Result<(), PortError> {
        Ok(())
    }
    fn store_operator_key_hash(&self, _: SecretHash) -> Result<bool, PortError> {
        Ok(false)
    }
    fn named_operator_key(
        &self,
        _: tenantry_kernel::OperatorKeyId,
    ) -> Result<Option<tenantry_security::OperatorKeyRecord>, PortError> {
        Ok(None)
    }
    fn record_operator_key_use(
        &self,
        _: tenantry_kernel::OperatorKeyId,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PortError> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let clock = FixedClock(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("ts"));
    let mut keys = HashMap::new();
    let mut tokens = Vec::new();
    for _ in 0..1000 {
        let key = IssuedApiKey::generate(
            ApiKeyEnv::Live,
            ApiKeyId::generate(&clock, &OsRandom),
            &OsRandom,
        );
        keys.insert(
            key.id,
            KeyRecord {
                id: key.id,
                account_id: AccountId::generate(&clock, &OsRandom),
                user_id: UserId::generate(&clock, &OsRandom),
                secret_hash: key.hash,
                expires_at: None,
                revoked: false,
                role: Role::Developer,
                member_status: MemberStatus::Active,
                // Recent: verification records no activity, as for all but one request a minute.
                last_used_at: Some(clock.0),
                scopes: Vec::new(),
                permissions: None,
            },
        );
        tokens.push(key.token().to_string());
    }
    let token = tokens[500].clone();
    let auth = Authenticator::new(Arc::new(MapStore(keys)), Arc::new(clock));

    c.bench_function("api_key/parse", |b| {
        b.iter(|| ApiKeyToken::parse(black_box(&token)).is_ok())
    });
    c.bench_function(
        "api_key/verify (parse + lookup + sha256 + ct compare)",
        |b| b.iter(|| auth.authenticate_api_key(black_box(&token), None).is_ok()),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
