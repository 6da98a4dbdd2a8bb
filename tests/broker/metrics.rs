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
