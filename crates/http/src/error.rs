//! Error policy: every failure a client can cause becomes an `ApiError` with a stable,
//! documented code (docs/api/errors.md) and the status code the seeds use. Infrastructure
//! failures become `INTERNAL` (500) carrying only the request id, never a cause chain; the cause
//! is logged. Contention becomes `SERVICE_BUSY` (503) with `Retry-After`.
//!
//! Rendering happens here and only here, once per dialect (API-MAP.md "Errors per dialect").

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};
use tenantry_kernel::PortError;

use crate::request_id;

/// The API document a request belongs to, which fixes its error format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Seeds 01 and 02 (`/v2/accounts/...`), and the operator API (`/admin/...`).
    V2,
    /// Seed 03 (`/api/...`).
    Api,
    /// Seed 04 (`/accounts/{accountName}/...`, the account list `/accounts`, `/version`, the
    /// token grant `/authorization/token`, and all of them under `/v1`).
    Catalog,
    /// Seed 05 (`/tenants/{id}/settings`).
    Tenant,
}

impl Dialect {
    pub fn for_path(path: &str) -> Self {
        if path.starts_with("/api/") || path == "/api" {
            Dialect::Api
        } else if is_catalog_path(path) {
            Dialect::Catalog
        } else if path.starts_with("/tenants/") {
            Dialect::Tenant
        } else {
            Dialect::V2
        }
    }

    pub fn of(req: &HttpRequest) -> Self {
        Self::for_path(req.path())
    }
}

/// The settings catalog's clients put the version in the path (`/v1/...`) and call the account
/// list, the version and the token grant outside `/accounts/{name}/`: all of it answers in the
/// catalog's format, which those clients read (a 401 there means "refresh the token").
fn is_catalog_path(path: &str) -> bool {
    // Only the catalog is served under `/v1`: anything there, found or not, is its.
    path == "/v1"
        || path.starts_with("/v1/")
        || path == "/accounts"
        || path.starts_with("/accounts/")
        || path == "/version"
        || path == "/authorization/token"
}

/// A failure to report to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub dialect: Dialect,
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Boxed: most errors have none, and a small error keeps `Result`s cheap to move.
    pub details: Option<Box<Value>>,
    pub retry_after_secs: Option<u64>,
    /// The RFC 6749 §5.2 `error` of a failed token grant: rendered with `error_description` next
    /// to the catalog's `errorCode`/`errorMessage`, in one object.
    pub oauth_error: Option<&'static str>,
}

