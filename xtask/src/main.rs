//! Developer tasks. `cargo xtask <task>`; standard library only, so it builds in seconds.
//!
//! - `ci`   : fmt check, clippy -D warnings, then `test`.
//! - `test` : the whole test suite on SQLite and PostgreSQL. Uses `TENANTRY_TEST_PG` when set,
//!   otherwise starts a throwaway PostgreSQL cluster for the run and stops it afterwards. Checks
//!   the machine's packages first (`preflight.rs`) and names every missing one in one
//!   `apt-get install` line.
//! - `pg`   : starts a throwaway PostgreSQL cluster, prints its URL, stops it on Enter/EOF.
//! - `bench`: HTTP load against the ceiling server with wrk (see `bench.rs`); `bench --console`:
//!   render time and weight of each console page (see `console_figures.rs`).
//! - `screenshots`: the console's key pages in headless Chromium at 1280 and 375 pixels, written
//!   to docs/console/ (the e2e test `console_screenshots` with `TENANTRY_SCREENSHOTS_DIR` set).
//! - `openapi`: writes docs/api/openapi.json from the code (a test fails when it is stale).
//! - `fuzz [--seconds N]`: every cargo-fuzz target in `fuzz/` for N seconds (20) from the
//!   committed corpus; also a step of `test`.
//! - `fuzz-api`: schemathesis against a live server as every role, then `tenantry check`
//!   (`fuzz_api.py`); also the last step of `test`.

