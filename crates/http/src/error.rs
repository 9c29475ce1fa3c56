//! Error policy: every failure a client can cause becomes an `ApiError` with a stable,
//! documented code (docs/api/errors.md) and the status code its API document uses. Infrastructure
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
    /// The account settings API and the team API (`/v2/accounts/...`), and the operator API (`/admin/...`).
    V2,
    /// The user and organization API (`/api/...`).
    Api,
    /// The settings catalog API (`/accounts/{accountName}/...`, the account list `/accounts`, `/version`, the
    /// token grant `/authorization/token`, and all of them under `/v1`).
    Catalog,
    /// The tenant settings API (`/tenants/{id}/settings`).
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

/// Every error code with its integer in the settings catalog (docs/api/errors.md) and its title
/// in tenant settings' problem documents: words as a person writes them ("IP not allowed",
/// "Invalid JSON"), which no rule derives from the code's spelling.
const CODES: &[(&str, u32, &str)] = &[
    ("UNAUTHORIZED", 60001, "Unauthorized"),
    ("MFA_REQUIRED", 60002, "MFA required"),
    ("INVALID_JSON", 40001, "Invalid JSON"),
    ("UNKNOWN_FIELD", 40002, "Unknown field"),
    ("INVALID_REQUEST", 40003, "Invalid request"),
    ("INVALID_YAML", 40004, "Invalid YAML"),
    ("INVALID_GRANT", 40010, "Invalid grant"),
    ("UNSUPPORTED_GRANT_TYPE", 40011, "Unsupported grant type"),
    ("INVALID_WEBHOOK_URL", 40005, "Invalid webhook URL"),
    ("SETTING_NOT_DELETABLE", 40006, "Setting not deletable"),
    ("OPERATION_NOT_SUPPORTED", 40008, "Operation not supported"),
    ("INVALID_EMAIL", 40007, "Invalid email address"),
    ("SIGN_IN_REQUIRED", 40101, "Sign-in required"),
    ("PAYMENT_METHOD_REQUIRED", 40201, "Payment method required"),
    (
        "INSUFFICIENT_PERMISSIONS",
        40301,
        "Insufficient permissions",
    ),
    ("IP_NOT_ALLOWED", 40302, "IP not allowed"),
    ("INSUFFICIENT_SCOPE", 40303, "Insufficient scope"),
    (
        "INVALID_CURRENT_PASSWORD",
        40304,
        "Invalid current password",
    ),
    ("SESSION_RESTRICTED", 40305, "Session restricted"),
    ("REAUTH_REQUIRED", 40306, "Reauthentication required"),
    ("WRONG_USER", 40307, "Wrong user"),
    (
        "SCOPE_EXCEEDS_CREDENTIAL",
        40308,
        "Scope exceeds credential",
    ),
    ("MFA_ENROLLMENT_REQUIRED", 40309, "MFA enrollment required"),
    ("MISSING_PERMISSION", 40320, "Missing permission"),
    (
        "PERMISSIONS_EXCEED_OWN",
        40321,
        "Permissions exceed your own",
    ),
    ("NOT_FOUND", 40401, "Not found"),
    ("MEMBER_NOT_FOUND", 40402, "Member not found"),
    ("INVITATION_NOT_FOUND", 40403, "Invitation not found"),
    ("RESET_LINK_INVALID", 40404, "Invalid reset link"),
    ("EMAIL_LINK_INVALID", 40405, "Invalid email link"),
    ("METHOD_NOT_ALLOWED", 40501, "Method not allowed"),
    ("WOULD_LOCK_OUT", 40901, "Would lock you out"),
    ("ACCOUNT_EXISTS", 40902, "Account exists"),
    ("API_KEY_LIMIT", 40903, "API key limit reached"),
    ("EMAIL_TAKEN", 40904, "Email address taken"),
    ("CONFLICT", 40905, "Conflict"),
    ("MFA_ALREADY_ENABLED", 40906, "MFA already enabled"),
    ("MFA_NOT_ENABLED", 40907, "MFA not enabled"),
    ("MEMBER_ALREADY_EXISTS", 40908, "Member already exists"),
    (
        "INVITATION_ALREADY_PENDING",
        40909,
        "Invitation already pending",
    ),
    ("MEMBER_LIMIT_REACHED", 40910, "Member limit reached"),
    ("BUILTIN_CHANNEL", 40912, "Built-in channel"),
    ("SETTING_ALREADY_EXISTS", 40913, "Setting already exists"),
    (
        "IP_WHITELIST_ENTRY_EXISTS",
        40914,
        "IP allowlist entry exists",
    ),
    (
        "INVITATION_ALREADY_ACCEPTED",
        40911,
        "Invitation already accepted",
    ),
    ("INVITATION_EXPIRED", 41001, "Invitation expired"),
    ("INVITATION_CANCELLED", 41002, "Invitation cancelled"),
    ("VERSION_CONFLICT", 41201, "Version conflict"),
    ("PAYLOAD_TOO_LARGE", 41301, "Payload too large"),
    ("HEADERS_TOO_LARGE", 43101, "Headers too large"),
    ("UNSUPPORTED_MEDIA_TYPE", 41501, "Unsupported media type"),
    ("VALIDATION_ERROR", 42201, "Validation error"),
    ("INVALID_IP_WHITELIST", 42202, "Invalid IP allowlist"),
    ("INVALID_CODE", 42203, "Invalid code"),
    ("ACCOUNT_REQUIRED", 42204, "Account required"),
    ("CANNOT_REMOVE_OWNER", 42205, "Cannot remove the owner"),
    (
        "TRANSFER_TARGET_NOT_ACTIVE_ADMIN",
        42220,
        "Transfer target is not an active admin",
    ),
    ("RATE_LIMITED", 42901, "Rate limited"),
    ("SERVICE_BUSY", 50301, "Service busy"),
    ("INTERNAL", 50001, "Internal error"),
];

