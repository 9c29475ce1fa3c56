//! Repository hygiene, run with the rest of the tests: formatting, crate conventions, the
//! allowed dependencies between crates, module docs and file sizes; and xtask's own checks
//! (one test binary for the crate).

#![allow(clippy::expect_used)]

#[path = "tidy/preflight.rs"]
mod preflight;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace being tested. Cargo names the package's directory at run time too; that is
/// the checkout under test even when the binary was built, unchanged, from another checkout
/// sharing the target directory.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
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

/// The dependencies allowed between the workspace's crates (docs/ARCHITECTURE.md draws them).
/// Domain contexts depend on the kernel and on the contexts whose vocabulary they use; adapters
/// (store, http) on the domain; the binary on everything. A new edge fails here: add it to this
/// list with its reason, and record the reason in docs/decisions/ if it crosses a context.
const ALLOWED_EDGES: &[(&str, &str, &str)] = &[
    (
        "billing",
        "kernel",
        "ids, actors, errors, time zones and countries",
    ),
    ("security", "kernel", "ids, actors and errors"),
    ("notifications", "kernel", "ids, actors and errors"),
    (
        "notifications",
        "security",
        "sealing secrets, outbound address rules",
    ),
    ("team", "kernel", "ids, actors and errors"),
    (
        "team",
        "notifications",
        "invitation and transfer emails through the outbox",
    ),
    (
        "team",
        "security",
        "credentials issued on acceptance, password hashing, revocation",
    ),
    ("settings", "kernel", "ids, actors and errors"),
    (
        "settings",
        "billing",
        "the account settings document holds the billing section; tiers and their limits",
    ),
    (
        "settings",
        "notifications",
        "outbound URL rules, event types, built-in channel routes",
    ),
    (
        "settings",
        "security",
        "allowlist policy, sealing, sessions' policy",
    ),
    ("store", "kernel", "ports' vocabulary"),
    (
        "store",
        "billing",
        "implements the usage port; amounts of money stored exactly",
    ),
    (
        "store",
        "notifications",
        "implements the notification ports",
    ),
    ("store", "security", "implements the identity ports"),
    ("store", "settings", "implements the settings ports"),
    ("store", "team", "implements the team ports"),
    (
        "store",
        "services",
        "dev-dependency only: the integration tests run the real bridges, not copies",
    ),
    ("http", "kernel", "actors"),
    (
        "http",
        "billing",
        "calls the billing service; tiers shown by the organization API",
    ),
    ("http", "notifications", "calls the notification service"),
    ("http", "security", "calls the identity services"),
    ("http", "settings", "calls the settings service"),
    ("http", "team", "calls the team service"),
    ("console", "kernel", "actors, ids and randomness"),
    (
        "console",
        "security",
        "sign-in sessions, MFA, the same services the API calls",
    ),
    ("console", "settings", "profiles and the allowlist check"),
    ("console", "team", "invitations and mailed links"),
    (
        "console",
        "notifications",
        "the notification pages call the notification service",
    ),
    (
        "console",
        "http",
        "served by its server: shared state, hashing pool, client address",
    ),
    ("services", "billing", "wiring"),
    ("services", "kernel", "wiring"),
    ("services", "notifications", "wiring"),
    ("services", "security", "wiring"),
    ("services", "settings", "wiring"),
    ("services", "store", "wiring"),
    ("services", "team", "wiring"),
    ("server", "services", "the one wiring of the services"),
    ("server", "kernel", "wiring"),
    ("server", "billing", "wiring"),
    ("server", "notifications", "wiring"),
    ("server", "security", "wiring"),
    ("server", "settings", "wiring"),
    ("server", "store", "wiring"),
    ("server", "team", "wiring"),
    ("server", "http", "wiring"),
    ("server", "console", "wiring"),
];

