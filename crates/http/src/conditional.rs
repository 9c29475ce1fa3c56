//! Conditional GET at the edge (RFC 9110 §13), once for every route of every dialect.
//!
//! - Validator: the route's own `ETag` when it sends one (account settings: section versions,
//!   strong, also honoured by `If-Match` on PUT). Any other 200 answer to a GET gets a weak ETag
//!   derived from its body (SHA-256, 128 bits). Weak on purpose: those routes do not evaluate
//!   `If-Match`, and a weak tag never satisfies `If-Match` (strong comparison, §13.1.1), so no
//!   client can believe it made a write conditional when the route ignores the condition.
//! - `Cache-Control: no-store` answers (exports, invitation and reset links) get no derived tag:
//!   nothing stores them, so there is nothing to revalidate, and a digest of a secret-bearing body
//!   is not worth sending.
//! - `If-None-Match` on a GET (a HEAD arrives here as its GET, head.rs) whose answer would be 200
//!   with an ETag: weak comparison (§13.1.2), `*` matches any current representation. A match is
//!   304 with the validator and cache fields of the 200 (§15.4.5) and no body. Other statuses
//!   ignore the header (§13.2.1: preconditions apply to 2xx only). A malformed field matches
//!   nothing, so the client gets the full answer rather than a 304 it did not ask for.
//! - `If-Modified-Since` is never evaluated: no route sends `Last-Modified`.
//! - `If-Match` on a write to a route that cannot evaluate it (its representation has only the
//!   weak, body-derived tag): a list of tags can never match (strong comparison, §13.1.1), so the
//!   write is refused with 412 before it runs, never performed unconditionally; `*` (the resource
//!   exists) passes. Only the routes in [`EVALUATE_IF_MATCH`] compare tags themselves.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use sha2::{Digest, Sha256};

/// The fields a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
const KEPT_ON_304: [header::HeaderName; 5] = [
    header::ETAG,
    header::CACHE_CONTROL,
    header::VARY,
    header::CONTENT_LOCATION,
    header::EXPIRES,
];

/// The write routes that evaluate `If-Match` against a strong tag of their own (version tokens).
const EVALUATE_IF_MATCH: [&str; 3] = [
    "/v2/accounts/settings/{section}",
    "/v2/accounts/settings/{section}/rollback",
    "/tenants/{id}/settings",
];

/// Middleware: a write carrying `If-Match` with tags, to a route that has no strong tag to
/// compare them with, is refused (412, the dialect's `VERSION_CONFLICT`) instead of performed.
pub(crate) async fn unverifiable_if_match(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let pattern = req.match_pattern();
    if write
        && req.headers().contains_key(header::IF_MATCH)
        && !pattern
            .as_deref()
            .is_some_and(|p| EVALUATE_IF_MATCH.contains(&p))
    {
        let dialect = crate::error::Dialect::for_path(req.path());
        let refusal = match crate::preconditions::of(req.request()) {
            Ok(p) if p.if_match_is_any() => None,
            Ok(_) => Some(
                crate::ApiError::new(
                    dialect,
                    StatusCode::PRECONDITION_FAILED,
                    "VERSION_CONFLICT",
                    "If-Match names an ETag this resource cannot match: it has no strong ETag; \
                     send the write without If-Match (or with If-Match: *)",
                )
                .with_details(serde_json::json!({ "header": "If-Match" })),
            ),
            Err(_) => Some(crate::ApiError::new(
                dialect,
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "If-Match must be * or a list of quoted ETags",
            )),
        };
        if let Some(error) = refusal {
            let (http, _) = req.into_parts();
            return Ok(ServiceResponse::new(
                http,
                actix_web::ResponseError::error_response(&error),
            ));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Middleware: gives every cacheable 200 a validator and answers a matching `If-None-Match` 304.
pub(crate) async fn not_modified(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() != Method::GET {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let if_none_match: Vec<HeaderValue> = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .cloned()
        .collect();
    let res = next.call(req).await?.map_into_boxed_body();
    if res.status() != StatusCode::OK {
        return Ok(res);
    }
    let res = with_validator(res);
    let current = res.headers().get(header::ETAG).cloned();
    match current {
        Some(etag) if !if_none_match.is_empty() && none_match_fails(&if_none_match, &etag) => {
            let not_modified = not_modified_from(res.headers());
            Ok(res.into_response(not_modified))
        }
        _ => Ok(res),
    }
}

/// The 304 standing for a 200 with these headers: its validator and cache fields, no body and no
/// `Content-Length` (the `None` body makes the transport send neither).
fn not_modified_from(headers: &HeaderMap) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    for name in KEPT_ON_304 {
        for value in headers.get_all(&name) {
            res.append_header((name.clone(), value.clone()));
        }
    }
    res.body(actix_web::body::None::new())
}

/// Adds the derived weak ETag unless the route set a validator or forbade storing.
fn with_validator(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    if res.headers().contains_key(header::ETAG) || no_store(res.headers()) {
        return res;
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let res = match body.try_into_bytes() {
        Ok(bytes) => {
            let mut res = head.set_body(BoxBody::new(bytes.clone()));
            if let Ok(tag) = HeaderValue::from_str(&derived_etag(&bytes)) {
                res.headers_mut().insert(header::ETAG, tag);
            }
            res
        }
        // A streamed body is not buffered to hash it: it goes out without a validator.
        Err(body) => head.set_body(body),
    };
    ServiceResponse::new(req, res)
}

fn no_store(headers: &HeaderMap) -> bool {
    headers.get_all(header::CACHE_CONTROL).any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
        })
    })
}