fn code_entry(code: &str) -> Option<&'static (&'static str, u32, &'static str)> {
    CODES.iter().find(|(c, _, _)| *c == code)
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

    /// Maps a port failure: contention is retryable; the others are infrastructure failures (a
    /// store that is down, a constraint the code should have ruled out, a row it cannot read),
    /// none of which the client caused or can fix.
    pub fn from_port(dialect: Dialect, e: &PortError) -> Self {
        match e {
            PortError::Busy => Self::busy(dialect),
            PortError::Unavailable(_) | PortError::Conflict(_) | PortError::Corrupt(_) => {
                Self::internal(dialect, e)
            }
        }
    }

    /// A domain error variant that the calls behind the answering route never produce: a bug,
    /// not something a client can cause, so it is answered as [`ApiError::internal`] and logged
    /// as such. Error mappers name these variants one by one (no catch-all arm), so a variant
    /// added to a domain error is a compile error in every mapper that can receive it.
    pub fn not_produced_here(dialect: Dialect, e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "a domain error the route's calls never produce");
        Self::internal(dialect, e)
    }

    /// The integer code of the settings catalog, documented in docs/api/errors.md.
    pub fn catalog_code(&self) -> u32 {
        code_entry(self.code).map_or(50001, |(_, n, _)| *n)
    }

    /// The title of the code in tenant settings' problem documents.
    fn problem_title(&self) -> &'static str {
        code_entry(self.code).map_or("Error", |(_, _, title)| title)
    }

    fn body(&self) -> (Value, &'static str) {
        let details = self
            .details
            .as_deref()
            .map(|d| detail_keys_in_casing(d, self.dialect))
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
                let mut body = if per_field.is_empty() {
                    json!([{ "errorCode": self.catalog_code(), "errorMessage": self.message }])
                } else {
                    Value::Array(per_field)
                };
                // A failed webhook test names the test it recorded, as the successful one does,
                // so the document's verify call can be made with it.
                if let Some(id) = self
                    .details
                    .as_deref()
                    .and_then(|d| d.get("telemetryEventId"))
                {
                    if let Value::Array(errors) = &mut body {
                        for e in errors {
                            e["telemetryEventId"] = id.clone();
                        }
                    }
                }
                (body, "application/json")
            }
            Dialect::Tenant => {
                let errors = match self.details.as_deref() {
                    Some(Value::Object(map)) => {
                        map.get("fields").cloned().unwrap_or_else(|| json!([]))
                    }
                    _ => json!([]),
                };
                // Problem types: `.../errors/validation` for VALIDATION_ERROR; every code follows
                // the same rule. Titles come from the code table.
                let slug = self
                    .code
                    .strip_suffix("_ERROR")
                    .unwrap_or(self.code)
                    .to_ascii_lowercase()
                    .replace('_', "-");
                let title = self.problem_title();
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

/// Every key of an error's `details` (at any depth) in the casing of the dialect's documents:
/// snake_case for the user & organization API (`/api/...`), camelCase for the others. Applied
/// here, where every error is rendered, so a key written in either casing anywhere in the code
/// (shared modules such as the body limit or the scope check build details for every dialect)
/// reaches each client in one casing. Values are never touched: a `field` names an input field
/// as the client spelled it.
fn detail_keys_in_casing(details: &Value, dialect: Dialect) -> Value {
    let recase: fn(&str) -> String = match dialect {
        Dialect::Api => snake_case,
        Dialect::V2 | Dialect::Catalog | Dialect::Tenant => camel_case,
    };
    fn walk(v: &Value, recase: fn(&str) -> String) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (recase(k), walk(v, recase)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, recase)).collect()),
            other => other.clone(),
        }
    }
    walk(details, recase)
}

