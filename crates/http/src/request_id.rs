//! Request ids: accepted from the client when sane, generated otherwise, carried in logs and error
//! bodies; paths are logged without credentials.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The current request's id, readable by error rendering without threading it through every
    /// handler (the handler future runs inside this middleware's future, on the same task).
    static REQUEST_ID: String;
}

/// The id of the request being handled, if called while handling one.
pub(crate) fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Accepts a sane client-provided id (so traces join across services) or generates one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(generate)
}

fn generate() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let start = chrono::Utc::now().timestamp_micros();
    format!("req_{start:x}{n:04x}")
}

/// The path as logs and the request audit may show it: a segment carrying a credential (the
/// invitation token in `/v2/invitations/{token}`, any `tnt_…` token, percent-encoded or not) is
/// replaced, so a link's secret never reaches a log line or an audit entry another member reads.
pub(crate) fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if percent_decoded(seg)
                .to_ascii_lowercase()
                .starts_with("tnt_")
            {
                "[redacted]"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `seg` with `%XX` escapes decoded (bytes that do not form UTF-8 are replaced).
fn percent_decoded(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id_of(&req);
    let method = req.method().clone();
    let path = loggable_path(req.path());
    // The route pattern (`/v2/accounts/team/members/{id}`), never the path: ids must not become
    // metric labels.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req
        .app_data::<actix_web::web::Data<crate::AppState>>()
        .map(|s| s.metrics.clone());
    let started = Instant::now();
    // No `tracing` span around the request: creating, entering and closing one cost 9 % of a
    // cached read's throughput (decision 0015 §16), and it reached few events anyway — store
    // and service calls run on other threads, which a span does not follow. The access line
    // carries the request's fields, and the events logged while handling a request name its
    // id themselves (`current()`).
    let result = REQUEST_ID.scope(id.clone(), next.call(req)).await;
    let mut res = result?;
    let status = res.status().as_u16();
    // Whole microseconds: `0.303177`, not the `0.30317700000000003` of a product of floats.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    // Who and from where: the client's address as the allowlist sees it (a trusted proxy's
    // `X-Forwarded-For` resolved) and the authenticated account, `-` when there is none (an
    // anonymous or refused request, the operator). Read after the handler, from what the
    // request's own authentication produced: no second lookup.
    let (client, account) = {
        let req = res.request();
        let no_proxies = tenantry_security::IpMatcher::default();
        let trusted = req
            .app_data::<actix_web::web::Data<crate::AppState>>()
            .map_or(&no_proxies, |s| &s.config.trusted_proxies);
        let client = crate::client_ip::client_ip(req, trusted)
            .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        let account = crate::auth::authenticated_actor(req)
            .map_or_else(|| "-".to_owned(), |a| a.account_id.to_string());
        (client, account)
    };
    tracing::info!(
        request_id = %id,
        %method,
        %path,
        status,
        latency_ms,
        %client,
        %account,
        "handled"
    );
    if let Some(metrics) = metrics {
        metrics.record(method.as_str(), &route, status, latency_ms / 1000.0);
        if let Some(code) = res
            .response()
            .extensions()
            .get::<crate::metrics::ErrorCode>()
        {
            metrics.record_error(code.0);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn tokens_in_paths_are_redacted() {
        assert_eq!(
            loggable_path("/v2/invitations/tnt_inv_abc/accept"),
            "/v2/invitations/[redacted]/accept"
        );
        assert_eq!(
            loggable_path("/v2/accounts/settings"),
            "/v2/accounts/settings"
        );
    }
}
