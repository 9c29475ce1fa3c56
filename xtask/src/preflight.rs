//! What `cargo xtask test` needs from the machine, checked in its first seconds: without this,
//! a missing package surfaced minutes later, one at a time (a link error for libpq, then a
//! skipped-but-required Chromium test at the end of the suite).

use std::path::Path;
use std::process::{Command, Stdio};

/// One external need: what it is, the Debian/Ubuntu package that provides it, and whether the
/// machine has it.
struct Need {
    what: &'static str,
    package: &'static str,
    present: bool,
}

/// Whether `program` runs (found on PATH) and exits 0 with `args`.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `pg_config`'s answer for `flag` (`--includedir`, `--bindir`), when it is installed.
fn pg_config(flag: &str) -> Option<String> {
    let out = Command::new("pg_config").arg(flag).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn libpq_headers() -> bool {
    pg_config("--includedir").is_some_and(|dir| Path::new(&dir).join("libpq-fe.h").exists())
        || Path::new("/usr/include/postgresql/libpq-fe.h").exists()
}

/// initdb and pg_ctl, where `pg.rs` looks for them.
fn postgres_server() -> bool {
    let versioned = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|dirs| {
        dirs.filter_map(Result::ok)
            .any(|d| d.path().join("bin/initdb").exists())
    });
    versioned || pg_config("--bindir").is_some_and(|dir| Path::new(&dir).join("initdb").exists())
}

/// Where the OpenAPI test looks for Chromium (tests/e2e/openapi.rs), or on PATH.
fn chromium() -> bool {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .any(|p| Path::new(p).exists())
        || runs("chromium", &["--version"])
}

/// Every need of the suite; the PostgreSQL server only when no cluster is given.
fn needs(have_cluster: bool) -> Vec<Need> {
    let mut needs = vec![
        Need {
            what: "a C compiler (the bundled SQLite is compiled)",
            package: "build-essential",
            present: runs("cc", &["--version"]),
        },
        Need {
            what: "libpq headers and library (diesel's PostgreSQL backend)",
            package: "libpq-dev",
            present: libpq_headers(),
        },
        Need {
            what: "python3 with venv and ensurepip (the OpenAPI validator and schemathesis)",
            package: "python3-venv",
            present: runs("python3", &["-c", "import venv, ensurepip"]),
        },
        Need {
            what:
                "Node.js with npm (openapi-typescript and tsc check the generated TypeScript types)",
            package: "npm",
            present: runs("npm", &["--version"]) && runs("node", &["--version"]),
        },
        Need {
            what: "Chromium (the /docs page test renders it headless)",
            package: "chromium",
            present: chromium(),
        },
        Need {
            what: "chromedriver (the console's browser tests drive Chromium through WebDriver)",
            package: "chromium-driver",
            present: ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
                .iter()
                .any(|p| Path::new(p).exists()),
        },
    ];
    if !have_cluster {
        needs.push(Need {
            what: "PostgreSQL server binaries, initdb and pg_ctl (a throwaway cluster; or set TENANTRY_TEST_PG)",
            package: "postgresql",
            present: postgres_server(),
        });
    }
    needs
}

/// `Err` naming every missing need and ONE `apt-get install` line for all of them.
pub fn check(have_cluster: bool) -> Result<(), String> {
    let missing: Vec<Need> = needs(have_cluster)
        .into_iter()
        .filter(|n| !n.present)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut message = String::from("the tests need what this machine lacks:\n");
    for need in &missing {
        message.push_str(&format!("  - {} ({})\n", need.what, need.package));
    }
    let packages: Vec<&str> = missing.iter().map(|n| n.package).collect();
    message.push_str(&format!(
        "install them with (as root):\n  apt-get install -y {}",
        packages.join(" ")
    ));
    Err(message)
}
