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

/// Every error code the HTTP adapter can answer with is documented in docs/api/errors.md.
#[test]
fn every_error_code_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/api/errors.md")).expect("errors.md");
    let mut missing = Vec::new();
    let mut stack = vec![root().join("crates/http/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for literal in text.split('"').skip(1).step_by(2) {
                let is_code = literal.len() > 3
                    && literal.as_bytes()[0].is_ascii_uppercase()
                    && literal.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                    && literal.contains('_') | (literal == "INTERNAL");
                if is_code && !docs.contains(&format!("`{literal}`")) {
                    missing.push(format!("{literal} ({})", path.display()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "document these codes in docs/api/errors.md: {missing:?}"
    );
}
