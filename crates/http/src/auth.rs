//! Authentication extractors. A handler that takes `Authenticated` cannot run for an anonymous
//! caller; the lookup runs on the blocking pool because the store is synchronous.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{FutureExt, Shared};
use tenantry_kernel::{Actor, Role};
use tenantry_security::SecurityError;

use crate::error::{ApiError, Dialect};
use crate::AppState;

/// The authenticated caller.
pub(crate) struct Authenticated(pub Actor);

/// The operator (holder of the bootstrap key or a named operator key), for the `/admin` API:
/// which of the operator's credentials it was, for the audit.
pub(crate) struct Operator(pub tenantry_kernel::OperatorCaller);

/// The bearer token of the request's one `Authorization` header. Two or more headers are no
/// credential at all (401), never "the first one": a proxy and the client may disagree on which
/// one counts.
fn bearer(req: &HttpRequest) -> Option<String> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

pub(crate) fn state(req: &HttpRequest, dialect: Dialect) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(dialect, &"application state is not configured"))
}

fn map_security_error(dialect: Dialect, e: SecurityError) -> ApiError {
    match e {
        SecurityError::Unauthenticated | SecurityError::MalformedCredential => {
            ApiError::unauthorized(dialect)
        }
        SecurityError::Port(p) => ApiError::from_port(dialect, &p),
        // The account's allowlist refused the caller's address, whatever the credential.
        SecurityError::IpNotAllowed { address } => ApiError::new(
            dialect,
            StatusCode::FORBIDDEN,
            "IP_NOT_ALLOWED",
            format!("Requests from {address} are not allowed for this account"),
        )
        .with_details(serde_json::json!({ "address": address })),
        // Authentication answers every refusal as `Unauthenticated` (the authenticator says
        // which credential failed to nobody); the rest belong to other calls.
        e @ (SecurityError::ReauthRequired
        | SecurityError::MfaEnrollmentRequired
        | SecurityError::RateLimited { .. }
        | SecurityError::MfaCodeRequired
        | SecurityError::AccountRequired(_)
        | SecurityError::MfaAlreadyEnabled
        | SecurityError::MfaNotEnabled
        | SecurityError::UnknownEnrollment
        | SecurityError::InvalidCode
        | SecurityError::WrongPassword
        | SecurityError::KeyNotFound
        | SecurityError::TooManyKeys { .. }
        | SecurityError::InvalidKeyRequest(_)
        | SecurityError::ScopeAboveRole { .. }
        | SecurityError::ScopeExceedsCredential { .. }
        | SecurityError::AccountNameTaken(_)
        | SecurityError::PortalTargetNotFound
        | SecurityError::PortalTargetAboveMinter { .. }
        | SecurityError::PortalTargetPermissions { .. }
        | SecurityError::PortalReturnUrlNotAllowed { .. }
        | SecurityError::PortalLinkUnknown
        | SecurityError::PortalLinkUsed
        | SecurityError::PortalLinkExpired
        // The profile and the password change are the user and organization API's.
        | SecurityError::InvalidFields(_)
        | SecurityError::UnknownFields(_)
        | SecurityError::PasswordChangedMeanwhile
        | SecurityError::Kernel(_)) => ApiError::not_produced_here(dialect, &e),
    }
}

type BoxedFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The request's authentication, computed once and shared between the `Authenticated`
/// extractor and the body extractors (see [`authentication_first`]).
#[derive(Clone)]
struct AuthOutcome(Shared<BoxedFuture<Actor>>);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let outcome = authenticate(req).shared();
        req.extensions_mut().insert(AuthOutcome(outcome.clone()));
        Box::pin(async move { outcome.await.map(Authenticated) })
    }
}

