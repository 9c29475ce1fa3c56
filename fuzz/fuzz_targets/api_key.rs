//! The API key format (`tnt_<env>_<id>_<secret>`) on arbitrary bearer tokens: parsing never
//! panics, and what parses carries the token's own pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenantry_security::ApiKeyToken;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = ApiKeyToken::parse(token) {
        assert!(token.starts_with("tnt_"));
        assert!(token.ends_with(parsed.secret));
    }
});
