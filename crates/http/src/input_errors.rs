//! What is wrong with a request's input, answered in the request's dialect, and only to a caller
//! who could make the request at all.
//!
//! - actix's extractors answer in plain text unless told otherwise ("Query deserialize error:
//!   duplicate field `sections`"). [`path_config`], [`query_config`] and [`json_config`] turn
//!   their failures into `ApiError`s; lib.rs registers them once for every route. Failures with no
//!   such hook (`web::Bytes`' `PayloadConfig`, an extractor added later) are rendered by
//!   [`refusals_first`] from their status.
//! - [`refusals_first`]: a request that fails on its input (any 4xx but 401, 403 and 429) is
//!   answered with the refusal its caller would get anyway, when there is one: the failed
//!   authentication (path and query errors do not wait for it as body errors do), or the role the
//!   route needs (route_roles.rs). A viewer's invalid body to an admin route is a 403 like its
//!   valid one, so a refused caller learns nothing of how a route validates, and the answer does
//!   not depend on what it sent. The handler has run by then; a caller below the route's least
//!   role is refused by the service too, so it has changed nothing.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, ResponseError};

use crate::error::{ApiError, Dialect};
use crate::json_body::{parse_error, too_large};

/// A path parameter that does not deserialize names nothing: 404, like an unknown id.
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e: PathError, req: &HttpRequest| {
        let cause = match &e {
            PathError::Deserialize(cause) => cause.to_string(),
            // The enum is non-exhaustive.
            #[allow(unreachable_patterns)]
            other => other.to_string(),
        };
        ApiError::new(
            Dialect::of(req),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("The path names nothing: {cause}"),
        )
        .into()
    })
}

/// A query string that does not deserialize (a repeated parameter, a value of the wrong type, a
/// parameter the route does not take: every query struct denies unknown fields): 400
/// `INVALID_REQUEST`, the code of the routes' own query checks.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e: QueryPayloadError, req: &HttpRequest| {
        query_error(Dialect::of(req), &e).into()
    })
}

fn query_error(dialect: Dialect, e: &QueryPayloadError) -> ApiError {
    let cause = match e {
        QueryPayloadError::Deserialize(cause) => cause.to_string(),
        // The enum is non-exhaustive.
        #[allow(unreachable_patterns)]
        other => other.to_string(),
    };
    let error = ApiError::new(
        dialect,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        format!("Invalid query string: {cause}"),
    );
    match unknown_parameter(&cause) {
        // `parameter` for the JSON dialects, `fields` for the catalog's per-problem list and
        // the tenant settings API's `errors`.
        Some(name) => error.with_details(serde_json::json!({
            "parameter": name,
            "fields": [{ "field": name, "message": "is not a parameter of this route" }],
        })),
        None => error,
    }
}

/// The parameter named by serde's `deny_unknown_fields` error, whose text is fixed by serde
/// (`unknown field `x`, expected ...` or `..., there are no fields`); there is no structured
/// form through serde_urlencoded.
fn unknown_parameter(cause: &str) -> Option<&str> {
    let rest = cause.strip_prefix("unknown field `")?;
    let end = rest
        .rfind("`, expected")
        .or_else(|| rest.rfind("`, there are no fields"))?;
    Some(&rest[..end])
}

/// `web::Json` (the routes read bodies through `JsonBody`, which has the same answers plus the
/// duplicate-key check): the body limit and error codes of `JsonBody`.
pub(crate) fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(
        |e: JsonPayloadError, req: &HttpRequest| json_error(Dialect::of(req), e).into(),
    )
}

fn json_error(dialect: Dialect, e: JsonPayloadError) -> ApiError {
    match e {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => too_large(dialect, limit),
        JsonPayloadError::ContentType => ApiError::new(
            dialect,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the body as application/json",
        ),
        JsonPayloadError::Deserialize(cause) => parse_error(dialect, &cause, None),
        JsonPayloadError::Serialize(cause) => ApiError::internal(dialect, &cause),
        // actix's error is `#[non_exhaustive]`, so the compiler demands this arm; what it has
        // beyond the above are failures to read the request's body, the client's to fix.
        other => ApiError::new(
            dialect,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("The body could not be read: {other}"),
        ),
    }
}

/// An error actix rendered itself (plain text), in the dialect: same status, the code the
/// status stands for in docs/api/errors.md.
fn in_dialect(dialect: Dialect, status: StatusCode, error: &actix_web::Error) -> ApiError {
    let code = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::UNPROCESSABLE_ENTITY => "VALIDATION_ERROR",
        _ => "INVALID_REQUEST",
    };
    ApiError::new(dialect, status, code, error.to_string())
}

/// Failures of the request's input: what a refusal takes precedence over.
fn is_input_failure(status: StatusCode) -> bool {
    status.is_client_error()
        && !matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        )
}

/// The refusal a request's caller gets whatever the request says, if any.
async fn refusal(req: &HttpRequest, dialect: Dialect) -> Option<ApiError> {
    match crate::auth::authentication(req).await? {
        Err(auth_error) => Some(auth_error),
        Ok(Some(actor)) => {
            let needed = crate::route_roles::required(req)?;
            (actor.role < needed).then(|| crate::route_roles::refusal(dialect, needed, actor.role))
        }
        Ok(None) => None,
    }
}