/// The caller when the request carries a credential, `None` when it carries none. A credential
/// that is present must authenticate (a wrong one is 401, never "anonymous"), with the same
/// allowlist, restriction and scope checks as [`Authenticated`].
pub(crate) struct MaybeAuthenticated(pub Option<Actor>);

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Box::pin(async { Ok(MaybeAuthenticated(None)) });
        }
        let outcome = authenticate(req).shared();
        req.extensions_mut().insert(AuthOutcome(outcome.clone()));
        Box::pin(async move { outcome.await.map(|actor| MaybeAuthenticated(Some(actor))) })
    }
}

/// The request's authenticated caller, once its authentication has completed (for the request
/// audit, after the handler ran); `None` for anonymous or refused requests.
pub(crate) fn authenticated_actor(req: &HttpRequest) -> Option<Actor> {
    let outcome = req.extensions().get::<AuthOutcome>().cloned()?;
    match outcome.0.peek() {
        Some(Ok(actor)) => Some(actor.clone()),
        _ => None,
    }
}

/// A body that failed to read or parse is reported only once the caller is known to be
/// authenticated: otherwise an expired key or a suspended member would learn how a request is
/// validated (and which error wins would depend on which extractor finished first). Handlers
/// list `Authenticated` before the body, so its outcome is registered by the time a body fails.
/// The operator extractor registers its outcome too, so `/admin` orders body errors the same way.
pub(crate) async fn authentication_first(req: &HttpRequest, body_error: ApiError) -> ApiError {
    match authentication(req).await {
        Some(Err(auth_error)) => auth_error,
        _ => body_error,
    }
}

/// How the request's authentication ended, waiting for it when it is still running: `None` when
/// no extractor authenticated the request, `Ok(None)` for the operator, `Ok(Some(actor))` for a
/// member.
pub(crate) async fn authentication(req: &HttpRequest) -> Option<Result<Option<Actor>, ApiError>> {
    let member = req.extensions().get::<AuthOutcome>().cloned();
    if let Some(AuthOutcome(outcome)) = member {
        return Some(outcome.await.map(Some));
    }
    let operator = req.extensions().get::<OperatorOutcome>().cloned();
    match operator {
        Some(OperatorOutcome(outcome)) => Some(outcome.await.map(|_| None)),
        None => None,
    }
}

/// The operator extractor's outcome, shared like [`AuthOutcome`].
#[derive(Clone)]
struct OperatorOutcome(Shared<BoxedFuture<tenantry_kernel::OperatorCredential>>);

/// Authenticates the bearer credential, applies the account's IP allowlist, session
/// restrictions, the key's scopes and the per-credential rate limit.
///
/// An API key whose record and account policy are in memory (the steady state: decision 0011)
/// is decided on the worker thread; anything that needs the store takes one blocking hop.
fn authenticate(req: &HttpRequest) -> BoxedFuture<Actor> {
    let dialect = Dialect::of(req);
    let state = state(req, dialect);
    let token = bearer(req);
    let ip = state
        .as_ref()
        .ok()
        .and_then(|s| crate::client_ip::client_ip(req, &s.config.trusted_proxies));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let route = Route {
        pattern: req.match_pattern(),
        section: req.match_info().get("section").map(str::to_owned),
    };
    Box::pin(async move {
        let state = state?;
        let token = token.ok_or_else(|| ApiError::unauthorized(dialect))?;
        let is_session = tenantry_security::SessionService::is_session_token(&token);
        let in_memory = (!is_session)
            .then(|| {
                state
                    .authenticator
                    .authenticate_api_key_in_memory(&token, ip)
            })
            .flatten()
            .map(|outcome| {
                let actor = outcome.map_err(|e| map_security_error(dialect, e))?;
                Ok(state.allowlist.check_ip_in_memory(&actor).map(|()| actor))
            })
            .transpose()?
            .flatten();
        let actor = match in_memory {
            Some(actor) => authorize(actor, dialect, &method, &path, &route)?,
            None => {
                let authenticator = state.authenticator.clone();
                let sessions = state.sessions.clone();
                let allowlist = state.allowlist.clone();
                // Authenticate, then apply the account's IP allowlist: one blocking hop for both.
                web::block(move || {
                    let actor = if is_session {
                        sessions.authenticate(&token, ip)
                    } else {
                        authenticator.authenticate_api_key(&token, ip)
                    }
                    .map_err(|e| map_security_error(dialect, e))?;
                    allowlist
                        .check_ip(&actor)
                        .map_err(|e| map_security_error(dialect, e))?;
                    authorize(actor, dialect, &method, &path, &route)
                })
                .await
                .map_err(|e| ApiError::internal(dialect, &e))??
            }
        };
        // Per credential, after authentication: a request with someone else's key id but
        // not their secret never spends their budget.
        let credential = match actor.credential {
            tenantry_kernel::Credential::ApiKey(id) => id.to_string(),
            tenantry_kernel::Credential::Session(id) => id.to_string(),
            tenantry_kernel::Credential::Operator(by) => by.actor(),
            // Never produced by a request (only an embedder's code makes one).
            c @ tenantry_kernel::Credential::External(_) => c.to_string(),
        };
        if let Err(secs) = state
            .rate_limits
            .per_credential
            .take(&credential, std::time::Instant::now())
        {
            return Err(crate::rate_limit::too_many(dialect, secs));
        }
        Ok(actor)
    })
}

