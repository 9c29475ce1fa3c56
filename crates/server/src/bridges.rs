//! Where the HTTP adapter's ports are served by the store. (The domain contexts' bridges are
//! in `tenantry_services`, the one wiring of the services.)

use tenantry_store::Store;

/// The database's health for `/readyz` and `/metrics`.
pub struct StoreReadiness(pub Store);

impl tenantry_http::Readiness for StoreReadiness {
    fn backend(&self) -> &'static str {
        self.0.backend().as_str()
    }

    fn check_ready(&self) -> Result<(), String> {
        self.0.check_ready().map_err(|e| e.to_string())
    }

    fn gauges(&self) -> Result<tenantry_http::ScrapeGauges, String> {
        let g = self.0.metrics_gauges().map_err(|e| e.to_string())?;
        Ok(tenantry_http::ScrapeGauges {
            outbox_depth: g.outbox_depth,
            delivery_attempts_ok: g.delivery_attempts_ok,
            delivery_attempts_failed: g.delivery_attempts_failed,
            pool_connections: g.pool_connections,
            pool_idle: g.pool_idle,
            pool_waits: g.pool_waits,
            pool_wait_time: g.pool_wait_time,
            feed_age: g.feed_age,
            key_activity_dropped: 0,
            process: None,
        })
    }
}
