//! The console in headless Chromium (Debian's, through chromedriver): what
//! each page weighs, and how soon the integrations page paints with 1,000
//! integrations in the store, next to the same page with 10.

use std::time::Instant;

use deputy::wire::{AttachmentInput, IntegrationInput, StackInput};

use crate::broker::{Backend, ROLE, TestBroker};
use crate::browser::Browser;
use crate::report::Section;

const LOADS: usize = 10;

/// Navigation timing of the page the browser is on: (first contentful
/// paint, time from request to the last byte of the answer, HTML bytes).
const TIMING: &str = "
    const nav = performance.getEntriesByType('navigation')[0];
    const paint = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
    return [paint ? paint.startTime : nav.domContentLoadedEventEnd, nav.responseEnd - nav.requestStart, nav.decodedBodySize];
";

struct Load {
    paint_ms: f64,
    answer_ms: f64,
    bytes: u64,
}

async fn load(browser: &Browser, url: &str) -> Load {
    browser.goto(url).await;
    let v = browser
        .client
        .execute(TIMING, vec![])
        .await
        .expect("timing");
    Load {
        paint_ms: v[0].as_f64().unwrap_or(f64::NAN),
        answer_ms: v[1].as_f64().unwrap_or(f64::NAN),
        bytes: v[2].as_u64().unwrap_or(0),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A store with `count` integrations (every tenth attached to a stack) and
/// a browser signed in to it.
async fn store_with(count: usize) -> (TestBroker, Browser, String) {
    let broker = TestBroker::start(Backend::Sqlite).await;
    let admin = broker.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let mut first = String::new();
    for n in 0..count {
        let i = admin
            .create_integration(&IntegrationInput {
                name: format!("integration-{n:04}"),
                role_arn: ROLE.into(),
                labels: [("team".to_string(), format!("t{}", n % 7))].into(),
                ..IntegrationInput::default()
            })
            .await
            .unwrap();
        if n % 10 == 0 {
            let stack = format!("s{n}");
            admin
                .create_stack(&StackInput::with_id(&stack))
                .await
                .unwrap();
            admin
                .attach(
                    &i.id,
                    &AttachmentInput {
                        stack_id: stack,
                        read: true,
                        write: true,
                    },
                )
                .await
                .unwrap();
        }
        if n == 0 {
            first = i.id.to_string();
        }
    }
    let browser = Browser::start().await;
    let base = broker.base.trim_end_matches('/').to_string();
    browser.sign_in(&base, &broker.admin_token).await;
    (broker, browser, first)
}

pub async fn run() -> Section {
    let mut section = Section::new(
        "Console pages",
        format!(
            "Each page loaded {LOADS} times in headless Chromium from a broker on loopback \
             (SQLite), signed in; medians. \"First paint\" is the browser's first contentful \
             paint after navigation starts; \"answer\" is request start to the last byte of the \
             HTML. Bytes are the HTML alone (uncompressed); the stylesheet and script come once and are \
             revalidated by ETag after that (sizes in the notes). The integrations list shows \
             100 rows a page."
        ),
        vec![
            "page",
            "integrations in store",
            "HTML bytes",
            "answer (ms)",
            "first paint (ms)",
        ],
    );
    let mut list_paint = Vec::new();
    for count in [10, 1_000] {
        let started = Instant::now();
        let (broker, browser, first) = store_with(count).await;
        let seeded = started.elapsed();
        let base = broker.base.trim_end_matches('/').to_string();
        let mut pages = vec![("integrations", format!("{base}/integrations"))];
        if count == 1_000 {
            pages.extend([
                (
                    "integration: overview",
                    format!("{base}/integrations/{first}"),
                ),
                (
                    "integration: attachments",
                    format!("{base}/integrations/{first}/attachments"),
                ),
                (
                    "integration: trust policy",
                    format!("{base}/integrations/{first}/trust-policy"),
                ),
                ("stacks", format!("{base}/stacks")),
                ("keys", format!("{base}/keys")),
                ("audit", format!("{base}/audit")),
            ]);
        }
        for (name, url) in pages {
            let mut loads = Vec::new();
            for _ in 0..LOADS {
                loads.push(load(&browser, &url).await);
            }
            let paint = median(loads.iter().map(|l| l.paint_ms).collect());
            if name == "integrations" {
                list_paint.push(paint);
            }
            section.rows.push(vec![
                name.to_string(),
                count.to_string(),
                loads[0].bytes.to_string(),
                format!("{:.1}", median(loads.iter().map(|l| l.answer_ms).collect())),
                format!("{paint:.1}"),
            ]);
        }
        section.notes.push(format!(
            "{count} integrations created over the API in {seeded:.1?}."
        ));
        browser.client.clone().close().await.unwrap();
    }
    section.notes.push(format!(
        "The integrations page with 1,000 integrations in the store paints in {:.2}× the time \
         of the same page with 10.",
        list_paint[1] / list_paint[0]
    ));
    section.notes.push(format!(
        "Stylesheet {} bytes, script {} bytes.",
        include_str!("../../src/broker/console/console.css").len(),
        include_str!("../../src/broker/console/console.js").len()
    ));
    section
}