/// The route a request matched: its pattern and the value of its `{section}` segment.
struct Route {
    pattern: Option<String>,
    section: Option<String>,
}

/// What an authenticated, admitted caller may reach: a restricted session only its one task,
/// a scoped key only its scopes, a member with custom permissions only what they name.
fn authorize(
    actor: Actor,
    dialect: Dialect,
    method: &actix_web::http::Method,
    path: &str,
    route: &Route,
) -> Result<Actor, ApiError> {
    // A restricted session (sign-in with an expired password, or without the MFA the
    // account requires) may only do that one task.
    if let Some(task) = actor
        .scopes
        .iter()
        .find_map(|s| s.strip_prefix("restricted:"))
    {
        let allowed = path == "/api/auth/logout"
            || match task {
                "password_change" => path == "/api/user/password",
                "mfa_enrollment" => path.starts_with("/api/user/mfa"),
                _ => false,
            };
        if !allowed {
            return Err(ApiError::new(
                dialect,
                StatusCode::FORBIDDEN,
                "SESSION_RESTRICTED",
                match task {
                    "password_change" => "The password has expired: change it (POST /api/user/password), then sign in again",
                    _ => "This account requires MFA: enrol (POST /api/user/mfa/enable, /verify), then sign in again",
                },
            )
            .with_details(serde_json::json!({ "restriction": task })));
        }
        return Ok(actor);
    }
    // Scopes narrow what the key's role allows, never widen it.
    let needed = crate::scopes::required(method, path);
    let missing: Vec<String> = needed
        .iter()
        .filter(|(area, access)| !tenantry_security::scopes_permit(&actor.scopes, *area, *access))
        .map(|(area, access)| {
            format!(
                "{}:{}",
                area.as_str(),
                if *access == tenantry_security::Access::Read {
                    "read"
                } else {
                    "write"
                }
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            dialect,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_SCOPE",
            format!("This API key lacks the scope(s) {}", missing.join(", ")),
        )
        .with_details(
            serde_json::json!({ "requiredScopes": missing, "keyScopes": actor.scopes }),
        ));
    }
    // Custom permissions narrow the member's role, for every credential of theirs (decision
    // 0019). A caller whose role is already too low hears about the role instead (the route's
    // own refusal, see route_roles.rs), which is the more precise answer.
    if let Some(pattern) = route.pattern.as_deref() {
        let section = route.section.as_deref();
        let role_allows = crate::route_roles::least_role(method, pattern, section)
            .is_none_or(|least| actor.role >= least);
        if let Some(permission) =
            crate::route_permissions::missing(&actor, method, pattern, section)
                .filter(|_| role_allows)
        {
            let held =
                tenantry_kernel::effective_permissions(actor.role, actor.permissions.as_deref());
            return Err(crate::route_permissions::refusal(
                dialect, permission, &held,
            ));
        }
    }
    Ok(actor)
}

