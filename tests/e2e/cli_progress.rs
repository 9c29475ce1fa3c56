//! Long commands report progress on stderr, never on stdout (which carries their data): off a
//! terminal, as here, one line per step (`<command>: <step>`) with the counts the command knows,
//! then a summary line (`<command>: done: ...`).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{workspace, Backend, TestApp, TestDb};

/// Runs the binary to completion on `db`: success, stdout, stderr.
async fn run(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let mut cmd = db.command(args);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("`tenantry {}` did not exit in time", args.join(" ")))
        .expect("run tenantry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The progress lines of `task` on stderr (log lines are interleaved there too).
fn steps(stderr: &str, task: &str) -> Vec<String> {
    let prefix = format!("{task}: ");
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

fn no_progress_in(stdout: &str) {
    for task in ["migrate", "import", "keys reseal", "backup", "restore"] {
        assert!(
            !stdout.lines().any(|l| l.starts_with(&format!("{task}: "))),
            "progress on stdout: {stdout}"
        );
    }
}

#[tokio::test]
async fn long_commands_print_one_line_per_step_and_a_summary_on_stderr_only() {
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    let known = std::fs::read_dir(workspace().join("migrations/sqlite"))
        .expect("migrations")
        .flatten()
        .filter(|e| e.path().is_dir())
        .count();

    // migrate: each migration of the total, then the summary; stdout as before.
    let (ok, stdout, stderr) = run(&db, &["migrate"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "migrations applied\n");
    let lines = steps(&stderr, "migrate");
    assert_eq!(lines.len(), known + 1, "{stderr}");
    for (i, line) in lines[..known].iter().enumerate() {
        assert!(line.starts_with(&format!("{}/{known} ", i + 1)), "{line}");
    }
    assert_eq!(
        lines[known],
        format!("done: {known} migration(s) applied"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = run(&db, &["migrate"]).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "migrations applied\n");
    assert_eq!(
        steps(&stderr, "migrate"),
        ["done: 0 migration(s) applied"],
        "{stderr}"
    );

    // A server makes the `default` account and seals its first secrets.
    let app = TestApp::start(db, &[]).await;
    let db = app.stop().await;

    // export's stdout is the document alone; import reads it back, section by section.
    let (ok, export, stderr) = run(&db, &["export", "--account", "default"]).await;
    assert!(ok, "{stderr}");
    let doc: Value = serde_json::from_str(&export).expect("stdout is the export alone");
    let sections = doc["export"]["settings"]
        .as_object()
        .expect("settings")
        .len();
    let file = db.dir.join("export.json");
    std::fs::write(&file, &export).expect("write");
    let path = file.display().to_string();
    let (ok, stdout, stderr) = run(&db, &["import", "--account", "default", &path]).await;
    assert!(ok, "{stderr}");
    no_progress_in(&stdout);
    let summary: Value = serde_json::from_str(&stdout).expect("stdout is the summary alone");
    let lines = steps(&stderr, "import");
    assert_eq!(lines[0], "opening the database", "{stderr}");
    assert_eq!(lines[1], format!("reading {path}"), "{stderr}");
    assert_eq!(lines[2], format!("importing {sections} section(s)"));
    let applied = summary["sections"].as_object().expect("sections").len();
    for i in 0..applied {
        assert!(
            lines[3 + i].starts_with(&format!("{}/{applied} ", i + 1)),
            "{stderr}"
        );
    }
    assert!(
        lines[3 + applied].starts_with(&format!("done: {applied} section(s), ")),
        "{stderr}"
    );

    // keys reseal: the values of the total, then the summary.
    let (ok, stdout, stderr) = run(&db, &["keys", "reseal"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("re-sealed "), "{stdout}");
    no_progress_in(&stdout);
    let lines = steps(&stderr, "keys reseal");
    assert!(
        lines.first().is_some_and(|l| l.starts_with("0/")),
        "{stderr}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("done: ") && l.contains(" value(s) re-sealed in ")),
        "{stderr}"
    );

    // backup and restore: their numbered steps, then the summary.
    let backup = db.dir.join("copy.db").display().to_string();
    let (ok, stdout, stderr) = run(&db, &["backup", &backup]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("backup written: "), "{stdout}");
    no_progress_in(&stdout);
    let lines = steps(&stderr, "backup");
    assert_eq!(lines.len(), 4, "{stderr}");
    for (i, step) in ["1/3 copying ", "2/3 checking the copy (", "3/3 naming it "]
        .iter()
        .enumerate()
    {
        assert!(lines[i].starts_with(step), "{stderr}");
    }
    assert!(lines[3].starts_with("done: 1 accounts, "), "{stderr}");

    let (ok, stdout, stderr) = run(&db, &["restore", "--force", &backup]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("restored "), "{stdout}");
    no_progress_in(&stdout);
    let lines = steps(&stderr, "restore");
    let expected = [
        "1/4 copying ",
        "2/4 migrating the copy",
        "3/4 checking the copy (0 migration(s) applied)",
        "4/4 moving it into place as ",
        "done: 1 accounts checked, no problems",
    ];
    assert_eq!(lines.len(), expected.len(), "{stderr}");
    for (line, step) in lines.iter().zip(expected) {
        assert!(line.starts_with(step), "{line} / {step}");
    }
    assert!(Path::new(&backup).exists());
}
