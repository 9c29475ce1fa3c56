#![doc = include_str!("../README.md")]
//!
//! Layout of the crate: one module per page family (`login`, `home`, `mfa`, ...) holding its
//! routes and markup; what every page shares lives in `layout` (the page shell and its
//! navigation), `headers` (security headers), `assets` (the embedded style sheet and
//! script), `brand` and `logo_cache` (an account's colours and logo on its pages), `session` (the sign-in cookie → `Actor`), `visitor` (who may see a page, the
//! token check of every post, the page around a signed-in visitor), `csrf` (form tokens), `form` (parsing
//! posted fields) and `refusal` (error pages). A later page family (team, audit,
//! notifications) is one more module, one more `routes` call below and one more
//! row in `layout::NAV`.
//!
//! *Invariant:* the console calls the domain services the JSON APIs call, with the same
//! `Actor` the same sign-in session gives there; it never reaches the store.

mod admission;
mod api_keys;
mod api_twin;
mod assets;
mod audit;
mod audit_csv;
mod brand;
mod cross_site;
mod csrf;
mod email_confirmation;
mod form;
mod headers;
mod home;
mod invitation;
mod layout;
mod login;
mod logo_cache;
mod mfa;
mod notifications;
mod notifications_page;
mod password;
mod password_reset;
mod portal;
mod profile;
mod qr;
mod refusal;
mod session;
mod sessions;
mod settings;
mod settings_conflict;
mod settings_form;
mod settings_refusal;
mod team;
mod team_bulk;
mod team_refusal;
mod visitor;

use std::sync::Arc;

use actix_web::web;

/// The console's own settings.
#[derive(Clone)]
pub struct ConsoleConfig {
    /// Cookies carry `Secure` and the `__Host-` name prefix: the public URL is https (TLS may
    /// end at a proxy in front, so the scheme of the request itself says nothing).
    pub secure_cookies: bool,
    /// Where form tokens' randomness comes from.
    pub random: Arc<dyn tenantry_kernel::RandomSource>,
    /// The accounts' logos, fetched through the outbound guard (`brand.rs`).
    logos: Arc<logo_cache::LogoCache>,
}

impl ConsoleConfig {
    /// The configuration for a service reachable at `public_url` (`TENANTRY_PUBLIC_URL`).
    pub fn for_public_url(
        public_url: &str,
        random: Arc<dyn tenantry_kernel::RandomSource>,
    ) -> Self {
        Self {
            secure_cookies: public_url
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("https://"),
            random,
            logos: Arc::new(logo_cache::LogoCache::new(None)),
        }
    }

    /// Account logos are fetched with `outbound`, the guarded client of outbound calls;
    /// without it pages show an account's name in place of its logo.
    #[must_use]
    pub fn with_logos(mut self, outbound: Arc<dyn tenantry_notifications::HttpGet>) -> Self {
        self.logos = Arc::new(logo_cache::LogoCache::new(Some(outbound)));
        self
    }
}

/// The console's routes, to hand to `tenantry_http::serve_with`.
pub fn routes(config: ConsoleConfig) -> tenantry_http::ExtraRoutes {
    let config = web::Data::new(config);
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(config.clone());
        cfg.service(
            web::scope("/console")
                .wrap(actix_web::middleware::from_fn(cross_site::same_site_forms))
                .wrap(headers::secure())
                .app_data(form::config())
                .configure(assets::routes)
                .configure(brand::routes)
                .configure(login::routes)
                .configure(home::routes)
                .configure(mfa::routes)
                .configure(api_keys::routes)
                .configure(sessions::routes)
                .configure(password::routes)
                .configure(profile::routes)
                .configure(audit::routes)
                .configure(notifications::routes)
                .configure(team::routes)
                .configure(portal::routes)
                .configure(settings::routes)
                .default_service(web::to(refusal::not_found)),
        )
        // The pages behind mailed links keep the paths the emails already carry.
        .configure(invitation::routes)
        .configure(password_reset::routes)
        .configure(email_confirmation::routes);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_exactly_when_the_public_url_is_https() {
        let config = |url| ConsoleConfig::for_public_url(url, Arc::new(tenantry_kernel::OsRandom));
        assert!(config("https://t.example").secure_cookies);
        assert!(config("HTTPS://t.example/").secure_cookies);
        assert!(!config("http://127.0.0.1:8080").secure_cookies);
    }
}
