//! The Standard Webhooks verifier on arbitrary headers never panics, and always accepts the
//! signature our own signer produced for the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenantry_notifications::{sign, verify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let secret = parts.next().unwrap_or("");
    let id = parts.next().unwrap_or("");
    let header = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("").as_bytes();
    let timestamp = i64::from(data.first().copied().unwrap_or(0)) * 1_000_003;
    let _ = verify(secret, id, timestamp, body, header);
    let signature = sign(secret, id, timestamp, body);
    assert!(verify(secret, id, timestamp, body, &signature));
    assert!(verify(
        secret,
        id,
        timestamp,
        body,
        &format!("{header} {signature}")
    ));
});
