//! `/console`: who is signed in, in which account with which role, and where to go.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use tenantry_http::AppState;

use crate::layout::{page, respond, Chrome, Section};
use crate::visitor::{visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("").route(web::get().to(show)));
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    let visitor = match visitor(&req, &state, &config, Admits::Unrestricted).await {
        Ok(visitor) => visitor,
        Err(res) => return res,
    };
    let profiles = state.profile.clone();
    let provisioning = state.provisioning.clone();
    let actor = visitor.actor.clone();
    let loaded = web::block(move || {
        let profile = profiles.profile(&actor).map_err(|e| e.to_string())?;
        let account = provisioning
            .account(actor.account_id)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((profile, account))
    })
    .await;
    let (profile, account) = match loaded {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(e) => return crate::refusal::internal(&e),
    };
    let account_name =
        account.map_or_else(|| visitor.actor.account_id.to_string(), |a| a.display_name);
    let csrf = visitor.csrf();
    let back = crate::visitor::way_back(&state, &visitor).await;
    let brand = crate::brand::of_account(
        &state,
        &visitor.logos,
        visitor.actor.account_id,
        Some(account_name.clone()),
    )
    .await;
    let chrome = Chrome {
        brand: brand.as_ref(),
        who: &profile.email,
        csrf: &csrf,
        restricted: false,
        role: visitor.actor.role,
        back: back.as_ref().map(|url| (url.as_str(), url.host())),
    };
    let content = html! {
        section.card {
            dl.facts {
                dt { "Name" } dd { (profile.display_name.as_deref().unwrap_or("—")) }
                dt { "Email" } dd { (profile.email) }
                dt { "Account" } dd { (account_name) }
                dt { "Role" } dd { (visitor.actor.role.as_str()) }
            }
        }
        section.card {
            h2 { "Security" }
            p { a href="/console/account/mfa" { "Two-factor authentication" } }
            p { a href="/console/account/api-keys" { "API keys" } }
            p { a href="/console/account/sessions" { "Sessions" } }
            p { a href="/console/account/password" { "Password" } }
            p { a href="/console/account/profile" { "Profile: name and email address" } }
        }
    };
    respond(
        StatusCode::OK,
        page("Your account", Section::Home, Some(&chrome), content),
    )
}
