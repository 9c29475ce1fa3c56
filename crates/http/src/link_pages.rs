//! The pages behind the links Tenantry hands out: `/invite/{id or token}` and
//! `/reset-password/{token}`. Plain HTML rendered here, no script, a strict CSP; they say what
//! to do next and which API call does it.
//!
//! Rules: a page reached by an invitation *id* (the `inviteUrl` an inviter's API response
//! carries) shows nothing about the invitation — it only tells the visitor to use the link in
//! their email, so the id is no oracle. A page reached by a token shows what the JSON preview
//! shows to the same holder. Every value shown is escaped.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use tenantry_team::InvitationState;

use crate::error::{method_not_allowed, ApiError};
use crate::AppState;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/invite/{link}").route(web::get().to(invitation_page)))
        .service(resource("/reset-password/{token}").route(web::get().to(reset_page)));
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page: `body` is already-escaped HTML. No script and no foreign origin may run or load;
/// the page must not be framed; its URL (which may hold a secret) is not sent on as a referrer.
fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title>\
             <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}\
             code{{background:#f3f3f3;padding:.1rem .3rem;word-break:break-all}}</style></head>\
             <body><h1>{title}</h1>{body}</body></html>\n",
            title = escape(title),
        ))
}

async fn invitation_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let link = path.into_inner();
    if !tenantry_security::InvitationToken::is_well_formed(&link) {
        return Ok(page(
            "Your invitation",
            "<p>This page does not hold the invitation itself. The invitation was sent by \
             email to the person invited: open the link in that email to accept it.</p>\
             <p>If you sent the invitation, there is nothing to do here: the invitee accepts \
             it from their own mailbox.</p>",
        ));
    }
    let team = state.team.clone();
    let token = link.clone();
    let preview = web::block(move || team.preview(&token))
        .await
        .map_err(|e| ApiError::internal(crate::Dialect::V2, &e))?;
    let Ok(p) = preview else {
        return Ok(page(
            "Invitation not found",
            "<p>This invitation link is not valid. It may have been replaced by a newer email, \
             or cancelled. Ask the person who invited you to send it again.</p>",
        ));
    };
    let open = p.state == InvitationState::Pending;
    let status = match p.state {
        InvitationState::Pending => "open",
        InvitationState::Expired => "expired",
        InvitationState::Accepted => "already accepted",
        InvitationState::Cancelled => "cancelled",
    };
    let mut body = format!(
        "<p>You are invited to join <strong>{}</strong> as <strong>{}</strong>. \
         This invitation is {status}.</p>",
        escape(&p.account_name),
        escape(p.invitation.role.as_str()),
    );
    if open {
        body.push_str(&format!(
            "<p>To accept from an API client, send <code>POST /v2/invitations/{}/accept</code> \
             with <code>{{\"name\": \"…\", \"password\": \"…\"}}</code> if you are new here; if \
             you already use this service, send it while signed in (your session or API key as \
             the bearer token) or with your current password.</p>",
            escape(&link),
        ));
    }
    Ok(page("Your invitation", &body))
}

async fn reset_page(path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    if !tenantry_security::PasswordResetToken::is_well_formed(&token) {
        return page(
            "Choose your password",
            "<p>This link is not valid. Ask for a new one: \
             <code>POST /api/auth/password-reset</code> with your email address.</p>",
        );
    }
    page(
        "Choose your password",
        &format!(
            "<p>Send <code>POST /api/auth/password-reset/{}</code> with \
             <code>{{\"password\": \"…\"}}</code> to choose your password. The link works once; \
             using it signs you out everywhere.</p>",
            escape(&token)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
