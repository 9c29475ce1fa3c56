//! The Standard Webhooks verifier on arbitrary headers never panics; it accepts the signature
//! our own signer produced for the same message (alone or among others), and it rejects a
//! missing signature and a signature of anything else: another body, id, timestamp or secret.
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
    let signature = sign(secret, id, timestamp, body);
    // The fuzzed header is accepted only when it carries the right signature.
    if verify(secret, id, timestamp, body, header) {
        let wanted = signature.strip_prefix("v1,").unwrap_or_default();
        assert!(
            header
                .split(' ')
                .filter_map(|e| e.strip_prefix("v1,"))
                .any(|s| s.trim_end_matches('=') == wanted.trim_end_matches('=')),
            "a header without the message's signature was accepted"
        );
    }
    assert!(
        !verify(secret, id, timestamp, body, ""),
        "unsigned accepted"
    );
    let mut other_body = body.to_vec();
    other_body.push(b'x');
    assert!(!verify(secret, id, timestamp, &other_body, &signature));
    assert!(!verify(
        secret,
        &format!("{id}x"),
        timestamp,
        body,
        &signature
    ));
    assert!(!verify(secret, id, timestamp + 1, body, &signature));
    let other_secret = sign("whsec_b3RoZXIgc2VjcmV0", id, timestamp, body);
    if other_secret != signature {
        assert!(!verify(secret, id, timestamp, body, &other_secret));
    }
    assert!(verify(secret, id, timestamp, body, &signature));
    assert!(verify(
        secret,
        id,
        timestamp,
        body,
        &format!("{header} {signature}")
    ));
});
