//! `cargo xtask bench --console`: what each console page costs the server and the browser.
//!
//! Builds the release binary (or takes `--server-bin PATH`), starts `tenantry serve` on a fresh
//! SQLite data directory, fills the owner's account through the APIs (a password, 200 members
//! written straight into the database as the member-list bench does, 60 settings changes for a
//! full audit page, API keys), signs in with the console's own form and then, per page:
//!
//! - **render time**: `--renders N` (200) GETs after 20 unmeasured ones, one at a time on one
//!   kept-alive loopback connection with the session cookie, timed from writing the request to
//!   reading the last byte of the answer; p50, p99 and the largest. This is measured over HTTP,
//!   so it is an upper bound of the server's own time (it includes the session check, actix
//!   and the loopback), and it is what a person's browser waits for on this machine.
//! - **weight**: the HTML plus every same-origin style sheet, script and image it references,
//!   each counted once, as bodies sent without compression (what an empty cache loads). A page
//!   that wears an account's branding (signed-in pages, the invitation page) may also load the
//!   account's logo: its largest size, [`LOGO_MAX_BYTES`], is counted in the page's total. The
//!   logo itself is not served here: the server fetches it over https only, and a trusted https
//!   host would need a certificate authority of the xtask's own (the e2e tests' `LogoHost`),
//!   dependencies the xtask does not take; counting the limit is the worst case anyway.
//!
//! Besides the fixed pages, the pages behind mailed or minted links (the invitation, the
//! password reset, the portal link before it is used) are reached by their real links, read
//! from the `.eml` files the server writes or the mint's answer, and the two-factor enrolment
//! step (the page with the QR code) is the answer to the console's own enrolment form.
//!
//! Goals (issue #24): no page over 100 KB, p99 under 5 ms. The rows are printed, marked where a
//! goal is missed, and appended to docs/benchmarks.md.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::bench::{
    benchmarks_doc, build_release, expect, fresh_data_dir, http, printed, seed_members,
    serve_command, settle, start,
};

const PASSWORD: &str = "console figures passphrase 42";
const GOAL_BYTES: usize = 100 * 1024;
const GOAL_P99: Duration = Duration::from_millis(5);
const WARM_UP: usize = 20;
/// `tenantry_settings::LOGO_MAX_BYTES` (the xtask depends on no workspace crate; a test below
/// holds the two equal).
const LOGO_MAX_BYTES: usize = 32 * 1024;
/// The return origin of the minted portal link (the server is started admitting it).
const RETURN_ORIGIN: &str = "https://app.example.test";

/// The pages measured: (name, path, needs the session).
const PAGES: [(&str, &str, bool); 15] = [
    ("sign-in", "/console/login", false),
    ("home", "/console", true),
    ("team (25 of 201 members)", "/console/team", true),
    ("settings index", "/console/settings", true),
    (
        "settings: notifications",
        "/console/settings/notifications",
        true,
    ),
    ("settings: billing", "/console/settings/billing", true),
    ("settings: security", "/console/settings/security", true),
    (
        "settings: integrations",
        "/console/settings/integrations",
        true,
    ),
    (
        "settings: preferences",
        "/console/settings/preferences",
        true,
    ),
    ("audit (50 entries)", "/console/audit", true),
    ("notifications", "/console/notifications", true),
    ("API keys (3 keys)", "/console/account/api-keys", true),
    ("two-factor authentication", "/console/account/mfa", true),
    ("sessions", "/console/account/sessions", true),
    ("profile", "/console/account/profile", true),
];

struct Options {
    renders: usize,
    server_bin: Option<PathBuf>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        renders: 200,
        server_bin: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--renders" => {
                o.renders = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 100)
                    .ok_or_else(|| format!("--renders takes a number of at least 100 (a p99 needs 100 samples), not `{value}`"))?;
            }
            "--server-bin" => o.server_bin = Some(PathBuf::from(value)),
            other => {
                return Err(format!(
                "unknown option {other} (bench --console takes --renders N and --server-bin PATH)"
            ))
            }
        }
    }
    Ok(o)
}

