//! `JsonBody<T>`: a JSON request body read under the configured size limit, with errors in the
//! request's dialect (actix's own `Json` extractor answers in plain text).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::state;
use crate::error::{ApiError, Dialect};

pub(crate) struct JsonBody<T>(pub T);

fn too_large(dialect: Dialect, limit: usize) -> ApiError {
    ApiError::new(
        dialect,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("Request body exceeds the limit of {limit} bytes"),
    )
    .with_details(json!({ "limitBytes": limit }))
}

/// Classifies a serde_json failure: broken JSON is 400 `INVALID_JSON` with its position; an
/// unexpected field is 400 `UNKNOWN_FIELD`; a well-formed value of the wrong shape is 422.
pub(crate) fn parse_error(dialect: Dialect, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let position = json!({ "line": e.line(), "column": e.column() });
    match e.classify() {
        Category::Data if e.to_string().starts_with("unknown field") => ApiError::new(
            dialect,
            StatusCode::BAD_REQUEST,
            "UNKNOWN_FIELD",
            e.to_string(),
        )
        .with_details(position),
        Category::Data => ApiError::new(
            dialect,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            e.to_string(),
        )
        .with_details(position),
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            dialect,
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            format!("Malformed JSON: {e}"),
        )
        .with_details(position),
    }
}

/// A request body read under the size limit, with its media type (lowercase, no parameters).
pub(crate) struct RawBody {
    pub bytes: web::Bytes,
    pub media_type: Option<String>,
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = RawBody::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            match read.await {
                Ok(body) => Ok(body),
                Err(e) => Err(crate::auth::authentication_first(&req, e).await),
            }
        })
    }
}

impl RawBody {
    /// Reads the body under the size limit; errors are the caller's to order after
    /// authentication.
    fn read(
        req: &HttpRequest,
        payload: &mut Payload,
    ) -> Pin<Box<dyn Future<Output = Result<Self, ApiError>>>> {
        let dialect = Dialect::of(req);
        let limit = state(req, dialect).map(|s| s.config.body_limit);
        let media_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = limit?;
            if declared_len.is_some_and(|n| n > limit) {
                return Err(too_large(dialect, limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::new(
                        dialect,
                        StatusCode::BAD_REQUEST,
                        "INVALID_REQUEST",
                        e.to_string(),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(dialect, limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(RawBody {
                bytes: body.freeze(),
                media_type,
            })
        })
    }
}

pub(crate) fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

pub(crate) fn is_yaml(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    )
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let dialect = Dialect::of(req);
        let raw = RawBody::read(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let parsed = async {
                let raw = raw.await?;
                // No Content-Type: accept, as curl users often forget it and the body says JSON.
                if raw.media_type.as_deref().is_some_and(|m| !is_json(m)) {
                    return Err(ApiError::new(
                        dialect,
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "UNSUPPORTED_MEDIA_TYPE",
                        "Send the body as application/json",
                    ));
                }
                serde_json::from_slice::<T>(&raw.bytes)
                    .map(JsonBody)
                    .map_err(|e| parse_error(dialect, &e))
            };
            match parsed.await {
                Ok(body) => Ok(body),
                Err(e) => Err(crate::auth::authentication_first(&req, e).await),
            }
        })
    }
}
