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
    let store = state.store.clone();
    let backend = store.backend().as_str();
    match web::block(move || store.check_ready()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ready", "database": backend })),
        Ok(Err(e)) => {
            tracing::warn!(
                error = %e,
                request_id = crate::request_id::current().as_deref().unwrap_or("-"),
                "not ready"
            );
            HttpResponse::ServiceUnavailable().json(
                json!({ "status": "unavailable", "database": backend, "reason": e.to_string() }),
            )
        }
        Err(e) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": backend, "reason": e.to_string() })),
    }
}

/// Prometheus metrics; the operator key is required (they describe every account's traffic).
async fn metrics(state: web::Data<AppState>, _operator: crate::auth::Operator) -> HttpResponse {
    let store = state.store.clone();
    let gauges = web::block(move || store.metrics_gauges()).await;
    let mut gauges = match gauges {
        Ok(Ok(g)) => crate::ScrapeGauges {
            outbox_depth: g.outbox_depth,
            delivery_attempts_ok: g.delivery_attempts_ok,
            delivery_attempts_failed: g.delivery_attempts_failed,
            pool_connections: g.pool_connections,
            pool_idle: g.pool_idle,
            key_activity_dropped: 0,
        },
        _ => crate::ScrapeGauges::default(),
    };
    gauges.key_activity_dropped = state.authenticator.activity_dropped();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&gauges))
}
