//! A small WebDriver client: Debian's `chromium` driven through `chromedriver` over the W3C
//! WebDriver HTTP protocol, with reqwest (already a dev-dependency) and serde_json. A dozen
//! commands is all the console tests need; a client crate (fantoccini, thirtyfour) would add a
//! dependency tree and a second async HTTP stack for them (decision 0026).
//!
//! Every page a test checks with [`Browser::check_page`] must have: no console error (the
//! browser log), no request to another origin (the performance log), no serious or critical
//! axe-core violation, and no sideways scrolling in the 375-pixel-wide window.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// axe-core's script, installed by `cargo xtask test` into the node tools directory.
fn axe_source() -> Option<String> {
    let dirs = std::env::var_os("TENANTRY_NODE_TOOLS_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|t| PathBuf::from(t).join("node-tools/node_modules/.bin")),
        );
    dirs.filter_map(|bin| {
        bin.parent()
            .map(|modules| modules.join("axe-core/axe.min.js"))
    })
    .find(|p| p.exists())
    .and_then(|p| std::fs::read_to_string(p).ok())
}

/// `None` (the test is skipped) when a tool is missing, unless `TENANTRY_REQUIRE_TOOLS=1`.
fn required(name: &str, found: bool) -> bool {
    if !found {
        assert!(
            std::env::var("TENANTRY_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is required (TENANTRY_REQUIRE_TOOLS=1) but was not found"
        );
        eprintln!("skipped: {name} not installed (cargo xtask test installs it)");
    }
    found
}

pub struct Browser {
    http: reqwest::Client,
    driver: tokio::process::Child,
    session: String,
    base: String,
    /// The origin every request must go to.
    origin: String,
    axe: String,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session ends first: chromedriver then closes Chromium and waits for it, so nothing
        // writes into the profile while it is removed (a killed driver orphans a Chromium that
        // goes on writing, and the run would leave files behind).
        quit_session(&self.base, &self.session);
        let _ = self.driver.start_kill();
    }
}