/// `requiredRole` → `required_role`; a run of capitals is one word (`currentETag` →
/// `current_etag`); snake_case input is unchanged.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower_or_digit = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else {
            out.push(c);
            prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// `required_role` → `requiredRole`; camelCase input is unchanged.
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper_next = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper_next = true;
        } else if upper_next {
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
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

    /// Contention is retryable (503 with `Retry-After`); every other port failure, and a variant
    /// a route's calls never produce, is a 500 that names no cause (the cause is only logged).
    #[actix_web::test]
    async fn port_failures_and_unexpected_variants_leak_no_cause() {
        let busy = ApiError::from_port(Dialect::V2, &PortError::Busy);
        assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.retry_after_secs, Some(1));
        let secret = "password=hunter2 at db.internal:5432";
        for e in [
            ApiError::from_port(Dialect::V2, &PortError::Unavailable(secret.into())),
            ApiError::from_port(Dialect::Api, &PortError::Conflict(secret.into())),
            ApiError::from_port(Dialect::Catalog, &PortError::Corrupt(secret.into())),
            ApiError::not_produced_here(Dialect::Tenant, &secret),
        ] {
            let (status, body) = render(e).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            let text = body.to_string();
            assert!(
                text.contains("INTERNAL") || text.contains("50001"),
                "{text}"
            );
            assert!(!text.contains("hunter2"), "{text}");
        }
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
    async fn detail_keys_follow_the_dialects_casing() {
        let e = |d| {
            ApiError::new(d, StatusCode::FORBIDDEN, "INSUFFICIENT_SCOPE", "no").with_details(
                json!({ "requiredScopes": ["*"], "key_scopes": [], "fields": [{ "field": "ip_whitelist", "message": "m" }] }),
            )
        };
        let (_, api) = render(e(Dialect::Api)).await;
        assert_eq!(
            api["error"]["details"],
            json!({ "required_scopes": ["*"], "key_scopes": [], "fields": [{ "field": "ip_whitelist", "message": "m" }] })
        );
        let (_, v2) = render(e(Dialect::V2)).await;
        assert_eq!(
            v2["details"],
            json!({ "requiredScopes": ["*"], "keyScopes": [], "fields": [{ "field": "ip_whitelist", "message": "m" }] })
        );
        assert_eq!(snake_case("currentETag"), "current_etag");
        assert_eq!(snake_case("limitBytes"), "limit_bytes");
    }

    use proptest::prelude::*;

    /// A key of 1–4 lowercase words of two or more letters and digits, starting with a letter
    /// (one-letter words would make runs of capitals, which read as one word: `currentETag`).
    fn words() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[a-z][a-z0-9]{1,6}", 1..5)
    }

    /// Whatever casing a key is written in, each dialect renders it in its own, and the two
    /// spellings of one key map onto each other. A fixed budget and seed
    /// (`TENANTRY_PROPTEST_SEED` overrides it); a failure prints both.
    #[test]
    fn every_key_reaches_each_dialect_in_its_casing() {
        use proptest::test_runner::{Config, RngSeed, TestRunner};
        let seed = std::env::var("TENANTRY_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x0023_ca5e_u64);
        let mut runner = TestRunner::new(Config {
            cases: 1024,
            rng_seed: RngSeed::Fixed(seed),
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&words(), |words| {
            let snake = words.join("_");
            let camel: String = words
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        w.clone()
                    } else {
                        w[..1].to_ascii_uppercase() + &w[1..]
                    }
                })
                .collect();
            for written in [&snake, &camel] {
                let details = json!({ written.as_str(): [{ written.as_str(): 1 }] });
                let api = detail_keys_in_casing(&details, Dialect::Api);
                prop_assert_eq!(api, json!({ snake.as_str(): [{ snake.as_str(): 1 }] }));
                for d in [Dialect::V2, Dialect::Catalog, Dialect::Tenant] {
                    let out = detail_keys_in_casing(&details, d);
                    prop_assert_eq!(out, json!({ camel.as_str(): [{ camel.as_str(): 1 }] }));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}\n(seed {seed}: rerun with TENANTRY_PROPTEST_SEED={seed})");
        }
    }

    #[actix_web::test]
    async fn problem_titles_are_words() {
        let e = |code| ApiError::new(Dialect::Tenant, StatusCode::BAD_REQUEST, code, "x");
        for (code, title) in [
            ("IP_NOT_ALLOWED", "IP not allowed"),
            ("INVALID_JSON", "Invalid JSON"),
            ("VALIDATION_ERROR", "Validation error"),
            ("INVALID_WEBHOOK_URL", "Invalid webhook URL"),
        ] {
            let (_, body) = render(e(code)).await;
            assert_eq!(body["title"], title);
        }
        for (code, _, title) in CODES {
            let mut words = title.split(' ');
            let first = words.next().unwrap_or_default();
            assert!(
                first.starts_with(|c: char| c.is_ascii_uppercase()),
                "{code}: {title}"
            );
            // Only acronyms are capitalized after the first word.
            for w in words {
                assert!(
                    w.chars().all(|c| !c.is_ascii_uppercase())
                        || w.chars().all(|c| c.is_ascii_uppercase()),
                    "{code}: {title}"
                );
            }
        }
    }

    /// Every code literal in this crate has a row in `CODES` (else its title would be "Error"
    /// and its catalog integer 50001).
    #[test]
    fn every_code_the_crate_uses_is_in_the_table() {
        // Upper-case literals that are not error codes.
        const NOT_CODES: &[&str] = &[
            // Push notification channel ids and a telemetry test event's object type.
            "ALL_CHANGES",
            "ALL_TELEMETRY",
            "DOMAIN_CHANGES",
            "EVERYTHING",
            "RECORD_CHANGES",
            "ZONE",
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_VERSION",
            "DELETE",
            "HEAD",
            "JSON",
            "PATCH",
            "POST",
            "SECURITY_PREFERENCES",
            "TENANTRY_PROPTEST_SEED",
            "TEST_TELEMETRY_WEBHOOK",
            "YAML",
        ];
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("src dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    if !path.ends_with("openapi") {
                        sources(&path, out);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        // The package directory at run time: the checkout under test (see xtask's tidy test).
        sources(
            &std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(
                    || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                    std::path::PathBuf::from,
                )
                .join("src"),
            &mut files,
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            for literal in text.split('"').skip(1).step_by(2) {
                let code_like = literal.len() > 3
                    && literal.starts_with(|c: char| c.is_ascii_uppercase())
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if code_like && !NOT_CODES.contains(&literal) {
                    assert!(
                        code_entry(literal).is_some(),
                        "{}: `{literal}` has no row in CODES",
                        file.display()
                    );
                }
            }
        }
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
