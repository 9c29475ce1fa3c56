//! Prometheus metrics (`GET /metrics`, text format 0.0.4). Request counts and latency by route
//! pattern and status — patterns, not paths, so ids never become labels — and error codes,
//! counted in process; outbox depth, delivery attempts and pool usage read at scrape time from
//! the database (so they agree across instances). No per-account labels.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The error code an `ApiError` rendered, left in the response's extensions for counting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub &'static str);

#[derive(Debug, Clone, Default)]
struct Series {
    count: u64,
    sum: f64,
    /// Cumulative counts per bucket bound.
    buckets: [u64; BUCKETS.len()],
}

/// In-process counters, shared by every worker.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Audit entries deleted by the retention purge.
    pub retention_purged: AtomicU64,
    /// Members suspended for inactivity.
    pub members_suspended: AtomicU64,
    /// Request-audit records dropped because the writer's queue was full.
    pub request_audit_dropped: AtomicU64,
}

/// Values read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct ScrapeGauges {
    pub outbox_depth: u64,
    pub delivery_attempts_ok: u64,
    pub delivery_attempts_failed: u64,
    pub pool_connections: u32,
    pub pool_idle: u32,
    /// Store calls of this instance that found no idle pooled connection and waited for one.
    pub pool_waits: u64,
    /// How long they waited, in total.
    pub pool_wait_time: std::time::Duration,
    /// How long ago the change feed was last confirmed; `None`: never in this process.
    pub feed_age: Option<std::time::Duration>,
    /// API key uses not recorded because the key-activity queue was full.
    pub key_activity_dropped: u64,
    /// The process's own figures; `None` where the system does not tell them (not Linux).
    pub process: Option<crate::ProcessFigures>,
}

/// What `tenantry_build_info` reports: which build answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    /// The git commit the binary was built from, `unknown` when built outside a checkout.
    pub commit: String,
}

