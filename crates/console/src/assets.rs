//! The style sheet and script, compiled into the binary and served from
//! `/console/assets/<name>.<hash>.<ext>`: the hash is of the content, so a name never serves
//! two contents and browsers may keep it for a year (`immutable`); a new release has new
//! names. No build step, no CDN: what is in `assets/` is what is served.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

struct Asset {
    path: String,
    etag: String,
    content_type: &'static str,
    body: &'static str,
}

fn asset(stem: &str, ext: &str, content_type: &'static str, body: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Asset {
        path: format!("/console/assets/{stem}.{hash}.{ext}"),
        etag: format!("\"{hash}\""),
        content_type,
        body,
    }
}

fn all() -> &'static [Asset; 2] {
    static ALL: OnceLock<[Asset; 2]> = OnceLock::new();
    ALL.get_or_init(|| {
        [
            asset("console", "css", "text/css; charset=utf-8", CSS),
            asset("console", "js", "text/javascript; charset=utf-8", JS),
        ]
    })
}

/// The URL of the style sheet, for `<link>`.
pub(crate) fn stylesheet() -> &'static str {
    &all()[0].path
}

/// The URL of the script, for `<script src>`.
pub(crate) fn script() -> &'static str {
    &all()[1].path
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/assets/{name}").route(web::get().to(serve)));
}

async fn serve(req: actix_web::HttpRequest) -> HttpResponse {
    let Some(found) = all().iter().find(|a| a.path == req.path()) else {
        return crate::refusal::not_found().await;
    };
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == found.etag));
    let mut res = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::ETAG, found.etag.as_str()));
    if cached {
        res.finish()
    } else {
        res.content_type(found.content_type).body(found.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_their_content_hash() {
        assert!(stylesheet().starts_with("/console/assets/console."));
        assert!(stylesheet().ends_with(".css"));
        assert!(script().ends_with(".js"));
        assert_ne!(stylesheet(), script());
        let again = asset("console", "css", "text/css", CSS);
        assert_eq!(
            again.path,
            stylesheet(),
            "the name is a function of the content"
        );
        let other = asset("console", "css", "text/css", "body{}");
        assert_ne!(other.path, stylesheet());
    }
}