mod bench;
mod console_figures;
mod pg;
mod preflight;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(&args[1..]),
        Some("pg") => pg::interactive(),
        Some("bench") if args.get(1).is_some_and(|a| a == "--console") => {
            console_figures::run(&root(), &args[2..])
        }
        Some("bench") => bench::bench(&root(), &args[1..]),
        Some("screenshots") => screenshots(),
        Some("openapi") => openapi(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("fuzz-api") => python_tools().and_then(|tools| {
            let pg = std::env::var("TENANTRY_TEST_PG").ok();
            fuzz_api(&tools, &args[1..], pg.as_deref())
        }),
        _ => {
            eprintln!("usage: cargo xtask <ci | test [cargo test args] | pg | openapi | screenshots | fuzz [--seconds N] | fuzz-api [--requests N] | bench [--accounts N] [--duration S] [--connections C] | bench --console [--renders N]>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate lives in `<root>/xtask`): the checkout `cargo xtask` runs in.
///
/// `cargo run` (the alias) gives the process it starts `CARGO_MANIFEST_DIR`, which names that
/// checkout. The path compiled into the binary is only the fallback: cargo does not rebuild for
/// a checkout at another path when the sources are no newer than a binary another checkout
/// built in a shared target directory, and that checkout may be gone by now (`cargo xtask bench`
/// then measured for minutes and failed on docs/benchmarks.md with "No such file or directory").
fn root() -> std::path::PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    manifest
        .parent()
        .map_or_else(|| manifest.clone(), std::path::Path::to_path_buf)
}

/// The checkout's commit, short, for the figures' rows (empty when git cannot say).
fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

fn ci() -> Result<(), String> {
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    test(&[])
}

/// Regenerates the committed OpenAPI document with the binary's own `openapi` command.
fn openapi() -> Result<(), String> {
    let out = cargo()
        .args(["run", "--quiet", "-p", "tenantry", "--", "openapi"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tenantry openapi failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let path = root().join("docs/api/openapi.json");
    std::fs::write(&path, &out.stdout).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// The console's screenshots: the e2e test that takes them, with the directory to write them
/// to, so that the browser support and the real server of the tests are the ones used (the
/// test also runs in the suite, writing nothing, so this command keeps working).
fn screenshots() -> Result<(), String> {
    let node = node_tools()?;
    let dir = root().join("docs/console");
    run(cargo()
        .args([
            "test",
            "-p",
            "tenantry",
            "--test",
            "e2e",
            "console_screenshots::",
        ])
        .env("TENANTRY_SCREENSHOTS_DIR", &dir)
        .env("TENANTRY_NODE_TOOLS_BIN", &node)
        .env("TENANTRY_REQUIRE_TOOLS", "1"))?;
    eprintln!("xtask: wrote the screenshots to {}", dir.display());
    Ok(())
}

fn target_dir() -> std::path::PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}

/// Python tools the suite drives (the OpenAPI validator, schemathesis, the Python client
/// generator), in a virtualenv next to the build output so that they are installed once per
/// machine and never into the system Python. Pinned: a new generator release must not change
/// what the suite checks behind its back.
fn python_tools() -> Result<std::path::PathBuf, String> {
    const PACKAGES: [(&str, &str); 3] = [
        ("openapi-spec-validator", "openapi-spec-validator==0.9.0"),
        ("schemathesis", "schemathesis==4.32.5"),
        ("openapi-python-client", "openapi-python-client==0.29.1"),
    ];
    let venv = target_dir().join("python-tools");
    let bin = venv.join("bin");
    if PACKAGES.iter().any(|(tool, _)| !bin.join(tool).exists()) {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        run(Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(PACKAGES.map(|(_, pin)| pin)))?;
    }
    Ok(bin)
}

/// Node tools the suite drives (openapi-typescript and the TypeScript compiler; axe-core, whose
/// script the console's browser tests inject), pinned, in a directory next to the build output
/// (`npm install --prefix`); their `node_modules/.bin`.
fn node_tools() -> Result<std::path::PathBuf, String> {
    // (what must exist under node_modules once installed, the pinned package)
    const PACKAGES: [(&str, &str); 3] = [
        (".bin/openapi-typescript", "openapi-typescript@7.13.0"),
        (".bin/tsc", "typescript@5.9.3"),
        ("axe-core/axe.min.js", "axe-core@4.10.3"),
    ];
    let prefix = target_dir().join("node-tools");
    let bin = prefix.join("node_modules/.bin");
    let modules = prefix.join("node_modules");
    if PACKAGES
        .iter()
        .any(|(file, _)| !modules.join(file).exists())
    {
        std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
        run(Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&prefix)
            .args(["--no-audit", "--no-fund", "--save-exact"])
            .args(PACKAGES.map(|(_, pin)| pin)))?;
    }
    Ok(bin)
}

/// Generated requests from the OpenAPI document against a live server (see `fuzz_api.py`); with
/// `pg` (a cluster's admin URL), one more round against a server on PostgreSQL.
fn fuzz_api(tools: &std::path::Path, extra: &[String], pg: Option<&str>) -> Result<(), String> {
    run(cargo().args(["build", "--quiet", "-p", "tenantry"]))?;
    let target = target_dir();
    let mut cmd = Command::new(tools.join("python"));
    cmd.arg(root().join("xtask/fuzz_api.py"))
        .arg(target.join("debug/tenantry"))
        .arg(tools.join("schemathesis"))
        .args(extra);
    match pg {
        Some(url) => cmd.env("TENANTRY_TEST_PG", url),
        None => cmd.env_remove("TENANTRY_TEST_PG"),
    };
    run(&mut cmd)
}

const FUZZ_TARGETS: [&str; 5] = [
    "cidr_list",
    "merge_patch",
    "import_document",
    "webhook_verify",
    "api_key",
];

/// Runs each cargo-fuzz target for a fixed time. New inputs go to a scratch directory (the
/// committed corpus is only read); a crash fails the run and leaves its input in
/// `fuzz/artifacts/<target>`.
fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args {
        [] => 20,
        [flag, n] if flag == "--seconds" => n.parse().map_err(|_| format!("--seconds: `{n}`"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".into()),
    };
    let have_fuzz = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_fuzz {
        run(cargo().args(["install", "cargo-fuzz", "--locked", "--version", "0.13.2"]))?;
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target"));
    let scratch = std::env::temp_dir().join(format!("tenantry-fuzz-{}", std::process::id()));
    for name in FUZZ_TARGETS {
        let fresh = scratch.join(name);
        std::fs::create_dir_all(&fresh).map_err(|e| e.to_string())?;
        // libFuzzer writes new inputs into the first corpus directory and only reads the rest.
        let out = cargo()
            .current_dir(root().join("fuzz"))
            .env("CARGO_TARGET_DIR", target.join("fuzz"))
            .args(["fuzz", "run", "--sanitizer", "none", name])
            .arg(&fresh)
            .arg(root().join("fuzz/corpus").join(name))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let done = log
            .lines()
            .find(|l| l.starts_with("Done "))
            .unwrap_or("no summary");
        eprintln!("xtask: fuzz {name}: {done}");
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!("fuzz target {name} failed:\n{}", tail.join("\n")));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn test(extra: &[String]) -> Result<(), String> {
    let given_cluster = std::env::var("TENANTRY_TEST_PG").is_ok_and(|u| !u.is_empty());
    // Before anything slow: a missing package is reported now, with every other one.
    preflight::check(given_cluster)?;
    // Everything the run puts in the temporary directory (test databases, the PostgreSQL
    // cluster, the generated-request run's data, what tools leave) goes into one of its own,
    // so that what a successful run leaves behind is found, named and fails the run, even on
    // a machine where others use the system's temporary directory at the same time.
    let system_tmp = std::env::temp_dir();
    let scratch = system_tmp.join(format!("tenantry-xtask-test-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("create {}: {e}", scratch.display()))?;
    // Single-threaded here: nothing else reads the environment while it changes.
    std::env::set_var("TMPDIR", &scratch);
    let result = test_in_scratch(extra, given_cluster);
    std::env::set_var("TMPDIR", &system_tmp);
    match result {
        Ok(()) => {
            let left = leftovers(&scratch)?;
            if !left.is_empty() {
                return Err(format!(
                    "the tests passed but left these in the temporary directory {} (a test run \
                     must leave nothing behind): {}",
                    scratch.display(),
                    left.join(", ")
                ));
            }
            std::fs::remove_dir(&scratch).map_err(|e| format!("remove {}: {e}", scratch.display()))
        }
        Err(e) => Err(format!(
            "{e}\n(temporary files kept in {})",
            scratch.display()
        )),
    }
}

/// The names in `dir`, sorted.
fn leftovers(dir: &std::path::Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn test_in_scratch(extra: &[String], given_cluster: bool) -> Result<(), String> {
    let tools = python_tools()?;
    let node = node_tools()?;
    let (url, _cluster) = match std::env::var("TENANTRY_TEST_PG") {
        Ok(url) if given_cluster => (url, None),
        _ => {
            let cluster = pg::Cluster::start()?;
            (cluster.url(), Some(cluster))
        }
    };
    eprintln!("xtask: PostgreSQL for tests at {url}");
    // The PostgreSQL variants are `#[ignore]`d so that a plain `cargo test` without a cluster
    // reports them as skipped rather than passed; here a cluster exists, so they run.
    let mut args: Vec<String> = extra.to_vec();
    if !args.iter().any(|a| a == "--") {
        args.push("--".into());
    }
    args.push("--include-ignored".into());
    run(cargo()
        .args(["test", "--workspace"])
        .args(&args)
        .env("TENANTRY_TEST_PG", &url)
        .env("TENANTRY_REQUIRE_PG", "1")
        .env("TENANTRY_TOOLS_BIN", &tools)
        .env("TENANTRY_NODE_TOOLS_BIN", &node)
        .env("TENANTRY_REQUIRE_TOOLS", "1"))?;
    // A filtered run (`cargo xtask test some_test`) is about those tests only.
    if extra.is_empty() {
        fuzz_api(&tools, &[], Some(&url))?;
        fuzz(&[])?;
    }
    // `_cluster` is dropped on return, stopping PostgreSQL whether the tests passed or not.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::leftovers;

    #[test]
    fn leftovers_are_every_name_in_the_directory() {
        let dir = std::env::temp_dir().join(format!("xtask-leftovers-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("tenantry-e2e-x")).expect("dir");
        assert_eq!(leftovers(&dir).expect("list"), ["tenantry-e2e-x"]);
        std::fs::write(dir.join("a.log"), "").expect("file");
        assert_eq!(leftovers(&dir).expect("list"), ["a.log", "tenantry-e2e-x"]);
        std::fs::remove_dir_all(&dir).expect("clean");
        assert!(leftovers(&dir).is_err(), "a missing directory is an error");
    }
}
