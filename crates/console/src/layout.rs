//! The page shell every console page shares: head (style sheet, script, viewport), the top
//! bar with the navigation and the sign-out form for a signed-in visitor, and the main area.
//!
//! Navigation is one table, [`NAV`]: a new page family adds its row (and its module) and
//! appears everywhere. Every value is rendered through maud, which escapes it.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};
use tenantry_kernel::Role;

use crate::brand::Brand;

/// Where a page belongs in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Home,
    Security,
    ApiKeys,
    Sessions,
    Password,
    Profile,
    Audit,
    Notifications,
    Team,
    Settings,
    /// Pages outside the navigation (sign-in, links, errors).
    None,
}

/// The navigation: section, label, address, and the lowest role that sees the row (the pages
/// check the role again; hiding a row only spares a visit that would be refused).
const NAV: &[(Section, &str, &str, Role)] = &[
    (Section::Home, "Home", "/console", Role::Viewer),
    (
        Section::Security,
        "Two-factor authentication",
        "/console/account/mfa",
        Role::Viewer,
    ),
    (
        Section::ApiKeys,
        "API keys",
        "/console/account/api-keys",
        Role::Viewer,
    ),
    (
        Section::Sessions,
        "Sessions",
        "/console/account/sessions",
        Role::Viewer,
    ),
    (
        Section::Password,
        "Password",
        "/console/account/password",
        Role::Viewer,
    ),
    (
        Section::Profile,
        "Profile",
        "/console/account/profile",
        Role::Viewer,
    ),
    (Section::Audit, "Audit log", "/console/audit", Role::Admin),
    (
        Section::Notifications,
        "Notifications",
        "/console/notifications",
        Role::Admin,
    ),
    (Section::Team, "Team", "/console/team", Role::Admin),
    // Every member reads the settings (and edits their own preferences).
    (
        Section::Settings,
        "Settings",
        "/console/settings",
        Role::Viewer,
    ),
];

/// What the top bar shows for a signed-in visitor.
pub(crate) struct Chrome<'a> {
    /// Who is signed in (their email address).
    pub who: &'a str,
    /// The per-session form token, for the sign-out form.
    pub csrf: &'a str,
    /// Only the sign-out form: a session restricted to one task sees no other page.
    pub restricted: bool,
    /// The visitor's role in the account: the navigation shows the rows it reaches.
    pub role: Role,
    /// A portal session's way back: the URL and the host it names (`None` for a sign-in).
    pub back: Option<(&'a str, &'a str)>,
    /// The account's branding (`None`: the default look).
    pub brand: Option<&'a Brand>,
}

/// A whole page; a signed-in visitor's wears their account's branding.
pub(crate) fn page(
    title: &str,
    section: Section,
    chrome: Option<&Chrome<'_>>,
    content: Markup,
) -> Markup {
    branded_page(
        title,
        section,
        chrome,
        chrome.and_then(|c| c.brand),
        content,
    )
}

/// A whole page in `brand`'s colours and logo: its style sheet after the console's (so its
/// custom properties win), and in the top bar the logo, or, when the logo could not be
/// fetched, the account's name. Both come from this origin; no inline style.
pub(crate) fn branded_page(
    title: &str,
    section: Section,
    chrome: Option<&Chrome<'_>>,
    brand: Option<&Brand>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tenantry" }
                // No icon request to a path that has none (a 404 in the browser's console).
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(crate::assets::stylesheet());
                @if let Some(brand) = brand {
                    link rel="stylesheet" href=(brand.stylesheet);
                }
                script src=(crate::assets::script()) defer {}
            }
            body {
                header.top {
                    a.brand href="/console" {
                        @match brand {
                            Some(Brand { logo: Some(src), name, .. }) => {
                                img.logo src=(src) alt=(if name.is_empty() { "Home" } else { name.as_str() });
                            }
                            Some(Brand { wants_logo: true, name, .. }) if !name.is_empty() => { (name) }
                            _ => { "Tenantry" }
                        }
                    }
                    @if let Some((url, host)) = chrome.and_then(|c| c.back) {
                        a.back href=(url) { "Back to " (host) }
                    }
                    @if let Some(chrome) = chrome {
                        @if !chrome.restricted {
                            nav aria-label="Console" {
                                ul {
                                    @for (s, label, href, _) in NAV.iter().filter(|row| chrome.role >= row.3) {
                                        li {
                                            @if *s == section {
                                                a href=(href) aria-current="page" { (label) }
                                            } @else {
                                                a href=(href) { (label) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(chrome.csrf);
                            span.hint { (chrome.who) " " }
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// An HTML response with `status` (the security headers come from `headers.rs`).
pub(crate) fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A message that something worked, announced to screen readers.
pub(crate) fn notice(message: &str) -> Markup {
    html! { div.notice role="status" { p { (message) } } }
}

/// A time as the console shows it: to the minute, in UTC.
pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A 303 to `location` (after a form post, so reloading does not post again).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_current_section_is_marked() {
        let chrome = Chrome {
            who: "<script>alert(1)</script>@x.test",
            csrf: "t\"ok",
            restricted: false,
            role: Role::Viewer,
            back: Some(("https://app.example.test/x?a=1&b=\"", "app.example.test")),
            brand: None,
        };
        let out = page("A <b>", Section::Security, Some(&chrome), html! {}).into_string();
        assert!(!out.contains("<script>alert"));
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("A &lt;b&gt;"));
        assert!(out.contains("t&quot;ok"));
        assert!(out.contains("href=\"/console/account/mfa\" aria-current=\"page\""));
        assert!(out.contains(
            "href=\"https://app.example.test/x?a=1&amp;b=&quot;\">Back to app.example.test</a>"
        ));
    }

    #[test]
    fn a_restricted_session_sees_no_navigation() {
        let chrome = Chrome {
            who: "a@x.test",
            csrf: "t",
            restricted: true,
            role: Role::Owner,
            back: None,
            brand: None,
        };
        let out = page("MFA", Section::Security, Some(&chrome), html! {}).into_string();
        assert!(!out.contains("aria-label=\"Console\""));
        assert!(out.contains("/console/logout"));
    }
}
