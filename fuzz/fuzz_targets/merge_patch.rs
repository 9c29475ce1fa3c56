//! JSON merge-PATCH (RFC 7396) of client documents: no panic, and applying the same patch twice
//! changes nothing the first time did not (the RFC's merge is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tenantry_settings::tenant::rfc7396_merge;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0);
    let (Some(target), Some(patch)) = (parts.next(), parts.next()) else {
        return;
    };
    let (Ok(mut target), Ok(patch)) = (
        serde_json::from_slice::<Value>(target),
        serde_json::from_slice::<Value>(patch),
    ) else {
        return;
    };
    rfc7396_merge(&mut target, &patch);
    let once = target.clone();
    rfc7396_merge(&mut target, &patch);
    assert_eq!(target, once, "merge-PATCH is not idempotent");
});
