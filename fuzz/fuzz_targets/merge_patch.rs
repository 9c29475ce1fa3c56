//! JSON merge-PATCH (RFC 7396) of client documents: no panic; the patched values read back
//! (every member the patch sets is in the result as set, every member it nulls is gone); and
//! applying the same patch twice changes nothing the first time did not (idempotence).
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
    assert!(reads_back(&target, &patch), "the patch does not read back");
    let once = target.clone();
    rfc7396_merge(&mut target, &patch);
    assert_eq!(target, once, "merge-PATCH is not idempotent");
});

/// Whether `result` shows what `patch` set: a non-object patch replaces the whole value; in an
/// object patch, `null` members are absent and the others read back recursively.
fn reads_back(result: &Value, patch: &Value) -> bool {
    match patch {
        Value::Object(members) => result.as_object().is_some_and(|map| {
            members.iter().all(|(key, value)| match value {
                Value::Null => !map.contains_key(key),
                value => map.get(key).is_some_and(|got| reads_back(got, value)),
            })
        }),
        other => result == other,
    }
}
