//! What the broker counts and times, served at `/metrics` in the
//! OpenMetrics text format Prometheus scrapes.
//!
//! Labels are bounded sets (route templates, status codes, outcomes, AWS
//! error codes), never ids, names or anything a caller chose, so neither
//! cardinality nor secrets can grow through them. Every series whose
//! labels are known in advance is there from the start, at zero, so an
//! alert on `rate()` or `absent()` works before the first event.

mod process;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::wire::ProblemCode;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/v1/stacks/{id}`), `unmatched` for a 404.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StsErrorLabels {
    operation: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// 5 ms to about 80 s: a vend is one AssumeRole; a verification of a new
/// role retries AccessDenied for up to a minute.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    vend_seconds: Histograms<OutcomeLabels>,
    verification_seconds: Histograms<OutcomeLabels>,
    sts_errors: Family<StsErrorLabels, Counter>,
    pool_connections: Family<PoolLabels, Gauge>,
    store_up: Gauge,
    store_writable: Gauge,
    store_unavailable: Counter,
    rate_limited: Counter,
    internal_errors: Counter,
    certificate_expiry: Gauge,
}

impl Metrics {
    /// `pool_max`: the store's connection limit, fixed at start.
    pub fn new(pool_max: u32) -> Metrics {
        let mut root = Registry::default();
        root.register_collector(Box::new(process::Process::new()));
        let registry = root.sub_registry_with_prefix("deputy");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let request_seconds: Histograms<RouteLabels> = Family::new_with_constructor(latency);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            request_seconds.clone(),
        );
        let vend_seconds: Histograms<OutcomeLabels> = Family::new_with_constructor(latency);
        registry.register(
            "vend_duration_seconds",
            "Time to answer a credential request, by outcome (issued, refused, failed)",
            vend_seconds.clone(),
        );
        let verification_seconds: Histograms<OutcomeLabels> = Family::new_with_constructor(latency);
        registry.register(
            "verification_duration_seconds",
            "Time to verify a role, by outcome (passed, failed); the count is the number of \
             verifications",
            verification_seconds.clone(),
        );
        let sts_errors = Family::<StsErrorLabels, Counter>::default();
        registry.register(
            "sts_errors",
            "STS calls that failed when vending, by operation and AWS error code",
            sts_errors.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Store connections open, by state (idle, in_use)",
            pool_connections.clone(),
        );
        let max = Gauge::<i64>::default();
        max.set(i64::from(pool_max));
        registry.register(
            "db_pool_max_connections",
            "The store's connection limit",
            max,
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 while the store answered its last check (every second), else 0",
            store_up.clone(),
        );
        let store_writable = Gauge::default();
        registry.register(
            "store_writable",
            "0 from a write the store refused (full disk, read-only) until it writes again, else 1",
            store_writable.clone(),
        );
        let store_unavailable = Counter::default();
        registry.register(
            "store_unavailable",
            "Requests answered 503 store_unavailable: the store did not answer or refused to write",
            store_unavailable.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused 429 rate_limited",
            rate_limited.clone(),
        );
        let internal_errors = Counter::default();
        registry.register(
            "internal_errors",
            "Requests answered 500 internal (each logged with its cause)",
            internal_errors.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register(
            "tls_certificate_expiry_timestamp_seconds",
            "When the served TLS certificate expires, in seconds since the Unix epoch; 0 without TLS",
            certificate_expiry.clone(),
        );
        // A constant series, so a dashboard sees which version each
        // replica runs during a rolling upgrade.
        registry.register(
            "build",
            "The broker's version",
            Info::new(vec![("version".to_string(), crate::VERSION.to_string())]),
        );
        let metrics = Metrics {
            registry: root,
            requests,
            request_seconds,
            vend_seconds,
            verification_seconds,
            sts_errors,
            pool_connections,
            store_up,
            store_writable,
            store_unavailable,
            rate_limited,
            internal_errors,
            certificate_expiry,
        };
        for outcome in ["issued", "refused", "failed"] {
            drop(
                metrics
                    .vend_seconds
                    .get_or_create(&OutcomeLabels { outcome }),
            );
        }
        for outcome in ["passed", "failed"] {
            drop(
                metrics
                    .verification_seconds
                    .get_or_create(&OutcomeLabels { outcome }),
            );
        }
        metrics.render_pool(0, 0);
        metrics.store_up.set(1);
        metrics.store_writable.set(1);
        metrics
    }

    /// Counts an answer that carried a problem the operator watches.
    pub fn problem(&self, code: ProblemCode) {
        match code {
            ProblemCode::StoreUnavailable => self.store_unavailable.inc(),
            ProblemCode::RateLimited => self.rate_limited.inc(),
            ProblemCode::Internal => self.internal_errors.inc(),
            _ => 0,
        };
    }

    /// The served certificate's expiry (Unix seconds), at start and at
    /// each reload.
    pub fn certificate_expires(&self, at: i64) {
        self.certificate_expiry.set(at);
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// `outcome`: issued, refused (by deputy's rules) or failed (AWS or the
    /// store).
    pub fn vend(&self, outcome: &'static str, took: Duration) {
        self.vend_seconds
            .get_or_create(&OutcomeLabels { outcome })
            .observe(took.as_secs_f64());
    }

    pub fn verification(&self, passed: bool, took: Duration) {
        let outcome = if passed { "passed" } else { "failed" };
        self.verification_seconds
            .get_or_create(&OutcomeLabels { outcome })
            .observe(took.as_secs_f64());
    }

    pub fn sts_error(&self, operation: &'static str, code: &str) {
        // AWS's codes are short words; an endpoint answering something else
        // must not grow the label without bound.
        let code: String = code.chars().take(64).collect();
        self.sts_errors
            .get_or_create(&StsErrorLabels { operation, code })
            .inc();
    }

    /// The exposition, with the pool's current use (`open` connections,
    /// `idle` of them).
    pub fn render(&self, open: u32, idle: usize, store_up: bool, store_writable: bool) -> String {
        self.store_up.set(i64::from(store_up));
        self.store_writable.set(i64::from(store_writable));
        self.render_pool(open, idle);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    fn render_pool(&self, open: u32, idle: usize) {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set((i64::from(open) - idle).max(0));
    }
}
