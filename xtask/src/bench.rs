//! `cargo xtask bench`: the real server against a ceiling, side by side, with a real load
//! generator (wrk). Builds release binaries, starts `tenantry serve` on a fresh SQLite data
//! directory, seeds accounts and a 100-entry allowlist, starts the ceiling server (same HTTP
//! stack, same bytes, no auth, no database), drives both with wrk, prints requests/s, p50/p99
//! and the ratio, and appends the rows to docs/benchmarks.md.
//!
//! Scenarios: (a) GET settings with key auth and a 100-entry enforced allowlist, (b) PUT
//! preferences, (c) PATCH tenant settings, (d) the member list of a 10,000-member account, first
//! page and a deep cursor, (e) password sign-in (Argon2id) with (a) measured beside it, (f) 90/10
//! reads/writes spread over every seeded account's key, (g) 95/5 reads/writes spread uniformly
//! over many more accounts' keys (10,000), with the peak RSS during it: memory must stay bounded
//! by the caches' capacities however many tenants are active. (f) and (g) start after one read
//! of each of their keys: they measure the steady state, not every tenant's first read after a
//! start. Also reported: start-up time on
//! an empty data directory, idle RSS after start and peak RSS after the load.
//!
//! Options: `--accounts N` (1000), `--many-accounts N` (10000, scenario (g); seeded only when
//! (g) runs), `--members N` (10000), `--duration S` (10),
//! `--connections C` (64), `--pg` (a throwaway PostgreSQL instead of SQLite), `--only LETTERS`
//! (run only those scenarios, e.g. `--only ad`; the rows are still recorded), `--server-bin PATH`
//! (measure that `tenantry` binary, e.g. a copy of an older build, instead of building this
//! tree's). To see what the two per-request records cost: `--no-request-audit` (every seeded
//! account's `security.audit.log_api_requests` off) and `--no-access-log` (the server at
//! `RUST_LOG=warn`); the rows then say so beside the backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Options {
    accounts: usize,
    /// Accounts whose keys scenario (g) spreads its load over.
    many_accounts: usize,
    duration: u32,
    connections: u32,
    members: usize,
    pg: bool,
    /// Scenario letters to run (`--only ad`); empty: all of them.
    only: String,
    /// A `tenantry` binary to measure instead of building this tree's (an older build, for a
    /// before/after pair in one sitting).
    server_bin: Option<PathBuf>,
    /// The audit of API requests off in every seeded account (on by default, as in the issue).
    no_request_audit: bool,
    /// The info-level access line of each request off (`RUST_LOG=warn`).
    no_access_log: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        accounts: 1000,
        many_accounts: 10_000,
        duration: 10,
        connections: 64,
        members: 10_000,
        pg: false,
        only: String::new(),
        server_bin: None,
        no_request_audit: false,
        no_access_log: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--pg" {
            o.pg = true;
            continue;
        }
        if flag == "--no-request-audit" {
            o.no_request_audit = true;
            continue;
        }
        if flag == "--no-access-log" {
            o.no_access_log = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        if flag == "--only" {
            if value.is_empty() || !value.chars().all(|c| ('a'..='g').contains(&c)) {
                return Err(format!(
                    "--only takes scenario letters a to g, not `{value}`"
                ));
            }
            o.only = value.clone();
            continue;
        }
        if flag == "--server-bin" {
            let path = PathBuf::from(value);
            if !path.is_file() {
                return Err(format!("--server-bin: no file at {value}"));
            }
            o.server_bin = Some(path);
            continue;
        }
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a number"))?;
        match flag.as_str() {
            "--accounts" => o.accounts = usize::try_from(n).map_err(|e| e.to_string())?,
            "--many-accounts" => o.many_accounts = usize::try_from(n).map_err(|e| e.to_string())?,
            "--duration" => o.duration = u32::try_from(n).map_err(|e| e.to_string())?,
            "--connections" => o.connections = u32::try_from(n).map_err(|e| e.to_string())?,
            "--members" => o.members = usize::try_from(n).map_err(|e| e.to_string())?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.members < 200 {
        // The deep-page scenario starts half-way down, paging there 100 members at a time.
        return Err(format!(
            "--members must be at least 200 (got {}): scenario (d) pages to the middle of the list",
            o.members
        ));
    }
    Ok(o)
}

/// A child process killed when dropped.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd`, returns it with the stdout lines read up to the one starting with `ready`.
pub(crate) fn start(
    mut cmd: Command,
    ready: &str,
) -> Result<(Running, Vec<String>, String), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let running = Running(child);
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(rest) = line.strip_prefix(ready) {
            let addr = rest.trim().trim_start_matches("http://").to_owned();
            return Ok((running, lines, addr));
        }
        lines.push(line);
    }
    Err(format!("{cmd:?} exited before `{ready}`"))
}