/// `W/"<first 128 bits of the body's SHA-256, hex>"`: the same body always gets the same tag
/// (on every instance and across restarts), a changed body another one.
pub(crate) fn derived_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// True when `If-None-Match` (all its field lines) matches `etag`: the condition "none match"
/// is false, so the answer is 304.
pub(crate) fn none_match_fails(fields: &[HeaderValue], etag: &HeaderValue) -> bool {
    let Some(current) = etag
        .to_str()
        .ok()
        .and_then(|e| parse_list(e)?.into_iter().next())
    else {
        return false;
    };
    fields.iter().any(|field| {
        let Ok(text) = field.to_str() else {
            return false;
        };
        if text.trim() == "*" {
            return true;
        }
        parse_list(text).is_some_and(|tags| tags.iter().any(|t| t.opaque == current.opaque))
    })
}

/// One entity-tag: `W/` or not, and its opaque quoted string (quotes included).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EntityTag<'a> {
    pub weak: bool,
    pub opaque: &'a str,
}

/// `#entity-tag` (RFC 9110 §8.8.3, §5.6.1): comma-separated, optional whitespace, empty elements
/// allowed. An etagc may itself be a comma, so the list is scanned, not split. `None` when the
/// text is not such a list.
pub(crate) fn parse_list(text: &str) -> Option<Vec<EntityTag<'_>>> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let inner = after.strip_prefix('"')?;
        let end = inner.find('"')?;
        if !inner[..end].bytes().all(is_etagc) {
            return None;
        }
        tags.push(EntityTag {
            weak,
            opaque: &after[..end + 2],
        });
        rest = &inner[end + 1..];
        // Elements are separated by a comma (after optional whitespace) or end the field.
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if !(trimmed.is_empty() || trimmed.starts_with(',')) {
            return None;
        }
        rest = trimmed;
    }
}

/// `etagc = %x21 / %x23-7E / obs-text`.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).expect("valid header value")
    }

    #[test]
    fn weak_comparison_ignores_the_weak_prefix_on_either_side() {
        for (field, etag, matches) in [
            ("\"a\"", "\"a\"", true),
            ("W/\"a\"", "\"a\"", true),
            ("\"a\"", "W/\"a\"", true),
            ("W/\"a\"", "W/\"a\"", true),
            ("\"b\", W/\"a\"", "\"a\"", true),
            ("\"b\"", "\"a\"", false),
            ("*", "W/\"a\"", true),
            ("a", "\"a\"", false),
            ("\"a", "\"a\"", false),
            ("\"a\" \"b\"", "\"a\"", false),
            ("\"x,y\"", "\"x,y\"", true),
            (" , \"a\" ,", "\"a\"", true),
        ] {
            assert_eq!(
                none_match_fails(&[hv(field)], &hv(etag)),
                matches,
                "If-None-Match: {field} vs ETag: {etag}"
            );
        }
    }

    #[test]
    fn every_field_line_counts() {
        assert!(none_match_fails(&[hv("\"b\""), hv("\"a\"")], &hv("\"a\"")));
    }

    #[test]
    fn derived_tags_are_weak_stable_and_differ_by_body() {
        let a = derived_etag(b"{\"a\":1}");
        assert!(a.starts_with("W/\"") && a.ends_with('"') && a.len() == 32 + 4);
        assert_eq!(a, derived_etag(b"{\"a\":1}"));
        assert_ne!(a, derived_etag(b"{\"a\":2}"));
    }

    #[test]
    fn no_store_is_found_among_directives() {
        let mut h = HeaderMap::new();
        h.insert(header::CACHE_CONTROL, hv("private, No-Store"));
        assert!(no_store(&h));
        h.insert(header::CACHE_CONTROL, hv("private, no-cache"));
        assert!(!no_store(&h));
    }

    fn opaque() -> impl Strategy<Value = String> {
        // etagc without obs-text (a HeaderValue must be visible ASCII to be built from str).
        proptest::collection::vec(prop_oneof![Just(0x21u8), 0x23u8..=0x7e], 0..12)
            .prop_map(|bytes| format!("\"{}\"", String::from_utf8(bytes).expect("ascii")))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Law: a list matches the current tag exactly when one of its tags has the same opaque
        /// string, whatever the weak prefixes, the order, and the whitespace around commas.
        #[test]
        fn a_list_matches_iff_it_names_the_opaque_tag(
            current in opaque(),
            current_weak in any::<bool>(),
            others in proptest::collection::vec((opaque(), any::<bool>()), 0..5),
            include in any::<bool>(),
            include_weak in any::<bool>(),
            at in 0usize..6,
            sep in prop_oneof![Just(","), Just(", "), Just(" ,\t"), Just(",,")],
        ) {
            let tag = |o: &str, weak: bool| if weak { format!("W/{o}") } else { o.to_owned() };
            let mut list: Vec<String> = others
                .iter()
                .filter(|(o, _)| *o != current)
                .map(|(o, w)| tag(o, *w))
                .collect();
            if include {
                list.insert(at.min(list.len()), tag(&current, include_weak));
            }
            let field = list.join(sep);
            let etag = tag(&current, current_weak);
            prop_assert_eq!(
                none_match_fails(&[hv(&field)], &hv(&etag)),
                include,
                "If-None-Match: {} vs ETag: {}", field, etag
            );
            let parsed = parse_list(&field).expect("a list of valid tags parses");
            prop_assert_eq!(parsed.len(), list.len());
        }
    }
}
