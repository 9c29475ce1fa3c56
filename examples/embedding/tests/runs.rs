//! The example as a user runs it: twice on one data directory. The second run must read what
//! the first wrote, secrets included (the master key is kept), and send the invitation the
//! first run queued.

#![allow(clippy::expect_used)]

use std::process::Command;

fn run(dir: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantry-embedding-example"))
        .arg(dir)
        .output()
        .expect("run the example");
    assert!(
        out.status.success(),
        "the example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn line<'a>(output: &'a str, key: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{output}"))
}

#[test]
fn a_second_run_reads_what_the_first_wrote_with_the_kept_key() {
    let dir = std::env::temp_dir().join(format!(
        "tenantry-embed-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let first = run(&dir);
    assert_eq!(line(&first, "first run"), "true", "{first}");
    let key = std::fs::read_to_string(dir.join("master.key")).expect("key file");

    let second = run(&dir);
    assert_eq!(line(&second, "first run"), "false", "{second}");
    assert_eq!(
        std::fs::read_to_string(dir.join("master.key")).expect("key file"),
        key,
        "the key file is kept, never replaced"
    );
    assert_eq!(line(&second, "audit retention days"), "180");
    assert_eq!(line(&second, "allowlist"), "203.0.113.0/24 (head office)");
    assert_eq!(line(&second, "203.0.113.7 allowed"), "true");
    assert_eq!(line(&second, "198.51.100.1 allowed"), "false");
    // The secret sealed by the first process opens in the second.
    assert_eq!(
        line(&second, "github token"),
        "ghp_embedded0example0token0kept0sealed"
    );
    // The invitation queued by the first run was sent (its sealed body opened) and accepted.
    assert_ne!(line(&second, "emails sent"), "0");
    assert!(
        line(&second, "members").contains("dev@embedded.test developer"),
        "{second}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