impl Default for BuildInfo {
    fn default() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: "unknown".to_owned(),
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub(crate) fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut map) = self.requests.lock() else {
            return;
        };
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    pub(crate) fn record_error(&self, code: &'static str) {
        if let Ok(mut map) = self.errors.lock() {
            *map.entry(code).or_default() += 1;
        }
    }

    pub fn render(&self, g: &ScrapeGauges, build: &BuildInfo) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tenantry_http_requests_total Requests handled, by route pattern and status."
        );
        let _ = writeln!(out, "# TYPE tenantry_http_requests_total counter");
        let requests = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        for ((method, route, status), s) in &requests {
            let _ = writeln!(
                out,
                "tenantry_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(out, "# HELP tenantry_http_request_duration_seconds Request latency, by route pattern and status.");
        let _ = writeln!(
            out,
            "# TYPE tenantry_http_request_duration_seconds histogram"
        );
        for ((method, route, status), s) in &requests {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tenantry_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "tenantry_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "tenantry_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "tenantry_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let errors = self.errors.lock().map(|m| m.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP tenantry_errors_total Error responses, by error code."
        );
        let _ = writeln!(out, "# TYPE tenantry_errors_total counter");
        for (code, n) in &errors {
            let _ = writeln!(out, "tenantry_errors_total{{code=\"{code}\"}} {n}");
        }
        let auth: u64 = ["UNAUTHORIZED", "SIGN_IN_REQUIRED", "MFA_REQUIRED"]
            .iter()
            .filter_map(|c| errors.get(c))
            .sum();
        let simple: [(&str, &str, &str, u64); 11] = [
            (
                "tenantry_auth_failures_total",
                "counter",
                "Requests refused for missing or invalid credentials.",
                auth,
            ),
            (
                "tenantry_ip_denials_total",
                "counter",
                "Requests refused by an account's IP allowlist.",
                errors.get("IP_NOT_ALLOWED").copied().unwrap_or(0),
            ),
            (
                "tenantry_retention_purged_total",
                "counter",
                "Audit entries deleted by the retention purge.",
                self.retention_purged.load(Ordering::Relaxed),
            ),
            (
                "tenantry_members_suspended_inactive_total",
                "counter",
                "Members suspended for inactivity.",
                self.members_suspended.load(Ordering::Relaxed),
            ),
            (
                "tenantry_request_audit_dropped_total",
                "counter",
                "API-request audit records dropped because the writer's queue was full.",
                self.request_audit_dropped.load(Ordering::Relaxed),
            ),
            (
                "tenantry_key_activity_dropped_total",
                "counter",
                "API key uses not recorded (last_used_at) because the writer's queue was full.",
                g.key_activity_dropped,
            ),
            (
                "tenantry_outbox_depth",
                "gauge",
                "Outbox messages not yet delivered nor abandoned (all instances).",
                g.outbox_depth,
            ),
            (
                "tenantry_delivery_attempts_succeeded_total",
                "counter",
                "Notification delivery attempts that succeeded (all instances).",
                g.delivery_attempts_ok,
            ),
            (
                "tenantry_delivery_attempts_failed_total",
                "counter",
                "Notification delivery attempts that failed (all instances).",
                g.delivery_attempts_failed,
            ),
            (
                "tenantry_db_pool_connections",
                "gauge",
                "Database connections open in this instance's pool.",
                u64::from(g.pool_connections),
            ),
            (
                "tenantry_db_pool_waits_total",
                "counter",
                "Store calls of this instance that found no idle pooled connection and waited for one.",
                g.pool_waits,
            ),
        ];
        for (name, kind, help, value) in simple {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP tenantry_db_pool_idle_connections Idle connections in this instance's pool.\n# TYPE tenantry_db_pool_idle_connections gauge\ntenantry_db_pool_idle_connections {}",
            g.pool_idle
        );
        let _ = writeln!(
            out,
            "# HELP tenantry_db_pool_wait_seconds_total Time store calls of this instance waited for a pooled connection.\n# TYPE tenantry_db_pool_wait_seconds_total counter\ntenantry_db_pool_wait_seconds_total {}",
            g.pool_wait_time.as_secs_f64()
        );
        // +Inf when the feed was never followed: every cache then keeps the 2 s bound.
        let _ = writeln!(
            out,
            "# HELP tenantry_cache_feed_age_seconds How long ago this instance last confirmed the change feed (caches keep entries past 2 s only while it is under 1.5 s).\n# TYPE tenantry_cache_feed_age_seconds gauge\ntenantry_cache_feed_age_seconds {}",
            g.feed_age
                .map_or_else(|| "+Inf".to_owned(), |age| age.as_secs_f64().to_string())
        );
        if let Some(p) = &g.process {
            let process: [(&str, &str, &str, String); 4] = [
                (
                    "process_cpu_seconds_total",
                    "counter",
                    "Total user and system CPU time spent in seconds.",
                    p.cpu_seconds.to_string(),
                ),
                (
                    "process_resident_memory_bytes",
                    "gauge",
                    "Resident memory size in bytes.",
                    p.resident_memory_bytes.to_string(),
                ),
                (
                    "process_open_fds",
                    "gauge",
                    "Number of open file descriptors.",
                    p.open_fds.to_string(),
                ),
                (
                    "process_start_time_seconds",
                    "gauge",
                    "Start time of the process since unix epoch in seconds.",
                    p.start_time_seconds.to_string(),
                ),
            ];
            for (name, kind, help, value) in process {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP tenantry_build_info The build answering: its version and git commit.\n# TYPE tenantry_build_info gauge\ntenantry_build_info{{version=\"{}\",commit=\"{}\"}} 1",
            escape(&build.version),
            escape(&build.commit)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_cumulative_and_labelled_by_pattern() {
        let m = Metrics::default();
        m.record("GET", "/v2/accounts/team/members/{id}", 200, 0.004);
        m.record("GET", "/v2/accounts/team/members/{id}", 200, 0.2);
        m.record_error("IP_NOT_ALLOWED");
        let text = m.render(&ScrapeGauges::default(), &BuildInfo::default());
        assert!(text.contains(r#"tenantry_http_requests_total{method="GET",route="/v2/accounts/team/members/{id}",status="200"} 2"#));
        assert!(text.contains(r#"le="0.005"} 1"#), "{text}");
        assert!(text.contains(r#"le="0.25"} 2"#), "{text}");
        assert!(text.contains("tenantry_ip_denials_total 1"));
        assert!(
            !text.contains("process_"),
            "no process figures, no series: {text}"
        );
    }

    #[test]
    fn process_figures_and_the_build_are_reported() {
        let gauges = ScrapeGauges {
            process: Some(crate::ProcessFigures {
                cpu_seconds: 1.5,
                resident_memory_bytes: 4096,
                open_fds: 12,
                start_time_seconds: 1_765_000_000.25,
            }),
            ..ScrapeGauges::default()
        };
        let build = BuildInfo {
            version: "1.2.3".into(),
            commit: "0123abc".into(),
        };
        let text = Metrics::default().render(&gauges, &build);
        for line in [
            "process_cpu_seconds_total 1.5",
            "process_resident_memory_bytes 4096",
            "process_open_fds 12",
            "process_start_time_seconds 1765000000.25",
            r#"tenantry_build_info{version="1.2.3",commit="0123abc"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing: {text}");
        }
    }
}
