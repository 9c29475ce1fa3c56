//! Repository hygiene, run with the rest of the tests: formatting, crate conventions.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn code_is_formatted() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["fmt", "--all", "--check"])
        .current_dir(root())
        .output()
        .expect("run cargo fmt");
    assert!(
        out.status.success(),
        "run `cargo fmt --all`:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn every_crate_opts_into_workspace_lints_and_documents_itself() {
    for entry in std::fs::read_dir(root().join("crates")).expect("crates dir") {
        let dir = entry.expect("entry").path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{}: add `[lints] workspace = true`",
            dir.display()
        );
        assert!(
            dir.join("README.md").exists(),
            "{}: add a README.md",
            dir.display()
        );
        let lib = dir.join("src/lib.rs");
        if lib.exists() {
            let text = std::fs::read_to_string(&lib).expect("lib.rs");
            assert!(
                text.contains("include_str!(\"../README.md\")"),
                "{}: use the README as crate doc",
                lib.display()
            );
        }
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root().join("migrations").join(backend))
            .expect("migrations dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

/// The first string literal in `text`.
fn first_literal(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// Every error code the HTTP adapter can answer with is documented in docs/api/errors.md. A code
/// is the literal that follows a `StatusCode::` (how every `ApiError` is built) or that maps to a
/// catalog number (`"CODE" =>`).
#[test]
fn every_error_code_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/api/errors.md")).expect("errors.md");
    let mut codes = Vec::new();
    let mut stack = vec![root().join("crates/http/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (i, _) in text.match_indices("StatusCode::") {
                if let Some(code) = first_literal(&text[i..]) {
                    codes.push((code.to_owned(), path.clone()));
                }
            }
            for line in text.lines().map(str::trim) {
                if let Some((lit, _)) = line.strip_prefix('"').and_then(|l| l.split_once("\" =>")) {
                    codes.push((lit.to_owned(), path.clone()));
                }
            }
        }
    }
    let codes: Vec<_> = codes
        .into_iter()
        .filter(|(c, _)| {
            c.len() > 3
                && c.as_bytes()[0].is_ascii_uppercase()
                && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .collect();
    assert!(
        codes.iter().any(|(c, _)| c == "VALIDATION_ERROR"),
        "the scan finds codes"
    );
    let missing: Vec<String> = codes
        .iter()
        .filter(|(c, _)| !docs.contains(&format!("`{c}`")))
        .map(|(c, p)| format!("{c} ({})", p.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "document these codes in docs/api/errors.md: {missing:?}"
    );
}

/// DESIGN.md: the domain crates hold types, ports and services only — no web framework, no
/// database driver, no async runtime. Adapters (store, http, server) may depend on those.
#[test]
fn domain_crates_stay_free_of_frameworks() {
    for name in [
        "kernel",
        "settings",
        "team",
        "security",
        "notifications",
        "billing",
    ] {
        let manifest = std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml"))
            .expect("Cargo.toml");
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .map(|rest| rest.split("\n[").next().unwrap_or(rest))
            .unwrap_or("");
        for forbidden in ["actix", "diesel", "tokio", "reqwest", "lettre"] {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(forbidden)),
                "crates/{name} depends on {forbidden}: keep it in an adapter crate"
            );
        }
    }
}
