//! `/metrics`: Prometheus's view of the broker, scraped over HTTP.

use deputy::wire::StackInput;

use crate::support::TestBroker;
use testkit::on_both;

/// The value of the sample `name{labels}` in an exposition, if present.
pub fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

async fn scrape(b: &TestBroker) -> String {
    let answer = reqwest::get(b.url("/metrics")).await.unwrap();
    assert_eq!(answer.status(), 200);
    let kind = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    answer.text().await.unwrap()
}

on_both!(
    requests_are_counted_by_route_template_and_status,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        for id in ["net", "app"] {
            admin.create_stack(&StackInput::with_id(id)).await.unwrap();
            admin.stack(id).await.unwrap();
        }
        assert!(admin.stack("missing").await.unwrap_err().is_not_found());
        reqwest::get(b.url("/no/such/route")).await.unwrap();
        let text = scrape(&b).await;
        let count =
            |labels: &str| sample(&text, &format!("deputy_http_requests_total{{{labels}}}"));
        assert_eq!(
            count(r#"method="POST",route="/v1/stacks",status="201""#),
            Some(2.0),
            "{text}"
        );
        // One series per route template, whatever the ids.
        assert_eq!(
            count(r#"method="GET",route="/v1/stacks/{id}",status="200""#),
            Some(2.0)
        );
        assert_eq!(
            count(r#"method="GET",route="/v1/stacks/{id}",status="404""#),
            Some(1.0)
        );
        assert_eq!(
            count(r#"method="GET",route="unmatched",status="404""#),
            Some(1.0)
        );
        assert!(!text.contains("net"), "no ids in labels");
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            sample(
                &text,
                &format!("deputy_build_info{{version=\"{version}\"}}")
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(admin.account().await.unwrap().version, version);
        assert_eq!(
            sample(
                &text,
                r#"deputy_http_request_duration_seconds_count{route="/v1/stacks"}"#
            ),
            Some(2.0)
        );
        let max = sample(&text, "deputy_db_pool_max_connections").unwrap();
        let idle = sample(&text, r#"deputy_db_pool_connections{state="idle"}"#).unwrap();
        let busy = sample(&text, r#"deputy_db_pool_connections{state="in_use"}"#).unwrap();
        assert!(
            max >= 1.0 && idle + busy >= 1.0 && idle + busy <= max,
            "{text}"
        );
        assert!(
            text.ends_with("# EOF\n"),
            "a complete OpenMetrics exposition"
        );
    }
);

/// The names the README's "Metrics" step documents.
fn documented() -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find("5. **Metrics.**").expect("the Metrics step");
    let end = start + readme[start..].find("6. **Packaging.**").unwrap();
    readme[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("deputy_") || s.starts_with("process_"))
        .map(|s| s.split(['{', ' ']).next().unwrap().to_string())
        .collect()
}

on_both!(
    every_documented_series_is_there_on_a_fresh_broker,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        // The first scrape is the first request: the request series exist
        // from the second one.
        scrape(&b).await;
        let text = scrape(&b).await;
        let names = documented();
        assert!(names.len() >= 18, "{names:?}");
        // Its series are per AWS error code, from the first error: it is
        // declared once an error was counted (tests/aws/metrics.rs).
        for name in names.iter().filter(|n| *n != "deputy_sts_errors_total") {
            // A counter's samples end in `_total`, an info's in `_info`:
            // the family is declared by its base.
            let base = name.trim_end_matches("_total").trim_end_matches("_info");
            assert!(
                text.contains(&format!("# TYPE {base} ")),
                "{name} is documented but not exposed:\n{text}"
            );
        }
        // Known labels are there at zero from the start.
        for zero in [
            "deputy_store_unavailable_total",
            "deputy_rate_limited_total",
            "deputy_internal_errors_total",
            r#"deputy_vend_duration_seconds_count{outcome="issued"}"#,
            r#"deputy_vend_duration_seconds_count{outcome="refused"}"#,
            r#"deputy_vend_duration_seconds_count{outcome="failed"}"#,
            r#"deputy_verification_duration_seconds_count{outcome="passed"}"#,
            r#"deputy_verification_duration_seconds_count{outcome="failed"}"#,
            "deputy_tls_certificate_expiry_timestamp_seconds",
        ] {
            assert_eq!(sample(&text, zero), Some(0.0), "{zero}:\n{text}");
        }
        for one in ["deputy_store_up", "deputy_store_writable"] {
            assert_eq!(sample(&text, one), Some(1.0), "{one}");
        }
        // The process's own, plausible for this process.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = sample(&text, "process_start_time_seconds").unwrap();
        assert!(
            now - started < 24.0 * 3600.0 && started <= now + 1.0,
            "{started}"
        );
        assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1e6);
        let open = sample(&text, "process_open_fds").unwrap();
        assert!(open >= 3.0 && open <= sample(&text, "process_max_fds").unwrap());
        assert!(sample(&text, "process_cpu_seconds_total").unwrap() > 0.0);
    }
);
