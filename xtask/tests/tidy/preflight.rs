//! `cargo xtask test` checks the machine first: a missing package fails the run at once, every
//! missing one named, with one `apt-get install` line.

use std::process::Command;

#[test]
fn missing_packages_fail_test_at_once_with_one_apt_get_line() {
    // An empty PATH: no `cc` and no `python3` can be found, whatever the machine has.
    let empty = std::env::temp_dir().join(format!("xtask-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("empty dir");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("test")
        .env_clear()
        .env("PATH", &empty)
        .env("TENANTRY_TEST_PG", "postgres://unused@127.0.0.1/unused")
        .output()
        .expect("run xtask");
    let _ = std::fs::remove_dir(&empty);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("running"), "something ran first: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("apt-get install"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    for package in ["build-essential", "python3-venv"] {
        assert!(
            lines[0].contains(package),
            "{package} missing from: {}",
            lines[0]
        );
        assert!(stderr.contains(&format!("({package})")), "{stderr}");
    }
    // A cluster was given, so the PostgreSQL server is not asked for.
    assert!(!lines[0].contains(" postgresql"), "{}", lines[0]);
}
