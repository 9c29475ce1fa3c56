//! `/healthz`, `/readyz` and `/metrics`: liveness, database readiness (through the `Readiness`
//! port) and Prometheus metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::method_not_allowed;
use crate::AppState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/healthz").route(web::get().to(healthz)))
        .service(resource("/readyz").route(web::get().to(readyz)))
        .service(resource("/metrics").route(web::get().to(metrics)));
}

/// Liveness: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the database answers (and, for SQLite, its file is still there).
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let readiness = state.readiness.clone();
    let backend = readiness.backend();
    match web::block(move || readiness.check_ready()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ready", "database": backend })),
        Ok(Err(reason)) => {
            tracing::warn!(
                error = %reason,
                request_id = crate::request_id::current().as_deref().unwrap_or("-"),
                "not ready"
            );
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": backend, "reason": reason }))
        }
        Err(e) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": backend, "reason": e.to_string() })),
    }
}

/// Prometheus metrics: they describe every account's traffic, so the metrics token or an
/// operator key is required.
async fn metrics(state: web::Data<AppState>, _reader: crate::auth::MetricsReader) -> HttpResponse {
    let readiness = state.readiness.clone();
    let mut gauges = match web::block(move || readiness.gauges()).await {
        Ok(Ok(g)) => g,
        _ => crate::ScrapeGauges::default(),
    };
    gauges.key_activity_dropped = state.authenticator.activity_dropped();
    gauges.process = crate::ProcessFigures::read();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&gauges, &state.config.build))
}