/// One HTTP/1.1 request with `Connection: close`; the status and body.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status in {raw:.80}"))?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

pub(crate) fn printed(lines: &[String], label: &str) -> Result<String, String> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| format!("`{label}` not printed"))
}

struct Result1 {
    rps: f64,
    p50: String,
    p99: String,
    errors: u64,
}

fn wrk(url: &str, key: &str, script: Option<&Path>, o: &Options) -> Result<Result1, String> {
    wrk_with(url, key, script, o.connections, o.duration)
}

fn wrk_with(
    url: &str,
    key: &str,
    script: Option<&Path>,
    connections: u32,
    duration: u32,
) -> Result<Result1, String> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{duration}s"),
        "--latency",
    ]);
    if !key.is_empty() {
        cmd.args(["-H", &format!("Authorization: Bearer {key}")]);
    }
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk (install it: apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    Ok(Result1 {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("wrk printed no rate:\n{text}"))?,
        p50: field("50%").unwrap_or_default(),
        p99: field("99%").unwrap_or_default(),
        errors: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    })
}

/// The string value of the first `"key":"..."` in a JSON text (enough for the ids, keys and
/// cursors the seeding reads; xtask stays dependency-free).
pub(crate) fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let rest = &text[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Resident set size of a process (`VmRSS`) and its peak (`VmHWM`), in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let (rss, peak, _) = rss_detail(pid);
    (rss, peak)
}

/// `VmRSS`, `VmHWM` and `RssAnon` (the process's own memory, without file-backed pages such as
/// the binary's), in MiB.
fn rss_detail(pid: u32) -> (f64, f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

/// CPU time (user + system, in clock ticks) a process has used so far.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Waits (at most 10 s) until the process uses under 10 % of a CPU over 200 ms.
pub(crate) fn settle(pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = cpu_ticks(pid);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = cpu_ticks(pid);
        // 100 ticks per second on Linux: 200 ms at 10 % is 2 ticks.
        if let (Some(a), Some(b)) = (last, now) {
            if b.saturating_sub(a) < 2 {
                return;
            }
        }
        last = now;
    }
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS (Linux 4.0+, `clear_refs` value 5),
/// so the peak read after a scenario is that scenario's own. False where the kernel refuses.
fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

pub(crate) fn expect(status: u16, what: &str, text: &str, want: u16) -> Result<(), String> {
    if status == want {
        Ok(())
    } else {
        Err(format!("{what}: {status} {text:.300}"))
    }
}

/// `n` members (viewers) inserted straight into the database: going through invitations would
/// measure Argon2 10,000 times, not the list.
pub(crate) fn seed_members(
    data: &Path,
    database_url: Option<&str>,
    account: &str,
    n: usize,
) -> Result<(), String> {
    let mut sql = String::from("BEGIN;\n");
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let users: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('usr_0000000000{i:016}', 'm{i}@bench.test', {})",
                    1_000_000 + i
                )
            })
            .collect();
        let members: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('{account}', 'usr_0000000000{i:016}', 'viewer', 'active', {})",
                    1_000_000 + i
                )
            })
            .collect();
        sql.push_str(&format!(
            "INSERT INTO users (id, email, created_at) VALUES {};\nINSERT INTO memberships (account_id, user_id, role, status, created_at) VALUES {};\n",
            users.join(","),
            members.join(",")
        ));
    }
    sql.push_str("COMMIT;\n");
    let file = data.join("members.sql");
    std::fs::write(&file, sql).map_err(|e| e.to_string())?;
    let status = match database_url {
        Some(url) => Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-f"])
            .arg(&file)
            .status(),
        None => Command::new("python3")
            .args([
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); c.isolation_level = None; c.executescript(open(sys.argv[2]).read())",
            ])
            .arg(data.join("tenantry.db"))
            .arg(&file)
            .status(),
    }
    .map_err(|e| format!("seeding members: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("seeding members failed: {status}"))
    }
}

