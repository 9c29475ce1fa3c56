#![doc = include_str!("../README.md")]

mod allow;
mod auth;
mod client_ip;
mod conditional;
mod dialects;
mod error;
mod head;
mod header_limit;
mod health;
mod input_errors;
mod json_body;
mod json_field_path;
mod metrics;
mod openapi;
mod pagination;
mod password_work;
mod preconditions;
mod process_figures;
mod rate_limit;
mod readiness;
mod request_audit;
mod request_id;
mod route_permissions;
mod route_roles;
mod scopes;
mod state;
mod store_reads;
mod versioned_paths;
mod work_pool;

use std::net::TcpListener;

use actix_web::{middleware, web, App, HttpServer};

pub use client_ip::client_ip;
pub use error::{ApiError, Dialect};
pub use metrics::{BuildInfo, Metrics, ScrapeGauges};
pub use openapi::{document as openapi_document, document_text as openapi_document_text};
pub use password_work::PasswordPool;
pub use process_figures::ProcessFigures;
pub use rate_limit::{RateLimit, RateLimits};
pub use readiness::Readiness;
pub use request_audit::{RequestAuditQueue, QUEUE_CAPACITY as REQUEST_AUDIT_QUEUE};
pub use route_permissions::required as route_permission;
pub use scopes::required as scopes_required;
pub use state::{AppState, HttpConfig};
pub use store_reads::ReadPool;
pub use work_pool::Refused;

/// Starts the HTTP server on an already bound listener (so callers can bind port 0 and learn the
/// address first). The returned server is running; await it, or stop it through its handle.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<actix_web::dev::Server> {
    serve_with(listener, state, std::sync::Arc::new(|_| {}))
}

/// Routes another inbound adapter adds to the same server (the console's pages): they share
/// the state, the listener, the request ids, the rate limits and the header limit.
pub type ExtraRoutes = std::sync::Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// [`serve`] with `extra` routes beside the APIs'. Their paths must be ones the APIs do not
/// use ([`is_page_path`]), so the API-only middleware leaves their answers alone.
pub fn serve_with(
    listener: TcpListener,
    state: AppState,
    extra: ExtraRoutes,
) -> std::io::Result<actix_web::dev::Server> {
    let workers = state.config.workers;
    let blocking_threads = state.config.blocking_threads_per_worker;
    let client_timeout = state.config.client_timeout;
    let body_limit = state.config.body_limit;
    let tls = state.config.tls.clone();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            // Every route's extractor failures in its dialect (actix answers in plain text).
            .app_data(input_errors::path_config())
            .app_data(input_errors::query_config())
            .app_data(input_errors::json_config(body_limit))
            .app_data(web::PayloadConfig::new(body_limit))
            .configure(routes)
            .configure(|cfg| extra(cfg))
            .default_service(web::to(error::not_found))
            // HTTP semantics of GET for every route (decision 0017): conditional GET inside,
            // HEAD outside it so a HEAD is made conditional as its GET is.
            .wrap(middleware::from_fn(conditional::unverifiable_if_match))
            .wrap(middleware::from_fn(conditional::not_modified))
            .wrap(middleware::from_fn(head::as_get))
            .wrap(middleware::from_fn(input_errors::refusals_first))
            .wrap(middleware::from_fn(request_audit::record))
            .wrap(middleware::from_fn(rate_limit::limit_by_ip))
            .wrap(middleware::from_fn(header_limit::limit_headers))
            .wrap(middleware::from_fn(request_id::request_id))
    })
    .workers(workers)
    // Store calls run on the blocking pool: as many threads in all as database connections keep
    // every connection busy, and no more, since a thread beyond that only queues for a
    // connection while holding a stack and a malloc arena (decision 0015 §6). Password hashing
    // has threads of its own (password_work.rs), bounded reads too (store_reads.rs).
    .worker_max_blocking_threads(blocking_threads.max(1))
    // A client that has not sent a whole request head by then is answered 408 and dropped, so
    // slow clients (slowloris) cannot hold workers' connections.
    .client_request_timeout(client_timeout)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    // The binary installs its own SIGTERM/SIGINT handlers before announcing the address, so a
    // signal that arrives right after start-up is never missed; stopping lets in-flight
    // requests finish (up to this long).
    .disable_signals()
    .shutdown_timeout(30);
    let server = match tls {
        // The same service over TLS: every route, limit and header is the same.
        Some(config) => server.listen_rustls_0_23(listener, (*config).clone())?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}

/// The paths of the console's HTML pages (served by another crate through [`serve_with`]):
/// no API dialect answers there, and an input failure there is the page's own answer, never
/// replaced by an API refusal in JSON.
pub fn is_page_path(path: &str) -> bool {
    [
        "/console",
        "/invite/",
        "/reset-password/",
        "/confirm-email/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

fn routes(cfg: &mut web::ServiceConfig) {
    health::routes(cfg);
    openapi::routes(cfg);
    dialects::routes(cfg);
}