/// `DELETE /session/{id}`, blocking: `Drop` cannot await, and the driver is another process.
fn quit_session(base: &str, session: &str) {
    use std::io::{Read, Write};
    let Some(addr) = base.strip_prefix("http://") else {
        return;
    };
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

impl Browser {
    /// A fresh headless Chromium, 375 pixels wide, for the server at `origin`.
    pub async fn start(origin: &str) -> Option<Self> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        if !required("chromedriver (chromium-driver)", driver_path.is_some()) {
            return None;
        }
        let axe = axe_source();
        if !required("axe-core", axe.is_some()) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // Chromium's own temporary files go inside the profile, which is removed with it. The
        // name is short: Chromium puts a socket under its temporary directory, and a socket's
        // path may not exceed 107 bytes (`cargo xtask test` already nests the temporary
        // directory one level down).
        let profile = std::env::temp_dir().join(format!(
            "tcr-{}",
            &ulid::Ulid::new().to_string()[16..].to_ascii_lowercase()
        ));
        std::fs::create_dir_all(&profile).expect("browser profile directory");
        let driver = tokio::process::Command::new(driver_path.expect("checked"))
            .arg(format!("--port={port}"))
            .env("TMPDIR", &profile)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = http.get(format!("{base}/status")).send().await {
                if res.status().is_success() {
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver did not answer on port {port} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=375,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_owned();
        Some(Self {
            http,
            driver,
            session,
            base,
            origin: origin.trim_end_matches('/').to_owned(),
            axe: axe.expect("checked"),
            _profile: TempDir(profile),
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|(error, message)| panic!("webdriver {path}: {error}: {message}"))
    }

    /// A WebDriver command's value, or its error's name and message.
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, (String, Value)> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method, url);
        let req = if body.is_null() { req } else { req.json(&body) };
        let res: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("json");
        match res["value"]["error"].as_str() {
            Some(error) => Err((error.to_owned(), res["value"]["message"].clone())),
            None => Ok(res["value"].clone()),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, body).await
    }

    /// Opens `path` of the server.
    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.origin)
        };
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn back(&self) {
        self.post("/back", json!({})).await;
    }

    pub async fn url(&self) -> String {
        let v = self
            .command(reqwest::Method::GET, "/url", Value::Null)
            .await;
        v.as_str().unwrap_or("").to_owned()
    }

    async fn find(&self, xpath: &str) -> String {
        let v = self
            .post("/element", json!({ "using": "xpath", "value": xpath }))
            .await;
        v[ELEMENT].as_str().expect("element id").to_owned()
    }

    /// The field of the visible label `label`.
    pub async fn field(&self, label: &str) -> String {
        let xpath = format!(
            "//label[normalize-space(text()[1])='{label}']//*[self::input or self::select or self::textarea]"
        );
        let found = self
            .post("/elements", json!({ "using": "xpath", "value": xpath }))
            .await;
        match found.as_array().and_then(|a| a.first()) {
            Some(element) => element[ELEMENT].as_str().expect("element id").to_owned(),
            None => panic!(
                "no field labelled {label} on {}:\n{}",
                self.url().await,
                self.text().await
            ),
        }
    }

    /// Types `text` into the field labelled `label`.
    pub async fn fill(&self, label: &str, text: &str) {
        let id = self.field(label).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await;
    }

    /// Clicks the button that reads `text` (the first one, in document order).
    pub async fn click(&self, text: &str) {
        self.click_at(&format!("//button[normalize-space()='{text}']"), text)
            .await;
    }

    /// Clicks the button whose accessible name (`aria-label`) is `name`: the one of several
    /// same-looking buttons ("Redeliver", "Suspend") that a screen reader tells apart.
    pub async fn press(&self, name: &str) {
        self.click_at(&format!("//button[@aria-label='{name}']"), name)
            .await;
    }

    /// Clicks the first button whose accessible name starts with `prefix` ("Redeliver
    /// member.invited to hook", whatever its time).
    pub async fn press_starting(&self, prefix: &str) {
        self.click_at(
            &format!("(//button[starts-with(@aria-label, '{prefix}')])[1]"),
            prefix,
        )
        .await;
    }

    /// Follows the link that reads `text`.
    pub async fn follow(&self, text: &str) {
        self.click_at(&format!("//a[normalize-space()='{text}']"), text)
            .await;
    }

    /// Clicks the element at `xpath` (`what` names it in a failure), which loads a page: a
    /// form's button or a link.
    async fn click_at(&self, xpath: &str, what: &str) {
        let id = self.find(xpath).await;
        // Mark this document, click, and wait until another document has loaded in its place.
        self.execute("window.__before_click = true;").await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
        // A bound, not a timing assertion: on a loaded machine a sign-in's password check
        // waits behind the rest of the suite's.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let loaded = self
                .execute("return !window.__before_click && document.readyState === 'complete';")
                .await;
            if loaded == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("clicking {what} loaded no page in 30 s");
    }

    /// Ticks (or unticks) the checkbox labelled `label`; nothing loads.
    pub async fn tick(&self, label: &str) {
        let id = self.field(label).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Chooses the option that reads `option` in the list labelled `label`, by clicking it as
    /// a person would (the page sees the same `input` and `change` events).
    pub async fn choose(&self, label: &str, option: &str) {
        let list = self.field(label).await;
        let found = self
            .post(
                &format!("/element/{list}/element"),
                json!({ "using": "xpath", "value": format!(".//option[normalize-space()='{option}']") }),
            )
            .await;
        let id = found[ELEMENT].as_str().expect("option id");
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Opens `path` again and again until its text satisfies `shows` (what a worker does
    /// after the request, such as a delivery, shows only on a later load), and returns that
    /// text. Bounded, not timed: under load the worker may take a while.
    pub async fn reload_until(&self, path: &str, shows: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.goto(path).await;
            let text = self.text().await;
            if shows(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never showed what was awaited in 60 s; last:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.execute("return document.body.innerText;")
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Resizes the window; headless, the page's viewport is then exactly `width` × `height`.
    pub async fn resize(&self, width: u32, height: u32) {
        self.post(
            "/window/rect",
            json!({ "x": 0, "y": 0, "width": width, "height": height }),
        )
        .await;
    }

    /// A PNG of the viewport (the console's screenshots, and a failing test's investigation).
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        // Capturing waits for the renderer, and chromedriver gives up after 10 s with a
        // `timeout` error: on a machine busy with the rest of the suite that is the load, not
        // the page, so a capture is tried up to three times.
        let mut tries = 0;
        let v = loop {
            tries += 1;
            match self
                .try_command(reqwest::Method::GET, "/screenshot", Value::Null)
                .await
            {
                Ok(v) => break v,
                Err((error, _)) if error == "timeout" && tries < 3 => continue,
                Err((error, message)) => panic!("webdriver /screenshot: {error}: {message}"),
            }
        };
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or(""))
            .expect("png")
    }

    async fn log(&self, kind: &str) -> Vec<Value> {
        self.post("/se/log", json!({ "type": kind }))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The checks every page must pass (see the module docs); `what` names the page.
    pub async fn check_page(&self, what: &str) {
        let page = self.url().await;
        // A page answered with its own error status (a wrong password's 401, an expired
        // link's 410) is logged as a failed load of the document itself: the tests assert
        // those statuses; any other failed load or script error fails the page.
        let own_status = format!("{page} - Failed to load resource: the server responded");
        let errors: Vec<String> = self
            .log("browser")
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .filter(|m| !m.starts_with(&own_status))
            .collect();
        assert!(errors.is_empty(), "{what}: console errors: {errors:?}");
        let foreign: Vec<String> = self
            .log("performance")
            .await
            .into_iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
            .filter_map(|m| {
                m["message"]["params"]["request"]["url"]
                    .as_str()
                    .map(str::to_owned)
            })
            // Network requests only: the browser's own start page (chrome://) is not the console's.
            .filter(|url| {
                ["http:", "https:", "ws:", "wss:"]
                    .iter()
                    .any(|s| url.starts_with(s))
                    && !url.starts_with(&format!("{}/", self.origin))
            })
            .collect();
        assert!(
            foreign.is_empty(),
            "{what}: requests to other origins: {foreign:?}"
        );
        let sideways = self
            .execute("return document.documentElement.scrollWidth > document.documentElement.clientWidth;")
            .await;
        assert_eq!(sideways, json!(false), "{what}: scrolls sideways at 375 px");
        self.post(
            "/execute/sync",
            json!({ "script": format!("{};return true;", self.axe), "args": [] }),
        )
        .await;
        let found = self
            .post(
                "/execute/async",
                json!({
                    "script": "var done = arguments[arguments.length - 1];\
                        axe.run(document, { resultTypes: ['violations'] })\
                          .then(function (r) { done(r.violations.filter(function (v) {\
                            return v.impact === 'serious' || v.impact === 'critical'; })\
                            .map(function (v) { return v.id + ': ' + v.help + ' ' +\
                              v.nodes.map(function (n) { return n.html; }).join(' | '); })); })\
                          .catch(function (e) { done(['axe failed: ' + e]); });",
                    "args": [],
                }),
            )
            .await;
        assert_eq!(found, json!([]), "{what}: axe-core violations");
    }
}
