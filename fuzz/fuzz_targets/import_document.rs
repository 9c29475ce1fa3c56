//! An import document, JSON or YAML, read through the section readers the import uses: any
//! input is either refused with field errors or read; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tenantry_settings::{billing_document, Fields, UserPreferences};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let document: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => match yaml_serde::from_str(text) {
            Ok(v) => v,
            Err(_) => return,
        },
    };
    let settings = document
        .pointer("/export/settings")
        .or_else(|| document.get("settings"))
        .unwrap_or(&document);
    let mut fields = Fields::default();
    let _ = billing_document::read(settings.get("billing").unwrap_or(settings), &mut fields);
    let mut fields = Fields::default();
    let _ = UserPreferences::read(settings.get("preferences").unwrap_or(settings), &mut fields);
});
