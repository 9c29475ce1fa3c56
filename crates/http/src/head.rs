//! `HEAD` on every `GET` route (RFC 9110 §9.3.2), implemented once here rather than per route.
//!
//! The request runs as the GET it mirrors: the same authentication, allowlist, rate limit, role
//! checks and handler, so status and headers (Content-Type, ETag, Cache-Control) cannot drift
//! from the GET's. On the way out the body is dropped but its length is kept, so `Content-Length`
//! is the length of the body the GET would send. A path without a GET answers HEAD with the
//! resource's 405 (which names HEAD, from the [`Head`] marker).
//!
//! Since the request is a GET from here inward, the request audit and metrics record a HEAD as
//! the GET it ran.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpRequest};

/// Request extension: the client sent HEAD (the router saw GET).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head;

/// The method the client sent, for messages (the router sees a HEAD as GET).
pub(crate) fn client_method(req: &HttpRequest) -> Method {
    if req.extensions().get::<Head>().is_some() {
        Method::HEAD
    } else {
        req.method().clone()
    }
}

/// Middleware: runs a HEAD as its GET and answers with the GET's head and no body.
pub(crate) async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::HEAD {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    req.head_mut().method = Method::GET;
    req.extensions_mut().insert(Head);
    let res = next.call(req).await?;
    Ok(res.map_body(|_, body| match body.size() {
        // Streams have no length to announce; `None` bodies (304) have none to keep.
        BodySize::Sized(length) => BoxBody::new(Dropped(length)),
        BodySize::Stream | BodySize::None => BoxBody::new(actix_web::body::None::new()),
    }))
}

/// A body that announces `length` bytes and yields none. The transport (actix-http, HTTP/1 and
/// HTTP/2) knows the request was HEAD and sends no payload after the head, so announcing the
/// GET's length is what RFC 9110 §8.6 asks and nothing is left owed on the connection.
struct Dropped(u64);

impl MessageBody for Dropped {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}