/// docs/benchmarks.md of the checkout, which must exist.
pub(crate) fn benchmarks_doc(root: &Path) -> Result<PathBuf, String> {
    let doc = root.join("docs/benchmarks.md");
    if doc.is_file() {
        Ok(doc)
    } else {
        Err(format!(
            "{} does not exist: run `cargo xtask` inside a checkout of the repository",
            doc.display()
        ))
    }
}

/// Adds `block` (a complete table with its own header and the line that introduces it) at the
/// end of the section `heading` of `doc`, creating the section (with `intro`) at the end of the
/// file when it is missing. The end of the section, not of the file: the sections are read as
/// prose with tables, and rows pushed at the end of the file land under whatever comes last,
/// without a header.
pub(crate) fn record(doc: &Path, heading: &str, intro: &str, block: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let text = insert_in_section(&text, heading, intro, block);
    std::fs::write(doc, text).map_err(|e| format!("{}: {e}", doc.display()))?;
    eprintln!(
        "xtask: recorded the figures in {} ({heading})",
        doc.display()
    );
    Ok(())
}

/// `text` with `block` at the end of the `## ` section `heading` (see [`record`]).
fn insert_in_section(text: &str, heading: &str, intro: &str, block: &str) -> String {
    let block = block.trim_end();
    let Some(start) = text
        .match_indices(heading)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || text[..at].ends_with('\n'))
    else {
        return format!("{}\n\n{heading}\n\n{intro}\n\n{block}\n", text.trim_end());
    };
    let body = start + heading.len();
    let end = text[body..]
        .find("\n## ")
        .map_or(text.len(), |at| body + at + 1);
    let (before, after) = text.split_at(end);
    if after.is_empty() {
        format!("{}\n\n{block}\n", before.trim_end())
    } else {
        format!("{}\n\n{block}\n\n{after}", before.trim_end())
    }
}

/// Builds `packages` in release mode; the directory that holds their binaries.
pub(crate) fn build_release(packages: &[&str]) -> Result<PathBuf, String> {
    let mut build = crate::cargo();
    build.args(["build", "--release"]);
    for package in packages {
        build.args(["-p", package]);
    }
    crate::run(&mut build)?;
    Ok(crate::target_dir().join("release"))
}

/// An empty directory `<temp>/<prefix>-<pid>` for a server's data.
pub(crate) fn fresh_data_dir(prefix: &str) -> Result<PathBuf, String> {
    let data = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    Ok(data)
}

/// `tenantry serve` on `data` and port 0, rate limits off, its log (at `rust_log`) in
/// `data/server.log`; SQLite unless the caller sets `DATABASE_URL`.
pub(crate) fn serve_command(bin: &Path, data: &Path, rust_log: &str) -> Result<Command, String> {
    let log = data.join("server.log");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .env("TENANTRY_DATA_DIR", data)
        .env("TENANTRY_BIND", "127.0.0.1:0")
        .env("TENANTRY_RATE_LIMIT_PER_IP", "0")
        .env("TENANTRY_RATE_LIMIT_PER_KEY", "0")
        .env_remove("TENANTRY_CONFIG")
        .env("RUST_LOG", rust_log)
        .stderr(std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?);
    Ok(cmd)
}

struct Scenario {
    name: String,
    path: String,
    key: String,
    script: Option<PathBuf>,
}

fn script(data: &Path, name: &str, text: &str) -> Result<Option<PathBuf>, String> {
    let path = data.join(name);
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(Some(path))
}

pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    // Before minutes of measuring: the figures must have somewhere to go.
    let doc = benchmarks_doc(root)?;
    let mut packages = vec!["tenantry-bench-ceiling"];
    if o.server_bin.is_none() {
        packages.push("tenantry");
    }
    let bin = build_release(&packages)?;
    let data = fresh_data_dir("tenantry-bench")?;
    let cluster = if o.pg {
        Some(crate::pg::Cluster::start()?)
    } else {
        None
    };
    let database_url = cluster.as_ref().map(crate::pg::Cluster::url);

    let mut cmd = serve_command(
        &o.server_bin.clone().unwrap_or_else(|| bin.join("tenantry")),
        &data,
        if o.no_access_log { "warn" } else { "info" },
    )?;
    match &database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let started = std::time::Instant::now();
    let (server, lines, addr) = start(cmd, "tenantry listening on ")?;
    let startup = started.elapsed();
    let pid = server.0.id();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (idle_rss, _) = rss_mib(pid);
    let owner = printed(&lines, "owner API key:")?;
    let operator = printed(&lines, "operator key:")?;
    let tenant = printed(&lines, "tenant id:")?;

    // Scenario (g)'s accounts only when it runs: seeding 10,000 takes a while.
    let runs_g = o.only.is_empty() || o.only.contains('g');
    let seeded = if runs_g {
        o.accounts.max(o.many_accounts)
    } else {
        o.accounts
    };
    eprintln!("xtask: seeding {seeded} accounts");
    let mut keys = Vec::with_capacity(seeded);
    for i in 0..seeded {
        let body = format!(r#"{{"name":"bench-{i:05}","owner_email":"o{i}@bench.test"}}"#);
        let (status, text) = http(&addr, "POST", "/admin/accounts", &operator, Some(&body))?;
        expect(status, "seeding an account", &text, 201)?;
        keys.push(json_str(&text, "owner_api_key").ok_or("no owner_api_key")?);
    }
    // A 100-entry allowlist that admits the load generator, enforced.
    let mut cidrs: Vec<String> = (0..99)
        .map(|i| format!("\"10.{}.{}.0/24\"", i / 256, i % 256))
        .collect();
    cidrs.push("\"127.0.0.0/8\"".into());
    let body = format!(
        r#"{{"api_access":{{"ip_whitelist":[{}],"require_ip_whitelist":true}},"confirm_lockout":true}}"#,
        cidrs.join(",")
    );
    let (status, text) = http(
        &addr,
        "PUT",
        "/v2/accounts/settings/security",
        &owner,
        Some(&body),
    )?;
    expect(status, "allowlist", &text, 200)?;
    if o.no_request_audit {
        for key in std::iter::once(&owner).chain(&keys) {
            let (status, text) = http(
                &addr,
                "PUT",
                "/v2/accounts/settings/security",
                key,
                Some(r#"{"audit":{"log_api_requests":false}}"#),
            )?;
            expect(status, "turning the request audit off", &text, 200)?;
        }
        // The allowlist must still be enforced: only the audit was to change.
        let (status, text) = http(&addr, "GET", "/v2/accounts/settings/security", &owner, None)?;
        expect(status, "reading the security settings", &text, 200)?;
        if !text.contains(r#""log_api_requests":false"#)
            || !text.contains(r#""require_ip_whitelist":true"#)
        {
            return Err(format!("the request audit is not off alone: {text:.400}"));
        }
    }
    let (status, text) = http(&addr, "GET", "/api/organization", &owner, None)?;
    expect(status, "organization", &text, 200)?;
    let account = json_str(&text, "id").ok_or("no account id")?;
    eprintln!("xtask: seeding {} members", o.members);
    seed_members(&data, database_url.as_deref(), &account, o.members)?;
    // A cursor half-way down the list.
    let mut cursor = String::new();
    for _ in 0..(o.members / 2 / 100) {
        let path = format!("/v2/accounts/team/members?limit=100&cursor={cursor}");
        let path = if cursor.is_empty() {
            "/v2/accounts/team/members?limit=100".to_owned()
        } else {
            path
        };
        let (status, text) = http(&addr, "GET", &path, &owner, None)?;
        expect(status, "paging members", &text, 200)?;
        cursor = json_str(&text, "nextCursor").ok_or("the member list ended early")?;
    }
    const PASSWORD: &str = "bench sign-in passphrase 42";
    let (status, text) = http(
        &addr,
        "POST",
        "/api/user/password",
        &owner,
        Some(&format!(r#"{{"new_password":"{PASSWORD}"}}"#)),
    )?;
    expect(status, "setting the owner's password", &text, 204)?;

    let tenant_path = format!("/tenants/{tenant}/settings");
    let deep = format!("/v2/accounts/team/members?limit=50&cursor={cursor}");
    let key_list: Vec<String> = keys
        .iter()
        .take(o.accounts)
        .map(|k| format!("\"{k}\""))
        .collect();
    let many_list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    let scenarios = [
        Scenario { name: "(a) GET /v2/accounts/settings, key auth, 100-entry allowlist".into(), path: "/v2/accounts/settings".into(), key: owner.clone(), script: None },
        Scenario { name: "(b) PUT /v2/accounts/settings/preferences, alternating values".into(), path: "/v2/accounts/settings/preferences".into(), key: owner.clone(), script: script(&data, "b.lua",
            // wrk.format() with no arguments keeps the -H headers (the key).
            "wrk.method = \"PUT\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local theme = (n % 2 == 0) and \"dark\" or \"light\"\n  wrk.body = '{\"theme\":\"' .. theme .. '\"}'\n  return wrk.format()\nend\n")? },
        Scenario { name: "(c) PATCH /tenants/{id}/settings, alternating values".into(), path: tenant_path, key: owner.clone(), script: script(&data, "c.lua",
            "wrk.method = \"PATCH\"\nwrk.headers[\"Content-Type\"] = \"application/merge-patch+json\"\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local c = (n % 2 == 0) and \"#112233\" or \"#445566\"\n  wrk.body = '{\"branding\":{\"primaryColor\":\"' .. c .. '\"}}'\n  return wrk.format()\nend\n")? },
        Scenario { name: format!("(d) GET /v2/accounts/team/members?limit=50, {} members, first page", o.members), path: "/v2/accounts/team/members?limit=50".into(), key: owner.clone(), script: None },
        Scenario { name: format!("(d) GET /v2/accounts/team/members?limit=50, {} members, cursor at the middle", o.members), path: deep, key: owner.clone(), script: None },
        Scenario { name: "(e) POST /api/auth/login (Argon2id)".into(), path: "/api/auth/login".into(), key: String::new(), script: script(&data, "e.lua",
            &format!("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '{{\"email\":\"owner@localhost\",\"password\":\"{PASSWORD}\"}}'\n"))? },
        Scenario { name: format!("(f) 90 % GET settings / 10 % PUT preferences over {} accounts' keys, each read once before", key_list.len()), path: "/v2/accounts/settings".into(), key: String::new(), script: script(&data, "f.lua",
            &format!("local keys = {{ {} }}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local h = {{ [\"Authorization\"] = \"Bearer \" .. keys[math.random(#keys)], [\"Content-Type\"] = \"application/json\" }}\n  if n % 10 == 0 then\n    local theme = (n % 20 == 0) and \"dark\" or \"light\"\n    return wrk.format(\"PUT\", \"/v2/accounts/settings/preferences\", h, '{{\"theme\":\"' .. theme .. '\"}}')\n  end\n  return wrk.format(\"GET\", \"/v2/accounts/settings\", h)\nend\n", key_list.join(", ")))? },
        Scenario { name: format!("(g) 95 % GET settings / 5 % PUT preferences over {} accounts' keys, each read once before", many_list.len()), path: "/v2/accounts/settings".into(), key: String::new(), script: script(&data, "g.lua",
            &format!("local keys = {{ {} }}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local h = {{ [\"Authorization\"] = \"Bearer \" .. keys[math.random(#keys)], [\"Content-Type\"] = \"application/json\" }}\n  if n % 20 == 0 then\n    local theme = (n % 40 == 0) and \"dark\" or \"light\"\n    return wrk.format(\"PUT\", \"/v2/accounts/settings/preferences\", h, '{{\"theme\":\"' .. theme .. '\"}}')\n  end\n  return wrk.format(\"GET\", \"/v2/accounts/settings\", h)\nend\n", many_list.join(", ")))? },
    ];

    // The ceiling answers each path with the bytes tenantry answers it with.
    let mut ceiling_args = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let (method, body) = match s.name.chars().nth(1) {
            Some('b') => ("PUT", Some(r#"{"theme":"dark"}"#.to_owned())),
            Some('c') => (
                "PATCH",
                Some(r##"{"branding":{"primaryColor":"#112233"}}"##.to_owned()),
            ),
            Some('e') => (
                "POST",
                Some(format!(
                    r#"{{"email":"owner@localhost","password":"{PASSWORD}"}}"#
                )),
            ),
            _ => ("GET", None),
        };
        let (status, text) = http(&addr, method, &s.path, &owner, body.as_deref())?;
        expect(status, &s.name, &text, 200)?;
        let file = data.join(format!("ceiling-{i}.json"));
        std::fs::write(&file, text).map_err(|e| e.to_string())?;
        let path = s.path.split('?').next().unwrap_or(&s.path);
        ceiling_args.push(format!("{path}={}", file.display()));
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut cmd = Command::new(bin.join("tenantry-bench-ceiling"));
    cmd.arg(data.join("ceiling-0.json"))
        .arg(workers.to_string())
        .args(&ceiling_args);
    let (_ceiling, _, ceiling) = start(cmd, "listening on ")?;

    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let backend = [
        Some(if o.pg { "PostgreSQL" } else { "SQLite" }),
        o.no_request_audit.then_some("no request audit"),
        o.no_access_log.then_some("no access log"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let mut rows = Vec::new();
    let wanted = |s: &Scenario| {
        o.only.is_empty() || s.name.chars().nth(1).is_some_and(|c| o.only.contains(c))
    };
    // Peak RSS per phase: which part of the run sets the whole run's peak.
    let mut peaks = vec![("seeding".to_owned(), rss_mib(pid).1)];
    let per_phase = reset_peak_rss(pid);
    for s in scenarios.iter().filter(|s| wanted(s)) {
        // The mixes spread over many keys are measured in the steady state a deployment serving
        // that many tenants is in: each key read once first, so the run does not measure the
        // first read of every tenant after a start (decision 0052; the cold figures are there).
        let warm = match s.name.chars().nth(1) {
            Some('f') => &keys[..o.accounts.min(keys.len())],
            Some('g') => &keys[..],
            _ => &[][..],
        };
        for key in warm {
            let (status, text) = http(&addr, "GET", "/v2/accounts/settings", key, None)?;
            expect(status, "reading each key's settings once", &text, 200)?;
        }
        settle(pid);
        let login = s.name.starts_with("(e)");
        // During the sign-in load, scenario (a) at 8 connections shows what is left for others.
        let beside = login.then(|| {
            let url = format!("http://{addr}/v2/accounts/settings");
            let (key, duration) = (owner.clone(), o.duration);
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(1));
                wrk_with(&url, &key, None, 8, duration.saturating_sub(2).max(1))
            })
        });
        let real = wrk(
            &format!("http://{addr}{}", s.path),
            &s.key,
            s.script.as_deref(),
            &o,
        )?;
        // What the server still does after the load (the audit backlog, a WAL checkpoint) must
        // not take the ceiling's CPU.
        settle(pid);
        let ceil = wrk(
            &format!("http://{ceiling}{}", s.path),
            &s.key,
            s.script.as_deref(),
            &o,
        )?;
        let ratio = real.rps / ceil.rps * 100.0;
        if per_phase {
            let (_, peak) = rss_mib(pid);
            peaks.push((s.name[..3].to_owned(), peak));
            reset_peak_rss(pid);
            println!("  peak RSS during {}: {peak:.1} MiB", &s.name[..3]);
        }
        println!(
            "{} [{backend}]\n  tenantry: {:.0} req/s, p50 {}, p99 {}, non-2xx {}\n  ceiling:  {:.0} req/s, p50 {}, p99 {}\n  ratio:    {ratio:.1} %",
            s.name, real.rps, real.p50, real.p99, real.errors, ceil.rps, ceil.p50, ceil.p99
        );
        rows.push(format!(
            "| {date} | {backend} | {} | {:.0} | {} | {} | {} | {:.0} | {ratio:.1} % |",
            s.name, real.rps, real.p50, real.p99, real.errors, ceil.rps
        ));
        if let Some(beside) = beside {
            let other = beside.join().map_err(|_| "wrk thread panicked")??;
            println!(
                "  meanwhile (a) at 8 connections: {:.0} req/s, p50 {}, p99 {}, non-2xx {}",
                other.rps, other.p50, other.p99, other.errors
            );
            rows.push(format!(
                "| {date} | {backend} | (e') GET /v2/accounts/settings at 8 connections during (e) | {:.0} | {} | {} | {} | — | — |",
                other.rps, other.p50, other.p99, other.errors
            ));
        }
    }
    let (rss_now, rss_peak, anon) = rss_detail(pid);
    // With per-phase resets VmHWM is only the last phase's peak; the run's is the largest.
    let rss_peak = peaks.iter().map(|(_, peak)| *peak).fold(rss_peak, f64::max);
    let peaks = peaks
        .iter()
        .map(|(phase, peak)| format!("{phase} {peak:.0}"))
        .collect::<Vec<_>>()
        .join(", ");
    let db_size =
        std::fs::metadata(data.join("tenantry.db")).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    println!(
        "start on an empty data dir (migrations, bootstrap): {:.0} ms; idle RSS after start {idle_rss:.1} MiB; after the load RSS {rss_now:.1} MiB (anonymous {anon:.1} MiB, the rest file-backed: binary and libraries; database file {db_size:.0} MiB), peak {rss_peak:.1} MiB (MiB per phase: {peaks})",
        startup.as_secs_f64() * 1000.0
    );
    rows.push(format!(
        "| {date} | {backend} | start (empty data dir) {:.0} ms · idle RSS {idle_rss:.1} MiB · after the load: RSS {rss_now:.1} MiB of which anonymous {anon:.1} MiB (database file {db_size:.0} MiB) · peak RSS {rss_peak:.1} MiB (per phase: {peaks}) | | | | | | |",
        startup.as_secs_f64() * 1000.0
    ));
    const HEADING: &str = "## HTTP load against the ceiling, every scenario (`cargo xtask bench`)";
    let intro = format!(
        "Command: `cargo xtask bench` (SQLite) and `cargo xtask bench --pg` (defaults: {} accounts and {} members seeded, wrk -t2 -c{} -d{}s, release build, rate limits off, logs at info to a file). The ceiling is `bench/ceiling`: the same actix-web stack answering each path with the bytes tenantry answered it with, no auth, no database.",
        o.accounts, o.members, o.connections, o.duration
    );
    let options = args.join(" ");
    let block = format!(
        "`cargo xtask bench{}{options}`, {date}, at {}:\n\n| date | backend | scenario | req/s | p50 | p99 | non-2xx | ceiling req/s | ratio |\n|---|---|---|---|---|---|---|---|---|\n{}\n",
        if options.is_empty() { "" } else { " " },
        crate::commit(),
        rows.join("\n")
    );
    record(&doc, HEADING, &intro, &block)?;
    drop(server);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::insert_in_section;

    const DOC: &str = "# Benchmarks\n\n## Load\n\nIntro.\n\n| a |\n|---|\n| 1 |\n\nProse after the table.\n\n## Other\n\nOther text.\n";

    #[test]
    fn a_block_goes_at_the_end_of_its_section_not_of_the_file() {
        let out = insert_in_section(DOC, "## Load", "unused", "| a |\n|---|\n| 2 |\n");
        assert_eq!(
            out,
            "# Benchmarks\n\n## Load\n\nIntro.\n\n| a |\n|---|\n| 1 |\n\nProse after the table.\n\n| a |\n|---|\n| 2 |\n\n## Other\n\nOther text.\n"
        );
    }

    #[test]
    fn the_last_section_grows_at_the_end_of_the_file() {
        let out = insert_in_section(DOC, "## Other", "unused", "| b |\n");
        assert!(out.ends_with("Other text.\n\n| b |\n"), "{out}");
    }

    #[test]
    fn a_missing_section_is_created_with_its_introduction() {
        let out = insert_in_section(DOC, "## New", "How it is measured.", "| c |\n");
        assert!(
            out.ends_with("Other text.\n\n## New\n\nHow it is measured.\n\n| c |\n"),
            "{out}"
        );
    }

    #[test]
    fn a_heading_is_only_found_at_the_start_of_a_line() {
        let doc = "Text naming ## Load inline.\n\n## Load\n\nx\n";
        let out = insert_in_section(doc, "## Load", "unused", "| d |");
        assert_eq!(
            out,
            "Text naming ## Load inline.\n\n## Load\n\nx\n\n| d |\n"
        );
    }
}
