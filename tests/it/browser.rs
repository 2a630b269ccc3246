//! The HTML report in a real browser: headless Chromium driven over WebDriver (chromedriver) loads the demo report,
//! the test clicks filters and checks what is shown, and the browser console must hold no errors (a CSP violation
//! or a script error would show there). `.ci/run` installs Debian's `chromium` and `chromium-driver`.

use crate::common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session.
struct Session {
    client: reqwest::Client,
    url: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.client.request(method, format!("{}{path}", self.url));
        let response = request.json(&body).send().await.expect("chromedriver answers");
        let value: Value = response.json().await.expect("chromedriver answers JSON");
        assert!(value["value"]["error"].is_null(), "{path}: {value}");
        value["value"].clone()
    }

    async fn script(&self, source: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", json!({ "script": source, "args": [] })).await
    }

    async fn click(&self, css: &str) {
        let found =
            self.call(reqwest::Method::POST, "/element", json!({ "using": "css selector", "value": css })).await;
        let id = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id");
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), json!({})).await;
    }
}

fn start_driver() -> Option<Driver> {
    let installed = Command::new("chromedriver").arg("--version").output().is_ok()
        && std::path::Path::new("/usr/bin/chromium").exists();
    if !installed {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium and chromium-driver (.ci/run does)");
        eprintln!("chromium or chromedriver is not installed here; skipping the browser test");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Some(Driver { child, base: format!("http://127.0.0.1:{port}") })
}

async fn open_session(driver: &Driver) -> Session {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{}/status", driver.base)).send().await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--no-first-run", "--window-size=1280,1000"]
        },
        "goog:loggingPrefs": { "browser": "ALL" }
    }}});
    let response = client.post(format!("{}/session", driver.base)).json(&capabilities).send().await.unwrap();
    let created: Value = response.json().await.unwrap();
    let id = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}"));
    Session { client, url: format!("{}/session/{id}", driver.base) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn filters_work_in_a_real_browser_and_the_console_stays_clean() {
    let Some(driver) = start_driver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = common::run_demo(dir.path(), None);
    let controls = report["controls"].as_array().unwrap();
    let total = controls.len() as u64;
    let passing = controls.iter().filter(|c| c["status"] == "pass").count() as u64;
    assert!(total > 20 && passing > 0 && passing < total, "{total} controls, {passing} passing");
    let page = format!("file://{}", dir.path().join("report.html").display());
    let session = open_session(&driver).await;
    session.call(reqwest::Method::POST, "/url", json!({ "url": page })).await;

    let visible_controls = "return document.querySelectorAll('article.control:not([hidden])').length";
    assert_eq!(session.script(visible_controls).await, total, "everything is shown at first");
    assert_eq!(
        session.script("return document.getElementById('filter-count').textContent").await,
        format!("Showing {total} of {total} controls")
    );

    // Hide passing results: no visible control or finding row says pass any more.
    session.click("#filter-status-pass").await;
    let shown = session
        .script(
            "return Array.from(document.querySelectorAll('article.control:not([hidden]), \
             article.control:not([hidden]) tr[data-status]:not([hidden])')).map(e => e.dataset.status)",
        )
        .await;
    let shown: Vec<&str> = shown.as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(!shown.is_empty() && !shown.contains(&"pass"), "{shown:?}");
    assert_eq!(session.script(visible_controls).await, total - passing, "the passing controls are hidden");

    // Pick one framework: only its section and the controls mapped to it remain.
    session.click("#filter-framework option[value='slsa']").await;
    let frameworks = session
        .script("return Array.from(document.querySelectorAll('article.framework:not([hidden])')).map(a => a.dataset.framework)")
        .await;
    assert_eq!(frameworks, json!(["slsa"]));
    let mapped = session
        .script(
            "return Array.from(document.querySelectorAll('article.control:not([hidden])')).every(a => \
             a.dataset.frameworks.split(' ').includes('slsa'))",
        )
        .await;
    assert_eq!(mapped, true);

    // Sorting the evidence table by id, descending, reorders its rows.
    session.click("table.evidence th:first-child button").await;
    session.click("table.evidence th:first-child button").await;
    let ids = session.script("return Array.from(document.querySelectorAll('table.evidence tbody tr td:first-child')).map(td => td.textContent)").await;
    let ids: Vec<i64> = ids.as_array().unwrap().iter().map(|v| v.as_str().unwrap()[1..].parse().unwrap()).collect();
    let mut descending = ids.clone();
    descending.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, descending);

    // Collapsing closes every findings block.
    session.click("#collapse-all").await;
    assert_eq!(session.script("return document.querySelectorAll('details.findings[open]').length").await, 0);

    let log = session.call(reqwest::Method::POST, "/se/log", json!({ "type": "browser" })).await;
    let errors: Vec<&Value> = log.as_array().unwrap().iter().filter(|entry| entry["level"] == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    session.call(reqwest::Method::DELETE, "", json!({})).await;
}