impl ApiError {
    pub fn new(
        dialect: Dialect,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            dialect,
            status,
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
            oauth_error: None,
        }
    }

    /// Marks a failure of the token grant with its RFC 6749 §5.2 `error` code.
    pub fn oauth(mut self, error: &'static str) -> Self {
        self.oauth_error = Some(error);
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn unauthorized(dialect: Dialect) -> Self {
        Self::new(
            dialect,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Missing or invalid credentials: send `Authorization: Bearer <API key>`",
        )
    }

    pub fn not_found(dialect: Dialect, what: &str) -> Self {
        Self::new(
            dialect,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }

    pub fn internal(dialect: Dialect, cause: &dyn std::fmt::Display) -> Self {
        let request_id = request_id::current();
        tracing::error!(error = %cause, request_id = request_id.as_deref().unwrap_or("-"), "internal error");
        Self::new(
            dialect,
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "An internal error occurred; quote the request id when reporting it",
        )
        .with_details(json!({ "requestId": request_id }))
    }

    pub fn busy(dialect: Dialect) -> Self {
        let mut e = Self::new(
            dialect,
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_BUSY",
            "The service is busy; retry shortly",
        );
        e.retry_after_secs = Some(1);
        e
    }

    /// Maps a port failure: contention is retryable, everything else is internal.
    pub fn from_port(dialect: Dialect, e: &PortError) -> Self {
        match e {
            PortError::Busy => Self::busy(dialect),
            other => Self::internal(dialect, other),
        }
    }

    /// The integer code of the catalog dialect (seed 04), documented in docs/api/errors.md.
    pub fn catalog_code(&self) -> u32 {
        match self.code {
            "UNAUTHORIZED" => 60001,
            "MFA_REQUIRED" => 60002,
            "INVALID_JSON" => 40001,
            "UNKNOWN_FIELD" => 40002,
            "INVALID_REQUEST" => 40003,
            "INVALID_GRANT" => 40010,
            "UNSUPPORTED_GRANT_TYPE" => 40011,
            "INVALID_YAML" => 40004,
            "INVALID_WEBHOOK_URL" => 40005,
            "SETTING_NOT_DELETABLE" => 40006,
            "OPERATION_NOT_SUPPORTED" => 40008,
            "INVALID_EMAIL" => 40007,
            "SIGN_IN_REQUIRED" => 40101,
            "PAYMENT_METHOD_REQUIRED" => 40201,
            "INSUFFICIENT_PERMISSIONS" => 40301,
            "IP_NOT_ALLOWED" => 40302,
            "INSUFFICIENT_SCOPE" => 40303,
            "INVALID_CURRENT_PASSWORD" => 40304,
            "SESSION_RESTRICTED" => 40305,
            "REAUTH_REQUIRED" => 40306,
            "WRONG_USER" => 40307,
            "SCOPE_EXCEEDS_CREDENTIAL" => 40308,
            "MFA_ENROLLMENT_REQUIRED" => 40309,
            "MISSING_PERMISSION" => 40320,
            "PERMISSIONS_EXCEED_OWN" => 40321,
            "NOT_FOUND" => 40401,
            "MEMBER_NOT_FOUND" => 40402,
            "INVITATION_NOT_FOUND" => 40403,
            "RESET_LINK_INVALID" => 40404,
            "EMAIL_LINK_INVALID" => 40405,
            "METHOD_NOT_ALLOWED" => 40501,
            "WOULD_LOCK_OUT" => 40901,
            "ACCOUNT_EXISTS" => 40902,
            "API_KEY_LIMIT" => 40903,
            "EMAIL_TAKEN" => 40904,
            "CONFLICT" => 40905,
            "MFA_ALREADY_ENABLED" => 40906,
            "MFA_NOT_ENABLED" => 40907,
            "MEMBER_ALREADY_EXISTS" => 40908,
            "INVITATION_ALREADY_PENDING" => 40909,
            "MEMBER_LIMIT_REACHED" => 40910,
            "BUILTIN_CHANNEL" => 40912,
            "SETTING_ALREADY_EXISTS" => 40913,
            "INVITATION_ALREADY_ACCEPTED" => 40911,
            "INVITATION_EXPIRED" => 41001,
            "INVITATION_CANCELLED" => 41002,
            "VERSION_CONFLICT" => 41201,
            "PAYLOAD_TOO_LARGE" => 41301,
            "HEADERS_TOO_LARGE" => 43101,
            "UNSUPPORTED_MEDIA_TYPE" => 41501,
            "VALIDATION_ERROR" => 42201,
            "INVALID_IP_WHITELIST" => 42202,
            "INVALID_CODE" => 42203,
            "ACCOUNT_REQUIRED" => 42204,
            "CANNOT_REMOVE_OWNER" => 42205,
            "TRANSFER_TARGET_NOT_ACTIVE_ADMIN" => 42220,
            "RATE_LIMITED" => 42901,
            "SERVICE_BUSY" => 50301,
            _ => 50001,
        }
    }

    fn body(&self) -> (Value, &'static str) {
        let details = self
            .details
            .as_deref()
            .cloned()
            .unwrap_or_else(|| json!({}));
        match self.dialect {
            Dialect::V2 => (
                json!({ "error": self.code, "message": self.message, "details": details }),
                "application/json",
            ),
            Dialect::Api => (
                json!({ "error": { "code": self.code, "message": self.message, "details": details } }),
                "application/json",
            ),
            Dialect::Catalog if self.oauth_error.is_some() => (
                // Token grant clients read RFC 6749's names, the catalog's clients its codes.
                json!({
                    "error": self.oauth_error,
                    "error_description": self.message,
                    "errorCode": self.catalog_code(),
                    "errorMessage": format!("{}: {}", self.oauth_error.unwrap_or_default(), self.message),
                }),
                "application/json",
            ),
            Dialect::Catalog if self.status == StatusCode::UNAUTHORIZED => (
                // The catalog API's clients read this single object as "refresh the token".
                json!({ "errorCode": 60001, "errorMessage": format!("invalid_grant: {}", self.message) }),
                "application/json",
            ),
            Dialect::Catalog => {
                // The catalog API lists one error object per problem.
                let per_field: Vec<Value> = self
                    .details
                    .as_deref()
                    .and_then(|d| d.get("fields"))
                    .and_then(Value::as_array)
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|f| match (f.get("field").and_then(Value::as_str), f.get("message").and_then(Value::as_str)) {
                                (Some(field), Some(message)) => json!({ "errorCode": self.catalog_code(), "errorMessage": format!("{field}: {message}") }),
                                _ => json!({ "errorCode": self.catalog_code(), "errorMessage": f.as_str().map_or_else(|| f.to_string(), str::to_owned) }),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = if per_field.is_empty() {
                    json!([{ "errorCode": self.catalog_code(), "errorMessage": self.message }])
                } else {
                    Value::Array(per_field)
                };
                (body, "application/json")
            }
            Dialect::Tenant => {
                let errors = match self.details.as_deref() {
                    Some(Value::Object(map)) => {
                        map.get("fields").cloned().unwrap_or_else(|| json!([]))
                    }
                    _ => json!([]),
                };
                // Seed 05's problem types: `.../errors/validation` for VALIDATION_ERROR, titled
                // "Validation Error"; every code follows the same rule.
                let slug = self
                    .code
                    .strip_suffix("_ERROR")
                    .unwrap_or(self.code)
                    .to_ascii_lowercase()
                    .replace('_', "-");
                let title = self
                    .code
                    .split('_')
                    .map(|w| {
                        let lower = w.to_ascii_lowercase();
                        let mut chars = lower.chars();
                        chars
                            .next()
                            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (
                    json!({
                        "type": format!("https://tenantry.dev/errors/{slug}"),
                        "title": title,
                        "status": self.status.as_u16(),
                        "detail": self.message,
                        "code": self.code,
                        "errors": errors,
                    }),
                    "application/problem+json",
                )
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let (body, content_type) = self.body();
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let mut res = res.body(body.to_string());
        res.extensions_mut()
            .insert(crate::metrics::ErrorCode(self.code));
        res
    }
}

/// Fallback for every path no route matches, in the format of the dialect the path belongs to.
pub(crate) async fn not_found(req: HttpRequest) -> HttpResponse {
    ApiError::new(
        Dialect::of(&req),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!(
            "No route for {} {}",
            crate::head::client_method(&req),
            req.path()
        ),
    )
    .error_response()
}

/// For resources that exist but not with this method. RFC 9110 §15.5.6: a 405 carries `Allow`,
/// the methods the route serves (allow.rs derives them from the route table by the matched
/// pattern). A pattern the table lacks (tests rule it out) gets an empty `Allow`, logged.
pub(crate) async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let method = crate::head::client_method(&req);
    let pattern = req.match_pattern().unwrap_or_default();
    let allow = crate::allow::allowed(&pattern).unwrap_or_else(|| {
        tracing::error!(
            pattern,
            "route missing from the OpenAPI table: 405 without methods"
        );
        ""
    });
    let mut res = ApiError::new(
        Dialect::of(&req),
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not supported on {}", req.path()),
    )
    .error_response();
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn render(e: ApiError) -> (StatusCode, Value) {
        let res = e.error_response();
        let status = res.status();
        let bytes = to_bytes(res.into_body()).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[actix_web::test]
    async fn each_dialect_renders_its_own_body() {
        let e = |d| ApiError::new(d, StatusCode::NOT_FOUND, "NOT_FOUND", "gone");
        let (_, v2) = render(e(Dialect::V2)).await;
        assert_eq!(
            v2,
            json!({"error": "NOT_FOUND", "message": "gone", "details": {}})
        );
        let (_, api) = render(e(Dialect::Api)).await;
        assert_eq!(api["error"]["code"], "NOT_FOUND");
        let (_, cat) = render(e(Dialect::Catalog)).await;
        assert_eq!(cat, json!([{"errorCode": 40401, "errorMessage": "gone"}]));
        let (status, tenant) = render(e(Dialect::Tenant)).await;
        assert_eq!(tenant["status"], 404);
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[actix_web::test]
    async fn catalog_unauthorized_is_a_single_invalid_grant_object() {
        let (_, body) = render(ApiError::unauthorized(Dialect::Catalog)).await;
        assert_eq!(body["errorCode"], 60001);
        assert!(body["errorMessage"]
            .as_str()
            .expect("str")
            .starts_with("invalid_grant: "));
    }

    #[actix_web::test]
    async fn a_failed_grant_is_one_object_in_both_vocabularies() {
        let e = ApiError::new(
            Dialect::Catalog,
            StatusCode::BAD_REQUEST,
            "INVALID_GRANT",
            "wrong username or password",
        )
        .oauth("invalid_grant");
        let (status, body) = render(e).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({
                "error": "invalid_grant",
                "error_description": "wrong username or password",
                "errorCode": 40010,
                "errorMessage": "invalid_grant: wrong username or password",
            })
        );
    }

    #[test]
    fn dialect_follows_the_path() {
        assert_eq!(Dialect::for_path("/v2/accounts/settings"), Dialect::V2);
        assert_eq!(Dialect::for_path("/api/user/profile"), Dialect::Api);
        assert_eq!(
            Dialect::for_path("/accounts/acme/settings"),
            Dialect::Catalog
        );
        assert_eq!(Dialect::for_path("/tenants/x/settings"), Dialect::Tenant);
        assert_eq!(Dialect::for_path("/nowhere"), Dialect::V2);
        for catalog in [
            "/accounts",
            "/v1/accounts",
            "/v1/accounts/acme/settings/SECURITY_PREFERENCES",
            "/version",
            "/v1/version",
            "/authorization/token",
            "/v1/authorization/token",
            "/v1",
            "/v1/anything",
        ] {
            assert_eq!(Dialect::for_path(catalog), Dialect::Catalog, "{catalog}");
        }
        // Only a `/v1` segment, not a prefix of another word.
        assert_eq!(Dialect::for_path("/v10/accounts"), Dialect::V2);
        assert_eq!(Dialect::for_path("/accountsx"), Dialect::V2);
        assert_eq!(Dialect::for_path("/v2/accounts/settings"), Dialect::V2);
    }
}
