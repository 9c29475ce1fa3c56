//! `cargo xtask bench`: the real server against a ceiling, side by side, with a real load
//! generator (wrk). Builds release binaries, starts `tenantry serve` on a fresh SQLite data
//! directory, seeds accounts and a 100-entry allowlist, starts the ceiling server (same HTTP
//! stack, same bytes, no auth, no database), drives both with wrk, prints requests/s, p50/p99
//! and the ratio, and appends the rows to docs/benchmarks.md.
//!
//! Options: `--accounts N` (1000), `--duration S` (10), `--connections C` (64).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Options {
    accounts: usize,
    duration: u32,
    connections: u32,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        accounts: 1000,
        duration: 10,
        connections: 64,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a number"))?;
        match flag.as_str() {
            "--accounts" => o.accounts = usize::try_from(n).map_err(|e| e.to_string())?,
            "--duration" => o.duration = u32::try_from(n).map_err(|e| e.to_string())?,
            "--connections" => o.connections = u32::try_from(n).map_err(|e| e.to_string())?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd`, returns it with the stdout lines read up to the one starting with `ready`.
fn start(mut cmd: Command, ready: &str) -> Result<(Running, Vec<String>, String), String> {
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
fn http(
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

fn printed(lines: &[String], label: &str) -> Result<String, String> {
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
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{}", o.connections),
        &format!("-d{}s", o.duration),
        "--latency",
    ])
    .args(["-H", &format!("Authorization: Bearer {key}")]);
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

pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    crate::run(crate::cargo().args([
        "build",
        "--release",
        "-p",
        "tenantry",
        "-p",
        "tenantry-bench-ceiling",
    ]))?;
    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| root.join("target"), PathBuf::from);
    let bin = target.join("release");
    let data = std::env::temp_dir().join(format!("tenantry-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;

    let mut cmd = Command::new(bin.join("tenantry"));
    cmd.arg("serve")
        .env("TENANTRY_DATA_DIR", &data)
        .env("TENANTRY_BIND", "127.0.0.1:0")
        .env("TENANTRY_RATE_LIMIT_PER_IP", "0")
        .env("TENANTRY_RATE_LIMIT_PER_KEY", "0")
        .stderr(std::fs::File::create(data.join("server.log")).map_err(|e| e.to_string())?);
    let (_server, lines, addr) = start(cmd, "tenantry listening on ")?;
    let owner = printed(&lines, "owner API key:")?;
    let operator = printed(&lines, "operator key:")?;

    eprintln!("xtask: seeding {} accounts", o.accounts);
    for i in 0..o.accounts {
        let body = format!(r#"{{"name":"bench-{i:05}","owner_email":"o{i}@bench.test"}}"#);
        let (status, text) = http(&addr, "POST", "/admin/accounts", &operator, Some(&body))?;
        if status != 201 {
            return Err(format!("seeding account {i}: {status} {text}"));
        }
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
    if status != 200 {
        return Err(format!("allowlist: {status} {text}"));
    }
    let (status, settings) = http(&addr, "GET", "/v2/accounts/settings", &owner, None)?;
    if status != 200 {
        return Err(format!("settings: {status}"));
    }
    let body_file = data.join("ceiling-body.json");
    std::fs::write(&body_file, settings).map_err(|e| e.to_string())?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut cmd = Command::new(bin.join("tenantry-bench-ceiling"));
    cmd.arg(&body_file).arg(workers.to_string());
    let (_ceiling, _, ceiling) = start(cmd, "listening on ")?;

    let script = data.join("put-preferences.lua");
    std::fs::write(
        &script,
        // wrk.format() with no arguments keeps the -H headers (the key).
        "wrk.method = \"PUT\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local theme = (n % 2 == 0) and \"dark\" or \"light\"\n  wrk.body = '{\"theme\":\"' .. theme .. '\"}'\n  return wrk.format()\nend\n",
    )
    .map_err(|e| e.to_string())?;

    let scenarios: [(&str, &str, Option<&Path>); 2] = [
        (
            "(a) GET /v2/accounts/settings, key auth, 100-entry allowlist",
            "/v2/accounts/settings",
            None,
        ),
        (
            "(b) PUT /v2/accounts/settings/preferences, alternating values",
            "/v2/accounts/settings/preferences",
            Some(&script),
        ),
    ];
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut rows = Vec::new();
    for (name, path, script) in scenarios {
        let real = wrk(&format!("http://{addr}{path}"), &owner, script, &o)?;
        let ceil = wrk(&format!("http://{ceiling}{path}"), &owner, script, &o)?;
        let ratio = real.rps / ceil.rps * 100.0;
        println!(
            "{name}\n  tenantry: {:.0} req/s, p50 {}, p99 {}, non-2xx {}\n  ceiling:  {:.0} req/s, p50 {}, p99 {}\n  ratio:    {ratio:.1} %",
            real.rps, real.p50, real.p99, real.errors, ceil.rps, ceil.p50, ceil.p99
        );
        rows.push(format!(
            "| {date} | {name} | {:.0} | {} | {} | {} | {:.0} | {ratio:.1} % |",
            real.rps, real.p50, real.p99, real.errors, ceil.rps
        ));
    }
    let doc = root.join("docs/benchmarks.md");
    let mut text = std::fs::read_to_string(&doc).map_err(|e| e.to_string())?;
    const HEADING: &str = "## HTTP load against the ceiling (`cargo xtask bench`)";
    if !text.contains(HEADING) {
        text.push_str(&format!(
            "\n{HEADING}\n\nCommand: `cargo xtask bench` (defaults: {} accounts seeded, wrk -t2 -c{} -d{}s, SQLite, release build, rate limits off, logs at info to a file). The ceiling is `bench/ceiling`: the same actix-web stack answering with the same bytes, no auth, no database.\n\n| date | scenario | req/s | p50 | p99 | non-2xx | ceiling req/s | ratio |\n|---|---|---|---|---|---|---|---|\n",
            o.accounts, o.connections, o.duration
        ));
    }
    for row in rows {
        text.push_str(&row);
        text.push('\n');
    }
    std::fs::write(&doc, text).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
