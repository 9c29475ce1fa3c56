//! Audit of API requests (`security.audit.log_api_requests`, on by default): one record per
//! authenticated request, handed to a bounded queue after the response is produced and written
//! in batches by a background thread (`tenantry` binary, `request_audit.rs`), so the request
//! path never waits for the database for it. A full queue drops the record and counts it
//! (`tenantry_request_audit_dropped_total`); the writer drains the queue when the server stops.
//! Whether an account wants the records is decided by the writer (the policy is cached there).

use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tenantry_security::ApiRequestRecord;

/// Records waiting for the writer; beyond this, new ones are dropped and counted.
pub const QUEUE_CAPACITY: usize = 20_000;

/// The sending side, in `AppState`.
pub struct RequestAuditQueue {
    records: SyncSender<ApiRequestRecord>,
}

impl RequestAuditQueue {
    /// The queue and the receiver its writer drains.
    pub fn new(capacity: usize) -> (Self, Receiver<ApiRequestRecord>) {
        let (records, receiver) = sync_channel(capacity);
        (Self { records }, receiver)
    }
}

/// Middleware: after the handler, queue a record when the request was authenticated.
pub(crate) async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = crate::request_id::current();
    let res = next.call(req).await?;
    let Some(actor) = crate::auth::authenticated_actor(res.request()) else {
        return Ok(res);
    };
    if let Some(state) = res
        .request()
        .app_data::<actix_web::web::Data<crate::AppState>>()
    {
        let record = ApiRequestRecord {
            account: actor.account_id,
            user: actor.user_id,
            method: res.request().method().to_string(),
            // Never a link's token: the audit log is read by the account's admins.
            path: crate::request_id::loggable_path(res.request().path()),
            status: res.status().as_u16(),
            ip: actor.ip.map(|ip| ip.to_string()),
            request_id,
            at: state.clock.now(),
        };
        if state.request_audit.records.try_send(record).is_err() {
            state
                .metrics
                .request_audit_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(res)
}
