//! The settings catalog's token grant, `POST /authorization/token` (and `/v1/...`): what the
//! catalog API's existing clients call to sign in (`grant_type=password`) and to refresh
//! (`grant_type=refresh_token`), form-encoded as RFC 6749 §4.3 and §6 have it. The answer
//! carries both the clients' camelCase and RFC 6749 §5.1's names; a failed grant is 400 (never
//! 401, which those clients answer by refreshing) with RFC 6749 §5.2's `error` next to the
//! catalog's `errorCode` (decision 0024).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use tenantry_security::{AccountChoice, GrantedTokens};

use super::errors::{grant_error, invalid_request};
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::RawBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Catalog;
const FORM: &str = "application/x-www-form-urlencoded";
/// Longest accepted value of each field, in bytes: far above any real one, and a bound on what
/// a request can make Argon2 hash.
const MAX_FIELD: usize = 1024;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| {
        web::resource(path)
            .route(web::post().to(token))
            .default_service(web::to(method_not_allowed))
    };
    cfg.service(resource("/authorization/token"))
        .service(resource("/v1/authorization/token"));
}

/// A parsed grant request: nothing reaches the service before the whole form is known good.
enum Grant {
    Password {
        username: String,
        password: String,
        otp: Option<String>,
        account: Option<String>,
    },
    Refresh {
        token: String,
    },
}

/// Parses the form. RFC 6749 §3.2: a parameter sent twice is an invalid request; parameters the
/// grant does not use (`scope`, `client_id`) are ignored.
fn parse(body: &RawBody) -> Result<Grant, ApiError> {
    if body.media_type.as_deref() != Some(FORM) {
        return Err(invalid_request(format!(
            "send the grant as {FORM} (grant_type=password&username=...&password=...)"
        )));
    }
    let text =
        std::str::from_utf8(&body.bytes).map_err(|_| invalid_request("the form is not UTF-8"))?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text)
        .map_err(|_| invalid_request("the form does not parse"))?
        .into_inner();
    let mut fields: HashMap<String, String> = HashMap::new();
    for (name, value) in pairs {
        if value.len() > MAX_FIELD {
            return Err(invalid_request(format!(
                "`{name}` is longer than {MAX_FIELD} bytes"
            )));
        }
        if fields.insert(name.clone(), value).is_some() {
            return Err(invalid_request(format!("`{name}` is sent more than once")));
        }
    }
    let mut take = |name: &str| fields.remove(name).filter(|v| !v.is_empty());
    let required = |value: Option<String>, name: &str| {
        value.ok_or_else(|| invalid_request(format!("`{name}` is required")))
    };
    match take("grant_type").as_deref() {
        None => Err(invalid_request(
            "`grant_type` is required: password or refresh_token",
        )),
        Some("password") => Ok(Grant::Password {
            username: required(take("username"), "username")?,
            password: required(take("password"), "password")?,
            otp: take("otp"),
            account: take("account"),
        }),
        Some("refresh_token") => Ok(Grant::Refresh {
            token: required(take("refresh_token"), "refresh_token")?,
        }),
        Some(_) => Err(ApiError::new(
            DIALECT,
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED_GRANT_TYPE",
            "grant_type must be password or refresh_token",
        )
        .oauth("unsupported_grant_type")),
    }
}

fn granted(tokens: &GrantedTokens) -> HttpResponse {
    let expires_in = tokens.expires_in_secs;
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .insert_header(("pragma", "no-cache"))
        .json(json!({
            "tokenType": "Bearer",
            "accessToken": tokens.access_token,
            "refreshToken": tokens.refresh_token,
            "expiresIn": expires_in,
            "token_type": "Bearer",
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": expires_in,
        }))
}

async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let ip = crate::client_ip::client_ip(&req, &state.config.trusted_proxies);
    let grants = state.token_grants.clone();
    let tokens = match parse(&body)? {
        Grant::Password {
            username,
            password,
            otp,
            account,
        } => {
            // Argon2 runs on the hashing pool, as for `/api/auth/login`.
            crate::password_work::run(&state, DIALECT, move || {
                let choice = account
                    .as_deref()
                    .map_or(AccountChoice::OnlyOrFirstJoined, AccountChoice::Named);
                grants.password_grant(&username, &password, otp.as_deref(), choice, ip)
            })
            .await?
            .map_err(|e| grant_error(e, false))?
        }
        Grant::Refresh { token } => web::block(move || grants.refresh(&token, ip))
            .await
            .map_err(|e| ApiError::internal(DIALECT, &e))?
            .map_err(|e| grant_error(e, true))?,
    };
    Ok(granted(&tokens))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn form(text: &str) -> RawBody {
        RawBody {
            bytes: web::Bytes::copy_from_slice(text.as_bytes()),
            media_type: Some(FORM.to_owned()),
        }
    }

    fn oauth_error(text: &str) -> Option<&'static str> {
        parse(&form(text)).err().and_then(|e| e.oauth_error)
    }

    #[test]
    fn bad_forms_are_named_by_rfc_6749() {
        assert_eq!(
            oauth_error("username=a&password=b"),
            Some("invalid_request")
        );
        assert_eq!(
            oauth_error("grant_type=client_credentials"),
            Some("unsupported_grant_type")
        );
        assert_eq!(
            oauth_error("grant_type=password&username=a"),
            Some("invalid_request")
        );
        assert_eq!(
            oauth_error("grant_type=password&username=a&password=b&password=c"),
            Some("invalid_request")
        );
        assert_eq!(
            oauth_error("grant_type=refresh_token"),
            Some("invalid_request")
        );
        let long = format!(
            "grant_type=password&username=a&password={}",
            "x".repeat(10_240)
        );
        assert_eq!(oauth_error(&long), Some("invalid_request"));
        let json = RawBody {
            bytes: web::Bytes::from_static(br#"{"grant_type":"password"}"#),
            media_type: Some("application/json".into()),
        };
        assert_eq!(
            parse(&json).err().and_then(|e| e.oauth_error),
            Some("invalid_request")
        );
        assert!(matches!(
            parse(&form("grant_type=password&username=a%40b.test&password=p+w&scope=x")),
            Ok(Grant::Password { ref username, ref password, .. }) if username == "a@b.test" && password == "p w"
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the body, parsing never panics, and anything it refuses is a 400 carrying
        /// one of RFC 6749's errors, never a 401 (which clients answer by refreshing).
        #[test]
        fn any_body_parses_or_is_a_400_grant_error(text in ".{0,200}") {
            if let Err(e) = parse(&form(&text)) {
                prop_assert_eq!(e.status, StatusCode::BAD_REQUEST);
                prop_assert!(matches!(e.oauth_error, Some("invalid_request" | "unsupported_grant_type")));
            }
        }
    }
}
