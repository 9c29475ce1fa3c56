//! An account's branding on its pages: `/console/brand/{account}.css`, a style sheet of CSS
//! custom properties (the primary colour and the text colour readable on it), and
//! `/console/brand/{account}/logo`, the account's logo fetched by the server
//! (`logo_cache.rs`). Pages link to both with `?v=` of their content, so a browser may keep
//! them and a change of branding is a new address.
//!
//! Who reaches these: anyone who knows the account id, because the invitation page (opened by
//! someone not yet a member) wears the branding too. What they reveal is what the account
//! shows to everyone it sends a link to; the id itself is not guessable (a ULID), and an
//! unknown id answers 404 like an account without a logo. Nothing here takes input but the id:
//! the logo URL comes from the account's settings, which only its admins write, and every
//! fetch goes through the outbound guard.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use tenantry_http::AppState;
use tenantry_kernel::AccountId;

use crate::ConsoleConfig;

/// What a page of an account shows of its branding.
#[derive(Debug, Clone)]
pub(crate) struct Brand {
    /// The address of the account's style sheet.
    pub stylesheet: String,
    /// The address of the account's logo on this origin, when it has one that was fetched.
    pub logo: Option<String>,
    /// The account's name, shown in place of a logo that could not be fetched.
    pub name: String,
    /// The account has a logo URL (so the name stands in for it when it failed).
    pub wants_logo: bool,
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/brand/{account}/logo").route(web::get().to(logo)))
        .service(web::resource("/brand/{file}").route(web::get().to(stylesheet)));
}

/// The style sheet of a primary colour.
fn css(color: &tenantry_settings::tenant::HexColor) -> String {
    format!(
        ":root{{--brand:{color};--on-brand:{}}}\n",
        color.text_on().css()
    )
}

fn version_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The branding of `account` for its pages; `None` when it cannot be read (the page keeps the
/// default look rather than failing: branding is decoration). `name` gives the account's
/// name when the caller has it; otherwise it is read when the account has a logo (its text
/// alternative, or what stands in for it).
pub(crate) async fn of_account(
    state: &web::Data<AppState>,
    logos: &std::sync::Arc<crate::logo_cache::LogoCache>,
    account: AccountId,
    name: Option<String>,
) -> Option<Brand> {
    let settings = state.settings.clone();
    let provisioning = state.provisioning.clone();
    let logos = logos.clone();
    let now = state.clock.now();
    web::block(move || {
        let branding = settings.branding(account).ok()?;
        let body = css(&branding.primary_color);
        let stylesheet = format!(
            "/console/brand/{account}.css?v={}",
            version_of(body.as_bytes())
        );
        let logo = branding
            .logo_url
            .as_ref()
            .and_then(|url| logos.get(account, url, now))
            .map(|logo| format!("/console/brand/{account}/logo?v={}", logo.version));
        let wants_logo = branding.logo_url.is_some();
        let name = match name {
            Some(name) => name,
            None if wants_logo => provisioning
                .account(account)
                .ok()
                .flatten()
                .map(|a| a.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        Some(Brand {
            stylesheet,
            logo,
            name,
            wants_logo,
        })
    })
    .await
    .ok()
    .flatten()
}

/// Whether the request's `If-None-Match` names `etag`.
fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
}

/// A body addressed by its content (`?v=`): browsers may keep it a day.
fn cacheable(req: &HttpRequest, etag: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    let mut res = if matches(req, etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if matches(req, etag) {
        res.finish()
    } else {
        res.content_type(content_type).body(body)
    }
}

async fn stylesheet(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(account) = path
        .strip_suffix(".css")
        .and_then(|id| id.parse::<AccountId>().ok())
    else {
        return crate::refusal::not_found().await;
    };
    let settings = state.settings.clone();
    let provisioning = state.provisioning.clone();
    let found = web::block(move || {
        // An id of no account is not found, not the default colours.
        provisioning.account(account).ok()??;
        settings.branding(account).ok()
    })
    .await
    .ok()
    .flatten();
    let Some(branding) = found else {
        return crate::refusal::not_found().await;
    };
    let body = css(&branding.primary_color).into_bytes();
    let etag = format!("\"{}\"", version_of(&body));
    cacheable(&req, &etag, "text/css; charset=utf-8", body)
}

async fn logo(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
) -> HttpResponse {
    let Ok(account) = path.parse::<AccountId>() else {
        return crate::refusal::not_found().await;
    };
    let settings = state.settings.clone();
    let logos = config.logos.clone();
    let now = state.clock.now();
    let found = web::block(move || {
        let url = settings.branding(account).ok()?.logo_url?;
        logos.get(account, &url, now)
    })
    .await
    .ok()
    .flatten();
    let Some(logo) = found else {
        return crate::refusal::not_found().await;
    };
    let etag = format!("\"{}\"", logo.version);
    cacheable(
        &req,
        &etag,
        logo.image.format().content_type(),
        logo.image.bytes().to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_settings::tenant::HexColor;

    #[test]
    fn the_style_sheet_sets_the_colour_and_readable_text() {
        let out = css(&HexColor::parse("#ffcc00").expect("colour"));
        assert_eq!(out, ":root{--brand:#ffcc00;--on-brand:#000000}\n");
        let out = css(&HexColor::parse("#123").expect("colour"));
        assert_eq!(out, ":root{--brand:#112233;--on-brand:#ffffff}\n");
    }
}