/// One answer on a kept-alive connection.
struct Answer {
    status: u16,
    /// (lowercased name, value)
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A kept-alive HTTP/1.1 connection that remembers cookies, like a browser tab.
struct Client {
    addr: String,
    stream: BufReader<TcpStream>,
    cookies: Vec<(String, String)>,
}

impl Client {
    fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            addr: addr.to_owned(),
            stream: BufReader::new(stream),
            cookies: Vec::new(),
        })
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&str>) -> Result<Answer, String> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if !self.cookies.is_empty() {
            let pairs: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", pairs.join("; ")));
        }
        let body = form.unwrap_or("");
        if form.is_some() {
            head.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        self.stream
            .get_mut()
            .write_all(head.as_bytes())
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let answer = self
            .read_answer()
            .map_err(|e| format!("{method} {path}: {e}"))?;
        for cookie in answer.header("set-cookie") {
            let pair = cookie.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !value.is_empty() && !cookie.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        Ok(answer)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        if self
            .stream
            .read_line(&mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("the server closed the connection".into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    fn read_answer(&mut self) -> Result<Answer, String> {
        let status_line = self.line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("no status in `{status_line}`"))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let size = self.line()?;
                let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| format!("bad chunk size `{size}`"))?;
                let mut chunk = vec![0; size + 2];
                self.stream
                    .read_exact(&mut chunk)
                    .map_err(|e| e.to_string())?;
                body.extend_from_slice(&chunk[..size]);
                if size == 0 {
                    break;
                }
            }
        } else {
            let length: usize = find("content-length")
                .map(|v| v.parse().map_err(|_| format!("bad Content-Length `{v}`")))
                .transpose()?
                .unwrap_or(0);
            body.resize(length, 0);
            self.stream
                .read_exact(&mut body)
                .map_err(|e| e.to_string())?;
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker)? + marker.len();
    Some(page[at..at + page[at..].find('"')?].to_owned())
}

