//! Headless Chromium (Debian's) behind chromedriver, driven by fantoccini:
//! the console's browser test and the console benchmark share it. Every
//! page shot is also checked for accessibility by axe-core (WCAG 2.2 A and
//! AA rules), injected by WebDriver, and the findings are kept per page.

use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Headless Chromium behind its WebDriver server; both end with the test.
pub struct Browser {
    pub client: Client,
    /// The accessibility findings of every page shot so far.
    checked: Mutex<Vec<Checked>>,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// One page's accessibility check, at one window width.
pub struct Checked {
    pub page: String,
    pub violations: Vec<Violation>,
}

/// A rule axe-core found broken on a page, and where.
#[derive(serde::Deserialize)]
pub struct Violation {
    pub id: String,
    /// minor, moderate, serious or critical.
    pub impact: String,
    pub help: String,
    /// A CSS selector for each element that breaks the rule.
    pub targets: Vec<String>,
}

impl Violation {
    /// Serious and critical findings are what the console must have none of.
    pub fn grave(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

/// The WCAG levels checked: 2.0, 2.1 and 2.2, A and AA.
const WCAG_TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']";

/// axe-core's script, as `scripts/setup` fetched it.
fn axe_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let path = crate::workspace().join("target/tools/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (scripts/setup test-tools fetches axe-core)",
                path.display()
            )
        })
    })
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (scripts/setup installs Debian's chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        // As root in a container Chromium needs --no-sandbox; the
        // background-networking flags keep it from calling out to the
        // network this machine does not have.
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.as_object().unwrap().clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        checked: Mutex::new(Vec::new()),
                        _driver: driver,
                        _profile: profile,
                    };
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from chromedriver: {last}");
    }

    /// Signs in at `base` with `key` through the sign-in form.
    pub async fn sign_in(&self, base: &str, key: &str) {
        self.goto(&format!("{base}/sign-in")).await;
        self.fill("#key", key).await;
        self.click("form button[type=submit]").await;
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// The text of `css` once `done` holds for it, polled for up to five
    /// seconds (what a script changes after an await, such as a copy
    /// button's label once the clipboard took the text); the last text
    /// read otherwise.
    pub async fn text_once(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let text = self.text(css).await;
            if done(&text) || std::time::Instant::now() >= deadline {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Chooses the option of value `value` in a select.
    pub async fn select(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks something that stays on the page (a checkbox, a copy
    /// button).
    pub async fn press(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks a link or submit button and waits for the page it leads to:
    /// a WebDriver click may return before a form's answer arrives (a
    /// verification takes seconds), and the old page must not be read.
    pub async fn click(&self, css: &str) {
        self.mark().await;
        self.press(css).await;
        self.next_page().await;
    }

    /// Marks the page now shown, for [`Browser::next_page`].
    pub async fn mark(&self) {
        self.client
            .execute("window.deputyOldPage = true;", vec![])
            .await
            .unwrap();
    }

    /// Waits until the marked page is replaced and the new one loaded.
    pub async fn next_page(&self) {
        for _ in 0..600 {
            let loaded = self
                .client
                .execute(
                    "return window.deputyOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            // Mid-navigation a script may fail to run: not loaded yet.
            if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page within 30 s");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// axe-core's verdict on the page as it is now. The script goes in
    /// through WebDriver, which the page's Content-Security-Policy does not
    /// govern (the console's own pages allow no inline script).
    pub async fn check(&self, page: &str) {
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await
            .unwrap();
        if loaded != json!(true) {
            self.client
                .execute(&format!("{}\n;return true;", axe_script()), vec![])
                .await
                .unwrap();
        }
        let found = self
            .client
            .execute_async(
                &format!(
                    "const done = arguments[0];
                     axe.run(document, {{runOnly: {{type: 'tag', values: {WCAG_TAGS}}}, resultTypes: ['violations']}})
                       .then(r => done(r.violations.map(v => ({{
                         id: v.id, impact: v.impact || 'minor', help: v.help,
                         targets: v.nodes.map(n => n.target.join(' ')),
                       }}))))
                       .catch(e => done(String(e)));"
                ),
                vec![],
            )
            .await
            .unwrap();
        let violations: Vec<Violation> = serde_json::from_value(found.clone())
            .unwrap_or_else(|e| panic!("axe-core on {page}: {found} ({e})"));
        self.checked.lock().unwrap().push(Checked {
            page: page.to_string(),
            violations,
        });
    }

    /// Every page checked so far: a line per page with its count of
    /// findings by impact, then each serious or critical finding.
    pub fn accessibility_report(&self) -> (String, usize) {
        let checked = self.checked.lock().unwrap();
        let mut report = String::from("page: critical serious moderate minor\n");
        let mut grave = 0;
        for c in checked.iter() {
            let count = |impact: &str| {
                c.violations
                    .iter()
                    .filter(|v| v.impact == impact)
                    .map(|v| v.targets.len())
                    .sum::<usize>()
            };
            report.push_str(&format!(
                "{}: {} {} {} {}\n",
                c.page,
                count("critical"),
                count("serious"),
                count("moderate"),
                count("minor")
            ));
            for v in c.violations.iter().filter(|v| v.grave()) {
                grave += v.targets.len();
                report.push_str(&format!(
                    "  {} {} ({}): {}\n",
                    v.impact,
                    v.id,
                    v.help,
                    v.targets.join(", ")
                ));
            }
        }
        (report, grave)
    }

    /// The page as it is now, at both widths, each checked by axe-core.
    pub async fn shoot(&self, name: &str) {
        let dir = crate::workspace();
        let out = dir.join("target/console-screenshots");
        std::fs::create_dir_all(&out).unwrap();
        let docs = std::env::var_os("DEPUTY_UPDATE_DOCS").is_some();
        for (width, height) in [(1280, 900), (375, 812)] {
            self.client.set_window_size(width, height).await.unwrap();
            self.check(&format!("{name}-{width}")).await;
            let png = self.client.screenshot().await.unwrap();
            let file = format!("{name}-{width}.png");
            std::fs::write(out.join(&file), &png).unwrap();
            if docs {
                std::fs::create_dir_all(dir.join("docs/console")).unwrap();
                std::fs::write(dir.join("docs/console").join(&file), &png).unwrap();
            }
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }
}