impl Authenticated {
    /// The role guard: 403 `INSUFFICIENT_PERMISSIONS` with `requiredRole`/`currentRole` (the account settings API).
    #[allow(dead_code)] // first used by the settings write endpoints
    pub(crate) fn require(&self, dialect: Dialect, role: Role, what: &str) -> Result<(), ApiError> {
        self.0.require(role).map_err(|_| {
            ApiError::new(
                dialect,
                actix_web::http::StatusCode::FORBIDDEN,
                "INSUFFICIENT_PERMISSIONS",
                format!(
                    "{what} require{} {role} role",
                    if what.ends_with('s') { "" } else { "s" }
                ),
            )
            .with_details(serde_json::json!({
                "requiredRole": role.as_str(),
                "currentRole": self.0.role.as_str(),
            }))
        })
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let dialect = Dialect::of(req);
        let state = state(req, dialect);
        let token = bearer(req);
        // The address the access log and the allowlist see (a trusted proxy's
        // `X-Forwarded-For` resolved), for the audit entries of what this operator changes.
        let ip = state
            .as_ref()
            .ok()
            .and_then(|s| crate::client_ip::client_ip(req, &s.config.trusted_proxies));
        let outcome: BoxedFuture<tenantry_kernel::OperatorCredential> = Box::pin(async move {
            let state = state?;
            let token = token.ok_or_else(|| ApiError::unauthorized(dialect))?;
            let authenticator = state.authenticator.clone();
            let configured = state.config.operator_key.clone();
            let result = web::block(move || {
                authenticator.authenticate_operator(&token, configured.as_deref())
            })
            .await
            .map_err(|e| ApiError::internal(dialect, &e))?;
            result.map_err(|e| map_security_error(dialect, e))
        });
        let outcome = outcome.shared();
        req.extensions_mut()
            .insert(OperatorOutcome(outcome.clone()));
        Box::pin(async move {
            outcome
                .await
                .map(|credential| Operator(tenantry_kernel::OperatorCaller { credential, ip }))
        })
    }
}

/// Who may read `/metrics`: the holder of the metrics token (when one is configured) or the
/// operator. Only `/metrics` takes this extractor, so the metrics token opens nothing else:
/// every other route asks for [`Operator`] or a member's credential, and the token is neither.
pub(crate) struct MetricsReader;

impl FromRequest for MetricsReader {
    type Error = ApiError;
    type Future = BoxedFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let dialect = Dialect::of(req);
        let expected = state(req, dialect)
            .ok()
            .and_then(|s| s.config.metrics_token);
        // Hash, then constant-time compare: how long a wrong token takes says nothing of how
        // much of it was right.
        if let (Some(expected), Some(token)) = (expected, bearer(req)) {
            if expected.matches(&token) {
                return Box::pin(async { Ok(MetricsReader) });
            }
        }
        let operator = Operator::from_request(req, payload);
        Box::pin(async move { operator.await.map(|_| MetricsReader) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn one_authorization_header_gives_its_bearer_token() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer  tok_1 "))
            .to_http_request();
        assert_eq!(bearer(&req).as_deref(), Some("tok_1"));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic dXNlcg=="))
            .to_http_request();
        assert_eq!(bearer(&req), None);
        assert_eq!(bearer(&TestRequest::default().to_http_request()), None);
    }

    #[test]
    fn two_authorization_headers_are_no_credential() {
        for second in ["Bearer tok_2", "Bearer tok_1", "Basic dXNlcg==", ""] {
            let req = TestRequest::default()
                .append_header((header::AUTHORIZATION, "Bearer tok_1"))
                .append_header((header::AUTHORIZATION, second))
                .to_http_request();
            assert_eq!(bearer(&req), None, "second header {second:?}");
        }
    }
}