/// The same-origin resources a page loads: `href` of `<link>`, `src` of `<script>` and `<img>`.
fn resources(page: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (tag, attribute) in [
        ("<link ", "href=\""),
        ("<script ", "src=\""),
        ("<img ", "src=\""),
    ] {
        for (at, _) in page.match_indices(tag) {
            let rest = &page[at..];
            let tag_text = &rest[..rest.find('>').unwrap_or(rest.len())];
            if let Some(start) = tag_text.find(attribute) {
                let value = &tag_text[start + attribute.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                if value.starts_with('/') && !value.starts_with("//") {
                    found.insert(value.replace("&amp;", "&"));
                }
            }
        }
    }
    found
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `q`-quantile (0..=1) of sorted durations, nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

struct Figure {
    name: String,
    p50: Duration,
    p99: Duration,
    max: Duration,
    html: usize,
    assets: usize,
    /// The largest logo the page may load besides (0 on pages without an account's branding).
    logo: usize,
}

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    benchmarks_doc(root)?;
    let bin = match &o.server_bin {
        Some(path) => path.clone(),
        // The same packages as `cargo xtask bench` builds: a different set unifies features
        // differently and rebuilds every dependency in release mode.
        None => build_release(&["tenantry-bench-ceiling", "tenantry"])?.join("tenantry"),
    };
    let data = fresh_data_dir("tenantry-console-figures")?;
    // Warnings only: an access line per request is the request bench's business, not a page's.
    let mut command = serve_command(&bin, &data, "warn")?;
    command.env("TENANTRY_PORTAL_RETURN_ORIGINS", RETURN_ORIGIN);
    let (server, lines, addr) = start(command, "tenantry listening on ")?;
    let owner = printed(&lines, "owner API key:")?;
    let figures = measure(&data, &addr, &owner, server.0.id(), o.renders)?;
    drop(server);
    let _ = std::fs::remove_dir_all(&data);

    println!(
        "{:<36} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "page", "p50", "p99", "max", "HTML", "assets", "logo", "total"
    );
    let mut rows = Vec::new();
    let mut missed = Vec::new();
    for f in &figures {
        let total = f.html + f.assets + f.logo;
        let over = [
            (f.p99 >= GOAL_P99).then_some("p99 over 5 ms"),
            (total > GOAL_BYTES).then_some("over 100 KB"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        if !over.is_empty() {
            missed.push(format!("{}: {over}", f.name));
        }
        println!(
            "{:<36} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {over}",
            f.name,
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            kb(f.html),
            kb(f.assets),
            kb(f.logo),
            kb(total)
        );
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            kb(f.html),
            kb(f.assets),
            kb(f.logo),
            kb(total),
            if over.is_empty() { "yes" } else { &over }
        ));
    }
    append(root, &rows, o.renders)?;
    if missed.is_empty() {
        eprintln!("xtask: every page within the goals (p99 under 5 ms, at most 100 KB)");
    } else {
        eprintln!("xtask: goals missed: {}", missed.join("; "));
    }
    Ok(())
}

/// One page to measure.
struct Page {
    name: String,
    method: &'static str,
    path: String,
    /// The form a POST sends.
    form: Option<String>,
    /// Requested with the signed-in session (otherwise without cookies).
    session: bool,
    /// Wears the account's branding, so it may load the account's logo.
    branded: bool,
}

impl Page {
    fn get(name: &str, path: &str, session: bool, branded: bool) -> Self {
        Self {
            name: name.to_owned(),
            method: "GET",
            path: path.to_owned(),
            form: None,
            session,
            branded,
        }
    }
}

/// Seeds the owner's account, signs in and measures every page of [`PAGES`] and the pages
/// behind links.
fn measure(
    data: &Path,
    addr: &str,
    owner: &str,
    pid: u32,
    renders: usize,
) -> Result<Vec<Figure>, String> {
    let json = |method: &str, path: &str, body: &str, want: u16| -> Result<String, String> {
        let (status, text) = http(addr, method, path, owner, Some(body))?;
        expect(status, &format!("{method} {path}"), &text, want)?;
        Ok(text)
    };
    json(
        "POST",
        "/api/user/password",
        &format!(r#"{{"new_password":"{PASSWORD}"}}"#),
        204,
    )?;
    let (status, org) = http(addr, "GET", "/api/organization", owner, None)?;
    expect(status, "GET /api/organization", &org, 200)?;
    let account = crate::bench::json_str(&org, "id").ok_or("no account id")?;
    // Invited before the members are seeded: the seeded team fills the plan's member limit.
    json(
        "POST",
        "/v2/accounts/team/members/invite",
        r#"{"email":"figures-invitee@example.com","role":"developer"}"#,
        201,
    )?;
    seed_members(data, None, &account, 200)?;
    // Sixty changes: the audit page's fifty entries and a next page.
    for i in 0..60 {
        let theme = if i % 2 == 0 { "dark" } else { "light" };
        json(
            "PUT",
            "/v2/accounts/settings/preferences",
            &format!(r#"{{"theme":"{theme}"}}"#),
            200,
        )?;
    }
    for name in ["CI deploys", "Metrics export", "Support tooling"] {
        json(
            "POST",
            "/api/user/api-keys",
            &format!(r#"{{"name":"{name}","scopes":["settings:read"],"expires_in_days":90}}"#),
            201,
        )?;
    }

    let mut anonymous = Client::connect(addr)?;
    let mut tab = Client::connect(addr)?;
    let login = tab.request("GET", "/console/login", None)?;
    let csrf = hidden(&login.text(), "csrf").ok_or("no form token on the sign-in page")?;
    let signed = tab.request(
        "POST",
        "/console/login",
        Some(&form_encode(&[
            ("csrf", &csrf),
            ("email", "owner@localhost"),
            ("password", PASSWORD),
        ])),
    )?;
    let landing = signed.header("location").next().unwrap_or("").to_owned();
    if signed.status != 303 || landing != "/console" {
        return Err(format!(
            "signing in: {} to `{landing}`: {:.300}",
            signed.status,
            signed.text()
        ));
    }

    // The pages behind links: an invitation and a password reset read from the mail the
    // server wrote, a portal link from the mint's answer.
    let invitation = mailed_path(data, "figures-invitee@example.com", "/invite/tnt_inv_")?;
    let (status, text) = http(
        addr,
        "POST",
        "/api/auth/password-reset",
        owner,
        Some(r#"{"email":"owner@localhost"}"#),
    )?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "POST /api/auth/password-reset: {status}: {text:.300}"
        ));
    }
    // The first start may have mailed the owner a set-up link as well: take the reset.
    let reset = mailed_path(data, "Subject: Reset your password", "/reset-password/")?;
    let minted = json(
        "POST",
        "/v2/accounts/portal-links",
        &format!(
            r#"{{"email":"owner@localhost","intent":"settings","returnUrl":"{RETURN_ORIGIN}/settings"}}"#
        ),
        201,
    )?;
    let url = crate::bench::json_str(&minted, "url").ok_or("no url in the minted link")?;
    let portal = format!(
        "/console/portal/{}",
        url.rsplit('/').next().unwrap_or_default()
    );

    let mfa = tab.request("GET", "/console/account/mfa", None)?;
    let csrf = hidden(&mfa.text(), "csrf").ok_or("no form token on the two-factor page")?;
    let enroll = form_encode(&[("csrf", &csrf), ("password", PASSWORD)]);

    let mut pages: Vec<Page> = PAGES
        .iter()
        .map(|(name, path, session)| Page::get(name, path, *session, *session))
        .collect();
    pages.extend([
        Page::get("invitation", &invitation, false, true),
        Page {
            method: "POST",
            form: Some(enroll),
            ..Page::get(
                "two-factor enrolment (QR code; includes the password check)",
                "/console/account/mfa/enroll",
                true,
                true,
            )
        },
        Page::get("password", "/console/account/password", true, true),
        Page::get("password reset link", &reset, false, false),
        Page::get("portal link (before use)", &portal, false, false),
    ]);

    settle(pid);
    let mut figures = Vec::new();
    for Page {
        name,
        method,
        path,
        form,
        session,
        branded,
    } in pages
    {
        let client = if session { &mut tab } else { &mut anonymous };
        let form = form.as_deref();
        let first = client.request(method, &path, form)?;
        let page = first.text();
        expect(first.status, &format!("{method} {path}"), &page, 200)?;
        let mut assets = 0;
        for resource in resources(&page) {
            let answer = client.request("GET", &resource, None)?;
            expect(
                answer.status,
                &format!("GET {resource} (on {path})"),
                "",
                200,
            )?;
            assets += answer.body.len();
        }
        let mut times = Vec::with_capacity(renders);
        for i in 0..WARM_UP + renders {
            let started = Instant::now();
            let answer = client.request(method, &path, form)?;
            let took = started.elapsed();
            if answer.status != 200 {
                return Err(format!("{method} {path}: {} on render {i}", answer.status));
            }
            if i >= WARM_UP {
                times.push(took);
            }
        }
        times.sort();
        figures.push(Figure {
            name,
            p50: quantile(&times, 0.50),
            p99: quantile(&times, 0.99),
            max: times[times.len() - 1],
            html: first.body.len(),
            assets,
            logo: if branded { LOGO_MAX_BYTES } else { 0 },
        });
    }
    Ok(figures)
}

/// The path of the first link starting with `needle` in a mail containing `about` that the
/// server wrote into `<data>/mail`, waiting for the outbox to write it (up to 20 s).
fn mailed_path(data: &Path, about: &str, needle: &str) -> Result<String, String> {
    let dir = data.join("mail");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let files = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            if let Some(at) = text.find(needle).filter(|_| text.contains(about)) {
                let rest = &text[at..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                    .unwrap_or(rest.len());
                return Ok(rest[..end].to_owned());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no mail with {needle} in {} after 20 s",
                dir.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn append(root: &Path, rows: &[String], renders: usize) -> Result<(), String> {
    const HEADING: &str =
        "## Console pages: render time and weight (`cargo xtask bench --console`)";
    let intro = format!(
        "Command: `cargo xtask bench --console` (see `xtask/src/console_figures.rs`). The release binary on a fresh SQLite data directory; the owner's account holds 201 members, 60 settings changes and 3 API keys. Render time is measured over HTTP, not in-process: each page is requested {renders} times after {WARM_UP} unmeasured requests, one at a time on one kept-alive loopback connection with a signed-in session cookie, from writing the request to the answer's last byte, so it is an upper bound of the server's own time (session check and HTTP included). Weight is the HTML plus every same-origin style sheet, script and image the page references, each counted once, uncompressed (an empty cache), plus, on pages that wear the account's branding, the largest logo it may have (32 KiB, not fetched: the logo is served only from an https host). The invitation, password reset and portal pages are reached by real links; the two-factor enrolment is the answer to its form (its time includes the password check). Goals: p99 under 5 ms, no page over 100 KB."
    );
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let block = format!(
        "{date}, at {}, {renders} renders per page:\n\n| page | p50 | p99 | max | HTML | assets | logo (largest) | total | within the goals |\n|---|---|---|---|---|---|---|---|---|\n{}\n",
        crate::commit(),
        rows.join("\n")
    );
    crate::bench::record(&root.join("docs/benchmarks.md"), HEADING, &intro, &block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_the_same_origin_links_scripts_and_images() {
        let page = r#"<link rel="stylesheet" href="/console/assets/console.ab.css"><script src="/console/assets/console.cd.js" defer></script><img alt="" src="data:image/png;base64,xx"><img src="https://cdn.example/x.png"><link rel="icon" href="/favicon.ico?a=1&amp;b=2"><a href="/console/team">Team</a>"#;
        let found: Vec<String> = resources(page).into_iter().collect();
        assert_eq!(
            found,
            [
                "/console/assets/console.ab.css",
                "/console/assets/console.cd.js",
                "/favicon.ico?a=1&b=2"
            ]
        );
    }

    #[test]
    fn the_logo_budget_is_the_servers_limit() {
        let source = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/settings/src/brand_logo.rs"),
        )
        .expect("brand_logo.rs");
        let line = source
            .lines()
            .find(|l| l.starts_with("pub const LOGO_MAX_BYTES: usize = "))
            .expect("the constant");
        assert_eq!(
            line,
            format!(
                "pub const LOGO_MAX_BYTES: usize = {} * 1024;",
                LOGO_MAX_BYTES / 1024
            )
        );
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=200).map(Duration::from_micros).collect();
        assert_eq!(quantile(&sorted, 0.5), Duration::from_micros(100));
        assert_eq!(quantile(&sorted, 0.99), Duration::from_micros(198));
        assert_eq!(quantile(&sorted[..1], 0.99), Duration::from_micros(1));
    }

    #[test]
    fn forms_are_encoded_as_browsers_do() {
        assert_eq!(
            form_encode(&[("email", "o+1@x.test"), ("password", "a b&c")]),
            "email=o%2B1%40x.test&password=a+b%26c"
        );
    }
}