/// The workspace crates `crate_dir`'s manifest depends on (normal, dev and build dependencies).
fn workspace_deps(crate_dir: &Path) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("Cargo.toml");
    manifest
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("tenantry-"))
        .filter_map(|rest| rest.split(['.', ' ', '=']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn crates_depend_only_along_the_allowed_edges() {
    let mut unexpected = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates dir") {
        let dir = entry.expect("entry").path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        for dep in workspace_deps(&dir) {
            if dep != name
                && !ALLOWED_EDGES
                    .iter()
                    .any(|(a, b, _)| *a == name && *b == dep)
            {
                unexpected.push(format!("{name} -> {dep}"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "crate edges not in ALLOWED_EDGES (xtask/tests/tidy.rs): {unexpected:?}. Bridge the \
         contexts in crates/services/src/bridges.rs, or add the edge there with its reason"
    );
}

/// Every Rust source file written by hand, outside `target/`.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for top in ["crates", "xtask", "tests", "examples", "fuzz"] {
        let dir = root().join(top);
        if dir.exists() {
            walk(&dir, &mut out);
        }
    }
    out
}

/// A file over 900 lines holds more than one idea: split it into modules named for what they
/// hold. No file is exempt (issue #21 split the last ones).
#[test]
fn no_source_file_is_over_900_lines() {
    let mut long = Vec::new();
    for path in sources() {
        let rel = path
            .strip_prefix(root())
            .expect("inside the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        let lines = std::fs::read_to_string(&path)
            .expect("source")
            .lines()
            .count();
        if lines > 900 {
            long.push(format!("{rel} ({lines} lines)"));
        }
    }
    assert!(
        long.is_empty(),
        "split these into modules named for what they hold: {long:?}"
    );
}

#[test]
fn every_library_module_says_what_it_holds() {
    let mut undocumented = Vec::new();
    for path in sources() {
        let rel = path
            .strip_prefix(root())
            .expect("inside")
            .to_string_lossy()
            .to_string();
        if !rel.contains("/src/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !(first.starts_with("//!") || first.starts_with("#![doc")) {
            undocumented.push(rel);
        }
    }
    assert!(
        undocumented.is_empty(),
        "start these with a `//!` doc saying what the module holds: {undocumented:?}"
    );
}

/// The HTTP adapter's dialect folders (one per API document) never import one another: a rule
/// that two APIs share lives once in `dialects/common.rs` (or in the crate-level modules), so a
/// fix to one API cannot silently change another, nor a copy in one drift from the other's
/// (decision 0029). Checked on paths: `super::super::<folder>`, `dialects::<folder>`.
#[test]
fn dialect_folders_do_not_import_one_another() {
    let dialects = root().join("crates/http/src/dialects");
    let folders: Vec<String> = std::fs::read_dir(&dialects)
        .expect("dialects dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    assert!(
        folders.len() >= 6,
        "expected one folder per API document under {}",
        dialects.display()
    );
    let mut crossings = Vec::new();
    for folder in &folders {
        let mut files = Vec::new();
        let mut stack = vec![dialects.join(folder)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            for other in folders.iter().filter(|o| *o != folder) {
                for spelling in [
                    format!("super::super::{other}"),
                    format!("dialects::{other}"),
                ] {
                    if text.contains(&spelling) {
                        crossings.push(format!(
                            "{} uses `{spelling}`",
                            file.strip_prefix(root()).expect("inside").display()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        crossings.is_empty(),
        "dialect folders import one another: {crossings:?}. Move what they share to \
         crates/http/src/dialects/common.rs"
    );
}

/// No error mapper in the HTTP adapter ends in a catch-all arm (`other => ApiError::internal(..)`,
/// `_ => ...`): every variant a mapper can receive is named, so a variant added to a domain error
/// is a compile error rather than a 500 nobody decided (decision 0029). The one exception is a
/// foreign `#[non_exhaustive]` enum, which the compiler does not let anyone match completely.
#[test]
fn http_error_mappers_name_every_variant() {
    let mut catch_alls = Vec::new();
    for path in sources() {
        let rel = path
            .strip_prefix(root())
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/");
        if !rel.starts_with("crates/http/src/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let Some((pattern, answer)) = line.trim().split_once(" => ") else {
                continue;
            };
            // A foreign `#[non_exhaustive]` enum (actix's errors) cannot be matched without one;
            // the arm's comment must say so.
            let foreign_non_exhaustive = lines[n.saturating_sub(2)..n]
                .iter()
                .any(|l| l.contains("`#[non_exhaustive]`"));
            if foreign_non_exhaustive {
                continue;
            }
            let binds_anything = pattern == "_"
                || (!pattern.is_empty()
                    && pattern
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            let is_error = answer.starts_with("ApiError::") || answer.starts_with("Self::internal");
            if binds_anything && is_error {
                catch_alls.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        catch_alls.is_empty(),
        "error mappers with a catch-all arm: {catch_alls:?}. Name each variant: a client answer, \
         `ApiError::internal` for an infrastructure failure, or `ApiError::not_produced_here`"
    );
}

/// An external caller (`Credential::External`) is one an embedding program vouches for; no HTTP
/// request may produce one, or a request could claim any member's role. The HTTP and console
/// adapters therefore never name `ExternalSubject` (the only way to make the credential) nor
/// `Actor::external`; they may match the credential, never build it.
#[test]
fn no_request_can_produce_an_external_caller() {
    let mut found = Vec::new();
    for top in ["crates/http/src", "crates/console/src"] {
        let mut stack = vec![root().join(top)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                // The kernel's error for a malformed subject is mapped, never built, here.
                let text = std::fs::read_to_string(&path)
                    .expect("source")
                    .replace("KernelError::InvalidExternalSubject", "");
                for needle in ["ExternalSubject", "Actor::external", "::external("] {
                    if text.contains(needle) {
                        found.push(format!("{} names {needle}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the HTTP adapters must not build external callers: {found:?}"
    );
}

/// The domain crates are a library for embedders as much as the server's parts (issue #21):
/// each warns on an undocumented public item, which clippy's `-D warnings` makes an error.
#[test]
fn domain_crates_document_their_public_api() {
    for name in [
        "kernel",
        "billing",
        "team",
        "notifications",
        "security",
        "services",
        "settings",
    ] {
        let lib = root().join("crates").join(name).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).expect("lib.rs");
        assert!(
            text.lines().any(|l| matches!(
                l.trim(),
                "#![warn(missing_docs)]" | "#![deny(missing_docs)]"
            )),
            "{}: add `#![warn(missing_docs)]` and document every public item",
            lib.display()
        );
    }
}

/// True when `line` calls an API document a "seed" (`seed 03`, `the seed`, `seed's`, `seed
/// document`). A property test's random seed is written `0x…` and is exempt.
fn names_an_api_document_a_seed(line: &str) -> bool {
    let line = line.to_lowercase();
    if line.contains("0x") {
        return false;
    }
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, word)| {
        let next = words.get(i + 1).copied().unwrap_or("");
        match *word {
            "seed's" | "seeds'" => true,
            "seed" | "seeds" => {
                (i > 0 && words[i - 1] == "the")
                    || next.starts_with('0')
                    || next.starts_with("document")
            }
            _ => false,
        }
    })
}

/// Docs name each API by what it is (the account settings API, the team API, the user and
/// organization API, the settings catalog API, the tenant settings API, the operator API): a
/// reader of the crate docs, the READMEs or the guides has never seen the documents they were
/// built from. Code comments count (a crate's source is its embedders' documentation too);
/// decision records are history and keep their words.
#[test]
fn docs_name_each_api_not_the_document_it_came_from() {
    assert!(names_an_api_document_a_seed("//! Seed 03 `/api/user`"));
    assert!(names_an_api_document_a_seed(
        "/// fields in the seed's order"
    ));
    assert!(names_an_api_document_a_seed(
        "// the status code the seeds use"
    ));
    assert!(!names_an_api_document_a_seed(
        "/// the seed is fixed (0x0043)"
    ));
    assert!(!names_an_api_document_a_seed(
        "1000 accounts seeded, the seeding phase"
    ));

    let mut found = Vec::new();
    let mut check = |path: &Path, comments_only: bool| {
        let text = std::fs::read_to_string(path).expect("text file");
        for (n, line) in text.lines().enumerate() {
            if comments_only && !line.trim_start().starts_with("//") {
                continue;
            }
            if names_an_api_document_a_seed(line) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    };
    for path in sources() {
        let rel = path
            .strip_prefix(root())
            .expect("inside")
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("crates/") && rel.contains("/src/") {
            check(&path, true);
        }
    }
    let mut markdown = vec![root().join("README.md")];
    for dir in ["crates", "docs"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() && dir == "crates" {
                markdown.push(path.join("README.md"));
            } else if path.extension().is_some_and(|e| e == "md") {
                markdown.push(path);
            }
        }
    }
    for path in markdown.iter().filter(|p| p.exists()) {
        check(path, false);
    }
    assert!(
        found.is_empty(),
        "name the API instead (the account settings API, the team API, ...): {found:?}"
    );
}