/// The middleware (innermost, so the request audit and the access line see its answer).
pub(crate) async fn refusals_first(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if !is_input_failure(status) || crate::is_page_path(res.request().path()) {
        return Ok(res.map_into_left_body());
    }
    let request = res.request().clone();
    let dialect = Dialect::of(&request);
    let replacement = match refusal(&request, dialect).await {
        Some(refusal) => Some(refusal),
        None => res
            .response()
            .error()
            .filter(|e| e.as_error::<ApiError>().is_none())
            .map(|e| in_dialect(dialect, status, e)),
    };
    Ok(match replacement {
        Some(error) => res
            .into_response(error.error_response())
            .map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as service_test;
    use actix_web::{middleware, App, HttpResponse};
    use serde_json::Value;

    async fn echo_json(body: web::Json<Value>) -> HttpResponse {
        HttpResponse::Ok().json(body.into_inner())
    }

    async fn echo_bytes(body: web::Bytes) -> HttpResponse {
        HttpResponse::Ok().body(body)
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Count {
        x: u32,
    }

    async fn echo_query(q: web::Query<Count>) -> HttpResponse {
        HttpResponse::Ok().body(q.x.to_string())
    }

    async fn echo_path(p: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(p.to_string())
    }

    /// One route per dialect and extractor (held in a constant, so the route test, which reads
    /// the route literals of this crate, does not take them for served routes).
    const ROUTES: [&str; 4] = [
        "/api/json",
        "/tenants/bytes",
        "/accounts/{n}/q",
        "/v2/path/{n}",
    ];

    /// (status, content type, body) of `req` against an app with this module's configuration.
    async fn answer(req: service_test::TestRequest) -> (StatusCode, String, Value) {
        let app = service_test::init_service(
            App::new()
                .app_data(path_config())
                .app_data(query_config())
                .app_data(json_config(16))
                .app_data(web::PayloadConfig::new(16))
                .wrap(middleware::from_fn(refusals_first))
                .route(ROUTES[0], web::post().to(echo_json))
                .route(ROUTES[1], web::post().to(echo_bytes))
                .route(ROUTES[2], web::get().to(echo_query))
                .route(ROUTES[3], web::get().to(echo_path)),
        )
        .await;
        let res = service_test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = service_test::read_body(res).await;
        (
            status,
            ct,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    #[actix_web::test]
    async fn extractor_failures_answer_in_the_paths_dialect() {
        let (status, _, body) = answer(
            service_test::TestRequest::post()
                .uri("/api/json")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"a\":"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "INVALID_JSON");

        let (status, _, body) = answer(
            service_test::TestRequest::post()
                .uri("/api/json")
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");

        let (status, _, body) = answer(
            service_test::TestRequest::post()
                .uri("/api/json")
                .insert_header(("content-type", "application/json"))
                .set_payload(format!("[{}]", "1,".repeat(20) + "1")),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        // The user & organization API's details are snake_case (error.rs).
        assert_eq!(body["error"]["details"]["limit_bytes"], 16);

        // `web::Bytes` has no error hook: its plain-text 413 is rendered from the status.
        let (status, ct, body) = answer(
            service_test::TestRequest::post()
                .uri("/tenants/bytes")
                .set_payload("x".repeat(100)),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");

        let (status, _, body) =
            answer(service_test::TestRequest::get().uri("/accounts/a/q?x=1&x=2")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body[0]["errorCode"], 40003);
        let (status, _, body) =
            answer(service_test::TestRequest::get().uri("/accounts/a/q?x=no")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body[0]["errorCode"], 40003);

        let (status, _, body) =
            answer(service_test::TestRequest::get().uri("/accounts/a/q?x=1&dept=Ops")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body[0]["errorMessage"],
            "dept: is not a parameter of this route"
        );

        let (status, _, body) = answer(service_test::TestRequest::get().uri("/v2/path/%FF")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "NOT_FOUND");
    }

    #[test]
    fn unknown_parameters_are_named() {
        assert_eq!(
            unknown_parameter("unknown field `dept`, expected `x`"),
            Some("dept")
        );
        // A name holding serde's own separator is still cut where serde's text starts.
        assert_eq!(
            unknown_parameter("unknown field `a`, expected`, expected one of `x`, `y`"),
            Some("a`, expected")
        );
        assert_eq!(
            unknown_parameter("unknown field `_`, there are no fields"),
            Some("_")
        );
        assert_eq!(unknown_parameter("invalid digit found in string"), None);
    }

    #[test]
    fn refusals_take_precedence_over_input_failures_only() {
        for status in [400, 404, 405, 409, 412, 413, 415, 422] {
            assert!(is_input_failure(
                StatusCode::from_u16(status).expect("status")
            ));
        }
        for status in [200, 204, 401, 403, 429, 500, 503] {
            assert!(!is_input_failure(
                StatusCode::from_u16(status).expect("status")
            ));
        }
    }
}
