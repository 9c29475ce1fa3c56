#![doc = include_str!("../README.md")]

mod auth;
mod client_ip;
mod dialects;
mod error;
mod health;
mod json_body;
mod metrics;
mod pagination;
mod request_id;
mod scopes;
mod state;

use std::net::TcpListener;

use actix_web::{middleware, web, App, HttpServer};

pub use error::{ApiError, Dialect};
pub use metrics::{Metrics, ScrapeGauges};
pub use state::{AppState, HttpConfig};

/// Starts the HTTP server on an already bound listener (so callers can bind port 0 and learn the
/// address first). The returned server is running; await it, or stop it through its handle.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<actix_web::dev::Server> {
    let workers = state.config.workers;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(routes)
            .default_service(web::to(error::not_found))
            .wrap(middleware::from_fn(request_id::request_id))
    })
    .workers(workers)
    // The binary installs its own SIGTERM/SIGINT handlers before announcing the address, so a
    // signal that arrives right after start-up is never missed; stopping lets in-flight
    // requests finish (up to this long).
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}

fn routes(cfg: &mut web::ServiceConfig) {
    health::routes(cfg);
    dialects::routes(cfg);
}
